/*
 * test_authz.c - who may do what, through a real usersd over ipc://:
 * every operation x each role x in and out of scope, with the exact status;
 * plus token revocation, request-id replay and login lockout.
 *
 * The organizations: A (root) with child A1, and B (root). The actors:
 * admin (Admin+SystemAdministrator), sys (SystemAdministrator), mgr
 * (Manager in A), tadm (TenantAdmin in A), plain (no role, in A). The
 * targets: tA (in A), tA1 (in A1), tB (in B).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "harness.h"
#include "usersclient.h"

#define PW "password-123"

static uc_client *cl;
static char org_a[33], org_a1[33], org_b[33];

struct actor {
	const char *email;
	char id[24];
	char *token;
};

static struct actor admin = {"admin@example.com", "1", NULL};
static struct actor sys_ = {"sys@example.com", "", NULL};
static struct actor mgr = {"mgr@example.com", "", NULL};
static struct actor tadm = {"tadm@example.com", "", NULL};
static struct actor plain = {"plain@example.com", "", NULL};
static struct actor anon = {"anonymous", "", NULL};
static char t_a[24], t_a1[24], t_b[24];

static uc_call_opts
as(const struct actor *a)
{
	uc_call_opts o = {0};

	o.bearer_token = a->token ? a->token : "";
	return o;
}

static int
login(struct actor *a, const char *pw)
{
	Users__V1__Authenticate req = USERS__V1__AUTHENTICATE__INIT;
	uc_call_opts o = {0};
	uc_result res = {0};
	int rc;

	req.user_name = (char *)a->email;
	req.password = (char *)pw;
	o.bearer_token = "";
	rc = uc_authenticate(cl, &req, &o, &res);
	if (rc == UP_OK) {
		Users__V1__AuthenticateResponse *r =
		    (Users__V1__AuthenticateResponse *)res.response;
		free(a->token);
		a->token = strdup(r->bearer_token);
		snprintf(a->id, sizeof(a->id), "%s", r->user_id);
	}
	uc_result_fini(&res);
	return rc;
}

static int
create_org(const char *name, const char *parent, char out[33])
{
	Users__V1__CreateOrganization req =
	    USERS__V1__CREATE_ORGANIZATION__INIT;
	uc_call_opts o = as(&admin);
	uc_result res = {0};
	int rc;

	req.name = (char *)name;
	req.parent_id = (char *)parent;
	rc = uc_create_organization(cl, &req, &o, &res);
	if (rc == UP_OK) {
		snprintf(out, 33, "%s",
			 ((Users__V1__Organization *)res.response)->id);
	}
	uc_result_fini(&res);
	return rc;
}

/* NewUser as actor; the new id into id_out (may be NULL). */
static int
new_user(const struct actor *a, const char *email, const char *org,
	 char *id_out)
{
	Users__V1__NewUser req = USERS__V1__NEW_USER__INIT;
	uc_call_opts o = as(a);
	uc_result res = {0};
	int rc;

	req.email_address = (char *)email;
	req.password = PW;
	req.first_name = "Test";
	req.last_name = "User";
	req.account_id = (char *)org;
	rc = uc_new_user(cl, &req, &o, &res);
	if (rc == UP_OK && id_out != NULL) {
		snprintf(id_out, 24, "%s",
			 ((Users__V1__UserInfo *)res.response)->id);
	}
	uc_result_fini(&res);
	return rc;
}

static int
patch(const struct actor *a, const char *id, const char *first,
      const char *const *roles, size_t n_roles, const char *const *orgs,
      size_t n_orgs, const char *new_password)
{
	Users__V1__PatchUser req = USERS__V1__PATCH_USER__INIT;
	Users__V1__StringList rl = USERS__V1__STRING_LIST__INIT;
	Users__V1__StringList ol = USERS__V1__STRING_LIST__INIT;
	uc_call_opts o = as(a);
	uc_result res = {0};
	int rc;

	req.user_id = (char *)id;
	req.first_name = (char *)first;
	req.new_password = (char *)new_password;
	if (roles != NULL) {
		rl.items = (char **)roles;
		rl.n_items = n_roles;
		req.roles = &rl;
	}
	if (orgs != NULL) {
		ol.items = (char **)orgs;
		ol.n_items = n_orgs;
		req.account_ids = &ol;
	}
	rc = uc_patch_user(cl, &req, &o, &res);
	uc_result_fini(&res);
	return rc;
}

static int
get_user(const struct actor *a, const char *id)
{
	Users__V1__GetUser req = USERS__V1__GET_USER__INIT;
	uc_call_opts o = as(a);
	uc_result res = {0};
	int rc;

	req.user_id = (char *)id;
	rc = uc_get_user(cl, &req, &o, &res);
	uc_result_fini(&res);
	return rc;
}

static int
update_business(const struct actor *a, const char *id, const char *email,
		const char *role)
{
	Users__V1__UpdateBusinessUser req =
	    USERS__V1__UPDATE_BUSINESS_USER__INIT;
	char *roles[] = {(char *)role};
	uc_call_opts o = as(a);
	uc_result res = {0};
	int rc;

	req.has_user_id = true;
	req.user_id = strtoll(id, NULL, 10);
	req.first_name = "Viv";
	req.last_name = "Iot";
	req.email = (char *)email;
	req.roles = roles;
	req.n_roles = 1;
	rc = uc_update_business_user(cl, &req, &o, &res);
	uc_result_fini(&res);
	return rc;
}

static int
delete_user(const struct actor *a, const char *id)
{
	Users__V1__DeleteUser req = USERS__V1__DELETE_USER__INIT;
	uc_call_opts o = as(a);
	uc_result res = {0};
	int rc;

	req.user_id = (char *)id;
	rc = uc_delete_user(cl, &req, &o, &res);
	uc_result_fini(&res);
	return rc;
}

static void
setup(void)
{
	const char *r_sys[] = {"SystemAdministrator"};
	const char *r_mgr[] = {"Manager"};
	const char *r_tadm[] = {"TenantAdmin"};
	const char *in_a[] = {org_a};

	CHECK_INT(login(&admin, "admin-password-1"), UP_OK);
	CHECK_INT(create_org("A", NULL, org_a), UP_OK);
	CHECK_INT(create_org("A1", org_a, org_a1), UP_OK);
	CHECK_INT(create_org("B", NULL, org_b), UP_OK);

	CHECK_INT(new_user(&admin, sys_.email, NULL, sys_.id), UP_OK);
	CHECK_INT(new_user(&admin, mgr.email, org_a, mgr.id), UP_OK);
	CHECK_INT(new_user(&admin, tadm.email, org_a, tadm.id), UP_OK);
	CHECK_INT(new_user(&admin, plain.email, org_a, plain.id), UP_OK);
	CHECK_INT(new_user(&admin, "ta@example.com", org_a, t_a), UP_OK);
	CHECK_INT(new_user(&admin, "ta1@example.com", org_a1, t_a1), UP_OK);
	CHECK_INT(new_user(&admin, "tb@example.com", org_b, t_b), UP_OK);
	CHECK_INT(patch(&admin, sys_.id, NULL, r_sys, 1, NULL, 0, NULL), UP_OK);
	CHECK_INT(patch(&admin, mgr.id, NULL, r_mgr, 1, in_a, 1, NULL), UP_OK);
	CHECK_INT(patch(&admin, tadm.id, NULL, r_tadm, 1, NULL, 0, NULL),
		  UP_OK);
	CHECK_INT(login(&sys_, PW), UP_OK);
	CHECK_INT(login(&mgr, PW), UP_OK);
	CHECK_INT(login(&tadm, PW), UP_OK);
	CHECK_INT(login(&plain, PW), UP_OK);
}

static void
test_new_user(void)
{
	CHECK_INT(new_user(&anon, "n0@example.com", NULL, NULL),
		  UP_UNAUTHENTICATED);
	CHECK_INT(new_user(&plain, "n1@example.com", org_a, NULL),
		  UP_PERMISSION_DENIED);
	CHECK_INT(new_user(&tadm, "n2@example.com", org_a, NULL),
		  UP_PERMISSION_DENIED);
	CHECK_INT(new_user(&mgr, "n3@example.com", org_a, NULL), UP_OK);
	CHECK_INT(new_user(&mgr, "n4@example.com", org_b, NULL),
		  UP_PERMISSION_DENIED);
	CHECK_INT(new_user(&mgr, "n5@example.com", NULL, NULL),
		  UP_PERMISSION_DENIED);
	CHECK_INT(new_user(&sys_, "n6@example.com", NULL, NULL), UP_OK);
	CHECK_INT(new_user(&admin, "n7@example.com", org_b, NULL), UP_OK);
	/* Unique in any letter case. */
	CHECK_INT(new_user(&admin, "N7@EXAMPLE.COM", NULL, NULL),
		  UP_ALREADY_EXISTS);
	/* Validation names the field. */
	CHECK_INT(new_user(&admin, "not-an-email", NULL, NULL),
		  UP_INVALID_ARGUMENT);
}

static void
test_patch_user(void)
{
	const char *r_mgr[] = {"Manager"};
	const char *r_admin[] = {"Admin"};
	const char *in_a[] = {org_a};
	const char *in_b[] = {org_b};

	CHECK_INT(patch(&anon, t_a, "X", NULL, 0, NULL, 0, NULL),
		  UP_UNAUTHENTICATED);
	CHECK_INT(patch(&plain, t_a, "X", NULL, 0, NULL, 0, NULL),
		  UP_PERMISSION_DENIED);
	CHECK_INT(patch(&tadm, t_a, "X", NULL, 0, NULL, 0, NULL),
		  UP_PERMISSION_DENIED);
	CHECK_INT(patch(&mgr, t_a, "X", NULL, 0, NULL, 0, NULL), UP_OK);
	CHECK_INT(patch(&mgr, t_a1, "X", NULL, 0, NULL, 0, NULL),
		  UP_PERMISSION_DENIED);
	CHECK_INT(patch(&mgr, t_b, "X", NULL, 0, NULL, 0, NULL),
		  UP_PERMISSION_DENIED);
	CHECK_INT(patch(&sys_, t_b, "X", NULL, 0, NULL, 0, NULL), UP_OK);
	CHECK_INT(patch(&admin, "99999", "X", NULL, 0, NULL, 0, NULL),
		  UP_NOT_FOUND);
	/* Roles: only a SystemAdministrator, and not above their rank. */
	CHECK_INT(patch(&mgr, t_a, NULL, r_mgr, 1, NULL, 0, NULL),
		  UP_PERMISSION_DENIED);
	CHECK_INT(patch(&sys_, t_b, NULL, r_admin, 1, NULL, 0, NULL),
		  UP_PERMISSION_DENIED);
	CHECK_INT(patch(&sys_, t_b, NULL, r_mgr, 1, NULL, 0, NULL), UP_OK);
	CHECK_INT(patch(&sys_, t_b, NULL, NULL, 0, NULL, 0, NULL), UP_OK);
	/* Nobody acts on a user who outranks them. */
	CHECK_INT(patch(&sys_, admin.id, "X", NULL, 0, NULL, 0, NULL),
		  UP_PERMISSION_DENIED);
	/* Memberships: only those the Manager holds. */
	CHECK_INT(patch(&mgr, t_a, NULL, NULL, 0, in_a, 1, NULL), UP_OK);
	CHECK_INT(patch(&mgr, t_a, NULL, NULL, 0, in_b, 1, NULL),
		  UP_PERMISSION_DENIED);
}

static void
test_update_business_user(void)
{
	CHECK_INT(update_business(&tadm, t_a1, "ta1@example.com", "Viewer"),
		  UP_OK);
	CHECK_INT(update_business(&tadm, t_b, "tb@example.com", "Viewer"),
		  UP_PERMISSION_DENIED);
	CHECK_INT(update_business(&mgr, t_a, "ta@example.com", "Viewer"),
		  UP_PERMISSION_DENIED);
	CHECK_INT(update_business(&sys_, t_a, "ta@example.com", "Viewer"),
		  UP_PERMISSION_DENIED);
	CHECK_INT(update_business(&admin, t_a, "ta@example.com", "Viewer"),
		  UP_OK);
	/* A TenantAdmin cannot hand out a role above their own. */
	CHECK_INT(update_business(&tadm, t_a1, "ta1@example.com",
				  "SystemAdministrator"),
		  UP_PERMISSION_DENIED);
	/* The email is unique in any case, on update too. */
	CHECK_INT(update_business(&admin, t_a, "TB@example.com", "Viewer"),
		  UP_ALREADY_EXISTS);
}

static void
test_get_list_delete(void)
{
	Users__V1__ListUsers lr = USERS__V1__LIST_USERS__INIT;
	uc_call_opts o;
	uc_result res = {0};
	char gone[24];

	CHECK_INT(get_user(&plain, plain.id), UP_OK);
	CHECK_INT(get_user(&plain, t_a), UP_PERMISSION_DENIED);
	CHECK_INT(get_user(&mgr, t_a), UP_OK);
	CHECK_INT(get_user(&mgr, t_a1), UP_PERMISSION_DENIED);
	CHECK_INT(get_user(&mgr, t_b), UP_PERMISSION_DENIED);
	CHECK_INT(get_user(&tadm, t_a1), UP_OK);
	CHECK_INT(get_user(&tadm, t_b), UP_PERMISSION_DENIED);
	CHECK_INT(get_user(&sys_, t_b), UP_OK);
	CHECK_INT(get_user(&admin, "424242"), UP_NOT_FOUND);
	CHECK_INT(get_user(&anon, t_a), UP_UNAUTHENTICATED);

	o = as(&plain);
	CHECK_INT(uc_list_users(cl, &lr, &o, &res), UP_PERMISSION_DENIED);
	uc_result_fini(&res);
	o = as(&mgr);
	CHECK_INT(uc_list_users(cl, &lr, &o, &res), UP_OK);
	if (res.status == UP_OK) {
		Users__V1__ListUsersResponse *l =
		    (Users__V1__ListUsersResponse *)res.response;
		CHECK(l->n_results > 0);
		for (size_t i = 0; i < l->n_results; i++) {
			bool in_a = false;
			for (size_t k = 0; k < l->results[i]->n_account_ids;
			     k++) {
				in_a |= strcmp(l->results[i]->account_ids[k],
					       org_a) == 0;
			}
			CHECK(in_a);
		}
	}
	uc_result_fini(&res);

	CHECK_INT(delete_user(&mgr, t_b), UP_PERMISSION_DENIED);
	CHECK_INT(new_user(&admin, "gone@example.com", org_a, gone), UP_OK);
	CHECK_INT(delete_user(&plain, gone), UP_PERMISSION_DENIED);
	CHECK_INT(delete_user(&mgr, gone), UP_OK);
	CHECK_INT(get_user(&admin, gone), UP_NOT_FOUND);
	CHECK_INT(delete_user(&sys_, admin.id), UP_PERMISSION_DENIED);
	/* Nobody deletes themselves. */
	CHECK_INT(delete_user(&admin, admin.id), UP_PERMISSION_DENIED);
}

/*
 * The takeovers a review found, each through the documented API with an
 * ordinary administrator's account: all refused.
 */
static void
test_escalations(void)
{
	struct actor peer = {"peer-mgr@example.com", "", NULL};
	struct actor both = {"both@example.com", "", NULL};
	const char *r_mgr[] = {"Manager"};
	const char *in_ab[] = {org_a, org_b};

	CHECK_INT(new_user(&admin, peer.email, org_a, peer.id), UP_OK);
	CHECK_INT(patch(&admin, peer.id, NULL, r_mgr, 1, NULL, 0, NULL), UP_OK);
	CHECK_INT(new_user(&admin, both.email, org_a, both.id), UP_OK);
	CHECK_INT(patch(&admin, both.id, NULL, NULL, 0, in_ab, 2, NULL), UP_OK);

	/* Equal rank is no protection: a Manager resets neither a
	 * TenantAdmin's password nor another Manager's, in their own org. */
	CHECK_INT(patch(&mgr, tadm.id, NULL, NULL, 0, NULL, 0, "taken-over-1"),
		  UP_PERMISSION_DENIED);
	CHECK_INT(patch(&mgr, peer.id, NULL, NULL, 0, NULL, 0, "taken-over-1"),
		  UP_PERMISSION_DENIED);
	CHECK_INT(delete_user(&mgr, peer.id), UP_PERMISSION_DENIED);
	CHECK_INT(login(&tadm, PW), UP_OK);
	CHECK_INT(login(&peer, PW), UP_OK);
	/* A user who is also in another tenant's organization is not the
	 * Manager's to reset, edit or delete. */
	CHECK_INT(patch(&mgr, both.id, NULL, NULL, 0, NULL, 0, "taken-over-1"),
		  UP_PERMISSION_DENIED);
	CHECK_INT(patch(&mgr, both.id, "X", NULL, 0, NULL, 0, NULL),
		  UP_PERMISSION_DENIED);
	CHECK_INT(delete_user(&mgr, both.id), UP_PERMISSION_DENIED);
	CHECK_INT(login(&both, PW), UP_OK);
	/* Self-escalation: a TenantAdmin cannot add Manager to their own
	 * roles through PUT /user, nor a Manager through PATCH. */
	CHECK_INT(update_business(&tadm, tadm.id, tadm.email, "Manager"),
		  UP_PERMISSION_DENIED);
	CHECK_INT(patch(&mgr, mgr.id, NULL, r_mgr, 1, NULL, 0, NULL), UP_OK);
	{
		const char *more[] = {"Manager", "TenantAdmin"};
		CHECK_INT(patch(&mgr, mgr.id, NULL, more, 2, NULL, 0, NULL),
			  UP_PERMISSION_DENIED);
	}
	/* An administrative role in another letter case is no role: a
	 * service comparing roles without case would honour it. */
	{
		char tb_id[24];
		const char *lower[] = {"systemadministrator"};
		snprintf(tb_id, sizeof(tb_id), "%s", t_a1);
		CHECK_INT(
		    update_business(&tadm, tb_id, "ta1@example.com", "admin"),
		    UP_INVALID_ARGUMENT);
		CHECK_INT(patch(&sys_, t_b, NULL, lower, 1, NULL, 0, NULL),
			  UP_INVALID_ARGUMENT);
	}
	free(peer.token);
	free(both.token);
}

/* Answers of calls sent together, waited for with a deadline. */
static pthread_mutex_t race_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t race_cv = PTHREAD_COND_INITIALIZER;

static void
race_done(uc_result *res, void *arg)
{
	pthread_mutex_lock(&race_mu);
	*(int *)arg = res->status;
	pthread_cond_broadcast(&race_cv);
	pthread_mutex_unlock(&race_mu);
	uc_result_fini(res);
}

/* Waits until every st[i] is set (not -1), at most timeout_ms. */
static void
race_wait(const int *st, size_t n, int timeout_ms)
{
	struct timespec until;
	bool all = false;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	pthread_mutex_lock(&race_mu);
	while (!all) {
		all = true;
		for (size_t i = 0; i < n; i++) {
			all &= st[i] != -1;
		}
		if (!all &&
		    pthread_cond_timedwait(&race_cv, &race_mu, &until) != 0) {
			break;
		}
	}
	pthread_mutex_unlock(&race_mu);
}

/*
 * The last Admin keeps the role: two Admins deleting each other at the
 * same moment must leave one. Each round starts with exactly two active
 * Admins (the bootstrap Admin is demoted first) and sends both deletes
 * before either is answered; without the count in the write both would
 * go, and nobody could ever administer the service again.
 */
static void
test_last_admin(void)
{
	const char *r_admin[] = {"Admin"};
	const char *r_none[] = {"Viewer"};
	struct actor x = {"", "", NULL}, y = {"", "", NULL};
	static char ex[40], ey[40];
	int survivors_ok = 0;

	snprintf(ex, sizeof(ex), "last-x0@example.com");
	x.email = ex;
	CHECK_INT(new_user(&admin, x.email, NULL, x.id), UP_OK);
	CHECK_INT(patch(&admin, x.id, NULL, r_admin, 1, NULL, 0, NULL), UP_OK);
	CHECK_INT(login(&x, PW), UP_OK);
	/* Two Admins now: one may take the role from the other. */
	CHECK_INT(patch(&x, admin.id, NULL, r_none, 1, NULL, 0, NULL), UP_OK);
	for (int round = 0; round < 10; round++) {
		uc_call_opts ox = as(&x), oy;
		Users__V1__DeleteUser dx = USERS__V1__DELETE_USER__INIT;
		Users__V1__DeleteUser dy = USERS__V1__DELETE_USER__INIT;
		int st[2] = {-1, -1};

		snprintf(ey, sizeof(ey), "last-y%d@example.com", round);
		y.email = ey;
		CHECK_INT(new_user(&x, y.email, NULL, y.id), UP_OK);
		CHECK_INT(patch(&x, y.id, NULL, r_admin, 1, NULL, 0, NULL),
			  UP_OK);
		CHECK_INT(login(&y, PW), UP_OK);
		oy = as(&y);
		dx.user_id = y.id; /* x deletes y */
		dy.user_id = x.id; /* y deletes x */
		CHECK_INT(uc_delete_user_async(cl, &dx, &ox, race_done, &st[0]),
			  0);
		CHECK_INT(uc_delete_user_async(cl, &dy, &oy, race_done, &st[1]),
			  0);
		race_wait(st, 2, 20000);
		pthread_mutex_lock(&race_mu);
		/* exactly one delete went through; the other was refused */
		CHECK((st[0] == UP_OK) != (st[1] == UP_OK));
		CHECK(st[0] == UP_OK || st[0] == UP_FAILED_PRECONDITION ||
		      st[0] == UP_UNAUTHENTICATED);
		CHECK(st[1] == UP_OK || st[1] == UP_FAILED_PRECONDITION ||
		      st[1] == UP_UNAUTHENTICATED);
		survivors_ok += st[0] == UP_FAILED_PRECONDITION ||
				st[1] == UP_FAILED_PRECONDITION;
		pthread_mutex_unlock(&race_mu);
		if (st[1] == UP_OK) {
			/* y survived: it carries on as x */
			struct actor t = x;
			x = y;
			y = t;
			memcpy(ex, ey, sizeof(ex));
			x.email = ex;
		}
		free(y.token);
		y.token = NULL;
	}
	/* the survivor is an Admin and can still act as one */
	CHECK_INT(get_user(&x, x.id), UP_OK);
	CHECK_INT(patch(&x, admin.id, NULL, r_admin, 1, NULL, 0, NULL), UP_OK);
	CHECK_INT(login(&admin, "admin-password-1"), UP_OK);
	printf("last admin: %d of 10 races refused by the count\n",
	       survivors_ok);
	free(x.token);
}

static void
test_token_revocation(void)
{
	struct actor victim = {"victim@example.com", "", NULL};
	const char *r_none[] = {"Viewer"};
	char *old;

	CHECK_INT(new_user(&admin, victim.email, org_a, victim.id), UP_OK);
	CHECK_INT(login(&victim, PW), UP_OK);
	CHECK_INT(get_user(&victim, victim.id), UP_OK);
	/* A password change kills the tokens issued before it. */
	old = victim.token ? strdup(victim.token) : NULL;
	CHECK_INT(patch(&admin, victim.id, NULL, NULL, 0, NULL, 0,
			"another-password-1"),
		  UP_OK);
	CHECK_INT(get_user(&victim, victim.id), UP_UNAUTHENTICATED);
	CHECK_INT(login(&victim, PW), UP_UNAUTHENTICATED);
	CHECK_INT(login(&victim, "another-password-1"), UP_OK);
	CHECK_INT(get_user(&victim, victim.id), UP_OK);
	/* So does a change of roles. */
	CHECK_INT(patch(&admin, victim.id, NULL, r_none, 1, NULL, 0, NULL),
		  UP_OK);
	CHECK_INT(get_user(&victim, victim.id), UP_UNAUTHENTICATED);
	/* And deletion. */
	CHECK_INT(login(&victim, "another-password-1"), UP_OK);
	CHECK_INT(delete_user(&admin, victim.id), UP_OK);
	CHECK_INT(get_user(&victim, victim.id), UP_UNAUTHENTICATED);
	free(old);
	free(victim.token);
}

static void
test_replay(void)
{
	Users__V1__NewUser req = USERS__V1__NEW_USER__INIT;
	Users__V1__ListUsers lr = USERS__V1__LIST_USERS__INIT;
	uc_call_opts o = as(&admin);
	uc_result r1 = {0}, r2 = {0}, r3 = {0};

	o.request_id = "replay-test-0001";
	req.email_address = "replay@example.com";
	req.password = PW;
	CHECK_INT(uc_new_user(cl, &req, &o, &r1), UP_OK);
	/* The same id again: the first answer, not a second user (409). */
	CHECK_INT(uc_new_user(cl, &req, &o, &r2), UP_OK);
	if (r1.status == UP_OK && r2.status == UP_OK) {
		CHECK_STR(((Users__V1__UserInfo *)r2.response)->id,
			  ((Users__V1__UserInfo *)r1.response)->id);
	}
	lr.email = "replay@";
	o.request_id = NULL;
	CHECK_INT(uc_list_users(cl, &lr, &o, &r3), UP_OK);
	if (r3.status == UP_OK) {
		CHECK_INT(((Users__V1__ListUsersResponse *)r3.response)->total,
			  1);
	}
	uc_result_fini(&r1);
	uc_result_fini(&r2);
	uc_result_fini(&r3);
}

static void
test_lockout(void)
{
	struct actor a = {"plain@example.com", "", NULL};
	struct actor ghost = {"nobody@example.com", "", NULL};

	for (int i = 0; i < 5; i++) {
		CHECK_INT(login(&a, "wrong-password"), UP_UNAUTHENTICATED);
		CHECK_INT(login(&ghost, "wrong-password"), UP_UNAUTHENTICATED);
	}
	/* Locked now, even with the right password; the same for a name
	 * that does not exist, so the answer reveals nothing. */
	CHECK_INT(login(&a, PW), UP_RESOURCE_EXHAUSTED);
	CHECK_INT(login(&ghost, PW), UP_RESOURCE_EXHAUSTED);
	free(a.token);
	free(ghost.token);
}

int
main(void)
{
	th_daemon d;
	uc_options opts = {0};
	const char *urls[1];

	if (th_daemon_start(&d, NULL) != 0) {
		fprintf(stderr, "cannot start usersd\n");
		return 1;
	}
	urls[0] = d.url;
	opts.urls = urls;
	opts.n_urls = 1;
	opts.deadline_ms = 5000;
	if (uc_client_open(&cl, &opts) != 0) {
		th_daemon_stop(&d);
		return 1;
	}
	setup();
	test_new_user();
	test_patch_user();
	test_update_business_user();
	test_get_list_delete();
	test_escalations();
	test_last_admin();
	test_token_revocation();
	test_replay();
	test_lockout();
	uc_client_close(cl);
	th_daemon_stop(&d);
	free(admin.token);
	free(sys_.token);
	free(mgr.token);
	free(tadm.token);
	free(plain.token);
	return check_done();
}
