/*
 * fuzz_frame.c - the bytes of the RPC dialects (gateway/gw_frame.c) on
 * untrusted input: the whole input as a unary gRPC-Web body (with a small
 * and a large limit), as grpc-web-text, as a Content-Type, as the two
 * timeouts and as a Connect GET query whose message is then decoded.
 *
 * Never a crash, a read out of bounds or UB, and the answers keep their
 * promises: a message found lies inside the body, within the limit, and is
 * exactly the body after one envelope; a body we frame ourselves reads back
 * as the same message; decoded text never outgrows its room; a timeout
 * read is the digits given; the GET message never outgrows message_len.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_frame.h"
#include "fuzz_require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_unary(const uint8_t *data, size_t size, size_t max)
{
	const uint8_t *msg = NULL;
	size_t n = 0;
	gw_frame_status s = gw_frame_unary(data, size, max, &msg, &n);

	require(s >= GW_FRAME_OK && s <= GW_FRAME_BAD_BASE64);
	require(gw_frame_status_text(s) != NULL);
	if (s != GW_FRAME_OK) {
		return;
	}
	require(n <= max);
	if (size == 0) {
		require(n == 0);
		return;
	}
	require(msg == data + GW_FRAME_HEADER && n == size - GW_FRAME_HEADER);
	require(data[0] == 0);
}

/* Our own envelope around the input reads back as the input. */
static void
check_round_trip(const uint8_t *data, size_t size)
{
	uw_buf b = {0};
	const uint8_t *msg = NULL;
	size_t n = 0;

	require(gw_frame_put_header(&b, 0, size) == 0);
	require(size == 0 || uw_buf_append(&b, data, size) == 0);
	require(gw_frame_unary((const uint8_t *)b.data, b.len, size, &msg,
			       &n) == GW_FRAME_OK);
	require(n == size && (size == 0 || memcmp(msg, data, size) == 0));
	if (size > 0) {
		require(gw_frame_unary((const uint8_t *)b.data, b.len, size - 1,
				       &msg, &n) == GW_FRAME_TOO_LARGE);
		require(gw_frame_unary((const uint8_t *)b.data, b.len - 1, size,
				       &msg, &n) == GW_FRAME_TRUNCATED);
	}
	uw_buf_fini(&b);
}

static void
check_text(const uint8_t *data, size_t size)
{
	size_t room = uw_base64_decoded_max(size);
	uint8_t *out = malloc(room > 0 ? room : 1);
	size_t n = 0;

	require(out != NULL);
	if (gw_frame_text_decode((const char *)data, size, out, &n) == 0) {
		require(n <= room && n <= size);
	}
	free(out);
}

static void
check_timeouts(const uint8_t *data, size_t size)
{
	uint64_t ms = 0;

	if (gw_rpc_connect_timeout((const char *)data, size, &ms) == 0) {
		require(size >= 1 && size <= 10 && ms <= 9999999999ULL);
	}
	if (gw_rpc_grpc_timeout((const char *)data, size, &ms) == 0) {
		require(size >= 2 && size <= 9);
		require(ms <= 99999999ULL * 3600000ULL);
	}
}

static void
check_get(const uint8_t *data, size_t size)
{
	const char *q = (const char *)data;
	gw_connect_get g;
	uint8_t *out;
	size_t n = 0;

	gw_connect_get_parse(q, size, &g);
	require(!(g.connect_v1 && g.bad_connect));
	require(g.message == NULL ||
		(g.message >= q && g.message + g.message_len <= q + size));
	require(g.encoding == NULL ||
		(g.encoding >= q && g.encoding + g.encoding_len <= q + size));
	require(g.compression == NULL ||
		(g.compression >= q &&
		 g.compression + g.compression_len <= q + size));
	out = malloc(g.message_len + 1);
	require(out != NULL);
	if (gw_connect_get_message(&g, out, g.message_len + 1, &n) == 0) {
		require(n <= g.message_len);
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gw_rpc_type t;

	check_unary(data, size, 16);
	check_unary(data, size, SIZE_MAX);
	check_round_trip(data, size);
	check_text(data, size);
	check_timeouts(data, size);
	check_get(data, size);
	t = gw_rpc_content_type((const char *)data, size);
	require(t.dialect >= GW_RPC_NONE && t.dialect <= GW_RPC_CONNECT_STREAM);
	require(t.codec >= GW_RPC_PROTO && t.codec <= GW_RPC_CODEC_OTHER);
	return 0;
}
