/*
 * test_hop.c - the hop between a client and usersd, through a real
 * daemon: batches of calls in one nng message (RequestBatch) and older
 * clients that send one envelope per message (cooked REQ).
 *
 *   - The same requests answered alone (an older client's single
 *     envelope; a batch of one) and all in one batch give byte-identical
 *     answers; writes' payloads too.
 *   - A slow write does not delay the reads beside it in a batch: with
 *     SQLite's write lock held by another connection, the reads are
 *     answered and the write waits; it is answered once the lock goes.
 *   - Batches cut by a SIGKILL of the daemon lose no acknowledged write:
 *     every write answered OK before the kill is there after a restart.
 *   - An older single-call client, several requests in flight on nng
 *     contexts, is served beside a batching one.
 *   - test_hop pg: the same answers, and the older client, from a daemon
 *     on PostgreSQL, where a batch's GetUser calls are one read group
 *     (their users and callers read ahead in one round trip).
 *   - Held calls (uc_call_opts.hold) leave in one message when the caller
 *     flushes, sent by the flush itself (no timer), and are answered in
 *     one; calls that callbacks start while the client runs one message's
 *     answers leave in one message; a call without hold leaves at once.
 *
 * Raw sockets are never closed: nng_close can hang in nng 1.5.2
 * (docs/decisions.md, section 13); the process's exit frees them. Nothing
 * sleeps to wait: every wait is a receive or a poll with a deadline.
 */
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "harness.h"
#include "pg_testdb.h"
#include "usersclient.h"

#define WAIT_MS 10000
#define N_CALLS 12

static char token[4096];

/* ------------------------------------------------------------------------
 * Envelopes and messages
 */

typedef struct bytes {
	uint8_t *p;
	size_t n;
} bytes;

static void
bytes_fini(bytes *b)
{
	free(b->p);
	b->p = NULL;
	b->n = 0;
}

/* A request envelope for method with msg as payload (NULL: none). */
static bytes
envelope(const char *method, const char *id, const char *bearer,
	 const ProtobufCMessage *msg)
{
	Users__V1__RequestEnvelope e = USERS__V1__REQUEST_ENVELOPE__INIT;
	uint8_t payload[4096];
	bytes b = {0};

	e.method = (char *)method;
	e.request_id = (char *)id;
	e.bearer_token = (char *)bearer;
	e.has_deadline_ms = true;
	e.deadline_ms = WAIT_MS;
	if (msg != NULL) {
		e.has_payload = true;
		e.payload.data = payload;
		e.payload.len = protobuf_c_message_pack(msg, payload);
	}
	b.n = users__v1__request_envelope__get_packed_size(&e);
	b.p = malloc(b.n);
	users__v1__request_envelope__pack(&e, b.p);
	return b;
}

/* An older client: a cooked REQ socket, one envelope per message. */
static bytes
cooked_call(const char *url, const bytes *env)
{
	static nng_socket s;
	static bool open;
	bytes out = {0};
	nng_msg *m;

	if (!open) {
		if (nng_req0_open(&s) != 0 || nng_dial(s, url, NULL, 0) != 0) {
			return out;
		}
		nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, WAIT_MS);
		nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, WAIT_MS);
		open = true;
	}
	if (nng_send(s, env->p, env->n, 0) == 0 && nng_recvmsg(s, &m, 0) == 0) {
		out.n = nng_msg_len(m);
		out.p = malloc(out.n ? out.n : 1);
		memcpy(out.p, nng_msg_body(m), out.n);
		nng_msg_free(m);
	}
	return out;
}

/* A batching client's socket (raw REQ), as libusersclient has. */
static nng_socket
batch_socket(const char *url)
{
	nng_socket s = NNG_SOCKET_INITIALIZER;

	if (nng_req0_open_raw(&s) != 0 || nng_dial(s, url, NULL, 0) != 0) {
		CHECK(!"batch socket");
	}
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, WAIT_MS);
	return s;
}

/* Sends envs[0..n) as one batch, call numbers first_call + i. */
static int
batch_send(nng_socket s, const bytes *envs, size_t n, uint32_t first_call)
{
	nng_msg *m;

	if (nng_msg_alloc(&m, 0) != 0 ||
	    nng_msg_header_append_u32(m, 0x80000001u) != 0) {
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t head[UP_BATCH_HEAD_MAX];
		size_t h = up_batch_frame_head(head, first_call + (uint32_t)i,
					       envs[i].n);

		if (nng_msg_append(m, head, h) != 0 ||
		    nng_msg_append(m, envs[i].p, envs[i].n) != 0) {
			nng_msg_free(m);
			return -1;
		}
	}
	if (nng_sendmsg(s, m, 0) != 0) {
		nng_msg_free(m);
		return -1;
	}
	return 0;
}

/*
 * Receives answer messages until every call of [first, first + n) has
 * its answer in out[call - first], or until_ms passes. Returns how many
 * answers came; *messages counts the messages.
 */
static size_t
batch_recv(nng_socket s, uint32_t first, size_t n, bytes *out,
	   long long until_ms, int *messages)
{
	size_t got = 0;

	while (got < n && th_now_ms() < until_ms) {
		nng_msg *m;
		up_batch_reader rd;
		uint32_t call;
		const uint8_t *env;
		size_t len;

		nng_socket_set_ms(s, NNG_OPT_RECVTIMEO,
				  (nng_duration)(until_ms - th_now_ms()));
		if (nng_recvmsg(s, &m, 0) != 0) {
			break;
		}
		if (messages != NULL) {
			(*messages)++;
		}
		CHECK(up_batch_is(nng_msg_body(m), nng_msg_len(m)));
		up_batch_reader_init(&rd, nng_msg_body(m), nng_msg_len(m));
		while (up_batch_next(&rd, &call, &env, &len) == 1) {
			if (call < first || call - first >= n ||
			    out[call - first].p != NULL) {
				CHECK(!"an answer for no call, or twice");
				continue;
			}
			out[call - first].p = malloc(len ? len : 1);
			memcpy(out[call - first].p, env, len);
			out[call - first].n = len;
			got++;
		}
		nng_msg_free(m);
	}
	return got;
}

static Users__V1__ResponseEnvelope *
answer_of(const bytes *b)
{
	return b->p != NULL
		   ? users__v1__response_envelope__unpack(NULL, b->n, b->p)
		   : NULL;
}

static int
status_of(const bytes *b)
{
	Users__V1__ResponseEnvelope *e = answer_of(b);
	int st = e != NULL ? (int)e->status : -1;

	users__v1__response_envelope__free_unpacked(e, NULL);
	return st;
}

static bool
same(const bytes *a, const bytes *b)
{
	return a->p != NULL && b->p != NULL && a->n == b->n &&
	       memcmp(a->p, b->p, a->n) == 0;
}

/* ------------------------------------------------------------------------
 * Set-up
 */

/* A new user (id into out, 32 bytes); 0 or a status. */
static int
new_user(const th_daemon *d, const char *email, char *out)
{
	const char *urls[] = {d->url};
	uc_options o = {.urls = urls, .n_urls = 1, .deadline_ms = WAIT_MS};
	Users__V1__NewUser nu = USERS__V1__NEW_USER__INIT;
	uc_client *c = NULL;
	uc_result res;
	int st;

	if (uc_client_open(&c, &o) != 0) {
		return -1;
	}
	uc_set_bearer(c, token);
	nu.email_address = (char *)email;
	nu.first_name = "Hop";
	nu.last_name = "User";
	nu.password = "hop-password-1";
	st = uc_new_user(c, &nu, NULL, &res);
	if (st == UP_OK) {
		snprintf(out, 32, "%s",
			 ((Users__V1__UserInfo *)res.response)->id);
	}
	uc_result_fini(&res);
	uc_client_close(c);
	return st;
}

/* ------------------------------------------------------------------------
 * Alone and batched: the same bytes
 */

static void
test_same_answers(const th_daemon *d, const char *uid)
{
	Users__V1__GetUser g1 = USERS__V1__GET_USER__INIT;
	Users__V1__GetUser g2 = USERS__V1__GET_USER__INIT;
	Users__V1__GetUser g3 = USERS__V1__GET_USER__INIT;
	Users__V1__ListUsers lu = USERS__V1__LIST_USERS__INIT;
	Users__V1__PatchUser bad_account = USERS__V1__PATCH_USER__INIT;
	Users__V1__PatchUser own_roles = USERS__V1__PATCH_USER__INIT;
	Users__V1__PatchUser names = USERS__V1__PATCH_USER__INIT;
	Users__V1__StringList accounts = USERS__V1__STRING_LIST__INIT;
	char *account_v[] = {"not-a-guid"};
	char *mgr_v[] = {"Manager"};
	Users__V1__StringList mgr = USERS__V1__STRING_LIST__INIT;
	bytes env[N_CALLS], alone[N_CALLS] = {{0}}, one[N_CALLS] = {{0}},
			    all[N_CALLS] = {{0}};
	nng_socket s = batch_socket(d->url);
	int messages = 0;
	size_t k = 0;

	g1.user_id = TH_ADMIN_ID;
	g2.user_id = "999999";
	g3.user_id = (char *)uid;
	lu.has_take = true;
	lu.take = 5;
	accounts.n_items = 1;
	accounts.items = account_v;
	bad_account.user_id = (char *)uid;
	bad_account.account_ids = &accounts;
	mgr.n_items = 1;
	mgr.items = mgr_v;
	own_roles.user_id = TH_ADMIN_ID;
	own_roles.roles = &mgr;
	names.user_id = (char *)uid;
	/* the names it has: the write commits, and reads before and after
	 * it see the same user */
	names.first_name = "Hop";
	names.last_name = "User";

	/* Reads and failing writes: the whole envelope must match. */
	env[k++] = envelope("GetUser", "same-1", token, &g1.base);
	env[k++] = envelope("GetUser", "same-2", token, &g2.base);
	env[k++] = envelope("GetUser", "same-3", token, &g3.base);
	env[k++] = envelope("ListUsers", "same-4", token, &lu.base);
	env[k++] = envelope("PatchUser", "same-5", token, &bad_account.base);
	env[k++] = envelope("PatchUser", "same-6", token, &own_roles.base);
	env[k++] = envelope("GetUser", "same-7", "not-a-token", &g1.base);
	env[k++] = envelope("NoSuchMethod", "same-8", token, NULL);
	env[k++] = envelope("GetUser", "same-9", NULL, &g1.base);
	/* Bytes that are no envelope. */
	env[k].p = malloc(3);
	memcpy(env[k].p, "\xff\xff\xff", 3);
	env[k++].n = 3;
	/* A write whose id is already answered: the replay. */
	env[k++] = envelope("PatchUser", "same-11", token, &names.base);
	/* A write with a fresh id each time: its payload must match. */
	env[k++] = envelope("PatchUser", "same-12-alone", token, &names.base);
	CHECK_INT(k, N_CALLS);

	for (size_t i = 0; i < N_CALLS; i++) {
		alone[i] = cooked_call(d->url, &env[i]);
		CHECK(alone[i].p != NULL);
	}
	/* Each as a batch of one. */
	for (size_t i = 0; i < N_CALLS - 1; i++) {
		CHECK_INT(batch_send(s, &env[i], 1, 100 + (uint32_t)i), 0);
		CHECK_INT(batch_recv(s, 100 + (uint32_t)i, 1, &one[i],
				     th_now_ms() + WAIT_MS, NULL),
			  1);
		CHECK(same(&alone[i], &one[i]));
	}
	/* All in one batch (the fresh write with another id). */
	bytes_fini(&env[N_CALLS - 1]);
	env[N_CALLS - 1] =
	    envelope("PatchUser", "same-12-batch", token, &names.base);
	CHECK_INT(batch_send(s, env, N_CALLS, 1000), 0);
	CHECK_INT(
	    batch_recv(s, 1000, N_CALLS, all, th_now_ms() + WAIT_MS, &messages),
	    N_CALLS);
	for (size_t i = 0; i < N_CALLS - 1; i++) {
		if (!same(&alone[i], &all[i])) {
			fprintf(stderr, "call %zu: alone and batched differ\n",
				i);
			CHECK(0);
		} else {
			CHECK(1);
		}
	}
	/* The expected statuses, so that "the same" means something. */
	CHECK_INT(status_of(&all[0]), UP_OK);
	CHECK_INT(status_of(&all[1]), UP_NOT_FOUND);
	CHECK_INT(status_of(&all[2]), UP_OK);
	CHECK_INT(status_of(&all[3]), UP_OK);
	CHECK_INT(status_of(&all[4]), UP_INVALID_ARGUMENT);
	CHECK_INT(status_of(&all[5]), UP_PERMISSION_DENIED);
	CHECK_INT(status_of(&all[6]), UP_UNAUTHENTICATED);
	CHECK_INT(status_of(&all[7]), UP_UNIMPLEMENTED);
	CHECK_INT(status_of(&all[8]), UP_UNAUTHENTICATED);
	CHECK_INT(status_of(&all[9]), UP_INVALID_ARGUMENT);
	CHECK_INT(status_of(&all[10]), UP_OK);
	{
		Users__V1__ResponseEnvelope *a = answer_of(&alone[11]);
		Users__V1__ResponseEnvelope *b = answer_of(&all[11]);

		CHECK(a != NULL && b != NULL);
		if (a != NULL && b != NULL) {
			CHECK_INT(a->status, UP_OK);
			CHECK_INT(b->status, UP_OK);
			CHECK_STR(a->request_id, "same-12-alone");
			CHECK_STR(b->request_id, "same-12-batch");
			CHECK(a->payload.len == b->payload.len &&
			      memcmp(a->payload.data, b->payload.data,
				     a->payload.len) == 0);
		}
		users__v1__response_envelope__free_unpacked(a, NULL);
		users__v1__response_envelope__free_unpacked(b, NULL);
	}
	fprintf(stderr,
		"same answers: %d calls alone and in one batch (%d "
		"answer messages)\n",
		N_CALLS, messages);
	for (size_t i = 0; i < N_CALLS; i++) {
		bytes_fini(&env[i]);
		bytes_fini(&alone[i]);
		bytes_fini(&one[i]);
		bytes_fini(&all[i]);
	}
}

/* ------------------------------------------------------------------------
 * A slow write beside reads
 */

static void
test_slow_write(const th_daemon *d, const char *uid)
{
	enum { READS = 20 };
	Users__V1__GetUser g = USERS__V1__GET_USER__INIT;
	Users__V1__PatchUser p = USERS__V1__PATCH_USER__INIT;
	bytes env[READS + 1], ans[READS + 1] = {{0}};
	nng_socket s = batch_socket(d->url);
	sqlite3 *db = NULL;
	long long t0, reads_ms;
	size_t got;

	/* Another connection takes SQLite's write lock and keeps it. */
	CHECK_INT(sqlite3_open(d->db, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
		  SQLITE_OK);

	g.user_id = TH_ADMIN_ID;
	p.user_id = (char *)uid;
	p.first_name = "Slow";
	env[0] = envelope("PatchUser", "slow-write", token, &p.base);
	for (size_t i = 1; i <= READS; i++) {
		char id[32];

		snprintf(id, sizeof(id), "slow-read-%zu", i);
		env[i] = envelope("GetUser", id, token, &g.base);
	}
	t0 = th_now_ms();
	CHECK_INT(batch_send(s, env, READS + 1, 1), 0);
	/* Every read, while the write cannot commit. */
	got = batch_recv(s, 2, READS, ans + 1, t0 + WAIT_MS, NULL);
	reads_ms = th_now_ms() - t0;
	CHECK_INT(got, READS);
	for (size_t i = 1; i <= READS; i++) {
		CHECK_INT(status_of(&ans[i]), UP_OK);
	}
	/* The write still waits for the lock: no answer for it yet. */
	CHECK_INT(batch_recv(s, 1, 1, ans, th_now_ms() + 300, NULL), 0);
	CHECK(ans[0].p == NULL);
	CHECK_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	CHECK_INT(batch_recv(s, 1, 1, ans, th_now_ms() + WAIT_MS, NULL), 1);
	CHECK_INT(status_of(&ans[0]), UP_OK);
	fprintf(stderr,
		"slow write: %d reads answered in %lld ms while the write "
		"waited %lld ms for the lock\n",
		READS, reads_ms, th_now_ms() - t0);
	sqlite3_close(db);
	for (size_t i = 0; i <= READS; i++) {
		bytes_fini(&env[i]);
		bytes_fini(&ans[i]);
	}
}

/* ------------------------------------------------------------------------
 * Batches cut by a SIGKILL
 */

#define N_WRITES 300

typedef struct acked {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	int done, ok;
	int status[N_WRITES];
	char id[N_WRITES][40];
} acked;

static acked ack = {.mtx = PTHREAD_MUTEX_INITIALIZER,
		    .cv = PTHREAD_COND_INITIALIZER};

static void
on_written(uc_result *res, void *arg)
{
	int i = (int)(intptr_t)arg;

	pthread_mutex_lock(&ack.mtx);
	ack.status[i] = res->status;
	if (res->status == UP_OK) {
		snprintf(ack.id[i], sizeof(ack.id[i]), "%s",
			 ((Users__V1__UserInfo *)res->response)->id);
		ack.ok++;
	}
	ack.done++;
	pthread_cond_broadcast(&ack.cv);
	pthread_mutex_unlock(&ack.mtx);
	uc_result_fini(res);
}

/* Waits until at least n callbacks ran (or ms passed); how many ran. */
static int
acked_wait(int n, long long ms, int *ok)
{
	long long until = th_now_ms() + ms;
	int done;

	pthread_mutex_lock(&ack.mtx);
	while (ack.done < n && th_now_ms() < until) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 5 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&ack.cv, &ack.mtx, &ts);
	}
	done = ack.done;
	if (ok != NULL) {
		*ok = ack.ok;
	}
	pthread_mutex_unlock(&ack.mtx);
	return done;
}

static void
test_killed_mid_batch(th_daemon *d)
{
	const char *urls[] = {d->url};
	uc_options o = {.urls = urls, .n_urls = 1, .deadline_ms = WAIT_MS};
	uc_client *c = NULL;
	int ok_at_kill = 0, done_at_kill, ok = 0, found = 0;

	CHECK_INT(uc_client_open(&c, &o), 0);
	if (c == NULL) {
		return;
	}
	uc_set_bearer(c, token);
	for (int i = 0; i < N_WRITES; i++) {
		Users__V1__NewUser nu = USERS__V1__NEW_USER__INIT;
		char email[64];

		snprintf(email, sizeof(email), "killed-%d@example.com", i);
		nu.email_address = email;
		nu.first_name = "Killed";
		nu.password = "hop-password-1";
		CHECK_INT(uc_new_user_async(c, &nu, NULL, on_written,
					    (void *)(intptr_t)i),
			  0);
	}
	/* Some acknowledged, the rest in flight: kill. */
	done_at_kill = acked_wait(20, WAIT_MS, &ok_at_kill);
	CHECK_INT(th_daemon_kill(d), 0);
	CHECK(done_at_kill >= 20);
	CHECK(done_at_kill < N_WRITES); /* the kill cut through the calls */
	/* Every call settles: at once, its pipe gone (no other daemon). */
	{
		long long t0 = th_now_ms();

		CHECK_INT(acked_wait(N_WRITES, WAIT_MS, &ok), N_WRITES);
		fprintf(stderr,
			"killed mid-batch: %d of %d acknowledged at the kill, "
			"%d in all; the rest settled %lld ms after it\n",
			ok_at_kill, N_WRITES, ok, th_now_ms() - t0);
		CHECK(th_now_ms() - t0 < 1000);
	}
	for (int i = 0; i < N_WRITES; i++) {
		CHECK(ack.status[i] == UP_OK ||
		      ack.status[i] == UP_UNAVAILABLE);
	}
	uc_client_close(c);

	/* Every acknowledged write is there after a restart. */
	CHECK_INT(th_daemon_restart(d, NULL), 0);
	CHECK_INT(uc_client_open(&c, &o), 0);
	if (c == NULL) {
		return;
	}
	uc_set_bearer(c, token);
	for (int i = 0; i < N_WRITES; i++) {
		Users__V1__GetUser g = USERS__V1__GET_USER__INIT;
		uc_result res;
		char email[64];

		if (ack.status[i] != UP_OK) {
			continue;
		}
		snprintf(email, sizeof(email), "killed-%d@example.com", i);
		g.user_id = ack.id[i];
		if (uc_get_user(c, &g, NULL, &res) == UP_OK &&
		    strcmp(((Users__V1__UserInfo *)res.response)->email_address,
			   email) == 0) {
			found++;
		}
		uc_result_fini(&res);
	}
	CHECK_INT(found, ok);
	uc_client_close(c);
}

/* ------------------------------------------------------------------------
 * An older client beside a batching one
 */

/* A context's send or receive, waited for (nng 1.5 has no sync form). */
static int
ctx_io(nng_ctx ctx, nng_msg **m, bool send)
{
	nng_aio *aio;
	int rv;

	if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
		return rv;
	}
	nng_aio_set_timeout(aio, WAIT_MS);
	if (send) {
		nng_aio_set_msg(aio, *m);
		nng_ctx_send(ctx, aio);
	} else {
		nng_ctx_recv(ctx, aio);
	}
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) == 0 && !send) {
		*m = nng_aio_get_msg(aio);
	}
	nng_aio_free(aio);
	return rv;
}

typedef struct cooked_ctx {
	nng_ctx ctx;
	int ok;
	char id[32];
} cooked_ctx;

static void
test_older_client(const th_daemon *d)
{
	enum { CTXS = 8, ROUNDS = 20 };
	const char *urls[] = {d->url};
	uc_options o = {.urls = urls, .n_urls = 1, .deadline_ms = WAIT_MS};
	Users__V1__GetUser g = USERS__V1__GET_USER__INIT;
	cooked_ctx cx[CTXS];
	nng_socket s;
	uc_client *c = NULL;
	int ok = 0, batched = 0;

	g.user_id = TH_ADMIN_ID;
	CHECK_INT(nng_req0_open(&s), 0);
	CHECK_INT(nng_dial(s, d->url, NULL, 0), 0);
	CHECK_INT(uc_client_open(&c, &o), 0);
	uc_set_bearer(c, token);
	for (int i = 0; i < CTXS; i++) {
		CHECK_INT(nng_ctx_open(&cx[i].ctx, s), 0);
		cx[i].ok = 0;
	}
	/* Every context sends before any receives: all in flight at once,
	 * while the library batches its own calls beside them. */
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < CTXS; i++) {
			bytes env;
			nng_msg *m;

			snprintf(cx[i].id, sizeof(cx[i].id), "old-%d-%d", r, i);
			env = envelope("GetUser", cx[i].id, token, &g.base);
			if (nng_msg_alloc(&m, env.n) == 0) {
				memcpy(nng_msg_body(m), env.p, env.n);
				if (ctx_io(cx[i].ctx, &m, true) != 0) {
					nng_msg_free(m);
				}
			}
			bytes_fini(&env);
		}
		for (int i = 0; i < 4; i++) {
			uc_result res;

			batched += uc_get_user(c, &g, NULL, &res) == UP_OK;
			uc_result_fini(&res);
		}
		for (int i = 0; i < CTXS; i++) {
			nng_msg *m;

			if (ctx_io(cx[i].ctx, &m, false) == 0) {
				bytes b = {nng_msg_body(m), nng_msg_len(m)};
				Users__V1__ResponseEnvelope *e = answer_of(&b);

				if (e != NULL && (int)e->status == UP_OK &&
				    strcmp(e->request_id, cx[i].id) == 0) {
					cx[i].ok++;
				}
				users__v1__response_envelope__free_unpacked(
				    e, NULL);
				nng_msg_free(m);
			}
		}
	}
	for (int i = 0; i < CTXS; i++) {
		ok += cx[i].ok;
	}
	CHECK_INT(ok, CTXS * ROUNDS);
	CHECK_INT(batched, 4 * ROUNDS);
	uc_client_close(c);
}

/* ------------------------------------------------------------------------
 * Held calls: one message per burst, no timer
 */

typedef struct chain {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	uc_client *c;
	int done, ok, next; /* callbacks run, OK answers, calls left */
	uint64_t sent_seen; /* the most messages sent, seen by a callback
			       right after it started its call */
} chain;

static chain ch = {.mtx = PTHREAD_MUTEX_INITIALIZER,
		   .cv = PTHREAD_COND_INITIALIZER};

/* Counts an answer; while ch.next > 0, starts the next call from the
 * callback, as a closed-loop caller does (not held by the caller). */
static void
on_chained(uc_result *res, void *arg)
{
	Users__V1__GetUser g = USERS__V1__GET_USER__INIT;
	bool more;

	(void)arg;
	pthread_mutex_lock(&ch.mtx);
	ch.ok += res->status == UP_OK;
	more = ch.next > 0;
	ch.next -= more;
	pthread_mutex_unlock(&ch.mtx);
	uc_result_fini(res);
	if (more) {
		g.user_id = TH_ADMIN_ID;
		uc_daemon_stats st;

		CHECK_INT(uc_get_user_async(ch.c, &g, NULL, on_chained, NULL),
			  0);
		CHECK_INT(uc_daemon_stats_get(ch.c, 0, &st), 0);
		pthread_mutex_lock(&ch.mtx);
		if (st.sent_messages > ch.sent_seen) {
			ch.sent_seen = st.sent_messages;
		}
		pthread_mutex_unlock(&ch.mtx);
	}
	pthread_mutex_lock(&ch.mtx);
	ch.done++;
	pthread_cond_broadcast(&ch.cv);
	pthread_mutex_unlock(&ch.mtx);
}

/* Waits until n callbacks ran (or WAIT_MS passed); how many ran. */
static int
chain_wait(int n)
{
	long long until = th_now_ms() + WAIT_MS;
	int done;

	pthread_mutex_lock(&ch.mtx);
	while (ch.done < n && th_now_ms() < until) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 5 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&ch.cv, &ch.mtx, &ts);
	}
	done = ch.done;
	pthread_mutex_unlock(&ch.mtx);
	return done;
}

static uc_daemon_stats
stats_of(uc_client *c)
{
	uc_daemon_stats st;

	memset(&st, 0, sizeof(st));
	CHECK_INT(uc_daemon_stats_get(c, 0, &st), 0);
	return st;
}

/*
 * Calls started with hold leave in one message when the caller flushes,
 * not before (no send of their own) and not later (the flush sends, or
 * the completion of the send in flight: no timer); usersd answers the reads of
 * that one message in one message; the calls that callbacks start while the
 * client runs the answers of one message leave together too; a call without
 * hold leaves at once.
 */
static void
test_held_calls(const th_daemon *d)
{
	enum { HELD = 16, ROUNDS = 5 };
	const char *urls[] = {d->url};
	uc_options o = {.urls = urls, .n_urls = 1, .deadline_ms = WAIT_MS};
	uc_call_opts hold = {.hold = true};
	Users__V1__GetUser g = USERS__V1__GET_USER__INIT;
	uc_daemon_stats s0, s1, s2;
	uc_result res;
	uc_client *c = NULL;
	bool together = false;

	CHECK_INT(uc_client_open(&c, &o), 0);
	if (c == NULL) {
		return;
	}
	uc_set_bearer(c, token);
	g.user_id = TH_ADMIN_ID;
	/* Connected, and quiet: one call answered, nothing in flight. */
	CHECK_INT(uc_get_user(c, &g, NULL, &res), UP_OK);
	uc_result_fini(&res);
	ch.c = c;

	s0 = stats_of(c);
	for (int i = 0; i < HELD; i++) {
		CHECK_INT(uc_get_user_async(c, &g, &hold, on_chained, NULL), 0);
	}
	s1 = stats_of(c);
	CHECK_INT(s1.sent_messages, s0.sent_messages); /* held: not sent */
	CHECK_INT(s1.sent_calls, s0.sent_calls);
	uc_client_flush(c);
	/*
	 * Sent by the flush itself, in one message; or, when the send of the
	 * call before had not yet completed (its answer can come back
	 * before nng runs the send's completion), by that completion, in
	 * one message all the same.
	 */
	for (long long until = th_now_ms() + WAIT_MS;
	     (s1 = stats_of(c)).sent_calls < s0.sent_calls + HELD &&
	     th_now_ms() < until;) {
		sched_yield();
	}
	CHECK_INT(s1.sent_messages, s0.sent_messages + 1);
	CHECK_INT(s1.sent_calls, s0.sent_calls + HELD);
	CHECK_INT(chain_wait(HELD), HELD);
	s1 = stats_of(c);
	/* usersd: the reads of one batch answered in one message. */
	CHECK_INT(s1.recv_messages, s0.recv_messages + 1);
	fprintf(stderr,
		"held calls: %d calls in %llu message(s), answered in "
		"%llu\n",
		HELD, (unsigned long long)(s1.sent_messages - s0.sent_messages),
		(unsigned long long)(s1.recv_messages - s0.recv_messages));

	/*
	 * Callbacks that start calls: the HELD answers came in one
	 * message, so their HELD follow-ups leave in one message. One
	 * interleaving splits them, by design: when the flush's own send
	 * completes late (after its answers came back, as above), that
	 * completion carries the follow-ups queued so far, and the rest
	 * leave after it. So up to ROUNDS rounds, until one shows the
	 * follow-ups in one message; without the client's holding, the
	 * first follow-up of every round leaves at once, alone, and no
	 * round does.
	 */
	for (int round = 0; round < ROUNDS && !together; round++) {
		pthread_mutex_lock(&ch.mtx);
		ch.done = 0;
		ch.ok = 0;
		ch.next = HELD;
		ch.sent_seen = 0;
		pthread_mutex_unlock(&ch.mtx);
		s1 = stats_of(c);
		for (int i = 0; i < HELD; i++) {
			CHECK_INT(
			    uc_get_user_async(c, &g, &hold, on_chained, NULL),
			    0);
		}
		uc_client_flush(c);
		CHECK_INT(chain_wait(2 * HELD), 2 * HELD);
		s2 = stats_of(c);
		fprintf(
		    stderr,
		    "chained calls, round %d: %d calls in %llu "
		    "message(s), answered in %llu\n",
		    round + 1, 2 * HELD,
		    (unsigned long long)(s2.sent_messages - s1.sent_messages),
		    (unsigned long long)(s2.recv_messages - s1.recv_messages));
		CHECK_INT(s2.sent_calls, s1.sent_calls + 2 * HELD);
		CHECK_INT(ch.ok, 2 * HELD);
		/* The flush's message and one of follow-ups, none of which
		 * left while the callbacks ran (only the flush's message had
		 * been sent when each callback had started its call). */
		together = s2.sent_messages - s1.sent_messages == 2 &&
			   ch.sent_seen == s1.sent_messages + 1;
	}
	CHECK(together);

	/* A lone call without hold leaves at once, before any flush (on
	 * the client's own connection its thread sends it: waited for). */
	pthread_mutex_lock(&ch.mtx);
	ch.done = 0;
	pthread_mutex_unlock(&ch.mtx);
	CHECK_INT(uc_get_user_async(c, &g, NULL, on_chained, NULL), 0);
	for (long long until = th_now_ms() + WAIT_MS;
	     (s1 = stats_of(c)).sent_messages == s2.sent_messages &&
	     th_now_ms() < until;) {
		sched_yield();
	}
	CHECK_INT(s1.sent_messages, s2.sent_messages + 1);
	CHECK_INT(chain_wait(1), 1);
	uc_client_close(c);
}

/* The same answers and the older client on PostgreSQL. */
static int
run_pg(void)
{
	static char url[512], key[64];
	char dir[] = "/tmp/test_hop.XXXXXX";
	const char *args[] = {"--db", url, "--key-file", key, NULL};
	th_daemon d;
	char uid[32] = "";

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(key, sizeof(key), "%s/usersd.key", dir);
	if (pg_testdb_new("hop", url, sizeof(url)) != 0) {
		fprintf(stderr, "test_hop: no PostgreSQL database (the \"pg\" "
				"fixture)\n");
		return 1;
	}
	if (th_daemon_start(&d, args) != 0) {
		pg_testdb_drop(url);
		unlink(key);
		rmdir(dir);
		return 1;
	}
	CHECK_INT(th_admin_token(d.url, token, sizeof(token)), UP_OK);
	CHECK_INT(new_user(&d, "hop@example.com", uid), UP_OK);
	test_same_answers(&d, uid);
	test_older_client(&d);
	if (check_failed > 0) {
		th_daemon_dump_log(&d);
	}
	th_daemon_stop(&d);
	CHECK_INT(pg_testdb_drop(url), 0);
	unlink(key);
	rmdir(dir);
	return check_done();
}

int
main(int argc, char **argv)
{
	th_daemon d;
	char uid[32] = "";

	signal(SIGPIPE, SIG_IGN);
	if (up_meta_load() != 0) {
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "pg") == 0) {
		return run_pg();
	}
	if (th_daemon_start(&d, NULL) != 0) {
		return 1;
	}
	CHECK_INT(th_admin_token(d.url, token, sizeof(token)), UP_OK);
	CHECK_INT(new_user(&d, "hop@example.com", uid), UP_OK);
	test_same_answers(&d, uid);
	test_slow_write(&d, uid);
	test_older_client(&d);
	test_held_calls(&d);
	test_killed_mid_batch(&d);
	if (check_failed > 0) {
		th_daemon_dump_log(&d);
	}
	th_daemon_stop(&d);
	return check_done();
}
