/*
 * gw_hop.c - the hop to usersd on the gateway's own loop.
 *
 * libusersclient sends the calls over nng by default: every message then
 * crosses nng's threads on its way out and in (a wake-up of another thread
 * each way, docs/decisions.md, "The gateway's hop on its own loop"). For
 * ipc:// and tcp:// daemons the gateway carries the bytes itself instead,
 * on loop 0's event loop, as a transport of the client's
 * (usersclient.h, "Transports of the caller's own"): the client keeps the
 * calls, their batches, deadlines, resends and moves between daemons; this
 * file connects, speaks nng's SP framing (up_sp_*, users_proto.h) and moves
 * messages. tls+tcp:// daemons, tcp:// daemons named by a host name (resolving
 * one at each dial would block the loop), and every daemon with --hop nng, stay
 * with nng.
 *
 * One connection per daemon, owned by loop 0 (thread 0), in one of:
 *   DOWN        not connected; a retry is due after a random wait below
 *               10 ms, then 20, 40, 80 and at most 100 ms (nng's backoff,
 *               as the client's dialers use)
 *   CONNECTING  connect() in progress
 *   HELLO       connected; our hello written, the daemon's awaited
 *   UP          messages both ways; told to the client (uc_transport_up)
 * A connection not UP within 10 s of its connect (nng's own limit for the
 * hello) is closed and made again.
 *
 * Sending: the client kicks a daemon that has calls (any thread, under
 * its lock): the kick notes it and, from another thread, wakes loop 0. At
 * the end of each of its turns, and after each of its socket events,
 * loop 0 takes the calls of every kicked daemon that is UP and not
 * writing, as one message (uc_transport_take), and writes it. A write's
 * completion takes the next message at once: what piled up meanwhile.
 * h2o runs the completion of a write started outside its callbacks (the
 * end of a turn) only in the loop's next run, after that run's wait: so
 * gw_hop_pump says when it wrote, and loop 0 then runs again without
 * waiting (gw_server.c), or the client would hold every later call for
 * whatever woke the loop next.
 * Receiving: each whole frame is handed to the client
 * (uc_transport_received), which runs the answers' callbacks here.
 * A connection that fails (an error, the daemon gone, bytes that are not
 * a reply of ours) is closed and told to the client (uc_transport_down:
 * its calls move or fail at once), and redialed.
 *
 * Stopping: uc_client_close calls detach (the main thread) once no call is
 * in flight; loop 0 closes every connection and says so; from then on no
 * code here touches the client.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "gw.h"

#define HOP_TICK_MS     10    /* the retry timer's step */
#define HOP_HELLO_MS    10000 /* connected and greeted within (as nng) */
#define HOP_BACKOFF_MAX 100   /* ms */
#define HOP_MAX_PAYLOAD (16u * 1024u * 1024u) /* as nng's recv limit */
/* The request id of every message the hop sends (its calls are told
 * apart by their tags inside the body, as libusersclient's are). */
#define HOP_REQUEST_ID 0x80000001u

typedef enum { HOP_DOWN, HOP_CONNECTING, HOP_HELLO, HOP_UP } hop_state;

typedef struct hop_conn {
	struct gw_hop *hop;
	size_t index; /* the daemon's, in the client */
	bool carried; /* ours (else nng's) */
	bool ipc;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	/* loop 0 only */
	hop_state state;
	h2o_socket_t *sock;
	bool writing; /* a write is in progress (the hello, or a message) */
	uint8_t hello[UP_SP_HELLO_LEN];
	uint8_t head[UP_SP_HEAD_MAX + 4]; /* and the request id */
	uint8_t *body; /* the message being written (the client's, freed) */
	h2o_timeout_entry_t retry;
	h2o_timeout_entry_t hello_due; /* from the connect until UP */
	unsigned retry_ticks;          /* ticks left before the next connect */
	unsigned backoff_ms;
	bool refused_said; /* the log says a protocol refusal once */
	atomic_bool kicked;
} hop_conn;

struct gw_hop {
	gw_server *srv;
	uc_transport transport;
	uc_client *uc; /* set once open */
	hop_conn conns[GW_MAX_DAEMONS];
	size_t n;
	bool any; /* some daemon is carried */
	/* loop 0 (owner: set before the loops start, read by kicks) */
	_Atomic(gw_thread *) owner;
	h2o_timeout_t tick;
	h2o_timeout_t hello_wait;
	bool tick_init;
	bool wrote;         /* a write started by gw_hop_pump itself */
	atomic_bool posted; /* a wake-up of loop 0 is on its way */
	/* detach (main thread <-> loop 0): the request read by every pump
	 * without a lock; the rest under mtx */
	atomic_bool detach_req;
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	bool started, detached;
};

/* The hop whose loop this thread runs (loop 0), for the kicks. */
static _Thread_local gw_hop *hop_here;

static void conn_connect(hop_conn *k);

/* uc_transport.carries: ipc:// URLs, and tcp:// URLs with an address
 * (not a host name). Anything else stays with nng, which resolves names
 * at each dial and says what is wrong. */
static bool
hop_carries(void *ctx, size_t daemon, const char *url)
{
	gw_hop *h = ctx;
	hop_conn *k;

	if (daemon >= GW_MAX_DAEMONS) {
		return false;
	}
	k = &h->conns[daemon];
	k->carried = up_sp_addr(url, &k->addr, &k->addrlen, &k->ipc) == 0;
	if (k->carried) {
		h->any = true;
		fprintf(stderr,
			"usersgw: daemon %zu (%s): calls on the first loop's "
			"own connection\n",
			daemon, url);
	}
	return k->carried;
}

/* ------------------------------------------------------------------------
 * Kicks and the pump
 */

/* uc_transport.kick: any thread, under the client's lock. */
static void
hop_kick(void *ctx, size_t daemon)
{
	gw_hop *h = ctx;

	atomic_store(&h->conns[daemon].kicked, true);
	if (hop_here == h) {
		return; /* loop 0: pumped when this turn or event ends */
	}
	if (!atomic_exchange(&h->posted, true)) {
		gw_thread *owner = atomic_load(&h->owner);

		if (owner != NULL) {
			h2o_multithread_send_message(&owner->replies, NULL);
		}
	}
}

/* Writes daemon k's next message, if it has one and may. */
static void conn_write(hop_conn *k);

static void on_written(h2o_socket_t *sock, const char *err);

static void conn_lost(hop_conn *k);

/* Closes daemon k's connection, if any (no write callback after this),
 * and drops the message being written: DOWN, nothing told to anyone. */
static void
conn_close(hop_conn *k)
{
	if (k->sock != NULL) {
		h2o_socket_close(k->sock);
		k->sock = NULL;
	}
	if (h2o_timeout_is_linked(&k->hello_due)) {
		h2o_timeout_unlink(&k->hello_due);
	}
	free(k->body);
	k->body = NULL;
	k->writing = false;
	k->state = HOP_DOWN;
}

static void conn_refused(hop_conn *k, const char *what);

static void
conn_write(hop_conn *k)
{
	gw_hop *h = k->hop;
	uint8_t *body;
	size_t len, hl;
	h2o_iovec_t v[2];

	if (k->state != HOP_UP || k->writing ||
	    uc_transport_take(h->uc, k->index, &body, &len) != 1) {
		return;
	}
	k->body = body;
	k->writing = true;
	h->wrote = true;
	hl = up_sp_head(k->head, k->ipc, 4 + len);
	k->head[hl++] = (uint8_t)(HOP_REQUEST_ID >> 24);
	k->head[hl++] = (uint8_t)(HOP_REQUEST_ID >> 16);
	k->head[hl++] = (uint8_t)(HOP_REQUEST_ID >> 8);
	k->head[hl++] = (uint8_t)HOP_REQUEST_ID;
	v[0] = h2o_iovec_init(k->head, hl);
	v[1] = h2o_iovec_init(body, len);
	h2o_socket_write(k->sock, v, 2, on_written);
}

/* Loop 0 detaches: every connection closed, no call into the client. */
static void
hop_detach_here(gw_hop *h)
{
	for (size_t i = 0; i < h->n; i++) {
		hop_conn *k = &h->conns[i];

		if (!k->carried) {
			continue;
		}
		conn_close(k);
		if (h2o_timeout_is_linked(&k->retry)) {
			h2o_timeout_unlink(&k->retry);
		}
	}
	pthread_mutex_lock(&h->mtx);
	h->detached = true;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mtx);
}

bool
gw_hop_pump(gw_hop *h)
{
	if (h == NULL || !h->any || hop_here != h || h->detached) {
		return false;
	}
	if (atomic_load(&h->detach_req)) {
		hop_detach_here(h);
		return false;
	}
	h->wrote = false;
	atomic_store(&h->posted, false);
	for (size_t i = 0; i < h->n; i++) {
		hop_conn *k = &h->conns[i];

		if (k->carried && atomic_exchange(&k->kicked, false)) {
			conn_write(k);
		}
	}
	return h->wrote;
}

/* uc_transport.detach: the main thread (uc_client_close). */
static void
hop_detach(void *ctx)
{
	gw_hop *h = ctx;

	pthread_mutex_lock(&h->mtx);
	atomic_store(&h->detach_req, true);
	if (h->started && !h->detached) {
		h2o_multithread_send_message(&atomic_load(&h->owner)->replies,
					     NULL);
		while (!h->detached) {
			pthread_cond_wait(&h->cv, &h->mtx);
		}
	}
	pthread_mutex_unlock(&h->mtx);
}

/* ------------------------------------------------------------------------
 * Connections (loop 0)
 */

static void
on_written(h2o_socket_t *sock, const char *err)
{
	hop_conn *k = sock->data;
	bool message = k->body != NULL;

	free(k->body);
	k->body = NULL;
	k->writing = false;
	if (err != NULL) {
		conn_lost(k);
		return;
	}
	if (message) {
		uc_transport_sent(k->hop->uc, k->index, true);
	}
	conn_write(k); /* what piled up meanwhile (or waited for the hello) */
	gw_hop_pump(k->hop);
}

static void
on_hello_due(h2o_timeout_entry_t *entry)
{
	hop_conn *k = H2O_STRUCT_FROM_MEMBER(hop_conn, hello_due, entry);

	conn_refused(k, "did not answer the SP hello within 10 s");
	gw_hop_pump(k->hop);
}

static void
on_retry(h2o_timeout_entry_t *entry)
{
	hop_conn *k = H2O_STRUCT_FROM_MEMBER(hop_conn, retry, entry);

	if (k->retry_ticks > 1) {
		k->retry_ticks--;
		h2o_timeout_link(atomic_load(&k->hop->owner)->loop,
				 &k->hop->tick, &k->retry);
		return;
	}
	k->retry_ticks = 0;
	conn_connect(k);
}

/* A connect after a random wait below the backoff, which then doubles. */
static void
conn_retry(hop_conn *k)
{
	unsigned r = 0;

	if (k->backoff_ms == 0) {
		k->backoff_ms = HOP_TICK_MS;
	}
	(void)getrandom(&r, sizeof(r), GRND_NONBLOCK);
	k->retry_ticks = 1 + r % (k->backoff_ms / HOP_TICK_MS);
	if ((k->backoff_ms *= 2) > HOP_BACKOFF_MAX) {
		k->backoff_ms = HOP_BACKOFF_MAX;
	}
	h2o_timeout_link(atomic_load(&k->hop->owner)->loop, &k->hop->tick,
			 &k->retry);
}

static void
conn_lost(hop_conn *k)
{
	bool was_up = k->state == HOP_UP;

	conn_close(k);
	if (was_up) {
		uc_transport_down(k->hop->uc, k->index);
	}
	conn_retry(k);
}

/* The daemon's bytes do not speak our protocol: said once, then closed. */
static void
conn_refused(hop_conn *k, const char *what)
{
	if (!k->refused_said) {
		k->refused_said = true;
		fprintf(stderr,
			"usersgw: daemon %zu (%s) %s; its connection is "
			"closed and made again\n",
			k->index, k->hop->srv->cfg.daemons[k->index], what);
	}
	conn_lost(k);
}

static void
on_read(h2o_socket_t *sock, const char *err)
{
	hop_conn *k = sock->data;
	gw_hop *h = k->hop;

	if (err != NULL) {
		conn_lost(k);
		goto out;
	}
	if (k->state == HOP_HELLO) {
		if (sock->input->size < UP_SP_HELLO_LEN) {
			goto out;
		}
		if (up_sp_hello_check((const uint8_t *)sock->input->bytes,
				      UP_SP_REP) != 0) {
			conn_refused(k, "is no nng REP peer");
			goto out;
		}
		h2o_buffer_consume(&sock->input, UP_SP_HELLO_LEN);
		h2o_timeout_unlink(&k->hello_due);
		k->state = HOP_UP;
		k->backoff_ms = 0;
		uc_transport_up(h->uc, k->index);
		conn_write(k);
	}
	while (k->state == HOP_UP) {
		size_t frame_len, body_off;
		const uint8_t *p = (const uint8_t *)sock->input->bytes;
		int r = up_sp_next(p, sock->input->size, k->ipc,
				   HOP_MAX_PAYLOAD, &frame_len, &body_off);

		if (r == 0) {
			break;
		}
		/* a reply to us: one word of backtrace, our request id */
		if (r < 0 || body_off != (k->ipc ? 9u : 8u) + 4u) {
			conn_refused(k, "sent bytes that are no reply of ours");
			break;
		}
		uc_transport_received(h->uc, k->index, p + body_off,
				      frame_len - body_off);
		h2o_buffer_consume(&sock->input, frame_len);
	}
out:
	gw_hop_pump(h);
}

static void
on_connect(h2o_socket_t *sock, const char *err)
{
	hop_conn *k = sock->data;
	h2o_iovec_t v;

	if (err != NULL) {
		conn_lost(k);
		return;
	}
	k->state = HOP_HELLO;
	up_sp_hello(k->hello, UP_SP_REQ);
	v = h2o_iovec_init(k->hello, sizeof(k->hello));
	k->writing = true;
	h2o_socket_write(sock, &v, 1, on_written);
	h2o_socket_read_start(sock, on_read);
}

static void
conn_connect(hop_conn *k)
{
	h2o_loop_t *loop = atomic_load(&k->hop->owner)->loop;

	k->sock = h2o_socket_connect(loop, (struct sockaddr *)&k->addr,
				     k->addrlen, on_connect);
	if (k->sock == NULL) {
		conn_retry(k); /* refused at once (no listener yet) */
		return;
	}
	k->sock->data = k;
	k->state = HOP_CONNECTING;
	h2o_timeout_link(loop, &k->hop->hello_wait, &k->hello_due);
}

/* ------------------------------------------------------------------------
 * Life
 */

int
gw_hop_init(gw_server *srv)
{
	gw_hop *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		return -1;
	}
	h->srv = srv;
	h->n = srv->cfg.n_daemons;
	pthread_mutex_init(&h->mtx, NULL);
	pthread_cond_init(&h->cv, NULL);
	for (size_t i = 0; i < GW_MAX_DAEMONS; i++) {
		h->conns[i].hop = h;
		h->conns[i].index = i;
		atomic_init(&h->conns[i].kicked, false);
	}
	atomic_init(&h->posted, false);
	atomic_init(&h->owner, NULL);
	atomic_init(&h->detach_req, false);
	h->transport.ctx = h;
	h->transport.carries = hop_carries;
	h->transport.kick = hop_kick;
	h->transport.detach = hop_detach;
	srv->hop = h;
	return 0;
}

const uc_transport *
gw_hop_transport(gw_hop *h)
{
	return h == NULL ? NULL : &h->transport;
}

void
gw_hop_set_client(gw_hop *h, uc_client *uc)
{
	if (h != NULL) {
		h->uc = uc;
	}
}

void
gw_hop_bind(gw_hop *h, gw_thread *t)
{
	if (h != NULL) {
		atomic_store(&h->owner, t);
	}
}

void
gw_hop_start(gw_hop *h, gw_thread *t)
{
	if (h == NULL || !h->any || atomic_load(&h->owner) != t) {
		return;
	}
	hop_here = h;
	h2o_timeout_init(t->loop, &h->tick, HOP_TICK_MS);
	h2o_timeout_init(t->loop, &h->hello_wait, HOP_HELLO_MS);
	h->tick_init = true;
	for (size_t i = 0; i < h->n; i++) {
		hop_conn *k = &h->conns[i];

		if (k->carried) {
			k->retry.cb = on_retry;
			k->hello_due.cb = on_hello_due;
			conn_connect(k);
		}
	}
	pthread_mutex_lock(&h->mtx);
	h->started = true;
	pthread_mutex_unlock(&h->mtx);
}

void
gw_hop_stop(gw_hop *h, gw_thread *t)
{
	if (h == NULL || atomic_load(&h->owner) != t || !h->tick_init) {
		return;
	}
	if (!h->detached) {
		hop_detach_here(h); /* (the client was never closed) */
	}
	h2o_timeout_dispose(t->loop, &h->tick);
	h2o_timeout_dispose(t->loop, &h->hello_wait);
	h->tick_init = false;
	hop_here = NULL;
}

void
gw_hop_fini(gw_server *srv)
{
	gw_hop *h = srv->hop;

	if (h == NULL) {
		return;
	}
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mtx);
	free(h);
	srv->hop = NULL;
}
