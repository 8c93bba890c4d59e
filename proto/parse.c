/*
 * parse.c - the numbers of command lines and configuration: one strict
 * reader for every program (usersd, usersgw, the benchmark tools).
 */
#include <errno.h>
#include <stdlib.h>

#include "users_proto.h"

int
up_parse_ulong(const char *s, unsigned long min, unsigned long max,
	       unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s == NULL || s[0] < '0' || s[0] > '9') {
		return -1; /* no sign, no space, no empty string */
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max) {
		return -1;
	}
	*out = v;
	return 0;
}
