/*
 * ctl_json.c - usersctl's answers: the JSON the REST API sends (the codec
 * library's encoder, byte for byte what usersgw writes), and that JSON as
 * readable text.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_json.h"

#define CELL_MAX 256  /* a table cell's text, truncated beyond */
#define WIDE_MAX 4096 /* the same with -o wide */

/* ------------------------------------------------------------------------
 * The answer
 */

static int print_text(FILE *out, const json_t *v, size_t limit);

/* Clears field name of msg, wiping a string first (tokens). */
static void
hide_field(ProtobufCMessage *msg, const char *name)
{
	const ProtobufCFieldDescriptor *f =
	    uw_field_by_name(msg->descriptor, name, strlen(name));

	if (f == NULL) {
		return;
	}
	if (f->type == PROTOBUF_C_TYPE_STRING &&
	    f->label != PROTOBUF_C_LABEL_REPEATED && uw_field_present(msg, f)) {
		char *s = *(char **)((char *)msg + f->offset);
		up_wipe(s, strlen(s));
	}
	uw_field_clear(msg, f);
}

int
ctl_print_message(FILE *out, ProtobufCMessage *msg, int output,
		  const char *const *hide)
{
	uw_buf b = {0};
	json_t *j = NULL;
	int rc = -1;

	if (msg == NULL) {
		return -1;
	}
	for (size_t i = 0; hide != NULL && hide[i] != NULL; i++) {
		hide_field(msg, hide[i]);
	}
	if (uw_codec_json.encode(msg, &b) != 0) {
		goto out;
	}
	if (output == CTL_OUT_JSON) {
		rc = fwrite(b.data, 1, b.len, out) == b.len &&
			     fputc('\n', out) != EOF
			 ? 0
			 : -1;
		goto out;
	}
	j = json_loadb(b.data, b.len, 0, NULL);
	if (j != NULL) {
		rc = output == CTL_OUT_YAML   ? ctl_print_yaml(out, j)
		     : output == CTL_OUT_WIDE ? print_text(out, j, WIDE_MAX)
					      : print_text(out, j, CELL_MAX);
	}
out:
	json_decref(j);
	uw_buf_fini(&b);
	return rc;
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

/* A list without items: the wire writes every list, [] when empty; the
 * text leaves those out. */
static bool
is_empty_list(const json_t *v)
{
	return json_is_array(v) && json_array_size(v) == 0;
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
table_columns(const json_t *rows, size_t limit)
{
	json_t *cols = json_object();
	char buf[WIDE_MAX];

	for (size_t i = 0; cols != NULL && i < json_array_size(rows); i++) {
		json_t *row = json_array_get(rows, i);
		for (void *it = json_object_iter(row); it != NULL;
		     it = json_object_iter_next(row, it)) {
			const char *k = json_object_iter_key(it);
			const json_t *v = json_object_iter_value(it);
			size_t w;

			if (is_empty_list(v)) {
				continue;
			}
			w = strlen(cell(v, buf, limit));
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
print_row(FILE *out, json_t *cols, const json_t *row, int indent, size_t limit)
{
	char buf[WIDE_MAX];
	size_t pending = (size_t)indent; /* blanks owed before the next text */

	for (void *it = json_object_iter(cols); it != NULL;
	     it = json_object_iter_next(cols, it)) {
		const char *k = json_object_iter_key(it);
		size_t w =
		    (size_t)json_integer_value(json_object_iter_value(it));
		const char *text =
		    row != NULL ? cell(json_object_get(row, k), buf, limit) : k;
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
print_table(FILE *out, const json_t *rows, int indent, size_t limit)
{
	json_t *cols = table_columns(rows, limit);

	if (cols == NULL) {
		return -1;
	}
	print_row(out, cols, NULL, indent, limit);
	for (size_t i = 0; i < json_array_size(rows); i++) {
		print_row(out, cols, json_array_get(rows, i), indent, limit);
	}
	json_decref(cols);
	return 0;
}

static void print_object(FILE *out, const json_t *obj, int indent,
			 size_t limit);

static void
print_member(FILE *out, const char *key, const json_t *v, int indent,
	     size_t limit)
{
	char buf[WIDE_MAX];
	bool flat = true;

	if (is_scalar(v) || is_scalar_list(v)) {
		fprintf(out, "%*s%s: %s\n", indent, "", key,
			cell(v, buf, limit));
		return;
	}
	fprintf(out, "%*s%s:\n", indent, "", key);
	if (json_is_object(v)) {
		print_object(out, v, indent + 2, limit);
		return;
	}
	/* A list of objects: a table when they are flat. */
	for (size_t i = 0; i < json_array_size(v); i++) {
		flat = flat && is_flat(json_array_get(v, i));
	}
	if (flat) {
		print_table(out, v, indent + 2, limit);
		return;
	}
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *e = json_array_get(v, i);
		fprintf(out, "%*s- [%zu]\n", indent + 2, "", i);
		if (json_is_object(e)) {
			print_object(out, e, indent + 4, limit);
		} else {
			print_member(out, "value", e, indent + 4, limit);
		}
	}
}

static void
print_object(FILE *out, const json_t *obj, int indent, size_t limit)
{
	for (void *it = json_object_iter((json_t *)obj); it != NULL;
	     it = json_object_iter_next((json_t *)obj, it)) {
		if (!is_empty_list(json_object_iter_value(it))) {
			print_member(out, json_object_iter_key(it),
				     json_object_iter_value(it), indent, limit);
		}
	}
}

/* The text view, cells cut at limit bytes. */
static int
print_text(FILE *out, const json_t *v, size_t limit)
{
	char buf[WIDE_MAX];

	if (json_is_object(v)) {
		print_object(out, v, 0, limit);
	} else if (is_scalar(v) || is_scalar_list(v)) {
		fprintf(out, "%s\n", cell(v, buf, limit));
	} else if (v != NULL) {
		print_member(out, "items", v, 0, limit);
	}
	return ferror(out) ? -1 : 0;
}

int
ctl_print_text(FILE *out, const json_t *v)
{
	return print_text(out, v, CELL_MAX);
}

/* ------------------------------------------------------------------------
 * YAML: block style, every string double-quoted (JSON's escapes are
 * YAML's), lists of objects as "- key: value" items.
 */

static void yaml_value(FILE *out, const json_t *v, int indent);

static void
yaml_scalar(FILE *out, const json_t *v)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY);

	fputs(s != NULL ? s : "null", out);
	free(s);
}

/* The members of obj at indent; the first one's indent already written
 * when first_inline (a list item's "- "). */
static void
yaml_object(FILE *out, const json_t *obj, int indent, bool first_inline)
{
	bool first = true;

	for (void *it = json_object_iter((json_t *)obj); it != NULL;
	     it = json_object_iter_next((json_t *)obj, it)) {
		const json_t *v = json_object_iter_value(it);
		json_t *k = json_string(json_object_iter_key(it));
		char *key = k != NULL ? json_dumps(k, JSON_ENCODE_ANY) : NULL;

		json_decref(k);

		if (!(first && first_inline)) {
			fprintf(out, "%*s", indent, "");
		}
		first = false;
		fprintf(out, "%s:", key != NULL ? key : "\"\"");
		free(key);
		if (json_is_object(v) && json_object_size(v) > 0) {
			fputc('\n', out);
			yaml_object(out, v, indent + 2, false);
		} else if (json_is_array(v) && json_array_size(v) > 0) {
			fputc('\n', out);
			yaml_value(out, v, indent);
		} else {
			fputc(' ', out);
			yaml_value(out, v, indent);
		}
	}
	if (first) {
		fprintf(out, "%*s{}\n", first_inline ? 0 : indent, "");
	}
}

static void
yaml_value(FILE *out, const json_t *v, int indent)
{
	if (json_is_object(v)) {
		if (json_object_size(v) == 0) {
			fputs("{}\n", out);
		} else {
			yaml_object(out, v, indent, false);
		}
		return;
	}
	if (!json_is_array(v)) {
		yaml_scalar(out, v);
		fputc('\n', out);
		return;
	}
	if (json_array_size(v) == 0) {
		fputs("[]\n", out);
		return;
	}
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *e = json_array_get(v, i);

		fprintf(out, "%*s- ", indent, "");
		if (json_is_object(e) && json_object_size(e) > 0) {
			yaml_object(out, e, indent + 2, true);
		} else if (json_is_array(e) && json_array_size(e) > 0) {
			fputc('\n', out);
			yaml_value(out, e, indent + 2);
		} else {
			yaml_value(out, e, indent + 2);
		}
	}
}

int
ctl_print_yaml(FILE *out, const json_t *v)
{
	fputs("---\n", out);
	yaml_value(out, v, 0);
	return ferror(out) ? -1 : 0;
}
