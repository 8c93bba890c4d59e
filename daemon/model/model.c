/*
 * model.c - the domain model's small pieces (model.h): string vectors,
 * record cleanup, ids and Guids, the random source and the clock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "model.h"
#include "users_proto.h"

int
ud_strv_push(ud_strv *sv, const char *s)
{
	char *copy;

	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 4;
		char **v = realloc(sv->v, cap * sizeof(*v));
		if (v == NULL) {
			return UP_INTERNAL;
		}
		sv->v = v;
		sv->cap = cap;
	}
	if ((copy = strdup(s)) == NULL) {
		return UP_INTERNAL;
	}
	sv->v[sv->n++] = copy;
	return 0;
}

bool
ud_strv_has(const ud_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++) {
		if (strcmp(sv->v[i], s) == 0) {
			return true;
		}
	}
	return false;
}

void
ud_strv_fini(ud_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++) {
		free(sv->v[i]);
	}
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}

void
ud_user_fini(ud_user *u)
{
	free(u->email);
	free(u->password_hash);
	free(u->first_name);
	free(u->last_name);
	free(u->phone_number);
	free(u->temporary_email);
	free(u->temporary_phone_number);
	free(u->avatar_url);
	free(u->image_content);
	free(u->viviot_id);
	free(u->primary_org_id);
	free(u->dashboard_permissions);
	ud_strv_fini(&u->roles);
	ud_strv_fini(&u->org_ids);
	ud_strv_fini(&u->org_names);
	memset(u, 0, sizeof(*u));
	u->manager_access = -1;
}

void
ud_org_fini(ud_org *o)
{
	free(o->id);
	free(o->name);
	free(o->parent_id);
	memset(o, 0, sizeof(*o));
}

void
ud_users_free(ud_user *users, size_t n)
{
	for (size_t i = 0; users != NULL && i < n; i++) {
		ud_user_fini(&users[i]);
	}
	free(users);
}

void
ud_orgs_free(ud_org *orgs, size_t n)
{
	for (size_t i = 0; orgs != NULL && i < n; i++) {
		ud_org_fini(&orgs[i]);
	}
	free(orgs);
}

static const char hex[] = "0123456789abcdef";

int
ud_random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(p + got, len - got, 0);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return UP_INTERNAL;
		}
		got += (size_t)n;
	}
	return 0;
}

void
ud_hex(char *out, const uint8_t *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

int
ud_guid_new(char buf[33])
{
	uint8_t raw[16];

	if (ud_random_bytes(raw, sizeof(raw)) != 0) {
		return UP_INTERNAL;
	}
	raw[6] = (uint8_t)((raw[6] & 0x0f) | 0x40); /* version 4 */
	raw[8] = (uint8_t)((raw[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	ud_hex(buf, raw, 16);
	return 0;
}

int
ud_random_id_new(char buf[33])
{
	uint8_t raw[16];

	if (ud_random_bytes(raw, sizeof(raw)) != 0) {
		return UP_INTERNAL;
	}
	ud_hex(buf, raw, 16);
	return 0;
}

bool
ud_random_id_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL) {
		return false;
	}
	for (; s[n] != '\0'; n++) {
		if (n == 32 || !((s[n] >= '0' && s[n] <= '9') ||
				 (s[n] >= 'a' && s[n] <= 'f'))) {
			return false;
		}
	}
	return n == 32;
}

int
ud_guid_parse(const char *s, char buf[33])
{
	size_t j = 0;

	if (s == NULL) {
		return UP_INVALID_ARGUMENT;
	}
	if (*s == '{') {
		s++;
	}
	for (; *s != '\0' && *s != '}'; s++) {
		char c = *s;
		if (c == '-') {
			continue;
		}
		if (c >= 'A' && c <= 'F') {
			c = (char)(c + 32);
		}
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) ||
		    j == 32) {
			return UP_INVALID_ARGUMENT;
		}
		buf[j++] = c;
	}
	if (j != 32 || (*s == '}' && s[1] != '\0')) {
		return UP_INVALID_ARGUMENT;
	}
	buf[32] = '\0';
	return 0;
}

void
ud_time_after_ms(clockid_t clock, unsigned ms, struct timespec *out)
{
	clock_gettime(clock, out);
	out->tv_sec += ms / 1000;
	out->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (out->tv_nsec >= 1000000000L) {
		out->tv_sec++;
		out->tv_nsec -= 1000000000L;
	}
}

int64_t
ud_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
