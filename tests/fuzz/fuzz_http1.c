/*
 * fuzz_http1.c - usersbench --http's response reader (client/bench_http1.c)
 * over any bytes a server could send.
 *
 * The input is copied into a buffer of its exact size, so a read one byte
 * past it is caught. Never a crash, a read out of bounds or UB; and when
 * a response is complete: it lies within the input, its body starts after
 * the head and fits in the response, its status is 200..599, every strict
 * prefix of it is incomplete (the reader never decides early), the body
 * copied out has the length the reader gave, and the same bytes give the
 * same answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench_http1.h"
#include "fuzz_require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1), *body;
	bh1_response r, again, part;
	size_t n;
	int rc;

	if (buf == NULL) {
		return 0;
	}
	memcpy(buf, data, size);
	rc = bh1_parse(buf, size, &r);
	require(rc == BH1_DONE || rc == BH1_MORE || rc == BH1_BAD);
	require(bh1_parse(buf, size, &again) == rc);
	if (rc == BH1_DONE) {
		require(memcmp(&r, &again, sizeof(r)) == 0);
		require(r.size <= size && r.body_off <= r.size);
		require(r.status >= 200 && r.status <= 599);
		require(r.body_len <= BH1_MAX_BODY);
		require(r.chunked || r.body_off + r.body_len == r.size);
		require(bh1_parse(buf, r.size, &part) == BH1_DONE &&
			part.size == r.size);
		for (n = r.size > 64 ? r.size - 64 : 0; n < r.size; n++) {
			require(bh1_parse(buf, n, &part) == BH1_MORE);
		}
		body = malloc(r.body_len + 1);
		if (body != NULL) {
			require(bh1_body(buf, &r, body, r.body_len + 1) ==
				r.body_len);
			require(strlen(body) <= r.body_len);
			free(body);
		}
	}
	free(buf);
	return 0;
}
