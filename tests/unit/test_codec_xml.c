/*
 * test_codec_xml.c - the XML (DataContract) codec: the seed's samples
 * (golden bytes after removing the whitespace between tags, golden
 * decodes), namespaces of nested types, escaping, leniency of the reader,
 * errors and limits, DTD/XXE/billion-laughs refusal (nothing fetched), and
 * a round-trip property test over every DTO of users.proto (random
 * messages from a fixed seed, compared by their packed protobuf bytes),
 * and both directions from several threads at once.
 *
 * XML writes no empty non-wrapper list (a protobuf list has no "set but
 * empty"; ResponseStatus.Errors excepted, always written); decoding an absent
 * list gives an empty one, so packed bytes compare equal without special cases.
 * StringList wrappers keep "present and empty" (<Roles .../>) apart from
 * absent.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "check.h"
#include "users_wire.h"
#include "codec_gen.h"

#define XSI "http://www.w3.org/2001/XMLSchema-instance"
#define ARR "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
#define NS_VOICE                                                               \
	"http://schemas.datacontract.org/2004/07/Voice.Api.Authentication"
#define NS_VIVIOT        "http://schemas.datacontract.org/2004/07/Viviot.Api"
#define NS_SS            "http://schemas.servicestack.net/types"
#define DECL             "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
#define ZERO_GUID        "00000000000000000000000000000000"
#define ZERO_GUID_DASHED "00000000-0000-0000-0000-000000000000"

/* The seed's samples, verbatim (one tag per line). */
static const char seed_patchuser[] =
    "<PatchUser xmlns:i=\"" XSI "\" xmlns=\"" NS_VOICE "\">\n"
    "<AccountIds xmlns:d2p1=\"" ARR "\">\n"
    "<d2p1:string>String</d2p1:string>\n"
    "</AccountIds>\n"
    "<FirstName>String</FirstName>\n"
    "<LastName>String</LastName>\n"
    "<NewPassword>String</NewPassword>\n"
    "<Roles xmlns:d2p1=\"" ARR "\">\n"
    "<d2p1:string>String</d2p1:string>\n"
    "</Roles>\n"
    "<UserId>String</UserId>\n"
    "</PatchUser>";

static const char seed_userinfo[] =
    "<UserInfo xmlns:i=\"" XSI "\" xmlns=\"" NS_VOICE "\">\n"
    "<AccountIds xmlns:d2p1=\"" ARR "\">\n"
    "<d2p1:string>String</d2p1:string>\n"
    "</AccountIds>\n"
    "<AccountNames xmlns:d2p1=\"" ARR "\">\n"
    "<d2p1:string>String</d2p1:string>\n"
    "</AccountNames>\n"
    "<AvatarUrl>String</AvatarUrl>\n"
    "<DashboardPermissions>\n"
    "<DashboardPermissions>ViewFiles</DashboardPermissions>\n"
    "</DashboardPermissions>\n"
    "<EmailAddress>String</EmailAddress>\n"
    "<FirstName>String</FirstName>\n"
    "<Id>String</Id>\n"
    "<IsAuthenticated>false</IsAuthenticated>\n"
    "<LastName>String</LastName>\n"
    "<ManagerAccess>ReadOnly</ManagerAccess>\n"
    "<Name>String</Name>\n"
    "<Roles xmlns:d2p1=\"" ARR "\">\n"
    "<d2p1:string>String</d2p1:string>\n"
    "</Roles>\n"
    "</UserInfo>";

/* The seed's form with the whitespace between tags removed, after the XML
 * declaration. The caller frees it. */
static char *
normalised(const char *seed)
{
	size_t n = strlen(seed), o;
	char *d = malloc(sizeof(DECL) + n);

	memcpy(d, DECL, sizeof(DECL) - 1);
	o = sizeof(DECL) - 1;
	for (size_t i = 0; i < n; i++) {
		if (seed[i] == '>') {
			size_t j = i + 1;
			while (j < n && (seed[j] == '\n' || seed[j] == ' ' ||
					 seed[j] == '\t' || seed[j] == '\r')) {
				j++;
			}
			d[o++] = '>';
			if (j < n && seed[j] == '<') {
				i = j - 1;
			}
			continue;
		}
		d[o++] = seed[i];
	}
	d[o] = '\0';
	return d;
}

/* Encodes m with the XML codec; the caller frees the result. */
static char *
encode(const void *m)
{
	return gen_encode(&uw_codec_xml, m);
}

static ProtobufCMessage *
decode(const ProtobufCMessageDescriptor *d, const char *xml,
       uw_decode_error *err)
{
	return gen_decode(&uw_codec_xml, d, xml, strlen(xml), NULL, err);
}

/* ------------------------------------------------------------------------
 * The table
 */

static void
test_table(void)
{
	bool listed = false;

	for (size_t i = 0; uw_codecs[i] != NULL; i++) {
		listed = listed || uw_codecs[i] == &uw_codec_xml;
	}
	CHECK(listed);
	CHECK(uw_codecs[0] == &uw_codec_json);
	CHECK(uw_codec_by_name("xml", 3) == &uw_codec_xml);
	CHECK(uw_codec_by_name("XML", 3) == &uw_codec_xml);
	CHECK_STR(uw_codec_xml.content_type, "application/xml");
#define CT(s) uw_codec_by_content_type(s, strlen(s))
	CHECK(CT("application/xml") == &uw_codec_xml);
	CHECK(CT("text/xml") == &uw_codec_xml);
	CHECK(CT("Application/XML; charset=utf-8") == &uw_codec_xml);
	CHECK(CT("application/xhtml+xml") == NULL);
#undef CT
}

/* ------------------------------------------------------------------------
 * Golden cases from the seeds
 */

static Users__V1__UserInfo *
seed_userinfo_msg(void)
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
	u->has_manager_access = 1;
	u->manager_access = USERS__V1__USER_MANAGER_ACCESS__ReadOnly;
	u->n_dashboard_permissions = 1;
	u->dashboard_permissions = malloc(sizeof(int));
	u->dashboard_permissions[0] =
	    USERS__V1__DASHBOARD_PERMISSIONS__ViewFiles;
	return u;
}

static void
test_seed_userinfo(void)
{
	Users__V1__UserInfo *u = seed_userinfo_msg();
	char *want = normalised(seed_userinfo);
	uw_decode_error err;
	ProtobufCMessage *back;
	char *s;

	s = encode(u);
	CHECK_STR(s, want);
	free(s);

	/* the seed's text, whitespace and all, decodes to the same message */
	back = decode(&users__v1__user_info__descriptor, seed_userinfo, &err);
	CHECK(back != NULL);
	if (back != NULL) {
		CHECK(gen_same_packed(&u->base, back));
		s = encode(back);
		CHECK_STR(s, want);
		free(s);
		protobuf_c_message_free_unpacked(back, NULL);
	}
	users__v1__user_info__free_unpacked(u, NULL);
	free(want);

	/* unset members and empty lists are left out */
	u = malloc(sizeof(*u));
	users__v1__user_info__init(u);
	u->id = gen_dup("42");
	s = encode(u);
	CHECK_STR(s, DECL "<UserInfo xmlns:i=\"" XSI "\" xmlns=\"" NS_VOICE
			  "\"><Id>42</Id></UserInfo>");
	free(s);
	users__v1__user_info__free_unpacked(u, NULL);
}

static void
test_seed_patchuser(void)
{
	uw_decode_error err;
	Users__V1__PatchUser *p;
	char *want = normalised(seed_patchuser);
	char *s;

	p = (Users__V1__PatchUser *)decode(&users__v1__patch_user__descriptor,
					   seed_patchuser, &err);
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
		if (p->roles != NULL && p->roles->n_items == 1) {
			CHECK_STR(p->roles->items[0], "String");
		}
		/* StringList fields are written as plain lists of strings */
		s = encode(p);
		CHECK_STR(s, want);
		free(s);
		users__v1__patch_user__free_unpacked(p, NULL);
	}
	free(want);

	/* present and empty vs absent: <Roles/> clears, no Roles keeps */
	p = (Users__V1__PatchUser *)decode(
	    &users__v1__patch_user__descriptor,
	    "<PatchUser xmlns=\"" NS_VOICE "\"><Roles/></PatchUser>", &err);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK(p->roles != NULL && p->roles->n_items == 0);
		CHECK(p->account_ids == NULL);
		s = encode(p);
		CHECK_STR(s, DECL "<PatchUser xmlns:i=\"" XSI
				  "\" xmlns=\"" NS_VOICE
				  "\"><Roles xmlns:d2p1=\"" ARR
				  "\"></Roles></PatchUser>");
		free(s);
		users__v1__patch_user__free_unpacked(p, NULL);
	}
}

static Users__V1__ResponseStatus *
status_placeholder(void)
{
	Users__V1__ResponseStatus *st = malloc(sizeof(*st));
	Users__V1__ResponseError *e = malloc(sizeof(*e));

	users__v1__response_status__init(st);
	users__v1__response_error__init(e);
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
	return st;
}

/* The nested response of the Viviot seed: namespaces change on the way
 * down (Viviot.Api -> ServiceStack types -> Arrays). */
static void
test_nested_business_user_response(void)
{
	const char *want = DECL
	    "<BusinessUserProfileDataResponse xmlns:i=\"" XSI
	    "\" xmlns=\"" NS_VIVIOT "\">"
	    "<Data><ActivationStatus>Unconfirmed</ActivationStatus>"
	    "<BusinessOrganizations><OrganizationBasicView>"
	    "<Id>" ZERO_GUID_DASHED "</Id><Name>String</Name>"
	    "<Type>Unknown</Type>"
	    /* the DataMember name (the wire name), in DataContract's
	     * ordinal order: after the PascalCase names */
	    "<organizations><OrganizationBasicView>"
	    "<Id>" ZERO_GUID_DASHED "</Id><Name>String</Name>"
	    "<Type>Unknown</Type></OrganizationBasicView>"
	    "</organizations>"
	    "</OrganizationBasicView></BusinessOrganizations>"
	    "<Email>String</Email><EmailConfirmed>false</EmailConfirmed>"
	    "<FirstName>String</FirstName><Id>0</Id>"
	    "<ImageContent>String</ImageContent>"
	    "<ImageUrl>String</ImageUrl><LastName>String</LastName>"
	    "<OrganizationId>" ZERO_GUID_DASHED "</OrganizationId>"
	    "<PhoneNumber>String</PhoneNumber>"
	    "<PhoneNumberConfirmed>false</PhoneNumberConfirmed>"
	    "<Roles xmlns:d3p1=\"" ARR
	    "\"><d3p1:string>String</d3p1:string></Roles>"
	    "<TemporaryEmail>String</TemporaryEmail>"
	    "<TemporaryPhoneNumber>String</TemporaryPhoneNumber>"
	    "<UserName>String</UserName><ViviotId>String</ViviotId>"
	    "</Data>"
	    "<ResponseStatus xmlns:d2p1=\"" NS_SS "\">"
	    "<d2p1:ErrorCode>String</d2p1:ErrorCode><d2p1:Errors>"
	    "<d2p1:ResponseError><d2p1:ErrorCode>String</d2p1:ErrorCode>"
	    "<d2p1:FieldName>String</d2p1:FieldName>"
	    "<d2p1:Message>String</d2p1:Message>"
	    "<d2p1:Meta xmlns:d5p1=\"" ARR "\"><d5p1:KeyValueOfstringstring>"
	    "<d5p1:Key>String</d5p1:Key><d5p1:Value>String</d5p1:Value>"
	    "</d5p1:KeyValueOfstringstring></d2p1:Meta>"
	    "</d2p1:ResponseError></d2p1:Errors>"
	    "<d2p1:Message>String</d2p1:Message>"
	    "<d2p1:Meta xmlns:d3p1=\"" ARR "\"><d3p1:KeyValueOfstringstring>"
	    "<d3p1:Key>String</d3p1:Key><d3p1:Value>String</d3p1:Value>"
	    "</d3p1:KeyValueOfstringstring></d2p1:Meta>"
	    "<d2p1:StackTrace>String</d2p1:StackTrace></ResponseStatus>"
	    "</BusinessUserProfileDataResponse>";
	Users__V1__BusinessUserProfileDataResponse *r = malloc(sizeof(*r));
	Users__V1__BusinessUserProfileDataView *v = malloc(sizeof(*v));
	uw_decode_error err;
	ProtobufCMessage *back;
	char *s;

	users__v1__business_user_profile_data_response__init(r);
	users__v1__business_user_profile_data_view__init(v);
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
	/* dashed upper case in memory: written dashed lower case */
	v->organization_id = gen_dup("00000000-0000-0000-0000-000000000000");
	v->n_business_organizations = 1;
	v->business_organizations = malloc(sizeof(void *));
	v->business_organizations[0] = gen_org_placeholder(2);
	v->viviot_id = gen_dup("String");
	v->image_content = gen_dup("String");
	v->image_url = gen_dup("String");
	r->data = v;
	r->response_status = status_placeholder();
	s = encode(r);
	CHECK_STR(s, want);
	free(s);

	back =
	    decode(&users__v1__business_user_profile_data_response__descriptor,
		   want, &err);
	CHECK(back != NULL);
	if (back != NULL) {
		Users__V1__BusinessUserProfileDataResponse *b =
		    (Users__V1__BusinessUserProfileDataResponse *)back;
		CHECK(b->data != NULL && b->data->organization_id != NULL);
		if (b->data != NULL && b->data->organization_id != NULL) {
			/* Guids are held as 32 lowercase hex digits */
			CHECK_STR(b->data->organization_id, ZERO_GUID);
		}
		s = encode(back);
		CHECK_STR(s, want);
		free(s);
		protobuf_c_message_free_unpacked(back, NULL);
	}
	users__v1__business_user_profile_data_response__free_unpacked(r, NULL);
}

/* An error body in the ServiceStack namespace needs no prefix; under a
 * Voice DTO the ResponseStatus member declares one. Errors is always
 * there (docs/wire-formats.md, section 8.1), empty when there are none. */
static void
test_error_shapes(void)
{
	Users__V1__ErrorResponse *r = malloc(sizeof(*r));
	Users__V1__ListUsersResponse *l = malloc(sizeof(*l));
	Users__V1__ResponseStatus *st = malloc(sizeof(*st));
	char *s;

	users__v1__error_response__init(r);
	users__v1__response_status__init(st);
	st->error_code = gen_dup("NotEmpty");
	st->message = gen_dup("'Email' must not be empty.");
	r->response_status = st;
	s = encode(r);
	CHECK_STR(
	    s, DECL
	    "<ErrorResponse xmlns:i=\"" XSI "\" xmlns=\"" NS_SS
	    "\"><ResponseStatus><ErrorCode>NotEmpty</ErrorCode>"
	    "<Errors></Errors><Message>'Email' must not be empty.</Message>"
	    "</ResponseStatus></ErrorResponse>");
	free(s);

	users__v1__list_users_response__init(l);
	l->has_total = 1;
	l->total = 1;
	l->n_results = 1;
	l->results = malloc(sizeof(void *));
	l->results[0] = malloc(sizeof(Users__V1__UserInfo));
	users__v1__user_info__init(l->results[0]);
	l->results[0]->id = gen_dup("7");
	l->results[0]->n_roles = 1;
	l->results[0]->roles = gen_strs1("Admin");
	l->response_status = r->response_status;
	r->response_status = NULL;
	s = encode(l);
	CHECK_STR(s, DECL "<ListUsersResponse xmlns:i=\"" XSI
			  "\" xmlns=\"" NS_VOICE
			  "\"><ResponseStatus xmlns:d2p1=\"" NS_SS
			  "\"><d2p1:ErrorCode>NotEmpty</d2p1:ErrorCode>"
			  "<d2p1:Errors></d2p1:Errors><d2p1:Message>'Email' "
			  "must not be empty."
			  "</d2p1:Message></ResponseStatus><Results><UserInfo>"
			  "<Id>7</Id><Roles xmlns:d4p1=\"" ARR
			  "\"><d4p1:string>Admin</d4p1:string></Roles>"
			  "</UserInfo></Results><Total>1</Total>"
			  "</ListUsersResponse>");
	free(s);
	users__v1__list_users_response__free_unpacked(l, NULL);
	users__v1__error_response__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------------
 * Encoding details
 */

static void
test_encode_text(void)
{
	Users__V1__NewUser *n = malloc(sizeof(*n));
	Users__V1__Organization *o = malloc(sizeof(*o));
	uw_buf small = {.max = 8};
	uw_decode_error err;
	ProtobufCMessage *back;
	char *s;

	users__v1__new_user__init(n);
	n->first_name =
	    gen_dup("a&b<c>d\"e'f ]]> \r\n\tg \xc3\xa9\xf0\x9f\x98\x80");
	n->last_name = gen_dup("bad\xff\xc3(");
	n->password = gen_dup("");
	n->email_address = gen_dup("x\x01y\x1f\x7fz\xef\xbf\xbe.\xef\xbf\xbd");
	s = encode(n);
	CHECK_STR(s, DECL "<NewUser xmlns:i=\"" XSI "\" xmlns=\"" NS_VOICE
			  "\"><EmailAddress>x\xef\xbf\xbdy\xef\xbf\xbd\x7fz"
			  "\xef\xbf\xbd.\xef\xbf\xbd</EmailAddress>"
			  "<FirstName>a&amp;b&lt;c&gt;d\"e'f ]]&gt; &#xD;\n\tg "
			  "\xc3\xa9\xf0\x9f\x98\x80</FirstName>"
			  "<LastName>bad\xef\xbf\xbd\xef\xbf\xbd(</LastName>"
			  "<Password></Password></NewUser>");
	/* what was written reads back (CR included) */
	back = s != NULL ? decode(&users__v1__new_user__descriptor, s, &err)
			 : NULL;
	CHECK(back != NULL);
	if (back != NULL) {
		Users__V1__NewUser *b = (Users__V1__NewUser *)back;
		CHECK_STR(b->first_name, n->first_name);
		CHECK_STR(b->password, "");
		protobuf_c_message_free_unpacked(back, NULL);
	}
	free(s);

	/* a full buffer fails and leaves it as it was */
	CHECK_INT(uw_buf_puts(&small, "ab"), 0);
	CHECK_INT(uw_codec_xml.encode(&n->base, &small), -1);
	CHECK_INT(small.len, 2);
	CHECK_STR(small.data, "ab");
	uw_buf_fini(&small);
	CHECK_INT(uw_codec_xml.encode(NULL, &small), -1);
	users__v1__new_user__free_unpacked(n, NULL);

	/* enum_as_number enums by name in XML; Guids dashed lower case */
	users__v1__organization__init(o);
	o->id = gen_dup("0123456789ABCDEF0123456789abcdef");
	o->has_type = 1;
	o->type = USERS__V1__ORGANIZATION_TYPE__Tenant;
	o->has_member_count = 1;
	o->member_count = -2147483647 - 1;
	o->parent_id = gen_dup("not-a-guid");
	s = encode(o);
	CHECK_STR(s, DECL "<Organization xmlns:i=\"" XSI "\" xmlns=\"" NS_VIVIOT
			  "\"><Id>01234567-89ab-cdef-0123-456789abcdef</Id>"
			  "<MemberCount>-2147483648</MemberCount>"
			  "<ParentId>not-a-guid</ParentId>"
			  "<Type>Tenant</Type></Organization>");
	free(s);
	users__v1__organization__free_unpacked(o, NULL);
}

static void
test_encode_numbers(void)
{
	Users__V1__UpdateBusinessUser *u = malloc(sizeof(*u));
	Users__V1__RequestEnvelope *e = malloc(sizeof(*e));
	char *s;

	users__v1__update_business_user__init(u);
	u->has_user_id = 1;
	u->user_id = INT64_MIN;
	u->has_version = 1;
	u->version = 0;
	s = encode(u);
	CHECK_STR(s, DECL "<UpdateBusinessUser xmlns:i=\"" XSI
			  "\" xmlns=\"" NS_VIVIOT
			  "\"><UserId>-9223372036854775808</UserId>"
			  "<Version>0</Version></UpdateBusinessUser>");
	free(s);
	users__v1__update_business_user__free_unpacked(u, NULL);

	/* outside the contract: no default namespace, proto names */
	users__v1__request_envelope__init(e);
	e->method = gen_dup("GetUser");
	e->has_deadline_ms = 1;
	e->deadline_ms = UINT32_MAX;
	e->has_payload = 1;
	e->payload.len = 4;
	e->payload.data = malloc(4);
	memcpy(e->payload.data, "\x00\xff<&", 4);
	s = encode(e);
	CHECK(s != NULL &&
	      strstr(s, "<RequestEnvelope xmlns:i=\"" XSI "\">") != NULL);
	CHECK(s != NULL && strstr(s, "4294967295") != NULL);
	CHECK(s != NULL && strstr(s, ">AP88Jg==<") != NULL);
	free(s);
	users__v1__request_envelope__free_unpacked(e, NULL);
}

/* ------------------------------------------------------------------------
 * Decoding: leniency
 */

static void
test_decode_lenient(void)
{
	uw_decode_error err;
	ProtobufCMessage *m;

	/* any order, camelCase and lower case names, no namespace at all,
	 * comments, CDATA, unknown elements (nested too) ignored */
	m = decode(&users__v1__patch_user__descriptor,
		   "<?xml version=\"1.0\"?>\n<PatchUser>"
		   "<userId>7</userId><!-- note -->"
		   "<unknown><deep><deeper>x</deeper></deep></unknown>"
		   "<FIRSTNAME><![CDATA[<Ada> & co]]></FIRSTNAME>"
		   "<lastname>Love<!-- c -->lace</lastname>"
		   "<roles><string>Admin</string><string>Manager</string>"
		   "</roles><?pi data?></PatchUser>",
		   &err);
	CHECK(m != NULL);
	if (m != NULL) {
		Users__V1__PatchUser *p = (Users__V1__PatchUser *)m;
		CHECK_STR(p->user_id, "7");
		CHECK_STR(p->first_name, "<Ada> & co");
		CHECK_STR(p->last_name, "Lovelace");
		CHECK(p->roles != NULL && p->roles->n_items == 2);
		if (p->roles != NULL && p->roles->n_items == 2) {
			CHECK_STR(p->roles->items[1], "Manager");
		}
		protobuf_c_message_free_unpacked(m, NULL);
	}

	/* prefixes resolved: the DTO namespace under another prefix, the
	 * instance namespace under another prefix for nil */
	m = decode(&users__v1__user_info__descriptor,
		   "<v:UserInfo xmlns:v=\"" NS_VOICE "\" xmlns:xsi=\"" XSI
		   "\"><v:Id>9</v:Id><v:Name xsi:nil=\"true\"/>"
		   "<v:FirstName i:nil=\"true\" xmlns:i=\"" XSI "\"/>"
		   "<v:Roles xmlns:a=\"" ARR "\"><a:string>x</a:string>"
		   "<a:string xsi:nil=\"true\"/><a:string></a:string></v:Roles>"
		   "<v:IsAuthenticated> true </v:IsAuthenticated>"
		   "<v:ManagerAccess>readwrite</v:ManagerAccess>"
		   "<v:DashboardPermissions><v:DashboardPermissions>"
		   "ViewFlows</v:DashboardPermissions><v:DashboardPermissions>"
		   "1</v:DashboardPermissions></v:DashboardPermissions>"
		   "</v:UserInfo>",
		   &err);
	CHECK(m != NULL);
	if (m != NULL) {
		Users__V1__UserInfo *u = (Users__V1__UserInfo *)m;
		CHECK_STR(u->id, "9");
		CHECK(u->name == NULL);
		CHECK(u->first_name == NULL);
		CHECK_INT(u->n_roles, 2);
		if (u->n_roles == 2) {
			CHECK_STR(u->roles[0], "x");
			CHECK_STR(u->roles[1], "");
		}
		CHECK_INT(u->has_is_authenticated, 1);
		CHECK_INT(u->is_authenticated, 1);
		CHECK_INT(u->manager_access,
			  USERS__V1__USER_MANAGER_ACCESS__ReadWrite);
		CHECK_INT(u->n_dashboard_permissions, 2);
		if (u->n_dashboard_permissions == 2) {
			CHECK_INT(
			    u->dashboard_permissions[1],
			    USERS__V1__DASHBOARD_PERMISSIONS__ViewNotifications);
		}
		protobuf_c_message_free_unpacked(m, NULL);
	}

	/* an undeclared prefix is tolerated; an attribute i:nil without the
	 * instance namespace is no nil */
	m = decode(&users__v1__new_user__descriptor,
		   "<NewUser><q:FirstName>A</q:FirstName>"
		   "<LastName nil=\"true\">B</LastName></NewUser>",
		   &err);
	CHECK(m != NULL);
	if (m != NULL) {
		Users__V1__NewUser *n = (Users__V1__NewUser *)m;
		CHECK_STR(n->first_name, "A");
		CHECK_STR(n->last_name, "B");
		protobuf_c_message_free_unpacked(m, NULL);
	}

	/* nil clears what the message already held; a later duplicate
	 * wins; Guids dashed, braced or not; enum_as_number by number */
	{
		Users__V1__CreateOrganization *c =
		    malloc(sizeof(Users__V1__CreateOrganization));
		const char *xml =
		    "<CreateOrganization xmlns:i=\"" XSI "\">"
		    "<Name i:nil=\"true\"/><ParentId>{01234567-89AB-CDEF-0123-"
		    "456789ABCDEF}</ParentId><Type>10</Type><Type>20</Type>"
		    "</CreateOrganization>";
		users__v1__create_organization__init(c);
		c->name = gen_dup("old");
		CHECK_INT(
		    uw_codec_xml.decode(&c->base, xml, strlen(xml), NULL, &err),
		    0);
		CHECK(c->name == NULL);
		CHECK_STR(c->parent_id, "0123456789abcdef0123456789abcdef");
		CHECK_INT(c->type, USERS__V1__ORGANIZATION_TYPE__Tenant);
		users__v1__create_organization__free_unpacked(c, NULL);
	}

	/* maps: a repeated key keeps the last value, in its first place */
	m = decode(&users__v1__response_status__descriptor,
		   "<ResponseStatus xmlns=\"" NS_SS "\"><Meta xmlns:d=\"" ARR
		   "\"><d:KeyValueOfstringstring><d:Key>a</d:Key><d:Value>1"
		   "</d:Value></d:KeyValueOfstringstring>"
		   "<d:KeyValueOfstringstring><d:Key>b</d:Key>"
		   "</d:KeyValueOfstringstring><d:KeyValueOfstringstring>"
		   "<d:Value>3</d:Value><d:Key>a</d:Key>"
		   "</d:KeyValueOfstringstring></Meta></ResponseStatus>",
		   &err);
	CHECK(m != NULL);
	if (m != NULL) {
		Users__V1__ResponseStatus *st = (Users__V1__ResponseStatus *)m;
		CHECK_INT(st->n_meta, 2);
		if (st->n_meta == 2) {
			CHECK_STR(st->meta[0]->key, "a");
			CHECK_STR(st->meta[0]->value, "3");
			CHECK_STR(st->meta[1]->key, "b");
			CHECK_STR(st->meta[1]->value, "");
		}
		protobuf_c_message_free_unpacked(m, NULL);
	}

	/* an empty body sets nothing; a nil root sets nothing; UTF-16 */
	{
		Users__V1__GetUser g = USERS__V1__GET_USER__INIT;
		const char utf16[] = "\xff\xfe<\0G\0/\0>\0";
		CHECK_INT(uw_codec_xml.decode(&g.base, " \r\n", 3, NULL, &err),
			  0);
		CHECK_INT(uw_codec_xml.decode(&g.base, "", 0, NULL, &err), 0);
		CHECK_INT(uw_codec_xml.decode(&g.base,
					      "<GetUser xmlns:i=\"" XSI
					      "\" i:nil=\"true\"/>",
					      strlen("<GetUser xmlns:i=\"" XSI
						     "\" i:nil=\"true\"/>"),
					      NULL, &err),
			  0);
		CHECK_INT(uw_codec_xml.decode(&g.base, utf16, sizeof(utf16) - 1,
					      NULL, &err),
			  0);
		CHECK(g.user_id == NULL);
	}
}

/* ------------------------------------------------------------------------
 * Decoding: errors and limits
 */

static void
expect_error(const ProtobufCMessageDescriptor *d, const char *xml,
	     const uw_limits *lim, const char *msg_part, const char *field)
{
	ProtobufCMessage *m = uw_msg_new(d);
	uw_decode_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = uw_codec_xml.decode(m, xml, strlen(xml), lim, &err);
	CHECK_INT(rc, -1);
	if (rc == -1) {
		if (strstr(err.message, msg_part) == NULL) {
			fprintf(stderr, "message \"%s\" lacks \"%s\"\n",
				err.message, msg_part);
			CHECK(0);
		}
		CHECK_STR(err.field, field);
	}
	protobuf_c_message_free_unpacked(m, NULL);
}

static void
test_decode_errors(void)
{
	uw_limits tight = {.max_depth = 3, .max_items = 2, .max_string = 4};
	const ProtobufCMessageDescriptor *bur =
	    &users__v1__business_user_profile_data_response__descriptor;

	expect_error(&users__v1__new_user__descriptor, "<NewUser>", NULL,
		     "Invalid XML", "");
	expect_error(&users__v1__new_user__descriptor, "<NewUser></newuser>",
		     NULL, "Invalid XML", "");
	expect_error(&users__v1__new_user__descriptor, "not xml", NULL,
		     "Invalid XML", "");
	expect_error(&users__v1__new_user__descriptor,
		     "<NewUser><FirstName>&bogus;</FirstName></NewUser>", NULL,
		     "Invalid XML", "");
	expect_error(&users__v1__new_user__descriptor,
		     "<NewUser><FirstName>&#1;</FirstName></NewUser>", NULL,
		     "Invalid XML", "");
	expect_error(&users__v1__new_user__descriptor, "<NewUser/><NewUser/>",
		     NULL, "Invalid XML", "");
	expect_error(&users__v1__new_user__descriptor,
		     "<NewUser><FirstName>\xff</FirstName></NewUser>", NULL,
		     "Invalid XML", "");
	expect_error(&users__v1__list_users__descriptor,
		     "<ListUsers><Take>ten</Take></ListUsers>", NULL,
		     "Expected a number for 'take'", "Take");
	expect_error(&users__v1__list_users__descriptor,
		     "<ListUsers><Take>99999999999</Take></ListUsers>", NULL,
		     "out of range", "Take");
	expect_error(&users__v1__new_user__descriptor,
		     "<NewUser><FirstName><b>x</b></FirstName></NewUser>", NULL,
		     "Expected a string for 'firstName'", "FirstName");
	expect_error(&users__v1__user_info__descriptor,
		     "<UserInfo><ManagerAccess>Nope</ManagerAccess></UserInfo>",
		     NULL, "UserManagerAccess", "ManagerAccess");
	expect_error(&users__v1__create_organization__descriptor,
		     "<CreateOrganization><ParentId>xyz</ParentId>"
		     "</CreateOrganization>",
		     NULL, "Guid", "ParentId");
	expect_error(&users__v1__user_info__descriptor,
		     "<UserInfo><IsAuthenticated>yes</IsAuthenticated>"
		     "</UserInfo>",
		     NULL, "boolean", "IsAuthenticated");

	/* limits */
	expect_error(&users__v1__new_user__descriptor,
		     "<NewUser><FirstName>abcde</FirstName></NewUser>", &tight,
		     "too long", "FirstName");
	expect_error(&users__v1__new_user__descriptor,
		     "<NewUser><FirstName>ab<![CDATA[c]]>de</FirstName>"
		     "</NewUser>",
		     &tight, "too long", "FirstName");
	expect_error(&users__v1__user_info__descriptor,
		     "<UserInfo><Roles><s>a</s><s>b</s><s>c</s></Roles>"
		     "</UserInfo>",
		     &tight, "Too many items in 'roles'", "Roles");
	expect_error(&users__v1__patch_user__descriptor,
		     "<PatchUser><Roles><s>a</s><s>b</s><s>c</s></Roles>"
		     "</PatchUser>",
		     &tight, "Too many items in 'roles'", "Roles");
	expect_error(&users__v1__response_status__descriptor,
		     "<ResponseStatus><Meta><kv/><kv/><kv/></Meta>"
		     "</ResponseStatus>",
		     &tight, "Too many items in 'meta'", "Meta");
	expect_error(bur,
		     "<R><Data><BusinessOrganizations><O><SubOrganizations><O>"
		     "</O></SubOrganizations></O></BusinessOrganizations>"
		     "</Data></R>",
		     &tight, "Nested too deeply", "BusinessOrganizations");
	{
		/* deeper than libxml2's own limit: refused, no crash */
		size_t depth = 300, n = 0;
		char *deep = malloc(depth * 7 + 16);
		for (size_t i = 0; i < depth; i++) {
			memcpy(deep + n, "<a>", 3);
			n += 3;
		}
		for (size_t i = 0; i < depth; i++) {
			memcpy(deep + n, "</a>", 4);
			n += 4;
		}
		deep[n] = '\0';
		expect_error(&users__v1__new_user__descriptor, deep, NULL,
			     "Invalid XML", "");
		free(deep);
	}
}

/* ------------------------------------------------------------------------
 * DTDs, external entities, entity expansion: refused, nothing fetched
 */

static int loads;

static xmlParserInputPtr
counting_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	loads++;
	return NULL;
}

static void
test_xxe(void)
{
	static const char *const docs[] = {
	    /* external entity (file and network) */
	    "<?xml version=\"1.0\"?><!DOCTYPE NewUser [<!ENTITY xxe SYSTEM "
	    "\"file:///etc/passwd\">]><NewUser><FirstName>&xxe;</FirstName>"
	    "</NewUser>",
	    "<!DOCTYPE NewUser [<!ENTITY xxe SYSTEM \"http://127.0.0.1:9/x\">"
	    "]><NewUser><FirstName>&xxe;</FirstName></NewUser>",
	    /* external DTD, parameter entities */
	    "<!DOCTYPE NewUser SYSTEM \"http://127.0.0.1:9/x.dtd\"><NewUser/>",
	    "<!DOCTYPE NewUser [<!ENTITY % p SYSTEM \"file:///etc/passwd\">"
	    "%p;]><NewUser/>",
	    /* billion laughs */
	    "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
	    "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"
	    "&lol;\"><!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"
	    "&lol1;&lol1;&lol1;&lol1;\"><!ENTITY lol3 \"&lol2;&lol2;&lol2;"
	    "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\"><!ENTITY lol4 "
	    "\"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"
	    "\"><!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"
	    "&lol4;&lol4;&lol4;\"><!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;"
	    "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\"><!ENTITY lol7 \"&lol6;"
	    "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
	    "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"
	    "&lol7;&lol7;\"><!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;"
	    "&lol8;&lol8;&lol8;&lol8;&lol8;\">]><NewUser><FirstName>&lol9;"
	    "</FirstName></NewUser>",
	    /* a bare DOCTYPE, and one after a comment */
	    "<!DOCTYPE NewUser><NewUser/>",
	    "<!-- x --><!DOCTYPE NewUser []><NewUser/>",
	};
	xmlExternalEntityLoader old;

	old = xmlGetExternalEntityLoader();
	xmlSetExternalEntityLoader(counting_loader);
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		expect_error(&users__v1__new_user__descriptor, docs[i], NULL,
			     "DOCTYPE", "");
	}
	/* an XInclude is just an unknown element */
	{
		uw_decode_error err;
		ProtobufCMessage *m = decode(
		    &users__v1__new_user__descriptor,
		    "<NewUser xmlns:xi=\"http://www.w3.org/2001/XInclude\">"
		    "<FirstName><xi:include href=\"file:///etc/passwd\" "
		    "parse=\"text\"/></FirstName><LastName>x</LastName>"
		    "<xi:include href=\"file:///etc/passwd\"/></NewUser>",
		    &err);
		CHECK(m == NULL);
		CHECK(strstr(err.message, "Expected a string") != NULL);
	}
	CHECK_INT(loads, 0);
	xmlSetExternalEntityLoader(old);
}

/* ------------------------------------------------------------------------
 * Round trip: decode(encode(m)) == m for random messages of every DTO
 */

/* What XML carries: no C0 controls but TAB, LF, CR (those are tested
 * above: they become U+FFFD). */
static const char *const pieces[] = {"",
				     "a",
				     "Ada",
				     ",",
				     "\"",
				     "'",
				     "[",
				     "]",
				     "{",
				     "}",
				     ":",
				     "\n",
				     "\r\n",
				     "\r",
				     "\t",
				     " ",
				     "  x  ",
				     "<",
				     ">",
				     "&",
				     "&amp;",
				     "]]>",
				     "<![CDATA[",
				     "<!--",
				     "&#x41;",
				     "\\",
				     "/",
				     "\xc3\xa9",
				     "\xe6\x97\xa5\xe6\x9c\xac",
				     "\xf0\x9f\x98\x80",
				     "\x7f",
				     "\xef\xbf\xbd",
				     "null",
				     "true",
				     "0",
				     "-1",
				     "a,b",
				     "[a,b]",
				     "\"x\",y",
				     "String",
				     "\xe2\x80\xa8",
				     "<x/>",
				     "i:nil=\"true\""};

static const gen_style xml_gen = {pieces, sizeof(pieces) / sizeof(pieces[0]),
				  "<&\"\r\n", " "};

static void
test_round_trip(void)
{
	int mismatches = 0, runs = 0;
	bool covered[sizeof(gen_all_dtos) / sizeof(gen_all_dtos[0])] = {false};

	gen_use(&xml_gen);
	/* every request and response type of the service is in the list */
	for (size_t i = 0; i < up_method_count(); i++) {
		const up_method *mt = up_method_at(i);
		bool in = false, out = false;
		for (size_t t = 0;
		     t < sizeof(gen_all_dtos) / sizeof(gen_all_dtos[0]); t++) {
			in = in || gen_all_dtos[t] == mt->desc->input;
			out = out || gen_all_dtos[t] == mt->desc->output;
		}
		CHECK(in && out);
	}
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
			ok = uw_codec_xml.encode(m, &b) == 0 &&
			     uw_codec_xml.decode(back, b.data, b.len, NULL,
						 &err) == 0 &&
			     gen_same_packed(m, back) &&
			     uw_codec_xml.encode(back, &b2) == 0 &&
			     b.len == b2.len &&
			     memcmp(b.data, b2.data, b.len) == 0;
			if (ok) {
				covered[t] = true;
			} else if (mismatches++ < 5) {
				fprintf(stderr, "round trip %s: %s [%s]\n",
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
	for (size_t t = 0; t < sizeof(gen_all_dtos) / sizeof(gen_all_dtos[0]);
	     t++) {
		CHECK(covered[t]);
	}
}

/* ------------------------------------------------------------------------
 * Several threads at once (as h2o's loops use the codec)
 */

#define THREADS       4
#define THREAD_ROUNDS 300

static void *
thread_main(void *arg)
{
	const char *want = arg;
	intptr_t bad = 0;

	for (int i = 0; i < THREAD_ROUNDS; i++) {
		uw_decode_error err;
		ProtobufCMessage *m = decode(&users__v1__user_info__descriptor,
					     seed_userinfo, &err);
		char *s = m != NULL ? encode(m) : NULL;
		ProtobufCMessage *x =
		    decode(&users__v1__new_user__descriptor,
			   "<!DOCTYPE a [<!ENTITY b \"c\">]><a/>", &err);
		if (s == NULL || strcmp(s, want) != 0 || x != NULL) {
			bad++;
		}
		free(s);
		if (m != NULL) {
			protobuf_c_message_free_unpacked(m, NULL);
		}
	}
	return (void *)bad;
}

static void
test_threads(void)
{
	pthread_t t[THREADS];
	char *want = normalised(seed_userinfo);
	int started = 0;
	intptr_t bad = 0;

	for (int i = 0; i < THREADS; i++) {
		if (pthread_create(&t[i], NULL, thread_main, want) == 0) {
			started++;
		}
	}
	CHECK_INT(started, THREADS);
	for (int i = 0; i < started; i++) {
		void *r = NULL;
		pthread_join(t[i], &r);
		bad += (intptr_t)r;
	}
	CHECK_INT(bad, 0);
	free(want);
}

int
main(void)
{
	CHECK_INT(up_meta_load(), 0);
	test_table();
	test_seed_userinfo();
	test_seed_patchuser();
	test_nested_business_user_response();
	test_error_shapes();
	test_encode_text();
	test_encode_numbers();
	test_decode_lenient();
	test_decode_errors();
	test_xxe();
	test_round_trip();
	test_threads();
	xmlCleanupParser();
	return check_done();
}
