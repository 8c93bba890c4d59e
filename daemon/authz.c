/*
 * authz.c - evaluates the policy's rules (authz.h) on one call's facts.
 */
#include <string.h>
#include <strings.h>

#include "authz.h"
#include "service.h"

void
ud_authz_init(ud_authz *a, ud_store_conn *conn, const ud_user *actor)
{
	memset(a, 0, sizeof(*a));
	a->conn = conn;
	a->actor = actor;
}

void
ud_authz_fini(ud_authz *a)
{
	ud_strv_fini(&a->subtree);
	a->subtree_read = false;
}

bool
ud_authz_has_role(const ud_user *actor, const char *role)
{
	return ud_strv_has(&actor->roles, role) ||
	       ud_strv_has(&actor->roles, up_superuser_role());
}

bool
ud_authz_method_allowed(const ud_user *actor, const up_method *m)
{
	if (m->n_roles == 0) {
		return true;
	}
	for (size_t i = 0; i < m->n_roles; i++) {
		if (ud_authz_has_role(actor, m->roles[i])) {
			return true;
		}
	}
	return false;
}

static bool
actor_matches(const ud_user *actor, const up_rule *r)
{
	for (size_t i = 0; i < r->n_actors; i++) {
		if (strcmp(r->actors[i], "*") == 0 ||
		    ud_authz_has_role(actor, r->actors[i])) {
			return true;
		}
	}
	return false;
}

/* Whether the rule's scope reaches below the caller's organizations. */
static bool
reaches_below(const ud_user *actor, const up_rule *r)
{
	for (size_t i = 0; i < r->n_actors; i++) {
		if (up_role_reaches_below(r->actors[i]) &&
		    ud_authz_has_role(actor, r->actors[i])) {
			return true;
		}
	}
	return false;
}

/* The caller's organizations and all below them, read once per call. */
static int
subtree(ud_authz *a, const ud_strv **out)
{
	int rc;

	if (!a->subtree_read) {
		if (a->actor->org_ids.n > 0 &&
		    (rc = ud_store_org_subtree(a->conn, &a->actor->org_ids,
					       &a->subtree)) != 0) {
			ud_strv_fini(&a->subtree);
			return rc;
		}
		a->subtree_read = true;
	}
	*out = &a->subtree;
	return 0;
}

/* Whether org is in the scope of rule r: 0 with *in, or a store error. */
static int
org_in_scope(ud_authz *a, const up_rule *r, const char *org, bool *in)
{
	const ud_strv *below;
	int rc;

	*in = org != NULL && ud_strv_has(&a->actor->org_ids, org);
	if (*in || org == NULL || !reaches_below(a->actor, r)) {
		return 0;
	}
	if ((rc = subtree(a, &below)) != 0) {
		return rc;
	}
	*in = ud_strv_has(below, org);
	return 0;
}

/* Every organization of v in r's scope (none: true). */
static int
all_in_scope(ud_authz *a, const up_rule *r, const ud_strv *v, bool *in)
{
	int rc = 0;

	*in = true;
	for (size_t i = 0; *in && rc == 0 && v != NULL && i < v->n; i++) {
		rc = org_in_scope(a, r, v->v[i], in);
	}
	return rc;
}

static bool
holds_administrative(const ud_strv *roles)
{
	for (size_t i = 0; roles != NULL && i < roles->n; i++) {
		if (up_role_is_administrative(roles->v[i])) {
			return true;
		}
	}
	return false;
}

/* Whether condition c holds: 0 with *ok, or a store error. */
static int
condition(ud_authz *a, const up_rule *r, Users__V1__Condition c,
	  const ud_authz_subject *s, bool *ok)
{
	const ud_user *t = s->target;

	switch (c) {
	case USERS__V1__CONDITION__SELF:
		*ok = t != NULL && t->id == a->actor->id;
		return 0;
	case USERS__V1__CONDITION__OTHER:
		*ok = t != NULL && t->id != a->actor->id;
		return 0;
	case USERS__V1__CONDITION__TARGET_NOT_SUPERUSER:
		*ok = t != NULL && !ud_strv_has(&t->roles, up_superuser_role());
		return 0;
	case USERS__V1__CONDITION__TARGET_NOT_ADMINISTRATIVE:
		*ok = t != NULL && !holds_administrative(&t->roles);
		return 0;
	case USERS__V1__CONDITION__TARGET_IN_SCOPE:
		*ok = t != NULL && t->org_ids.n > 0;
		return *ok ? all_in_scope(a, r, &t->org_ids, ok) : 0;
	case USERS__V1__CONDITION__ORG_IN_SCOPE:
		return org_in_scope(a, r, s->org, ok);
	case USERS__V1__CONDITION__ROLES_NOT_ADMINISTRATIVE:
		*ok = !holds_administrative(s->roles_changed);
		return 0;
	case USERS__V1__CONDITION__ROLES_KEEP_SUPERUSER:
		*ok = s->roles_changed == NULL ||
		      !ud_strv_has(s->roles_changed, up_superuser_role());
		return 0;
	case USERS__V1__CONDITION__ORGS_IN_SCOPE:
		return all_in_scope(a, r, s->orgs_changed, ok);
	case USERS__V1__CONDITION__COND_NONE:
	default:
		*ok = false; /* a condition we cannot tell never holds */
		return 0;
	}
}

/* Whether rule r allows s: 0 with *ok, or a store error. */
static int
rule_holds(ud_authz *a, const up_rule *r, const ud_authz_subject *s, bool *ok)
{
	int rc = 0;

	*ok = actor_matches(a->actor, r);
	for (unsigned c = 0; *ok && rc == 0 && c < 32; c++) {
		if (r->when & (1u << c)) {
			rc = condition(a, r, (Users__V1__Condition)c, s, ok);
		}
	}
	return rc;
}

int
ud_authz_check(ud_authz *a, const up_method *m, Users__V1__Aspect aspect,
	       const ud_authz_subject *s)
{
	for (size_t i = 0; i < m->n_rules; i++) {
		const up_rule *r = &m->rules[i];
		bool ok = false;
		int rc;

		if (r->aspect != aspect) {
			continue;
		}
		if ((rc = rule_holds(a, r, s, &ok)) != 0) {
			return rc;
		}
		if (ok) {
			return 0;
		}
	}
	return UP_PERMISSION_DENIED;
}

static int
scope_add(ud_strv *scope, const ud_strv *orgs)
{
	for (size_t i = 0; i < orgs->n; i++) {
		if (!ud_strv_has(scope, orgs->v[i]) &&
		    ud_strv_push(scope, orgs->v[i]) != 0) {
			return UP_INTERNAL;
		}
	}
	return 0;
}

int
ud_authz_list_scope(ud_authz *a, const up_method *m, bool *all, ud_strv *scope)
{
	int rc;

	*all = false;
	for (size_t i = 0; i < m->n_rules && !*all; i++) {
		const up_rule *r = &m->rules[i];
		const ud_strv *below;

		if (r->aspect != USERS__V1__ASPECT__CALL ||
		    !actor_matches(a->actor, r)) {
			continue;
		}
		if (r->when == 0) {
			*all = true;
		} else if (r->when == UP_COND(TARGET_IN_SCOPE) ||
			   r->when == UP_COND(ORG_IN_SCOPE)) {
			rc = reaches_below(a->actor, r)
				 ? subtree(a, &below)
				 : (below = &a->actor->org_ids, 0);
			if (rc != 0 || (rc = scope_add(scope, below)) != 0) {
				return rc;
			}
		}
	}
	return 0;
}

static const char *
refusal(Users__V1__Aspect aspect)
{
	switch (aspect) {
	case USERS__V1__ASPECT__PROFILE:
		return "You may not change this user's names.";
	case USERS__V1__ASPECT__EMAIL:
		return "You may not change this user's email address.";
	case USERS__V1__ASPECT__PASSWORD:
		return "You may not change this user's password.";
	case USERS__V1__ASPECT__ROLES:
		return "You may not change these roles of this user.";
	case USERS__V1__ASPECT__MEMBERSHIPS:
		return "You may not change these organizations of this user.";
	case USERS__V1__ASPECT__CALL:
	default:
		return "You may not do this to this user or organization.";
	}
}

int
ud_call_allow(ud_call *c, ud_authz *a, Users__V1__Aspect aspect,
	      const ud_authz_subject *s)
{
	int rc = ud_authz_check(a, c->method, aspect, s);

	if (rc == UP_PERMISSION_DENIED) {
		return ud_call_fail(c, rc, "Forbidden", refusal(aspect));
	}
	return rc == 0 ? 0 : ud_call_fail(c, UP_UNAVAILABLE, NULL, NULL);
}

bool
ud_role_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64) {
		return false;
	}
	/*
	 * An administrative role in another letter case ("admin") gives no
	 * power here, but a service reading tokens that compares roles
	 * without case would honour it: such a name is no role.
	 */
	for (size_t i = 0; i < up_administrative_role_count(); i++) {
		const char *r = up_administrative_role_at(i);
		if (strcasecmp(s, r) == 0 && strcmp(s, r) != 0) {
			return false;
		}
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
