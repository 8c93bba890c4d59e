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
#include "codec.h"

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

static char *
dup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d != NULL) {
		memcpy(d, s, n);
	}
	return d;
}

static char **
strs1(const char *s)
{
	char **v = malloc(sizeof(char *));
	v[0] = dup(s);
	return v;
}

/* Encodes m with the JSON codec; the caller frees the result. */
static char *
encode(const void *m)
{
	gw_buf b = {0};
	char *s;

	if (gw_codec_json.encode(m, &b) != 0) {
		gw_buf_fini(&b);
		return NULL;
	}
	s = dup(b.data != NULL ? b.data : "");
	gw_buf_fini(&b);
	return s;
}

static ProtobufCMessage *
decode(const ProtobufCMessageDescriptor *d, const char *json,
       gw_decode_error *err)
{
	ProtobufCMessage *m = gw_msg_new(d);

	if (gw_codec_json.decode(m, json, strlen(json), NULL, err) != 0) {
		protobuf_c_message_free_unpacked(m, NULL);
		return NULL;
	}
	return m;
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
	u->id = dup("String");
	u->has_is_authenticated = 1;
	u->is_authenticated = 0;
	u->first_name = dup("String");
	u->last_name = dup("String");
	u->name = dup("String");
	u->avatar_url = dup("String");
	u->email_address = dup("String");
	u->n_roles = 1;
	u->roles = strs1("String");
	u->n_account_ids = 1;
	u->account_ids = strs1("String");
	u->n_account_names = 1;
	u->account_names = strs1("String");
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
		gw_decode_error err;
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
	u->id = dup("42");
	s = encode(u);
	CHECK_STR(s, "{\"id\":\"42\",\"roles\":[],\"accountIds\":[],"
		     "\"accountNames\":[],\"dashboardPermissions\":[]}");
	free(s);
	users__v1__user_info__free_unpacked(u, NULL);
}

static void
test_seed_requests(void)
{
	gw_decode_error err;
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

static Users__V1__OrganizationBasicView *
org_placeholder(int levels)
{
	Users__V1__OrganizationBasicView *o = malloc(sizeof(*o));

	users__v1__organization_basic_view__init(o);
	o->id = dup(ZERO_GUID);
	o->name = dup("String");
	o->has_type = 1;
	o->type = USERS__V1__ORGANIZATION_TYPE__Unknown;
	if (levels > 1) {
		o->n_sub_organizations = 1;
		o->sub_organizations = malloc(sizeof(void *));
		o->sub_organizations[0] = org_placeholder(levels - 1);
	}
	return o;
}

static void *
meta_entry(const ProtobufCMessageDescriptor *d, const char *k, const char *v)
{
	/* ResponseStatus and ResponseError entries have the same layout */
	Users__V1__ResponseStatus__MetaEntry *e = malloc(d->sizeof_message);
	d->message_init((ProtobufCMessage *)e);
	e->key = dup(k);
	e->value = dup(v);
	return e;
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
	gw_decode_error err;
	ProtobufCMessage *back;
	char *s;

	users__v1__business_user_profile_data_response__init(r);
	users__v1__business_user_profile_data_view__init(v);
	users__v1__response_status__init(st);
	users__v1__response_error__init(e);
	v->has_id = 1;
	v->has_activation_status = 1;
	v->activation_status = USERS__V1__ACTIVATION_STATUS__Unconfirmed;
	v->user_name = dup("String");
	v->first_name = dup("String");
	v->last_name = dup("String");
	v->email = dup("String");
	v->temporary_email = dup("String");
	v->has_email_confirmed = 1;
	v->phone_number = dup("String");
	v->temporary_phone_number = dup("String");
	v->has_phone_number_confirmed = 1;
	v->n_roles = 1;
	v->roles = strs1("String");
	/* dashed upper case in memory: written as the seed's 32 digits */
	v->organization_id = dup("00000000-0000-0000-0000-000000000000");
	v->n_business_organizations = 1;
	v->business_organizations = malloc(sizeof(void *));
	v->business_organizations[0] = org_placeholder(2);
	v->viviot_id = dup("String");
	v->image_content = dup("String");
	v->image_url = dup("String");
	e->error_code = dup("String");
	e->field_name = dup("String");
	e->message = dup("String");
	e->n_meta = 1;
	e->meta = malloc(sizeof(void *));
	e->meta[0] =
	    meta_entry(&users__v1__response_error__meta_entry__descriptor,
		       "String", "String");
	st->error_code = dup("String");
	st->message = dup("String");
	st->stack_trace = dup("String");
	st->n_errors = 1;
	st->errors = malloc(sizeof(void *));
	st->errors[0] = e;
	st->n_meta = 1;
	st->meta = malloc(sizeof(void *));
	st->meta[0] =
	    meta_entry(&users__v1__response_status__meta_entry__descriptor,
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
	st->error_code = dup("NotEmpty");
	st->message = dup("'Email' must not be empty.");
	e->error_code = dup("NotEmpty");
	e->field_name = dup("Email");
	e->message = dup("'Email' must not be empty.");
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
	gw_buf small = {.max = 8};

	users__v1__new_user__init(n);
	n->first_name = dup("a\"b\\c\nd\te\x01/\xc3\xa9\xe6\x97\xa5</");
	n->last_name = dup("bad\xff\xc3(");
	n->password = dup("");
	n->email_address = dup("a\xe2\x80\xa8"
			       "b\xe2\x80\xa9"
			       "c\xe2\x80\xaa");
	s = encode(n);
	CHECK_STR(s, "{\"emailAddress\":\"a\\u2028b\\u2029c\xe2\x80\xaa\","
		     "\"firstName\":\"a\\\"b\\\\c\\nd\\te\\u0001/"
		     "\xc3\xa9\xe6\x97\xa5</\",\"lastName\":\"bad\xef\xbf\xbd"
		     "\xef\xbf\xbd(\",\"password\":\"\"}");
	free(s);

	/* a full buffer fails and leaves the buffer as it was */
	CHECK_INT(gw_codec_json.encode((ProtobufCMessage *)n, &small), -1);
	CHECK_INT(small.len, 0);
	gw_buf_fini(&small);
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
	o->id = dup("ABCDEF00-1111-2222-3333-444455556666");
	o->parent_id = dup("not a guid"); /* written as it is */
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
	     const gw_limits *lim, const char *message, const char *field)
{
	ProtobufCMessage *m = gw_msg_new(d);
	gw_decode_error err;

	memset(&err, 0, sizeof(err));
	CHECK_INT(gw_codec_json.decode(m, json, strlen(json), lim, &err), -1);
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
	gw_decode_error err;
	Users__V1__PatchUser *p = malloc(sizeof(*p));
	const char *body;
	Users__V1__ListUsers *l;
	Users__V1__CreateOrganization *c;
	Users__V1__Authenticate *a;
	Users__V1__UserInfo *u;

	/* preset fields stay unless the body sets them; null unsets */
	users__v1__patch_user__init(p);
	p->user_id = dup("path-id");
	p->first_name = dup("old");
	p->last_name = dup("keep");
	body = "{\"UserId\":7,\"FIRSTNAME\":\"x\",\"first_name\":\"Ada\","
	       "\"lastName\":null,\"unknown\":{\"deep\":[1,2,{}]},"
	       "\"roles\":null,\"accountIds\":[]}";
	CHECK_INT(gw_codec_json.decode((ProtobufCMessage *)p, body,
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
	gw_limits lim = {.max_depth = 2, .max_items = 2, .max_string = 5};

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
		ProtobufCMessage *m = gw_msg_new(nu);
		gw_decode_error err;
		CHECK_INT(gw_codec_json.decode(m, "{\xff", 2, NULL, &err), -1);
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
		gw_decode_error err;
		ProtobufCMessage *m = gw_msg_new(
		    &users__v1__business_user_profile_data_response__descriptor);
		const char *ok = "{\"data\":{\"id\":1}}";
		CHECK_INT(gw_codec_json.decode(m, ok, strlen(ok), &lim, &err),
			  0);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	{
		/* the default depth (16) against a deep nesting of orgs */
		char deep[2048];
		size_t n = 0;
		gw_decode_error err;
		ProtobufCMessage *m =
		    gw_msg_new(&users__v1__organization_basic_view__descriptor);
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
		CHECK_INT(gw_codec_json.decode(m, deep, n, NULL, &err), -1);
		CHECK(strstr(err.message, "Nested too deeply") != NULL);
		protobuf_c_message_free_unpacked(m, NULL);
	}
}

/* ------------------------------------------------------------------------
 * Round trip: decode(encode(m)) == m for random messages of every DTO
 */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n == 0 ? 0 : (uint32_t)(rng % n);
}

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

static char *
rnd_string(bool guid)
{
	char buf[256];
	size_t n = 0, k = rnd(6);

	if (guid) {
		for (int i = 0; i < 32; i++) {
			buf[i] = "0123456789abcdef"[rnd(16)];
		}
		buf[32] = '\0';
		return dup(buf);
	}
	for (size_t i = 0; i < k; i++) {
		const char *p = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];
		size_t l = strlen(p);
		if (n + l < sizeof(buf)) {
			memcpy(buf + n, p, l);
			n += l;
		}
	}
	buf[n] = '\0';
	return dup(buf);
}

static int64_t
rnd_i64(void)
{
	static const int64_t edge[] = {
	    0, 1, -1, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, 42};
	if (rnd(2)) {
		return edge[rnd(8)];
	}
	return (int64_t)(((uint64_t)rnd(UINT32_MAX) << 32) | rnd(UINT32_MAX));
}

static void fill(ProtobufCMessage *m, int depth);

/* One random value of f written at p. */
static void
rnd_value(const ProtobufCMessageDescriptor *d,
	  const ProtobufCFieldDescriptor *f, void *p, int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*(int32_t *)p = (int32_t)rnd_i64();
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)p = (uint32_t)rnd_i64();
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*(int64_t *)p = rnd_i64();
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*(uint64_t *)p = (uint64_t)rnd_i64();
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)p = (float)rnd(1000) / 8;
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)p = (double)rnd_i64() / 3;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)p = (protobuf_c_boolean)rnd(2);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *e = f->descriptor;
		*(int *)p = e->values[rnd(e->n_values)].value;
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const up_field_info *fi = up_field_info_of(d, f);
		*(char **)p = rnd_string(fi != NULL && fi->guid);
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = p;
		b->len = rnd(12);
		b->data = malloc(b->len + 1);
		for (size_t i = 0; i < b->len; i++) {
			b->data[i] = (uint8_t)rnd(256);
		}
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		ProtobufCMessage *sub = gw_msg_new(f->descriptor);
		fill(sub, depth + 1);
		*(ProtobufCMessage **)p = sub;
		break;
	}
	}
}

static size_t
esize(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	default:
		return 4;
	}
}

static void
fill(ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *base = (char *)m;
		if (rnd(3) == 0) {
			continue; /* unset */
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n =
			    f->type == PROTOBUF_C_TYPE_MESSAGE && depth > 2
				? 0
				: rnd(4);
			char *arr = n ? calloc(n, esize(f->type)) : NULL;
			for (size_t k = 0; k < n; k++) {
				rnd_value(d, f, arr + k * esize(f->type),
					  depth);
			}
			if (gw_field_is_map(f)) {
				/* keys must differ: a JSON object has one
				 * value per key */
				for (size_t k = 0; k < n; k++) {
					Users__V1__ResponseStatus__MetaEntry
					    *e = ((void **)arr)[k];
					char key[32];
					free(e->key);
					snprintf(key, sizeof(key), "k%zu,\"%u",
						 k, rnd(100));
					e->key = dup(key);
					if (e->value == NULL) {
						e->value = dup("");
					}
				}
			}
			*(size_t *)(base + f->quantifier_offset) = n;
			*(char **)(base + f->offset) = arr;
			continue;
		}
		if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth > 3 &&
		    !gw_msg_is_list_wrapper(f->descriptor)) {
			continue;
		}
		rnd_value(d, f, base + f->offset, depth);
		if (f->type != PROTOBUF_C_TYPE_STRING &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE) {
			*(protobuf_c_boolean *)(base + f->quantifier_offset) =
			    1;
		}
	}
}

static bool
same_packed(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	size_t na = protobuf_c_message_get_packed_size(a);
	size_t nb = protobuf_c_message_get_packed_size(b);
	uint8_t *pa, *pb;
	bool same;

	if (na != nb) {
		return false;
	}
	pa = malloc(na + 1);
	pb = malloc(nb + 1);
	protobuf_c_message_pack(a, pa);
	protobuf_c_message_pack(b, pb);
	same = memcmp(pa, pb, na) == 0;
	free(pa);
	free(pb);
	return same;
}

static const ProtobufCMessageDescriptor *const all_dtos[] = {
    &users__v1__string_list__descriptor,
    &users__v1__response_error__descriptor,
    &users__v1__response_status__descriptor,
    &users__v1__error_response__descriptor,
    &users__v1__user_info__descriptor,
    &users__v1__new_user__descriptor,
    &users__v1__patch_user__descriptor,
    &users__v1__get_user__descriptor,
    &users__v1__list_users__descriptor,
    &users__v1__list_users_response__descriptor,
    &users__v1__delete_user__descriptor,
    &users__v1__delete_user_response__descriptor,
    &users__v1__organization_basic_view__descriptor,
    &users__v1__business_user_profile_data_view__descriptor,
    &users__v1__business_user_profile_data_response__descriptor,
    &users__v1__update_business_user__descriptor,
    &users__v1__organization__descriptor,
    &users__v1__create_organization__descriptor,
    &users__v1__get_organization__descriptor,
    &users__v1__list_organizations__descriptor,
    &users__v1__list_organizations_response__descriptor,
    &users__v1__add_organization_member__descriptor,
    &users__v1__remove_organization_member__descriptor,
    &users__v1__organization_member_response__descriptor,
    &users__v1__authenticate__descriptor,
    &users__v1__authenticate_response__descriptor,
    &users__v1__get_access_token__descriptor,
    &users__v1__get_access_token_response__descriptor,
    &users__v1__basic_credentials__descriptor,
    &users__v1__request_envelope__descriptor,
    &users__v1__response_envelope__descriptor,
};

static void
test_round_trip(void)
{
	int mismatches = 0, runs = 0;

	for (size_t t = 0; t < sizeof(all_dtos) / sizeof(all_dtos[0]); t++) {
		for (int i = 0; i < 400; i++) {
			ProtobufCMessage *m = gw_msg_new(all_dtos[t]);
			ProtobufCMessage *back = gw_msg_new(all_dtos[t]);
			gw_buf b = {0}, b2 = {0};
			gw_decode_error err;
			bool ok;

			fill(m, 0);
			ok = gw_codec_json.encode(m, &b) == 0 &&
			     gw_codec_json.decode(back, b.data, b.len, NULL,
						  &err) == 0 &&
			     same_packed(m, back) &&
			     gw_codec_json.encode(back, &b2) == 0 &&
			     b.len == b2.len &&
			     memcmp(b.data, b2.data, b.len) == 0;
			if (!ok && mismatches++ < 5) {
				fprintf(stderr, "round trip %s: %s\n",
					all_dtos[t]->short_name,
					b.data != NULL ? b.data : "(none)");
			}
			runs++;
			gw_buf_fini(&b);
			gw_buf_fini(&b2);
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
	CHECK(gw_codecs[0] == &gw_codec_json);
	CHECK(gw_codec_by_name("json", 4) == &gw_codec_json);
	CHECK(gw_codec_by_name("JSON", 4) == &gw_codec_json);
	CHECK(gw_codec_by_name("jsonx", 5) == NULL);
	CHECK(gw_codec_by_name("js", 2) == NULL);
	CHECK(gw_codec_by_name(NULL, 0) == NULL);
	CHECK_STR(gw_codec_json.content_type,
		  "application/json; charset=utf-8");
#define CT(s) gw_codec_by_content_type(s, strlen(s))
	CHECK(CT("application/json") == &gw_codec_json);
	CHECK(CT("application/json; charset=utf-8") == &gw_codec_json);
	CHECK(CT(" Application/JSON ;charset=UTF-8") == &gw_codec_json);
	CHECK(CT("text/json") == &gw_codec_json);
	CHECK(CT("text/plain") == NULL);
	CHECK(CT("application/jsonp") == NULL);
	CHECK(CT("application/x-www-form-urlencoded") == NULL);
	CHECK(CT("") == NULL);
#undef CT
	CHECK(gw_codec_by_content_type(NULL, 0) == NULL);
}

static void
test_buf(void)
{
	gw_buf b = {.max = 10};

	CHECK_INT(gw_buf_puts(&b, "hello"), 0);
	CHECK_INT(gw_buf_append(&b, "world", 5), 0);
	CHECK_INT(gw_buf_append(&b, "!", 1), -1);
	CHECK_INT(b.len, 10);
	CHECK_STR(b.data, "helloworld");
	CHECK_INT(gw_buf_append(&b, NULL, 0), 0);
	gw_buf_fini(&b);
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
