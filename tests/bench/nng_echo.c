/*
 * nng_echo.c - the raw nng reference benchmark: the best this machine does
 * with nng req/rep and no work per request. usersbench's throughput is
 * divided by this figure.
 *
 *   nng_echo [--url URL] [--concurrency C] [--duration S] [--size B]
 *            [--server-contexts N] [--dialers N]
 *            [--mode both|inproc|server|client] [--work-us W]
 *            [--server-cpu N] [--client-cpu N] [--json]
 *
 * One program: a REP server with N contexts (default 64), each an async aio
 * loop that echoes what it receives, and a REQ client with C contexts
 * (default 64) in flight, each sending a B-byte message (default 200),
 * waiting for the echo, recording the round trip in its own histogram
 * (bench_hist, microseconds) and sending again, for S seconds (default 5).
 * The client opens --dialers connections (default 1, as libusersclient
 * does per URL); REQ spreads the requests over them.
 * Mode both (the default) forks: the server runs in a child process, as
 * usersd does, with its own nng threads (client and server in one process
 * share nng's task threads and measure at a third of the rate here; mode
 * inproc does that). --mode server or client runs one side only (server:
 * for S seconds). A tcp:// URL with port 0 listens on a free port and
 * dials it.
 *
 * --work-us W makes the server spend W microseconds of CPU on each message
 * before echoing it: a stand-in for a service's own work, which shows what
 * nng's thread hand-offs cost once a request does anything at all (on 2
 * cores, 5 us of work per message divides the echo rate by ~2.5, far more
 * than the 5 us). --server-cpu and --client-cpu pin each side's threads to
 * one CPU (mode both, server and client; set before nng starts a thread),
 * so that the two processes do not wake each other across CPUs.
 *
 * Callbacks run on nng threads and touch only their own context; the main
 * thread sleeps, raises the stop flag, waits for every context to finish
 * (with a deadline), merges the histograms and reports. Teardown runs under
 * an alarm because nng_close() can hang (docs/decisions.md, section 13).
 *
 * Exit status: 0 when the run completed, 1 on a setup failure, 2 on usage.
 */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "bench_hist.h"
#include "bench_sys.h"
#include "users_proto.h"

#define MAX_CONTEXTS    4096
#define MAX_SIZE        (16u * 1024u * 1024u)
#define MAX_DURATION    3600
#define CALL_TIMEOUT_MS 2000
#define TEARDOWN_SECS   5

typedef struct echo_config {
	const char *url;
	unsigned concurrency;
	unsigned server_contexts;
	unsigned dialers;
	unsigned duration_s;
	size_t size;
	unsigned work_us; /* CPU the server spends per message */
	int server_cpu;   /* -1: not pinned */
	int client_cpu;
	bool json;
	bool run_server;
	bool run_client;
	bool fork_server; /* server in a child process */
} echo_config;

/* ------------------------------------------------------------------------
 * Time
 */

/* ------------------------------------------------------------------------
 * Server: N REP contexts, each recv -> send the same message back -> recv.
 */

typedef struct srv_ctx {
	uint64_t work_ns; /* spent on each message before the echo */
	nng_ctx ctx;
	nng_aio *aio;
	bool sending;
	bool open;
} srv_ctx;

typedef struct echo_server {
	nng_socket sock;
	bool sock_open;
	nng_listener listener;
	srv_ctx *ctxs;
	unsigned n_ctxs;
} echo_server;

static void
srv_cb(void *arg)
{
	srv_ctx *s = arg;
	int rv = nng_aio_result(s->aio);
	nng_msg *msg;

	if (s->sending) {
		s->sending = false;
		if (rv != 0) {
			/* A failed send leaves the message with us. */
			nng_msg_free(nng_aio_get_msg(s->aio));
			nng_aio_set_msg(s->aio, NULL);
		}
	} else {
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
			return;
		}
		if (rv == 0) {
			uint64_t t0 = s->work_ns ? bench_now_ns() : 0;
			while (s->work_ns && bench_now_ns() - t0 < s->work_ns) {
			}
			msg = nng_aio_get_msg(s->aio);
			nng_aio_set_msg(s->aio, msg);
			s->sending = true;
			nng_ctx_send(s->ctx, s->aio);
			return;
		}
	}
	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
		return;
	}
	nng_ctx_recv(s->ctx, s->aio);
}

static void
server_stop(echo_server *sv)
{
	unsigned i;

	for (i = 0; sv->ctxs != NULL && i < sv->n_ctxs; i++) {
		if (sv->ctxs[i].aio != NULL) {
			nng_aio_stop(sv->ctxs[i].aio);
		}
	}
}

static void
server_fini(echo_server *sv)
{
	unsigned i;

	server_stop(sv);
	for (i = 0; sv->ctxs != NULL && i < sv->n_ctxs; i++) {
		if (sv->ctxs[i].open) {
			nng_ctx_close(sv->ctxs[i].ctx);
		}
		if (sv->ctxs[i].aio != NULL) {
			nng_aio_free(sv->ctxs[i].aio);
		}
	}
	free(sv->ctxs);
	sv->ctxs = NULL;
	if (sv->sock_open) {
		nng_close(sv->sock);
		sv->sock_open = false;
	}
}

/*
 * Listens on url and starts the contexts. On success *bound_url (if not
 * NULL) receives the dialable URL in buf (the real port for tcp port 0).
 * On failure sv is left for server_fini.
 */
static int
server_start(echo_server *sv, const echo_config *cfg, char *buf, size_t len)
{
	nng_sockaddr sa;
	unsigned i;
	int rv;

	memset(sv, 0, sizeof(*sv));
	if ((rv = nng_rep0_open(&sv->sock)) != 0) {
		fprintf(stderr, "nng_echo: rep0_open: %s\n", nng_strerror(rv));
		return -1;
	}
	sv->sock_open = true;
	if ((rv = nng_socket_set_size(sv->sock, NNG_OPT_RECVMAXSZ,
				      cfg->size + 1024)) != 0 ||
	    (rv = nng_listener_create(&sv->listener, sv->sock, cfg->url)) !=
		0 ||
	    (rv = nng_listener_start(sv->listener, 0)) != 0) {
		fprintf(stderr, "nng_echo: listen %s: %s\n", cfg->url,
			nng_strerror(rv));
		return -1;
	}
	snprintf(buf, len, "%s", cfg->url);
	if (strncmp(cfg->url, "tcp://", 6) == 0 &&
	    nng_listener_get_addr(sv->listener, NNG_OPT_LOCADDR, &sa) == 0 &&
	    sa.s_family == NNG_AF_INET) {
		char ip[INET_ADDRSTRLEN];
		struct in_addr in = {.s_addr = sa.s_in.sa_addr};

		if (inet_ntop(AF_INET, &in, ip, sizeof(ip)) != NULL) {
			snprintf(buf, len, "tcp://%s:%u", ip,
				 (unsigned)ntohs(sa.s_in.sa_port));
		}
	}
	sv->ctxs = calloc(cfg->server_contexts, sizeof(*sv->ctxs));
	if (sv->ctxs == NULL) {
		fprintf(stderr, "nng_echo: out of memory\n");
		return -1;
	}
	sv->n_ctxs = cfg->server_contexts;
	for (i = 0; i < sv->n_ctxs; i++) {
		srv_ctx *s = &sv->ctxs[i];

		s->work_ns = (uint64_t)cfg->work_us * 1000u;
		if ((rv = nng_aio_alloc(&s->aio, srv_cb, s)) != 0 ||
		    (rv = nng_ctx_open(&s->ctx, sv->sock)) != 0) {
			fprintf(stderr, "nng_echo: server context: %s\n",
				nng_strerror(rv));
			return -1;
		}
		s->open = true;
	}
	for (i = 0; i < sv->n_ctxs; i++) {
		nng_ctx_recv(sv->ctxs[i].ctx, sv->ctxs[i].aio);
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Client: C REQ contexts, each send -> recv -> record -> send.
 */

struct echo_client;

typedef struct cli_ctx {
	struct echo_client *cl;
	nng_ctx ctx;
	nng_aio *aio;
	bool open;
	bool receiving;
	uint64_t t0;     /* when the current request was sent */
	uint64_t t_last; /* last completion */
	uint64_t done;
	uint64_t errors;
	int last_error;
	bench_hist hist;
} cli_ctx;

typedef struct echo_client {
	nng_socket sock;
	bool sock_open;
	cli_ctx *ctxs;
	unsigned n_ctxs;
	size_t size;
	atomic_bool stop;
	atomic_uint active; /* contexts not yet finished */
} echo_client;

static void
cli_finish(cli_ctx *c)
{
	c->t_last = bench_now_ns();
	/* Release: the main thread reads c's counters after seeing 0. */
	atomic_fetch_sub_explicit(&c->cl->active, 1, memory_order_release);
}

/* Sends msg (or a fresh one when NULL); finishes the context on failure. */
static void
cli_send(cli_ctx *c, nng_msg *msg)
{
	if (msg == NULL) {
		if (nng_msg_alloc(&msg, c->cl->size) != 0) {
			c->errors++;
			cli_finish(c);
			return;
		}
		memset(nng_msg_body(msg), 'e', c->cl->size);
	}
	c->receiving = false;
	c->t0 = bench_now_ns();
	nng_aio_set_msg(c->aio, msg);
	nng_ctx_send(c->ctx, c->aio);
}

static void
cli_cb(void *arg)
{
	cli_ctx *c = arg;
	int rv = nng_aio_result(c->aio);
	nng_msg *msg = NULL;
	uint64_t t;

	if (!c->receiving) {
		if (rv == 0) {
			c->receiving = true;
			nng_ctx_recv(c->ctx, c->aio);
			return;
		}
		/* The unsent message is still ours. */
		nng_msg_free(nng_aio_get_msg(c->aio));
		nng_aio_set_msg(c->aio, NULL);
	} else if (rv == 0) {
		t = bench_now_ns();
		msg = nng_aio_get_msg(c->aio);
		nng_aio_set_msg(c->aio, NULL);
		bench_hist_record(&c->hist, (t - c->t0 + 500) / 1000);
		c->done++;
		if (nng_msg_len(msg) != c->cl->size) {
			c->errors++;
			nng_msg_free(msg);
			msg = NULL;
		}
	}
	if (rv != 0) {
		c->errors++;
		c->last_error = rv;
	}
	if (rv == NNG_ECLOSED ||
	    atomic_load_explicit(&c->cl->stop, memory_order_relaxed)) {
		nng_msg_free(msg);
		cli_finish(c);
		return;
	}
	cli_send(c, msg);
}

static void
client_fini(echo_client *cl)
{
	unsigned i;

	for (i = 0; cl->ctxs != NULL && i < cl->n_ctxs; i++) {
		if (cl->ctxs[i].aio != NULL) {
			nng_aio_stop(cl->ctxs[i].aio);
		}
	}
	for (i = 0; cl->ctxs != NULL && i < cl->n_ctxs; i++) {
		if (cl->ctxs[i].open) {
			nng_ctx_close(cl->ctxs[i].ctx);
		}
		if (cl->ctxs[i].aio != NULL) {
			nng_aio_free(cl->ctxs[i].aio);
		}
		bench_hist_fini(&cl->ctxs[i].hist);
	}
	free(cl->ctxs);
	cl->ctxs = NULL;
	if (cl->sock_open) {
		nng_close(cl->sock);
		cl->sock_open = false;
	}
}

/* Dials url and builds the contexts (not yet sending). */
static int
client_open(echo_client *cl, const echo_config *cfg, const char *url)
{
	unsigned i;
	int rv;

	memset(cl, 0, sizeof(*cl));
	atomic_init(&cl->stop, false);
	atomic_init(&cl->active, 0);
	cl->size = cfg->size;
	if ((rv = nng_req0_open(&cl->sock)) != 0) {
		fprintf(stderr, "nng_echo: req0_open: %s\n", nng_strerror(rv));
		return -1;
	}
	cl->sock_open = true;
	/* No resend: each request is answered once or times out. */
	if ((rv = nng_socket_set_ms(cl->sock, NNG_OPT_REQ_RESENDTIME,
				    NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_socket_set_size(cl->sock, NNG_OPT_RECVMAXSZ,
				      cfg->size + 1024)) != 0) {
		fprintf(stderr, "nng_echo: socket options: %s\n",
			nng_strerror(rv));
		return -1;
	}
	for (i = 0; i < cfg->dialers; i++) {
		if ((rv = nng_dial(cl->sock, url, NULL, 0)) != 0) {
			fprintf(stderr, "nng_echo: dial %s: %s\n", url,
				nng_strerror(rv));
			return -1;
		}
	}
	cl->ctxs = calloc(cfg->concurrency, sizeof(*cl->ctxs));
	if (cl->ctxs == NULL) {
		fprintf(stderr, "nng_echo: out of memory\n");
		return -1;
	}
	cl->n_ctxs = cfg->concurrency;
	for (i = 0; i < cl->n_ctxs; i++) {
		cli_ctx *c = &cl->ctxs[i];

		c->cl = cl;
		bench_hist_init(&c->hist);
		if ((rv = nng_aio_alloc(&c->aio, cli_cb, c)) != 0 ||
		    (rv = nng_ctx_open(&c->ctx, cl->sock)) != 0) {
			fprintf(stderr, "nng_echo: client context: %s\n",
				nng_strerror(rv));
			return -1;
		}
		c->open = true;
		nng_aio_set_timeout(c->aio, CALL_TIMEOUT_MS);
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Report
 */

typedef struct echo_result {
	uint64_t round_trips;
	uint64_t errors;
	int last_error;
	double seconds;
	unsigned unfinished; /* contexts still in flight at the deadline */
	bench_hist hist;
} echo_result;

static void
report(const echo_config *cfg, const char *url, const echo_result *r)
{
	double rate = r->seconds > 0 ? (double)r->round_trips / r->seconds : 0;
	const bench_hist *h = &r->hist;

	if (cfg->json) {
		printf(
		    "{\"url\": \"%s\", \"size\": %zu, \"concurrency\": %u, "
		    "\"server_contexts\": %u, \"dialers\": %u, "
		    "\"duration_s\": %.3f, "
		    "\"round_trips\": %" PRIu64 ", \"errors\": %" PRIu64
		    ", \"throughput\": %.1f, \"latency_us\": {\"p50\": %" PRIu64
		    ", \"p90\": %" PRIu64 ", \"p99\": %" PRIu64
		    ", \"p999\": %" PRIu64 ", \"max\": %" PRIu64
		    ", \"mean\": %.1f}}\n",
		    url, cfg->size, cfg->concurrency, cfg->server_contexts,
		    cfg->dialers, r->seconds, r->round_trips, r->errors, rate,
		    bench_hist_percentile(h, 50.0),
		    bench_hist_percentile(h, 90.0),
		    bench_hist_percentile(h, 99.0),
		    bench_hist_percentile(h, 99.9), h->max, bench_hist_mean(h));
	} else {
		printf("nng_echo %s: %zu-byte messages, %u in flight, %u "
		       "connection(s), %.2f s\n",
		       url, cfg->size, cfg->concurrency, cfg->dialers,
		       r->seconds);
		printf("  round trips  %" PRIu64 " (%.0f/s), errors %" PRIu64
		       "\n",
		       r->round_trips, rate, r->errors);
		printf("  latency us   p50 %" PRIu64 "  p90 %" PRIu64
		       "  p99 %" PRIu64 "  p99.9 %" PRIu64 "  max %" PRIu64
		       "  mean %.1f\n",
		       bench_hist_percentile(h, 50.0),
		       bench_hist_percentile(h, 90.0),
		       bench_hist_percentile(h, 99.0),
		       bench_hist_percentile(h, 99.9), h->max,
		       bench_hist_mean(h));
	}
	if (r->errors > 0 && r->last_error != 0) {
		fprintf(stderr, "nng_echo: last error: %s\n",
			nng_strerror(r->last_error));
	}
	if (r->unfinished > 0) {
		fprintf(
		    stderr,
		    "nng_echo: %u contexts still in flight at the deadline\n",
		    r->unfinished);
	}
	fflush(stdout);
}

/* Runs the client for the configured time; fills r. */
static void
client_run(echo_client *cl, const echo_config *cfg, echo_result *r)
{
	uint64_t t_start, t_end = 0, deadline;
	unsigned i, left;

	atomic_store(&cl->active, cl->n_ctxs);
	t_start = bench_now_ns();
	for (i = 0; i < cl->n_ctxs; i++) {
		cli_send(&cl->ctxs[i], NULL);
	}
	bench_sleep_ms(cfg->duration_s * 1000u);
	atomic_store(&cl->stop, true);
	deadline =
	    bench_now_ns() + (uint64_t)(CALL_TIMEOUT_MS + 1000) * 1000000u;
	while ((left = atomic_load_explicit(&cl->active,
					    memory_order_acquire)) > 0 &&
	       bench_now_ns() < deadline) {
		bench_sleep_ms(1);
	}
	r->unfinished = left;
	bench_hist_init(&r->hist);
	for (i = 0; i < cl->n_ctxs; i++) {
		const cli_ctx *c = &cl->ctxs[i];

		if (left > 0) {
			break; /* contexts may still write: do not read them */
		}
		r->round_trips += c->done;
		r->errors += c->errors;
		if (c->last_error != 0) {
			r->last_error = c->last_error;
		}
		if (c->t_last > t_end) {
			t_end = c->t_last;
		}
		bench_hist_merge(&r->hist, &c->hist);
	}
	if (t_end == 0) {
		t_end = bench_now_ns();
	}
	r->seconds = (double)(t_end - t_start) / 1e9;
}

/* ------------------------------------------------------------------------
 * Options
 */

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: nng_echo [--url URL] [--concurrency C] [--duration S]\n"
	    "                [--size B] [--server-contexts N] [--dialers N]\n"
	    "                [--mode both|server|client] [--work-us W]\n"
	    "                [--server-cpu N] [--client-cpu N] [--json]\n"
	    "  defaults: ipc:///tmp/nng_echo.<pid>.sock, 64, 5 s, 200 "
	    "bytes, 64, 1, both, 0 us, not pinned\n");
}

/* Whether a is one of the options that take a value. */
static bool
takes_value(const char *a)
{
	static const char *const names[] = {
	    "--url",       "--concurrency", "--server-contexts",
	    "--dialers",   "--duration",    "--size",
	    "--mode",      "--work-us",     "--server-cpu",
	    "--client-cpu"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(a, names[i]) == 0) {
			return true;
		}
	}
	return false;
}

static int
parse_args(int argc, char **argv, echo_config *cfg)
{
	unsigned long v;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--json") == 0) {
			cfg->json = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (!takes_value(a)) {
			fprintf(stderr, "nng_echo: unknown option %s\n", a);
			return -1;
		}
		if (val == NULL) {
			fprintf(stderr, "nng_echo: %s needs a value\n", a);
			return -1;
		}
		i++;
		if (strcmp(a, "--url") == 0) {
			cfg->url = val;
		} else if (strcmp(a, "--concurrency") == 0) {
			if (up_parse_ulong(val, 1, MAX_CONTEXTS, &v) != 0) {
				goto bad;
			}
			cfg->concurrency = (unsigned)v;
		} else if (strcmp(a, "--server-contexts") == 0) {
			if (up_parse_ulong(val, 1, MAX_CONTEXTS, &v) != 0) {
				goto bad;
			}
			cfg->server_contexts = (unsigned)v;
		} else if (strcmp(a, "--dialers") == 0) {
			if (up_parse_ulong(val, 1, 64, &v) != 0) {
				goto bad;
			}
			cfg->dialers = (unsigned)v;
		} else if (strcmp(a, "--duration") == 0) {
			if (up_parse_ulong(val, 1, MAX_DURATION, &v) != 0) {
				goto bad;
			}
			cfg->duration_s = (unsigned)v;
		} else if (strcmp(a, "--size") == 0) {
			if (up_parse_ulong(val, 0, MAX_SIZE, &v) != 0) {
				goto bad;
			}
			cfg->size = (size_t)v;
		} else if (strcmp(a, "--work-us") == 0) {
			if (up_parse_ulong(val, 0, 1000000, &v) != 0) {
				goto bad;
			}
			cfg->work_us = (unsigned)v;
		} else if (strcmp(a, "--server-cpu") == 0 ||
			   strcmp(a, "--client-cpu") == 0) {
			if (up_parse_ulong(val, 0, CPU_SETSIZE - 1, &v) != 0) {
				goto bad;
			}
			*(a[2] == 's' ? &cfg->server_cpu : &cfg->client_cpu) =
			    (int)v;
		} else if (strcmp(a, "--mode") == 0) {
			cfg->run_server = strcmp(val, "client") != 0;
			cfg->run_client = strcmp(val, "server") != 0;
			cfg->fork_server = strcmp(val, "both") == 0;
			if (strcmp(val, "both") != 0 &&
			    strcmp(val, "inproc") != 0 &&
			    strcmp(val, "client") != 0 &&
			    strcmp(val, "server") != 0) {
				goto bad;
			}
		} else {
			fprintf(stderr, "nng_echo: unknown option %s\n", a);
			return -1;
		}
		continue;
	bad:
		fprintf(stderr, "nng_echo: bad value for %s: %s\n", a, val);
		return -1;
	}
	return 0;
}

/* Pins the calling thread (and the threads it starts) to cpu; -1: not. */
static int
pin_to(int cpu)
{
	cpu_set_t set;

	if (cpu < 0) {
		return 0;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		fprintf(stderr, "nng_echo: cannot pin to CPU %d: %s\n", cpu,
			strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The server half of mode both, in the child: listens, writes the dialable
 * URL and a newline to ready_fd (a lone newline on failure), serves until
 * ctl_fd reaches EOF (the parent closed it or died), then exits.
 */
static void
server_child(const echo_config *cfg, int ready_fd, int ctl_fd)
{
	echo_server sv;
	char url[256], line[260], c;
	int rc, n;
	ssize_t r;

	rc = pin_to(cfg->server_cpu) == 0
		 ? server_start(&sv, cfg, url, sizeof(url))
		 : -1;
	n = snprintf(line, sizeof(line), "%s\n", rc == 0 ? url : "");
	if (n > 0 && write(ready_fd, line, (size_t)n) != n) {
		rc = -1;
	}
	close(ready_fd);
	while (rc == 0 &&
	       ((r = read(ctl_fd, &c, 1)) > 0 || (r < 0 && errno == EINTR))) {
	}
	bench_watchdog("nng_echo", TEARDOWN_SECS, rc == 0 ? 0 : 1);
	server_fini(&sv);
	_exit(rc == 0 ? 0 : 1);
}

/* Reads the child's URL line (with a deadline); 0 or -1. */
static int
read_ready(int fd, char *buf, size_t len)
{
	uint64_t deadline = bench_now_ns() + 10000000000u;
	size_t got = 0;
	ssize_t r;
	struct timespec ts = {0, 1000000};

	while (got + 1 < len && bench_now_ns() < deadline) {
		r = read(fd, buf + got, 1);
		if (r == 1) {
			if (buf[got] == '\n') {
				buf[got] = '\0';
				return got > 0 ? 0 : -1;
			}
			got++;
		} else if (r == 0) {
			return -1; /* the child died */
		} else if (errno != EINTR && errno != EAGAIN) {
			return -1;
		} else {
			nanosleep(&ts, NULL);
		}
	}
	return -1;
}

/* Ends the server child: EOF on its control pipe, then a bounded wait. */
static void
stop_child(pid_t pid, int ctl_fd)
{
	uint64_t deadline =
	    bench_now_ns() + (uint64_t)(TEARDOWN_SECS + 1) * 1000000000u;
	int status;

	if (ctl_fd >= 0) {
		close(ctl_fd);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (bench_now_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		bench_sleep_ms(5);
	}
}

int
main(int argc, char **argv)
{
	echo_config cfg = {.url = NULL,
			   .concurrency = 64,
			   .server_contexts = 64,
			   .dialers = 1,
			   .duration_s = 5,
			   .size = 200,
			   .server_cpu = -1,
			   .client_cpu = -1,
			   .run_server = true,
			   .run_client = true,
			   .fork_server = true};
	char default_url[128], dial_url[256];
	echo_server sv;
	echo_client cl;
	echo_result *res = NULL;
	int ready[2] = {-1, -1}, ctl[2] = {-1, -1};
	pid_t child = -1;
	int rc = 1;

	memset(&sv, 0, sizeof(sv));
	memset(&cl, 0, sizeof(cl));
	if (parse_args(argc, argv, &cfg) != 0) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (cfg.url == NULL) {
		snprintf(default_url, sizeof(default_url),
			 "ipc:///tmp/nng_echo.%ld.sock", (long)getpid());
		cfg.url = default_url;
	}
	snprintf(dial_url, sizeof(dial_url), "%s", cfg.url);
	if (cfg.fork_server) {
		/* Before any nng call: the child starts nng afresh. */
		if (pipe(ready) != 0 || pipe(ctl) != 0) {
			perror("nng_echo: pipe");
			goto out;
		}
		fflush(NULL);
		if ((child = fork()) < 0) {
			perror("nng_echo: fork");
			goto out;
		}
		if (child == 0) {
			close(ready[0]);
			close(ctl[1]);
			server_child(&cfg, ready[1], ctl[0]);
		}
		close(ready[1]);
		close(ctl[0]);
		ready[1] = ctl[0] = -1;
		if (read_ready(ready[0], dial_url, sizeof(dial_url)) != 0) {
			fprintf(stderr, "nng_echo: the server did not start\n");
			goto out;
		}
	} else if (cfg.run_server &&
		   (pin_to(cfg.run_client ? -1 : cfg.server_cpu) != 0 ||
		    server_start(&sv, &cfg, dial_url, sizeof(dial_url)) != 0)) {
		goto out;
	}
	if (!cfg.run_client) {
		fprintf(stderr, "nng_echo: serving %s for %u s\n", dial_url,
			cfg.duration_s);
		bench_sleep_ms(cfg.duration_s * 1000u);
		rc = 0;
		goto out;
	}
	if ((!cfg.run_server || cfg.fork_server) &&
	    pin_to(cfg.client_cpu) != 0) {
		goto out;
	}
	if (client_open(&cl, &cfg, dial_url) != 0) {
		goto out;
	}
	if ((res = calloc(1, sizeof(*res))) == NULL) {
		fprintf(stderr, "nng_echo: out of memory\n");
		goto out;
	}
	client_run(&cl, &cfg, res);
	report(&cfg, dial_url, res);
	rc = 0;
	if (res->unfinished > 0) {
		/* Callbacks may still touch the contexts: do not free them. */
		fflush(stdout);
		if (child > 0) {
			stop_child(child, ctl[1]);
		}
		_exit(rc);
	}
out:
	/* nng_close() can hang: bound the teardown. */
	bench_watchdog("nng_echo", TEARDOWN_SECS, rc);
	fflush(stdout);
	client_fini(&cl);
	server_fini(&sv);
	bench_watchdog_off();
	if (child > 0) {
		stop_child(child, ctl[1]);
		ctl[1] = -1;
	}
	if (ready[0] >= 0) {
		close(ready[0]);
	}
	if (ctl[1] >= 0) {
		close(ctl[1]);
	}
	free(res);
	return rc;
}
