/*
 * test_codec_csv.c - the CSV codec: the seed's UserInfo as header and row,
 * list responses as rows, RFC 4180 quoting, the formula-injection guard,
 * nested values as JSV cells, reading request bodies (header matching,
 * first row, empty vs "" cells, the seed's JSON sample), errors and limits,
 * and round trips over the flat request DTOs (and a few nested ones).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "users_wire.h"
#include "codec_gen.h"

#define ZERO_GUID "00000000000000000000000000000000"

#define USERINFO_HEADER                                                        \
	"Id,IsAuthenticated,FirstName,LastName,Name,AvatarUrl,EmailAddress,"   \
	"Roles,AccountIds,AccountNames,ManagerAccess,DashboardPermissions\r\n"

static char *
encode(const void *m)
{
	return gen_encode(&uw_codec_csv, m);
}

static ProtobufCMessage *
decode_lim(const ProtobufCMessageDescriptor *d, const char *s,
	   const uw_limits *lim, uw_decode_error *err)
{
	return gen_decode(&uw_codec_csv, d, s, strlen(s), lim, err);
}

static ProtobufCMessage *
decode(const ProtobufCMessageDescriptor *d, const char *s, uw_decode_error *err)
{
	return decode_lim(d, s, NULL, err);
}

static Users__V1__UserInfo *
seed_userinfo(void)
{
	Users__V1__UserInfo *u = malloc(sizeof(*u));

	users__v1__user_info__init(u);
	u->id = gen_dup("String");
	u->has_is_authenticated = 1;
	u->is_authenticated = 0;
	u->first_name = gen_dup("String");
	u->last_name = gen_dup("String");
	u->name = gen_dup("String");
	u->avatar_url = gen_dup("String");
	u->email_address = gen_dup("String");
	u->n_roles = 1;
	u->roles = gen_strs1("String");
	u->n_account_ids = 1;
	u->account_ids = gen_strs1("String");
	u->n_account_names = 1;
	u->account_names = gen_strs1("String");
	u->n_dashboard_permissions = 1;
	u->dashboard_permissions = malloc(sizeof(int));
	u->dashboard_permissions[0] =
	    USERS__V1__DASHBOARD_PERMISSIONS__ViewFiles;
	return u;
}

/* ------------------------------------------------------------------------
 * Writing
 */

static void
test_seed_userinfo(void)
{
	Users__V1__UserInfo *u = seed_userinfo();
	Users__V1__UserInfo *back;
	uw_decode_error err;
	char *s;

	s = encode(u);
	CHECK_STR(s, USERINFO_HEADER "String,False,String,String,String,"
				     "String,String,\"[String]\",\"[String]\","
				     "\"[String]\",,\"[ViewFiles]\"\r\n");
	/* and it reads back as the same message */
	back = (Users__V1__UserInfo *)decode(&users__v1__user_info__descriptor,
					     s, &err);
	CHECK(back != NULL && gen_same_packed(&u->base, &back->base));
	if (back != NULL) {
		users__v1__user_info__free_unpacked(back, NULL);
	}
	free(s);

	/* roles with two items, manager access by name */
	free(u->roles[0]);
	free(u->roles);
	u->n_roles = 2;
	u->roles = malloc(2 * sizeof(char *));
	u->roles[0] = gen_dup("Admin");
	u->roles[1] = gen_dup("Manager");
	u->has_manager_access = 1;
	u->manager_access = USERS__V1__USER_MANAGER_ACCESS__ReadWriteDelete;
	u->is_authenticated = 1;
	s = encode(u);
	CHECK_STR(s, USERINFO_HEADER "String,True,String,String,String,String,"
				     "String,\"[Admin,Manager]\",\"[String]\","
				     "\"[String]\",ReadWriteDelete,"
				     "\"[ViewFiles]\"\r\n");
	free(s);
	users__v1__user_info__free_unpacked(u, NULL);

	/* nothing set: the header and a row of empty cells */
	u = malloc(sizeof(*u));
	users__v1__user_info__init(u);
	s = encode(u);
	CHECK_STR(s, USERINFO_HEADER ",,,,,,,,,,,\r\n");
	free(s);
	users__v1__user_info__free_unpacked(u, NULL);
}

static void
test_list_responses(void)
{
	Users__V1__ListUsersResponse *r = malloc(sizeof(*r));
	Users__V1__ListOrganizationsResponse *o = malloc(sizeof(*o));
	Users__V1__Organization *org;
	char *s;

	users__v1__list_users_response__init(r);
	r->has_total = 1;
	r->total = 2;
	s = encode(r);
	/* no items: the header alone */
	CHECK_STR(s, USERINFO_HEADER);
	free(s);
	r->n_results = 2;
	r->results = malloc(2 * sizeof(void *));
	r->results[0] = seed_userinfo();
	r->results[1] = malloc(sizeof(Users__V1__UserInfo));
	users__v1__user_info__init(r->results[1]);
	r->results[1]->id = gen_dup("7");
	r->results[1]->first_name = gen_dup("Ada, \"the\" Countess");
	s = encode(r);
	CHECK_STR(s, USERINFO_HEADER
		  "String,False,String,String,String,"
		  "String,String,\"[String]\",\"[String]\","
		  "\"[String]\",,\"[ViewFiles]\"\r\n"
		  "7,,\"Ada, \"\"the\"\" Countess\",,,,,,,,,\r\n");
	free(s);
	/* an error answer keeps its status: written as one message */
	r->response_status = malloc(sizeof(*r->response_status));
	users__v1__response_status__init(r->response_status);
	r->response_status->error_code = gen_dup("Forbidden");
	r->response_status->message = gen_dup("Invalid Role");
	users__v1__user_info__free_unpacked(r->results[0], NULL);
	users__v1__user_info__free_unpacked(r->results[1], NULL);
	free(r->results);
	r->results = NULL;
	r->n_results = 0;
	s = encode(r);
	CHECK_STR(s, "Total,Skip,Results,ResponseStatus,Next,TotalKind\r\n2,,,"
		     "\"{errorCode:Forbidden,message:Invalid Role,errors:[]}\""
		     ",,\r\n");
	free(s);
	users__v1__list_users_response__free_unpacked(r, NULL);

	users__v1__list_organizations_response__init(o);
	o->n_results = 1;
	o->results = malloc(sizeof(void *));
	org = malloc(sizeof(*org));
	users__v1__organization__init(org);
	org->id = gen_dup("ABCDEF00-1111-2222-3333-444455556666");
	org->name = gen_dup("Acme");
	org->has_type = 1;
	org->type = USERS__V1__ORGANIZATION_TYPE__Tenant;
	org->has_member_count = 1;
	org->member_count = -1;
	o->results[0] = org;
	s = encode(o);
	/* enum_as_number; a negative number is no formula */
	CHECK_STR(s, "Id,Name,Type,ParentId,MemberCount\r\n"
		     "abcdef00111122223333444455556666,Acme,20,,-1\r\n");
	free(s);
	users__v1__list_organizations_response__free_unpacked(o, NULL);
}

static void
test_quoting(void)
{
	Users__V1__NewUser *n = malloc(sizeof(*n));
	Users__V1__NewUser *back;
	uw_decode_error err;
	char *s;

	users__v1__new_user__init(n);
	n->account_id = gen_dup(" a b ");
	n->email_address = gen_dup("");
	n->first_name = gen_dup("x\r\ny");
	n->last_name = gen_dup("[not a list]");
	n->password = gen_dup("{p}\"q\xc3\xa9");
	s = encode(n);
	CHECK_STR(s,
		  "AccountId,EmailAddress,FirstName,LastName,Password\r\n"
		  " a b ,\"\",\"x\r\ny\",\"[not a list]\",\"{p}\"\"q\xc3\xa9\""
		  "\r\n");
	back = (Users__V1__NewUser *)decode(&users__v1__new_user__descriptor, s,
					    &err);
	CHECK(back != NULL && gen_same_packed(&n->base, &back->base));
	if (back != NULL) {
		users__v1__new_user__free_unpacked(back, NULL);
	}
	free(s);
	/* invalid UTF-8 is replaced */
	free(n->password);
	n->password = gen_dup("\xff");
	free(n->email_address);
	n->email_address = NULL;
	s = encode(n);
	CHECK(s != NULL && strstr(s, ",\xef\xbf\xbd\r\n") != NULL);
	free(s);
	users__v1__new_user__free_unpacked(n, NULL);
}

static void
test_formula_injection(void)
{
	static const struct {
		const char *value, *cell;
	} cases[] = {
	    {"=1+2", "\"'=1+2\""},
	    {"+1", "\"'+1\""},
	    {"-1", "\"'-1\""},
	    {"@SUM(A1)", "\"'@SUM(A1)\""},
	    {"=HYPERLINK(\"x\",\"y\")", "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""},
	    {"'=x", "\"''=x\""},
	    {"''-x", "\"'''-x\""},
	    {"'hello", "'hello"},
	    {"a=b", "a=b"},
	    {"'", "'"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Users__V1__GetAccessToken *t = malloc(sizeof(*t));
		Users__V1__GetAccessToken *back;
		uw_decode_error err;
		char want[128];
		char *s;

		users__v1__get_access_token__init(t);
		t->refresh_token = gen_dup(cases[i].value);
		snprintf(want, sizeof(want), "RefreshToken\r\n%s\r\n",
			 cases[i].cell);
		s = encode(t);
		CHECK_STR(s, want);
		back = (Users__V1__GetAccessToken *)decode(
		    &users__v1__get_access_token__descriptor, s, &err);
		CHECK(back != NULL);
		if (back != NULL) {
			CHECK_STR(back->refresh_token, cases[i].value);
			users__v1__get_access_token__free_unpacked(back, NULL);
		}
		free(s);
		users__v1__get_access_token__free_unpacked(t, NULL);
	}
	{
		/* a guarded number reads as the number */
		uw_decode_error err;
		Users__V1__ListUsers *l = (Users__V1__ListUsers *)decode(
		    &users__v1__list_users__descriptor, "Skip\r\n\"'-5\"\r\n",
		    &err);
		CHECK(l != NULL && l->has_skip && l->skip == -5);
		if (l != NULL) {
			users__v1__list_users__free_unpacked(l, NULL);
		}
		/* unquoted: taken as it is */
		l = (Users__V1__ListUsers *)decode(
		    &users__v1__list_users__descriptor, "Name\r\n'=x\r\n",
		    &err);
		CHECK(l != NULL && l->name != NULL &&
		      strcmp(l->name, "'=x") == 0);
		if (l != NULL) {
			users__v1__list_users__free_unpacked(l, NULL);
		}
	}
}

static void
test_nested(void)
{
	Users__V1__BusinessUserProfileDataResponse *r = malloc(sizeof(*r));
	Users__V1__BusinessUserProfileDataView *v = malloc(sizeof(*v));
	Users__V1__BusinessUserProfileDataResponse *back;
	Users__V1__OrganizationBasicView *o = malloc(sizeof(*o));
	uw_decode_error err;
	char *s;

	users__v1__business_user_profile_data_response__init(r);
	users__v1__business_user_profile_data_view__init(v);
	users__v1__organization_basic_view__init(o);
	v->has_id = 1;
	v->id = 7;
	v->first_name = gen_dup("Ada");
	v->has_email_confirmed = 1;
	v->email_confirmed = 1;
	v->n_roles = 2;
	v->roles = malloc(2 * sizeof(char *));
	v->roles[0] = gen_dup("a,b");
	v->roles[1] = gen_dup("=x");
	v->organization_id = gen_dup(ZERO_GUID);
	o->name = gen_dup("Acme \"HQ\"");
	v->n_business_organizations = 1;
	v->business_organizations = malloc(sizeof(void *));
	v->business_organizations[0] = o;
	r->data = v;
	s = encode(r);
	CHECK_STR(s,
		  "Data,ResponseStatus\r\n\"{id:7,firstName:Ada,"
		  "emailConfirmed:True,roles:[\"\"a,b\"\",=x],"
		  "organizationId:" ZERO_GUID ",businessOrganizations:[{name:"
		  "\"\"Acme \"\"\"\"HQ\"\"\"\"\"\"}]}\",\r\n");
	back = (Users__V1__BusinessUserProfileDataResponse *)decode(
	    &users__v1__business_user_profile_data_response__descriptor, s,
	    &err);
	CHECK(back != NULL && gen_same_packed(&r->base, &back->base));
	if (back != NULL) {
		users__v1__business_user_profile_data_response__free_unpacked(
		    back, NULL);
	}
	free(s);
	s = encode(v);
	CHECK(s != NULL &&
	      strncmp(s, "Id,ActivationStatus,UserName,FirstName,", 39) == 0);
	CHECK(s != NULL && strstr(s, "\r\n7,,,Ada,,,,True,,,,\"[\"\"a,b\"\",=x]"
				     "\",") != NULL);
	free(s);
	users__v1__business_user_profile_data_response__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------------
 * Reading
 */

static void
test_decode(void)
{
	uw_decode_error err;
	Users__V1__PatchUser *p;
	Users__V1__NewUser *n;
	Users__V1__UpdateBusinessUser *b;

	/* the seed's PatchUser placeholders as CSV */
	p = (Users__V1__PatchUser *)decode(
	    &users__v1__patch_user__descriptor,
	    "AccountIds,UserId,FirstName,LastName,NewPassword,Roles\r\n"
	    "[String],String,String,String,String,[String]\r\n",
	    &err);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK(p->account_ids != NULL && p->account_ids->n_items == 1);
		CHECK_STR(p->user_id, "String");
		CHECK_STR(p->new_password, "String");
		CHECK(p->roles != NULL && p->roles->n_items == 1);
		users__v1__patch_user__free_unpacked(p, NULL);
	}
	/* the seed's CSV request sample is JSON: read as JSON */
	p = (Users__V1__PatchUser *)decode(
	    &users__v1__patch_user__descriptor,
	    "{\"accountIds\":[\"String\"],\"userId\":\"String\",\"firstName\":"
	    "\"String\",\"lastName\":\"String\",\"newPassword\":\"String\","
	    "\"roles\":[\"String\"]}",
	    &err);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK(p->roles != NULL && p->roles->n_items == 1);
		CHECK_STR(p->last_name, "String");
		users__v1__patch_user__free_unpacked(p, NULL);
	}
	/* names any case, unknown columns ignored, LF rows, a BOM, no final
	 * row end, extra cells and later rows ignored; lists as "a,b" or
	 * [a,b]; a present empty list */
	p = (Users__V1__PatchUser *)decode(
	    &users__v1__patch_user__descriptor,
	    "\xef\xbb\xbf firstname ,x,ROLES,account_ids,lastName\n"
	    "\"Ada\nL\",\"?,?\",\"Admin,Manager\",[],\"\",extra,more\n"
	    "Bob,,,,\n",
	    &err);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK_STR(p->first_name, "Ada\nL");
		CHECK(p->roles != NULL && p->roles->n_items == 2);
		if (p->roles != NULL && p->roles->n_items == 2) {
			CHECK_STR(p->roles->items[1], "Manager");
		}
		CHECK(p->account_ids != NULL && p->account_ids->n_items == 0);
		CHECK_STR(p->last_name, "");
		CHECK(p->new_password == NULL);
		users__v1__patch_user__free_unpacked(p, NULL);
	}
	/* a header alone, an empty body: nothing set */
	n = (Users__V1__NewUser *)decode(&users__v1__new_user__descriptor,
					 "FirstName,LastName\r\n", &err);
	CHECK(n != NULL && n->first_name == NULL);
	if (n != NULL) {
		users__v1__new_user__free_unpacked(n, NULL);
	}
	n = (Users__V1__NewUser *)decode(&users__v1__new_user__descriptor,
					 " \r\n", &err);
	CHECK(n != NULL && n->first_name == NULL);
	if (n != NULL) {
		users__v1__new_user__free_unpacked(n, NULL);
	}
	/* numbers, booleans in any case */
	b = (Users__V1__UpdateBusinessUser *)decode(
	    &users__v1__update_business_user__descriptor,
	    "UserId,Version,Roles\r\n12,\"3\",\"[a,\"\"b,c\"\"]\"\r\n", &err);
	CHECK(b != NULL);
	if (b != NULL) {
		CHECK_INT(b->user_id, 12);
		CHECK_INT(b->version, 3);
		CHECK_INT(b->n_roles, 2);
		if (b->n_roles == 2) {
			CHECK_STR(b->roles[1], "b,c");
		}
		users__v1__update_business_user__free_unpacked(b, NULL);
	}
	{
		Users__V1__Authenticate *a = (Users__V1__Authenticate *)decode(
		    &users__v1__authenticate__descriptor,
		    "RememberMe,Provider\r\nTRUE,credentials", &err);
		CHECK(a != NULL && a->has_remember_me && a->remember_me);
		if (a != NULL) {
			CHECK_STR(a->provider, "credentials");
			users__v1__authenticate__free_unpacked(a, NULL);
		}
	}
}

static void
expect_error(const ProtobufCMessageDescriptor *d, const char *body,
	     const uw_limits *lim, const char *message, const char *field)
{
	uw_decode_error err;
	ProtobufCMessage *m = decode_lim(d, body, lim, &err);

	CHECK(m == NULL);
	if (m != NULL) {
		protobuf_c_message_free_unpacked(m, NULL);
		return;
	}
	CHECK(err.message[0] != '\0');
	if (message != NULL) {
		CHECK_STR(err.message, message);
	}
	if (field != NULL) {
		CHECK_STR(err.field, field);
	}
}

static void
test_decode_errors(void)
{
	const ProtobufCMessageDescriptor *lu =
	    &users__v1__list_users__descriptor;
	const ProtobufCMessageDescriptor *pu =
	    &users__v1__patch_user__descriptor;
	uw_limits lim = {.max_depth = 2, .max_items = 2, .max_string = 5};

	expect_error(lu, "Name\r\n\"abc\r\n", NULL,
		     "Invalid CSV: unterminated quoted cell at offset 6", "");
	expect_error(lu, "Name,Skip\r\n\"a\"b,1\r\n", NULL,
		     "Invalid CSV: text after a quoted cell at offset 14", "");
	expect_error(lu, "\"Na\"me\r\n", NULL, NULL, "");
	expect_error(lu, "Skip\r\nabc\r\n", NULL,
		     "Expected a number for 'skip'", "Skip");
	expect_error(lu, "Skip\r\n\"\"\"\"\r\n", NULL,
		     "Expected a number for 'skip'", "Skip");
	expect_error(lu, "Name\r\na\xff\r\n", NULL, "Invalid UTF-8 in 'name'",
		     "Name");
	expect_error(&users__v1__create_organization__descriptor,
		     "ParentId\r\n1234\r\n", NULL,
		     "Expected a Guid for 'parentId'", "ParentId");
	expect_error(
	    &users__v1__business_user_profile_data_response__descriptor,
	    "Data\r\n[1]\r\n", NULL, "Expected an object for 'data'", "Data");
	expect_error(lu, "{\"skip\":", NULL, NULL, ""); /* JSON's errors */
	/* limits */
	expect_error(lu, "Name\r\n123456\r\n", &lim,
		     "Value too long for 'name' (at most 5 bytes)", "Name");
	expect_error(pu, "Roles\r\n\"[a,b,c]\"\r\n", &lim,
		     "Too many items in 'roles' (at most 2)", "Roles");
	expect_error(&users__v1__update_business_user__descriptor,
		     "Roles\r\n\"[a,123456]\"\r\n", &lim,
		     "Value too long for 'roles' (at most 5 bytes)", "Roles");
	expect_error(&users__v1__update_business_user__descriptor,
		     "Roles\r\n\"[a,b,c]\"\r\n", &lim,
		     "Too many items in 'roles' (at most 2)", "Roles");
	expect_error(lu, "a,b,c,d,e,f,g,h,i,j,k\r\n", &lim,
		     "Too many columns (at most 10)", "");
	expect_error(
	    &users__v1__business_user_profile_data_response__descriptor,
	    "Data\r\n\"{businessOrganizations:[]}\"\r\n", &lim,
	    "Nested too deeply (at most 2 levels)", "");
}

static void
test_table(void)
{
#define CT(s) uw_codec_by_content_type(s, strlen(s))
	CHECK(uw_codec_by_name("csv", 3) == &uw_codec_csv);
	CHECK_STR(uw_codec_csv.content_type, "text/csv");
	CHECK(CT("text/csv") == &uw_codec_csv);
	CHECK(CT("text/csv; charset=utf-8") == &uw_codec_csv);
#undef CT
}

/* ------------------------------------------------------------------------
 * Round trip over the request DTOs (flat) and a few nested messages
 */

static void
round_trip(const ProtobufCMessageDescriptor *d, int *runs, int *mismatches)
{
	for (int i = 0; i < 400; i++) {
		ProtobufCMessage *m = uw_msg_new(d);
		ProtobufCMessage *back = uw_msg_new(d);
		uw_buf b = {0}, b2 = {0};
		uw_decode_error err;
		bool ok;

		memset(&err, 0, sizeof(err));
		gen_fill(m, 0);
		ok =
		    uw_codec_csv.encode(m, &b) == 0 &&
		    uw_codec_csv.decode(back, b.data, b.len, NULL, &err) == 0 &&
		    gen_same_packed(m, back) &&
		    uw_codec_csv.encode(back, &b2) == 0 && b.len == b2.len &&
		    memcmp(b.data, b2.data, b.len) == 0;
		if (!ok && (*mismatches)++ < 5) {
			fprintf(stderr, "round trip %s: %s (%s)\n",
				d->short_name, b.data != NULL ? b.data : "",
				err.message);
		}
		(*runs)++;
		uw_buf_fini(&b);
		uw_buf_fini(&b2);
		protobuf_c_message_free_unpacked(m, NULL);
		protobuf_c_message_free_unpacked(back, NULL);
	}
}

static void
test_round_trip(void)
{
	int runs = 0, mismatches = 0;

	for (size_t i = 0; i < up_method_count(); i++) {
		round_trip(up_method_at(i)->desc->input, &runs, &mismatches);
	}
	round_trip(&users__v1__user_info__descriptor, &runs, &mismatches);
	round_trip(&users__v1__organization__descriptor, &runs, &mismatches);
	round_trip(&users__v1__business_user_profile_data_view__descriptor,
		   &runs, &mismatches);
	round_trip(&users__v1__business_user_profile_data_response__descriptor,
		   &runs, &mismatches);
	round_trip(&users__v1__response_status__descriptor, &runs, &mismatches);
	CHECK_INT(mismatches, 0);
	CHECK(runs >= 400 * 13);
}

int
main(void)
{
	CHECK_INT(up_meta_load(), 0);
	test_table();
	test_seed_userinfo();
	test_list_responses();
	test_quoting();
	test_formula_injection();
	test_nested();
	test_decode();
	test_decode_errors();
	test_round_trip();
	return check_done();
}
