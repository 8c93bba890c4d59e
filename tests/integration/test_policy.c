/*
 * test_policy.c - who may do what, proven by exhaustion.
 *
 * Every combination of caller (each single role, none, and the mixed sets
 * a real tenant has) x target roles x organization relation x operation x
 * changed field is run through a real usersd, and every answer, and every
 * stored effect, is compared with an oracle written here straight from
 * the policy's prose (docs/policy.md): a second, independent reading, which
 * neither calls the daemon's code nor reads users.proto's rules.
 *
 * The organizations: tenant R1 with A below it and A1 below A; tenant R2
 * with B below it. Callers belong to A (one Manager to no organization).
 * A target's relation to them: in A (same), in A1 (sub), in R1 (parent),
 * in B (another tenant), in A and B (both), in none.
 *
 * Targets are users made for the run: one per (roles, relation) shared by
 * every case the oracle expects refused (a refusal changes nothing; the
 * shared targets are read back at the end to prove it), and a fresh one
 * for every case it expects to change something. Cases on the caller
 * themselves each get a fresh caller.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "harness.h"
#include "usersclient.h"

#define PW        "password-123"
#define NEW_PW    "another-password-9"
#define IN_FLIGHT 48
#define DEADLINE  60000

/* ------------------------------------------------------------------------
 * The world, as bit sets
 */

enum { VIEWER = 1, MANAGER = 2, TADM = 4, SYS = 8, ADMIN = 16 };
#define ADMINISTRATIVE (MANAGER | TADM | SYS | ADMIN)
static const char *const role_names[] = {"Viewer", "Manager", "TenantAdmin",
					 "SystemAdministrator", "Admin"};
#define N_ROLE_NAMES 5

enum { O_R1 = 1, O_A = 2, O_A1 = 4, O_R2 = 8, O_B = 16 };
#define N_ORGS 5
static const char *const org_names[N_ORGS] = {"R1", "A", "A1", "R2", "B"};
static char org_ids[N_ORGS][33];

/* What a user is, as far as the policy can see and the test can check. */
typedef struct state {
	unsigned roles, orgs;
	bool renamed, email_changed, password_changed, deleted;
} state;

/* ------------------------------------------------------------------------
 * Callers, targets, operations
 */

typedef struct caller_kind {
	const char *name;
	unsigned roles;
	unsigned orgs;
	bool anonymous;
} caller_kind;

static const caller_kind callers[] = {
    {"anonymous", 0, 0, true},
    {"plain", 0, O_A, false},
    {"Viewer", VIEWER, O_A, false},
    {"Manager", MANAGER, O_A, false},
    {"TenantAdmin", TADM, O_A, false},
    {"SystemAdministrator", SYS, O_A, false},
    {"Admin", ADMIN, O_A, false},
    {"Manager+TenantAdmin", MANAGER | TADM, O_A, false},
    {"Admin+SystemAdministrator", ADMIN | SYS, O_A, false},
    {"SystemAdministrator+Manager", SYS | MANAGER, O_A, false},
    {"Manager+Viewer", MANAGER | VIEWER, O_A, false},
    {"Manager (no organization)", MANAGER, 0, false},
};
#define N_CALLERS (sizeof(callers) / sizeof(callers[0]))

static const unsigned target_roles[] = {
    0, VIEWER, MANAGER, TADM, SYS, ADMIN, ADMIN | SYS, MANAGER | TADM,
};
#define N_TROLES (sizeof(target_roles) / sizeof(target_roles[0]))

static const struct {
	const char *name;
	unsigned orgs;
} relations[] = {
    {"same", O_A},         {"sub", O_A1},       {"parent", O_R1},
    {"other tenant", O_B}, {"both", O_A | O_B}, {"no org", 0},
};
#define N_RELS (sizeof(relations) / sizeof(relations[0]))

typedef enum op {
	OP_GET,
	OP_LIST,
	OP_DELETE,
	OP_PATCH_NOTHING,
	OP_PATCH_NAME,
	OP_PATCH_PASSWORD,
	OP_PATCH_ROLES_SAME,
	OP_PATCH_ADD_VIEWER,
	OP_PATCH_ADD_MANAGER,
	OP_PATCH_ADD_TADM,
	OP_PATCH_ADD_SYS,
	OP_PATCH_ADD_ADMIN,
	OP_PATCH_ROLES_CLEAR,
	OP_PATCH_ORGS_SAME,
	OP_PATCH_ADD_A,
	OP_PATCH_ADD_A1,
	OP_PATCH_ADD_R1,
	OP_PATCH_ADD_B,
	OP_PATCH_ORGS_CLEAR,
	OP_PUT_NAME,
	OP_PUT_EMAIL,
	OP_PUT_ADD_VIEWER,
	OP_PUT_ADD_MANAGER,
	OP_PUT_ADD_ADMIN,
	OP_PUT_ONLY_VIEWER,
	OP_MEMBER_ADD_A,
	OP_MEMBER_ADD_A1,
	OP_MEMBER_ADD_B,
	OP_MEMBER_REMOVE_A,
	OP_MEMBER_REMOVE_B,
	N_OPS
} op;

static const char *const op_names[N_OPS] = {
    "GetUser",
    "ListUsers",
    "DeleteUser",
    "PatchUser {}",
    "PatchUser firstName",
    "PatchUser newPassword",
    "PatchUser roles unchanged",
    "PatchUser roles +Viewer",
    "PatchUser roles +Manager",
    "PatchUser roles +TenantAdmin",
    "PatchUser roles +SystemAdministrator",
    "PatchUser roles +Admin",
    "PatchUser roles []",
    "PatchUser accountIds unchanged",
    "PatchUser accountIds +A",
    "PatchUser accountIds +A1",
    "PatchUser accountIds +R1",
    "PatchUser accountIds +B",
    "PatchUser accountIds []",
    "UpdateBusinessUser firstName",
    "UpdateBusinessUser email",
    "UpdateBusinessUser roles +Viewer",
    "UpdateBusinessUser roles +Manager",
    "UpdateBusinessUser roles +Admin",
    "UpdateBusinessUser roles [Viewer]",
    "AddOrganizationMember A",
    "AddOrganizationMember A1",
    "AddOrganizationMember B",
    "RemoveOrganizationMember A",
    "RemoveOrganizationMember B",
};

/* The roles an UpdateBusinessUser sends when it keeps them (required). */
static unsigned
put_roles_kept(unsigned roles)
{
	return roles != 0 ? roles : VIEWER;
}

/* What the operation would make of t, if allowed. */
static state
apply(op o, state t)
{
	switch (o) {
	case OP_DELETE:
		t.deleted = true;
		break;
	case OP_PATCH_NAME:
		t.renamed = true;
		break;
	case OP_PATCH_PASSWORD:
		t.password_changed = true;
		break;
	case OP_PATCH_ADD_VIEWER:
		t.roles |= VIEWER;
		break;
	case OP_PATCH_ADD_MANAGER:
		t.roles |= MANAGER;
		break;
	case OP_PATCH_ADD_TADM:
		t.roles |= TADM;
		break;
	case OP_PATCH_ADD_SYS:
		t.roles |= SYS;
		break;
	case OP_PATCH_ADD_ADMIN:
		t.roles |= ADMIN;
		break;
	case OP_PATCH_ROLES_CLEAR:
		t.roles = 0;
		break;
	case OP_PATCH_ADD_A:
	case OP_MEMBER_ADD_A:
		t.orgs |= O_A;
		break;
	case OP_PATCH_ADD_A1:
	case OP_MEMBER_ADD_A1:
		t.orgs |= O_A1;
		break;
	case OP_PATCH_ADD_R1:
		t.orgs |= O_R1;
		break;
	case OP_PATCH_ADD_B:
	case OP_MEMBER_ADD_B:
		t.orgs |= O_B;
		break;
	case OP_PATCH_ORGS_CLEAR:
		t.orgs = 0;
		break;
	case OP_MEMBER_REMOVE_A:
		t.orgs &= ~(unsigned)O_A;
		break;
	case OP_MEMBER_REMOVE_B:
		t.orgs &= ~(unsigned)O_B;
		break;
	case OP_PUT_NAME:
		t.renamed = true;
		t.roles = put_roles_kept(t.roles);
		break;
	case OP_PUT_EMAIL:
		t.email_changed = true;
		t.roles = put_roles_kept(t.roles);
		break;
	case OP_PUT_ADD_VIEWER:
		t.roles |= VIEWER;
		break;
	case OP_PUT_ADD_MANAGER:
		t.roles |= MANAGER;
		break;
	case OP_PUT_ADD_ADMIN:
		t.roles |= ADMIN;
		break;
	case OP_PUT_ONLY_VIEWER:
		t.roles = VIEWER;
		break;
	default:
		break;
	}
	return t;
}

static bool
mutates(op o)
{
	return o != OP_GET && o != OP_LIST;
}

/* ------------------------------------------------------------------------
 * The oracle: docs/policy.md, read again by hand.
 */

typedef struct caller {
	unsigned roles, orgs;
} caller;

/* A role check: the role itself, or Admin, which passes every check. */
static bool
is(const caller *a, unsigned role)
{
	return (a->roles & role) != 0 || (a->roles & ADMIN) != 0;
}

/* The caller's organizations and, for a TenantAdmin, the ones below. */
static unsigned
below(unsigned orgs)
{
	unsigned out = orgs;

	if (orgs & O_R1) {
		out |= O_A | O_A1;
	}
	if (orgs & O_A) {
		out |= O_A1;
	}
	if (orgs & O_R2) {
		out |= O_B;
	}
	return out;
}

/* A target in a scope: in at least one organization, and all inside. */
static bool
inside(unsigned orgs, unsigned scope)
{
	return orgs != 0 && (orgs & ~scope) == 0;
}

/*
 * The status the daemon must answer: 0 (done), 16 (no credentials), 7
 * (refused), 5 (allowed, but there was nothing to remove).
 */
static int
oracle(const caller_kind *k, bool self, state t, op o)
{
	caller c = {k->roles, k->orgs}, *a = &c;
	state n = apply(o, t);
	unsigned own = a->orgs, tree = below(a->orgs);
	unsigned roles_changed = t.roles ^ n.roles;
	unsigned orgs_changed = t.orgs ^ n.orgs;
	bool admin_target = (t.roles & ADMIN) != 0;
	bool administrative_target = (t.roles & ADMINISTRATIVE) != 0;
	bool ok;

	if (k->anonymous) {
		return 16;
	}
	switch (o) {
	case OP_GET:
		/* Anybody reads themselves; a SystemAdministrator everyone;
		 * a Manager or TenantAdmin the users in their scope. */
		ok = self || is(a, SYS) ||
		     (is(a, MANAGER) && inside(t.orgs, own)) ||
		     (is(a, TADM) && inside(t.orgs, tree));
		return ok ? 0 : 7;
	case OP_LIST:
		/* Who may list at all; who is on the list is checked
		 * separately (list_visible). */
		return is(a, SYS) || is(a, MANAGER) || is(a, TADM) ? 0 : 7;
	case OP_DELETE:
		if (!(is(a, SYS) || is(a, MANAGER))) {
			return 7;
		}
		/* Nobody deletes themselves; only Admin deletes an Admin; a
		 * Manager only plain users of their organizations. */
		ok = !self && (is(a, ADMIN) || (is(a, SYS) && !admin_target) ||
			       (is(a, MANAGER) && !administrative_target &&
				inside(t.orgs, own)));
		return ok ? 0 : 7;
	case OP_MEMBER_ADD_A:
	case OP_MEMBER_ADD_A1:
	case OP_MEMBER_ADD_B:
	case OP_MEMBER_REMOVE_A:
	case OP_MEMBER_REMOVE_B: {
		unsigned org = o == OP_MEMBER_ADD_A || o == OP_MEMBER_REMOVE_A
				   ? O_A
			       : o == OP_MEMBER_ADD_A1 ? O_A1
						       : O_B;
		bool remove =
		    o == OP_MEMBER_REMOVE_A || o == OP_MEMBER_REMOVE_B;
		if (!(is(a, SYS) || is(a, MANAGER) || is(a, TADM))) {
			return 7;
		}
		/* Nobody changes their own organizations; a Manager hands out
		 * and takes back their own organizations, a TenantAdmin also
		 * those below, to plain users inside that scope. */
		ok =
		    !self &&
		    (is(a, ADMIN) || (is(a, SYS) && !admin_target) ||
		     (!administrative_target &&
		      ((is(a, MANAGER) && inside(t.orgs, own) && (org & own)) ||
		       (is(a, TADM) && inside(t.orgs, tree) && (org & tree)))));
		if (!ok) {
			return 7;
		}
		return remove && !(t.orgs & org) ? 5 : 0;
	}
	case OP_PUT_NAME:
	case OP_PUT_EMAIL:
	case OP_PUT_ADD_VIEWER:
	case OP_PUT_ADD_MANAGER:
	case OP_PUT_ADD_ADMIN:
	case OP_PUT_ONLY_VIEWER: {
		bool edit;
		if (!(is(a, ADMIN) || is(a, TADM))) {
			return 7;
		}
		/* UpdateBusinessUser: yourself, or as an Admin anyone, or as
		 * a TenantAdmin the plain users of your scope; roles: never
		 * your own, and a TenantAdmin no administrative role. */
		if (!(self || is(a, ADMIN) ||
		      (is(a, TADM) && inside(t.orgs, tree)))) {
			return 7;
		}
		edit = self || (!self && is(a, ADMIN)) ||
		       (!self && is(a, TADM) && !administrative_target &&
			inside(t.orgs, tree));
		if ((n.renamed != t.renamed ||
		     n.email_changed != t.email_changed) &&
		    !edit) {
			return 7;
		}
		if (roles_changed != 0 &&
		    !(!self &&
		      (is(a, ADMIN) || (is(a, TADM) && !administrative_target &&
					inside(t.orgs, tree) &&
					!(roles_changed & ADMINISTRATIVE))))) {
			return 7;
		}
		return 0;
	}
	default: { /* PatchUser */
		bool edit;
		if (!(is(a, SYS) || is(a, MANAGER))) {
			return 7;
		}
		/* Addressing the user at all: as reading them. */
		if (!(self || is(a, SYS) ||
		      (is(a, MANAGER) && inside(t.orgs, own)))) {
			return 7;
		}
		/* Names and password: yourself; Admin anyone else; a
		 * SystemAdministrator anyone but an Admin; a Manager the plain
		 * users of their organizations. */
		edit = self || is(a, ADMIN) || (is(a, SYS) && !admin_target) ||
		       (is(a, MANAGER) && !administrative_target &&
			inside(t.orgs, own));
		if ((n.renamed != t.renamed ||
		     n.password_changed != t.password_changed) &&
		    !edit) {
			return 7;
		}
		/* Roles: never your own; Admin any; a SystemAdministrator
		 * those of anyone but an Admin, and never Admin itself. */
		if (roles_changed != 0 &&
		    !(!self && (is(a, ADMIN) || (is(a, SYS) && !admin_target &&
						 !(roles_changed & ADMIN))))) {
			return 7;
		}
		/* Organizations: never your own; Admin any; a
		 * SystemAdministrator anyone's but an Admin's; a Manager
		 * their own organizations, for plain users inside them. */
		if (orgs_changed != 0 &&
		    !(!self &&
		      (is(a, ADMIN) || (is(a, SYS) && !admin_target) ||
		       (is(a, MANAGER) && !administrative_target &&
			inside(t.orgs, own) && (orgs_changed & ~own) == 0)))) {
			return 7;
		}
		return 0;
	}
	}
}

/* Whether a listing caller sees t. */
static bool
list_visible(const caller_kind *k, state t)
{
	caller c = {k->roles, k->orgs}, *a = &c;

	return is(a, SYS) || (is(a, MANAGER) && inside(t.orgs, a->orgs)) ||
	       (is(a, TADM) && inside(t.orgs, below(a->orgs)));
}

/* ------------------------------------------------------------------------
 * Async calls, many in flight
 */

static uc_client *cl;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static size_t in_flight;

/* A request of any of the methods, built on the stack. */
typedef struct request {
	union {
		ProtobufCMessage base;
		Users__V1__NewUser new_user;
		Users__V1__PatchUser patch;
		Users__V1__GetUser get;
		Users__V1__ListUsers list;
		Users__V1__DeleteUser del;
		Users__V1__UpdateBusinessUser put;
		Users__V1__AddOrganizationMember add_member;
		Users__V1__RemoveOrganizationMember remove_member;
		Users__V1__Authenticate auth;
		Users__V1__CreateOrganization create_org;
		Users__V1__GetOrganization get_org;
		Users__V1__ListOrganizations list_orgs;
	} u;
	Users__V1__StringList roles, orgs;
	char *role_v[N_ROLE_NAMES], *org_v[N_ORGS];
	char id[24], email[64], first[32];
	const char *method;
	const char *token; /* NULL: none */
} request;

typedef void (*build_fn)(size_t i, void *ctx, request *r);

static void
on_done(uc_result *res, void *arg)
{
	uc_result *out = arg;

	*out = *res;
	memset(res, 0, sizeof(*res));
	pthread_mutex_lock(&mu);
	in_flight--;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

/* Runs n calls, IN_FLIGHT at a time; results[i] is call i's. */
static void
run_all(size_t n, build_fn build, void *ctx, uc_result *results)
{
	for (size_t i = 0; i < n; i++) {
		request r;
		uc_call_opts o = {0};
		int rc;

		memset(&r, 0, sizeof(r));
		build(i, ctx, &r);
		o.deadline_ms = DEADLINE;
		o.bearer_token = r.token != NULL ? r.token : "";
		pthread_mutex_lock(&mu);
		while (in_flight >= IN_FLIGHT) {
			pthread_cond_wait(&cv, &mu);
		}
		in_flight++;
		pthread_mutex_unlock(&mu);
		rc = uc_call_async(cl, r.method, &r.u.base, &o, on_done,
				   &results[i]);
		if (rc != 0) {
			results[i].status = rc;
			pthread_mutex_lock(&mu);
			in_flight--;
			pthread_mutex_unlock(&mu);
		}
	}
	pthread_mutex_lock(&mu);
	while (in_flight > 0) {
		pthread_cond_wait(&cv, &mu);
	}
	pthread_mutex_unlock(&mu);
}

static void
results_fini(uc_result *results, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uc_result_fini(&results[i]);
	}
}

static void
set_roles(request *r, unsigned roles, Users__V1__StringList *into)
{
	users__v1__string_list__init(into);
	into->items = r->role_v;
	for (size_t i = 0; i < N_ROLE_NAMES; i++) {
		if (roles & (1u << i)) {
			r->role_v[into->n_items++] = (char *)role_names[i];
		}
	}
}

static void
set_orgs(request *r, unsigned orgs, Users__V1__StringList *into)
{
	users__v1__string_list__init(into);
	into->items = r->org_v;
	for (size_t i = 0; i < N_ORGS; i++) {
		if (orgs & (1u << i)) {
			r->org_v[into->n_items++] = org_ids[i];
		}
	}
}

/* ------------------------------------------------------------------------
 * Users made for the run
 */

typedef struct user {
	char id[24];
	char email[64];
	char *token;
	unsigned roles, orgs;
} user;

static char *admin_token;
static unsigned long next_user;

static void
user_init(user *u, unsigned roles, unsigned orgs)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->email, sizeof(u->email), "u%lu@example.com", next_user++);
	u->roles = roles;
	u->orgs = orgs;
}

static void
build_new_user(size_t i, void *ctx, request *r)
{
	user *u = ((user **)ctx)[i];

	users__v1__new_user__init(&r->u.new_user);
	r->u.new_user.email_address = u->email;
	r->u.new_user.password = PW;
	r->u.new_user.first_name = "T";
	r->u.new_user.last_name = "U";
	r->method = "NewUser";
	r->token = admin_token;
}

static void
build_shape_user(size_t i, void *ctx, request *r)
{
	user *u = ((user **)ctx)[i];

	users__v1__patch_user__init(&r->u.patch);
	r->u.patch.user_id = u->id;
	set_roles(r, u->roles, &r->roles);
	set_orgs(r, u->orgs, &r->orgs);
	r->u.patch.roles = &r->roles;
	r->u.patch.account_ids = &r->orgs;
	r->method = "PatchUser";
	r->token = admin_token;
}

static void
build_login(size_t i, void *ctx, request *r)
{
	user *u = ((user **)ctx)[i];

	users__v1__authenticate__init(&r->u.auth);
	r->u.auth.user_name = u->email;
	r->u.auth.password = PW;
	r->method = "Authenticate";
}

/* Makes the users (with their roles and organizations) and, when login,
 * signs each in. 0 or -1. */
static int
make_users(user **users, size_t n, bool login)
{
	uc_result *res = calloc(n ? n : 1, sizeof(*res));
	int bad = 0;

	if (res == NULL) {
		return -1;
	}
	run_all(n, build_new_user, users, res);
	for (size_t i = 0; i < n; i++) {
		if (res[i].status != UP_OK) {
			fprintf(stderr, "NewUser %s: %s\n", users[i]->email,
				uc_result_message(&res[i]));
			bad = -1;
			continue;
		}
		snprintf(users[i]->id, sizeof(users[i]->id), "%s",
			 ((Users__V1__UserInfo *)res[i].response)->id);
	}
	results_fini(res, n);
	run_all(n, build_shape_user, users, res);
	for (size_t i = 0; i < n; i++) {
		if (res[i].status != UP_OK) {
			fprintf(stderr, "shaping %s: %s\n", users[i]->email,
				uc_result_message(&res[i]));
			bad = -1;
		}
	}
	results_fini(res, n);
	if (login) {
		run_all(n, build_login, users, res);
		for (size_t i = 0; i < n; i++) {
			if (res[i].status != UP_OK) {
				bad = -1;
				continue;
			}
			users[i]->token = strdup(
			    ((Users__V1__AuthenticateResponse *)res[i].response)
				->bearer_token);
		}
		results_fini(res, n);
	}
	free(res);
	return bad;
}

/* ------------------------------------------------------------------------
 * The cases
 */

typedef struct tcase {
	unsigned caller; /* index in callers */
	bool self;       /* the target is the caller */
	unsigned troles; /* index in target_roles (not self) */
	unsigned rel;    /* index in relations (not self) */
	op o;
	state before;
	int want;
	user *target; /* the user acted on */
	user *as;     /* the caller (NULL: anonymous) */
} tcase;

static user caller_users[N_CALLERS];
static user shared[N_TROLES][N_RELS];

/*
 * The email of u in state s: a changed one moves to another domain, so
 * that no user's address contains another's (ListUsers filters by
 * "contains").
 */
static void
changed_email(const user *u, state s, char *buf, size_t size)
{
	const char *at = strchr(u->email, '@');

	if (!s.email_changed || at == NULL) {
		snprintf(buf, size, "%s", u->email);
		return;
	}
	snprintf(buf, size, "%.*s@changed.example.com", (int)(at - u->email),
		 u->email);
}

static void
build_case(size_t i, void *ctx, request *r)
{
	tcase *c = &((tcase *)ctx)[i];
	user *t = c->target;
	state n = apply(c->o, c->before);

	r->token = c->as != NULL ? c->as->token : NULL;
	snprintf(r->id, sizeof(r->id), "%s", t->id);
	switch (c->o) {
	case OP_GET:
		users__v1__get_user__init(&r->u.get);
		r->u.get.user_id = r->id;
		r->method = "GetUser";
		return;
	case OP_LIST:
		users__v1__list_users__init(&r->u.list);
		r->u.list.email = t->email;
		r->method = "ListUsers";
		return;
	case OP_DELETE:
		users__v1__delete_user__init(&r->u.del);
		r->u.del.user_id = r->id;
		r->method = "DeleteUser";
		return;
	case OP_MEMBER_ADD_A:
	case OP_MEMBER_ADD_A1:
	case OP_MEMBER_ADD_B:
	case OP_MEMBER_REMOVE_A:
	case OP_MEMBER_REMOVE_B:
		if (c->o == OP_MEMBER_REMOVE_A || c->o == OP_MEMBER_REMOVE_B) {
			users__v1__remove_organization_member__init(
			    &r->u.remove_member);
			r->method = "RemoveOrganizationMember";
		} else {
			users__v1__add_organization_member__init(
			    &r->u.add_member);
			r->method = "AddOrganizationMember";
		}
		/* the two requests share one layout (handlers_org.c) */
		r->u.add_member.user_id = r->id;
		r->u.add_member.organization_id =
		    org_ids[c->o == OP_MEMBER_ADD_A ||
				    c->o == OP_MEMBER_REMOVE_A
				? 1
			    : c->o == OP_MEMBER_ADD_A1 ? 2
						       : 4];
		return;
	case OP_PUT_NAME:
	case OP_PUT_EMAIL:
	case OP_PUT_ADD_VIEWER:
	case OP_PUT_ADD_MANAGER:
	case OP_PUT_ADD_ADMIN:
	case OP_PUT_ONLY_VIEWER:
		users__v1__update_business_user__init(&r->u.put);
		r->u.put.has_user_id = true;
		r->u.put.user_id = strtoll(t->id, NULL, 10);
		r->u.put.first_name = n.renamed ? "Renamed" : "T";
		r->u.put.last_name = "U";
		changed_email(t, n, r->email, sizeof(r->email));
		r->u.put.email = r->email;
		set_roles(r, n.roles, &r->roles);
		r->u.put.roles = r->roles.items;
		r->u.put.n_roles = r->roles.n_items;
		r->method = "UpdateBusinessUser";
		return;
	default:
		users__v1__patch_user__init(&r->u.patch);
		r->u.patch.user_id = r->id;
		r->method = "PatchUser";
		if (c->o == OP_PATCH_NAME) {
			r->u.patch.first_name = "Renamed";
		} else if (c->o == OP_PATCH_PASSWORD) {
			r->u.patch.new_password = NEW_PW;
		} else if (c->o >= OP_PATCH_ROLES_SAME &&
			   c->o <= OP_PATCH_ROLES_CLEAR) {
			set_roles(r, n.roles, &r->roles);
			r->u.patch.roles = &r->roles;
		} else if (c->o >= OP_PATCH_ORGS_SAME &&
			   c->o <= OP_PATCH_ORGS_CLEAR) {
			set_orgs(r, n.orgs, &r->orgs);
			r->u.patch.account_ids = &r->orgs;
		}
		return;
	}
}

static void
describe(const tcase *c, char *buf, size_t size)
{
	char troles[96] = "";

	for (size_t i = 0; i < N_ROLE_NAMES; i++) {
		if (c->before.roles & (1u << i)) {
			size_t len = strlen(troles);
			snprintf(troles + len, sizeof(troles) - len, "%s%s",
				 len ? "+" : "", role_names[i]);
		}
	}
	snprintf(buf, size, "%s on %s [%s] (%s): %s", callers[c->caller].name,
		 c->self ? "themselves" : "a user", troles[0] ? troles : "-",
		 c->self ? "same" : relations[c->rel].name, op_names[c->o]);
}

/* ------------------------------------------------------------------------
 * Reading users back
 */

static unsigned
roles_of(char **v, size_t n)
{
	unsigned out = 0;

	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < N_ROLE_NAMES; k++) {
			if (strcmp(v[i], role_names[k]) == 0) {
				out |= 1u << k;
			}
		}
	}
	return out;
}

static unsigned
orgs_of(char **v, size_t n)
{
	unsigned out = 0;

	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < N_ORGS; k++) {
			if (strcmp(v[i], org_ids[k]) == 0) {
				out |= 1u << k;
			}
		}
	}
	return out;
}

static void
build_read(size_t i, void *ctx, request *r)
{
	user *u = ((user **)ctx)[i];

	users__v1__get_user__init(&r->u.get);
	r->u.get.user_id = u->id;
	r->method = "GetUser";
	r->token = admin_token;
}

static void
build_new_login(size_t i, void *ctx, request *r)
{
	user *u = ((user **)ctx)[i];

	users__v1__authenticate__init(&r->u.auth);
	r->u.auth.user_name = u->email;
	r->u.auth.password = NEW_PW;
	r->method = "Authenticate";
}

/*
 * Whether what is stored matches state s: the answer of GetUser by the
 * administrator (and of a sign-in with the new password, in logged).
 */
static bool
stored_as(const uc_result *got, const user *u, state s, int logged)
{
	const Users__V1__UserInfo *ui;
	char email[80];

	if (s.deleted) {
		return got->status == UP_NOT_FOUND;
	}
	if (got->status != UP_OK) {
		return false;
	}
	ui = (const Users__V1__UserInfo *)got->response;
	changed_email(u, s, email, sizeof(email));
	return roles_of(ui->roles, ui->n_roles) == s.roles &&
	       orgs_of(ui->account_ids, ui->n_account_ids) == s.orgs &&
	       strcmp(ui->first_name ? ui->first_name : "",
		      s.renamed ? "Renamed" : "T") == 0 &&
	       strcmp(ui->email_address ? ui->email_address : "", email) == 0 &&
	       (logged == UP_OK) == s.password_changed;
}

static void
report_stored(const user *u, const uc_result *got, state s, int logged)
{
	const Users__V1__UserInfo *ui =
	    got->status == UP_OK ? (const Users__V1__UserInfo *)got->response
				 : NULL;

	fprintf(stderr,
		"policy: %s stored as roles %u orgs %u first %s email %s "
		"(read %d, new password %d); want roles %u orgs %u%s%s%s%s\n",
		u->email, ui ? roles_of(ui->roles, ui->n_roles) : 0,
		ui ? orgs_of(ui->account_ids, ui->n_account_ids) : 0,
		ui && ui->first_name ? ui->first_name : "-",
		ui && ui->email_address ? ui->email_address : "-", got->status,
		logged, s.roles, s.orgs, s.renamed ? ", renamed" : "",
		s.email_changed ? ", new email" : "",
		s.password_changed ? ", new password" : "",
		s.deleted ? ", deleted" : "");
}

/* ------------------------------------------------------------------------
 * The user matrix
 */

static size_t
plan_cases(tcase *cases, user *fresh, size_t *n_fresh)
{
	size_t n = 0;

	*n_fresh = 0;
	for (unsigned k = 0; k < N_CALLERS; k++) {
		for (unsigned tr = 0; tr < N_TROLES; tr++) {
			for (unsigned rel = 0; rel < N_RELS; rel++) {
				for (op o = 0; o < N_OPS; o++) {
					tcase *c = &cases[n++];
					c->caller = k;
					c->troles = tr;
					c->rel = rel;
					c->o = o;
					c->before.roles = target_roles[tr];
					c->before.orgs = relations[rel].orgs;
					c->want = oracle(&callers[k], false,
							 c->before, o);
					c->as = callers[k].anonymous
						    ? NULL
						    : &caller_users[k];
					if (c->want == 0 && mutates(o)) {
						user *f = &fresh[(*n_fresh)++];
						user_init(f, c->before.roles,
							  c->before.orgs);
						c->target = f;
					} else {
						c->target = &shared[tr][rel];
					}
				}
			}
		}
		for (op o = 0; o < N_OPS && !callers[k].anonymous; o++) {
			tcase *c = &cases[n++];
			user *f = &fresh[(*n_fresh)++];
			c->caller = k;
			c->self = true;
			c->o = o;
			c->before.roles = callers[k].roles;
			c->before.orgs = callers[k].orgs;
			c->want = oracle(&callers[k], true, c->before, o);
			user_init(f, c->before.roles, c->before.orgs);
			c->target = f;
			c->as = f;
		}
	}
	return n;
}

static size_t
test_user_matrix(void)
{
	size_t max = N_CALLERS * (N_TROLES * N_RELS + 1) * N_OPS;
	tcase *cases = calloc(max, sizeof(*cases));
	user *fresh = calloc(max, sizeof(*fresh));
	user **made = calloc(max + N_TROLES * N_RELS, sizeof(*made));
	user **selves = calloc(max, sizeof(*selves));
	uc_result *res = calloc(max, sizeof(*res));
	uc_result *back = calloc(max, sizeof(*back));
	uc_result *logged = calloc(max, sizeof(*logged));
	size_t n, n_fresh, n_made = 0, n_selves = 0, wrong = 0;

	if (cases == NULL || fresh == NULL || made == NULL || selves == NULL ||
	    res == NULL || back == NULL || logged == NULL) {
		CHECK(false);
		return 0;
	}
	for (unsigned tr = 0; tr < N_TROLES; tr++) {
		for (unsigned rel = 0; rel < N_RELS; rel++) {
			user_init(&shared[tr][rel], target_roles[tr],
				  relations[rel].orgs);
			made[n_made++] = &shared[tr][rel];
		}
	}
	n = plan_cases(cases, fresh, &n_fresh);
	for (size_t i = 0; i < n; i++) {
		if (cases[i].self) {
			selves[n_selves++] = cases[i].target;
		} else if (cases[i].target !=
			   &shared[cases[i].troles][cases[i].rel]) {
			made[n_made++] = cases[i].target;
		}
	}
	CHECK_INT(make_users(made, n_made, false), 0);
	CHECK_INT(make_users(selves, n_selves, true), 0);

	run_all(n, build_case, cases, res);

	/* Every decision, and every list's content. */
	for (size_t i = 0; i < n; i++) {
		tcase *c = &cases[i];
		int got = res[i].status;
		bool ok = got == c->want;

		if (ok && c->o == OP_LIST && got == UP_OK) {
			const Users__V1__ListUsersResponse *l =
			    (const Users__V1__ListUsersResponse *)res[i]
				.response;
			bool want =
			    list_visible(&callers[c->caller], c->before);
			ok = (l->total == 1) == want;
			got = l->total == 1 ? 1000 : 1001;
		}
		if (!ok) {
			char what[256];
			describe(c, what, sizeof(what));
			if (wrong++ < 40) {
				fprintf(
				    stderr, "policy: %s: got %d, want %d%s\n",
				    what, got, c->want,
				    got >= 1000 ? " (list visibility)" : "");
			}
		}
	}
	CHECK_INT(wrong, 0);

	/* What is stored: each changed user as the oracle says, and every
	 * shared target as it was made. */
	{
		user **all = calloc(n + n_made, sizeof(*all));
		state *want = calloc(n + n_made, sizeof(*want));
		size_t m = 0, bad = 0;
		for (size_t i = 0; i < n; i++) {
			if (cases[i].want == 0 && mutates(cases[i].o)) {
				all[m] = cases[i].target;
				want[m++] = apply(cases[i].o, cases[i].before);
			}
		}
		for (unsigned tr = 0; tr < N_TROLES; tr++) {
			for (unsigned rel = 0; rel < N_RELS; rel++) {
				all[m] = &shared[tr][rel];
				want[m].roles = target_roles[tr];
				want[m++].orgs = relations[rel].orgs;
			}
		}
		run_all(m, build_read, all, back);
		run_all(m, build_new_login, all, logged);
		for (size_t i = 0; i < m; i++) {
			if (!stored_as(&back[i], all[i], want[i],
				       logged[i].status)) {
				if (bad++ < 20) {
					report_stored(all[i], &back[i], want[i],
						      logged[i].status);
				}
			}
		}
		CHECK_INT(bad, 0);
		results_fini(back, m);
		results_fini(logged, m);
		free(all);
		free(want);
	}
	results_fini(res, n);
	for (size_t i = 0; i < n_selves; i++) {
		free(selves[i]->token);
	}
	free(cases);
	free(fresh);
	free(made);
	free(selves);
	free(res);
	free(back);
	free(logged);
	return n;
}

/* ------------------------------------------------------------------------
 * The organization matrix: NewUser's account, CreateOrganization's parent,
 * GetOrganization and ListOrganizations, per caller and organization.
 */

typedef struct ocase {
	unsigned caller;
	int org;  /* index in org_ids, -1: none */
	int kind; /* 0 NewUser, 1 CreateOrganization, 2 GetOrganization */
	int want;
} ocase;

static int
org_oracle(const caller_kind *k, int kind, int org)
{
	caller c = {k->roles, k->orgs}, *a = &c;
	unsigned bit = org < 0 ? 0 : 1u << org;

	if (k->anonymous) {
		return 16;
	}
	switch (kind) {
	case 0: /* a SystemAdministrator anywhere; a Manager in their own */
		if (!(is(a, SYS) || is(a, MANAGER))) {
			return 7;
		}
		return is(a, SYS) || (is(a, MANAGER) && (bit & a->orgs)) ? 0
									 : 7;
	case 1: /* a SystemAdministrator anywhere; a TenantAdmin below an
		 * organization of their scope, never at the top */
		if (!(is(a, SYS) || is(a, TADM))) {
			return 7;
		}
		return is(a, SYS) || (is(a, TADM) && (bit & below(a->orgs)))
			   ? 0
			   : 7;
	default: /* anybody their own; a TenantAdmin also those below */
		return is(a, SYS) || (bit & a->orgs) ||
			       (is(a, TADM) && (bit & below(a->orgs)))
			   ? 0
			   : 7;
	}
}

static void
build_ocase(size_t i, void *ctx, request *r)
{
	ocase *c = &((ocase *)ctx)[i];
	const char *org = c->org < 0 ? NULL : org_ids[c->org];

	r->token =
	    callers[c->caller].anonymous ? NULL : caller_users[c->caller].token;
	switch (c->kind) {
	case 0:
		users__v1__new_user__init(&r->u.new_user);
		snprintf(r->email, sizeof(r->email), "o%lu@example.com",
			 next_user++);
		r->u.new_user.email_address = r->email;
		r->u.new_user.password = PW;
		r->u.new_user.account_id = (char *)org;
		r->method = "NewUser";
		break;
	case 1:
		users__v1__create_organization__init(&r->u.create_org);
		r->u.create_org.name = "Made";
		r->u.create_org.parent_id = (char *)org;
		r->method = "CreateOrganization";
		break;
	default:
		users__v1__get_organization__init(&r->u.get_org);
		r->u.get_org.id = (char *)org;
		r->method = "GetOrganization";
		break;
	}
}

static void
build_list_orgs(size_t i, void *ctx, request *r)
{
	(void)ctx;
	users__v1__list_organizations__init(&r->u.list_orgs);
	r->u.list_orgs.has_take = true;
	r->u.list_orgs.take = 1000;
	r->method = "ListOrganizations";
	r->token = callers[i].anonymous ? NULL : caller_users[i].token;
}

static size_t
test_org_matrix(void)
{
	ocase cases[N_CALLERS * 3 * (N_ORGS + 1)];
	uc_result res[sizeof(cases) / sizeof(cases[0])];
	uc_result lists[N_CALLERS];
	size_t n = 0, wrong = 0;

	memset(res, 0, sizeof(res));
	memset(lists, 0, sizeof(lists));
	/* ListOrganizations first: the organizations made below do not
	 * change what the five of the world are. */
	run_all(N_CALLERS, build_list_orgs, NULL, lists);
	for (unsigned k = 0; k < N_CALLERS; k++) {
		const Users__V1__ListOrganizationsResponse *l =
		    (const Users__V1__ListOrganizationsResponse *)lists[k]
			.response;
		int want_status = callers[k].anonymous ? 16 : 0;
		if (lists[k].status != want_status) {
			fprintf(stderr, "policy: %s: ListOrganizations: %d\n",
				callers[k].name, lists[k].status);
			wrong++;
			continue;
		}
		for (int org = 0; l != NULL && org < N_ORGS; org++) {
			bool seen = false;
			for (size_t i = 0; i < l->n_results; i++) {
				seen |= strcmp(l->results[i]->id,
					       org_ids[org]) == 0;
			}
			if (seen != (org_oracle(&callers[k], 2, org) == 0)) {
				fprintf(stderr,
					"policy: %s: ListOrganizations %s "
					"%s\n",
					callers[k].name, org_names[org],
					seen ? "shown" : "missing");
				wrong++;
			}
		}
		n += N_ORGS;
	}
	results_fini(lists, N_CALLERS);

	{
		size_t m = 0;
		for (unsigned k = 0; k < N_CALLERS; k++) {
			for (int kind = 0; kind < 3; kind++) {
				for (int org = kind == 2 ? 0 : -1; org < N_ORGS;
				     org++) {
					ocase *c = &cases[m++];
					c->caller = k;
					c->kind = kind;
					c->org = org;
					c->want =
					    org_oracle(&callers[k], kind, org);
				}
			}
		}
		run_all(m, build_ocase, cases, res);
		for (size_t i = 0; i < m; i++) {
			if (res[i].status != cases[i].want) {
				static const char *const kinds[] = {
				    "NewUser in", "CreateOrganization under",
				    "GetOrganization"};
				fprintf(stderr,
					"policy: %s: %s %s: got %d, "
					"want %d\n",
					callers[cases[i].caller].name,
					kinds[cases[i].kind],
					cases[i].org < 0
					    ? "nothing"
					    : org_names[cases[i].org],
					res[i].status, cases[i].want);
				wrong++;
			}
		}
		results_fini(res, m);
		n += m;
	}
	CHECK_INT(wrong, 0);
	return n;
}

/* ------------------------------------------------------------------------
 * The world
 */

static int
create_org(const char *name, int parent, char out[33])
{
	Users__V1__CreateOrganization req =
	    USERS__V1__CREATE_ORGANIZATION__INIT;
	uc_call_opts o = {0};
	uc_result res = {0};
	int rc;

	o.bearer_token = admin_token;
	req.name = (char *)name;
	req.parent_id = parent < 0 ? NULL : org_ids[parent];
	rc = uc_create_organization(cl, &req, &o, &res);
	if (rc == UP_OK) {
		snprintf(out, 33, "%s",
			 ((Users__V1__Organization *)res.response)->id);
	}
	uc_result_fini(&res);
	return rc;
}

static int
setup(void)
{
	uc_result res = {0};
	user *made[N_CALLERS];
	size_t n = 0;

	if (uc_login(cl, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, &res) != UP_OK) {
		uc_result_fini(&res);
		return -1;
	}
	admin_token = strdup(
	    ((Users__V1__AuthenticateResponse *)res.response)->bearer_token);
	uc_result_fini(&res);
	if (create_org("R1", -1, org_ids[0]) != 0 ||
	    create_org("A", 0, org_ids[1]) != 0 ||
	    create_org("A1", 1, org_ids[2]) != 0 ||
	    create_org("R2", -1, org_ids[3]) != 0 ||
	    create_org("B", 3, org_ids[4]) != 0) {
		return -1;
	}
	for (unsigned k = 0; k < N_CALLERS; k++) {
		user_init(&caller_users[k], callers[k].roles, callers[k].orgs);
		if (!callers[k].anonymous) {
			made[n++] = &caller_users[k];
		}
	}
	return make_users(made, n, true);
}

int
main(void)
{
	th_daemon d;
	uc_options opts = {0};
	const char *urls[1];
	long long t0;
	size_t users, orgs;

	if (th_daemon_start(&d, NULL) != 0) {
		fprintf(stderr, "cannot start usersd\n");
		return 1;
	}
	urls[0] = d.url;
	opts.urls = urls;
	opts.n_urls = 1;
	opts.deadline_ms = DEADLINE;
	if (uc_client_open(&cl, &opts) != 0) {
		th_daemon_stop(&d);
		return 1;
	}
	t0 = th_now_ms();
	CHECK_INT(setup(), 0);
	if (check_failed == 0) {
		users = test_user_matrix();
		orgs = test_org_matrix();
		printf("policy matrix: %zu user cases (%zu callers x %zu "
		       "target role sets x %zu relations x %d operations, "
		       "and each caller on themselves) + %zu organization "
		       "cases = %zu, all compared with the oracle, in %.1f "
		       "s\n",
		       users, N_CALLERS, N_TROLES, N_RELS, N_OPS, orgs,
		       users + orgs, (double)(th_now_ms() - t0) / 1000.0);
	}
	uc_client_close(cl);
	CHECK_INT(th_daemon_stop(&d), 0);
	free(admin_token);
	for (unsigned k = 0; k < N_CALLERS; k++) {
		free(caller_users[k].token);
	}
	return check_done();
}
