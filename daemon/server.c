/*
 * server.c - the nng side of usersd: one raw REP socket, its receivers,
 * the connections (peers) and their outboxes; TLS for tls+tcp:// URLs;
 * the listener guard.
 *
 * The socket (docs/decisions.md, section 20). A raw REP socket hands every
 * request message to us with nng's routing header (the pipe's id and the
 * peer's request id) and sends whatever message we give it back along that
 * header, as often as we like. So one message may carry a batch of calls
 * (RequestBatch, users.proto), each answered on its own as soon as it is
 * done, and an older client's single envelope (cooked REQ, one call per
 * message) is served on the same socket: its one answer goes back with its
 * own header.
 *
 * Receivers. A few aios (2 per CPU, at most 16, at most --contexts)
 * receive on the socket, each on an nng thread. A receiver takes a message,
 * receives again at once (another thread may take the next message), and
 * hands every call of the message to the service (ud_service_submit), which
 * runs the call's first stage right there. --contexts bounds the calls in
 * flight: while that many run, a receiver parks instead of receiving again,
 * and the end of a call (reply_release) lets it go on; the peers' messages
 * then wait in nng and in the kernel, which slows the clients down.
 *
 * Peers and outboxes. A peer is one connection (nng pipe), made when nng
 * adds the pipe (before its first message) and closed when nng removes it.
 * Each call holds a reference to its peer, so an answer knows where to go
 * and an answer for a connection that is gone is dropped. Answers go out
 * through the peer's outbox, one nng send at a time: an answer is sent at
 * once when nothing is being sent to the peer and no receiver is still
 * working through a batch of that peer's; otherwise it joins the open
 * ResponseBatch, which leaves as one message when the send in flight
 * completes or the batch's last first stage is done. So the answers that
 * are ready together leave together, and nothing waits for a timer: a read
 * in a batch waits for the other first stages of its batch (CPU work and
 * WAL reads), never for a write's commit or a hash, whose answers follow
 * in later messages. The writes of one commit are answered together too:
 * the thread that answers them (SQLite's writer, after the commit;
 * PostgreSQL's answer thread) holds the peers it answers for the length
 * of the group (ud_service.hold, reply_hold). A single envelope's answer is
 * a message of its own.
 *
 * A raw REP socket drops an answer when the pipe's queue (64 messages)
 * is full, which only a peer that stops reading for that long can cause;
 * the outbox keeps the number of messages low (one per group of answers).
 *
 * The listener guard. nng 1.5.2 (Debian 12) stops accepting on a listener
 * for good when a peer disconnects during the connection handshake (nng
 * issue #1518, fixed in 1.6): on ipc:// a bare connect() and close() is
 * enough, and every later client then waits for ever; on tls+tcp:// a peer
 * that leaves as its handshake ends can do it (seen once in CI, after a
 * client that did not trust the certificate). So a thread of the
 * server's dials each listener every GUARD_EVERY_MS on a new connection
 * and sends nothing: when the connection is not made within
 * GUARD_WAIT_MS, GUARD_MISSES times in a row, the listener is
 * closed and made anew on the same URL. "Made" is seen on the daemon's
 * side (pipe_event counts each listener's pipes): nng's stuck listener
 * still completes handshakes, it just never hands the pipes over. Only
 * accepting is measured, so calls in flight, a slow store or parked
 * receivers cannot make a probe miss. A taken probe connection stays open
 * until the next round (the pipe counted may be another client's, and a
 * connection closed in its handshake is what sticks a listener). Clients
 * reconnect by themselves and resend what was in flight (safe: request ids).
 * The probe dials the address the listener is bound to (loopback for a wildcard
 * host); over TLS it trusts any certificate, as it sends nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "server.h"
#include "users_log.h"
#include "validate.h"

#define GUARD_EVERY_MS  2000
#define GUARD_WAIT_MS   3000
#define GUARD_MISSES    1
#define GUARD_LOOK_MS   5     /* how often a probe looks for its connection */
#define PROBE_REDIAL_MS 60000 /* a probe's dialer does not redial */

/* Calls of one message beyond this are refused (RESOURCE_EXHAUSTED). */
#define BATCH_CALLS_MAX 1024
/* An open answer batch past this many bytes is closed (a new one opens). */
#define ANSWER_BATCH_MAX (256 * 1024)
#define RECEIVERS_MAX    16
/* A loop's connection whose client does not read: its messages (or their
 * bytes) waiting behind the one the kernel took part of, before it is
 * read no more. */
#define OUTBOX_STALL       16
#define OUTBOX_STALL_BYTES (1024 * 1024)

/* The guard's probe of one listener. */
struct probe {
	char url[256]; /* where the probe dials; "" when not probed */
	nng_socket sock;
	nng_dialer dialer; /* this round's connection */
	nng_dialer prev;   /* the last round's, taken: closed in this one */
	bool has_prev;
	nng_tls_config *tls; /* tls+*: trusts any certificate */
	bool open;
	unsigned misses;
	/* the listener's nng id, and the connections it has handed to the
	 * socket (pipe_event, on nng's threads) */
	atomic_uint listener_id;
	atomic_uint accepted;
};

/* One aio receiving on the socket. */
struct receiver {
	ud_server *srv;
	nng_aio *aio;
	struct receiver *next_parked; /* under srv->mu */
};

/*
 * One connection. refs: the registry's (until nng removes the pipe), one
 * per call that will answer through it, one per receiver working on one of
 * its messages, one while a send is in flight. The rest is under mu.
 */
typedef struct peer {
	ud_server *srv;
	uint32_t pipe;
	atomic_int refs;
	pthread_mutex_t mu;
	bool closed;    /* the pipe is gone: answers are dropped */
	unsigned held;  /* receivers working through a batch of its */
	bool sending;   /* aio in flight */
	nng_msg *open;  /* the answer batch being filled, or NULL */
	nng_msg *spare; /* a loop's: the last message written, emptied */
	nng_msg **fifo; /* closed messages waiting, oldest first */
	size_t fifo_head, fifo_len, fifo_cap;
	size_t fifo_bytes; /* their bodies' bytes */
	nng_aio *aio;      /* nng's connections: the send */
	ud_conn *conn;     /* the loops' (loop.c): written directly */
	struct peer *next; /* registry, under srv->mu */
} peer;

struct ud_server {
	ud_service *svc;
	const ud_config *cfg;
	nng_socket sock;
	bool sock_open;
	nng_listener *listeners; /* listener i, unless on_loop[i] */
	bool *on_loop;           /* listener i is the loops' (loop.c) */
	size_t n_listeners;
	ud_loop *loop;
	nng_tls_config *tls;
	struct probe *probes; /* one per listener */
	pthread_t guard;
	bool guard_started;
	pthread_mutex_t guard_mu;
	pthread_cond_t guard_cv;
	bool guard_stop;
	struct receiver *receivers;
	unsigned n_receivers;
	atomic_int calls;   /* calls handed to the service, not yet released */
	atomic_int handing; /* messages being handed over (hand_begin) */
	atomic_int parked;  /* receivers waiting for calls to end */
	atomic_bool stopping;
	atomic_int active;  /* receivers not yet idle */
	pthread_mutex_t mu; /* peers, parked */
	peer *peers;
	struct receiver *parked_list;
};

/* ------------------------------------------------------------------------
 * Peers
 */

static void
peer_ref(peer *p)
{
	atomic_fetch_add(&p->refs, 1);
}

static void
peer_put(peer *p)
{
	if (atomic_fetch_sub(&p->refs, 1) != 1) {
		return;
	}
	/* Last reference: the registry let go, nothing is in flight. */
	nng_msg_free(p->open);
	nng_msg_free(p->spare);
	while (p->fifo_len > 0) {
		nng_msg_free(p->fifo[p->fifo_head]);
		p->fifo_head = (p->fifo_head + 1) % p->fifo_cap;
		p->fifo_len--;
	}
	free(p->fifo);
	/* may be its own callback's last reference: freed by nng's reaper */
	if (p->aio != NULL) {
		nng_aio_reap(p->aio);
	}
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* The peer of a pipe, referenced; NULL when nng never told us of it. */
static peer *
peer_find(ud_server *s, uint32_t pipe)
{
	peer *p;

	pthread_mutex_lock(&s->mu);
	for (p = s->peers; p != NULL && p->pipe != pipe; p = p->next) {
	}
	if (p != NULL) {
		peer_ref(p);
	}
	pthread_mutex_unlock(&s->mu);
	return p;
}

static void peer_sent(void *arg);

/* A pipe reached the socket: its listener takes connections (the guard). */
static void
listener_took(ud_server *s, nng_pipe pipe)
{
	unsigned id = (unsigned)nng_listener_id(nng_pipe_listener(pipe));

	for (size_t i = 0; s->probes != NULL && i < s->cfg->n_listen; i++) {
		if (atomic_load(&s->probes[i].listener_id) == id) {
			atomic_fetch_add(&s->probes[i].accepted, 1);
			return;
		}
	}
}

/*
 * A new connection's peer, in the registry (its reference): nng's pipe
 * (conn NULL), or a loop's connection (pipe 0: nng's ids are never 0).
 * NULL when out of memory.
 */
static peer *
peer_new(ud_server *s, uint32_t pipe, ud_conn *conn)
{
	peer *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		return NULL;
	}
	if (conn == NULL && nng_aio_alloc(&p->aio, peer_sent, p) != 0) {
		free(p);
		return NULL;
	}
	p->srv = s;
	p->pipe = pipe;
	p->conn = conn;
	atomic_init(&p->refs, 1);
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_lock(&s->mu);
	p->next = s->peers;
	s->peers = p;
	pthread_mutex_unlock(&s->mu);
	return p;
}

/* p's connection is gone: out of the registry, its answers dropped. */
static void
peer_gone(ud_server *s, peer *p)
{
	peer **pp;

	pthread_mutex_lock(&s->mu);
	for (pp = &s->peers; *pp != NULL && *pp != p; pp = &(*pp)->next) {
	}
	if (*pp == NULL) {
		pthread_mutex_unlock(&s->mu);
		return; /* let go already (ud_server_free) */
	}
	*pp = p->next;
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_lock(&p->mu);
	p->closed = true;
	if (p->conn != NULL) {
		p->sending = false; /* what it kept goes with the connection */
		p->conn = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	peer_put(p);
}

static void
pipe_event(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	ud_server *s = arg;
	uint32_t id = (uint32_t)nng_pipe_id(pipe);
	peer *p;

	if (ev == NNG_PIPE_EV_ADD_PRE) {
		listener_took(s, pipe);
		/* Before the pipe delivers anything (nng starts it after). */
		if (peer_new(s, id, NULL) == NULL) {
			nng_pipe_close(pipe); /* cannot answer it */
		}
		return;
	}
	if (ev != NNG_PIPE_EV_REM_POST) {
		return;
	}
	pthread_mutex_lock(&s->mu);
	for (p = s->peers; p != NULL && p->pipe != id; p = p->next) {
	}
	pthread_mutex_unlock(&s->mu);
	if (p != NULL) {
		peer_gone(s, p); /* only this callback removes pipe id's */
	}
}

/* Appends a closed message to the peer's queue. Under p->mu. */
static int
fifo_push(peer *p, nng_msg *m)
{
	if (p->fifo_len == p->fifo_cap) {
		size_t cap = p->fifo_cap ? 2 * p->fifo_cap : 8;
		nng_msg **v = malloc(cap * sizeof(*v));

		if (v == NULL) {
			return -1;
		}
		for (size_t i = 0; i < p->fifo_len; i++) {
			v[i] = p->fifo[(p->fifo_head + i) % p->fifo_cap];
		}
		free(p->fifo);
		p->fifo = v;
		p->fifo_cap = cap;
		p->fifo_head = 0;
	}
	p->fifo[(p->fifo_head + p->fifo_len) % p->fifo_cap] = m;
	p->fifo_len++;
	p->fifo_bytes += nng_msg_len(m);
	return 0;
}

static void spare_put(peer *p, nng_msg *m);

/*
 * Sends the next message when nothing is in flight and no receiver holds
 * the peer: the oldest closed one, else the open batch. Under p->mu.
 */
static void
flush_locked(peer *p)
{
	nng_msg *m;

	while (!p->sending && p->held == 0 && !p->closed) {
		if (p->fifo_len > 0) {
			m = p->fifo[p->fifo_head];
			p->fifo_head = (p->fifo_head + 1) % p->fifo_cap;
			p->fifo_len--;
			p->fifo_bytes -= nng_msg_len(m);
		} else if ((m = p->open) != NULL) {
			p->open = NULL;
		} else {
			return;
		}
		if (p->conn != NULL) {
			/* A loop's connection: written by this thread, now;
			 * what the kernel does not take yet, the loop sends
			 * on (loop_writable). */
			int r = ud_conn_send(p->conn, nng_msg_header(m),
					     nng_msg_header_len(m),
					     nng_msg_body(m), nng_msg_len(m));

			spare_put(p, m);
			p->sending = r == 1;
			if (r < 0) {
				return; /* broken: loop_closed follows */
			}
			continue;
		}
		p->sending = true;
		peer_ref(p); /* the send's */
		nng_aio_set_msg(p->aio, m);
		nng_send_aio(p->srv->sock,
			     p->aio); /* its callback runs later */
		return;
	}
}

/* The send of the peer's last message completed (an nng thread). */
static void
peer_sent(void *arg)
{
	peer *p = arg;

	if (nng_aio_result(p->aio) != 0) {
		nng_msg_free(nng_aio_get_msg(p->aio));
		nng_aio_set_msg(p->aio, NULL);
	}
	pthread_mutex_lock(&p->mu);
	p->sending = false;
	flush_locked(p);
	pthread_mutex_unlock(&p->mu);
	peer_put(p);
}

/* ------------------------------------------------------------------------
 * The service's hooks: answers, and the end of a call
 */

/*
 * A thread's hold (ud_service.hold): between begin and end, every peer an
 * answer goes to is held (p->held, as a receiver holds the peer of the
 * batch it works through), so the answers queue in its open batch; the
 * end lets go and sends. At most HOLD_PEERS peers a round; an answer to
 * one more leaves as it comes.
 */
#define HOLD_PEERS 32
static _Thread_local struct {
	bool on;
	size_t n;
	peer *peers[HOLD_PEERS];
} hold_tl;

/* Under p->mu: holds p for the thread's round when one is on. */
static void
hold_add_locked(peer *p)
{
	if (!hold_tl.on || hold_tl.n == HOLD_PEERS) {
		return;
	}
	for (size_t i = 0; i < hold_tl.n; i++) {
		if (hold_tl.peers[i] == p) {
			return;
		}
	}
	p->held++;
	peer_ref(p);
	hold_tl.peers[hold_tl.n++] = p;
}

static void
reply_hold(bool begin)
{
	if (begin) {
		hold_tl.on = true;
		return;
	}
	hold_tl.on = false;
	for (size_t i = 0; i < hold_tl.n; i++) {
		peer *p = hold_tl.peers[i];

		pthread_mutex_lock(&p->mu);
		p->held--;
		flush_locked(p);
		pthread_mutex_unlock(&p->mu);
		peer_put(p);
	}
	hold_tl.n = 0;
}

/*
 * A loop's connection keeps the last message it wrote for the next answer:
 * the room of an answer batch (4 KiB and up) is then not allocated and
 * freed for every message (glibc consolidates its free lists on each
 * allocation that large: 1.8% of usersd in a profile of the RPC mix).
 * Wiped first: it held answers (tokens). Under p->mu.
 */
static void
spare_put(peer *p, nng_msg *m)
{
	if (p->spare != NULL || nng_msg_capacity(m) > ANSWER_BATCH_MAX) {
		nng_msg_free(m);
		return;
	}
	ud_wipe(nng_msg_body(m), nng_msg_len(m));
	nng_msg_header_clear(m); /* (the body's length: answer_msg sets it) */
	p->spare = m;
}

/* A message with the answer's routing header, for peer p (its spare
 * when it has one); NULL when out of memory. Under p->mu. */
static nng_msg *
answer_msg(peer *p, const ud_reply_to *to, size_t size)
{
	nng_msg *m = p->spare;

	p->spare = NULL;
	if (m != NULL && nng_msg_realloc(m, size) != 0) {
		nng_msg_free(m);
		m = NULL;
	}
	if (m == NULL && nng_msg_alloc(&m, size) != 0) {
		return NULL;
	}
	if (nng_msg_header_append(m, to->header, to->header_len) != 0) {
		nng_msg_free(m);
		return NULL;
	}
	return m;
}

/*
 * Room in the open message of a batch's answers for more bytes: nng grows
 * a message to the exact size on every append (a new zeroed buffer and a
 * copy of all it held: quadratic in the answers of a message), so the
 * room grows by doubling. 0, or -1 (out of memory).
 */
static int
open_room(nng_msg *m, size_t more)
{
	size_t need = nng_msg_len(m) + more, cap = nng_msg_capacity(m);

	if (need <= cap) {
		return 0;
	}
	cap = cap < 4096 ? 4096 : cap * 2;
	return nng_msg_reserve(m, cap > need ? cap : need) == 0 ? 0 : -1;
}

/*
 * ud_service's send hook, from whichever thread finished the call. An
 * answer that cannot be queued (out of memory) is dropped: the caller's
 * deadline answers it.
 */
static void
reply_send(const ud_reply_to *to, const uint8_t *buf, size_t len)
{
	peer *p = to->peer;
	uint8_t head[UP_BATCH_HEAD_MAX];
	size_t hl;
	nng_msg *m;

	pthread_mutex_lock(&p->mu);
	if (p->closed) {
		pthread_mutex_unlock(&p->mu);
		return;
	}
	if (!to->batch) {
		if ((m = answer_msg(p, to, len)) != NULL) {
			memcpy(nng_msg_body(m), buf, len);
			if (fifo_push(p, m) != 0) {
				nng_msg_free(m);
			}
		}
		flush_locked(p);
		pthread_mutex_unlock(&p->mu);
		return;
	}
	hold_add_locked(p);
	/* A batch's answers share one message when their headers agree (a
	 * device between us and the client would route each its own way). */
	if (p->open != NULL &&
	    (nng_msg_header_len(p->open) != to->header_len ||
	     memcmp(nng_msg_header(p->open), to->header, to->header_len) != 0 ||
	     nng_msg_len(p->open) + len > ANSWER_BATCH_MAX)) {
		if (fifo_push(p, p->open) != 0) {
			nng_msg_free(p->open);
		}
		p->open = NULL;
	}
	if (p->open == NULL) {
		p->open = answer_msg(p, to, 0);
	}
	if (p->open != NULL) {
		hl = up_batch_frame_head(head, to->call, len);
		if (open_room(p->open, hl + len) != 0 ||
		    nng_msg_append(p->open, head, hl) != 0 ||
		    nng_msg_append(p->open, buf, len) != 0) {
			/* half a frame would spoil the whole batch */
			nng_msg_free(p->open);
			p->open = NULL;
		}
	}
	flush_locked(p);
	pthread_mutex_unlock(&p->mu);
}

static void receive(struct receiver *r);

/* Lets parked receivers go on while fewer calls than --contexts run. */
static void
unpark(ud_server *s)
{
	if (atomic_load(&s->calls) < (int)s->cfg->contexts &&
	    !atomic_load(&s->stopping)) {
		ud_loop_wake(s->loop); /* cheap unless a loop is parked */
	}
	while (atomic_load(&s->parked) > 0 &&
	       atomic_load(&s->calls) < (int)s->cfg->contexts) {
		struct receiver *r;

		pthread_mutex_lock(&s->mu);
		if ((r = s->parked_list) != NULL) {
			s->parked_list = r->next_parked;
			atomic_fetch_sub(&s->parked, 1);
		}
		pthread_mutex_unlock(&s->mu);
		if (r == NULL) {
			return;
		}
		receive(r);
	}
}

/* ud_service's release hook: the call that answered through to is freed. */
static void
reply_release(ud_reply_to *to)
{
	peer *p = to->peer;
	ud_server *s;

	if (p == NULL) {
		return;
	}
	s = p->srv;
	to->peer = NULL;
	peer_put(p);
	atomic_fetch_sub(&s->calls, 1);
	unpark(s);
}

/* ------------------------------------------------------------------------
 * Receiving
 */

/* The receiver is done for good (stopping, or the socket closed). */
static void
receiver_idle(struct receiver *r)
{
	atomic_fetch_sub(&r->srv->active, 1);
}

/* Receives again, or parks while --contexts calls run. */
static void
receive(struct receiver *r)
{
	ud_server *s = r->srv;

	if (atomic_load(&s->stopping)) {
		receiver_idle(r);
		return;
	}
	if (atomic_load(&s->calls) >= (int)s->cfg->contexts) {
		pthread_mutex_lock(&s->mu);
		r->next_parked = s->parked_list;
		s->parked_list = r;
		atomic_fetch_add(&s->parked, 1);
		pthread_mutex_unlock(&s->mu);
		unpark(s); /* the last call may have ended meanwhile */
		return;
	}
	nng_recv_aio(s->sock, r->aio);
}

/* Hands one call (envelope bytes env, len) to the service. */
static void
submit(ud_server *s, ud_reply_to *to, const uint8_t *env, size_t len,
       bool refuse)
{
	peer_ref(to->peer); /* the call's */
	atomic_fetch_add(&s->calls, 1);
	if (refuse) {
		ud_service_refuse(s->svc, to, UP_RESOURCE_EXHAUSTED);
		return;
	}
	ud_service_submit(s->svc, to, env, len);
}

/*
 * One received message of peer p's (a reference, let go here), with the
 * header its answers carry back (nng's: the pipe's id and the backtrace;
 * a loop's: the backtrace): every call in it to the service.
 */
static void
handle_calls(ud_server *s, peer *p, const uint8_t *hdr, size_t hl,
	     const uint8_t *body, size_t len)
{
	ud_reply_to to = {0};

	to.peer = p;
	to.header_len = (uint8_t)hl;
	memcpy(to.header, hdr, hl);
	if (up_batch_is(body, len)) {
		up_batch_reader rd;
		const uint8_t *env;
		size_t elen;
		unsigned n = 0;

		to.batch = true;
		pthread_mutex_lock(&p->mu);
		p->held++;
		pthread_mutex_unlock(&p->mu);
		up_batch_reader_init(&rd, body, len);
		ud_service_batch_begin(s->svc);
		while (up_batch_next(&rd, &to.call, &env, &elen) == 1) {
			submit(s, &to, env, elen, ++n > BATCH_CALLS_MAX);
		}
		ud_service_batch_end(s->svc);
		/* A malformed rest: the calls in it cannot be told apart,
		 * and their client's deadlines answer them. */
		pthread_mutex_lock(&p->mu);
		p->held--;
		flush_locked(p);
		pthread_mutex_unlock(&p->mu);
	} else {
		submit(s, &to, body, len, false);
	}
	peer_put(p);
}

/*
 * Around the hand-over of one message: false once the server stops (the
 * message is dropped; its client's deadline or resend answers it). The
 * drain waits until no hand-over is under way, so none reaches the
 * service after the drain found it idle (the count is raised before
 * stopping is read, and the drain sets stopping before it reads the
 * count).
 */
static bool
hand_begin(ud_server *s)
{
	atomic_fetch_add(&s->handing, 1);
	if (atomic_load(&s->stopping)) {
		atomic_fetch_sub(&s->handing, 1);
		return false;
	}
	return true;
}

static void
hand_end(ud_server *s)
{
	atomic_fetch_sub(&s->handing, 1);
}

/* One message received through nng: its calls, then freed. */
static void
handle_message(ud_server *s, nng_msg *msg)
{
	uint32_t pipe = (uint32_t)nng_pipe_id(nng_msg_get_pipe(msg));
	size_t hl = nng_msg_header_len(msg);
	peer *p;

	if (hl <= UD_REPLY_HEADER_MAX && hand_begin(s)) {
		if ((p = peer_find(s, pipe)) != NULL) {
			handle_calls(s, p, nng_msg_header(msg), hl,
				     nng_msg_body(msg), nng_msg_len(msg));
		} /* else it cannot be answered */
		hand_end(s);
	}
	/* it may carry passwords: every call unpacked its own copy */
	ud_wipe(nng_msg_body(msg), nng_msg_len(msg));
	nng_msg_free(msg);
}

/* ------------------------------------------------------------------------
 * The loops' connections (loop.c): the hooks
 */

static void *
loop_open(void *arg, ud_conn *c)
{
	return peer_new(arg, 0, c);
}

static void
loop_message(void *arg, void *peer_arg, const uint8_t *hdr, size_t hl,
	     uint8_t *body, size_t len)
{
	peer *p = peer_arg;

	if (hl <= UD_REPLY_HEADER_MAX && hand_begin(arg)) {
		peer_ref(p); /* handle_calls lets it go */
		handle_calls(arg, p, hdr, hl, body, len);
		hand_end(arg);
	}
	ud_wipe(body, len); /* as above */
}

static void
loop_writable(void *arg, void *peer_arg)
{
	peer *p = peer_arg;

	(void)arg;
	pthread_mutex_lock(&p->mu);
	if (p->sending && !p->closed) {
		int r = ud_conn_send_more(p->conn);

		p->sending = r == 1;
		if (r == 0) {
			flush_locked(p);
		}
	}
	pthread_mutex_unlock(&p->mu);
}

static void
loop_closed(void *arg, void *peer_arg)
{
	peer_gone(arg, peer_arg);
}

/*
 * The loops hand messages over while fewer calls than --contexts run, and
 * while a connection's client reads its answers: when the kernel took
 * only part of one (sending) and OUTBOX_STALL more wait behind it, that
 * connection is read no more until the loop sent the rest on. A message
 * handed over may still add up to its own calls' answers (at most
 * BATCH_CALLS_MAX, and --max-message bytes of request): so a connection
 * holds at most about that and the stall's bound.
 */
static int
loop_may_take(void *arg, void *peer_arg)
{
	ud_server *s = arg;
	peer *p = peer_arg;
	bool full;

	if (atomic_load(&s->calls) >= (int)s->cfg->contexts ||
	    atomic_load(&s->stopping)) {
		return UD_TAKE_LATER;
	}
	pthread_mutex_lock(&p->mu);
	full = p->sending &&
	       (p->fifo_len >= OUTBOX_STALL ||
		p->fifo_bytes + (p->open != NULL ? nng_msg_len(p->open) : 0) >=
		    OUTBOX_STALL_BYTES);
	pthread_mutex_unlock(&p->mu);
	return full ? UD_TAKE_STALLED : UD_TAKE_NOW;
}

static void
receiver_cb(void *arg)
{
	struct receiver *r = arg;
	ud_server *s = r->srv;
	int rv = nng_aio_result(r->aio);
	nng_msg *msg;

	if (rv != 0) {
		if (rv == NNG_ECLOSED || atomic_load(&s->stopping)) {
			receiver_idle(r);
			return;
		}
		receive(r);
		return;
	}
	msg = nng_aio_get_msg(r->aio);
	nng_aio_set_msg(r->aio, NULL);
	receive(r); /* another thread may take the next message meanwhile */
	handle_message(s, msg);
}

/* A PEM file into a NUL-terminated buffer (at most 1 MiB). */
static char *
read_pem(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;

	if (f == NULL) {
		return NULL;
	}
	buf = malloc((1 << 20) + 1);
	if (buf != NULL) {
		n = fread(buf, 1, 1 << 20, f);
		if (ferror(f) || !feof(f)) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

/*
 * nng's cert_key_file wants certificate and key in one file: read the two
 * files and hand both over.
 */
static int
own_cert(nng_tls_config *tls, const char *cert_path, const char *key_path)
{
	char *cert = read_pem(cert_path);
	char *key = read_pem(key_path);
	int rv = NNG_ENOENT;

	if (cert != NULL && key != NULL) {
		rv = nng_tls_config_own_cert(tls, cert, key, NULL);
	}
	if (key != NULL) {
		memset(key, 0, strlen(key));
	}
	free(cert);
	free(key);
	return rv;
}

static int
tls_setup(ud_server *s, const ud_config *cfg)
{
	int rv;

	if ((rv = nng_tls_config_alloc(&s->tls, NNG_TLS_MODE_SERVER)) != 0) {
		return rv;
	}
	if (cfg->tls_cert == NULL || cfg->tls_key == NULL) {
		fprintf(stderr, "usersd: tls+tcp:// needs --tls-cert and "
				"--tls-key\n");
		return NNG_EINVAL;
	}
	if ((rv = own_cert(s->tls, cfg->tls_cert, cfg->tls_key)) != 0) {
		fprintf(stderr, "usersd: cannot load %s / %s: %s\n",
			cfg->tls_cert, cfg->tls_key, nng_strerror(rv));
		return rv;
	}
	if (cfg->tls_ca != NULL) {
		if ((rv = nng_tls_config_ca_file(s->tls, cfg->tls_ca)) != 0) {
			fprintf(stderr, "usersd: cannot load %s: %s\n",
				cfg->tls_ca, nng_strerror(rv));
			return rv;
		}
		/* Client certificates are checked when presented. */
		rv = nng_tls_config_auth_mode(s->tls,
					      NNG_TLS_AUTH_MODE_OPTIONAL);
	} else {
		rv = nng_tls_config_auth_mode(s->tls, NNG_TLS_AUTH_MODE_NONE);
	}
	return rv;
}

/* Creates and starts listener i on its URL. */
static int
listen_one(ud_server *s, size_t i)
{
	const ud_config *cfg = s->cfg;
	const char *url = cfg->listen[i];
	nng_listener *l = &s->listeners[i];
	int rv;

	if ((rv = nng_listener_create(l, s->sock, url)) != 0) {
		fprintf(stderr, "usersd: cannot listen on %s: %s\n", url,
			nng_strerror(rv));
		return rv;
	}
	if (strncmp(url, "tls+", 4) == 0) {
		if (s->tls == NULL && (rv = tls_setup(s, cfg)) != 0) {
			nng_listener_close(*l);
			return rv;
		}
		rv = nng_listener_set_ptr(*l, NNG_OPT_TLS_CONFIG, s->tls);
		if (rv != 0) {
			nng_listener_close(*l);
			return rv;
		}
	}
	nng_listener_set_size(*l, NNG_OPT_RECVMAXSZ, cfg->max_message);
	atomic_store(&s->probes[i].listener_id, (unsigned)nng_listener_id(*l));
	if ((rv = nng_listener_start(*l, 0)) != 0) {
		fprintf(stderr, "usersd: cannot listen on %s: %s%s\n", url,
			nng_strerror(rv),
			rv == NNG_EADDRINUSE
			    ? " (is another usersd running there?)"
			    : "");
		nng_listener_close(*l);
		return rv;
	}
	return 0;
}

/* Listener i on the loops (loop.c); 0 or an nng error for the caller. */
static int
listen_loop(ud_server *s, size_t i)
{
	const char *url = s->cfg->listen[i];
	char why[256];
	int e = ud_loop_listen(s->loop, url, why, sizeof(why));

	if (e == 0) {
		return 0;
	}
	fprintf(stderr, "usersd: cannot listen on %s: %s%s\n", url, why,
		e == EADDRINUSE ? " (is another usersd running there?)" : "");
	return e == EADDRINUSE ? NNG_EADDRINUSE
	       : e == EACCES   ? NNG_EPERM
			       : NNG_EINVAL;
}

static int
listen_all(ud_server *s, const ud_config *cfg)
{
	int rv;

	s->listeners = calloc(cfg->n_listen, sizeof(*s->listeners));
	s->on_loop = calloc(cfg->n_listen, sizeof(*s->on_loop));
	s->probes = calloc(cfg->n_listen, sizeof(*s->probes));
	if (s->listeners == NULL || s->on_loop == NULL || s->probes == NULL) {
		return NNG_ENOMEM;
	}
	for (size_t i = 0; i < cfg->n_listen; i++) {
		s->on_loop[i] =
		    s->loop != NULL && ud_loop_serves(cfg->listen[i]);
		rv = s->on_loop[i] ? listen_loop(s, i) : listen_one(s, i);
		if (rv != 0) {
			return rv;
		}
		s->n_listeners++;
		char msg[600];

		snprintf(msg, sizeof(msg), "listening on %s", cfg->listen[i]);
		up_log(UP_LOG_INFO, "listening", msg, "url", cfg->listen[i],
		       NULL);
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * The listener guard (see the top of the file)
 */

/*
 * Where a probe of listener i dials: ipc:// as is; tcp:// and tls+tcp://
 * (and their 4 and 6 forms) at the address the listener is bound to,
 * loopback for a wildcard host, port 0 resolved; "" for what is not
 * probed.
 */
static void
probe_url(ud_server *s, size_t i, char *out, size_t cap)
{
	static const char *const schemes[] = {
	    "tcp", "tcp4", "tcp6", "tls+tcp", "tls+tcp4", "tls+tcp6"};
	const char *url = s->cfg->listen[i], *end = strstr(url, "://");
	const char *scheme = NULL;
	char host[INET6_ADDRSTRLEN];
	nng_sockaddr sa;

	out[0] = '\0';
	if (s->on_loop[i]) {
		return; /* the loops' listeners have no such bug */
	}
	if (strncmp(url, "ipc://", 6) == 0) {
		snprintf(out, cap, "%s", url);
		return;
	}
	for (size_t k = 0; end != NULL && k < 6; k++) {
		if (strlen(schemes[k]) == (size_t)(end - url) &&
		    strncmp(url, schemes[k], (size_t)(end - url)) == 0) {
			scheme = schemes[k];
		}
	}
	if (scheme == NULL) {
		return;
	}
	if (nng_listener_get_addr(s->listeners[i], NNG_OPT_LOCADDR, &sa) != 0) {
		return;
	}
	if (sa.s_family == NNG_AF_INET) {
		struct in_addr a = {.s_addr = sa.s_in.sa_addr};

		if (a.s_addr == htonl(INADDR_ANY)) {
			a.s_addr = htonl(INADDR_LOOPBACK);
		}
		if (inet_ntop(AF_INET, &a, host, sizeof(host)) != NULL) {
			snprintf(out, cap, "%s://%s:%u", scheme, host,
				 (unsigned)ntohs(sa.s_in.sa_port));
		}
	} else if (sa.s_family == NNG_AF_INET6) {
		struct in6_addr a;

		memcpy(&a, sa.s_in6.sa_addr, sizeof(a));
		if (IN6_IS_ADDR_UNSPECIFIED(&a)) {
			a = in6addr_loopback;
		}
		if (inet_ntop(AF_INET6, &a, host, sizeof(host)) != NULL) {
			snprintf(out, cap, "%s://[%s]:%u", scheme, host,
				 (unsigned)ntohs(sa.s_in6.sa_port));
		}
	}
}

static bool guard_wait(ud_server *s, int ms);

static int
probe_open(struct probe *p)
{
	int rv;

	/*
	 * A TLS probe checks nothing of the server's certificate: it dials
	 * the daemon's own address and sends nothing; all it asks is
	 * whether the connection is taken.
	 */
	if (strncmp(p->url, "tls+", 4) == 0 && p->tls == NULL) {
		if ((rv = nng_tls_config_alloc(&p->tls, NNG_TLS_MODE_CLIENT)) !=
		    0) {
			p->tls = NULL;
			return rv;
		}
		if ((rv = nng_tls_config_auth_mode(
			 p->tls, NNG_TLS_AUTH_MODE_NONE)) != 0) {
			nng_tls_config_free(p->tls);
			p->tls = NULL;
			return rv;
		}
	}
	if ((rv = nng_req0_open(&p->sock)) != 0) {
		return rv;
	}
	p->open = true;
	nng_socket_set_ms(p->sock, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(p->sock, NNG_OPT_RECONNMAXT, 500);
	return 0;
}

/* Starts the probe's dialer on a new connection; 0 or an nng error. */
static int
probe_dial(struct probe *p)
{
	int rv;

	if ((rv = nng_dialer_create(&p->dialer, p->sock, p->url)) != 0) {
		return rv;
	}
	/* one connection: no redial before the next round closes it */
	nng_dialer_set_ms(p->dialer, NNG_OPT_RECONNMINT, PROBE_REDIAL_MS);
	nng_dialer_set_ms(p->dialer, NNG_OPT_RECONNMAXT, PROBE_REDIAL_MS);
	if ((p->tls != NULL &&
	     (rv = nng_dialer_set_ptr(p->dialer, NNG_OPT_TLS_CONFIG, p->tls)) !=
		 0) ||
	    (rv = nng_dialer_start(p->dialer, NNG_FLAG_NONBLOCK)) != 0) {
		nng_dialer_close(p->dialer);
	}
	return rv;
}

/*
 * Whether listener i takes a new connection: one dialed now must reach
 * the socket (the daemon's pipe_event sees a pipe of that listener, ours
 * or anyone's) within GUARD_WAIT_MS. Nothing is sent, so calls in
 * flight, parked receivers or a slow store cannot make a probe miss:
 * only a listener that stopped handing connections over can (nng 1.5's
 * stuck listener still completes handshakes, it just keeps the pipes).
 * 1 taken, 0 not, -1 when the probe could not even dial.
 *
 * A taken connection stays open until the next round: the pipe counted
 * may be another client's, and closing ours in the middle of its
 * handshake is what sticks a listener. One that was not taken is closed
 * at once (its listener is made anew).
 */
static int
probe_once(ud_server *s, size_t i)
{
	struct probe *p = &s->probes[i];
	unsigned before = atomic_load(&p->accepted);
	int64_t until = up_mono_ms() + GUARD_WAIT_MS;
	bool got;

	if (p->has_prev) {
		nng_dialer_close(p->prev);
		p->has_prev = false;
	}
	if (probe_dial(p) != 0) {
		return -1;
	}
	/* a connection is taken within a millisecond or so: look often */
	while (!(got = atomic_load(&p->accepted) != before) &&
	       up_mono_ms() < until && !guard_wait(s, GUARD_LOOK_MS)) {
	}
	if (got) {
		p->prev = p->dialer;
		p->has_prev = true;
	} else {
		nng_dialer_close(p->dialer);
	}
	return got ? 1 : 0;
}

static void
listener_renew(ud_server *s, size_t i)
{
	const char *url = s->cfg->listen[i];
	int rv;

	fprintf(stderr,
		"usersd: %s stopped answering (nng 1.5 listener bug); "
		"listening anew\n",
		url);
	nng_listener_close(s->listeners[i]);
	if ((rv = listen_one(s, i)) != 0) {
		fprintf(stderr, "usersd: cannot listen on %s again: %s\n", url,
			nng_strerror(rv));
		return;
	}
	/* a port 0 is a new port now */
	probe_url(s, i, s->probes[i].url, sizeof(s->probes[i].url));
	if (i < s->svc->metrics.n_listeners) {
		atomic_fetch_add(&s->svc->metrics.listeners[i].renewed, 1);
	}
}

/* Counts a probe of listener i in its figures. */
static void
probe_count(ud_server *s, size_t i, bool taken)
{
	ud_metrics *m = &s->svc->metrics;

	if (i < m->n_listeners) {
		atomic_fetch_add(taken ? &m->listeners[i].probes_taken
				       : &m->listeners[i].probes_missed,
				 1);
	}
}

static bool
guard_wait(ud_server *s, int ms)
{
	struct timespec until;
	bool stop;

	ud_time_after_ms(CLOCK_REALTIME, (unsigned)ms, &until);
	pthread_mutex_lock(&s->guard_mu);
	while (!s->guard_stop && pthread_cond_timedwait(
				     &s->guard_cv, &s->guard_mu, &until) == 0) {
	}
	stop = s->guard_stop;
	pthread_mutex_unlock(&s->guard_mu);
	return stop;
}

static void *
guard_main(void *arg)
{
	ud_server *s = arg;
	int rc;

	up_thread_name("ud-guard");

	while (!guard_wait(s, GUARD_EVERY_MS)) {
		for (size_t i = 0; i < s->n_listeners; i++) {
			struct probe *p = &s->probes[i];
			if (p->url[0] == '\0' || atomic_load(&s->stopping)) {
				continue;
			}
			if (!p->open && probe_open(p) != 0) {
				continue;
			}
			if ((rc = probe_once(s, i)) < 0) {
				continue; /* tried again next round */
			}
			if (rc > 0) {
				probe_count(s, i, true);
				p->misses = 0;
				continue;
			}
			probe_count(s, i, false);
			if (++p->misses >= GUARD_MISSES &&
			    !atomic_load(&s->stopping)) {
				listener_renew(s, i);
				p->misses = 0;
			}
		}
	}
	return NULL;
}

static void
guard_start(ud_server *s)
{
	ud_metrics *m = &s->svc->metrics;

	for (size_t i = 0; i < s->n_listeners; i++) {
		probe_url(s, i, s->probes[i].url, sizeof(s->probes[i].url));
		if (i < UD_M_LISTENERS) { /* slot i: listener i */
			m->listeners[i].url = s->cfg->listen[i];
			m->n_listeners = i + 1;
		}
	}
	pthread_mutex_init(&s->guard_mu, NULL);
	pthread_cond_init(&s->guard_cv, NULL);
	s->guard_started = pthread_create(&s->guard, NULL, guard_main, s) == 0;
	if (!s->guard_started) {
		pthread_cond_destroy(&s->guard_cv);
		pthread_mutex_destroy(&s->guard_mu);
	}
}

/*
 * Stops the guard. Its probe sockets are left to the process's exit:
 * nng_close can hang (docs/decisions.md, section 13).
 */
static void
guard_stop(ud_server *s)
{
	if (!s->guard_started) {
		return;
	}
	pthread_mutex_lock(&s->guard_mu);
	s->guard_stop = true;
	pthread_cond_signal(&s->guard_cv);
	pthread_mutex_unlock(&s->guard_mu);
	pthread_join(s->guard, NULL);
	pthread_cond_destroy(&s->guard_cv);
	pthread_mutex_destroy(&s->guard_mu);
	s->guard_started = false;
	for (size_t i = 0; i < s->n_listeners; i++) {
		if (s->probes[i].has_prev) {
			nng_dialer_close(s->probes[i].prev);
			s->probes[i].has_prev = false;
		}
	}
}

int
ud_server_start(ud_server **out, ud_service *svc, const ud_config *cfg)
{
	ud_server *s = calloc(1, sizeof(*s));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n;
	int rv;

	if (s == NULL) {
		return UP_INTERNAL;
	}
	s->svc = svc;
	s->cfg = cfg;
	pthread_mutex_init(&s->mu, NULL);
	svc->send = reply_send;
	atomic_store(&svc->hold, reply_hold);
	svc->release = reply_release;
	if ((rv = nng_rep0_open_raw(&s->sock)) != 0) {
		goto fail;
	}
	s->sock_open = true;
	if ((rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ,
				      cfg->max_message)) != 0 ||
	    (rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_ADD_PRE, pipe_event,
				  s)) != 0 ||
	    (rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, pipe_event,
				  s)) != 0) {
		goto fail;
	}
	n = cpus > 0 ? 2 * (unsigned)cpus : 2;
	n = n > RECEIVERS_MAX ? RECEIVERS_MAX : n;
	n = n > cfg->contexts ? cfg->contexts : n;
	if ((s->receivers = calloc(n, sizeof(*s->receivers))) == NULL) {
		rv = NNG_ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < n; i++) {
		struct receiver *r = &s->receivers[i];

		r->srv = s;
		if ((rv = nng_aio_alloc(&r->aio, receiver_cb, r)) != 0) {
			goto fail;
		}
		s->n_receivers++;
	}
	for (size_t i = 0; !cfg->hop_nng && i < cfg->n_listen; i++) {
		if (s->loop == NULL && ud_loop_serves(cfg->listen[i])) {
			ud_loop_hooks h = {.arg = s,
					   .open = loop_open,
					   .message = loop_message,
					   .writable = loop_writable,
					   .closed = loop_closed,
					   .may_take = loop_may_take};

			/* one loop per core: a connection stays on one */
			if (ud_loop_new(&s->loop, &h,
					cpus > 0 ? (unsigned)cpus : 1,
					cfg->max_message) != 0) {
				rv = NNG_ENOMEM;
				goto fail;
			}
		}
	}
	if ((rv = listen_all(s, cfg)) != 0) {
		goto fail;
	}
	if (s->loop != NULL && ud_loop_start(s->loop) != 0) {
		rv = NNG_ENOMEM; /* no thread, or no epoll set */
		goto fail;
	}
	atomic_store(&s->active, (int)s->n_receivers);
	for (unsigned i = 0; i < s->n_receivers; i++) {
		receive(&s->receivers[i]);
	}
	guard_start(s);
	*out = s;
	return 0;
fail:
	if (rv != 0 && s->n_listeners == 0) {
		fprintf(stderr, "usersd: nng: %s\n", nng_strerror(rv));
	}
	ud_server_free(s);
	return rv == NNG_EADDRINUSE ? UP_FAILED_PRECONDITION : UP_UNAVAILABLE;
}

/* Whether every answer was handed to nng (no outbox holds or sends one). */
static bool
outboxes_empty(ud_server *s)
{
	bool empty = true;

	pthread_mutex_lock(&s->mu);
	for (peer *p = s->peers; p != NULL && empty; p = p->next) {
		pthread_mutex_lock(&p->mu);
		empty = p->closed ||
			(!p->sending && p->open == NULL && p->fifo_len == 0);
		pthread_mutex_unlock(&p->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return empty;
}

int
ud_server_drain(ud_server *s, int timeout_ms)
{
	int64_t deadline = up_mono_ms() + timeout_ms;
	struct timespec tick = {0, 2 * 1000 * 1000};
	struct receiver *r;

	atomic_store(&s->stopping, true);
	guard_stop(s); /* before the listeners it may renew go */
	for (size_t i = 0; i < s->n_listeners; i++) {
		if (!s->on_loop[i]) {
			nng_listener_close(s->listeners[i]);
		}
	}
	ud_loop_quiesce(s->loop);
	/* Receivers stop: waiting ones now, parked ones here, working ones
	 * once their message is handed over. */
	for (unsigned i = 0; i < s->n_receivers; i++) {
		nng_aio_cancel(s->receivers[i].aio);
	}
	pthread_mutex_lock(&s->mu);
	while ((r = s->parked_list) != NULL) {
		s->parked_list = r->next_parked;
		atomic_fetch_sub(&s->parked, 1);
		receiver_idle(r);
	}
	pthread_mutex_unlock(&s->mu);
	/* No message is half handed over (hand_begin). */
	while (atomic_load(&s->handing) > 0 && up_mono_ms() < deadline) {
		nanosleep(&tick, NULL);
	}
	while (atomic_load(&s->svc->in_flight) > 0 && up_mono_ms() < deadline) {
		nanosleep(&tick, NULL);
	}
	/* Answers still in an outbox: let them leave. */
	while ((!outboxes_empty(s) || atomic_load(&s->active) > 0) &&
	       up_mono_ms() < deadline) {
		for (unsigned i = 0; i < s->n_receivers; i++) {
			nng_aio_cancel(s->receivers[i].aio);
		}
		nanosleep(&tick, NULL);
	}
	return atomic_load(&s->svc->in_flight) == 0 ? 0 : UP_DEADLINE_EXCEEDED;
}

void
ud_server_free(ud_server *s)
{
	peer *p;

	if (s == NULL) {
		return;
	}
	atomic_store(&s->stopping, true);
	guard_stop(s);
	for (unsigned i = 0; i < s->n_receivers; i++) {
		nng_aio_stop(s->receivers[i].aio);
	}
	if (s->sock_open) {
		/* No pipe callback may come once the socket is gone. */
		nng_pipe_notify(s->sock, NNG_PIPE_EV_ADD_PRE, NULL, NULL);
		nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, NULL, NULL);
		nng_close(s->sock);
	}
	for (unsigned i = 0; i < s->n_receivers; i++) {
		nng_aio_free(s->receivers[i].aio);
	}
	/* The loops' connections leave the registry as they close. */
	ud_loop_free(s->loop);
	s->loop = NULL;
	/* The registry's references; a peer still held by a call (a drain
	 * that ran out of time) stays, and so does the server it points
	 * to. */
	while ((p = s->peers) != NULL) {
		s->peers = p->next;
		pthread_mutex_lock(&p->mu);
		p->closed = true;
		pthread_mutex_unlock(&p->mu);
		if (p->sending) {
			nng_aio_stop(p->aio); /* its callback drops a ref */
		}
		peer_put(p);
	}
	if (s->tls != NULL) {
		nng_tls_config_free(s->tls);
	}
	for (size_t i = 0; s->probes != NULL && i < s->n_listeners; i++) {
		/* its dialers are closed; nng counts the references */
		if (s->probes[i].tls != NULL) {
			nng_tls_config_free(s->probes[i].tls);
			s->probes[i].tls = NULL;
		}
	}
	free(s->listeners);
	free(s->on_loop);
	free(s->probes);
	free(s->receivers);
	if (atomic_load(&s->calls) > 0) {
		return;
	}
	pthread_mutex_destroy(&s->mu);
	free(s);
}
