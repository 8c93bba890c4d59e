/*
 * test_frame.c - the bytes of the RPC dialects (gateway/gw_frame.c): which
 * dialect and codec a Content-Type names, the unary gRPC-Web envelope and
 * its refusals, grpc-web-text's chunked base64, the two timeouts, Connect's
 * GET query, the status names, and the trailer frame with its
 * google.rpc.Status, byte for byte.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "gw_frame.h"
#include "users_proto.h"

static gw_rpc_type
ct(const char *s)
{
	return gw_rpc_content_type(s, strlen(s));
}

static void
test_content_type(void)
{
	CHECK_INT(ct("application/proto").dialect, GW_RPC_CONNECT);
	CHECK_INT(ct("application/proto").codec, GW_RPC_PROTO);
	CHECK_INT(ct("Application/JSON; charset=utf-8").dialect,
		  GW_RPC_CONNECT);
	CHECK_INT(ct("Application/JSON; charset=utf-8").codec, GW_RPC_JSON);
	CHECK_INT(ct("application/xml").dialect, GW_RPC_CONNECT);
	CHECK_INT(ct("application/xml").codec, GW_RPC_CODEC_OTHER);
	CHECK_INT(ct("application/grpc-web").dialect, GW_RPC_GRPC_WEB);
	CHECK_INT(ct("application/grpc-web").codec, GW_RPC_PROTO);
	CHECK_INT(ct("application/grpc-web+proto").codec, GW_RPC_PROTO);
	CHECK_INT(ct("application/grpc-web+json").codec, GW_RPC_JSON);
	CHECK_INT(ct("application/grpc-web+thrift").codec, GW_RPC_CODEC_OTHER);
	CHECK_INT(ct(" application/grpc-web-text ").dialect,
		  GW_RPC_GRPC_WEB_TEXT);
	CHECK_INT(ct("application/grpc-web-text+proto").codec, GW_RPC_PROTO);
	CHECK_INT(ct("application/grpc").dialect, GW_RPC_GRPC);
	CHECK_INT(ct("application/grpc+proto").dialect, GW_RPC_GRPC);
	CHECK_INT(ct("application/connect+proto").dialect,
		  GW_RPC_CONNECT_STREAM);
	CHECK_INT(ct("application/connect+json").codec, GW_RPC_JSON);
	/* a family's name must end where the type does, or at '+' */
	CHECK_INT(ct("application/grpcx").dialect, GW_RPC_CONNECT);
	CHECK_INT(ct("application/grpcx").codec, GW_RPC_CODEC_OTHER);
	CHECK_INT(ct("text/plain").dialect, GW_RPC_NONE);
	CHECK_INT(ct("application/").dialect, GW_RPC_NONE);
	CHECK_INT(ct("").dialect, GW_RPC_NONE);
	CHECK_INT(gw_rpc_content_type(NULL, 0).dialect, GW_RPC_NONE);
	/* the length given, not the NUL, ends the type */
	CHECK_INT(gw_rpc_content_type("application/protobuf", 17).codec,
		  GW_RPC_PROTO);
}

static gw_frame_status
unary(const char *b, size_t len, size_t max, size_t *n)
{
	const uint8_t *msg;

	return gw_frame_unary((const uint8_t *)b, len, max, &msg, n);
}

static void
test_unary(void)
{
	const uint8_t *msg = NULL;
	size_t n = 99;

	CHECK_INT(unary("", 0, 10, &n), GW_FRAME_OK);
	CHECK_INT(n, 0);
	CHECK_INT(
	    gw_frame_unary((const uint8_t *)"\0\0\0\0\3abc", 8, 10, &msg, &n),
	    GW_FRAME_OK);
	CHECK_INT(n, 3);
	CHECK(msg != NULL && memcmp(msg, "abc", 3) == 0);
	CHECK_INT(unary("\0\0\0\0\0", 5, 10, &n), GW_FRAME_OK);
	CHECK_INT(n, 0);
	/* cut short: in the header, in the message */
	CHECK_INT(unary("\0\0\0", 3, 10, &n), GW_FRAME_TRUNCATED);
	CHECK_INT(unary("\0\0\0\0\3ab", 7, 10, &n), GW_FRAME_TRUNCATED);
	/* a second frame, or a stray byte */
	CHECK_INT(unary("\0\0\0\0\1a\0", 7, 10, &n), GW_FRAME_EXTRA);
	/* over the limit: before the bytes are all there */
	CHECK_INT(unary("\0\0\0\0\13abc", 8, 10, &n), GW_FRAME_TOO_LARGE);
	CHECK_INT(unary("\0\xff\xff\xff\xff", 5, 10, &n), GW_FRAME_TOO_LARGE);
	CHECK_INT(unary("\0\0\0\0\12abc", 8, 10, &n), GW_FRAME_TRUNCATED);
	/* flags: compressed, a trailer, unknown bits */
	CHECK_INT(unary("\1\0\0\0\1a", 6, 10, &n),
		  GW_FRAME_COMPRESSED_UNSUPPORTED);
	CHECK_INT(unary("\x80\0\0\0\1a", 6, 10, &n), GW_FRAME_BAD_FLAGS);
	CHECK_INT(unary("\2\0\0\0\1a", 6, 10, &n), GW_FRAME_BAD_FLAGS);
	for (int s = GW_FRAME_OK; s <= GW_FRAME_BAD_BASE64; s++) {
		CHECK(strlen(gw_frame_status_text((gw_frame_status)s)) > 2);
	}
}

static int
text(const char *s, char *out, size_t *n)
{
	return gw_frame_text_decode(s, strlen(s), (uint8_t *)out, n);
}

static void
test_text(void)
{
	char out[64];
	size_t n;

	CHECK_INT(text("AAAAAAFh", out, &n), 0);
	CHECK_INT(n, 6);
	CHECK(memcmp(out, "\0\0\0\0\1a", 6) == 0);
	/* chunks a sender padded separately */
	CHECK_INT(text("YQ==Yg==", out, &n), 0);
	CHECK_INT(n, 2);
	CHECK(memcmp(out, "ab", 2) == 0);
	CHECK_INT(text("YWI=YQ==", out, &n), 0);
	CHECK_INT(n, 3);
	CHECK(memcmp(out, "aba", 3) == 0);
	CHECK_INT(text("", out, &n), 0);
	CHECK_INT(n, 0);
	/* padding that does not end its quad, or stands alone */
	CHECK_INT(text("YQ=", out, &n), -1);
	CHECK_INT(text("YQ=a", out, &n), -1);
	CHECK_INT(text("====", out, &n), -1);
	CHECK_INT(text("Y!==", out, &n), -1);
}

static void
test_timeouts(void)
{
	uint64_t ms = 0;

	CHECK_INT(gw_rpc_connect_timeout("1", 1, &ms), 0);
	CHECK_INT(ms, 1);
	CHECK_INT(gw_rpc_connect_timeout("9999999999", 10, &ms), 0);
	CHECK_INT(ms, 9999999999LL);
	CHECK_INT(gw_rpc_connect_timeout("10000000000", 11, &ms), -1);
	CHECK_INT(gw_rpc_connect_timeout("", 0, &ms), -1);
	CHECK_INT(gw_rpc_connect_timeout("5s", 2, &ms), -1);
	CHECK_INT(gw_rpc_connect_timeout("-1", 2, &ms), -1);
	CHECK_INT(gw_rpc_connect_timeout(NULL, 0, &ms), -1);

	CHECK_INT(gw_rpc_grpc_timeout("2S", 2, &ms), 0);
	CHECK_INT(ms, 2000);
	CHECK_INT(gw_rpc_grpc_timeout("1H", 2, &ms), 0);
	CHECK_INT(ms, 3600000);
	CHECK_INT(gw_rpc_grpc_timeout("3M", 2, &ms), 0);
	CHECK_INT(ms, 180000);
	CHECK_INT(gw_rpc_grpc_timeout("250m", 4, &ms), 0);
	CHECK_INT(ms, 250);
	/* rounded up: a microsecond is a millisecond, not none */
	CHECK_INT(gw_rpc_grpc_timeout("1u", 2, &ms), 0);
	CHECK_INT(ms, 1);
	CHECK_INT(gw_rpc_grpc_timeout("1000001n", 8, &ms), 0);
	CHECK_INT(ms, 2);
	CHECK_INT(gw_rpc_grpc_timeout("99999999H", 9, &ms), 0);
	CHECK_INT(ms, 99999999ULL * 3600000ULL);
	CHECK_INT(gw_rpc_grpc_timeout("100000000H", 10, &ms), -1);
	CHECK_INT(gw_rpc_grpc_timeout("5", 1, &ms), -1);
	CHECK_INT(gw_rpc_grpc_timeout("5x", 2, &ms), -1);
	CHECK_INT(gw_rpc_grpc_timeout("S", 1, &ms), -1);
	CHECK_INT(gw_rpc_grpc_timeout("5SS", 3, &ms), -1);
}

static void
test_get(void)
{
	static const char q[] = "connect=v1&encoding=proto&base64=1&message="
				"CgEx&message=ignored&compression=identity";
	gw_connect_get g;
	uint8_t out[64];
	size_t n;

	gw_connect_get_parse(q, strlen(q), &g);
	CHECK(g.connect_v1 && !g.bad_connect && g.base64);
	CHECK(g.encoding != NULL && g.encoding_len == 5 &&
	      memcmp(g.encoding, "proto", 5) == 0);
	CHECK(g.message != NULL && g.message_len == 4 &&
	      memcmp(g.message, "CgEx", 4) == 0);
	CHECK(g.compression != NULL && g.compression_len == 8);
	CHECK_INT(gw_connect_get_message(&g, out, g.message_len + 1, &n), 0);
	CHECK_INT(n, 3);
	CHECK(memcmp(out,
		     "\x0a\x01"
		     "1",
		     3) == 0);

	/* JSON, percent-encoded, not base64 */
	gw_connect_get_parse(
	    "encoding=json&message=%7B%22userId%22%3A%221%22%7D", 50, &g);
	CHECK(!g.base64 && !g.connect_v1 && !g.bad_connect);
	CHECK_INT(gw_connect_get_message(&g, out, g.message_len + 1, &n), 0);
	CHECK_INT(n, 14);
	CHECK(memcmp(out, "{\"userId\":\"1\"}", 14) == 0);

	/* URL-safe base64 without padding */
	gw_connect_get_parse("base64=1&message=-_8", 20, &g);
	CHECK_INT(gw_connect_get_message(&g, out, g.message_len + 1, &n), 0);
	CHECK_INT(n, 2);
	CHECK(out[0] == 0xfb && out[1] == 0xff);
	gw_connect_get_parse("base64=1&message=%21%21", 23, &g);
	CHECK_INT(gw_connect_get_message(&g, out, g.message_len + 1, &n), -1);

	gw_connect_get_parse("connect=v2", 10, &g);
	CHECK(g.bad_connect && !g.connect_v1);
	gw_connect_get_parse("base64=0&message", 16, &g);
	CHECK(!g.base64 && g.message != NULL && g.message_len == 0);
	gw_connect_get_parse(NULL, 0, &g);
	CHECK(g.message == NULL && g.encoding == NULL);
	CHECK_INT(gw_connect_get_message(&g, out, sizeof(out), &n), 0);
	CHECK_INT(n, 0);
	/* names are exact */
	gw_connect_get_parse("Message=x&messages=y", 20, &g);
	CHECK(g.message == NULL);
}

static void
test_code_names(void)
{
	char buf[GW_RPC_CODE_NAME_MAX];

	CHECK_STR(gw_rpc_code_name(UP_NOT_FOUND, buf), "not_found");
	CHECK_STR(gw_rpc_code_name(UP_CANCELLED, buf), "canceled");
	CHECK_STR(gw_rpc_code_name(UP_UNAUTHENTICATED, buf), "unauthenticated");
	CHECK_STR(gw_rpc_code_name(UP_PERMISSION_DENIED, buf),
		  "permission_denied");
	CHECK_STR(gw_rpc_code_name(UP_ALREADY_EXISTS, buf), "already_exists");
	CHECK_STR(gw_rpc_code_name(UP_DEADLINE_EXCEEDED, buf),
		  "deadline_exceeded");
	CHECK_STR(gw_rpc_code_name(UP_RESOURCE_EXHAUSTED, buf),
		  "resource_exhausted");
	CHECK_STR(gw_rpc_code_name(12345, buf), "unknown");
}

static void
test_trailer(void)
{
	uw_buf b = {0};
	uw_buf st = {0};
	size_t tl;

	/* the status message: code 5, "x", an Any of type "t" and value "v" */
	CHECK_INT(
	    gw_frame_put_rpc_status(&st, 5, "x", "t", (const uint8_t *)"v", 1),
	    0);
	CHECK_INT(st.len, 13);
	CHECK(memcmp(st.data, "\x08\x05\x12\x01x\x1a\x06\x0a\x01t\x12\x01v",
		     13) == 0);
	st.len = 0;
	CHECK_INT(gw_frame_put_rpc_status(&st, 0, NULL, NULL, NULL, 0), 0);
	CHECK_INT(st.len, 0);
	uw_buf_fini(&st);

	CHECK_INT(gw_frame_put_trailer(&b, 5, "gone 100% \xc3\xa9", NULL, 0),
		  0);
	tl = strlen("grpc-status: 5\r\ngrpc-message: gone 100%25 %C3%A9\r\n");
	CHECK_INT(b.len, GW_FRAME_HEADER + tl);
	CHECK_INT((uint8_t)b.data[0], GW_FRAME_TRAILER);
	CHECK_INT(((uint8_t)b.data[3] << 8) | (uint8_t)b.data[4], tl);
	CHECK(memcmp(b.data + GW_FRAME_HEADER,
		     "grpc-status: 5\r\ngrpc-message: gone 100%25 %C3%A9\r\n",
		     tl) == 0);
	b.len = 0;
	CHECK_INT(gw_frame_put_trailer(&b, 0, NULL, (const uint8_t *)"ab", 2),
		  0);
	tl = strlen("grpc-status: 0\r\ngrpc-status-details-bin: YWI\r\n");
	CHECK_INT(b.len, GW_FRAME_HEADER + tl);
	CHECK(memcmp(b.data + GW_FRAME_HEADER,
		     "grpc-status: 0\r\ngrpc-status-details-bin: YWI\r\n",
		     tl) == 0);
	b.len = 0;
	CHECK_INT(gw_frame_put_header(&b, 0, 0x01020304), 0);
	CHECK(b.len == 5 && memcmp(b.data, "\0\1\2\3\4", 5) == 0);
	uw_buf_fini(&b);
}

int
main(void)
{
	test_content_type();
	test_unary();
	test_text();
	test_timeouts();
	test_get();
	test_code_names();
	test_trailer();
	return check_done();
}
