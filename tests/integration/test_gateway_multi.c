/*
 * test_gateway_multi.c - one usersgw in front of two usersd (--daemon
 * twice): requests spread over both, a daemon killed is skipped at once
 * (reads in flight and after keep succeeding), /healthz and /metrics say
 * which one is gone, and it is used again once it is back.
 *
 * Each daemon has its own SQLite database (a store is one file), so the
 * two share no data: both are bootstrapped with the same administrator
 * (user 1 in both) and sign tokens with the same key file, which is all
 * that reads of that user need. Shared data across daemons is the
 * PostgreSQL store's business (tests/pg).
 *
 * Nothing sleeps to wait: every wait polls with a deadline.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "gw_harness.h"
#include "harness.h"

#define WAIT_MS   15000 /* the longest any one wait may take */
#define N_SPREAD  200   /* reads at most, to see both daemons used */
#define N_WORKERS 4

static th_daemon d1, d2;
static gwh_proc gw;
static char token[4096];

static const char *
jstr(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

/*
 * GET /users/1 as the admin (bearer). The HTTP status. checks: CHECK the
 * body (not from the load threads: the CHECK counters are not atomic).
 */
static int
get_admin_st(bool checks)
{
	char auth[4200];
	const char *h[] = {auth, NULL};
	gwh_res r;
	int st;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	gwh_http(gw.port, "GET", "/users/1", h, NULL, &r);
	st = r.status;
	if (st == 200 && checks) {
		/* the same user, whichever daemon answered */
		CHECK_STR(jstr(r.json, "id"), TH_ADMIN_ID);
		CHECK_STR(jstr(r.json, "emailAddress"), TH_ADMIN_EMAIL);
	} else if (st != 200) {
		fprintf(stderr, "GET /users/1: %d %s\n", st, r.reason);
	}
	gwh_res_fini(&r);
	return st;
}

static int
get_admin(void)
{
	return get_admin_st(true);
}

/* A counter of /metrics for one daemon; -1 when the series is missing. */
static long long
metric(const char *name, const th_daemon *d)
{
	return gwh_daemon_metric(gw.port, name, d->url);
}

/* The /healthz entry of d in r (NULL when it is not listed). */
static json_t *
health_entry(const gwh_res *r, const th_daemon *d)
{
	json_t *ds = json_object_get(r->json, "daemons");

	for (size_t i = 0; i < json_array_size(ds); i++) {
		json_t *e = json_array_get(ds, i);
		const char *url = jstr(e, "url");

		if (url != NULL && strcmp(url, d->url) == 0) {
			return e;
		}
	}
	return NULL;
}

static bool
connected(const gwh_res *r, const th_daemon *d)
{
	return json_is_true(json_object_get(health_entry(r, d), "connected"));
}

/*
 * Polls /healthz until it answers http with status and the two daemons
 * connected as said. true when it did within WAIT_MS; the last answer is
 * left in *r (gwh_res_fini() it).
 */
static bool
wait_health(int http, const char *status, bool up1, bool up2, gwh_res *r)
{
	long long t0 = th_now_ms();

	for (;;) {
		gwh_http(gw.port, "GET", "/healthz", NULL, NULL, r);
		if (r->status == http && jstr(r->json, "status") != NULL &&
		    strcmp(jstr(r->json, "status"), status) == 0 &&
		    connected(r, &d1) == up1 && connected(r, &d2) == up2) {
			return true;
		}
		if (th_now_ms() - t0 >= WAIT_MS) {
			fprintf(stderr, "healthz: %d %.*s\n", r->status,
				(int)r->body_len, r->body ? r->body : "");
			return false;
		}
		gwh_res_fini(r);
		gwh_nap_ms(10);
	}
}

static int
login(void)
{
	return gwh_admin_login(gw.port, token, sizeof(token));
}

/* Reads from several threads while a daemon dies: all must succeed. */
typedef struct load_state {
	atomic_bool stop;
	atomic_int ok, failed;
} load_state;

static load_state load;

static void *
load_worker(void *arg)
{
	(void)arg;
	while (!atomic_load(&load.stop)) {
		if (get_admin_st(false) == 200) {
			atomic_fetch_add(&load.ok, 1);
		} else {
			atomic_fetch_add(&load.failed, 1);
		}
	}
	return NULL;
}

static void
test_spread(void)
{
	long long b1, b2;
	gwh_res r;
	int ok = 0, n = 0;

	/* Both connected: "ok", both listed. */
	CHECK(wait_health(200, "ok", true, true, &r));
	CHECK_INT(json_array_size(json_object_get(r.json, "daemons")), 2);
	gwh_res_fini(&r);

	CHECK_INT(login(), 200);
	/* Reads (bounded) until both daemons have answered some of them. */
	b1 = metric("usersgw_daemon_replies_total", &d1);
	b2 = metric("usersgw_daemon_replies_total", &d2);
	CHECK(b1 >= 0 && b2 >= 0);
	while (n < N_SPREAD &&
	       (metric("usersgw_daemon_replies_total", &d1) <= b1 ||
		metric("usersgw_daemon_replies_total", &d2) <= b2)) {
		for (int i = 0; i < 10; i++, n++) {
			ok += get_admin() == 200;
		}
	}
	CHECK_INT(ok, n);
	CHECK(metric("usersgw_daemon_replies_total", &d1) > b1);
	CHECK(metric("usersgw_daemon_replies_total", &d2) > b2);
	CHECK_INT(metric("usersgw_daemon_up", &d1), 1);
	CHECK_INT(metric("usersgw_daemon_up", &d2), 1);
	fprintf(stderr, "spread: %d reads, replies %lld / %lld\n", n,
		metric("usersgw_daemon_replies_total", &d1) - b1,
		metric("usersgw_daemon_replies_total", &d2) - b2);
}

static void
test_kill_one(void)
{
	pthread_t tid[N_WORKERS];
	long long t0, before2;
	gwh_res r;
	int ok = 0;

	memset(&load, 0, sizeof(load));
	for (int i = 0; i < N_WORKERS; i++) {
		CHECK_INT(pthread_create(&tid[i], NULL, load_worker, NULL), 0);
	}
	t0 = th_now_ms();
	while (atomic_load(&load.ok) < 40 && th_now_ms() - t0 < WAIT_MS) {
		gwh_nap_ms(5);
	}
	CHECK(atomic_load(&load.ok) >= 40);
	/* Killed with reads in flight: they go to the other daemon. */
	CHECK_INT(th_daemon_kill(&d1), 0);
	before2 = atomic_load(&load.ok);
	t0 = th_now_ms();
	while (atomic_load(&load.ok) < before2 + 40 &&
	       th_now_ms() - t0 < WAIT_MS) {
		gwh_nap_ms(5);
	}
	atomic_store(&load.stop, true);
	for (int i = 0; i < N_WORKERS; i++) {
		pthread_join(tid[i], NULL);
	}
	CHECK(atomic_load(&load.ok) >= before2 + 40);
	CHECK_INT(atomic_load(&load.failed), 0);
	fprintf(stderr, "kill: %d reads ok, %d failed\n", atomic_load(&load.ok),
		atomic_load(&load.failed));

	/* And after: every read succeeds, on the one left. */
	before2 = metric("usersgw_daemon_replies_total", &d2);
	for (int i = 0; i < 20; i++) {
		ok += get_admin() == 200;
	}
	CHECK_INT(ok, 20);
	CHECK(metric("usersgw_daemon_replies_total", &d2) >= before2 + 20);

	/* Degraded: still 200, the dead one listed as disconnected. */
	CHECK(wait_health(200, "degraded", false, true, &r));
	CHECK(json_integer_value(
		  json_object_get(health_entry(&r, &d1), "disconnects")) >= 1);
	gwh_res_fini(&r);
	CHECK_INT(metric("usersgw_daemon_up", &d1), 0);
	CHECK(metric("usersgw_daemon_disconnects_total", &d1) >= 1);
}

static void
test_back(void)
{
	long long before1, t0;
	gwh_res r;

	before1 = metric("usersgw_daemon_replies_total", &d1);
	CHECK(before1 > 0);
	CHECK_INT(th_daemon_restart(&d1, NULL), 0);
	CHECK(wait_health(200, "ok", true, true, &r));
	gwh_res_fini(&r);
	CHECK(metric("usersgw_daemon_connects_total", &d1) >= 2);
	/* Used again: its replies grow (bounded by the deadline). */
	t0 = th_now_ms();
	while (metric("usersgw_daemon_replies_total", &d1) <= before1 &&
	       th_now_ms() - t0 < WAIT_MS) {
		CHECK_INT(get_admin(), 200);
	}
	CHECK(metric("usersgw_daemon_replies_total", &d1) > before1);
}

/* Both gone: 503 "unavailable", both listed as disconnected. */
static void
test_none(void)
{
	gwh_res r;

	CHECK_INT(th_daemon_kill(&d1), 0);
	CHECK_INT(th_daemon_kill(&d2), 0);
	CHECK(wait_health(503, "unavailable", false, false, &r));
	gwh_res_fini(&r);
	CHECK_INT(metric("usersgw_daemon_up", &d1), 0);
	CHECK_INT(metric("usersgw_daemon_up", &d2), 0);
}

int
main(void)
{
	char key[192], gwdaemon[192];
	const char *d2_args[] = {"--key-file", key, NULL};
	const char *gw_args[] = {"--daemon", gwdaemon, NULL};

	signal(SIGPIPE, SIG_IGN);
	/* The first creates the signing key beside its db; the second
	 * uses the same file, so either accepts the other's tokens. */
	if (th_daemon_start(&d1, NULL) != 0) {
		return 1;
	}
	snprintf(key, sizeof(key), "%s/usersd.key", d1.dir);
	if (th_daemon_start(&d2, d2_args) != 0) {
		th_daemon_stop(&d1);
		return 1;
	}
	snprintf(gwdaemon, sizeof(gwdaemon), "%s", d2.url);
	if (gwh_start(&gw, &d1, "gw", gw_args) != 0) {
		th_daemon_stop(&d2);
		th_daemon_stop(&d1);
		return 1;
	}
	test_spread();
	test_kill_one();
	test_back();
	test_none();
	CHECK_INT(gwh_stop(&gw), 0);
	if (check_failed > 0) {
		gwh_dump_log(&gw);
		th_daemon_dump_log(&d1);
		th_daemon_dump_log(&d2);
	}
	th_daemon_stop(&d2);
	th_daemon_stop(&d1);
	return check_done();
}
