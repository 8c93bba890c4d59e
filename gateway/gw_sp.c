/*
 * gw_sp.c - nng's SP framing as a REQ peer speaks it (gw_sp.h).
 */
#include "gw_sp.h"

#define SP_REQ_V0 48u
#define SP_REP_V0 49u

void
gw_sp_hello(uint8_t out[GW_SP_HELLO_LEN])
{
	out[0] = 0;
	out[1] = 'S';
	out[2] = 'P';
	out[3] = 0;
	out[4] = (uint8_t)(SP_REQ_V0 >> 8);
	out[5] = (uint8_t)(SP_REQ_V0 & 0xffu);
	out[6] = 0;
	out[7] = 0;
}

int
gw_sp_hello_check(const uint8_t in[GW_SP_HELLO_LEN])
{
	if (in[0] != 0 || in[1] != 'S' || in[2] != 'P' || in[3] != 0 ||
	    ((unsigned)in[4] << 8 | in[5]) != SP_REP_V0 || in[6] != 0 ||
	    in[7] != 0) {
		return -1;
	}
	return 0;
}

size_t
gw_sp_head(uint8_t out[GW_SP_HEAD_MAX], bool ipc, size_t body_len)
{
	uint64_t len = (uint64_t)body_len + 4;
	size_t k = 0;

	if (ipc) {
		out[k++] = 1;
	}
	for (int shift = 56; shift >= 0; shift -= 8) {
		out[k++] = (uint8_t)(len >> shift);
	}
	out[k++] = (uint8_t)(GW_SP_REQUEST_ID >> 24);
	out[k++] = (uint8_t)(GW_SP_REQUEST_ID >> 16);
	out[k++] = (uint8_t)(GW_SP_REQUEST_ID >> 8);
	out[k++] = (uint8_t)GW_SP_REQUEST_ID;
	return k;
}

int
gw_sp_next(const uint8_t *p, size_t n, bool ipc, size_t max_body,
	   size_t *frame_len, size_t *body_off)
{
	size_t head = ipc ? 9 : 8;
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
	/* At least the request id; the body bounded before any sum. */
	if (len < 4 || len - 4 > max_body || len > SIZE_MAX - head) {
		return -1;
	}
	if (n >= head + 4 && (p[head] & 0x80u) == 0) {
		return -1; /* more than one hop of backtrace: not our peer */
	}
	if (n - head < len) {
		return 0;
	}
	*frame_len = head + (size_t)len;
	*body_off = head + 4;
	return 1;
}
