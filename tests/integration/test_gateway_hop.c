/*
 * test_gateway_hop.c - usersgw's own hop to usersd (gateway/gw_hop.c: the
 * first loop reads and writes the daemons' ipc:// and tcp:// connections
 * itself, nng's SP framing by hand) against the hop through nng's threads
 * (--hop nng), and against peers that do not speak the protocol:
 *
 *   - the same requests through both gateways, in front of one daemon,
 *     give byte-identical answers: reads, a listing large enough to need
 *     many reads of the socket, each format, a 404, a 401, writes;
 *   - both answer alike over tcp:// as over ipc://;
 *   - a read is never held behind a slow call sent before it (a write
 *     held in usersd, GETs on kept-alive connections of each of the
 *     gateway's loops beside it);
 *   - a peer that answers the hello as another REQ, or answers a request
 *     with bytes that are no reply, is refused (503 at once, the call
 *     never hangs), said once in the gateway's log, and redialed; the
 *     request the gateway sent it is framed as nng frames it.
 *
 * A daemon killed and back, several daemons, and loads are the other
 * gateway tests' (they run on this hop by default).
 * Nothing sleeps to wait: every wait polls with a deadline.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "check.h"
#include "gw_harness.h"
#include "harness.h"

#define WAIT_MS 15000
#define N_USERS 200

static th_daemon d;
static gwh_proc loop_gw, nng_gw;
static char token[4096];

static int
login(int port)
{
	return gwh_admin_login(port, token, sizeof(token));
}

/* The request through port: status and body into r. */
static void
req(int port, const char *method, const char *path, const char *accept,
    const char *body, bool auth, gwh_res *r)
{
	char a[4200], acc[128];
	const char *h[4];
	size_t n = 0;

	snprintf(a, sizeof(a), "Authorization: Bearer %s", token);
	snprintf(acc, sizeof(acc), "Accept: %s", accept);
	if (auth) {
		h[n++] = a;
	}
	h[n++] = acc;
	if (body != NULL) {
		h[n++] = "Content-Type: application/json";
	}
	h[n] = NULL;
	gwh_http(port, method, path, h, body, r);
}

/* The same read through both gateways: the same status, the same body. */
static void
same(const char *path, const char *accept, bool auth, size_t min_len)
{
	gwh_res a, b;

	req(loop_gw.port, "GET", path, accept, NULL, auth, &a);
	req(nng_gw.port, "GET", path, accept, NULL, auth, &b);
	CHECK(a.status > 0);
	CHECK_INT(a.status, b.status);
	CHECK(a.body_len >= min_len);
	CHECK(a.body_len == b.body_len &&
	      (a.body_len == 0 || memcmp(a.body, b.body, a.body_len) == 0));
	if (a.status != b.status || a.body_len != b.body_len) {
		fprintf(stderr,
			"GET %s (%s): loop %d, %zu bytes; nng %d, %zu\n", path,
			accept, a.status, a.body_len, b.status, b.body_len);
	}
	gwh_res_fini(&a);
	gwh_res_fini(&b);
}

static void
test_same_answers(void)
{
	static const char *const formats[] = {
	    "application/json", "application/xml", "text/csv", "text/jsv"};
	char body[1024], name[300];
	int created = 0;

	CHECK_INT(login(loop_gw.port), 200);
	/* Users with long names, half through each gateway: the listing of
	 * them all is far more than one read of the socket. */
	memset(name, 'n', 120);
	name[120] = '\0';
	for (int i = 0; i < N_USERS; i++) {
		gwh_res r;

		snprintf(body, sizeof(body),
			 "{\"emailAddress\":\"hop%03d@example.com\","
			 "\"password\":\"Hop-password-1!\","
			 "\"firstName\":\"%s\",\"lastName\":\"%.110s %d\"}",
			 i, name, name, i);
		req(i % 2 ? nng_gw.port : loop_gw.port, "POST", "/users",
		    "application/json", body, true, &r);
		created += r.status == 200;
		if (r.status != 200 && created == i) {
			fprintf(stderr, "POST /users: %d %.*s\n", r.status,
				(int)r.body_len, r.body);
		}
		gwh_res_fini(&r);
	}
	CHECK_INT(created, N_USERS);
	for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
		same("/users/1", formats[f], true, 10);
		same("/users?take=1000&email=hop", formats[f], true,
		     N_USERS * 240);
		same("/users/999999", formats[f], true, 10); /* 404 */
		same("/users/1", formats[f], false, 10);     /* 401 */
	}
}

/* How many lines of the gateway's log hold s. */
static int log_count(const gwh_proc *g, const char *s);

/*
 * Over tcp://: usersd listening on a loopback port too, a gateway of each
 * hop dialing it there; the same answers, and the loop's gateway carried
 * the daemon itself (its log says so), the other did not.
 */
static void
test_tcp(void)
{
	char listen[64];
	const char *loop_args[] = {"--hop", "loop", NULL};
	const char *nng_args[] = {"--hop", "nng", NULL};
	const char *extra[] = {"--listen", listen, NULL};
	int port = th_free_port();
	th_daemon tcpd, via;
	gwh_proc a, b;

	CHECK(port > 0);
	snprintf(listen, sizeof(listen), "tcp://127.0.0.1:%d", port);
	if (th_daemon_start(&tcpd, extra) != 0) {
		CHECK(false);
		return;
	}
	via = tcpd;
	snprintf(via.url, sizeof(via.url), "%s", listen);
	if (gwh_start(&a, &via, "gw_tcp_loop", loop_args) != 0) {
		CHECK(false);
		th_daemon_stop(&tcpd);
		return;
	}
	if (gwh_start(&b, &via, "gw_tcp_nng", nng_args) != 0) {
		CHECK(false);
		gwh_stop(&a);
		th_daemon_stop(&tcpd);
		return;
	}
	CHECK_INT(log_count(&a, "own connection"), 1);
	CHECK_INT(log_count(&b, "own connection"), 0);
	loop_gw.port = a.port; /* same() compares these two */
	nng_gw.port = b.port;
	CHECK_INT(login(a.port), 200);
	same("/users/1", "application/json", true, 10);
	same("/users/1", "application/xml", true, 10);
	same("/users/999999", "application/json", true, 10);
	same("/users/1", "application/json", false, 10);
	CHECK_INT(gwh_stop(&b), 0);
	CHECK_INT(gwh_stop(&a), 0);
	if (check_failed > 0) {
		gwh_dump_log(&a);
		gwh_dump_log(&b);
	}
	th_daemon_stop(&tcpd);
}

/* A write through port in a thread of its own (held: the store's write
 * lock is the test's). */
typedef struct slow_write {
	int port;
	int status;
} slow_write;

static void *
slow_write_main(void *arg)
{
	slow_write *sw = arg;

	gwh_res r;

	req(sw->port, "PATCH", "/users/1", "application/json",
	    "{\"firstName\":\"Held\"}", true, &r);
	sw->status = r.status;
	gwh_res_fini(&r);
	return NULL;
}

/*
 * A read never waits behind a slow call sent before it: while a write is
 * held in usersd (the test holds SQLite's write lock, so the write waits
 * without using the CPU), GETs on kept-alive connections (opened before,
 * spread over the gateway's four loops) are all answered. On a loop that
 * does not carry the hop a GET used to wait for the write's answer: the
 * first loop had written the write's message outside h2o's callbacks,
 * h2o held the write's completion until the loop's next wake-up, and
 * until then the client piled up every later call behind that "send in
 * flight". Only the first GET after the write could meet it (any event
 * on the first loop ended it), so each round starts on another
 * connection: one of them is on another loop.
 */
#define KEPT 16
static void
test_behind_a_slow_call(void)
{
	const char *ud_args[] = {"--metrics-listen", "127.0.0.1:0", NULL};
	const char *gw_args[] = {"--threads", "4", "--deadline", "5000", NULL};
	th_daemon held;
	gwh_proc g;
	long long worst = 0;
	int gets = 0, ok = 0, writes = 0, fd[KEPT], mport;
	char get[4400];

	if (th_daemon_start(&held, ud_args) != 0) {
		CHECK(false);
		return;
	}
	if (gwh_spawn(&g, &held, "gw_held", gw_args) != 0) {
		CHECK(false);
		th_daemon_stop(&held);
		return;
	}
	CHECK_INT(login(g.port), 200);
	mport = th_daemon_metrics_port(&held);
	CHECK(mport > 0);
	snprintf(get, sizeof(get),
		 "GET /users/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		 "Authorization: Bearer %s\r\n\r\n",
		 token);
	/* In bursts: a loop that wakes for a connection accepts every one
	 * waiting, so each burst lands on one loop, not all on the same. */
	for (int b = 0; b < KEPT; b += 4) {
		for (int i = b; i < b + 4; i++) {
			fd[i] = gwh_connect(g.port);
			CHECK(fd[i] >= 0);
		}
		for (int i = b; i < b + 4; i++) {
			CHECK(fd[i] >= 0 &&
			      gwh_send_all(fd[i], get, strlen(get)) == 0 &&
			      gwh_read_answer(fd[i], WAIT_MS) == 200);
		}
	}
	for (int round = 0; round < 8; round++) {
		slow_write sw = {.port = g.port, .status = -1};
		sqlite3 *db = NULL;
		pthread_t tid;
		long long t0 = th_now_ms();

		CHECK_INT(sqlite3_open(held.db, &db), SQLITE_OK);
		CHECK_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
			  SQLITE_OK);
		if (pthread_create(&tid, NULL, slow_write_main, &sw) != 0) {
			CHECK(false);
			sqlite3_close(db);
			break;
		}
		/* the write has reached usersd (its call is in flight) */
		while (gwh_metric(mport, "usersd_calls_in_flight") < 1 &&
		       th_now_ms() - t0 < WAIT_MS) {
		}
		for (int k = 0; k < KEPT; k++) {
			/* each round first on another burst */
			int i = (round % 4 * 4 + round / 4 + k) % KEPT;
			long long g0 = th_now_ms(), took;
			int st = -1;

			if (fd[i] >= 0 &&
			    gwh_send_all(fd[i], get, strlen(get)) == 0) {
				st = gwh_read_answer(fd[i], 2000);
			}
			took = th_now_ms() - g0;
			gets++;
			ok += st == 200;
			if (took > worst) {
				worst = took;
			}
		}
		CHECK_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
			  SQLITE_OK);
		sqlite3_close(db);
		pthread_join(tid, NULL);
		writes += sw.status == 200;
	}
	for (int i = 0; i < KEPT; i++) {
		if (fd[i] >= 0) {
			close(fd[i]);
		}
	}
	/* Every GET answered while the write was held, every write after. */
	CHECK_INT(ok, gets);
	CHECK_INT(gets, 8 * KEPT);
	CHECK_INT(writes, 8);
	if (ok != gets) {
		fprintf(stderr,
			"%d of %d GETs beside a held write answered, "
			"the slowest in %lld ms\n",
			ok, gets, worst);
	}
	CHECK_INT(gwh_stop(&g), 0);
	if (check_failed > 0) {
		gwh_dump_log(&g);
	}
	th_daemon_stop(&held);
}

/* ------------------------------------------------------------------------
 * Peers that do not speak the protocol
 */

typedef enum { PEER_REQ_HELLO, PEER_GARBAGE } peer_mode;

typedef struct fake_peer {
	char path[108];
	int lfd;
	peer_mode mode;
	atomic_int accepted;
	atomic_int framed; /* requests read that were framed as nng frames */
	atomic_bool stop;
	pthread_t tid;
} fake_peer;

static bool
read_full(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = read(fd, p, n);

		if (k <= 0) {
			return false;
		}
		p += k;
		n -= (size_t)k;
	}
	return true;
}

/* One connection: read the gateway's hello, answer as the mode says. */
static void
peer_conn(fake_peer *fp, int fd)
{
	static const uint8_t req_hello[] = {0, 'S', 'P', 0, 0, 48, 0, 0};
	static const uint8_t rep_hello[] = {0, 'S', 'P', 0, 0, 49, 0, 0};
	uint8_t hello[8], head[13];

	if (!read_full(fd, hello, sizeof(hello)) ||
	    memcmp(hello, req_hello, sizeof(hello)) != 0) {
		return;
	}
	if (fp->mode == PEER_REQ_HELLO) {
		(void)!write(fd, req_hello, sizeof(req_hello));
	} else {
		(void)!write(fd, rep_hello, sizeof(rep_hello));
		/* a request: type 1, its length, our request id */
		if (read_full(fd, head, sizeof(head)) && head[0] == 1 &&
		    head[9] == 0x80 && head[10] == 0 && head[11] == 0 &&
		    head[12] == 1) {
			atomic_fetch_add(&fp->framed, 1);
			(void)!write(fd, "\x02garbage", 8);
		}
	}
	/* until the gateway closes it */
	while (read(fd, hello, sizeof(hello)) > 0) {
	}
}

static void *
peer_main(void *arg)
{
	fake_peer *fp = arg;

	while (!atomic_load(&fp->stop)) {
		int fd = accept(fp->lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR) {
				continue;
			}
			break;
		}
		atomic_fetch_add(&fp->accepted, 1);
		peer_conn(fp, fd);
		close(fd);
	}
	return NULL;
}

static int
peer_start(fake_peer *fp, const char *dir, peer_mode mode)
{
	struct sockaddr_un sun;

	memset(fp, 0, sizeof(*fp));
	fp->mode = mode;
	snprintf(fp->path, sizeof(fp->path), "%.80s/fake%d.sock", dir,
		 (int)mode);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", fp->path);
	if ((fp->lfd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(fp->lfd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(fp->lfd, 16) != 0 ||
	    pthread_create(&fp->tid, NULL, peer_main, fp) != 0) {
		perror("fake peer");
		return -1;
	}
	return 0;
}

static void
peer_stop(fake_peer *fp)
{
	atomic_store(&fp->stop, true);
	shutdown(fp->lfd, SHUT_RDWR); /* accept() returns */
	pthread_join(fp->tid, NULL);
	close(fp->lfd);
	unlink(fp->path);
}

static int
log_count(const gwh_proc *g, const char *s)
{
	static char buf[1 << 16];
	int n = 0;

	if (gwh_read_file(g->log, buf, sizeof(buf)) < 0) {
		return -1;
	}
	for (const char *p = buf; (p = strstr(p, s)) != NULL; p++) {
		n++;
	}
	return n;
}

static void
test_refused(peer_mode mode, const char *said)
{
	fake_peer fp;
	char url[128];
	const char *args[] = {"--threads", "2", "--deadline", "1000", NULL};
	th_daemon fake = d;
	gwh_proc g;
	long long t0, took;
	gwh_res r;
	int st;

	if (peer_start(&fp, d.dir, mode) != 0) {
		CHECK(false);
		return;
	}
	snprintf(url, sizeof(url), "ipc://%.100s", fp.path);
	snprintf(fake.url, sizeof(fake.url), "%s", url);
	if (gwh_spawn(&g, &fake, mode == PEER_REQ_HELLO ? "gw_req" : "gw_junk",
		      args) != 0) {
		CHECK(false);
		peer_stop(&fp);
		return;
	}
	/* A call fails (503) rather than hang: at once past the client's
	 * first second, when it waits for a first connection. */
	t0 = th_now_ms();
	do {
		req(g.port, "GET", "/users/1", "application/json", NULL, true,
		    &r);
		st = r.status;
		gwh_res_fini(&r);
	} while (st != 503 && th_now_ms() - t0 < WAIT_MS);
	CHECK_INT(st, 503);
	t0 = th_now_ms();
	req(g.port, "GET", "/users/1", "application/json", NULL, true, &r);
	took = th_now_ms() - t0;
	CHECK_INT(r.status, 503);
	CHECK(took < 900);
	gwh_res_fini(&r);
	/* Redialed after each refusal. */
	t0 = th_now_ms();
	while (atomic_load(&fp.accepted) < 2 && th_now_ms() - t0 < WAIT_MS) {
		gwh_nap_ms(5);
	}
	CHECK(atomic_load(&fp.accepted) >= 2);
	if (mode == PEER_GARBAGE) {
		CHECK(atomic_load(&fp.framed) >= 1);
	}
	CHECK_INT(log_count(&g, said), 1); /* said once, not per redial */
	CHECK_INT(gwh_stop(&g), 0);
	if (check_failed > 0) {
		gwh_dump_log(&g);
	}
	peer_stop(&fp);
}

int
main(void)
{
	const char *loop_args[] = {"--hop", "loop", NULL};
	const char *nng_args[] = {"--hop", "nng", NULL};

	signal(SIGPIPE, SIG_IGN);
	if (th_daemon_start(&d, NULL) != 0) {
		return 1;
	}
	if (gwh_start(&loop_gw, &d, "gw_loop", loop_args) != 0 ||
	    gwh_start(&nng_gw, &d, "gw_nng", nng_args) != 0) {
		th_daemon_stop(&d);
		return 1;
	}
	test_same_answers();
	CHECK_INT(gwh_stop(&nng_gw), 0);
	CHECK_INT(gwh_stop(&loop_gw), 0);
	if (check_failed > 0) {
		gwh_dump_log(&loop_gw);
		gwh_dump_log(&nng_gw);
	}
	test_tcp();
	test_behind_a_slow_call();
	test_refused(PEER_REQ_HELLO, "is no nng REP peer");
	test_refused(PEER_GARBAGE, "sent bytes that are no reply of ours");
	th_daemon_stop(&d);
	return check_done();
}
