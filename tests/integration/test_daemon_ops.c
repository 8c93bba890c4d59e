/*
 * test_daemon_ops.c - what usersd tells an operator about its calls: with
 * --log-format json, one JSON record per refused sign-in (the name and
 * the reason code, never the password), per locked name, per bad token
 * and per forbidden call (the caller's id and email, the method, the
 * reason code); with --metrics-listen, GET /metrics counting the same
 * calls by method and status, their latency histogram (whose count
 * agrees with the calls), the refusals, a retry answered from the
 * replay table, the SQLite WAL's size, the queues, process_* and
 * build_info; 404 for any other path. And usersgw's /metrics has its
 * process_* and build_info too, and with --log-format json it writes its
 * ready and stopped records as JSON.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"
#include "gw_harness.h"
#include "harness.h"
#include "usersclient.h"

#define WRONG_PASSWORD "not-the-password-7"

/* The whole file at path (a log). Owned by the caller. */
static char *
read_log(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n = 0;

	if (f != NULL && buf != NULL) {
		n = fread(buf, 1, (1 << 20) - 1, f);
		buf[n] = '\0';
	}
	if (f != NULL) {
		fclose(f);
	}
	return buf;
}

/* The first JSON record of the log whose event is event, or NULL. */
static json_t *
record(const char *log, const char *event)
{
	const char *p = log;

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len > 0 && p[0] == '{') {
			json_t *j = json_loadb(p, len, 0, NULL);
			const char *e =
			    json_string_value(json_object_get(j, "event"));
			if (e != NULL && strcmp(e, event) == 0) {
				return j;
			}
			json_decref(j);
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static const char *
field(json_t *j, const char *key)
{
	const char *v = json_string_value(json_object_get(j, key));
	return v != NULL ? v : "(none)";
}

/* usersgw --log-format json in front of d: its records of start and stop. */
static void
gateway_json(const th_daemon *d)
{
	char bin[256], path[256], *log = NULL;
	json_t *j = NULL;
	int status = -1;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/usersgw-json.log", d->dir);
	CHECK(th_bin("usersgw", bin, sizeof(bin)) == 0);
	pid = fork();
	if (pid == 0) {
		FILE *f = freopen(path, "w", stderr);

		(void)f;
		execl(bin, bin, "--listen", "127.0.0.1:0", "--daemon", d->url,
		      "--threads", "1", "--log-format", "json", (char *)NULL);
		_exit(127);
	}
	for (long long end = th_now_ms() + 10000; th_now_ms() < end;) {
		free(log);
		log = read_log(path);
		if (log != NULL && (j = record(log, "ready")) != NULL) {
			break;
		}
		gwh_nap_ms(10);
	}
	CHECK(j != NULL);
	CHECK(strncmp(field(j, "url"), "http://127.0.0.1:", 17) == 0);
	CHECK_STR(field(j, "threads"), "1");
	CHECK_STR(field(j, "prog"), "usersgw");
	json_decref(j);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(log);
	log = read_log(path);
	j = record(log, "stopped");
	CHECK(j != NULL);
	json_decref(j);
	free(log);
}

int
main(void)
{
	const char *extra[] = {"--log-format", "json", "--metrics-listen",
			       "127.0.0.1:0", NULL};
	th_daemon d;
	uc_client *c = NULL;
	uc_options o = {0};
	const char *urls[1];
	uc_result res = {0};
	uc_call_opts bad = {.bearer_token = "not.a.token"};
	char *log = NULL, port_s[16] = "";
	const char *p;
	int port = 0;
	gwh_res r;
	json_t *j;

	if (th_daemon_start(&d, extra) != 0) {
		return 1;
	}
	urls[0] = d.url;
	o.urls = urls;
	o.n_urls = 1;
	CHECK_INT(uc_client_open(&c, &o), 0);

	/* A wrong password (1 failure); then five failures on another name
	 * lock it, and its sixth and seventh tries are refused as locked. */
	CHECK_INT(uc_login(c, TH_ADMIN_EMAIL, WRONG_PASSWORD, &res),
		  UP_UNAUTHENTICATED);
	uc_result_fini(&res);
	for (int i = 0; i < 6; i++) {
		uc_login(c, "nobody@example.com", WRONG_PASSWORD, &res);
		uc_result_fini(&res);
	}
	CHECK_INT(uc_login(c, "nobody@example.com", WRONG_PASSWORD, &res),
		  UP_RESOURCE_EXHAUSTED);
	uc_result_fini(&res);

	/* A bad bearer token. */
	Users__V1__GetUser gu = USERS__V1__GET_USER__INIT;
	gu.user_id = TH_ADMIN_ID;
	CHECK_INT(uc_get_user(c, &gu, &bad, &res), UP_UNAUTHENTICATED);
	uc_result_fini(&res);

	/* A user of no role deleting the administrator: forbidden. */
	CHECK_INT(uc_login(c, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, &res), UP_OK);
	uc_result_fini(&res);
	Users__V1__NewUser nu = USERS__V1__NEW_USER__INIT;
	nu.email_address = "ada@example.com";
	nu.first_name = "Ada";
	nu.password = "ada-password-1";
	uc_call_opts once = {.request_id = "ops-test-create-ada"};
	CHECK_INT(uc_new_user(c, &nu, &once, &res), UP_OK);
	uc_result_fini(&res);
	/* its retry: the first answer again, from the replay table */
	CHECK_INT(uc_new_user(c, &nu, &once, &res), UP_OK);
	uc_result_fini(&res);
	CHECK_INT(uc_login(c, "ada@example.com", "ada-password-1", &res),
		  UP_OK);
	uc_result_fini(&res);
	Users__V1__DeleteUser du = USERS__V1__DELETE_USER__INIT;
	du.user_id = TH_ADMIN_ID;
	CHECK_INT(uc_delete_user(c, &du, NULL, &res), UP_PERMISSION_DENIED);
	uc_result_fini(&res);
	uc_client_close(c);

	/* The records. */
	log = read_log(d.log);
	j = record(log, "signin_failed");
	CHECK(j != NULL);
	CHECK_STR(field(j, "level"), "warn");
	CHECK_STR(field(j, "method"), "Authenticate");
	CHECK_STR(field(j, "login"), TH_ADMIN_EMAIL);
	CHECK_STR(field(j, "code"), "Unauthorized");
	CHECK(strlen(field(j, "time")) == 24);
	json_decref(j);
	j = record(log, "signin_locked");
	CHECK(j != NULL);
	CHECK_STR(field(j, "login"), "nobody@example.com");
	CHECK_STR(field(j, "code"), "TooManyRequests");
	json_decref(j);
	j = record(log, "unauthenticated");
	CHECK(j != NULL);
	CHECK_STR(field(j, "method"), "GetUser");
	json_decref(j);
	j = record(log, "denied");
	CHECK(j != NULL);
	CHECK_STR(field(j, "method"), "DeleteUser");
	CHECK_STR(field(j, "actor"), "ada@example.com");
	CHECK_STR(field(j, "actor_id"), "2");
	CHECK_STR(field(j, "code"), "Forbidden");
	json_decref(j);
	j = record(log, "ready");
	CHECK(j != NULL);
	json_decref(j);
	/* Never a password or a token in the log. */
	CHECK(strstr(log, WRONG_PASSWORD) == NULL);
	CHECK(strstr(log, TH_ADMIN_PASSWORD) == NULL);
	CHECK(strstr(log, "ada-password-1") == NULL);
	CHECK(strstr(log, "not.a.token") == NULL);

	/* The figures. */
	p = strstr(log, "metrics on http://127.0.0.1:");
	if (p != NULL) {
		sscanf(p, "metrics on http://127.0.0.1:%15[0-9]", port_s);
		port = atoi(port_s);
	}
	CHECK(port > 0);
	gwh_http(port, "GET", "/metrics", NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	if (r.status == 200) {
		const char *t =
		    r.body - 1; /* gwh_series() wants a '\n' before */

		CHECK_INT(
		    gwh_series(t, "usersd_calls_total{method=\"Authenticate\","
				  "status=\"UNAUTHENTICATED\"}"),
		    6);
		CHECK_INT(
		    gwh_series(t, "usersd_calls_total{method=\"Authenticate\","
				  "status=\"RESOURCE_EXHAUSTED\"}"),
		    2);
		CHECK_INT(gwh_series(t,
				     "usersd_calls_total{method=\"DeleteUser\","
				     "status=\"PERMISSION_DENIED\"}"),
			  1);
		CHECK_INT(gwh_series(t, "usersd_calls_total{method=\"NewUser\","
					"status=\"OK\"}"),
			  1);
		CHECK_INT(gwh_series(t, "usersd_call_duration_seconds_count{"
					"method=\"NewUser\"}"),
			  1);
		CHECK_INT(gwh_series(t, "usersd_call_duration_seconds_bucket{"
					"method=\"DeleteUser\",le=\"+Inf\"}"),
			  1);
		CHECK_INT(gwh_series(t, "usersd_signin_failures_total"), 6);
		CHECK_INT(gwh_series(t, "usersd_signin_locked_total"), 2);
		CHECK_INT(gwh_series(t, "usersd_unauthenticated_total"), 1);
		CHECK_INT(gwh_series(t, "usersd_denied_total"), 1);
		CHECK_INT(gwh_series(t, "usersd_hasher_queue"), 0);
		CHECK_INT(
		    gwh_series(t, "usersd_replayed_total{from=\"memory\"}"), 1);
		CHECK_INT(gwh_series(t, "usersd_replayed_total{from=\"log\"}"),
			  0);
		CHECK(gwh_series(t, "usersd_sqlite_wal_bytes") > 0);
		/* NewUser at least was written; a commit holds >= 1 write */
		CHECK(gwh_series(t, "usersd_store_commits_total") >= 1);
		CHECK(gwh_series(t, "usersd_store_writes_total") >=
		      gwh_series(t, "usersd_store_commits_total"));
		CHECK(gwh_series(t, "usersd_store_batch_largest") >= 1);
		CHECK_INT(gwh_series(t, "usersd_store_write_queue"), 0);
		CHECK(strstr(t, "\nusersd_store_batch_seconds_total ") != NULL);
		CHECK_INT(gwh_series(t, "usersd_build_info{version=\"0.1.0\"}"),
			  1);
		CHECK(gwh_series(t, "process_open_fds") > 3);
		CHECK(gwh_series(t, "process_resident_memory_bytes") > 1000000);
		CHECK(gwh_series(t, "process_start_time_seconds") > 1600000000);
	}
	gwh_res_fini(&r);
	gwh_http(port, "GET", "/other", NULL, NULL, &r);
	CHECK_INT(r.status, 404);
	gwh_res_fini(&r);

	gwh_proc g;
	CHECK_INT(gwh_start(&g, &d, "usersgw", NULL), 0);
	gwh_http(g.port, "GET", "/metrics", NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	if (r.status == 200) {
		const char *t = r.body - 1;

		CHECK_INT(
		    gwh_series(t, "usersgw_build_info{version=\"0.1.0\"}"), 1);
		CHECK(gwh_series(t, "process_open_fds") > 3);
		CHECK(gwh_series(t, "process_cpu_seconds_total") >= 0);
		CHECK(strstr(t, "\nusersgw_daemon_up{") != NULL);
	}
	gwh_res_fini(&r);
	CHECK_INT(gwh_stop(&g), 0);
	gateway_json(&d);

	free(log);
	CHECK_INT(th_daemon_stop(&d), 0);
	return check_done();
}
