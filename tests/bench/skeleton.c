/*
 * skeleton.c - the second gateway reference: the bare skeleton of usersgw's
 * path, h2o -> nng ipc -> an echo server -> h2o, with no work besides.
 * usersgw's figures are divided by it (tests/bench/run): the ratio is what
 * the gateway's own work (routing, auth, codecs) and usersd cost.
 *
 *   skeleton [--port P] [--threads N] [--daemon URL] [--timeout MS]
 *            [--no-pool]
 *   skeleton --echo URL [--contexts N]
 *
 * Gateway mode (the first form): h2o on 127.0.0.1:P (default 0: an
 * ephemeral port), one loop thread by default. Every request becomes one
 * nng REQ call over one socket dialled to URL: the request body (PATCH,
 * POST...) or, without a body (GET), the fixed 259-byte record of h2o_bare
 * goes out, the echo comes back and is the 200 answer. Without --daemon
 * the echo server runs in a child process (forked before any nng or h2o
 * call, as usersd runs apart from usersgw) on ipc:///tmp/skeleton.PID.sock.
 * Prints "skeleton: ready port=P threads=N"; on SIGTERM or SIGINT stops,
 * prints "skeleton: R requests, E errors, D late replies dropped" on
 * stderr and exits 0 (1 when it cannot start, 2 on a usage error).
 *
 * Echo mode (--echo URL): only the echo server, REP with N contexts
 * (default 64), until SIGTERM or SIGINT.
 *
 * One request, built the way a gateway should be built (docs/architecture.md,
 * section 4.1: the loop never blocks; an nng callback only posts):
 *
 *   loop thread: on_req -> job (in req->pool) -> ctx send       [aio timeout]
 *   nng thread:  send done -> ctx recv; recv done -> post the job to the
 *                request's loop (h2o_multithread_send_message); nothing
 *                else, never the request
 *   loop thread: on_rpc_messages -> answer the request (if it still
 *                exists) -> release the job
 *
 * Lifetime: the job is a refcounted h2o shared object linked to req->pool.
 * References: the request's pool; a watch (a second small shared object
 * in req->pool whose dispose marks the job's request gone: h2o clears a
 * pool's shared objects in an order we do not rely on, so the watch holds
 * its own reference); and the RPC, from the send until the loop thread has
 * taken the posted message. So a request that goes away first (an HTTP/2
 * stream reset, a closed connection) leaves a job that lives until its
 * reply is delivered, and the late reply is dropped. The message lives in
 * the job. The job's dispose (loop thread, last reference) frees an unused
 * reply and gives the call's nng_ctx + nng_aio back to the loop thread's
 * pool (as libusersclient pools its calls): each request in flight has a
 * context and an aio of its own, and none is opened per request once the
 * pool is warm (--no-pool: opened and freed per request, for comparison;
 * nng_aio_free waits for a callback still returning).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "skel_echo.h"
#include "skel_server.h"
#include "users_proto.h"
#include "bench_sys.h"

#define DEFAULT_TIMEOUT_MS 5000u
#define DEFAULT_CONTEXTS   64u
#define MAX_CONTEXTS       4096u
#define MAX_MSG            (SKEL_MAX_BODY + 1024u)
#define TEARDOWN_SECS      5
#define CHILD_READY_SECS   10
#define MAX_FREE_SLOTS     4096u

typedef struct gateway {
	nng_socket sock;
	bool sock_open;
	nng_duration timeout_ms;
	bool pool;         /* reuse contexts (--no-pool: one per request) */
	uint64_t requests; /* totals, added by thread_fini (main thread) */
	uint64_t errors;
	uint64_t dropped;
} gateway;

typedef struct job job;

/*
 * One nng_ctx + nng_aio: the RPC of one request at a time. Pooled per loop
 * thread: opening and closing a context per request takes nng's socket
 * lock twice more per request, which the nng threads contend for.
 */
typedef struct rpc_slot {
	struct rpc_slot *next_free; /* loop thread */
	job *job;       /* set by the loop thread before each send */
	bool receiving; /* nng side, per call */
	nng_ctx ctx;
	bool ctx_open;
	nng_aio *aio;
} rpc_slot;

/* Per loop thread; touched only by that thread (main: after it stopped). */
typedef struct gw_thread {
	gateway *gw;
	h2o_multithread_receiver_t receiver; /* replies of this loop's jobs */
	rpc_slot *free_slots;
	unsigned n_free;
	bool pool;
	uint64_t requests;
	uint64_t errors;  /* answered with 503/504 */
	uint64_t dropped; /* replies for requests that were gone */
} gw_thread;

struct job {
	h2o_req_t *req;    /* NULL once the request is gone (loop only) */
	gw_thread *thread; /* the request's loop thread */
	rpc_slot *slot;    /* the call's context and aio */
	h2o_multithread_message_t message; /* posted when the RPC is done */
	/* Written on the nng side; read by the loop once the message came. */
	int rv;
	nng_msg *reply;
};

typedef struct req_watch {
	job *j;
} req_watch;

/* ------------------------------------------------------------------------
 * RPC slots (loop thread)
 */

static void rpc_done(void *arg);

static void
slot_free(rpc_slot *s)
{
	if (s->aio != NULL) {
		nng_aio_free(s->aio); /* waits for a callback still returning */
	}
	if (s->ctx_open) {
		nng_ctx_close(s->ctx);
	}
	free(s);
}

/* A slot from t's pool or a new one; NULL with *rv set on failure. */
static rpc_slot *
slot_get(gw_thread *t, int *rv)
{
	rpc_slot *s = t->free_slots;

	if (s != NULL) {
		t->free_slots = s->next_free;
		t->n_free--;
		return s;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		*rv = NNG_ENOMEM;
		return NULL;
	}
	if ((*rv = nng_ctx_open(&s->ctx, t->gw->sock)) != 0) {
		slot_free(s);
		return NULL;
	}
	s->ctx_open = true;
	if ((*rv = nng_aio_alloc(&s->aio, rpc_done, s)) != 0) {
		slot_free(s);
		return NULL;
	}
	nng_aio_set_timeout(s->aio, t->gw->timeout_ms);
	return s;
}

/*
 * Back to t's pool, once its callback has posted its last message (it may
 * still be returning: it touches neither the slot nor the job any more,
 * and nng lets an aio start its next operation meanwhile).
 */
static void
slot_put(gw_thread *t, rpc_slot *s)
{
	s->job = NULL;
	if (!t->pool || t->n_free >= MAX_FREE_SLOTS) {
		slot_free(s);
		return;
	}
	s->next_free = t->free_slots;
	t->free_slots = s;
	t->n_free++;
}

/* ------------------------------------------------------------------------
 * The job
 */

/* Loop thread, last reference gone. Safe on a half-built job. */
static void
job_dispose(void *arg)
{
	job *j = arg;

	if (j->slot != NULL) {
		slot_put(j->thread, j->slot);
	}
	if (j->reply != NULL) {
		nng_msg_free(j->reply);
	}
}

/* Loop thread: req->pool is being cleared. */
static void
on_req_gone(void *arg)
{
	req_watch *w = arg;

	w->j->req = NULL;
	h2o_mem_release_shared(w->j);
}

/* nng thread. Touches the call's nng side only; the post is the last. */
static void
rpc_done(void *arg)
{
	rpc_slot *s = arg;
	job *j = s->job;
	int rv = nng_aio_result(s->aio);

	if (!s->receiving) {
		if (rv == 0) {
			s->receiving = true;
			nng_ctx_recv(s->ctx, s->aio);
			return;
		}
		/* After a failed send the message is still ours. */
		nng_msg_free(nng_aio_get_msg(s->aio));
		nng_aio_set_msg(s->aio, NULL);
	} else if (rv == 0) {
		j->reply = nng_aio_get_msg(s->aio);
		nng_aio_set_msg(s->aio, NULL);
	}
	j->rv = rv;
	h2o_multithread_send_message(&j->thread->receiver, &j->message);
}

static void
respond_error(h2o_req_t *req, int rv)
{
	static const char unavailable[] =
	    "{\"responseStatus\":{\"errorCode\":\"Unavailable\"}}";
	static const char deadline[] =
	    "{\"responseStatus\":{\"errorCode\":\"DeadlineExceeded\"}}";

	if (rv == NNG_ETIMEDOUT) {
		skel_respond(req, 504, "Gateway Timeout", deadline,
			     sizeof(deadline) - 1);
	} else {
		skel_respond(req, 503, "Service Unavailable", unavailable,
			     sizeof(unavailable) - 1);
	}
}

/* Loop thread: the replies of this loop's jobs. */
static void
on_rpc_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
	gw_thread *t = H2O_STRUCT_FROM_MEMBER(gw_thread, receiver, receiver);

	while (!h2o_linklist_is_empty(messages)) {
		job *j =
		    H2O_STRUCT_FROM_MEMBER(job, message.link, messages->next);

		h2o_linklist_unlink(&j->message.link);
		if (j->req == NULL) {
			t->dropped++;
		} else {
			if (j->rv == 0) {
				skel_respond(j->req, 200, "OK",
					     nng_msg_body(j->reply),
					     nng_msg_len(j->reply));
			} else {
				t->errors++;
				respond_error(j->req, j->rv);
			}
		}
		h2o_mem_release_shared(j); /* the RPC's reference */
	}
}

/* Loop thread. */
static int
on_req(h2o_handler_t *self, h2o_req_t *req)
{
	gw_thread *t = skel_thread_of(req)->user;
	const void *body = skel_fixed_body;
	size_t len = skel_fixed_body_len;
	nng_msg *msg = NULL;
	req_watch *w;
	job *j;
	int rv;

	(void)self;
	t->requests++;
	if (req->entity.base != NULL) {
		body = req->entity.base;
		len = req->entity.len;
	}
	/* h2o_mem_alloc_shared aborts on OOM, as all of h2o does. */
	j = h2o_mem_alloc_shared(&req->pool, sizeof(*j), job_dispose);
	memset(j, 0, sizeof(*j));
	j->req = req;
	j->thread = t;
	w = h2o_mem_alloc_shared(&req->pool, sizeof(*w), on_req_gone);
	w->j = j;
	h2o_mem_addref_shared(j); /* the watch's reference */

	if ((rv = nng_msg_alloc(&msg, 0)) != 0 ||
	    (rv = nng_msg_append(msg, body, len)) != 0 ||
	    (j->slot = slot_get(t, &rv)) == NULL) {
		goto fail;
	}
	j->slot->job = j;
	j->slot->receiving = false;
	nng_aio_set_msg(j->slot->aio, msg);
	h2o_mem_addref_shared(j); /* the RPC's, until the message is taken */
	nng_ctx_send(j->slot->ctx, j->slot->aio);
	return 0;
fail:
	if (msg != NULL) {
		nng_msg_free(msg);
	}
	t->errors++;
	respond_error(req, rv);
	return 0;
}

static int
thread_init(skel_thread *st, void *arg)
{
	gw_thread *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		fprintf(stderr, "skeleton: out of memory\n");
		return -1;
	}
	t->gw = arg;
	t->pool = t->gw->pool;
	h2o_multithread_register_receiver(st->ctx.queue, &t->receiver,
					  on_rpc_messages);
	st->user = t;
	return 0;
}

/* Main thread, the loop has stopped. t stays: jobs may still post to its
 * receiver until the socket is closed. */
static void
thread_fini(skel_thread *st, void *arg)
{
	gateway *gw = arg;
	const gw_thread *t = st->user;

	if (t != NULL) {
		gw->requests += t->requests;
		gw->errors += t->errors;
		gw->dropped += t->dropped;
	}
}

/* ------------------------------------------------------------------------
 * Process plumbing
 */

/*
 * Echo child of gateway mode: serves url, writes "ok\n" (or "fail\n") to
 * ready_fd, serves until ctl_fd reaches EOF (the parent closed it or died;
 * SIGTERM also ends it), then exits.
 */
static void
echo_child(const char *url, unsigned contexts, int ready_fd, int ctl_fd)
{
	skel_echo *e = NULL;
	sigset_t set;
	ssize_t r;
	char c;
	int rc;

	/* SIGTERM ends the child; ^C is for the parent, which then stops us. */
	signal(SIGINT, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	rc = skel_echo_start(&e, url, contexts, MAX_MSG) == 0 ? 0 : 1;
	if (write(ready_fd, rc == 0 ? "ok\n" : "fail\n", rc == 0 ? 3 : 5) < 0) {
		rc = 1;
	}
	close(ready_fd);
	while (rc == 0 &&
	       ((r = read(ctl_fd, &c, 1)) > 0 || (r < 0 && errno == EINTR))) {
	}
	bench_watchdog("skeleton", TEARDOWN_SECS, rc);
	skel_echo_free(e);
	_exit(rc);
}

/* 0 once the child wrote "ok" within CHILD_READY_SECS; -1 otherwise. */
static int
wait_child_ready(int fd)
{
	char buf[8];
	size_t got = 0;
	ssize_t r;

	/* A blocking read: the child writes once and closes, or dies. */
	bench_watchdog("skeleton", CHILD_READY_SECS, 1);
	while (got < sizeof(buf) - 1) {
		r = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (r > 0) {
			got += (size_t)r;
		} else if (r == 0 || errno != EINTR) {
			break;
		}
	}
	bench_watchdog_off();
	buf[got] = '\0';
	return strncmp(buf, "ok\n", 3) == 0 ? 0 : -1;
}

/* EOF on the child's control pipe, then a bounded wait, then SIGKILL. */
static void
stop_child(pid_t pid, int ctl_fd)
{
	unsigned waited = 0;
	int status;

	if (ctl_fd >= 0) {
		close(ctl_fd);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (waited >= (TEARDOWN_SECS + 1) * 1000) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		bench_sleep_ms(5);
		waited += 5;
	}
}

static int
gateway_open(gateway *gw, const char *url, nng_duration timeout_ms)
{
	int rv;

	gw->timeout_ms = timeout_ms;
	if ((rv = nng_req0_open(&gw->sock)) != 0) {
		fprintf(stderr, "skeleton: req0_open: %s\n", nng_strerror(rv));
		return -1;
	}
	gw->sock_open = true;
	/*
	 * No resend: each call is answered once or fails at its timeout.
	 * Dial in the background, as a gateway that may start before its
	 * daemon does.
	 */
	if ((rv = nng_socket_set_ms(gw->sock, NNG_OPT_REQ_RESENDTIME,
				    NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_socket_set_size(gw->sock, NNG_OPT_RECVMAXSZ, MAX_MSG)) !=
		0 ||
	    (rv = nng_dial(gw->sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		fprintf(stderr, "skeleton: dial %s: %s\n", url,
			nng_strerror(rv));
		return -1;
	}
	return 0;
}

static int
run_echo(const char *url, unsigned contexts)
{
	skel_echo *e = NULL;

	if (skel_echo_start(&e, url, contexts, MAX_MSG) != 0) {
		return 1;
	}
	printf("skeleton: echo ready %s\n", url);
	fflush(stdout);
	skel_wait_signal();
	bench_watchdog("skeleton", TEARDOWN_SECS, 0);
	skel_echo_free(e);
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: skeleton [--port P] [--threads N] [--daemon URL] "
		"[--timeout MS] [--no-pool]\n"
		"       skeleton --echo URL [--contexts N]\n"
		"  defaults: an ephemeral port of 127.0.0.1, 1 thread, an "
		"echo child process, %u ms, %u contexts\n",
		DEFAULT_TIMEOUT_MS, DEFAULT_CONTEXTS);
}

int
main(int argc, char **argv)
{
	static gateway gw; /* reachable until exit */
	skel_config cfg = {.name = "skeleton",
			   .threads = 1,
			   .on_req = on_req,
			   .thread_init = thread_init,
			   .thread_fini = thread_fini,
			   .arg = &gw};
	const char *daemon_url = NULL, *echo_url = NULL;
	unsigned timeout_ms = DEFAULT_TIMEOUT_MS, contexts = DEFAULT_CONTEXTS;
	char child_url[128] = "";
	int ready[2] = {-1, -1}, ctl[2] = {-1, -1};
	pid_t child = -1;
	unsigned long v;
	int i, step, rc = 1;

	gw.pool = true;
	for (i = 1; i < argc; i += step) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		step = 2; /* an option and its value */

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(a, "--port") == 0 &&
		    up_parse_ulong(val, 0, 65535, &v) == 0) {
			cfg.port = (uint16_t)v;
		} else if (strcmp(a, "--threads") == 0 &&
			   up_parse_ulong(val, 1, SKEL_MAX_THREADS, &v) == 0) {
			cfg.threads = (unsigned)v;
		} else if (strcmp(a, "--timeout") == 0 &&
			   up_parse_ulong(val, 1, 600000, &v) == 0) {
			timeout_ms = (unsigned)v;
		} else if (strcmp(a, "--contexts") == 0 &&
			   up_parse_ulong(val, 1, MAX_CONTEXTS, &v) == 0) {
			contexts = (unsigned)v;
		} else if (strcmp(a, "--no-pool") == 0) {
			gw.pool = false;
			step = 1;
		} else if (strcmp(a, "--daemon") == 0 && val != NULL) {
			daemon_url = val;
		} else if (strcmp(a, "--echo") == 0 && val != NULL) {
			echo_url = val;
		} else {
			fprintf(stderr, "skeleton: bad option or value: %s\n",
				a);
			usage(stderr);
			return 2;
		}
	}
	skel_block_signals();
	if (echo_url != NULL) {
		return run_echo(echo_url, contexts);
	}

	if (daemon_url == NULL) {
		/* Before any nng or h2o call: the child starts afresh. */
		snprintf(child_url, sizeof(child_url),
			 "ipc:///tmp/skeleton.%ld.sock", (long)getpid());
		unlink(child_url + strlen("ipc://"));
		if (pipe(ready) != 0 || pipe(ctl) != 0) {
			perror("skeleton: pipe");
			goto out;
		}
		fflush(NULL);
		if ((child = fork()) < 0) {
			perror("skeleton: fork");
			goto out;
		}
		if (child == 0) {
			close(ready[0]);
			close(ctl[1]);
			echo_child(child_url, contexts, ready[1], ctl[0]);
		}
		close(ready[1]);
		close(ctl[0]);
		ready[1] = ctl[0] = -1;
		if (wait_child_ready(ready[0]) != 0) {
			fprintf(stderr, "skeleton: the echo server did not "
					"start\n");
			goto out;
		}
		daemon_url = child_url;
	}
	if (gateway_open(&gw, daemon_url, (nng_duration)timeout_ms) != 0) {
		goto out;
	}
	rc = skel_run(&cfg);
out:
	bench_watchdog("skeleton", TEARDOWN_SECS, rc);
	if (gw.sock_open) {
		nng_close(gw.sock); /* pending calls end with NNG_ECLOSED */
		gw.sock_open = false;
	}
	bench_watchdog_off();
	if (child > 0) {
		stop_child(child, ctl[1]);
		ctl[1] = -1;
		unlink(child_url + strlen("ipc://"));
	}
	if (ready[0] >= 0) {
		close(ready[0]);
	}
	if (ctl[1] >= 0) {
		close(ctl[1]);
	}
	fprintf(stderr,
		"skeleton: %" PRIu64 " requests, %" PRIu64 " errors, %" PRIu64
		" late replies dropped\n",
		gw.requests, gw.errors, gw.dropped);
	return rc;
}
