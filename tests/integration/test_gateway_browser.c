/*
 * test_gateway_browser.c - usersgw against what a browser can be made to
 * do, end to end through a real usersd and real usersgw processes:
 *
 *   - no write, login or logout on GET or HEAD (every predefined route of
 *     every such operation of the contract, X-Http-Method-Override too),
 *     405 with Allow; the link-click attack that changed the admin's
 *     password through GET /api/PatchUser fails end to end;
 *   - Authenticate never reads a password from the query string (400);
 *   - cookie-authenticated writes, logins, logouts, token refreshes and
 *     JSONP from another site (Origin, Sec-Fetch-Site) are refused (403)
 *     and change nothing; same-origin pages, listed CORS origins and
 *     Authorization headers pass;
 *   - SameSite=Strict cookies by default, --cookie-samesite lax and none
 *     (none only with HTTPS: SameSite=None; Secure, and the same-origin
 *     check over HTTPS and HTTP/2 by curl when it is installed);
 *   - CORS: preflights for a listed and an unlisted origin, the headers of
 *     actual answers, --cors-origin checked at startup.
 *
 * Nothing sleeps to wait: every wait polls with a deadline.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "check.h"
#include "gw_harness.h"
#include "harness.h"
#include "users_proto.h"

#define EVIL   "Origin: https://evil.example"
#define LISTED "https://app.example.com"
#define CROSS  "Sec-Fetch-Site: cross-site"
/* Basic admin@example.com:admin-password-1 (the harness's admin) */
#define BASIC                                                                  \
	"Authorization: Basic "                                                \
	"YWRtaW5AZXhhbXBsZS5jb206YWRtaW4tcGFzc3dvcmQtMQ=="
#define JSON_CT   "Content-Type: application/json"
#define FORM_CT   "Content-Type: application/x-www-form-urlencoded"
#define NEW_PW    "hacked-password-9"
#define ADMIN_PWJ "\"password\":\"" TH_ADMIN_PASSWORD "\""
#define LOGIN_BODY                                                             \
	"{\"userName\":\"" TH_ADMIN_EMAIL                                      \
	"\",\"password\":\"" TH_ADMIN_PASSWORD "\"}"

static th_daemon daemon_;
static gwh_proc gw;  /* the defaults */
static gwh_proc gwx; /* --cookie-samesite lax --cors-origin LISTED */
static char admin_tok[4096];

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

static const char *
rs_field(const gwh_res *r)
{
	return jstr(
	    json_array_get(
		json_object_get(json_object_get(r->json, "responseStatus"),
				"errors"),
		0),
	    "fieldName");
}

static bool
has_header(const gwh_res *r, const char *name)
{
	char buf[64];

	return gwh_header(r, name, 0, buf, sizeof(buf)) != NULL;
}

/* The header's value contains needle. */
static bool
header_has(const gwh_res *r, const char *name, const char *needle)
{
	char buf[512];

	return gwh_header(r, name, 0, buf, sizeof(buf)) != NULL &&
	       strstr(buf, needle) != NULL;
}

static bool
header_is(const gwh_res *r, const char *name, const char *value)
{
	char buf[512];

	return gwh_header(r, name, 0, buf, sizeof(buf)) != NULL &&
	       strcmp(buf, value) == 0;
}

/*
 * Signs the admin in through port and gathers the cookies as a browser
 * sends them: "Cookie: ss-tok=...; ss-reftok=...; ..." into cookie. The
 * Set-Cookie lines go to set (size >= 4 * 4400) when set is not NULL.
 * Returns the status.
 */
static int
browser_login(int port, char *cookie, size_t size, char *set, size_t ssize)
{
	const char *h[] = {JSON_CT, NULL};
	char buf[4400];
	gwh_res r;
	int st;

	snprintf(cookie, size, "Cookie: ");
	if (set != NULL) {
		set[0] = '\0';
	}
	gwh_http(port, "POST", "/auth/credentials", h, LOGIN_BODY, &r);
	st = r.status;
	for (int i = 0; gwh_header(&r, "set-cookie", i, buf, sizeof(buf));
	     i++) {
		if (set != NULL) {
			strncat(set, buf, ssize - strlen(set) - 2);
			strncat(set, "\n", ssize - strlen(set) - 1);
		}
		buf[strcspn(buf, ";")] = '\0';
		strncat(cookie, buf, size - strlen(cookie) - 3);
		strncat(cookie, "; ", size - strlen(cookie) - 1);
	}
	gwh_res_fini(&r);
	return st;
}

/* POST /auth/credentials with password pw: the status. */
static int
login_status(const char *pw)
{
	char body[256];
	const char *h[] = {JSON_CT, NULL};
	gwh_res r;
	int st;

	snprintf(body, sizeof(body),
		 "{\"userName\":\"" TH_ADMIN_EMAIL "\",\"password\":\"%s\"}",
		 pw);
	gwh_http(gw.port, "POST", "/auth/credentials", h, body, &r);
	st = r.status;
	gwh_res_fini(&r);
	return st;
}

/* The admin's lastName, read with the bearer token. */
static void
admin_last_name(char *out, size_t size)
{
	char auth[4200];
	const char *h[] = {auth, NULL};
	gwh_res r;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", admin_tok);
	gwh_http(gw.port, "GET", "/users/1", h, NULL, &r);
	snprintf(out, size, "%s",
		 jstr(r.json, "lastName") ? jstr(r.json, "lastName") : "");
	gwh_res_fini(&r);
}

/* How many users have an email containing part (as the admin). */
static long long
users_matching(const char *part)
{
	char auth[4200], path[256];
	const char *h[] = {auth, NULL};
	gwh_res r;
	long long n;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", admin_tok);
	snprintf(path, sizeof(path), "/users?email=%s", part);
	gwh_http(gw.port, "GET", path, h, NULL, &r);
	n = r.status == 200
		? (long long)json_array_size(json_object_get(r.json, "results"))
		: -1;
	gwh_res_fini(&r);
	return n;
}

/* Checks a 405: errorCode, and an Allow without GET/HEAD but with POST
 * when the operation is unsafe. */
static void
check_405_unsafe(const gwh_res *r)
{
	char allow[128];

	CHECK_INT(r->status, 405);
	CHECK(gwh_header(r, "allow", 0, allow, sizeof(allow)) != NULL);
	CHECK(strstr(allow, "POST") != NULL);
	CHECK(strstr(allow, "GET") == NULL && strstr(allow, "HEAD") == NULL);
}

/* ------------------------------------------------------------------------
 * 1. No write, login or logout on GET or HEAD
 */

/* Every operation of the contract on every predefined route form. */
static void
test_predefined_get_head(const char *cookie)
{
	static const char *const forms[][2] = {
	    {"/api/", ""},        {"/api/", ".json"},
	    {"/json/reply/", ""}, {"/json/oneway/", ""},
	    {"/xml/reply/", ""},  {"/jsv/oneway/", ""},
	    {"/csv/reply/", ""},  {"/json/reply/", ".json"}};
	static const char *const verbs[] = {"GET", "HEAD"};
	const char *h[] = {cookie, NULL};
	int unsafe_ops = 0;
	bool saw_auth = false, saw_token = false, saw_patch = false;

	for (size_t i = 0; i < up_method_count(); i++) {
		const up_method *m = up_method_at(i);
		const char *op = m->desc->name;
		bool unsafe = m->writes || m->auth_none;

		unsafe_ops += unsafe;
		saw_auth |= unsafe && strcmp(op, "Authenticate") == 0;
		saw_token |= unsafe && strcmp(op, "GetAccessToken") == 0;
		saw_patch |= unsafe && strcmp(op, "PatchUser") == 0;
		for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
			for (size_t v = 0; v < 2; v++) {
				char path[128];
				gwh_res r;

				snprintf(path, sizeof(path), "%s%s%s",
					 forms[f][0], op, forms[f][1]);
				gwh_http(gw.port, verbs[v], path, h, NULL, &r);
				if (unsafe) {
					check_405_unsafe(&r);
					if (r.status != 405) {
						fprintf(stderr, "%s %s: %d\n",
							verbs[v], path,
							r.status);
					}
				} else {
					/* reads stay allowed on GET */
					CHECK(r.status != 405 && r.status > 0);
				}
				gwh_res_fini(&r);
			}
		}
	}
	/* the test's own premise: the contract marks these as unsafe */
	CHECK(saw_auth && saw_token && saw_patch);
	CHECK(unsafe_ops >= 9);
}

/*
 * The attack: a link to /api/PatchUser?userId=1&newPassword=... clicked
 * by a signed-in admin (GET with the cookie), and its variants. The admin
 * can still sign in with the old password afterwards, not with the new.
 */
static void
test_link_attack(const char *cookie)
{
	static const char *const links[] = {
	    "/api/PatchUser?userId=1&newPassword=" NEW_PW,
	    "/json/reply/PatchUser?userId=1&newPassword=" NEW_PW,
	    "/json/oneway/PatchUser?userId=1&newPassword=" NEW_PW,
	    "/api/PatchUser.json?UserId=1&NewPassword=" NEW_PW,
	};
	const char *h[] = {cookie, NULL};
	gwh_res r;

	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		gwh_http(gw.port, "GET", links[i], h, NULL, &r);
		check_405_unsafe(&r);
		CHECK_STR(rs_code(&r), "NotImplementedException");
		CHECK(rs_message(&r) != NULL &&
		      strstr(rs_message(&r), "PatchUser") != NULL);
		gwh_res_fini(&r);
		gwh_http(gw.port, "HEAD", links[i], h, NULL, &r);
		CHECK_INT(r.status, 405);
		CHECK(has_header(&r, "allow"));
		gwh_res_fini(&r);
	}
	/* X-Http-Method-Override never turns a GET into a write */
	{
		const char *ho[] = {cookie, "X-Http-Method-Override: PATCH",
				    NULL};
		const char *hp[] = {cookie, "X-Http-Method-Override: POST",
				    NULL};

		gwh_http(gw.port, "GET", "/users/1?newPassword=" NEW_PW, ho,
			 NULL, &r);
		CHECK_INT(r.status, 405);
		CHECK(header_is(&r, "allow",
				"GET, HEAD, PATCH, DELETE, "
				"OPTIONS"));
		gwh_res_fini(&r);
		gwh_http(gw.port, "GET", links[0], hp, NULL, &r);
		check_405_unsafe(&r);
		gwh_res_fini(&r);
	}
	/* NewUser and DeleteUser by link: nothing created, nothing gone */
	gwh_http(gw.port, "GET",
		 "/api/NewUser?emailAddress=linked%40example.com&password="
		 "a-long-password-1",
		 h, NULL, &r);
	check_405_unsafe(&r);
	gwh_res_fini(&r);
	CHECK_INT(users_matching("linked"), 0);
	gwh_http(gw.port, "GET", "/json/reply/DeleteUser?userId=1", h, NULL,
		 &r);
	check_405_unsafe(&r);
	gwh_res_fini(&r);

	/* end to end: the password did not change */
	CHECK_INT(login_status(TH_ADMIN_PASSWORD), 200);
	CHECK_INT(login_status(NEW_PW), 401);

	/* reads by link still work */
	gwh_http(gw.port, "GET", "/api/GetUser?userId=1", h, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(jstr(r.json, "id"), "1");
	gwh_res_fini(&r);
	/* the same write as POST is fine (same-origin: no Origin) */
	{
		const char *hj[] = {cookie, JSON_CT, NULL};

		gwh_http(gw.port, "POST", "/api/PatchUser", hj,
			 "{\"userId\":\"1\",\"lastName\":\"Posted\"}", &r);
		CHECK_INT(r.status, 200);
		CHECK_STR(jstr(r.json, "lastName"), "Posted");
		gwh_res_fini(&r);
	}
}

/* Every 405 says what the path accepts. */
static void
test_allow_everywhere(const char *cookie)
{
	const char *h[] = {cookie, JSON_CT, NULL};
	gwh_res r;

	gwh_http(gw.port, "PUT", "/users/1", h, "{}", &r);
	CHECK_INT(r.status, 405);
	CHECK(header_is(&r, "allow", "GET, HEAD, PATCH, DELETE, OPTIONS"));
	gwh_res_fini(&r);
	gwh_http(gw.port, "DELETE", "/users", h, NULL, &r);
	CHECK_INT(r.status, 405);
	CHECK(header_is(&r, "allow", "GET, HEAD, POST, OPTIONS"));
	gwh_res_fini(&r);
	gwh_http(gw.port, "POST", "/healthz", NULL, NULL, &r);
	CHECK_INT(r.status, 405);
	CHECK(header_is(&r, "allow", "GET, HEAD, OPTIONS"));
	gwh_res_fini(&r);
	gwh_http(gw.port, "GET", "/auth/credentials", h, NULL, &r);
	CHECK_INT(r.status, 405);
	CHECK(header_is(&r, "allow", "POST, OPTIONS"));
	gwh_res_fini(&r);
	/* /auth: the session on GET, Authenticate on POST */
	gwh_http(gw.port, "DELETE", "/auth", h, NULL, &r);
	CHECK_INT(r.status, 405);
	CHECK(header_is(&r, "allow", "GET, HEAD, POST, OPTIONS"));
	gwh_res_fini(&r);
	/* a read on a predefined route: any method a client sends */
	gwh_http(gw.port, "TRACE", "/api/GetUser", h, NULL, &r);
	CHECK_INT(r.status, 405);
	CHECK(header_is(&r, "allow",
			"GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"));
	gwh_res_fini(&r);
	/* the metadata pages */
	gwh_http(gw.port, "POST", "/metadata", NULL, NULL, &r);
	CHECK_INT(r.status, 405);
	CHECK(header_is(&r, "allow", "GET, HEAD"));
	gwh_res_fini(&r);
}

/* /auth/logout: POST only; a GET clears nothing. */
static void
test_logout_post_only(void)
{
	char cookie[9000];
	const char *h[] = {cookie, NULL};
	gwh_res r;

	CHECK_INT(browser_login(gw.port, cookie, sizeof(cookie), NULL, 0), 200);
	gwh_http(gw.port, "GET", "/auth/logout", h, NULL, &r);
	CHECK_INT(r.status, 405);
	CHECK(header_is(&r, "allow", "POST, OPTIONS"));
	CHECK(!has_header(&r, "set-cookie"));
	gwh_res_fini(&r);
	gwh_http(gw.port, "HEAD", "/auth/logout", h, NULL, &r);
	CHECK_INT(r.status, 405);
	CHECK(!has_header(&r, "set-cookie"));
	gwh_res_fini(&r);
	{
		const char *ho[] = {cookie, "X-Http-Method-Override: POST",
				    NULL};

		gwh_http(gw.port, "GET", "/auth/logout", ho, NULL, &r);
		CHECK_INT(r.status, 405);
		CHECK(!has_header(&r, "set-cookie"));
		gwh_res_fini(&r);
	}
	gwh_http(gw.port, "POST", "/auth/logout", h, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK(header_has(&r, "set-cookie", "Max-Age=0"));
	gwh_res_fini(&r);
}

/* ------------------------------------------------------------------------
 * 2. No password from the query string
 */

static void
test_password_query(void)
{
	static const char *const paths[] = {
	    "/auth/credentials?password=" TH_ADMIN_PASSWORD,
	    "/auth?Password=" TH_ADMIN_PASSWORD,
	    "/api/Authenticate?password=" TH_ADMIN_PASSWORD,
	    "/json/reply/Authenticate?PASSWORD=x",
	    "/auth/credentials?pass%77ord=x",
	    "/json/oneway/Authenticate?userName=a&password=",
	};
	const char *h[] = {JSON_CT, NULL};
	const char *hf[] = {FORM_CT, NULL};
	gwh_res r;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		gwh_http(gw.port, "POST", paths[i], h, LOGIN_BODY, &r);
		CHECK_INT(r.status, 400);
		CHECK_STR(rs_field(&r), "Password");
		CHECK(rs_message(&r) != NULL &&
		      strstr(rs_message(&r), "query string") != NULL);
		CHECK(!has_header(&r, "set-cookie"));
		if (r.status != 400) {
			fprintf(stderr, "POST %s: %d\n", paths[i], r.status);
		}
		gwh_res_fini(&r);
	}
	/* the body alone, a form post, other query fields: fine */
	gwh_http(gw.port, "POST", "/auth/credentials", h, LOGIN_BODY, &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
	gwh_http(gw.port, "POST", "/auth/credentials", hf,
		 "userName=" TH_ADMIN_EMAIL "&password=" TH_ADMIN_PASSWORD, &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
	gwh_http(gw.port, "POST", "/api/Authenticate", hf,
		 "userName=" TH_ADMIN_EMAIL "&password=" TH_ADMIN_PASSWORD, &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
	gwh_http(gw.port, "POST", "/auth/credentials?userName=" TH_ADMIN_EMAIL,
		 h, "{" ADMIN_PWJ "}", &r);
	CHECK_INT(r.status, 200);
	gwh_res_fini(&r);
}

/* ------------------------------------------------------------------------
 * 3. Cross-site requests with the cookie
 */

static void
test_cross_site_writes(const char *cookie)
{
	char host[64], same[64], other_port[64], other_scheme[64];
	char auth[4200], last[256];
	gwh_res r;

	snprintf(host, sizeof(host), "Host: 127.0.0.1:%d", gw.port);
	snprintf(same, sizeof(same), "Origin: http://127.0.0.1:%d", gw.port);
	snprintf(other_port, sizeof(other_port), "Origin: http://127.0.0.1:%d",
		 gw.port + 1);
	snprintf(other_scheme, sizeof(other_scheme),
		 "Origin: https://127.0.0.1:%d", gw.port);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", admin_tok);
	{
		/* each of these says "another site" */
		const char *const signs[][2] = {
		    {EVIL, NULL},
		    {CROSS, NULL},
		    {"Origin: null", NULL},
		    {other_port, NULL},
		    {other_scheme, NULL},
		    {"Origin: http://127.0.0.1.evil.example", NULL},
		    {same, CROSS},
		};

		for (size_t i = 0; i < sizeof(signs) / sizeof(signs[0]); i++) {
			const char *h[] = {cookie,      JSON_CT,     host,
					   signs[i][0], signs[i][1], NULL};

			gwh_http(gw.port, "PATCH", "/users/1", h,
				 "{\"lastName\":\"Cross\"}", &r);
			CHECK_INT(r.status, 403);
			CHECK_STR(rs_code(&r), "Forbidden");
			CHECK(rs_message(&r) != NULL &&
			      strstr(rs_message(&r), "cross-site") != NULL);
			gwh_res_fini(&r);
			gwh_http(gw.port, "POST", "/api/PatchUser", h,
				 "{\"userId\":\"1\",\"lastName\":\"Cross\"}",
				 &r);
			CHECK_INT(r.status, 403);
			gwh_res_fini(&r);
		}
	}
	admin_last_name(last, sizeof(last));
	CHECK(strcmp(last, "Cross") != 0);

	/* a cross-site form that creates a user: refused, nobody created */
	{
		const char *h[] = {cookie, FORM_CT, EVIL, NULL};

		gwh_http(gw.port, "POST", "/users", h,
			 "emailAddress=csrf%40example.com&password=a-long-"
			 "password-1",
			 &r);
		CHECK_INT(r.status, 403);
		gwh_res_fini(&r);
		CHECK_INT(users_matching("csrf"), 0);
	}
	/* our own pages: Origin the request's own, Sec-Fetch-Site too */
	{
		const char *h1[] = {cookie, JSON_CT, host, same, NULL};
		const char *h2[] = {
		    cookie, JSON_CT, host, same, "Sec-Fetch-Site: same-origin",
		    NULL};
		const char *h3[] = {cookie, JSON_CT,
				    "Sec-Fetch-Site: same-site", NULL};
		const char *h4[] = {cookie, JSON_CT, "Sec-Fetch-Site: none",
				    NULL};
		/* no port in Host: the scheme's default on both sides */
		const char *h5[] = {cookie, JSON_CT, "Host: LocalHost",
				    "Origin: http://localhost:80", NULL};

		gwh_http(gw.port, "PATCH", "/users/1", h1,
			 "{\"lastName\":\"Same1\"}", &r);
		CHECK_INT(r.status, 200);
		CHECK_STR(jstr(r.json, "lastName"), "Same1");
		gwh_res_fini(&r);
		gwh_http(gw.port, "PATCH", "/users/1", h2,
			 "{\"lastName\":\"Same2\"}", &r);
		CHECK_INT(r.status, 200);
		gwh_res_fini(&r);
		gwh_http(gw.port, "PATCH", "/users/1", h3,
			 "{\"lastName\":\"Same3\"}", &r);
		CHECK_INT(r.status, 200);
		gwh_res_fini(&r);
		gwh_http(gw.port, "PATCH", "/users/1", h4,
			 "{\"lastName\":\"Same4\"}", &r);
		CHECK_INT(r.status, 200);
		gwh_res_fini(&r);
		gwh_http(gw.port, "PATCH", "/users/1", h5,
			 "{\"lastName\":\"Same5\"}", &r);
		CHECK_INT(r.status, 200);
		CHECK_STR(jstr(r.json, "lastName"), "Same5");
		gwh_res_fini(&r);
	}
	/* an Authorization header is not a cookie: not affected */
	{
		const char *h[] = {auth, JSON_CT, EVIL, CROSS, NULL};

		gwh_http(gw.port, "PATCH", "/users/1", h,
			 "{\"lastName\":\"Bearer\"}", &r);
		CHECK_INT(r.status, 200);
		CHECK_STR(jstr(r.json, "lastName"), "Bearer");
		gwh_res_fini(&r);
	}
	/* reads with the cookie from another site: the browser keeps the
	 * answer from that page; not refused */
	{
		const char *h[] = {cookie, EVIL, CROSS, NULL};

		gwh_http(gw.port, "GET", "/users/1", h, NULL, &r);
		CHECK_INT(r.status, 200);
		gwh_res_fini(&r);
	}
}

/* Login CSRF, refresh, logout and JSONP from another site. */
static void
test_cross_site_sessions(const char *cookie)
{
	gwh_res r;

	/* a login from another site's form: no cookies for the victim */
	{
		const char *h1[] = {FORM_CT, EVIL, NULL};
		const char *h2[] = {JSON_CT, CROSS, NULL};

		gwh_http(gw.port, "POST", "/auth/credentials", h1,
			 "userName=" TH_ADMIN_EMAIL
			 "&password=" TH_ADMIN_PASSWORD,
			 &r);
		CHECK_INT(r.status, 403);
		CHECK(!has_header(&r, "set-cookie"));
		CHECK(jstr(r.json, "bearerToken") == NULL);
		gwh_res_fini(&r);
		gwh_http(gw.port, "POST", "/api/Authenticate", h2, LOGIN_BODY,
			 &r);
		CHECK_INT(r.status, 403);
		CHECK(!has_header(&r, "set-cookie"));
		gwh_res_fini(&r);
	}
	/* a token refresh from the ss-reftok cookie */
	{
		const char *h[] = {cookie, EVIL, NULL};
		const char *ok[] = {cookie, "Sec-Fetch-Site: same-origin",
				    NULL};

		gwh_http(gw.port, "POST", "/access-token", h, NULL, &r);
		CHECK_INT(r.status, 403);
		CHECK(!has_header(&r, "set-cookie"));
		gwh_res_fini(&r);
		gwh_http(gw.port, "POST", "/access-token", ok, NULL, &r);
		CHECK_INT(r.status, 200);
		gwh_res_fini(&r);
	}
	/* a logout */
	{
		const char *h[] = {cookie, CROSS, NULL};

		gwh_http(gw.port, "POST", "/auth/logout", h, NULL, &r);
		CHECK_INT(r.status, 403);
		CHECK(!has_header(&r, "set-cookie"));
		gwh_res_fini(&r);
	}
	/* JSONP: a script tag of another site, with the cookie */
	{
		const char *h[] = {cookie, CROSS, "Sec-Fetch-Dest: script",
				   NULL};
		const char *ho[] = {cookie, EVIL, NULL};
		const char *ok[] = {cookie, "Sec-Fetch-Site: same-origin",
				    NULL};
		char auth[4200];
		const char *hb[] = {auth, CROSS, NULL};

		gwh_http(gw.port, "GET", "/users/1?callback=steal", h, NULL,
			 &r);
		CHECK_INT(r.status, 403);
		CHECK(r.body == NULL || strncmp(r.body, "steal(", 6) != 0);
		CHECK(r.body == NULL || strstr(r.body, TH_ADMIN_EMAIL) == NULL);
		gwh_res_fini(&r);
		gwh_http(gw.port, "GET", "/auth?callback=steal", ho, NULL, &r);
		CHECK_INT(r.status, 403);
		CHECK(r.body == NULL || strstr(r.body, "sessionId") == NULL);
		gwh_res_fini(&r);
		gwh_http(gw.port, "GET", "/api/GetUser?userId=1&callback=steal",
			 h, NULL, &r);
		CHECK_INT(r.status, 403);
		gwh_res_fini(&r);
		/* our own pages, and bearer tokens, still get JSONP */
		gwh_http(gw.port, "GET", "/users/1?callback=show", ok, NULL,
			 &r);
		CHECK_INT(r.status, 200);
		CHECK(r.body != NULL && strncmp(r.body, "show(", 5) == 0);
		gwh_res_fini(&r);
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
			 admin_tok);
		gwh_http(gw.port, "GET", "/users/1?callback=show", hb, NULL,
			 &r);
		CHECK_INT(r.status, 200);
		gwh_res_fini(&r);
	}
	/*
	 * JSONP with what the browser sends by itself is served to our own
	 * pages only, as the browser says: not to a sibling host's
	 * (same-site), nor when nothing says. Basic credentials a browser
	 * kept ride along like the cookie, and count as it does.
	 */
	{
		const char *sibling[] = {cookie, "Sec-Fetch-Site: same-site",
					 "Sec-Fetch-Dest: script", NULL};
		const char *silent[] = {cookie, NULL};
		const char *basic_x[] = {BASIC, CROSS, NULL};
		const char *basic_sib[] = {BASIC, "Sec-Fetch-Site: same-site",
					   NULL};
		const char *basic_ok[] = {BASIC, "Sec-Fetch-Site: same-origin",
					  NULL};
		const char *basic_w[] = {BASIC, JSON_CT, EVIL, NULL};

		gwh_http(gw.port, "GET", "/users?callback=steal", sibling, NULL,
			 &r);
		CHECK_INT(r.status, 403);
		CHECK(r.body == NULL || strstr(r.body, TH_ADMIN_EMAIL) == NULL);
		gwh_res_fini(&r);
		gwh_http(gw.port, "GET", "/users/1?callback=steal", silent,
			 NULL, &r);
		CHECK_INT(r.status, 403);
		gwh_res_fini(&r);
		gwh_http(gw.port, "GET", "/users/1?callback=steal", basic_x,
			 NULL, &r);
		CHECK_INT(r.status, 403);
		gwh_res_fini(&r);
		gwh_http(gw.port, "GET", "/auth?callback=steal", basic_sib,
			 NULL, &r);
		CHECK_INT(r.status, 403);
		CHECK(r.body == NULL || strstr(r.body, "Token") == NULL);
		gwh_res_fini(&r);
		gwh_http(gw.port, "GET", "/users/1?callback=show", basic_ok,
			 NULL, &r);
		CHECK_INT(r.status, 200);
		CHECK(r.body != NULL && strncmp(r.body, "show(", 5) == 0);
		gwh_res_fini(&r);
		/* a write with kept Basic credentials from another site */
		gwh_http(gw.port, "PATCH", "/users/1", basic_w,
			 "{\"lastName\":\"Cross\"}", &r);
		CHECK_INT(r.status, 403);
		gwh_res_fini(&r);
	}
	/* GET /auth with Basic credentials says who, and signs nobody in:
	 * no tokens in the answer */
	{
		const char *h[] = {BASIC, NULL};

		gwh_http(gw.port, "GET", "/auth", h, NULL, &r);
		CHECK_INT(r.status, 200);
		CHECK_STR(jstr(r.json, "userName"), TH_ADMIN_EMAIL);
		CHECK(jstr(r.json, "bearerToken") == NULL);
		CHECK(jstr(r.json, "refreshToken") == NULL);
		CHECK(!has_header(&r, "set-cookie"));
		gwh_res_fini(&r);
	}
	/* the session survived all of it */
	{
		const char *h[] = {cookie, NULL};

		gwh_http(gw.port, "GET", "/auth", h, NULL, &r);
		CHECK_INT(r.status, 200);
		gwh_res_fini(&r);
	}
}

/* ------------------------------------------------------------------------
 * 4. SameSite
 */

static bool
file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* usersgw ARGS... exits at once with status 2 and says why. */
static void
check_refused(const char *const *args, const char *says)
{
	char bin[512];
	const char *argv[16];
	size_t n = 0;
	th_output o;

	if (th_bin("usersgw", bin, sizeof(bin)) != 0) {
		CHECK(0);
		return;
	}
	argv[n++] = bin;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--daemon";
	argv[n++] = daemon_.url;
	for (size_t i = 0; args[i] != NULL && n < 15; i++) {
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	CHECK_INT(th_run(argv, NULL, NULL, 10000, &o), 0);
	CHECK_INT(o.status, 2);
	CHECK(o.err != NULL && strstr(o.err, says) != NULL);
	if (o.err == NULL || strstr(o.err, says) == NULL) {
		fprintf(stderr, "usersgw said: %s\n", o.err ? o.err : "");
	}
	th_output_fini(&o);
}

static void
test_samesite(void)
{
	char cookie[9000], set[20000];
	int lines = 0;

	CHECK_INT(
	    browser_login(gw.port, cookie, sizeof(cookie), set, sizeof(set)),
	    200);
	for (const char *p = set; (p = strstr(p, "ss-")) != NULL; p++) {
		const char *eol = strchr(p, '\n');

		if (p != set && p[-1] != '\n') {
			continue;
		}
		lines++;
		CHECK(eol != NULL);
		CHECK(strstr(p, "; SameSite=Strict") != NULL &&
		      strstr(p, "; SameSite=Strict") < eol);
		CHECK(strstr(p, "HttpOnly") != NULL);
	}
	CHECK_INT(lines, 5); /* ss-tok, ss-reftok, ss-id, ss-pid, ss-opt */
	CHECK(strstr(set, "SameSite=Lax") == NULL);

	if (gwx.pid != 0) {
		CHECK_INT(browser_login(gwx.port, cookie, sizeof(cookie), set,
					sizeof(set)),
			  200);
		CHECK(strstr(set, "ss-tok=") != NULL &&
		      strstr(set, "; SameSite=Lax") != NULL);
		CHECK(strstr(set, "Strict") == NULL &&
		      strstr(set, "Secure") == NULL);
	}

	/* none without HTTPS, and values we do not know: refused */
	{
		const char *a1[] = {"--cookie-samesite", "none", NULL};
		const char *a2[] = {"--cookie-samesite", "loose", NULL};

		check_refused(a1, "--cookie-samesite none needs HTTPS");
		check_refused(a2, "--cookie-samesite");
	}
}

/*
 * HTTPS with --cookie-samesite none: SameSite=None; Secure; and the
 * same-origin check with the https scheme, over HTTP/2 (:authority) and
 * HTTP/1.1 (curl, when installed).
 */
static void
test_https(void)
{
	const char *curl = "/usr/bin/curl";
	const char *openssl = "/usr/bin/openssl";
	char cert[192], key[192], url[128], origin[128], wrong[128];
	char cookie[4400] = "";
	gwh_proc tls;
	th_output o;

	if (!file_exists(curl) || !file_exists(openssl)) {
		fprintf(stderr, "test_https: no curl/openssl, skipped\n");
		return;
	}
	snprintf(cert, sizeof(cert), "%s/br-cert.pem", daemon_.dir);
	snprintf(key, sizeof(key), "%s/br-key.pem", daemon_.dir);
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
		const char *extra[] = {
		    "--tls-cert",        cert,   "--tls-key", key,
		    "--cookie-samesite", "none", NULL};

		if (gwh_start(&tls, &daemon_, "gw-br-tls", extra) != 0) {
			CHECK(0);
			return;
		}
	}
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/auth/credentials",
		 tls.port);
	{
		const char *argv[] = {curl,       "-sk", "--http2", "-D",
				      "-",        "-H",  JSON_CT,   "--data",
				      LOGIN_BODY, url,   NULL};

		CHECK_INT(th_run(argv, NULL, NULL, 20000, &o), 0);
		CHECK(o.out != NULL &&
		      strstr(o.out, "HttpOnly; SameSite=None; Secure") != NULL);
		if (o.out != NULL) {
			const char *p = strstr(o.out, "ss-tok=");

			if (p != NULL) {
				snprintf(cookie, sizeof(cookie), "%.*s",
					 (int)strcspn(p, ";\r\n"), p);
			}
		}
		th_output_fini(&o);
	}
	CHECK(cookie[0] != '\0');
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/users/1", tls.port);
	snprintf(origin, sizeof(origin), "Origin: https://127.0.0.1:%d",
		 tls.port);
	snprintf(wrong, sizeof(wrong), "Origin: http://127.0.0.1:%d", tls.port);
	for (int v = 0; v < 2; v++) {
		const char *proto = v == 0 ? "--http2" : "--http1.1";
		const char *same[] = {curl,
				      "-sk",
				      proto,
				      "-o",
				      "/dev/null",
				      "-w",
				      "%{http_code} %{http_version}",
				      "-X",
				      "PATCH",
				      "-b",
				      cookie,
				      "-H",
				      JSON_CT,
				      "-H",
				      origin,
				      "--data",
				      "{\"lastName\":\"Tls\"}",
				      url,
				      NULL};
		const char *cross[] = {curl,
				       "-sk",
				       proto,
				       "-o",
				       "/dev/null",
				       "-w",
				       "%{http_code}",
				       "-X",
				       "PATCH",
				       "-b",
				       cookie,
				       "-H",
				       JSON_CT,
				       "-H",
				       wrong,
				       "--data",
				       "{\"lastName\":\"X\"}",
				       url,
				       NULL};

		CHECK_INT(th_run(same, NULL, NULL, 20000, &o), 0);
		CHECK(o.out != NULL && strncmp(o.out, "200 ", 4) == 0);
		if (v == 0) {
			CHECK(o.out != NULL && strstr(o.out, " 2") != NULL);
		}
		th_output_fini(&o);
		CHECK_INT(th_run(cross, NULL, NULL, 20000, &o), 0);
		CHECK(o.out != NULL && strcmp(o.out, "403") == 0);
		th_output_fini(&o);
	}
	CHECK_INT(gwh_stop(&tls), 0);
}

/* ------------------------------------------------------------------------
 * 5. CORS
 */

static void
test_cors(const char *cookie_x)
{
	const char *pre[] = {"Origin: " LISTED,
			     "Access-Control-Request-Method: PATCH",
			     "Access-Control-Request-Headers: "
			     "authorization,content-type",
			     NULL};
	const char *pre_evil[] = {EVIL, "Access-Control-Request-Method: PATCH",
				  NULL};
	char auth[4200];
	gwh_res r;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", admin_tok);

	/* a listed origin's preflight */
	gwh_http(gwx.port, "OPTIONS", "/users/1", pre, NULL, &r);
	CHECK_INT(r.status, 204);
	CHECK(header_is(&r, "access-control-allow-origin", LISTED));
	CHECK(header_is(&r, "access-control-allow-credentials", "true"));
	CHECK(header_is(&r, "access-control-allow-methods",
			"GET, HEAD, PATCH, DELETE"));
	CHECK(header_has(&r, "access-control-allow-headers", "Authorization"));
	CHECK(header_has(&r, "access-control-allow-headers", "Content-Type"));
	CHECK(header_has(&r, "access-control-allow-headers", "Accept"));
	CHECK(
	    header_has(&r, "access-control-allow-headers", "Idempotency-Key"));
	CHECK(header_is(&r, "access-control-expose-headers",
			"Retry-After, X-Request-Id"));
	CHECK(header_is(&r, "access-control-max-age", "600"));
	CHECK(header_has(&r, "vary", "Origin"));
	gwh_res_fini(&r);
	/* a predefined write: no GET to preflight */
	gwh_http(gwx.port, "OPTIONS", "/api/PatchUser", pre, NULL, &r);
	CHECK_INT(r.status, 204);
	CHECK(header_is(&r, "access-control-allow-methods",
			"POST, PUT, PATCH, DELETE"));
	gwh_res_fini(&r);

	/* an unlisted origin: 403, not one CORS header */
	gwh_http(gwx.port, "OPTIONS", "/users/1", pre_evil, NULL, &r);
	CHECK_INT(r.status, 403);
	CHECK_STR(rs_code(&r), "Forbidden");
	CHECK(!has_header(&r, "access-control-allow-origin"));
	CHECK(!has_header(&r, "access-control-allow-credentials"));
	CHECK(!has_header(&r, "access-control-allow-methods"));
	gwh_res_fini(&r);
	/* the default gateway lists none */
	gwh_http(gw.port, "OPTIONS", "/users/1", pre, NULL, &r);
	CHECK_INT(r.status, 403);
	CHECK(!has_header(&r, "access-control-allow-origin"));
	gwh_res_fini(&r);
	/* unknown paths stay 404; a plain OPTIONS says Allow */
	gwh_http(gwx.port, "OPTIONS", "/no/such/path", pre, NULL, &r);
	CHECK_INT(r.status, 404);
	CHECK(!has_header(&r, "access-control-allow-methods"));
	gwh_res_fini(&r);
	gwh_http(gwx.port, "OPTIONS", "/users", NULL, NULL, &r);
	CHECK_INT(r.status, 204);
	CHECK(header_is(&r, "allow", "GET, HEAD, POST, OPTIONS"));
	CHECK(!has_header(&r, "access-control-allow-origin"));
	gwh_res_fini(&r);

	/* actual answers */
	{
		const char *h[] = {auth, "Origin: " LISTED, NULL};
		const char *he[] = {auth, EVIL, NULL};

		gwh_http(gwx.port, "GET", "/users/1", h, NULL, &r);
		CHECK_INT(r.status, 200);
		CHECK(header_is(&r, "access-control-allow-origin", LISTED));
		CHECK(
		    header_is(&r, "access-control-allow-credentials", "true"));
		CHECK(header_is(&r, "vary", "Accept, Origin"));
		gwh_res_fini(&r);
		gwh_http(gwx.port, "GET", "/users/999999", h, NULL, &r);
		CHECK_INT(r.status, 404); /* errors carry them too */
		CHECK(header_is(&r, "access-control-allow-origin", LISTED));
		gwh_res_fini(&r);
		gwh_http(gwx.port, "GET", "/users/1", he, NULL, &r);
		CHECK_INT(r.status, 200);
		CHECK(!has_header(&r, "access-control-allow-origin"));
		CHECK(!has_header(&r, "access-control-allow-credentials"));
		CHECK(header_is(&r, "vary", "Accept, Origin"));
		gwh_res_fini(&r);
	}
	/* a listed origin passes the cross-site check with the cookie */
	{
		const char *h[] = {cookie_x, JSON_CT, "Origin: " LISTED, CROSS,
				   NULL};
		const char *he[] = {cookie_x, JSON_CT, EVIL, NULL};

		gwh_http(gwx.port, "PATCH", "/users/1", h,
			 "{\"lastName\":\"Listed\"}", &r);
		CHECK_INT(r.status, 200);
		CHECK_STR(jstr(r.json, "lastName"), "Listed");
		CHECK(header_is(&r, "access-control-allow-origin", LISTED));
		gwh_res_fini(&r);
		gwh_http(gwx.port, "PATCH", "/users/1", he,
			 "{\"lastName\":\"Evil\"}", &r);
		CHECK_INT(r.status, 403);
		CHECK(!has_header(&r, "access-control-allow-origin"));
		gwh_res_fini(&r);
	}
	/* --cors-origin is checked at startup */
	{
		const char *a1[] = {"--cors-origin", "https://app.example.com/",
				    NULL};
		const char *a2[] = {"--cors-origin", "*", NULL};
		const char *a3[] = {"--cors-origin", "ftp://app.example.com",
				    NULL};
		const char *a4[] = {"--cors-origin", "https://a.example:99999",
				    NULL};

		check_refused(a1, "not an origin");
		check_refused(a2, "--cors-origin");
		check_refused(a3, "not an origin");
		check_refused(a4, "not an origin");
	}
}

/* Whether part runs: every part without arguments, else those named. */
static bool
part(int argc, char **argv, const char *name)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], name) == 0) {
			return true;
		}
	}
	return argc < 2;
}

/*
 * test_gateway_browser [get] [password] [cross-site] [samesite] [cors]:
 * the parts named (each on its own state), or all of them.
 */
int
main(int argc, char **argv)
{
	char cookie[9000], cookie_x[9000] = "";

	signal(SIGPIPE, SIG_IGN);
	if (up_meta_load() != 0 || th_daemon_start(&daemon_, NULL) != 0) {
		return 1;
	}
	{
		const char *extra[] = {"--cookie-samesite", "lax",
				       "--cors-origin", LISTED, NULL};

		if (gwh_start(&gw, &daemon_, "gw", NULL) != 0) {
			th_daemon_stop(&daemon_);
			return 1;
		}
		/* without it, what needs it fails; the rest still runs */
		CHECK_INT(gwh_start(&gwx, &daemon_, "gwx", extra), 0);
	}
	{
		const char *h[] = {JSON_CT, NULL};
		gwh_res r;

		gwh_http(gw.port, "POST", "/auth/credentials", h, LOGIN_BODY,
			 &r);
		CHECK_INT(r.status, 200);
		snprintf(admin_tok, sizeof(admin_tok), "%s",
			 jstr(r.json, "bearerToken")
			     ? jstr(r.json, "bearerToken")
			     : "");
		gwh_res_fini(&r);
	}
	CHECK_INT(browser_login(gw.port, cookie, sizeof(cookie), NULL, 0), 200);
	if (gwx.pid != 0) {
		CHECK_INT(browser_login(gwx.port, cookie_x, sizeof(cookie_x),
					NULL, 0),
			  200);
	}

	if (part(argc, argv, "get")) {
		test_predefined_get_head(cookie);
		test_link_attack(cookie);
		test_allow_everywhere(cookie);
		test_logout_post_only();
	}
	if (part(argc, argv, "password")) {
		test_password_query();
	}
	if (part(argc, argv, "cross-site")) {
		test_cross_site_writes(cookie);
		test_cross_site_sessions(cookie);
	}
	if (part(argc, argv, "samesite")) {
		test_samesite();
		test_https();
	}
	if (gwx.pid != 0 && part(argc, argv, "cors")) {
		test_cors(cookie_x);
	}
	if (gwx.pid != 0) {
		CHECK_INT(gwh_stop(&gwx), 0);
	}
	CHECK_INT(gwh_stop(&gw), 0);
	if (check_failed > 0) {
		th_daemon_dump_log(&daemon_);
	}
	th_daemon_stop(&daemon_);
	return check_done();
}
