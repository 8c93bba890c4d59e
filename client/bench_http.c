/*
 * bench_http.c - usersbench --http: drives usersgw over HTTP/1.1.
 *
 * One thread and epoll over --concurrency keep-alive connections (plain
 * sockets), each carrying at most one request at a time: no pipelining.
 * First, one login: POST /auth/credentials with the user and password
 * gives the bearer token every request then carries. Requests: GET
 * /users/{id} and PATCH /users/{id} with a ~130-byte JSON body (the same
 * as tests/bench/run's wrk script), the op drawn by --mix and the id at
 * random from the ids.
 *
 * Closed loop: a connection sends its next request as soon as the answer
 * comes. Open loop (--rate): bench_sched says when each request is due;
 * it goes out on an idle connection, or waits for one, and its latency
 * counts from its due time. The sleep to the next due time is
 * epoll_pwait2's nanosecond timeout, so sends are not rounded to a
 * millisecond.
 *
 * Answers are read with bench_http1 (bounded). A 2xx is a success;
 * anything else counts as an error under its status code. A connection
 * the server closes or that fails is opened again; the request it
 * carried counts as an error with no answer (by_http[0]), and so does
 * one unanswered after --deadline (its connection is closed and opened
 * again). A connection that fails before it carried a request waits
 * RETRY_NS before the next attempt, so a gateway that is down costs no
 * spin.
 *
 * Lifecycle: bench_http_run makes everything it uses (sockets, epoll,
 * buffers, the token) and releases all of it before it returns.
 */
#define _GNU_SOURCE /* epoll_pwait2 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bench_http1.h"
#include "bench_sched.h"
#include "bench_sys.h"
#include "usersbench.h"

#define IN_MAX       65536 /* one response */
#define OUT_MAX      4096  /* one request */
#define TOKEN_MAX    2048
#define HOST_MAX     256
#define RETRY_NS     (100u * 1000000u)
#define SCAN_NS      (10u * 1000000u) /* deadline checks */
#define DEFAULT_DL   5000u
#define LOGIN_SECS   10
#define MAX_EVENTS   64
#define PATCH_BODY_N 130

enum hc_state { HC_DOWN, HC_CONNECTING, HC_IDLE, HC_BUSY };

typedef struct hconn {
	int fd;
	enum hc_state st;
	enum bench_op op;
	bool recorded;
	bool served;       /* carried a request since it connected */
	bool want_out;     /* EPOLLOUT registered */
	uint32_t gen;      /* socket generation: stale events are ignored */
	uint64_t t0, due;  /* ns: sent, and due (open loop) */
	uint64_t retry_at; /* HC_DOWN: not before */
	size_t out_len, out_off, in_len;
	char out[OUT_MAX];
	char in[IN_MAX];
} hconn;

typedef struct hbench {
	const bench_cfg *cfg;
	bench_totals *t;
	char *const *ids;
	unsigned n_ids;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char host[HOST_MAX]; /* the Host header */
	char token[TOKEN_MAX];
	int ep;
	hconn *conns;
	unsigned cursor; /* open loop: where the idle search starts */
	unsigned in_flight;
	bool open, stopping;
	uint64_t rng, seq;
	uint64_t issued; /* closed loop: for --requests */
	uint64_t t_start, measure_from, deadline_ns;
	uint64_t done_all, errors_all; /* warm-up included: progress */
} hbench;

/* ------------------------------------------------------------------------
 * Address and login
 */

/* "http://HOST[:PORT][/]" into addr and the Host header; 0 or -1. */
static int
resolve(hbench *h, const char *url)
{
	const char *p, *host_end, *port = "80";
	char host[HOST_MAX], portbuf[8];
	struct addrinfo hints, *res = NULL;
	size_t n;
	int rc;

	if (strncmp(url, "http://", 7) != 0) {
		fprintf(stderr, "usersbench: --http takes http://HOST:PORT "
				"(no TLS)\n");
		return -1;
	}
	p = url + 7;
	if (*p == '[') {
		host_end = strchr(p, ']');
		if (host_end == NULL) {
			goto bad;
		}
		n = (size_t)(host_end - p - 1);
		if (n == 0 || n >= sizeof(host)) {
			goto bad;
		}
		memcpy(host, p + 1, n);
		host_end++;
	} else {
		host_end = p + strcspn(p, ":/");
		n = (size_t)(host_end - p);
		if (n == 0 || n >= sizeof(host)) {
			goto bad;
		}
		memcpy(host, p, n);
	}
	host[n] = '\0';
	if (*host_end == ':') {
		n = strspn(host_end + 1, "0123456789");
		if (n == 0 || n > 5) {
			goto bad;
		}
		memcpy(portbuf, host_end + 1, n);
		portbuf[n] = '\0';
		port = portbuf;
		host_end += 1 + n;
	}
	if (*host_end != '\0' && strcmp(host_end, "/") != 0) {
		goto bad;
	}
	n = (size_t)(host_end - (url + 7));
	if (n >= sizeof(h->host)) {
		goto bad;
	}
	memcpy(h->host, url + 7, n);
	h->host[n] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "usersbench: %s: %s\n", host, gai_strerror(rc));
		return -1;
	}
	memcpy(&h->addr, res->ai_addr, res->ai_addrlen);
	h->addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
bad:
	fprintf(stderr, "usersbench: bad --http URL: %s\n", url);
	return -1;
}

/* A non-blocking TCP socket connecting to the gateway, or -1. */
static int
open_socket(const hbench *h)
{
	int one = 1;
	int fd = socket(h->addr.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&h->addr, h->addr_len) != 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Waits (poll through epoll) until fd is ready for `events`; 0 or -1. */
static int
wait_fd(int fd, uint32_t events, uint64_t deadline)
{
	struct epoll_event ev = {.events = events};
	int ep = epoll_create1(EPOLL_CLOEXEC), n = -1;
	uint64_t now;

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		goto out;
	}
	while ((now = bench_now_ns()) < deadline) {
		n = epoll_wait(ep, &ev, 1,
			       (int)((deadline - now) / 1000000u) + 1);
		if (n != 0 && !(n < 0 && errno == EINTR)) {
			break;
		}
		n = -1;
	}
out:
	if (ep >= 0) {
		close(ep);
	}
	return n == 1 ? 0 : -1;
}

/*
 * POST /auth/credentials {"userName", "password"}; the bearerToken of the
 * answer into h->token. 0, or -1 after a message.
 */
static int
login(hbench *h)
{
	json_t *body = NULL, *ans = NULL;
	char *json = NULL, *req = NULL, *buf = NULL, *text = NULL;
	const char *tok;
	uint64_t deadline = bench_now_ns() + LOGIN_SECS * UINT64_C(1000000000);
	bh1_response r;
	size_t len = 0, off = 0, req_len;
	ssize_t n;
	int fd = -1, rc = -1, st = BH1_MORE, err = 0;
	socklen_t elen = sizeof(err);

	body = json_pack("{s:s, s:s}", "userName", h->cfg->user, "password",
			 h->cfg->password);
	json = body ? json_dumps(body, JSON_COMPACT) : NULL;
	buf = malloc(IN_MAX);
	text = malloc(IN_MAX);
	if (json == NULL || buf == NULL || text == NULL) {
		fprintf(stderr, "usersbench: out of memory\n");
		goto out;
	}
	req_len = strlen(json) + strlen(h->host) + 200;
	if ((req = malloc(req_len)) == NULL) {
		fprintf(stderr, "usersbench: out of memory\n");
		goto out;
	}
	req_len = (size_t)snprintf(req, req_len,
				   "POST /auth/credentials HTTP/1.1\r\n"
				   "Host: %s\r\nContent-Type: application/"
				   "json\r\nAccept: application/json\r\n"
				   "Content-Length: %zu\r\n\r\n%s",
				   h->host, strlen(json), json);
	fd = open_socket(h);
	if (fd < 0 || wait_fd(fd, EPOLLOUT, deadline) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err) {
		fprintf(stderr, "usersbench: cannot connect to %s: %s\n",
			h->host, strerror(err ? err : errno));
		goto out;
	}
	while (off < req_len) {
		n = write(fd, req + off, req_len - off);
		if (n > 0) {
			off += (size_t)n;
		} else if (n < 0 && errno == EAGAIN &&
			   wait_fd(fd, EPOLLOUT, deadline) == 0) {
			continue;
		} else {
			fprintf(stderr, "usersbench: login: write failed\n");
			goto out;
		}
	}
	while (st == BH1_MORE && len < IN_MAX) {
		n = read(fd, buf + len, IN_MAX - len);
		if (n > 0) {
			len += (size_t)n;
			st = bh1_parse(buf, len, &r);
		} else if (n < 0 && errno == EAGAIN &&
			   wait_fd(fd, EPOLLIN, deadline) == 0) {
			continue;
		} else {
			break;
		}
	}
	if (st != BH1_DONE) {
		fprintf(stderr, "usersbench: login: no answer from %s\n",
			h->host);
		goto out;
	}
	bh1_body(buf, &r, text, IN_MAX);
	if (r.status != 200) {
		fprintf(stderr,
			"usersbench: login as %s failed: HTTP %d %.200s\n",
			h->cfg->user, r.status, text);
		goto out;
	}
	ans = json_loads(text, 0, NULL);
	tok = json_string_value(json_object_get(ans, "bearerToken"));
	if (tok == NULL || tok[0] == '\0' || strlen(tok) >= sizeof(h->token) ||
	    strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			"0123456789-._~+/=") != strlen(tok)) {
		fprintf(stderr, "usersbench: login: no usable bearerToken\n");
		goto out;
	}
	strcpy(h->token, tok);
	rc = 0;
out:
	if (fd >= 0) {
		close(fd);
	}
	json_decref(ans);
	json_decref(body);
	free(json);
	free(req);
	free(buf);
	free(text);
	return rc;
}

/* ------------------------------------------------------------------------
 * Connections
 */

static void
conn_events(hbench *h, hconn *c, bool out)
{
	struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0u),
				 .data.u64 = (uint64_t)(c - h->conns) |
					     ((uint64_t)c->gen << 32)};

	if (c->want_out != out) {
		epoll_ctl(h->ep, EPOLL_CTL_MOD, c->fd, &ev);
		c->want_out = out;
	}
}

static void
conn_open(hbench *h, hconn *c, uint64_t now)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT};

	c->gen++;
	ev.data.u64 = (uint64_t)(c - h->conns) | ((uint64_t)c->gen << 32);
	c->fd = open_socket(h);
	if (c->fd < 0 || epoll_ctl(h->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
		if (c->fd >= 0) {
			close(c->fd);
		}
		c->fd = -1;
		c->st = HC_DOWN;
		c->retry_at = now + RETRY_NS;
		return;
	}
	c->st = HC_CONNECTING;
	c->want_out = true;
	c->served = false;
	c->in_len = 0;
}

/* Counts a finished request: its status (0: no answer) and latency. */
static void
count(hbench *h, hconn *c, int status, uint64_t now)
{
	bench_totals *t = h->t;
	bool ok = status >= 200 && status < 300;

	h->done_all++;
	if (!ok) {
		h->errors_all++;
	}
	if (!c->recorded) {
		return;
	}
	t->by_http[status > 0 && status < HTTP_CODES ? status : 0]++;
	t->op_requests[c->op]++;
	if (!ok) {
		t->op_errors[c->op]++;
	}
	if (status > 0 && t->op_hist[c->op] != NULL) {
		bench_hist_record(
		    t->op_hist[c->op],
		    (bench_sched_latency_ns(h->open ? c->due : c->t0, now) +
		     500) /
			1000);
	}
}

/* Closes c; a request in flight counts as unanswered. Opened again
 * later (at once when it had carried a request: the server closed an
 * idle keep-alive, or answered with Connection: close). */
static void
conn_drop(hbench *h, hconn *c, uint64_t now)
{
	if (c->st == HC_BUSY) {
		count(h, c, 0, now);
		h->in_flight--;
	}
	if (c->fd >= 0) {
		close(c->fd);
	}
	c->fd = -1;
	c->retry_at = c->served ? now : now + RETRY_NS;
	c->st = HC_DOWN;
	c->in_len = 0;
}

/* Writes what is left of c's request; false when the connection failed. */
static bool
conn_flush(hbench *h, hconn *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n > 0) {
			c->out_off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			conn_events(h, c, true);
			return true;
		} else {
			return false;
		}
	}
	conn_events(h, c, false);
	return true;
}

/* Builds the next request into c->out; false if it does not fit. */
static bool
build(hbench *h, hconn *c)
{
	const bench_cfg *cfg = h->cfg;
	const char *id;
	char body[PATCH_BODY_N + 64];
	int n;

	c->op = bench_pick_op(cfg, bench_rng_next(&h->rng));
	id = h->ids[bench_rng_next(&h->rng) % h->n_ids];
	if (c->op == OP_GET) {
		n = snprintf(c->out, sizeof(c->out),
			     "GET /users/%s HTTP/1.1\r\nHost: %s\r\n"
			     "Authorization: Bearer %s\r\n\r\n",
			     id, h->host, h->token);
	} else {
		uint64_t k = h->seq++ % 10000000u;

		/* 130 bytes, as tests/bench/run's wrk script sends. */
		snprintf(body, sizeof(body),
			 "{\"firstName\":\"Bench %07" PRIu64 "\",\"lastName\":"
			 "\"User %07" PRIu64 " of the usersgw benchmark, ids "
			 "rotating over seeded users\",\"accountIds\":null}",
			 k, k);
		n = snprintf(c->out, sizeof(c->out),
			     "PATCH /users/%s HTTP/1.1\r\nHost: %s\r\n"
			     "Authorization: Bearer %s\r\n"
			     "Content-Type: application/json\r\n"
			     "Content-Length: %zu\r\n\r\n%s",
			     id, h->host, h->token, strlen(body), body);
	}
	if (n < 0 || (size_t)n >= sizeof(c->out)) {
		return false;
	}
	c->out_len = (size_t)n;
	c->out_off = 0;
	return true;
}

/* Sends a request on the idle connection c (due: open loop). */
static void
conn_send(hbench *h, hconn *c, uint64_t due)
{
	uint64_t now = bench_now_ns();

	if (!build(h, c)) {
		conn_drop(h, c, now);
		return;
	}
	c->due = due;
	c->t0 = now;
	c->recorded = (h->open ? due : now) >= h->measure_from;
	c->st = HC_BUSY;
	c->served = true;
	h->in_flight++;
	if (!conn_flush(h, c)) {
		conn_drop(h, c, bench_now_ns());
	}
}

/* Closed loop: the next request on an idle connection, unless done. */
static void
closed_next(hbench *h, hconn *c)
{
	if (h->open || h->stopping || c->st != HC_IDLE) {
		return;
	}
	if (h->cfg->max_requests > 0 && h->issued >= h->cfg->max_requests) {
		return;
	}
	h->issued++;
	conn_send(h, c, 0);
}

static void
conn_readable(hbench *h, hconn *c)
{
	bh1_response r;
	uint64_t now;
	ssize_t n;
	int st;

	for (;;) {
		n = read(c->fd, c->in + c->in_len, IN_MAX - c->in_len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			return;
		}
		now = bench_now_ns();
		if (n <= 0 || c->st != HC_BUSY) {
			/* Closed, failed, or bytes nobody asked for. */
			conn_drop(h, c, now);
			return;
		}
		c->in_len += (size_t)n;
		st = bh1_parse(c->in, c->in_len, &r);
		if (st == BH1_MORE && c->in_len < IN_MAX) {
			continue;
		}
		if (st != BH1_DONE || r.size != c->in_len) {
			/* Not a response we read, too large, or pipelined
			 * bytes we never asked for. */
			conn_drop(h, c, now);
			return;
		}
		count(h, c, r.status, now);
		h->in_flight--;
		c->in_len = 0;
		c->st = HC_IDLE;
		if (r.close) {
			conn_drop(h, c, now);
			return;
		}
		closed_next(h, c);
		return;
	}
}

static void
conn_event(hbench *h, hconn *c, uint32_t events)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (c->st == HC_CONNECTING) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
			return;
		}
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
		    err != 0) {
			conn_drop(h, c, bench_now_ns());
			return;
		}
		c->st = HC_IDLE;
		conn_events(h, c, false);
		closed_next(h, c);
		return;
	}
	if ((events & EPOLLOUT) && c->st == HC_BUSY && !conn_flush(h, c)) {
		conn_drop(h, c, bench_now_ns());
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		conn_readable(h, c);
	}
}

/* Opens the connections that are down and due; drops overdue requests. */
static void
maintain(hbench *h, uint64_t now, bool deadlines)
{
	unsigned i;

	for (i = 0; i < h->cfg->concurrency; i++) {
		hconn *c = &h->conns[i];

		if (c->st == HC_DOWN && !h->stopping && now >= c->retry_at) {
			conn_open(h, c, now);
		} else if (deadlines && c->st == HC_BUSY &&
			   now - c->t0 > h->deadline_ns) {
			conn_drop(h, c, now);
		}
	}
}

/* An idle connection, or NULL. */
static hconn *
idle_conn(hbench *h)
{
	unsigned n = h->cfg->concurrency, k, i;

	for (k = 0; k < n; k++) {
		i = (h->cursor + k) % n;
		if (h->conns[i].st == HC_IDLE) {
			h->cursor = i + 1;
			return &h->conns[i];
		}
	}
	return NULL;
}

/* Open loop: sends what is due on idle connections; true when a request
 * is due and none is idle. */
static bool
pump(hbench *h, bench_sched *sc)
{
	unsigned burst = h->cfg->concurrency;
	uint64_t due;
	hconn *c;

	while (burst-- > 0 && bench_sched_wait_ns(sc, bench_now_ns()) == 0) {
		if ((c = idle_conn(h)) == NULL) {
			return true;
		}
		bench_sched_take(sc, bench_now_ns(), &due);
		conn_send(h, c, due);
	}
	return false;
}

/* ------------------------------------------------------------------------
 * The run
 */

static void
progress(hbench *h, uint64_t now, uint64_t *last_t, uint64_t *last_n, bool tty)
{
	double dt = (double)(now - *last_t) / 1e9;

	bench_progress((double)(now - h->t_start) / 1e9, h->done_all,
		       dt > 0 ? (double)(h->done_all - *last_n) / dt : 0.0,
		       h->errors_all, tty);
	*last_t = now;
	*last_n = h->done_all;
}

static void
loop(hbench *h)
{
	const bench_cfg *cfg = h->cfg;
	bench_totals *t = h->t;
	struct epoll_event ev[MAX_EVENTS];
	struct timespec ts;
	bench_sched sc;
	bool tty = isatty(2), full = false;
	uint64_t now, end, stop = 0, drain_until = 0, wait, next_scan;
	uint64_t every = (tty ? 250u : 1000u) * UINT64_C(1000000);
	uint64_t next_tick, last_t, last_n = 0;
	int n, i;

	h->t_start = bench_now_ns();
	h->measure_from = h->t_start + (uint64_t)cfg->warmup_s * 1000000000u;
	end = h->measure_from + (uint64_t)cfg->duration_s * 1000000000u;
	bench_sched_init(&sc, h->t_start, cfg->rate ? cfg->rate : 1,
			 end - h->t_start, h->measure_from);
	last_t = h->t_start;
	next_tick = h->t_start + every;
	next_scan = h->t_start + SCAN_NS;
	maintain(h, h->t_start, false);
	for (;;) {
		now = bench_now_ns();
		if (!h->stopping &&
		    (now >= end || bench_interrupted() ||
		     (!h->open && cfg->max_requests > 0 &&
		      h->issued >= cfg->max_requests && h->in_flight == 0))) {
			stop = now < end ? now : end;
			t->interrupted = bench_interrupted();
			/* What fell due before the stop goes now, if it can. */
			while (h->open && bench_sched_backlog(&sc, stop) > 0 &&
			       !pump(h, &sc)) {
			}
			h->stopping = true;
			drain_until = now + h->deadline_ns + 2000000000u;
		}
		if (h->stopping && (h->in_flight == 0 || now >= drain_until)) {
			break;
		}
		if (now >= next_scan) {
			maintain(h, now, true);
			next_scan = now + SCAN_NS;
		}
		if (h->open && !h->stopping) {
			full = pump(h, &sc);
			now = bench_now_ns();
			bench_sched_note_full(&sc, now, full);
		}
		if (now >= next_tick) {
			progress(h, now, &last_t, &last_n, tty);
			while (next_tick <= now) {
				next_tick += every;
			}
		}
		wait = next_scan > now ? next_scan - now : 0;
		if (next_tick > now && next_tick - now < wait) {
			wait = next_tick - now;
		}
		if (!h->stopping && end > now && end - now < wait) {
			wait = end - now;
		}
		if (h->open && !h->stopping) {
			uint64_t w = full ? SCAN_NS / 100
					  : bench_sched_wait_ns(&sc, now);

			if (w < wait) {
				wait = w;
			}
		}
		ts.tv_sec = (time_t)(wait / 1000000000u);
		ts.tv_nsec = (long)(wait % 1000000000u);
		n = epoll_pwait2(h->ep, ev, MAX_EVENTS, &ts, NULL);
		for (i = 0; i < n; i++) {
			hconn *c = &h->conns[(uint32_t)ev[i].data.u64];

			/* An event of a socket closed earlier in this batch. */
			if (c->gen == (uint32_t)(ev[i].data.u64 >> 32) &&
			    c->fd >= 0) {
				conn_event(h, c, ev[i].events);
			}
		}
	}
	if (tty) {
		progress(h, bench_now_ns(), &last_t, &last_n, tty);
		fputc('\n', stderr);
	}
	/* Still in flight after the drain: unanswered. */
	for (i = 0; i < (int)cfg->concurrency; i++) {
		hconn *c = &h->conns[i];

		if (c->st == HC_BUSY && c->recorded) {
			t->unanswered++;
		}
	}
	if (h->open) {
		bench_sched_finish(&sc, stop, &t->intended, &t->unsent);
		t->late = sc.late;
		t->max_lag_us = sc.max_lag_ns / 1000;
		t->cap_full_s = (double)sc.full_ns / 1e9;
	}
	t->seconds = stop > h->measure_from
			 ? (double)(stop - h->measure_from) / 1e9
			 : 0.0;
}

int
bench_http_run(const bench_cfg *cfg, char *const *ids, unsigned n_ids,
	       bench_totals *t)
{
	hbench *h = calloc(1, sizeof(*h));
	unsigned i;
	int k, rc = -1;

	if (h == NULL) {
		fprintf(stderr, "usersbench: out of memory\n");
		return -1;
	}
	h->cfg = cfg;
	h->t = t;
	h->ids = ids;
	h->n_ids = n_ids;
	h->ep = -1;
	h->open = cfg->rate > 0;
	h->rng = bench_random_seed();
	h->deadline_ns =
	    (uint64_t)(cfg->deadline_ms ? cfg->deadline_ms : DEFAULT_DL) *
	    1000000u;
	if (resolve(h, cfg->http_url) != 0 || login(h) != 0) {
		goto out;
	}
	if (cfg->login_only) {
		fprintf(stderr, "usersbench: login as %s ok\n", cfg->user);
		rc = 0;
		goto out;
	}
	h->conns = calloc(cfg->concurrency, sizeof(*h->conns));
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	if (h->conns == NULL || h->ep < 0) {
		fprintf(stderr, "usersbench: out of memory\n");
		goto out;
	}
	for (i = 0; i < cfg->concurrency; i++) {
		h->conns[i].fd = -1;
		h->conns[i].st = HC_DOWN;
	}
	loop(h);
	for (k = 0; k < OP_COUNT; k++) {
		t->requests += t->op_requests[k];
		t->errors += t->op_errors[k];
		if (t->op_hist[k] != NULL) {
			bench_hist_merge(t->all, t->op_hist[k]);
		}
	}
	t->errors += t->unanswered + t->unsent;
	rc = 0;
out:
	for (i = 0; h->conns != NULL && i < cfg->concurrency; i++) {
		if (h->conns[i].fd >= 0) {
			close(h->conns[i].fd);
		}
	}
	if (h->ep >= 0) {
		close(h->ep);
	}
	free(h->conns);
	explicit_bzero(h->token, sizeof(h->token));
	free(h);
	return rc;
}
