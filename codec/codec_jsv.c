/*
 * codec_jsv.c - JSV, ServiceStack's compact text format
 * (docs/wire-formats.md, section 5): {key:value,...} objects, [v,...]
 * lists, raw scalars.
 *
 * Writing: compact, camelCase wire names in the DTO's declared order. A
 * string is bare unless it is empty or holds one of " : , { } [ ] CR LF;
 * then it is wrapped in "..." with each " doubled. Spaces never force
 * quoting. Booleans True/False; numbers bare; enums by name, or by number
 * for enum_as_number enums; Guids as 32 lowercase hex digits; bytes as
 * base64; list_wrapper messages as their plain list; maps as {k:v}.
 * Unset fields are left out, and so is a repeated field with no items
 * (protobuf has no null list: the innermost organization of seed 004's
 * sample, docs/wire-formats.md section 13, written by ServiceStack as {},
 * is one with its list unset) - except the fields marked (always_written)
 * in users.proto, ResponseStatus.errors ([] when empty, docs/wire-formats.md
 * section 8.1).
 *
 * Reading: two passes over the body. The first checks the syntax and the
 * depth, and notes whether a line break occurs outside quoted strings: a
 * compact body never has one (our writer quotes CR and LF), the indented
 * form that metadata pages display always does. In the compact form the
 * spaces of a bare string value are kept as they are; in the indented form
 * whitespace around keys, values and brackets is ignored. Whitespace before
 * a quote, { or [ is always ignored, as is whitespace around property names
 * and around the values of non-string fields. The second pass fills the
 * message. An empty bare value unsets the field; "" is the empty string.
 * Booleans are read in any case and as 1/0; unknown properties are skipped.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "walk.h"

/* ------------------------------------------------------------------------
 * Encoding
 */

static int
put(uw_buf *out, const char *s, size_t n)
{
	return uw_buf_append(out, s, n);
}

static bool
needs_quotes(const char *s, size_t len)
{
	if (len == 0) {
		return true;
	}
	for (size_t i = 0; i < len; i++) {
		switch (s[i]) {
		case '"':
		case ':':
		case ',':
		case '{':
		case '}':
		case '[':
		case ']':
		case '\r':
		case '\n':
			return true;
		default:
			break;
		}
	}
	return false;
}

static int
put_string(uw_buf *out, const char *s, size_t len)
{
	if (!needs_quotes(s, len)) {
		return uw_text_put(out, s, len, false);
	}
	if (put(out, "\"", 1) != 0 || uw_text_put(out, s, len, true) != 0) {
		return -1;
	}
	return put(out, "\"", 1);
}

static int
jsv_emit_bare(uw_walk *w, const uw_slot *s, const char *text, size_t len)
{
	return uw_put(w, text, len);
}

/* Left empty (never decoded, only hand-built). */
static int
jsv_emit_nonfinite(uw_walk *w, const uw_slot *s, double v)
{
	return 0;
}

static int
jsv_emit_string(uw_walk *w, const uw_slot *s, const char *text, size_t len,
		bool guid)
{
	return put_string(w->out, text, len);
}

static int
jsv_emit_bytes(uw_walk *w, const uw_slot *s, const uint8_t *data, size_t len)
{
	if (len == 0) {
		return uw_put(w, "\"\"", 2);
	}
	return uw_base64_encode(w->out, data, len);
}

static int
jsv_emit_null(uw_walk *w, const uw_slot *s)
{
	return uw_put(w, "{}", 2);
}

static const uw_emitter jsv_emitter =
    UW_BRACE_EMITTER(jsv_emit, 0, "False", "True");

int
uw_jsv_encode(const ProtobufCMessage *msg, uw_buf *out)
{
	return uw_walk_message(&jsv_emitter, NULL, msg, out);
}

int
uw_jsv_encode_field(const ProtobufCMessage *m,
		    const ProtobufCFieldDescriptor *f, const up_field_info *fi,
		    uw_buf *out)
{
	return uw_walk_field(&jsv_emitter, NULL, m, f, fi, out);
}

/* ------------------------------------------------------------------------
 * Decoding
 */

typedef struct jsv {
	const char *s;
	size_t len;
	size_t pos;
	uw_limits lim;
	uw_decode_error *err;
	bool newline;  /* pass 1: a line break outside quotes was seen */
	bool indented; /* pass 2: trim bare values */
	char *tmp;     /* the text of the last quoted token */
	size_t tmp_cap;
} jsv;

/* A scalar token: bare (a span of the body) or quoted (unquoted in tmp). */
typedef struct token {
	const char *p;
	size_t n;
	bool quoted;
} token;

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* c is one of stops (never true for NUL, kept in tokens and refused as
 * text later). */
static bool
is_stop(char c, const char *stops)
{
	return c != '\0' && strchr(stops, c) != NULL;
}

static void
skip_ws(jsv *x)
{
	while (x->pos < x->len && is_ws(x->s[x->pos])) {
		if (x->s[x->pos] == '\r' || x->s[x->pos] == '\n') {
			x->newline = true;
		}
		x->pos++;
	}
}

static int
syntax(jsv *x, const char *what)
{
	uw_error_set(x->err, "", "Invalid JSV: %s at offset %zu", what, x->pos);
	return -1;
}

static int
oom(jsv *x)
{
	uw_error_set(x->err, "", "Out of memory");
	return -1;
}

static int
nested_too_deeply(jsv *x)
{
	uw_error_set(x->err, "", "Nested too deeply (at most %zu levels)",
		     x->lim.max_depth);
	return -1;
}

/* The next non-whitespace character ('\0' at the end); pos is unchanged. */
static char
peek(jsv *x)
{
	size_t i = x->pos;

	while (i < x->len && is_ws(x->s[i])) {
		i++;
	}
	return i < x->len ? x->s[i] : '\0';
}

/* A quoted token at pos ("..." with "" for "), unquoted into tmp. */
static int
read_quoted(jsv *x, token *t)
{
	size_t n = 0;

	skip_ws(x);
	x->pos++; /* the opening quote */
	if (x->tmp_cap < x->len - x->pos + 1) {
		size_t cap = x->len - x->pos + 1;
		char *p = realloc(x->tmp, cap);
		if (p == NULL) {
			return oom(x);
		}
		x->tmp = p;
		x->tmp_cap = cap;
	}
	for (;;) {
		char c;
		if (x->pos >= x->len) {
			return syntax(x, "unterminated string");
		}
		c = x->s[x->pos++];
		if (c == '"') {
			if (x->pos < x->len && x->s[x->pos] == '"') {
				x->pos++;
			} else {
				break;
			}
		}
		x->tmp[n++] = c;
	}
	t->p = x->tmp;
	t->n = n;
	t->quoted = true;
	return 0;
}

/* A bare token from pos up to one of stops (or the end), whitespace and
 * all. */
static void
read_bare(jsv *x, token *t, const char *stops)
{
	size_t start = x->pos;

	while (x->pos < x->len && !is_stop(x->s[x->pos], stops)) {
		if (x->s[x->pos] == '\r' || x->s[x->pos] == '\n') {
			x->newline = true;
		}
		x->pos++;
	}
	t->p = x->s + start;
	t->n = x->pos - start;
	t->quoted = false;
}

static void
trim(token *t)
{
	while (t->n > 0 && is_ws(t->p[0])) {
		t->p++;
		t->n--;
	}
	while (t->n > 0 && is_ws(t->p[t->n - 1])) {
		t->n--;
	}
}

/* A scalar value at pos: quoted, or bare up to , } ] or the end. */
static int
read_scalar(jsv *x, token *t)
{
	if (peek(x) == '"') {
		return read_quoted(x, t);
	}
	read_bare(x, t, ",}]");
	return 0;
}

/* A key at pos, up to its ':' (consumed). */
static int
read_key(jsv *x, token *t)
{
	if (peek(x) == '"') {
		if (read_quoted(x, t) != 0) {
			return -1;
		}
	} else {
		read_bare(x, t, ":,{}[]\"");
	}
	skip_ws(x);
	if (x->pos >= x->len || x->s[x->pos] != ':') {
		return syntax(x, "expected ':' after a key");
	}
	x->pos++;
	return 0;
}

/* After a value: skips whitespace; 1 at ',' (consumed), 0 at close
 * (consumed), -1 otherwise. */
static int
after_value(jsv *x, char close)
{
	skip_ws(x);
	if (x->pos < x->len && x->s[x->pos] == ',') {
		x->pos++;
		return 1;
	}
	if (x->pos < x->len && x->s[x->pos] == close) {
		x->pos++;
		return 0;
	}
	return syntax(x, close == '}' ? "expected ',' or '}'"
				      : "expected ',' or ']'");
}

/* Skips one value of any kind (syntax and depth checked). depth: the
 * nesting of the value's container. */
static int
skip_value(jsv *x, size_t depth)
{
	char c = peek(x);
	token t;
	int more;

	if (c != '{' && c != '[') {
		return read_scalar(x, &t);
	}
	if (depth + 1 > x->lim.max_depth) {
		return nested_too_deeply(x);
	}
	skip_ws(x);
	x->pos++;
	if (c == '[') {
		if (peek(x) == ']') {
			skip_ws(x);
			x->pos++;
			return 0;
		}
		do {
			if (skip_value(x, depth + 1) != 0) {
				return -1;
			}
		} while ((more = after_value(x, ']')) == 1);
		return more;
	}
	if (peek(x) == '}') {
		skip_ws(x);
		x->pos++;
		return 0;
	}
	do {
		if (peek(x) == '}') { /* a trailing comma */
			skip_ws(x);
			x->pos++;
			return 0;
		}
		if (read_key(x, &t) != 0 || skip_value(x, depth + 1) != 0) {
			return -1;
		}
	} while ((more = after_value(x, '}')) == 1);
	return more;
}

static bool
plain_string(const ProtobufCMessageDescriptor *d,
	     const ProtobufCFieldDescriptor *f)
{
	return f->type == PROTOBUF_C_TYPE_STRING && !uw_field_is_guid(d, f);
}

/*
 * Sets scalar field f of m (appends when append) from token t, named in
 * errors as (nd, nf). An empty bare token unsets a single field, except
 * the key or value of a map entry (named after the map field, nf != f):
 * maps hold no nulls, it is then "".
 */
static int
set_scalar(jsv *x, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	   token t, bool append, const ProtobufCMessageDescriptor *nd,
	   const ProtobufCFieldDescriptor *nf)
{
	if (!t.quoted && (x->indented || !plain_string(m->descriptor, f))) {
		trim(&t);
	}
	if (!t.quoted && t.n == 0 && !append && nf == f) {
		uw_field_clear(m, f);
		return 0;
	}
	return uw_field_set_text_as(m, f, t.p, t.n, append, &x->lim, nd, nf,
				    x->err);
}

/* A scalar value at pos into f; an object or a list is an error. */
static int
dec_scalar(jsv *x, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	   bool append, const ProtobufCMessageDescriptor *nd,
	   const ProtobufCFieldDescriptor *nf)
{
	char c = peek(x);
	token t;

	if (c == '{' || c == '[') {
		return uw_error_expected_kind(x->err, nd, nf,
					      uw_field_noun(m->descriptor, f));
	}
	if (read_scalar(x, &t) != 0) {
		return -1;
	}
	return set_scalar(x, m, f, t, append, nd, nf);
}

/* An empty bare value at pos (the field is to be unset)? Consumes it. */
static bool
empty_bare(jsv *x)
{
	size_t i = x->pos;

	while (i < x->len && is_ws(x->s[i])) {
		i++;
	}
	if (i < x->len && !is_stop(x->s[i], ",}]")) {
		return false;
	}
	x->pos = i;
	return true;
}

static int dec_object(jsv *x, ProtobufCMessage *m, size_t depth);
static int dec_list(jsv *x, ProtobufCMessage *target,
		    const ProtobufCFieldDescriptor *f, size_t depth,
		    const ProtobufCMessageDescriptor *nd,
		    const ProtobufCFieldDescriptor *nf);

/* A new message of f's type stored in (or appended to) f, filled from the
 * object (or, for a list_wrapper, the list) at pos. depth: the nesting of
 * the container the value is in. */
static int
dec_sub(jsv *x, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	size_t depth)
{
	const ProtobufCMessageDescriptor *sd = f->descriptor;
	bool wrapper = uw_msg_is_list_wrapper(sd);
	ProtobufCMessage *sub;

	if (peek(x) != (wrapper ? '[' : '{')) {
		return uw_error_expected(x->err, m->descriptor, f,
					 wrapper ? "a list" : "an object");
	}
	/* stored first, so a failure below frees it */
	sub = uw_field_new_message(m, f, x->err);
	if (sub == NULL) {
		return -1;
	}
	if (wrapper) {
		/* the wrapper's items are named after f in errors */
		return dec_list(x, sub, uw_list_wrapper_items(sd), depth + 1,
				m->descriptor, f);
	}
	return dec_object(x, sub, depth + 1);
}

/*
 * The list at pos into repeated field f of target (replacing its items),
 * named in errors as (nd, nf). depth: the nesting of the list itself.
 */
static int
dec_list(jsv *x, ProtobufCMessage *target, const ProtobufCFieldDescriptor *f,
	 size_t depth, const ProtobufCMessageDescriptor *nd,
	 const ProtobufCFieldDescriptor *nf)
{
	size_t count = 0, start;
	int more;

	if (peek(x) != '[') {
		return uw_error_expected(x->err, nd, nf, "a list");
	}
	uw_field_clear(target, f);
	skip_ws(x);
	x->pos++;
	start = x->pos;
	if (peek(x) == ']') {
		/* [ ] is one blank string in the compact form */
		bool blank = x->s[x->pos] != ']';
		skip_ws(x);
		if (!(blank && !x->indented &&
		      plain_string(target->descriptor, f))) {
			x->pos++;
			return 0;
		}
		x->pos = start;
	}
	do {
		if (count++ >= x->lim.max_items) {
			return uw_error_limit(x->err, nd, nf, UW_LIMIT_ITEMS,
					      &x->lim);
		}
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			if (dec_sub(x, target, f, depth) != 0) {
				return -1;
			}
		} else if (dec_scalar(x, target, f, true, nd, nf) != 0) {
			return -1;
		}
	} while ((more = after_value(x, ']')) == 1);
	return more;
}

/* The object at pos into map field f of m (replacing its entries). */
static int
dec_map(jsv *x, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	size_t depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	size_t count = 0;
	int more;

	if (peek(x) != '{') {
		return uw_error_expected(x->err, d, f, "an object");
	}
	uw_field_clear(m, f);
	skip_ws(x);
	x->pos++;
	do {
		ProtobufCMessage *e;
		token k;

		if (peek(x) == '}') { /* empty, or a trailing comma */
			skip_ws(x);
			x->pos++;
			return 0;
		}
		if (count++ >= x->lim.max_items) {
			return uw_error_limit(x->err, d, f, UW_LIMIT_ITEMS,
					      &x->lim);
		}
		if (read_key(x, &k) != 0) {
			return -1;
		}
		e = uw_field_new_message(m, f, x->err);
		if (e == NULL ||
		    set_scalar(x, e, &ed->fields[0], k, false, d, f) != 0) {
			return -1;
		}
		if (peek(x) == '{' || peek(x) == '[') {
			return uw_error_expected(x->err, d, f,
						 "an object of strings");
		}
		/* an empty value is "" (never unset: see set_scalar) */
		if (dec_scalar(x, e, &ed->fields[1], false, d, f) != 0) {
			return -1;
		}
	} while ((more = after_value(x, '}')) == 1);
	return more;
}

/* The value at pos into field f of m (replacing what f holds). depth: the
 * nesting of m's object. */
static int
dec_value(jsv *x, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	  size_t depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	if (f->label == PROTOBUF_C_LABEL_REPEATED ||
	    f->type == PROTOBUF_C_TYPE_MESSAGE) {
		if (empty_bare(x)) {
			uw_field_clear(m, f);
			return 0;
		}
		if (uw_field_is_map(f)) {
			return dec_map(x, m, f, depth + 1);
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			return dec_list(x, m, f, depth + 1, d, f);
		}
		return dec_sub(x, m, f, depth);
	}
	return dec_scalar(x, m, f, false, d, f);
}

/* The object at pos into m; depth: its nesting. */
static int
dec_object(jsv *x, ProtobufCMessage *m, size_t depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	int more;

	skip_ws(x);
	x->pos++; /* '{', checked by the caller */
	do {
		const ProtobufCFieldDescriptor *f;
		token k;

		if (peek(x) == '}') { /* empty, or a trailing comma */
			skip_ws(x);
			x->pos++;
			return 0;
		}
		if (read_key(x, &k) != 0) {
			return -1;
		}
		trim(&k);
		f = uw_field_by_name(d, k.p, k.n);
		if (f == NULL) {
			if (skip_value(x, depth) != 0) {
				return -1;
			}
		} else if (dec_value(x, m, f, depth) != 0) {
			return -1;
		}
	} while ((more = after_value(x, '}')) == 1);
	return more;
}

/* Pass 1 over [start, len): syntax, depth, and the indented form. */
static int
scan(jsv *x, size_t start, size_t depth)
{
	x->pos = start;
	x->newline = false;
	if (skip_value(x, depth) != 0) {
		return -1;
	}
	skip_ws(x);
	if (x->pos != x->len) {
		return syntax(x, "unexpected text after the value");
	}
	x->indented = x->newline;
	x->pos = start;
	return 0;
}

int
uw_jsv_decode(ProtobufCMessage *msg, const char *body, size_t len,
	      const uw_limits *lim, uw_decode_error *err)
{
	jsv x = {
	    .s = body, .len = len, .lim = uw_limits_effective(lim), .err = err};
	const ProtobufCMessageDescriptor *d;
	size_t start = 0;
	int rc = -1;
	char c;

	if (msg == NULL || (body == NULL && len != 0)) {
		uw_error_set(err, "", "Invalid argument");
		return -1;
	}
	(void)up_meta_load();
	d = msg->descriptor;
	if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) {
		start = x.pos = 3; /* a byte order mark */
	}
	skip_ws(&x);
	if (x.pos == len) {
		return 0; /* no body: nothing to set */
	}
	c = x.s[x.pos];
	if (c == '[' && uw_msg_is_list_wrapper(d)) {
		const ProtobufCFieldDescriptor *f = uw_list_wrapper_items(d);
		if (scan(&x, start, 0) == 0) {
			rc = dec_list(&x, msg, f, 1, d, f);
		}
	} else if (c == '{') {
		if (scan(&x, start, 0) == 0) {
			rc = dec_object(&x, msg, 1);
		}
	} else {
		uw_error_set(err, "", "Expected a JSV object for %s",
			     d->short_name);
	}
	free(x.tmp);
	return rc;
}

int
uw_jsv_decode_field(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		    const char *text, size_t len, const uw_limits *lim,
		    uw_decode_error *err)
{
	jsv x = {
	    .s = text, .len = len, .lim = uw_limits_effective(lim), .err = err};
	int rc = -1;

	if (m == NULL || f == NULL || (text == NULL && len != 0)) {
		uw_error_set(err, "", "Invalid argument");
		return -1;
	}
	(void)up_meta_load();
	if (scan(&x, 0, 1) == 0) {
		rc = dec_value(&x, m, f, 1);
	}
	free(x.tmp);
	return rc;
}
