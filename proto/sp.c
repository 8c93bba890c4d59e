/*
 * sp.c - nng's SP framing on a stream, read and written by our own loops
 * (users_proto.h, "SP framing", says what goes over the wire).
 */
#include <stdint.h>

#include "users_proto.h"

void
up_sp_hello(uint8_t out[UP_SP_HELLO_LEN], unsigned proto)
{
	out[0] = 0;
	out[1] = 'S';
	out[2] = 'P';
	out[3] = 0;
	out[4] = (uint8_t)(proto >> 8);
	out[5] = (uint8_t)(proto & 0xffu);
	out[6] = 0;
	out[7] = 0;
}

int
up_sp_hello_check(const uint8_t in[UP_SP_HELLO_LEN], unsigned proto)
{
	if (in[0] != 0 || in[1] != 'S' || in[2] != 'P' || in[3] != 0 ||
	    ((unsigned)in[4] << 8 | in[5]) != proto || in[6] != 0 ||
	    in[7] != 0) {
		return -1;
	}
	return 0;
}

size_t
up_sp_head(uint8_t out[UP_SP_HEAD_MAX], bool ipc, size_t payload_len)
{
	uint64_t len = (uint64_t)payload_len;
	size_t k = 0;

	if (ipc) {
		out[k++] = 1;
	}
	for (int shift = 56; shift >= 0; shift -= 8) {
		out[k++] = (uint8_t)(len >> shift);
	}
	return k;
}

int
up_sp_next(const uint8_t *p, size_t n, bool ipc, size_t max_payload,
	   size_t *frame_len, size_t *body_off)
{
	size_t head = ipc ? 9 : 8, words;
	uint64_t len = 0;

	if (n == 0) {
		return 0;
	}
	if (ipc && p[0] != 1) {
		return -1;
	}
	if (n < head) {
		return 0;
	}
	for (size_t i = head - 8; i < head; i++) {
		len = len << 8 | p[i];
	}
	/* bounded before any sum */
	if (len > max_payload || len > SIZE_MAX - head) {
		return -1;
	}
	/* The backtrace: words up to the one with its top bit set, found
	 * as soon as its bytes are here. */
	words = (size_t)len / 4;
	if (words > UP_SP_HOPS_MAX) {
		words = UP_SP_HOPS_MAX;
	}
	for (size_t w = 0;; w++) {
		if (w == words) {
			return -1; /* no request id, or too many hops */
		}
		if (n < head + 4 * (w + 1)) {
			return 0;
		}
		if ((p[head + 4 * w] & 0x80u) != 0) {
			*body_off = head + 4 * (w + 1);
			break;
		}
	}
	if (n - head < len) {
		return 0;
	}
	*frame_len = head + (size_t)len;
	return 1;
}
