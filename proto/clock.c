/*
 * clock.c - the one monotonic clock in milliseconds (users_proto.h).
 */
#include <time.h>

#include "users_proto.h"

int64_t
up_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
