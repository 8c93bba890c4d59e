/*
 * handlers.c - the table of every operation's handler, by method name
 * (each handlers_*.c lists its own).
 */
#include <string.h>

#include "service.h"

const ud_handler *
ud_handler_find(const char *method)
{
	static const ud_handler *const tables[] = {
	    ud_user_handlers, ud_org_handlers, ud_auth_handlers};

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (const ud_handler *h = tables[t]; h->method != NULL; h++) {
			if (strcmp(h->method, method) == 0) {
				return h;
			}
		}
	}
	return NULL;
}
