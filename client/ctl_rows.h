/*
 * ctl_rows.h - the rows of usersctl import and export: CSV with a header
 * row, or JSON lines, one UserRecord (users.proto) each, under the API's
 * camelCase names (emailAddress, firstName, lastName, phoneNumber, roles,
 * accountIds, passwordHash; any letter case). Internal to usersctl (and
 * its unit tests); reads and writes only the FILE it is given.
 *
 * Rows are numbered from 1: the data rows of a CSV file (the header is
 * not counted), the lines of a JSON lines file that are not blank. An
 * import's refusals and --resume-from use these numbers.
 *
 * CSV (RFC 4180): cells quoted with " when they hold a comma, a quote or
 * a line break; an empty unquoted cell leaves its column unset; a list
 * (roles, accountIds) is one cell, "a,b" or "[a,b]". Written cells that
 * start with = + - @ get a ' in front inside quotes (a spreadsheet never
 * runs them), which the reader strips again.
 */
#ifndef CTL_ROWS_H
#define CTL_ROWS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "users_proto.h"

#define CTL_ROW_MAX     65536 /* bytes of one row */
#define CTL_ROW_COLUMNS 64    /* columns of a CSV header */

typedef enum ctl_rows_format { CTL_ROWS_CSV, CTL_ROWS_JSONL } ctl_rows_format;

typedef struct ctl_rows {
	FILE *in; /* borrowed */
	ctl_rows_format format;
	char *header[CTL_ROW_COLUMNS]; /* CSV: owned column names */
	size_t n_header;
	int64_t row;    /* the number of the last row read */
	uint64_t bytes; /* read so far */
	char *buf;      /* one row */
	size_t len;
	bool eof;
} ctl_rows;

/*
 * The format of a file by its name (.csv; .jsonl, .ndjson, .json), else
 * by its first character that is not white space ('{': JSON lines).
 */
ctl_rows_format ctl_rows_guess(const char *name, int first_char);

/*
 * Starts reading in (a CSV file's header is read now: it must name
 * emailAddress). 0, or -1 with err.
 */
int ctl_rows_open(ctl_rows *r, FILE *in, ctl_rows_format format, char *err,
		  size_t errlen);
/*
 * The next row: 1 with *out (a new message the caller frees with
 * protobuf_c_message_free_unpacked; its row set), 0 at the end, -1 when
 * row r->row cannot be read (err says why; the next call goes on after
 * it), -2 when the input failed.
 */
int ctl_rows_next(ctl_rows *r, Users__V1__UserRecord **out, char *err,
		  size_t errlen);
void ctl_rows_fini(ctl_rows *r);

/* CSV output: the header, then one row per record. 0 or -1. */
int ctl_rows_csv_header(FILE *out, bool hashes);
int ctl_rows_csv_write(FILE *out, const Users__V1__UserRecord *m, bool hashes);
/* A JSON line of m (the API's JSON). 0 or -1. */
int ctl_rows_json_write(FILE *out, const Users__V1__UserRecord *m);

#endif
