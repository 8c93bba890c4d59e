/*
 * gw_negotiate.c - content negotiation: the answer's format and the
 * body's reader from the path, the query string, Accept and Content-Type
 * (the rules are in gw_negotiate.h and docs/wire-formats.md, sections 2
 * and 3).
 *
 * Everything here reads its inputs in place and writes only *out: no
 * allocation, no state, bounded work (one pass over the query string per
 * parameter, one pass over Accept).
 */
#include <string.h>
#include <strings.h>

#include "gw_negotiate.h"

#define FORMAT_NAME_MAX 16 /* ?format= values longer than this: unknown */
#define MAX_CODECS      8  /* formats weighed by Accept (uw_codecs[]) */
#define Q_ONE           1000

static const char msg_path_format[] =
    "The format the path names is not supported.";
static const char msg_format[] = "The format is not supported.";
static const char msg_accept[] =
    "None of the formats Accept names is supported.";
static const char msg_callback[] = "The callback name is not valid.";
static const char msg_ct_unknown[] =
    "The Content-Type of the body is not supported.";
static const char msg_ct_missing[] = "A request body needs a Content-Type.";

/* ------------------------------------------------------------------------
 * The query string
 */

int
gw_neg_query_param(const char *query, size_t len, const char *name, char *out,
		   size_t size, size_t *out_len)
{
	size_t nlen = strlen(name);
	const char *p, *end;

	out[0] = '\0';
	*out_len = 0;
	if (query == NULL) {
		return 0;
	}
	p = query;
	end = query + len;
	while (p < end) {
		const char *e = memchr(p, '&', (size_t)(end - p));
		const char *eq;

		if (e == NULL) {
			e = end;
		}
		eq = memchr(p, '=', (size_t)(e - p));
		if (eq != NULL && (size_t)(eq - p) == nlen &&
		    strncasecmp(p, name, nlen) == 0) {
			return uw_pct_decode(eq + 1, (size_t)(e - (eq + 1)),
					     true, out, size, out_len) == 0
				   ? 1
				   : -1;
		}
		p = e + 1;
	}
	return 0;
}

static bool
ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == '$';
}

bool
gw_neg_callback_ok(const char *name, size_t len)
{
	bool part_start = true;

	if (name == NULL || len == 0 || len > GW_NEG_CALLBACK_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (part_start) {
			if (!ident_start(c)) {
				return false;
			}
			part_start = false;
		} else if (c == '.') {
			part_start = true;
		} else if (!ident_start(c) && !(c >= '0' && c <= '9')) {
			return false;
		}
	}
	return !part_start; /* no trailing dot */
}

/* ------------------------------------------------------------------------
 * Accept
 */

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static void
trim(const char **s, const char **e)
{
	while (*s < *e && is_ows(**s)) {
		(*s)++;
	}
	while (*e > *s && is_ows((*e)[-1])) {
		(*e)--;
	}
}

/* The first delim in [p, e) outside a quoted string, or e. */
static const char *
next_delim(const char *p, const char *e, char delim)
{
	bool quoted = false;

	for (; p < e; p++) {
		if (quoted) {
			if (*p == '\\' && e - p > 1) {
				p++;
			} else if (*p == '"') {
				quoted = false;
			}
		} else if (*p == '"') {
			quoted = true;
		} else if (*p == delim) {
			return p;
		}
	}
	return e;
}

/*
 * A qvalue in thousandths: "0.5" 500, ".2" 200, "1" 1000; above 1 is
 * 1000, negative 0, more than three decimals rounded up (so a q above 0
 * stays above 0); unreadable (no digits, anything else in it) 1000.
 */
static int
parse_q(const char *s, const char *e)
{
	bool neg = false, digits = false, more = false;
	int whole = 0, frac = 0, scale = 100;

	if (s < e && (*s == '-' || *s == '+')) {
		neg = *s == '-';
		s++;
	}
	for (; s < e && *s >= '0' && *s <= '9'; s++) {
		digits = true;
		if (*s != '0') {
			whole = 1;
		}
	}
	if (s < e && *s == '.') {
		for (s++; s < e && *s >= '0' && *s <= '9'; s++) {
			digits = true;
			if (scale > 0) {
				frac += (*s - '0') * scale;
				scale /= 10;
			} else if (*s != '0') {
				more = true;
			}
		}
	}
	if (!digits || s != e) {
		return Q_ONE;
	}
	if (neg) {
		return 0;
	}
	if (whole != 0) {
		return Q_ONE;
	}
	return more && frac < Q_ONE ? frac + 1 : frac;
}

/* The q parameter among the parameters [p, e) (after the type's ';'). */
static int
entry_q(const char *p, const char *e)
{
	while (p < e) {
		const char *pe = next_delim(p, e, ';');
		const char *eq = memchr(p, '=', (size_t)(pe - p));

		if (eq != NULL) {
			const char *ns = p, *ne = eq;
			const char *vs = eq + 1, *ve = pe;

			trim(&ns, &ne);
			trim(&vs, &ve);
			if (ne - ns == 1 && (*ns == 'q' || *ns == 'Q')) {
				return parse_q(vs, ve);
			}
		}
		p = pe < e ? pe + 1 : e;
	}
	return Q_ONE;
}

/* How an entry names a format: the most specific naming counts. */
enum { BY_NONE, BY_ANY, BY_RANGE, BY_TYPE };

typedef struct weight {
	int by;
	int q;
	size_t pos; /* the entry that decided */
} weight;

static void
weigh(weight *w, int by, int q, size_t pos)
{
	if (by > w->by || (by == w->by && q > w->q)) {
		w->by = by;
		w->q = q;
		w->pos = pos;
	}
}

/* The type ("application") of a codec's response Content-Type. */
static bool
major_is(const uw_codec *c, const char *s, size_t len)
{
	const char *slash = strchr(c->content_type, '/');

	return slash != NULL && (size_t)(slash - c->content_type) == len &&
	       strncasecmp(c->content_type, s, len) == 0;
}

const uw_codec *
gw_neg_accept(const char *accept, size_t len, const uw_codec *body)
{
	weight w[MAX_CODECS];
	const uw_codec *order[MAX_CODECS + 1];
	size_t n = 0, n_order = 0, entries = 0;
	const char *p = accept;
	const char *end = accept != NULL ? accept + len : NULL;
	const uw_codec *best = NULL;
	const weight *bw = NULL;

	while (n < MAX_CODECS && uw_codecs[n] != NULL) {
		n++;
	}
	memset(w, 0, sizeof(w));
	while (accept != NULL && p < end) {
		const char *ee = next_delim(p, end, ',');
		const char *ts = p, *te = next_delim(p, ee, ';');
		int q;

		trim(&ts, &te);
		p = ee < end ? ee + 1 : end;
		if (ts == te) {
			continue;
		}
		q = entry_q(te < ee ? te + 1 : ee, ee);
		if ((te - ts == 1 && ts[0] == '*') ||
		    (te - ts == 3 && memcmp(ts, "*/*", 3) == 0)) {
			for (size_t k = 0; k < n; k++) {
				weigh(&w[k], BY_ANY, q, entries);
			}
		} else if (te - ts > 2 && te[-1] == '*' && te[-2] == '/') {
			for (size_t k = 0; k < n; k++) {
				if (major_is(uw_codecs[k], ts,
					     (size_t)(te - ts) - 2)) {
					weigh(&w[k], BY_RANGE, q, entries);
				}
			}
		} else {
			const uw_codec *c =
			    uw_codec_by_content_type(ts, (size_t)(te - ts));

			for (size_t k = 0; c != NULL && k < n; k++) {
				if (uw_codecs[k] == c) {
					weigh(&w[k], BY_TYPE, q, entries);
				}
			}
		}
		entries++;
	}
	if (entries == 0) {
		return body != NULL ? body : &uw_codec_json;
	}
	/* preference among the formats one entry names: body, then table */
	if (body != NULL) {
		order[n_order++] = body;
	}
	for (size_t k = 0; k < n; k++) {
		if (uw_codecs[k] != body) {
			order[n_order++] = uw_codecs[k];
		}
	}
	for (size_t i = 0; i < n_order; i++) {
		const weight *x = NULL;

		for (size_t k = 0; k < n; k++) {
			if (uw_codecs[k] == order[i]) {
				x = &w[k];
			}
		}
		if (x == NULL || x->by == BY_NONE || x->q <= 0) {
			continue;
		}
		if (bw == NULL || x->q > bw->q ||
		    (x->q == bw->q && x->pos < bw->pos)) {
			best = order[i];
			bw = x;
		}
	}
	return best;
}

/* ------------------------------------------------------------------------
 * The rules
 */

static bool
is_form(const char *ct, size_t len)
{
	static const char form[] = "application/x-www-form-urlencoded";
	size_t n = sizeof(form) - 1;

	return len >= n && strncasecmp(ct, form, n) == 0 &&
	       (len == n || ct[n] == ';' || ct[n] == ' ');
}

static void
read_body(const gw_neg_in *in, gw_neg_out *out)
{
	const uw_codec *c;

	if (!in->has_body) {
		return;
	}
	if (in->content_type != NULL &&
	    is_form(in->content_type, in->content_type_len)) {
		out->body = GW_NEG_BODY_FORM;
		return;
	}
	if (in->predefined) {
		c = in->route_codec != NULL ? in->route_codec : &uw_codec_json;
	} else {
		c = in->content_type != NULL
			? uw_codec_by_content_type(in->content_type,
						   in->content_type_len)
			: NULL;
	}
	out->body = c != NULL ? GW_NEG_BODY_CODEC : GW_NEG_BODY_UNKNOWN;
	out->body_codec = c;
}

static void
fail(gw_neg_out *out, gw_neg_status status, const char *message)
{
	out->status = status;
	out->message = message;
	out->codec = &uw_codec_json;
	out->jsonp = false;
	out->callback[0] = '\0';
}

static void
choose(const gw_neg_in *in, gw_neg_out *out)
{
	char fmt[FORMAT_NAME_MAX + 1];
	size_t len;
	int found;

	if (in->route_format_unknown) {
		fail(out, GW_NEG_NOT_ACCEPTABLE, msg_path_format);
		return;
	}
	if (!in->predefined && in->route_codec != NULL) {
		out->codec = in->route_codec;
		return;
	}
	found = gw_neg_query_param(in->query, in->query_len, "callback",
				   out->callback, sizeof(out->callback), &len);
	if (found != 0) {
		if (found < 0 || !gw_neg_callback_ok(out->callback, len)) {
			fail(out, GW_NEG_BAD_CALLBACK, msg_callback);
			return;
		}
		out->jsonp = true;
		return;
	}
	found = gw_neg_query_param(in->query, in->query_len, "format", fmt,
				   sizeof(fmt), &len);
	if (found != 0) {
		const uw_codec *c =
		    found > 0 ? uw_codec_by_name(fmt, len) : NULL;

		if (c == NULL) {
			fail(out, GW_NEG_NOT_ACCEPTABLE, msg_format);
			return;
		}
		out->codec = c;
		return;
	}
	if (in->predefined) {
		out->codec =
		    in->route_codec != NULL ? in->route_codec : &uw_codec_json;
		return;
	}
	if (in->accept != NULL) {
		const uw_codec *c = gw_neg_accept(
		    in->accept, in->accept_len,
		    out->body == GW_NEG_BODY_CODEC ? out->body_codec : NULL);

		if (c == NULL) {
			fail(out, GW_NEG_NOT_ACCEPTABLE, msg_accept);
			return;
		}
		out->codec = c;
		return;
	}
	out->codec =
	    out->body == GW_NEG_BODY_CODEC ? out->body_codec : &uw_codec_json;
}

void
gw_negotiate(const gw_neg_in *in, gw_neg_out *out)
{
	memset(out, 0, sizeof(*out));
	out->codec = &uw_codec_json;
	read_body(in, out);
	choose(in, out);
	if (out->status == GW_NEG_OK && out->body == GW_NEG_BODY_UNKNOWN) {
		out->status = GW_NEG_UNSUPPORTED_TYPE;
		out->message =
		    in->content_type != NULL ? msg_ct_unknown : msg_ct_missing;
	}
}
