/*
 * status.c - the one status list: names, HTTP statuses, ServiceStack
 * errorCodes and default messages, all from UP_STATUS_TABLE.
 */
#include "users_proto.h"

struct status_row {
	const char *name;
	int http;
	const char *error_code;
	const char *message;
};

static const struct status_row rows[] = {
#define UP_STATUS_ROW(name, code, http, ec, msg)                               \
	[code] = {#name, http, ec, msg},
    UP_STATUS_TABLE(UP_STATUS_ROW)
#undef UP_STATUS_ROW
};

static const struct status_row *
row(int code)
{
	if (code < 0 || (size_t)code >= sizeof(rows) / sizeof(rows[0]) ||
	    rows[code].name == NULL) {
		return &rows[UP_UNKNOWN];
	}
	return &rows[code];
}

const char *
up_status_name(int code)
{
	return row(code)->name;
}

int
up_status_http(int code)
{
	return row(code)->http;
}

const char *
up_status_error_code(int code)
{
	return row(code)->error_code;
}

const char *
up_status_message(int code)
{
	return row(code)->message;
}
