/*
 * fuzz_json.c - the JSON decoder on untrusted bodies: the input is decoded
 * into each request DTO of the service (and a few nested responses), the
 * result encoded back, and that encoding must decode to the same message
 * (decode(encode(m)) == m, compared by packed bytes). Never a crash, a leak
 * or a mismatch.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fuzz_codec fc = {&uw_codec_json, NULL, NULL, false};
	static const ProtobufCMessageDescriptor *const extra[] = {
	    &users__v1__business_user_profile_data_response__descriptor,
	    &users__v1__response_status__descriptor,
	    &users__v1__request_envelope__descriptor, NULL};

	if (up_meta_load() != 0) {
		abort();
	}
	fuzz_codec_all(&fc, data, size, extra);
	return 0;
}
