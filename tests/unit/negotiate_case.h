/*
 * negotiate_case.h - one content-negotiation case as a small text file
 * (tests/data/negotiate/NNN-name.txt), read by test_negotiate (which runs
 * every file and checks the expectations) and by fuzz_negotiate (whose
 * inputs are such files; its seed corpus is the cases themselves).
 *
 * One "key: value" per line; '#' starts a comment line; blank lines are
 * skipped. Spaces after the colon are skipped; the value runs to the end
 * of the line, with escapes \t \s (a space) \\ and \xHH, so a value can
 * start or end with spaces or hold any byte. Inputs:
 *
 *   route: documented | predefined        (documented when absent)
 *   path-format: NAME   the format the path names: a documented route's
 *                       .ext, a predefined route's own format; a name we
 *                       do not speak (e.g. pdf) = a format we lack
 *   query: RAW          the raw query string, after '?'
 *   accept: VALUE       the Accept header ("accept:" alone: present, empty)
 *   content-type: VALUE the Content-Type header
 *   body: yes | no      a non-empty body the route reads (no when absent)
 *
 * Expectations (the runner needs expect-status and expect-format):
 *
 *   expect-status: 200 | 400 | 406 | 415
 *   expect-format: json | xml | jsv | csv      the answer's format
 *   expect-callback: NAME                      JSONP (absent: no JSONP)
 *   expect-body: none | form | unknown | json | xml | jsv | csv
 *                                              (none when absent)
 *
 * Header-only (static inline functions): include it once per program.
 */
#ifndef NEGOTIATE_CASE_H
#define NEGOTIATE_CASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_negotiate.h"

#define NEG_CASE_VALUE_MAX 4096

typedef struct neg_value {
	bool set;
	size_t len;
	char s[NEG_CASE_VALUE_MAX + 1];
} neg_value;

typedef struct neg_case {
	neg_value route, path_format, query, accept, content_type, body;
	neg_value expect_status, expect_format, expect_callback, expect_body;
} neg_case;

/* Decodes the escapes of [s, e) into v. 0 or -1 (too long, bad escape). */
static inline int
neg_case_value(const char *s, const char *e, neg_value *v)
{
	size_t n = 0;

	for (; s < e; s++) {
		char c = *s;

		if (c == '\\') {
			int hi, lo;

			if (e - s < 2) {
				return -1;
			}
			s++;
			switch (*s) {
			case 't':
				c = '\t';
				break;
			case 's':
				c = ' ';
				break;
			case '\\':
				c = '\\';
				break;
			case 'x':
				if (e - s < 3 || (hi = uw_hexval(s[1])) < 0 ||
				    (lo = uw_hexval(s[2])) < 0) {
					return -1;
				}
				c = (char)(hi * 16 + lo);
				s += 2;
				break;
			default:
				return -1;
			}
		}
		if (n == NEG_CASE_VALUE_MAX) {
			return -1;
		}
		v->s[n++] = c;
	}
	v->s[n] = '\0';
	v->len = n;
	v->set = true;
	return 0;
}

static inline neg_value *
neg_case_slot(neg_case *c, const char *key, size_t len)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
	    {"route", offsetof(neg_case, route)},
	    {"path-format", offsetof(neg_case, path_format)},
	    {"query", offsetof(neg_case, query)},
	    {"accept", offsetof(neg_case, accept)},
	    {"content-type", offsetof(neg_case, content_type)},
	    {"body", offsetof(neg_case, body)},
	    {"expect-status", offsetof(neg_case, expect_status)},
	    {"expect-format", offsetof(neg_case, expect_format)},
	    {"expect-callback", offsetof(neg_case, expect_callback)},
	    {"expect-body", offsetof(neg_case, expect_body)},
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strlen(keys[i].key) == len &&
		    memcmp(keys[i].key, key, len) == 0) {
			return (neg_value *)((char *)c + keys[i].off);
		}
	}
	return NULL;
}

/*
 * Parses a case from text. 0, or -1 with why (and the line) in err: an
 * unknown key, a repeated key, a line without ':', a bad escape, a value
 * too long.
 */
static inline int
neg_case_parse(const char *text, size_t len, neg_case *c, char *err,
	       size_t errsize)
{
	const char *p = text;
	const char *end = text + len;
	int line = 0;

	memset(c, 0, sizeof(*c));
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol != NULL ? eol : end;
		const char *colon, *vs;
		neg_value *v;

		line++;
		if (le > p && le[-1] == '\r') {
			le--;
		}
		if (le == p || p[0] == '#') {
			p = eol != NULL ? eol + 1 : end;
			continue;
		}
		colon = memchr(p, ':', (size_t)(le - p));
		if (colon == NULL) {
			snprintf(err, errsize, "line %d: no ':'", line);
			return -1;
		}
		v = neg_case_slot(c, p, (size_t)(colon - p));
		if (v == NULL || v->set) {
			snprintf(err, errsize, "line %d: %s key '%.*s'", line,
				 v == NULL ? "unknown" : "repeated",
				 (int)(colon - p), p);
			return -1;
		}
		vs = colon + 1;
		while (vs < le && (*vs == ' ' || *vs == '\t')) {
			vs++;
		}
		if (neg_case_value(vs, le, v) != 0) {
			snprintf(err, errsize, "line %d: bad value", line);
			return -1;
		}
		p = eol != NULL ? eol + 1 : end;
	}
	return 0;
}

static inline bool
neg_value_is(const neg_value *v, const char *s)
{
	return v->set && strlen(s) == v->len && memcmp(v->s, s, v->len) == 0;
}

/* The inputs of c as gw_negotiate takes them (pointing into c). 0, or -1
 * when route or body has a value other than those listed. */
static inline int
neg_case_input(const neg_case *c, gw_neg_in *in)
{
	memset(in, 0, sizeof(*in));
	if (c->route.set && !neg_value_is(&c->route, "documented")) {
		if (!neg_value_is(&c->route, "predefined")) {
			return -1;
		}
		in->predefined = true;
	}
	if (c->body.set && !neg_value_is(&c->body, "no")) {
		if (!neg_value_is(&c->body, "yes")) {
			return -1;
		}
		in->has_body = true;
	}
	if (c->path_format.set && c->path_format.len > 0) {
		in->route_codec =
		    uw_codec_by_name(c->path_format.s, c->path_format.len);
		in->route_format_unknown = in->route_codec == NULL;
	}
	if (c->query.set) {
		in->query = c->query.s;
		in->query_len = c->query.len;
	}
	if (c->accept.set) {
		in->accept = c->accept.s;
		in->accept_len = c->accept.len;
	}
	if (c->content_type.set) {
		in->content_type = c->content_type.s;
		in->content_type_len = c->content_type.len;
	}
	return 0;
}

static inline int
neg_status_http(gw_neg_status st)
{
	switch (st) {
	case GW_NEG_OK:
		return 200;
	case GW_NEG_BAD_CALLBACK:
		return 400;
	case GW_NEG_NOT_ACCEPTABLE:
		return 406;
	case GW_NEG_UNSUPPORTED_TYPE:
		return 415;
	}
	return -1;
}

/* The name of what out says the body is read with. */
static inline const char *
neg_body_name(const gw_neg_out *out)
{
	switch (out->body) {
	case GW_NEG_BODY_NONE:
		return "none";
	case GW_NEG_BODY_FORM:
		return "form";
	case GW_NEG_BODY_UNKNOWN:
		return "unknown";
	case GW_NEG_BODY_CODEC:
		return out->body_codec != NULL ? out->body_codec->name : "?";
	}
	return "?";
}

#endif /* NEGOTIATE_CASE_H */
