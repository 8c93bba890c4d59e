/*
 * fuzz_password_hash.c - the reader of stored password hashes
 * (ud_password_hash_parse: every scheme of password.h, and the standard
 * base64 decoder under it) on arbitrary input, as an imported row or a
 * planted database value would give it. A hash that parses must have a
 * scheme and no reason, one that does not a reason; the rehash decision
 * reads the same input. Verification runs only for the ASP.NET Identity
 * v2 layout, whose cost is fixed (1000 iterations): the other schemes'
 * work is bounded by the caps, but seconds per input would stall the
 * fuzzer. The corpus holds one valid hash of each scheme.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "password.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[UD_PASSWORD_STORED_MAX + 64];
	uint8_t raw[sizeof(s)];
	ud_hash_scheme scheme;
	const char *why;
	size_t n;

	if (size >= sizeof(s)) {
		return 0;
	}
	memcpy(s, data, size);
	s[size] = '\0';
	if (ud_password_hash_parse(s, &scheme, &why) == 0) {
		if (scheme == UD_HASH_UNKNOWN || why != NULL) {
			abort();
		}
		if (scheme == UD_HASH_ASPNET_V2) {
			(void)ud_password_verify(s, "password", 8);
		}
	} else if (scheme != UD_HASH_UNKNOWN || why == NULL) {
		abort();
	}
	(void)ud_password_needs_rehash(s, NULL);
	(void)ud_b64std_decode(s, size, raw, sizeof(raw), &n);
	return 0;
}
