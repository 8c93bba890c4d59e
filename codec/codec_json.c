/*
 * codec_json.c - JSON as ServiceStack writes it (docs/wire-formats.md,
 * section 4): camelCase wire names in the DTO's declared order, compact,
 * UTF-8 left unescaped except what JSON requires (and U+2028/U+2029,
 * escaped for JSONP); unset properties left out; lists always written ([]
 * when empty) except empty maps; list_wrapper messages as their plain
 * list; enums by name, or by number for enum_as_number enums; Guids as 32
 * lowercase hex digits; bytes as base64.
 *
 * Encoding is an emitter of the library's one walk (walk.h), writing
 * straight to the uw_buf; decoding parses with jansson
 * (which rejects invalid UTF-8 and \u0000) and walks the tree with the
 * descriptor, within the uw_limits.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "walk.h"

/* ------------------------------------------------------------------------
 * Encoding
 */

/* JSON's escapes: what the grammar requires, other controls as \u00XX,
 * and U+2028 and U+2029 (line ends to JavaScript: safe inside JSONP). */
static const char *
json_rep(const unsigned char *p, size_t k, char *buf)
{
	if (k == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
	    (p[2] == 0xa8 || p[2] == 0xa9)) {
		return p[2] == 0xa8 ? "\\u2028" : "\\u2029";
	}
	if (k > 1) {
		return NULL;
	}
	switch (p[0]) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	default:
		if (p[0] >= 0x20) {
			return NULL;
		}
		snprintf(buf, UW_TEXT_REP_MAX, "\\u%04x", p[0]);
		return buf;
	}
}

/* The controls, '"' and '\\'; U+2028 and U+2029 among the wide ones. */
static const uw_escapes json_escapes = {
    .ascii = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	     "..x............................."
	     "............................x..."
	     "................................",
    .wide = true,
    .rep = json_rep,
};

int
uw_json_string(uw_buf *out, const char *s, size_t len)
{
	if (uw_buf_append(out, "\"", 1) != 0 ||
	    uw_text_escape(out, s, len, &json_escapes) != 0) {
		return -1;
	}
	return uw_buf_append(out, "\"", 1);
}

/* Text without quotes: a number or boolean, which as a map's key is a
 * string. */
static int
put_bare(uw_walk *w, const uw_slot *s, const char *text, size_t len)
{
	if (s->at != UW_AT_KEY) {
		return uw_put(w, text, len);
	}
	return uw_put(w, "\"", 1) != 0 || uw_put(w, text, len) != 0 ||
		       uw_put(w, "\"", 1) != 0
		   ? -1
		   : 0;
}

static int
json_emit_bare(uw_walk *w, const uw_slot *s, const char *text, size_t len)
{
	return put_bare(w, s, text, len);
}

/* JSON has no way to say NaN or infinity: null. */
static int
json_emit_nonfinite(uw_walk *w, const uw_slot *s, double v)
{
	return put_bare(w, s, "null", 4);
}

static int
json_emit_string(uw_walk *w, const uw_slot *s, const char *text, size_t len,
		 bool guid)
{
	return uw_json_string(w->out, text, len);
}

static int
json_emit_bytes(uw_walk *w, const uw_slot *s, const uint8_t *data, size_t len)
{
	if (uw_put(w, "\"", 1) != 0 ||
	    uw_base64_encode(w->out, data, len) != 0) {
		return -1;
	}
	return uw_put(w, "\"", 1);
}

static int
json_emit_null(uw_walk *w, const uw_slot *s)
{
	return uw_put(w, "null", 4);
}

static const uw_emitter json_emitter =
    UW_BRACE_EMITTER(json_emit, UW_EMIT_EMPTY_LISTS, "false", "true");

int
uw_json_encode(const ProtobufCMessage *msg, uw_buf *out)
{
	return uw_walk_message(&json_emitter, NULL, msg, out);
}

/*
 * proto3's JSON mapping (the RPC dialects' JSON): the same walk and
 * punctuation, with what the mapping says otherwise: 64-bit integers as
 * strings, NaN and the infinities as "NaN", "Infinity", "-Infinity",
 * enums always by name, no empty lists, and the message as protobuf
 * declares it (UW_EMIT_PROTO: a StringList is {"items":[...]}).
 */
static bool
is_64bit(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return true;
	default:
		return false;
	}
}

static int
pbjson_emit_bare(uw_walk *w, const uw_slot *s, const char *text, size_t len)
{
	if (s->at != UW_AT_KEY && is_64bit(s->f)) {
		return uw_put(w, "\"", 1) != 0 || uw_put(w, text, len) != 0 ||
			       uw_put(w, "\"", 1) != 0
			   ? -1
			   : 0;
	}
	return put_bare(w, s, text, len);
}

static int
pbjson_emit_nonfinite(uw_walk *w, const uw_slot *s, double v)
{
	const char *t = v != v  ? "\"NaN\""
			: v > 0 ? "\"Infinity\""
				: "\"-Infinity\"";

	return uw_put(w, t, strlen(t));
}

#define pbjson_emit_string json_emit_string
#define pbjson_emit_bytes  json_emit_bytes
#define pbjson_emit_null   json_emit_null

static const uw_emitter pbjson_emitter = UW_BRACE_EMITTER(
    pbjson_emit, UW_EMIT_PROTO | UW_EMIT_ENUM_NAMES, "false", "true");

int
uw_pbjson_encode(const ProtobufCMessage *msg, uw_buf *out)
{
	return uw_walk_message(&pbjson_emitter, NULL, msg, out);
}

/* ------------------------------------------------------------------------
 * Decoding
 */

typedef struct dec {
	uw_limits lim;
	uw_decode_error *err;
	bool proto; /* proto3's mapping: a list_wrapper is an object */
} dec;

static int dec_object(dec *x, ProtobufCMessage *m, json_t *obj, size_t depth);

/*
 * A JSON scalar into scalar field f of m (appended when append), named in
 * errors as (nd, nf). Numbers and booleans go through their text.
 */
static int
dec_scalar(dec *x, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	   json_t *v, bool append, const ProtobufCMessageDescriptor *nd,
	   const ProtobufCFieldDescriptor *nf)
{
	char b[40];
	int n;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return uw_field_set_text_as(m, f, json_string_value(v),
					    json_string_length(v), append,
					    &x->lim, nd, nf, x->err);
	case JSON_INTEGER:
		n = snprintf(b, sizeof(b), "%" JSON_INTEGER_FORMAT,
			     json_integer_value(v));
		break;
	case JSON_REAL:
		/* the shortest text that reads back the same */
		n = snprintf(b, sizeof(b), "%.15g", json_real_value(v));
		if (strtod(b, NULL) != json_real_value(v)) {
			n = snprintf(b, sizeof(b), "%.17g", json_real_value(v));
		}
		break;
	case JSON_TRUE:
		n = snprintf(b, sizeof(b), "true");
		break;
	case JSON_FALSE:
		n = snprintf(b, sizeof(b), "false");
		break;
	default:
		return uw_error_expected_kind(x->err, nd, nf,
					      uw_field_noun(m->descriptor, f));
	}
	return uw_field_set_text_as(m, f, b, (size_t)n, append, &x->lim, nd, nf,
				    x->err);
}

/* A JSON array into repeated field f of m (replacing its items). */
static int
dec_array(dec *x, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	  json_t *arr, size_t depth, const ProtobufCMessageDescriptor *nd,
	  const ProtobufCFieldDescriptor *nf)
{
	size_t i;
	json_t *item;

	if (!json_is_array(arr)) {
		return uw_error_expected(x->err, nd, nf, "a list");
	}
	if (uw_field_refill(m, f, json_array_size(arr), depth, &x->lim, nd, nf,
			    x->err) != 0) {
		return -1;
	}
	json_array_foreach(arr, i, item)
	{
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			ProtobufCMessage *sub;
			if (!json_is_object(item)) {
				return uw_error_expected(x->err, nd, nf,
							 "a list of objects");
			}
			/* stored first, so a failure below frees it */
			sub = uw_field_new_message(m, f, x->err);
			if (sub == NULL ||
			    dec_object(x, sub, item, depth + 1) != 0) {
				return -1;
			}
		} else if (dec_scalar(x, m, f, item, true, nd, nf) != 0) {
			return -1;
		}
	}
	return 0;
}

/* A JSON object into map field f of m (replacing its entries). */
static int
dec_map(dec *x, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	json_t *obj, size_t depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *key;
	json_t *v;

	if (!json_is_object(obj)) {
		return uw_error_expected(x->err, d, f, "an object");
	}
	if (uw_field_refill(m, f, json_object_size(obj), depth, &x->lim, d, f,
			    x->err) != 0) {
		return -1;
	}
	json_object_foreach(obj, key, v)
	{
		const ProtobufCMessageDescriptor *ed = f->descriptor;
		ProtobufCMessage *e = uw_field_new_message(m, f, x->err);
		if (e == NULL ||
		    uw_field_set_text_as(e, &ed->fields[0], key, strlen(key),
					 false, &x->lim, d, f, x->err) != 0) {
			return -1;
		}
		if (json_is_null(v)) {
			/* a null value is an empty string (maps hold no nulls)
			 */
			if (uw_field_set_text_as(e, &ed->fields[1], "", 0,
						 false, &x->lim, d, f,
						 x->err) != 0) {
				return -1;
			}
			continue;
		}
		if (json_is_object(v) || json_is_array(v)) {
			return uw_error_expected(x->err, d, f,
						 "an object of strings");
		}
		if (dec_scalar(x, e, &ed->fields[1], v, false, d, f) != 0) {
			return -1;
		}
	}
	return 0;
}

static int
dec_field(dec *x, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	  json_t *v, size_t depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	if (json_is_null(v)) {
		uw_field_clear(m, f);
		return 0;
	}
	if (uw_field_is_map(f)) {
		return dec_map(x, m, f, v, depth + 1);
	}
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		return dec_array(x, m, f, v, depth + 1, d, f);
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		const ProtobufCMessageDescriptor *sd = f->descriptor;
		ProtobufCMessage *sub;
		bool wrapper = !x->proto && uw_msg_is_list_wrapper(sd);
		if (wrapper ? !json_is_array(v) : !json_is_object(v)) {
			return uw_error_expected(
			    x->err, d, f, wrapper ? "a list" : "an object");
		}
		sub = uw_field_new_message(m, f, x->err);
		if (sub == NULL) {
			return -1;
		}
		if (wrapper) {
			return dec_array(x, sub, uw_list_wrapper_items(sd), v,
					 depth + 1, d, f);
		}
		return dec_object(x, sub, v, depth + 1);
	}
	return dec_scalar(x, m, f, v, false, d, f);
}

static int
dec_object(dec *x, ProtobufCMessage *m, json_t *obj, size_t depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *key;
	json_t *v;

	if (depth > x->lim.max_depth) {
		uw_error_set(x->err, "",
			     "Nested too deeply (at most %zu levels)",
			     x->lim.max_depth);
		return -1;
	}
	json_object_foreach(obj, key, v)
	{
		const ProtobufCFieldDescriptor *f =
		    uw_field_by_name(d, key, strlen(key));
		if (f != NULL && dec_field(x, m, f, v, depth) != 0) {
			return -1;
		}
	}
	return 0;
}

/* jansson's message may quote the input: keep it printable ASCII. */
static void
parse_error(uw_decode_error *err, const json_error_t *je)
{
	char text[sizeof(je->text)];
	size_t i;

	for (i = 0; i + 1 < sizeof(text) && je->text[i] != '\0'; i++) {
		unsigned char c = (unsigned char)je->text[i];
		text[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	text[i] = '\0';
	uw_error_set(err, "", "Invalid JSON: %s (line %d, column %d)", text,
		     je->line, je->column);
}

static int
decode(ProtobufCMessage *msg, const char *body, size_t len,
       const uw_limits *lim, uw_decode_error *err, bool proto)
{
	dec x = {.lim = uw_limits_effective(lim), .err = err, .proto = proto};
	json_error_t je;
	json_t *root = NULL;
	size_t i = 0;
	int rc = -1;

	if (msg == NULL || (body == NULL && len != 0)) {
		uw_error_set(err, "", "Invalid argument");
		return -1;
	}
	(void)up_meta_load();
	while (i < len && (body[i] == ' ' || body[i] == '\t' ||
			   body[i] == '\r' || body[i] == '\n')) {
		i++;
	}
	if (i == len) {
		return 0; /* no body: nothing to set */
	}
	root = json_loadb(body, len, JSON_DECODE_ANY, &je);
	if (root == NULL) {
		parse_error(err, &je);
		goto out;
	}
	if (json_is_null(root)) {
		rc = 0;
	} else if (json_is_object(root)) {
		rc = dec_object(&x, msg, root, 1);
	} else if (json_is_array(root) && !proto &&
		   uw_msg_is_list_wrapper(msg->descriptor)) {
		const ProtobufCFieldDescriptor *f =
		    uw_list_wrapper_items(msg->descriptor);
		rc = dec_array(&x, msg, f, root, 1, msg->descriptor, f);
	} else {
		uw_error_set(err, "", "Expected a JSON object for %s",
			     msg->descriptor->short_name);
	}
out:
	json_decref(root);
	return rc;
}

int
uw_json_decode(ProtobufCMessage *msg, const char *body, size_t len,
	       const uw_limits *lim, uw_decode_error *err)
{
	return decode(msg, body, len, lim, err, false);
}

int
uw_pbjson_decode(ProtobufCMessage *msg, const char *body, size_t len,
		 const uw_limits *lim, uw_decode_error *err)
{
	return decode(msg, body, len, lim, err, true);
}
