/*
 * loop.c - usersd's own listeners for ipc:// and tcp:// (loop.h).
 *
 * Why. Through nng, a request crossed four threads in usersd: nng's poller
 * read the socket, its task thread ran our receiver, and the answer went
 * back the same way. At half the gateway's maximum rate that was about
 * four thread slices and 50 us of CPU per GET, most of it nng's threads
 * waking each other (docs/decisions.md, "usersd's listeners on loops of
 * its own"). nng 1.5 cannot be driven by an application's loop, so these
 * listeners read and write nng's wire themselves, as usersgw's hop does
 * from the other end. Clients cannot tell: the bytes are nng's.
 *
 * Threads. n loops, each an epoll set and an eventfd to wake it. Every
 * listener is in every loop's set (EPOLLEXCLUSIVE: one loop wakes per new
 * connection), and a connection stays on the loop that accepted it. A loop
 * reads; it never blocks on anything but epoll_wait.
 *
 * A connection. On accept we send our hello (REP v0) and wait at most
 * HELLO_MS for the client's (REQ v0), as nng does; then its bytes are
 * read, edge-triggered, into a buffer that grows up to the largest frame
 * allowed, and each whole frame goes to the message hook. After
 * READS_PER_TURN reads the connection waits its turn behind the others
 * (the backlog), so one busy client cannot starve the rest.
 *
 * Writing. The owner writes from whichever thread finished a call, under
 * its lock for the connection: straight into the socket, so an answer
 * costs no thread wake-up. When the kernel takes only part, the rest is
 * kept and the loop, told by EPOLLOUT, calls the writable hook to go on.
 * want_out is set before each write is tried, so an EPOLLOUT edge that
 * comes between a short write and its rest being kept is not lost.
 *
 * Bounds. A frame longer than max_payload, a frame with no request id, or
 * a wrong hello closes its connection (nng does the same). When the
 * owner's bound on calls in flight is reached (may_take), a loop stops
 * handing messages over: the connection goes to the backlog with its
 * bytes, the loop stops reading it, the kernel's buffers fill and TCP
 * slows the client down; ud_loop_wake lets the loops go on. A client that
 * sends requests and does not read the answers stalls its connection
 * alone: once the owner says its answers pile up (UD_TAKE_STALLED), no
 * more is read from it until the kernel takes the rest of an answer (the
 * writable hook, on this loop), so what a connection makes usersd hold
 * stays bounded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "users_proto.h"

#define LOOPS_MAX       16
#define LISTENERS_MAX   16
#define EVENTS          64
#define HELLO_MS        10000 /* nng's own handshake limit */
#define READS_PER_TURN  4
#define OUT_KEEP        (64 * 1024) /* a larger idle output buffer goes */
#define ACCEPT_PAUSE_MS 100         /* after EMFILE: let descriptors free */
#define CONNS_RESERVE   128         /* descriptors never taken by connections */

enum { K_WAKE, K_LISTEN, K_CONN };

typedef struct listener {
	int kind; /* K_LISTEN: first, as in every epoll tag */
	int fd;
	bool ipc;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev; /* the socket file we made: removed only if still ours */
	ino_t ino;
	bool removed;
} listener;

typedef struct lthread lthread;

struct ud_conn {
	int kind; /* K_CONN */
	lthread *t;
	int fd;
	bool ipc;
	bool up;                /* hello received */
	bool in_more;           /* no EAGAIN seen since the last read edge */
	bool backlog;           /* on t's backlog */
	bool stalled;           /* its answers wait for the client: not read */
	int64_t born_ms;        /* for the hello's limit */
	void *peer;             /* the owner's, once up */
	up_sp_in in;            /* read, not yet handed over */
	ud_conn *prev, *next;   /* t's connections */
	ud_conn *hprev, *hnext; /* t's waiting for hello, oldest first */
	ud_conn *prev_backlog, *next_backlog;
	/* Output: under the owner's lock. */
	uint8_t *out;
	size_t out_off, out_len, out_cap;
	atomic_bool want_out;
	atomic_bool broken;
};

struct lthread {
	int kind; /* K_WAKE */
	ud_loop *l;
	pthread_t thread;
	bool started;
	int ep, wake;
	bool parked;          /* waits for ud_loop_wake: no backlog turns */
	bool quiesced;        /* took the listeners out of its set */
	int64_t paused_until; /* listeners out of the set (EMFILE) */
	ud_conn *conns;
	ud_conn *hellos, *hellos_tail; /* waiting for hello, oldest first */
	ud_conn *backlog, *backlog_tail;
};

struct ud_loop {
	ud_loop_hooks h;
	size_t max_payload;
	listener listeners[LISTENERS_MAX];
	size_t n_listeners;
	lthread threads[LOOPS_MAX];
	unsigned n;
	atomic_bool stop, quiesce;
	atomic_bool parked; /* some loop waits for ud_loop_wake */
	atomic_uint conns;  /* open, on every loop */
	unsigned conns_max; /* beyond, new ones are closed at once */
};

/* ------------------------------------------------------------------------
 * Listening
 */

/* The address family a URL's scheme asks for (AF_UNIX for ipc://,
 * AF_UNSPEC for tcp://), with *rest after "://"; -1 when not ours. */
static int
scheme_of(const char *url, const char **rest)
{
	static const struct {
		const char *p;
		int family;
	} s[] = {{"ipc://", AF_UNIX},
		 {"tcp://", AF_UNSPEC},
		 {"tcp4://", AF_INET},
		 {"tcp6://", AF_INET6}};

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		size_t n = strlen(s[i].p);

		if (strncmp(url, s[i].p, n) == 0) {
			*rest = url + n;
			return s[i].family;
		}
	}
	return -1;
}

bool
ud_loop_serves(const char *url)
{
	const char *rest;

	return url != NULL && scheme_of(url, &rest) >= 0;
}

/*
 * Whether something answers at path: a socket file left by a daemon that
 * died is removed and bound again, as nng does; a live one is not ours.
 */
static bool
ipc_in_use(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool used;

	if (fd < 0) {
		return true;
	}
	used = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ||
	       errno != ECONNREFUSED;
	close(fd);
	return used;
}

static int
listen_ipc(listener *ls, const char *path, char *why, size_t wn)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(why, wn, "an ipc:// path of 1 to %zu bytes",
			 sizeof(sa.sun_path) - 1);
		return EINVAL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			 0)) < 0) {
		snprintf(why, wn, "socket: %s", strerror(errno));
		return errno;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		if (e == EADDRINUSE && !ipc_in_use(&sa) && unlink(path) == 0) {
			e = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0
				? 0
				: errno;
		}
		if (e != 0) {
			snprintf(why, wn, "%s", strerror(e));
			close(fd);
			return e;
		}
	}
	if (listen(fd, SOMAXCONN) != 0 || stat(path, &st) != 0) {
		int e = errno;

		snprintf(why, wn, "listen: %s", strerror(e));
		close(fd);
		unlink(path);
		return e;
	}
	ls->fd = fd;
	ls->ipc = true;
	ls->dev = st.st_dev;
	ls->ino = st.st_ino;
	memcpy(ls->path, path, strlen(path) + 1);
	return 0;
}

/* HOST:PORT, [V6]:PORT, :PORT or *:PORT (any address). */
static int
listen_tcp(listener *ls, const char *hostport, int family, char *why, size_t wn)
{
	char host[256];
	const char *colon = strrchr(hostport, ':'), *h = hostport;
	size_t hl;
	struct addrinfo hints = {.ai_family = family,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV |
					     AI_ADDRCONFIG};
	struct addrinfo *ai = NULL;
	int fd = -1, one = 1, rv;

	if (colon == NULL || colon[1] == '\0') {
		snprintf(why, wn, "tcp://HOST:PORT");
		return EINVAL;
	}
	hl = (size_t)(colon - hostport);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl >= sizeof(host)) {
		snprintf(why, wn, "a host name of at most %zu bytes",
			 sizeof(host) - 1);
		return EINVAL;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	rv = getaddrinfo(hl == 0 || strcmp(host, "*") == 0 ? NULL : host,
			 colon + 1, &hints, &ai);
	if (rv != 0) {
		snprintf(why, wn, "%s", gai_strerror(rv));
		return EINVAL;
	}
	rv = 0;
	if ((fd = socket(ai->ai_family,
			 SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, SOMAXCONN) != 0) {
		rv = errno;
		snprintf(why, wn, "%s", strerror(rv));
		if (fd >= 0) {
			close(fd);
		}
	} else {
		ls->fd = fd;
		ls->ipc = false;
	}
	freeaddrinfo(ai);
	return rv;
}

int
ud_loop_listen(ud_loop *l, const char *url, char *why, size_t wn)
{
	const char *rest;
	int family = scheme_of(url, &rest), rv;
	listener *ls;

	why[0] = '\0';
	if (family < 0) {
		snprintf(why, wn, "not an ipc:// or tcp:// URL");
		return EINVAL;
	}
	if (l->n_listeners == LISTENERS_MAX) {
		snprintf(why, wn, "at most %d such listeners", LISTENERS_MAX);
		return EINVAL;
	}
	ls = &l->listeners[l->n_listeners];
	ls->kind = K_LISTEN;
	rv = family == AF_UNIX ? listen_ipc(ls, rest, why, wn)
			       : listen_tcp(ls, rest, family, why, wn);
	if (rv == 0) {
		l->n_listeners++;
	}
	return rv;
}

/* Puts the listeners in t's set, or takes them out. */
static void
listeners_watch(lthread *t, bool on)
{
	ud_loop *l = t->l;

	for (size_t i = 0; i < l->n_listeners; i++) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE,
					 .data.ptr = &l->listeners[i]};

		if (on) {
			epoll_ctl(t->ep, EPOLL_CTL_ADD, l->listeners[i].fd,
				  &ev);
		} else {
			epoll_ctl(t->ep, EPOLL_CTL_DEL, l->listeners[i].fd,
				  NULL);
		}
	}
}

/* ------------------------------------------------------------------------
 * Connections
 */

static void
backlog_push(lthread *t, ud_conn *c)
{
	if (c->backlog) {
		return;
	}
	c->backlog = true;
	c->next_backlog = NULL;
	c->prev_backlog = t->backlog_tail;
	if (t->backlog_tail != NULL) {
		t->backlog_tail->next_backlog = c;
	} else {
		t->backlog = c;
	}
	t->backlog_tail = c;
}

static void
backlog_remove(lthread *t, ud_conn *c)
{
	if (!c->backlog) {
		return;
	}
	if (c->prev_backlog != NULL) {
		c->prev_backlog->next_backlog = c->next_backlog;
	} else {
		t->backlog = c->next_backlog;
	}
	if (c->next_backlog != NULL) {
		c->next_backlog->prev_backlog = c->prev_backlog;
	} else {
		t->backlog_tail = c->prev_backlog;
	}
	c->backlog = false;
}

/* c said hello, or closes: off the list of those waiting for it. */
static void
hello_done(lthread *t, ud_conn *c)
{
	if (c->up) {
		return;
	}
	c->up = true;
	if (c->hprev != NULL) {
		c->hprev->hnext = c->hnext;
	} else {
		t->hellos = c->hnext;
	}
	if (c->hnext != NULL) {
		c->hnext->hprev = c->hprev;
	} else {
		t->hellos_tail = c->hprev;
	}
}

/* Closes c: the owner lets go first (its hook takes its lock). */
static void
conn_close(lthread *t, ud_conn *c)
{
	ud_loop *l = t->l;

	if (c->peer != NULL) {
		l->h.closed(l->h.arg, c->peer);
		c->peer = NULL;
	}
	hello_done(t, c);
	backlog_remove(t, c);
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		t->conns = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	epoll_ctl(t->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	atomic_fetch_sub(&l->conns, 1);
	up_sp_in_fini(&c->in);
	up_wipe_free(c->out, c->out_cap);
	free(c);
}

static void
accept_all(lthread *t, listener *ls)
{
	static const int one = 1;

	for (int k = 0; k < EVENTS; k++) {
		uint8_t hello[UP_SP_HELLO_LEN];
		int fd =
		    accept4(ls->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = {.events =
					     EPOLLIN | EPOLLRDHUP | EPOLLET};
		ud_conn *c;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* level-triggered: out of the set a while */
				listeners_watch(t, false);
				t->paused_until =
				    up_mono_ms() + ACCEPT_PAUSE_MS;
			}
			return; /* EAGAIN, or another loop took it */
		}
		if (atomic_fetch_add(&t->l->conns, 1) >= t->l->conns_max) {
			/* Descriptors kept for the store and the rest: the
			 * client retries, as after any refused connection. */
			atomic_fetch_sub(&t->l->conns, 1);
			close(fd);
			continue;
		}
		if (!ls->ipc) {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
		}
		up_sp_hello(hello, UP_SP_REP);
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    send(fd, hello, sizeof(hello), MSG_NOSIGNAL) !=
			(ssize_t)sizeof(hello)) {
			free(c);
			close(fd);
			continue;
		}
		c->kind = K_CONN;
		c->t = t;
		c->fd = fd;
		c->ipc = ls->ipc;
		c->born_ms = up_mono_ms();
		atomic_init(&c->want_out, false);
		atomic_init(&c->broken, false);
		ev.data.ptr = c;
		if (epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = t->conns;
		if (t->conns != NULL) {
			t->conns->prev = c;
		}
		t->conns = c;
		c->hprev = t->hellos_tail;
		if (t->hellos_tail != NULL) {
			t->hellos_tail->hnext = c;
		} else {
			t->hellos = c;
		}
		t->hellos_tail = c;
	}
}

/*
 * Hands over c's whole frames. 0 done (more bytes needed), UD_TAKE_LATER
 * or UD_TAKE_STALLED (the owner takes no more now), -1 the connection
 * must close.
 */
static int
conn_frames(lthread *t, ud_conn *c)
{
	ud_loop *l = t->l;
	up_sp_in *in = &c->in;
	size_t off = 0, head = c->ipc ? 9 : 8;
	int rv = 0;

	if (in->len == 0) {
		return 0; /* (in->p may be NULL: no arithmetic on it) */
	}
	if (!c->up) {
		if (in->len < UP_SP_HELLO_LEN) {
			return 0;
		}
		if (up_sp_hello_check(in->p, UP_SP_REQ) != 0 ||
		    (c->peer = l->h.open(l->h.arg, c)) == NULL) {
			return -1;
		}
		hello_done(t, c);
		off = UP_SP_HELLO_LEN;
	}
	for (;;) {
		size_t frame_len, body_off;
		int r = up_sp_next(in->p + off, in->len - off, c->ipc,
				   l->max_payload, &frame_len, &body_off);

		if (r <= 0) {
			rv = r;
			break;
		}
		if (atomic_load(&l->quiesce)) {
			/* Draining: taken no more, and read on so that the
			 * close is a clean one (unread bytes would make it a
			 * reset, and the answers sent could be lost). The
			 * client's deadline or resend answers it. */
			off += frame_len;
			continue;
		}
		if ((rv = l->h.may_take(l->h.arg, c->peer)) != UD_TAKE_NOW) {
			break;
		}
		l->h.message(l->h.arg, c->peer, in->p + off + head,
			     body_off - head, in->p + off + body_off,
			     frame_len - body_off);
		off += frame_len;
	}
	if (rv >= 0) {
		up_sp_in_consume(in, off);
	}
	return rv;
}

/* Reads and hands over what c has, for one turn. */
static void
conn_input(lthread *t, ud_conn *c)
{
	int r;

	for (int reads = 0;; reads++) {
		ssize_t n;

		if ((r = conn_frames(t, c)) != 0) {
			break;
		}
		if (!c->in_more) {
			return;
		}
		if (reads == READS_PER_TURN) {
			backlog_push(t, c);
			return;
		}
		if (up_sp_in_room(&c->in, t->l->max_payload + UP_SP_HEAD_MAX) !=
		    0) {
			r = -1;
			break;
		}
		n = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len, 0);
		if (n > 0) {
			c->in.len += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->in_more = false;
		} else {
			r = -1; /* the client closed, or the connection broke */
			break;
		}
	}
	if (r == UD_TAKE_STALLED) {
		c->stalled = true; /* the writable hook lets it go on */
		return;
	}
	if (r == UD_TAKE_LATER) {
		/* Parked: its bytes wait (in the buffer and the kernel). */
		backlog_push(t, c);
		t->parked = true;
		atomic_store(&t->l->parked, true);
		/* the owner may have made room meanwhile */
		if (t->l->h.may_take(t->l->h.arg, c->peer) != UD_TAKE_LATER) {
			t->parked = false;
		}
		return;
	}
	conn_close(t, c);
}

/* Closes connections whose client has not said hello in time. */
static void
hello_limit(lthread *t, int64_t now)
{
	while (t->hellos != NULL && now - t->hellos->born_ms >= HELLO_MS) {
		conn_close(t, t->hellos); /* the oldest first */
	}
}

static int
wait_ms(lthread *t, int64_t now)
{
	int64_t ms = -1;

	if (t->backlog != NULL && !t->parked) {
		return 0;
	}
	if (t->hellos != NULL) {
		ms = 1000; /* the hello limit, to a second */
	}
	if (t->paused_until != 0) {
		int64_t left = t->paused_until - now;

		left = left < 0 ? 0 : left;
		ms = ms < 0 || left < ms ? left : ms;
	}
	return (int)ms;
}

static void *
loop_main(void *arg)
{
	lthread *t = arg;
	ud_loop *l = t->l;
	struct epoll_event evs[EVENTS];

	up_thread_name("ud-loop");

	while (!atomic_load(&l->stop)) {
		int64_t now = up_mono_ms();
		int n = epoll_wait(t->ep, evs, EVENTS, wait_ms(t, now));

		if (atomic_load(&l->quiesce) && !t->quiesced) {
			listeners_watch(t, false);
			t->quiesced = true;
			t->paused_until = 0;
		}
		for (int i = 0; i < n; i++) {
			int kind = *(int *)evs[i].data.ptr;
			uint32_t e = evs[i].events;
			ud_conn *c = evs[i].data.ptr;
			uint64_t v;

			if (kind == K_WAKE) {
				while (read(t->wake, &v, sizeof(v)) > 0) {
				}
				t->parked = false;
				continue;
			}
			if (kind == K_LISTEN) {
				if (!t->quiesced && t->paused_until == 0) {
					accept_all(t, evs[i].data.ptr);
				}
				continue;
			}
			bool go = false;

			if ((e & EPOLLOUT) != 0 && c->peer != NULL &&
			    atomic_load(&c->want_out)) {
				l->h.writable(l->h.arg, c->peer);
				go = c->stalled; /* try again */
				c->stalled = false;
			}
			if ((e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
				  EPOLLERR)) != 0) {
				/* read to EAGAIN or EOF; an error shows there
				 */
				c->in_more = true;
				go = true;
			}
			if (go && !c->backlog) {
				conn_input(t, c);
			}
		}
		now = up_mono_ms();
		if (t->paused_until != 0 && now >= t->paused_until &&
		    !t->quiesced) {
			t->paused_until = 0;
			listeners_watch(t, true);
		}
		/* The connections waiting their turn, once each. */
		if (!t->parked) {
			ud_conn *c = t->backlog, *last = t->backlog_tail;

			while (c != NULL && !t->parked) {
				ud_conn *next = c->next_backlog;
				bool end = c == last;

				backlog_remove(t, c);
				conn_input(t, c);
				if (end) {
					break;
				}
				c = next;
			}
		}
		hello_limit(t, now);
	}
	return NULL;
}

/* ------------------------------------------------------------------------
 * The loop
 */

int
ud_loop_new(ud_loop **out, const ud_loop_hooks *hooks, unsigned n,
	    size_t max_payload)
{
	ud_loop *l = calloc(1, sizeof(*l));
	struct rlimit lim;

	*out = NULL;
	if (l == NULL) {
		return ENOMEM;
	}
	l->h = *hooks;
	l->max_payload = max_payload;
	l->n = n == 0 ? 1 : n > LOOPS_MAX ? LOOPS_MAX : n;
	/* Connections up to the descriptors allowed, less a reserve for
	 * the store, the logs, nng and the metrics listener. */
	l->conns_max = 64;
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 &&
	    lim.rlim_cur > 2 * CONNS_RESERVE) {
		l->conns_max = lim.rlim_cur > UINT_MAX
				   ? UINT_MAX - CONNS_RESERVE
				   : (unsigned)lim.rlim_cur - CONNS_RESERVE;
	}
	atomic_init(&l->conns, 0);
	atomic_init(&l->stop, false);
	atomic_init(&l->quiesce, false);
	atomic_init(&l->parked, false);
	for (unsigned i = 0; i < l->n; i++) {
		l->threads[i].ep = -1;
		l->threads[i].wake = -1;
	}
	*out = l;
	return 0;
}

int
ud_loop_start(ud_loop *l)
{
	for (unsigned i = 0; i < l->n; i++) {
		lthread *t = &l->threads[i];
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = t};
		int rv;

		t->kind = K_WAKE;
		t->l = l;
		if ((t->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
		    (t->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
		    epoll_ctl(t->ep, EPOLL_CTL_ADD, t->wake, &ev) != 0) {
			return errno;
		}
		listeners_watch(t, true);
		if ((rv = pthread_create(&t->thread, NULL, loop_main, t)) !=
		    0) {
			return rv;
		}
		t->started = true;
	}
	return 0;
}

static void
wake_all(ud_loop *l)
{
	static const uint64_t one = 1;

	for (unsigned i = 0; i < l->n; i++) {
		if (l->threads[i].wake >= 0) {
			ssize_t w =
			    write(l->threads[i].wake, &one, sizeof(one));

			(void)w; /* full counter: it is awake anyway */
		}
	}
}

void
ud_loop_wake(ud_loop *l)
{
	if (l != NULL && atomic_exchange(&l->parked, false)) {
		wake_all(l);
	}
}

/*
 * Removes an ipc:// listener's socket file, once, and only while it is
 * still the one we made: a daemon started since may have bound the path
 * anew (ours no longer answering), and its file is not ours to remove.
 */
static void
listener_unlink(listener *ls)
{
	struct stat st;

	if (ls->ipc && !ls->removed && stat(ls->path, &st) == 0 &&
	    st.st_dev == ls->dev && st.st_ino == ls->ino) {
		unlink(ls->path);
	}
	ls->removed = true;
}

void
ud_loop_quiesce(ud_loop *l)
{
	if (l == NULL) {
		return;
	}
	atomic_store(&l->quiesce, true);
	/* No new connection from now on, and an ipc:// path free for the
	 * next daemon (nng closes its listeners too); the loops take the
	 * listeners out of their sets. */
	for (size_t i = 0; i < l->n_listeners; i++) {
		shutdown(l->listeners[i].fd, SHUT_RDWR);
		listener_unlink(&l->listeners[i]);
	}
	wake_all(l);
}

void
ud_loop_free(ud_loop *l)
{
	if (l == NULL) {
		return;
	}
	atomic_store(&l->stop, true);
	wake_all(l);
	for (unsigned i = 0; i < l->n; i++) {
		lthread *t = &l->threads[i];

		if (t->started) {
			pthread_join(t->thread, NULL);
		}
		while (t->conns != NULL) {
			ud_conn *c = t->conns;
			uint8_t sink[4096];

			/* what the client sent last, read and dropped: a
			 * close with unread bytes is a reset, which can lose
			 * the answers the kernel still holds */
			while (recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) >
			       0) {
			}
			up_wipe(sink, sizeof(sink));
			conn_close(t, c);
		}
		if (t->wake >= 0) {
			close(t->wake);
		}
		if (t->ep >= 0) {
			close(t->ep);
		}
	}
	for (size_t i = 0; i < l->n_listeners; i++) {
		close(l->listeners[i].fd);
		listener_unlink(&l->listeners[i]);
	}
	free(l);
}

/* ------------------------------------------------------------------------
 * Writing (the owner's lock held)
 */

/*
 * Whether the loop hears that c's socket takes bytes again: only while a
 * write waits for it. Always watched, EPOLLOUT would wake the loop each
 * time the client reads a message (a Unix socket reports the space freed
 * on every read). A change re-reads the socket's state, so an edge that
 * came before it is not lost.
 */
static void
watch_out(ud_conn *c, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET |
					   (on ? EPOLLOUT : 0u),
				 .data.ptr = c};

	epoll_ctl(c->t->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* A broken connection: the loop sees the hang-up and closes it. */
static int
conn_broke(ud_conn *c)
{
	atomic_store(&c->broken, true);
	atomic_store(&c->want_out, false);
	shutdown(c->fd, SHUT_RDWR);
	return -1;
}

int
ud_conn_send_more(ud_conn *c)
{
	if (atomic_load(&c->broken)) {
		return -1;
	}
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n > 0) {
			c->out_off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 1;
		} else {
			return conn_broke(c);
		}
	}
	c->out_off = c->out_len = 0;
	watch_out(c, false);
	if (c->out_cap > OUT_KEEP) {
		up_wipe_free(c->out, c->out_cap);
		c->out = NULL;
		c->out_cap = 0;
	}
	atomic_store(&c->want_out, false);
	return 0;
}

int
ud_conn_send(ud_conn *c, const uint8_t *hdr, size_t hl, const uint8_t *body,
	     size_t len)
{
	uint8_t head[UP_SP_HEAD_MAX];
	struct iovec iov[3];
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 3};
	size_t total, done = 0, keep_was;
	ssize_t n;

	if (atomic_load(&c->broken)) {
		return -1;
	}
	iov[0].iov_base = head;
	iov[0].iov_len = up_sp_head(head, c->ipc, hl + len);
	iov[1].iov_base = (void *)hdr;
	iov[1].iov_len = hl;
	iov[2].iov_base = (void *)body;
	iov[2].iov_len = len;
	total = iov[0].iov_len + hl + len;
	keep_was = c->out_len - c->out_off;
	if (c->out_len == 0) {
		atomic_store(&c->want_out, true); /* before: see the top */
		while ((n = sendmsg(c->fd, &mh, MSG_NOSIGNAL)) < 0 &&
		       errno == EINTR) {
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			return conn_broke(c);
		}
		done = n < 0 ? 0 : (size_t)n;
		if (done == total) {
			atomic_store(&c->want_out, false);
			return 0;
		}
	}
	/* The rest is kept, after whatever is kept already. */
	if (c->out_len - c->out_off + (total - done) > c->out_cap ||
	    c->out_off > 0) {
		size_t keep = c->out_len - c->out_off;
		size_t cap = keep + (total - done);
		uint8_t *p = malloc(cap);

		if (p == NULL) {
			return conn_broke(c); /* half a frame cannot stay */
		}
		if (keep > 0) {
			memcpy(p, c->out + c->out_off, keep);
		}
		up_wipe_free(c->out, c->out_cap);
		c->out = p;
		c->out_cap = cap;
		c->out_len = keep;
		c->out_off = 0;
	}
	for (int i = 0; i < 3; i++) {
		size_t skip = done < iov[i].iov_len ? done : iov[i].iov_len;

		if (iov[i].iov_len > skip) {
			memcpy(c->out + c->out_len,
			       (uint8_t *)iov[i].iov_base + skip,
			       iov[i].iov_len - skip);
			c->out_len += iov[i].iov_len - skip;
		}
		done -= skip;
	}
	atomic_store(&c->want_out, true);
	if (keep_was == 0) {
		watch_out(c, true);
	}
	return 1;
}
