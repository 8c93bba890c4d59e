/*
 * client.c - libusersclient: RPCs to usersd, batched over nng.
 *
 * One socket per daemon URL (a raw REQ socket with its own dialer), so
 * the client knows where each call went and chooses the daemon itself
 * (docs/decisions.md, section 20). A call (uc_rpc, pooled) lives in the
 * client's table by its call number (tag) until it is settled, exactly
 * once, by one of:
 *
 *   its answer       a daemon's ResponseBatch names the tag (recv_done,
 *                    an nng thread): decoded, counted, its callback
 *   its deadline     the keeper thread: DEADLINE_EXCEEDED (UNAVAILABLE
 *                    with no daemon connected)
 *   a lost pipe      pipe_event (an nng thread): moved to another
 *                    connected daemon, or UNAVAILABLE at once
 *   no daemon        at its start (after the open grace): UNAVAILABLE,
 *                    its callback run by the keeper thread
 *
 * Sending (adaptive batching, no timer). uc_call_async packs the call's
 * frame (a BatchedRequest: its tag and RequestEnvelope, kept for a resend)
 * and queues it on the daemon it chose (connected, fewest calls). When
 * nothing is being sent on that daemon's socket the queue leaves at once
 * as one message; while a send is in flight, calls pile up, and the send's
 * completion (send_done) sends all of them in the next message (at most
 * UC_BATCH_MAX_CALLS calls and UC_BATCH_MAX_BYTES). A lone call waits for
 * nothing; under load a message carries what arrived meanwhile. The raw
 * socket's send completes when the pipe takes the message, so "in flight"
 * is one message per connection, and short: alone, this rarely batches.
 *
 * Held calls (uc_call_opts.hold, uc_client_flush). A caller that starts
 * calls in bursts (an event loop handling the events of one wakeup) holds
 * them: a held call is queued like any other but does not start a send.
 * It leaves with the next message sent to its daemon (another caller's
 * call, a send's completion) or, at the latest, when the caller flushes
 * (uc_client_flush: every daemon's queue, unless a send is in flight
 * there, whose completion sends it). So the calls of one loop turn leave
 * in one message, without a timer: the caller flushes when its turn ends.
 * The client holds by itself the calls that its callbacks start while it
 * runs the answers of one received message (recv_done; a closed-loop
 * caller starts its next call from the callback): they leave together
 * once that message's callbacks have run.
 *
 * Per daemon the client counts the messages and the frames it sent and
 * the messages it received (uc_daemon_stats), so the batching shows.
 *
 * Receiving. Each socket keeps one receive armed; a message may answer
 * any of the calls sent on the socket, in any order. A frame whose tag is
 * no longer in the table (a call settled meanwhile: a resend's second
 * answer, a late one) is dropped.
 *
 * Deadlines and resends are the client's: every call has an absolute
 * deadline (nng_clock), kept in a heap that the keeper thread sleeps on.
 * With more than one daemon, a call without an answer after its resend
 * time (half its deadline, 50 ms to 1 s) is sent again, same tag and
 * request id, to another connected daemon (a stuck one: SIGSTOP,
 * overload). When a daemon's pipe closes, every call queued or sent there
 * moves at once to another connected daemon, else fails UNAVAILABLE. A
 * moved call carries its request id: usersd answers a repeated id with
 * its first answer (the replay table, and the request log in the store
 * where daemons share one), so a resend never writes twice. No call waits
 * on a dead daemon: with none connected, a call fails at once, except in
 * the first UC_OPEN_GRACE_MS after open, while the first dials run.
 *
 * Redialing: nng redials a lost daemon after a random wait below 10 ms,
 * then below 20, 40, 80 and at most 100 ms (UC_RECONN_MIN_MS and
 * UC_RECONN_MAX_MS; nng's backoff), so a daemon listening again is
 * connected within about 100 ms. nng 1.5 can stop redialing (a failed
 * handshake ends the dialer's retries): the dialer of a daemon without a
 * pipe for UC_REDIAL_MS is replaced by the keeper thread, at most that
 * often (not sooner: replacing a dialer in the middle of its handshake
 * is what leaves an nng 1.5 listener stuck, docs/decisions.md section 11).
 *
 * The caller's transport (uc_options.transport, usersclient.h): a daemon
 * whose URL the caller says it carries gets no nng socket. daemon_flush
 * then kicks the caller instead of sending; the caller takes the message
 * (uc_transport_take: the same batch_size and batch_move as a send),
 * writes it and says so (uc_transport_sent: send_done's sent_done), and
 * hands over its connections' ups and downs (daemon_up, daemon_down, as
 * pipe_event does) and every message received (answers_run, as
 * recv_done does). So the calls, batches, deadlines, resends and moves
 * stay here, one code for both; only the bytes move elsewhere. The keeper
 * never redials such a daemon: the caller does.
 *
 * Locks: c->mtx guards the table, the heap, the lists and the daemons'
 * transport state; c->cred guards the credentials (read by every call's
 * packing). Callbacks run without either, on nng threads, the client's own
 * connections' thread (io.c), the caller's transport's, or the keeper;
 * never inside the caller's call. Per-daemon counters are relaxed atomics.
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

#include "client_io.h"
#include "usersclient.h"

#define UC_DEFAULT_DEADLINE_MS 5000u
#define UC_OPEN_GRACE_MS       1000 /* calls wait this long for a first dial */
#define UC_RESEND_MAX_MS       1000
#define UC_RESEND_MIN_MS       50
#define UC_MAX_REPLY           (16u * 1024u * 1024u) /* nng recv limit */
#define UC_MAX_URLS            64
#define UC_MAX_CRED            4096
#define UC_MAX_PEM             (1024 * 1024)
#define UC_CLOSE_WAIT_MS       2000 /* see closer() */
#define UC_MAX_DEADLINE_MS     (24u * 3600u * 1000u)
#define UC_BATCH_MAX_CALLS     256
#define UC_BATCH_MAX_BYTES     (256u * 1024u)
#define UC_RECONN_MIN_MS       10
#define UC_RECONN_MAX_MS       100
#define UC_REDIAL_MS           3000
#define UC_TABLE_SIZE          4096 /* buckets of the call table */
/* nng's request id of every message we send (raw REQ: ours to choose;
 * usersd answers along it, the tags tell the calls apart). */
#define UC_NNG_ID 0x80000001u

typedef struct uc_rpc uc_rpc;

/* A list of calls (a daemon's queue or sent calls, the waiting, the done). */
typedef struct call_list {
	uc_rpc *head;
	uc_rpc *tail;
	size_t n;
} call_list;

struct uc_rpc {
	uc_client *c;
	uc_rpc *next_free; /* pool free list, under c->mtx */
	uc_rpc *next_all;  /* every call object, for close */
	/* Under c->mtx while the call is in flight. */
	call_list *list; /* the list it is on, or NULL */
	uc_rpc *prev, *next;
	uc_rpc *tnext; /* bucket chain of the table */
	size_t heap_i; /* index in the heap; SIZE_MAX when not in it */
	bool in_table;
	uint32_t tag;
	int daemon;        /* queued or sent there; -1: none */
	nng_time deadline; /* absolute, nng_clock() */
	nng_time due;      /* the keeper's next look: deadline or resend */
	nng_duration resend;
	int fail_code; /* when settled without an answer */
	const char *fail_detail;
	/* Written before the call is queued, read by whoever settles it. */
	const up_method *m;
	uc_callback cb;
	void *arg;
	char request_id[UC_REQUEST_ID_MAX + 1];
	/* The frame: UP_BATCH_HEAD_MAX bytes of room, then the envelope;
	 * the head is written right before the envelope (frame_off). */
	uint8_t *buf;
	size_t buf_cap;
	size_t frame_off, frame_len;
};

/*
 * One configured URL: its socket, dialer and pipe, its queue of calls to
 * send and the calls sent there. The counters are written on the reply
 * path (relaxed atomics, each daemon on cache lines of its own); the rest
 * is under c->mtx unless said.
 */
typedef struct uc_daemon {
	_Alignas(64) atomic_uint_least64_t replies;
	atomic_uint_least64_t failures;
	atomic_int_least64_t last_reply_ms; /* CLOCK_MONOTONIC ms; -1 none */
	atomic_uint_least64_t recv_messages;
	uc_client *c;
	size_t index;
	/* Set at open, then read-only (the dialer: the keeper's alone). */
	nng_socket sock;
	bool sock_open;
	nng_dialer dialer;
	bool dialer_open;
	nng_aio *send_aio;
	nng_aio *recv_aio;
	/* under c->mtx */
	uint32_t pipe_id; /* the connected pipe; 0: none */
	int pipes;
	uint64_t connects;
	uint64_t disconnects;
	nng_time nopipe_since; /* when pipes last became 0 (or open) */
	nng_time last_redial;
	bool redial; /* the keeper is to replace the dialer */
	bool sending;
	bool stopped;  /* daemon_stop: its aios take nothing more */
	bool external; /* carried by c->transport, not nng (set at open) */
	bool kicked;   /* external: told to take, not taken since */
	uint64_t sent_messages;
	uint64_t sent_calls;
	call_list queue; /* to send */
	call_list sent;  /* sent, not yet answered */
} uc_daemon;

struct uc_client {
	uint32_t deadline_ms;
	pthread_mutex_t mtx; /* the transport: everything below but cred */
	pthread_cond_t idle; /* inflight dropped to 0 while closing */
	pthread_cond_t wake; /* the keeper: something to do sooner */
	pthread_rwlock_t cred;
	char *bearer; /* owned copies; NULL when unset (under cred) */
	char *basic_user;
	char *basic_password;
	uc_rpc *free_calls;
	uc_rpc *all_calls;
	size_t inflight; /* calls taken from the pool and not yet put back */
	bool closing;
	atomic_uint next_tag;
	uc_rpc **table; /* UC_TABLE_SIZE buckets */
	uc_rpc **heap;  /* by due */
	size_t heap_len, heap_cap;
	call_list waiting; /* calls waiting for a first connection */
	call_list done;    /* settled at their start: the keeper runs them */
	nng_time opened;
	bool ever_connected;
	int connected; /* daemons with a pipe */
	size_t rr;     /* where the choice of a daemon starts */
	/* The keeper thread. */
	pthread_t keeper;
	bool keeper_started;
	bool keeper_stop;
	nng_time keeper_until;  /* what it sleeps until; 0: not asleep */
	uc_daemon *daemons;     /* n_urls of them (aligned_alloc'd, owned) */
	uc_options dial_opts;   /* copies of what the dialers need (owned) */
	uc_transport transport; /* the caller's (a copy), when has_transport */
	bool has_transport;
	uc_io *io; /* the client's own transport (io.c), when it has one */
};

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
	res->daemon = -1;
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
 * Lists, the table and the heap (all under c->mtx)
 */

static void
list_push(call_list *l, uc_rpc *call)
{
	call->list = l;
	call->next = NULL;
	call->prev = l->tail;
	if (l->tail != NULL) {
		l->tail->next = call;
	} else {
		l->head = call;
	}
	l->tail = call;
	l->n++;
}

static void
list_remove(uc_rpc *call)
{
	call_list *l = call->list;

	if (l == NULL) {
		return;
	}
	if (call->prev != NULL) {
		call->prev->next = call->next;
	} else {
		l->head = call->next;
	}
	if (call->next != NULL) {
		call->next->prev = call->prev;
	} else {
		l->tail = call->prev;
	}
	l->n--;
	call->list = NULL;
	call->prev = call->next = NULL;
}

static uc_rpc **
bucket(uc_client *c, uint32_t tag)
{
	return &c->table[tag & (UC_TABLE_SIZE - 1)];
}

static uc_rpc *
table_find(uc_client *c, uint32_t tag)
{
	uc_rpc *call = *bucket(c, tag);

	while (call != NULL && call->tag != tag) {
		call = call->tnext;
	}
	return call;
}

static void
table_remove(uc_rpc *call)
{
	uc_rpc **pp = bucket(call->c, call->tag);

	if (!call->in_table) {
		return;
	}
	while (*pp != call) {
		pp = &(*pp)->tnext;
	}
	*pp = call->tnext;
	call->tnext = NULL;
	call->in_table = false;
}

static void
heap_swap(uc_client *c, size_t i, size_t j)
{
	uc_rpc *t = c->heap[i];

	c->heap[i] = c->heap[j];
	c->heap[j] = t;
	c->heap[i]->heap_i = i;
	c->heap[j]->heap_i = j;
}

static void
heap_up(uc_client *c, size_t i)
{
	while (i > 0 && c->heap[(i - 1) / 2]->due > c->heap[i]->due) {
		heap_swap(c, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(uc_client *c, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < c->heap_len && c->heap[l]->due < c->heap[m]->due) {
			m = l;
		}
		if (r < c->heap_len && c->heap[r]->due < c->heap[m]->due) {
			m = r;
		}
		if (m == i) {
			return;
		}
		heap_swap(c, i, m);
		i = m;
	}
}

static int
heap_push(uc_client *c, uc_rpc *call)
{
	if (c->heap_len == c->heap_cap) {
		size_t cap = c->heap_cap ? 2 * c->heap_cap : 64;
		uc_rpc **v = realloc(c->heap, cap * sizeof(*v));

		if (v == NULL) {
			return -1;
		}
		c->heap = v;
		c->heap_cap = cap;
	}
	call->heap_i = c->heap_len;
	c->heap[c->heap_len++] = call;
	heap_up(c, call->heap_i);
	return 0;
}

static void
heap_remove(uc_rpc *call)
{
	uc_client *c = call->c;
	size_t i = call->heap_i;

	if (i == SIZE_MAX) {
		return;
	}
	call->heap_i = SIZE_MAX;
	if (i != --c->heap_len) {
		c->heap[i] = c->heap[c->heap_len];
		c->heap[i]->heap_i = i;
		heap_down(c, i);
		heap_up(c, i);
	}
}

/* A call's due time changed (its heap position follows). */
static void
heap_update(uc_rpc *call)
{
	if (call->heap_i != SIZE_MAX) {
		heap_down(call->c, call->heap_i);
		heap_up(call->c, call->heap_i);
	}
}

/* Wakes the keeper when it sleeps past t. Under c->mtx. */
static void
keeper_poke(uc_client *c, nng_time t)
{
	if (c->keeper_until != 0 && t < c->keeper_until) {
		pthread_cond_signal(&c->wake);
	}
}

/*
 * Takes a call out of everything (table, heap, its list) and puts it on
 * out with a failure, for its callback to run after the lock. Under
 * c->mtx.
 */
static void
settle_fail(uc_rpc *call, int code, const char *detail, call_list *out)
{
	table_remove(call);
	heap_remove(call);
	list_remove(call);
	call->daemon = -1;
	call->fail_code = code;
	call->fail_detail = detail;
	list_push(out, call);
}

/* ------------------------------------------------------------------------
 * Sending
 */

/* The connected daemon with the fewest calls (not `not`), or -1. */
static int
daemon_pick(uc_client *c, int not )
{
	size_t n = c->dial_opts.n_urls;
	int best = -1;
	size_t best_load = SIZE_MAX;

	for (size_t k = 0; k < n; k++) {
		size_t i = (c->rr + k) % n;
		uc_daemon *d = &c->daemons[i];
		size_t load = d->queue.n + d->sent.n;

		if (d->pipes > 0 && (int)i != not &&load < best_load) {
			best = (int)i;
			best_load = load;
		}
	}
	c->rr = (c->rr + 1) % n;
	return best;
}

/*
 * How many of daemon d's queued calls the next message carries (at most
 * UC_BATCH_MAX_CALLS and UC_BATCH_MAX_BYTES, at least one) and their
 * bytes. Under c->mtx.
 */
static size_t
batch_size(const uc_daemon *d, size_t *total)
{
	size_t n = 0;

	*total = 0;
	for (const uc_rpc *call = d->queue.head;
	     call != NULL && n < UC_BATCH_MAX_CALLS; call = call->next) {
		if (n > 0 && *total + call->frame_len > UC_BATCH_MAX_BYTES) {
			break;
		}
		*total += call->frame_len;
		n++;
	}
	return n;
}

/*
 * Copies the first n queued calls of daemon d to p, moves them to its
 * sent list (their resend times start now) and counts the message.
 * Under c->mtx.
 */
static void
batch_move(uc_client *c, uc_daemon *d, size_t n, uint8_t *p)
{
	nng_time now = nng_clock();

	d->sending = true;
	d->sent_messages++;
	d->sent_calls += n;
	while (n-- > 0) {
		uc_rpc *call = d->queue.head;

		memcpy(p, call->buf + call->frame_off, call->frame_len);
		p += call->frame_len;
		list_remove(call);
		list_push(&d->sent, call);
		if (c->dial_opts.n_urls > 1 && now + call->resend < call->due) {
			call->due = now + call->resend;
			heap_update(call);
			keeper_poke(c, call->due);
		}
	}
}

/*
 * Sends daemon d's queued calls as one message, unless a send is in flight
 * (and a pipe is up). Under c->mtx; the send completes on an nng thread.
 * A daemon of the caller's transport is told instead (kick, once until it
 * takes them: uc_transport_take).
 */
static void
daemon_flush(uc_client *c, uc_daemon *d)
{
	size_t total, n;
	nng_msg *msg = NULL;

	if (d->sending || d->stopped || d->pipes == 0 || d->queue.n == 0) {
		return;
	}
	if (d->external) {
		if (!d->kicked) {
			d->kicked = true;
			c->transport.kick(c->transport.ctx, d->index);
		}
		return;
	}
	n = batch_size(d, &total);
	if (nng_msg_alloc(&msg, total) != 0 ||
	    nng_msg_header_append_u32(msg, UC_NNG_ID) != 0) {
		if (msg != NULL) {
			nng_msg_free(msg);
		}
		return; /* out of memory: the calls wait for their deadline */
	}
	batch_move(c, d, n, nng_msg_body(msg));
	nng_aio_set_msg(d->send_aio, msg);
	nng_send_aio(d->sock, d->send_aio); /* send_done runs later */
}

/*
 * Puts a call on daemon d's queue and, unless held, sends if it can.
 * Under c->mtx.
 */
static void
daemon_queue(uc_client *c, int d, uc_rpc *call, bool hold)
{
	list_remove(call);
	call->daemon = d;
	list_push(&c->daemons[d].queue, call);
	if (!hold) {
		daemon_flush(c, &c->daemons[d]);
	}
}

/*
 * Every call queued or sent on daemon d, which lost its pipe: to another
 * connected daemon, else UNAVAILABLE onto out. Under c->mtx.
 */
static void
daemon_lost(uc_client *c, uc_daemon *d, call_list *out)
{
	call_list *lists[] = {&d->sent, &d->queue};

	for (size_t k = 0; k < 2; k++) {
		uc_rpc *call;

		while ((call = lists[k]->head) != NULL) {
			int to = daemon_pick(c, (int)d->index);

			if (to < 0) {
				settle_fail(call, UP_UNAVAILABLE,
					    "connection lost", out);
			} else {
				daemon_queue(c, to, call, false);
			}
		}
	}
}

static void run_settled(call_list *l);

/* The client whose answers this thread is running the callbacks of (in
 * recv_done), and the calls those callbacks started: held, flushed after
 * the last callback. */
static _Thread_local uc_client *corked_by;
static _Thread_local size_t corked_calls;

/*
 * The send of daemon d's last message ended: rv 0 (sent), NNG_ECANCELED
 * (its pipe went: the calls moved already), NNG_ECLOSED (the client
 * closes), else not sent.
 */
static void
sent_done(uc_client *c, uc_daemon *d, int rv)
{
	call_list out = {0};

	pthread_mutex_lock(&c->mtx);
	d->sending = false;
	if (rv != 0 && rv != NNG_ECANCELED && rv != NNG_ECLOSED) {
		/* Not sent: what was sent there is in doubt too; every call
		 * moves or fails, as for a lost pipe. */
		daemon_lost(c, d, &out);
	}
	if (rv != NNG_ECLOSED) {
		daemon_flush(c, d);
	}
	pthread_mutex_unlock(&c->mtx);
	run_settled(&out);
}

/* The send of daemon d's last message completed (an nng thread). */
static void
send_done(void *arg)
{
	uc_daemon *d = arg;
	int rv = nng_aio_result(d->send_aio);

	if (rv != 0) {
		nng_msg_free(nng_aio_get_msg(d->send_aio));
		nng_aio_set_msg(d->send_aio, NULL);
	}
	sent_done(d->c, d, rv);
}

/* ------------------------------------------------------------------------
 * Pipes
 */

/* Pipe id of daemon d is up. Under c->mtx. */
static void
daemon_up(uc_client *c, uc_daemon *d, uint32_t id)
{
	uc_rpc *call;

	if (d->pipes++ == 0) {
		c->connected++;
	}
	d->pipe_id = id;
	d->connects++;
	c->ever_connected = true;
	/* Calls that waited for a first connection: here. */
	while ((call = c->waiting.head) != NULL) {
		daemon_queue(c, (int)d->index, call, false);
	}
	daemon_flush(c, d);
}

/*
 * Pipe id of daemon d went away; its calls move or fail onto out when it
 * was the last. Under c->mtx.
 */
static void
daemon_down(uc_client *c, uc_daemon *d, uint32_t id, call_list *out)
{
	if (d->pipes == 0 || (id != d->pipe_id && d->pipes == 1)) {
		return; /* (nng also reports a pipe never added: ignored) */
	}
	d->disconnects++;
	if (--d->pipes == 0) {
		c->connected--;
		d->pipe_id = 0;
		d->nopipe_since = nng_clock();
		if (!d->external) {
			keeper_poke(c, d->nopipe_since + UC_REDIAL_MS);
		}
		daemon_lost(c, d, out);
		if (d->sending && d->external) {
			d->sending = false; /* the caller dropped it */
		} else if (d->sending) {
			/* a message no pipe took yet: back to us */
			nng_aio_cancel(d->send_aio);
		}
	}
}

static void
pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	uc_daemon *d = arg;
	uc_client *c = d->c;
	uint32_t id = (uint32_t)nng_pipe_id(p);
	call_list out = {0};

	pthread_mutex_lock(&c->mtx);
	if (ev == NNG_PIPE_EV_ADD_POST) {
		daemon_up(c, d, id);
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		daemon_down(c, d, id, &out);
	}
	pthread_mutex_unlock(&c->mtx);
	run_settled(&out);
}

/* ------------------------------------------------------------------------
 * Answers
 */

/* Counts a reply from daemon d (the reply path: no lock). */
static void
count_reply(uc_daemon *d, int status)
{
	atomic_fetch_add_explicit(&d->replies, 1, memory_order_relaxed);
	atomic_store_explicit(&d->last_reply_ms, up_mono_ms(),
			      memory_order_relaxed);
	if (up_status_daemon_failure(status)) {
		atomic_fetch_add_explicit(&d->failures, 1,
					  memory_order_relaxed);
	}
}

/*
 * Decodes one answer's envelope into res. Always fills res (status and,
 * for failures, error).
 */
static void
decode_reply(const uc_rpc *call, const uint8_t *buf, size_t len, uc_result *res)
{
	Users__V1__ResponseEnvelope *env;

	env = users__v1__response_envelope__unpack(NULL, len, buf);
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

/* Runs the callbacks of calls settled without an answer. No lock held. */
static void
run_settled(call_list *l)
{
	uc_rpc *call;

	while ((call = l->head) != NULL) {
		uc_result res;

		l->head = call->next;
		call->list = NULL;
		call->prev = call->next = NULL;
		result_fail(&res, call->fail_code, call->fail_detail);
		call_finish(call, &res);
	}
	l->tail = NULL;
	l->n = 0;
}

/* One answer frame, its call taken out of the table (no lock held). */
typedef struct answer {
	uc_rpc *call;
	const uint8_t *env;
	size_t len;
} answer;

/* A message of answers from daemon d (an nng thread, or the caller's
 * transport's). */
static void
answers_run(uc_client *c, uc_daemon *d, const uint8_t *body, size_t size)
{
	answer batch[64];
	up_batch_reader rd;
	int more = 1;

	atomic_fetch_add_explicit(&d->recv_messages, 1, memory_order_relaxed);
	corked_by = c;
	corked_calls = 0;
	up_batch_reader_init(&rd, body, size);
	if (!up_batch_is(body, size)) {
		more = -1; /* not ours: usersd answers batches with batches */
	}
	while (more == 1) {
		size_t n = 0;
		uint32_t tag;
		const uint8_t *env;
		size_t len;

		/* Up to 64 answers per lock. */
		pthread_mutex_lock(&c->mtx);
		while (n < 64 &&
		       (more = up_batch_next(&rd, &tag, &env, &len)) == 1) {
			uc_rpc *call = table_find(c, tag);

			if (call == NULL) {
				continue; /* settled already */
			}
			table_remove(call);
			heap_remove(call);
			list_remove(call);
			call->daemon = -1;
			batch[n++] = (answer){call, env, len};
		}
		pthread_mutex_unlock(&c->mtx);
		for (size_t i = 0; i < n; i++) {
			uc_result res;

			memset(&res, 0, sizeof(res));
			decode_reply(batch[i].call, batch[i].env, batch[i].len,
				     &res);
			res.daemon = (int)(d - c->daemons);
			count_reply(d, res.status);
			call_finish(batch[i].call, &res);
		}
	}
	if (more == -1) {
		/* Answers that cannot be read: their calls end by deadline. */
		atomic_fetch_add_explicit(&d->failures, 1,
					  memory_order_relaxed);
	}
	corked_by = NULL;
	if (corked_calls > 0) {
		uc_client_flush(c);
	}
}

/* A message from daemon d arrived (an nng thread). */
static void
recv_done(void *arg)
{
	uc_daemon *d = arg;
	int rv = nng_aio_result(d->recv_aio);
	nng_msg *msg;

	if (rv != 0) {
		if (rv != NNG_ECLOSED && rv != NNG_ECANCELED) {
			nng_recv_aio(d->sock, d->recv_aio);
		}
		return;
	}
	msg = nng_aio_get_msg(d->recv_aio);
	nng_aio_set_msg(d->recv_aio, NULL);
	nng_recv_aio(d->sock, d->recv_aio); /* the next one meanwhile */
	answers_run(d->c, d, nng_msg_body(msg), nng_msg_len(msg));
	nng_msg_free(msg);
}

/* ------------------------------------------------------------------------
 * The keeper: deadlines, resends, calls settled at their start, redials
 */

static int dial_one(uc_client *c, size_t i);

/* Replaces the dialers marked for it (no lock held: nng calls). */
static void
redial_marked(uc_client *c)
{
	for (size_t i = 0; i < c->dial_opts.n_urls; i++) {
		uc_daemon *d = &c->daemons[i];
		bool go;

		pthread_mutex_lock(&c->mtx);
		go = d->redial;
		d->redial = false;
		pthread_mutex_unlock(&c->mtx);
		if (go) {
			if (d->dialer_open) {
				nng_dialer_close(d->dialer);
				d->dialer_open = false;
			}
			(void)dial_one(c, i); /* tried again in UC_REDIAL_MS */
		}
	}
}

/*
 * One round: calls due, calls waiting past the open grace, redials due.
 * Returns when to look again (0: nothing scheduled) and whether there is
 * work for after the lock (*redials; the settled calls in out). Under
 * c->mtx.
 */
static nng_time
keeper_round(uc_client *c, call_list *out, bool *redials)
{
	nng_time now = nng_clock(), next = 0;
	uc_rpc *call;

	while (c->heap_len > 0 && (call = c->heap[0])->due <= now) {
		int to;

		if (call->due >= call->deadline) {
			if (c->connected > 0) {
				settle_fail(call, UP_DEADLINE_EXCEEDED, NULL,
					    out);
			} else {
				settle_fail(call, UP_UNAVAILABLE,
					    "no daemon connected", out);
			}
			continue;
		}
		/* Its resend time: another daemon, if one is connected. */
		call->due = now + call->resend < call->deadline
				? now + call->resend
				: call->deadline;
		if (call->daemon >= 0 &&
		    call->list == &c->daemons[call->daemon].sent &&
		    (to = daemon_pick(c, call->daemon)) >= 0) {
			daemon_queue(c, to, call, false);
		}
		heap_update(call);
	}
	if (c->heap_len > 0) {
		next = c->heap[0]->due;
	}
	if (c->waiting.n > 0) {
		nng_time end = c->opened + UC_OPEN_GRACE_MS;

		if (now >= end) {
			while ((call = c->waiting.head) != NULL) {
				settle_fail(call, UP_UNAVAILABLE,
					    "no daemon connected", out);
			}
		} else if (next == 0 || end < next) {
			next = end;
		}
	}
	for (size_t i = 0; i < c->dial_opts.n_urls && !c->closing; i++) {
		uc_daemon *d = &c->daemons[i];
		nng_time at = d->nopipe_since + UC_REDIAL_MS;

		if (d->pipes > 0 || d->external) {
			continue; /* (the caller's transport redials itself) */
		}
		if (d->last_redial + UC_REDIAL_MS > at) {
			at = d->last_redial + UC_REDIAL_MS;
		}
		if (at <= now) {
			d->redial = true;
			d->last_redial = now;
			*redials = true;
			at = now + UC_REDIAL_MS;
		}
		if (next == 0 || at < next) {
			next = at;
		}
	}
	/* Calls settled at their start. */
	while ((call = c->done.head) != NULL) {
		list_remove(call);
		list_push(out, call);
	}
	return next;
}

static void *
keeper_main(void *arg)
{
	uc_client *c = arg;

	up_thread_name("uc-keeper");

	pthread_mutex_lock(&c->mtx);
	while (!c->keeper_stop) {
		call_list out = {0};
		bool redials = false;
		nng_time next = keeper_round(c, &out, &redials);

		if (out.n > 0 || redials) {
			pthread_mutex_unlock(&c->mtx);
			run_settled(&out);
			if (redials) {
				redial_marked(c);
			}
			pthread_mutex_lock(&c->mtx);
			continue;
		}
		if (next == 0) {
			c->keeper_until = UINT64_MAX;
			pthread_cond_wait(&c->wake, &c->mtx);
		} else {
			nng_time now = nng_clock();
			struct timespec until;
			uint64_t ms = next > now ? next - now : 0;

			c->keeper_until = next;
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += (time_t)(ms / 1000);
			until.tv_nsec += (long)(ms % 1000) * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&c->wake, &c->mtx, &until);
		}
		c->keeper_until = 0;
	}
	pthread_mutex_unlock(&c->mtx);
	return NULL;
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
	if (!c->closing) {
		if ((call = c->free_calls) != NULL) {
			c->free_calls = call->next_free;
		} else if ((call = calloc(1, sizeof(*call))) != NULL) {
			call->c = c;
			call->next_all = c->all_calls;
			c->all_calls = call;
		}
		if (call != NULL) {
			c->inflight++;
		}
	}
	pthread_mutex_unlock(&c->mtx);
	if (call != NULL) {
		call->heap_i = SIZE_MAX;
		call->daemon = -1;
	}
	return call;
}

/* Returns a call to the pool (its frame wiped: it may hold a password). */
static void
call_put(uc_rpc *call)
{
	uc_client *c = call->c;

	if (call->buf != NULL) {
		explicit_bzero(call->buf, call->frame_off + call->frame_len);
	}
	call->frame_len = 0;
	pthread_mutex_lock(&c->mtx);
	call->next_free = c->free_calls;
	c->free_calls = call;
	c->inflight--;
	if (c->inflight == 0 && c->closing) {
		pthread_cond_broadcast(&c->idle);
	}
	pthread_mutex_unlock(&c->mtx);
}

/* Makes the call's buffer at least n bytes (its old bytes wiped). */
static int
call_buf(uc_rpc *call, size_t n)
{
	uint8_t *b;

	if (n <= call->buf_cap) {
		return 0;
	}
	if ((b = malloc(n)) == NULL) {
		return -1;
	}
	if (call->buf != NULL) {
		explicit_bzero(call->buf, call->buf_cap);
		free(call->buf);
	}
	call->buf = b;
	call->buf_cap = n;
	return 0;
}

/*
 * Packs the call's envelope into its buffer, after UP_BATCH_HEAD_MAX
 * bytes of room for the frame's head: the envelope's fields, then the
 * request packed in place as its payload (field 6), not copied.
 * anonymous: send no credentials (Authenticate from uc_login).
 */
static int
pack_envelope(uc_client *c, uc_rpc *call, const ProtobufCMessage *request,
	      const uc_call_opts *opts, bool anonymous, uint32_t deadline_ms)
{
	Users__V1__RequestEnvelope env = USERS__V1__REQUEST_ENVELOPE__INIT;
	Users__V1__BasicCredentials basic = USERS__V1__BASIC_CREDENTIALS__INIT;
	size_t plen = protobuf_c_message_get_packed_size(request);
	size_t elen, n;
	uint8_t *p;
	int rc = 0;

	env.method = (char *)call->m->desc->name;
	env.request_id = call->request_id;
	env.has_deadline_ms = true;
	env.deadline_ms = deadline_ms;

	/* The envelope borrows the client's credentials while packing. */
	pthread_rwlock_rdlock(&c->cred);
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
	n = elen + 1 + up_varint_len(plen) + plen;
	if (call_buf(call, UP_BATCH_HEAD_MAX + n) != 0) {
		rc = UP_RESOURCE_EXHAUSTED;
	} else {
		p = call->buf + UP_BATCH_HEAD_MAX;
		p += users__v1__request_envelope__pack(&env, p);
		uint64_t v = plen;

		*p++ = (6 << 3) | 2; /* payload: length-delimited */
		for (; v >= 0x80; v >>= 7) {
			*p++ = (uint8_t)(v | 0x80);
		}
		*p++ = (uint8_t)v;
		protobuf_c_message_pack(request, p);
		call->frame_len = n;
	}
	pthread_rwlock_unlock(&c->cred);
	return rc;
}

/* The resend time of a call with this deadline: half of it, 50 ms..1 s. */
static nng_duration
resend_time(uint32_t deadline_ms)
{
	nng_duration r = (nng_duration)(deadline_ms / 2);

	if (r > UC_RESEND_MAX_MS) {
		r = UC_RESEND_MAX_MS;
	}
	return r < UC_RESEND_MIN_MS ? UC_RESEND_MIN_MS : r;
}

/*
 * Writes the frame's head before the envelope with a tag no call in
 * flight has, and puts the call in the table and the heap. Under c->mtx.
 */
static int
call_enter(uc_client *c, uc_rpc *call)
{
	uint8_t head[UP_BATCH_HEAD_MAX];
	size_t h;

	do {
		call->tag = atomic_fetch_add(&c->next_tag, 1);
	} while (call->tag == 0 || table_find(c, call->tag) != NULL);
	if (heap_push(c, call) != 0) {
		return UP_RESOURCE_EXHAUSTED;
	}
	h = up_batch_frame_head(head, call->tag, call->frame_len);
	call->frame_off = UP_BATCH_HEAD_MAX - h;
	memcpy(call->buf + call->frame_off, head, h);
	call->frame_len += h;
	call->tnext = *bucket(c, call->tag);
	*bucket(c, call->tag) = call;
	call->in_table = true;
	return 0;
}

static int
call_start(uc_client *c, const char *method, const ProtobufCMessage *request,
	   const uc_call_opts *opts, bool anonymous, uc_callback cb, void *arg)
{
	const up_method *m;
	uc_rpc *call = NULL;
	uint32_t deadline_ms;
	bool closing = false;
	int d, rc;

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
		deadline_ms = UC_MAX_DEADLINE_MS;
	}

	call = call_get(c, &closing);
	if (call == NULL) {
		return closing ? UP_CANCELLED : UP_RESOURCE_EXHAUSTED;
	}
	call->m = m;
	call->cb = cb;
	call->arg = arg;
	call->resend = resend_time(deadline_ms);
	if (opts != NULL && opts->request_id != NULL) {
		snprintf(call->request_id, sizeof(call->request_id), "%s",
			 opts->request_id);
	} else if (uc_request_id_new(call->request_id,
				     sizeof(call->request_id)) != 0) {
		rc = UP_INTERNAL;
		goto fail;
	}
	rc = pack_envelope(c, call, request, opts, anonymous, deadline_ms);
	if (rc != 0) {
		goto fail;
	}
	call->deadline = nng_clock() + deadline_ms;
	call->due = call->deadline;

	pthread_mutex_lock(&c->mtx);
	if ((rc = call_enter(c, call)) != 0) {
		pthread_mutex_unlock(&c->mtx);
		goto fail;
	}
	keeper_poke(c, call->due);
	if ((d = daemon_pick(c, -1)) >= 0) {
		bool hold = (opts != NULL && opts->hold) || corked_by == c;

		corked_calls += corked_by == c;
		daemon_queue(c, d, call, hold);
	} else if (!c->ever_connected &&
		   nng_clock() < c->opened + UC_OPEN_GRACE_MS) {
		/* Right after open: the first dials are still running. */
		list_push(&c->waiting, call);
		keeper_poke(c, c->opened + UC_OPEN_GRACE_MS);
	} else {
		/* Nothing waits on a dead daemon. Not on this thread: the
		 * callback never runs on the caller's. */
		settle_fail(call, UP_UNAVAILABLE, "no daemon connected",
			    &c->done);
		keeper_poke(c, 0);
	}
	pthread_mutex_unlock(&c->mtx);
	return 0; /* from now on the callback runs, exactly once */
fail:
	call->cb = NULL;
	call->arg = NULL;
	call_put(call);
	return rc;
}

UC_API void
uc_client_flush(uc_client *c)
{
	if (c == NULL) {
		return;
	}
	pthread_mutex_lock(&c->mtx);
	for (size_t i = 0; i < c->dial_opts.n_urls; i++) {
		daemon_flush(c, &c->daemons[i]);
	}
	pthread_mutex_unlock(&c->mtx);
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
		/* Bounded: the keeper ends the call by its deadline. */
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
	pthread_rwlock_wrlock(&c->cred);
	free_secret(c->bearer);
	c->bearer = t;
	pthread_rwlock_unlock(&c->cred);
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
	pthread_rwlock_wrlock(&c->cred);
	free(c->basic_user);
	free_secret(c->basic_password);
	c->basic_user = u;
	c->basic_password = p;
	pthread_rwlock_unlock(&c->cred);
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

/*
 * Creates and starts daemon i's dialer on its socket (at open, and when
 * the keeper replaces it).
 */
static int
dial_one(uc_client *c, size_t i)
{
	const uc_options *o = &c->dial_opts;
	const char *url = o->urls[i];
	uc_daemon *d = &c->daemons[i];
	nng_tls_config *cfg = NULL;
	nng_dialer dl;
	int rv;

	if ((rv = nng_dialer_create(&dl, d->sock, url)) != 0) {
		return rv;
	}
	if (strncmp(url, "tls+", 4) == 0) {
		if ((rv = tls_config(o, url, &cfg)) != 0) {
			goto fail;
		}
		/* The dialer holds its own reference. */
		rv = nng_dialer_set_ptr(dl, NNG_OPT_TLS_CONFIG, cfg);
		nng_tls_config_free(cfg);
		if (rv != 0) {
			goto fail;
		}
	}
	if ((rv = nng_dialer_start(dl, NNG_FLAG_NONBLOCK)) != 0) {
		goto fail;
	}
	d->dialer = dl;
	d->dialer_open = true;
	return 0;
fail:
	nng_dialer_close(dl);
	return rv;
}

/* ------------------------------------------------------------------------
 * The caller's transport (usersclient.h, "Transports of the caller's own")
 */

/* Daemon i when it is the caller's transport's, else NULL. */
static uc_daemon *
external_daemon(uc_client *c, size_t i)
{
	if (c == NULL || i >= c->dial_opts.n_urls || !c->daemons[i].external) {
		return NULL;
	}
	return &c->daemons[i];
}

UC_API int
uc_transport_take(uc_client *c, size_t daemon, uint8_t **body, size_t *len)
{
	uc_daemon *d = external_daemon(c, daemon);
	size_t total, n;
	uint8_t *p;
	int rc = 0;

	if (d == NULL || body == NULL || len == NULL) {
		return UP_INVALID_ARGUMENT;
	}
	pthread_mutex_lock(&c->mtx);
	d->kicked = false;
	if (d->sending || d->stopped || d->pipes == 0 || d->queue.n == 0) {
		goto out;
	}
	n = batch_size(d, &total);
	if ((p = malloc(total)) == NULL) {
		rc = UP_RESOURCE_EXHAUSTED; /* the calls wait for deadline */
		goto out;
	}
	batch_move(c, d, n, p);
	*body = p;
	*len = total;
	rc = 1;
out:
	pthread_mutex_unlock(&c->mtx);
	return rc;
}

UC_API void
uc_transport_sent(uc_client *c, size_t daemon, bool ok)
{
	uc_daemon *d = external_daemon(c, daemon);

	if (d != NULL) {
		sent_done(c, d, ok ? 0 : NNG_ECONNSHUT);
	}
}

UC_API void
uc_transport_up(uc_client *c, size_t daemon)
{
	uc_daemon *d = external_daemon(c, daemon);

	if (d == NULL) {
		return;
	}
	pthread_mutex_lock(&c->mtx);
	d->kicked = false; /* the caller takes what is queued once up */
	if (d->pipes == 0) {
		daemon_up(c, d, (uint32_t)(d->connects + 1));
	}
	pthread_mutex_unlock(&c->mtx);
}

UC_API void
uc_transport_down(uc_client *c, size_t daemon)
{
	uc_daemon *d = external_daemon(c, daemon);
	call_list out = {0};

	if (d == NULL) {
		return;
	}
	pthread_mutex_lock(&c->mtx);
	d->kicked = false;
	daemon_down(c, d, d->pipe_id, &out);
	pthread_mutex_unlock(&c->mtx);
	run_settled(&out);
}

UC_API void
uc_transport_received(uc_client *c, size_t daemon, const uint8_t *body,
		      size_t len)
{
	uc_daemon *d = external_daemon(c, daemon);

	if (d != NULL && body != NULL) {
		answers_run(c, d, body, len);
	}
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
	out->sent_messages = dm->sent_messages;
	out->sent_calls = dm->sent_calls;
	pthread_mutex_unlock(&c->mtx);
	out->recv_messages =
	    atomic_load_explicit(&dm->recv_messages, memory_order_relaxed);
	out->connected = out->pipes > 0;
	out->replies = atomic_load_explicit(&dm->replies, memory_order_relaxed);
	out->failures =
	    atomic_load_explicit(&dm->failures, memory_order_relaxed);
	last = atomic_load_explicit(&dm->last_reply_ms, memory_order_relaxed);
	out->last_reply_ms = last;
	if (last < 0) {
		out->last_reply_age_ms = -1;
	} else {
		int64_t age = up_mono_ms() - last;

		out->last_reply_age_ms = age > 0 ? age : 0;
	}
	return 0;
}

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

/*
 * Stops daemon i's transport: no callback of its runs after this, and no
 * message of ours is left in an aio. Not under c->mtx.
 */
static void
daemon_stop(uc_client *c, uc_daemon *d)
{
	if (d->external) {
		pthread_mutex_lock(&c->mtx);
		d->stopped = true; /* never kicked again */
		pthread_mutex_unlock(&c->mtx);
		return;
	}
	if (!d->sock_open) {
		return;
	}
	/*
	 * Nothing more is sent: nng refuses an operation on a stopped aio
	 * without running its callback, so a message handed to one after
	 * the stop would stay in it (a flush from the caller's thread, or
	 * from the cancelled send's own callback).
	 */
	pthread_mutex_lock(&c->mtx);
	d->stopped = true;
	pthread_mutex_unlock(&c->mtx);
	/* Pipe callbacks use c: none from now on. */
	nng_pipe_notify(d->sock, NNG_PIPE_EV_ADD_POST, NULL, NULL);
	nng_pipe_notify(d->sock, NNG_PIPE_EV_REM_POST, NULL, NULL);
	if (d->recv_aio != NULL) {
		nng_aio_stop(d->recv_aio); /* a message it got is freed */
	}
	if (d->send_aio != NULL) {
		nng_aio_stop(d->send_aio); /* one not taken comes back, freed */
	}
	if (d->dialer_open) {
		nng_dialer_close(d->dialer);
		d->dialer_open = false;
	}
}

/* Frees a client; safe on a half-built one. No call may be in flight. */
static void
client_free(uc_client *c)
{
	uc_rpc *call;

	if (c->keeper_started) { /* first: it may be replacing a dialer */
		pthread_mutex_lock(&c->mtx);
		c->keeper_stop = true;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->mtx);
		pthread_join(c->keeper, NULL);
	}
	for (size_t i = 0; c->daemons != NULL && i < c->dial_opts.n_urls; i++) {
		daemon_stop(c, &c->daemons[i]);
	}
	for (size_t i = 0; c->daemons != NULL && i < c->dial_opts.n_urls; i++) {
		uc_daemon *d = &c->daemons[i];

		if (d->sock_open) {
			nng_close(d->sock);
		}
		nng_aio_free(d->recv_aio);
		nng_aio_free(d->send_aio);
	}
	uc_io_free(c->io); /* detached already, or never started */
	c->io = NULL;
	while ((call = c->all_calls) != NULL) {
		c->all_calls = call->next_all;
		if (call->buf != NULL) {
			explicit_bzero(call->buf, call->buf_cap);
			free(call->buf);
		}
		free(call);
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
	free(c->daemons);
	free(c->table);
	free(c->heap);
	free_secret(c->bearer);
	free(c->basic_user);
	free_secret(c->basic_password);
	pthread_rwlock_destroy(&c->cred);
	pthread_cond_destroy(&c->wake);
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

/* Whether the client's own transport carries a daemon. */
static bool
io_used(const uc_client *c)
{
	for (size_t i = 0; i < c->dial_opts.n_urls; i++) {
		if (c->daemons[i].external) {
			return true;
		}
	}
	return false;
}

/* Opens daemon i's socket (raw REQ), its aios and its dialer. */
static int
daemon_open(uc_client *c, size_t i)
{
	uc_daemon *d = &c->daemons[i];
	int rv;

	if (c->has_transport &&
	    c->transport.carries(c->transport.ctx, i, c->dial_opts.urls[i])) {
		d->external = true; /* no socket: the caller's transport */
		return 0;
	}
	if ((rv = nng_req0_open_raw(&d->sock)) != 0) {
		return rv;
	}
	d->sock_open = true;
	if ((rv = nng_socket_set_size(d->sock, NNG_OPT_RECVMAXSZ,
				      UC_MAX_REPLY)) != 0 ||
	    (rv = nng_socket_set_ms(d->sock, NNG_OPT_RECONNMINT,
				    UC_RECONN_MIN_MS)) != 0 ||
	    (rv = nng_socket_set_ms(d->sock, NNG_OPT_RECONNMAXT,
				    UC_RECONN_MAX_MS)) != 0 ||
	    (rv = nng_pipe_notify(d->sock, NNG_PIPE_EV_ADD_POST, pipe_event,
				  d)) != 0 ||
	    (rv = nng_pipe_notify(d->sock, NNG_PIPE_EV_REM_POST, pipe_event,
				  d)) != 0 ||
	    (rv = nng_aio_alloc(&d->send_aio, send_done, d)) != 0 ||
	    (rv = nng_aio_alloc(&d->recv_aio, recv_done, d)) != 0) {
		return rv;
	}
	nng_recv_aio(d->sock, d->recv_aio);
	return dial_one(c, i);
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
	pthread_rwlock_init(&c->cred, NULL);
	{
		pthread_condattr_t ca;

		/* the keeper's timed waits: on the monotonic clock */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&c->wake, &ca);
		pthread_condattr_destroy(&ca);
	}
	c->deadline_ms =
	    opts->deadline_ms != 0 ? opts->deadline_ms : UC_DEFAULT_DEADLINE_MS;
	c->opened = nng_clock();
	atomic_init(&c->next_tag, 1);
	c->table = calloc(UC_TABLE_SIZE, sizeof(*c->table));
	c->daemons = aligned_alloc(_Alignof(uc_daemon),
				   opts->n_urls * sizeof(uc_daemon));
	if (c->table == NULL || c->daemons == NULL) {
		rv = NNG_ENOMEM;
		goto fail;
	}
	memset(c->daemons, 0, opts->n_urls * sizeof(uc_daemon));
	for (size_t i = 0; i < opts->n_urls; i++) {
		uc_daemon *d = &c->daemons[i];

		atomic_init(&d->replies, 0);
		atomic_init(&d->failures, 0);
		atomic_init(&d->last_reply_ms, -1);
		atomic_init(&d->recv_messages, 0);
		d->c = c;
		d->index = i;
		d->nopipe_since = c->opened;
	}
	if ((rv = copy_dial_opts(&c->dial_opts, opts)) != 0) {
		goto fail;
	}
	if (opts->transport != NULL) {
		if (opts->transport->carries == NULL ||
		    opts->transport->kick == NULL ||
		    opts->transport->detach == NULL) {
			rv = NNG_EINVAL;
			goto fail;
		}
		c->transport = *opts->transport;
		c->has_transport = true;
	} else if (!opts->hop_nng) {
		/* Our own connections for ipc:// and tcp:// (io.c). */
		if (uc_io_new(&c->io, opts->n_urls, UC_MAX_REPLY) != 0) {
			rv = NNG_ENOMEM;
			goto fail;
		}
		c->transport = *uc_io_transport(c->io);
		c->has_transport = true;
	}
	for (size_t i = 0; i < opts->n_urls; i++) {
		if ((rv = daemon_open(c, i)) != 0) {
			failed_url = i;
			goto fail;
		}
	}
	if (c->io != NULL && !io_used(c)) {
		uc_io_free(c->io); /* every daemon is nng's: no thread */
		c->io = NULL;
		c->has_transport = false;
	}
	if (pthread_create(&c->keeper, NULL, keeper_main, c) != 0) {
		rv = NNG_ENOMEM;
		goto fail;
	}
	c->keeper_started = true;
	if (c->io != NULL && uc_io_start(c->io, c) != 0) {
		rv = NNG_ENOMEM;
		goto fail;
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

	up_thread_name("uc-closer");

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
	if (c->has_transport) {
		/* Nothing is in flight: the caller's transport lets go of c
		 * (its daemons are never kicked again: stopped first). */
		for (size_t i = 0; i < c->dial_opts.n_urls; i++) {
			if (c->daemons[i].external) {
				daemon_stop(c, &c->daemons[i]);
			}
		}
		c->transport.detach(c->transport.ctx);
	}

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
	if (!j->done) {
		fprintf(stderr,
			"usersclient: closing the connections took "
			"more than %d ms (nng); left to finish in the "
			"background\n",
			UC_CLOSE_WAIT_MS);
	}
	pthread_mutex_unlock(&j->mtx);
	close_job_release(j);
}
