/*
 * fields.c - descriptor-driven access to the fields of protobuf-c messages,
 * shared by every codec: names, presence, clearing, setting one value from
 * text (the JSV-like rules of query strings, forms and path variables),
 * and the form/query parser.
 *
 * Ownership: every value stored in a message is malloc'd separately, so a
 * message is always released with protobuf_c_message_free_unpacked(m, NULL),
 * also after a failed decode (it is then partly filled, never broken).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec.h"

#define FORM_NAME_MAX 256

/* ------------------------------------------------------------------------
 * Errors, names, kinds of fields
 */

void
uw_error_set(uw_decode_error *err, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	snprintf(err->field, sizeof(err->field), "%s",
		 field != NULL ? field : "");
}

/* "Expected {what} for 'name'", the field named as the wire names it. */
int
uw_error_expected(uw_decode_error *err, const ProtobufCMessageDescriptor *d,
		  const ProtobufCFieldDescriptor *f, const char *what)
{
	uw_error_set(err, uw_field_pascal_name(d, f), "Expected %s for '%s'",
		     what, uw_field_json_name(d, f));
	return -1;
}

int
uw_error_expected_kind(uw_decode_error *err,
		       const ProtobufCMessageDescriptor *d,
		       const ProtobufCFieldDescriptor *f, const char *noun)
{
	char what[64];

	snprintf(what, sizeof(what), "%s %s",
		 strchr("aeiouAEIOU", noun[0]) != NULL ? "an" : "a", noun);
	return uw_error_expected(err, d, f, what);
}

int
uw_error_limit(uw_decode_error *err, const ProtobufCMessageDescriptor *d,
	       const ProtobufCFieldDescriptor *f, uw_limit which,
	       const uw_limits *lim)
{
	static const char *const what[] = {
	    [UW_LIMIT_DEPTH] = "Nested too deeply at",
	    [UW_LIMIT_ITEMS] = "Too many items in",
	    [UW_LIMIT_STRING] = "Value too long for",
	};
	static const char *const unit[] = {
	    [UW_LIMIT_DEPTH] = " levels",
	    [UW_LIMIT_ITEMS] = "",
	    [UW_LIMIT_STRING] = " bytes",
	};
	size_t max = which == UW_LIMIT_DEPTH   ? lim->max_depth
		     : which == UW_LIMIT_ITEMS ? lim->max_items
					       : lim->max_string;

	uw_error_set(err, uw_field_pascal_name(d, f), "%s '%s' (at most %zu%s)",
		     what[which], uw_field_json_name(d, f), max, unit[which]);
	return -1;
}

uw_limits
uw_limits_effective(const uw_limits *lim)
{
	uw_limits l = uw_limits_default;

	if (lim != NULL) {
		if (lim->max_depth != 0) {
			l.max_depth = lim->max_depth;
		}
		if (lim->max_items != 0) {
			l.max_items = lim->max_items;
		}
		if (lim->max_string != 0) {
			l.max_string = lim->max_string;
		}
	}
	return l;
}

static const up_field_info *
info_of(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f)
{
	(void)up_meta_load();
	return up_field_info_of(d, f);
}

const char *
uw_field_json_name(const ProtobufCMessageDescriptor *d,
		   const ProtobufCFieldDescriptor *f)
{
	const up_field_info *fi = info_of(d, f);

	return fi != NULL ? fi->json_name : f->name;
}

const char *
uw_field_pascal_name(const ProtobufCMessageDescriptor *d,
		     const ProtobufCFieldDescriptor *f)
{
	const up_field_info *fi = info_of(d, f);

	return fi != NULL ? fi->pascal_name : f->name;
}

bool
uw_field_is_guid(const ProtobufCMessageDescriptor *d,
		 const ProtobufCFieldDescriptor *f)
{
	const up_field_info *fi = info_of(d, f);

	return fi != NULL && fi->guid && f->type == PROTOBUF_C_TYPE_STRING;
}

bool
uw_field_always_written(const ProtobufCMessageDescriptor *d,
			const ProtobufCFieldDescriptor *f)
{
	const up_field_info *fi = info_of(d, f);

	return fi != NULL && fi->always_written;
}

bool
uw_field_is_map(const ProtobufCFieldDescriptor *f)
{
	const ProtobufCMessageDescriptor *e;
	size_t n;

	if (f->label != PROTOBUF_C_LABEL_REPEATED ||
	    f->type != PROTOBUF_C_TYPE_MESSAGE) {
		return false;
	}
	e = f->descriptor;
	n = strlen(e->short_name);
	return e->n_fields == 2 && n > 5 &&
	       strcmp(e->short_name + n - 5, "Entry") == 0 &&
	       e->fields[0].id == 1 && strcmp(e->fields[0].name, "key") == 0 &&
	       e->fields[1].id == 2 && strcmp(e->fields[1].name, "value") == 0;
}

bool
uw_msg_is_list_wrapper(const ProtobufCMessageDescriptor *d)
{
	const up_message_info *mi;

	(void)up_meta_load();
	mi = up_message_info_of(d);
	return mi != NULL && mi->list_wrapper &&
	       uw_list_wrapper_items(d) != NULL;
}

const ProtobufCFieldDescriptor *
uw_list_wrapper_items(const ProtobufCMessageDescriptor *d)
{
	for (unsigned i = 0; i < d->n_fields; i++) {
		if (d->fields[i].label == PROTOBUF_C_LABEL_REPEATED) {
			return &d->fields[i];
		}
	}
	return NULL;
}

const char *
uw_field_noun(const ProtobufCMessageDescriptor *d,
	      const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return uw_field_is_guid(d, f) ? "Guid" : "string";
	case PROTOBUF_C_TYPE_BOOL:
		return "boolean";
	case PROTOBUF_C_TYPE_ENUM:
		return ((const ProtobufCEnumDescriptor *)f->descriptor)
		    ->short_name;
	case PROTOBUF_C_TYPE_BYTES:
		return "base64 string";
	case PROTOBUF_C_TYPE_MESSAGE:
		return "object";
	default:
		return "number";
	}
}

/* ------------------------------------------------------------------------
 * Storage
 */

size_t
uw_value_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

/* One value of a field, as stored (every member starts at offset 0). */
typedef union fvalue {
	int32_t i32;
	uint32_t u32;
	int64_t i64;
	uint64_t u64;
	float f32;
	double f64;
	protobuf_c_boolean b;
	char *s;
	ProtobufCBinaryData bin;
	ProtobufCMessage *m;
} fvalue;

static void *
member(const ProtobufCMessage *m, size_t offset)
{
	return (char *)(uintptr_t)m + offset;
}

static bool
has_flag(const ProtobufCFieldDescriptor *f)
{
	return (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) == 0 &&
	       f->label == PROTOBUF_C_LABEL_OPTIONAL &&
	       f->type != PROTOBUF_C_TYPE_STRING &&
	       f->type != PROTOBUF_C_TYPE_MESSAGE;
}

/* Frees what one stored element holds (not the element itself). */
static void
free_elem(const ProtobufCFieldDescriptor *f, void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		char *s = *(char **)p;
		if (s != NULL && s != (const char *)f->default_value &&
		    s != protobuf_c_empty_string) {
			free(s);
		}
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *bd = p;
		const ProtobufCBinaryData *def = f->default_value;
		if (bd->data != NULL &&
		    (def == NULL || bd->data != def->data)) {
			free(bd->data);
		}
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		ProtobufCMessage *sub = *(ProtobufCMessage **)p;
		if (sub != NULL) {
			protobuf_c_message_free_unpacked(sub, NULL);
		}
		break;
	}
	default:
		break;
	}
}

static void
free_value(const ProtobufCFieldDescriptor *f, fvalue *v)
{
	free_elem(f, v);
	memset(v, 0, sizeof(*v));
}

/* Frees a single (non-repeated) field and puts back its default. */
static void
clear_single(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	void *p = member(m, f->offset);
	size_t n = uw_value_size(f->type);

	free_elem(f, p);
	if (f->default_value != NULL && (f->type == PROTOBUF_C_TYPE_STRING ||
					 f->type == PROTOBUF_C_TYPE_MESSAGE)) {
		memcpy(p, &f->default_value, sizeof(void *));
	} else if (f->default_value != NULL) {
		memcpy(p, f->default_value, n);
	} else {
		memset(p, 0, n);
	}
	if (has_flag(f)) {
		*(protobuf_c_boolean *)member(m, f->quantifier_offset) = 0;
	}
}

void
uw_field_clear(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t *np = member(m, f->quantifier_offset);
		char **ap = member(m, f->offset);
		size_t es = uw_value_size(f->type);
		for (size_t i = 0; *ap != NULL && i < *np; i++) {
			free_elem(f, *ap + i * es);
		}
		free(*ap);
		*ap = NULL;
		*np = 0;
		return;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *cp = member(m, f->quantifier_offset);
		const ProtobufCFieldDescriptor *cur =
		    *cp != 0 ? protobuf_c_message_descriptor_get_field(
				   m->descriptor, *cp)
			     : NULL;
		if (cur != NULL) {
			clear_single(m, cur);
		}
		*cp = 0;
		return;
	}
	clear_single(m, f);
}

bool
uw_field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const void *p = member(m, f->offset);

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		return *(const size_t *)member(m, f->quantifier_offset) != 0;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		return *(const uint32_t *)member(m, f->quantifier_offset) ==
		       f->id;
	}
	if (f->label == PROTOBUF_C_LABEL_REQUIRED) {
		return true;
	}
	if (f->type == PROTOBUF_C_TYPE_STRING ||
	    f->type == PROTOBUF_C_TYPE_MESSAGE) {
		const void *ptr = *(const void *const *)p;
		if (f->label == PROTOBUF_C_LABEL_NONE &&
		    f->type == PROTOBUF_C_TYPE_STRING) {
			return ptr != NULL && *(const char *)ptr != '\0';
		}
		return ptr != NULL && ptr != f->default_value;
	}
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
		return *(const protobuf_c_boolean *)member(
			   m, f->quantifier_offset) != 0;
	}
	/* proto3 scalar: present when not zero */
	if (f->type == PROTOBUF_C_TYPE_BYTES) {
		return ((const ProtobufCBinaryData *)p)->len != 0;
	}
	for (size_t i = 0; i < uw_value_size(f->type); i++) {
		if (((const unsigned char *)p)[i] != 0) {
			return true;
		}
	}
	return false;
}

size_t
uw_field_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if (f->label != PROTOBUF_C_LABEL_REPEATED) {
		return uw_field_present(m, f) ? 1 : 0;
	}
	return *(const size_t *)member(m, f->quantifier_offset);
}

/*
 * Stores v in f (appending when f is repeated). v is owned by m on success
 * and freed on failure.
 */
static int
store(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, fvalue *v,
      uw_decode_error *err)
{
	size_t es = uw_value_size(f->type);

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t *np = member(m, f->quantifier_offset);
		char **ap = member(m, f->offset);
		char *grown;
		if (*np >= SIZE_MAX / es - 1 ||
		    (grown = realloc(*ap, (*np + 1) * es)) == NULL) {
			free_value(f, v);
			uw_error_set(err,
				     uw_field_pascal_name(m->descriptor, f),
				     "Out of memory");
			return -1;
		}
		memcpy(grown + *np * es, v, es);
		*ap = grown;
		(*np)++;
		return 0;
	}
	uw_field_clear(m, f);
	memcpy(member(m, f->offset), v, es);
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		*(uint32_t *)member(m, f->quantifier_offset) = f->id;
	} else if (has_flag(f)) {
		*(protobuf_c_boolean *)member(m, f->quantifier_offset) = 1;
	}
	return 0;
}

int
uw_field_put_message(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		     ProtobufCMessage *sub, uw_decode_error *err)
{
	fvalue v;

	memset(&v, 0, sizeof(v));
	v.m = sub;
	return store(m, f, &v, err);
}

ProtobufCMessage *
uw_field_new_message(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		     uw_decode_error *err)
{
	ProtobufCMessage *sub = uw_msg_new(f->descriptor);

	if (sub == NULL) {
		uw_error_set(err, "", "Out of memory");
		return NULL;
	}
	return uw_field_put_message(m, f, sub, err) == 0 ? sub : NULL;
}

int
uw_field_refill(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		size_t n, size_t depth, const uw_limits *lim,
		const ProtobufCMessageDescriptor *nd,
		const ProtobufCFieldDescriptor *nf, uw_decode_error *err)
{
	if (depth > lim->max_depth) {
		return uw_error_limit(err, nd, nf, UW_LIMIT_DEPTH, lim);
	}
	if (n > lim->max_items) {
		return uw_error_limit(err, nd, nf, UW_LIMIT_ITEMS, lim);
	}
	uw_field_clear(m, f);
	return 0;
}

/* ------------------------------------------------------------------------
 * Text values
 */

/* 1 valid, 0 invalid UTF-8, -1 contains NUL. */
static int
text_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t k;
		if (p[i] == 0) {
			return -1;
		}
		k = uw_utf8_char(p + i, len - i);
		if (k == 0) {
			return 0;
		}
		i += k;
	}
	return 1;
}

int
uw_guid_normalize(const char *s, size_t len, char out[33])
{
	size_t j = 0;

	if (len >= 2 && ((s[0] == '{' && s[len - 1] == '}') ||
			 (s[0] == '(' && s[len - 1] == ')'))) {
		s++;
		len -= 2;
	}
	if (len != 32 && len != 36) {
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (len == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (c != '-') {
				return -1;
			}
			continue;
		}
		if (uw_hexval(c) < 0 || j == 32) {
			return -1;
		}
		out[j++] = (c >= 'A' && c <= 'F') ? (char)(c + 32) : c;
	}
	out[j] = '\0';
	return j == 32 ? 0 : -1;
}

/* Numbers: digits, sign, point, exponent; nothing strtod adds (hex, inf). */
static bool
numeric_chars(const char *s, size_t len)
{
	if (len == 0) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || c == '-' || c == '+' ||
		      c == '.' || c == 'e' || c == 'E')) {
			return false;
		}
	}
	return true;
}

typedef enum num_rc { NUM_OK, NUM_SYNTAX, NUM_RANGE } num_rc;

static num_rc
parse_double(const char *s, size_t len, double *out)
{
	char buf[64];
	char *end;

	if (!numeric_chars(s, len) || len >= sizeof(buf)) {
		return NUM_SYNTAX;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*out = strtod(buf, &end);
	if (end != buf + len) {
		return NUM_SYNTAX;
	}
	if (errno == ERANGE && (*out == HUGE_VAL || *out == -HUGE_VAL)) {
		return NUM_RANGE;
	}
	return NUM_OK;
}

/* An integer in [lo, hi] (as int64) or, for uint64, [0, UINT64_MAX]. */
static num_rc
parse_int(const char *s, size_t len, bool unsig, int64_t lo, int64_t hi,
	  fvalue *out)
{
	char buf[64];
	char *end;
	double d;
	num_rc rc;

	if (!numeric_chars(s, len) || len >= sizeof(buf)) {
		return NUM_SYNTAX;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	if (unsig) {
		if (buf[0] == '-') {
			/* "-0" is zero; anything else negative is out */
			unsigned long long z = strtoull(buf + 1, &end, 10);
			if (end == buf + len && z == 0 && buf[1] != '-' &&
			    buf[1] != '+') {
				out->u64 = 0;
				return NUM_OK;
			}
		} else {
			unsigned long long u = strtoull(buf, &end, 10);
			if (end == buf + len && len > 0) {
				if (errno == ERANGE) {
					return NUM_RANGE;
				}
				out->u64 = u;
				return NUM_OK;
			}
		}
	} else {
		long long v = strtoll(buf, &end, 10);
		if (end == buf + len) {
			if (errno == ERANGE || v < lo || v > hi) {
				return NUM_RANGE;
			}
			out->i64 = v;
			return NUM_OK;
		}
	}
	/* 7.0 or 1e3: an integral real */
	rc = parse_double(s, len, &d);
	if (rc != NUM_OK) {
		return rc;
	}
	if (!isfinite(d) || d != floor(d)) {
		return NUM_SYNTAX;
	}
	if (unsig) {
		if (d < 0 || d >= 18446744073709551616.0) {
			return NUM_RANGE;
		}
		out->u64 = (uint64_t)d;
		return NUM_OK;
	}
	if (d < -9223372036854775808.0 || d >= 9223372036854775808.0 ||
	    (int64_t)d < lo || (int64_t)d > hi) {
		return NUM_RANGE;
	}
	out->i64 = (int64_t)d;
	return NUM_OK;
}

static bool
ieq(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

int
uw_number_text(const ProtobufCFieldDescriptor *f, const void *p,
	       char buf[UW_NUMBER_MAX], size_t *len)
{
	bool is_signed = true;
	int64_t i = 0;
	uint64_t u = 0;
	double real;
	int n;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		i = *(const int32_t *)p;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		i = *(const int64_t *)p;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		u = *(const uint32_t *)p;
		is_signed = false;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		u = *(const uint64_t *)p;
		is_signed = false;
		break;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		real = f->type == PROTOBUF_C_TYPE_FLOAT ? *(const float *)p
							: *(const double *)p;
		if (!isfinite(real)) {
			return 1;
		}
		n = snprintf(
		    buf, UW_NUMBER_MAX,
		    f->type == PROTOBUF_C_TYPE_FLOAT ? "%.9g" : "%.17g", real);
		*len = (size_t)n;
		return 0;
	default:
		return -1;
	}
	n = is_signed ? snprintf(buf, UW_NUMBER_MAX, "%" PRId64, i)
		      : snprintf(buf, UW_NUMBER_MAX, "%" PRIu64, u);
	*len = (size_t)n;
	return 0;
}

static int
parse_enum(const ProtobufCEnumDescriptor *e, const char *s, size_t len,
	   int32_t *out)
{
	fvalue v;

	for (unsigned i = 0; i < e->n_values; i++) {
		if (ieq(s, len, e->values[i].name)) {
			*out = e->values[i].value;
			return 0;
		}
	}
	if (parse_int(s, len, false, INT32_MIN, INT32_MAX, &v) == NUM_OK &&
	    protobuf_c_enum_descriptor_get_value(e, (int)v.i64) != NULL) {
		*out = (int32_t)v.i64;
		return 0;
	}
	return -1;
}

int
uw_field_set_text(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		  const char *text, size_t len, bool append,
		  const uw_limits *lim, uw_decode_error *err)
{
	return uw_field_set_text_as(m, f, text, len, append, lim, NULL, NULL,
				    err);
}

int
uw_field_set_text_as(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		     const char *text, size_t len, bool append,
		     const uw_limits *lim, const ProtobufCMessageDescriptor *nd,
		     const ProtobufCFieldDescriptor *nf, uw_decode_error *err)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *name, *pascal;
	uw_limits l = uw_limits_effective(lim);
	fvalue v;
	num_rc nr = NUM_OK;
	int ok;

	if (nd == NULL || nf == NULL) {
		nd = d;
		nf = f;
	}
	name = uw_field_json_name(nd, nf);
	pascal = uw_field_pascal_name(nd, nf);
	memset(&v, 0, sizeof(v));
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		uw_error_set(err, pascal, "'%s' cannot be given as text", name);
		return -1;
	}
	if (len > l.max_string) {
		return uw_error_limit(err, nd, nf, UW_LIMIT_STRING, &l);
	}
	ok = text_ok(text, len);
	if (ok <= 0) {
		uw_error_set(err, pascal,
			     ok < 0 ? "NUL character in '%s'"
				    : "Invalid UTF-8 in '%s'",
			     name);
		return -1;
	}
	if (len == 0 && !append && f->type != PROTOBUF_C_TYPE_BYTES &&
	    (f->type != PROTOBUF_C_TYPE_STRING || uw_field_is_guid(d, f))) {
		uw_field_clear(m, f);
		return 0;
	}
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		char g[33];
		if (uw_field_is_guid(d, f)) {
			if (uw_guid_normalize(text, len, g) != 0) {
				goto type_error;
			}
			text = g;
			len = 32;
		}
		v.s = malloc(len + 1);
		if (v.s == NULL) {
			goto oom;
		}
		memcpy(v.s, text, len);
		v.s[len] = '\0';
		break;
	}
	case PROTOBUF_C_TYPE_BOOL:
		if (ieq(text, len, "true") || ieq(text, len, "1")) {
			v.b = 1;
		} else if (ieq(text, len, "false") || ieq(text, len, "0")) {
			v.b = 0;
		} else {
			goto type_error;
		}
		break;
	case PROTOBUF_C_TYPE_ENUM:
		if (parse_enum(f->descriptor, text, len, &v.i32) != 0) {
			goto type_error;
		}
		break;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		nr = parse_int(text, len, false, INT32_MIN, INT32_MAX, &v);
		v.i32 = (int32_t)v.i64;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		nr = parse_int(text, len, false, 0, UINT32_MAX, &v);
		v.u32 = (uint32_t)v.i64;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		nr = parse_int(text, len, false, INT64_MIN, INT64_MAX, &v);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		nr = parse_int(text, len, true, 0, 0, &v);
		break;
	case PROTOBUF_C_TYPE_FLOAT: {
		double x = 0;
		nr = parse_double(text, len, &x);
		if (nr == NUM_OK && isfinite(x) &&
		    (x > 3.4028234663852886e38 || x < -3.4028234663852886e38)) {
			nr = NUM_RANGE;
		}
		v.f32 = (float)x;
		break;
	}
	case PROTOBUF_C_TYPE_DOUBLE:
		nr = parse_double(text, len, &v.f64);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		v.bin.data = malloc(uw_base64_decoded_max(len));
		if (v.bin.data == NULL) {
			goto oom;
		}
		if (uw_base64_decode(text, len, v.bin.data, &v.bin.len) != 0) {
			free(v.bin.data);
			goto type_error;
		}
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		goto type_error;
	}
	if (nr == NUM_SYNTAX) {
		goto type_error;
	}
	if (nr == NUM_RANGE) {
		uw_error_set(err, pascal, "Value out of range for '%s'", name);
		return -1;
	}
	if (!append && f->label == PROTOBUF_C_LABEL_REPEATED) {
		uw_field_clear(m, f);
	}
	return store(m, f, &v, err);

type_error:
	uw_error_set(err, pascal, "Expected a %s for '%s'", uw_field_noun(d, f),
		     name);
	return -1;
oom:
	uw_error_set(err, pascal, "Out of memory");
	return -1;
}

/* ------------------------------------------------------------------------
 * Public: messages and names
 */

ProtobufCMessage *
uw_msg_new(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m;

	if (d == NULL || d->sizeof_message < sizeof(ProtobufCMessage)) {
		return NULL;
	}
	m = malloc(d->sizeof_message);
	if (m != NULL) {
		d->message_init(m);
	}
	return m;
}

static bool
name_is(const char *cand, const char *name, size_t len)
{
	return cand != NULL && strlen(cand) == len &&
	       strncasecmp(cand, name, len) == 0;
}

const ProtobufCFieldDescriptor *
uw_field_by_name(const ProtobufCMessageDescriptor *d, const char *name,
		 size_t len)
{
	const up_message_info *mi;

	if (d == NULL || name == NULL) {
		return NULL;
	}
	(void)up_meta_load();
	mi = up_message_info_of(d);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (name_is(f->name, name, len)) {
			return f;
		}
		if (mi != NULL && i < mi->n_fields &&
		    (name_is(mi->fields[i].json_name, name, len) ||
		     name_is(mi->fields[i].pascal_name, name, len))) {
			return f;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------------
 * Text of a whole field: lists ("a,b", "[a,b]", quoted items) included
 */

/*
 * The next item of a JSV list body at *pos: an unquoted item runs to the
 * next comma; a quoted one ("a,b" with "" for ") is unquoted into *tmp.
 * Returns 0 with the item in (*item, *ilen), or -1 for a bad quote.
 */
static int
next_item(const char *s, size_t len, size_t *pos, const char **item,
	  size_t *ilen, char **tmp, bool *more)
{
	size_t i = *pos;

	if (i < len && s[i] == '"') {
		size_t j = i + 1, n = 0;
		char *q = realloc(*tmp, len - i + 1);
		if (q == NULL) {
			return -1;
		}
		*tmp = q;
		for (;;) {
			if (j >= len) {
				return -1;
			}
			if (s[j] == '"') {
				if (j + 1 < len && s[j + 1] == '"') {
					q[n++] = '"';
					j += 2;
					continue;
				}
				j++;
				break;
			}
			q[n++] = s[j++];
		}
		if (j < len && s[j] != ',') {
			return -1;
		}
		*item = q;
		*ilen = n;
		*more = j < len;
		*pos = j < len ? j + 1 : j;
		return 0;
	}
	{
		const char *c = memchr(s + i, ',', len - i);
		size_t end = c != NULL ? (size_t)(c - s) : len;
		*item = s + i;
		*ilen = end - i;
		*more = c != NULL;
		*pos = c != NULL ? end + 1 : len;
	}
	return 0;
}

/* Sets list field f (repeated scalar, or a list_wrapper message) from text.
 * With append, adds to the items already there. */
static int
set_list_text(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	      const char *s, size_t len, bool append, const uw_limits *lim,
	      uw_decode_error *err)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCFieldDescriptor *itf = f;
	ProtobufCMessage *target = m, *wrapper = NULL;
	char *tmp = NULL;
	size_t pos = 0, count;
	int rc = -1;

	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		ProtobufCMessage **cur = member(m, f->offset);
		itf = uw_list_wrapper_items(f->descriptor);
		if (append && *cur != NULL) {
			target = *cur;
		} else {
			wrapper = uw_msg_new(f->descriptor);
			if (wrapper == NULL) {
				uw_error_set(err, uw_field_pascal_name(d, f),
					     "Out of memory");
				goto out;
			}
			target = wrapper;
		}
	} else if (!append) {
		uw_field_clear(m, f);
	}
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	count = uw_field_count(target, itf);
	for (bool more = len > 0; more;) {
		const char *item;
		size_t ilen;
		if (count >= lim->max_items) {
			uw_error_limit(err, d, f, UW_LIMIT_ITEMS, lim);
			goto out;
		}
		if (next_item(s, len, &pos, &item, &ilen, &tmp, &more) != 0) {
			uw_error_set(err, uw_field_pascal_name(d, f),
				     "Expected a list for '%s'",
				     uw_field_json_name(d, f));
			goto out;
		}
		/* errors name the outer field, not StringList.items */
		if (uw_field_set_text_as(target, itf, item, ilen, true, lim, d,
					 f, err) != 0) {
			goto out;
		}
		count++;
	}
	if (wrapper != NULL) {
		rc = uw_field_put_message(m, f, wrapper, err);
		wrapper = NULL;
		goto out;
	}
	rc = 0;
out:
	if (wrapper != NULL) {
		protobuf_c_message_free_unpacked(wrapper, NULL);
	}
	free(tmp);
	return rc;
}

static bool
is_list_field(const ProtobufCFieldDescriptor *f)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		return f->type != PROTOBUF_C_TYPE_MESSAGE;
	}
	return f->type == PROTOBUF_C_TYPE_MESSAGE &&
	       uw_msg_is_list_wrapper(f->descriptor);
}

static int
set_field_text(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	       const char *value, size_t len, bool append, const uw_limits *lim,
	       uw_decode_error *err)
{
	if (is_list_field(f)) {
		return set_list_text(m, f, value, len, append, lim, err);
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		const ProtobufCMessageDescriptor *d = m->descriptor;
		uw_error_set(err, uw_field_pascal_name(d, f),
			     "'%s' cannot be given as text",
			     uw_field_json_name(d, f));
		return -1;
	}
	return uw_field_set_text(m, f, value, len, false, lim, err);
}

int
uw_msg_set_text(ProtobufCMessage *msg, const char *name, size_t name_len,
		const char *value, size_t value_len, uw_decode_error *err)
{
	const ProtobufCFieldDescriptor *f;
	uw_limits l = uw_limits_effective(NULL);

	if (msg == NULL || (value == NULL && value_len != 0)) {
		uw_error_set(err, "", "Invalid argument");
		return -1;
	}
	f = uw_field_by_name(msg->descriptor, name, name_len);
	if (f == NULL) {
		return 0;
	}
	return set_field_text(msg, f, value != NULL ? value : "", value_len,
			      false, &l, err);
}

/* ------------------------------------------------------------------------
 * Forms and query strings
 */

int
uw_msg_set_form(ProtobufCMessage *msg, const char *form, size_t len,
		bool only_unset, const uw_limits *lim, uw_decode_error *err)
{
	const ProtobufCMessageDescriptor *d;
	uw_limits l = uw_limits_effective(lim);
	unsigned char *state = NULL; /* per field: 1 preset, 2 set here */
	char *val = NULL;
	size_t pos = 0, pairs = 0;
	int rc = -1;

	if (msg == NULL || (form == NULL && len != 0)) {
		uw_error_set(err, "", "Invalid argument");
		return -1;
	}
	d = msg->descriptor;
	if (len > 0 && form[0] == '?') {
		pos = 1;
	}
	state = calloc(d->n_fields + 1, 1);
	if (state == NULL) {
		uw_error_set(err, "", "Out of memory");
		goto out;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		state[i] = uw_field_present(msg, &d->fields[i]) ? 1 : 0;
	}
	while (pos < len) {
		const char *p = form + pos, *amp, *eq;
		size_t plen, nlen, vlen, vraw;
		char name[FORM_NAME_MAX + 1];
		const ProtobufCFieldDescriptor *f;
		unsigned idx;
		bool append;

		amp = memchr(p, '&', len - pos);
		plen = amp != NULL ? (size_t)(amp - p) : len - pos;
		pos += plen + 1;
		if (plen == 0) {
			continue;
		}
		if (++pairs > l.max_items + d->n_fields) {
			uw_error_set(
			    err, "",
			    "Too many fields in the form (at most %zu)",
			    l.max_items + d->n_fields);
			goto out;
		}
		eq = memchr(p, '=', plen);
		nlen = eq != NULL ? (size_t)(eq - p) : plen;
		if (nlen > FORM_NAME_MAX) {
			continue; /* longer than any property name */
		}
		(void)uw_pct_decode(p, nlen, true, name, sizeof(name), &nlen);
		f = uw_field_by_name(d, name, nlen);
		if (f == NULL) {
			continue;
		}
		idx = (unsigned)(f - d->fields);
		if (only_unset && state[idx] == 1) {
			continue;
		}
		vraw = eq != NULL ? (size_t)(p + plen - (eq + 1)) : 0;
		free(val);
		val = malloc(vraw + 1);
		if (val == NULL) {
			uw_error_set(err, "", "Out of memory");
			goto out;
		}
		(void)uw_pct_decode(eq != NULL ? eq + 1 : p + plen, vraw, true,
				    val, vraw + 1, &vlen);
		/* a list named twice (roles=a&roles=b) gathers both */
		append = state[idx] == 2 && is_list_field(f);
		if (set_field_text(msg, f, val, vlen, append, &l, err) != 0) {
			goto out;
		}
		state[idx] = 2;
	}
	rc = 0;
out:
	free(val);
	free(state);
	return rc;
}
