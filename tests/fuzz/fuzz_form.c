/*
 * fuzz_form.c - the form/query-string reader on untrusted input: the input
 * is applied to each request DTO of the service (with and without
 * only_unset), the result encoded as JSON, and that must decode back to the
 * same message. Never a crash, a leak or a mismatch.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The form into m; *arg (a bool): only_unset, over a preset field. */
static int
read_form(ProtobufCMessage *m, const char *form, size_t len, const void *arg,
	  uw_decode_error *err)
{
	bool only_unset = *(const bool *)arg;

	/* a preset field, as a body would leave it */
	if (only_unset && uw_msg_set_text(m, "userId", 6, "7", 1, err) != 0) {
		abort();
	}
	return uw_msg_set_form(m, form, len, only_unset, NULL, err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const bool no = false, yes = true;
	static const fuzz_codec all = {&uw_codec_json, read_form, &no, false};
	static const fuzz_codec unset = {&uw_codec_json, read_form, &yes,
					 false};

	if (up_meta_load() != 0) {
		abort();
	}
	for (size_t i = 0; i < up_method_count(); i++) {
		const ProtobufCMessageDescriptor *d =
		    up_method_at(i)->desc->input;
		fuzz_codec_one(&all, d, data, size);
		fuzz_codec_one(&unset, d, data, size);
	}
	fuzz_codec_one(&all, &users__v1__user_info__descriptor, data, size);
	return 0;
}
