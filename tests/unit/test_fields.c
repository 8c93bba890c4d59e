/*
 * test_fields.c - names, and the text rules of query strings, forms and path
 * variables (docs/wire-formats.md, section 3.4): lists "a,b" and "[a,b]"
 * with JSV quoting, booleans, enums, numbers in range, Guids,
 * percent-decoding, only_unset, limits; and the text codings under them
 * (hex digits, percent-decoding, base64).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "users_wire.h"

#define SET(m, name, value, err)                                               \
	uw_msg_set_text((ProtobufCMessage *)(m), name, strlen(name), value,    \
			strlen(value), err)

static void
test_names(void)
{
	const ProtobufCMessageDescriptor *o =
	    &users__v1__organization_basic_view__descriptor;
	const ProtobufCMessageDescriptor *u = &users__v1__user_info__descriptor;
	const ProtobufCFieldDescriptor *f;

	f = uw_field_by_name(o, "organizations", 13);
	CHECK(f != NULL && f->id == 4);
	CHECK(uw_field_by_name(o, "SubOrganizations", 16) == f);
	CHECK(uw_field_by_name(o, "sub_organizations", 17) == f);
	CHECK(uw_field_by_name(o, "ORGANIZATIONS", 13) == f);
	CHECK(uw_field_by_name(o, "organization", 12) == NULL);
	f = uw_field_by_name(u, "isAuthenticated", 15);
	CHECK(f != NULL && f->id == 2);
	CHECK(uw_field_by_name(u, "IsAuthenticated", 15) == f);
	CHECK(uw_field_by_name(u, "isauthenticated", 15) == f);
	CHECK(uw_field_by_name(u, "is_authenticated", 16) == f);
	CHECK(uw_field_by_name(u, "isAuthenticatedX", 16) == NULL);
	CHECK(uw_field_by_name(u, "", 0) == NULL);
	CHECK(uw_field_by_name(u, "id\0x", 4) == NULL);
	CHECK_STR(uw_field_json_name(o, &o->fields[3]), "organizations");
	CHECK_STR(uw_field_pascal_name(o, &o->fields[3]), "SubOrganizations");
	CHECK(uw_field_is_guid(o, &o->fields[0]));
	CHECK(!uw_field_is_guid(o, &o->fields[1]));
	CHECK(
	    uw_field_is_map(&users__v1__response_status__descriptor.fields[4]));
	CHECK(!uw_field_is_map(
	    &users__v1__response_status__descriptor.fields[3]));
	CHECK(uw_msg_is_list_wrapper(&users__v1__string_list__descriptor));
	CHECK(!uw_msg_is_list_wrapper(&users__v1__user_info__descriptor));
}

static void
test_msg_new(void)
{
	for (size_t i = 0; i < up_method_count(); i++) {
		const up_method *m = up_method_at(i);
		ProtobufCMessage *a = uw_msg_new(m->desc->input);
		ProtobufCMessage *b = uw_msg_new(m->desc->output);
		CHECK(a != NULL && a->descriptor == m->desc->input);
		CHECK(b != NULL && b->descriptor == m->desc->output);
		CHECK_INT(protobuf_c_message_get_packed_size(a), 0);
		protobuf_c_message_free_unpacked(a, NULL);
		protobuf_c_message_free_unpacked(b, NULL);
	}
	CHECK(uw_msg_new(NULL) == NULL);
}

static void
check_items(const Users__V1__StringList *l, size_t n, const char *const *want)
{
	CHECK(l != NULL);
	if (l == NULL) {
		return;
	}
	CHECK_INT(l->n_items, n);
	for (size_t i = 0; i < n && i < l->n_items; i++) {
		CHECK_STR(l->items[i], want[i]);
	}
}

static void
test_lists(void)
{
	Users__V1__PatchUser *p = (Users__V1__PatchUser *)uw_msg_new(
	    &users__v1__patch_user__descriptor);
	Users__V1__UpdateBusinessUser *b =
	    (Users__V1__UpdateBusinessUser *)uw_msg_new(
		&users__v1__update_business_user__descriptor);
	Users__V1__UserInfo *u = (Users__V1__UserInfo *)uw_msg_new(
	    &users__v1__user_info__descriptor);
	uw_decode_error err;

	CHECK_INT(SET(p, "roles", "Admin,Manager", &err), 0);
	check_items(p->roles, 2, (const char *const[]){"Admin", "Manager"});
	CHECK_INT(SET(p, "Roles", "[Admin,Manager]", &err), 0);
	check_items(p->roles, 2, (const char *const[]){"Admin", "Manager"});
	CHECK_INT(SET(p, "roles", "[]", &err), 0);
	check_items(p->roles, 0, NULL);
	CHECK_INT(SET(p, "roles", "", &err), 0);
	check_items(p->roles, 0, NULL);
	CHECK_INT(SET(p, "roles", "Solo", &err), 0);
	check_items(p->roles, 1, (const char *const[]){"Solo"});
	CHECK_INT(
	    SET(p, "accountIds", "[\"a,b\",\"say \"\"hi\"\"\",c d, e]", &err),
	    0);
	check_items(p->account_ids, 4,
		    (const char *const[]){"a,b", "say \"hi\"", "c d", " e"});
	CHECK_INT(SET(p, "roles", "a,", &err), 0);
	check_items(p->roles, 2, (const char *const[]){"a", ""});
	CHECK_INT(SET(p, "roles", "[\"unterminated]", &err), -1);
	CHECK_STR(err.message, "Expected a list for 'roles'");
	CHECK_STR(err.field, "Roles");
	CHECK_INT(SET(p, "roles", "\"a\"b", &err), -1);
	/* an item's own errors name the list, not StringList.items */
	CHECK_INT(uw_msg_set_text((ProtobufCMessage *)p, "roles", 5, "a,\0b", 4,
				  &err),
		  -1);
	CHECK_STR(err.message, "NUL character in 'roles'");
	CHECK_STR(err.field, "Roles");

	CHECK_INT(SET(b, "roles", "[x,y,z]", &err), 0);
	CHECK_INT(b->n_roles, 3);
	CHECK_STR(b->roles[2], "z");

	CHECK_INT(SET(u, "dashboardPermissions", "ViewFiles,viewflows,3", &err),
		  0);
	CHECK_INT(u->n_dashboard_permissions, 3);
	if (u->n_dashboard_permissions == 3) {
		CHECK_INT(u->dashboard_permissions[0], 0);
		CHECK_INT(u->dashboard_permissions[1], 6);
		CHECK_INT(u->dashboard_permissions[2], 3);
	}
	CHECK_INT(SET(u, "dashboardPermissions", "ViewFiles,Nope", &err), -1);
	CHECK_STR(err.message,
		  "Expected a DashboardPermissions for 'dashboardPermissions'");
	CHECK_INT(SET(u, "dashboardPermissions", "ViewFiles,", &err), -1);

	protobuf_c_message_free_unpacked((ProtobufCMessage *)p, NULL);
	protobuf_c_message_free_unpacked((ProtobufCMessage *)b, NULL);
	protobuf_c_message_free_unpacked((ProtobufCMessage *)u, NULL);
}

static void
test_scalars(void)
{
	Users__V1__Authenticate *a = (Users__V1__Authenticate *)uw_msg_new(
	    &users__v1__authenticate__descriptor);
	Users__V1__ListUsers *l = (Users__V1__ListUsers *)uw_msg_new(
	    &users__v1__list_users__descriptor);
	Users__V1__CreateOrganization *c =
	    (Users__V1__CreateOrganization *)uw_msg_new(
		&users__v1__create_organization__descriptor);
	Users__V1__UpdateBusinessUser *b =
	    (Users__V1__UpdateBusinessUser *)uw_msg_new(
		&users__v1__update_business_user__descriptor);
	Users__V1__RequestEnvelope *e =
	    (Users__V1__RequestEnvelope *)uw_msg_new(
		&users__v1__request_envelope__descriptor);
	uw_decode_error err;
	static const struct {
		const char *text;
		int want; /* -1: error */
	} bools[] = {{"true", 1},  {"True", 1},  {"TRUE", 1},  {"1", 1},
		     {"false", 0}, {"FaLsE", 0}, {"0", 0},     {"yes", -1},
		     {"2", -1},    {"tru", -1},  {" true", -1}};

	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		int rc = SET(a, "rememberMe", bools[i].text, &err);
		CHECK_INT(rc, bools[i].want < 0 ? -1 : 0);
		if (bools[i].want >= 0) {
			CHECK_INT(a->has_remember_me, 1);
			CHECK_INT(a->remember_me, bools[i].want);
		} else {
			CHECK_STR(err.message,
				  "Expected a boolean for 'rememberMe'");
			CHECK_STR(err.field, "RememberMe");
		}
	}
	/* empty: unset for non-strings, "" for strings */
	CHECK_INT(SET(a, "rememberMe", "", &err), 0);
	CHECK_INT(a->has_remember_me, 0);
	CHECK_INT(SET(a, "userName", "", &err), 0);
	CHECK_STR(a->user_name, "");
	/* strings verbatim: commas, brackets, quotes */
	CHECK_INT(SET(a, "password", "[\"a,b\"]", &err), 0);
	CHECK_STR(a->password, "[\"a,b\"]");
	CHECK_INT(SET(a, "nosuchfield", "x", &err), 0);

	CHECK_INT(SET(l, "skip", "5", &err), 0);
	CHECK(l->has_skip && l->skip == 5);
	CHECK_INT(SET(l, "skip", "-2147483648", &err), 0);
	CHECK_INT(l->skip, INT32_MIN);
	CHECK_INT(SET(l, "take", "2147483648", &err), -1);
	CHECK_STR(err.message, "Value out of range for 'take'");
	CHECK_STR(err.field, "Take");
	CHECK_INT(SET(l, "take", "99999999999999999999999", &err), -1);
	CHECK_STR(err.message, "Value out of range for 'take'");
	CHECK_INT(SET(l, "take", "abc", &err), -1);
	CHECK_STR(err.message, "Expected a number for 'take'");
	CHECK_INT(SET(l, "take", "0x10", &err), -1);
	CHECK_INT(SET(l, "take", "inf", &err), -1);
	CHECK_INT(SET(l, "take", "1e2", &err), 0);
	CHECK_INT(l->take, 100);
	CHECK_INT(SET(l, "take", "", &err), 0);
	CHECK_INT(l->has_take, 0);

	CHECK_INT(SET(b, "userId", "9223372036854775807", &err), 0);
	CHECK(b->has_user_id && b->user_id == INT64_MAX);
	CHECK_INT(SET(b, "userId", "9223372036854775808", &err), -1);
	CHECK_INT(SET(b, "userId", "-9223372036854775808", &err), 0);
	CHECK(b->user_id == INT64_MIN);

	CHECK_INT(SET(e, "deadlineMs", "4294967295", &err), 0);
	CHECK(e->has_deadline_ms && e->deadline_ms == UINT32_MAX);
	CHECK_INT(SET(e, "deadlineMs", "-1", &err), -1);
	CHECK_INT(SET(e, "deadlineMs", "4294967296", &err), -1);
	CHECK_INT(SET(e, "payload", "aGVsbG8", &err), 0);
	CHECK(e->has_payload && e->payload.len == 5 &&
	      memcmp(e->payload.data, "hello", 5) == 0);
	CHECK_INT(SET(e, "payload", "a", &err), -1);
	CHECK_STR(err.message, "Expected a base64 string for 'payload'");
	CHECK_INT(SET(e, "basic", "x", &err), -1);
	CHECK_STR(err.message, "'basic' cannot be given as text");

	CHECK_INT(SET(c, "type", "Tenant", &err), 0);
	CHECK_INT(c->type, 20);
	CHECK_INT(SET(c, "TYPE", "location", &err), 0);
	CHECK_INT(c->type, 30);
	CHECK_INT(SET(c, "type", "10", &err), 0);
	CHECK_INT(c->type, 10);
	CHECK_INT(SET(c, "type", "11", &err), -1);
	CHECK_STR(err.message, "Expected a OrganizationType for 'type'");
	CHECK_INT(
	    SET(c, "parentId", "ABCDEF00-1111-2222-3333-444455556666", &err),
	    0);
	CHECK_STR(c->parent_id, "abcdef00111122223333444455556666");
	CHECK_INT(SET(c, "parentId", "abcdef00111122223333444455556666", &err),
		  0);
	CHECK_STR(c->parent_id, "abcdef00111122223333444455556666");
	CHECK_INT(
	    SET(c, "parentId", "abcdef00-1111-2222-3333-44445555666g", &err),
	    -1);
	CHECK_STR(err.message, "Expected a Guid for 'parentId'");
	CHECK_INT(
	    SET(c, "parentId", "abcdef001111-2222-3333-4444-55556666", &err),
	    -1);
	CHECK_INT(SET(c, "parentId", "", &err), 0);
	CHECK(c->parent_id == NULL);
	/* UTF-8 */
	CHECK_INT(SET(c, "name", "Caf\xc3\xa9", &err), 0);
	CHECK_INT(SET(c, "name", "Caf\xe9", &err), -1);
	CHECK_STR(err.message, "Invalid UTF-8 in 'name'");

	protobuf_c_message_free_unpacked((ProtobufCMessage *)a, NULL);
	protobuf_c_message_free_unpacked((ProtobufCMessage *)l, NULL);
	protobuf_c_message_free_unpacked((ProtobufCMessage *)c, NULL);
	protobuf_c_message_free_unpacked((ProtobufCMessage *)b, NULL);
	protobuf_c_message_free_unpacked((ProtobufCMessage *)e, NULL);
}

#define FORM(m, s, only, lim, err)                                             \
	uw_msg_set_form((ProtobufCMessage *)(m), s, strlen(s), only, lim, err)

static void
test_form(void)
{
	Users__V1__PatchUser *p = (Users__V1__PatchUser *)uw_msg_new(
	    &users__v1__patch_user__descriptor);
	Users__V1__ListUsers *l = (Users__V1__ListUsers *)uw_msg_new(
	    &users__v1__list_users__descriptor);
	uw_decode_error err;
	uw_limits small = {.max_items = 3, .max_string = 8};

	CHECK_INT(FORM(p,
		       "userId=7&firstName=Ada+Lovelace&lastName=O%27Brien&"
		       "roles=A&ROLES=B&&accountIds=%5Bx%2C%22y%2Cz%22%5D&"
		       "unknown=%zz&newPassword",
		       false, NULL, &err),
		  0);
	CHECK_STR(p->user_id, "7");
	CHECK_STR(p->first_name, "Ada Lovelace");
	CHECK_STR(p->last_name, "O'Brien");
	check_items(p->roles, 2, (const char *const[]){"A", "B"});
	check_items(p->account_ids, 2, (const char *const[]){"x", "y,z"});
	CHECK_STR(p->new_password, "");

	/* a second source replaces, but within one source a list gathers */
	CHECK_INT(FORM(p, "roles=C&firstName=%C3%89mile&lastName=a%zzb%4",
		       false, NULL, &err),
		  0);
	check_items(p->roles, 1, (const char *const[]){"C"});
	CHECK_STR(p->first_name, "\xc3\x89mile");
	CHECK_STR(p->last_name, "a%zzb%4");

	/* only_unset: the body's values stay */
	protobuf_c_message_free_unpacked((ProtobufCMessage *)p, NULL);
	p = (Users__V1__PatchUser *)uw_msg_new(
	    &users__v1__patch_user__descriptor);
	CHECK_INT(SET(p, "firstName", "Body", &err), 0);
	CHECK_INT(FORM(p, "?firstName=Query&lastName=Q&roles=a&roles=b", true,
		       NULL, &err),
		  0);
	CHECK_STR(p->first_name, "Body");
	CHECK_STR(p->last_name, "Q");
	check_items(p->roles, 2, (const char *const[]){"a", "b"});

	/* errors and limits */
	CHECK_INT(FORM(l, "skip=1&take=x", false, NULL, &err), -1);
	CHECK_STR(err.message, "Expected a number for 'take'");
	CHECK_STR(err.field, "Take");
	CHECK_INT(FORM(l, "email=a%00b", false, NULL, &err), -1);
	CHECK_STR(err.message, "NUL character in 'email'");
	CHECK_INT(FORM(l, "email=%ff", false, NULL, &err), -1);
	CHECK_STR(err.message, "Invalid UTF-8 in 'email'");
	CHECK_INT(FORM(l, "email=123456789", false, &small, &err), -1);
	CHECK_STR(err.message, "Value too long for 'email' (at most 8 bytes)");
	CHECK_INT(FORM(l, "email=12345678", false, &small, &err), 0);
	CHECK_INT(FORM(p, "roles=a,b,c,d", false, &small, &err), -1);
	CHECK_STR(err.message, "Too many items in 'roles' (at most 3)");
	CHECK_INT(FORM(p, "roles=a,b&roles=c,d", false, &small, &err), -1);
	{
		/* pairs are bounded, even unknown ones */
		char many[4096];
		size_t n = 0;
		for (int i = 0; i < 100; i++) {
			n += (size_t)snprintf(many + n, sizeof(many) - n,
					      "x%d=1&", i);
		}
		CHECK_INT(uw_msg_set_form((ProtobufCMessage *)l, many, n, false,
					  &small, &err),
			  -1);
		CHECK(strstr(err.message, "Too many fields") != NULL);
	}
	{
		/* a huge name is no field: ignored */
		char big[1000];
		memset(big, 'a', sizeof(big));
		big[sizeof(big) - 2] = '=';
		big[sizeof(big) - 1] = '1';
		CHECK_INT(uw_msg_set_form((ProtobufCMessage *)l, big,
					  sizeof(big), false, NULL, &err),
			  0);
	}
	CHECK_INT(FORM(l, "", false, NULL, &err), 0);
	CHECK_INT(
	    uw_msg_set_form((ProtobufCMessage *)l, NULL, 0, false, NULL, &err),
	    0);

	protobuf_c_message_free_unpacked((ProtobufCMessage *)p, NULL);
	protobuf_c_message_free_unpacked((ProtobufCMessage *)l, NULL);
}

static void
test_presence(void)
{
	Users__V1__UserInfo *u = (Users__V1__UserInfo *)uw_msg_new(
	    &users__v1__user_info__descriptor);
	const ProtobufCMessageDescriptor *d = &users__v1__user_info__descriptor;
	uw_decode_error err;

	CHECK(!uw_field_present((ProtobufCMessage *)u, &d->fields[0]));
	CHECK_INT(SET(u, "id", "1", &err), 0);
	CHECK(uw_field_present((ProtobufCMessage *)u, &d->fields[0]));
	CHECK_INT(SET(u, "roles", "a,b", &err), 0);
	CHECK_INT(uw_field_count((ProtobufCMessage *)u, &d->fields[7]), 2);
	uw_field_clear((ProtobufCMessage *)u, &d->fields[7]);
	CHECK_INT(u->n_roles, 0);
	CHECK(u->roles == NULL);
	CHECK_INT(SET(u, "isAuthenticated", "false", &err), 0);
	CHECK(uw_field_present((ProtobufCMessage *)u, &d->fields[1]));
	uw_field_clear((ProtobufCMessage *)u, &d->fields[0]);
	CHECK(u->id == NULL);
	protobuf_c_message_free_unpacked((ProtobufCMessage *)u, NULL);
}

/* The text codings of text.c: hex digits, percent-decoding, base64. */
static void
test_text(void)
{
	char out[16];
	uint8_t bin[16];
	uw_buf b = {0};
	size_t n;

	CHECK_INT(uw_hexval('0'), 0);
	CHECK_INT(uw_hexval('f'), 15);
	CHECK_INT(uw_hexval('F'), 15);
	CHECK_INT(uw_hexval('g'), -1);
	CHECK_INT(uw_hexval('/'), -1);

	/* '+' a space only for forms; a bad escape kept; %00 decoded */
	CHECK_INT(uw_pct_decode("a+b%2Fc%zz%4", 12, true, out, 16, &n), 0);
	CHECK_STR(out, "a b/c%zz%4");
	CHECK_INT(n, 10);
	CHECK_INT(uw_pct_decode("a+b%2f", 6, false, out, 16, &n), 0);
	CHECK_STR(out, "a+b/");
	CHECK_INT(uw_pct_decode("x%00y", 5, false, out, 16, &n), 0);
	CHECK(n == 3 && memcmp(out, "x\0y", 3) == 0);
	/* it fits exactly, or not at all */
	CHECK_INT(uw_pct_decode("%41%42%43", 9, true, out, 4, &n), 0);
	CHECK_STR(out, "ABC");
	CHECK_INT(uw_pct_decode("abcd", 4, true, out, 4, &n), -1);
	CHECK(n == 0 && out[0] == '\0');

	/* either alphabet, padding optional */
	CHECK_INT(uw_base64_decode("aGk/", 4, bin, &n), 0);
	CHECK(n == 3 && memcmp(bin, "hi?", 3) == 0);
	CHECK_INT(uw_base64_decode("aGk_", 4, bin, &n), 0);
	CHECK(n == 3 && memcmp(bin, "hi?", 3) == 0);
	CHECK_INT(uw_base64_decode("aGk=", 4, bin, &n), 0);
	CHECK(n == 2 && memcmp(bin, "hi", 2) == 0);
	CHECK_INT(uw_base64_decode("aGk", 3, bin, &n), 0);
	CHECK_INT(n, 2);
	CHECK_INT(uw_base64_decode("", 0, bin, &n), 0);
	CHECK_INT(n, 0);
	/* not base64: a lone sixth character, a stray byte, bits left over */
	CHECK_INT(uw_base64_decode("aGk9a", 5, bin, &n), -1);
	CHECK_INT(uw_base64_decode("aG k", 4, bin, &n), -1);
	CHECK_INT(uw_base64_decode("aGl=", 4, bin, &n), -1);
	CHECK(uw_base64_decoded_max(4) >= 3 + 1);
	CHECK(uw_base64_decoded_max(3) >= 2 + 1);

	CHECK_INT(uw_base64_encode(&b, (const uint8_t *)"hi?", 3), 0);
	CHECK_INT(uw_base64_encode(&b, (const uint8_t *)"hi", 2), 0);
	CHECK_STR(b.data, "aGk/aGk=");
	uw_buf_fini(&b);
}

int
main(void)
{
	CHECK_INT(up_meta_load(), 0);
	test_names();
	test_msg_new();
	test_lists();
	test_scalars();
	test_form();
	test_presence();
	test_text();
	return check_done();
}
