/*
 * store_common.c - what the store's backends share: the user's string
 * columns, LIKE patterns, paging bounds, the primary organization.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"
#include "users_proto.h"

const size_t ud_user_str_off[UD_USER_N_STR] = {
    offsetof(ud_user, email),
    offsetof(ud_user, password_hash),
    offsetof(ud_user, first_name),
    offsetof(ud_user, last_name),
    offsetof(ud_user, phone_number),
    offsetof(ud_user, temporary_email),
    offsetof(ud_user, temporary_phone_number),
    offsetof(ud_user, avatar_url),
    offsetof(ud_user, image_content),
    offsetof(ud_user, viviot_id),
    offsetof(ud_user, primary_org_id),
};

char **
ud_store_user_str(ud_user *u, size_t i)
{
	return (char **)(void *)((char *)u + ud_user_str_off[i]);
}

void
ud_store_user_init(ud_user *u)
{
	memset(u, 0, sizeof(*u));
	u->manager_access = -1;
}

int
ud_store_like_pattern(const char *s, char **out)
{
	size_t len = strlen(s), j = 0;
	char *p;

	*out = NULL;
	if (len > UD_STORE_FILTER_MAX) {
		return UP_INVALID_ARGUMENT;
	}
	if ((p = malloc(2 * len + 3)) == NULL) {
		return UP_INTERNAL;
	}
	p[j++] = '%';
	for (; *s != '\0'; s++) {
		if (*s == '%' || *s == '_' || *s == '\\') {
			p[j++] = '\\';
		}
		p[j++] = *s;
	}
	p[j++] = '%';
	p[j] = '\0';
	*out = p;
	return 0;
}

void
ud_store_bound_page(int32_t *skip, int32_t *take)
{
	if (*take <= 0) {
		*take = UD_STORE_TAKE_DEFAULT;
	} else if (*take > UD_STORE_TAKE_MAX) {
		*take = UD_STORE_TAKE_MAX;
	}
	if (*skip < 0) {
		*skip = 0;
	}
}

int
ud_store_primary_org(const ud_user *u, char buf[33], const char **out)
{
	*out = NULL;
	if (u->primary_org_id == NULL) {
		return 0;
	}
	if (ud_guid_parse(u->primary_org_id, buf) != 0) {
		return UP_INVALID_ARGUMENT;
	}
	*out = buf;
	return 0;
}
