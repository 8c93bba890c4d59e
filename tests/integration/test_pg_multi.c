/*
 * test_pg_multi.c - two usersd on one PostgreSQL database behind one
 * usersgw (--daemon twice), all real processes on loopback:
 *
 *   writers    concurrent creates and patches through the gateway land on
 *              both daemons; afterwards every acknowledged write is in the
 *              database (read back through the store, not the daemons),
 *              each patched user with the last acknowledged value;
 *   one email  the same new email sent at once through both daemons, in
 *              two letter cases: exactly one 200, the others 409;
 *   no lost    a PatchUser (new password) and an UpdateBusinessUser (new
 *   update     phone number) of one user at once, round after round,
 *              through both daemons: each round's password and phone
 *              number both stick;
 *   lockout    failed sign-ins spread over both daemons add up: the
 *              sixth attempt is refused even with the right password;
 *   kill       one daemon SIGKILLed in the middle of a write load: the
 *              gateway keeps answering through the other, and no
 *              acknowledged write is lost;
 *   replay     a write's request id answered by one daemon is answered
 *              with the same bytes by the other (the request log is in
 *              the database), and does not run twice; the same through
 *              two gateways with an Idempotency-Key (POST and PATCH);
 *   tokens     a refresh token traded on one daemon is used up on the
 *              other: used again there it ends the sign-in everywhere; a
 *              refresh repeated under its request id on the other daemon
 *              is the first answer, not reuse; a logout on one daemon
 *              holds on the other;
 *   revoke     a caller's role removed through one daemon is refused on
 *              the other's very next call (a read, then a write), though
 *              that daemon keeps its callers' records between calls; a
 *              role given back holds at once too, and a deleted caller's
 *              token is refused.
 *
 * The database comes from the private cluster of the "pg" fixture
 * (tests/pg). Nothing sleeps to wait: every wait polls with a deadline.
 */
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"
#include "gw_harness.h"
#include "harness.h"
#include "pg_testdb.h"
#include "store.h"
#include "users_proto.h"

#define WAIT_MS   20000 /* the longest any one wait may take */
#define N_WRITERS 4
#define N_WRITES  40 /* creates (each followed by a patch) per writer */
#define MAX_ACKED (N_WRITERS * 400)

static th_daemon d1, d2;
static gwh_proc gw;
static char dburl[512];
static char token[4096];

static const char *
jstr(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

static int
login_as(const char *email, const char *password, bool keep)
{
	const char *h[] = {"Content-Type: application/json", NULL};
	char body[512];
	gwh_res r;
	int st;

	snprintf(body, sizeof(body),
		 "{\"userName\":\"%s\",\"password\":\"%s\"}", email, password);
	gwh_http(gw.port, "POST", "/auth/credentials", h, body, &r);
	st = r.status;
	if (keep && st == 200 && jstr(r.json, "bearerToken") != NULL) {
		snprintf(token, sizeof(token), "%s",
			 jstr(r.json, "bearerToken"));
	}
	gwh_res_fini(&r);
	return st;
}

/* POST /users; the new id into *id (when 200). The HTTP status. */
static int
create_user(const char *email, const char *password, long long *id)
{
	char auth[4200], body[512];
	const char *h[] = {auth, "Content-Type: application/json", NULL};
	gwh_res r;
	int st;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	snprintf(body, sizeof(body),
		 "{\"emailAddress\":\"%s\",\"firstName\":\"New\","
		 "\"lastName\":\"Writer\",\"password\":\"%s\"}",
		 email, password);
	gwh_http(gw.port, "POST", "/users", h, body, &r);
	st = r.status;
	if (st == 200 && id != NULL) {
		const char *s = jstr(r.json, "id");
		*id = s != NULL ? strtoll(s, NULL, 10) : 0;
	}
	gwh_res_fini(&r);
	return st;
}

/* method path (with a JSON body, or none) as the bearer of tok: the
 * HTTP status. */
static int
gw_status(const char *tok, const char *method, const char *path,
	  const char *body)
{
	char auth[4200];
	const char *h[] = {auth, "Content-Type: application/json", NULL};
	gwh_res r;
	int st;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	if (body == NULL) {
		h[1] = NULL;
	}
	gwh_http(gw.port, method, path, h, body, &r);
	st = r.status;
	gwh_res_fini(&r);
	return st;
}

/* PATCH /users/{id} {"firstName": first}. The HTTP status. */
static int
patch_user(long long id, const char *first)
{
	char path[64], body[256];

	snprintf(path, sizeof(path), "/users/%lld", id);
	snprintf(body, sizeof(body), "{\"firstName\":\"%s\"}", first);
	return gw_status(token, "PATCH", path, body);
}

/* A counter of /metrics for one daemon; -1 when the series is missing. */
static long long
metric(const char *name, const th_daemon *d)
{
	return gwh_daemon_metric(gw.port, name, d->url);
}

/* ------------------------------------------------------------------------
 * Acknowledged writes, checked against the database afterwards
 */

typedef struct acked {
	char email[64];
	char first[32]; /* the last acknowledged firstName */
	long long id;
} acked;

static acked acks[MAX_ACKED];
static atomic_int n_acked;

typedef struct writer_state {
	int no;
	int round; /* which load, for unique emails */
	atomic_bool *stop;
	int max;
	atomic_int *ok;
	atomic_int *failed;
} writer_state;

static void *
writer(void *arg)
{
	writer_state *w = arg;

	for (int i = 0; i < w->max && !atomic_load(w->stop); i++) {
		char email[64], first[32];
		long long id = 0;
		int st, slot;

		snprintf(email, sizeof(email), "w%d-%d-%d@example.com",
			 w->round, w->no, i);
		st = create_user(email, "writer-password-1", &id);
		if (st != 200) {
			fprintf(stderr, "create %s: %d\n", email, st);
			atomic_fetch_add(w->failed, 1);
			continue;
		}
		slot = atomic_fetch_add(&n_acked, 1);
		if (slot >= MAX_ACKED) {
			break;
		}
		snprintf(acks[slot].email, sizeof(acks[slot].email), "%s",
			 email);
		snprintf(acks[slot].first, sizeof(acks[slot].first), "New");
		acks[slot].id = id;
		atomic_fetch_add(w->ok, 1);
		snprintf(first, sizeof(first), "P%d", i);
		st = patch_user(id, first);
		if (st == 200) {
			snprintf(acks[slot].first, sizeof(acks[slot].first),
				 "%s", first);
			atomic_fetch_add(w->ok, 1);
		} else {
			fprintf(stderr, "patch %lld: %d\n", id, st);
			atomic_fetch_add(w->failed, 1);
		}
	}
	return NULL;
}

/* Every acknowledged write, read back from the database itself. */
static void
check_acked_in_db(void)
{
	ud_store *st = NULL;
	ud_store_conn *r = NULL;
	int n = atomic_load(&n_acked), missing = 0, stale = 0;

	if (n > MAX_ACKED) {
		n = MAX_ACKED;
	}
	CHECK_INT(ud_store_open(&st, dburl, NULL), 0);
	if (st == NULL) {
		return;
	}
	CHECK_INT(ud_store_reader_open(st, &r), 0);
	for (int i = 0; r != NULL && i < n; i++) {
		ud_user u = {0};
		if (ud_store_user_by_email(r, acks[i].email, &u) != 0) {
			fprintf(stderr, "acknowledged, not stored: %s\n",
				acks[i].email);
			missing++;
			continue;
		}
		if (u.id != acks[i].id || u.first_name == NULL ||
		    strcmp(u.first_name, acks[i].first) != 0) {
			fprintf(stderr, "%s: id %lld first %s, acked %lld %s\n",
				acks[i].email, (long long)u.id,
				u.first_name ? u.first_name : "(null)",
				acks[i].id, acks[i].first);
			stale++;
		}
		ud_user_fini(&u);
	}
	CHECK_INT(missing, 0);
	CHECK_INT(stale, 0);
	fprintf(stderr, "database: %d acknowledged creates all present\n", n);
	ud_store_reader_close(r);
	ud_store_close(st);
}

/* Runs N_WRITERS writers; kill: SIGKILL d2 once some writes are in. */
static void
run_writers(int round, bool kill, int *ok_out, int *failed_out)
{
	pthread_t tid[N_WRITERS];
	writer_state ws[N_WRITERS];
	atomic_bool stop = false;
	atomic_int ok = 0, failed = 0;

	for (int i = 0; i < N_WRITERS; i++) {
		ws[i] = (writer_state){i, round, &stop, N_WRITES, &ok, &failed};
		CHECK_INT(pthread_create(&tid[i], NULL, writer, &ws[i]), 0);
	}
	if (kill) {
		long long t0 = th_now_ms();
		while (atomic_load(&ok) < 40 && th_now_ms() - t0 < WAIT_MS) {
			gwh_nap_ms(2);
		}
		CHECK(atomic_load(&ok) >= 40);
		CHECK_INT(th_daemon_kill(&d2), 0);
		fprintf(stderr, "kill: usersd 2 killed after %d writes\n",
			atomic_load(&ok));
	}
	for (int i = 0; i < N_WRITERS; i++) {
		pthread_join(tid[i], NULL);
	}
	*ok_out = atomic_load(&ok);
	*failed_out = atomic_load(&failed);
}

static void
test_writers(void)
{
	long long b1 = metric("usersgw_daemon_replies_total", &d1);
	long long b2 = metric("usersgw_daemon_replies_total", &d2);
	int ok = 0, failed = 0;

	run_writers(0, false, &ok, &failed);
	fprintf(stderr, "writers: %d writes acknowledged, %d failed\n", ok,
		failed);
	CHECK_INT(failed, 0);
	CHECK_INT(ok, 2 * N_WRITERS * N_WRITES);
	/* both daemons took writes */
	CHECK(metric("usersgw_daemon_replies_total", &d1) > b1 + 10);
	CHECK(metric("usersgw_daemon_replies_total", &d2) > b2 + 10);
	check_acked_in_db();
}

/* ------------------------------------------------------------------------
 * One email at once through both daemons
 */

typedef struct race_arg {
	const char *email;
	int status;
} race_arg;

static void *
race_one(void *arg)
{
	race_arg *a = arg;

	a->status = create_user(a->email, "race-password-1", NULL);
	return NULL;
}

static void
test_one_email(void)
{
	static const char *emails[] = {"race@example.com", "RACE@example.com",
				       "Race@Example.com", "race@EXAMPLE.COM",
				       "rAcE@example.com", "race@example.COM"};
	enum { N = sizeof(emails) / sizeof(emails[0]) };
	pthread_t tid[N];
	race_arg a[N];
	int created = 0, conflict = 0;

	for (int i = 0; i < N; i++) {
		a[i] = (race_arg){emails[i], 0};
		CHECK_INT(pthread_create(&tid[i], NULL, race_one, &a[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(tid[i], NULL);
		created += a[i].status == 200;
		conflict += a[i].status == 409;
	}
	fprintf(stderr, "one email: %d created, %d conflicts\n", created,
		conflict);
	CHECK_INT(created, 1);
	CHECK_INT(conflict, N - 1);
}

/* ------------------------------------------------------------------------
 * A PatchUser and an UpdateBusinessUser of one user at once
 */

#define N_ROUNDS 15

typedef struct update_arg {
	long long id;
	int round;
	int status;
} update_arg;

static void *
patch_password(void *arg)
{
	update_arg *a = arg;
	char auth[4200], path[64], body[256];
	const char *h[] = {auth, "Content-Type: application/json", NULL};
	gwh_res r;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	snprintf(path, sizeof(path), "/users/%lld", a->id);
	snprintf(body, sizeof(body), "{\"newPassword\":\"round-%d-password\"}",
		 a->round);
	gwh_http(gw.port, "PATCH", path, h, body, &r);
	a->status = r.status;
	gwh_res_fini(&r);
	return NULL;
}

static void *
put_phone(void *arg)
{
	update_arg *a = arg;
	char auth[4200], body[512];
	const char *h[] = {auth, "Content-Type: application/json", NULL};
	gwh_res r;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	snprintf(body, sizeof(body),
		 "{\"userId\":%lld,\"firstName\":\"Both\",\"lastName\":"
		 "\"Ways\",\"email\":\"both@example.com\",\"phoneNumber\":"
		 "\"+1555010%02d\",\"roles\":[\"Manager\"],\"version\":1}",
		 a->id, a->round);
	gwh_http(gw.port, "PUT", "/user", h, body, &r);
	a->status = r.status;
	if (r.status != 200) {
		fprintf(stderr, "PUT /user: %d %.*s\n", r.status,
			(int)r.body_len, r.body != NULL ? r.body : "");
	}
	gwh_res_fini(&r);
	return NULL;
}

static void
test_no_lost_update(void)
{
	ud_store *st = NULL;
	ud_store_conn *rd = NULL;
	long long id = 0;
	int lost_pw = 0, lost_phone = 0;

	CHECK_INT(create_user("both@example.com", "round-x-password", &id),
		  200);
	CHECK_INT(ud_store_open(&st, dburl, NULL), 0);
	if (st == NULL || id == 0 || ud_store_reader_open(st, &rd) != 0) {
		CHECK(0);
		ud_store_close(st);
		return;
	}
	for (int i = 0; i < N_ROUNDS; i++) {
		update_arg pa = {id, i, 0}, ua = {id, i, 0};
		pthread_t t1, t2;
		char pw[64], phone[32];
		ud_user u = {0};

		CHECK_INT(pthread_create(&t1, NULL, patch_password, &pa), 0);
		CHECK_INT(pthread_create(&t2, NULL, put_phone, &ua), 0);
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		CHECK_INT(pa.status, 200);
		CHECK_INT(ua.status, 200);
		snprintf(pw, sizeof(pw), "round-%d-password", i);
		snprintf(phone, sizeof(phone), "+1555010%02d", i);
		if (login_as("both@example.com", pw, false) != 200) {
			lost_pw++;
		}
		if (ud_store_user_get(rd, id, &u) != 0 ||
		    u.phone_number == NULL ||
		    strcmp(u.phone_number, phone) != 0) {
			lost_phone++;
		}
		ud_user_fini(&u);
	}
	fprintf(stderr,
		"no lost update: %d rounds, %d passwords and %d "
		"phone numbers lost\n",
		N_ROUNDS, lost_pw, lost_phone);
	CHECK_INT(lost_pw, 0);
	CHECK_INT(lost_phone, 0);
	ud_store_reader_close(rd);
	ud_store_close(st);
}

/* ------------------------------------------------------------------------
 * Failed sign-ins add up across daemons
 */

static void
test_lockout(void)
{
	long long b1, b2;
	int st;

	CHECK_INT(create_user("victim@example.com", "victim-password-1", NULL),
		  200);
	b1 = metric("usersgw_daemon_replies_total", &d1);
	b2 = metric("usersgw_daemon_replies_total", &d2);
	for (int i = 0; i < 5; i++) {
		CHECK_INT(
		    login_as("victim@example.com", "wrong-password-9", false),
		    401);
	}
	/* the five went to both daemons: neither saw five by itself */
	CHECK(metric("usersgw_daemon_replies_total", &d1) > b1);
	CHECK(metric("usersgw_daemon_replies_total", &d2) > b2);
	for (int i = 0; i < 4; i++) {
		st = login_as("victim@example.com", "victim-password-1", false);
		CHECK_INT(st, 429);
	}
	/* another name is not affected */
	CHECK_INT(login_as(TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, true), 200);
}

/* ------------------------------------------------------------------------
 * The request log across daemons
 */

static Users__V1__ResponseEnvelope *
raw_call(const char *url, const uint8_t *buf, size_t len)
{
	nng_socket s;
	Users__V1__ResponseEnvelope *env = NULL;
	char *rb = NULL;
	size_t rn = 0;

	/* never closed: nng_close can hang (docs/decisions.md, section 13);
	 * exit frees */
	if (nng_req0_open(&s) != 0) {
		return NULL;
	}
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 5000);
	if (nng_dial(s, url, NULL, 0) == 0 &&
	    nng_send(s, (void *)buf, len, 0) == 0 &&
	    nng_recv(s, &rb, &rn, NNG_FLAG_ALLOC) == 0) {
		env = users__v1__response_envelope__unpack(NULL, rn,
							   (uint8_t *)rb);
		nng_free(rb, rn);
	}
	return env;
}

static void
test_replay_across(void)
{
	Users__V1__RequestEnvelope e = USERS__V1__REQUEST_ENVELOPE__INIT;
	Users__V1__NewUser nu = USERS__V1__NEW_USER__INIT;
	Users__V1__ResponseEnvelope *a, *b;
	uint8_t payload[512], buf[8192];
	size_t n;

	nu.email_address = "replayed@example.com";
	nu.first_name = "Re";
	nu.last_name = "Played";
	nu.password = "replayed-password-1";
	e.method = "NewUser";
	e.bearer_token = token;
	e.request_id = "pg-multi-replay-1";
	e.has_payload = true;
	e.payload.data = payload;
	e.payload.len = users__v1__new_user__pack(&nu, payload);
	if (users__v1__request_envelope__get_packed_size(&e) > sizeof(buf)) {
		CHECK(0);
		return;
	}
	n = users__v1__request_envelope__pack(&e, buf);
	a = raw_call(d1.url, buf, n);
	b = raw_call(d2.url, buf, n);
	CHECK(a != NULL && (int)a->status == UP_OK && a->has_payload);
	CHECK(b != NULL && (int)b->status == UP_OK && b->has_payload);
	if (a != NULL && b != NULL && a->has_payload && b->has_payload) {
		CHECK(a->payload.len == b->payload.len &&
		      memcmp(a->payload.data, b->payload.data,
			     a->payload.len) == 0);
	}
	if (a != NULL) {
		users__v1__response_envelope__free_unpacked(a, NULL);
	}
	if (b != NULL) {
		users__v1__response_envelope__free_unpacked(b, NULL);
	}
	/* and it ran once: a new id for that email is a conflict */
	CHECK_INT(
	    create_user("Replayed@example.com", "replayed-password-1", NULL),
	    409);
}

/*
 * method path on the gateway g, as the admin, with a JSON body (or NULL)
 * and an Idempotency-Key (or NULL).
 */
static void
keyed(const gwh_proc *g, const char *method, const char *path, const char *body,
      const char *key, gwh_res *r)
{
	char auth[4200], k[192];
	const char *h[4] = {auth, "Content-Type: application/json", NULL, NULL};

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	if (key != NULL) {
		snprintf(k, sizeof(k), "Idempotency-Key: %s", key);
		h[2] = k;
	}
	gwh_http(g->port, method, path, h, body, r);
}

static bool
same_answer(const gwh_res *a, const gwh_res *b)
{
	return a->status == b->status && a->body_len == b->body_len &&
	       a->body != NULL && b->body != NULL &&
	       memcmp(a->body, b->body, a->body_len) == 0;
}

/*
 * An Idempotency-Key through two gateways, each with one of the daemons:
 * a POST and a PATCH retried through the other daemon get the first
 * answer, byte for byte, and run once; the key with another body is 422.
 */
static void
test_idempotency_across(void)
{
	static const char body[] =
	    "{\"emailAddress\":\"keyed@example.com\",\"password\":"
	    "\"keyed-password-1\",\"firstName\":\"Keyed\"}";
	gwh_proc ga, gb;
	gwh_res first, again;
	char path[64];

	if (gwh_start(&ga, &d1, "gwa", NULL) != 0) {
		CHECK(0);
		return;
	}
	if (gwh_start(&gb, &d2, "gwb", NULL) != 0) {
		CHECK(0);
		gwh_stop(&ga);
		return;
	}
	keyed(&ga, "POST", "/users", body, "pg-key-post", &first);
	CHECK_INT(first.status, 200);
	keyed(&gb, "POST", "/users", body, "pg-key-post", &again);
	CHECK(same_answer(&first, &again));
	gwh_res_fini(&again);
	keyed(&gb, "POST", "/users", "{\"emailAddress\":\"other@example.com\"}",
	      "pg-key-post", &again);
	CHECK_INT(again.status, 422);
	gwh_res_fini(&again);
	keyed(&gb, "POST", "/users", body, "pg-key-post-2", &again);
	CHECK_INT(again.status, 409); /* it ran once */
	gwh_res_fini(&again);

	snprintf(path, sizeof(path), "/users/%s",
		 json_string_value(json_object_get(first.json, "id")) != NULL
		     ? json_string_value(json_object_get(first.json, "id"))
		     : "0");
	gwh_res_fini(&first);
	keyed(&ga, "PATCH", path, "{\"lastName\":\"First\"}", "pg-key-patch",
	      &first);
	CHECK_INT(first.status, 200);
	keyed(&gb, "PATCH", path, "{\"lastName\":\"Later\"}", NULL, &again);
	CHECK_INT(again.status, 200);
	gwh_res_fini(&again);
	keyed(&gb, "PATCH", path, "{\"lastName\":\"First\"}", "pg-key-patch",
	      &again);
	CHECK(same_answer(&first, &again));
	gwh_res_fini(&again);
	keyed(&ga, "GET", path, NULL, NULL, &again);
	CHECK_INT(again.status, 200);
	CHECK(json_string_value(json_object_get(again.json, "lastName")) !=
		  NULL &&
	      strcmp(json_string_value(json_object_get(again.json, "lastName")),
		     "Later") == 0);
	gwh_res_fini(&again);
	gwh_res_fini(&first);
	CHECK_INT(gwh_stop(&ga), 0);
	CHECK_INT(gwh_stop(&gb), 0);
}

/* ------------------------------------------------------------------------
 * Refresh tokens across daemons
 */

/* A new sign-in of the admin (through the gateway); its refresh token. */
static void
sign_in(char *ref, size_t cap)
{
	const char *h[] = {"Content-Type: application/json", NULL};
	gwh_res r;

	gwh_http(gw.port, "POST", "/auth/credentials", h,
		 "{\"userName\":\"" TH_ADMIN_EMAIL
		 "\",\"password\":\"" TH_ADMIN_PASSWORD "\"}",
		 &r);
	CHECK_INT(r.status, 200);
	snprintf(ref, cap, "%s",
		 jstr(r.json, "refreshToken") ? jstr(r.json, "refreshToken")
					      : "");
	gwh_res_fini(&r);
}

/*
 * GetAccessToken or Logout with ref on daemon d, under request id rid:
 * the answer (the caller frees it) or NULL.
 */
static Users__V1__ResponseEnvelope *
token_call(const th_daemon *d, const char *method, const char *rid,
	   const char *ref)
{
	Users__V1__RequestEnvelope e = USERS__V1__REQUEST_ENVELOPE__INIT;
	Users__V1__GetAccessToken g = USERS__V1__GET_ACCESS_TOKEN__INIT;
	Users__V1__Logout l = USERS__V1__LOGOUT__INIT;
	uint8_t payload[4600], buf[8192];
	ProtobufCMessage *m = strcmp(method, "Logout") == 0 ? &l.base : &g.base;

	g.refresh_token = (char *)ref;
	l.refresh_token = (char *)ref;
	if (protobuf_c_message_get_packed_size(m) > sizeof(payload)) {
		return NULL;
	}
	e.method = (char *)method;
	e.request_id = (char *)rid;
	e.has_payload = true;
	e.payload.data = payload;
	e.payload.len = protobuf_c_message_pack(m, payload);
	if (users__v1__request_envelope__get_packed_size(&e) > sizeof(buf)) {
		return NULL;
	}
	return raw_call(d->url, buf,
			users__v1__request_envelope__pack(&e, buf));
}

/* token_call's status; the next refresh token into next (may be NULL). */
static int
token_status(const th_daemon *d, const char *method, const char *rid,
	     const char *ref, char *next, size_t cap)
{
	Users__V1__ResponseEnvelope *env = token_call(d, method, rid, ref);
	int st = env != NULL ? (int)env->status : -1;

	if (next != NULL) {
		next[0] = '\0';
	}
	if (next != NULL && st == UP_OK && env->has_payload) {
		Users__V1__GetAccessTokenResponse *r =
		    users__v1__get_access_token_response__unpack(
			NULL, env->payload.len, env->payload.data);
		if (r != NULL && r->refresh_token != NULL) {
			snprintf(next, cap, "%s", r->refresh_token);
		}
		if (r != NULL) {
			users__v1__get_access_token_response__free_unpacked(
			    r, NULL);
		}
	}
	if (env != NULL) {
		users__v1__response_envelope__free_unpacked(env, NULL);
	}
	return st;
}

static void
test_tokens_across(void)
{
	static char ref0[4096], ref1[4096], again[4096], ref2[4096];

	/* a refresh on usersd 1, repeated under its id on usersd 2 (its
	 * daemon gone, say): the first answer, not reuse */
	sign_in(ref0, sizeof(ref0));
	CHECK_INT(token_status(&d1, "GetAccessToken", "pg-multi-token-1", ref0,
			       ref1, sizeof(ref1)),
		  UP_OK);
	CHECK_INT(token_status(&d2, "GetAccessToken", "pg-multi-token-1", ref0,
			       again, sizeof(again)),
		  UP_OK);
	CHECK(ref1[0] != '\0');
	CHECK_STR(again, ref1);
	CHECK_INT(token_status(&d2, "GetAccessToken", "pg-multi-token-2", ref1,
			       ref2, sizeof(ref2)),
		  UP_OK);
	/* ref0 again, as a new request on usersd 2: reuse; the sign-in is
	 * over on both daemons */
	CHECK_INT(token_status(&d2, "GetAccessToken", "pg-multi-token-3", ref0,
			       NULL, 0),
		  UP_UNAUTHENTICATED);
	CHECK_INT(token_status(&d1, "GetAccessToken", "pg-multi-token-4", ref2,
			       NULL, 0),
		  UP_UNAUTHENTICATED);

	/* a logout on usersd 2 holds on usersd 1 */
	sign_in(ref0, sizeof(ref0));
	CHECK_INT(
	    token_status(&d2, "Logout", "pg-multi-token-5", ref0, NULL, 0),
	    UP_OK);
	CHECK_INT(token_status(&d1, "GetAccessToken", "pg-multi-token-6", ref0,
			       NULL, 0),
		  UP_UNAUTHENTICATED);
}

/* ------------------------------------------------------------------------
 * A caller's rights changed on one daemon, used on the other
 */

/* method with m, as the bearer of tok, on daemon d: the status; -1. */
static int
call_as(const th_daemon *d, const char *tok, const char *method,
	const ProtobufCMessage *m)
{
	Users__V1__RequestEnvelope e = USERS__V1__REQUEST_ENVELOPE__INIT;
	Users__V1__ResponseEnvelope *env;
	uint8_t payload[1024], buf[8192];
	int st;

	if (protobuf_c_message_get_packed_size(m) > sizeof(payload)) {
		return -1;
	}
	e.method = (char *)method;
	e.bearer_token = (char *)tok;
	e.has_payload = true;
	e.payload.data = payload;
	e.payload.len = protobuf_c_message_pack(m, payload);
	if (users__v1__request_envelope__get_packed_size(&e) > sizeof(buf)) {
		return -1;
	}
	env = raw_call(d->url, buf, users__v1__request_envelope__pack(&e, buf));
	st = env != NULL ? (int)env->status : -1;
	if (env != NULL) {
		users__v1__response_envelope__free_unpacked(env, NULL);
	}
	return st;
}

/* The bearer token of a sign-in (through the gateway) into tok. */
static void
bearer_of(const char *email, const char *password, char *tok, size_t cap)
{
	const char *h[] = {"Content-Type: application/json", NULL};
	char body[512];
	gwh_res r;

	snprintf(body, sizeof(body),
		 "{\"userName\":\"%s\",\"password\":\"%s\"}", email, password);
	gwh_http(gw.port, "POST", "/auth/credentials", h, body, &r);
	CHECK_INT(r.status, 200);
	snprintf(tok, cap, "%s",
		 jstr(r.json, "bearerToken") ? jstr(r.json, "bearerToken")
					     : "");
	gwh_res_fini(&r);
}

/*
 * GET /users/{id} through the gateway, which spreads its calls over both
 * daemons, each in a batch (a read group on the daemon: the caller's
 * revision read ahead with the user): the status.
 */
static int
gw_get_user(const char *tok, const char *id)
{
	char path[64];

	snprintf(path, sizeof(path), "/users/%s", id);
	return gw_status(tok, "GET", path, NULL);
}

/*
 * New roles end every token of the user (handlers_user.c): the token of
 * a sign-in before the change is refused, a new one holds the new roles.
 */
static void
test_revoke_across(void)
{
	static char xtok[4096];
	static char *sysadmin[] = {"SystemAdministrator"};
	Users__V1__StringList roles = USERS__V1__STRING_LIST__INIT;
	Users__V1__PatchUser p = USERS__V1__PATCH_USER__INIT;
	Users__V1__ListUsers l = USERS__V1__LIST_USERS__INIT;
	Users__V1__NewUser n = USERS__V1__NEW_USER__INIT;
	Users__V1__DeleteUser del = USERS__V1__DELETE_USER__INIT;
	Users__V1__PatchUser tp = USERS__V1__PATCH_USER__INIT;
	const char *email = "revoke@example.com", *pw = "revoke-password-1";
	char uid[32], tid[32];
	long long id = 0, t = 0;

	CHECK_INT(create_user(email, pw, &id), 200);
	snprintf(uid, sizeof(uid), "%lld", id);
	/* a user that only an administrator may rename */
	CHECK_INT(create_user("revoke-target@example.com",
			      "revoke-target-password-1", &t),
		  200);
	snprintf(tid, sizeof(tid), "%lld", t);
	tp.user_id = tid;
	tp.first_name = "Renamed";
	p.user_id = uid;
	p.roles = &roles;
	roles.items = sysadmin;
	roles.n_items = 1;
	CHECK_INT(call_as(&d1, token, "PatchUser", &p.base), UP_OK);
	bearer_of(email, pw, xtok, sizeof(xtok));
	/* a new user that only a SystemAdministrator may create */
	n.email_address = "revoked-maker@example.com";
	n.password = "revoked-maker-password-1";

	/* usersd 2 reads the caller on the first call, keeps it after;
	 * both daemons keep it for the gateway's batched reads */
	CHECK_INT(call_as(&d2, xtok, "ListUsers", &l.base), UP_OK);
	CHECK_INT(call_as(&d2, xtok, "ListUsers", &l.base), UP_OK);
	for (int i = 0; i < 4; i++) {
		CHECK_INT(gw_get_user(xtok, tid), 200);
	}
	/* the role removed through usersd 1: usersd 2's very next call is
	 * refused, a batched GetUser (its check read ahead) as a single
	 * ListUsers; signed in again, the caller has no role there */
	roles.n_items = 0;
	CHECK_INT(call_as(&d1, token, "PatchUser", &p.base), UP_OK);
	for (int i = 0; i < 4; i++) {
		CHECK_INT(gw_get_user(xtok, tid), 401);
	}
	CHECK_INT(call_as(&d2, xtok, "ListUsers", &l.base), UP_UNAUTHENTICATED);
	bearer_of(email, pw, xtok, sizeof(xtok));
	CHECK_INT(call_as(&d2, xtok, "ListUsers", &l.base),
		  UP_PERMISSION_DENIED);
	CHECK_INT(call_as(&d2, xtok, "ListUsers", &l.base),
		  UP_PERMISSION_DENIED);
	/* given back through usersd 1: it holds on usersd 2 at once too,
	 * for a write (its kept record, refused, is checked and the call run
	 * again) as for a read */
	roles.n_items = 1;
	CHECK_INT(call_as(&d1, token, "PatchUser", &p.base), UP_OK);
	bearer_of(email, pw, xtok, sizeof(xtok));
	CHECK_INT(call_as(&d2, xtok, "PatchUser", &tp.base), UP_OK);
	CHECK_INT(call_as(&d2, xtok, "ListUsers", &l.base), UP_OK);
	CHECK_INT(call_as(&d2, xtok, "ListUsers", &l.base), UP_OK);
	/* removed again: usersd 2's very next call, a write, is refused */
	roles.n_items = 0;
	CHECK_INT(call_as(&d1, token, "PatchUser", &p.base), UP_OK);
	CHECK_INT(call_as(&d2, xtok, "NewUser", &n.base), UP_UNAUTHENTICATED);
	CHECK_INT(create_user(n.email_address, n.password, NULL),
		  200); /* the refused write made nothing */
	/* deleted through usersd 1: its token is refused on usersd 2 */
	roles.n_items = 1;
	CHECK_INT(call_as(&d1, token, "PatchUser", &p.base), UP_OK);
	bearer_of(email, pw, xtok, sizeof(xtok));
	CHECK_INT(call_as(&d2, xtok, "ListUsers", &l.base), UP_OK);
	del.user_id = uid;
	CHECK_INT(call_as(&d1, token, "DeleteUser", &del.base), UP_OK);
	/* usersd 2's very next call, a write its kept record would allow
	 * (no token version changed): refused by the check in its
	 * transaction, and nothing written */
	tp.first_name = "Renamed by the deleted";
	CHECK_INT(call_as(&d2, xtok, "PatchUser", &tp.base),
		  UP_UNAUTHENTICATED);
	CHECK_INT(call_as(&d2, xtok, "ListUsers", &l.base), UP_UNAUTHENTICATED);
	{
		ud_store *st = NULL;
		ud_store_conn *r = NULL;
		ud_user u = {0};

		CHECK_INT(ud_store_open(&st, dburl, NULL), 0);
		if (st != NULL && ud_store_reader_open(st, &r) == 0) {
			CHECK_INT(ud_store_user_get(r, t, &u), 0);
			CHECK(u.first_name != NULL &&
			      strcmp(u.first_name, "Renamed") == 0);
			ud_user_fini(&u);
			ud_store_reader_close(r);
		}
		ud_store_close(st);
	}
}

/* ------------------------------------------------------------------------
 * A daemon killed mid-load
 */

static void
test_kill_mid_load(void)
{
	int ok = 0, failed = 0, before = atomic_load(&n_acked);
	long long t0;

	run_writers(1, true, &ok, &failed);
	fprintf(stderr, "kill: %d writes acknowledged, %d failed\n", ok,
		failed);
	CHECK_INT(failed, 0);
	CHECK(atomic_load(&n_acked) > before + N_WRITERS);
	/* the gateway keeps answering through usersd 1 */
	t0 = th_now_ms();
	CHECK_INT(
	    create_user("after-kill@example.com", "after-password-1", NULL),
	    200);
	CHECK(th_now_ms() - t0 < 5000);
	check_acked_in_db();
}

int
main(void)
{
	char dir[] = "/tmp/test_pg_multi.XXXXXX";
	char key[128], gwdaemon[192];
	const char *dargs[] = {"--db", dburl, "--key-file", key, NULL};
	const char *gw_args[] = {"--threads", "2",      "--deadline", "5000",
				 "--daemon",  gwdaemon, NULL};
	int rc = 1;

	signal(SIGPIPE, SIG_IGN);
	if (pg_testdb_new("pg_multi", dburl, sizeof(dburl)) != 0) {
		fprintf(stderr, "test_pg_multi: no PostgreSQL database (the "
				"\"pg\" fixture)\n");
		return 1;
	}
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		goto drop;
	}
	snprintf(key, sizeof(key), "%s/usersd.key", dir);
	if (th_daemon_start(&d1, dargs) != 0) {
		goto rmdir;
	}
	if (th_daemon_start(&d2, dargs) != 0) {
		goto stop1;
	}
	snprintf(gwdaemon, sizeof(gwdaemon), "%s", d2.url);
	if (gwh_spawn(&gw, &d1, "gw", gw_args) != 0) {
		goto stop2;
	}
	CHECK_INT(login_as(TH_ADMIN_EMAIL, TH_ADMIN_PASSWORD, true), 200);
	fprintf(stderr, "test_pg_multi: writers\n");
	test_writers();
	fprintf(stderr, "test_pg_multi: one email\n");
	test_one_email();
	fprintf(stderr, "test_pg_multi: no lost update\n");
	test_no_lost_update();
	fprintf(stderr, "test_pg_multi: lockout\n");
	test_lockout();
	fprintf(stderr, "test_pg_multi: replay across daemons\n");
	test_replay_across();
	fprintf(stderr, "test_pg_multi: Idempotency-Key across daemons\n");
	test_idempotency_across();
	fprintf(stderr, "test_pg_multi: tokens across daemons\n");
	test_tokens_across();
	fprintf(stderr, "test_pg_multi: revocation across daemons\n");
	test_revoke_across();
	fprintf(stderr, "test_pg_multi: kill mid-load\n");
	test_kill_mid_load();
	CHECK_INT(gwh_stop(&gw), 0);
	if (check_failed > 0) {
		gwh_dump_log(&gw);
		th_daemon_dump_log(&d1);
		th_daemon_dump_log(&d2);
	}
	rc = 0;
stop2:
	th_daemon_stop(&d2);
stop1:
	th_daemon_stop(&d1);
rmdir:
	unlink(key);
	rmdir(dir);
drop:
	pg_testdb_drop(dburl);
	return rc != 0 ? 1 : check_done();
}
