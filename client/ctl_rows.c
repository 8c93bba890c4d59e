/*
 * ctl_rows.c - reading and writing the rows of usersctl import and export
 * (ctl_rows.h). Values go into messages by the codec's own rules
 * (uw_msg_set_text for a CSV cell, the JSON decoder for a JSON line), so
 * a cell or a key means what it means in a query string or a body.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl_rows.h"
#include "users_wire.h"

static void
set_err(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
}

ctl_rows_format
ctl_rows_guess(const char *name, int first_char)
{
	const char *dot = name != NULL ? strrchr(name, '.') : NULL;

	if (dot != NULL && strcasecmp(dot, ".csv") == 0) {
		return CTL_ROWS_CSV;
	}
	if (dot != NULL && (strcasecmp(dot, ".jsonl") == 0 ||
			    strcasecmp(dot, ".ndjson") == 0 ||
			    strcasecmp(dot, ".json") == 0)) {
		return CTL_ROWS_JSONL;
	}
	return first_char == '{' ? CTL_ROWS_JSONL : CTL_ROWS_CSV;
}

/* Appends ch to the row buffer: 0, or -1 past CTL_ROW_MAX. */
static int
put(ctl_rows *r, char ch)
{
	if (r->len + 1 >= CTL_ROW_MAX) {
		return -1;
	}
	r->buf[r->len++] = ch;
	return 0;
}

/*
 * Reads one CSV record into r->buf as cells separated by NUL bytes, each
 * led by 'q' (quoted) or 'u' (not): a cell's text cannot hold a NUL.
 * *cells: how many. 1, 0 at the end, -1 too long or malformed (the rest
 * of the record is skipped), -2 input failed.
 */
static int
csv_record(ctl_rows *r, size_t *cells, char *err, size_t errlen)
{
	bool quoted = false, in_quotes = false, any = false, bad = false;
	size_t cell_start = 0;
	int ch;

	r->len = 0;
	*cells = 0;
	if (put(r, 'u') != 0) {
		return -1;
	}
	for (;;) {
		ch = getc(r->in);
		if (ch == EOF) {
			if (ferror(r->in)) {
				set_err(err, errlen, "cannot read the input");
				return -2;
			}
			r->eof = true;
			if (!any) {
				return 0;
			}
			if (in_quotes) {
				set_err(err, errlen, "a quote is not closed");
				return -1;
			}
			break;
		}
		r->bytes++;
		any = true;
		if (in_quotes) {
			if (ch == '"') {
				int next = getc(r->in);
				if (next == '"') {
					r->bytes++;
					bad |= put(r, '"') != 0;
					continue;
				}
				if (next != EOF) {
					ungetc(next, r->in);
				}
				in_quotes = false;
				continue;
			}
			bad |= ch == '\0' || put(r, (char)ch) != 0;
			continue;
		}
		if (ch == '\n') {
			/* a line of nothing but white space is no record */
			if (*cells == 0 && r->len - cell_start <= 1 &&
			    !quoted) {
				r->len = 0;
				any = false;
				(void)put(r, 'u');
				continue;
			}
			break;
		}
		if (ch == '\r') {
			continue;
		}
		if (ch == ',') {
			bad |= put(r, '\0') != 0;
			(*cells)++;
			cell_start = r->len;
			quoted = false;
			bad |= put(r, 'u') != 0;
			continue;
		}
		if (ch == '"' && r->len == cell_start + 1 && !quoted) {
			quoted = in_quotes = true;
			r->buf[cell_start] = 'q';
			continue;
		}
		bad |= ch == '\0' || put(r, (char)ch) != 0;
	}
	if (bad || put(r, '\0') != 0) {
		set_err(err, errlen,
			"the row is longer than 65536 bytes or holds a NUL");
		return -1;
	}
	(*cells)++;
	return 1;
}

/* The i-th cell of the record in r->buf. */
static const char *
cell_at(const ctl_rows *r, size_t i, bool *quoted)
{
	const char *p = r->buf;

	while (i-- > 0) {
		p += strlen(p) + 1;
	}
	*quoted = p[0] == 'q';
	return p + 1;
}

int
ctl_rows_open(ctl_rows *r, FILE *in, ctl_rows_format format, char *err,
	      size_t errlen)
{
	size_t cells = 0;
	bool email = false;
	int rc;

	memset(r, 0, sizeof(*r));
	r->in = in;
	r->format = format;
	if ((r->buf = malloc(CTL_ROW_MAX)) == NULL) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	if (format == CTL_ROWS_JSONL) {
		return 0;
	}
	if ((rc = csv_record(r, &cells, err, errlen)) <= 0) {
		if (rc == 0) {
			set_err(err, errlen, "the file is empty (no header)");
		}
		return -1;
	}
	if (cells > CTL_ROW_COLUMNS) {
		set_err(err, errlen, "the header has more than 64 columns");
		return -1;
	}
	for (size_t i = 0; i < cells; i++) {
		bool q;
		const char *name = cell_at(r, i, &q);
		if ((r->header[i] = strdup(name)) == NULL) {
			set_err(err, errlen, "out of memory");
			return -1;
		}
		r->n_header++;
		email |= strcasecmp(name, "emailAddress") == 0;
	}
	if (!email) {
		set_err(err, errlen, "the header has no emailAddress column");
		return -1;
	}
	return 0;
}

/* The message of a CSV record in r->buf. */
static int
csv_row(ctl_rows *r, size_t cells, Users__V1__UserRecord *m, char *err,
	size_t errlen)
{
	uw_decode_error de;

	if (cells > r->n_header) {
		set_err(err, errlen, "more cells than the header has columns");
		return -1;
	}
	for (size_t i = 0; i < cells; i++) {
		bool quoted;
		const char *v = cell_at(r, i, &quoted);
		if (!quoted && v[0] == '\0') {
			continue; /* unset */
		}
		/* the writer's guard against spreadsheet formulas */
		if (quoted && v[0] == '\'' && v[1] != '\0' &&
		    strchr("=+-@", v[1]) != NULL) {
			v++;
		}
		if (uw_msg_set_text(&m->base, r->header[i],
				    strlen(r->header[i]), v, strlen(v),
				    &de) != 0) {
			set_err(err, errlen, de.message);
			return -1;
		}
	}
	return 0;
}

/* One line of JSON into r->buf: 1, 0 at the end, -1 too long, -2. */
static int
json_line(ctl_rows *r, char *err, size_t errlen)
{
	bool bad = false;
	int ch;

	r->len = 0;
	while ((ch = getc(r->in)) != EOF) {
		r->bytes++;
		if (ch == '\n') {
			break;
		}
		bad |= put(r, (char)ch) != 0;
	}
	if (ch == EOF) {
		if (ferror(r->in)) {
			set_err(err, errlen, "cannot read the input");
			return -2;
		}
		r->eof = true;
		if (r->len == 0 && !bad) {
			return 0;
		}
	}
	if (bad) {
		set_err(err, errlen, "the row is longer than 65536 bytes");
		return -1;
	}
	r->buf[r->len] = '\0';
	return 1;
}

static bool
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strchr(" \t\r", s[i]) == NULL) {
			return false;
		}
	}
	return true;
}

int
ctl_rows_next(ctl_rows *r, Users__V1__UserRecord **out, char *err,
	      size_t errlen)
{
	Users__V1__UserRecord *m;
	size_t cells = 0;
	int rc;

	*out = NULL;
	for (;;) {
		if (r->eof) {
			return 0;
		}
		rc = r->format == CTL_ROWS_CSV
			 ? csv_record(r, &cells, err, errlen)
			 : json_line(r, err, errlen);
		if (rc == 0 || rc == -2) {
			return rc;
		}
		if (rc == 1 && r->format == CTL_ROWS_JSONL &&
		    blank(r->buf, r->len)) {
			continue;
		}
		break;
	}
	r->row++;
	if (rc < 0) {
		return -1;
	}
	if ((m = malloc(sizeof(*m))) == NULL) {
		set_err(err, errlen, "out of memory");
		return -2;
	}
	users__v1__user_record__init(m);
	if (r->format == CTL_ROWS_CSV) {
		rc = csv_row(r, cells, m, err, errlen);
	} else {
		uw_decode_error de;
		rc = uw_codec_json.decode(&m->base, r->buf, r->len,
					  &uw_limits_default, &de);
		if (rc != 0) {
			set_err(err, errlen, de.message);
		}
	}
	if (rc != 0) {
		protobuf_c_message_free_unpacked(&m->base, NULL);
		return -1;
	}
	m->has_row = true;
	m->row = r->row;
	*out = m;
	return 1;
}

void
ctl_rows_fini(ctl_rows *r)
{
	for (size_t i = 0; i < r->n_header; i++) {
		free(r->header[i]);
	}
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------------------
 * Writing
 */

/* One CSV cell: NULL empty, else quoted when it must be (ctl_rows.h). */
static int
csv_cell(FILE *out, const char *s, bool first)
{
	bool guard, quote;

	if (!first && putc(',', out) == EOF) {
		return -1;
	}
	if (s == NULL) {
		return 0;
	}
	guard = s[0] != '\0' && strchr("=+-@", s[0]) != NULL;
	quote = guard || s[0] == '\0' || s[0] == '[' ||
		strpbrk(s, ",\"\r\n") != NULL;
	if (!quote) {
		return fputs(s, out) == EOF ? -1 : 0;
	}
	if (putc('"', out) == EOF || (guard && putc('\'', out) == EOF)) {
		return -1;
	}
	for (; *s != '\0'; s++) {
		if ((*s == '"' && putc('"', out) == EOF) ||
		    putc(*s, out) == EOF) {
			return -1;
		}
	}
	return putc('"', out) == EOF ? -1 : 0;
}

/* A list as one cell: "a,b" (none: empty). */
static int
csv_list(FILE *out, char *const *v, size_t n)
{
	size_t len = 1;
	char *s;
	int rc;

	if (n == 0) {
		return csv_cell(out, NULL, false);
	}
	for (size_t i = 0; i < n; i++) {
		len += strlen(v[i]) + 1;
	}
	if ((s = malloc(len)) == NULL) {
		return -1;
	}
	s[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i > 0) {
			strcat(s, ",");
		}
		strcat(s, v[i]);
	}
	rc = csv_cell(out, s, false);
	free(s);
	return rc;
}

int
ctl_rows_csv_header(FILE *out, bool hashes)
{
	return fprintf(out,
		       "emailAddress,firstName,lastName,phoneNumber,roles,"
		       "accountIds%s\n",
		       hashes ? ",passwordHash" : "") < 0
		   ? -1
		   : 0;
}

int
ctl_rows_csv_write(FILE *out, const Users__V1__UserRecord *m, bool hashes)
{
	if (csv_cell(out, m->email_address, true) != 0 ||
	    csv_cell(out, m->first_name, false) != 0 ||
	    csv_cell(out, m->last_name, false) != 0 ||
	    csv_cell(out, m->phone_number, false) != 0 ||
	    csv_list(out, m->roles, m->n_roles) != 0 ||
	    csv_list(out, m->account_ids, m->n_account_ids) != 0 ||
	    (hashes && csv_cell(out, m->password_hash, false) != 0)) {
		return -1;
	}
	return putc('\n', out) == EOF ? -1 : 0;
}

int
ctl_rows_json_write(FILE *out, const Users__V1__UserRecord *m)
{
	uw_buf b = {0};
	int rc = -1;

	if (uw_codec_json.encode(&m->base, &b) == 0 &&
	    fwrite(b.data, 1, b.len, out) == b.len && putc('\n', out) != EOF) {
		rc = 0;
	}
	uw_buf_fini(&b);
	return rc;
}
