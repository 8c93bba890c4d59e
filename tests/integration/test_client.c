/*
 * test_client.c - libusersclient against real usersd processes: every
 * typed call (sync and async), 200 async calls in flight, deadlines with a
 * stopped daemon, no daemon at all, failover between two daemons, close
 * with calls in flight.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "harness.h"
#include "usersclient.h"

#define SLACK_MS 1000 /* scheduling slack on a loaded 2-core machine */

static uc_client *
open_client(const char *const *urls, size_t n, uint32_t deadline_ms)
{
	uc_options o = {.urls = urls, .n_urls = n, .deadline_ms = deadline_ms};
	uc_client *c = NULL;

	CHECK_INT(uc_client_open(&c, &o), 0);
	return c;
}

/* ------------------------------------------------------------------------
 * Async bookkeeping: every callback counted per call.
 */

#define MAX_CALLS 512

typedef struct waiter {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	int done;
	int calls[MAX_CALLS];  /* callbacks per call index */
	int status[MAX_CALLS]; /* last status per call index */
	char *text[MAX_CALLS]; /* a string from the response (see keep) */
} waiter;

typedef struct slot {
	waiter *w;
	int i;
} slot;

static slot slots[MAX_CALLS];

static void
waiter_init(waiter *w)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->mtx, NULL);
	pthread_cond_init(&w->cv, NULL);
	for (int i = 0; i < MAX_CALLS; i++) {
		slots[i].w = w;
		slots[i].i = i;
	}
}

static void
waiter_fini(waiter *w)
{
	for (int i = 0; i < MAX_CALLS; i++) {
		free(w->text[i]);
	}
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mtx);
}

/* Keeps the first string field of the response, for later checks. */
static char *
first_string(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d;

	if (m == NULL) {
		return NULL;
	}
	d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type == PROTOBUF_C_TYPE_STRING &&
		    f->label != PROTOBUF_C_LABEL_REPEATED) {
			const char *s =
			    *(const char *const *)((const char *)m + f->offset);
			return s != NULL ? strdup(s) : NULL;
		}
	}
	return NULL;
}

static void
on_done(uc_result *res, void *arg)
{
	slot *s = arg;
	waiter *w = s->w;
	char *text = first_string(res->response);

	/* OK and a response, or a failure and an error: never neither. */
	if ((res->status == UP_OK) != (res->response != NULL) ||
	    (res->status != UP_OK && res->error == NULL)) {
		fprintf(stderr, "bad result shape: status %d\n", res->status);
		res->status = -1;
	}
	pthread_mutex_lock(&w->mtx);
	w->calls[s->i]++;
	w->status[s->i] = res->status;
	free(w->text[s->i]);
	w->text[s->i] = text;
	w->done++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mtx);
	uc_result_fini(res);
}

/* Waits until n callbacks ran in all (at most ms). The count reached. */
static int
wait_done(waiter *w, int n, int ms)
{
	struct timespec ts;
	int done;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mtx);
	while (w->done < n &&
	       pthread_cond_timedwait(&w->cv, &w->mtx, &ts) == 0) {
	}
	done = w->done;
	pthread_mutex_unlock(&w->mtx);
	return done;
}

static int
done_count(waiter *w)
{
	int n;

	pthread_mutex_lock(&w->mtx);
	n = w->done;
	pthread_mutex_unlock(&w->mtx);
	return n;
}

/* Runs one async call to completion; before: the done count before the
 * call, rc: what the _async function returned. Its status, -2 if it failed
 * to start, -3 if the callback never came. Calls use slots[0]. */
static int
async1(waiter *w, int before, int rc)
{
	if (rc != 0) {
		return -2;
	}
	return wait_done(w, before + 1, 30000) > before ? w->status[0] : -3;
}

static int mark;
#define ASYNC1(w, call) (mark = done_count(w), async1((w), mark, (call)))

/* ------------------------------------------------------------------------
 * Every typed call, sync
 */

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
test_typed_sync(const th_daemon *d)
{
	const char *urls[] = {d->url};
	uc_client *c = open_client(urls, 1, 5000);
	uc_result res;
	char *refresh = NULL, *org = NULL, *org2 = NULL, *uid = NULL;

	if (c == NULL) {
		return;
	}
	CHECK(uc_bearer(c) == NULL);
	CHECK_INT(uc_login(c, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, &res), UP_OK);
	if (res.status == UP_OK) {
		const Users__V1__AuthenticateResponse *ar =
		    (const void *)res.response;
		CHECK(res.response->descriptor ==
		      &users__v1__authenticate_response__descriptor);
		CHECK(res.error == NULL);
		CHECK_STR(ar->bearer_token, uc_bearer(c));
		CHECK_STR(ar->user_id, TH_ADMIN_ID);
		refresh = dup_or_null(ar->refresh_token);
	}
	CHECK_STR(uc_result_message(&res), "OK");
	uc_result_fini(&res);
	CHECK(res.response == NULL && res.error == NULL);

	/* Authenticate (typed) and a wrong password. */
	Users__V1__Authenticate au = USERS__V1__AUTHENTICATE__INIT;
	au.provider = "credentials";
	au.user_name = TH_ADMIN_EMAIL;
	au.password = TH_ADMIN_PASSWORD;
	CHECK_INT(uc_authenticate(c, &au, NULL, &res), UP_OK);
	uc_result_fini(&res);
	au.password = "not-the-password";
	CHECK_INT(uc_authenticate(c, &au, NULL, &res), UP_UNAUTHENTICATED);
	CHECK(res.response == NULL && res.error != NULL &&
	      res.error->message != NULL && res.error->error_code != NULL);
	CHECK(strncmp(uc_result_message(&res), "UNAUTHENTICATED: ", 17) == 0);
	uc_result_fini(&res);

	/* GetAccessToken with the refresh token: a bearer token and the next
	 * refresh token (each is used once), then Logout with that one. */
	CHECK(refresh != NULL && refresh[0] != '\0');
	if (refresh != NULL && refresh[0] != '\0') {
		Users__V1__GetAccessToken gt =
		    USERS__V1__GET_ACCESS_TOKEN__INIT;
		Users__V1__Logout lo = USERS__V1__LOGOUT__INIT;
		char *next = NULL;

		gt.refresh_token = refresh;
		CHECK_INT(uc_get_access_token(c, &gt, NULL, &res), UP_OK);
		if (res.status == UP_OK) {
			const Users__V1__GetAccessTokenResponse *r =
			    (const void *)res.response;
			CHECK(r->access_token != NULL &&
			      r->access_token[0] != '\0');
			CHECK(r->refresh_token != NULL &&
			      strcmp(r->refresh_token, refresh) != 0);
			next = dup_or_null(r->refresh_token);
		}
		uc_result_fini(&res);
		lo.refresh_token = next;
		CHECK_INT(uc_logout(c, &lo, NULL, &res), UP_OK);
		uc_result_fini(&res);
		gt.refresh_token = next;
		CHECK_INT(uc_get_access_token(c, &gt, NULL, &res),
			  UP_UNAUTHENTICATED);
		uc_result_fini(&res);
		free(next);
	}

	/* Organizations. */
	Users__V1__CreateOrganization co = USERS__V1__CREATE_ORGANIZATION__INIT;
	co.name = "Acme";
	co.has_type = true;
	co.type = USERS__V1__ORGANIZATION_TYPE__Tenant;
	CHECK_INT(uc_create_organization(c, &co, NULL, &res), UP_OK);
	if (res.status == UP_OK) {
		const Users__V1__Organization *o = (const void *)res.response;
		CHECK_STR(o->name, "Acme");
		org = dup_or_null(o->id);
	}
	uc_result_fini(&res);
	co.name = "Second";
	CHECK_INT(uc_create_organization(c, &co, NULL, &res), UP_OK);
	if (res.status == UP_OK) {
		org2 =
		    dup_or_null(((Users__V1__Organization *)res.response)->id);
	}
	uc_result_fini(&res);

	Users__V1__GetOrganization go = USERS__V1__GET_ORGANIZATION__INIT;
	go.id = org;
	CHECK_INT(uc_get_organization(c, &go, NULL, &res), UP_OK);
	if (res.status == UP_OK) {
		CHECK_STR(((Users__V1__Organization *)res.response)->name,
			  "Acme");
	}
	uc_result_fini(&res);

	Users__V1__ListOrganizations lo = USERS__V1__LIST_ORGANIZATIONS__INIT;
	CHECK_INT(uc_list_organizations(c, &lo, NULL, &res), UP_OK);
	if (res.status == UP_OK) {
		const Users__V1__ListOrganizationsResponse *r =
		    (const void *)res.response;
		CHECK(r->total >= 2 && r->n_results >= 2);
	}
	uc_result_fini(&res);

	/* Users. */
	Users__V1__NewUser nu = USERS__V1__NEW_USER__INIT;
	nu.email_address = "ada@example.com";
	nu.first_name = "Ada";
	nu.last_name = "Byron";
	nu.password = "ada-password-1";
	nu.account_id = org;
	CHECK_INT(uc_new_user(c, &nu, NULL, &res), UP_OK);
	if (res.status == UP_OK) {
		const Users__V1__UserInfo *u = (const void *)res.response;
		CHECK_STR(u->email_address, "ada@example.com");
		uid = dup_or_null(u->id);
	}
	uc_result_fini(&res);
	/* The same email again: a conflict with the daemon's message. */
	CHECK_INT(uc_new_user(c, &nu, NULL, &res), UP_ALREADY_EXISTS);
	uc_result_fini(&res);

	Users__V1__GetUser gu = USERS__V1__GET_USER__INIT;
	gu.user_id = uid;
	CHECK_INT(uc_get_user(c, &gu, NULL, &res), UP_OK);
	if (res.status == UP_OK) {
		CHECK_STR(((Users__V1__UserInfo *)res.response)->first_name,
			  "Ada");
	}
	uc_result_fini(&res);

	Users__V1__PatchUser pu = USERS__V1__PATCH_USER__INIT;
	Users__V1__StringList roles = USERS__V1__STRING_LIST__INIT;
	char *role_items[] = {"Manager"};
	roles.items = role_items;
	roles.n_items = 1;
	pu.user_id = uid;
	pu.first_name = "Augusta";
	pu.roles = &roles;
	CHECK_INT(uc_patch_user(c, &pu, NULL, &res), UP_OK);
	if (res.status == UP_OK) {
		const Users__V1__UserInfo *u = (const void *)res.response;
		CHECK_STR(u->first_name, "Augusta");
		CHECK_INT(u->n_roles, 1);
		if (u->n_roles == 1) {
			CHECK_STR(u->roles[0], "Manager");
		}
	}
	uc_result_fini(&res);

	Users__V1__ListUsers lu = USERS__V1__LIST_USERS__INIT;
	lu.email = "ada@";
	CHECK_INT(uc_list_users(c, &lu, NULL, &res), UP_OK);
	if (res.status == UP_OK) {
		const Users__V1__ListUsersResponse *r =
		    (const void *)res.response;
		CHECK_INT(r->total, 1);
		CHECK_INT(r->n_results, 1);
		if (r->n_results == 1) {
			CHECK_STR(r->results[0]->first_name, "Augusta");
		}
	}
	uc_result_fini(&res);

	Users__V1__UpdateBusinessUser ub =
	    USERS__V1__UPDATE_BUSINESS_USER__INIT;
	ub.has_user_id = true;
	ub.user_id = uid != NULL ? atoll(uid) : 0;
	ub.first_name = "Ada";
	ub.last_name = "Lovelace";
	ub.email = "ada@example.com";
	ub.roles = role_items;
	ub.n_roles = 1;
	CHECK_INT(uc_update_business_user(c, &ub, NULL, &res), UP_OK);
	if (res.status == UP_OK) {
		const Users__V1__BusinessUserProfileDataResponse *r =
		    (const void *)res.response;
		CHECK(r->data != NULL);
		if (r->data != NULL) {
			CHECK_STR(r->data->last_name, "Lovelace");
		}
	}
	uc_result_fini(&res);

	Users__V1__AddOrganizationMember am =
	    USERS__V1__ADD_ORGANIZATION_MEMBER__INIT;
	am.organization_id = org2;
	am.user_id = uid;
	CHECK_INT(uc_add_organization_member(c, &am, NULL, &res), UP_OK);
	uc_result_fini(&res);
	Users__V1__RemoveOrganizationMember rm =
	    USERS__V1__REMOVE_ORGANIZATION_MEMBER__INIT;
	rm.organization_id = org2;
	rm.user_id = uid;
	CHECK_INT(uc_remove_organization_member(c, &rm, NULL, &res), UP_OK);
	uc_result_fini(&res);

	/* A repeated request id gets the first answer, not a second run. */
	Users__V1__NewUser nu2 = USERS__V1__NEW_USER__INIT;
	uc_call_opts once = {.request_id = "test-client-fixed-id-1"};
	char *first_id = NULL;
	nu2.email_address = "bob@example.com";
	nu2.first_name = "Bob";
	nu2.last_name = "Once";
	nu2.password = "bob-password-1";
	CHECK_INT(uc_new_user(c, &nu2, &once, &res), UP_OK);
	if (res.status == UP_OK) {
		first_id =
		    dup_or_null(((Users__V1__UserInfo *)res.response)->id);
	}
	uc_result_fini(&res);
	CHECK_INT(uc_new_user(c, &nu2, &once, &res), UP_OK);
	if (res.status == UP_OK && first_id != NULL) {
		CHECK_STR(((Users__V1__UserInfo *)res.response)->id, first_id);
	}
	uc_result_fini(&res);
	free(first_id);

	Users__V1__DeleteUser du = USERS__V1__DELETE_USER__INIT;
	du.user_id = uid;
	CHECK_INT(uc_delete_user(c, &du, NULL, &res), UP_OK);
	uc_result_fini(&res);
	CHECK_INT(uc_get_user(c, &gu, NULL, &res), UP_NOT_FOUND);
	CHECK(res.error != NULL && res.error->message != NULL);
	CHECK(strncmp(uc_result_message(&res), "NOT_FOUND: ", 11) == 0);
	uc_result_fini(&res);

	/* Per-call credentials override the client's. */
	uc_call_opts bad = {.bearer_token = "not-a-token"};
	gu.user_id = TH_ADMIN_ID;
	CHECK_INT(uc_get_user(c, &gu, &bad, &res), UP_UNAUTHENTICATED);
	uc_result_fini(&res);
	uc_call_opts basic = {.basic_user = TH_ADMIN_EMAIL,
			      .basic_password = TH_ADMIN_PASSWORD};
	CHECK_INT(uc_get_user(c, &gu, &basic, &res), UP_OK);
	uc_result_fini(&res);
	/* No credentials at all. */
	CHECK_INT(uc_set_bearer(c, NULL), 0);
	CHECK(uc_bearer(c) == NULL);
	CHECK_INT(uc_get_user(c, &gu, NULL, &res), UP_UNAUTHENTICATED);
	uc_result_fini(&res);
	CHECK_INT(uc_set_basic(c, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD), 0);
	CHECK_INT(uc_get_user(c, &gu, NULL, &res), UP_OK);
	uc_result_fini(&res);

	/* Caller mistakes, caught by the client. */
	CHECK_INT(uc_call(c, "GetUser", &au.base, NULL, &res),
		  UP_INVALID_ARGUMENT);
	CHECK(res.error != NULL);
	uc_result_fini(&res);
	CHECK_INT(uc_call(c, "NoSuchMethod", &gu.base, NULL, &res),
		  UP_INVALID_ARGUMENT);
	uc_result_fini(&res);
	CHECK_INT(uc_call(c, "getuser", &gu.base, NULL, &res), UP_OK);
	uc_result_fini(&res);

	free(refresh);
	free(org);
	free(org2);
	free(uid);
	uc_client_close(c);
}

/* ------------------------------------------------------------------------
 * Every typed call, async
 */

static void
test_typed_async(const th_daemon *d)
{
	const char *urls[] = {d->url};
	uc_client *c = open_client(urls, 1, 5000);
	waiter w;
	uc_result res;
	char *org = NULL, *uid = NULL;
	slot *s0 = &slots[0];

	if (c == NULL) {
		return;
	}
	waiter_init(&w);
	CHECK_INT(uc_login(c, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, &res), UP_OK);
	uc_result_fini(&res);

	Users__V1__Authenticate au = USERS__V1__AUTHENTICATE__INIT;
	au.provider = "credentials";
	au.user_name = TH_ADMIN_EMAIL;
	au.password = TH_ADMIN_PASSWORD;
	CHECK_INT(ASYNC1(&w, uc_authenticate_async(c, &au, NULL, on_done, s0)),
		  UP_OK);
	Users__V1__GetAccessToken gt = USERS__V1__GET_ACCESS_TOKEN__INIT;
	gt.refresh_token = "not-a-refresh-token";
	CHECK(ASYNC1(&w, uc_get_access_token_async(c, &gt, NULL, on_done, s0)) >
	      0);

	Users__V1__CreateOrganization co = USERS__V1__CREATE_ORGANIZATION__INIT;
	co.name = "Async Org";
	CHECK_INT(
	    ASYNC1(&w, uc_create_organization_async(c, &co, NULL, on_done, s0)),
	    UP_OK);
	org = dup_or_null(w.text[0]); /* Organization.id */
	Users__V1__GetOrganization go = USERS__V1__GET_ORGANIZATION__INIT;
	go.id = org;
	CHECK_INT(
	    ASYNC1(&w, uc_get_organization_async(c, &go, NULL, on_done, s0)),
	    UP_OK);
	Users__V1__ListOrganizations lo = USERS__V1__LIST_ORGANIZATIONS__INIT;
	CHECK_INT(
	    ASYNC1(&w, uc_list_organizations_async(c, &lo, NULL, on_done, s0)),
	    UP_OK);

	Users__V1__NewUser nu = USERS__V1__NEW_USER__INIT;
	nu.email_address = "async@example.com";
	nu.first_name = "A";
	nu.last_name = "Sync";
	nu.password = "async-password-1";
	CHECK_INT(ASYNC1(&w, uc_new_user_async(c, &nu, NULL, on_done, s0)),
		  UP_OK);
	uid = dup_or_null(w.text[0]); /* UserInfo.id */
	Users__V1__GetUser gu = USERS__V1__GET_USER__INIT;
	gu.user_id = uid;
	CHECK_INT(ASYNC1(&w, uc_get_user_async(c, &gu, NULL, on_done, s0)),
		  UP_OK);
	Users__V1__PatchUser pu = USERS__V1__PATCH_USER__INIT;
	pu.user_id = uid;
	pu.last_name = "Patched";
	CHECK_INT(ASYNC1(&w, uc_patch_user_async(c, &pu, NULL, on_done, s0)),
		  UP_OK);
	Users__V1__ListUsers lu = USERS__V1__LIST_USERS__INIT;
	CHECK_INT(ASYNC1(&w, uc_list_users_async(c, &lu, NULL, on_done, s0)),
		  UP_OK);
	Users__V1__UpdateBusinessUser ub =
	    USERS__V1__UPDATE_BUSINESS_USER__INIT;
	char *roles[] = {"Manager"};
	ub.has_user_id = true;
	ub.user_id = uid != NULL ? atoll(uid) : 0;
	ub.first_name = "A";
	ub.last_name = "Sync";
	ub.email = "async@example.com";
	ub.roles = roles;
	ub.n_roles = 1;
	CHECK_INT(ASYNC1(&w, uc_update_business_user_async(c, &ub, NULL,
							   on_done, s0)),
		  UP_OK);
	Users__V1__AddOrganizationMember am =
	    USERS__V1__ADD_ORGANIZATION_MEMBER__INIT;
	am.organization_id = org;
	am.user_id = uid;
	CHECK_INT(ASYNC1(&w, uc_add_organization_member_async(c, &am, NULL,
							      on_done, s0)),
		  UP_OK);
	Users__V1__RemoveOrganizationMember rm =
	    USERS__V1__REMOVE_ORGANIZATION_MEMBER__INIT;
	rm.organization_id = org;
	rm.user_id = uid;
	CHECK_INT(ASYNC1(&w, uc_remove_organization_member_async(c, &rm, NULL,
								 on_done, s0)),
		  UP_OK);
	Users__V1__DeleteUser du = USERS__V1__DELETE_USER__INIT;
	du.user_id = uid;
	CHECK_INT(ASYNC1(&w, uc_delete_user_async(c, &du, NULL, on_done, s0)),
		  UP_OK);
	CHECK_INT(w.calls[0], w.done); /* one callback per call */

	/* A call that fails to start never calls back. */
	int before = w.done;
	CHECK_INT(uc_call_async(c, "GetUser", &au.base, NULL, on_done, s0),
		  UP_INVALID_ARGUMENT);
	CHECK_INT(uc_call_async(c, "GetUser", NULL, NULL, on_done, s0),
		  UP_INVALID_ARGUMENT);
	CHECK_INT(uc_call_async(c, "GetUser", &gu.base, NULL, NULL, NULL),
		  UP_INVALID_ARGUMENT);
	CHECK_INT(wait_done(&w, before + 1, 300), before);

	/* 200 in flight at once, every callback exactly once. */
	enum { N = 200 };
	Users__V1__GetUser admin = USERS__V1__GET_USER__INIT;
	admin.user_id = TH_ADMIN_ID;
	waiter_fini(&w);
	waiter_init(&w);
	long long t0 = th_now_ms();
	int started = 0;
	for (int i = 0; i < N; i++) {
		started +=
		    uc_get_user_async(c, &admin, NULL, on_done, &slots[i]) == 0;
	}
	CHECK_INT(started, N);
	CHECK_INT(wait_done(&w, N, 30000), N);
	int once = 0, ok = 0;
	for (int i = 0; i < N; i++) {
		once += w.calls[i] == 1;
		ok += w.status[i] == UP_OK;
	}
	CHECK_INT(once, N);
	CHECK_INT(ok, N);
	fprintf(stderr, "200 async GetUser in %lld ms\n", th_now_ms() - t0);
	/* No late second callback. */
	CHECK_INT(wait_done(&w, N + 1, 200), N);

	free(org);
	free(uid);
	uc_client_close(c);
	waiter_fini(&w);
}

/* ------------------------------------------------------------------------
 * Deadlines, no daemon, close
 */

static void
test_deadline_stopped(th_daemon *d)
{
	const char *urls[] = {d->url};
	uc_client *c = open_client(urls, 1, 5000);
	Users__V1__GetUser gu = USERS__V1__GET_USER__INIT;
	uc_call_opts o = {.deadline_ms = 500};
	uc_result res;
	waiter w;
	long long t0, dt;

	if (c == NULL) {
		return;
	}
	waiter_init(&w);
	gu.user_id = TH_ADMIN_ID;
	CHECK_INT(uc_login(c, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, &res), UP_OK);
	uc_result_fini(&res);
	CHECK_INT(th_daemon_signal(d, SIGSTOP), 0);

	t0 = th_now_ms();
	CHECK_INT(uc_get_user(c, &gu, &o, &res), UP_DEADLINE_EXCEEDED);
	dt = th_now_ms() - t0;
	CHECK(res.error != NULL && res.response == NULL);
	uc_result_fini(&res);
	CHECK(dt >= 450);
	CHECK(dt <= 500 + SLACK_MS);
	fprintf(stderr, "stopped daemon: DEADLINE_EXCEEDED after %lld ms\n",
		dt);

	/* Async too, 20 at once, each within its deadline. */
	o.deadline_ms = 300;
	t0 = th_now_ms();
	for (int i = 0; i < 20; i++) {
		CHECK_INT(uc_get_user_async(c, &gu, &o, on_done, &slots[i]), 0);
	}
	CHECK_INT(wait_done(&w, 20, 300 + SLACK_MS), 20);
	dt = th_now_ms() - t0;
	for (int i = 0; i < 20; i++) {
		CHECK_INT(w.status[i], UP_DEADLINE_EXCEEDED);
		CHECK_INT(w.calls[i], 1);
	}
	CHECK(dt <= 300 + SLACK_MS);

	CHECK_INT(th_daemon_signal(d, SIGCONT), 0);
	CHECK_INT(uc_get_user(c, &gu, NULL, &res), UP_OK);
	uc_result_fini(&res);
	uc_client_close(c);
	waiter_fini(&w);
}

static void
test_no_daemon(void)
{
	char ipc[128];
	const char *urls[2];
	Users__V1__GetUser gu = USERS__V1__GET_USER__INIT;
	uc_result res;
	waiter w;
	long long t0, dt;

	snprintf(ipc, sizeof(ipc), "ipc:///tmp/usersd-none-%d.sock",
		 (int)getpid());
	urls[0] = ipc;
	urls[1] = "tcp://127.0.0.1:1"; /* refused */
	gu.user_id = TH_ADMIN_ID;
	waiter_init(&w);
	for (size_t n = 1; n <= 2; n++) {
		uc_client *c = open_client(urls + (n - 1), 1, 2000);
		if (c == NULL) {
			continue;
		}
		/* Right after open: waits for the dial, at most the grace. */
		t0 = th_now_ms();
		CHECK_INT(uc_get_user(c, &gu, NULL, &res), UP_UNAVAILABLE);
		dt = th_now_ms() - t0;
		CHECK(res.error != NULL);
		uc_result_fini(&res);
		CHECK(dt <= 2000 + SLACK_MS);
		fprintf(stderr, "no daemon (%s): UNAVAILABLE after %lld ms\n",
			urls[n - 1], dt);
		/* Later: at once. */
		t0 = th_now_ms();
		CHECK_INT(uc_get_user(c, &gu, NULL, &res), UP_UNAVAILABLE);
		uc_result_fini(&res);
		CHECK(th_now_ms() - t0 <= 500);
		/* Async: the callback, once, on an nng thread. */
		int before = w.done;
		CHECK_INT(uc_get_user_async(c, &gu, NULL, on_done, &slots[n]),
			  0);
		CHECK_INT(wait_done(&w, before + 1, 2000 + SLACK_MS),
			  before + 1);
		CHECK_INT(w.status[n], UP_UNAVAILABLE);
		uc_client_close(c);
	}
	/* A URL nng cannot use at all. */
	{
		const char *bad[] = {"nonsense://x"};
		uc_options o = {.urls = bad, .n_urls = 1};
		uc_client *c = NULL;
		CHECK(uc_client_open(&c, &o) != 0);
		CHECK(c == NULL);
	}
	waiter_fini(&w);
}

/* Close waits for the calls in flight: all callbacks ran when it returns. */
static void
test_close_in_flight(const th_daemon *d)
{
	const char *urls[] = {d->url};
	uc_client *c = open_client(urls, 1, 5000);
	Users__V1__GetUser gu = USERS__V1__GET_USER__INIT;
	uc_result res;
	waiter w;
	int started = 0;

	if (c == NULL) {
		return;
	}
	waiter_init(&w);
	gu.user_id = TH_ADMIN_ID;
	CHECK_INT(uc_login(c, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, &res), UP_OK);
	uc_result_fini(&res);
	for (int i = 0; i < 100; i++) {
		started +=
		    uc_get_user_async(c, &gu, NULL, on_done, &slots[i]) == 0;
	}
	uc_client_close(c);
	pthread_mutex_lock(&w.mtx);
	CHECK_INT(w.done, started);
	pthread_mutex_unlock(&w.mtx);
	CHECK_INT(started, 100);
	waiter_fini(&w);
}

/* ------------------------------------------------------------------------
 * Failover
 */

#define FAILOVER_USERS 50

/* The same FAILOVER_USERS users (fo-N@example.com, password PW) on d. */
static void
add_failover_users(const th_daemon *d)
{
	const char *urls[] = {d->url};
	uc_client *c = open_client(urls, 1, 5000);
	uc_result res;
	char email[64];

	if (c == NULL) {
		CHECK(0);
		return;
	}
	CHECK_INT(uc_login(c, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, &res), UP_OK);
	uc_result_fini(&res);
	for (int i = 0; i < FAILOVER_USERS; i++) {
		Users__V1__NewUser nu = USERS__V1__NEW_USER__INIT;
		snprintf(email, sizeof(email), "fo-%d@example.com", i);
		nu.email_address = email;
		nu.password = TH_ADMIN_PASSWORD;
		CHECK_INT(uc_new_user(c, &nu, NULL, &res), UP_OK);
		uc_result_fini(&res);
	}
	uc_client_close(c);
}

static void
test_failover(void)
{
	th_daemon d1, d2;
	const char *urls[2];
	uc_client *c;
	waiter w;
	int ok = 0;
	Users__V1__Authenticate au = USERS__V1__AUTHENTICATE__INIT;
	uc_result res;

	if (th_daemon_start(&d1, NULL) != 0) {
		CHECK(!"first daemon");
		return;
	}
	if (th_daemon_start(&d2, NULL) != 0) {
		CHECK(!"second daemon");
		th_daemon_stop(&d1);
		return;
	}
	urls[0] = d1.url;
	urls[1] = d2.url;
	c = open_client(urls, 2, 3000);
	if (c == NULL) {
		goto out;
	}
	waiter_init(&w);
	au.provider = "credentials";
	au.user_name = TH_ADMIN_EMAIL;
	au.password = TH_ADMIN_PASSWORD;
	for (int i = 0; i < 20; i++) {
		ok += uc_authenticate(c, &au, NULL, &res) == UP_OK;
		uc_result_fini(&res);
	}
	CHECK_INT(ok, 20);

	/*
	 * Kill one with calls in flight: they all still succeed. Sign-ins of
	 * one user each: more than five at once for one name would be
	 * refused by the lockout (the calls are packed before the async call
	 * returns, so one message serves them all).
	 */
	add_failover_users(&d1);
	add_failover_users(&d2);
	for (int i = 0; i < FAILOVER_USERS; i++) {
		char email[64];
		snprintf(email, sizeof(email), "fo-%d@example.com", i);
		au.user_name = email;
		CHECK_INT(
		    uc_authenticate_async(c, &au, NULL, on_done, &slots[i]), 0);
	}
	au.user_name = TH_ADMIN_EMAIL;
	CHECK_INT(th_daemon_kill(&d1), 0);
	CHECK_INT(wait_done(&w, FAILOVER_USERS, 3000 + SLACK_MS),
		  FAILOVER_USERS);
	ok = 0;
	for (int i = 0; i < FAILOVER_USERS; i++) {
		ok += w.status[i] == UP_OK && w.calls[i] == 1;
	}
	CHECK_INT(ok, FAILOVER_USERS);

	/* And afterwards, each call well within its deadline. */
	ok = 0;
	long long worst = 0;
	for (int i = 0; i < 20; i++) {
		long long t0 = th_now_ms();
		ok += uc_authenticate(c, &au, NULL, &res) == UP_OK;
		if (res.status != UP_OK) {
			fprintf(stderr, "failover call: %s\n",
				uc_result_message(&res));
		}
		uc_result_fini(&res);
		if (th_now_ms() - t0 > worst) {
			worst = th_now_ms() - t0;
		}
	}
	CHECK_INT(ok, 20);
	CHECK(worst < 3000);
	fprintf(stderr, "failover: slowest call after the kill %lld ms\n",
		worst);

	/* Basic credentials: GetUser of the admin works on either daemon. */
	Users__V1__GetUser gu = USERS__V1__GET_USER__INIT;
	gu.user_id = TH_ADMIN_ID;
	CHECK_INT(uc_set_basic(c, TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD), 0);
	CHECK_INT(uc_get_user(c, &gu, NULL, &res), UP_OK);
	uc_result_fini(&res);
	uc_client_close(c);
	waiter_fini(&w);
out:
	th_daemon_stop(&d1);
	th_daemon_stop(&d2);
}

int
main(void)
{
	th_daemon d;

	if (up_meta_load() != 0 || th_daemon_start(&d, NULL) != 0) {
		fprintf(stderr, "cannot start usersd\n");
		return 1;
	}
	test_typed_sync(&d);
	test_typed_async(&d);
	test_close_in_flight(&d);
	test_deadline_stopped(&d);
	test_no_daemon();
	CHECK_INT(th_daemon_stop(&d), 0);
	test_failover();
	return check_done();
}
