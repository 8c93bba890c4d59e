/*
 * handlers_user.c - NewUser, PatchUser, GetUser, ListUsers, DeleteUser and
 * UpdateBusinessUser.
 *
 * Reads run on the worker. Writes re-read their target inside the write
 * function (on the writer, within the group commit) and make every
 * target-dependent decision there, so a decision and its write see the
 * same record. Every decision is the policy's (authz.h): a handler says
 * what the call touches (the aspects: names, email, password, roles,
 * organizations) and on whom, and asks for each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "convert.h"
#include "service.h"
#include "validate.h"

#define TAKE_DEFAULT 50
#define TAKE_MAX     1000

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

/* A password given (NewUser's is required: validate.c has seen it). */
static int
check_password(ud_call *c, const char *field, const char *pw)
{
	if (pw[0] == '\0') {
		return ud_err_not_empty(c, field);
	}
	if (strlen(pw) < UD_PASSWORD_MIN_LEN) {
		return ud_err_invalid(c, field, "MinimumLength",
				      "must be at least 8 characters.");
	}
	return 0;
}

/*
 * The members of a set that are not in the other, both ways (what a change
 * of roles or organizations adds or removes), into out.
 */
static int
set_changes(const ud_strv *before, const ud_strv *after, ud_strv *out)
{
	for (int pass = 0; pass < 2; pass++) {
		const ud_strv *a = pass == 0 ? before : after;
		const ud_strv *b = pass == 0 ? after : before;
		for (size_t i = 0; i < a->n; i++) {
			if (!ud_strv_has(b, a->v[i]) &&
			    ud_strv_push(out, a->v[i]) != 0) {
				return UP_INTERNAL;
			}
		}
	}
	return 0;
}

/* Whether a new value (NULL: not given) changes a stored one. */
static bool
text_changes(const char *stored, const char *given)
{
	return given != NULL && strcmp(stored ? stored : "", given) != 0;
}

/* The same for a field that a PUT replaces: absent clears it. */
static bool
text_replaces(const char *stored, const char *given)
{
	return strcmp(stored ? stored : "", given ? given : "") != 0;
}

/*
 * The superuser role is never taken from its last active holder, by a
 * change of roles or a delete (the policy's one invariant; the rules
 * alone cannot see a race of two such writes). t is the stored target.
 */
static int
keep_superuser(ud_call *c, ud_store_conn *conn, const ud_user *t)
{
	const char *su = up_superuser_role();
	char msg[160];
	int64_t n = 0;
	int rc;

	if (t->disabled || !ud_strv_has(&t->roles, su)) {
		return 0;
	}
	if ((rc = ud_store_role_holders(conn, su, &n)) != 0) {
		return store_failed(c, rc);
	}
	if (n > 1) {
		return 0;
	}
	snprintf(msg, sizeof(msg),
		 "The last active %s can neither lose the role nor be "
		 "deleted.",
		 su);
	return ud_call_fail(c, UP_FAILED_PRECONDITION, "FailedPrecondition",
			    msg);
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
	bool has_org = r->account_id != NULL && r->account_id[0] != '\0';
	ud_authz_subject s = {0};
	ud_user existing = {0};
	ud_authz az;
	char org[33];
	int rc = 0;

	if (!ud_email_valid(r->email_address)) {
		rc = ud_err_invalid(c, "EmailAddress", "Email",
				    "is not a valid email address.");
	}
	rc = check_password(c, "Password", r->password) ? UP_INVALID_ARGUMENT
							: rc;
	if (has_org) {
		rc = check_guid(c, "AccountId", r->account_id, org)
			 ? UP_INVALID_ARGUMENT
			 : rc;
	}
	if (rc != 0) {
		return rc;
	}
	s.org = has_org ? org : NULL;
	ud_authz_init(&az, c->reader, &c->actor);
	rc = ud_call_allow(c, &az, USERS__V1__ASPECT__CALL, &s);
	ud_authz_fini(&az);
	if (rc != 0) {
		return rc;
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
	    (has_org && ud_strv_push(&c->target.org_ids, org) != 0)) {
		return UP_INTERNAL;
	}
	if (has_org) {
		c->target.primary_org_id = ud_dup(org);
	}
	rc = ud_call_hash(c, new_user_hashed);
	return rc == 0 ? UD_ASYNC : rc;
}

/* ------------------------------------------------------------------------
 * PatchUser
 */

/* The organizations of a request, normalised (checked by patch_user). */
static int
orgs_from(ud_strv *out, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char g[33];
		if (ud_guid_parse(v[i], g) != 0) {
			return UP_INVALID_ARGUMENT;
		}
		if (!ud_strv_has(out, g) && ud_strv_push(out, g) != 0) {
			return UP_INTERNAL;
		}
	}
	return 0;
}

/* What a change of a user touches. */
typedef struct change {
	bool profile, email, password;
	ud_strv roles; /* added or removed */
	ud_strv orgs;
} change;

static void
change_fini(change *ch)
{
	ud_strv_fini(&ch->roles);
	ud_strv_fini(&ch->orgs);
}

/*
 * Asks the policy for each aspect a change of t touches, in one order:
 * the call, then names, email, password, roles, organizations; then the
 * invariant of the superuser role. 0 or the call's status.
 */
static int
allow_change(ud_call *c, ud_store_conn *conn, const ud_user *t,
	     const change *ch)
{
	ud_authz_subject s = {0};
	ud_authz az;
	int rc;

	s.target = t;
	s.roles_changed = &ch->roles;
	s.orgs_changed = &ch->orgs;
	ud_authz_init(&az, conn, &c->actor);
	rc = ud_call_allow(c, &az, USERS__V1__ASPECT__CALL, &s);
	if (rc == 0 && ch->profile) {
		rc = ud_call_allow(c, &az, USERS__V1__ASPECT__PROFILE, &s);
	}
	if (rc == 0 && ch->email) {
		rc = ud_call_allow(c, &az, USERS__V1__ASPECT__EMAIL, &s);
	}
	if (rc == 0 && ch->password) {
		rc = ud_call_allow(c, &az, USERS__V1__ASPECT__PASSWORD, &s);
	}
	if (rc == 0 && ch->roles.n > 0) {
		rc = ud_call_allow(c, &az, USERS__V1__ASPECT__ROLES, &s);
	}
	if (rc == 0 && ch->orgs.n > 0) {
		rc = ud_call_allow(c, &az, USERS__V1__ASPECT__MEMBERSHIPS, &s);
	}
	ud_authz_fini(&az);
	if (rc == 0 && ud_strv_has(&ch->roles, up_superuser_role())) {
		rc = keep_superuser(c, conn, t);
	}
	return rc;
}

static int
patch_user_write(ud_store_conn *conn, void *arg)
{
	ud_call *c = arg;
	const Users__V1__PatchUser *r = (const Users__V1__PatchUser *)c->req;
	ud_user *t = &c->target;
	ud_strv roles = {0}, orgs = {0};
	change ch = {0};
	int64_t id = ud_parse_user_id(r->user_id);
	unsigned sets = 0;
	int rc;

	ud_user_fini(t);
	if ((rc = ud_store_user_get(conn, id, t)) != 0) {
		return store_failed(c, rc);
	}
	if (r->roles != NULL &&
	    ((rc = roles_from(&roles, r->roles->items, r->roles->n_items)) !=
		 0 ||
	     (rc = set_changes(&t->roles, &roles, &ch.roles)) != 0)) {
		goto out;
	}
	if (r->account_ids != NULL &&
	    ((rc = orgs_from(&orgs, r->account_ids->items,
			     r->account_ids->n_items)) != 0 ||
	     (rc = set_changes(&t->org_ids, &orgs, &ch.orgs)) != 0)) {
		goto out;
	}
	ch.profile = text_changes(t->first_name, r->first_name) ||
		     text_changes(t->last_name, r->last_name);
	ch.password = c->hash != NULL;
	if ((rc = allow_change(c, conn, t, &ch)) != 0) {
		goto out;
	}
	if (ch.roles.n > 0) {
		ud_strv_fini(&t->roles);
		t->roles = roles;
		roles = (ud_strv){0};
		sets |= UD_SET_ROLES;
	}
	if (ch.orgs.n > 0) {
		ud_strv_fini(&t->org_ids);
		ud_strv_fini(&t->org_names);
		t->org_ids = orgs;
		orgs = (ud_strv){0};
		sets |= UD_SET_ORGS;
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
	}
	/* A new password or new roles end every token of the user. */
	rc = ud_store_user_update(conn, t, sets, ch.password || ch.roles.n > 0);
	if (rc == UP_INVALID_ARGUMENT) {
		rc = ud_err_invalid(c, "AccountIds", "NotFound",
				    "names an account that does not exist.");
	} else if (rc != 0) {
		rc = store_failed(c, rc);
	} else if (sets & UD_SET_ORGS) {
		/* the names of new memberships come from the store */
		rc = respond_user_info(c, conn, t->id);
	} else {
		c->resp = (ProtobufCMessage *)ud_user_info_new(
		    t, t->id == c->actor.id);
		rc = c->resp != NULL ? UP_OK : UP_INTERNAL;
	}
out:
	ud_strv_fini(&roles);
	ud_strv_fini(&orgs);
	change_fini(&ch);
	return rc;
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

static int
get_user(ud_call *c)
{
	const Users__V1__GetUser *r = (const Users__V1__GetUser *)c->req;
	int64_t id = ud_parse_user_id(r->user_id);
	ud_authz_subject s = {0};
	ud_user t = {0};
	ud_authz az;
	int rc;

	if (id == 0) {
		return ud_err_invalid(c, "UserId", "InvalidId",
				      "is not a valid user id.");
	}
	if ((rc = ud_store_user_get(c->reader, id, &t)) != 0) {
		return store_failed(c, rc);
	}
	s.target = &t;
	ud_authz_init(&az, c->reader, &c->actor);
	rc = ud_call_allow(c, &az, USERS__V1__ASPECT__CALL, &s);
	ud_authz_fini(&az);
	if (rc == 0) {
		c->resp = (ProtobufCMessage *)ud_user_info_new(
		    &t, t.id == c->actor.id);
		rc = c->resp != NULL ? UP_OK : UP_INTERNAL;
	}
	ud_user_fini(&t);
	return rc;
}

static int
list_users(ud_call *c)
{
	const Users__V1__ListUsers *r = (const Users__V1__ListUsers *)c->req;
	Users__V1__ListUsersResponse *resp;
	ud_user_filter f = {0};
	ud_strv scope = {0};
	ud_user *users = NULL;
	ud_authz az;
	size_t n = 0;
	int64_t total = 0;
	bool all = false;
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
	ud_authz_init(&az, c->reader, &c->actor);
	rc = ud_authz_list_scope(&az, c->method, &all, &scope);
	ud_authz_fini(&az);
	if (rc == 0) {
		f.scope_org_ids = all ? NULL : &scope;
		rc = ud_store_user_list(c->reader, &f, &users, &n, &total);
	}
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
	ud_authz_subject s = {0};
	ud_authz az;
	int64_t id = ud_parse_user_id(r->user_id);
	int rc;

	ud_user_fini(&c->target);
	if ((rc = ud_store_user_get(conn, id, &c->target)) != 0) {
		return store_failed(c, rc);
	}
	s.target = &c->target;
	ud_authz_init(&az, conn, &c->actor);
	rc = ud_call_allow(c, &az, USERS__V1__ASPECT__CALL, &s);
	ud_authz_fini(&az);
	if (rc != 0 || (rc = keep_superuser(c, conn, &c->target)) != 0) {
		return rc;
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
	change ch = {0};
	int rc;

	ud_user_fini(t);
	if ((rc = ud_store_user_get(conn, r->user_id, t)) != 0) {
		return store_failed(c, rc);
	}
	if ((rc = roles_from(&roles, r->roles, r->n_roles)) != 0 ||
	    (rc = set_changes(&t->roles, &roles, &ch.roles)) != 0) {
		goto out;
	}
	ch.profile = text_changes(t->first_name, r->first_name) ||
		     text_changes(t->last_name, r->last_name) ||
		     text_replaces(t->phone_number, r->phone_number) ||
		     text_replaces(t->viviot_id, r->viviot_id);
	ch.email = text_changes(t->email, r->email);
	if ((rc = allow_change(c, conn, t, &ch)) != 0) {
		goto out;
	}
	ud_strv_fini(&t->roles);
	t->roles = roles;
	roles = (ud_strv){0};
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
	rc = ud_store_user_update(conn, t, UD_SET_ROLES, ch.roles.n > 0);
	if (rc == UP_ALREADY_EXISTS) {
		rc = ud_call_fail(c, rc, "Conflict",
				  "A user with this email address already "
				  "exists.");
		goto out;
	}
	if (rc != 0) {
		rc = store_failed(c, rc);
		goto out;
	}
	ud_user_fini(t);
	if ((rc = ud_store_user_get(conn, r->user_id, t)) != 0) {
		rc = store_failed(c, rc);
		goto out;
	}
	if ((resp = malloc(sizeof(*resp))) == NULL) {
		rc = UP_INTERNAL;
		goto out;
	}
	users__v1__business_user_profile_data_response__init(resp);
	c->resp = (ProtobufCMessage *)resp;
	resp->data = ud_business_view_new(conn, t);
	rc = resp->data != NULL ? UP_OK : UP_INTERNAL;
out:
	ud_strv_fini(&roles);
	change_fini(&ch);
	return rc;
}

static int
update_business_user(ud_call *c)
{
	const Users__V1__UpdateBusinessUser *r =
	    (const Users__V1__UpdateBusinessUser *)c->req;
	int rc = 0;

	/* the (required) fields are there (validate.c) */
	if (r->user_id < 0) {
		rc = ud_err_invalid(c, "UserId", "InvalidId",
				    "is not a valid user id.");
	}
	if (!ud_email_valid(r->email)) {
		rc = ud_err_invalid(c, "Email", "Email",
				    "is not a valid email address.");
	}
	if (check_roles(c, "Roles", r->roles, r->n_roles) != 0) {
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
