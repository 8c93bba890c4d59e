/*
 * fuzz_envelope.c - the daemon's decoder of untrusted bytes: a request
 * envelope, its method, the payload as that method's request, the
 * bounds/UTF-8 walk that every request goes through before a handler, and
 * the wipe of their secrets before they are freed (as call_free does).
 */
#include <stdint.h>
#include <stdlib.h>

#include "service.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Users__V1__RequestEnvelope *env;
	const up_method *m;
	ud_call c = {0};

	if (up_meta_load() != 0) {
		abort();
	}
	env = users__v1__request_envelope__unpack(NULL, size, data);
	if (env == NULL) {
		return 0;
	}
	m = up_method_find(env->method);
	if (m != NULL) {
		ProtobufCMessage *req = protobuf_c_message_unpack(
		    m->desc->input, NULL,
		    env->has_payload ? env->payload.len : 0,
		    env->has_payload ? env->payload.data : data);
		if (req != NULL) {
			ud_validate_bounds(&c, req);
			up_message_wipe_secrets(req);
			protobuf_c_message_free_unpacked(req, NULL);
		}
	}
	if (c.error != NULL) {
		users__v1__response_status__free_unpacked(c.error, NULL);
	}
	up_message_wipe_secrets(&env->base);
	users__v1__request_envelope__free_unpacked(env, NULL);
	return 0;
}
