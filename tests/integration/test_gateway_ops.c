/*
 * test_gateway_ops.c - what an operator and a retrying REST client rely
 * on, against real usersd and usersgw processes:
 *
 *   ids        every answer names its request id (X-Request-Id): the
 *              client's Idempotency-Key or X-Request-Id, else a fresh
 *              one; a malformed key is a 400; the access log line of the
 *              request names the id, and not the query string.
 *   post       a POST retried under its Idempotency-Key creates one user
 *              and gets the first answer byte for byte: after a lost
 *              answer (the daemon stopped past the deadline), across a
 *              gateway restart and a daemon killed and restarted; the
 *              same key with another body is a 422.
 *   patch      a PATCH retried under its key is applied once: the stored
 *              updated_at and the user keep what a later PATCH made.
 *   signals    SIGHUP reopens both programs' log files and stops nothing;
 *              SIGTERM under write load ends each program with status 0,
 *              and every write that was answered 200 is there after.
 *
 * Nothing sleeps to wait: every wait polls with a deadline, and every
 * load loop is bounded in count and time.
 */
#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "check.h"
#include "gw_harness.h"
#include "harness.h"

#define WAIT_MS      15000 /* the longest any one wait may take */
#define PW           "user-password-1"
#define N_WORKERS    4
#define LOAD_MAX     300   /* writes per worker at most */
#define LOAD_MS      20000 /* and for this long at most */
#define ACKED_BEFORE 24    /* acknowledged writes before the signal */

static th_daemon d;
static gwh_proc gw;
static char token[4096];
static char access_log[192];
static char daemon_log[192];
static char gw_log[192]; /* the harness's log of usersgw, as --log-file */

static const char *
jstr(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

/*
 * method path with the admin's bearer token, a JSON body (or NULL) and an
 * extra header line (or NULL).
 */
static void
call(const char *method, const char *path, const char *body, const char *extra,
     gwh_res *r)
{
	char auth[4200];
	const char *h[4];
	size_t n = 0;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	h[n++] = auth;
	if (body != NULL) {
		h[n++] = "Content-Type: application/json";
	}
	if (extra != NULL) {
		h[n++] = extra;
	}
	h[n] = NULL;
	gwh_http(gw.port, method, path, h, body, r);
}

static int
login(void)
{
	return gwh_admin_login(gw.port, token, sizeof(token));
}

/* Whether the file at path holds needle. */
static bool
file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	static char buf[1 << 20];
	size_t n;

	if (f == NULL) {
		return false;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, needle) != NULL;
}

/* Polls until the file at path holds needle (WAIT_MS at most). */
static bool
wait_file_has(const char *path, const char *needle)
{
	long long until = th_now_ms() + WAIT_MS;

	while (th_now_ms() < until) {
		if (file_has(path, needle)) {
			return true;
		}
		gwh_nap_ms(10);
	}
	fprintf(stderr, "%s never said: %s\n", path, needle);
	return false;
}

/*
 * Sends the request again until an answer that is not 503 or 504 (the
 * daemon coming back), WAIT_MS at most. The answer is in *r.
 */
static void
call_until_served(const char *method, const char *path, const char *body,
		  const char *extra, gwh_res *r)
{
	long long until = th_now_ms() + WAIT_MS;

	for (;;) {
		call(method, path, body, extra, r);
		if ((r->status != 503 && r->status != 504) ||
		    th_now_ms() >= until) {
			return;
		}
		gwh_res_fini(r);
		gwh_nap_ms(20);
	}
}

/* usersd again in its directory, with its own --log-file. 0 or -1. */
static int
restart_daemon(void)
{
	return th_daemon_restart(
	    &d, (const char *[]){"--log-file", daemon_log, NULL});
}

/* usersgw (again) in front of it, with the access log. 0 or -1. */
static int
start_gateway(void)
{
	return gwh_start(&gw, &d, "usersgw",
			 (const char *[]){"--log-file", gw_log, "--access-log",
					  access_log, NULL});
}

static bool
same_answer(const gwh_res *a, const gwh_res *b)
{
	return a->status == b->status && a->body_len == b->body_len &&
	       a->body != NULL && b->body != NULL &&
	       memcmp(a->body, b->body, a->body_len) == 0;
}

/* ------------------------------------------------------------------------
 * Request ids and the access log
 */

static void
test_ids(void)
{
	char id[160], key[200], hdr[256];
	gwh_res r;

	/* none given: a fresh one, 32 hex digits, different each time */
	call("GET", "/users/1", NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK(gwh_header(&r, "x-request-id", 0, id, sizeof(id)) != NULL);
	CHECK_INT((int)strlen(id), 32);
	for (size_t i = 0; i < strlen(id); i++) {
		CHECK(isxdigit((unsigned char)id[i]));
	}
	gwh_res_fini(&r);
	call("GET", "/users/1", NULL, NULL, &r);
	CHECK(gwh_header(&r, "x-request-id", 0, key, sizeof(key)) != NULL &&
	      strcmp(key, id) != 0);
	gwh_res_fini(&r);

	/* given: X-Request-Id, or Idempotency-Key first */
	call("GET", "/users/1?note=private-query-text", NULL,
	     "X-Request-Id: trace-4711", &r);
	CHECK_INT(r.status, 200);
	CHECK(gwh_header(&r, "x-request-id", 0, id, sizeof(id)) != NULL);
	CHECK_STR(id, "trace-4711");
	gwh_res_fini(&r);
	{
		char auth[4200];
		const char *h[] = {auth, "X-Request-Id: second",
				   "Idempotency-Key: first", NULL};

		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		gwh_http(gw.port, "GET", "/users/1", h, NULL, &r);
		CHECK_INT(r.status, 200);
		CHECK(gwh_header(&r, "x-request-id", 0, id, sizeof(id)) !=
		      NULL);
		CHECK_STR(id, "first");
		gwh_res_fini(&r);
	}
	/* the access log: one line naming the id, the path, not the query */
	CHECK(wait_file_has(access_log, "\"GET /users/1 HTTP/1.1\" 200"));
	/* then the route (the operation) and the daemon that answered */
	{
		char tail[256];

		snprintf(tail, sizeof(tail), " trace-4711 GetUser %s\n", d.url);
		CHECK(wait_file_has(access_log, tail));
	}
	/* a route of the gateway's own: its name, and no daemon */
	call("GET", "/metrics", NULL, "X-Request-Id: own-route", &r);
	gwh_res_fini(&r);
	CHECK(wait_file_has(access_log, " own-route metrics -\n"));
	CHECK(!file_has(access_log, "private-query-text"));

	/* malformed: 400 naming the header, and a fresh id */
	memset(key, 'k', 129);
	key[129] = '\0';
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
	{
		const char *bad[] = {hdr, "Idempotency-Key: two words",
				     "Idempotency-Key: caf\xc3\xa9",
				     "X-Request-Id: tab\there"};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			call("POST", "/users", "{}", bad[i], &r);
			CHECK_INT(r.status, 400);
			CHECK_STR(
			    jstr(json_object_get(r.json, "responseStatus"),
				 "errorCode"),
			    "ArgumentException");
			CHECK(gwh_header(&r, "x-request-id", 0, id,
					 sizeof(id)) != NULL &&
			      strlen(id) == 32);
			gwh_res_fini(&r);
		}
	}
	memset(key, 'k', 128);
	key[128] = '\0';
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
	call("GET", "/users/1", NULL, hdr, &r);
	CHECK_INT(r.status, 200); /* 128 is the most, and fine */
	gwh_res_fini(&r);
	{
		char auth[4200];
		const char *h[] = {auth, "Idempotency-Key: a",
				   "Idempotency-Key: b", NULL};

		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		gwh_http(gw.port, "GET", "/users/1", h, NULL, &r);
		CHECK_INT(r.status, 400);
		CHECK(r.body != NULL &&
		      strstr(r.body, "Idempotency-Key") != NULL);
		gwh_res_fini(&r);
	}
}

/* ------------------------------------------------------------------------
 * POST retried
 */

static void
new_user_body(char *buf, size_t size, const char *email, const char *first)
{
	snprintf(buf, size,
		 "{\"emailAddress\":\"%s\",\"password\":\"" PW
		 "\",\"firstName\":\"%s\",\"lastName\":\"Retry\"}",
		 email, first);
}

static void
test_post_retried(void)
{
	const char *key = "Idempotency-Key: post-key-1";
	char body[512], other[512], path[64], id[160];
	gwh_res first, again;

	new_user_body(body, sizeof(body), "retry@example.com", "Once");
	call("POST", "/users", body, key, &first);
	CHECK_INT(first.status, 200);
	CHECK(jstr(first.json, "id") != NULL);
	CHECK(gwh_header(&first, "x-request-id", 0, id, sizeof(id)) != NULL);
	CHECK_STR(id, "post-key-1");

	/* the same request again: the first answer, byte for byte */
	call("POST", "/users", body, key, &again);
	CHECK(same_answer(&first, &again));
	gwh_res_fini(&again);

	/* the same key with another body: refused */
	new_user_body(other, sizeof(other), "retry@example.com", "Twice");
	call("POST", "/users", other, key, &again);
	CHECK_INT(again.status, 422);
	CHECK_STR(
	    jstr(json_object_get(again.json, "responseStatus"), "errorCode"),
	    "RequestIdReused");
	gwh_res_fini(&again);

	/* one user: the same body under a new key is a conflict */
	call("POST", "/users", body, "Idempotency-Key: post-key-2", &again);
	CHECK_INT(again.status, 409);
	gwh_res_fini(&again);

	/* across a gateway restart */
	CHECK_INT(gwh_stop(&gw), 0);
	if (start_gateway() != 0) {
		CHECK(0);
		gwh_res_fini(&first);
		return;
	}
	call("POST", "/users", body, key, &again);
	CHECK(same_answer(&first, &again));
	gwh_res_fini(&again);

	/* across a daemon killed and started again: the request log */
	CHECK_INT(th_daemon_kill(&d), 0);
	CHECK_INT(restart_daemon(), 0);
	call_until_served("POST", "/users", body, key, &again);
	CHECK(same_answer(&first, &again));
	gwh_res_fini(&again);

	if (jstr(first.json, "id") != NULL) {
		snprintf(path, sizeof(path), "/users/%s",
			 jstr(first.json, "id"));
		call("GET", path, NULL, NULL, &again);
		CHECK_INT(again.status, 200);
		CHECK_STR(jstr(again.json, "firstName"), "Once");
		gwh_res_fini(&again);
	}
	gwh_res_fini(&first);
}

/*
 * The answer lost: the daemon is stopped (SIGSTOP) while the POST is on
 * its way, the gateway answers 504 at its deadline, the daemon goes on
 * (SIGCONT) and commits. The retry under the same key gets the write's
 * answer, and there is one user.
 */
static void
test_post_answer_lost(void)
{
	const char *key = "Idempotency-Key: lost-answer-1";
	char body[512], path[64];
	gwh_res r, again;

	new_user_body(body, sizeof(body), "lost@example.com", "Lost");
	CHECK_INT(th_daemon_signal(&d, SIGSTOP), 0);
	call("POST", "/users", body, key, &r);
	CHECK_INT(r.status, 504);
	gwh_res_fini(&r);
	CHECK_INT(th_daemon_signal(&d, SIGCONT), 0);

	call_until_served("POST", "/users", body, key, &r);
	CHECK_INT(r.status, 200);
	call("POST", "/users", body, key, &again);
	CHECK(same_answer(&r, &again));
	gwh_res_fini(&again);
	call("POST", "/users", body, "Idempotency-Key: lost-answer-2", &again);
	CHECK_INT(again.status, 409); /* the first one wrote it */
	gwh_res_fini(&again);
	if (jstr(r.json, "id") != NULL) {
		snprintf(path, sizeof(path), "/users/%s", jstr(r.json, "id"));
		call("GET", path, NULL, NULL, &again);
		CHECK_INT(again.status, 200);
		CHECK_STR(jstr(again.json, "emailAddress"), "lost@example.com");
		gwh_res_fini(&again);
	}
	gwh_res_fini(&r);
}

/* ------------------------------------------------------------------------
 * PATCH retried
 */

/* The stored updated_at of user id, read from the daemon's database. */
static long long
stored_updated_at(const char *id)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -1;

	if (sqlite3_open_v2(d.db, &db, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK &&
	    sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT updated_at FROM users WHERE id = ?",
			       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 1, atoll(id)) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		v = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void
test_patch_retried(void)
{
	const char *key = "Idempotency-Key: patch-key-1";
	char body[512], path[64], uid[32] = "";
	gwh_res r, first, again;
	long long at;

	new_user_body(body, sizeof(body), "patched@example.com", "Start");
	call("POST", "/users", body, NULL, &r);
	CHECK_INT(r.status, 200);
	if (jstr(r.json, "id") != NULL) {
		snprintf(uid, sizeof(uid), "%s", jstr(r.json, "id"));
	}
	gwh_res_fini(&r);
	if (uid[0] == '\0') {
		return;
	}
	snprintf(path, sizeof(path), "/users/%s", uid);

	call("PATCH", path, "{\"firstName\":\"First\"}", key, &first);
	CHECK_INT(first.status, 200);
	CHECK_STR(jstr(first.json, "firstName"), "First");
	/* a later change, under another key */
	call("PATCH", path, "{\"firstName\":\"Later\"}",
	     "Idempotency-Key: patch-key-2", &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
	at = stored_updated_at(uid);
	CHECK(at > 0);

	/* the first PATCH again: its first answer, and nothing written */
	call("PATCH", path, "{\"firstName\":\"First\"}", key, &again);
	CHECK(same_answer(&first, &again));
	gwh_res_fini(&again);
	CHECK_INT(stored_updated_at(uid), at);
	call("GET", path, NULL, NULL, &r);
	CHECK_STR(jstr(r.json, "firstName"), "Later");
	gwh_res_fini(&r);

	/* the same key with another change: refused, nothing written */
	call("PATCH", path, "{\"firstName\":\"Other\"}", key, &again);
	CHECK_INT(again.status, 422);
	gwh_res_fini(&again);
	CHECK_INT(stored_updated_at(uid), at);

	/* and after the daemon restarts (the request log answers) */
	CHECK_INT(th_daemon_signal(&d, SIGTERM), 0);
	CHECK_INT(th_daemon_wait(&d, WAIT_MS), 0);
	CHECK_INT(restart_daemon(), 0);
	call_until_served("PATCH", path, "{\"firstName\":\"First\"}", key,
			  &again);
	CHECK(same_answer(&first, &again));
	gwh_res_fini(&again);
	CHECK_INT(stored_updated_at(uid), at);
	gwh_res_fini(&first);
}

/* ------------------------------------------------------------------------
 * Signals
 */

static void
rotate(const char *path)
{
	char moved[256];

	snprintf(moved, sizeof(moved), "%s.1", path);
	CHECK_INT(rename(path, moved), 0);
}

static void
test_sighup(void)
{
	char moved[256];
	gwh_res r;

	rotate(gw.log);
	rotate(access_log);
	rotate(daemon_log);
	CHECK_INT(kill(gw.pid, SIGHUP), 0);
	CHECK_INT(th_daemon_signal(&d, SIGHUP), 0);
	/* both opened their files again, under the old names */
	CHECK(wait_file_has(gw.log, "usersgw: SIGHUP: log files reopened"));
	CHECK(wait_file_has(daemon_log, "usersd: SIGHUP: log file reopened"));
	/* and both still serve; the new access log gets the new lines */
	call("GET", "/users/1", NULL, "X-Request-Id: after-hup", &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
	CHECK(wait_file_has(access_log, " after-hup GetUser "));
	snprintf(moved, sizeof(moved), "%s.1", access_log);
	CHECK(!file_has(moved, "after-hup"));
	CHECK(file_has(moved, "trace-4711"));
	CHECK_INT(th_daemon_wait(&d, 0), -1); /* still running */
}

typedef struct worker {
	int index;
	int round;
	int acked; /* user ids answered 200 */
	char ids[LOAD_MAX][24];
	char emails[LOAD_MAX][64];
	int failed_other; /* answers neither 200 nor 503/504 (nor refused) */
} worker;

static atomic_bool stop_load;
static atomic_int acked_total;

/*
 * POST /users with keys until told to stop, LOAD_MAX times or LOAD_MS at
 * most. Records what was acknowledged. A connection the stopping gateway
 * refuses, and 503s, are expected; anything else is counted.
 */
static void *
load(void *arg)
{
	worker *w = arg;
	long long until = th_now_ms() + LOAD_MS;
	char auth[4200];

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	for (int i = 0;
	     i < LOAD_MAX && !atomic_load(&stop_load) && th_now_ms() < until;
	     i++) {
		char email[64], body[512], keyh[96];
		const char *h[] = {auth, "Content-Type: application/json", keyh,
				   NULL};
		gwh_res r;

		snprintf(email, sizeof(email), "load-%d-%d-%d@example.com",
			 w->round, w->index, i);
		snprintf(keyh, sizeof(keyh), "Idempotency-Key: load-%d-%d-%d",
			 w->round, w->index, i);
		new_user_body(body, sizeof(body), email, "Load");
		gwh_http(gw.port, "POST", "/users", h, body, &r);
		if (r.status == 200 && jstr(r.json, "id") != NULL &&
		    w->acked < LOAD_MAX) {
			snprintf(w->ids[w->acked], sizeof(w->ids[0]), "%s",
				 jstr(r.json, "id"));
			snprintf(w->emails[w->acked], sizeof(w->emails[0]),
				 "%s", email);
			w->acked++;
			atomic_fetch_add(&acked_total, 1);
		} else if (r.status != -1 && r.status != 503 &&
			   r.status != 504) {
			fprintf(stderr, "load: %d %s\n", r.status, r.reason);
			w->failed_other++;
		}
		gwh_res_fini(&r);
	}
	return NULL;
}

static worker workers[N_WORKERS];
static pthread_t tids[N_WORKERS];

static void
load_start(int round)
{
	atomic_store(&stop_load, false);
	atomic_store(&acked_total, 0);
	for (int i = 0; i < N_WORKERS; i++) {
		memset(&workers[i], 0, sizeof(workers[i]));
		workers[i].index = i;
		workers[i].round = round;
		CHECK_INT(pthread_create(&tids[i], NULL, load, &workers[i]), 0);
	}
}

/* Waits until n writes were acknowledged (WAIT_MS at most). */
static bool
load_acked(int n)
{
	long long until = th_now_ms() + WAIT_MS;

	while (atomic_load(&acked_total) < n && th_now_ms() < until) {
		gwh_nap_ms(5);
	}
	return atomic_load(&acked_total) >= n;
}

static void
load_stop(void)
{
	atomic_store(&stop_load, true);
	for (int i = 0; i < N_WORKERS; i++) {
		pthread_join(tids[i], NULL);
		CHECK_INT(workers[i].failed_other, 0);
	}
}

/* Every acknowledged write of the last load is stored. */
static void
load_check_kept(void)
{
	int kept = 0, acked = 0;

	for (int i = 0; i < N_WORKERS; i++) {
		for (int k = 0; k < workers[i].acked; k++) {
			char path[64];
			gwh_res r;

			acked++;
			snprintf(path, sizeof(path), "/users/%s",
				 workers[i].ids[k]);
			call_until_served("GET", path, NULL, NULL, &r);
			if (r.status == 200 &&
			    jstr(r.json, "emailAddress") != NULL &&
			    strcmp(jstr(r.json, "emailAddress"),
				   workers[i].emails[k]) == 0) {
				kept++;
			} else {
				fprintf(stderr, "lost: %s (%d)\n", path,
					r.status);
			}
			gwh_res_fini(&r);
		}
	}
	CHECK(acked >= ACKED_BEFORE);
	CHECK_INT(kept, acked);
}

static void
test_sigterm_under_load(void)
{
	/* usersd */
	load_start(1);
	CHECK(load_acked(ACKED_BEFORE));
	CHECK_INT(th_daemon_signal(&d, SIGTERM), 0);
	CHECK_INT(th_daemon_wait(&d, WAIT_MS), 0);
	load_stop();
	CHECK(wait_file_has(daemon_log, "usersd: store closed"));
	CHECK_INT(restart_daemon(), 0);
	load_check_kept();

	/* usersgw */
	load_start(2);
	CHECK(load_acked(ACKED_BEFORE));
	CHECK_INT(gwh_stop(&gw), 0);
	load_stop();
	CHECK(file_has(gw.log, "usersgw: stopped"));
	if (start_gateway() != 0) {
		CHECK(0);
		return;
	}
	load_check_kept();
}

int
main(void)
{
	if (th_daemon_start(&d, NULL) != 0) {
		CHECK(0);
		return check_done();
	}
	snprintf(access_log, sizeof(access_log), "%s/access.log", d.dir);
	snprintf(daemon_log, sizeof(daemon_log), "%s/usersd-own.log", d.dir);
	snprintf(gw_log, sizeof(gw_log), "%s/usersgw.log", d.dir);
	/* the daemon again, with a log file of its own */
	CHECK_INT(th_daemon_signal(&d, SIGTERM), 0);
	CHECK_INT(th_daemon_wait(&d, WAIT_MS), 0);
	if (restart_daemon() != 0 || start_gateway() != 0 || login() != 200) {
		CHECK(0);
		goto out;
	}
	CHECK(file_has(daemon_log, "usersd: ready"));
	test_ids();
	test_sighup();
	test_post_retried();
	test_post_answer_lost();
	test_patch_retried();
	test_sigterm_under_load();
out:
	if (gw.pid > 0) {
		gwh_stop(&gw);
	}
	th_daemon_stop(&d);
	return check_done();
}
