/*
 * test_gateway.c - usersgw end to end: a real usersd (harness), a real
 * usersgw on an ephemeral loopback port, HTTP/1.1 over real sockets from a
 * small client here (so status lines and reason phrases are checked
 * byte for byte), and curl for HTTPS + HTTP/2 when it is installed.
 *
 * Covered: every documented route's success and error paths (401, 403 for
 * a missing role and for an out-of-scope target, 400 with fieldName, 404,
 * 405, 409 for a duplicate email in any letter case, 413, 415), the three
 * ways to send credentials, login cookies used on the next request, the
 * predefined routes as typed clients call them, refresh tokens (used once,
 * through the body and the cookie, reuse ending a sign-in), logout (503
 * without a daemon), the seeds' JSON sample bodies, a client gone before
 * the reply (HTTP/1.1 and HTTP/2), 504 from a stopped daemon, 503 from a
 * killed one under load and success again once it is back, a clean
 * SIGTERM stop, and the requests one loop reads in one wakeup reaching
 * usersd in one nng message (/metrics' counters of the hop).
 *
 * Nothing sleeps to wait: every wait polls with a deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"
#include "gw_harness.h"
#include "harness.h"
#include "usersclient.h"

#define PW          "password-123"
#define MAX_BODY    4096 /* the gateway's --max-body in these tests */
#define DEADLINE_MS 1000 /* the gateway's --deadline in these tests */
#define ADMIN_BASIC "YWRtaW5AZXhhbXBsZS5jb206YWRtaW4tcGFzc3dvcmQtMQ=="

static th_daemon daemon_;

static bool
file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static const char *
jstr(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

static const char *
rs_code(const gwh_res *r)
{
	return jstr(json_object_get(r->json, "responseStatus"), "errorCode");
}

static const char *
rs_message(const gwh_res *r)
{
	return jstr(json_object_get(r->json, "responseStatus"), "message");
}

/* errors[i].fieldName of the responseStatus. */
static const char *
rs_field(const gwh_res *r, size_t i)
{
	json_t *errs = json_object_get(
	    json_object_get(r->json, "responseStatus"), "errors");

	return jstr(json_array_get(errs, i), "fieldName");
}

static bool
rs_errors_is_array(const gwh_res *r)
{
	return json_is_array(json_object_get(
	    json_object_get(r->json, "responseStatus"), "errors"));
}

/* Checks status, reason phrase and the ResponseStatus errorCode. */
#define CHECK_ERR(r, st, code)                                                 \
	do {                                                                   \
		CHECK_INT((r)->status, st);                                    \
		CHECK_STR((r)->reason, code);                                  \
		CHECK_STR(rs_code(r), code);                                   \
		CHECK(rs_errors_is_array(r));                                  \
	} while (0)

/* ------------------------------------------------------------------------
 * Shared state of the scenario
 */

static gwh_proc gw;
static char admin_tok[4096], admin_ref[4096];
static char org_a[40], org_b[40];

/* Request helpers with a bearer token ("" for none). */
static void
call(const char *method, const char *path, const char *token, const char *body,
     gwh_res *r)
{
	char auth[4200];
	const char *h[4];
	size_t n = 0;

	if (token != NULL && token[0] != '\0') {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h[n++] = auth;
	}
	if (body != NULL) {
		h[n++] = "Content-Type: application/json";
	}
	h[n] = NULL;
	gwh_http(gw.port, method, path, h, body, r);
}

/* POST /auth/credentials; the bearer and refresh tokens into bufs. */
static int
login(const char *email, const char *pw, char *tok, size_t tsize, char *ref,
      size_t rsize)
{
	char body[512];
	gwh_res r;
	int st;

	snprintf(body, sizeof(body),
		 "{\"userName\":\"%s\",\"password\":\"%s\"}", email, pw);
	call("POST", "/auth/credentials", "", body, &r);
	st = r.status;
	if (st == 200) {
		snprintf(tok, tsize, "%s", jstr(r.json, "bearerToken"));
		if (ref != NULL) {
			snprintf(ref, rsize, "%s",
				 jstr(r.json, "refreshToken"));
		}
	}
	gwh_res_fini(&r);
	return st;
}

/* How many Set-Cookie headers of r clear a cookie. */
static int
cookies_cleared(const gwh_res *r)
{
	char buf[256];
	int n = 0;

	for (int i = 0; gwh_header(r, "set-cookie", i, buf, sizeof(buf)); i++) {
		n += strstr(buf, "; Max-Age=0") != NULL;
	}
	return n;
}

/* The cookies a browser keeps, as it sends them back. */
#define JAR_MAX 8
typedef struct jar {
	int n;
	char name[JAR_MAX][16];
	char value[JAR_MAX][4400];
	char header[JAR_MAX * 4420]; /* "Cookie: a=b; c=d" (jar_header) */
} jar;

/* Takes in r's Set-Cookie headers: set, replaced, or (Max-Age=0) gone. */
static void
jar_take(jar *j, const gwh_res *r)
{
	char buf[4600];

	for (int i = 0; gwh_header(r, "set-cookie", i, buf, sizeof(buf)); i++) {
		char *eq = strchr(buf, '='), *end = strchr(buf, ';');
		bool gone = strstr(buf, "; Max-Age=0") != NULL;
		int k;

		if (eq == NULL || end == NULL || eq > end ||
		    (size_t)(eq - buf) >= sizeof(j->name[0]) ||
		    (size_t)(end - eq - 1) >= sizeof(j->value[0])) {
			continue;
		}
		*eq = '\0';
		*end = '\0';
		for (k = 0; k < j->n && strcmp(j->name[k], buf) != 0; k++) {
		}
		if (gone) {
			if (k < j->n) {
				j->n--;
				memmove(j->name[k], j->name[j->n],
					sizeof(j->name[0]));
				memmove(j->value[k], j->value[j->n],
					sizeof(j->value[0]));
			}
			continue;
		}
		if (k == j->n && j->n < JAR_MAX) {
			j->n++;
		}
		if (k < j->n) {
			memcpy(j->name[k], buf, (size_t)(eq - buf) + 1);
			memcpy(j->value[k], eq + 1, (size_t)(end - eq));
		}
	}
}

/* The value of a cookie in the jar ("" when none). */
static const char *
jar_get(const jar *j, const char *name)
{
	for (int k = 0; k < j->n; k++) {
		if (strcmp(j->name[k], name) == 0) {
			return j->value[k];
		}
	}
	return "";
}

/* The jar as a Cookie header line, in j->header. */
static const char *
jar_header(jar *j)
{
	size_t len = (size_t)snprintf(j->header, sizeof(j->header), "Cookie:");

	for (int k = 0; k < j->n && len < sizeof(j->header); k++) {
		len += (size_t)snprintf(
		    j->header + len, sizeof(j->header) - len, "%s %s=%s",
		    k > 0 ? ";" : "", j->name[k], j->value[k]);
	}
	return j->header;
}

/* POST path with the jar's cookies (no body); the jar takes the answer's. */
static void
post_with(jar *j, const char *path, gwh_res *r)
{
	const char *h[] = {jar_header(j), NULL};

	gwh_http(gw.port, "POST", path, h, NULL, r);
	jar_take(j, r);
}

/* POST path with a JSON body {"refreshToken":ref}. */
static void
post_token(const char *path, const char *ref, gwh_res *r)
{
	static char body[4400];

	snprintf(body, sizeof(body), "{\"refreshToken\":\"%s\"}", ref);
	call("POST", path, "", body, r);
}

/* A new sign-in of the admin in a fresh jar. The HTTP status. */
static int
jar_login(jar *j, bool remember)
{
	char body[512];
	gwh_res r;
	int st;

	memset(j, 0, sizeof(*j));
	snprintf(body, sizeof(body),
		 "{\"userName\":\"" TH_ADMIN_EMAIL
		 "\",\"password\":\"" TH_ADMIN_PASSWORD "\",\"rememberMe\":%s}",
		 remember ? "true" : "false");
	call("POST", "/auth/credentials", "", body, &r);
	st = r.status;
	jar_take(j, &r);
	gwh_res_fini(&r);
	return st;
}

/* POST /users as admin; the new id into id (size 24). Returns status. */
static int
new_user(const char *email, const char *org, char *id)
{
	char body[512];
	gwh_res r;
	int st;

	if (org != NULL) {
		snprintf(body, sizeof(body),
			 "{\"emailAddress\":\"%s\",\"password\":\"" PW
			 "\",\"firstName\":\"Test\",\"lastName\":\"User\","
			 "\"accountId\":\"%s\"}",
			 email, org);
	} else {
		snprintf(body, sizeof(body),
			 "{\"emailAddress\":\"%s\",\"password\":\"" PW
			 "\",\"firstName\":\"Test\",\"lastName\":\"User\"}",
			 email);
	}
	call("POST", "/users", admin_tok, body, &r);
	st = r.status;
	if (st == 200 && id != NULL) {
		snprintf(id, 24, "%s",
			 jstr(r.json, "id") ? jstr(r.json, "id") : "");
	}
	gwh_res_fini(&r);
	return st;
}

/* ------------------------------------------------------------------------
 * Tests
 */

static void
test_health_and_metrics(void)
{
	char line[256];
	json_t *ds, *d0;
	gwh_res r;

	gwh_http(gw.port, "GET", "/healthz", NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(jstr(r.json, "status"), "ok");
	/* one daemon, connected, and it answered the health check itself */
	ds = json_object_get(r.json, "daemons");
	CHECK(json_is_array(ds) && json_array_size(ds) == 1);
	d0 = json_array_get(ds, 0);
	CHECK_STR(jstr(d0, "url"), daemon_.url);
	CHECK(json_is_true(json_object_get(d0, "connected")));
	CHECK(json_integer_value(json_object_get(d0, "replies")) >= 1);
	CHECK(json_is_integer(json_object_get(d0, "lastReplyMsAgo")) &&
	      json_integer_value(json_object_get(d0, "lastReplyMsAgo")) >= 0);
	CHECK(json_integer_value(json_object_get(d0, "connects")) >= 1);
	CHECK(json_is_integer(json_object_get(d0, "disconnects")));
	CHECK(json_is_integer(json_object_get(d0, "failures")));
	gwh_res_fini(&r);

	gwh_http(gw.port, "GET", "/metrics", NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK(r.body != NULL &&
	      strstr(
		  r.body,
		  "usersgw_requests_total{route=\"healthz\",status=\"200\"}") !=
		  NULL);
	CHECK(r.body != NULL &&
	      strstr(r.body, "usersgw_request_duration_seconds_bucket") !=
		  NULL);
	CHECK(r.body != NULL &&
	      strstr(r.body, "usersgw_rpcs_in_flight") != NULL);
	/* the per-daemon series, labelled by the daemon's URL */
	snprintf(line, sizeof(line), "\nusersgw_daemon_up{daemon=\"%s\"} 1\n",
		 daemon_.url);
	CHECK(r.body != NULL && strstr(r.body, line) != NULL);
	snprintf(line, sizeof(line),
		 "\nusersgw_daemon_replies_total{daemon=\"%s\"} ", daemon_.url);
	CHECK(r.body != NULL && strstr(r.body, line) != NULL);
	snprintf(line, sizeof(line),
		 "\nusersgw_daemon_connects_total{daemon=\"%s\"} ",
		 daemon_.url);
	CHECK(r.body != NULL && strstr(r.body, line) != NULL);
	snprintf(line, sizeof(line),
		 "\nusersgw_daemon_disconnects_total{daemon=\"%s\"} 0\n",
		 daemon_.url);
	CHECK(r.body != NULL && strstr(r.body, line) != NULL);
	CHECK(r.body != NULL &&
	      strstr(r.body, "# TYPE usersgw_daemon_replies_total counter\n") !=
		  NULL);
	gwh_res_fini(&r);

	gwh_http(gw.port, "POST", "/healthz", NULL, NULL, &r);
	CHECK_ERR(&r, 405, "NotImplementedException");
	gwh_res_fini(&r);
}

static void
test_login_and_credentials(void)
{
	const char *h[4];
	char buf[4400], cookie[4400];
	gwh_res r;

	/* wrong password: 401 in the AuthenticateResponse's own status */
	CHECK_INT(
	    login(TH_ADMIN_EMAIL, "wrong-password", buf, sizeof(buf), NULL, 0),
	    401);
	call(
	    "POST", "/auth/credentials", "",
	    "{\"userName\":\"nobody@example.com\",\"password\":\"x-y-z-1234\"}",
	    &r);
	CHECK_ERR(&r, 401, "Unauthorized");
	CHECK_STR(rs_message(&r), "Invalid Username or Password");
	CHECK(gwh_header(&r, "www-authenticate", 0, buf, sizeof(buf)) != NULL &&
	      strcmp(buf, "credentials realm=\"/auth/credentials\"") == 0);
	gwh_res_fini(&r);

	/* login: body and cookies */
	call("POST", "/auth/credentials", "",
	     "{\"userName\":\"" TH_ADMIN_EMAIL
	     "\",\"password\":\"" TH_ADMIN_PASSWORD "\",\"rememberMe\":true}",
	     &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(jstr(r.json, "userId"), TH_ADMIN_ID);
	CHECK_STR(jstr(r.json, "userName"), TH_ADMIN_EMAIL);
	CHECK(jstr(r.json, "sessionId") != NULL);
	CHECK(jstr(r.json, "bearerToken") != NULL);
	CHECK(jstr(r.json, "refreshToken") != NULL);
	CHECK(gwh_header(&r, "content-type", 0, buf, sizeof(buf)) != NULL &&
	      strcmp(buf, "application/json; charset=utf-8") == 0);
	CHECK(gwh_header(&r, "vary", 0, buf, sizeof(buf)) != NULL &&
	      strcmp(buf, "Accept") == 0);
	if (r.status == 200) {
		snprintf(admin_tok, sizeof(admin_tok), "%s",
			 jstr(r.json, "bearerToken"));
		snprintf(admin_ref, sizeof(admin_ref), "%s",
			 jstr(r.json, "refreshToken"));
	}
	{
		bool tok = false, ref = false, id = false, pid = false;
		bool opt = false;

		for (int i = 0;
		     gwh_header(&r, "set-cookie", i, buf, sizeof(buf)); i++) {
			CHECK(strstr(buf, "; HttpOnly") != NULL);
			CHECK(strstr(buf, "; SameSite=Strict") != NULL);
			CHECK(strstr(buf, "; Path=/") != NULL);
			CHECK(strstr(buf, "Secure") == NULL); /* plain HTTP */
			tok |= strncmp(buf, "ss-tok=", 7) == 0;
			ref |= strncmp(buf, "ss-reftok=", 10) == 0;
			id |= strncmp(buf, "ss-id=", 6) == 0;
			pid |= strncmp(buf, "ss-pid=", 7) == 0;
			/* rememberMe: marked, for the cookies of a refresh */
			opt |= strncmp(buf, "ss-opt=perm;", 12) == 0 &&
			       strstr(buf, "; Max-Age=1209600") != NULL;
		}
		CHECK(tok && ref && id && pid && opt);
	}
	gwh_res_fini(&r);

	/* no credentials: 401 with WWW-Authenticate */
	call("GET", "/users/1", "", NULL, &r);
	CHECK_ERR(&r, 401, "Unauthorized");
	CHECK(gwh_header(&r, "www-authenticate", 0, buf, sizeof(buf)) != NULL);
	gwh_res_fini(&r);

	/* Bearer */
	call("GET", "/users/1", admin_tok, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.reason, "OK");
	CHECK_STR(jstr(r.json, "id"), "1");
	CHECK_STR(jstr(r.json, "emailAddress"), TH_ADMIN_EMAIL);
	gwh_res_fini(&r);

	/* Basic */
	h[0] = "Authorization: Basic " ADMIN_BASIC;
	h[1] = NULL;
	gwh_http(gw.port, "GET", "/users/1", h, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(jstr(r.json, "id"), "1");
	gwh_res_fini(&r);

	/* the ss-tok cookie, among fragments a typed client mangles */
	snprintf(cookie, sizeof(cookie),
		 "Cookie: ss-pid=abc; 19 Nov 2044 19:17:00 GMT=null; junk; "
		 "=; ss-tok=%s; ss-opt=temp",
		 admin_tok);
	h[0] = cookie;
	h[1] = NULL;
	gwh_http(gw.port, "GET", "/users/1", h, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(jstr(r.json, "id"), "1");
	gwh_res_fini(&r);

	/* a bad token: the daemon refuses it */
	call("GET", "/users/1", "not.a.token", NULL, &r);
	CHECK_INT(r.status, 401);
	CHECK_STR(r.reason, rs_code(&r));
	gwh_res_fini(&r);

	/* GET /auth: the session; 401 without one */
	call("GET", "/auth", admin_tok, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(jstr(r.json, "userId"), "1");
	CHECK_STR(jstr(r.json, "userName"), TH_ADMIN_EMAIL);
	gwh_res_fini(&r);
	gwh_http(gw.port, "GET", "/auth", h, NULL, &r); /* cookie */
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
	call("GET", "/auth", "", NULL, &r);
	CHECK_ERR(&r, 401, "Unauthorized");
	CHECK_STR(rs_message(&r), "Not Authenticated");
	gwh_res_fini(&r);

	/* logout clears the cookies */
	gwh_http(gw.port, "POST", "/auth/logout", h, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_INT(cookies_cleared(&r), 5);
	gwh_res_fini(&r);
}

/* The cookies of a login work on the next request, as a browser sends
 * them. */
static void
test_cookie_session(void)
{
	char buf[4400], cookies[9000] = "Cookie: ";
	const char *h[2] = {cookies, NULL};
	gwh_res r;

	call("POST", "/auth", "",
	     "{\"provider\":\"credentials\",\"userName\":\"" TH_ADMIN_EMAIL
	     "\",\"password\":\"" TH_ADMIN_PASSWORD "\"}",
	     &r);
	CHECK_INT(r.status, 200);
	for (int i = 0; gwh_header(&r, "set-cookie", i, buf, sizeof(buf));
	     i++) {
		buf[strcspn(buf, ";")] = '\0';
		strncat(cookies, buf, sizeof(cookies) - strlen(cookies) - 3);
		strncat(cookies, "; ", sizeof(cookies) - strlen(cookies) - 1);
	}
	gwh_res_fini(&r);

	gwh_http(gw.port, "GET", "/users?take=1", h, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK(json_is_array(json_object_get(r.json, "results")));
	gwh_res_fini(&r);

	/* refresh from the ss-reftok cookie: a new ss-tok, the next
	 * ss-reftok (rotation through the cookie) */
	gwh_http(gw.port, "POST", "/access-token", h, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK(jstr(r.json, "accessToken") != NULL);
	CHECK(gwh_header(&r, "set-cookie", 0, buf, sizeof(buf)) != NULL &&
	      strncmp(buf, "ss-tok=", 7) == 0);
	CHECK(gwh_header(&r, "set-cookie", 1, buf, sizeof(buf)) != NULL &&
	      strncmp(buf, "ss-reftok=", 10) == 0);
	gwh_res_fini(&r);

	/* the wrong provider */
	call(
	    "POST", "/auth", "",
	    "{\"provider\":\"facebook\",\"userName\":\"a\",\"password\":\"b\"}",
	    &r);
	CHECK_INT(r.status, 400);
	CHECK(rs_field(&r, 0) != NULL);
	gwh_res_fini(&r);
}

/*
 * Refresh tokens in the body: each is traded once for a bearer token and
 * the next refresh token. A token used a second time is refused and ends
 * its sign-in: the newest token is refused too.
 */
static void
test_refresh(void)
{
	char tok[4096], ref0[4096], ref1[4096], ref2[4096];
	gwh_res r;

	CHECK_INT(login(TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, tok, sizeof(tok),
			ref0, sizeof(ref0)),
		  200);
	post_token("/access-token", ref0, &r);
	CHECK_INT(r.status, 200);
	snprintf(tok, sizeof(tok), "%s",
		 jstr(r.json, "accessToken") ? jstr(r.json, "accessToken")
					     : "");
	snprintf(ref1, sizeof(ref1), "%s",
		 jstr(r.json, "refreshToken") ? jstr(r.json, "refreshToken")
					      : "");
	CHECK(ref1[0] != '\0' && strcmp(ref1, ref0) != 0);
	gwh_res_fini(&r);
	call("GET", "/users/1", tok, NULL, &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);

	/* the predefined route, as the typed clients retry a 401 */
	{
		const char *h[] = {"Content-Type: application/json",
				   "Accept: */*", NULL};
		char body[4200];

		snprintf(body, sizeof(body), "{\"refreshToken\":\"%s\"}", ref1);
		gwh_http(gw.port, "POST", "/api/GetAccessToken", h, body, &r);
		CHECK_INT(r.status, 200);
		CHECK(jstr(r.json, "accessToken") != NULL);
		snprintf(ref2, sizeof(ref2), "%s",
			 jstr(r.json, "refreshToken")
			     ? jstr(r.json, "refreshToken")
			     : "");
		gwh_res_fini(&r);
	}

	/* ref0 again: reuse. Refused, and the sign-in is over: ref2 too */
	post_token("/access-token", ref0, &r);
	CHECK_ERR(&r, 401, "TokenException");
	gwh_res_fini(&r);
	post_token("/access-token", ref2, &r);
	CHECK_ERR(&r, 401, "TokenException");
	gwh_res_fini(&r);

	/* an access token is not a refresh token; empty is a field error */
	post_token("/access-token", admin_tok, &r);
	CHECK_INT(r.status, 401);
	CHECK_STR(r.reason, rs_code(&r));
	gwh_res_fini(&r);
	call("POST", "/access-token", "", "{}", &r);
	CHECK_ERR(&r, 400, "NotEmpty");
	CHECK_STR(rs_field(&r, 0), "RefreshToken");
	gwh_res_fini(&r);
}

/*
 * Rotation through the cookie: each refresh sets the next ss-reftok (as
 * long-lived as the sign-in's cookies), and a browser that keeps its jar
 * refreshes again and again; the cookie of before is used up, and sending
 * it ends the sign-in.
 */
static void
test_refresh_cookie(void)
{
	static jar j, old;
	char buf[4600];
	gwh_res r;

	CHECK_INT(jar_login(&j, false), 200);
	CHECK_STR(jar_get(&j, "ss-opt"), "temp");
	old = j;
	post_with(&j, "/access-token", &r);
	CHECK_INT(r.status, 200);
	CHECK(jar_get(&j, "ss-reftok")[0] != '\0');
	CHECK(strcmp(jar_get(&j, "ss-reftok"), jar_get(&old, "ss-reftok")) !=
	      0);
	CHECK_STR(jar_get(&j, "ss-reftok"), jstr(r.json, "refreshToken"));
	CHECK_STR(jar_get(&j, "ss-tok"), jstr(r.json, "accessToken"));
	/* a sign-in without rememberMe: session cookies */
	for (int i = 0; gwh_header(&r, "set-cookie", i, buf, sizeof(buf));
	     i++) {
		CHECK(strstr(buf, "Max-Age") == NULL);
	}
	gwh_res_fini(&r);
	post_with(&j, "/access-token", &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
	post_with(&j, "/access-token", &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);

	/* the first cookie again: reuse, and the sign-in is over */
	post_with(&old, "/access-token", &r);
	CHECK_ERR(&r, 401, "TokenException");
	gwh_res_fini(&r);
	post_with(&j, "/access-token", &r);
	CHECK_ERR(&r, 401, "TokenException");
	gwh_res_fini(&r);

	/* rememberMe: the rotated cookies keep the sign-in's lifetime */
	CHECK_INT(jar_login(&j, true), 200);
	CHECK_STR(jar_get(&j, "ss-opt"), "perm");
	post_with(&j, "/access-token", &r);
	CHECK_INT(r.status, 200);
	{
		int kept = 0;

		for (int i = 0;
		     gwh_header(&r, "set-cookie", i, buf, sizeof(buf)); i++) {
			kept += strstr(buf, "; Max-Age=1209600") != NULL;
		}
		CHECK_INT(kept, 2); /* ss-tok and ss-reftok */
	}
	gwh_res_fini(&r);
}

/*
 * /auth/logout revokes the sign-in of the refresh token it is sent (body,
 * query, form, or the ss-reftok cookie) and clears the cookies; any other
 * token gets the same 200. A gateway that cannot reach a daemon answers
 * 503, so the caller knows nothing was revoked, and clears the cookies.
 */
static void
test_logout(void)
{
	static jar j;
	char tok[4096], ref[4096], body[4400], path[4400];
	gwh_res r;

	/* the refresh token in a JSON body */
	CHECK_INT(login(TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, tok, sizeof(tok),
			ref, sizeof(ref)),
		  200);
	post_token("/auth/logout", ref, &r);
	CHECK_INT(r.status, 200);
	CHECK_INT(cookies_cleared(&r), 5);
	gwh_res_fini(&r);
	post_token("/access-token", ref, &r);
	CHECK_ERR(&r, 401, "TokenException");
	gwh_res_fini(&r);

	/* in the query, and as a form field */
	CHECK_INT(login(TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, tok, sizeof(tok),
			ref, sizeof(ref)),
		  200);
	snprintf(path, sizeof(path), "/auth/logout?refreshToken=%s", ref);
	call("POST", path, "", NULL, &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
	post_token("/access-token", ref, &r);
	CHECK_INT(r.status, 401);
	gwh_res_fini(&r);
	CHECK_INT(login(TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, tok, sizeof(tok),
			ref, sizeof(ref)),
		  200);
	{
		const char *h[] = {
		    "Content-Type: application/x-www-form-urlencoded", NULL};

		snprintf(body, sizeof(body), "refreshToken=%s", ref);
		gwh_http(gw.port, "POST", "/auth/logout", h, body, &r);
		CHECK_INT(r.status, 200);
		gwh_res_fini(&r);
	}
	post_token("/access-token", ref, &r);
	CHECK_INT(r.status, 401);
	gwh_res_fini(&r);

	/* the ss-reftok cookie, refreshed once first */
	CHECK_INT(jar_login(&j, false), 200);
	post_with(&j, "/access-token", &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
	snprintf(ref, sizeof(ref), "%s", jar_get(&j, "ss-reftok"));
	post_with(&j, "/auth/logout", &r);
	CHECK_INT(r.status, 200);
	CHECK_INT(cookies_cleared(&r), 5);
	CHECK_INT(j.n, 0);
	gwh_res_fini(&r);
	post_token("/access-token", ref, &r);
	CHECK_ERR(&r, 401, "TokenException");
	gwh_res_fini(&r);

	/* whatever else: the same 200, twice too */
	post_token("/auth/logout", ref, &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
	post_token("/auth/logout", "garbage", &r);
	CHECK_INT(r.status, 200);
	CHECK_INT(cookies_cleared(&r), 5);
	gwh_res_fini(&r);
	call("POST", "/auth/logout", "", NULL, &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
	/* and the predefined route is the same operation */
	CHECK_INT(login(TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, tok, sizeof(tok),
			ref, sizeof(ref)),
		  200);
	post_token("/api/Logout", ref, &r);
	CHECK_INT(r.status, 200);
	CHECK_INT(cookies_cleared(&r), 5);
	gwh_res_fini(&r);
	post_token("/access-token", ref, &r);
	CHECK_INT(r.status, 401);
	gwh_res_fini(&r);

	/* no daemon to revoke anything: 503, the cookies cleared all the
	 * same */
	{
		th_daemon none = daemon_;
		gwh_proc lone;

		snprintf(none.url, sizeof(none.url), "ipc://%s/nobody.sock",
			 daemon_.dir);
		if (gwh_start(&lone, &none, "gw-lone", NULL) != 0) {
			CHECK(0);
			return;
		}
		CHECK_INT(jar_login(&j, false), 200);
		{
			const char *h[] = {jar_header(&j), NULL};

			gwh_http(lone.port, "POST", "/auth/logout", h, NULL,
				 &r);
		}
		CHECK_ERR(&r, 503, "ServiceUnavailable");
		CHECK_INT(cookies_cleared(&r), 5);
		gwh_res_fini(&r);
		CHECK_INT(gwh_stop(&lone), 0);
		/* nothing was revoked */
		post_with(&j, "/access-token", &r);
		CHECK_INT(r.status, 200);
		gwh_res_fini(&r);
	}
}

/* /api/{Op} and /{fmt}/reply|oneway/{Op}, as typed clients call them. */
static void
test_predefined(void)
{
	const char *js[] = {"Content-Type: application/json", "Accept: */*",
			    NULL};
	const char *plain[] = {"Content-Type: text/plain", NULL};
	char auth[4200];
	const char *ah[4] = {auth, "Content-Type: application/json",
			     "Accept: */*", NULL};
	char buf[256];
	gwh_res r;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", admin_tok);

	gwh_http(gw.port, "POST", "/api/Authenticate", js,
		 "{\"userName\":\"" TH_ADMIN_EMAIL
		 "\",\"password\":\"" TH_ADMIN_PASSWORD "\"}",
		 &r);
	CHECK_INT(r.status, 200);
	CHECK(jstr(r.json, "bearerToken") != NULL);
	CHECK(gwh_header(&r, "set-cookie", 0, buf, sizeof(buf)) != NULL);
	CHECK(gwh_header(&r, "content-type", 0, buf, sizeof(buf)) != NULL &&
	      strncmp(buf, "application/json", 16) == 0);
	gwh_res_fini(&r);

	/* older clients: /json/reply with whatever Content-Type */
	gwh_http(gw.port, "POST", "/json/reply/authenticate", plain,
		 "{\"userName\":\"" TH_ADMIN_EMAIL
		 "\",\"password\":\"" TH_ADMIN_PASSWORD "\"}",
		 &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);

	/* any method, case-insensitive names; query fills what the body
	 * left unset */
	gwh_http(gw.port, "GET", "/api/getuser?userId=1", ah, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(jstr(r.json, "id"), "1");
	gwh_res_fini(&r);
	gwh_http(gw.port, "POST", "/json/reply/GetUser?userId=999", ah,
		 "{\"userId\":\"1\"}", &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(jstr(r.json, "id"), "1");
	gwh_res_fini(&r);
	gwh_http(gw.port, "PATCH", "/api/PatchUser", ah,
		 "{\"userId\":\"1\",\"lastName\":\"Root\"}", &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(jstr(r.json, "lastName"), "Root");
	gwh_res_fini(&r);
	gwh_http(gw.port, "GET", "/api/GetUser.json?userId=1", ah, NULL, &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);

	/* oneway: done, nothing to say */
	gwh_http(gw.port, "POST", "/json/oneway/GetUser", ah,
		 "{\"userId\":\"1\"}", &r);
	CHECK_INT(r.status, 204);
	gwh_res_fini(&r);

	/* errors keep their status on predefined routes */
	gwh_http(gw.port, "GET", "/api/GetUser?userId=999999", ah, NULL, &r);
	CHECK_ERR(&r, 404, "NotFound");
	gwh_res_fini(&r);
	gwh_http(gw.port, "POST", "/api/NoSuchOperation", ah, "{}", &r);
	CHECK_ERR(&r, 404, "NotFound");
	gwh_res_fini(&r);
	gwh_http(gw.port, "POST", "/api/GetUser", ah, "{\"userId\":", &r);
	CHECK_ERR(&r, 400, "SerializationException");
	gwh_res_fini(&r);
}

static void
test_users(void)
{
	char id2[24] = "", id3[24] = "", path[128], body[512];
	char auth[4200];
	gwh_res r;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", admin_tok);

	/* NewUser */
	CHECK_INT(new_user("Alice@Example.com", NULL, id2), 200);
	CHECK(id2[0] != '\0');
	/* The path names the user: a userId in the query, the body or a
	 * form does not send the change elsewhere. */
	{
		char other[160], idb[24] = "";
		const char *hf[] = {auth,
				    "Content-Type: "
				    "application/x-www-form-urlencoded",
				    NULL};

		CHECK_INT(new_user("bob@path.example.com", NULL, idb), 200);
		snprintf(path, sizeof(path), "/users/%s?userId=%s", id2, idb);
		snprintf(body, sizeof(body),
			 "{\"userId\":\"%s\",\"lastName\":\"Path\"}", idb);
		call("PATCH", path, admin_tok, body, &r);
		CHECK_INT(r.status, 200);
		CHECK_STR(jstr(r.json, "id"), id2);
		CHECK_STR(jstr(r.json, "lastName"), "Path");
		gwh_res_fini(&r);
		snprintf(path, sizeof(path), "/users/%s", id2);
		snprintf(other, sizeof(other), "userId=%s&lastName=Form", idb);
		gwh_http(gw.port, "PATCH", path, hf, other, &r);
		CHECK_INT(r.status, 200);
		CHECK_STR(jstr(r.json, "id"), id2);
		gwh_res_fini(&r);
		snprintf(path, sizeof(path), "/users/%s", idb);
		call("GET", path, admin_tok, NULL, &r);
		CHECK_INT(r.status, 200);
		CHECK(jstr(r.json, "lastName") == NULL ||
		      strcmp(jstr(r.json, "lastName"), "Path") != 0);
		CHECK(jstr(r.json, "lastName") == NULL ||
		      strcmp(jstr(r.json, "lastName"), "Form") != 0);
		gwh_res_fini(&r);
	}
	/* 409 for the same email in another letter case */
	call("POST", "/users", admin_tok,
	     "{\"emailAddress\":\"alice@EXAMPLE.com\",\"password\":\"" PW "\"}",
	     &r);
	CHECK_ERR(&r, 409, "Conflict");
	gwh_res_fini(&r);
	/* 400 with field names */
	call("POST", "/users", admin_tok, "{}", &r);
	CHECK_ERR(&r, 400, "NotEmpty");
	CHECK_STR(rs_field(&r, 0), "EmailAddress");
	gwh_res_fini(&r);
	call("POST", "/users", admin_tok,
	     "{\"emailAddress\":\"not-an-email\",\"password\":\"" PW "\"}", &r);
	CHECK_INT(r.status, 400);
	CHECK_STR(rs_field(&r, 0), "EmailAddress");
	CHECK_STR(r.reason, rs_code(&r));
	gwh_res_fini(&r);
	/* malformed JSON, wrong types */
	call("POST", "/users", admin_tok, "{\"emailAddress\":", &r);
	CHECK_ERR(&r, 400, "SerializationException");
	gwh_res_fini(&r);
	call("POST", "/users", admin_tok, "{\"emailAddress\":[1,2]}", &r);
	CHECK_ERR(&r, 400, "SerializationException");
	gwh_res_fini(&r);
	/* 415: a body without a Content-Type we read */
	{
		const char *h1[] = {auth, "Content-Type: text/plain", NULL};
		const char *h2[] = {auth, NULL};

		gwh_http(gw.port, "POST", "/users", h1, "{}", &r);
		CHECK_INT(r.status, 415);
		CHECK(rs_errors_is_array(&r));
		gwh_res_fini(&r);
		gwh_http(gw.port, "POST", "/users", h2, "{}", &r);
		CHECK_INT(r.status, 415);
		gwh_res_fini(&r);
	}
	/* 413: above --max-body */
	{
		size_t n = MAX_BODY * 2;
		char *big = malloc(n + 1);

		if (big != NULL) {
			memset(big, ' ', n);
			big[0] = '{';
			big[n - 1] = '}';
			big[n] = '\0';
			call("POST", "/users", admin_tok, big, &r);
			CHECK_INT(r.status, 413);
			gwh_res_fini(&r);
			free(big);
		}
	}
	/* form posts and the query string fill the message too */
	{
		const char *h[] = {
		    auth, "Content-Type: application/x-www-form-urlencoded",
		    NULL};

		gwh_http(gw.port, "POST", "/users?firstName=Query", h,
			 "emailAddress=bob%40example.com&password=" PW
			 "&lastName=Form+Name",
			 &r);
		CHECK_INT(r.status, 200);
		CHECK_STR(jstr(r.json, "firstName"), "Query");
		CHECK_STR(jstr(r.json, "lastName"), "Form Name");
		if (jstr(r.json, "id") != NULL) {
			snprintf(id3, sizeof(id3), "%s", jstr(r.json, "id"));
		}
		gwh_res_fini(&r);
	}

	/* GetUser: path variables percent-decoded, .json suffix, 404 */
	snprintf(path, sizeof(path), "/users/%%%02x%s", id2[0], id2 + 1);
	call("GET", path, admin_tok, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(jstr(r.json, "emailAddress"), "Alice@Example.com");
	gwh_res_fini(&r);
	snprintf(path, sizeof(path), "/users/%s.json", id2);
	call("GET", path, admin_tok, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(jstr(r.json, "id"), id2);
	gwh_res_fini(&r);
	call("GET", "/users/999999", admin_tok, NULL, &r);
	CHECK_ERR(&r, 404, "NotFound");
	gwh_res_fini(&r);
	call("GET", "/users/abc", admin_tok, NULL, &r);
	CHECK_INT(r.status, 400);
	gwh_res_fini(&r);

	/* PatchUser, also through X-Http-Method-Override */
	snprintf(path, sizeof(path), "/users/%s", id2);
	call("PATCH", path, admin_tok, "{\"firstName\":\"Alicia\"}", &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(jstr(r.json, "firstName"), "Alicia");
	gwh_res_fini(&r);
	{
		const char *h[] = {auth, "Content-Type: application/json",
				   "X-Http-Method-Override: PATCH", NULL};

		gwh_http(gw.port, "POST", path, h,
			 "{\"lastName\":\"Override\"}", &r);
		CHECK_INT(r.status, 200);
		CHECK_STR(jstr(r.json, "lastName"), "Override");
		gwh_res_fini(&r);
	}
	/* the path wins over the body's userId */
	call("PATCH", path, admin_tok,
	     "{\"userId\":\"1\",\"firstName\":\"Al\"}", &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(jstr(r.json, "id"), id2);
	gwh_res_fini(&r);
	call("PATCH", "/users/999999", admin_tok, "{\"firstName\":\"X\"}", &r);
	CHECK_ERR(&r, 404, "NotFound");
	gwh_res_fini(&r);

	/* ListUsers with query filters */
	call("GET", "/users?take=1", admin_tok, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_INT(json_array_size(json_object_get(r.json, "results")), 1);
	CHECK(json_integer_value(json_object_get(r.json, "total")) >= 3);
	gwh_res_fini(&r);
	call("GET", "/users?email=alice", admin_tok, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_INT(json_array_size(json_object_get(r.json, "results")), 1);
	gwh_res_fini(&r);

	/* 405 on a documented path; 404 elsewhere */
	call("PUT", path, admin_tok, "{}", &r);
	CHECK_ERR(&r, 405, "NotImplementedException");
	gwh_res_fini(&r);
	call("GET", "/no/such/route", admin_tok, NULL, &r);
	CHECK_ERR(&r, 404, "NotFound");
	gwh_res_fini(&r);

	/* UpdateBusinessUser (PUT /user) */
	snprintf(body, sizeof(body),
		 "{\"userId\":%s,\"firstName\":\"Biz\",\"lastName\":\"User\","
		 "\"email\":\"biz@example.com\",\"phoneNumber\":\"+15550100\","
		 "\"roles\":[\"Manager\"],\"version\":1}",
		 id3);
	call("PUT", "/user", admin_tok, body, &r);
	CHECK_INT(r.status, 200);
	if (r.status != 200) {
		fprintf(stderr, "PUT /user: %.*s\n", (int)r.body_len, r.body);
	}
	CHECK_STR(jstr(json_object_get(r.json, "data"), "email"),
		  "biz@example.com");
	gwh_res_fini(&r);
	call("PUT", "/user", admin_tok, "{\"userId\":0}", &r);
	CHECK_INT(r.status, 400);
	CHECK(rs_field(&r, 0) != NULL);
	/* the error rides in the response's own responseStatus */
	CHECK(json_object_get(r.json, "responseStatus") != NULL);
	gwh_res_fini(&r);

	/* DeleteUser */
	snprintf(path, sizeof(path), "/users/%s", id3);
	call("DELETE", path, admin_tok, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(jstr(r.json, "id"), id3);
	gwh_res_fini(&r);
	call("GET", path, admin_tok, NULL, &r);
	CHECK_ERR(&r, 404, "NotFound");
	gwh_res_fini(&r);
	call("DELETE", path, admin_tok, NULL, &r);
	CHECK_ERR(&r, 404, "NotFound");
	gwh_res_fini(&r);

	/* JSONP: errors are 200 inside the callback */
	call("GET", "/users/999999?callback=cb", admin_tok, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK(r.body != NULL && strncmp(r.body, "cb({", 4) == 0);
	gwh_res_fini(&r);
	/* Accept naming only formats we do not speak */
	{
		const char *h[] = {auth, "Accept: image/png", NULL};

		gwh_http(gw.port, "GET", "/users/1", h, NULL, &r);
		CHECK_INT(r.status, 406);
		gwh_res_fini(&r);
	}
}

static void
test_organizations_and_scope(void)
{
	char mgr_id[24] = "", ta[24] = "", tb[24] = "", plain_id[24] = "";
	char mgr_tok[4096] = "", plain_tok[4096] = "";
	char path[256], body[512];
	gwh_res r;

	call("POST", "/organizations", admin_tok, "{\"name\":\"A\"}", &r);
	CHECK_INT(r.status, 200);
	snprintf(org_a, sizeof(org_a), "%s",
		 jstr(r.json, "id") ? jstr(r.json, "id") : "");
	gwh_res_fini(&r);
	call("POST", "/organizations", admin_tok,
	     "{\"name\":\"B\",\"type\":20}", &r);
	CHECK_INT(r.status, 200);
	snprintf(org_b, sizeof(org_b), "%s",
		 jstr(r.json, "id") ? jstr(r.json, "id") : "");
	gwh_res_fini(&r);
	call("POST", "/organizations", admin_tok, "{}", &r);
	CHECK_ERR(&r, 400, "NotEmpty");
	CHECK_STR(rs_field(&r, 0), "Name");
	gwh_res_fini(&r);

	snprintf(path, sizeof(path), "/organizations/%s", org_a);
	call("GET", path, admin_tok, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(jstr(r.json, "name"), "A");
	gwh_res_fini(&r);
	call("GET", "/organizations/00000000000000000000000000000001",
	     admin_tok, NULL, &r);
	CHECK_ERR(&r, 404, "NotFound");
	gwh_res_fini(&r);
	call("GET", "/organizations", admin_tok, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK(json_array_size(json_object_get(r.json, "results")) >= 2);
	gwh_res_fini(&r);

	CHECK_INT(new_user("mgr@example.com", org_a, mgr_id), 200);
	CHECK_INT(new_user("ta@example.com", org_a, ta), 200);
	CHECK_INT(new_user("tb@example.com", NULL, tb), 200);
	CHECK_INT(new_user("plain@example.com", org_a, plain_id), 200);

	/* membership routes */
	snprintf(path, sizeof(path), "/organizations/%s/members/%s", org_b, tb);
	call("POST", path, admin_tok, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(jstr(r.json, "userId"), tb);
	gwh_res_fini(&r);
	snprintf(path, sizeof(path), "/organizations/%s/members/%s", org_b, ta);
	call("POST", path, admin_tok, NULL, &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
	call("DELETE", path, admin_tok, NULL, &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);

	/* the manager: role Manager, member of A */
	snprintf(path, sizeof(path), "/users/%s", mgr_id);
	call("PATCH", path, admin_tok, "{\"roles\":[\"Manager\"]}", &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
	CHECK_INT(
	    login("mgr@example.com", PW, mgr_tok, sizeof(mgr_tok), NULL, 0),
	    200);
	CHECK_INT(login("plain@example.com", PW, plain_tok, sizeof(plain_tok),
			NULL, 0),
		  200);

	/* in scope */
	snprintf(path, sizeof(path), "/users/%s", ta);
	call("GET", path, mgr_tok, NULL, &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
	/* out of scope: 403 */
	snprintf(path, sizeof(path), "/users/%s", tb);
	call("GET", path, mgr_tok, NULL, &r);
	CHECK_ERR(&r, 403, "Forbidden");
	gwh_res_fini(&r);
	call("PATCH", path, mgr_tok, "{\"firstName\":\"X\"}", &r);
	CHECK_ERR(&r, 403, "Forbidden");
	gwh_res_fini(&r);
	/* missing role: 403 Invalid Role */
	snprintf(body, sizeof(body),
		 "{\"emailAddress\":\"p2@example.com\",\"password\":\"" PW
		 "\"}");
	call("POST", "/users", plain_tok, body, &r);
	CHECK_ERR(&r, 403, "Forbidden");
	CHECK_STR(rs_message(&r), "Invalid Role");
	gwh_res_fini(&r);
	call("GET", "/users", plain_tok, NULL, &r);
	CHECK_ERR(&r, 403, "Forbidden");
	gwh_res_fini(&r);
	call("PUT", "/user", mgr_tok,
	     "{\"userId\":1,\"firstName\":\"a\",\"lastName\":\"b\","
	     "\"email\":\"x@example.com\",\"roles\":[]}",
	     &r);
	CHECK_ERR(&r, 403, "Forbidden");
	gwh_res_fini(&r);
	/* anybody reads themselves */
	snprintf(path, sizeof(path), "/users/%s", plain_id);
	call("GET", path, plain_tok, NULL, &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
	call("GET", "/auth", plain_tok, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(jstr(r.json, "userId"), plain_id);
	gwh_res_fini(&r);
}

/* The seeds' JSON sample bodies, sent as they are: read without a
 * SerializationException; whatever is wrong is the daemon's field error. */
static void
test_seed_samples(void)
{
	static const char patch_sample[] =
	    "{\"accountIds\":[\"String\"],\"userId\":\"String\",\"firstName\":"
	    "\"String\",\"lastName\":\"String\",\"newPassword\":\"String\","
	    "\"roles\":[\"String\"]}";
	static const char new_sample[] =
	    "{\"accountId\":\"String\",\"emailAddress\":\"String\","
	    "\"firstName\""
	    ":\"String\",\"lastName\":\"String\",\"password\":\"String\"}";
	char path[64], id[24] = "";
	gwh_res r;

	call("POST", "/users", admin_tok, new_sample, &r);
	CHECK_INT(r.status, 400);
	CHECK(rs_code(&r) != NULL &&
	      strcmp(rs_code(&r), "SerializationException") != 0);
	CHECK(rs_field(&r, 0) != NULL);
	gwh_res_fini(&r);

	CHECK_INT(new_user("seed@example.com", NULL, id), 200);
	snprintf(path, sizeof(path), "/users/%s", id);
	call("PATCH", path, admin_tok, patch_sample, &r);
	CHECK(r.status >= 200 && r.status < 500 && r.status != 415);
	CHECK(rs_code(&r) == NULL ||
	      strcmp(rs_code(&r), "SerializationException") != 0);
	gwh_res_fini(&r);
	/* the same through the predefined route: the body's userId */
	{
		char auth[4200];
		const char *h[] = {auth, "Content-Type: application/json",
				   NULL};

		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
			 admin_tok);
		gwh_http(gw.port, "PATCH", "/json/reply/PatchUser", h,
			 patch_sample, &r);
		CHECK(r.status == 400 || r.status == 404);
		CHECK(rs_code(&r) != NULL &&
		      strcmp(rs_code(&r), "SerializationException") != 0);
		gwh_res_fini(&r);
	}
}

/*
 * The other formats, as far as the codecs are built: a format whose codec
 * is not in the table answers 406 and is skipped here; one that is must
 * be chosen by every rule of docs/wire-formats.md, section 2.
 */
static void
test_formats(void)
{
	static const struct {
		const char *name, *ct, *marker;
	} fmts[] = {
	    {"xml", "application/xml", "<UserInfo"},
	    {"jsv", "text/jsv", "{id:1,"},
	    {"csv", "text/csv", "Id,"},
	};
	char auth[4200], accept[64], buf[256], path[128];
	gwh_res r;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", admin_tok);
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		const char *h[] = {auth, accept, NULL};
		const char *paths[][2] = {{"/users/1.", ""},
					  {"/users/1?format=", ""},
					  {"/", "/reply/GetUser?userId=1"},
					  {"/api/GetUser.", "?userId=1"}};

		snprintf(accept, sizeof(accept), "Accept: %s", fmts[i].ct);
		snprintf(path, sizeof(path), "/users/1.%s", fmts[i].name);
		gwh_http(gw.port, "GET", path, h, NULL, &r);
		if (r.status == 406) {
			fprintf(stderr, "test_formats: no %s codec yet\n",
				fmts[i].name);
			gwh_res_fini(&r);
			continue;
		}
		gwh_res_fini(&r);
		for (size_t k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
			snprintf(path, sizeof(path), "%s%s%s", paths[k][0],
				 fmts[i].name, paths[k][1]);
			gwh_http(gw.port, "GET", path, h + 0, NULL, &r);
			CHECK_INT(r.status, 200);
			CHECK(gwh_header(&r, "content-type", 0, buf,
					 sizeof(buf)) &&
			      strncmp(buf, fmts[i].ct, strlen(fmts[i].ct)) ==
				  0);
			CHECK(r.body != NULL &&
			      strstr(r.body, fmts[i].marker) != NULL);
			if (strcmp(fmts[i].name, "csv") == 0) {
				CHECK(gwh_header(&r, "content-disposition", 0,
						 buf, sizeof(buf)) != NULL &&
				      strcmp(buf, "attachment;filename="
						  "\"GetUser.csv\"") == 0);
			}
			gwh_res_fini(&r);
		}
		/* by Accept alone */
		gwh_http(gw.port, "GET", "/users/1", h, NULL, &r);
		CHECK_INT(r.status, 200);
		CHECK(gwh_header(&r, "content-type", 0, buf, sizeof(buf)) &&
		      strncmp(buf, fmts[i].ct, strlen(fmts[i].ct)) == 0);
		gwh_res_fini(&r);
		/* errors in the format, status and reason unchanged */
		snprintf(path, sizeof(path), "/users/999999.%s", fmts[i].name);
		gwh_http(gw.port, "GET", path, h, NULL, &r);
		CHECK_INT(r.status, 404);
		CHECK_STR(r.reason, "NotFound");
		CHECK(gwh_header(&r, "content-type", 0, buf, sizeof(buf)) &&
		      strncmp(buf, fmts[i].ct, strlen(fmts[i].ct)) == 0);
		CHECK(r.body != NULL && strstr(r.body, "NotFound") != NULL);
		gwh_res_fini(&r);
	}

	/* the seed's JSV sample body for PUT /user, as it is */
	{
		static const char jsv_sample[] =
		    "{\n\tuserId: 0,\n\tfirstName: String,\n\tlastName: "
		    "String,\n\temail: String,\n\tphoneNumber: String,\n\t"
		    "roles: \n\t[\n\t\tString\n\t],\n\tviviotId: String,\n\t"
		    "version: 0\n}";
		const char *h[] = {auth, "Content-Type: text/jsv",
				   "Accept: application/json", NULL};

		gwh_http(gw.port, "PUT", "/user", h, jsv_sample, &r);
		if (r.status == 415) {
			fprintf(stderr, "test_formats: no jsv reader yet\n");
		} else {
			CHECK_INT(r.status, 400);
			CHECK(rs_code(&r) != NULL &&
			      strcmp(rs_code(&r), "SerializationException") !=
				  0);
			CHECK(rs_field(&r, 0) != NULL);
		}
		gwh_res_fini(&r);
	}
	/* the seed's XML sample body for PATCH /users/{userId} */
	{
		static const char xml_sample[] =
		    "<PatchUser xmlns:i=\"http://www.w3.org/2001/XMLSchema-"
		    "instance\" "
		    "xmlns=\"http://schemas.datacontract.org/2004/07/"
		    "Voice.Api.Authentication\"><FirstName>Root</FirstName>"
		    "<UserId>String</UserId></PatchUser>";
		const char *h[] = {auth, "Content-Type: application/xml",
				   "Accept: application/json", NULL};

		gwh_http(gw.port, "PATCH", "/users/1", h, xml_sample, &r);
		if (r.status == 415) {
			fprintf(stderr, "test_formats: no xml reader yet\n");
		} else {
			CHECK_INT(r.status, 200);
			CHECK_STR(jstr(r.json, "firstName"), "Root");
		}
		gwh_res_fini(&r);
	}
	/* HEAD on a GET route */
	{
		const char *h[] = {auth, NULL};

		gwh_http(gw.port, "HEAD", "/users/1", h, NULL, &r);
		CHECK_INT(r.status, 200);
		CHECK_INT(r.body_len, 0);
		gwh_res_fini(&r);
	}
}

/* Clients that leave before their answer: the reply is dropped. */
static void
test_client_gone(void)
{
	char req[4400];
	int n, fd;
	gwh_res r;

	CHECK_INT(th_daemon_signal(&daemon_, SIGSTOP), 0);
	n = snprintf(
	    req, sizeof(req),
	    "GET /users/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
	    "%s\r\n\r\n",
	    admin_tok);
	for (int i = 0; i < 8; i++) {
		fd = gwh_connect(gw.port);
		CHECK(fd >= 0);
		if (fd >= 0) {
			CHECK_INT(gwh_send_all(fd, req, (size_t)n), 0);
			close(fd);
		}
	}
	CHECK_INT(th_daemon_signal(&daemon_, SIGCONT), 0);
	gwh_http(gw.port, "GET", "/healthz", NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
}

/* A stopped daemon: 504 within the deadline. */
static void
test_deadline(void)
{
	long long t0;
	gwh_res r;

	CHECK_INT(th_daemon_signal(&daemon_, SIGSTOP), 0);
	t0 = th_now_ms();
	call("GET", "/users/1", admin_tok, NULL, &r);
	CHECK_ERR(&r, 504, "Timeout");
	CHECK(th_now_ms() - t0 < DEADLINE_MS + 1500);
	gwh_res_fini(&r);
	gwh_http(gw.port, "GET", "/healthz", NULL, NULL, &r);
	CHECK_INT(r.status, 503);
	/* no answer, though its connection is still up */
	CHECK_STR(jstr(r.json, "status"), "unavailable");
	CHECK(json_is_true(json_object_get(
	    json_array_get(json_object_get(r.json, "daemons"), 0),
	    "connected")));
	gwh_res_fini(&r);
	CHECK_INT(th_daemon_signal(&daemon_, SIGCONT), 0);
	t0 = th_now_ms();
	do {
		gwh_res_fini(&r);
		call("GET", "/users/1", admin_tok, NULL, &r);
	} while (r.status != 200 && th_now_ms() - t0 < 10000);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
}

typedef struct load_state {
	atomic_bool stop;
	atomic_int ok, unavailable, timeout, other;
	atomic_int ok_after; /* 200s counted after `restarted` was set */
	atomic_bool restarted;
} load_state;

static load_state load;

/* Every request of the load: when (realtime ms), how long, what. */
#define N_EVENTS 200000
typedef struct load_event {
	long long start, end; /* CLOCK_REALTIME, ms */
	int status;
	bool retry_after; /* a 503 said "Retry-After: 1" */
} load_event;

static load_event events[N_EVENTS];
static atomic_int n_events;

static long long
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *
load_worker(void *arg)
{
	(void)arg;
	while (!atomic_load(&load.stop)) {
		gwh_res r;
		char ra[16];
		long long t0 = real_ms();
		int i;

		call("GET", "/users/1", admin_tok, NULL, &r);
		if ((i = atomic_fetch_add(&n_events, 1)) < N_EVENTS) {
			events[i].start = t0;
			events[i].end = real_ms();
			events[i].status = r.status;
			events[i].retry_after =
			    gwh_header(&r, "Retry-After", 0, ra, sizeof(ra)) !=
				NULL &&
			    strcmp(ra, "1") == 0;
		}
		switch (r.status) {
		case 200:
			atomic_fetch_add(&load.ok, 1);
			if (atomic_load(&load.restarted)) {
				atomic_fetch_add(&load.ok_after, 1);
			}
			break;
		case 503:
			atomic_fetch_add(&load.unavailable, 1);
			gwh_nap_ms(2); /* pacing: fast 503s must not starve the
				      daemon's restart on a small machine */
			break;
		case 504:
			atomic_fetch_add(&load.timeout, 1);
			break;
		default:
			fprintf(stderr, "load: unexpected status %d\n",
				r.status);
			atomic_fetch_add(&load.other, 1);
			break;
		}
		gwh_res_fini(&r);
	}
	return NULL;
}

/* When the daemon's socket was made (it listens from then): realtime ms. */
static long long
listening_since(const th_daemon *d)
{
	struct stat st;

	if (stat(d->url + strlen("ipc://"), &st) != 0) {
		return -1;
	}
	return (long long)st.st_mtim.tv_sec * 1000 +
	       st.st_mtim.tv_nsec / 1000000;
}

/*
 * A daemon killed under load (the only one): the calls in flight are
 * settled at once (503, their pipe gone), every request during the
 * outage is a 503 with Retry-After within 50 ms, /healthz says 503
 * within 250 ms, and the first request after the daemon listens again
 * succeeds soon: nng redials within about 100 ms, but nng 1.5's dialer can
 * stop redialing for good (seen here once in about fifty runs on a loaded
 * machine: 2.9 s), and then libusersclient's keeper replaces it after 3 s
 * without a connection (UC_REDIAL_MS, client/client.c); so within 4 s.
 */
static void
test_daemon_killed_under_load(void)
{
	enum { WORKERS = 4 };
	pthread_t tid[WORKERS];
	long long t0, kill_at, killed_at, restart_at, listen_at = -1;
	long long first_ok = -1;
	long long health_503 = -1, settle_worst = 0, outage_worst = 0;
	int in_flight = 0, outage = 0, outage_bad = 0, n;
	gwh_res r;

	memset(&load, 0, sizeof(load));
	atomic_store(&n_events, 0);
	for (int i = 0; i < WORKERS; i++) {
		CHECK_INT(pthread_create(&tid[i], NULL, load_worker, NULL), 0);
	}
	t0 = th_now_ms();
	while (atomic_load(&load.ok) < 50 && th_now_ms() - t0 < 10000) {
		gwh_nap_ms(5);
	}
	CHECK(atomic_load(&load.ok) >= 50);
	kill_at = real_ms();
	CHECK(th_daemon_kill(&daemon_) != -1);
	killed_at = real_ms(); /* reaped: its socket is closed */
	/* /healthz: 503 within 250 ms of the loss. */
	for (;;) {
		gwh_http(gw.port, "GET", "/healthz", NULL, NULL, &r);
		if (r.status == 503) {
			health_503 = real_ms() - killed_at;
		}
		gwh_res_fini(&r);
		if (health_503 >= 0 || real_ms() - killed_at > 5000) {
			break;
		}
	}
	CHECK(health_503 >= 0 && health_503 <= 250);
	/* A while without a daemon: 40 more requests. */
	n = atomic_load(&load.unavailable) + 40;
	t0 = th_now_ms();
	while (atomic_load(&load.unavailable) < n && th_now_ms() - t0 < 10000) {
		gwh_nap_ms(5);
	}
	CHECK(atomic_load(&load.unavailable) >= n);
	restart_at = real_ms();
	CHECK_INT(th_daemon_restart(&daemon_, NULL), 0);
	listen_at = listening_since(&daemon_);
	CHECK(listen_at >= restart_at && listen_at > 0);
	atomic_store(&load.restarted, true);
	t0 = th_now_ms();
	while (atomic_load(&load.ok_after) < 20 && th_now_ms() - t0 < 20000) {
		gwh_nap_ms(5);
	}
	CHECK(atomic_load(&load.ok_after) >= 20);
	if (atomic_load(&load.ok_after) < 20) {
		/* Who is stuck: the daemon, or the gateway's client? */
		gwh_http(gw.port, "GET", "/metrics", NULL, NULL, &r);
		fprintf(stderr, "not recovered after %lld ms; metrics:\n%s\n",
			th_now_ms() - t0, r.body ? r.body : "(none)");
		gwh_res_fini(&r);
	}
	atomic_store(&load.stop, true);
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(tid[i], NULL);
	}
	CHECK_INT(atomic_load(&load.other), 0);
	CHECK_INT(atomic_load(&load.timeout), 0); /* no call waited it out */

	n = atomic_load(&n_events);
	n = n < N_EVENTS ? n : N_EVENTS;
	for (int i = 0; i < n; i++) {
		load_event *e = &events[i];

		if (e->start < kill_at && e->end > kill_at) {
			/* In flight at the kill: answered, 200 or 503, soon
			 * (the deadline is DEADLINE_MS). */
			in_flight++;
			if (e->end - kill_at > settle_worst) {
				settle_worst = e->end - kill_at;
			}
			CHECK(e->status == 200 || e->status == 503);
		} else if (e->start > killed_at && e->end < listen_at) {
			/* During the outage: 503 at once, with Retry-After. */
			outage++;
			if (e->end - e->start > outage_worst) {
				outage_worst = e->end - e->start;
			}
			if (e->status != 503 || !e->retry_after ||
			    e->end - e->start > 50) {
				outage_bad++;
			}
		}
		if (e->status == 200 && e->start >= listen_at &&
		    (first_ok < 0 || e->end < first_ok)) {
			first_ok = e->end;
		}
	}
	CHECK(settle_worst <= 500);
	CHECK(outage >= 10);
	CHECK_INT(outage_bad, 0);
	CHECK(first_ok > 0 && first_ok - listen_at <= 4000);
	fprintf(stderr,
		"load: %d ok, %d unavailable, %d timeout; at the kill %d in "
		"flight, settled within %lld ms; /healthz 503 after %lld ms; "
		"outage: %d requests, slowest %lld ms; first 200 %lld ms after "
		"the daemon listened again\n",
		atomic_load(&load.ok), atomic_load(&load.unavailable),
		atomic_load(&load.timeout), in_flight, settle_worst, health_503,
		outage, outage_worst, first_ok - listen_at);
}

/* HTTPS with HTTP/2 by ALPN (and HTTP/1.1), via curl and openssl. */
static void
test_tls_http2(void)
{
	const char *curl = "/usr/bin/curl";
	const char *openssl = "/usr/bin/openssl";
	char cert[192], key[192], url[128], userpw[128];
	gwh_proc tls;
	th_output o;

	if (!file_exists(curl) || !file_exists(openssl)) {
		fprintf(stderr, "test_tls_http2: no curl/openssl, skipped\n");
		return;
	}
	snprintf(cert, sizeof(cert), "%s/gw-cert.pem", daemon_.dir);
	snprintf(key, sizeof(key), "%s/gw-key.pem", daemon_.dir);
	{
		const char *argv[] = {openssl,
				      "req",
				      "-x509",
				      "-newkey",
				      "ec",
				      "-pkeyopt",
				      "ec_paramgen_curve:prime256v1",
				      "-nodes",
				      "-keyout",
				      key,
				      "-out",
				      cert,
				      "-days",
				      "1",
				      "-subj",
				      "/CN=127.0.0.1",
				      NULL};

		CHECK_INT(th_run(argv, NULL, NULL, 20000, &o), 0);
		CHECK_INT(o.status, 0);
		th_output_fini(&o);
	}
	{
		const char *extra[] = {"--tls-cert", cert, "--tls-key", key,
				       NULL};

		if (gwh_start(&tls, &daemon_, "gw-tls", extra) != 0) {
			CHECK(0);
			return;
		}
	}
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/users/1", tls.port);
	snprintf(userpw, sizeof(userpw), "%s:%s", TH_ADMIN_EMAIL,
		 TH_ADMIN_PASSWORD);
	{
		const char *argv[] = {curl,
				      "-sk",
				      "--http2",
				      "-u",
				      userpw,
				      "-w",
				      "\\n%{http_code} %{http_version}",
				      url,
				      NULL};

		CHECK_INT(th_run(argv, NULL, NULL, 20000, &o), 0);
		CHECK(o.out != NULL && strstr(o.out, "\"id\":\"1\"") != NULL);
		CHECK(o.out != NULL && strstr(o.out, "\n200 2") != NULL);
		th_output_fini(&o);
	}
	{
		const char *argv[] = {curl,
				      "-sk",
				      "--http1.1",
				      "-u",
				      userpw,
				      "-w",
				      "\\n%{http_code} %{http_version}",
				      url,
				      NULL};

		CHECK_INT(th_run(argv, NULL, NULL, 20000, &o), 0);
		CHECK(o.out != NULL && strstr(o.out, "\n200 1.1") != NULL);
		th_output_fini(&o);
	}
	/* login over HTTPS: Secure cookies */
	{
		char login_url[128];
		const char *argv[] = {curl,
				      "-sk",
				      "--http2",
				      "-D",
				      "-",
				      "-H",
				      "Content-Type: application/json",
				      "--data",
				      "{\"userName\":\"" TH_ADMIN_EMAIL
				      "\",\"password\":\"" TH_ADMIN_PASSWORD
				      "\"}",
				      login_url,
				      NULL};

		snprintf(login_url, sizeof(login_url),
			 "https://127.0.0.1:%d/auth/credentials", tls.port);
		CHECK_INT(th_run(argv, NULL, NULL, 20000, &o), 0);
		CHECK(o.out != NULL &&
		      strstr(o.out, "HttpOnly; SameSite=Strict; Secure") !=
			  NULL);
		th_output_fini(&o);
	}
	/* an HTTP/2 client that gives up while the daemon is stopped: the
	 * stream goes away under the pending RPC */
	CHECK_INT(th_daemon_signal(&daemon_, SIGSTOP), 0);
	{
		const char *argv[] = {curl,         "-sk", "--http2",
				      "--max-time", "0.3", "-u",
				      userpw,       url,   NULL};

		CHECK_INT(th_run(argv, NULL, NULL, 20000, &o), 0);
		CHECK(o.status != 0); /* curl timed out */
		th_output_fini(&o);
	}
	CHECK_INT(th_daemon_signal(&daemon_, SIGCONT), 0);
	{
		const char *argv[] = {curl,   "-sk", "--http2",         "-u",
				      userpw, "-w",  "\\n%{http_code}", url,
				      NULL};
		long long t0 = th_now_ms();
		bool ok = false;

		while (!ok && th_now_ms() - t0 < 10000) {
			CHECK_INT(th_run(argv, NULL, NULL, 20000, &o), 0);
			ok = o.out != NULL && strstr(o.out, "\n200") != NULL;
			th_output_fini(&o);
		}
		CHECK(ok);
	}
	CHECK_INT(gwh_stop(&tls), 0);
}

/* Sends a keep-alive GET /healthz on fd; true once answer bytes come. */
static bool
answered(int fd)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
	struct pollfd pfd = {fd, POLLIN, 0};
	char buf[256];

	if (fd < 0 ||
	    send(fd, req, sizeof(req) - 1, 0) != (ssize_t)(sizeof(req) - 1)) {
		return false;
	}
	return poll(&pfd, 1, 5000) == 1 && recv(fd, buf, sizeof(buf), 0) > 0;
}

#define WAIT_TURN_MS 5000

/* Whether process pid is stopped (state T), polled until WAIT_TURN_MS. */
static bool
stopped(pid_t pid)
{
	char path[64], st[512];
	long long until = th_now_ms() + WAIT_TURN_MS;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	while (th_now_ms() < until) {
		FILE *f = fopen(path, "r");
		const char *p;
		size_t n = 0;

		if (f != NULL) {
			n = fread(st, 1, sizeof(st) - 1, f);
			fclose(f);
		}
		st[n] = '\0';
		p = strrchr(st, ')');
		if (p != NULL && (p[2] == 'T' || p[2] == 't')) {
			return true;
		}
		gwh_nap_ms(1);
	}
	return false;
}

/*
 * One loop turn, one message: requests that one loop reads in one wakeup
 * reach usersd in one nng message. The gateway (one loop) is stopped while
 * a request is written on each of N idle keep-alive connections, so that
 * its loop finds them all readable at once when it goes on; the daemon's
 * counters of /metrics say how many messages carried the N calls.
 */
static void
test_one_turn_one_message(void)
{
	enum { N = 12 };
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
	const char *args[] = {"--threads", "1", NULL};
	long long m0, c0, m1, c1;
	int fd[N];
	gwh_proc g;
	int ok = 0;

	if (gwh_spawn(&g, &daemon_, "gw-turn", args) != 0) {
		CHECK(0);
		return;
	}
	/* N idle keep-alive connections, each answered once. */
	for (int i = 0; i < N; i++) {
		fd[i] = gwh_connect(g.port);
		CHECK(fd[i] >= 0 &&
		      gwh_send_all(fd[i], req, sizeof(req) - 1) == 0);
		CHECK_INT(gwh_read_answer(fd[i], WAIT_TURN_MS), 200);
	}
	m0 = gwh_daemon_metric(g.port, "usersgw_daemon_messages_sent_total",
			       daemon_.url);
	c0 = gwh_daemon_metric(g.port, "usersgw_daemon_calls_sent_total",
			       daemon_.url);
	CHECK(m0 >= 1 && c0 >= N);
	CHECK_INT(kill(g.pid, SIGSTOP), 0);
	CHECK(stopped(g.pid));
	for (int i = 0; i < N; i++) {
		CHECK(gwh_send_all(fd[i], req, sizeof(req) - 1) == 0);
	}
	CHECK_INT(kill(g.pid, SIGCONT), 0);
	for (int i = 0; i < N; i++) {
		ok += gwh_read_answer(fd[i], WAIT_TURN_MS) == 200;
		close(fd[i]);
	}
	CHECK_INT(ok, N);
	m1 = gwh_daemon_metric(g.port, "usersgw_daemon_messages_sent_total",
			       daemon_.url);
	c1 = gwh_daemon_metric(g.port, "usersgw_daemon_calls_sent_total",
			       daemon_.url);
	fprintf(stderr, "one turn: %lld calls in %lld message(s)\n", c1 - c0,
		m1 - m0);
	CHECK_INT(c1 - c0, N);
	CHECK_INT(m1 - m0, 1);
	CHECK(gwh_daemon_metric(g.port,
				"usersgw_daemon_messages_received_total",
				daemon_.url) >= 1);
	CHECK_INT(gwh_stop(&g), 0);
}

/* --max-connections: one more is closed at once; room again after. */
static void
test_max_connections(void)
{
	const char *extra[] = {"--max-connections", "2", NULL};
	gwh_proc lim;
	int a, b, c;
	char byte;
	long long t0;
	bool ok = false;

	if (gwh_start(&lim, &daemon_, "gw-limit", extra) != 0) {
		CHECK(0);
		return;
	}
	/* a and b answered first, so both are counted before c comes (two
	 * loops accept in parallel: connecting alone fixes no order). */
	a = gwh_connect(lim.port);
	b = gwh_connect(lim.port);
	CHECK(answered(a));
	CHECK(answered(b));
	c = gwh_connect(lim.port);
	CHECK(a >= 0 && b >= 0 && c >= 0);
	if (c >= 0) {
		struct pollfd pfd = {c, POLLIN, 0};

		/* closed by the gateway: EOF, long before any timeout */
		CHECK_INT(poll(&pfd, 1, 5000), 1);
		CHECK(recv(c, &byte, 1, 0) <= 0);
		close(c);
	}
	if (a >= 0) {
		close(a);
	}
	if (b >= 0) {
		close(b);
	}
	t0 = th_now_ms();
	while (!ok && th_now_ms() - t0 < 10000) {
		gwh_res r;

		gwh_http(lim.port, "GET", "/healthz", NULL, NULL, &r);
		ok = r.status == 200;
		gwh_res_fini(&r);
	}
	CHECK(ok);
	CHECK_INT(gwh_stop(&lim), 0);
}

/*
 * test_gateway: the routes, formats, credentials and errors.
 * test_gateway resilience: the daemon stopped (504), killed under load
 * (503, then 200s again once it is back), clients gone before the reply.
 */
int
main(int argc, char **argv)
{
	bool resilience = argc > 1 && strcmp(argv[1], "resilience") == 0;

	signal(SIGPIPE, SIG_IGN);
	if (th_daemon_start(&daemon_, NULL) != 0) {
		return 1;
	}
	if (gwh_start(&gw, &daemon_, "gw", NULL) != 0) {
		th_daemon_stop(&daemon_);
		return 1;
	}
	if (resilience) {
		CHECK_INT(login(TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, admin_tok,
				sizeof(admin_tok), admin_ref,
				sizeof(admin_ref)),
			  200);
		test_client_gone();
		test_deadline();
		test_daemon_killed_under_load();
	} else {
		test_health_and_metrics();
		test_login_and_credentials();
		test_cookie_session();
		test_refresh();
		test_refresh_cookie();
		test_logout();
		test_predefined();
		test_users();
		test_organizations_and_scope();
		test_seed_samples();
		test_formats();
		test_tls_http2();
		test_max_connections();
		test_one_turn_one_message();
	}
	CHECK_INT(gwh_stop(&gw), 0);
	if (check_failed > 0) {
		th_daemon_dump_log(&daemon_);
	}
	th_daemon_stop(&daemon_);
	return check_done();
}
