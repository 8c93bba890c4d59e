/*
 * fuzz_csv.c - the CSV decoder on untrusted bodies: the input is decoded
 * into each request DTO of the service (and a few nested responses), the
 * result encoded back, and that encoding must decode to the same message
 * (decode(encode(m)) == m, compared by packed bytes). Never a crash, a leak
 * or a mismatch.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
same_packed(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	size_t na = protobuf_c_message_get_packed_size(a);
	size_t nb = protobuf_c_message_get_packed_size(b);
	uint8_t *pa, *pb;
	bool same;

	if (na != nb) {
		return false;
	}
	pa = malloc(na + 1);
	pb = malloc(nb + 1);
	if (pa == NULL || pb == NULL) {
		abort();
	}
	protobuf_c_message_pack(a, pa);
	protobuf_c_message_pack(b, pb);
	same = memcmp(pa, pb, na) == 0;
	free(pa);
	free(pb);
	return same;
}

static void
one(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t size)
{
	ProtobufCMessage *m = gw_msg_new(d), *back = NULL;
	gw_decode_error err;
	gw_buf out = {0};

	if (m == NULL) {
		abort();
	}
	if (gw_codec_csv.decode(m, (const char *)data, size, NULL, &err) == 0) {
		if (gw_codec_csv.encode(m, &out) != 0) {
			abort();
		}
		back = gw_msg_new(d);
		if (back == NULL ||
		    gw_codec_csv.decode(back, out.data, out.len, NULL, &err) !=
			0 ||
		    !same_packed(m, back)) {
			abort();
		}
	} else if (memchr(err.message, '\0', sizeof(err.message)) == NULL) {
		abort();
	}
	gw_buf_fini(&out);
	if (back != NULL) {
		protobuf_c_message_free_unpacked(back, NULL);
	}
	protobuf_c_message_free_unpacked(m, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (up_meta_load() != 0) {
		abort();
	}
	for (size_t i = 0; i < up_method_count(); i++) {
		one(up_method_at(i)->desc->input, data, size);
	}
	/* nested values (JSV in cells) */
	one(&users__v1__business_user_profile_data_response__descriptor, data,
	    size);
	one(&users__v1__business_user_profile_data_view__descriptor, data,
	    size);
	one(&users__v1__response_status__descriptor, data, size);
	one(&users__v1__user_info__descriptor, data, size);
	return 0;
}
