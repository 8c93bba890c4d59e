/*
 * io.c - libusersclient's own connections to ipc:// and tcp:// daemons.
 *
 * Over nng, every call crosses nng's threads twice in the client: the
 * send is handed to nng's task thread, the answer read by its poller and
 * handed to another task thread that runs our callback. usersd reads its
 * connections on loops of its own and usersgw carries its hop on its
 * first loop (docs/decisions.md, sections 23 and 24); this is the same for
 * every other caller (usersctl, usersbench, internal services): one thread
 * per client, an epoll loop, that connects, speaks nng's SP framing
 * (up_sp_*, users_proto.h) and moves the client's messages, as a
 * transport of the client's (usersclient.h, "Transports of the caller's
 * own"). The client keeps the calls, batches, deadlines, resends and moves
 * between daemons. tls+tcp://, tcp:// with a host name (resolved by nng at
 * each dial; getaddrinfo would block the loop) and uc_options.hop_nng stay
 * with nng.
 *
 * One connection per daemon, in one of:
 *   DOWN        not connected; a connect is due after a random wait below
 *               10 ms, then 20, 40, 80 and at most 100 ms (nng's backoff)
 *   CONNECTING  connect() in progress
 *   HELLO       connected, our hello sent, the daemon's awaited
 *   UP          messages both ways; told to the client (uc_transport_up)
 * Not UP within 10 s of the connect (nng's limit for the hello): closed
 * and made again.
 *
 * Sending: the client kicks a daemon with calls to send (any thread, under
 * its lock): the kick raises a flag and, from another thread, wakes the
 * loop through an eventfd. After each event the loop takes the calls of
 * every kicked daemon that is UP and not writing (uc_transport_take) and
 * writes them as one message. When the kernel takes it whole, the client
 * is told at once (uc_transport_sent) and what piled up meanwhile goes
 * next; otherwise EPOLLOUT goes on with it. Calls that callbacks start
 * while the loop runs answers (a closed-loop caller) leave at the end of
 * that event, with no wake-up at all.
 * Receiving: each whole frame goes to the client (uc_transport_received),
 * which runs the answers' callbacks on this thread.
 * A connection that fails (an error, the daemon gone, bytes that are not a
 * reply of ours) is closed, told to the client (uc_transport_down: its
 * calls move or fail at once) and made again.
 *
 * Stopping: uc_client_close calls detach once no call is in flight; the
 * thread stops and every connection closes; nothing here touches the
 * client after that.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client_io.h"
#include "users_proto.h"

#define IO_TICK_MS     10
#define IO_HELLO_MS    10000
#define IO_BACKOFF_MAX 100
#define IO_EVENTS      32
#define IO_REQUEST_ID  0x80000001u /* every message's: calls go by tag */

typedef enum { IO_DOWN, IO_CONNECTING, IO_HELLO, IO_UP } io_state;

typedef struct io_conn {
	struct uc_io *io;
	size_t index;
	bool carried;
	bool ipc;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	/* the loop's */
	io_state state;
	int fd;
	int64_t due_ms; /* DOWN: the next connect; else the hello's limit */
	unsigned backoff_ms;
	up_sp_in in; /* read, not yet handed over (answers carry tokens) */
	uint8_t head[UP_SP_HEAD_MAX + 4]; /* and the request id */
	size_t head_len;
	uint8_t *body;        /* the message being written (the client's) */
	size_t body_len, off; /* off: over head and body */
	bool watch_out;       /* EPOLLOUT in the set (see watch_out) */
	bool refused_said;    /* a refusal is logged once per daemon */
	atomic_bool kicked;
} io_conn;

struct uc_io {
	uc_transport t;
	uc_client *c;
	io_conn *conns;
	size_t n;
	size_t max_payload;
	int ep, wake;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	atomic_bool posted; /* a wake-up is on its way */
};

/* The io whose loop this thread runs (kicks from it need no wake-up). */
static _Thread_local uc_io *io_here;

/* ------------------------------------------------------------------------
 * The transport's calls (the client's threads)
 */

static bool
io_carries(void *ctx, size_t daemon, const char *url)
{
	uc_io *io = ctx;
	io_conn *k;

	if (daemon >= io->n) {
		return false;
	}
	k = &io->conns[daemon];
	k->carried = up_sp_addr(url, &k->addr, &k->addrlen, &k->ipc) == 0;
	return k->carried;
}

static void
io_wake(uc_io *io)
{
	static const uint64_t one = 1;

	if (!atomic_exchange(&io->posted, true)) {
		ssize_t w = write(io->wake, &one, sizeof(one));

		(void)w; /* a full counter: it is awake anyway */
	}
}

/* Any thread, under the client's lock: noted, and the loop woken. */
static void
io_kick(void *ctx, size_t daemon)
{
	uc_io *io = ctx;

	atomic_store(&io->conns[daemon].kicked, true);
	if (io_here != io) {
		io_wake(io);
	}
}

/* uc_client_close (no call in flight): the loop stops. */
static void
io_detach(void *ctx)
{
	uc_io *io = ctx;

	if (io->started) {
		atomic_store(&io->stop, true);
		atomic_store(&io->posted, false);
		io_wake(io);
		pthread_join(io->thread, NULL);
		io->started = false;
	}
}

/* ------------------------------------------------------------------------
 * Connections (the loop)
 */

/*
 * Whether the loop hears that k's socket takes bytes again: while it
 * connects and while a write waits, not otherwise (a Unix socket reports
 * the space freed each time the daemon reads a message, which would wake
 * the loop for nothing). A change re-reads the socket's state: no edge is
 * lost.
 */
static void
watch_out(io_conn *k, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET |
					   (on ? EPOLLOUT : 0u),
				 .data.ptr = k};

	if (k->watch_out != on &&
	    epoll_ctl(k->io->ep, EPOLL_CTL_MOD, k->fd, &ev) == 0) {
		k->watch_out = on;
	}
}

/* Frees the message being written (it carries credentials). */
static void
body_free(io_conn *k)
{
	up_wipe_free(k->body, k->body_len);
	k->body = NULL;
}

/* Closes k's connection, drops the message being written: DOWN. */
static void
conn_close(io_conn *k)
{
	if (k->fd >= 0) {
		epoll_ctl(k->io->ep, EPOLL_CTL_DEL, k->fd, NULL);
		close(k->fd);
		k->fd = -1;
	}
	body_free(k);
	up_sp_in_fini(&k->in);
	k->state = IO_DOWN;
}

/* Lost (or refused): the client told, a connect after the backoff. */
static void
conn_lost(io_conn *k)
{
	bool was_up = k->state == IO_UP;
	unsigned r = 0;

	conn_close(k);
	if (was_up) {
		uc_transport_down(k->io->c, k->index);
	}
	if (k->backoff_ms == 0) {
		k->backoff_ms = IO_TICK_MS;
	}
	(void)getrandom(&r, sizeof(r), GRND_NONBLOCK);
	k->due_ms = up_mono_ms() + 1 + r % k->backoff_ms;
	if ((k->backoff_ms *= 2) > IO_BACKOFF_MAX) {
		k->backoff_ms = IO_BACKOFF_MAX;
	}
}

/* Writes what the socket takes of the message under way: 1 all of it,
 * 0 the rest waits for EPOLLOUT, -1 the connection broke. */
static int
conn_flush(io_conn *k)
{
	while (k->off < k->head_len + k->body_len) {
		struct iovec v[2];
		struct msghdr mh = {.msg_iov = v};
		ssize_t w;

		if (k->off < k->head_len) {
			v[0].iov_base = k->head + k->off;
			v[0].iov_len = k->head_len - k->off;
			v[1].iov_base = k->body;
			v[1].iov_len = k->body_len;
			mh.msg_iovlen = 2;
		} else {
			v[0].iov_base = k->body + (k->off - k->head_len);
			v[0].iov_len = k->head_len + k->body_len - k->off;
			mh.msg_iovlen = 1;
		}
		w = sendmsg(k->fd, &mh, MSG_NOSIGNAL);
		if (w > 0) {
			k->off += (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 0;
		} else {
			return -1;
		}
	}
	return 1;
}

/* Sends daemon k's messages while the client has some and the kernel
 * takes them whole. */
static void
conn_write(io_conn *k)
{
	uc_io *io = k->io;

	while (k->state == IO_UP) {
		int r;

		if (k->body == NULL) {
			uint8_t *body;
			size_t len;

			if (uc_transport_take(io->c, k->index, &body, &len) !=
			    1) {
				return;
			}
			k->body = body;
			k->body_len = len;
			k->off = 0;
			k->head_len = up_sp_head(k->head, k->ipc, 4 + len);
			k->head[k->head_len++] = (uint8_t)(IO_REQUEST_ID >> 24);
			k->head[k->head_len++] = (uint8_t)(IO_REQUEST_ID >> 16);
			k->head[k->head_len++] = (uint8_t)(IO_REQUEST_ID >> 8);
			k->head[k->head_len++] = (uint8_t)IO_REQUEST_ID;
		}
		if ((r = conn_flush(k)) < 0) {
			conn_lost(k);
			return;
		}
		if (r == 0) {
			watch_out(k, true); /* EPOLLOUT goes on */
			return;
		}
		watch_out(k, false);
		body_free(k);
		uc_transport_sent(io->c, k->index, true);
	}
}

/* Connected: our hello (8 bytes: a new socket takes them whole). */
static void
conn_greet(io_conn *k)
{
	uint8_t hello[UP_SP_HELLO_LEN];

	up_sp_hello(hello, UP_SP_REQ);
	if (send(k->fd, hello, sizeof(hello), MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(hello)) {
		conn_lost(k);
		return;
	}
	k->state = IO_HELLO;
	watch_out(k, false);
}

static void
conn_connect(io_conn *k)
{
	static const int one = 1;
	struct epoll_event ev = {
	    .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = k};
	int rv;

	k->fd = socket(k->addr.ss_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (k->fd < 0) {
		conn_lost(k);
		return;
	}
	if (!k->ipc) {
		setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	k->due_ms = up_mono_ms() + IO_HELLO_MS;
	rv = connect(k->fd, (struct sockaddr *)&k->addr, k->addrlen);
	if (rv != 0 && errno != EINPROGRESS) {
		conn_lost(k); /* refused, not there yet, a full backlog */
		return;
	}
	if (epoll_ctl(k->io->ep, EPOLL_CTL_ADD, k->fd, &ev) != 0) {
		conn_lost(k);
		return;
	}
	k->watch_out = true;
	k->state = IO_CONNECTING;
	if (rv == 0) {
		conn_greet(k);
	}
}

/* Hands over the whole frames read; false when the connection must go. */
static bool
conn_frames(io_conn *k)
{
	up_sp_in *in = &k->in;
	size_t off = 0, head = k->ipc ? 9 : 8;

	if (k->state == IO_HELLO) {
		if (in->len < UP_SP_HELLO_LEN) {
			return true;
		}
		if (up_sp_hello_check(in->p, UP_SP_REP) != 0) {
			return false; /* no daemon of ours (said by the caller)
				       */
		}
		off = UP_SP_HELLO_LEN;
		k->state = IO_UP;
		uc_transport_up(k->io->c, k->index);
		/* what was queued meanwhile goes once the event ends */
		atomic_store(&k->kicked, true);
	}
	while (k->state == IO_UP) {
		size_t frame_len, body_off;
		int r = up_sp_next(in->p + off, in->len - off, k->ipc,
				   k->io->max_payload, &frame_len, &body_off);

		if (r == 0) {
			break;
		}
		/* a reply to us: one word of backtrace, our request id */
		if (r < 0 || body_off != head + 4) {
			return false;
		}
		k->backoff_ms = 0; /* a daemon of ours: quick redials again */
		uc_transport_received(k->io->c, k->index,
				      in->p + off + body_off,
				      frame_len - body_off);
		off += frame_len;
	}
	up_sp_in_consume(in, off);
	return true;
}

/* Reads to EAGAIN and hands the frames over. */
static void
conn_read(io_conn *k)
{
	for (;;) {
		ssize_t n;

		if (up_sp_in_room(&k->in,
				  k->io->max_payload + UP_SP_HEAD_MAX) != 0) {
			conn_lost(k);
			return;
		}
		n = recv(k->fd, k->in.p + k->in.len, k->in.cap - k->in.len, 0);
		if (n > 0) {
			k->in.len += (size_t)n;
			if (!conn_frames(k)) {
				conn_lost(k);
				return;
			}
			continue;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		}
		conn_lost(k); /* the daemon went, or the connection broke */
		return;
	}
}

static void
conn_event(io_conn *k, uint32_t e)
{
	if (k->state == IO_CONNECTING && (e & (EPOLLOUT | EPOLLERR)) != 0) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
		    err != 0) {
			conn_lost(k);
			return;
		}
		conn_greet(k);
	}
	if (k->state == IO_UP && (e & EPOLLOUT) != 0 && k->body != NULL) {
		conn_write(k);
	}
	if (k->state >= IO_HELLO &&
	    (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
		conn_read(k);
	}
}

/* Connects what is due, closes what was not greeted in time; the time
 * until the next of those (-1: none). */
static int
conn_timers(uc_io *io)
{
	int64_t now = up_mono_ms(), next = -1;

	for (size_t i = 0; i < io->n; i++) {
		io_conn *k = &io->conns[i];

		if (!k->carried || k->state == IO_UP) {
			continue;
		}
		if (k->due_ms <= now) {
			if (k->state == IO_DOWN) {
				conn_connect(k);
			} else {
				conn_lost(k); /* no hello within 10 s */
			}
		}
		if (k->state != IO_UP && (next < 0 || k->due_ms - now < next)) {
			next = k->due_ms - now < 0 ? 0 : k->due_ms - now;
		}
	}
	return (int)next;
}

/* The kicked daemons' calls go out. */
static void
pump(uc_io *io)
{
	bool again = true;

	atomic_store(&io->posted, false);
	/* a write that fails moves its calls to another daemon, whose kick
	 * may come after the scan passed it: scan until none comes */
	while (again) {
		again = false;
		for (size_t i = 0; i < io->n; i++) {
			io_conn *k = &io->conns[i];

			if (k->carried && atomic_exchange(&k->kicked, false)) {
				conn_write(k);
				again = true;
			}
		}
	}
}

static void *
io_main(void *arg)
{
	uc_io *io = arg;
	struct epoll_event evs[IO_EVENTS];

	up_thread_name("uc-io");

	io_here = io;
	while (!atomic_load(&io->stop)) {
		int n = epoll_wait(io->ep, evs, IO_EVENTS, conn_timers(io));

		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == io) {
				uint64_t v;

				while (read(io->wake, &v, sizeof(v)) > 0) {
				}
			} else {
				conn_event(evs[i].data.ptr, evs[i].events);
			}
			pump(io);
		}
		if (n <= 0) {
			pump(io);
		}
	}
	for (size_t i = 0; i < io->n; i++) {
		conn_close(&io->conns[i]);
	}
	return NULL;
}

/* ------------------------------------------------------------------------
 * Life
 */

int
uc_io_new(uc_io **out, size_t n, size_t max_payload)
{
	uc_io *io = calloc(1, sizeof(*io));
	struct epoll_event ev = {.events = EPOLLIN};

	*out = NULL;
	if (io == NULL || (io->conns = calloc(n, sizeof(*io->conns))) == NULL) {
		free(io);
		return ENOMEM;
	}
	io->n = n;
	io->max_payload = max_payload;
	io->ep = io->wake = -1;
	io->t = (uc_transport){.ctx = io,
			       .carries = io_carries,
			       .kick = io_kick,
			       .detach = io_detach};
	atomic_init(&io->stop, false);
	atomic_init(&io->posted, false);
	for (size_t i = 0; i < n; i++) {
		io->conns[i].io = io;
		io->conns[i].index = i;
		io->conns[i].fd = -1;
		atomic_init(&io->conns[i].kicked, false);
	}
	ev.data.ptr = io;
	if ((io->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (io->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    epoll_ctl(io->ep, EPOLL_CTL_ADD, io->wake, &ev) != 0) {
		int e = errno;

		uc_io_free(io);
		return e;
	}
	*out = io;
	return 0;
}

const uc_transport *
uc_io_transport(uc_io *io)
{
	return &io->t;
}

int
uc_io_start(uc_io *io, uc_client *c)
{
	int rv;

	io->c = c;
	if ((rv = pthread_create(&io->thread, NULL, io_main, io)) != 0) {
		return rv;
	}
	io->started = true;
	return 0;
}

void
uc_io_free(uc_io *io)
{
	if (io == NULL) {
		return;
	}
	io_detach(io);
	for (size_t i = 0; io->conns != NULL && i < io->n; i++) {
		conn_close(&io->conns[i]);
	}
	if (io->wake >= 0) {
		close(io->wake);
	}
	if (io->ep >= 0) {
		close(io->ep);
	}
	free(io->conns);
	free(io);
}
