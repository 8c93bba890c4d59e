/*
 * fuzz_batch.c - the batch reader (proto/batch.c), which usersd runs on
 * every client's batch and libusersclient on every answer: each frame must
 * lie inside the input, and each envelope it hands out is unpacked (as a
 * request and as an answer, whichever the bytes are) and freed, its
 * secrets wiped, as the daemon and the client do.
 */
#include <stdint.h>
#include <stdlib.h>

#include "users_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	up_batch_reader r;
	uint32_t call;
	const uint8_t *env;
	size_t len;
	int rc;

	if (up_meta_load() != 0) {
		abort();
	}
	(void)up_batch_is(data, size);
	up_batch_reader_init(&r, data, size);
	while ((rc = up_batch_next(&r, &call, &env, &len)) == 1) {
		Users__V1__RequestEnvelope *q;
		Users__V1__ResponseEnvelope *a;

		if (env < data || len > size || env + len > data + size) {
			abort();
		}
		q = users__v1__request_envelope__unpack(NULL, len, env);
		if (q != NULL) {
			up_message_wipe_secrets(&q->base);
			users__v1__request_envelope__free_unpacked(q, NULL);
		}
		a = users__v1__response_envelope__unpack(NULL, len, env);
		if (a != NULL) {
			users__v1__response_envelope__free_unpacked(a, NULL);
		}
	}
	if (rc == -1 && r.p != r.end) {
		abort();
	}
	return 0;
}
