/*
 * handlers_user.c - NewUser, PatchUser, GetUser, ListUsers, DeleteUser and
 * UpdateBusinessUser.
 *
 * Reads run on the worker. Writes re-read their target inside the write
 * function (on the writer, within the group commit) and make every
 * target-dependent decision there, so a decision and its write see the
 * same record.
 */
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "convert.h"
#include "service.h"
#include "validate.h"

#define TAKE_DEFAULT 50
#define TAKE_MAX     1000

static int
forbid(ud_call *c, const char *why)
{
	return ud_call_fail(c, UP_PERMISSION_DENIED, "Forbidden", why);
}

static int
not_found(ud_call *c)
{
	return ud_call_fail(c, UP_NOT_FOUND, "NotFound", "User not found.");
}

static int
store_failed(ud_call *c, int rc)
{
	if (rc == UP_NOT_FOUND) {
		return not_found(c);
	}
	return ud_call_fail(c, rc == UP_ALREADY_EXISTS ? rc : UP_UNAVAILABLE,
			    NULL, NULL);
}

/* Sets c->resp to the UserInfo of user id, read on conn. */
static int
respond_user_info(ud_call *c, ud_store_conn *conn, int64_t id)
{
	ud_user u = {0};
	int rc = ud_store_user_get(conn, id, &u);

	if (rc != 0) {
		return store_failed(c, rc);
	}
	c->resp = (ProtobufCMessage *)ud_user_info_new(&u, u.id == c->actor.id);
	ud_user_fini(&u);
	return c->resp != NULL ? UP_OK : UP_INTERNAL;
}

static int
check_guid(ud_call *c, const char *field, const char *s, char out[33])
{
	if (ud_guid_parse(s, out) != 0) {
		return ud_err_invalid(c, field, "InvalidId",
				      "is not a valid organization id.");
	}
	return 0;
}

static int
check_roles(ud_call *c, const char *field, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!ud_role_name_valid(v[i])) {
			return ud_err_invalid(c, field, "InvalidRole",
					      "holds a role name that is not "
					      "valid.");
		}
	}
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The roles of a request: unique and sorted, as the store keeps them. */
static int
roles_from(ud_strv *out, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!ud_strv_has(out, v[i]) && ud_strv_push(out, v[i]) != 0) {
			return UP_INTERNAL;
		}
	}
	if (out->n > 1) {
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	}
	return 0;
}

static int
check_password(ud_call *c, const char *field, const char *pw)
{
	if (pw == NULL || pw[0] == '\0') {
		return ud_err_not_empty(c, field);
	}
	if (strlen(pw) < UD_PASSWORD_MIN_LEN) {
		return ud_err_invalid(c, field, "MinimumLength",
				      "must be at least 8 characters.");
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * NewUser
 */

static int
new_user_write(ud_store_conn *conn, void *arg)
{
	ud_call *c = arg;
	int rc = ud_store_user_insert(conn, &c->target);

	if (rc == UP_ALREADY_EXISTS) {
		return ud_call_fail(c, rc, "Conflict",
				    "A user with this email address already "
				    "exists.");
	}
	if (rc == UP_INVALID_ARGUMENT) {
		return ud_err_invalid(c, "AccountId", "NotFound",
				      "names an account that does not exist.");
	}
	if (rc != 0) {
		return store_failed(c, rc);
	}
	return respond_user_info(c, conn, c->target.id);
}

static int
new_user_hashed(ud_call *c)
{
	if (c->hash_rc != 0) {
		return ud_call_fail(c, UP_INTERNAL, NULL, NULL);
	}
	c->target.password_hash = c->hash;
	c->hash = NULL;
	return ud_call_write(c, new_user_write) == 0 ? UD_ASYNC
						     : UP_UNAVAILABLE;
}

static int
new_user(ud_call *c)
{
	const Users__V1__NewUser *r = (const Users__V1__NewUser *)c->req;
	ud_user existing = {0};
	char org[33];
	int rc = 0;

	if (r->email_address == NULL || r->email_address[0] == '\0') {
		rc = ud_err_not_empty(c, "EmailAddress");
	} else if (!ud_email_valid(r->email_address)) {
		rc = ud_err_invalid(c, "EmailAddress", "Email",
				    "is not a valid email address.");
	}
	rc = check_password(c, "Password", r->password) ? UP_INVALID_ARGUMENT
							: rc;
	if (r->account_id != NULL && r->account_id[0] != '\0') {
		rc = check_guid(c, "AccountId", r->account_id, org)
			 ? UP_INVALID_ARGUMENT
			 : rc;
	} else if (!ud_authz_unlimited(&c->actor)) {
		rc = rc ? rc
			: forbid(c, "You may only create users in one of "
				    "your organizations: give AccountId.");
	}
	if (rc != 0) {
		return rc;
	}
	if (r->account_id != NULL && r->account_id[0] != '\0' &&
	    !ud_authz_unlimited(&c->actor)) {
		ud_strv scope = {0};
		bool ok;
		if ((rc = ud_authz_scope(c->reader, &c->actor, &scope)) != 0) {
			return store_failed(c, rc);
		}
		ok = ud_strv_has(&scope, org);
		ud_strv_fini(&scope);
		if (!ok) {
			return forbid(c, "You may only create users in your "
					 "organizations.");
		}
	}
	/* A cheap early answer for a taken email; the insert decides. */
	rc = ud_store_user_by_email(c->reader, r->email_address, &existing);
	ud_user_fini(&existing);
	if (rc == 0) {
		return ud_call_fail(c, UP_ALREADY_EXISTS, "Conflict",
				    "A user with this email address already "
				    "exists.");
	}
	c->target.email = ud_dup(r->email_address);
	c->target.first_name = ud_dup(r->first_name ? r->first_name : "");
	c->target.last_name = ud_dup(r->last_name ? r->last_name : "");
	c->target.manager_access = -1;
	c->password = ud_dup(r->password);
	if (c->target.email == NULL || c->target.first_name == NULL ||
	    c->target.last_name == NULL || c->password == NULL ||
	    (r->account_id != NULL && r->account_id[0] != '\0' &&
	     ud_strv_push(&c->target.org_ids, org) != 0)) {
		return UP_INTERNAL;
	}
	if (c->target.org_ids.n > 0) {
		c->target.primary_org_id = ud_dup(org);
	}
	rc = ud_call_hash(c, new_user_hashed);
	return rc == 0 ? UD_ASYNC : rc;
}

/* ------------------------------------------------------------------------
 * PatchUser
 */

static int
patch_user_write(ud_store_conn *conn, void *arg)
{
	ud_call *c = arg;
	const Users__V1__PatchUser *r = (const Users__V1__PatchUser *)c->req;
	ud_user *t = &c->target;
	const char *why = NULL;
	bool bump = false, set_orgs = false;
	int64_t id = ud_parse_user_id(r->user_id);
	int rc;

	ud_user_fini(t);
	if ((rc = ud_store_user_get(conn, id, t)) != 0) {
		return store_failed(c, rc);
	}
	if ((rc = ud_authz_can_manage(conn, &c->actor, t, &why)) != 0) {
		return rc == UP_PERMISSION_DENIED ? forbid(c, why)
						  : store_failed(c, rc);
	}
	if (r->roles != NULL) {
		ud_strv roles = {0};
		if (roles_from(&roles, r->roles->items, r->roles->n_items) !=
			0 ||
		    ud_authz_can_grant(&c->actor, &t->roles, &roles, &why) !=
			0) {
			ud_strv_fini(&roles);
			return why ? forbid(c, why) : UP_INTERNAL;
		}
		bump = roles.n != t->roles.n;
		for (size_t i = 0; !bump && i < roles.n; i++) {
			bump = !ud_strv_has(&t->roles, roles.v[i]);
		}
		ud_strv_fini(&t->roles);
		t->roles = roles;
	}
	if (r->account_ids != NULL) {
		ud_strv orgs = {0}, scope = {0};
		bool unlimited = ud_authz_unlimited(&c->actor);
		if (!unlimited &&
		    (rc = ud_authz_scope(conn, &c->actor, &scope)) != 0) {
			return store_failed(c, rc);
		}
		for (size_t i = 0; i < r->account_ids->n_items; i++) {
			char g[33];
			ud_guid_parse(r->account_ids->items[i], g);
			if (!unlimited && !ud_strv_has(&scope, g)) {
				ud_strv_fini(&orgs);
				ud_strv_fini(&scope);
				return forbid(c, "You may only hand out "
						 "memberships you hold.");
			}
			if (!ud_strv_has(&orgs, g) && ud_strv_push(&orgs, g)) {
				rc = UP_INTERNAL;
			}
		}
		/* A scoped actor neither sees nor removes the others. */
		for (size_t i = 0; !unlimited && i < t->org_ids.n; i++) {
			const char *g = t->org_ids.v[i];
			if (!ud_strv_has(&scope, g) && !ud_strv_has(&orgs, g) &&
			    ud_strv_push(&orgs, g) != 0) {
				rc = UP_INTERNAL;
			}
		}
		ud_strv_fini(&scope);
		ud_strv_fini(&t->org_ids);
		ud_strv_fini(&t->org_names);
		t->org_ids = orgs;
		set_orgs = true;
		if (rc != 0) {
			return rc;
		}
	}
	if (r->first_name != NULL) {
		free(t->first_name);
		t->first_name = ud_dup(r->first_name);
	}
	if (r->last_name != NULL) {
		free(t->last_name);
		t->last_name = ud_dup(r->last_name);
	}
	if (c->hash != NULL) {
		free(t->password_hash);
		t->password_hash = c->hash;
		c->hash = NULL;
		bump = true;
	}
	rc = ud_store_user_update(conn, t,
				  (r->roles != NULL ? UD_SET_ROLES : 0) |
				      (set_orgs ? UD_SET_ORGS : 0),
				  bump);
	if (rc == UP_INVALID_ARGUMENT) {
		return ud_err_invalid(c, "AccountIds", "NotFound",
				      "names an account that does not exist.");
	}
	if (rc != 0) {
		return store_failed(c, rc);
	}
	if (set_orgs) {
		/* the names of new memberships come from the store */
		return respond_user_info(c, conn, t->id);
	}
	c->resp = (ProtobufCMessage *)ud_user_info_new(t, t->id == c->actor.id);
	return c->resp != NULL ? UP_OK : UP_INTERNAL;
}

static int
patch_user_hashed(ud_call *c)
{
	if (c->hash_rc != 0) {
		return ud_call_fail(c, UP_INTERNAL, NULL, NULL);
	}
	return ud_call_write(c, patch_user_write) == 0 ? UD_ASYNC
						       : UP_UNAVAILABLE;
}

static int
patch_user(ud_call *c)
{
	const Users__V1__PatchUser *r = (const Users__V1__PatchUser *)c->req;
	int rc = 0;

	if (ud_parse_user_id(r->user_id) == 0) {
		return ud_err_invalid(c, "UserId", "InvalidId",
				      "is not a valid user id.");
	}
	if (r->roles != NULL) {
		if (!ud_authz_unlimited(&c->actor)) {
			return forbid(c, "Roles can only be set by a "
					 "SystemAdministrator.");
		}
		rc =
		    check_roles(c, "Roles", r->roles->items, r->roles->n_items);
	}
	for (size_t i = 0;
	     r->account_ids != NULL && i < r->account_ids->n_items; i++) {
		char g[33];
		if (check_guid(c, "AccountIds", r->account_ids->items[i], g)) {
			rc = UP_INVALID_ARGUMENT;
			break;
		}
	}
	if (r->new_password != NULL &&
	    check_password(c, "NewPassword", r->new_password) != 0) {
		rc = UP_INVALID_ARGUMENT;
	}
	if (rc != 0) {
		return rc;
	}
	if (r->new_password != NULL) {
		if ((c->password = ud_dup(r->new_password)) == NULL) {
			return UP_INTERNAL;
		}
		rc = ud_call_hash(c, patch_user_hashed);
	} else {
		rc = ud_call_write(c, patch_user_write);
	}
	return rc == 0 ? UD_ASYNC : rc;
}

/* ------------------------------------------------------------------------
 * GetUser, ListUsers
 */

static bool
is_scoped_admin(const ud_user *u)
{
	return ud_has_role(u, "Manager") || ud_has_role(u, "TenantAdmin");
}

static int
get_user(ud_call *c)
{
	const Users__V1__GetUser *r = (const Users__V1__GetUser *)c->req;
	int64_t id = ud_parse_user_id(r->user_id);
	ud_user t = {0};
	ud_strv scope = {0};
	bool ok;
	int rc;

	if (id == 0) {
		return ud_err_invalid(c, "UserId", "InvalidId",
				      "is not a valid user id.");
	}
	if (id == c->actor.id || ud_authz_unlimited(&c->actor)) {
		return respond_user_info(c, c->reader, id);
	}
	if ((rc = ud_store_user_get(c->reader, id, &t)) != 0) {
		return store_failed(c, rc);
	}
	rc = is_scoped_admin(&c->actor)
		 ? ud_authz_scope(c->reader, &c->actor, &scope)
		 : 0;
	ok = rc == 0 && is_scoped_admin(&c->actor) &&
	     ud_authz_in_scope(&scope, &t);
	ud_strv_fini(&scope);
	if (ok) {
		c->resp = (ProtobufCMessage *)ud_user_info_new(&t, false);
	}
	ud_user_fini(&t);
	if (rc != 0) {
		return store_failed(c, rc);
	}
	if (!ok) {
		return forbid(c, "The user is outside your organizations.");
	}
	return c->resp != NULL ? UP_OK : UP_INTERNAL;
}

static int
list_users(ud_call *c)
{
	const Users__V1__ListUsers *r = (const Users__V1__ListUsers *)c->req;
	Users__V1__ListUsersResponse *resp;
	ud_user_filter f = {0};
	ud_strv scope = {0};
	ud_user *users = NULL;
	size_t n = 0;
	int64_t total = 0;
	char org[33];
	int rc;

	if (r->has_skip && r->skip < 0) {
		return ud_err_invalid(c, "Skip", "GreaterThanOrEqual",
				      "must be 0 or more.");
	}
	if (r->has_take && (r->take < 0 || r->take > TAKE_MAX)) {
		return ud_err_invalid(c, "Take", "InclusiveBetween",
				      "must be between 0 and 1000.");
	}
	if (r->account_id != NULL && r->account_id[0] != '\0') {
		if (check_guid(c, "AccountId", r->account_id, org) != 0) {
			return UP_INVALID_ARGUMENT;
		}
		f.org_id = org;
	}
	f.email_contains = r->email;
	f.name_contains = r->name;
	f.role = r->role;
	f.skip = r->has_skip ? r->skip : 0;
	f.take = (r->has_take && r->take > 0) ? r->take : TAKE_DEFAULT;
	if (!ud_authz_unlimited(&c->actor)) {
		if ((rc = ud_authz_scope(c->reader, &c->actor, &scope)) != 0) {
			return store_failed(c, rc);
		}
		f.scope_org_ids = &scope;
	}
	rc = ud_store_user_list(c->reader, &f, &users, &n, &total);
	ud_strv_fini(&scope);
	if (rc != 0) {
		return store_failed(c, rc);
	}
	resp = malloc(sizeof(*resp));
	if (resp == NULL) {
		ud_users_free(users, n);
		return UP_INTERNAL;
	}
	users__v1__list_users_response__init(resp);
	c->resp = (ProtobufCMessage *)resp;
	resp->has_total = true;
	resp->total = (int32_t)total;
	resp->has_skip = true;
	resp->skip = f.skip;
	resp->results = calloc(n ? n : 1, sizeof(*resp->results));
	for (size_t i = 0; resp->results != NULL && i < n; i++) {
		resp->results[i] =
		    ud_user_info_new(&users[i], users[i].id == c->actor.id);
		if (resp->results[i] == NULL) {
			break;
		}
		resp->n_results++;
	}
	ud_users_free(users, n);
	return resp->n_results == n ? UP_OK : UP_INTERNAL;
}

/* ------------------------------------------------------------------------
 * DeleteUser
 */

static int
delete_user_write(ud_store_conn *conn, void *arg)
{
	ud_call *c = arg;
	const Users__V1__DeleteUser *r = (const Users__V1__DeleteUser *)c->req;
	Users__V1__DeleteUserResponse *resp;
	const char *why = NULL;
	int64_t id = ud_parse_user_id(r->user_id);
	int rc;

	ud_user_fini(&c->target);
	if ((rc = ud_store_user_get(conn, id, &c->target)) != 0) {
		return store_failed(c, rc);
	}
	if (id == c->actor.id) {
		return ud_call_fail(c, UP_FAILED_PRECONDITION,
				    "FailedPrecondition",
				    "You cannot delete yourself.");
	}
	if ((rc = ud_authz_can_manage(conn, &c->actor, &c->target, &why)) !=
	    0) {
		return rc == UP_PERMISSION_DENIED ? forbid(c, why)
						  : store_failed(c, rc);
	}
	if ((rc = ud_store_user_delete(conn, id)) != 0) {
		return store_failed(c, rc);
	}
	if ((resp = malloc(sizeof(*resp))) == NULL) {
		return UP_INTERNAL;
	}
	users__v1__delete_user_response__init(resp);
	c->resp = (ProtobufCMessage *)resp;
	resp->id = ud_id_string(id);
	return resp->id != NULL ? UP_OK : UP_INTERNAL;
}

static int
delete_user(ud_call *c)
{
	const Users__V1__DeleteUser *r = (const Users__V1__DeleteUser *)c->req;
	int rc;

	if (ud_parse_user_id(r->user_id) == 0) {
		return ud_err_invalid(c, "UserId", "InvalidId",
				      "is not a valid user id.");
	}
	rc = ud_call_write(c, delete_user_write);
	return rc == 0 ? UD_ASYNC : rc;
}

/* ------------------------------------------------------------------------
 * UpdateBusinessUser (Viviot: PUT, every required field replaces)
 */

static int
update_business_user_write(ud_store_conn *conn, void *arg)
{
	ud_call *c = arg;
	const Users__V1__UpdateBusinessUser *r =
	    (const Users__V1__UpdateBusinessUser *)c->req;
	Users__V1__BusinessUserProfileDataResponse *resp;
	ud_user *t = &c->target;
	ud_strv roles = {0};
	const char *why = NULL;
	bool bump = false;
	int rc;

	ud_user_fini(t);
	if ((rc = ud_store_user_get(conn, r->user_id, t)) != 0) {
		return store_failed(c, rc);
	}
	if ((rc = ud_authz_can_manage(conn, &c->actor, t, &why)) != 0) {
		return rc == UP_PERMISSION_DENIED ? forbid(c, why)
						  : store_failed(c, rc);
	}
	if (roles_from(&roles, r->roles, r->n_roles) != 0) {
		ud_strv_fini(&roles);
		return UP_INTERNAL;
	}
	if (ud_authz_can_grant(&c->actor, &t->roles, &roles, &why) != 0) {
		ud_strv_fini(&roles);
		return forbid(c, why);
	}
	bump = roles.n != t->roles.n;
	for (size_t i = 0; !bump && i < roles.n; i++) {
		bump = !ud_strv_has(&t->roles, roles.v[i]);
	}
	ud_strv_fini(&t->roles);
	t->roles = roles;
	free(t->first_name);
	free(t->last_name);
	free(t->email);
	free(t->phone_number);
	free(t->viviot_id);
	t->first_name = ud_dup(r->first_name);
	t->last_name = ud_dup(r->last_name);
	t->email = ud_dup(r->email);
	t->phone_number = ud_dup(r->phone_number);
	t->viviot_id = ud_dup(r->viviot_id);
	rc = ud_store_user_update(conn, t, UD_SET_ROLES, bump);
	if (rc == UP_ALREADY_EXISTS) {
		return ud_call_fail(c, rc, "Conflict",
				    "A user with this email address already "
				    "exists.");
	}
	if (rc != 0) {
		return store_failed(c, rc);
	}
	ud_user_fini(t);
	if ((rc = ud_store_user_get(conn, r->user_id, t)) != 0) {
		return store_failed(c, rc);
	}
	if ((resp = malloc(sizeof(*resp))) == NULL) {
		return UP_INTERNAL;
	}
	users__v1__business_user_profile_data_response__init(resp);
	c->resp = (ProtobufCMessage *)resp;
	resp->data = ud_business_view_new(conn, t);
	return resp->data != NULL ? UP_OK : UP_INTERNAL;
}

static int
update_business_user(ud_call *c)
{
	const Users__V1__UpdateBusinessUser *r =
	    (const Users__V1__UpdateBusinessUser *)c->req;
	int rc = 0;

	if (!r->has_user_id || r->user_id <= 0) {
		rc = ud_err_not_empty(c, "UserId");
	}
	if (r->first_name == NULL || r->first_name[0] == '\0') {
		rc = ud_err_not_empty(c, "FirstName");
	}
	if (r->last_name == NULL || r->last_name[0] == '\0') {
		rc = ud_err_not_empty(c, "LastName");
	}
	if (r->email == NULL || r->email[0] == '\0') {
		rc = ud_err_not_empty(c, "Email");
	} else if (!ud_email_valid(r->email)) {
		rc = ud_err_invalid(c, "Email", "Email",
				    "is not a valid email address.");
	}
	if (r->n_roles == 0) {
		rc = ud_err_not_empty(c, "Roles");
	} else if (check_roles(c, "Roles", r->roles, r->n_roles) != 0) {
		rc = UP_INVALID_ARGUMENT;
	}
	if (rc != 0) {
		return rc;
	}
	rc = ud_call_write(c, update_business_user_write);
	return rc == 0 ? UD_ASYNC : rc;
}

const ud_handler ud_user_handlers[] = {
    {"NewUser", new_user},
    {"PatchUser", patch_user},
    {"GetUser", get_user},
    {"ListUsers", list_users},
    {"DeleteUser", delete_user},
    {"UpdateBusinessUser", update_business_user},
    {NULL, NULL},
};
