/* The cache of verified tokens: hits only for the same bytes, unexpired. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "token_cache.h"

int
main(void)
{
	ud_token_cache *tc = NULL;
	const char *a = "aaaa.bbbb.cccc", *b = "aaaa.bbbb.cccd";
	int64_t sub = 0, tv = 0;
	char tok[64];

	CHECK_INT(ud_token_cache_alloc(&tc), 0);
	CHECK(!ud_token_cache_get(tc, a, strlen(a), 100, &sub, &tv));
	ud_token_cache_put(tc, a, strlen(a), 7, 3, 200);
	CHECK(ud_token_cache_get(tc, a, strlen(a), 100, &sub, &tv));
	CHECK_INT(sub, 7);
	CHECK_INT(tv, 3);
	/* One byte off, a prefix, or past the expiry: a miss. */
	CHECK(!ud_token_cache_get(tc, b, strlen(b), 100, &sub, &tv));
	CHECK(!ud_token_cache_get(tc, a, strlen(a) - 1, 100, &sub, &tv));
	CHECK(!ud_token_cache_get(tc, a, strlen(a), 200, &sub, &tv));
	/* A token of a real length, one byte off anywhere: a miss. */
	{
		char big[301];
		memset(big, 'x', 300);
		big[300] = '\0';
		ud_token_cache_put(tc, big, 300, 9, 9, 200);
		CHECK(ud_token_cache_get(tc, big, 300, 100, &sub, &tv));
		for (int i = 0; i < 300; i++) {
			big[i] = 'y';
			CHECK(
			    !ud_token_cache_get(tc, big, 300, 100, &sub, &tv));
			big[i] = 'x';
		}
	}
	/* Many tokens: bounded, the latest of each slot wins, never a wrong
	 * subject. */
	for (int i = 0; i < 20000; i++) {
		snprintf(tok, sizeof(tok), "token-%d", i);
		ud_token_cache_put(tc, tok, strlen(tok), i, i, 1000);
	}
	for (int i = 0; i < 20000; i++) {
		snprintf(tok, sizeof(tok), "token-%d", i);
		if (ud_token_cache_get(tc, tok, strlen(tok), 1, &sub, &tv)) {
			CHECK_INT(sub, i);
		}
	}
	snprintf(tok, sizeof(tok), "token-%d", 19999);
	CHECK(ud_token_cache_get(tc, tok, strlen(tok), 1, &sub, &tv));
	ud_token_cache_free(tc);
	return check_done();
}
