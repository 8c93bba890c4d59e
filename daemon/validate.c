/*
 * validate.c - bounds, UTF-8 and format checks with ServiceStack-style
 * field errors (fieldName in PascalCase, errorCode such as NotEmpty).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

bool
ud_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;
		if (c < 0x80) {
			if (c == 0) {
				return false;
			}
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + n >= len) {
			return false;
		}
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80) {
				return false;
			}
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff)) {
			return false;
		}
		i += n + 1;
	}
	return true;
}

int
ud_err_not_empty(ud_call *c, const char *field)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "'%s' must not be empty.", field);
	return ud_call_field_error(c, field, "NotEmpty", msg);
}

int
ud_err_invalid(ud_call *c, const char *field, const char *code,
	       const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "'%s' %s", field, what);
	return ud_call_field_error(c, field, code, msg);
}

static int
check_string(ud_call *c, const up_field_info *fi, const char *s, size_t max)
{
	size_t len = strlen(s);
	char what[96];

	if (len > max) {
		snprintf(what, sizeof(what), "must be %zu characters or fewer.",
			 max);
		return ud_err_invalid(c, fi->pascal_name, "MaximumLength",
				      what);
	}
	if (!ud_utf8_valid(s, len)) {
		return ud_err_invalid(c, fi->pascal_name, "InvalidUtf8",
				      "is not valid UTF-8 text.");
	}
	return 0;
}

static int
check_list(ud_call *c, const up_field_info *fi, size_t n, size_t max)
{
	char what[96];

	if (n <= max) {
		return 0;
	}
	snprintf(what, sizeof(what), "must have %zu items or fewer.", max);
	return ud_err_invalid(c, fi->pascal_name, "MaximumLength", what);
}

static int
walk(ud_call *c, const ProtobufCMessage *msg, const up_field_info *parent,
     int depth)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	const up_message_info *mi = up_message_info_of(d);
	int rc = 0;

	if (mi == NULL || depth > 8) {
		return ud_call_fail(c, UP_INVALID_ARGUMENT, "ArgumentException",
				    "The request is nested too deeply.");
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		/* A list wrapper's items take the limits of the wrapping field.
		 */
		const up_field_info *fi =
		    (mi->list_wrapper && parent) ? parent : &mi->fields[i];
		const char *base = (const char *)msg;
		size_t smax = fi->max_len &&
				      f->type == PROTOBUF_C_TYPE_STRING &&
				      f->label != PROTOBUF_C_LABEL_REPEATED
				  ? fi->max_len
				  : UD_STRING_MAX;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n =
			    *(const size_t *)(base + f->quantifier_offset);
			void *const *v =
			    *(void *const *const *)(base + f->offset);
			size_t lmax = fi->max_len ? fi->max_len : UD_LIST_MAX;
			if ((rc = check_list(c, fi, n, lmax)) != 0) {
				return rc;
			}
			for (size_t k = 0; k < n; k++) {
				if (f->type == PROTOBUF_C_TYPE_STRING) {
					rc = check_string(c, fi, v[k], 256);
				} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
					rc = walk(c, v[k], fi, depth + 1);
				}
				if (rc != 0) {
					return rc;
				}
			}
			continue;
		}
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			const char *s =
			    *(const char *const *)(base + f->offset);
			if (s != NULL &&
			    (rc = check_string(c, fi, s, smax)) != 0) {
				return rc;
			}
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			const ProtobufCMessage *m = *(
			    const ProtobufCMessage *const *)(base + f->offset);
			if (m != NULL &&
			    (rc = walk(c, m, fi, depth + 1)) != 0) {
				return rc;
			}
		}
	}
	return 0;
}

int
ud_validate_bounds(ud_call *c, const ProtobufCMessage *msg)
{
	return walk(c, msg, NULL, 0);
}

/* Whether field f of msg holds a value (a NotEmpty rule): a string not
 * empty, a number not zero, a list or list wrapper with an item, a message
 * or a boolean that is there. */
static bool
has_value(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)msg;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		return *(const size_t *)(base + f->quantifier_offset) > 0;
	}
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		const char *s = *(const char *const *)(base + f->offset);

		return s != NULL && s[0] != '\0';
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		const ProtobufCMessage *m =
		    *(const ProtobufCMessage *const *)(base + f->offset);
		const up_message_info *mi;

		if (m == NULL) {
			return false;
		}
		mi = up_message_info_of(m->descriptor);
		return mi == NULL || !mi->list_wrapper ||
		       has_value(m, &m->descriptor->fields[0]);
	}
	if (f->quantifier_offset != 0 &&
	    !*(const protobuf_c_boolean *)(base + f->quantifier_offset)) {
		return false;
	}
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		return true;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const uint64_t *)(base + f->offset) != 0;
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)(base + f->offset))->len >
		       0;
	default: /* 32-bit numbers, floats, enums */
		return *(const uint32_t *)(base + f->offset) != 0;
	}
}

int
ud_validate_required(ud_call *c, const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	const up_message_info *mi = up_message_info_of(d);
	int rc = 0;

	for (size_t i = 0; mi != NULL && i < mi->n_fields; i++) {
		if (mi->fields[i].required && !has_value(msg, &d->fields[i])) {
			rc = ud_err_not_empty(c, mi->fields[i].pascal_name);
		}
	}
	return rc;
}

bool
ud_email_valid(const char *s)
{
	const char *at = strchr(s, '@');
	size_t len = strlen(s);

	if (len < 3 || len > 254 || at == NULL || at == s ||
	    strchr(at + 1, '@') != NULL || at[1] == '\0') {
		return false;
	}
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch <= ' ' || ch == 0x7f || ch == ',' || ch == '<' ||
		    ch == '>' || ch == '"' || ch == ';') {
			return false;
		}
	}
	const char *dot = strrchr(at + 1, '.');
	return dot != NULL && dot != at + 1 && dot[1] != '\0';
}

int64_t
ud_parse_user_id(const char *s)
{
	int64_t v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 18) {
		return 0;
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9') {
			return 0;
		}
		v = v * 10 + (*s - '0');
	}
	return v;
}
