/*
 * gw_cors.c - browsers: where a request says it comes from, and CORS.
 *
 * A browser sends the ss-tok cookie with every request to the gateway's
 * site, whichever page made it; these helpers let gw_request.c tell a
 * request made by another site's page from one made by our own, which
 * is what its cross-site refusals need (the rules are there):
 *
 *   Origin            browsers send it on every POST, PUT, PATCH and
 *                     DELETE, and on cross-origin fetches. Our own origin
 *                     (scheme + Host, or HTTP/2's :authority; a missing
 *                     port is the scheme's default) is the same site; a
 *                     listed --cors-origin is allowed; anything else is
 *                     another site, and so are "null" (sandboxed pages,
 *                     redirects across origins, file: pages) and a value
 *                     that is not an origin at all.
 *   Sec-Fetch-Site    newer browsers send it on every request, script and
 *                     image loads included, which carry no Origin:
 *                     "cross-site" is another site; "same-origin",
 *                     "same-site" and "none" (typed in, bookmarks) are not.
 *
 * Neither header is a credential: a client that is not a browser sends
 * what it likes, and needs no protection from itself. What matters is that
 * a browser never lets a page forge them.
 *
 * CORS (--cors-origin, exact origins, none by default): for a listed
 * Origin every answer carries Access-Control-Allow-Origin (the origin as
 * sent) and Access-Control-Allow-Credentials: true, and a preflight is
 * answered with the methods the path accepts. Unlisted origins get no
 * CORS header at all, so the browser keeps the answer from their pages.
 *
 * Everything here is read-only on the request's loop thread; the list is
 * the configuration's, immutable while the gateway runs.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gw.h"

/* Allowed request headers in a preflight: what the ServiceStack clients
 * (and our own pages) set. */
#define CORS_ALLOW_HEADERS                                                     \
	"Accept, Authorization, Connect-Protocol-Version, "                    \
	"Connect-Timeout-Ms, Content-Type, Grpc-Timeout, Idempotency-Key, "    \
	"X-Grpc-Web, X-Http-Method-Override, X-Request-Id, "                   \
	"X-Requested-With, X-User-Agent"
/* What a listed origin's script may read of an answer beyond the basics. */
#define CORS_EXPOSE_HEADERS "Retry-After, X-Request-Id"
#define CORS_MAX_AGE        "600" /* seconds a browser may keep a preflight */

typedef struct origin_parts {
	bool https;
	const char *host; /* without brackets for IPv6 */
	size_t host_len;
	unsigned port; /* the scheme's default when none is written */
} origin_parts;

static bool
is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

static bool
is_v6_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

/*
 * "host", "host:port", "[v6]" or "[v6]:port" (all of s) into o, the port
 * defaulting by o->https. 0, or -1 when it is not one.
 */
static int
parse_hostport(const char *s, size_t len, origin_parts *o)
{
	size_t i = 0;
	unsigned long port = 0;

	if (len > 0 && s[0] == '[') {
		for (i = 1; i < len && s[i] != ']'; i++) {
			if (!is_v6_char(s[i])) {
				return -1;
			}
		}
		if (i == len || i == 1) {
			return -1;
		}
		o->host = s + 1;
		o->host_len = i - 1;
		i++; /* past ']' */
	} else {
		while (i < len && is_host_char(s[i])) {
			i++;
		}
		if (i == 0) {
			return -1;
		}
		o->host = s;
		o->host_len = i;
	}
	o->port = o->https ? 443 : 80;
	if (i == len) {
		return 0;
	}
	if (s[i] != ':' || i + 1 == len || len - i - 1 > 5) {
		return -1;
	}
	for (i++; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return -1;
		}
		port = port * 10 + (unsigned long)(s[i] - '0');
	}
	if (port == 0 || port > 65535) {
		return -1;
	}
	o->port = (unsigned)port;
	return 0;
}

/* "scheme://host[:port]" into o. 0 or -1. */
static int
parse_origin(const char *s, size_t len, origin_parts *o)
{
	size_t skip;

	memset(o, 0, sizeof(*o));
	if (len > 8 && strncasecmp(s, "https://", 8) == 0) {
		o->https = true;
		skip = 8;
	} else if (len > 7 && strncasecmp(s, "http://", 7) == 0) {
		skip = 7;
	} else {
		return -1;
	}
	return parse_hostport(s + skip, len - skip, o);
}

static bool
same_origin(const origin_parts *a, const origin_parts *b)
{
	return a->https == b->https && a->port == b->port &&
	       a->host_len == b->host_len &&
	       strncasecmp(a->host, b->host, a->host_len) == 0;
}

int
gw_cors_origin_check(const char *s, char *err, size_t size)
{
	origin_parts o;

	if (s == NULL || s[0] == '\0') {
		snprintf(err, size, "an empty origin");
		return -1;
	}
	if (strcmp(s, "*") == 0 || strcmp(s, "null") == 0) {
		snprintf(err, size,
			 "%s: name each origin exactly "
			 "(https://app.example.com); \"*\" and \"null\" "
			 "cannot be trusted with the session",
			 s);
		return -1;
	}
	if (parse_origin(s, strlen(s), &o) != 0) {
		snprintf(err, size,
			 "%s is not an origin: http:// or https://, a host, "
			 "an optional :port, nothing after it (no path, no "
			 "trailing /)",
			 s);
		return -1;
	}
	return 0;
}

static bool
is_listed(const origin_parts *o, const char *const *listed, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		origin_parts l;

		if (parse_origin(listed[i], strlen(listed[i]), &l) == 0 &&
		    same_origin(o, &l)) {
			return true;
		}
	}
	return false;
}

static bool
trimmed_is(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
		len--;
	}
	return len == n && strncasecmp(s, lit, n) == 0;
}

gw_site
gw_site_of(const gw_site_in *in)
{
	if (in->origin != NULL) {
		origin_parts o, own;

		if (parse_origin(in->origin, in->origin_len, &o) != 0) {
			return GW_SITE_CROSS; /* "null", or not an origin */
		}
		if (is_listed(&o, in->listed, in->n_listed)) {
			return GW_SITE_LISTED;
		}
		memset(&own, 0, sizeof(own));
		own.https = in->https;
		if (in->authority == NULL ||
		    parse_hostport(in->authority, in->authority_len, &own) !=
			0 ||
		    !same_origin(&o, &own)) {
			return GW_SITE_CROSS;
		}
	}
	if (in->fetch_site != NULL &&
	    trimmed_is(in->fetch_site, in->fetch_site_len, "cross-site")) {
		return GW_SITE_CROSS;
	}
	if (in->origin != NULL) {
		return GW_SITE_SAME; /* ours, by the Origin */
	}
	if (in->fetch_site == NULL) {
		return GW_SITE_UNKNOWN;
	}
	return trimmed_is(in->fetch_site, in->fetch_site_len, "same-site")
		   ? GW_SITE_SAME_SITE
		   : GW_SITE_SAME;
}

static bool
find_header(h2o_req_t *req, const char *name, size_t nlen, h2o_iovec_t *out)
{
	ssize_t i = h2o_find_header_by_str(&req->headers, name, nlen, -1);

	if (i == -1) {
		return false;
	}
	*out = req->headers.entries[i].value;
	return true;
}

gw_site
gw_request_site(h2o_req_t *req, const gw_config *cfg)
{
	gw_site_in in;
	h2o_iovec_t v;

	memset(&in, 0, sizeof(in));
	if (find_header(req, H2O_STRLIT("origin"), &v)) {
		in.origin = v.base;
		in.origin_len = v.len;
	}
	if (find_header(req, H2O_STRLIT("sec-fetch-site"), &v)) {
		in.fetch_site = v.base;
		in.fetch_site_len = v.len;
	}
	in.https = req->input.scheme == &H2O_URL_SCHEME_HTTPS;
	in.authority = req->input.authority.base;
	in.authority_len = req->input.authority.len;
	in.listed = cfg->cors_origins;
	in.n_listed = cfg->n_cors_origins;
	return gw_site_of(&in);
}

bool
gw_cors_listed(h2o_req_t *req, const gw_config *cfg, h2o_iovec_t *out)
{
	h2o_iovec_t v;
	origin_parts o;

	if (cfg->n_cors_origins == 0 ||
	    !find_header(req, H2O_STRLIT("origin"), &v) ||
	    parse_origin(v.base, v.len, &o) != 0 ||
	    !is_listed(&o, cfg->cors_origins, cfg->n_cors_origins)) {
		return false;
	}
	*out = v;
	return true;
}

void
gw_cors_response_headers(h2o_req_t *req, const gw_config *cfg)
{
	h2o_iovec_t origin;

	if (cfg->n_cors_origins == 0) {
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY,
			       NULL, H2O_STRLIT("Accept"));
		return;
	}
	/* The answer depends on Origin whenever a list is set. */
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL,
		       H2O_STRLIT("Accept, Origin"));
	if (!gw_cors_listed(req, cfg, &origin)) {
		return;
	}
	h2o_add_header(&req->pool, &req->res.headers,
		       H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, NULL, origin.base,
		       origin.len);
	h2o_add_header_by_str(&req->pool, &req->res.headers,
			      H2O_STRLIT("access-control-allow-credentials"), 0,
			      NULL, H2O_STRLIT("true"));
	h2o_add_header_by_str(&req->pool, &req->res.headers,
			      H2O_STRLIT("access-control-expose-headers"), 0,
			      NULL, H2O_STRLIT(CORS_EXPOSE_HEADERS));
}

void
gw_cors_preflight_headers(h2o_req_t *req, unsigned allow)
{
	char buf[GW_ALLOW_MAX];
	const char *methods =
	    gw_route_allow_text(allow & ~(unsigned)GW_M_OPTIONS, buf);
	h2o_iovec_t m = h2o_strdup(&req->pool, methods, SIZE_MAX);

	h2o_add_header_by_str(&req->pool, &req->res.headers,
			      H2O_STRLIT("access-control-allow-methods"), 0,
			      NULL, m.base, m.len);
	h2o_add_header_by_str(&req->pool, &req->res.headers,
			      H2O_STRLIT("access-control-allow-headers"), 0,
			      NULL, H2O_STRLIT(CORS_ALLOW_HEADERS));
	h2o_add_header_by_str(&req->pool, &req->res.headers,
			      H2O_STRLIT("access-control-max-age"), 0, NULL,
			      H2O_STRLIT(CORS_MAX_AGE));
}
