/*
 * authz.h - who may do what: the policy of users.proto, applied.
 *
 * The policy is data (users.proto's (roles) and (allow) options, read by
 * the proto library; docs/policy.md explains it). This module only
 * evaluates it: nothing here, and nothing in the handlers, knows which
 * role may do what.
 *
 *   ud_authz_method_allowed  the operation's role gate (dispatch.c, before
 *                            any handler): the caller holds one of the
 *                            (roles); the superuser passes every check.
 *   ud_authz_check           one aspect of a call on its subject (the target
 *                            user, the organization named, the change):
 *                            allowed when one of the operation's rules for
 *                            the aspect holds.
 *   ud_authz_list_scope      what a list operation may show.
 *
 * An evaluator (ud_authz) is per call: it reads the caller's scope from
 * the store when a rule first needs it and keeps it for the call's other
 * checks. Reads go to the connection given at init (a reader, or the
 * writer inside a write function, so that a decision and its write see the
 * same records).
 */
#ifndef UD_AUTHZ_H
#define UD_AUTHZ_H

#include <stdbool.h>

#include "store.h"
#include "users_proto.h"

/* The thing a call acts on. Any member may be NULL when it does not apply. */
typedef struct ud_authz_subject {
	const ud_user *target; /* the user acted on */
	const char *org;       /* the organization the request names */
	/* The change: roles, organizations added or removed. */
	const ud_strv *roles_changed;
	const ud_strv *orgs_changed;
} ud_authz_subject;

typedef struct ud_authz {
	ud_store_conn *conn;
	const ud_user *actor;
	bool subtree_read; /* subtree holds the caller's orgs and below */
	ud_strv subtree;
} ud_authz;

/* Borrows conn and actor for the evaluator's life. */
void ud_authz_init(ud_authz *a, ud_store_conn *conn, const ud_user *actor);
void ud_authz_fini(ud_authz *a);

/* The caller holds role (or the superuser role, which passes every check). */
bool ud_authz_has_role(const ud_user *actor, const char *role);
/* The role gate of an operation. */
bool ud_authz_method_allowed(const ud_user *actor, const up_method *m);

/*
 * Whether the aspect of m is allowed on s: 0, UP_PERMISSION_DENIED, or the
 * store's error (UP_UNAVAILABLE, ...) when the caller's scope could not be
 * read.
 */
int ud_authz_check(ud_authz *a, const up_method *m, Users__V1__Aspect aspect,
		   const ud_authz_subject *s);

/*
 * What a list operation (ListUsers, ListOrganizations) shows: every row
 * (*all), or the rows in *scope (users all of whose organizations are in
 * it; organizations in it), which the caller finis. The list's CALL rules
 * without conditions give every row; those whose only condition is
 * TARGET_IN_SCOPE or ORG_IN_SCOPE give their scope; other rules name a
 * single target and add nothing to a list. 0 or the store's error.
 */
int ud_authz_list_scope(ud_authz *a, const up_method *m, bool *all,
			ud_strv *scope);

/*
 * ud_authz_check for a call: 0 when allowed; else c fails (403 with the
 * sentence of the refused aspect, or 503 when the store failed) and that
 * status is returned.
 */
typedef struct ud_call ud_call;
int ud_call_allow(ud_call *c, ud_authz *a, Users__V1__Aspect aspect,
		  const ud_authz_subject *s);

/* Role names: 1..64 of [A-Za-z0-9_.-], and none that is an
 * administrative role in another letter case ("admin"). */
bool ud_role_name_valid(const char *s);

#endif
