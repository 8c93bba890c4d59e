/*
 * thread.c - names the calling thread (users_proto.h), as top -H, ps -L,
 * perf and gdb show it; Linux keeps 15 bytes of it.
 */
#include <sys/prctl.h>

#include "users_proto.h"

void
up_thread_name(const char *name)
{
	(void)prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}
