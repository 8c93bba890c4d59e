/*
 * fuzz_route.c - what usersgw reads from a request line and its browser
 * headers, on untrusted input: the route matcher (gateway/gw_route.c,
 * percent-decoding of segments, format suffixes, the method rules), the
 * metadata routes and their ?op= reader (gw_meta_serve.c), and the origin
 * parsers (gw_cors.c: Origin, Host, Sec-Fetch-Site, --cors-origin).
 *
 * The input is split at '\n' into: routing method, request-line method,
 * path (with query), Origin, Sec-Fetch-Site, Host; the first byte's low bit
 * says HTTPS. Each part is copied into a buffer of its exact size, so a
 * read one byte past it is caught. The whole input is also given to each
 * parser raw.
 *
 * Never a crash, a read out of bounds or UB; and the rules hold: no
 * operation that writes or signs in, and no logout, is matched on a GET
 * or HEAD request line; a known path says which methods it accepts; the
 * same input, the same answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw.h"
#include "gw_meta.h"
#include "fuzz_require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { P_METHOD, P_REAL, P_PATH, P_ORIGIN, P_FETCH, P_HOST, N_PARTS };

static bool
is_safe_verb(const char *m, size_t len)
{
	return (len == 3 && strncasecmp(m, "GET", 3) == 0) ||
	       (len == 4 && strncasecmp(m, "HEAD", 4) == 0);
}

static void
check_route(h2o_mem_pool_t *pool, const char *method, size_t mlen,
	    const char *real, size_t rlen, const char *path, size_t len)
{
	const char *q = memchr(path, '?', len);
	size_t plen = q != NULL ? (size_t)(q - path) : len;
	gw_route_match rm, again;
	char allow[GW_ALLOW_MAX];

	gw_route_find(pool, h2o_iovec_init(method, mlen),
		      h2o_iovec_init(real, rlen), path, plen, &rm);
	gw_route_find(pool, h2o_iovec_init(method, mlen),
		      h2o_iovec_init(real, rlen), path, plen, &again);
	require(rm.kind == again.kind && rm.allow == again.allow &&
		rm.method == again.method && rm.n_vars == again.n_vars);
	require((rm.kind == GW_ROUTE_NONE) == (rm.allow == 0));
	require(rm.n_vars <= GW_MAX_VARS);
	for (size_t i = 0; i < rm.n_vars; i++) {
		require(strlen(rm.vars[i].value) <= rm.vars[i].value_len);
	}
	if (is_safe_verb(real, rlen)) {
		if (rm.kind == GW_ROUTE_DOCUMENTED ||
		    rm.kind == GW_ROUTE_PREDEFINED) {
			require(rm.method != NULL && !rm.method->writes &&
				!rm.method->auth_none);
		}
	}
	if (rm.kind == GW_ROUTE_DOCUMENTED || rm.kind == GW_ROUTE_PREDEFINED) {
		require(rm.method != NULL);
	}
	require(strlen(gw_route_allow_text(rm.allow, allow)) < GW_ALLOW_MAX);
}

static void
check_meta(const char *method, size_t mlen, const char *path, size_t len)
{
	static const gw_meta_site site = {"http://localhost", "localhost"};
	gw_meta_response r;

	/* the /types options of the query are read here too */
	if (gw_meta_lookup(method, mlen, path, len, NULL, 0, &site, &r)) {
		require(r.status == 200 || r.status == 400 || r.status == 404 ||
			r.status == 405 || r.status == 500);
		require(r.body != NULL || r.len == 0);
	}
	gw_meta_response_fini(&r);
}

static void
check_site(const char *origin, size_t olen, const char *fetch, size_t flen,
	   bool https, const char *host, size_t hlen)
{
	static const char *const listed[] = {"https://app.example.com",
					     "http://[::1]:3000"};
	gw_site_in in;
	gw_site s;

	memset(&in, 0, sizeof(in));
	in.origin = origin;
	in.origin_len = olen;
	in.fetch_site = fetch;
	in.fetch_site_len = flen;
	in.https = https;
	in.authority = host;
	in.authority_len = hlen;
	in.listed = listed;
	in.n_listed = 2;
	s = gw_site_of(&in);
	require(s == GW_SITE_SAME || s == GW_SITE_SAME_SITE ||
		s == GW_SITE_UNKNOWN || s == GW_SITE_LISTED ||
		s == GW_SITE_CROSS);
	require(gw_site_of(&in) == s);
	if (origin == NULL) {
		require(s != GW_SITE_LISTED);
	} else {
		/* an Origin always says whose page it is */
		require(s != GW_SITE_SAME_SITE && s != GW_SITE_UNKNOWN);
	}
	/* nothing said at all: not known to be our page */
	if (origin == NULL && fetch == NULL) {
		require(s == GW_SITE_UNKNOWN);
	}
}

/* A NUL-terminated copy of [p, p+len) that is exactly len + 1 bytes. */
static char *
dup_part(const char *p, size_t len)
{
	char *d = malloc(len + 1);

	if (d != NULL) {
		memcpy(d, p, len);
		d[len] = '\0';
	}
	return d;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	const char *s = (const char *)data;
	const char *part[N_PARTS] = {0};
	size_t plen[N_PARTS] = {0};
	char *copy[N_PARTS] = {0};
	char *raw;
	char err[256];
	h2o_mem_pool_t pool;
	bool https = size > 0 && (data[0] & 1) != 0;
	size_t at = size > 0 ? 1 : 0;

	if (!ready) {
		if (up_meta_load() != 0 || gw_routes_init() != 0) {
			abort();
		}
		(void)gw_meta_init();
		ready = true;
	}
	for (int k = 0; k < N_PARTS && at <= size; k++) {
		const char *nl = memchr(s + at, '\n', size - at);
		size_t n = nl != NULL ? (size_t)(nl - (s + at)) : size - at;

		part[k] = s + at;
		plen[k] = n;
		at += n + 1;
	}
	h2o_mem_init_pool(&pool);
	for (int k = 0; k < N_PARTS; k++) {
		/* exact size: no terminator the parsers could lean on */
		copy[k] = malloc(plen[k] > 0 ? plen[k] : 1);
		if (copy[k] == NULL) {
			goto out;
		}
		if (plen[k] > 0) {
			memcpy(copy[k], part[k], plen[k]);
		}
	}
	check_route(&pool, copy[P_METHOD], plen[P_METHOD], copy[P_REAL],
		    plen[P_REAL], copy[P_PATH], plen[P_PATH]);
	check_meta(copy[P_METHOD], plen[P_METHOD], copy[P_PATH], plen[P_PATH]);
	check_site(part[P_ORIGIN] != NULL ? copy[P_ORIGIN] : NULL,
		   plen[P_ORIGIN], part[P_FETCH] != NULL ? copy[P_FETCH] : NULL,
		   plen[P_FETCH], https, copy[P_HOST], plen[P_HOST]);

	/* the whole input, raw, to each */
	raw = malloc(size > 0 ? size : 1);
	if (raw != NULL) {
		if (size > 0) {
			memcpy(raw, data, size);
		}
		check_route(&pool, "GET", 3, "GET", 3, raw, size);
		check_meta("GET", 3, raw, size);
		check_site(raw, size, raw, size, https, raw, size);
		free(raw);
	}
	/* --cors-origin takes a C string */
	raw = dup_part(part[P_ORIGIN] != NULL ? part[P_ORIGIN] : "",
		       plen[P_ORIGIN]);
	if (raw != NULL) {
		if (gw_cors_origin_check(raw, err, sizeof(err)) == 0) {
			/* a valid origin is its own origin */
			gw_site_in in;

			memset(&in, 0, sizeof(in));
			in.origin = raw;
			in.origin_len = strlen(raw);
			in.https = strncasecmp(raw, "https://", 8) == 0;
			in.authority = strstr(raw, "://") + 3;
			in.authority_len = strlen(in.authority);
			require(gw_site_of(&in) == GW_SITE_SAME);
		} else {
			require(err[0] != '\0');
		}
		free(raw);
	}
out:
	for (int k = 0; k < N_PARTS; k++) {
		free(copy[k]);
	}
	h2o_mem_clear_pool(&pool);
	return 0;
}
