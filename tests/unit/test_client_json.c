/*
 * usersctl's output: messages as the REST API's JSON (the bytes usersgw
 * sends, from the codec library), and as text.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ctl_json.h"

/* What ctl_print_message prints for m (json or text), malloc'd; NULL when
 * it fails. */
static char *
print(ProtobufCMessage *m, int output, const char *const *hide)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (f == NULL) {
		return NULL;
	}
	rc = ctl_print_message(f, m, output, hide);
	fclose(f);
	if (rc != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* usersctl --json prints the wire's JSON and a line end: the same bytes
 * as the gateway's encoder, and the golden text want. */
#define CHECK_JSON(msg, want)                                                  \
	do {                                                                   \
		uw_buf wire_ = {0};                                            \
		char *got_ = print(msg, true, NULL);                           \
		CHECK_INT(uw_codec_json.encode(msg, &wire_), 0);               \
		CHECK(got_ != NULL && wire_.data != NULL &&                    \
		      strlen(got_) == wire_.len + 1 &&                         \
		      memcmp(got_, wire_.data, wire_.len) == 0);               \
		CHECK_STR(got_, want "\n");                                    \
		free(got_);                                                    \
		uw_buf_fini(&wire_);                                           \
	} while (0)

static void
test_user_info(void)
{
	Users__V1__UserInfo u = USERS__V1__USER_INFO__INIT;
	char *roles[] = {"Admin", "Manager"};
	Users__V1__DashboardPermissions perms[] = {
	    USERS__V1__DASHBOARD_PERMISSIONS__ViewFiles,
	    USERS__V1__DASHBOARD_PERMISSIONS__ViewCallCenter};

	/* Nothing set: the lists only, empty (a list is never "unset"). */
	CHECK_JSON(&u.base, "{\"roles\":[],\"accountIds\":[],\"accountNames\":"
			    "[],\"dashboardPermissions\":[]}");

	u.id = "7";
	u.has_is_authenticated = true;
	u.is_authenticated = false;
	u.email_address = "a@b.c";
	u.roles = roles;
	u.n_roles = 2;
	u.has_manager_access = true;
	u.manager_access = USERS__V1__USER_MANAGER_ACCESS__ReadWrite;
	u.dashboard_permissions = perms;
	u.n_dashboard_permissions = 2;
	CHECK_JSON(&u.base,
		   "{\"id\":\"7\",\"isAuthenticated\":false,"
		   "\"emailAddress\":\"a@b.c\",\"roles\":[\"Admin\","
		   "\"Manager\"],\"accountIds\":[],\"accountNames\":[],"
		   "\"managerAccess\":\"ReadWrite\","
		   "\"dashboardPermissions\":[\"ViewFiles\","
		   "\"ViewCallCenter\"]}");
	/* An enum value outside the list: its number. */
	u.manager_access = 42;
	u.n_roles = 0;
	u.n_dashboard_permissions = 0;
	u.email_address = NULL;
	u.has_is_authenticated = false;
	CHECK_JSON(&u.base, "{\"id\":\"7\",\"roles\":[],\"accountIds\":[],"
			    "\"accountNames\":[],\"managerAccess\":42,"
			    "\"dashboardPermissions\":[]}");
}

static void
test_numbers_and_nesting(void)
{
	Users__V1__BusinessUserProfileDataResponse r =
	    USERS__V1__BUSINESS_USER_PROFILE_DATA_RESPONSE__INIT;
	Users__V1__BusinessUserProfileDataView v =
	    USERS__V1__BUSINESS_USER_PROFILE_DATA_VIEW__INIT;
	Users__V1__OrganizationBasicView parent =
	    USERS__V1__ORGANIZATION_BASIC_VIEW__INIT;
	Users__V1__OrganizationBasicView child =
	    USERS__V1__ORGANIZATION_BASIC_VIEW__INIT;
	Users__V1__OrganizationBasicView *children[] = {&child};
	Users__V1__OrganizationBasicView *orgs[] = {&parent};

	v.has_id = true;
	v.id = 9007199254740993LL; /* beyond a double's precision */
	v.has_activation_status = true;
	v.activation_status = USERS__V1__ACTIVATION_STATUS__IdentityConfirmed;
	v.first_name = "Ada";
	child.id = "c1";
	child.name = "Child";
	child.has_type = true;
	child.type = USERS__V1__ORGANIZATION_TYPE__Location;
	parent.id = "p1";
	parent.has_type = true;
	parent.type = USERS__V1__ORGANIZATION_TYPE__Tenant;
	parent.sub_organizations = children;
	parent.n_sub_organizations = 1;
	v.business_organizations = orgs;
	v.n_business_organizations = 1;
	r.data = &v;
	/* int64 as a bare number, the two numeric enums as numbers, the
	 * json_name "organizations" */
	CHECK_JSON(&r.base,
		   "{\"data\":{\"id\":9007199254740993,\"activationStatus\":30,"
		   "\"firstName\":\"Ada\",\"roles\":[],"
		   "\"businessOrganizations\":[{\"id\":"
		   "\"p1\",\"type\":20,\"organizations\":[{\"id\":\"c1\","
		   "\"name\":\"Child\",\"type\":30,\"organizations\":[]}]}]}}");
}

static void
test_wrappers_and_maps(void)
{
	Users__V1__PatchUser p = USERS__V1__PATCH_USER__INIT;
	Users__V1__StringList roles = USERS__V1__STRING_LIST__INIT;
	Users__V1__StringList none = USERS__V1__STRING_LIST__INIT;
	char *items[] = {"Manager"};
	Users__V1__ResponseStatus st = USERS__V1__RESPONSE_STATUS__INIT;
	Users__V1__ResponseError fe = USERS__V1__RESPONSE_ERROR__INIT;
	Users__V1__ResponseError *errs[] = {&fe};
	Users__V1__ResponseStatus__MetaEntry me =
	    USERS__V1__RESPONSE_STATUS__META_ENTRY__INIT;
	Users__V1__ResponseStatus__MetaEntry *metas[] = {&me};

	roles.items = items;
	roles.n_items = 1;
	p.user_id = "7";
	p.roles = &roles;
	p.account_ids = &none; /* present and empty: cleared */
	CHECK_JSON(&p.base, "{\"accountIds\":[],\"userId\":\"7\","
			    "\"roles\":[\"Manager\"]}");

	st.error_code = "ValidationException";
	st.message = "bad";
	fe.error_code = "NotEmpty";
	fe.field_name = "Email";
	fe.message = "'Email' must not be empty.";
	st.errors = errs;
	st.n_errors = 1;
	me.key = "k";
	me.value = "v";
	st.meta = metas;
	st.n_meta = 1;
	CHECK_JSON(&st.base,
		   "{\"errorCode\":\"ValidationException\",\"message\":\"bad\","
		   "\"errors\":[{\"errorCode\":\"NotEmpty\",\"fieldName\":"
		   "\"Email\",\"message\":\"'Email' must not be empty.\"}],"
		   "\"meta\":{\"k\":\"v\"}}");
}

/* Bytes that are not UTF-8 are written as U+FFFD, as the gateway does
 * (the answer is still printed). */
static void
test_bad_utf8(void)
{
	Users__V1__UserInfo u = USERS__V1__USER_INFO__INIT;

	u.first_name = "\xff\xfe";
	CHECK_JSON(&u.base, "{\"firstName\":\"\xef\xbf\xbd\xef\xbf\xbd\","
			    "\"roles\":[],\"accountIds\":[],\"accountNames\":"
			    "[],\"dashboardPermissions\":[]}");
	CHECK(print(NULL, true, NULL) == NULL);
}

/* Tokens are left out of what login prints, and wiped in the message. */
static void
test_hide(void)
{
	static const char *const hide[] = {"bearerToken", "refreshToken", NULL};
	Users__V1__AuthenticateResponse r =
	    USERS__V1__AUTHENTICATE_RESPONSE__INIT;
	char *tok = strdup("eyJ.secret.tok");
	char *ref = strdup("eyJ.secret.ref");
	char *s;

	r.user_id = "1";
	r.bearer_token = tok;
	r.refresh_token = ref;
	s = print(&r.base, true, hide);
	CHECK_STR(s, "{\"userId\":\"1\",\"roles\":[],\"permissions\":[]}\n");
	free(s);
	CHECK(r.bearer_token == NULL && r.refresh_token == NULL);
	r.user_id = NULL;
	s = print(&r.base, false, hide);
	CHECK_STR(s, "");
	free(s);
}

static void
test_text(void)
{
	Users__V1__ListUsersResponse r = USERS__V1__LIST_USERS_RESPONSE__INIT;
	Users__V1__UserInfo a = USERS__V1__USER_INFO__INIT;
	Users__V1__UserInfo b = USERS__V1__USER_INFO__INIT;
	Users__V1__UserInfo *results[] = {&a, &b};
	char *roles[] = {"Admin", "Manager"};
	char *s;

	r.has_total = true;
	r.total = 2;
	r.results = results;
	r.n_results = 2;
	a.id = "1";
	a.email_address = "admin@example.com";
	a.roles = roles;
	a.n_roles = 2;
	b.id = "22";
	b.first_name = "Ada";
	/* empty lists are not columns; a list of flat objects is a table */
	s = print(&r.base, false, NULL);
	CHECK_STR(s, "total: 2\n"
		     "results:\n"
		     "  id  emailAddress       roles          firstName\n"
		     "  1   admin@example.com  Admin,Manager\n"
		     "  22                                    Ada\n");
	free(s);
	/* one object: a line a member, empty lists left out */
	s = print(&a.base, false, NULL);
	CHECK_STR(s, "id: 1\n"
		     "emailAddress: admin@example.com\n"
		     "roles: Admin,Manager\n");
	free(s);
}

/* -o yaml: the same JSON as a YAML document; -o wide: cells not cut. */
static void
test_yaml_and_wide(void)
{
	Users__V1__ListUsersResponse r = USERS__V1__LIST_USERS_RESPONSE__INIT;
	Users__V1__UserInfo a = USERS__V1__USER_INFO__INIT;
	Users__V1__UserInfo *results[] = {&a};
	char *roles[] = {"Admin", "Manager"};
	char *many[40];
	char long_role[40][12];
	char *s;

	r.has_total = true;
	r.total = 1;
	r.results = results;
	r.n_results = 1;
	a.id = "1";
	a.first_name = "Ada \"the\" first: #1";
	a.roles = roles;
	a.n_roles = 2;
	s = print(&r.base, CTL_OUT_YAML, NULL);
	CHECK_STR(s, "---\n"
		     "\"total\": 1\n"
		     "\"results\":\n"
		     "- \"id\": \"1\"\n"
		     "  \"firstName\": \"Ada \\\"the\\\" first: #1\"\n"
		     "  \"roles\":\n"
		     "  - \"Admin\"\n"
		     "  - \"Manager\"\n"
		     "  \"accountIds\": []\n"
		     "  \"accountNames\": []\n"
		     "  \"dashboardPermissions\": []\n");
	free(s);

	/* 40 roles of 10 bytes: a cell of 439 bytes, cut at 256 in the
	 * table, whole in the wide one */
	for (int i = 0; i < 40; i++) {
		snprintf(long_role[i], sizeof(long_role[i]), "role-%05d", i);
		many[i] = long_role[i];
	}
	a.first_name = NULL;
	a.roles = many;
	a.n_roles = 40;
	s = print(&a.base, CTL_OUT_TABLE, NULL);
	CHECK(s != NULL && strstr(s, "role-00039") == NULL &&
	      strstr(s, "...") != NULL);
	free(s);
	s = print(&a.base, CTL_OUT_WIDE, NULL);
	CHECK(s != NULL && strstr(s, "role-00000,role-00001") != NULL &&
	      strstr(s, "role-00039\n") != NULL);
	free(s);
}

int
main(void)
{
	CHECK_INT(up_meta_load(), 0);
	test_user_info();
	test_numbers_and_nesting();
	test_wrappers_and_maps();
	test_bad_utf8();
	test_hide();
	test_text();
	test_yaml_and_wide();
	return check_done();
}
