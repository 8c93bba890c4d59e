/*
 * gw_connect.c - the RPC dialects: every method of users.v1.UserService as
 * Connect unary (POST with application/proto or application/json, GET for
 * the methods the contract marks NO_SIDE_EFFECTS) and as gRPC-Web (binary
 * and text), on the path /users.v1.UserService/{Method}
 * (README.md, "RPC dialects: Connect and gRPC-Web", says what a client
 * sees).
 *
 * gw_request.c owns the request's life as for REST (the job, the request
 * id, the credentials, the one async RPC, metrics): it asks this file
 * whether a request is in a dialect (gw_connect_match), for its message
 * and deadline (gw_connect_read), and for the bytes of its answer
 * (gw_connect_reply, gw_connect_error). Nothing here keeps state; every
 * function runs on the request's loop thread.
 *
 * Plain gRPC (application/grpc) is answered with a clear error and never
 * served: it ends every answer with HTTP/2 trailers, and h2o 2.2 (the
 * HTTP server usersgw is built on) has no way to send trailers: its
 * HEADERS frames never carry END_STREAM, which only its last DATA frame
 * does, and a response has no trailer fields to fill.
 *
 * Credentials come from the Authorization header only (Bearer or Basic):
 * the session cookie is never read for a dialect, so no page of another
 * site can make a browser call a method with the user's session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"

#define CT_CONNECT_PROTO  "application/proto"
#define CT_CONNECT_JSON   "application/json"
#define CT_GRPC_WEB_PROTO "application/grpc-web+proto"
#define CT_GRPC_WEB_JSON  "application/grpc-web+json"
#define CT_GRPC_TEXT      "application/grpc-web-text+proto"
#define CT_GRPC_TEXT_JSON "application/grpc-web-text+json"
#define ACCEPT_POST                                                            \
	"application/proto, application/json, application/grpc-web+proto, "    \
	"application/grpc-web+json, application/grpc-web-text+proto"
#define DETAIL_TYPE "users.v1.ResponseStatus"
#define TYPE_URL    "type.googleapis.com/" DETAIL_TYPE
/* Nesting of a binary request message that the string check follows. */
#define STRINGS_MAX_DEPTH 16

static bool
is_header(h2o_req_t *req, const char *name, size_t len, h2o_iovec_t *value)
{
	ssize_t i = h2o_find_header_by_str(&req->headers, name, len, -1);

	if (i == -1) {
		return false;
	}
	*value = req->headers.entries[i].value;
	return true;
}

/* The method named by path "/users.v1.UserService/{Method}" (exact
 * names, as protobuf spells them); *rpc_path whether the path is the
 * service's at all. */
static const up_method *
method_of_path(const char *path, size_t len, bool *rpc_path)
{
	const char *svc = up_service()->name;
	size_t sl = strlen(svc);

	*rpc_path = len > sl + 1 && path[0] == '/' &&
		    memcmp(path + 1, svc, sl) == 0 && path[sl + 1] == '/';
	if (!*rpc_path) {
		return NULL;
	}
	path += sl + 2;
	len -= sl + 2;
	for (size_t i = 0; i < up_method_count(); i++) {
		const up_method *m = up_method_at(i);
		const char *name = m->desc->name;

		if (strlen(name) == len && memcmp(name, path, len) == 0) {
			return m;
		}
	}
	return NULL;
}

gw_rpc_req *
gw_connect_match(h2o_req_t *req)
{
	size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
	gw_rpc_type t = {GW_RPC_NONE, GW_RPC_CODEC_OTHER};
	h2o_iovec_t ct;
	const up_method *m;
	bool rpc_path;
	gw_rpc_req *rr;

	m = method_of_path(req->path.base, plen, &rpc_path);
	if (is_header(req, H2O_STRLIT("content-type"), &ct)) {
		t = gw_rpc_content_type(ct.base, ct.len);
	}
	/*
	 * On the service's path every request is the dialects'; elsewhere
	 * only those whose Content-Type names a gRPC family (a REST route
	 * reads application/json itself).
	 */
	if (!rpc_path && t.dialect != GW_RPC_GRPC &&
	    t.dialect != GW_RPC_GRPC_WEB && t.dialect != GW_RPC_GRPC_WEB_TEXT &&
	    t.dialect != GW_RPC_CONNECT_STREAM) {
		return NULL;
	}
	rr = h2o_mem_alloc_pool(&req->pool, sizeof(*rr));
	memset(rr, 0, sizeof(*rr));
	rr->method = m;
	rr->type = t;
	rr->get =
	    h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"));
	if (rr->get || t.dialect == GW_RPC_NONE) {
		/* Connect's GET, or a POST without a type: Connect errors */
		rr->type.dialect = GW_RPC_CONNECT;
	}
	return rr;
}

unsigned
gw_connect_allow(const gw_rpc_req *rr)
{
	unsigned allow = GW_M_POST | GW_M_OPTIONS;

	if (rr->method != NULL && rr->method->no_side_effects) {
		allow |= GW_M_GET;
	}
	return allow;
}

/* An error before the call: code, the HTTP status when it is not the
 * table's (0), message, field. -1 for the caller's return. */
static int
fail(gw_rpc_req *rr, gw_rpc_err *err, int code, int http, const char *message,
     const char *field)
{
	rr->http = http;
	err->code = code;
	err->message = message;
	err->field = field;
	return -1;
}

/* Every string of m (and of the messages in it) valid UTF-8 without NUL:
 * what proto3 requires of a string, and what every REST decoder here
 * checks. */
static bool
strings_ok(const ProtobufCMessage *m, unsigned depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	if (depth > STRINGS_MAX_DEPTH) {
		return false;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *p = (const char *)m + f->offset;
		size_t n = 1;

		if (f->type != PROTOBUF_C_TYPE_STRING &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE) {
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)((const char *)m +
					      f->quantifier_offset);
			p = *(const char *const *)p;
		}
		for (size_t k = 0; p != NULL && k < n; k++) {
			const void *v =
			    *(const void *const *)(p + k * sizeof(void *));

			if (v == NULL) {
				continue;
			}
			if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
				if (!strings_ok(v, depth + 1)) {
					return false;
				}
				continue;
			}
			for (const unsigned char *s = v; *s != '\0';) {
				size_t c =
				    uw_utf8_char(s, strlen((const char *)s));

				if (c == 0) {
					return false;
				}
				s += c;
			}
		}
	}
	return true;
}

/* The message of d from bytes in codec. NULL with err filled. */
static ProtobufCMessage *
decode(gw_rpc_req *rr, gw_rpc_err *err, const ProtobufCMessageDescriptor *d,
       const uint8_t *p, size_t n)
{
	ProtobufCMessage *msg;

	if (rr->type.codec == GW_RPC_PROTO) {
		msg = protobuf_c_message_unpack(d, NULL, n, p);
		if (msg == NULL) {
			fail(rr, err, UP_INVALID_ARGUMENT, 0,
			     "The message is not in protobuf's binary "
			     "encoding of the method's request type.",
			     NULL);
			return NULL;
		}
		if (!strings_ok(msg, 0)) {
			protobuf_c_message_free_unpacked(msg, NULL);
			fail(rr, err, UP_INVALID_ARGUMENT, 0,
			     "A string of the message is not valid UTF-8 (or "
			     "holds a NUL).",
			     NULL);
			return NULL;
		}
		return msg;
	}
	if ((msg = uw_msg_new(d)) == NULL) {
		fail(rr, err, UP_RESOURCE_EXHAUSTED, 0, NULL, NULL);
		return NULL;
	}
	memset(&rr->decode_error, 0, sizeof(rr->decode_error));
	if (uw_codec_proto_json.decode(msg, (const char *)p, n,
				       &uw_limits_default,
				       &rr->decode_error) != 0) {
		up_message_wipe_secrets(msg);
		protobuf_c_message_free_unpacked(msg, NULL);
		fail(rr, err, UP_INVALID_ARGUMENT, 0,
		     rr->decode_error.message[0] != '\0'
			 ? rr->decode_error.message
			 : "The request's JSON cannot be read.",
		     rr->decode_error.field);
		return NULL;
	}
	return msg;
}

/* The deadline: the client's timeout, within --deadline. */
static int
read_deadline(h2o_req_t *req, gw_rpc_req *rr, uint32_t max,
	      uint32_t *deadline_ms, gw_rpc_err *err)
{
	bool connect = rr->type.dialect == GW_RPC_CONNECT;
	h2o_iovec_t v;
	uint64_t ms;

	*deadline_ms = max;
	if (!is_header(req, connect ? "connect-timeout-ms" : "grpc-timeout",
		       connect ? 18 : 12, &v)) {
		return 0;
	}
	if ((connect ? gw_rpc_connect_timeout(v.base, v.len, &ms)
		     : gw_rpc_grpc_timeout(v.base, v.len, &ms)) != 0) {
		return fail(rr, err, UP_INVALID_ARGUMENT, 0,
			    connect ? "Connect-Timeout-Ms must be 1 to 10 "
				      "digits."
				    : "grpc-timeout must be 1 to 8 digits and "
				      "a unit (H, M, S, m, u, n).",
			    NULL);
	}
	if (ms == 0) {
		ms = 1; /* already due: the daemon answers DEADLINE_EXCEEDED */
	}
	if (ms < max) {
		*deadline_ms = (uint32_t)ms;
	}
	return 0;
}

/* Connect's GET: the message, its encoding and base64 from the query. */
static int
read_get(h2o_req_t *req, gw_rpc_req *rr, const uint8_t **p, size_t *n,
	 gw_rpc_err *err)
{
	const up_method *m = rr->method;
	const char *q = NULL;
	size_t qlen = 0;
	gw_connect_get g;
	uint8_t *buf;

	if (!m->no_side_effects) {
		rr->allow = "POST, OPTIONS";
		return fail(rr, err, UP_UNIMPLEMENTED, 405,
			    "Only methods without side effects are served on "
			    "GET: send this one with POST.",
			    NULL);
	}
	if (req->query_at != SIZE_MAX) {
		q = req->path.base + req->query_at + 1;
		qlen = req->path.len - req->query_at - 1;
	}
	gw_connect_get_parse(q, qlen, &g);
	if (g.bad_connect) {
		return fail(rr, err, UP_INVALID_ARGUMENT, 0,
			    "connect= names a protocol version other than v1.",
			    NULL);
	}
	if (g.encoding != NULL &&
	    h2o_memis(g.encoding, g.encoding_len, H2O_STRLIT("proto"))) {
		rr->type.codec = GW_RPC_PROTO;
	} else if (g.encoding != NULL &&
		   h2o_memis(g.encoding, g.encoding_len, H2O_STRLIT("json"))) {
		rr->type.codec = GW_RPC_JSON;
	} else {
		rr->type.codec = GW_RPC_JSON; /* the error's own */
		return fail(rr, err, UP_UNIMPLEMENTED, 415,
			    "encoding= must be proto or json.", "encoding");
	}
	if (g.compression != NULL &&
	    !h2o_memis(g.compression, g.compression_len,
		       H2O_STRLIT("identity"))) {
		return fail(rr, err, UP_UNIMPLEMENTED, 0,
			    "Compressed messages are not accepted: send them "
			    "uncompressed.",
			    NULL);
	}
	buf = h2o_mem_alloc_pool(&req->pool, g.message_len + 1);
	if (gw_connect_get_message(&g, buf, g.message_len + 1, n) != 0) {
		return fail(rr, err, UP_INVALID_ARGUMENT, 0,
			    "message= is not percent-encoded base64 (with "
			    "base64=1) or text.",
			    "message");
	}
	*p = buf;
	return 0;
}

/* A POST's message: the body (Connect), or the one frame in it. */
static int
read_post(h2o_req_t *req, gw_rpc_req *rr, size_t max, const uint8_t **p,
	  size_t *n, gw_rpc_err *err)
{
	const uint8_t *body = (const uint8_t *)req->entity.base;
	size_t len = req->entity.base != NULL ? req->entity.len : 0;
	gw_frame_status fs;
	h2o_iovec_t v;

	if (rr->type.codec == GW_RPC_CODEC_OTHER) {
		rr->type.codec = GW_RPC_JSON;
		rr->accept_post = true;
		return fail(rr, err, UP_UNIMPLEMENTED, 415,
			    "The Content-Type names no dialect served here: "
			    "application/proto or application/json (Connect), "
			    "application/grpc-web+proto or +json, "
			    "application/grpc-web-text+proto (gRPC-Web).",
			    NULL);
	}
	if (rr->type.dialect == GW_RPC_CONNECT) {
		if (is_header(req, H2O_STRLIT("connect-protocol-version"),
			      &v) &&
		    !h2o_memis(v.base, v.len, H2O_STRLIT("1"))) {
			return fail(rr, err, UP_INVALID_ARGUMENT, 0,
				    "Connect-Protocol-Version must be 1.",
				    NULL);
		}
		if (is_header(req, H2O_STRLIT("content-encoding"), &v) &&
		    !h2o_memis(v.base, v.len, H2O_STRLIT("identity"))) {
			return fail(rr, err, UP_UNIMPLEMENTED, 0,
				    gw_frame_status_text(
					GW_FRAME_COMPRESSED_UNSUPPORTED),
				    NULL);
		}
		*p = body;
		*n = len;
		return 0;
	}
	if (rr->type.dialect == GW_RPC_GRPC_WEB_TEXT && len > 0) {
		uint8_t *raw =
		    h2o_mem_alloc_pool(&req->pool, uw_base64_decoded_max(len));
		size_t raw_len;

		if (gw_frame_text_decode((const char *)body, len, raw,
					 &raw_len) != 0) {
			return fail(rr, err, UP_INVALID_ARGUMENT, 0,
				    gw_frame_status_text(GW_FRAME_BAD_BASE64),
				    NULL);
		}
		body = raw;
		len = raw_len;
	}
	fs = gw_frame_unary(body, len, max, p, n);
	switch (fs) {
	case GW_FRAME_OK:
		return 0;
	case GW_FRAME_TOO_LARGE:
		return fail(rr, err, UP_RESOURCE_EXHAUSTED, 0,
			    gw_frame_status_text(fs), NULL);
	case GW_FRAME_COMPRESSED_UNSUPPORTED:
		return fail(rr, err, UP_UNIMPLEMENTED, 0,
			    gw_frame_status_text(fs), NULL);
	default:
		return fail(rr, err, UP_INVALID_ARGUMENT, 0,
			    gw_frame_status_text(fs), NULL);
	}
}

int
gw_connect_read(h2o_req_t *req, gw_rpc_req *rr, const gw_config *cfg,
		ProtobufCMessage **msg, uint32_t *deadline_ms, gw_rpc_err *err)
{
	const uint8_t *p = NULL;
	size_t n = 0;

	*msg = NULL;
	memset(err, 0, sizeof(*err));
	switch (rr->type.dialect) {
	case GW_RPC_GRPC:
		/* the reason in the headers too, where gRPC clients look */
		rr->type.codec = GW_RPC_JSON;
		return fail(rr, err, UP_UNIMPLEMENTED, 415,
			    "Plain gRPC (application/grpc) is not served: it "
			    "needs HTTP/2 trailers, which this gateway's HTTP "
			    "server (h2o 2.2) cannot send. Use gRPC-Web "
			    "(application/grpc-web+proto) or Connect "
			    "(application/proto) on the same path.",
			    NULL);
	case GW_RPC_CONNECT_STREAM:
		rr->type.codec = GW_RPC_JSON;
		return fail(rr, err, UP_UNIMPLEMENTED, 415,
			    "Connect streaming is not served: every method of "
			    "the service is unary (application/proto or "
			    "application/json).",
			    NULL);
	default:
		break;
	}
	if (rr->method == NULL) {
		/* Connect answers an unknown procedure with 404 */
		return fail(rr, err, UP_UNIMPLEMENTED,
			    rr->type.dialect == GW_RPC_CONNECT ? 404 : 0,
			    "No such method: the path must be "
			    "/users.v1.UserService/{Method}, a method of "
			    "users.v1.UserService.",
			    NULL);
	}
	if (rr->get ? rr->type.dialect != GW_RPC_CONNECT
		    : !h2o_memis(req->method.base, req->method.len,
				 H2O_STRLIT("POST"))) {
		rr->allow = rr->method->no_side_effects ? "GET, POST, OPTIONS"
							: "POST, OPTIONS";
		return fail(rr, err, UP_UNIMPLEMENTED, 405,
			    "A method is called with POST (or with GET, for "
			    "the methods without side effects, in Connect).",
			    NULL);
	}
	if (read_deadline(req, rr, cfg->deadline_ms, deadline_ms, err) != 0 ||
	    (rr->get ? read_get(req, rr, &p, &n, err)
		     : read_post(req, rr, cfg->max_body, &p, &n, err)) != 0) {
		return -1;
	}
	*msg = decode(rr, err, rr->method->desc->input, p, n);
	return *msg != NULL ? 0 : -1;
}

/* The encoded message in the request's codec, appended to out. */
static int
encode(const gw_rpc_req *rr, const ProtobufCMessage *m, uw_buf *out)
{
	size_t n;
	uint8_t *p;
	int rc;

	if (rr->type.codec != GW_RPC_PROTO) {
		return uw_codec_proto_json.encode(m, out);
	}
	n = protobuf_c_message_get_packed_size(m);
	if ((p = malloc(n > 0 ? n : 1)) == NULL) {
		return -1;
	}
	protobuf_c_message_pack(m, p);
	rc = uw_buf_append(out, p, n);
	free(p);
	return rc;
}

static const char *
grpc_web_type(const gw_rpc_req *rr)
{
	bool json = rr->type.codec == GW_RPC_JSON;

	if (rr->type.dialect == GW_RPC_GRPC_WEB_TEXT) {
		return json ? CT_GRPC_TEXT_JSON : CT_GRPC_TEXT;
	}
	return json ? CT_GRPC_WEB_JSON : CT_GRPC_WEB_PROTO;
}

/* grpc-web-text: the frames in out from mark on as base64, in place. */
static int
to_text(uw_buf *out, size_t mark)
{
	uw_buf b64 = {0};
	int rc = uw_base64_encode(&b64, (const uint8_t *)out->data + mark,
				  out->len - mark);

	if (rc == 0) {
		out->len = mark;
		rc = uw_buf_append(out, b64.data, b64.len);
	}
	uw_buf_fini(&b64);
	return rc;
}

int
gw_connect_reply(h2o_req_t *req, const gw_rpc_req *rr,
		 const ProtobufCMessage *resp, uw_buf *out, const char **ct)
{
	size_t mark = out->len;
	uw_buf m = {0};
	int rc;

	(void)req;
	if (rr->type.dialect == GW_RPC_CONNECT) {
		*ct = rr->type.codec == GW_RPC_PROTO ? CT_CONNECT_PROTO
						     : CT_CONNECT_JSON;
		return encode(rr, resp, out) == 0 ? 200 : -1;
	}
	*ct = grpc_web_type(rr);
	rc = encode(rr, resp, &m);
	rc = rc != 0 ? -1 : gw_frame_put_header(out, 0, m.len);
	rc = rc != 0 ? -1
		     : uw_buf_append(out, m.data != NULL ? m.data : "", m.len);
	rc = rc != 0 ? -1 : gw_frame_put_trailer(out, UP_OK, NULL, NULL, 0);
	if (rc == 0 && rr->type.dialect == GW_RPC_GRPC_WEB_TEXT) {
		rc = to_text(out, mark);
	}
	uw_buf_fini(&m);
	if (rc != 0) {
		out->len = mark;
		return -1;
	}
	return 200;
}

/* The Connect error body: {"code","message","details":[ResponseStatus]}. */
static int
connect_error_body(int code, const char *message, const uint8_t *detail,
		   size_t detail_len, uw_buf *out)
{
	char name[GW_RPC_CODE_NAME_MAX];
	int rc = 0;

	rc |= uw_buf_puts(out, "{\"code\":\"");
	rc |= uw_buf_puts(out, gw_rpc_code_name(code, name));
	rc |= uw_buf_puts(out, "\"");
	if (message != NULL && message[0] != '\0') {
		rc |= uw_buf_puts(out, ",\"message\":");
		rc |= uw_json_string(out, message, strlen(message));
	}
	if (detail != NULL) {
		size_t at;

		rc |= uw_buf_puts(out, ",\"details\":[{\"type\":\"" DETAIL_TYPE
				       "\",\"value\":\"");
		at = out->len;
		rc |= uw_base64_encode(out, detail, detail_len);
		/* Connect's details are base64 without padding */
		while (rc == 0 && out->len > at &&
		       out->data[out->len - 1] == '=') {
			out->len--;
		}
		rc |= uw_buf_puts(out, "\"}]");
	}
	rc |= uw_buf_puts(out, "}");
	return rc != 0 ? -1 : 0;
}

/* grpc-message's text in a header: bytes outside ' '..'~' as '?'. */
static void
add_grpc_headers(h2o_req_t *req, int code, const char *message)
{
	char num[16];
	size_t n = strlen(message);
	char *m = h2o_mem_alloc_pool(&req->pool, n + 1);
	h2o_iovec_t v;

	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)message[i];

		m[i] = i == n ? '\0' : (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	snprintf(num, sizeof(num), "%d", code);
	v = h2o_strdup(&req->pool, num, SIZE_MAX);
	h2o_add_header_by_str(&req->pool, &req->res.headers,
			      H2O_STRLIT("grpc-status"), 0, NULL, v.base,
			      v.len);
	h2o_add_header_by_str(&req->pool, &req->res.headers,
			      H2O_STRLIT("grpc-message"), 0, NULL, m, n);
}

int
gw_connect_http_status(const gw_rpc_req *rr, int code)
{
	/* the table's, unless the refusal named its own (405, 415, 404) */
	return rr->http != 0 ? rr->http : up_status_http(code);
}

int
gw_connect_error(h2o_req_t *req, const gw_rpc_req *rr, int code,
		 const Users__V1__ResponseStatus *rs, uw_buf *out,
		 const char **ct)
{
	const char *message =
	    rs->message != NULL ? rs->message : up_status_message(code);
	size_t n = protobuf_c_message_get_packed_size(&rs->base);
	uint8_t *detail = h2o_mem_alloc_pool(&req->pool, n > 0 ? n : 1);
	size_t mark = out->len;
	uw_buf st = {0};
	int rc;

	protobuf_c_message_pack(&rs->base, detail);
	if (rr->allow != NULL) {
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW,
			       NULL, rr->allow, strlen(rr->allow));
	}
	if (rr->accept_post) {
		h2o_add_header_by_str(&req->pool, &req->res.headers,
				      H2O_STRLIT("accept-post"), 0, NULL,
				      H2O_STRLIT(ACCEPT_POST));
	}
	if (rr->type.dialect != GW_RPC_GRPC_WEB &&
	    rr->type.dialect != GW_RPC_GRPC_WEB_TEXT) {
		if (rr->type.dialect == GW_RPC_GRPC) {
			add_grpc_headers(req, code, message);
		}
		*ct = CT_CONNECT_JSON;
		if (connect_error_body(code, message, detail, n, out) != 0) {
			out->len = mark;
			return -1;
		}
		return gw_connect_http_status(rr, code);
	}
	/* gRPC-Web: 200, the status in the body's trailer frame */
	*ct = grpc_web_type(rr);
	rc = gw_frame_put_rpc_status(&st, code, message, TYPE_URL, detail, n);
	rc = rc != 0 ? -1
		     : gw_frame_put_trailer(out, code, message,
					    (const uint8_t *)st.data, st.len);
	if (rc == 0 && rr->type.dialect == GW_RPC_GRPC_WEB_TEXT) {
		rc = to_text(out, mark);
	}
	uw_buf_fini(&st);
	if (rc != 0) {
		out->len = mark;
		return -1;
	}
	return 200;
}
