/*
 * gw_frame.c - the bytes of the RPC dialects (gw_frame.h says what each
 * function reads and writes).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gw_frame.h"

/* Whether s[0..len) starts with the lowercase prefix p (any case). */
static bool
has_prefix(const char *s, size_t len, const char *p, size_t plen)
{
	return len >= plen && strncasecmp(s, p, plen) == 0;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The suffix after a family's name: "" or "+proto" is proto, "+json"
 * JSON, anything else a codec we lack. */
static gw_rpc_codec
suffix_codec(const char *s, size_t len)
{
	if (len == 0 || (len == 6 && strncasecmp(s, "+proto", 6) == 0)) {
		return GW_RPC_PROTO;
	}
	if (len == 5 && strncasecmp(s, "+json", 5) == 0) {
		return GW_RPC_JSON;
	}
	return GW_RPC_CODEC_OTHER;
}

gw_rpc_type
gw_rpc_content_type(const char *ct, size_t len)
{
	static const struct {
		const char *name;
		size_t len;
		gw_rpc_dialect dialect;
	} families[] = {
	    /* longest first: grpc-web-text before grpc-web before grpc */
	    {"application/grpc-web-text", 25, GW_RPC_GRPC_WEB_TEXT},
	    {"application/grpc-web", 20, GW_RPC_GRPC_WEB},
	    {"application/grpc", 16, GW_RPC_GRPC},
	    {"application/connect+", 20, GW_RPC_CONNECT_STREAM},
	};
	gw_rpc_type t = {GW_RPC_NONE, GW_RPC_CODEC_OTHER};
	size_t n = 0;

	if (ct == NULL) {
		return t;
	}
	while (len > 0 && is_space(ct[0])) {
		ct++;
		len--;
	}
	while (n < len && ct[n] != ';') {
		n++;
	}
	while (n > 0 && is_space(ct[n - 1])) {
		n--;
	}
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		size_t fl = families[i].len;

		if (!has_prefix(ct, n, families[i].name, fl)) {
			continue;
		}
		if (families[i].dialect == GW_RPC_CONNECT_STREAM) {
			t.dialect = GW_RPC_CONNECT_STREAM;
			t.codec = suffix_codec(ct + fl - 1, n - fl + 1);
			return t;
		}
		/* the family itself, or its name and a '+' suffix */
		if (n == fl || ct[fl] == '+') {
			t.dialect = families[i].dialect;
			t.codec = suffix_codec(ct + fl, n - fl);
			return t;
		}
	}
	if (!has_prefix(ct, n, "application/", 12) || n == 12) {
		return t;
	}
	t.dialect = GW_RPC_CONNECT;
	if (n == 17 && strncasecmp(ct, "application/proto", 17) == 0) {
		t.codec = GW_RPC_PROTO;
	} else if (n == 16 && strncasecmp(ct, "application/json", 16) == 0) {
		t.codec = GW_RPC_JSON;
	}
	return t;
}

const char *
gw_frame_status_text(gw_frame_status s)
{
	switch (s) {
	case GW_FRAME_OK:
		return "OK.";
	case GW_FRAME_TRUNCATED:
		return "The request's frame is cut short: fewer bytes than its "
		       "length says.";
	case GW_FRAME_TOO_LARGE:
		return "The request's message is larger than the gateway "
		       "accepts (usersgw --max-body).";
	case GW_FRAME_COMPRESSED_UNSUPPORTED:
		return "Compressed messages are not accepted: send them "
		       "uncompressed.";
	case GW_FRAME_BAD_FLAGS:
		return "The request's frame has flags a request may not have.";
	case GW_FRAME_EXTRA:
		return "A unary call takes exactly one message: the body has "
		       "bytes after it.";
	case GW_FRAME_BAD_BASE64:
		return "The grpc-web-text body is not base64.";
	}
	return "The request's frame cannot be read.";
}

gw_frame_status
gw_frame_unary(const uint8_t *body, size_t len, size_t max, const uint8_t **msg,
	       size_t *msg_len)
{
	uint32_t n;

	*msg = body;
	*msg_len = 0;
	if (len == 0) {
		return GW_FRAME_OK;
	}
	if (len < GW_FRAME_HEADER) {
		return GW_FRAME_TRUNCATED;
	}
	n = (uint32_t)body[1] << 24 | (uint32_t)body[2] << 16 |
	    (uint32_t)body[3] << 8 | (uint32_t)body[4];
	if ((body[0] & GW_FRAME_COMPRESSED) != 0) {
		return GW_FRAME_COMPRESSED_UNSUPPORTED;
	}
	if (body[0] != 0) {
		return GW_FRAME_BAD_FLAGS;
	}
	if (n > max) {
		return GW_FRAME_TOO_LARGE;
	}
	if (len - GW_FRAME_HEADER < n) {
		return GW_FRAME_TRUNCATED;
	}
	if (len - GW_FRAME_HEADER > n) {
		return GW_FRAME_EXTRA;
	}
	*msg = body + GW_FRAME_HEADER;
	*msg_len = n;
	return GW_FRAME_OK;
}

int
gw_frame_text_decode(const char *s, size_t len, uint8_t *out, size_t *out_len)
{
	size_t at = 0;

	*out_len = 0;
	while (at < len) {
		size_t end = at, n;

		/* a chunk: up to the end of the quad its padding is in */
		while (end < len && s[end] != '=') {
			end++;
		}
		if (end == at) {
			return -1; /* padding without a chunk before it */
		}
		if (end < len) {
			size_t quad_end = at + ((end - at) / 4 + 1) * 4;

			if (quad_end > len) {
				return -1;
			}
			for (size_t k = end; k < quad_end; k++) {
				if (s[k] != '=') {
					return -1;
				}
			}
			end = quad_end;
		}
		if (uw_base64_decode(s + at, end - at, out + *out_len, &n) !=
		    0) {
			return -1;
		}
		*out_len += n;
		at = end;
	}
	return 0;
}

/* 1 to max_digits decimal digits at v; the rest (len - used) in *used. */
static int
digits(const char *v, size_t len, size_t max_digits, uint64_t *out,
       size_t *used)
{
	uint64_t x = 0;
	size_t i = 0;

	while (i < len && v[i] >= '0' && v[i] <= '9') {
		if (i == max_digits) {
			return -1;
		}
		x = x * 10 + (uint64_t)(v[i] - '0');
		i++;
	}
	if (i == 0) {
		return -1;
	}
	*out = x;
	*used = i;
	return 0;
}

int
gw_rpc_connect_timeout(const char *v, size_t len, uint64_t *ms)
{
	size_t used;

	if (v == NULL || digits(v, len, 10, ms, &used) != 0 || used != len) {
		return -1;
	}
	return 0;
}

int
gw_rpc_grpc_timeout(const char *v, size_t len, uint64_t *ms)
{
	uint64_t x, per_ms_num, per_ms_den;
	size_t used;

	if (v == NULL || digits(v, len, 8, &x, &used) != 0 || used + 1 != len) {
		return -1;
	}
	switch (v[used]) {
	case 'H':
		per_ms_num = 3600000, per_ms_den = 1;
		break;
	case 'M':
		per_ms_num = 60000, per_ms_den = 1;
		break;
	case 'S':
		per_ms_num = 1000, per_ms_den = 1;
		break;
	case 'm':
		per_ms_num = 1, per_ms_den = 1;
		break;
	case 'u':
		per_ms_num = 1, per_ms_den = 1000;
		break;
	case 'n':
		per_ms_num = 1, per_ms_den = 1000000;
		break;
	default:
		return -1;
	}
	/* at most 99999999 hours: no overflow in 64 bits */
	*ms = (x * per_ms_num + per_ms_den - 1) / per_ms_den;
	return 0;
}

static bool
is_param(const char *p, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(p, name, n) == 0;
}

void
gw_connect_get_parse(const char *query, size_t len, gw_connect_get *out)
{
	bool seen_b64 = false, seen_connect = false;
	size_t at = 0;

	memset(out, 0, sizeof(*out));
	while (query != NULL && at < len) {
		size_t end = at, eq;
		const char *v;
		size_t vl;

		while (end < len && query[end] != '&') {
			end++;
		}
		eq = at;
		while (eq < end && query[eq] != '=') {
			eq++;
		}
		v = eq < end ? query + eq + 1 : query + end;
		vl = eq < end ? end - eq - 1 : 0;
		if (is_param(query + at, eq - at, "message") &&
		    out->message == NULL) {
			out->message = v;
			out->message_len = vl;
		} else if (is_param(query + at, eq - at, "encoding") &&
			   out->encoding == NULL) {
			out->encoding = v;
			out->encoding_len = vl;
		} else if (is_param(query + at, eq - at, "compression") &&
			   out->compression == NULL) {
			out->compression = v;
			out->compression_len = vl;
		} else if (is_param(query + at, eq - at, "base64") &&
			   !seen_b64) {
			seen_b64 = true;
			out->base64 = vl == 1 && v[0] == '1';
		} else if (is_param(query + at, eq - at, "connect") &&
			   !seen_connect) {
			seen_connect = true;
			out->connect_v1 = vl == 2 && memcmp(v, "v1", 2) == 0;
			out->bad_connect = !out->connect_v1;
		}
		at = end + 1;
	}
}

int
gw_connect_get_message(const gw_connect_get *g, uint8_t *out, size_t size,
		       size_t *out_len)
{
	size_t n;

	*out_len = 0;
	if (g->message == NULL) {
		return 0;
	}
	if (size == 0 || uw_pct_decode(g->message, g->message_len, true,
				       (char *)out, size, &n) != 0) {
		return -1;
	}
	if (!g->base64) {
		*out_len = n;
		return 0;
	}
	/* base64 decodes in place: each output byte after its input */
	return uw_base64_decode((const char *)out, n, out, out_len);
}

const char *
gw_rpc_code_name(int code, char buf[GW_RPC_CODE_NAME_MAX])
{
	const char *name = up_status_name(code);
	size_t i;

	if (code == UP_CANCELLED) {
		/* Connect's and gRPC-Web libraries' spelling */
		snprintf(buf, GW_RPC_CODE_NAME_MAX, "canceled");
		return buf;
	}
	for (i = 0; name[i] != '\0' && i + 1 < GW_RPC_CODE_NAME_MAX; i++) {
		char c = name[i];

		buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	buf[i] = '\0';
	return buf;
}

int
gw_frame_put_header(uw_buf *out, uint8_t flags, size_t len)
{
	uint8_t h[GW_FRAME_HEADER];

	if (len > UINT32_MAX) {
		return -1;
	}
	h[0] = flags;
	h[1] = (uint8_t)(len >> 24);
	h[2] = (uint8_t)(len >> 16);
	h[3] = (uint8_t)(len >> 8);
	h[4] = (uint8_t)len;
	return uw_buf_append(out, h, sizeof(h));
}

static int
put_varint(uw_buf *out, uint64_t v)
{
	uint8_t b[10];
	size_t n = 0;

	do {
		b[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v != 0) {
			b[n] |= 0x80;
		}
		n++;
	} while (v != 0);
	return uw_buf_append(out, b, n);
}

/* A length-delimited field: its tag byte, length and bytes. */
static int
put_bytes_field(uw_buf *out, uint8_t tag, const void *p, size_t n)
{
	if (uw_buf_append(out, &tag, 1) != 0 || put_varint(out, n) != 0) {
		return -1;
	}
	return uw_buf_append(out, p, n);
}

int
gw_frame_put_rpc_status(uw_buf *out, int code, const char *message,
			const char *type_url, const uint8_t *value,
			size_t value_len)
{
	size_t mark = out->len;
	uw_buf any = {0};
	int rc = 0;

	if (code != 0) {
		uint8_t tag = 0x08; /* 1: code, varint */

		rc |= uw_buf_append(out, &tag, 1);
		rc |= put_varint(out, (uint64_t)(uint32_t)code);
	}
	if (message != NULL && message[0] != '\0') {
		rc |= put_bytes_field(out, 0x12, message, strlen(message));
	}
	if (type_url != NULL) {
		rc |= put_bytes_field(&any, 0x0a, type_url, strlen(type_url));
		if (value_len > 0) {
			rc |= put_bytes_field(&any, 0x12, value, value_len);
		}
		rc |= put_bytes_field(
		    out, 0x1a, any.data != NULL ? any.data : "", any.len);
	}
	uw_buf_fini(&any);
	if (rc != 0) {
		out->len = mark;
		return -1;
	}
	return 0;
}

/* grpc-message: bytes outside ' '..'~', and '%', as %XX. */
static int
put_grpc_message(uw_buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c <= 0x7e && c != '%') {
			if (uw_buf_append(out, s, 1) != 0) {
				return -1;
			}
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};

			if (uw_buf_append(out, e, 3) != 0) {
				return -1;
			}
		}
	}
	return 0;
}

int
gw_frame_put_trailer(uw_buf *out, int code, const char *message,
		     const uint8_t *details, size_t details_len)
{
	size_t mark = out->len;
	uw_buf t = {0};
	char line[32];
	int rc = 0;

	snprintf(line, sizeof(line), "grpc-status: %d\r\n", code);
	rc |= uw_buf_puts(&t, line);
	if (message != NULL && message[0] != '\0') {
		rc |= uw_buf_puts(&t, "grpc-message: ");
		rc |= put_grpc_message(&t, message);
		rc |= uw_buf_puts(&t, "\r\n");
	}
	if (details != NULL && rc == 0) {
		rc |= uw_buf_puts(&t, "grpc-status-details-bin: ");
		rc |= uw_base64_encode(&t, details, details_len);
		while (rc == 0 && t.len > 0 && t.data[t.len - 1] == '=') {
			t.len--;
		}
		rc |= uw_buf_puts(&t, "\r\n");
	}
	if (rc == 0) {
		rc |= gw_frame_put_header(out, GW_FRAME_TRAILER, t.len);
		rc |= uw_buf_append(out, t.data, t.len);
	}
	uw_buf_fini(&t);
	if (rc != 0) {
		out->len = mark;
		return -1;
	}
	return 0;
}
