/*
 * gw_route.c - the route table, built once from users.proto's (http)
 * options, and the matcher.
 *
 * Matching works on the raw path: it is split at '/', each segment is
 * percent-decoded on its own (so ids with %2F, %40 or ':' work), literal
 * segments compare case-insensitively, {var} segments take any non-empty
 * segment. A format suffix (.json, .xml, .jsv, .csv) on the last segment
 * is stripped first. Among the templates whose path matches, the one with
 * the most literal segments and the request's method wins; a path that
 * matches only with other methods is a 405, and every match says which
 * methods its path accepts (for Allow and CORS preflights).
 *
 * Safety is decided by the request line's method alone: an operation that
 * writes or is open to anonymous callers (Authenticate, GetAccessToken,
 * Logout) never runs on GET or HEAD, whatever route names it and whatever
 * X-Http-Method-Override says. The predefined routes accept
 * GET, HEAD, POST, PUT, PATCH and DELETE for the other operations, and
 * POST, PUT, PATCH and DELETE for those.
 *
 * The table is immutable after gw_routes_init() and read by every loop.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw.h"

typedef struct tmpl_seg {
	bool var;
	const char *text; /* literal text or the variable's name */
	size_t len;
} tmpl_seg;

typedef struct tmpl {
	const up_method *m;
	const char *verb;
	size_t n_segs;
	size_t n_literals;
	tmpl_seg segs[GW_MAX_SEGMENTS];
	char *names; /* owned storage of the variable names */
} tmpl;

static tmpl *table;
static size_t n_table;

/* The format names a suffix or /{fmt}/reply may carry, spoken or not. */
static const char *const format_names[] = {"json", "xml", "jsv", "csv"};

static bool
is_format_name(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]);
	     i++) {
		if (strlen(format_names[i]) == len &&
		    strncasecmp(format_names[i], s, len) == 0) {
			return true;
		}
	}
	return uw_codec_by_name(s, len) != NULL;
}

/* Parses "/users/{userId}" into t. 0 or -1. */
static int
tmpl_parse(tmpl *t, const char *path)
{
	size_t len = strlen(path);
	size_t n = 0;
	char *names;
	size_t used = 0;
	const char *p = path;
	const char *end = path + len;

	if (len == 0 || path[0] != '/') {
		return -1;
	}
	if ((names = malloc(len + 1)) == NULL) {
		return -1;
	}
	t->names = names;
	while (p < end) {
		const char *s = p + 1;
		const char *e = memchr(s, '/', (size_t)(end - s));

		if (e == NULL) {
			e = end;
		}
		if (n == GW_MAX_SEGMENTS) {
			return -1;
		}
		if (e > s + 1 && s[0] == '{' && e[-1] == '}') {
			size_t nl = (size_t)(e - s) - 2;

			memcpy(names + used, s + 1, nl);
			names[used + nl] = '\0';
			t->segs[n].var = true;
			t->segs[n].text = names + used;
			t->segs[n].len = nl;
			used += nl + 1;
		} else if (e > s) {
			t->segs[n].var = false;
			t->segs[n].text = s;
			t->segs[n].len = (size_t)(e - s);
			t->n_literals++;
		} else {
			/* an empty segment ("/" or "//"): skip */
			p = e;
			continue;
		}
		n++;
		p = e;
	}
	t->n_segs = n;
	return 0;
}

void
gw_routes_fini(void)
{
	for (size_t i = 0; i < n_table; i++) {
		free(table[i].names);
	}
	free(table);
	table = NULL;
	n_table = 0;
}

int
gw_routes_init(void)
{
	size_t total = 0;
	size_t k = 0;

	if (table != NULL) {
		return 0;
	}
	for (size_t i = 0; i < up_method_count(); i++) {
		total += up_method_at(i)->n_routes;
	}
	if ((table = calloc(total ? total : 1, sizeof(*table))) == NULL) {
		return -1;
	}
	for (size_t i = 0; i < up_method_count(); i++) {
		const up_method *m = up_method_at(i);

		for (size_t r = 0; r < m->n_routes; r++) {
			tmpl *t = &table[k++];

			n_table = k;
			t->m = m;
			t->verb = m->routes[r].method;
			if (tmpl_parse(t, m->routes[r].path) != 0) {
				gw_routes_fini();
				return -1;
			}
		}
	}
	return 0;
}

size_t
gw_route_count(void)
{
	return n_table;
}

/* ------------------------------------------------------------------------
 * Matching
 */

typedef struct seg {
	char *s; /* decoded, NUL-terminated */
	size_t len;
} seg;

/* Percent-decodes s into pool ('+' stays a '+' in a path). -1 when it
 * holds a NUL, decoded or raw. */
static int
decode_segment(h2o_mem_pool_t *pool, const char *s, size_t len, seg *out)
{
	char *d = h2o_mem_alloc_pool(pool, len + 1);
	size_t n;

	if (uw_pct_decode(s, len, false, d, len + 1, &n) != 0 ||
	    memchr(d, '\0', n) != NULL) {
		return -1;
	}
	out->s = d;
	out->len = n;
	return 0;
}

static bool
seg_is(const seg *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->len == n && strncasecmp(s->s, lit, n) == 0;
}

static bool
verb_is(const char *method, size_t mlen, const char *verb)
{
	size_t n = strlen(verb);

	return mlen == n && strncasecmp(method, verb, n) == 0;
}

static bool
tmpl_matches(const tmpl *t, const seg *segs, size_t n)
{
	if (t->n_segs != n) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (t->segs[i].var) {
			if (segs[i].len == 0) {
				return false;
			}
		} else if (segs[i].len != t->segs[i].len ||
			   strncasecmp(segs[i].s, t->segs[i].text,
				       segs[i].len) != 0) {
			return false;
		}
	}
	return true;
}

/* Strips a format suffix from the last segment. */
static void
take_suffix(seg *last, gw_route_match *out)
{
	char *dot = strrchr(last->s, '.');
	size_t elen;

	if (dot == NULL || dot == last->s) {
		return;
	}
	elen = last->len - (size_t)(dot + 1 - last->s);
	if (elen == 0 || !is_format_name(dot + 1, elen)) {
		return;
	}
	out->codec = uw_codec_by_name(dot + 1, elen);
	out->unknown_format = out->codec == NULL;
	*dot = '\0';
	last->len = (size_t)(dot - last->s);
}

/* The methods, in the order Allow lists them. */
static const struct {
	const char *name;
	unsigned bit;
} methods[] = {
    {"GET", GW_M_GET},         {"HEAD", GW_M_HEAD},   {"POST", GW_M_POST},
    {"PUT", GW_M_PUT},         {"PATCH", GW_M_PATCH}, {"DELETE", GW_M_DELETE},
    {"OPTIONS", GW_M_OPTIONS},
};

static unsigned
method_bit(const char *method, size_t mlen)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (verb_is(method, mlen, methods[i].name)) {
			return methods[i].bit;
		}
	}
	return 0;
}

const char *
gw_route_allow_text(unsigned allow, char *buf)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (allow & methods[i].bit) {
			int w = snprintf(buf + n, GW_ALLOW_MAX - n, "%s%s",
					 n > 0 ? ", " : "", methods[i].name);

			if (w < 0 || (size_t)w >= GW_ALLOW_MAX - n) {
				break; /* cannot happen: the buffer fits all */
			}
			n += (size_t)w;
		}
	}
	return buf;
}

/*
 * What the predefined routes accept: every method a ServiceStack client
 * sends, but GET and HEAD only for an operation that neither writes nor
 * signs in. A GET is what a link, an <img>, a <script> or a prefetch sends
 * with the browser's cookies and without any sign of intent, so no
 * operation that changes anything (or hands out a session: a login from a
 * link is a login the user did not ask for) may run on one.
 */
#define M_UNSAFE (GW_M_POST | GW_M_PUT | GW_M_PATCH | GW_M_DELETE)
#define M_ANY    (GW_M_GET | GW_M_HEAD | M_UNSAFE)

static bool
op_unsafe(const up_method *m)
{
	return m->writes || m->auth_none;
}

/*
 * kind when want (the routing method's bit) is in allow and the request
 * is not a GET or HEAD that would run an unsafe operation; else
 * BAD_METHOD.
 */
static void
settle(gw_route_match *out, gw_route_kind kind, unsigned allow, unsigned want,
       bool unsafe, bool safe_real)
{
	out->allow = allow | GW_M_OPTIONS;
	if (unsafe && safe_real) {
		out->kind = GW_ROUTE_BAD_METHOD;
		out->unsafe_on_get = true;
	} else {
		out->kind = (want & allow) != 0 ? kind : GW_ROUTE_BAD_METHOD;
	}
}

static bool
find_special(unsigned want, bool safe_real, seg *segs, size_t n,
	     gw_route_match *out)
{
	if (n == 1 &&
	    (seg_is(&segs[0], "healthz") || seg_is(&segs[0], "metrics"))) {
		settle(out,
		       seg_is(&segs[0], "healthz") ? GW_ROUTE_HEALTHZ
						   : GW_ROUTE_METRICS,
		       GW_M_GET | GW_M_HEAD, want, false, safe_real);
		return true;
	}
	/* /api/{Op} */
	if (n == 2 && seg_is(&segs[0], "api")) {
		out->method = up_method_find(segs[1].s);
		if (out->codec == NULL && !out->unknown_format) {
			out->codec = &uw_codec_json;
		}
		if (out->method == NULL) {
			out->kind = GW_ROUTE_NONE;
			return true;
		}
		settle(out, GW_ROUTE_PREDEFINED,
		       op_unsafe(out->method) ? M_UNSAFE : M_ANY, want,
		       op_unsafe(out->method), safe_real);
		return true;
	}
	/* /{fmt}/reply/{Op}, /{fmt}/oneway/{Op} */
	if (n == 3 &&
	    (seg_is(&segs[1], "reply") || seg_is(&segs[1], "oneway")) &&
	    is_format_name(segs[0].s, segs[0].len)) {
		out->oneway = seg_is(&segs[1], "oneway");
		out->method = up_method_find(segs[2].s);
		if (out->codec == NULL && !out->unknown_format) {
			out->codec = uw_codec_by_name(segs[0].s, segs[0].len);
			out->unknown_format = out->codec == NULL;
		}
		if (out->method == NULL) {
			out->kind = GW_ROUTE_NONE;
			return true;
		}
		settle(out, GW_ROUTE_PREDEFINED,
		       op_unsafe(out->method) ? M_UNSAFE : M_ANY, want,
		       op_unsafe(out->method), safe_real);
		return true;
	}
	return false;
}

void
gw_route_find(h2o_mem_pool_t *pool, h2o_iovec_t method, h2o_iovec_t real,
	      const char *path, size_t len, gw_route_match *out)
{
	seg segs[GW_MAX_SEGMENTS];
	size_t n = 0;
	const char *p = path;
	const char *end = path + len;
	const tmpl *best = NULL;
	unsigned want = method_bit(method.base, method.len);
	unsigned allow = 0;
	bool safe_real = verb_is(real.base, real.len, "GET") ||
			 verb_is(real.base, real.len, "HEAD");

	memset(out, 0, sizeof(*out));
	out->kind = GW_ROUTE_NONE;
	if (len == 0 || path[0] != '/') {
		return;
	}
	while (p < end) {
		const char *s = p + 1;
		const char *e = memchr(s, '/', (size_t)(end - s));

		if (e == NULL) {
			e = end;
		}
		if (n == GW_MAX_SEGMENTS) {
			return;
		}
		if (decode_segment(pool, s, (size_t)(e - s), &segs[n]) != 0) {
			return;
		}
		n++;
		p = e;
	}
	/* "/users/" is "/users"; "/" is nothing. */
	if (n > 0 && segs[n - 1].len == 0) {
		n--;
	}
	if (n == 0) {
		return;
	}
	take_suffix(&segs[n - 1], out);
	if (find_special(want, safe_real, segs, n, out)) {
		return;
	}
	for (size_t i = 0; i < n_table; i++) {
		const tmpl *t = &table[i];
		unsigned bits = method_bit(t->verb, strlen(t->verb));

		if (!tmpl_matches(t, segs, n)) {
			continue;
		}
		if (bits & GW_M_GET) {
			bits |= GW_M_HEAD;
		}
		allow |= bits;
		if ((want & bits) != 0 &&
		    (best == NULL || t->n_literals > best->n_literals)) {
			best = t;
		}
	}
	/* GET /auth: the session (POST /auth is Authenticate's). */
	if (n == 1 && seg_is(&segs[0], "auth")) {
		allow |= GW_M_GET | GW_M_HEAD;
		if ((want & (GW_M_GET | GW_M_HEAD)) != 0) {
			settle(out, GW_ROUTE_AUTH_SESSION, allow, want, false,
			       safe_real);
			return;
		}
	}
	if (allow == 0) {
		return; /* GW_ROUTE_NONE */
	}
	if (best == NULL) {
		settle(out, GW_ROUTE_BAD_METHOD, allow, want, false, safe_real);
		return;
	}
	/* X-Http-Method-Override never turns a GET into a write. */
	out->method = best->m;
	settle(out, GW_ROUTE_DOCUMENTED, allow, want, op_unsafe(best->m),
	       safe_real);
	if (out->kind != GW_ROUTE_DOCUMENTED) {
		return;
	}
	for (size_t i = 0; i < n && out->n_vars < GW_MAX_VARS; i++) {
		if (best->segs[i].var) {
			gw_route_var *v = &out->vars[out->n_vars++];

			v->name = best->segs[i].text;
			v->value = segs[i].s;
			v->value_len = segs[i].len;
		}
	}
}
