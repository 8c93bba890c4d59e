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

#include "check.h"
#include "gw_harness.h"
#include "harness.h"

#define WAIT_MS 15000
#define N_USERS 200

static th_daemon d;
static gwh_proc loop_gw, nng_gw;
static char token[4096];

static const char *
jstr(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

static int
login(int port)
{
	const char *h[] = {"Content-Type: application/json", NULL};
	gwh_res r;
	int st;

	gwh_http(port, "POST", "/auth/credentials", h,
		 "{\"userName\":\"" TH_ADMIN_EMAIL
		 "\",\"password\":\"" TH_ADMIN_PASSWORD "\"}",
		 &r);
	st = r.status;
	if (st == 200 && jstr(r.json, "bearerToken") != NULL) {
		snprintf(token, sizeof(token), "%s",
			 jstr(r.json, "bearerToken"));
	}
	gwh_res_fini(&r);
	return st;
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

/* How many lines of the gateway's log hold s. */
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
	test_refused(PEER_REQ_HELLO, "is no nng REP peer");
	test_refused(PEER_GARBAGE, "sent bytes that are no reply of ours");
	th_daemon_stop(&d);
	return check_done();
}
