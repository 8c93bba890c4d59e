/*
 * codec_csv.c - CSV (docs/wire-formats.md, section 6): RFC 4180, "\r\n"
 * after every row (the last one too), a header row of PascalCase property
 * names.
 *
 * Writing: a message is its header and one row, every field a column in
 * declared order. A list response - a message with a repeated message
 * field named "results" (ListUsersResponse, ListOrganizationsResponse) -
 * is the header of the item type and one row per item (none when the list
 * is empty); its other fields (total, skip) are not written. When its
 * responseStatus is set (an error answer) it is written as a single
 * message instead, so the status is not lost.
 * Cells: unset -> empty; the empty string -> "" (so the two read back
 * apart); booleans True/False; numbers, enums (names, or numbers for
 * enum_as_number), Guids (32 hex digits), bytes (base64) as text; lists,
 * maps and nested messages as JSV inside the cell ("[Admin,Manager]"). A
 * cell is quoted when it holds " , CR or LF or starts with [ or {; each "
 * is doubled. Ours: a text cell that starts with = + - @ (after any ')
 * is written quoted with one more ' in front (formula injection).
 * CSV is not an emitter of the walk (walk.h): it writes a table, whose
 * columns are every field of one type whether set or not and whose rows
 * may be a list's items, not a tree of present values. What is a tree,
 * the JSV inside a cell, comes from the walk (uw_jsv_encode_field).
 *
 * Reading a request body: the header's names match properties case-
 * insensitively (unknown ones are ignored), the first data row fills the
 * message and later rows are ignored. An empty unquoted cell leaves its
 * property unset; "" is the empty string. A quoted cell that starts with
 * ' followed by any ' and one of = + - @ loses its first ' (what the
 * writer added). Values are parsed like query-string values
 * (uw_msg_set_text: JSV-like, "[a,b]" or "a,b" fill a list, booleans any
 * case or 1/0); nested messages and maps as JSV. Ours: a body whose first
 * character is { is read as JSON, as the CSV request samples of seeds 000
 * and 003 show it (docs/wire-formats.md, section 13; no CSV header can
 * start with {).
 */
#include <stdlib.h>
#include <string.h>

#include "codec.h"

/* ------------------------------------------------------------------------
 * Encoding
 */

static int
put(uw_buf *out, const char *s, size_t n)
{
	return uw_buf_append(out, s, n);
}

/* s starts with = + - @, after any number of ' */
static bool
formula_start(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] == '\'') {
		i++;
	}
	return i < n &&
	       (s[i] == '=' || s[i] == '+' || s[i] == '-' || s[i] == '@');
}

/* One cell; text: a string value (formula-guarded, "" when empty). */
static int
put_cell(uw_buf *out, const char *s, size_t n, bool text)
{
	bool guard = text && formula_start(s, n);
	bool quote = guard || (text && n == 0) ||
		     (n > 0 && (s[0] == '[' || s[0] == '{'));

	for (size_t i = 0; i < n && !quote; i++) {
		quote =
		    s[i] == '"' || s[i] == ',' || s[i] == '\r' || s[i] == '\n';
	}
	if (!quote) {
		return uw_text_put(out, s, n, false);
	}
	if (put(out, "\"", 1) != 0 || (guard && put(out, "'", 1) != 0) ||
	    uw_text_put(out, s, n, true) != 0) {
		return -1;
	}
	return put(out, "\"", 1);
}

/* The cell of field f of m; tmp is scratch. */
static int
put_field(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	  const up_field_info *fi, uw_buf *out, uw_buf *tmp)
{
	const char *p = (const char *)m + f->offset;

	if (!uw_field_present(m, f)) {
		return 0;
	}
	tmp->len = 0;
	if (f->label != PROTOBUF_C_LABEL_REPEATED &&
	    f->type == PROTOBUF_C_TYPE_STRING) {
		const char *s = *(const char *const *)p;
		char g[33];
		if (fi != NULL && fi->guid &&
		    uw_guid_normalize(s, strlen(s), g) == 0) {
			s = g;
		}
		return put_cell(out, s, strlen(s), true);
	}
	if (f->label != PROTOBUF_C_LABEL_REPEATED &&
	    f->type == PROTOBUF_C_TYPE_BYTES) {
		const ProtobufCBinaryData *bd = (const ProtobufCBinaryData *)p;
		if (uw_base64_encode(tmp, bd->data, bd->len) != 0) {
			return -1;
		}
		return put_cell(out, tmp->data, tmp->len, true);
	}
	/* numbers, booleans, enums as JSV writes them; lists, maps and
	 * messages as JSV */
	if (uw_jsv_encode_field(m, f, fi, tmp) != 0) {
		return -1;
	}
	return put_cell(out, tmp->data, tmp->len, false);
}

static int
put_header(const ProtobufCMessageDescriptor *d, uw_buf *out)
{
	for (unsigned i = 0; i < d->n_fields; i++) {
		const char *name = uw_field_pascal_name(d, &d->fields[i]);
		if ((i > 0 && put(out, ",", 1) != 0) ||
		    put_cell(out, name, strlen(name), false) != 0) {
			return -1;
		}
	}
	return put(out, "\r\n", 2);
}

static int
put_row(const ProtobufCMessage *m, uw_buf *out, uw_buf *tmp)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const up_message_info *mi = up_message_info_of(d);

	for (unsigned i = 0; i < d->n_fields; i++) {
		const up_field_info *fi =
		    mi != NULL && i < mi->n_fields ? &mi->fields[i] : NULL;
		if ((i > 0 && put(out, ",", 1) != 0) ||
		    put_field(m, &d->fields[i], fi, out, tmp) != 0) {
			return -1;
		}
	}
	return put(out, "\r\n", 2);
}

/* The results field of a list response written as its rows, or NULL. */
static const ProtobufCFieldDescriptor *
list_results(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCFieldDescriptor *f, *rs;

	f = protobuf_c_message_descriptor_get_field_by_name(d, "results");
	if (f == NULL || f->label != PROTOBUF_C_LABEL_REPEATED ||
	    f->type != PROTOBUF_C_TYPE_MESSAGE || uw_field_is_map(f)) {
		return NULL;
	}
	rs = protobuf_c_message_descriptor_get_field_by_name(d,
							     "response_status");
	if (rs != NULL && uw_field_present(m, rs)) {
		return NULL; /* an error answer: the status is the content */
	}
	return f;
}

int
uw_csv_encode(const ProtobufCMessage *msg, uw_buf *out)
{
	const ProtobufCFieldDescriptor *results;
	size_t mark = out->len;
	uw_buf tmp = {.max = out->max};
	int rc = -1;

	(void)up_meta_load();
	if (msg == NULL) {
		goto out;
	}
	results = list_results(msg);
	if (results != NULL) {
		size_t n = uw_field_count(msg, results);
		const ProtobufCMessage *const *items = *(
		    const ProtobufCMessage *const *const *)((const char *)msg +
							    results->offset);
		if (put_header(results->descriptor, out) != 0) {
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (put_row(items[i], out, &tmp) != 0) {
				goto out;
			}
		}
	} else if (put_header(msg->descriptor, out) != 0 ||
		   put_row(msg, out, &tmp) != 0) {
		goto out;
	}
	rc = 0;
out:
	uw_buf_fini(&tmp);
	if (rc != 0) {
		out->len = mark;
		if (out->data != NULL) {
			out->data[mark] = '\0';
		}
	}
	return rc;
}

/* ------------------------------------------------------------------------
 * Decoding
 */

typedef struct csv {
	const char *s;
	size_t len;
	size_t pos;
	char *buf; /* unquoted cells (room for the whole body) */
} csv;

typedef struct cell {
	const char *p;
	size_t n;
	bool quoted;
} cell;

/*
 * The cell at pos. Returns 1 when another cell follows on the row, 0 at
 * the end of the row (consumed) or of the body, -1 for a bad quote.
 */
static int
next_cell(csv *c, cell *out, uw_decode_error *err)
{
	size_t i = c->pos;

	out->quoted = false;
	if (i < c->len && c->s[i] == '"') {
		size_t n = 0;
		out->quoted = true;
		for (i++;; i++) {
			if (i >= c->len) {
				uw_error_set(err, "",
					     "Invalid CSV: unterminated quoted "
					     "cell at offset %zu",
					     c->pos);
				return -1;
			}
			if (c->s[i] == '"') {
				if (i + 1 < c->len && c->s[i + 1] == '"') {
					i++;
				} else {
					i++;
					break;
				}
			}
			c->buf[n++] = c->s[i];
		}
		out->p = c->buf;
		out->n = n;
		if (i < c->len && c->s[i] != ',' && c->s[i] != '\r' &&
		    c->s[i] != '\n') {
			uw_error_set(err, "",
				     "Invalid CSV: text after a quoted cell at "
				     "offset %zu",
				     i);
			return -1;
		}
	} else {
		size_t start = i;
		while (i < c->len && c->s[i] != ',' && c->s[i] != '\r' &&
		       c->s[i] != '\n') {
			i++;
		}
		out->p = c->s + start;
		out->n = i - start;
	}
	if (i < c->len && c->s[i] == ',') {
		c->pos = i + 1;
		return 1;
	}
	if (i < c->len && c->s[i] == '\r') {
		i++;
	}
	if (i < c->len && c->s[i] == '\n') {
		i++;
	}
	c->pos = i;
	return 0;
}

/* The number of items f holds (a list_wrapper's items), for the limits. */
static size_t
list_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		return uw_field_count(m, f);
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE && uw_field_present(m, f)) {
		const ProtobufCMessage *sub =
		    *(const ProtobufCMessage *const *)((const char *)m +
						       f->offset);
		return uw_field_count(sub,
				      uw_list_wrapper_items(sub->descriptor));
	}
	return 0;
}

/* Sets field f of m from one data cell. */
static int
set_cell(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, cell v,
	 const uw_limits *lim, uw_decode_error *err)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *name = uw_field_json_name(d, f);
	bool wrapper = f->label != PROTOBUF_C_LABEL_REPEATED &&
		       f->type == PROTOBUF_C_TYPE_MESSAGE &&
		       uw_msg_is_list_wrapper(f->descriptor);

	if (!v.quoted && v.n == 0) {
		return 0; /* unset */
	}
	if (v.quoted && v.n > 1 && v.p[0] == '\'' &&
	    formula_start(v.p + 1, v.n - 1)) {
		v.p++; /* the writer's formula guard */
		v.n--;
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE && !wrapper) {
		/* nested messages, lists of them, maps: JSV */
		return uw_jsv_decode_field(m, f, v.p, v.n, lim, err);
	}
	if (f->label != PROTOBUF_C_LABEL_REPEATED && !wrapper &&
	    v.n > lim->max_string) {
		return uw_error_limit(err, d, f, UW_LIMIT_STRING, lim);
	}
	if (uw_msg_set_text(m, name, strlen(name), v.p, v.n, err) != 0) {
		return -1;
	}
	/* uw_msg_set_text applies the default limits; lim may be tighter */
	if (list_count(m, f) > lim->max_items) {
		return uw_error_limit(err, d, f, UW_LIMIT_ITEMS, lim);
	}
	if (f->type == PROTOBUF_C_TYPE_STRING &&
	    f->label == PROTOBUF_C_LABEL_REPEATED) {
		char *const *items =
		    *(char *const *const *)((const char *)m + f->offset);
		for (size_t i = 0; i < uw_field_count(m, f); i++) {
			if (strlen(items[i]) > lim->max_string) {
				return uw_error_limit(err, d, f,
						      UW_LIMIT_STRING, lim);
			}
		}
	}
	return 0;
}

int
uw_csv_decode(ProtobufCMessage *msg, const char *body, size_t len,
	      const uw_limits *lim, uw_decode_error *err)
{
	uw_limits l = uw_limits_effective(lim);
	csv c = {.s = body, .len = len};
	const ProtobufCFieldDescriptor **cols = NULL;
	size_t ncols = 0, max_cols, col = 0, i;
	cell v;
	int more, rc = -1;

	if (msg == NULL || (body == NULL && len != 0)) {
		uw_error_set(err, "", "Invalid argument");
		return -1;
	}
	(void)up_meta_load();
	if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) {
		c.pos = 3; /* a byte order mark */
	}
	for (i = c.pos; i < len && (body[i] == ' ' || body[i] == '\t' ||
				    body[i] == '\r' || body[i] == '\n');
	     i++) {
	}
	if (i == len) {
		return 0; /* no body: nothing to set */
	}
	if (body[i] == '{') {
		return uw_json_decode(msg, body + i, len - i, lim, err);
	}
	max_cols = l.max_items + msg->descriptor->n_fields;
	c.buf = malloc(len + 1);
	cols = calloc(max_cols, sizeof(*cols));
	if (c.buf == NULL || cols == NULL) {
		uw_error_set(err, "", "Out of memory");
		goto out;
	}
	/* the header */
	do {
		if (ncols == max_cols) {
			uw_error_set(err, "", "Too many columns (at most %zu)",
				     max_cols);
			goto out;
		}
		if ((more = next_cell(&c, &v, err)) < 0) {
			goto out;
		}
		while (v.n > 0 && (v.p[0] == ' ' || v.p[0] == '\t')) {
			v.p++;
			v.n--;
		}
		while (v.n > 0 &&
		       (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '\t')) {
			v.n--;
		}
		cols[ncols++] = uw_field_by_name(msg->descriptor, v.p, v.n);
	} while (more == 1);
	/* the first data row */
	if (c.pos < len) {
		do {
			if ((more = next_cell(&c, &v, err)) < 0) {
				goto out;
			}
			if (col < ncols && cols[col] != NULL &&
			    set_cell(msg, cols[col], v, &l, err) != 0) {
				goto out;
			}
			col++;
		} while (more == 1);
	}
	rc = 0;
out:
	free(cols);
	free(c.buf);
	return rc;
}
