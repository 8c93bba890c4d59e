/*
 * validate.h - input checks shared by every operation: the bounds from
 * users.proto (max_len), UTF-8, and the value formats (email, Guid, id),
 * each failure recorded as a ResponseError naming the field.
 */
#ifndef UD_VALIDATE_H
#define UD_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "service.h"

/* Hard limits for fields without a max_len of their own. */
#define UD_STRING_MAX 4096
#define UD_LIST_MAX   1000

/*
 * Walks a request message: every string within its field's max_len (or
 * UD_STRING_MAX) and valid UTF-8, every list within max_len items (or
 * UD_LIST_MAX). 0, or UP_INVALID_ARGUMENT with field errors on c.
 */
int ud_validate_bounds(ud_call *c, const ProtobufCMessage *msg);

/*
 * The (required) fields of users.proto, the one source of "required" for
 * the metadata pages, OpenAPI and this check: every required field of the
 * request that holds no value (has_value) gets a NotEmpty field error, in
 * field order. 0, or UP_INVALID_ARGUMENT with the errors on c. The
 * dispatcher runs it after the role gate, before the handler, so handlers
 * may take required fields as given.
 */
int ud_validate_required(ud_call *c, const ProtobufCMessage *msg);

bool ud_utf8_valid(const char *s, size_t len);
bool ud_email_valid(const char *s);
/* A positive decimal user id ("42"); 0 when not one. */
int64_t ud_parse_user_id(const char *s);

/* Field errors in ServiceStack's words. Each returns UP_INVALID_ARGUMENT. */
int ud_err_not_empty(ud_call *c, const char *field);
int ud_err_invalid(ud_call *c, const char *field, const char *code,
		   const char *what);

/*
 * Overwrites secrets before they are freed: the daemon's name for the one
 * wiping primitive of the system, up_wipe() of the proto library (which
 * the gateway and up_message_wipe_secrets() use too).
 */
#define ud_wipe(p, n) up_wipe((p), (n))

#endif
