/*
 * test_codec_json.c - the JSON codec: the seed's samples (golden bytes and
 * golden decodes), ServiceStack's leniencies, errors and limits, and a
 * round-trip property test over every DTO of users.proto (random messages
 * from a fixed seed, compared by their packed protobuf bytes).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "users_wire.h"
#include "codec_gen.h"

#define SEED_USERINFO                                                          \
	"{\"id\":\"String\",\"isAuthenticated\":false,\"firstName\":"          \
	"\"String\",\"lastName\":\"String\",\"name\":\"String\","              \
	"\"avatarUrl\":\"String\",\"emailAddress\":\"String\",\"roles\":["     \
	"\"String\"],\"accountIds\":[\"String\"],\"accountNames\":["           \
	"\"String\"],\"dashboardPermissions\":[\"ViewFiles\"]}"

#define SEED_PATCHUSER                                                         \
	"{\"accountIds\":[\"String\"],\"userId\":\"String\",\"firstName\":"    \
	"\"String\",\"lastName\":\"String\",\"newPassword\":\"String\","       \
	"\"roles\":[\"String\"]}"

#define SEED_NEWUSER                                                           \
	"{\"accountId\":\"String\",\"emailAddress\":\"String\",\"firstName\":" \
	"\"String\",\"lastName\":\"String\",\"password\":\"String\"}"

/* The JSV sample of UpdateBusinessUser, in JSON. */
#define SEED_UPDATEBUSINESSUSER                                                \
	"{\"userId\":0,\"firstName\":\"String\",\"lastName\":\"String\","      \
	"\"email\":\"String\",\"phoneNumber\":\"String\",\"roles\":["          \
	"\"String\"],\"viviotId\":\"String\",\"version\":0}"

#define ZERO_GUID "00000000000000000000000000000000"

/* Encodes m with the JSON codec; the caller frees the result. */
static char *
encode(const void *m)
{
	return gen_encode(&uw_codec_json, m);
}

static ProtobufCMessage *
decode(const ProtobufCMessageDescriptor *d, const char *json,
       uw_decode_error *err)
{
	return gen_decode(&uw_codec_json, d, json, strlen(json), NULL, err);
}

/* ------------------------------------------------------------------------
 * Golden cases from the seeds
 */

static void
test_seed_userinfo(void)
{
	Users__V1__UserInfo *u = malloc(sizeof(*u));
	char *s;

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
	s = encode(u);
	CHECK_STR(s, SEED_USERINFO);
	free(s);

	/* manager_access when set: by name, in declared order */
	u->has_manager_access = 1;
	u->manager_access = USERS__V1__USER_MANAGER_ACCESS__ReadWrite;
	s = encode(u);
	CHECK(s != NULL &&
	      strstr(s, "\"accountNames\":[\"String\"],\"managerAccess\":"
			"\"ReadWrite\",\"dashboardPermissions\"") != NULL);
	free(s);

	/* and the seed's bytes decode back to the same message */
	{
		uw_decode_error err;
		Users__V1__UserInfo *d = (Users__V1__UserInfo *)decode(
		    &users__v1__user_info__descriptor, SEED_USERINFO, &err);
		CHECK(d != NULL);
		if (d != NULL) {
			CHECK_STR(d->id, "String");
			CHECK_INT(d->has_is_authenticated, 1);
			CHECK_INT(d->is_authenticated, 0);
			CHECK_INT(d->has_manager_access, 0);
			CHECK_INT(d->n_dashboard_permissions, 1);
			s = encode(d);
			CHECK_STR(s, SEED_USERINFO);
			free(s);
			users__v1__user_info__free_unpacked(d, NULL);
		}
	}
	users__v1__user_info__free_unpacked(u, NULL);

	/* empty lists are written, unset scalars are not */
	u = malloc(sizeof(*u));
	users__v1__user_info__init(u);
	u->id = gen_dup("42");
	s = encode(u);
	CHECK_STR(s, "{\"id\":\"42\",\"roles\":[],\"accountIds\":[],"
		     "\"accountNames\":[],\"dashboardPermissions\":[]}");
	free(s);
	users__v1__user_info__free_unpacked(u, NULL);
}

static void
test_seed_requests(void)
{
	uw_decode_error err;
	Users__V1__PatchUser *p;
	Users__V1__NewUser *n;
	Users__V1__UpdateBusinessUser *b;
	char *s;

	p = (Users__V1__PatchUser *)decode(&users__v1__patch_user__descriptor,
					   SEED_PATCHUSER, &err);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK(p->account_ids != NULL && p->account_ids->n_items == 1);
		if (p->account_ids != NULL && p->account_ids->n_items == 1) {
			CHECK_STR(p->account_ids->items[0], "String");
		}
		CHECK_STR(p->user_id, "String");
		CHECK_STR(p->first_name, "String");
		CHECK_STR(p->last_name, "String");
		CHECK_STR(p->new_password, "String");
		CHECK(p->roles != NULL && p->roles->n_items == 1);
		s = encode(p);
		CHECK_STR(s, SEED_PATCHUSER);
		free(s);
		users__v1__patch_user__free_unpacked(p, NULL);
	}

	n = (Users__V1__NewUser *)decode(&users__v1__new_user__descriptor,
					 SEED_NEWUSER, &err);
	CHECK(n != NULL);
	if (n != NULL) {
		CHECK_STR(n->account_id, "String");
		CHECK_STR(n->email_address, "String");
		CHECK_STR(n->first_name, "String");
		CHECK_STR(n->last_name, "String");
		CHECK_STR(n->password, "String");
		s = encode(n);
		CHECK_STR(s, SEED_NEWUSER);
		free(s);
		users__v1__new_user__free_unpacked(n, NULL);
	}

	b = (Users__V1__UpdateBusinessUser *)decode(
	    &users__v1__update_business_user__descriptor,
	    SEED_UPDATEBUSINESSUSER, &err);
	CHECK(b != NULL);
	if (b != NULL) {
		CHECK_INT(b->has_user_id, 1);
		CHECK_INT(b->user_id, 0);
		CHECK_STR(b->first_name, "String");
		CHECK_STR(b->email, "String");
		CHECK_STR(b->phone_number, "String");
		CHECK_INT(b->n_roles, 1);
		CHECK_STR(b->viviot_id, "String");
		CHECK_INT(b->has_version, 1);
		CHECK_INT(b->version, 0);
		s = encode(b);
		CHECK_STR(s, SEED_UPDATEBUSINESSUSER);
		free(s);
		users__v1__update_business_user__free_unpacked(b, NULL);
	}
}

static void
test_seed_business_user_response(void)
{
	const char *want =
	    "{\"data\":{\"id\":0,\"activationStatus\":0,\"userName\":"
	    "\"String\",\"firstName\":\"String\",\"lastName\":\"String\","
	    "\"email\":\"String\",\"temporaryEmail\":\"String\","
	    "\"emailConfirmed\":false,\"phoneNumber\":\"String\","
	    "\"temporaryPhoneNumber\":\"String\",\"phoneNumberConfirmed\":"
	    "false,\"roles\":[\"String\"],\"organizationId\":\"" ZERO_GUID
	    "\",\"businessOrganizations\":[{\"id\":\"" ZERO_GUID
	    "\",\"name\":\"String\",\"type\":0,\"organizations\":[{\"id\":"
	    "\"" ZERO_GUID "\",\"name\":\"String\",\"type\":0,"
	    "\"organizations\":[]}]}],\"viviotId\":\"String\","
	    "\"imageContent\":\"String\",\"imageUrl\":\"String\"},"
	    "\"responseStatus\":{\"errorCode\":\"String\",\"message\":"
	    "\"String\",\"stackTrace\":\"String\",\"errors\":[{\"errorCode\":"
	    "\"String\",\"fieldName\":\"String\",\"message\":\"String\","
	    "\"meta\":{\"String\":\"String\"}}],\"meta\":{\"String\":"
	    "\"String\"}}}";
	Users__V1__BusinessUserProfileDataResponse *r = malloc(sizeof(*r));
	Users__V1__BusinessUserProfileDataView *v = malloc(sizeof(*v));
	Users__V1__ResponseStatus *st = malloc(sizeof(*st));
	Users__V1__ResponseError *e = malloc(sizeof(*e));
	uw_decode_error err;
	ProtobufCMessage *back;
	char *s;

	users__v1__business_user_profile_data_response__init(r);
	users__v1__business_user_profile_data_view__init(v);
	users__v1__response_status__init(st);
	users__v1__response_error__init(e);
	v->has_id = 1;
	v->has_activation_status = 1;
	v->activation_status = USERS__V1__ACTIVATION_STATUS__Unconfirmed;
	v->user_name = gen_dup("String");
	v->first_name = gen_dup("String");
	v->last_name = gen_dup("String");
	v->email = gen_dup("String");
	v->temporary_email = gen_dup("String");
	v->has_email_confirmed = 1;
	v->phone_number = gen_dup("String");
	v->temporary_phone_number = gen_dup("String");
	v->has_phone_number_confirmed = 1;
	v->n_roles = 1;
	v->roles = gen_strs1("String");
	/* dashed upper case in memory: written as the seed's 32 digits */
	v->organization_id = gen_dup("00000000-0000-0000-0000-000000000000");
	v->n_business_organizations = 1;
	v->business_organizations = malloc(sizeof(void *));
	v->business_organizations[0] = gen_org_placeholder(2);
	v->viviot_id = gen_dup("String");
	v->image_content = gen_dup("String");
	v->image_url = gen_dup("String");
	e->error_code = gen_dup("String");
	e->field_name = gen_dup("String");
	e->message = gen_dup("String");
	e->n_meta = 1;
	e->meta = malloc(sizeof(void *));
	e->meta[0] =
	    gen_meta_entry(&users__v1__response_error__meta_entry__descriptor,
			   "String", "String");
	st->error_code = gen_dup("String");
	st->message = gen_dup("String");
	st->stack_trace = gen_dup("String");
	st->n_errors = 1;
	st->errors = malloc(sizeof(void *));
	st->errors[0] = e;
	st->n_meta = 1;
	st->meta = malloc(sizeof(void *));
	st->meta[0] =
	    gen_meta_entry(&users__v1__response_status__meta_entry__descriptor,
			   "String", "String");
	r->data = v;
	r->response_status = st;
	s = encode(r);
	CHECK_STR(s, want);
	free(s);

	back =
	    decode(&users__v1__business_user_profile_data_response__descriptor,
		   want, &err);
	CHECK(back != NULL);
	if (back != NULL) {
		s = encode(back);
		CHECK_STR(s, want);
		free(s);
		protobuf_c_message_free_unpacked(back, NULL);
	}
	users__v1__business_user_profile_data_response__free_unpacked(r, NULL);
}

static void
test_error_shape(void)
{
	Users__V1__ErrorResponse *r = malloc(sizeof(*r));
	Users__V1__ResponseStatus *st = malloc(sizeof(*st));
	Users__V1__ResponseError *e = malloc(sizeof(*e));
	char *s;

	users__v1__error_response__init(r);
	users__v1__response_status__init(st);
	users__v1__response_error__init(e);
	st->error_code = gen_dup("NotEmpty");
	st->message = gen_dup("'Email' must not be empty.");
	e->error_code = gen_dup("NotEmpty");
	e->field_name = gen_dup("Email");
	e->message = gen_dup("'Email' must not be empty.");
	st->n_errors = 1;
	st->errors = malloc(sizeof(void *));
	st->errors[0] = e;
	r->response_status = st;
	s = encode(r);
	CHECK_STR(s, "{\"responseStatus\":{\"errorCode\":\"NotEmpty\","
		     "\"message\":\"'Email' must not be empty.\",\"errors\":[{"
		     "\"errorCode\":\"NotEmpty\",\"fieldName\":\"Email\","
		     "\"message\":\"'Email' must not be empty.\"}]}}");
	free(s);
	/* errors is always there, even empty */
	users__v1__response_error__free_unpacked(e, NULL);
	free(st->errors);
	st->errors = NULL;
	st->n_errors = 0;
	s = encode(r);
	CHECK_STR(s, "{\"responseStatus\":{\"errorCode\":\"NotEmpty\","
		     "\"message\":\"'Email' must not be empty.\","
		     "\"errors\":[]}}");
	free(s);
	users__v1__error_response__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------------
 * Encoding details
 */

static void
test_encode_strings(void)
{
	Users__V1__NewUser *n = malloc(sizeof(*n));
	char *s;
	uw_buf small = {.max = 8};

	users__v1__new_user__init(n);
	n->first_name = gen_dup("a\"b\\c\nd\te\x01/\xc3\xa9\xe6\x97\xa5</");
	n->last_name = gen_dup("bad\xff\xc3(");
	n->password = gen_dup("");
	n->email_address = gen_dup("a\xe2\x80\xa8"
				   "b\xe2\x80\xa9"
				   "c\xe2\x80\xaa");
	s = encode(n);
	CHECK_STR(s, "{\"emailAddress\":\"a\\u2028b\\u2029c\xe2\x80\xaa\","
		     "\"firstName\":\"a\\\"b\\\\c\\nd\\te\\u0001/"
		     "\xc3\xa9\xe6\x97\xa5</\",\"lastName\":\"bad\xef\xbf\xbd"
		     "\xef\xbf\xbd(\",\"password\":\"\"}");
	free(s);

	/* a full buffer fails and leaves the buffer as it was */
	CHECK_INT(uw_codec_json.encode((ProtobufCMessage *)n, &small), -1);
	CHECK_INT(small.len, 0);
	uw_buf_fini(&small);
	users__v1__new_user__free_unpacked(n, NULL);
}

static void
test_encode_numbers(void)
{
	Users__V1__BusinessUserProfileDataView *v = malloc(sizeof(*v));
	Users__V1__RequestEnvelope *env = malloc(sizeof(*env));
	Users__V1__Organization *o = malloc(sizeof(*o));
	char *s;

	users__v1__business_user_profile_data_view__init(v);
	v->has_id = 1;
	v->id = INT64_MIN;
	v->has_activation_status = 1;
	v->activation_status = USERS__V1__ACTIVATION_STATUS__IdentityConfirmed;
	s = encode(v);
	CHECK_STR(s, "{\"id\":-9223372036854775808,\"activationStatus\":30,"
		     "\"roles\":[],\"businessOrganizations\":[]}");
	free(s);
	users__v1__business_user_profile_data_view__free_unpacked(v, NULL);

	users__v1__request_envelope__init(env);
	env->has_deadline_ms = 1;
	env->deadline_ms = UINT32_MAX;
	env->has_payload = 1;
	env->payload.len = 5;
	env->payload.data = malloc(5);
	memcpy(env->payload.data, "hello", 5);
	s = encode(env);
	CHECK_STR(s, "{\"deadlineMs\":4294967295,\"payload\":\"aGVsbG8=\"}");
	free(s);
	users__v1__request_envelope__free_unpacked(env, NULL);

	users__v1__organization__init(o);
	o->id = gen_dup("ABCDEF00-1111-2222-3333-444455556666");
	o->parent_id = gen_dup("not a guid"); /* written as it is */
	o->has_type = 1;
	o->type = USERS__V1__ORGANIZATION_TYPE__Tenant;
	o->has_member_count = 1;
	s = encode(o);
	CHECK_STR(s, "{\"id\":\"abcdef00111122223333444455556666\","
		     "\"type\":20,\"parentId\":\"not a guid\","
		     "\"memberCount\":0}");
	free(s);
	users__v1__organization__free_unpacked(o, NULL);
}

/* ------------------------------------------------------------------------
 * Decoding: leniency, errors, limits
 */

static void
expect_error(const ProtobufCMessageDescriptor *d, const char *json,
	     const uw_limits *lim, const char *message, const char *field)
{
	ProtobufCMessage *m = uw_msg_new(d);
	uw_decode_error err;

	memset(&err, 0, sizeof(err));
	CHECK_INT(uw_codec_json.decode(m, json, strlen(json), lim, &err), -1);
	if (message != NULL) {
		CHECK_STR(err.message, message);
	}
	if (field != NULL) {
		CHECK_STR(err.field, field);
	}
	protobuf_c_message_free_unpacked(m, NULL);
}

static void
test_decode_lenient(void)
{
	uw_decode_error err;
	Users__V1__PatchUser *p = malloc(sizeof(*p));
	const char *body;
	Users__V1__ListUsers *l;
	Users__V1__CreateOrganization *c;
	Users__V1__Authenticate *a;
	Users__V1__UserInfo *u;

	/* preset fields stay unless the body sets them; null unsets */
	users__v1__patch_user__init(p);
	p->user_id = gen_dup("path-id");
	p->first_name = gen_dup("old");
	p->last_name = gen_dup("keep");
	body = "{\"UserId\":7,\"FIRSTNAME\":\"x\",\"first_name\":\"Ada\","
	       "\"lastName\":null,\"unknown\":{\"deep\":[1,2,{}]},"
	       "\"roles\":null,\"accountIds\":[]}";
	CHECK_INT(uw_codec_json.decode((ProtobufCMessage *)p, body,
				       strlen(body), NULL, &err),
		  0);
	CHECK_STR(p->user_id, "7");
	CHECK_STR(p->first_name, "Ada");
	CHECK(p->last_name == NULL);
	CHECK(p->roles == NULL);
	CHECK(p->account_ids != NULL && p->account_ids->n_items == 0);
	users__v1__patch_user__free_unpacked(p, NULL);

	/* numbers as strings, integral reals, names for numbers */
	l = (Users__V1__ListUsers *)decode(&users__v1__list_users__descriptor,
					   "{\"skip\":\"12\",\"take\":7.0}",
					   &err);
	CHECK(l != NULL && l->has_skip && l->skip == 12 && l->has_take &&
	      l->take == 7);
	if (l != NULL) {
		users__v1__list_users__free_unpacked(l, NULL);
	}

	c = (Users__V1__CreateOrganization *)decode(
	    &users__v1__create_organization__descriptor,
	    "{\"name\":\"N\",\"type\":\"tenant\",\"parentId\":"
	    "\"{ABCDEF00-1111-2222-3333-444455556666}\"}",
	    &err);
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_INT(c->type, USERS__V1__ORGANIZATION_TYPE__Tenant);
		CHECK_STR(c->parent_id, "abcdef00111122223333444455556666");
		users__v1__create_organization__free_unpacked(c, NULL);
	}
	c = (Users__V1__CreateOrganization *)decode(
	    &users__v1__create_organization__descriptor,
	    "{\"type\":30,\"parentId\":\"\"}", &err);
	CHECK(c != NULL && c->has_type && c->type == 30 &&
	      c->parent_id == NULL);
	if (c != NULL) {
		users__v1__create_organization__free_unpacked(c, NULL);
	}

	a = (Users__V1__Authenticate *)decode(
	    &users__v1__authenticate__descriptor,
	    "{\"rememberMe\":\"True\",\"userName\":\"a@b.c\"}", &err);
	CHECK(a != NULL && a->has_remember_me && a->remember_me);
	if (a != NULL) {
		users__v1__authenticate__free_unpacked(a, NULL);
	}
	a = (Users__V1__Authenticate *)decode(
	    &users__v1__authenticate__descriptor, "{\"rememberMe\":0}", &err);
	CHECK(a != NULL && a->has_remember_me && !a->remember_me);
	if (a != NULL) {
		users__v1__authenticate__free_unpacked(a, NULL);
	}

	u = (Users__V1__UserInfo *)decode(
	    &users__v1__user_info__descriptor,
	    "{\"dashboardPermissions\":[\"viewflows\",3,\"ViewCallCenter\"],"
	    "\"managerAccess\":\"READWRITEDELETE\"}",
	    &err);
	CHECK(u != NULL && u->n_dashboard_permissions == 3);
	if (u != NULL) {
		CHECK_INT(u->dashboard_permissions[0], 6);
		CHECK_INT(u->dashboard_permissions[1], 3);
		CHECK_INT(u->dashboard_permissions[2], 7);
		CHECK_INT(u->manager_access, 2);
		users__v1__user_info__free_unpacked(u, NULL);
	}

	/* empty body, whitespace, null: nothing set */
	l = (Users__V1__ListUsers *)decode(&users__v1__list_users__descriptor,
					   " \r\n", &err);
	CHECK(l != NULL && !l->has_skip);
	if (l != NULL) {
		users__v1__list_users__free_unpacked(l, NULL);
	}
	l = (Users__V1__ListUsers *)decode(&users__v1__list_users__descriptor,
					   "null", &err);
	CHECK(l != NULL);
	if (l != NULL) {
		users__v1__list_users__free_unpacked(l, NULL);
	}

	/* non-ASCII and escapes read back as UTF-8 */
	p = (Users__V1__PatchUser *)decode(
	    &users__v1__patch_user__descriptor,
	    "{\"firstName\":\"Zo\\u00eb \\ud83d\\ude00 \xe6\x97\xa5\"}", &err);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK_STR(p->first_name,
			  "Zo\xc3\xab \xf0\x9f\x98\x80 \xe6\x97\xa5");
		users__v1__patch_user__free_unpacked(p, NULL);
	}
}

static void
test_decode_errors(void)
{
	const ProtobufCMessageDescriptor *nu = &users__v1__new_user__descriptor;
	const ProtobufCMessageDescriptor *lu =
	    &users__v1__list_users__descriptor;
	const ProtobufCMessageDescriptor *pu =
	    &users__v1__patch_user__descriptor;
	uw_limits lim = {.max_depth = 2, .max_items = 2, .max_string = 5};

	expect_error(nu, "{\"firstName\":[1]}", NULL,
		     "Expected a string for 'firstName'", "FirstName");
	expect_error(nu, "{\"firstName\":{}}", NULL,
		     "Expected a string for 'firstName'", "FirstName");
	expect_error(lu, "{\"skip\":\"abc\"}", NULL,
		     "Expected a number for 'skip'", "Skip");
	expect_error(lu, "{\"skip\":true}", NULL,
		     "Expected a number for 'skip'", "Skip");
	expect_error(lu, "{\"skip\":7.5}", NULL, "Expected a number for 'skip'",
		     "Skip");
	expect_error(lu, "{\"skip\":3000000000}", NULL,
		     "Value out of range for 'skip'", "Skip");
	expect_error(lu, "{\"skip\":\"0x10\"}", NULL, NULL, "Skip");
	expect_error(&users__v1__authenticate__descriptor, "{\"rememberMe\":2}",
		     NULL, "Expected a boolean for 'rememberMe'", "RememberMe");
	expect_error(&users__v1__create_organization__descriptor,
		     "{\"type\":15}", NULL,
		     "Expected a OrganizationType for 'type'", "Type");
	expect_error(&users__v1__create_organization__descriptor,
		     "{\"parentId\":\"1234\"}", NULL,
		     "Expected a Guid for 'parentId'", "ParentId");
	expect_error(pu, "{\"roles\":\"A,B\"}", NULL,
		     "Expected a list for 'roles'", "Roles");
	expect_error(pu, "{\"roles\":[\"a\",null]}", NULL,
		     "Expected a string for 'roles'", "Roles");
	expect_error(pu, "{\"roles\":[[\"a\"]]}", NULL,
		     "Expected a string for 'roles'", "Roles");
	expect_error(
	    &users__v1__business_user_profile_data_response__descriptor,
	    "{\"data\":[]}", NULL, "Expected an object for 'data'", "Data");
	expect_error(nu, "[1]", NULL, "Expected a JSON object for NewUser", "");
	expect_error(nu, "\"x\"", NULL, NULL, "");
	expect_error(nu, "{\"firstName\":", NULL, NULL, "");
	expect_error(nu, "{\"a\":1}}", NULL, NULL, "");
	expect_error(nu, "{\"firstName\":\"a\\u0000b\"}", NULL, NULL, NULL);
	expect_error(nu, "{\"firstName\":\"\xff\"}", NULL, NULL, NULL);
	expect_error(nu, "{\"firstName\":\"\xc0\x80\"}", NULL, NULL, NULL);
	expect_error(nu, "{\"firstName\":\"\xed\xa0\x80\"}", NULL, NULL, NULL);
	expect_error(nu, "{\"firstName\":\"\\ud800\"}", NULL, NULL, NULL);
	{
		/* jansson's message is kept printable */
		ProtobufCMessage *m = uw_msg_new(nu);
		uw_decode_error err;
		CHECK_INT(uw_codec_json.decode(m, "{\xff", 2, NULL, &err), -1);
		CHECK(strncmp(err.message, "Invalid JSON: ", 14) == 0);
		for (const char *c = err.message; *c != '\0'; c++) {
			CHECK((unsigned char)*c >= 0x20 &&
			      (unsigned char)*c < 0x7f);
		}
		protobuf_c_message_free_unpacked(m, NULL);
	}

	/* limits */
	expect_error(nu, "{\"firstName\":\"123456\"}", &lim,
		     "Value too long for 'firstName' (at most 5 bytes)",
		     "FirstName");
	expect_error(pu, "{\"roles\":[\"a\",\"b\",\"c\"]}", &lim,
		     "Too many items in 'roles' (at most 2)", "Roles");
	expect_error(pu, "{\"roles\":[\"123456\"]}", &lim,
		     "Value too long for 'roles' (at most 5 bytes)", "Roles");
	expect_error(
	    &users__v1__business_user_profile_data_response__descriptor,
	    "{\"data\":{\"businessOrganizations\":[]}}", &lim, NULL, NULL);
	expect_error(&users__v1__response_status__descriptor,
		     "{\"meta\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}}", &lim,
		     "Too many items in 'meta' (at most 2)", "Meta");
	{
		/* depth 2 allows one nested object */
		uw_decode_error err;
		ProtobufCMessage *m = uw_msg_new(
		    &users__v1__business_user_profile_data_response__descriptor);
		const char *ok = "{\"data\":{\"id\":1}}";
		CHECK_INT(uw_codec_json.decode(m, ok, strlen(ok), &lim, &err),
			  0);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	{
		/* the default depth (16) against a deep nesting of orgs */
		char deep[2048];
		size_t n = 0;
		uw_decode_error err;
		ProtobufCMessage *m =
		    uw_msg_new(&users__v1__organization_basic_view__descriptor);
		for (int i = 0; i < 20; i++) {
			n += (size_t)snprintf(deep + n, sizeof(deep) - n,
					      "{\"organizations\":[");
		}
		deep[n++] = '{';
		for (int i = 0; i < 20; i++) {
			deep[n++] = '}';
			deep[n++] = ']';
		}
		deep[n++] = '}';
		CHECK_INT(uw_codec_json.decode(m, deep, n, NULL, &err), -1);
		CHECK(strstr(err.message, "Nested too deeply") != NULL);
		protobuf_c_message_free_unpacked(m, NULL);
	}
}

/* ------------------------------------------------------------------------
 * Round trip: decode(encode(m)) == m for random messages of every DTO
 */

static const char *const pieces[] = {"",
				     "a",
				     "Ada",
				     ",",
				     "\"",
				     "\"\"",
				     "[",
				     "]",
				     "{",
				     "}",
				     ":",
				     "\n",
				     "\r\n",
				     "\t",
				     "\\",
				     "/",
				     " ",
				     "\xc3\xa9",
				     "\xe6\x97\xa5\xe6\x9c\xac",
				     "\xf0\x9f\x98\x80",
				     "\x01",
				     "\x1f",
				     "null",
				     "true",
				     "0",
				     "-1",
				     "1e5",
				     "a,b",
				     "[a,b]",
				     "\"x\",y",
				     "String",
				     "\xe2\x80\xa8"};

static const gen_style json_gen = {pieces, sizeof(pieces) / sizeof(pieces[0]),
				   ",\"", ""};

static void
test_round_trip(void)
{
	int mismatches = 0, runs = 0;

	gen_use(&json_gen);
	for (size_t t = 0; t < sizeof(gen_all_dtos) / sizeof(gen_all_dtos[0]);
	     t++) {
		for (int i = 0; i < 400; i++) {
			ProtobufCMessage *m = uw_msg_new(gen_all_dtos[t]);
			ProtobufCMessage *back = uw_msg_new(gen_all_dtos[t]);
			uw_buf b = {0}, b2 = {0};
			uw_decode_error err;
			bool ok;

			gen_fill(m, 0);
			ok = uw_codec_json.encode(m, &b) == 0 &&
			     uw_codec_json.decode(back, b.data, b.len, NULL,
						  &err) == 0 &&
			     gen_same_packed(m, back) &&
			     uw_codec_json.encode(back, &b2) == 0 &&
			     b.len == b2.len &&
			     memcmp(b.data, b2.data, b.len) == 0;
			if (!ok && mismatches++ < 5) {
				fprintf(stderr, "round trip %s: %s\n",
					gen_all_dtos[t]->short_name,
					b.data != NULL ? b.data : "(none)");
			}
			runs++;
			uw_buf_fini(&b);
			uw_buf_fini(&b2);
			protobuf_c_message_free_unpacked(m, NULL);
			protobuf_c_message_free_unpacked(back, NULL);
		}
	}
	CHECK_INT(mismatches, 0);
	CHECK(runs > 10000);
}

/* ------------------------------------------------------------------------
 * The table
 */

static void
test_table(void)
{
	CHECK(uw_codecs[0] == &uw_codec_json);
	CHECK(uw_codec_by_name("json", 4) == &uw_codec_json);
	CHECK(uw_codec_by_name("JSON", 4) == &uw_codec_json);
	CHECK(uw_codec_by_name("jsonx", 5) == NULL);
	CHECK(uw_codec_by_name("js", 2) == NULL);
	CHECK(uw_codec_by_name(NULL, 0) == NULL);
	CHECK_STR(uw_codec_json.content_type,
		  "application/json; charset=utf-8");
#define CT(s) uw_codec_by_content_type(s, strlen(s))
	CHECK(CT("application/json") == &uw_codec_json);
	CHECK(CT("application/json; charset=utf-8") == &uw_codec_json);
	CHECK(CT(" Application/JSON ;charset=UTF-8") == &uw_codec_json);
	CHECK(CT("text/json") == &uw_codec_json);
	CHECK(CT("text/plain") == NULL);
	CHECK(CT("application/jsonp") == NULL);
	CHECK(CT("application/x-www-form-urlencoded") == NULL);
	CHECK(CT("") == NULL);
#undef CT
	CHECK(uw_codec_by_content_type(NULL, 0) == NULL);
}

static void
test_buf(void)
{
	uw_buf b = {.max = 10};

	CHECK_INT(uw_buf_puts(&b, "hello"), 0);
	CHECK_INT(uw_buf_append(&b, "world", 5), 0);
	CHECK_INT(uw_buf_append(&b, "!", 1), -1);
	CHECK_INT(b.len, 10);
	CHECK_STR(b.data, "helloworld");
	CHECK_INT(uw_buf_append(&b, NULL, 0), 0);
	uw_buf_fini(&b);
	CHECK(b.data == NULL && b.len == 0);
}

int
main(void)
{
	CHECK_INT(up_meta_load(), 0);
	test_table();
	test_buf();
	test_seed_userinfo();
	test_seed_requests();
	test_seed_business_user_response();
	test_error_shape();
	test_encode_strings();
	test_encode_numbers();
	test_decode_lenient();
	test_decode_errors();
	test_round_trip();
	return check_done();
}
