/*
 * gw_frame.h - the bytes of the RPC dialects (README.md, "RPC dialects:
 * Connect and gRPC-Web"): which dialect a Content-Type names, the
 * five-byte envelope of gRPC-Web (and its base64 text form), the
 * timeouts, Connect's GET query, the status names, and the gRPC-Web
 * trailer frame with its google.rpc.Status. Pure functions over plain
 * inputs: no h2o types, no allocation but the caller's uw_buf, no global
 * state; safe from any thread. gw_connect.c does the rest (h2o, messages,
 * the call).
 *
 * Every function here reads untrusted bytes within the lengths it is
 * given; tests/fuzz/fuzz_frame.c holds them to that.
 */
#ifndef GW_FRAME_H
#define GW_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "users_wire.h"

/* The envelope: a flags byte, then the message's length (32 bits, big
 * endian), then the message. */
#define GW_FRAME_HEADER     5
#define GW_FRAME_COMPRESSED 0x01u /* the message is compressed */
#define GW_FRAME_TRAILER    0x80u /* gRPC-Web: the trailers, as text */

typedef enum gw_rpc_dialect {
	GW_RPC_NONE = 0,       /* no dialect we know of */
	GW_RPC_CONNECT,        /* Connect unary: application/proto, /json */
	GW_RPC_GRPC_WEB,       /* application/grpc-web[+proto|+json] */
	GW_RPC_GRPC_WEB_TEXT,  /* application/grpc-web-text[+proto|+json] */
	GW_RPC_GRPC,           /* application/grpc[+...]: never served */
	GW_RPC_CONNECT_STREAM, /* application/connect+...: never served */
} gw_rpc_dialect;

typedef enum gw_rpc_codec {
	GW_RPC_PROTO = 0,   /* protobuf's binary encoding */
	GW_RPC_JSON,        /* proto3's JSON mapping */
	GW_RPC_CODEC_OTHER, /* a codec we do not speak ("application/xml") */
} gw_rpc_codec;

typedef struct gw_rpc_type {
	gw_rpc_dialect dialect;
	gw_rpc_codec codec;
} gw_rpc_type;

/*
 * The dialect and codec a Content-Type names (case-insensitive,
 * parameters after ';' ignored): "application/proto" and
 * "application/json" are Connect's; any other "application/x" is Connect
 * with a codec we lack (GW_RPC_CODEC_OTHER); the grpc, grpc-web,
 * grpc-web-text and connect+ families by their prefix ("+proto" the
 * default). ct NULL: GW_RPC_NONE.
 */
gw_rpc_type gw_rpc_content_type(const char *ct, size_t len);

typedef enum gw_frame_status {
	GW_FRAME_OK = 0,
	GW_FRAME_TRUNCATED, /* fewer bytes than the envelope says */
	GW_FRAME_TOO_LARGE, /* a message over the limit */
	GW_FRAME_COMPRESSED_UNSUPPORTED,
	GW_FRAME_BAD_FLAGS,  /* a trailer or unknown flag in a request */
	GW_FRAME_EXTRA,      /* bytes after the one message of a unary call */
	GW_FRAME_BAD_BASE64, /* grpc-web-text that is not base64 */
} gw_frame_status;

/* A sentence for the error's message: "The request's frame is cut
 * short." */
const char *gw_frame_status_text(gw_frame_status s);

/*
 * The one message of a unary gRPC-Web request body: exactly one data
 * frame (flags 0), nothing after it, at most max bytes of message. An
 * empty body is an empty message. *msg points into body.
 */
gw_frame_status gw_frame_unary(const uint8_t *body, size_t len, size_t max,
			       const uint8_t **msg, size_t *msg_len);

/*
 * grpc-web-text: the body is base64 (standard alphabet; padding where a
 * sender's chunks end, so "AAA=BBBB" is two chunks). Decodes into out
 * (uw_base64_decoded_max(len) bytes). 0 with *out_len, or -1.
 */
int gw_frame_text_decode(const char *s, size_t len, uint8_t *out,
			 size_t *out_len);

/* Connect-Timeout-Ms: 1 to 10 digits. 0 with *ms, or -1. */
int gw_rpc_connect_timeout(const char *v, size_t len, uint64_t *ms);
/* grpc-timeout: 1 to 8 digits and a unit (H M S m u n), rounded up to
 * whole milliseconds. 0 with *ms, or -1. */
int gw_rpc_grpc_timeout(const char *v, size_t len, uint64_t *ms);

/* The query of a Connect GET (names exact, as the protocol spells them;
 * the first of each counts; values still percent-encoded). */
typedef struct gw_connect_get {
	const char *message; /* NULL: none */
	size_t message_len;
	const char *encoding; /* "proto", "json"; NULL: none */
	size_t encoding_len;
	const char *compression; /* NULL: none */
	size_t compression_len;
	bool base64;      /* base64=1 */
	bool connect_v1;  /* connect=v1 */
	bool bad_connect; /* connect= names another version */
} gw_connect_get;

void gw_connect_get_parse(const char *query, size_t len, gw_connect_get *out);
/*
 * The message bytes of a GET: percent-decoded, then base64-decoded
 * (either alphabet, padding optional) when base64=1, into out (size
 * bytes; message_len + 1 always suffices). 0 with *out_len, or -1.
 */
int gw_connect_get_message(const gw_connect_get *g, uint8_t *out, size_t size,
			   size_t *out_len);

/*
 * The protocols' name of a status of the one status table (our codes are
 * gRPC's): "not_found", "canceled" (Connect's spelling); "unknown" for a
 * code outside it. Written into buf (32 bytes).
 */
#define GW_RPC_CODE_NAME_MAX 32
const char *gw_rpc_code_name(int code, char buf[GW_RPC_CODE_NAME_MAX]);

/* Appends an envelope's five bytes for a message of len bytes. 0 or -1. */
int gw_frame_put_header(uw_buf *out, uint8_t flags, size_t len);
/*
 * Appends google.rpc.Status { code, message, details: [ Any { type_url,
 * value } ] } in protobuf's binary encoding (no detail when type_url is
 * NULL). 0 or -1.
 */
int gw_frame_put_rpc_status(uw_buf *out, int code, const char *message,
			    const char *type_url, const uint8_t *value,
			    size_t value_len);
/*
 * Appends gRPC-Web's trailer frame: "grpc-status: N", "grpc-message: ..."
 * (percent-encoded as gRPC wants: bytes outside ' '..'~' and '%'), and
 * "grpc-status-details-bin: ..." (base64 without padding) when details is
 * not NULL. 0 or -1.
 */
int gw_frame_put_trailer(uw_buf *out, int code, const char *message,
			 const uint8_t *details, size_t details_len);

#endif /* GW_FRAME_H */
