/*
 * soak.c - mixed REST load through usersgw for minutes while usersd is
 * SIGKILLed and started again at a fixed interval; then every
 * acknowledged write is checked. The figures of an operator's worst
 * minute, repeated:
 *
 *   soak [--minutes M] [--kill-every S] [--users N] [--rate R]
 *        [--connections C]
 *
 * (defaults 10, 60, 100000, 400, 16; USERS_BIN names the binaries, as
 * for the integration tests: tests/bench/soak sets it.)
 *
 * usersd runs on SQLite in a temporary directory (the test harness's
 * daemon, tests/integration/harness.h), seeded with N users by usersbench;
 * usersgw in front of it. C keep-alive connections send an open loop of R
 * requests a second in all (each request due at its time whatever came
 * before; latency counted from the due time, so a stall is not hidden):
 * 70% GET of a seeded user, 25% PATCH of one of the connection's own
 * users, 5% POST of a new user; every write with an Idempotency-Key of its
 * own. Nothing is retried: what a kill costs shows.
 *
 * Printed at the end: requests and answers by status; for each kill, how
 * long usersd took to answer again (start on the store after a SIGKILL
 * under load, its WAL not checkpointed), the first success through the
 * gateway after that, and the longest answer around the kill; the
 * acknowledged writes and how many were lost (a create not found, a user
 * whose last acknowledged PATCH was undone); RSS and open descriptors of
 * both programs at the start and the end. Exit status 1 when a write was
 * lost or the run could not be made.
 */
#include <errno.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "bench_http1.h"
#include "gw_harness.h"
#include "harness.h"
#include "users_proto.h"

#define OWN_USERS   4    /* users each connection PATCHes */
#define IO_MS       8000 /* one exchange at most (the gateway's 2 s + margin) */
#define MAX_KILLS   256
#define AROUND_S    3 /* "around a kill": due from 1 s before to this after */
#define GW_DEADLINE "2000"

enum { OP_GET, OP_PATCH, OP_POST };

typedef struct sample {
	int64_t due_us; /* since the run's start */
	int32_t took_us;
	int16_t status; /* HTTP status; 0: no answer */
	uint8_t op;
} sample;

typedef struct own_user {
	char id[24];
	long acked; /* the last acknowledged PATCH's number; -1: none */
	long sent;  /* the last PATCH number sent */
} own_user;

typedef struct created {
	char id[24];
	char email[80];
} created;

typedef struct conn {
	int index;
	int fd;
	uint64_t rng;
	own_user own[OWN_USERS];
	sample *samples;
	size_t n_samples, cap_samples;
	created *created;
	size_t n_created, cap_created;
	long patches_acked;
	char buf[BH1_MAX_HEAD + BH1_MAX_BODY];
} conn;

typedef struct kill_rec {
	int64_t at_us;    /* SIGKILL sent */
	int64_t ready_us; /* usersd answered again (the probe); -1: never */
} kill_rec;

static struct {
	unsigned minutes, kill_every, users, rate, conns;
} opt = {10, 60, 100000, 400, 16};

static th_daemon d;
static gwh_proc gw;
static char token[4096];
static int64_t t0_us;
static atomic_bool stop_load;
static kill_rec kills[MAX_KILLS];
static size_t n_kills;
static long run_id;

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - t0_us;
}

static void
sleep_until_us(int64_t t)
{
	int64_t left;

	while ((left = t - now_us()) > 0 && !atomic_load(&stop_load)) {
		struct timespec ts = {left / 1000000, (left % 1000000) * 1000};

		nanosleep(&ts, NULL);
	}
}

static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ------------------------------------------------------------------------
 * One HTTP/1.1 keep-alive connection
 */

static void
conn_close(conn *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

static int
conn_open(conn *c)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int one = 1;

	sa.sin_port = htons((uint16_t)gw.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 ||
	    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		conn_close(c);
		return -1;
	}
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

/*
 * One exchange: the status (0 when there was no answer) and the body into
 * body (NUL-terminated, at most cap - 1 bytes).
 */
static int
exchange(conn *c, const char *method, const char *path, const char *key,
	 const char *json, char *body, size_t cap)
{
	char head[8192];
	size_t got = 0;
	int64_t until = now_us() + (int64_t)IO_MS * 1000;
	bh1_response r;
	int n, rc;

	body[0] = '\0';
	n = snprintf(head, sizeof(head),
		     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		     "Authorization: Bearer %s\r\n%s%s%s"
		     "Content-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n%s",
		     method, path, token, key ? "Idempotency-Key: " : "",
		     key ? key : "", key ? "\r\n" : "", json ? strlen(json) : 0,
		     json ? json : "");
	if (n < 0 || (size_t)n >= sizeof(head)) {
		return 0;
	}
	if (c->fd < 0 && conn_open(c) != 0) {
		return 0;
	}
	for (size_t off = 0; off < (size_t)n;) {
		ssize_t w =
		    send(c->fd, head + off, (size_t)n - off, MSG_NOSIGNAL);
		if (w <= 0) {
			if (w < 0 && errno == EINTR) {
				continue;
			}
			conn_close(c);
			return 0;
		}
		off += (size_t)w;
	}
	for (;;) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int64_t left = until - now_us();
		ssize_t k;

		if (left <= 0 || poll(&p, 1, (int)(left / 1000) + 1) <= 0) {
			conn_close(c);
			return 0;
		}
		k = recv(c->fd, c->buf + got, sizeof(c->buf) - got, 0);
		if (k <= 0) {
			if (k < 0 && errno == EINTR) {
				continue;
			}
			conn_close(c);
			return 0;
		}
		got += (size_t)k;
		rc = bh1_parse(c->buf, got, &r);
		if (rc == BH1_MORE) {
			continue;
		}
		if (rc != BH1_DONE || r.size != got) {
			/* not an answer we take, or more than one */
			conn_close(c);
			return 0;
		}
		bh1_body(c->buf, &r, body, cap);
		if (r.close) {
			conn_close(c);
		}
		return r.status;
	}
}

/* The "id" (or another string key) of a JSON body, into out. */
static bool
json_key(const char *body, const char *key, char *out, size_t size)
{
	json_t *j = json_loads(body, 0, NULL);
	const char *v = json_string_value(json_object_get(j, key));
	bool ok = v != NULL && strlen(v) < size;

	if (ok) {
		snprintf(out, size, "%s", v);
	}
	json_decref(j);
	return ok;
}

/* ------------------------------------------------------------------------
 * The load
 */

static int
record(conn *c, int64_t due, int status, int op)
{
	if (c->n_samples == c->cap_samples) {
		size_t cap = c->cap_samples ? c->cap_samples * 2 : 4096;
		sample *s = realloc(c->samples, cap * sizeof(*s));

		if (s == NULL) {
			return -1;
		}
		c->samples = s;
		c->cap_samples = cap;
	}
	c->samples[c->n_samples++] = (sample){
	    .due_us = due,
	    .took_us = (int32_t)(now_us() - due),
	    .status = (int16_t)status,
	    .op = (uint8_t)op,
	};
	return 0;
}

static int
remember_created(conn *c, const char *id, const char *email)
{
	if (c->n_created == c->cap_created) {
		size_t cap = c->cap_created ? c->cap_created * 2 : 256;
		created *p = realloc(c->created, cap * sizeof(*p));

		if (p == NULL) {
			return -1;
		}
		c->created = p;
		c->cap_created = cap;
	}
	snprintf(c->created[c->n_created].id, sizeof(c->created[0].id), "%s",
		 id);
	snprintf(c->created[c->n_created].email, sizeof(c->created[0].email),
		 "%s", email);
	c->n_created++;
	return 0;
}

static void
new_user_json(char *buf, size_t size, const char *email)
{
	snprintf(buf, size,
		 "{\"emailAddress\":\"%s\",\"password\":\"soak-password-1\","
		 "\"firstName\":\"Soak\",\"lastName\":\"v-1\"}",
		 email);
}

/* The connection's own users, created before the clock starts. */
static int
make_own_users(conn *c)
{
	char email[80], json[256], body[4096], key[96];

	for (int u = 0; u < OWN_USERS; u++) {
		snprintf(email, sizeof(email), "soak-own-%ld-%d-%d@example.com",
			 run_id, c->index, u);
		snprintf(key, sizeof(key), "soak-own-%ld-%d-%d", run_id,
			 c->index, u);
		new_user_json(json, sizeof(json), email);
		if (exchange(c, "POST", "/users", key, json, body,
			     sizeof(body)) != 200 ||
		    !json_key(body, "id", c->own[u].id, sizeof(c->own[u].id))) {
			fprintf(stderr, "soak: cannot create %s: %s\n", email,
				body);
			return -1;
		}
		c->own[u].acked = -1;
		c->own[u].sent = -1;
	}
	return 0;
}

static void *
load(void *arg)
{
	conn *c = arg;
	int64_t period = (int64_t)1000000 * opt.conns / opt.rate;
	int64_t due = period * c->index / opt.conns; /* spread the starts */
	int64_t end = (int64_t)opt.minutes * 60 * 1000000;
	long seq = 0;
	char path[96], key[96], json[256], body[4096], email[80];

	while (!atomic_load(&stop_load) && due < end) {
		unsigned pick = (unsigned)(rng_next(&c->rng) % 100);
		int status, op;

		sleep_until_us(due);
		if (atomic_load(&stop_load)) {
			break;
		}
		seq++;
		if (pick < 70) {
			op = OP_GET;
			snprintf(path, sizeof(path), "/users/%llu",
				 (unsigned long long)(rng_next(&c->rng) %
						      opt.users) +
				     2);
			status = exchange(c, "GET", path, NULL, NULL, body,
					  sizeof(body));
		} else if (pick < 95) {
			own_user *u = &c->own[seq % OWN_USERS];

			op = OP_PATCH;
			snprintf(path, sizeof(path), "/users/%s", u->id);
			snprintf(key, sizeof(key), "soak-%ld-%d-%ld", run_id,
				 c->index, seq);
			snprintf(json, sizeof(json), "{\"lastName\":\"v%ld\"}",
				 seq);
			u->sent = seq;
			status = exchange(c, "PATCH", path, key, json, body,
					  sizeof(body));
			if (status == 200) {
				u->acked = seq;
				c->patches_acked++;
			}
		} else {
			char id[24];

			op = OP_POST;
			snprintf(email, sizeof(email),
				 "soak-%ld-%d-%ld@example.com", run_id,
				 c->index, seq);
			snprintf(key, sizeof(key), "soak-%ld-%d-%ld", run_id,
				 c->index, seq);
			new_user_json(json, sizeof(json), email);
			status = exchange(c, "POST", "/users", key, json, body,
					  sizeof(body));
			if (status == 200 &&
			    json_key(body, "id", id, sizeof(id))) {
				remember_created(c, id, email);
			}
		}
		if (record(c, due, status, op) != 0) {
			break;
		}
		due += period;
	}
	conn_close(c);
	return NULL;
}

/* ------------------------------------------------------------------------
 * Processes
 */

typedef struct proc_figures {
	long rss_kib;
	int fds;
} proc_figures;

static proc_figures
figures_of(pid_t pid)
{
	proc_figures f = {-1, -1};
	char path[64], line[256];
	FILE *s;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((s = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), s) != NULL) {
			if (sscanf(line, "VmRSS: %ld", &f.rss_kib) == 1) {
				break;
			}
		}
		fclose(s);
	}
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((dir = opendir(path)) != NULL) {
		struct dirent *e;

		f.fds = 0;
		while ((e = readdir(dir)) != NULL) {
			f.fds += e->d_name[0] != '.';
		}
		closedir(dir);
	}
	return f;
}

static const char *const daemon_args[] = {"--access-ttl", "7200", NULL};

/*
 * The probe of a restart: a REQ socket of its own that redials every 2 ms
 * and asks every 20 ms (a GetUser without credentials: any answer, the
 * 401 included, says usersd is listening and answering), so that when
 * usersd answered is measured to a few milliseconds, and not to the
 * redial schedule of a client. The sockets stay open (reachable) until
 * the process ends: nng_close can hang (docs/decisions.md).
 */
static nng_socket probes[MAX_KILLS];

static void *
probe(void *arg)
{
	kill_rec *k = arg;
	nng_socket *s = &probes[k - kills];
	Users__V1__RequestEnvelope e = USERS__V1__REQUEST_ENVELOPE__INIT;
	uint8_t buf[256];
	size_t n;
	int64_t until = now_us() + 60 * 1000000ll;

	k->ready_us = -1;
	e.method = "GetUser";
	e.request_id = "soak-probe";
	n = users__v1__request_envelope__pack(&e, buf);
	if (nng_req0_open(s) != 0 ||
	    nng_socket_set_ms(*s, NNG_OPT_RECONNMINT, 2) != 0 ||
	    nng_socket_set_ms(*s, NNG_OPT_RECONNMAXT, 2) != 0 ||
	    nng_socket_set_ms(*s, NNG_OPT_REQ_RESENDTIME, 20) != 0 ||
	    nng_socket_set_ms(*s, NNG_OPT_RECVTIMEO, 20) != 0 ||
	    nng_socket_set_ms(*s, NNG_OPT_SENDTIMEO, 20) != 0 ||
	    nng_dial(*s, d.url, NULL, NNG_FLAG_NONBLOCK) != 0) {
		return NULL;
	}
	while (now_us() < until) {
		void *reply = NULL;
		size_t len = 0;

		if (nng_send(*s, buf, n, 0) == 0 &&
		    nng_recv(*s, &reply, &len, NNG_FLAG_ALLOC) == 0) {
			nng_free(reply, len);
			k->ready_us = now_us();
			return NULL;
		}
	}
	return NULL;
}

static int
login(void)
{
	const char *h[] = {"Content-Type: application/json", NULL};
	gwh_res r;
	int st;

	gwh_http(gw.port, "POST", "/auth/credentials", h,
		 "{\"userName\":\"" TH_ADMIN_EMAIL
		 "\",\"password\":\"" TH_ADMIN_PASSWORD "\"}",
		 &r);
	st = r.status;
	if (st == 200 &&
	    json_string_value(json_object_get(r.json, "bearerToken")) != NULL) {
		snprintf(
		    token, sizeof(token), "%s",
		    json_string_value(json_object_get(r.json, "bearerToken")));
	}
	gwh_res_fini(&r);
	return st == 200 ? 0 : -1;
}

static int
seed(void)
{
	char bin[512], users[32];
	char env[] = "USERSBENCH_PASSWORD=" TH_ADMIN_PASSWORD;
	const char *e[] = {env, NULL};
	th_output o;
	int rc;

	if (th_bin("usersbench", bin, sizeof(bin)) != 0) {
		return -1;
	}
	snprintf(users, sizeof(users), "%u", opt.users);
	{
		const char *argv[] = {
		    bin,       "--url", d.url,        "--user", TH_ADMIN_EMAIL,
		    "--users", users,   "--requests", "1",      "--concurrency",
		    "32",      NULL};

		rc = th_run(argv, e, NULL, (int)(opt.users / 200 + 120) * 1000,
			    &o);
	}
	if (rc != 0 || o.status != 0) {
		fprintf(stderr, "soak: seeding failed:\n%s%s", o.out, o.err);
		th_output_fini(&o);
		return -1;
	}
	th_output_fini(&o);
	return 0;
}

/* ------------------------------------------------------------------------
 * The report
 */

static int
by_due(const void *a, const void *b)
{
	const sample *x = a, *y = b;

	return x->due_us < y->due_us ? -1 : x->due_us > y->due_us;
}

static void
report_statuses(const sample *s, size_t n)
{
	size_t counts[600] = {0};

	for (size_t i = 0; i < n; i++) {
		counts[s[i].status >= 0 && s[i].status < 600 ? s[i].status
							     : 0]++;
	}
	printf("requests: %zu (", n);
	for (int code = 1; code < 600; code++) {
		if (counts[code] > 0) {
			printf("%d: %zu, ", code, counts[code]);
		}
	}
	printf("no answer: %zu)\n", counts[0]);
}

static void
report_kills(const sample *s, size_t n)
{
	for (size_t k = 0; k < n_kills; k++) {
		int64_t from = kills[k].at_us - 1000000;
		int64_t to = kills[k].at_us + (int64_t)AROUND_S * 1000000;
		int64_t longest = 0, first_ok = -1;
		size_t failed = 0;

		for (size_t i = 0; i < n; i++) {
			int64_t done = s[i].due_us + s[i].took_us;

			if (s[i].due_us >= from && s[i].due_us < to) {
				if (s[i].took_us > longest) {
					longest = s[i].took_us;
				}
				failed += s[i].status != 200;
			}
			if (s[i].status == 200 &&
			    s[i].due_us >= kills[k].at_us &&
			    done >= kills[k].ready_us &&
			    (first_ok < 0 || done < first_ok)) {
				first_ok = done;
			}
		}
		printf("kill %zu at %.1f s: usersd answering %.0f ms after the "
		       "kill; first 200 through usersgw %.0f ms after that; "
		       "longest answer around it %.0f ms; not 200 around it: "
		       "%zu\n",
		       k + 1, (double)kills[k].at_us / 1e6,
		       (double)(kills[k].ready_us - kills[k].at_us) / 1e3,
		       first_ok < 0
			   ? -1.0
			   : (double)(first_ok - kills[k].ready_us) / 1e3,
		       (double)longest / 1e3, failed);
	}
}

/* Checks every acknowledged write; the number lost. */
static long
verify(conn *cs, long *creates, long *patches)
{
	long lost = 0;
	char path[96], body[4096], got[64];

	for (unsigned i = 0; i < opt.conns; i++) {
		conn *c = &cs[i];

		*patches += c->patches_acked;
		for (size_t k = 0; k < c->n_created; k++) {
			int st;

			snprintf(path, sizeof(path), "/users/%s",
				 c->created[k].id);
			st = exchange(c, "GET", path, NULL, NULL, body,
				      sizeof(body));
			(*creates)++;
			if (st != 200 ||
			    !json_key(body, "emailAddress", got, sizeof(got)) ||
			    strcmp(got, c->created[k].email) != 0) {
				fprintf(stderr, "soak: lost create %s (%d)\n",
					c->created[k].email, st);
				lost++;
			}
		}
		for (int u = 0; u < OWN_USERS; u++) {
			own_user *o = &c->own[u];
			long v = -2;
			int st;

			snprintf(path, sizeof(path), "/users/%s", o->id);
			st = exchange(c, "GET", path, NULL, NULL, body,
				      sizeof(body));
			if (st == 200 &&
			    json_key(body, "lastName", got, sizeof(got))) {
				v = strtol(got + 1, NULL, 10);
			}
			/* the last acknowledged one, or one sent after it */
			if (st != 200 || v < o->acked || v > o->sent) {
				fprintf(stderr,
					"soak: user %s has v%ld; acknowledged "
					"v%ld, sent up to v%ld\n",
					o->id, v, o->acked, o->sent);
				lost++;
			}
		}
	}
	return lost;
}

/* Polls until a GET through the gateway answers 200 (60 s at most). */
static int
wait_served(conn *c)
{
	char body[4096];
	int64_t until = now_us() + 60 * 1000000ll;

	while (now_us() < until) {
		if (exchange(c, "GET", "/users/1", NULL, NULL, body,
			     sizeof(body)) == 200) {
			return 0;
		}
		gwh_nap_ms(20);
	}
	return -1;
}

static int
parse_opts(int argc, char **argv)
{
	for (int i = 1; i < argc; i += 2) {
		unsigned long v;
		unsigned *dst =
		    strcmp(argv[i], "--minutes") == 0       ? &opt.minutes
		    : strcmp(argv[i], "--kill-every") == 0  ? &opt.kill_every
		    : strcmp(argv[i], "--users") == 0       ? &opt.users
		    : strcmp(argv[i], "--rate") == 0        ? &opt.rate
		    : strcmp(argv[i], "--connections") == 0 ? &opt.conns
							    : NULL;

		if (dst == NULL || i + 1 >= argc ||
		    up_parse_ulong(argv[i + 1], 1, 10000000, &v) != 0) {
			fprintf(stderr,
				"usage: soak [--minutes M] [--kill-every S] "
				"[--users N] [--rate R] [--connections C]\n");
			return -1;
		}
		*dst = (unsigned)v;
	}
	if (opt.conns > 1024) {
		fprintf(stderr, "soak: at most 1024 connections\n");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	conn *cs = NULL;
	pthread_t *tids = NULL;
	size_t n_all = 0, started = 0;
	sample *all = NULL;
	proc_figures gw0 = {-1, -1}, gw1 = {-1, -1}, d0 = {-1, -1},
		     d1 = {-1, -1};
	long lost = -1, creates = 0, patches = 0;
	int64_t next_kill, end;
	int rc = 1;

	if (parse_opts(argc, argv) != 0) {
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	t0_us = 0;
	t0_us = now_us();
	run_id = (long)time(NULL);
	fprintf(stderr, "soak: usersd with %u users...\n", opt.users);
	if (th_daemon_start(&d, daemon_args) != 0) {
		return 1;
	}
	if (seed() != 0 ||
	    gwh_spawn(&gw, &d, "usersgw",
		      (const char *[]){"--deadline", GW_DEADLINE, NULL}) != 0 ||
	    login() != 0) {
		goto out;
	}
	cs = calloc(opt.conns, sizeof(*cs));
	tids = calloc(opt.conns, sizeof(*tids));
	if (cs == NULL || tids == NULL) {
		goto out;
	}
	for (unsigned i = 0; i < opt.conns; i++) {
		cs[i].index = (int)i;
		cs[i].fd = -1;
		cs[i].rng = (uint64_t)run_id * 1000003u + i;
		if (make_own_users(&cs[i]) != 0) {
			goto out;
		}
	}
	fprintf(stderr,
		"soak: %u min, %u requests/s over %u connections, usersd "
		"SIGKILLed every %u s\n",
		opt.minutes, opt.rate, opt.conns, opt.kill_every);
	t0_us = 0;
	t0_us = now_us();
	for (unsigned i = 0; i < opt.conns; i++) {
		if (pthread_create(&tids[i], NULL, load, &cs[i]) != 0) {
			goto join;
		}
		started++;
	}
	end = (int64_t)opt.minutes * 60 * 1000000;
	sleep_until_us(5 * 1000000);
	gw0 = figures_of(gw.pid);
	d0 = figures_of(d.pid);
	for (next_kill = (int64_t)opt.kill_every * 1000000;
	     next_kill < end && n_kills < MAX_KILLS;
	     next_kill += (int64_t)opt.kill_every * 1000000) {
		sleep_until_us(next_kill);
		pthread_t prober;
		kill_rec *k = &kills[n_kills];

		k->at_us = now_us();
		if (th_daemon_kill(&d) != 0 ||
		    pthread_create(&prober, NULL, probe, k) != 0) {
			atomic_store(&stop_load, true);
			goto join;
		}
		rc = th_daemon_restart(&d, daemon_args);
		pthread_join(prober, NULL);
		if (rc != 0 || k->ready_us < 0) {
			fprintf(stderr, "soak: usersd did not start again\n");
			rc = 1;
			atomic_store(&stop_load, true);
			goto join;
		}
		rc = 1;
		fprintf(stderr,
			"soak: kill %zu: usersd answering %.0f ms after the "
			"kill\n",
			n_kills + 1, (double)(k->ready_us - k->at_us) / 1e3);
		n_kills++;
	}
	sleep_until_us(end - 1000000);
	gw1 = figures_of(gw.pid);
	d1 = figures_of(d.pid);
join:
	for (size_t i = 0; i < started; i++) {
		pthread_join(tids[i], NULL);
	}
	atomic_store(&stop_load, false);
	if (started != opt.conns || wait_served(&cs[0]) != 0) {
		fprintf(stderr, "soak: the run could not be made\n");
		goto out;
	}
	lost = verify(cs, &creates, &patches);
	for (unsigned i = 0; i < opt.conns; i++) {
		n_all += cs[i].n_samples;
	}
	if ((all = malloc((n_all ? n_all : 1) * sizeof(*all))) == NULL) {
		goto out;
	}
	n_all = 0;
	for (unsigned i = 0; i < opt.conns; i++) {
		memcpy(all + n_all, cs[i].samples,
		       cs[i].n_samples * sizeof(*all));
		n_all += cs[i].n_samples;
	}
	qsort(all, n_all, sizeof(*all), by_due);
	printf("soak: %u min, %u users, %u requests/s open loop over %u "
	       "connections, usersd SIGKILLed every %u s\n",
	       opt.minutes, opt.users, opt.rate, opt.conns, opt.kill_every);
	report_statuses(all, n_all);
	report_kills(all, n_all);
	printf("acknowledged writes: %ld creates, %ld patches; lost: %ld\n",
	       creates, patches, lost);
	printf("usersgw: RSS %.1f -> %.1f MiB, open descriptors %d -> %d\n",
	       gw0.rss_kib / 1024.0, gw1.rss_kib / 1024.0, gw0.fds, gw1.fds);
	printf("usersd: RSS %.1f -> %.1f MiB, open descriptors %d -> %d "
	       "(the first process, 5 s in; the last, 1 s before the end)\n",
	       d0.rss_kib / 1024.0, d1.rss_kib / 1024.0, d0.fds, d1.fds);
	rc = lost == 0 ? 0 : 1;
out:
	if (gw.pid > 0) {
		gwh_stop(&gw);
	}
	th_daemon_stop(&d);
	for (unsigned i = 0; cs != NULL && i < opt.conns; i++) {
		free(cs[i].samples);
		free(cs[i].created);
	}
	free(all);
	free(cs);
	free(tids);
	return rc;
}
