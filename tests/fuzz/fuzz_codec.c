/*
 * fuzz_codec.c - the decode, encode, decode again and compare loop of the
 * codec fuzz targets (see fuzz_codec.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec_gen.h"
#include "fuzz_codec.h"

void
fuzz_codec_one(const fuzz_codec *fc, const ProtobufCMessageDescriptor *d,
	       const uint8_t *data, size_t size)
{
	ProtobufCMessage *m = uw_msg_new(d), *back = NULL;
	uw_decode_error err;
	uw_buf out = {0};
	int rc;

	if (m == NULL) {
		abort();
	}
	if (fc->read != NULL) {
		rc = fc->read(m, (const char *)data, size, fc->arg, &err);
	} else {
		rc = fc->codec->decode(m, (const char *)data, size, NULL, &err);
	}
	if (rc == 0) {
		if (fc->codec->encode(m, &out) != 0) {
			abort();
		}
		back = uw_msg_new(d);
		if (back == NULL ||
		    fc->codec->decode(back, out.data, out.len, NULL, &err) !=
			0 ||
		    !gen_same_packed(m, back)) {
			abort();
		}
	} else if (memchr(err.message, '\0', sizeof(err.message)) == NULL ||
		   (fc->explain && err.message[0] == '\0')) {
		abort();
	}
	uw_buf_fini(&out);
	if (back != NULL) {
		protobuf_c_message_free_unpacked(back, NULL);
	}
	protobuf_c_message_free_unpacked(m, NULL);
}

void
fuzz_codec_all(const fuzz_codec *fc, const uint8_t *data, size_t size,
	       const ProtobufCMessageDescriptor *const *extra)
{
	for (size_t i = 0; i < up_method_count(); i++) {
		fuzz_codec_one(fc, up_method_at(i)->desc->input, data, size);
	}
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
		fuzz_codec_one(fc, extra[i], data, size);
	}
}
