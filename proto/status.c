/*
 * status.c - the one status list: names, HTTP statuses, ServiceStack
 * errorCodes and default messages, all from UP_STATUS_TABLE.
 *
 * users.proto's StatusCode is the same list on the wire: every row's code
 * is the enum value of its name (checked here, when this compiles), and
 * the table has as many rows as the enum has values (checked here, and by
 * test_meta against the descriptor).
 */
#include <string.h>

#include "users_proto.h"

#define UP_STATUS_SAME(name, code, http, ec, msg)                              \
	_Static_assert(UP_##name == (int)USERS__V1__STATUS_CODE__##name,       \
		       "UP_STATUS_TABLE and users.proto's StatusCode differ "  \
		       "on " #name);
UP_STATUS_TABLE(UP_STATUS_SAME)
#undef UP_STATUS_SAME

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

_Static_assert(sizeof(rows) / sizeof(rows[0]) ==
		   (size_t)USERS__V1__STATUS_CODE__UNAUTHENTICATED + 1,
	       "UP_STATUS_TABLE has a row for every StatusCode, none more");

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

int
up_status_http_of(int code, const char *error_code)
{
	if (code == UP_FAILED_PRECONDITION && error_code != NULL &&
	    strcmp(error_code, "RequestIdReused") == 0) {
		return 422;
	}
	return up_status_http(code);
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

bool
up_status_daemon_failure(int code)
{
	switch (code) {
	case UP_CANCELLED:
	case UP_UNKNOWN:
	case UP_DEADLINE_EXCEEDED:
	case UP_INTERNAL:
	case UP_UNAVAILABLE:
	case UP_DATA_LOSS:
		return true;
	default:
		return false;
	}
}
