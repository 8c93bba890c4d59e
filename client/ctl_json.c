/*
 * ctl_json.c - any message of the contract as the REST API's JSON, by
 * walking protobuf-c descriptors (one function for every message), and
 * JSON as readable text.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_json.h"

#define CELL_MAX  256 /* a table cell's text, truncated beyond */
#define NAME_MAX_ 128 /* a fallback json name */

/* ------------------------------------------------------------------------
 * Descriptor walking
 */

static size_t
elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
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

/* proto3-style presence (label NONE): set when not the zero value. */
static bool
nonzero(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)p;
		return s != NULL && s[0] != '\0';
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(const void *const *)p != NULL;
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len > 0;
	default: {
		static const uint8_t zero[8];
		return memcmp(p, zero, elem_size(f->type)) != 0;
	}
	}
}

/*
 * How many values the field holds in m: 0 when unset, 1 for a set
 * singular field, the length of a repeated one. *member: its storage (the
 * array for repeated fields).
 */
static size_t
field_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	    const void **member)
{
	const char *base = (const char *)m;
	const void *p = base + f->offset;

	*member = p;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		*member = *(const void *const *)p;
		return *(const size_t *)(base + f->quantifier_offset);
	}
	if (f->label == PROTOBUF_C_LABEL_REQUIRED) {
		return 1;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		return *(const uint32_t *)(base + f->quantifier_offset) ==
		       f->id;
	}
	if (f->label == PROTOBUF_C_LABEL_NONE) {
		return nonzero(f, p);
	}
	/* proto2 optional: pointers are NULL when absent, scalars have has_ */
	if (f->type == PROTOBUF_C_TYPE_STRING ||
	    f->type == PROTOBUF_C_TYPE_MESSAGE) {
		return *(const void *const *)p != NULL;
	}
	return *(const protobuf_c_boolean *)(base + f->quantifier_offset) != 0;
}

static bool
is_map_entry(const ProtobufCMessageDescriptor *d)
{
	size_t n = strlen(d->short_name);

	return d->n_fields == 2 && n > 5 &&
	       strcmp(d->short_name + n - 5, "Entry") == 0 &&
	       d->fields[0].id == 1 && strcmp(d->fields[0].name, "key") == 0 &&
	       d->fields[1].id == 2 && strcmp(d->fields[1].name, "value") == 0;
}

/* The field's JSON name: the contract's json_name, else lowerCamel. */
static const char *
json_name(const ProtobufCMessageDescriptor *d,
	  const ProtobufCFieldDescriptor *f, char *buf, size_t size)
{
	const up_field_info *fi = up_field_info_of(d, f);
	size_t o = 0;
	bool up = false;

	if (fi != NULL && fi->json_name != NULL) {
		return fi->json_name;
	}
	for (const char *s = f->name; *s != '\0' && o + 1 < size; s++) {
		if (*s == '_') {
			up = true;
			continue;
		}
		buf[o++] =
		    (up && *s >= 'a' && *s <= 'z') ? (char)(*s - 32) : *s;
		up = false;
	}
	buf[o] = '\0';
	return buf;
}

static json_t *
base64_json(const ProtobufCBinaryData *b)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/";
	size_t n = 4 * ((b->len + 2) / 3);
	char *out = malloc(n + 1);
	size_t o = 0;
	json_t *j;

	if (out == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < b->len; i += 3) {
		uint32_t v = (uint32_t)b->data[i] << 16;
		size_t left = b->len - i;
		if (left > 1) {
			v |= (uint32_t)b->data[i + 1] << 8;
		}
		if (left > 2) {
			v |= b->data[i + 2];
		}
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = left > 1 ? tab[(v >> 6) & 63] : '=';
		out[o++] = left > 2 ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	j = json_stringn(out, o);
	free(out);
	return j;
}

static json_t *message_json(const ProtobufCMessage *m, int depth);

/* One value of field f stored at p. */
static json_t *
value_json(const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return json_integer(*(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_integer(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return json_integer(*(const int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: {
		uint64_t v = *(const uint64_t *)p;
		char buf[24];
		if (v <= INT64_MAX) {
			return json_integer((json_int_t)v);
		}
		snprintf(buf, sizeof(buf), "%" PRIu64, v);
		return json_string(buf);
	}
	case PROTOBUF_C_TYPE_FLOAT:
		return json_real(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return json_real(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = f->descriptor;
		int v = *(const int *)p;
		const ProtobufCEnumValue *ev;
		if (up_enum_as_number(ed)) {
			return json_integer(v);
		}
		ev = protobuf_c_enum_descriptor_get_value(ed, v);
		return ev != NULL ? json_string(ev->name) : json_integer(v);
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)p;
		return s != NULL ? json_string(s) : json_null();
	}
	case PROTOBUF_C_TYPE_BYTES:
		return base64_json(p);
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(const ProtobufCMessage *const *)p;
		return m != NULL ? message_json(m, depth + 1) : json_null();
	}
	}
	return NULL;
}

/* A repeated field of map entries as an object. */
static json_t *
map_json(const ProtobufCMessage *const *entries, size_t n, int depth)
{
	json_t *obj = json_object();

	for (size_t i = 0; obj != NULL && i < n; i++) {
		const ProtobufCMessageDescriptor *d = entries[i]->descriptor;
		const ProtobufCFieldDescriptor *kf = &d->fields[0];
		const ProtobufCFieldDescriptor *vf = &d->fields[1];
		const char *base = (const char *)entries[i];
		json_t *k = value_json(kf, base + kf->offset, depth);
		json_t *v = value_json(vf, base + vf->offset, depth);
		char kb[32];
		const char *key = kb;

		if (json_is_string(k)) {
			key = json_string_value(k);
		} else if (json_is_integer(k)) {
			snprintf(kb, sizeof(kb), "%" JSON_INTEGER_FORMAT,
				 json_integer_value(k));
		} else if (json_is_boolean(k)) {
			key = json_is_true(k) ? "true" : "false";
		} else {
			key = NULL;
		}
		if (key == NULL || v == NULL ||
		    json_object_set_new(obj, key, v) != 0) {
			json_decref(obj);
			obj = NULL;
			v = NULL; /* set_new consumed it on failure too */
		}
		json_decref(k);
	}
	return obj;
}

static json_t *
field_json(const ProtobufCFieldDescriptor *f, const void *member, size_t n,
	   int depth)
{
	const char *arr = member;
	size_t sz = elem_size(f->type);
	json_t *a;

	if (f->label != PROTOBUF_C_LABEL_REPEATED) {
		return value_json(f, member, depth);
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(f->descriptor)) {
		return map_json(member, n, depth + 1);
	}
	a = json_array();
	for (size_t i = 0; a != NULL && i < n; i++) {
		if (json_array_append_new(
			a, value_json(f, arr + i * sz, depth)) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	return a;
}

static json_t *
message_json(const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const up_message_info *mi = up_message_info_of(d);
	json_t *obj;

	if (depth > CTL_JSON_MAX_DEPTH) {
		return NULL;
	}
	if (mi != NULL && mi->list_wrapper && d->n_fields == 1 &&
	    d->fields[0].label == PROTOBUF_C_LABEL_REPEATED) {
		const void *member;
		size_t n = field_count(m, &d->fields[0], &member);
		return field_json(&d->fields[0], member, n, depth);
	}
	obj = json_object();
	for (unsigned i = 0; obj != NULL && i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char buf[NAME_MAX_];
		const void *member;
		size_t n = field_count(m, f, &member);

		if (n == 0) {
			continue;
		}
		if (json_object_set_new(obj, json_name(d, f, buf, sizeof(buf)),
					field_json(f, member, n, depth)) != 0) {
			json_decref(obj);
			obj = NULL;
		}
	}
	return obj;
}

json_t *
ctl_json_of_message(const ProtobufCMessage *msg)
{
	if (msg == NULL) {
		return NULL;
	}
	return message_json(msg, 0);
}

/* ------------------------------------------------------------------------
 * Text (plain loops: jansson's foreach macros confuse clang-format)
 */

static bool
is_scalar(const json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

static bool
is_scalar_list(const json_t *v)
{
	if (!json_is_array(v)) {
		return false;
	}
	for (size_t i = 0; i < json_array_size(v); i++) {
		if (!is_scalar(json_array_get(v, i))) {
			return false;
		}
	}
	return true;
}

/* An object whose values are scalars or lists of scalars. */
static bool
is_flat(const json_t *v)
{
	if (!json_is_object(v)) {
		return false;
	}
	for (void *it = json_object_iter((json_t *)v); it != NULL;
	     it = json_object_iter_next((json_t *)v, it)) {
		const json_t *e = json_object_iter_value(it);
		if (!is_scalar(e) && !is_scalar_list(e)) {
			return false;
		}
	}
	return true;
}

/* A scalar as text into buf. */
static void
scalar_text(const json_t *v, char *buf, size_t size)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		snprintf(buf, size, "%s", json_string_value(v));
		break;
	case JSON_INTEGER:
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, size, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, size, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, size, "false");
		break;
	default:
		snprintf(buf, size, "null");
		break;
	}
}

/* Scalar or list of scalars (comma-joined) as text; "..." when cut. */
static const char *
cell(const json_t *v, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	if (v == NULL) {
		return buf;
	}
	if (!json_is_array(v)) {
		scalar_text(v, buf, size);
		return buf;
	}
	for (size_t i = 0; i < json_array_size(v); i++) {
		char one[CELL_MAX];
		int n;

		scalar_text(json_array_get(v, i), one, sizeof(one));
		n = snprintf(buf + o, size - o, "%s%s", i ? "," : "", one);
		if (n < 0 || (size_t)n >= size - o) {
			if (size > 4) {
				memcpy(buf + size - 4, "...", 4);
			}
			break;
		}
		o += (size_t)n;
	}
	return buf;
}

/* Columns of a table: key -> width, keys of all rows in first-seen order. */
static json_t *
table_columns(const json_t *rows)
{
	json_t *cols = json_object();
	char buf[CELL_MAX];

	for (size_t i = 0; cols != NULL && i < json_array_size(rows); i++) {
		json_t *row = json_array_get(rows, i);
		for (void *it = json_object_iter(row); it != NULL;
		     it = json_object_iter_next(row, it)) {
			const char *k = json_object_iter_key(it);
			size_t w = strlen(
			    cell(json_object_iter_value(it), buf, sizeof(buf)));
			json_t *cw = json_object_get(cols, k);
			size_t have =
			    cw ? (size_t)json_integer_value(cw) : strlen(k);

			if (cw == NULL || w > have) {
				json_object_set_new(
				    cols, k,
				    json_integer(
					(json_int_t)(w > have ? w : have)));
			}
		}
	}
	return cols;
}

/* One table line: the header (row NULL) or a row; no trailing blanks. */
static void
print_row(FILE *out, json_t *cols, const json_t *row, int indent)
{
	char buf[CELL_MAX];
	size_t pending = (size_t)indent; /* blanks owed before the next text */

	for (void *it = json_object_iter(cols); it != NULL;
	     it = json_object_iter_next(cols, it)) {
		const char *k = json_object_iter_key(it);
		size_t w =
		    (size_t)json_integer_value(json_object_iter_value(it));
		const char *text = row != NULL ? cell(json_object_get(row, k),
						      buf, sizeof(buf))
					       : k;
		size_t n = strlen(text);

		if (n > 0) {
			fprintf(out, "%*s%s", (int)pending, "", text);
			pending = 0;
		}
		pending += (w > n ? w - n : 0) + 2;
	}
	fputc('\n', out);
}

static int
print_table(FILE *out, const json_t *rows, int indent)
{
	json_t *cols = table_columns(rows);

	if (cols == NULL) {
		return -1;
	}
	print_row(out, cols, NULL, indent);
	for (size_t i = 0; i < json_array_size(rows); i++) {
		print_row(out, cols, json_array_get(rows, i), indent);
	}
	json_decref(cols);
	return 0;
}

static void print_object(FILE *out, const json_t *obj, int indent);

static void
print_member(FILE *out, const char *key, const json_t *v, int indent)
{
	char buf[CELL_MAX];
	bool flat = true;

	if (is_scalar(v) || is_scalar_list(v)) {
		fprintf(out, "%*s%s: %s\n", indent, "", key,
			cell(v, buf, sizeof(buf)));
		return;
	}
	fprintf(out, "%*s%s:\n", indent, "", key);
	if (json_is_object(v)) {
		print_object(out, v, indent + 2);
		return;
	}
	/* A list of objects: a table when they are flat. */
	for (size_t i = 0; i < json_array_size(v); i++) {
		flat = flat && is_flat(json_array_get(v, i));
	}
	if (flat) {
		print_table(out, v, indent + 2);
		return;
	}
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *e = json_array_get(v, i);
		fprintf(out, "%*s- [%zu]\n", indent + 2, "", i);
		if (json_is_object(e)) {
			print_object(out, e, indent + 4);
		} else {
			print_member(out, "value", e, indent + 4);
		}
	}
}

static void
print_object(FILE *out, const json_t *obj, int indent)
{
	for (void *it = json_object_iter((json_t *)obj); it != NULL;
	     it = json_object_iter_next((json_t *)obj, it)) {
		print_member(out, json_object_iter_key(it),
			     json_object_iter_value(it), indent);
	}
}

int
ctl_print_text(FILE *out, const json_t *v)
{
	char buf[CELL_MAX];

	if (json_is_object(v)) {
		print_object(out, v, 0);
	} else if (is_scalar(v) || is_scalar_list(v)) {
		fprintf(out, "%s\n", cell(v, buf, sizeof(buf)));
	} else if (v != NULL) {
		print_member(out, "items", v, 0);
	}
	return ferror(out) ? -1 : 0;
}
