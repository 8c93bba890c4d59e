/*
 * handlers_org.c - CreateOrganization, GetOrganization, ListOrganizations,
 * AddOrganizationMember and RemoveOrganizationMember.
 *
 * Who sees and changes which organization is the policy's (authz.h): a
 * call asks for its aspect with the organization it names.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "b64url.h"
#include "convert.h"
#include "service.h"
#include "validate.h"

#define TAKE_DEFAULT 50
#define TAKE_MAX     1000

static int
org_failed(ud_call *c, int rc)
{
	if (rc == UP_NOT_FOUND) {
		return ud_call_fail(c, rc, "NotFound",
				    "Organization not found.");
	}
	return ud_call_fail(c, UP_UNAVAILABLE, NULL, NULL);
}

/* The policy on a call that names org (NULL: none): 0 or the status. */
static int
allow_org(ud_call *c, ud_store_conn *conn, const char *org)
{
	ud_authz_subject s = {0};
	ud_authz az;
	int rc;

	s.org = org;
	ud_authz_init(&az, conn, &c->actor);
	rc = ud_call_allow(c, &az, USERS__V1__ASPECT__CALL, &s);
	ud_authz_fini(&az);
	return rc;
}

static int
respond_org(ud_call *c, ud_store_conn *conn, const char *id)
{
	ud_org o = {0};
	int rc = ud_store_org_get(conn, id, &o);

	if (rc != 0) {
		return org_failed(c, rc);
	}
	c->resp = (ProtobufCMessage *)ud_org_msg_new(&o);
	ud_org_fini(&o);
	return c->resp != NULL ? UP_OK : UP_INTERNAL;
}

static int
create_org_write(ud_store_conn *conn, void *arg)
{
	ud_call *c = arg;
	ud_org *o = c->op;
	int rc;

	if ((rc = allow_org(c, conn, o->parent_id)) != 0) {
		return rc;
	}
	rc = ud_store_org_insert(conn, o);
	if (rc == UP_INVALID_ARGUMENT) {
		return ud_err_invalid(c, "ParentId", "NotFound",
				      "names an organization that does not "
				      "exist.");
	}
	if (rc != 0) {
		return org_failed(c, rc);
	}
	return respond_org(c, conn, o->id);
}

static void
org_free(void *p)
{
	ud_org_fini(p);
	free(p);
}

static int
create_org(ud_call *c)
{
	const Users__V1__CreateOrganization *r =
	    (const Users__V1__CreateOrganization *)c->req;
	ud_org *o;
	char parent[33];
	int rc;

	/* Name is (required): validate.c has seen it */
	if (r->has_type && r->type != 0 && r->type != 10 && r->type != 20 &&
	    r->type != 30) {
		return ud_err_invalid(c, "Type", "Enum",
				      "must be 0, 10, 20 or 30.");
	}
	if (r->parent_id != NULL && r->parent_id[0] != '\0' &&
	    ud_guid_parse(r->parent_id, parent) != 0) {
		return ud_err_invalid(c, "ParentId", "InvalidId",
				      "is not a valid organization id.");
	}
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		return UP_INTERNAL;
	}
	c->op = o;
	c->op_free = org_free;
	o->name = ud_dup(r->name);
	o->type = r->has_type ? r->type : 0;
	if (r->parent_id != NULL && r->parent_id[0] != '\0') {
		o->parent_id = ud_dup(parent);
	}
	if (o->name == NULL) {
		return UP_INTERNAL;
	}
	rc = ud_call_write(c, create_org_write);
	return rc == 0 ? UD_ASYNC : rc;
}

static int
get_org(ud_call *c)
{
	const Users__V1__GetOrganization *r =
	    (const Users__V1__GetOrganization *)c->req;
	char id[33];
	int rc;

	if (ud_guid_parse(r->id, id) != 0) {
		return ud_err_invalid(c, "Id", "InvalidId",
				      "is not a valid organization id.");
	}
	if ((rc = respond_org(c, c->reader, id)) != 0) {
		return rc;
	}
	return allow_org(c, c->reader, id);
}

/*
 * The cursor of an organization list: base64url of "o", the last
 * organization's id (32 hex digits) and its name, the list's order. Like
 * the users' cursor it only says where a page starts.
 */
#define ORG_CURSOR_RAW (1 + 32 + 200) /* the name's (max_len) */

static int
org_cursor_encode(const ud_org *o, char **out)
{
	char raw[ORG_CURSOR_RAW + 1];
	size_t n, cap;
	int len =
	    snprintf(raw, sizeof(raw), "o%s%s", o->id, o->name ? o->name : "");

	*out = NULL;
	if (len < 33 || (size_t)len >= sizeof(raw)) {
		return UP_INTERNAL;
	}
	n = (size_t)len;
	cap = ud_b64url_encoded_len(n) + 1;
	if ((*out = malloc(cap)) == NULL) {
		return UP_INTERNAL;
	}
	if (ud_b64url_encode((const uint8_t *)raw, n, *out, cap) ==
	    (size_t)-1) {
		free(*out);
		*out = NULL;
		return UP_INTERNAL;
	}
	return 0;
}

/* The id (buf 33) and name (buf ORG_CURSOR_RAW) of a cursor; -1. */
static int
org_cursor_decode(const char *s, char id[33], char name[ORG_CURSOR_RAW])
{
	uint8_t raw[ORG_CURSOR_RAW + 1];
	size_t n;

	if (ud_b64url_decode(s, strlen(s), raw, sizeof(raw) - 1, &n) != 0 ||
	    n < 33 || raw[0] != 'o' || memchr(raw, '\0', n) != NULL) {
		return -1;
	}
	raw[n] = '\0';
	memcpy(id, raw + 1, 32);
	id[32] = '\0';
	if (!ud_random_id_valid(id)) {
		return -1;
	}
	memcpy(name, raw + 33, n - 33 + 1);
	return 0;
}

static int
list_orgs(ud_call *c)
{
	const Users__V1__ListOrganizations *r =
	    (const Users__V1__ListOrganizations *)c->req;
	Users__V1__ListOrganizationsResponse *resp;
	ud_strv scope = {0};
	ud_org *orgs = NULL;
	ud_authz az;
	size_t n = 0;
	int64_t total = 0;
	bool all = false;
	char parent[33];
	int32_t skip = r->has_skip ? r->skip : 0;
	int32_t take = (r->has_take && r->take > 0) ? r->take : TAKE_DEFAULT;
	bool has_after = r->after != NULL && r->after[0] != '\0';
	char after_id[33], after_name[ORG_CURSOR_RAW];
	int rc;

	if (skip < 0 || take > TAKE_MAX) {
		return ud_err_invalid(c, skip < 0 ? "Skip" : "Take",
				      "InclusiveBetween", "is out of range.");
	}
	if (r->parent_id != NULL && r->parent_id[0] != '\0' &&
	    ud_guid_parse(r->parent_id, parent) != 0) {
		return ud_err_invalid(c, "ParentId", "InvalidId",
				      "is not a valid organization id.");
	}
	if (has_after &&
	    org_cursor_decode(r->after, after_id, after_name) != 0) {
		return ud_err_invalid(c, "After", "InvalidCursor",
				      "is not a cursor this service gave.");
	}
	ud_authz_init(&az, c->reader, &c->actor);
	rc = ud_authz_list_scope(&az, c->method, &all, &scope);
	ud_authz_fini(&az);
	if (rc == 0) {
		rc = ud_store_org_list_after(
		    c->reader,
		    (r->parent_id != NULL && r->parent_id[0] != '\0') ? parent
								      : NULL,
		    all ? NULL : &scope, has_after ? after_name : NULL,
		    has_after ? after_id : NULL, skip, take, &orgs, &n, &total);
	}
	ud_strv_fini(&scope);
	if (rc != 0) {
		return org_failed(c, rc);
	}
	if ((resp = malloc(sizeof(*resp))) == NULL) {
		ud_orgs_free(orgs, n);
		return UP_INTERNAL;
	}
	users__v1__list_organizations_response__init(resp);
	c->resp = (ProtobufCMessage *)resp;
	resp->has_total = true;
	resp->total = (int32_t)total;
	resp->has_skip = true;
	resp->skip = skip;
	resp->results = calloc(n ? n : 1, sizeof(*resp->results));
	for (size_t i = 0; resp->results != NULL && i < n; i++) {
		if ((resp->results[i] = ud_org_msg_new(&orgs[i])) == NULL) {
			break;
		}
		resp->n_results++;
	}
	rc = resp->n_results == n ? UP_OK : UP_INTERNAL;
	if (rc == UP_OK && n > 0 && n == (size_t)take) {
		rc = org_cursor_encode(&orgs[n - 1], &resp->next);
	}
	ud_orgs_free(orgs, n);
	return rc;
}

/* Shared by add and remove: the request shapes are the same. */
_Static_assert(offsetof(Users__V1__AddOrganizationMember, organization_id) ==
		       offsetof(Users__V1__RemoveOrganizationMember,
				organization_id) &&
		   offsetof(Users__V1__AddOrganizationMember, user_id) ==
		       offsetof(Users__V1__RemoveOrganizationMember, user_id),
	       "member requests share one layout");

static int
member_write(ud_store_conn *conn, void *arg)
{
	ud_call *c = arg;
	const Users__V1__AddOrganizationMember *r =
	    (const Users__V1__AddOrganizationMember *)c->req;
	bool add = c->req->descriptor ==
		   &users__v1__add_organization_member__descriptor;
	Users__V1__OrganizationMemberResponse *resp;
	ud_authz_subject s = {0};
	ud_strv changed = {0};
	ud_authz az;
	char org[33];
	int rc;

	ud_guid_parse(r->organization_id, org);
	ud_user_fini(&c->target);
	if ((rc = ud_store_user_get(conn, ud_parse_user_id(r->user_id),
				    &c->target)) != 0) {
		return rc == UP_NOT_FOUND
			   ? ud_call_fail(c, rc, "NotFound", "User not found.")
			   : org_failed(c, rc);
	}
	/* The change is the one organization, whether or not the user is
	 * a member already. */
	if (ud_strv_push(&changed, org) != 0) {
		return UP_INTERNAL;
	}
	s.target = &c->target;
	s.orgs_changed = &changed;
	ud_authz_init(&az, conn, &c->actor);
	rc = ud_call_allow(c, &az, USERS__V1__ASPECT__MEMBERSHIPS, &s);
	ud_authz_fini(&az);
	ud_strv_fini(&changed);
	if (rc != 0) {
		return rc;
	}
	rc = add ? ud_store_member_add(conn, org, c->target.id)
		 : ud_store_member_remove(conn, org, c->target.id);
	if (rc == UP_NOT_FOUND) {
		return ud_call_fail(c, rc, "NotFound",
				    add ? "Organization not found."
					: "The user is not a member.");
	}
	if (rc != 0 && rc != UP_ALREADY_EXISTS) {
		return org_failed(c, rc);
	}
	if ((resp = malloc(sizeof(*resp))) == NULL) {
		return UP_INTERNAL;
	}
	users__v1__organization_member_response__init(resp);
	c->resp = (ProtobufCMessage *)resp;
	resp->organization_id = ud_dup(org);
	resp->user_id = ud_id_string(c->target.id);
	return resp->organization_id && resp->user_id ? UP_OK : UP_INTERNAL;
}

static int
member_change(ud_call *c)
{
	const Users__V1__AddOrganizationMember *r =
	    (const Users__V1__AddOrganizationMember *)c->req;
	char org[33];
	int rc = 0;

	if (ud_guid_parse(r->organization_id, org) != 0) {
		rc = ud_err_invalid(c, "OrganizationId", "InvalidId",
				    "is not a valid organization id.");
	}
	if (ud_parse_user_id(r->user_id) == 0) {
		rc = ud_err_invalid(c, "UserId", "InvalidId",
				    "is not a valid user id.");
	}
	if (rc != 0) {
		return rc;
	}
	rc = ud_call_write(c, member_write);
	return rc == 0 ? UD_ASYNC : rc;
}

const ud_handler ud_org_handlers[] = {
    {"CreateOrganization", create_org},
    {"GetOrganization", get_org},
    {"ListOrganizations", list_orgs},
    {"AddOrganizationMember", member_change},
    {"RemoveOrganizationMember", member_change},
    {NULL, NULL},
};
