/*
 * authz.h - who may do what (DESIGN.md, "Who may do what").
 *
 * The role gate (any of the method's roles; Admin passes every check) runs
 * in dispatch before any handler. Handlers then ask, per target:
 *  - unlimited actors: Admin, SystemAdministrator;
 *  - scoped actors (Manager, TenantAdmin, others) act on users who share an
 *    organization with them; a TenantAdmin's scope includes all
 *    sub-organizations of theirs;
 *  - roles rank Admin > SystemAdministrator > TenantAdmin = Manager >
 *    the rest: nobody acts on a user who outranks them, nor grants or
 *    takes away a role above their own rank.
 */
#ifndef UD_AUTHZ_H
#define UD_AUTHZ_H

#include <stdbool.h>

#include "store.h"
#include "users_proto.h"

bool ud_has_role(const ud_user *u, const char *role);
bool ud_authz_method_allowed(const ud_user *actor, const up_method *m);
/* Admin or SystemAdministrator: no organization scope applies. */
bool ud_authz_unlimited(const ud_user *actor);
/* The organizations the actor manages (filled into scope). */
int ud_authz_scope(ud_store_conn *conn, const ud_user *actor, ud_strv *scope);
/* Whether the target belongs to one of the scope's organizations. */
bool ud_authz_in_scope(const ud_strv *scope, const ud_user *target);
/*
 * Whether actor may change or delete target: 0, or UP_PERMISSION_DENIED
 * with *why set to a static reason.
 */
int ud_authz_can_manage(ud_store_conn *conn, const ud_user *actor,
			const ud_user *target, const char **why);
/*
 * Whether actor may change target's roles from old_roles to new_roles:
 * 0 or UP_PERMISSION_DENIED with *why.
 */
int ud_authz_can_grant(const ud_user *actor, const ud_strv *old_roles,
		       const ud_strv *new_roles, const char **why);
/* Role names: 1..64 of [A-Za-z0-9_.-]. */
bool ud_role_name_valid(const char *s);

#endif
