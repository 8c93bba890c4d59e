/*
 * fuzz_sp.c - nng's SP framing as usersgw's hop reads it from a daemon
 * (gateway/gw_sp.c), on untrusted input: the input as the bytes of an ipc://
 * and of a tcp:// connection, with a small and a large body limit, read
 * frame by frame as gw_hop.c does, and as a peer's hello.
 *
 * Never a crash, a read out of bounds or UB, and the answers keep their
 * promises: a frame found lies inside the input, its body starts after its
 * head and request id and stays within the limit, and its length is the
 * one its head says; a frame we head ourselves reads back as the same
 * body; a hello passes only when it is REP v0's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_sp.h"
#include "fuzz_require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads data as gw_hop.c does: frame after frame until one is cut short
 * or refused. */
static void
read_stream(const uint8_t *data, size_t size, bool ipc, size_t max)
{
	size_t head = ipc ? 9 : 8;

	while (size > 0) {
		size_t frame_len = 0, body_off = 0;
		uint64_t said = 0;
		int r = gw_sp_next(data, size, ipc, max, &frame_len, &body_off);

		require(r >= -1 && r <= 1);
		if (r != 1) {
			return;
		}
		require(frame_len <= size);
		require(body_off == head + 4);
		require(frame_len >= body_off);
		require(frame_len - body_off <= max);
		require((data[head] & 0x80u) != 0);
		if (ipc) {
			require(data[0] == 1);
		}
		for (size_t i = head - 8; i < head; i++) {
			said = said << 8 | data[i];
		}
		require(said == frame_len - head);
		data += frame_len;
		size -= frame_len;
	}
}

/* The input as a body we frame: it reads back whole, as itself. */
static void
round_trip(const uint8_t *data, size_t size, bool ipc)
{
	uint8_t *buf = malloc(GW_SP_HEAD_MAX + size);
	size_t hl, frame_len = 0, body_off = 0;

	require(buf != NULL);
	hl = gw_sp_head(buf, ipc, size);
	require(hl == (ipc ? 13u : 12u));
	if (size > 0) {
		memcpy(buf + hl, data, size);
	}
	require(gw_sp_next(buf, hl + size, ipc, size, &frame_len, &body_off) ==
		1);
	require(frame_len == hl + size && body_off == hl);
	require(size == 0 || memcmp(buf + body_off, data, size) == 0);
	if (size > 0) { /* one byte short: not yet whole */
		require(gw_sp_next(buf, hl + size - 1, ipc, size, &frame_len,
				   &body_off) == 0);
	}
	if (size > 0) { /* a limit below the body: refused */
		require(gw_sp_next(buf, hl + size, ipc, size - 1, &frame_len,
				   &body_off) == -1);
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	read_stream(data, size, true, 64);
	read_stream(data, size, false, 64);
	read_stream(data, size, true, 16u * 1024u * 1024u);
	read_stream(data, size, false, 16u * 1024u * 1024u);
	round_trip(data, size, true);
	round_trip(data, size, false);
	if (size >= GW_SP_HELLO_LEN) {
		static const uint8_t rep[GW_SP_HELLO_LEN] = {0, 'S', 'P', 0,
							     0, 49,  0,   0};
		int ok = gw_sp_hello_check(data);

		require(ok == 0 || ok == -1);
		require((ok == 0) == (memcmp(data, rep, sizeof(rep)) == 0));
	}
	return 0;
}
