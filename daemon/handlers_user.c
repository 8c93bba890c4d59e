/*
 * handlers_user.c - NewUser, PatchUser, GetUser, ListUsers, DeleteUser,
 * UpdateBusinessUser, ImportUsers and ExportUsers.
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
#include "b64url.h"
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
		/* An imported user without a password is disabled until
		 * one is set: this is that moment. */
		if (t->password_hash == NULL && t->disabled) {
			t->disabled = false;
		}
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
	const Users__V1__PatchUser *r = (const Users__V1__PatchUser *)c->req;

	if (c->hash_rc != 0) {
		return ud_call_fail(c, UP_INTERNAL, NULL, NULL);
	}
	return ud_call_write_user(c, patch_user_write,
				  ud_parse_user_id(r->user_id)) == 0
		   ? UD_ASYNC
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
		rc = ud_call_write_user(c, patch_user_write,
					ud_parse_user_id(r->user_id));
	}
	return rc == 0 ? UD_ASYNC : rc;
}

/* ------------------------------------------------------------------------
 * List cursors: opaque to callers, "u" and the last id in decimal, in
 * base64url. A cursor only says where a page starts: the scope and the
 * filters are applied to every page again.
 */

#define CURSOR_MAX 64

static int
cursor_encode(int64_t id, char **out)
{
	char raw[24], enc[CURSOR_MAX];
	int n = snprintf(raw, sizeof(raw), "u%lld", (long long)id);

	*out = NULL;
	if (n <= 0 || ud_b64url_encode((const uint8_t *)raw, (size_t)n, enc,
				       sizeof(enc)) == (size_t)-1) {
		return UP_INTERNAL;
	}
	*out = ud_dup(enc);
	return *out != NULL ? 0 : UP_INTERNAL;
}

/* The id of a cursor into *id (0 for an empty one); -1 when malformed. */
static int
cursor_decode(const char *s, int64_t *id)
{
	uint8_t raw[CURSOR_MAX];
	char txt[CURSOR_MAX + 1];
	size_t n;

	*id = 0;
	if (s == NULL || s[0] == '\0') {
		return 0;
	}
	if (ud_b64url_decode(s, strlen(s), raw, sizeof(raw) - 1, &n) != 0 ||
	    n < 2 || raw[0] != 'u') {
		return -1;
	}
	memcpy(txt, raw + 1, n - 1);
	txt[n - 1] = '\0';
	*id = ud_parse_user_id(txt);
	return *id > 0 ? 0 : -1;
}

static int
bad_cursor(ud_call *c, const char *field)
{
	return ud_err_invalid(c, field, "InvalidCursor",
			      "is not a cursor this service gave.");
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
	if ((rc = ud_store_user_get_ahead(c->reader, id, &t)) != 0) {
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

/*
 * A list's total: filtered lists stop counting past COUNT_MAX matches
 * unless the caller asks for the exact count; the list of every user
 * reads the count SQLite keeps (kept), and PostgreSQL, which keeps none
 * (a counter row would serialise every insert of every daemon), counts
 * it as a filtered list.
 */
#define COUNT_MAX 1000

static const char *
total_kind(const ud_user_filter *f, int64_t total, bool kept)
{
	bool filtered = (f->email_contains != NULL && *f->email_contains) ||
			(f->name_contains != NULL && *f->name_contains) ||
			f->org_id != NULL || f->role != NULL ||
			f->scope_org_ids != NULL;

	if (!filtered && kept) {
		return "maintained";
	}
	return f->count_max > 0 && total > f->count_max ? "atLeast" : "exact";
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
	if (cursor_decode(r->after, &f.after_id) != 0) {
		return bad_cursor(c, "After");
	}
	f.email_contains = r->email;
	f.name_contains = r->name;
	f.role = r->role;
	f.skip = r->has_skip ? r->skip : 0;
	f.take = (r->has_take && r->take > 0) ? r->take : TAKE_DEFAULT;
	f.count_max = r->has_exact_total && r->exact_total ? 0 : COUNT_MAX;
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
	resp->total = (int32_t)(total < INT32_MAX ? total : INT32_MAX);
	resp->total_kind =
	    ud_dup(total_kind(&f, total, !ud_store_shared(c->svc->store)));
	resp->has_skip = true;
	resp->skip = f.skip;
	if (resp->total_kind == NULL ||
	    (n == (size_t)f.take &&
	     cursor_encode(users[n - 1].id, &resp->next) != 0)) {
		ud_users_free(users, n);
		return UP_INTERNAL;
	}
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

/* ------------------------------------------------------------------------
 * ImportUsers: every row checked on the worker (format, policy), then all
 * of them written in one write function: one transaction. A row whose
 * email exists is compared with the stored user: the same names, phone
 * number, roles and organizations make it unchanged (a re-run), anything
 * else refuses it (an import never changes an existing user). The hash is
 * not compared: the stored one may have become argon2id at a sign-in.
 */

#define IMPORT_FIELD_MAX 24

typedef struct import_row {
	int64_t row;
	const char *email; /* as the request gave it */
	bool checked;      /* passed the checks: the write decides */
	ud_user u;
	const char *field; /* a refusal: field, code, message (static) */
	const char *code;
	const char *message;
	bool unchanged;
} import_row;

typedef struct import_op {
	import_row *rows;
	size_t n;
} import_op;

static void
import_op_free(void *p)
{
	import_op *op = p;

	for (size_t i = 0; op != NULL && i < op->n; i++) {
		ud_user_fini(&op->rows[i].u);
	}
	if (op != NULL) {
		free(op->rows);
		free(op);
	}
}

static void
refuse_row(import_row *r, const char *field, const char *code,
	   const char *message)
{
	if (r->field == NULL) {
		r->field = field;
		r->code = code;
		r->message = message;
	}
}

static bool
strv_same(const ud_strv *a, const ud_strv *b)
{
	if (a->n != b->n) {
		return false;
	}
	for (size_t i = 0; i < a->n; i++) {
		if (!ud_strv_has(b, a->v[i])) {
			return false;
		}
	}
	return true;
}

/* Whether the stored user s holds what row r would create. */
static bool
import_same(const ud_user *s, const ud_user *r)
{
	return !text_replaces(s->first_name, r->first_name) &&
	       !text_replaces(s->last_name, r->last_name) &&
	       !text_replaces(s->phone_number, r->phone_number) &&
	       strv_same(&s->roles, &r->roles) &&
	       strv_same(&s->org_ids, &r->org_ids);
}

/* Checks row i of the request into r (refusals are kept in r). */
static int
import_check(ud_call *c, ud_authz *az, const Users__V1__UserRecord *m,
	     import_row *r)
{
	ud_authz_subject s = {0};
	ud_user *u = &r->u;
	const char *why = NULL;
	int rc;

	u->manager_access = -1;
	if (!ud_email_valid(m->email_address)) {
		refuse_row(r, "EmailAddress", "Email",
			   "is not a valid email address.");
	}
	for (size_t i = 0; i < m->n_roles; i++) {
		if (!ud_role_name_valid(m->roles[i])) {
			refuse_row(r, "Roles", "InvalidRole",
				   "holds a role name that is not valid.");
		}
	}
	if (m->password_hash != NULL && m->password_hash[0] != '\0' &&
	    ud_password_hash_parse(m->password_hash, NULL, &why) != 0) {
		refuse_row(r, "PasswordHash", "InvalidHash", why);
	}
	if ((rc = roles_from(&u->roles, m->roles, m->n_roles)) != 0) {
		return rc;
	}
	rc = orgs_from(&u->org_ids, m->account_ids, m->n_account_ids);
	if (rc == UP_INVALID_ARGUMENT) {
		refuse_row(r, "AccountIds", "InvalidId",
			   "holds a value that is not a valid organization "
			   "id.");
	} else if (rc != 0) {
		return rc;
	}
	if (r->field != NULL) {
		return 0;
	}
	s.roles_changed = &u->roles;
	s.orgs_changed = &u->org_ids;
	rc = u->roles.n > 0
		 ? ud_authz_check(az, c->method, USERS__V1__ASPECT__ROLES, &s)
		 : 0;
	if (rc == 0 && u->org_ids.n > 0) {
		rc = ud_authz_check(az, c->method,
				    USERS__V1__ASPECT__MEMBERSHIPS, &s);
	}
	if (rc == UP_PERMISSION_DENIED) {
		refuse_row(r, u->roles.n > 0 ? "Roles" : "AccountIds",
			   "Forbidden", "may not be given by the caller.");
		return 0;
	}
	if (rc != 0) {
		return rc;
	}
	u->email = ud_dup(m->email_address);
	u->first_name = ud_dup(m->first_name ? m->first_name : "");
	u->last_name = ud_dup(m->last_name ? m->last_name : "");
	u->phone_number = ud_dup(m->phone_number);
	if (m->password_hash != NULL && m->password_hash[0] != '\0') {
		u->password_hash = ud_dup(m->password_hash);
	} else {
		u->disabled = true; /* until a password is set */
	}
	if (u->org_ids.n > 0) {
		u->primary_org_id = ud_dup(u->org_ids.v[0]);
	}
	if (u->email == NULL || u->first_name == NULL || u->last_name == NULL ||
	    (m->phone_number != NULL && u->phone_number == NULL) ||
	    (u->org_ids.n > 0 && u->primary_org_id == NULL)) {
		return UP_INTERNAL;
	}
	r->checked = true;
	return 0;
}

static int
import_respond(ud_call *c, const import_op *op, int32_t created)
{
	Users__V1__ImportUsersResponse *resp = malloc(sizeof(*resp));
	size_t refused = 0;

	if (resp == NULL) {
		return UP_INTERNAL;
	}
	users__v1__import_users_response__init(resp);
	c->resp = (ProtobufCMessage *)resp;
	for (size_t i = 0; i < op->n; i++) {
		refused += op->rows[i].field != NULL;
	}
	resp->has_created = resp->has_unchanged = resp->has_refused = true;
	resp->created = created;
	resp->refused = (int32_t)refused;
	resp->unchanged = (int32_t)(op->n - refused) - created;
	resp->refusals = calloc(refused ? refused : 1, sizeof(*resp->refusals));
	if (resp->refusals == NULL) {
		return UP_INTERNAL;
	}
	for (size_t i = 0; i < op->n; i++) {
		const import_row *r = &op->rows[i];
		Users__V1__ImportRefusal *f;
		char msg[256];

		if (r->field == NULL) {
			continue;
		}
		if ((f = malloc(sizeof(*f))) == NULL) {
			return UP_INTERNAL;
		}
		users__v1__import_refusal__init(f);
		resp->refusals[resp->n_refusals++] = f;
		snprintf(msg, sizeof(msg), "'%s' %s", r->field, r->message);
		f->has_row = true;
		f->row = r->row;
		f->email_address = ud_dup(r->email);
		f->field_name = ud_dup(r->field);
		f->error_code = ud_dup(r->code);
		f->message = ud_dup(msg);
		if (f->field_name == NULL || f->error_code == NULL ||
		    f->message == NULL) {
			return UP_INTERNAL;
		}
	}
	return 0;
}

static int
import_write(ud_store_conn *conn, void *arg)
{
	ud_call *c = arg;
	import_op *op = c->op;
	ud_store_import *rows = calloc(op->n ? op->n : 1, sizeof(*rows));
	import_row **of = calloc(op->n ? op->n : 1, sizeof(*of));
	int32_t created = 0;
	size_t n = 0;
	int rc;

	if (rows == NULL || of == NULL) {
		rc = UP_INTERNAL;
		goto out;
	}
	for (size_t i = 0; i < op->n; i++) {
		import_row *r = &op->rows[i];

		if (r->checked) {
			r->field =
			    NULL; /* the write's own verdict, each time */
			r->unchanged = false;
			rows[n].u = &r->u;
			of[n++] = r;
		}
	}
	if ((rc = ud_store_users_import(conn, rows, n)) != 0) {
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		import_row *r = of[k];

		if (rows[k].rc == 0) {
			created++;
		} else if (rows[k].rc == UP_INVALID_ARGUMENT) {
			refuse_row(r, "AccountIds", "NotFound",
				   "names an account that does not exist.");
		} else if (rows[k].stored.id == 0) {
			refuse_row(r, "EmailAddress", "Conflict",
				   "names a user that exists already.");
		} else if (import_same(&rows[k].stored, &r->u)) {
			r->unchanged = true;
		} else {
			refuse_row(r, "EmailAddress", "Conflict",
				   "names a user that exists with other data "
				   "(an import never changes a user).");
		}
	}
out:
	for (size_t k = 0; k < n; k++) {
		ud_user_fini(&rows[k].stored);
	}
	free(rows);
	free(of);
	return rc != 0 ? store_failed(c, rc) : import_respond(c, op, created);
}

static int
import_users(ud_call *c)
{
	const Users__V1__ImportUsers *r =
	    (const Users__V1__ImportUsers *)c->req;
	import_op *op = calloc(1, sizeof(*op));
	ud_authz_subject call = {0};
	ud_authz az;
	int rc = 0;

	if (op == NULL) {
		return UP_INTERNAL;
	}
	c->op = op;
	c->op_free = import_op_free;
	if (r->n_users > 0 &&
	    (op->rows = calloc(r->n_users, sizeof(*op->rows))) == NULL) {
		return UP_INTERNAL;
	}
	ud_authz_init(&az, c->reader, &c->actor);
	if ((rc = ud_call_allow(c, &az, USERS__V1__ASPECT__CALL, &call)) != 0) {
		ud_authz_fini(&az);
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < r->n_users; i++) {
		op->rows[i].row =
		    r->users[i]->has_row ? r->users[i]->row : (int64_t)i + 1;
		op->rows[i].email = r->users[i]->email_address;
		op->n++;
		rc = import_check(c, &az, r->users[i], &op->rows[i]);
	}
	ud_authz_fini(&az);
	if (rc != 0) {
		return store_failed(c, rc);
	}
	rc = ud_call_write(c, import_write);
	return rc == 0 ? UD_ASYNC : rc;
}

/* ------------------------------------------------------------------------
 * ExportUsers: pages in the order of ids, by cursor; no count.
 */

#define EXPORT_TAKE_DEFAULT 500

static Users__V1__UserRecord *
record_new(const ud_user *u, bool with_hash)
{
	Users__V1__UserRecord *m = calloc(1, sizeof(*m));
	bool ok;

	if (m == NULL) {
		return NULL;
	}
	users__v1__user_record__init(m);
	m->email_address = ud_dup(u->email);
	m->first_name = ud_dup(u->first_name ? u->first_name : "");
	m->last_name = ud_dup(u->last_name ? u->last_name : "");
	m->phone_number = ud_dup(u->phone_number);
	m->roles = calloc(u->roles.n + 1, sizeof(char *));
	m->account_ids = calloc(u->org_ids.n + 1, sizeof(char *));
	if (with_hash) {
		m->password_hash = ud_dup(u->password_hash);
	}
	ok = m->email_address != NULL && m->first_name != NULL &&
	     m->last_name != NULL && m->roles != NULL && m->account_ids != NULL;
	for (size_t i = 0; ok && i < u->roles.n; i++) {
		ok = (m->roles[m->n_roles++] = ud_dup(u->roles.v[i])) != NULL;
	}
	for (size_t i = 0; ok && i < u->org_ids.n; i++) {
		ok = (m->account_ids[m->n_account_ids++] =
			  ud_dup(u->org_ids.v[i])) != NULL;
	}
	if (!ok) {
		protobuf_c_message_free_unpacked((ProtobufCMessage *)m, NULL);
		return NULL;
	}
	return m;
}

static int
export_users(ud_call *c)
{
	const Users__V1__ExportUsers *r =
	    (const Users__V1__ExportUsers *)c->req;
	Users__V1__ExportUsersResponse *resp;
	ud_authz_subject s = {0};
	ud_user_filter f = {0};
	ud_user *users = NULL;
	ud_authz az;
	size_t n = 0;
	int64_t total = 0;
	bool hashes =
	    r->has_include_password_hashes && r->include_password_hashes;
	int rc;

	if (r->has_take && (r->take < 0 || r->take > TAKE_MAX)) {
		return ud_err_invalid(c, "Take", "InclusiveBetween",
				      "must be between 0 and 1000.");
	}
	if (cursor_decode(r->after, &f.after_id) != 0) {
		return bad_cursor(c, "After");
	}
	ud_authz_init(&az, c->reader, &c->actor);
	rc = ud_call_allow(c, &az, USERS__V1__ASPECT__CALL, &s);
	if (rc == 0 && hashes) {
		rc = ud_call_allow(c, &az, USERS__V1__ASPECT__PASSWORD, &s);
	}
	ud_authz_fini(&az);
	if (rc != 0) {
		return rc;
	}
	f.take = (r->has_take && r->take > 0) ? r->take : EXPORT_TAKE_DEFAULT;
	f.count_max = -1;
	if ((rc = ud_store_user_list(c->reader, &f, &users, &n, &total)) != 0) {
		return store_failed(c, rc);
	}
	if ((resp = malloc(sizeof(*resp))) == NULL) {
		ud_users_free(users, n);
		return UP_INTERNAL;
	}
	users__v1__export_users_response__init(resp);
	c->resp = (ProtobufCMessage *)resp;
	resp->results = calloc(n ? n : 1, sizeof(*resp->results));
	for (size_t i = 0; resp->results != NULL && i < n; i++) {
		if ((resp->results[i] = record_new(&users[i], hashes)) ==
		    NULL) {
			break;
		}
		resp->n_results++;
	}
	rc = resp->n_results == n ? UP_OK : UP_INTERNAL;
	if (rc == UP_OK && n == (size_t)f.take) {
		rc = cursor_encode(users[n - 1].id, &resp->next);
	}
	ud_users_free(users, n);
	return rc;
}

const ud_handler ud_user_handlers[] = {
    {"NewUser", new_user},
    {"PatchUser", patch_user},
    {"GetUser", get_user},
    {"ListUsers", list_users},
    {"DeleteUser", delete_user},
    {"UpdateBusinessUser", update_business_user},
    {"ImportUsers", import_users},
    {"ExportUsers", export_users},
    {NULL, NULL},
};
