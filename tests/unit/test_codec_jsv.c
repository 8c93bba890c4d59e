/*
 * test_codec_jsv.c - the JSV codec: the seed's UpdateBusinessUser samples
 * (the indented request decodes as it is; the response is produced, after
 * normalising the seed's whitespace), quoting, the compact and indented
 * readings of whitespace, errors and limits, and a round-trip property test
 * over every DTO of users.proto with strings full of JSV's separators.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec.h"
#include "codec_gen.h"

#define ZERO_GUID "00000000000000000000000000000000"

/* The seed's request sample, byte for byte (tabs, a space after ':'). */
/*
 * Seed 004's request and response samples, verbatim: tests/data/seeds/
 * (docs/wire-formats.md, section 13).
 */
static char *seed_request;
static char *seed_response;

/* Encodes m with the JSV codec; the caller frees the result. */
static char *
encode(const void *m)
{
	return gen_encode(&uw_codec_jsv, m);
}

static ProtobufCMessage *
decode_n(const ProtobufCMessageDescriptor *d, const char *s, size_t n,
	 uw_decode_error *err)
{
	return gen_decode(&uw_codec_jsv, d, s, n, NULL, err);
}

static ProtobufCMessage *
decode(const ProtobufCMessageDescriptor *d, const char *s, uw_decode_error *err)
{
	return decode_n(d, s, strlen(s), err);
}

/* The seed's text with its display whitespace taken out (it quotes
 * nothing, so every space, tab and line break is indentation). */
static char *
normalise(const char *s)
{
	char *o = gen_dup(s);
	size_t n = 0;

	for (const char *p = s; *p != '\0'; p++) {
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
			o[n++] = *p;
		}
	}
	o[n] = '\0';
	return o;
}

/* ------------------------------------------------------------------------
 * Golden cases from the seed
 */

static void
test_seed_request(void)
{
	uw_decode_error err;
	Users__V1__UpdateBusinessUser *b;
	char *s;

	b = (Users__V1__UpdateBusinessUser *)decode(
	    &users__v1__update_business_user__descriptor, seed_request, &err);
	CHECK(b != NULL);
	if (b == NULL) {
		fprintf(stderr, "seed request: %s\n", err.message);
		return;
	}
	CHECK_INT(b->has_user_id, 1);
	CHECK_INT(b->user_id, 0);
	CHECK_STR(b->first_name, "String");
	CHECK_STR(b->last_name, "String");
	CHECK_STR(b->email, "String");
	CHECK_STR(b->phone_number, "String");
	CHECK_INT(b->n_roles, 1);
	if (b->n_roles == 1) {
		CHECK_STR(b->roles[0], "String");
	}
	CHECK_STR(b->viviot_id, "String");
	CHECK_INT(b->has_version, 1);
	CHECK_INT(b->version, 0);
	s = encode(b);
	CHECK_STR(s, "{userId:0,firstName:String,lastName:String,email:String,"
		     "phoneNumber:String,roles:[String],viviotId:String,"
		     "version:0}");
	free(s);
	users__v1__update_business_user__free_unpacked(b, NULL);

	/* the same with CRLF line ends and no space after ':' */
	b = (Users__V1__UpdateBusinessUser *)decode(
	    &users__v1__update_business_user__descriptor,
	    " \r\n{\r\n userId:7,\r\n firstName:\tAda ,\r\n roles:[\r\n  "
	    "Admin ,\r\n  Manager\r\n ]\r\n}\r\n",
	    &err);
	CHECK(b != NULL);
	if (b != NULL) {
		CHECK_INT(b->user_id, 7);
		CHECK_STR(b->first_name, "Ada");
		CHECK_INT(b->n_roles, 2);
		if (b->n_roles == 2) {
			CHECK_STR(b->roles[0], "Admin");
			CHECK_STR(b->roles[1], "Manager");
		}
		users__v1__update_business_user__free_unpacked(b, NULL);
	}
}

static Users__V1__OrganizationBasicView *
org_placeholder(int levels)
{
	Users__V1__OrganizationBasicView *o = malloc(sizeof(*o));

	users__v1__organization_basic_view__init(o);
	if (levels == 0) {
		/* the seed's innermost {}: an organization with nothing set */
		return o;
	}
	o->id = gen_dup(ZERO_GUID);
	o->name = gen_dup("String");
	o->has_type = 1;
	o->type = USERS__V1__ORGANIZATION_TYPE__Unknown;
	o->n_sub_organizations = 1;
	o->sub_organizations = malloc(sizeof(void *));
	o->sub_organizations[0] = org_placeholder(levels - 1);
	return o;
}

static Users__V1__BusinessUserProfileDataResponse *
seed_response_message(void)
{
	Users__V1__BusinessUserProfileDataResponse *r = malloc(sizeof(*r));
	Users__V1__BusinessUserProfileDataView *v = malloc(sizeof(*v));
	Users__V1__ResponseStatus *st = malloc(sizeof(*st));
	Users__V1__ResponseError *e = malloc(sizeof(*e));

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
	/* dashed in memory: written as the seed's 32 digits */
	v->organization_id = gen_dup("00000000-0000-0000-0000-000000000000");
	v->n_business_organizations = 1;
	v->business_organizations = malloc(sizeof(void *));
	v->business_organizations[0] = org_placeholder(3);
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
	return r;
}

static void
test_seed_response(void)
{
	Users__V1__BusinessUserProfileDataResponse *r = seed_response_message();
	Users__V1__BusinessUserProfileDataResponse *back;
	char *want = normalise(seed_response);
	uw_decode_error err;
	char *s;

	/* the compact form of the seed, as a literal too */
	CHECK_STR(want,
		  "{data:{id:0,activationStatus:0,userName:String,firstName:"
		  "String,lastName:String,email:String,temporaryEmail:String,"
		  "emailConfirmed:False,phoneNumber:String,"
		  "temporaryPhoneNumber:String,phoneNumberConfirmed:False,"
		  "roles:[String],organizationId:" ZERO_GUID
		  ",businessOrganizations:[{id:" ZERO_GUID
		  ",name:String,type:0,organizations:[{id:" ZERO_GUID
		  ",name:String,type:0,organizations:[{id:" ZERO_GUID
		  ",name:String,type:0,organizations:[{}]}]}]}],viviotId:"
		  "String,imageContent:String,imageUrl:String},responseStatus:{"
		  "errorCode:String,message:String,stackTrace:String,errors:[{"
		  "errorCode:String,fieldName:String,message:String,meta:{"
		  "String:String}}],meta:{String:String}}}");
	s = encode(r);
	CHECK_STR(s, want);
	free(s);
	/* as the decoder stores it, for the comparisons below */
	free(r->data->organization_id);
	r->data->organization_id = gen_dup(ZERO_GUID);

	/* the seed's indented text decodes to the same message */
	back = (Users__V1__BusinessUserProfileDataResponse *)decode(
	    &users__v1__business_user_profile_data_response__descriptor,
	    seed_response, &err);
	CHECK(back != NULL);
	if (back != NULL) {
		Users__V1__OrganizationBasicView *o;
		CHECK(gen_same_packed(&r->base, &back->base));
		s = encode(back);
		CHECK_STR(s, want);
		free(s);
		/* {} in the innermost list: one organization, nothing set */
		o = back->data != NULL &&
			    back->data->n_business_organizations == 1
			? back->data->business_organizations[0]
			: NULL;
		for (int i = 0; i < 2 && o != NULL; i++) {
			o = o->n_sub_organizations == 1
				? o->sub_organizations[0]
				: NULL;
		}
		CHECK(o != NULL && o->n_sub_organizations == 1);
		if (o != NULL && o->n_sub_organizations == 1) {
			Users__V1__OrganizationBasicView *in =
			    o->sub_organizations[0];
			CHECK(in->id == NULL && in->name == NULL &&
			      !in->has_type && in->n_sub_organizations == 0);
		}
		users__v1__business_user_profile_data_response__free_unpacked(
		    back, NULL);
	}
	/* the compact form decodes to it as well */
	back = (Users__V1__BusinessUserProfileDataResponse *)decode(
	    &users__v1__business_user_profile_data_response__descriptor, want,
	    &err);
	CHECK(back != NULL && gen_same_packed(&r->base, &back->base));
	if (back != NULL) {
		users__v1__business_user_profile_data_response__free_unpacked(
		    back, NULL);
	}
	free(want);
	users__v1__business_user_profile_data_response__free_unpacked(r, NULL);
}

static void
test_seed_userinfo(void)
{
	Users__V1__UserInfo *u = malloc(sizeof(*u));
	char *s;

	users__v1__user_info__init(u);
	u->id = gen_dup("String");
	u->has_is_authenticated = 1;
	u->first_name = gen_dup("String");
	u->n_roles = 2;
	u->roles = malloc(2 * sizeof(char *));
	u->roles[0] = gen_dup("Admin");
	u->roles[1] = gen_dup("Manager");
	u->has_manager_access = 1;
	u->manager_access = USERS__V1__USER_MANAGER_ACCESS__ReadWrite;
	u->n_dashboard_permissions = 1;
	u->dashboard_permissions = malloc(sizeof(int));
	u->dashboard_permissions[0] =
	    USERS__V1__DASHBOARD_PERMISSIONS__ViewFiles;
	s = encode(u);
	/* empty lists are left out, enums by name, booleans True/False */
	CHECK_STR(s, "{id:String,isAuthenticated:False,firstName:String,"
		     "roles:[Admin,Manager],managerAccess:ReadWrite,"
		     "dashboardPermissions:[ViewFiles]}");
	free(s);
	users__v1__user_info__free_unpacked(u, NULL);
}

/* ------------------------------------------------------------------------
 * Encoding details
 */

static void
test_encode_quoting(void)
{
	Users__V1__NewUser *n = malloc(sizeof(*n));
	char *s;

	users__v1__new_user__init(n);
	n->account_id = gen_dup(" a b ");
	n->email_address = gen_dup("");
	n->first_name = gen_dup("a\"b");
	n->last_name = gen_dup("x,y:z");
	n->password = gen_dup("\xc3\xa9\t\\/'=1");
	s = encode(n);
	CHECK_STR(s, "{accountId: a b ,emailAddress:\"\",firstName:\"a\"\"b\","
		     "lastName:\"x,y:z\",password:\xc3\xa9\t\\/'=1}");
	free(s);

	/* each separator forces quotes */
	{
		static const char *const q[] = {"\"", ":", ",",  "{", "}",
						"[",  "]", "\r", "\n"};
		for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
			char want[64];
			free(n->first_name);
			n->first_name = NULL;
			free(n->account_id);
			n->account_id = NULL;
			free(n->email_address);
			n->email_address = NULL;
			free(n->last_name);
			n->last_name = NULL;
			free(n->password);
			n->password = NULL;
			n->first_name = malloc(4);
			snprintf(n->first_name, 4, "a%sb", q[i]);
			snprintf(want, sizeof(want), "{firstName:\"a%s%sb\"}",
				 q[i], q[i][0] == '"' ? "\"" : "");
			s = encode(n);
			CHECK_STR(s, want);
			free(s);
		}
	}
	/* invalid UTF-8 is replaced, never passed on */
	free(n->first_name);
	n->first_name = gen_dup("bad\xff");
	s = encode(n);
	CHECK_STR(s, "{firstName:bad\xef\xbf\xbd}");
	free(s);
	users__v1__new_user__free_unpacked(n, NULL);
}

static void
test_encode_kinds(void)
{
	Users__V1__PatchUser *p = malloc(sizeof(*p));
	Users__V1__Organization *o = malloc(sizeof(*o));
	Users__V1__RequestEnvelope *env = malloc(sizeof(*env));
	Users__V1__ErrorResponse *er = malloc(sizeof(*er));
	Users__V1__StringList *sl;
	uw_buf small = {.max = 8};
	char *s;

	/* a list_wrapper present and empty is written [] (PATCH clears) */
	users__v1__patch_user__init(p);
	sl = malloc(sizeof(*sl));
	users__v1__string_list__init(sl);
	p->roles = sl;
	sl = malloc(sizeof(*sl));
	users__v1__string_list__init(sl);
	sl->n_items = 2;
	sl->items = malloc(2 * sizeof(char *));
	sl->items[0] = gen_dup("a,b");
	sl->items[1] = gen_dup("");
	p->account_ids = sl;
	p->user_id = gen_dup("42");
	s = encode(p);
	CHECK_STR(s, "{accountIds:[\"a,b\",\"\"],userId:42,roles:[]}");
	free(s);
	/* a full buffer fails and leaves the buffer as it was */
	CHECK_INT(uw_codec_jsv.encode(&p->base, &small), -1);
	CHECK_INT(small.len, 0);
	uw_buf_fini(&small);
	users__v1__patch_user__free_unpacked(p, NULL);

	/* Guids normalised; numbers for enum_as_number enums */
	users__v1__organization__init(o);
	o->id = gen_dup("ABCDEF00-1111-2222-3333-444455556666");
	o->parent_id = gen_dup("not a guid"); /* written as it is */
	o->has_type = 1;
	o->type = USERS__V1__ORGANIZATION_TYPE__Tenant;
	o->has_member_count = 1;
	o->member_count = -3;
	s = encode(o);
	CHECK_STR(s, "{id:abcdef00111122223333444455556666,type:20,"
		     "parentId:not a guid,memberCount:-3}");
	free(s);
	users__v1__organization__free_unpacked(o, NULL);

	/* bytes as base64, uint32 */
	users__v1__request_envelope__init(env);
	env->has_deadline_ms = 1;
	env->deadline_ms = UINT32_MAX;
	env->has_payload = 1;
	env->payload.len = 5;
	env->payload.data = malloc(5);
	memcpy(env->payload.data, "hello", 5);
	s = encode(env);
	CHECK_STR(s, "{deadlineMs:4294967295,payload:aGVsbG8=}");
	free(s);
	users__v1__request_envelope__free_unpacked(env, NULL);

	/* docs/wire-formats.md 8.1: errors always there, [] when none; maps
	 * {k:v} */
	users__v1__error_response__init(er);
	er->response_status = malloc(sizeof(*er->response_status));
	users__v1__response_status__init(er->response_status);
	er->response_status->error_code = gen_dup("NotFound");
	er->response_status->message = gen_dup("Not found.");
	s = encode(er);
	CHECK_STR(s, "{responseStatus:{errorCode:NotFound,message:Not found.,"
		     "errors:[]}}");
	free(s);
	er->response_status->n_meta = 1;
	er->response_status->meta = malloc(sizeof(void *));
	er->response_status->meta[0] = gen_meta_entry(
	    &users__v1__response_status__meta_entry__descriptor, "a:b", "");
	s = encode(er);
	CHECK_STR(s, "{responseStatus:{errorCode:NotFound,message:Not found.,"
		     "errors:[],meta:{\"a:b\":\"\"}}}");
	free(s);
	users__v1__error_response__free_unpacked(er, NULL);
}

/* ------------------------------------------------------------------------
 * Decoding: leniency, whitespace, errors, limits
 */

static void
test_decode_whitespace(void)
{
	uw_decode_error err;
	Users__V1__NewUser *n;
	Users__V1__PatchUser *p;
	Users__V1__UpdateBusinessUser *b;

	/* compact: spaces of bare strings are kept */
	n = (Users__V1__NewUser *)decode(
	    &users__v1__new_user__descriptor,
	    "{ firstName : Ada , lastName:\t, password:\"\"}", &err);
	CHECK(n != NULL);
	if (n != NULL) {
		CHECK_STR(n->first_name, " Ada ");
		CHECK_STR(n->last_name, "\t");
		CHECK_STR(n->password, "");
		users__v1__new_user__free_unpacked(n, NULL);
	}
	/* indented: whitespace around values is dropped, quotes keep it */
	n = (Users__V1__NewUser *)decode(
	    &users__v1__new_user__descriptor,
	    "{\n firstName : Ada ,\n lastName: \" Lovelace \" \n}", &err);
	CHECK(n != NULL);
	if (n != NULL) {
		CHECK_STR(n->first_name, "Ada");
		CHECK_STR(n->last_name, " Lovelace ");
		users__v1__new_user__free_unpacked(n, NULL);
	}
	/* [ ] is one blank string when compact, no item when indented */
	p = (Users__V1__PatchUser *)decode(&users__v1__patch_user__descriptor,
					   "{roles:[ ],accountIds:[]}", &err);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK(p->roles != NULL && p->roles->n_items == 1);
		if (p->roles != NULL && p->roles->n_items == 1) {
			CHECK_STR(p->roles->items[0], " ");
		}
		CHECK(p->account_ids != NULL && p->account_ids->n_items == 0);
		users__v1__patch_user__free_unpacked(p, NULL);
	}
	p = (Users__V1__PatchUser *)decode(&users__v1__patch_user__descriptor,
					   "{roles:[\n]}", &err);
	CHECK(p != NULL && p->roles != NULL && p->roles->n_items == 0);
	if (p != NULL) {
		users__v1__patch_user__free_unpacked(p, NULL);
	}
	/* numbers, booleans, enums, Guids: whitespace never matters */
	b = (Users__V1__UpdateBusinessUser *)decode(
	    &users__v1__update_business_user__descriptor,
	    "{userId: 12 ,version:\" 3\"}", &err);
	CHECK(b == NULL); /* quoted text is taken as it is: " 3" */
	b = (Users__V1__UpdateBusinessUser *)decode(
	    &users__v1__update_business_user__descriptor,
	    "{userId: 12 ,version:\"3\", roles : [ A ] }", &err);
	CHECK(b != NULL);
	if (b != NULL) {
		CHECK_INT(b->user_id, 12);
		CHECK_INT(b->version, 3);
		CHECK_INT(b->n_roles, 1);
		if (b->n_roles == 1) {
			CHECK_STR(b->roles[0], " A ");
		}
		users__v1__update_business_user__free_unpacked(b, NULL);
	}
}

static void
test_decode_lenient(void)
{
	uw_decode_error err;
	Users__V1__Authenticate *a;
	Users__V1__CreateOrganization *c;
	Users__V1__ListUsers *l;
	Users__V1__ResponseStatus *st;
	Users__V1__StringList *sl;
	static const char *const yes[] = {"true", "True", "TRUE", "1", "\"1\""};
	static const char *const no[] = {"false", "False", "fAlSe", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		char body[64];
		snprintf(body, sizeof(body), "{rememberMe:%s}", yes[i]);
		a = (Users__V1__Authenticate *)decode(
		    &users__v1__authenticate__descriptor, body, &err);
		CHECK(a != NULL && a->has_remember_me && a->remember_me);
		if (a != NULL) {
			users__v1__authenticate__free_unpacked(a, NULL);
		}
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		char body[64];
		snprintf(body, sizeof(body), "{RememberMe:%s}", no[i]);
		a = (Users__V1__Authenticate *)decode(
		    &users__v1__authenticate__descriptor, body, &err);
		CHECK(a != NULL && a->has_remember_me && !a->remember_me);
		if (a != NULL) {
			users__v1__authenticate__free_unpacked(a, NULL);
		}
	}

	/* names any case, PascalCase or proto; unknown ones skipped whole;
	 * enums by name or number; dashed Guids; a trailing comma */
	c = (Users__V1__CreateOrganization *)decode(
	    &users__v1__create_organization__descriptor,
	    "\xef\xbb\xbf{NAME:Acme,x:{a:[1,{b:\"]\"}],c:},Type:Tenant,"
	    "parent_id:ABCDEF00-1111-2222-3333-444455556666,}",
	    &err);
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_STR(c->name, "Acme");
		CHECK_INT(c->type, USERS__V1__ORGANIZATION_TYPE__Tenant);
		CHECK_STR(c->parent_id, "abcdef00111122223333444455556666");
		users__v1__create_organization__free_unpacked(c, NULL);
	}
	c = (Users__V1__CreateOrganization *)decode(
	    &users__v1__create_organization__descriptor, "{type:30}", &err);
	CHECK(c != NULL && c->type == USERS__V1__ORGANIZATION_TYPE__Location);
	if (c != NULL) {
		users__v1__create_organization__free_unpacked(c, NULL);
	}

	/* an empty bare value unsets; later wins */
	l = (Users__V1__ListUsers *)decode(&users__v1__list_users__descriptor,
					   "{skip:5,name:x,skip:,name:}", &err);
	CHECK(l != NULL && !l->has_skip && l->name == NULL);
	if (l != NULL) {
		users__v1__list_users__free_unpacked(l, NULL);
	}
	/* no body, whitespace only: nothing set */
	l = (Users__V1__ListUsers *)decode(&users__v1__list_users__descriptor,
					   " \r\n", &err);
	CHECK(l != NULL && !l->has_skip);
	if (l != NULL) {
		users__v1__list_users__free_unpacked(l, NULL);
	}
	/* a list_wrapper message read from a bare list */
	sl = (Users__V1__StringList *)decode(
	    &users__v1__string_list__descriptor, "[a,\"b,c\",\"\"]", &err);
	CHECK(sl != NULL && sl->n_items == 3);
	if (sl != NULL && sl->n_items == 3) {
		CHECK_STR(sl->items[1], "b,c");
		CHECK_STR(sl->items[2], "");
	}
	if (sl != NULL) {
		users__v1__string_list__free_unpacked(sl, NULL);
	}
	/* maps: quoted keys, an empty value is "" */
	st = (Users__V1__ResponseStatus *)decode(
	    &users__v1__response_status__descriptor,
	    "{meta:{\"a:b\":1,c:,d:\"\"\"\"}}", &err);
	CHECK(st != NULL && st->n_meta == 3);
	if (st != NULL && st->n_meta == 3) {
		CHECK_STR(st->meta[0]->key, "a:b");
		CHECK_STR(st->meta[0]->value, "1");
		CHECK_STR(st->meta[1]->value, "");
		CHECK_STR(st->meta[2]->value, "\"");
	}
	if (st != NULL) {
		users__v1__response_status__free_unpacked(st, NULL);
	}
	/* non-ASCII, and a quote inside a bare value is taken as text */
	{
		Users__V1__NewUser *n = (Users__V1__NewUser *)decode(
		    &users__v1__new_user__descriptor,
		    "{firstName:Zo\xc3\xab \xf0\x9f\x98\x80,lastName:O\"Neil}",
		    &err);
		CHECK(n != NULL);
		if (n != NULL) {
			CHECK_STR(n->first_name, "Zo\xc3\xab \xf0\x9f\x98\x80");
			CHECK_STR(n->last_name, "O\"Neil");
			users__v1__new_user__free_unpacked(n, NULL);
		}
	}
}

static void
expect_error(const ProtobufCMessageDescriptor *d, const char *body, size_t len,
	     const uw_limits *lim, const char *message, const char *field)
{
	ProtobufCMessage *m = uw_msg_new(d);
	uw_decode_error err;

	memset(&err, 0, sizeof(err));
	CHECK_INT(uw_codec_jsv.decode(m, body, len, lim, &err), -1);
	CHECK(memchr(err.message, '\0', sizeof(err.message)) != NULL &&
	      err.message[0] != '\0');
	if (message != NULL) {
		CHECK_STR(err.message, message);
	}
	if (field != NULL) {
		CHECK_STR(err.field, field);
	}
	protobuf_c_message_free_unpacked(m, NULL);
}

#define EXPECT_ERROR(d, body, lim, message, field)                             \
	expect_error(d, body, sizeof(body) - 1, lim, message, field)

static void
test_decode_errors(void)
{
	const ProtobufCMessageDescriptor *nu = &users__v1__new_user__descriptor;
	const ProtobufCMessageDescriptor *lu =
	    &users__v1__list_users__descriptor;
	const ProtobufCMessageDescriptor *pu =
	    &users__v1__patch_user__descriptor;
	const ProtobufCMessageDescriptor *br =
	    &users__v1__business_user_profile_data_response__descriptor;
	uw_limits lim = {.max_depth = 2, .max_items = 2, .max_string = 5};

	/* syntax */
	EXPECT_ERROR(nu, "{firstName:\"abc}", NULL,
		     "Invalid JSV: unterminated string at offset 16", "");
	EXPECT_ERROR(nu, "{firstName}", NULL, NULL, "");
	EXPECT_ERROR(nu, "{firstName:a", NULL, NULL, "");
	EXPECT_ERROR(nu, "{firstName:a}x", NULL, NULL, "");
	EXPECT_ERROR(nu, "{firstName:a]", NULL, NULL, "");
	EXPECT_ERROR(nu, "{firstName:\"a\"b}", NULL, NULL, "");
	EXPECT_ERROR(nu, "{a:[1,2}", NULL, NULL, "");
	EXPECT_ERROR(nu, "{a:{b:1]}", NULL, NULL, "");
	EXPECT_ERROR(nu, "{", NULL, NULL, "");
	EXPECT_ERROR(nu, "x", NULL, "Expected a JSV object for NewUser", "");
	EXPECT_ERROR(nu, "[a]", NULL, "Expected a JSV object for NewUser", "");
	EXPECT_ERROR(nu, "{}{}", NULL, NULL, "");
	/* types */
	EXPECT_ERROR(nu, "{firstName:[a]}", NULL,
		     "Expected a string for 'firstName'", "FirstName");
	EXPECT_ERROR(nu, "{firstName:{}}", NULL,
		     "Expected a string for 'firstName'", "FirstName");
	EXPECT_ERROR(lu, "{skip:abc}", NULL, "Expected a number for 'skip'",
		     "Skip");
	EXPECT_ERROR(lu, "{skip:7.5}", NULL, "Expected a number for 'skip'",
		     "Skip");
	EXPECT_ERROR(lu, "{skip:3000000000}", NULL,
		     "Value out of range for 'skip'", "Skip");
	EXPECT_ERROR(&users__v1__authenticate__descriptor, "{rememberMe:yes}",
		     NULL, "Expected a boolean for 'rememberMe'", "RememberMe");
	EXPECT_ERROR(&users__v1__create_organization__descriptor, "{type:15}",
		     NULL, "Expected a OrganizationType for 'type'", "Type");
	EXPECT_ERROR(&users__v1__create_organization__descriptor,
		     "{parentId:1234}", NULL, "Expected a Guid for 'parentId'",
		     "ParentId");
	EXPECT_ERROR(pu, "{roles:a}", NULL, "Expected a list for 'roles'",
		     "Roles");
	EXPECT_ERROR(pu, "{roles:{}}", NULL, "Expected a list for 'roles'",
		     "Roles");
	EXPECT_ERROR(pu, "{roles:[[a]]}", NULL, "Expected a string for 'roles'",
		     "Roles");
	EXPECT_ERROR(br, "{data:[]}", NULL, "Expected an object for 'data'",
		     "Data");
	EXPECT_ERROR(br, "{data:{businessOrganizations:[a]}}", NULL,
		     "Expected an object for 'businessOrganizations'",
		     "BusinessOrganizations");
	EXPECT_ERROR(&users__v1__response_status__descriptor, "{meta:[a]}",
		     NULL, "Expected an object for 'meta'", "Meta");
	EXPECT_ERROR(&users__v1__response_status__descriptor, "{meta:{a:{}}}",
		     NULL, "Expected an object of strings for 'meta'", "Meta");
	/* text */
	EXPECT_ERROR(nu, "{firstName:a\0b}", NULL,
		     "NUL character in 'firstName'", "FirstName");
	EXPECT_ERROR(nu, "{firstName:\"a\0b\"}", NULL,
		     "NUL character in 'firstName'", "FirstName");
	EXPECT_ERROR(nu, "{firstName:\xff}", NULL,
		     "Invalid UTF-8 in 'firstName'", "FirstName");
	EXPECT_ERROR(nu, "{firstName:\xed\xa0\x80}", NULL, NULL, "FirstName");
	EXPECT_ERROR(nu, "\0", NULL, NULL, "");
	/* limits */
	EXPECT_ERROR(nu, "{firstName:123456}", &lim,
		     "Value too long for 'firstName' (at most 5 bytes)",
		     "FirstName");
	EXPECT_ERROR(pu, "{roles:[a,b,c]}", &lim,
		     "Too many items in 'roles' (at most 2)", "Roles");
	EXPECT_ERROR(pu, "{roles:[123456]}", &lim,
		     "Value too long for 'roles' (at most 5 bytes)", "Roles");
	EXPECT_ERROR(&users__v1__response_status__descriptor,
		     "{meta:{a:1,b:2,c:3}}", &lim,
		     "Too many items in 'meta' (at most 2)", "Meta");
	EXPECT_ERROR(br, "{data:{businessOrganizations:[]}}", &lim,
		     "Nested too deeply (at most 2 levels)", "");
	/* unknown properties count for depth too */
	EXPECT_ERROR(nu, "{x:{y:{}}}", &lim,
		     "Nested too deeply (at most 2 levels)", "");
	{
		/* depth 2 allows one nested object */
		uw_decode_error err;
		ProtobufCMessage *m = uw_msg_new(br);
		const char *ok = "{data:{id:1}}";
		CHECK_INT(uw_codec_jsv.decode(m, ok, strlen(ok), &lim, &err),
			  0);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	{
		/* the default depth against thousands of brackets: an error,
		 * not a stack overflow */
		size_t n = 200000;
		char *deep = malloc(2 * n + 2);
		uw_decode_error err;
		ProtobufCMessage *m = uw_msg_new(nu);
		deep[0] = '{';
		deep[1] = 'a';
		deep[2] = ':';
		memset(deep + 3, '[', n);
		CHECK_INT(uw_codec_jsv.decode(m, deep, n + 3, NULL, &err), -1);
		CHECK_STR(err.message, "Nested too deeply (at most 16 levels)");
		protobuf_c_message_free_unpacked(m, NULL);
		free(deep);
	}
	{
		/* a failed decode leaves a message that frees cleanly */
		uw_decode_error err;
		ProtobufCMessage *m = uw_msg_new(br);
		const char *bad = "{data:{roles:[a,b],businessOrganizations:"
				  "[{name:x},{type:99}]}}";
		CHECK_INT(uw_codec_jsv.decode(m, bad, strlen(bad), NULL, &err),
			  -1);
		CHECK_STR(err.field, "Type");
		protobuf_c_message_free_unpacked(m, NULL);
	}
}

/* ------------------------------------------------------------------------
 * The helpers CSV uses
 */

static void
test_field_helpers(void)
{
	const ProtobufCMessageDescriptor *d =
	    &users__v1__business_user_profile_data_view__descriptor;
	const ProtobufCFieldDescriptor *orgs =
	    uw_field_by_name(d, "businessOrganizations", 21);
	const ProtobufCFieldDescriptor *roles = uw_field_by_name(d, "roles", 5);
	ProtobufCMessage *m = uw_msg_new(d);
	uw_decode_error err;
	uw_buf b = {0};
	const char *v = "[{id:" ZERO_GUID ",name:\"a,b\",organizations:[{}]}]";

	CHECK(orgs != NULL && roles != NULL);
	CHECK_INT(uw_jsv_decode_field(m, orgs, v, strlen(v), NULL, &err), 0);
	CHECK_INT(uw_jsv_encode_field(m, orgs, NULL, &b), 0);
	CHECK_STR(b.data, v);
	uw_buf_fini(&b);
	CHECK_INT(uw_jsv_decode_field(m, roles, "[ x ,y]", 7, NULL, &err), 0);
	CHECK_INT(uw_jsv_encode_field(m, roles, NULL, &b), 0);
	CHECK_STR(b.data, "[ x ,y]");
	uw_buf_fini(&b);
	CHECK_INT(uw_jsv_decode_field(m, roles, "[x]y", 4, NULL, &err), -1);
	CHECK_INT(uw_text_put(&b, "a\"b\xff", 4, true), 0);
	CHECK_STR(b.data, "a\"\"b\xef\xbf\xbd");
	uw_buf_fini(&b);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* ------------------------------------------------------------------------
 * Round trip: decode(encode(m)) == m for random messages of every DTO
 */

static void
test_round_trip(void)
{
	int mismatches = 0, runs = 0;

	for (size_t t = 0; t < sizeof(gen_all_dtos) / sizeof(gen_all_dtos[0]);
	     t++) {
		for (int i = 0; i < 400; i++) {
			ProtobufCMessage *m = uw_msg_new(gen_all_dtos[t]);
			ProtobufCMessage *back = uw_msg_new(gen_all_dtos[t]);
			uw_buf b = {0}, b2 = {0};
			uw_decode_error err;
			bool ok;

			memset(&err, 0, sizeof(err));
			gen_fill(m, 0);
			ok = uw_codec_jsv.encode(m, &b) == 0 &&
			     uw_codec_jsv.decode(back, b.data, b.len, NULL,
						 &err) == 0 &&
			     gen_same_packed(m, back) &&
			     uw_codec_jsv.encode(back, &b2) == 0 &&
			     b.len == b2.len &&
			     memcmp(b.data, b2.data, b.len) == 0;
			if (!ok && mismatches++ < 5) {
				fprintf(stderr, "round trip %s: %s (%s)\n",
					gen_all_dtos[t]->short_name,
					b.data != NULL ? b.data : "(none)",
					err.message);
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

static void
test_table(void)
{
#define CT(s) uw_codec_by_content_type(s, strlen(s))
	CHECK(uw_codec_by_name("jsv", 3) == &uw_codec_jsv);
	CHECK(uw_codec_by_name("JSV", 3) == &uw_codec_jsv);
	CHECK_STR(uw_codec_jsv.content_type, "text/jsv");
	CHECK(CT("text/jsv") == &uw_codec_jsv);
	CHECK(CT("application/jsv; charset=utf-8") == &uw_codec_jsv);
	CHECK(CT("Text/JSV") == &uw_codec_jsv);
#undef CT
}

int
main(void)
{
	CHECK_INT(up_meta_load(), 0);
	test_table();
	seed_request = gen_read_data("seeds/UpdateBusinessUser.request.jsv");
	seed_response = gen_read_data("seeds/UpdateBusinessUser.response.jsv");
	test_seed_request();
	test_seed_response();
	test_seed_userinfo();
	test_encode_quoting();
	test_encode_kinds();
	test_decode_whitespace();
	test_decode_lenient();
	test_decode_errors();
	test_field_helpers();
	test_round_trip();
	free(seed_request);
	free(seed_response);
	return check_done();
}
