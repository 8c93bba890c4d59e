/*
 * fuzz_xml.c - the XML decoder on untrusted bodies: the input is decoded
 * into each request DTO of the service (and a few nested responses), the
 * result encoded back, and that encoding must decode to the same message
 * (decode(encode(m)) == m, compared by packed bytes). Never a crash, a
 * leak, a mismatch, or an external entity load (the loader aborts).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <libxml/parser.h>

#include "fuzz_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static xmlParserInputPtr
no_loads(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	abort(); /* the decoder must never fetch anything */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fuzz_codec fc = {&uw_codec_xml, NULL, NULL, true};
	static const ProtobufCMessageDescriptor *const extra[] = {
	    &users__v1__user_info__descriptor,
	    &users__v1__business_user_profile_data_response__descriptor,
	    &users__v1__list_users_response__descriptor,
	    &users__v1__response_status__descriptor,
	    &users__v1__request_envelope__descriptor,
	    NULL};
	static bool ready;

	if (!ready) {
		if (up_meta_load() != 0) {
			abort();
		}
		xmlSetExternalEntityLoader(no_loads);
		ready = true;
	}
	fuzz_codec_all(&fc, data, size, extra);
	return 0;
}
