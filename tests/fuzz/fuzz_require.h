/*
 * fuzz_require.h - what a fuzz target promises: require(cond) aborts when
 * cond is false, so libFuzzer (or the corpus replay) reports the input.
 */
#ifndef FUZZ_REQUIRE_H
#define FUZZ_REQUIRE_H

#include <stdbool.h>
#include <stdlib.h>

static inline void
require(bool cond)
{
	if (!cond) {
		abort();
	}
}

#endif /* FUZZ_REQUIRE_H */
