/*
 * authz.c - role checks and organization scopes.
 */
#include <string.h>

#include "authz.h"

/*
 * How powerful a role is. Nobody acts on a user more powerful than they
 * are, nor grants or takes away a role above their own rank.
 */
static const struct {
	const char *role;
	int rank;
} ranks[] = {
    {"Admin", 4},
    {"SystemAdministrator", 3},
    {"TenantAdmin", 2},
    {"Manager", 2},
};

static int
role_rank(const char *role)
{
	for (size_t i = 0; i < sizeof(ranks) / sizeof(ranks[0]); i++) {
		if (strcmp(role, ranks[i].role) == 0) {
			return ranks[i].rank;
		}
	}
	return 0;
}

static int
user_rank(const ud_user *u)
{
	int r = 0;

	for (size_t i = 0; i < u->roles.n; i++) {
		int k = role_rank(u->roles.v[i]);
		r = k > r ? k : r;
	}
	return r;
}

bool
ud_has_role(const ud_user *u, const char *role)
{
	return ud_strv_has(&u->roles, role);
}

static bool
is_admin(const ud_user *u)
{
	return ud_has_role(u, "Admin");
}

bool
ud_authz_method_allowed(const ud_user *actor, const up_method *m)
{
	if (m->n_roles == 0 || is_admin(actor)) {
		return true;
	}
	for (size_t i = 0; i < m->n_roles; i++) {
		if (ud_has_role(actor, m->roles[i])) {
			return true;
		}
	}
	return false;
}

bool
ud_authz_unlimited(const ud_user *actor)
{
	return is_admin(actor) || ud_has_role(actor, "SystemAdministrator");
}

int
ud_authz_scope(ud_store_conn *conn, const ud_user *actor, ud_strv *scope)
{
	if (ud_has_role(actor, "TenantAdmin") && actor->org_ids.n > 0) {
		return ud_store_org_subtree(conn, &actor->org_ids, scope);
	}
	for (size_t i = 0; i < actor->org_ids.n; i++) {
		int rc = ud_strv_push(scope, actor->org_ids.v[i]);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

bool
ud_authz_in_scope(const ud_strv *scope, const ud_user *target)
{
	for (size_t i = 0; i < target->org_ids.n; i++) {
		if (ud_strv_has(scope, target->org_ids.v[i])) {
			return true;
		}
	}
	return false;
}

int
ud_authz_can_manage(ud_store_conn *conn, const ud_user *actor,
		    const ud_user *target, const char **why)
{
	ud_strv scope = {0};
	bool ok;
	int rc;

	if (is_admin(actor) || actor->id == target->id) {
		return 0;
	}
	if (user_rank(target) > user_rank(actor)) {
		*why = "The user holds a role above yours.";
		return UP_PERMISSION_DENIED;
	}
	if (ud_has_role(actor, "SystemAdministrator")) {
		return 0;
	}
	if ((rc = ud_authz_scope(conn, actor, &scope)) != 0) {
		return rc;
	}
	ok = ud_authz_in_scope(&scope, target);
	ud_strv_fini(&scope);
	if (!ok) {
		*why = "The user is outside your organizations.";
		return UP_PERMISSION_DENIED;
	}
	return 0;
}

int
ud_authz_can_grant(const ud_user *actor, const ud_strv *old_roles,
		   const ud_strv *new_roles, const char **why)
{
	int mine = user_rank(actor);

	for (int pass = 0; pass < 2; pass++) {
		const ud_strv *a = pass == 0 ? new_roles : old_roles;
		const ud_strv *b = pass == 0 ? old_roles : new_roles;
		for (size_t i = 0; i < a->n; i++) {
			const char *r = a->v[i];
			if (!ud_strv_has(b, r) && role_rank(r) > mine) {
				*why =
				    "You cannot grant or remove a role above "
				    "your own.";
				return UP_PERMISSION_DENIED;
			}
		}
	}
	return 0;
}

bool
ud_role_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-')) {
			return false;
		}
	}
	return true;
}
