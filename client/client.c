/*
 * client.c - libusersclient: RPCs to usersd over an nng REQ socket.
 *
 * One call is one uc_rpc object (a pooled nng_ctx + nng_aio pair) that
 * runs a straight line on nng threads:
 *
 *   uc_call_async: pack envelope -> ctx send (timeout: see below)
 *   send done     -> ctx recv (timeout: what is left of the deadline)
 *   recv done     -> unpack -> user callback (exactly once) -> back to pool
 *
 * Choices (see also the header):
 *
 * - Resend (NNG_OPT_REQ_RESENDTIME, per context): min(deadline / 2, 1 s),
 *   at least 50 ms. A resend carries the same request_id, and usersd
 *   answers a repeated id with its first answer, so resending is safe. It
 *   matters in two cases: nng resends at once on another pipe when the pipe
 *   a request went out on closes (a daemon dying mid-request: failover),
 *   and a daemon that is stuck (SIGSTOP, overload) gets the request sent to
 *   another daemon after the resend time. With resend disabled nng would
 *   fail the first case with ECONNRESET instead. nng checks resend timers
 *   on a coarse tick, so resends are best effort; the deadline is exact.
 *
 * - UNAVAILABLE: with NONBLOCK dials REQ queues a request until some pipe
 *   connects, so "no daemon" would look like a timeout. The client counts
 *   connected pipes (pipe notifications). A call started while no pipe is
 *   connected waits for one at most UC_CONNECT_GRACE_MS after the moment
 *   the client lost its last pipe (or was opened): right after opening or
 *   a daemon restart a call waits for the background dial; a client that
 *   has been without any daemon for longer fails at once. Such a wait that
 *   ends with still no pipe, or a deadline that expires while no pipe is
 *   connected, gives UP_UNAVAILABLE; an expired deadline with a daemon
 *   connected gives UP_DEADLINE_EXCEEDED.
 *
 * - Every phase's nng timeout is derived from one absolute deadline, so a
 *   call never outlives its deadline (plus nng's timer granularity).
 *
 * - Request ids: every call gets one in call_start, the one start of every
 *   path (sync, async, typed, login): the caller's (uc_call_opts) or a
 *   fresh one, never none. So every resend above, reads and writes alike,
 *   is a repeat of an id that usersd answers with its first answer. The
 *   daemon side decides what a repeat means; a write that died with its
 *   daemon is run again elsewhere only when the store has not committed
 *   that id (see the header).
 *
 * - Per-daemon state (uc_daemon_stats_get): a pipe is tied to the URL of
 *   the dialer that made it when nng reports it (pipe_event: the dialer's
 *   id -> the URL's index, registered before the dialer starts, so a
 *   redial keeps the index). The reply path finds the URL of a reply's
 *   pipe in a small lock-free table (pipe_slots) and counts it with one
 *   relaxed increment and one relaxed store: no lock per call.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>

#include "usersclient.h"

#define UC_DEFAULT_DEADLINE_MS 5000u
#define UC_CONNECT_GRACE_MS    1000
#define UC_RESEND_MAX_MS       1000
#define UC_RESEND_MIN_MS       50
#define UC_MAX_REPLY           (16u * 1024u * 1024u) /* nng recv limit */
#define UC_MAX_URLS            64
#define UC_MAX_CRED            4096
#define UC_MAX_PEM             (1024 * 1024)
#define UC_CLOSE_WAIT_MS       2000 /* see closer() */
#define UC_MAX_DEADLINE_MS     (24u * 3600u * 1000u)

typedef struct uc_rpc uc_rpc;

struct uc_rpc {
	uc_client *c;
	uc_rpc *next_free; /* pool free list, under c->mtx */
	uc_rpc *next_all;  /* every call object, for close */
	nng_ctx ctx;
	nng_aio *aio;
	nng_duration resend; /* the ctx's NNG_OPT_REQ_RESENDTIME; 0: unset */
	/* Per call; written before the send, read only by the callbacks. */
	const up_method *m;
	uc_callback cb;
	void *arg;
	nng_time deadline; /* absolute, nng_clock() */
	bool sending;
	char request_id[UC_REQUEST_ID_MAX + 1];
};

/* More connected daemons than this are still used, just not counted. */
#define UC_MAX_PIPES 256
/*
 * A daemon not connected for this long gets its dialer replaced, at most
 * this often. Not shorter: replacing a dialer whose connection is still in
 * its handshake is a hang-up in the handshake, which leaves an nng 1.5
 * listener stuck until usersd's listener guard makes it anew.
 */
#define UC_REDIAL_MS 3000

/*
 * One configured URL (index i of dial_opts.urls). The counters are written
 * on the reply path by any nng thread (relaxed atomics, each daemon on
 * cache lines of its own); the rest is under c->mtx.
 */
typedef struct uc_daemon {
	_Alignas(64) atomic_uint_least64_t replies;
	atomic_uint_least64_t failures;
	atomic_int_least64_t last_reply_ms; /* CLOCK_MONOTONIC ms; -1 none */
	/* under c->mtx */
	uint32_t dialer_id; /* of its current dialer; 0 before the first */
	int pipes;
	uint64_t connects;
	uint64_t disconnects;
	nng_time nopipe_since; /* when pipes last became 0 (or open) */
	nng_time last_redial;
} uc_daemon;

/*
 * Which daemon a pipe leads to, for the reply path without a lock. Written
 * under c->mtx (daemon, then id, both release; freed: id 0); read with
 * acquire loads over [0, pipe_slots_used), the id read again after the
 * daemon so that a slot reused meanwhile is never misread.
 */
typedef struct uc_pipe_slot {
	atomic_uint_least32_t id; /* nng pipe id; 0: free */
	atomic_int daemon;        /* index into c->daemons */
} uc_pipe_slot;

struct uc_client {
	nng_socket sock;
	bool sock_open;
	uint32_t deadline_ms;
	pthread_mutex_t mtx; /* everything below */
	pthread_cond_t idle; /* inflight dropped to 0 while closing */
	char *bearer;        /* owned copies; NULL when unset */
	char *basic_user;
	char *basic_password;
	uc_rpc *free_calls;
	uc_rpc *all_calls;
	size_t inflight;
	bool closing;
	/*
	 * Pipe bookkeeping, from nng's pipe notifications (under mtx): the
	 * ids of the connected pipes. nng also reports the removal of a pipe
	 * that never finished being added, so removals are matched by id,
	 * never just counted (a count drifts to 0 while a pipe is live, and
	 * every call then fails at once).
	 */
	uint32_t pipe_ids[UC_MAX_PIPES];
	int pipes;
	nng_time nopipe_since; /* when the count last became 0 (or open) */
	/* Per URL (dial_opts.n_urls of them; aligned_alloc'd, owned). */
	uc_daemon *daemons;
	size_t daemons_down; /* how many have no pipe now */
	uc_pipe_slot pipe_slots[UC_MAX_PIPES];
	atomic_int pipe_slots_used; /* high-water mark of pipe_slots */
	/*
	 * Redialing. nng 1.5 can stop redialing a daemon that went away (a
	 * failed handshake ends the dialer's retries), so the dialer of a
	 * daemon that has had no pipe for UC_REDIAL_MS is replaced, at most
	 * once per UC_REDIAL_MS, on a thread of its own (never the caller's).
	 * The daemon keeps its index (the dialer goes in the same slot).
	 */
	uc_options dial_opts; /* copies of what the dialers need (owned) */
	nng_dialer dialers[UC_MAX_URLS];
	uint64_t redial_mask; /* the URLs the running redial replaces */
	bool redialing;       /* a redial thread runs */
	bool redialer_joinable;
	pthread_t redialer;
};

static void maybe_redial(uc_client *c);

/* ------------------------------------------------------------------------
 * Small helpers
 */

/* Frees a string that may hold a secret. */
static void
free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* A bounded strdup; NULL for NULL or too long input (errno EINVAL). */
static char *
dup_bounded(const char *s, size_t max)
{
	size_t n;
	char *d;

	if (s == NULL) {
		return NULL;
	}
	n = strnlen(s, max + 1);
	if (n > max) {
		errno = EINVAL;
		return NULL;
	}
	d = malloc(n + 1);
	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/*
 * A ResponseStatus built by the client (malloc'd like an unpacked one, so
 * protobuf_c_message_free_unpacked frees it). detail may be NULL. NULL on
 * OOM.
 */
static Users__V1__ResponseStatus *
status_build(int code, const char *detail)
{
	Users__V1__ResponseStatus *st = malloc(sizeof(*st));
	const char *msg = up_status_message(code);
	size_t n;

	if (st == NULL) {
		return NULL;
	}
	users__v1__response_status__init(st);
	st->error_code = strdup(up_status_error_code(code));
	if (detail != NULL && detail[0] != '\0') {
		n = strlen(msg) + strlen(detail) + 4;
		st->message = malloc(n);
		if (st->message != NULL) {
			snprintf(st->message, n, "%s (%s)", msg, detail);
		}
	} else {
		st->message = strdup(msg);
	}
	if (st->error_code == NULL || st->message == NULL) {
		protobuf_c_message_free_unpacked(&st->base, NULL);
		return NULL;
	}
	return st;
}

/* Fills a failed result; res->error may stay NULL only on OOM. */
static void
result_fail(uc_result *res, int code, const char *detail)
{
	res->status = code;
	res->response = NULL;
	res->error = status_build(code, detail);
}

static nng_duration
remaining_ms(nng_time deadline)
{
	nng_time now = nng_clock();

	if (now >= deadline) {
		return 0;
	}
	return (nng_duration)(deadline - now);
}

/* An nng error as a status (the one translation point). */
static int
status_of_nng(int rv)
{
	switch (rv) {
	case NNG_ETIMEDOUT:
		return UP_DEADLINE_EXCEEDED;
	case NNG_ECANCELED:
		return UP_CANCELLED;
	case NNG_ENOMEM:
		return UP_RESOURCE_EXHAUSTED;
	case NNG_ECONNREFUSED:
	case NNG_ECONNRESET:
	case NNG_ECONNSHUT:
	case NNG_ECONNABORTED:
	case NNG_ECLOSED:
	case NNG_EUNREACHABLE:
	case NNG_EADDRINUSE:
	case NNG_EPEERAUTH:
	case NNG_ECRYPTO:
	case NNG_EPROTO:
	case NNG_ESTATE:
		return UP_UNAVAILABLE;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
	case NNG_ENOTSUP:
		return UP_INVALID_ARGUMENT;
	default:
		return UP_INTERNAL;
	}
}

static pthread_once_t id_once = PTHREAD_ONCE_INIT;
static uint64_t id_prefix;
static bool id_seeded;
static _Atomic uint64_t id_counter;

static void
id_seed(void)
{
	uint64_t v[2];
	size_t got = 0;

	while (got < sizeof(v)) {
		ssize_t n = getrandom((uint8_t *)v + got, sizeof(v) - got, 0);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return;
		}
		got += (size_t)n;
	}
	id_prefix = v[0];
	atomic_store(&id_counter, v[1]);
	id_seeded = true;
}

int
uc_request_id_new(char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t v[2];

	_Static_assert(2 * sizeof(v) == UC_REQUEST_ID_FRESH_LEN,
		       "a fresh id is two 64-bit numbers in hex");
	if (out == NULL || size < 2 * sizeof(v) + 1 ||
	    pthread_once(&id_once, id_seed) != 0 || !id_seeded) {
		return UP_INTERNAL;
	}
	/* A random process prefix and a counter: unique without a syscall
	 * per call (ids need to be unique, not secret). */
	v[0] = id_prefix;
	v[1] = atomic_fetch_add(&id_counter, 1);
	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0; i < 16; i++) {
			out[16 * k + i] = hex[(v[k] >> (60 - 4 * i)) & 15];
		}
	}
	out[2 * sizeof(v)] = '\0';
	return 0;
}

/* ------------------------------------------------------------------------
 * Pipes
 */

/* Milliseconds of CLOCK_MONOTONIC. */
static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The index of the URL whose dialer has this id, or -1. Under c->mtx. */
static int
daemon_of_dialer(const uc_client *c, uint32_t dialer_id)
{
	for (size_t i = 0; dialer_id != 0 && i < c->dial_opts.n_urls; i++) {
		if (c->daemons[i].dialer_id == dialer_id) {
			return (int)i;
		}
	}
	return -1;
}

/* Records pipe id -> daemon d in a free slot. Under c->mtx. */
static void
slot_add(uc_client *c, uint32_t id, int d)
{
	int used =
	    atomic_load_explicit(&c->pipe_slots_used, memory_order_relaxed);
	int i = 0;

	while (i < used && atomic_load_explicit(&c->pipe_slots[i].id,
						memory_order_relaxed) != 0) {
		i++;
	}
	if (i == UC_MAX_PIPES) {
		return;
	}
	atomic_store_explicit(&c->pipe_slots[i].daemon, d,
			      memory_order_release);
	atomic_store_explicit(&c->pipe_slots[i].id, id, memory_order_release);
	if (i == used) {
		atomic_store_explicit(&c->pipe_slots_used, used + 1,
				      memory_order_release);
	}
}

/* Frees pipe id's slot; its daemon, or -1. Under c->mtx. */
static int
slot_remove(uc_client *c, uint32_t id)
{
	int used =
	    atomic_load_explicit(&c->pipe_slots_used, memory_order_relaxed);
	int d = -1;

	for (int i = 0; i < used; i++) {
		uc_pipe_slot *s = &c->pipe_slots[i];

		if (atomic_load_explicit(&s->id, memory_order_relaxed) == id) {
			d = atomic_load_explicit(&s->daemon,
						 memory_order_relaxed);
			atomic_store_explicit(&s->id, 0, memory_order_release);
			break;
		}
	}
	/* Trailing free slots: readers need not scan them. */
	while (used > 0 && atomic_load_explicit(&c->pipe_slots[used - 1].id,
						memory_order_relaxed) == 0) {
		used--;
	}
	atomic_store_explicit(&c->pipe_slots_used, used, memory_order_release);
	return d;
}

/* The daemon a pipe leads to, or -1 (unknown, or already gone). No lock. */
static int
daemon_of_pipe(uc_client *c, uint32_t id)
{
	int used =
	    atomic_load_explicit(&c->pipe_slots_used, memory_order_acquire);

	for (int i = 0; id != 0 && i < used; i++) {
		uc_pipe_slot *s = &c->pipe_slots[i];

		if (atomic_load_explicit(&s->id, memory_order_acquire) == id) {
			int d = atomic_load_explicit(&s->daemon,
						     memory_order_acquire);

			return atomic_load_explicit(&s->id,
						    memory_order_acquire) == id
				   ? d
				   : -1;
		}
	}
	return -1;
}

static void
pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	uc_client *c = arg;
	uint32_t id = (uint32_t)nng_pipe_id(p);
	/* Before the lock: nng's own lookup, while the pipe still exists. */
	uint32_t dialer_id = ev == NNG_PIPE_EV_ADD_POST
				 ? (uint32_t)nng_dialer_id(nng_pipe_dialer(p))
				 : 0;
	int d;

	pthread_mutex_lock(&c->mtx);
	if (ev == NNG_PIPE_EV_ADD_POST) {
		if (c->pipes < UC_MAX_PIPES) {
			c->pipe_ids[c->pipes++] = id;
			if ((d = daemon_of_dialer(c, dialer_id)) >= 0) {
				uc_daemon *dm = &c->daemons[d];

				slot_add(c, id, d);
				dm->connects++;
				if (dm->pipes++ == 0) {
					c->daemons_down--;
				}
			}
		}
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		for (int i = 0; i < c->pipes; i++) {
			if (c->pipe_ids[i] != id) {
				continue;
			}
			c->pipe_ids[i] = c->pipe_ids[--c->pipes];
			if (c->pipes == 0) {
				c->nopipe_since = nng_clock();
			}
			if ((d = slot_remove(c, id)) >= 0) {
				uc_daemon *dm = &c->daemons[d];

				dm->disconnects++;
				if (--dm->pipes == 0) {
					dm->nopipe_since = nng_clock();
					c->daemons_down++;
				}
			}
			break;
		}
	}
	pthread_mutex_unlock(&c->mtx);
}

/* Counts a reply from daemon d (the reply path: no lock). */
static void
count_reply(uc_client *c, int d, int status)
{
	uc_daemon *dm;

	if (d < 0) {
		return;
	}
	dm = &c->daemons[d];
	atomic_fetch_add_explicit(&dm->replies, 1, memory_order_relaxed);
	atomic_store_explicit(&dm->last_reply_ms, mono_ms(),
			      memory_order_relaxed);
	if (up_status_daemon_failure(status)) {
		atomic_fetch_add_explicit(&dm->failures, 1,
					  memory_order_relaxed);
	}
}

/*
 * How long a send may wait for a pipe: the deadline when one is connected,
 * else what is left of the connect grace (0: fail now).
 */
static nng_duration
send_timeout(uc_client *c, nng_time deadline)
{
	nng_duration left = remaining_ms(deadline);
	nng_time now = nng_clock();
	nng_time grace_end;

	pthread_mutex_lock(&c->mtx);
	grace_end = c->nopipe_since + UC_CONNECT_GRACE_MS;
	if (c->pipes == 0) {
		nng_duration g =
		    now >= grace_end ? 0 : (nng_duration)(grace_end - now);
		if (g < left) {
			left = g;
		}
	}
	pthread_mutex_unlock(&c->mtx);
	return left;
}

static int
pipe_count(uc_client *c)
{
	int n;

	pthread_mutex_lock(&c->mtx);
	n = c->pipes;
	pthread_mutex_unlock(&c->mtx);
	return n;
}

/* ------------------------------------------------------------------------
 * Replies
 */

/*
 * Decodes a reply into res. Always fills res (status and, for failures,
 * error). The message stays the caller's.
 */
static void
decode_reply(const uc_rpc *call, nng_msg *msg, uc_result *res)
{
	Users__V1__ResponseEnvelope *env;

	env = users__v1__response_envelope__unpack(NULL, nng_msg_len(msg),
						   nng_msg_body(msg));
	if (env == NULL) {
		result_fail(res, UP_INTERNAL, "malformed reply envelope");
		return;
	}
	if (env->request_id != NULL && env->request_id[0] != '\0' &&
	    strcmp(env->request_id, call->request_id) != 0) {
		result_fail(res, UP_INTERNAL, "reply for another request id");
		goto out;
	}
	if (env->status == USERS__V1__STATUS_CODE__OK) {
		const ProtobufCBinaryData *p = &env->payload;
		res->response = protobuf_c_message_unpack(
		    call->m->desc->output, NULL, env->has_payload ? p->len : 0,
		    env->has_payload ? p->data : NULL);
		if (res->response == NULL) {
			result_fail(res, UP_INTERNAL, "malformed response");
			goto out;
		}
		res->status = UP_OK;
		res->error = NULL;
		goto out;
	}
	res->status = (int)env->status;
	res->response = NULL;
	/* Take the daemon's ResponseStatus (separately allocated). */
	res->error = env->error;
	env->error = NULL;
	if (res->error == NULL) {
		res->error = status_build(res->status, NULL);
	} else {
		if (res->error->error_code == NULL) {
			res->error->error_code =
			    strdup(up_status_error_code(res->status));
		}
		if (res->error->message == NULL) {
			res->error->message =
			    strdup(up_status_message(res->status));
		}
	}
out:
	users__v1__response_envelope__free_unpacked(env, NULL);
}

static void call_put(uc_rpc *call);

/* Hands the result to the user and puts the call back in the pool. */
static void
call_finish(uc_rpc *call, uc_result *res)
{
	uc_callback cb = call->cb;
	void *arg = call->arg;

	call->cb = NULL;
	call->arg = NULL;
	cb(res, arg); /* the result is the callback's now */
	call_put(call);
}

static void
call_fail(uc_rpc *call, int code, const char *detail)
{
	uc_result res;

	result_fail(&res, code, detail);
	call_finish(call, &res);
}

/* The aio callback: one step of the call's straight line. */
static void
call_step(void *arg)
{
	uc_rpc *call = arg;
	int rv = nng_aio_result(call->aio);
	nng_msg *msg;
	uc_result res;

	if (call->sending) {
		if (rv != 0) {
			msg = nng_aio_get_msg(call->aio); /* still ours */
			nng_aio_set_msg(call->aio, NULL);
			if (rv == NNG_ETIMEDOUT && pipe_count(call->c) > 0 &&
			    remaining_ms(call->deadline) > 0) {
				/* A pipe came up while we waited for one. */
				nng_aio_set_timeout(
				    call->aio, remaining_ms(call->deadline));
				nng_aio_set_msg(call->aio, msg);
				nng_ctx_send(call->ctx, call->aio);
				return;
			}
			nng_msg_free(msg);
			if (rv == NNG_ETIMEDOUT && pipe_count(call->c) == 0) {
				call_fail(call, UP_UNAVAILABLE,
					  "no daemon connected");
			} else {
				call_fail(call, status_of_nng(rv),
					  nng_strerror(rv));
			}
			return;
		}
		call->sending = false;
		nng_duration left = remaining_ms(call->deadline);
		/* 0 would mean "no wait" to nng: give it a tick to fail. */
		nng_aio_set_timeout(call->aio, left > 0 ? left : 1);
		nng_ctx_recv(call->ctx, call->aio);
		return;
	}
	if (rv != 0) {
		if (rv == NNG_ETIMEDOUT && pipe_count(call->c) == 0) {
			call_fail(call, UP_UNAVAILABLE, "connection lost");
		} else {
			call_fail(call, status_of_nng(rv), nng_strerror(rv));
		}
		return;
	}
	msg = nng_aio_get_msg(call->aio);
	nng_aio_set_msg(call->aio, NULL);
	memset(&res, 0, sizeof(res));
	decode_reply(call, msg, &res);
	count_reply(call->c,
		    daemon_of_pipe(
			call->c, (uint32_t)nng_pipe_id(nng_msg_get_pipe(msg))),
		    res.status);
	nng_msg_free(msg);
	call_finish(call, &res);
}

/* ------------------------------------------------------------------------
 * Calls
 */

/* A pooled call object, or NULL (closing: *closing set; or OOM). */
static uc_rpc *
call_get(uc_client *c, bool *closing)
{
	uc_rpc *call = NULL;

	pthread_mutex_lock(&c->mtx);
	*closing = c->closing;
	if (!c->closing && c->free_calls != NULL) {
		call = c->free_calls;
		c->free_calls = call->next_free;
		c->inflight++;
	}
	pthread_mutex_unlock(&c->mtx);
	if (call != NULL || *closing) {
		return call;
	}

	call = calloc(1, sizeof(*call));
	if (call == NULL) {
		return NULL;
	}
	call->c = c;
	if (nng_ctx_open(&call->ctx, c->sock) != 0) {
		free(call);
		return NULL;
	}
	if (nng_aio_alloc(&call->aio, call_step, call) != 0) {
		nng_ctx_close(call->ctx);
		free(call);
		return NULL;
	}
	pthread_mutex_lock(&c->mtx);
	call->next_all = c->all_calls;
	c->all_calls = call;
	*closing = c->closing;
	if (c->closing) {
		/* Keep it for close to free; not in flight. */
		call->next_free = c->free_calls;
		c->free_calls = call;
		call = NULL;
	} else {
		c->inflight++;
	}
	pthread_mutex_unlock(&c->mtx);
	return call;
}

/* Returns an unused call to the pool (the call never started). */
static void
call_put(uc_rpc *call)
{
	uc_client *c = call->c;

	pthread_mutex_lock(&c->mtx);
	call->next_free = c->free_calls;
	c->free_calls = call;
	c->inflight--;
	if (c->inflight == 0 && c->closing) {
		pthread_cond_broadcast(&c->idle);
	}
	pthread_mutex_unlock(&c->mtx);
}

/*
 * Packs the envelope into a new nng message (*out, the caller's).
 * anonymous: send no credentials (Authenticate from uc_login).
 */
static int
pack_envelope(uc_client *c, const uc_rpc *call, const ProtobufCMessage *request,
	      const uc_call_opts *opts, bool anonymous, uint32_t deadline_ms,
	      nng_msg **out)
{
	Users__V1__RequestEnvelope env = USERS__V1__REQUEST_ENVELOPE__INIT;
	Users__V1__BasicCredentials basic = USERS__V1__BASIC_CREDENTIALS__INIT;
	uint8_t *payload = NULL;
	size_t plen;
	size_t elen;
	nng_msg *msg = NULL;
	bool locked = false;
	int rc = UP_RESOURCE_EXHAUSTED;

	plen = protobuf_c_message_get_packed_size(request);
	payload = malloc(plen ? plen : 1);
	if (payload == NULL) {
		goto out;
	}
	protobuf_c_message_pack(request, payload);

	env.method = (char *)call->m->desc->name;
	env.request_id = (char *)call->request_id;
	env.has_deadline_ms = true;
	env.deadline_ms = deadline_ms;
	env.has_payload = true;
	env.payload.data = payload;
	env.payload.len = plen;

	/* The envelope borrows the client's credentials while packing. */
	pthread_mutex_lock(&c->mtx);
	locked = true;
	if (anonymous) {
		/* none */
	} else if (opts != NULL && opts->bearer_token != NULL) {
		env.bearer_token = (char *)opts->bearer_token;
	} else if (opts != NULL && opts->basic_user != NULL) {
		basic.user_name = (char *)opts->basic_user;
		basic.password = (char *)opts->basic_password;
		env.basic = &basic;
	} else if (c->bearer != NULL) {
		env.bearer_token = c->bearer;
	} else if (c->basic_user != NULL) {
		basic.user_name = c->basic_user;
		basic.password = c->basic_password;
		env.basic = &basic;
	}
	elen = users__v1__request_envelope__get_packed_size(&env);
	if (nng_msg_alloc(&msg, elen) != 0) {
		goto out;
	}
	users__v1__request_envelope__pack(&env, nng_msg_body(msg));
	*out = msg;
	msg = NULL;
	rc = 0;
out:
	if (locked) {
		pthread_mutex_unlock(&c->mtx);
	}
	if (payload != NULL) {
		explicit_bzero(payload, plen); /* may hold a password */
		free(payload);
	}
	nng_msg_free(msg);
	return rc;
}

static int
call_start(uc_client *c, const char *method, const ProtobufCMessage *request,
	   const uc_call_opts *opts, bool anonymous, uc_callback cb, void *arg)
{
	const up_method *m;
	uc_rpc *call = NULL;
	nng_msg *msg = NULL;
	uint32_t deadline_ms;
	nng_duration resend;
	bool closing = false;
	int rc;

	if (c == NULL || method == NULL || request == NULL || cb == NULL) {
		return UP_INVALID_ARGUMENT;
	}
	m = up_method_find(method);
	if (m == NULL || request->descriptor != m->desc->input) {
		return UP_INVALID_ARGUMENT;
	}
	if (opts != NULL && opts->request_id != NULL &&
	    (opts->request_id[0] == '\0' ||
	     strlen(opts->request_id) > UC_REQUEST_ID_MAX)) {
		return UP_INVALID_ARGUMENT;
	}
	deadline_ms = (opts != NULL && opts->deadline_ms != 0)
			  ? opts->deadline_ms
			  : c->deadline_ms;
	if (deadline_ms > UC_MAX_DEADLINE_MS) {
		deadline_ms = UC_MAX_DEADLINE_MS; /* nng durations are int32 */
	}

	call = call_get(c, &closing);
	if (call == NULL) {
		return closing ? UP_CANCELLED : UP_RESOURCE_EXHAUSTED;
	}
	call->m = m;
	call->cb = cb;
	call->arg = arg;
	call->sending = true;
	call->deadline = nng_clock() + deadline_ms;
	if (opts != NULL && opts->request_id != NULL) {
		snprintf(call->request_id, sizeof(call->request_id), "%s",
			 opts->request_id);
	} else if (uc_request_id_new(call->request_id,
				     sizeof(call->request_id)) != 0) {
		rc = UP_INTERNAL;
		goto fail;
	}
	rc =
	    pack_envelope(c, call, request, opts, anonymous, deadline_ms, &msg);
	if (rc != 0) {
		goto fail;
	}
	resend = (nng_duration)(deadline_ms / 2);
	if (resend > UC_RESEND_MAX_MS) {
		resend = UC_RESEND_MAX_MS;
	}
	if (resend < UC_RESEND_MIN_MS) {
		resend = UC_RESEND_MIN_MS;
	}
	/* an option set takes nng's socket lock: only when it changes */
	if (resend != call->resend &&
	    nng_ctx_set_ms(call->ctx, NNG_OPT_REQ_RESENDTIME, resend) == 0) {
		call->resend = resend;
	}

	maybe_redial(c);
	nng_duration t = send_timeout(c, call->deadline);
	/* nng fails a zero timeout at once, on its own thread: what we want
	 * for "no daemon"; the callback then sees no pipe. */
	nng_aio_set_timeout(call->aio, t > 0 ? t : NNG_DURATION_ZERO);
	nng_aio_set_msg(call->aio, msg);
	nng_ctx_send(call->ctx, call->aio); /* the callback runs, always */
	return 0;
fail:
	call->cb = NULL;
	call->arg = NULL;
	call_put(call);
	return rc;
}

UC_API int
uc_call_async(uc_client *c, const char *method, const ProtobufCMessage *request,
	      const uc_call_opts *opts, uc_callback cb, void *arg)
{
	return call_start(c, method, request, opts, false, cb, arg);
}

/* The sync form waits on the async path. */
typedef struct sync_wait {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	bool done;
	uc_result *res;
} sync_wait;

static void
sync_done(uc_result *res, void *arg)
{
	sync_wait *w = arg;

	pthread_mutex_lock(&w->mtx);
	*w->res = *res; /* moves ownership to the waiter's result */
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mtx);
}

static int
call_sync(uc_client *c, const char *method, const ProtobufCMessage *request,
	  const uc_call_opts *opts, bool anonymous, uc_result *res)
{
	sync_wait w;
	int rc;

	if (res == NULL) {
		return UP_INVALID_ARGUMENT;
	}
	memset(res, 0, sizeof(*res));
	pthread_mutex_init(&w.mtx, NULL);
	pthread_cond_init(&w.cv, NULL);
	w.done = false;
	w.res = res;
	rc = call_start(c, method, request, opts, anonymous, sync_done, &w);
	if (rc != 0) {
		result_fail(res, rc, NULL);
	} else {
		/* Bounded: nng ends the call by its deadline. */
		pthread_mutex_lock(&w.mtx);
		while (!w.done) {
			pthread_cond_wait(&w.cv, &w.mtx);
		}
		pthread_mutex_unlock(&w.mtx);
	}
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mtx);
	return res->status;
}

UC_API int
uc_call(uc_client *c, const char *method, const ProtobufCMessage *request,
	const uc_call_opts *opts, uc_result *res)
{
	return call_sync(c, method, request, opts, false, res);
}

UC_API void
uc_result_fini(uc_result *res)
{
	if (res == NULL) {
		return;
	}
	if (res->error != NULL) {
		protobuf_c_message_free_unpacked(&res->error->base, NULL);
	}
	if (res->response != NULL) {
		protobuf_c_message_free_unpacked(res->response, NULL);
	}
	res->error = NULL;
	res->response = NULL;
}

UC_API const char *
uc_result_message(const uc_result *res)
{
	static _Thread_local char buf[512];
	const char *msg;

	if (res == NULL) {
		return "INVALID_ARGUMENT: no result";
	}
	if (res->status == UP_OK) {
		return "OK";
	}
	msg = (res->error != NULL && res->error->message != NULL)
		  ? res->error->message
		  : up_status_message(res->status);
	snprintf(buf, sizeof(buf), "%s: %s", up_status_name(res->status), msg);
	return buf;
}

/* ------------------------------------------------------------------------
 * Credentials
 */

UC_API int
uc_set_bearer(uc_client *c, const char *token)
{
	char *t = NULL;

	if (c == NULL) {
		return UP_INVALID_ARGUMENT;
	}
	if (token != NULL && (t = dup_bounded(token, UC_MAX_CRED)) == NULL) {
		return errno == EINVAL ? UP_INVALID_ARGUMENT
				       : UP_RESOURCE_EXHAUSTED;
	}
	pthread_mutex_lock(&c->mtx);
	free_secret(c->bearer);
	c->bearer = t;
	pthread_mutex_unlock(&c->mtx);
	return 0;
}

UC_API int
uc_set_basic(uc_client *c, const char *user, const char *password)
{
	char *u = NULL;
	char *p = NULL;
	int rc = UP_RESOURCE_EXHAUSTED;

	if (c == NULL || (user == NULL) != (password == NULL)) {
		return UP_INVALID_ARGUMENT;
	}
	if (user != NULL) {
		u = dup_bounded(user, UC_MAX_CRED);
		p = dup_bounded(password, UC_MAX_CRED);
		if (u == NULL || p == NULL) {
			rc = errno == EINVAL ? UP_INVALID_ARGUMENT : rc;
			free(u);
			free_secret(p);
			return rc;
		}
	}
	pthread_mutex_lock(&c->mtx);
	free(c->basic_user);
	free_secret(c->basic_password);
	c->basic_user = u;
	c->basic_password = p;
	pthread_mutex_unlock(&c->mtx);
	return 0;
}

UC_API const char *
uc_bearer(const uc_client *c)
{
	return c != NULL ? c->bearer : NULL;
}

UC_API int
uc_login(uc_client *c, const char *user, const char *password, uc_result *res)
{
	Users__V1__Authenticate req = USERS__V1__AUTHENTICATE__INIT;
	const Users__V1__AuthenticateResponse *ar;
	int rc;

	if (res == NULL) {
		return UP_INVALID_ARGUMENT;
	}
	if (c == NULL || user == NULL || password == NULL) {
		memset(res, 0, sizeof(*res));
		result_fail(res, UP_INVALID_ARGUMENT, "user and password");
		return res->status;
	}
	req.provider = "credentials";
	req.user_name = (char *)user;
	req.password = (char *)password;
	rc = call_sync(c, "Authenticate", &req.base, NULL, true, res);
	if (rc != UP_OK) {
		return rc;
	}
	ar = (const Users__V1__AuthenticateResponse *)res->response;
	if (ar->bearer_token == NULL || ar->bearer_token[0] == '\0') {
		uc_result_fini(res);
		result_fail(res, UP_INTERNAL, "no bearer token in the answer");
		return res->status;
	}
	rc = uc_set_bearer(c, ar->bearer_token);
	if (rc != 0) {
		uc_result_fini(res);
		result_fail(res, rc, NULL);
	}
	return res->status;
}

/* ------------------------------------------------------------------------
 * Typed wrappers: one definition for every method of UC_METHODS.
 */

#define UC_DEFINE(snake, pascal, req_t)                                        \
	UC_API int uc_##snake(uc_client *c, const req_t *req,                  \
			      const uc_call_opts *opts, uc_result *res)        \
	{                                                                      \
		return uc_call(c, #pascal, (const ProtobufCMessage *)req,      \
			       opts, res);                                     \
	}                                                                      \
	UC_API int uc_##snake##_async(uc_client *c, const req_t *req,          \
				      const uc_call_opts *opts,                \
				      uc_callback cb, void *arg)               \
	{                                                                      \
		return uc_call_async(                                          \
		    c, #pascal, (const ProtobufCMessage *)req, opts, cb, arg); \
	}
UC_METHODS(UC_DEFINE)
#undef UC_DEFINE

/* ------------------------------------------------------------------------
 * Open and close
 */

/* Reads a whole small file into a NUL-terminated buffer (*out, caller's). */
static int
read_pem(const char *path, char **out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;
	int rc = -1;

	if (f == NULL) {
		return -1;
	}
	buf = malloc(UC_MAX_PEM + 1);
	if (buf == NULL) {
		goto out;
	}
	n = fread(buf, 1, UC_MAX_PEM + 1, f);
	if (ferror(f) || n > UC_MAX_PEM) {
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	buf = NULL;
	rc = 0;
out:
	free_secret(buf);
	fclose(f);
	return rc;
}

/* The host of "tls+tcp://host:port" ("[::1]:port" too) into buf. */
static int
url_host(const char *url, char *buf, size_t size)
{
	const char *h = strstr(url, "://");
	const char *end;
	size_t n;

	if (h == NULL) {
		return -1;
	}
	h += 3;
	if (*h == '[') {
		h++;
		end = strchr(h, ']');
	} else {
		end = strrchr(h, ':');
	}
	if (end == NULL) {
		end = h + strlen(h);
	}
	n = (size_t)(end - h);
	if (n == 0 || n >= size) {
		return -1;
	}
	memcpy(buf, h, n);
	buf[n] = '\0';
	return 0;
}

static int
tls_config(const uc_options *o, const char *url, nng_tls_config **out)
{
	nng_tls_config *cfg = NULL;
	char *cert = NULL;
	char *key = NULL;
	char host[256];
	int rv;

	if ((rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT)) != 0) {
		goto out;
	}
	/* uc_client_open allows no CA only with tls_insecure. */
	if (o->tls_ca_file != NULL) {
		if ((rv = nng_tls_config_ca_file(cfg, o->tls_ca_file)) != 0 ||
		    (rv = nng_tls_config_auth_mode(
			 cfg, NNG_TLS_AUTH_MODE_REQUIRED)) != 0) {
			goto out;
		}
	} else if (!o->tls_insecure) {
		rv = NNG_EINVAL;
		goto out;
	} else if ((rv = nng_tls_config_auth_mode(
			cfg, NNG_TLS_AUTH_MODE_NONE)) != 0) {
		goto out;
	}
	if (o->tls_cert_file != NULL && o->tls_key_file != NULL) {
		if (read_pem(o->tls_cert_file, &cert) != 0 ||
		    read_pem(o->tls_key_file, &key) != 0) {
			rv = NNG_EINVAL;
			goto out;
		}
		if ((rv = nng_tls_config_own_cert(cfg, cert, key, NULL)) != 0) {
			goto out;
		}
	} else if (o->tls_cert_file != NULL) {
		/* One file with both the certificate and the key. */
		if ((rv = nng_tls_config_cert_key_file(cfg, o->tls_cert_file,
						       NULL)) != 0) {
			goto out;
		}
	}
	if (o->tls_server_name != NULL) {
		rv = nng_tls_config_server_name(cfg, o->tls_server_name);
	} else if (url_host(url, host, sizeof(host)) == 0) {
		rv = nng_tls_config_server_name(cfg, host);
	}
	if (rv != 0) {
		goto out;
	}
	*out = cfg;
	cfg = NULL;
out:
	free(cert);
	free_secret(key);
	if (cfg != NULL) {
		nng_tls_config_free(cfg);
	}
	return rv;
}

/*
 * Creates and starts the dialer of URL index i. Its id is registered as
 * daemon i's before it starts, so its first pipe is already attributed.
 */
static int
dial_one(uc_client *c, const uc_options *o, size_t i, nng_dialer *out)
{
	const char *url = o->urls[i];
	nng_dialer d;
	nng_tls_config *cfg = NULL;
	int rv;

	if ((rv = nng_dialer_create(&d, c->sock, url)) != 0) {
		return rv;
	}
	pthread_mutex_lock(&c->mtx);
	c->daemons[i].dialer_id = (uint32_t)nng_dialer_id(d);
	pthread_mutex_unlock(&c->mtx);
	if (strncmp(url, "tls+", 4) == 0) {
		if ((rv = tls_config(o, url, &cfg)) != 0) {
			goto fail;
		}
		/* The dialer holds its own reference. */
		rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
		nng_tls_config_free(cfg);
		if (rv != 0) {
			goto fail;
		}
	}
	if ((rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0) {
		goto fail;
	}
	*out = d;
	return 0;
fail:
	nng_dialer_close(d);
	return rv;
}

/* The redial thread: the dialers of redial_mask closed and made anew. */
static void *
redial(void *arg)
{
	uc_client *c = arg;
	const uc_options *o = &c->dial_opts;
	uint64_t mask;

	pthread_mutex_lock(&c->mtx);
	mask = c->redial_mask;
	pthread_mutex_unlock(&c->mtx);
	for (size_t i = 0; i < o->n_urls; i++) {
		nng_dialer d;

		if ((mask & ((uint64_t)1 << i)) == 0) {
			continue;
		}
		nng_dialer_close(c->dialers[i]);
		if (dial_one(c, o, i, &d) == 0) {
			c->dialers[i] = d;
		}
	}
	pthread_mutex_lock(&c->mtx);
	c->redialing = false;
	pthread_mutex_unlock(&c->mtx);
	return NULL;
}

/*
 * Starts a redial of the daemons that have had no pipe for UC_REDIAL_MS
 * and were not redialed for as long. Called without c->mtx held; with
 * every daemon connected it costs one test under the lock it takes.
 */
static void
maybe_redial(uc_client *c)
{
	nng_time now;
	uint64_t mask = 0;

	pthread_mutex_lock(&c->mtx);
	if (c->daemons_down == 0 || c->closing || c->redialing) {
		pthread_mutex_unlock(&c->mtx);
		return;
	}
	now = nng_clock();
	for (size_t i = 0; i < c->dial_opts.n_urls; i++) {
		uc_daemon *dm = &c->daemons[i];

		if (dm->pipes == 0 && now - dm->nopipe_since >= UC_REDIAL_MS &&
		    now - dm->last_redial >= UC_REDIAL_MS) {
			dm->last_redial = now;
			mask |= (uint64_t)1 << i;
		}
	}
	if (mask != 0) {
		if (c->redialer_joinable) {
			/* it has finished (redialing is false): no wait */
			pthread_join(c->redialer, NULL);
			c->redialer_joinable = false;
		}
		c->redial_mask = mask;
		/* Under the lock, so the thread's end cannot pass its start. */
		if (pthread_create(&c->redialer, NULL, redial, c) == 0) {
			c->redialing = c->redialer_joinable = true;
		}
	}
	pthread_mutex_unlock(&c->mtx);
}

UC_API size_t
uc_daemon_count(const uc_client *c)
{
	return c != NULL ? c->dial_opts.n_urls : 0;
}

UC_API int
uc_daemon_stats_get(uc_client *c, size_t index, uc_daemon_stats *out)
{
	uc_daemon *dm;
	int64_t last;

	if (c == NULL || out == NULL || index >= c->dial_opts.n_urls) {
		return UP_INVALID_ARGUMENT;
	}
	dm = &c->daemons[index];
	memset(out, 0, sizeof(*out));
	out->url = c->dial_opts.urls[index];
	pthread_mutex_lock(&c->mtx);
	out->pipes = (uint32_t)dm->pipes;
	out->connects = dm->connects;
	out->disconnects = dm->disconnects;
	pthread_mutex_unlock(&c->mtx);
	out->connected = out->pipes > 0;
	out->replies = atomic_load_explicit(&dm->replies, memory_order_relaxed);
	out->failures =
	    atomic_load_explicit(&dm->failures, memory_order_relaxed);
	last = atomic_load_explicit(&dm->last_reply_ms, memory_order_relaxed);
	out->last_reply_ms = last;
	if (last < 0) {
		out->last_reply_age_ms = -1;
	} else {
		int64_t age = mono_ms() - last;

		out->last_reply_age_ms = age > 0 ? age : 0;
	}
	return 0;
}

/* Deep copy of what redialing needs; NNG_EINVAL or NNG_ENOMEM. */
static int
copy_dial_opts(uc_options *dst, const uc_options *src)
{
	const char **urls = calloc(src->n_urls, sizeof(*urls));

	if (urls == NULL) {
		return NNG_ENOMEM;
	}
	dst->urls = urls;
	for (size_t i = 0; i < src->n_urls; i++) {
		if (src->urls[i] == NULL) {
			return NNG_EINVAL;
		}
		if ((urls[i] = strdup(src->urls[i])) == NULL) {
			return NNG_ENOMEM;
		}
		dst->n_urls = i + 1;
	}
	dst->deadline_ms = src->deadline_ms;
	dst->tls_insecure = src->tls_insecure;
	if ((src->tls_ca_file != NULL &&
	     (dst->tls_ca_file = strdup(src->tls_ca_file)) == NULL) ||
	    (src->tls_cert_file != NULL &&
	     (dst->tls_cert_file = strdup(src->tls_cert_file)) == NULL) ||
	    (src->tls_key_file != NULL &&
	     (dst->tls_key_file = strdup(src->tls_key_file)) == NULL) ||
	    (src->tls_server_name != NULL &&
	     (dst->tls_server_name = strdup(src->tls_server_name)) == NULL)) {
		return NNG_ENOMEM;
	}
	return 0;
}

/* Frees a client; safe on a half-built one. No call may be in flight. */
static void
client_free(uc_client *c)
{
	uc_rpc *call;

	while ((call = c->all_calls) != NULL) {
		c->all_calls = call->next_all;
		nng_aio_free(call->aio); /* idle; waits out a late callback */
		nng_ctx_close(call->ctx);
		free(call);
	}
	if (c->redialer_joinable) {
		pthread_join(c->redialer,
			     NULL); /* closing: no new one starts */
	}
	for (size_t i = 0; c->dial_opts.urls != NULL && i < c->dial_opts.n_urls;
	     i++) {
		free((char *)c->dial_opts.urls[i]);
	}
	free((void *)c->dial_opts.urls);
	free((char *)c->dial_opts.tls_ca_file);
	free((char *)c->dial_opts.tls_cert_file);
	free((char *)c->dial_opts.tls_key_file);
	free((char *)c->dial_opts.tls_server_name);
	if (c->sock_open) {
		/* Stop pipe callbacks before the socket goes (they use c). */
		nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, NULL, NULL);
		nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, NULL, NULL);
		nng_close(c->sock);
	}
	free(c->daemons);
	free_secret(c->bearer);
	free(c->basic_user);
	free_secret(c->basic_password);
	pthread_cond_destroy(&c->idle);
	pthread_mutex_destroy(&c->mtx);
	free(c);
}

/* Why the calling thread's last uc_client_open failed. */
static _Thread_local char open_error[512];

static int open_failed(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
open_failed(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(open_error, sizeof(open_error), fmt, ap);
	va_end(ap);
	return code;
}

UC_API const char *
uc_client_open_error(void)
{
	return open_error;
}

static bool
is_tls_url(const char *url)
{
	return url != NULL && strncmp(url, "tls+", 4) == 0;
}

/*
 * The TLS settings against the URLs: a tls+tcp:// URL is verified
 * against a CA, or explicitly not (tls_insecure, with one warning on
 * stderr). 0 or an up_status with open_error set.
 */
static int
check_tls(const uc_options *o)
{
	const char *tls_url = NULL;

	for (size_t i = 0; i < o->n_urls && tls_url == NULL; i++) {
		if (is_tls_url(o->urls[i])) {
			tls_url = o->urls[i];
		}
	}
	if (tls_url == NULL) {
		return 0;
	}
	if (o->tls_ca_file != NULL && o->tls_insecure) {
		return open_failed(UP_INVALID_ARGUMENT,
				   "a CA file and the insecure option "
				   "together: choose one");
	}
	if (o->tls_ca_file == NULL && !o->tls_insecure) {
		return open_failed(
		    UP_FAILED_PRECONDITION,
		    "%s: no CA file to verify the daemon's certificate with; "
		    "give the CA that signed it (or, for a test only, the "
		    "insecure option)",
		    tls_url);
	}
	if (o->tls_insecure) {
		fprintf(stderr,
			"usersclient: warning: the certificate of %s is not "
			"verified (insecure option): anyone on the way can "
			"read and change the calls, passwords included\n",
			tls_url);
	}
	return 0;
}

UC_API int
uc_client_open(uc_client **out, const uc_options *opts)
{
	uc_client *c = NULL;
	size_t failed_url = SIZE_MAX;
	int rv;
	int rc;

	open_error[0] = '\0';
	if (out == NULL || opts == NULL || opts->urls == NULL ||
	    opts->n_urls == 0 || opts->n_urls > UC_MAX_URLS) {
		return open_failed(UP_INVALID_ARGUMENT,
				   "no daemon URL, or more than %d",
				   UC_MAX_URLS);
	}
	*out = NULL;
	for (size_t i = 0; i < opts->n_urls; i++) {
		if (opts->urls[i] == NULL) {
			return open_failed(UP_INVALID_ARGUMENT,
					   "a daemon URL is missing");
		}
	}
	if ((rc = check_tls(opts)) != 0) {
		return rc;
	}
	if (up_meta_load() != 0) {
		return open_failed(UP_INTERNAL,
				   "the contract's metadata does not load");
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return open_failed(UP_RESOURCE_EXHAUSTED, "out of memory");
	}
	pthread_mutex_init(&c->mtx, NULL);
	pthread_cond_init(&c->idle, NULL);
	c->deadline_ms =
	    opts->deadline_ms != 0 ? opts->deadline_ms : UC_DEFAULT_DEADLINE_MS;
	c->nopipe_since = nng_clock();
	c->daemons = aligned_alloc(_Alignof(uc_daemon),
				   opts->n_urls * sizeof(uc_daemon));
	if (c->daemons == NULL) {
		rv = NNG_ENOMEM;
		goto fail;
	}
	memset(c->daemons, 0, opts->n_urls * sizeof(uc_daemon));
	for (size_t i = 0; i < opts->n_urls; i++) {
		atomic_init(&c->daemons[i].replies, 0);
		atomic_init(&c->daemons[i].failures, 0);
		atomic_init(&c->daemons[i].last_reply_ms, -1);
		c->daemons[i].nopipe_since = c->nopipe_since;
	}
	c->daemons_down = opts->n_urls;

	if ((rv = nng_req0_open(&c->sock)) != 0) {
		goto fail;
	}
	c->sock_open = true;
	if ((rv = nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ,
				      UC_MAX_REPLY)) != 0 ||
	    (rv = nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME,
				    UC_RESEND_MAX_MS)) != 0 ||
	    /* Redial a lost daemon soon, and keep trying every 2 s at most. */
	    (rv = nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 50)) != 0 ||
	    (rv = nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 2000)) != 0 ||
	    (rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, pipe_event,
				  c)) != 0 ||
	    (rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, pipe_event,
				  c)) != 0) {
		goto fail;
	}
	if ((rv = copy_dial_opts(&c->dial_opts, opts)) != 0) {
		goto fail;
	}
	for (size_t i = 0; i < opts->n_urls; i++) {
		if ((rv = dial_one(c, &c->dial_opts, i, &c->dialers[i])) != 0) {
			failed_url = i;
			goto fail;
		}
	}
	*out = c;
	return 0;
fail:
	rc = status_of_nng(rv);
	if (failed_url != SIZE_MAX) {
		open_failed(rc, "cannot use %s: %s", opts->urls[failed_url],
			    nng_strerror(rv));
	} else {
		open_failed(rc, "cannot open the client: %s", nng_strerror(rv));
	}
	client_free(c);
	return rc == UP_UNAVAILABLE ? UP_INVALID_ARGUMENT : rc;
}

/*
 * The last step of a close runs on a thread of its own: nng_close() can
 * hang in nng 1.5.2 (seen here: its reaper and aio-expire threads wait on
 * each other while nng_close waits for the reaper). The closer owns the
 * client (pipe callbacks may use it until nng_close returns) and frees it;
 * uc_client_close waits for it at most UC_CLOSE_WAIT_MS, then leaves it
 * to finish in the background (or, if nng never returns, leaks one
 * socket and one client instead of hanging the caller).
 */
typedef struct close_job {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	bool done;
	int refs; /* the closer thread and uc_client_close */
	uc_client *c;
} close_job;

static void
close_job_release(close_job *j)
{
	bool last;

	pthread_mutex_lock(&j->mtx);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->mtx);
	if (last) {
		pthread_cond_destroy(&j->cv);
		pthread_mutex_destroy(&j->mtx);
		free(j);
	}
}

static void *
closer(void *arg)
{
	close_job *j = arg;

	client_free(j->c);
	pthread_mutex_lock(&j->mtx);
	j->done = true;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mtx);
	close_job_release(j);
	return NULL;
}

UC_API void
uc_client_close(uc_client *c)
{
	close_job *j;
	pthread_attr_t attr;
	pthread_t t;
	struct timespec until;
	bool started = false;

	if (c == NULL) {
		return;
	}
	pthread_mutex_lock(&c->mtx);
	c->closing = true;
	while (c->inflight > 0) {
		pthread_cond_wait(&c->idle, &c->mtx);
	}
	pthread_mutex_unlock(&c->mtx);

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		client_free(c); /* no memory for a thread: close inline */
		return;
	}
	pthread_mutex_init(&j->mtx, NULL);
	pthread_cond_init(&j->cv, NULL);
	j->refs = 2;
	j->c = c;
	if (pthread_attr_init(&attr) == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		started = pthread_create(&t, &attr, closer, j) == 0;
		pthread_attr_destroy(&attr);
	}
	if (!started) {
		j->refs = 1;
		closer(j); /* inline */
		return;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += UC_CLOSE_WAIT_MS / 1000;
	pthread_mutex_lock(&j->mtx);
	while (!j->done &&
	       pthread_cond_timedwait(&j->cv, &j->mtx, &until) == 0) {
	}
	pthread_mutex_unlock(&j->mtx);
	close_job_release(j);
}
