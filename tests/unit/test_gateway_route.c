/*
 * test_gateway_route.c - the route matcher's method rules (gw_route.c)
 * and the origin rules (gw_cors.c) as units, without a server:
 *
 *   - no operation that writes or is open to anonymous callers, and no
 *     logout, is matched on GET or HEAD, on any route, whatever
 *     X-Http-Method-Override says; reads are;
 *   - every match says which methods its path accepts (Allow);
 *   - where a request comes from: same origin (ports, schemes, IPv6,
 *     letter case), listed origins, "null", Sec-Fetch-Site;
 *   - which --cors-origin values are origins.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "gw.h"

static h2o_mem_pool_t pool;

static gw_route_match
find2(const char *method, const char *real, const char *path)
{
	gw_route_match rm;

	gw_route_find(&pool, h2o_iovec_init(method, strlen(method)),
		      h2o_iovec_init(real, strlen(real)), path, strlen(path),
		      &rm);
	return rm;
}

static gw_route_match
find(const char *method, const char *path)
{
	return find2(method, method, path);
}

static const char *
allow_of(const gw_route_match *rm, char *buf)
{
	return gw_route_allow_text(rm->allow, buf);
}

static void
test_unsafe_never_on_get(void)
{
	static const char *const forms[][2] = {
	    {"/api/", ""},        {"/api/", ".xml"},
	    {"/json/reply/", ""}, {"/json/oneway/", ""},
	    {"/csv/reply/", ""},  {"/xml/oneway/", ".json"},
	};
	char buf[GW_ALLOW_MAX];

	for (size_t i = 0; i < up_method_count(); i++) {
		const up_method *m = up_method_at(i);
		bool unsafe = m->writes || m->auth_none;

		for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
			char path[128];
			gw_route_match rm;

			snprintf(path, sizeof(path), "%s%s%s", forms[f][0],
				 m->desc->name, forms[f][1]);
			for (int v = 0; v < 2; v++) {
				rm = find(v == 0 ? "GET" : "HEAD", path);
				CHECK_INT(rm.kind, unsafe
						       ? GW_ROUTE_BAD_METHOD
						       : GW_ROUTE_PREDEFINED);
				CHECK(rm.unsafe_on_get == unsafe);
				CHECK(rm.method == m);
				/* the override cannot help */
				rm = find2("POST", v == 0 ? "GET" : "HEAD",
					   path);
				CHECK_INT(rm.kind, unsafe
						       ? GW_ROUTE_BAD_METHOD
						       : GW_ROUTE_PREDEFINED);
			}
			rm = find("POST", path);
			CHECK_INT(rm.kind, GW_ROUTE_PREDEFINED);
			CHECK_STR(allow_of(&rm, buf),
				  unsafe ? "POST, PUT, PATCH, DELETE, OPTIONS"
					 : "GET, HEAD, POST, PUT, PATCH, "
					   "DELETE, OPTIONS");
			rm = find("TRACE", path);
			CHECK_INT(rm.kind, GW_ROUTE_BAD_METHOD);
			CHECK(!rm.unsafe_on_get);
		}
		/* the documented routes of the operation */
		for (size_t r = 0; r < m->n_routes; r++) {
			char path[128];
			char *v;
			gw_route_match rm;

			snprintf(path, sizeof(path), "%s", m->routes[r].path);
			/* {var} -> a value */
			while ((v = strchr(path, '{')) != NULL) {
				char *e = strchr(v, '}');

				v[0] = '7';
				memmove(v + 1, e + 1, strlen(e + 1) + 1);
			}
			rm = find(m->routes[r].method, path);
			CHECK_INT(rm.kind, GW_ROUTE_DOCUMENTED);
			CHECK(rm.method == m);
			rm = find2(m->routes[r].method, "GET", path);
			if (unsafe) {
				CHECK_INT(rm.kind, GW_ROUTE_BAD_METHOD);
				CHECK(rm.unsafe_on_get);
				CHECK(rm.n_vars == 0);
			}
		}
	}
}

static void
test_allow(void)
{
	char buf[GW_ALLOW_MAX];
	gw_route_match rm;

	rm = find("PUT", "/users/1");
	CHECK_INT(rm.kind, GW_ROUTE_BAD_METHOD);
	CHECK_STR(allow_of(&rm, buf), "GET, HEAD, PATCH, DELETE, OPTIONS");
	rm = find("HEAD", "/users/1.json");
	CHECK_INT(rm.kind, GW_ROUTE_DOCUMENTED);
	CHECK_STR(rm.method->desc->name, "GetUser");
	rm = find("GET", "/users");
	CHECK_STR(allow_of(&rm, buf), "GET, HEAD, POST, OPTIONS");
	rm = find("GET", "/auth");
	CHECK_INT(rm.kind, GW_ROUTE_AUTH_SESSION);
	CHECK_STR(allow_of(&rm, buf), "GET, HEAD, POST, OPTIONS");
	rm = find("POST", "/auth");
	CHECK_INT(rm.kind, GW_ROUTE_DOCUMENTED);
	CHECK_STR(rm.method->desc->name, "Authenticate");
	rm = find("GET", "/auth/logout");
	CHECK_INT(rm.kind, GW_ROUTE_BAD_METHOD);
	CHECK_STR(allow_of(&rm, buf), "POST, OPTIONS");
	rm = find2("POST", "GET", "/auth/logout");
	CHECK_INT(rm.kind, GW_ROUTE_BAD_METHOD);
	rm = find("POST", "/auth/logout");
	CHECK_INT(rm.kind, GW_ROUTE_DOCUMENTED);
	CHECK_STR(rm.method->desc->name, "Logout");
	rm = find("POST", "/healthz");
	CHECK_INT(rm.kind, GW_ROUTE_BAD_METHOD);
	CHECK_STR(allow_of(&rm, buf), "GET, HEAD, OPTIONS");
	rm = find("HEAD", "/metrics");
	CHECK_INT(rm.kind, GW_ROUTE_METRICS);
	/* OPTIONS: not a route's method, but the path is known */
	rm = find("OPTIONS", "/organizations/9/members/2");
	CHECK_INT(rm.kind, GW_ROUTE_BAD_METHOD);
	CHECK_STR(allow_of(&rm, buf), "POST, DELETE, OPTIONS");
	/* unknown paths and operations: nothing accepted */
	rm = find("GET", "/no/such");
	CHECK_INT(rm.kind, GW_ROUTE_NONE);
	CHECK_INT(rm.allow, 0);
	rm = find("POST", "/api/NoSuchOp");
	CHECK_INT(rm.kind, GW_ROUTE_NONE);
	CHECK_INT(rm.allow, 0);
	/* an override to a read on a real POST is a read */
	rm = find2("GET", "POST", "/users/1");
	CHECK_INT(rm.kind, GW_ROUTE_DOCUMENTED);
	CHECK_STR(rm.method->desc->name, "GetUser");
	/* an override to a write on a real GET is refused */
	rm = find2("DELETE", "GET", "/users/1");
	CHECK_INT(rm.kind, GW_ROUTE_BAD_METHOD);
	CHECK(rm.unsafe_on_get);
	CHECK_STR(rm.method->desc->name, "DeleteUser");
	CHECK_STR(gw_route_allow_text(0, buf), "");
	CHECK_STR(gw_route_allow_text(~0u, buf),
		  "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
}

/* ------------------------------------------------------------------------
 * Origins
 */

static gw_site
site(const char *origin, const char *fetch, bool https, const char *host)
{
	static const char *const listed[] = {"https://app.example.com",
					     "http://[::1]:3000"};
	gw_site_in in;

	memset(&in, 0, sizeof(in));
	in.origin = origin;
	in.origin_len = origin != NULL ? strlen(origin) : 0;
	in.fetch_site = fetch;
	in.fetch_site_len = fetch != NULL ? strlen(fetch) : 0;
	in.https = https;
	in.authority = host;
	in.authority_len = host != NULL ? strlen(host) : 0;
	in.listed = listed;
	in.n_listed = 2;
	return gw_site_of(&in);
}

static void
test_site(void)
{
	/* no sign at all: not a browser's cross-site request, nor proof of
	 * our own page */
	CHECK_INT(site(NULL, NULL, false, "h"), GW_SITE_UNKNOWN);
	CHECK_INT(site(NULL, "same-origin", false, "h"), GW_SITE_SAME);
	/* a sibling host's page (another subdomain of the site) */
	CHECK_INT(site(NULL, "same-site", false, "h"), GW_SITE_SAME_SITE);
	CHECK_INT(site(NULL, " Same-Site", false, "h"), GW_SITE_SAME_SITE);
	CHECK_INT(site(NULL, "none", false, "h"), GW_SITE_SAME);
	CHECK_INT(site(NULL, "cross-site", false, "h"), GW_SITE_CROSS);
	CHECK_INT(site(NULL, " Cross-Site ", false, "h"), GW_SITE_CROSS);
	/* our own origin, default ports either side, letter case */
	CHECK_INT(site("http://gw.example", NULL, false, "gw.example"),
		  GW_SITE_SAME);
	CHECK_INT(site("http://gw.example:80", NULL, false, "GW.example"),
		  GW_SITE_SAME);
	CHECK_INT(site("HTTPS://gw.example", NULL, true, "gw.example:443"),
		  GW_SITE_SAME);
	CHECK_INT(site("http://127.0.0.1:8080", NULL, false, "127.0.0.1:8080"),
		  GW_SITE_SAME);
	CHECK_INT(site("http://[::1]:8080", NULL, false, "[::1]:8080"),
		  GW_SITE_SAME);
	/* another scheme, port or host */
	CHECK_INT(site("http://gw.example", NULL, true, "gw.example"),
		  GW_SITE_CROSS);
	CHECK_INT(site("https://gw.example", NULL, false, "gw.example"),
		  GW_SITE_CROSS);
	CHECK_INT(site("http://127.0.0.1:8081", NULL, false, "127.0.0.1:8080"),
		  GW_SITE_CROSS);
	CHECK_INT(site("http://gw.example.evil", NULL, false, "gw.example"),
		  GW_SITE_CROSS);
	CHECK_INT(site("http://evil", NULL, false, "gw.example:80"),
		  GW_SITE_CROSS);
	/* not origins */
	CHECK_INT(site("null", NULL, false, "gw.example"), GW_SITE_CROSS);
	CHECK_INT(site("", NULL, false, "gw.example"), GW_SITE_CROSS);
	CHECK_INT(site("http://gw.example/", NULL, false, "gw.example"),
		  GW_SITE_CROSS);
	CHECK_INT(site("gw.example", NULL, false, "gw.example"), GW_SITE_CROSS);
	CHECK_INT(site("http://gw.example:", NULL, false, "gw.example"),
		  GW_SITE_CROSS);
	/* our own origin, but no usable Host: cannot be confirmed */
	CHECK_INT(site("http://gw.example", NULL, false, NULL), GW_SITE_CROSS);
	CHECK_INT(site("http://gw.example", NULL, false, "gw.example:x"),
		  GW_SITE_CROSS);
	/* same Origin, yet the browser says cross-site */
	CHECK_INT(site("http://gw.example", "cross-site", false, "gw.example"),
		  GW_SITE_CROSS);
	/* listed origins pass, whatever Sec-Fetch-Site says */
	CHECK_INT(site("https://app.example.com", "cross-site", false, "gw"),
		  GW_SITE_LISTED);
	CHECK_INT(site("https://APP.example.com:443", NULL, false, "gw"),
		  GW_SITE_LISTED);
	CHECK_INT(site("http://[::1]:3000", NULL, false, "gw"), GW_SITE_LISTED);
	CHECK_INT(site("http://app.example.com", NULL, false, "gw"),
		  GW_SITE_CROSS);
	CHECK_INT(site("https://app.example.com:444", NULL, false, "gw"),
		  GW_SITE_CROSS);
}

static void
test_origin_check(void)
{
	static const char *const good[] = {
	    "https://app.example.com", "http://localhost:3000",
	    "http://[::1]:8080",       "https://a-b.example.co.uk:443",
	    "http://127.0.0.1",
	};
	static const char *const bad[] = {
	    "",
	    "*",
	    "null",
	    "https://app.example.com/",
	    "https://app.example.com/path",
	    "app.example.com",
	    "ftp://app.example.com",
	    "https://",
	    "https://user@app.example.com",
	    "https://app.example.com:",
	    "https://app.example.com:0",
	    "https://app.example.com:65536",
	    "https://app.example.com:123456",
	    "https://app.example.com?x",
	    "http://[::1",
	    "http://[]",
	    "https://app example.com",
	};
	char err[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK_INT(gw_cors_origin_check(good[i], err, sizeof(err)), 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK_INT(gw_cors_origin_check(bad[i], err, sizeof(err)), -1);
		CHECK(err[0] != '\0');
	}
}

int
main(void)
{
	if (up_meta_load() != 0 || gw_routes_init() != 0) {
		fprintf(stderr, "cannot load the contract\n");
		return 1;
	}
	h2o_mem_init_pool(&pool);
	test_unsafe_never_on_get();
	test_allow();
	test_site();
	test_origin_check();
	h2o_mem_clear_pool(&pool);
	gw_routes_fini();
	return check_done();
}
