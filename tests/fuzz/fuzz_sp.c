/*
 * fuzz_sp.c - nng's SP framing on a stream (proto/sp.c), on untrusted
 * input: the input as the bytes of an ipc:// and of a tcp:// connection,
 * with a small and a large limit, read frame by frame as usersgw's hop and
 * usersd's listeners do, and as a peer's hello.
 *
 * Never a crash, a read out of bounds or UB, and the answers keep their
 * promises: a frame found lies inside the input, its body starts after its
 * head and a backtrace of 1 to UP_SP_HOPS_MAX words whose last word alone
 * has its top bit set, its payload stays within the limit, and its length
 * is the one its head says; a frame we head ourselves reads back as the
 * same body; a hello passes only when it is the protocol's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_require.h"
#include "users_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads data frame after frame until one is cut short or refused. */
static void
read_stream(const uint8_t *data, size_t size, bool ipc, size_t max)
{
	size_t head = ipc ? 9 : 8;

	while (size > 0) {
		size_t frame_len = 0, body_off = 0, words;
		uint64_t said = 0;
		int r = up_sp_next(data, size, ipc, max, &frame_len, &body_off);

		require(r >= -1 && r <= 1);
		if (r != 1) {
			return;
		}
		require(frame_len <= size);
		require(body_off > head && (body_off - head) % 4 == 0);
		words = (body_off - head) / 4;
		require(words >= 1 && words <= UP_SP_HOPS_MAX);
		for (size_t w = 0; w < words; w++) {
			require(((data[head + 4 * w] & 0x80u) != 0) ==
				(w == words - 1));
		}
		require(frame_len >= body_off);
		require(frame_len - head <= max);
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

/* The input as a body we frame behind one request id: it reads back
 * whole, as itself. */
static void
round_trip(const uint8_t *data, size_t size, bool ipc)
{
	uint8_t *buf = malloc(UP_SP_HEAD_MAX + 4 + size);
	size_t hl, frame_len = 0, body_off = 0;

	require(buf != NULL);
	hl = up_sp_head(buf, ipc, 4 + size);
	require(hl == (ipc ? 9u : 8u));
	memcpy(buf + hl, "\x80\x00\x00\x01", 4);
	hl += 4;
	if (size > 0) {
		memcpy(buf + hl, data, size);
	}
	require(up_sp_next(buf, hl + size, ipc, 4 + size, &frame_len,
			   &body_off) == 1);
	require(frame_len == hl + size && body_off == hl);
	require(size == 0 || memcmp(buf + body_off, data, size) == 0);
	/* one byte short: not yet whole */
	require(up_sp_next(buf, hl + size - 1, ipc, 4 + size, &frame_len,
			   &body_off) == 0);
	/* a limit below the payload: refused */
	require(up_sp_next(buf, hl + size, ipc, 3 + size, &frame_len,
			   &body_off) == -1);
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
	if (size >= UP_SP_HELLO_LEN) {
		static const uint8_t rep[UP_SP_HELLO_LEN] = {0, 'S', 'P', 0,
							     0, 49,  0,   0};
		int ok = up_sp_hello_check(data, UP_SP_REP);

		require(ok == 0 || ok == -1);
		require((ok == 0) == (memcmp(data, rep, sizeof(rep)) == 0));
		require((up_sp_hello_check(data, UP_SP_REQ) == 0) ==
			(memcmp(data, rep, 5) == 0 && data[5] == 48 &&
			 data[6] == 0 && data[7] == 0));
	}
	return 0;
}
