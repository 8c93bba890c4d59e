/*
 * libusersclient against an in-process fake daemon (a raw nng REP socket
 * on a thread, speaking usersd's batches): what goes into the envelope,
 * how replies and failures become results, deadlines, UNAVAILABLE,
 * reconnects, the async contract, close.
 *
 * The fake answers GetUser by the requested user_id:
 *   "echo"    OK, UserInfo{id: request_id, first_name: method,
 *             last_name: bearer token or basic user, email: deadline_ms}
 *   "noerr"   NOT_FOUND without a ResponseStatus
 *   "silent"  no answer
 *   "garbage" bytes that are no envelope
 *   "wrongid" OK for another request id
 * and Authenticate with bearer "tok-<user>" (FAILED_PRECONDITION when the
 * request carries credentials: login must send none).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/util/platform.h>

#include "check.h"
#include "usersclient.h"

#define SLACK_MS 1000

static char url[128];

typedef struct fake {
	nng_socket sock;
	pthread_t thread;
	int requests;
	atomic_bool stop;
	/* What went wrong on the fake's thread (CHECK is the main thread's):
	 * checked by fake_stop. */
	atomic_int errors;
	/* The answer message being built for the request message in hand,
	 * and the call being answered. */
	nng_msg *out;
	uint32_t call;
} fake;

/* Appends one answer frame (the call in hand's) to the answer message. */
static void
reply_bytes(fake *f, const uint8_t *buf, size_t len)
{
	uint8_t head[UP_BATCH_HEAD_MAX];
	size_t h = up_batch_frame_head(head, f->call, len);

	if (nng_msg_append(f->out, head, h) != 0 ||
	    nng_msg_append(f->out, buf, len) != 0) {
		atomic_fetch_add(&f->errors, 1);
	}
}

static void
reply(fake *f, const Users__V1__ResponseEnvelope *env)
{
	uint8_t buf[2048];
	size_t n = users__v1__response_envelope__get_packed_size(env);

	if (n > sizeof(buf)) {
		atomic_fetch_add(&f->errors, 1);
		return;
	}
	reply_bytes(f, buf, users__v1__response_envelope__pack(env, buf));
}

static void
reply_message(fake *f, const char *rid, const ProtobufCMessage *msg)
{
	Users__V1__ResponseEnvelope env = USERS__V1__RESPONSE_ENVELOPE__INIT;
	uint8_t buf[1024];

	env.has_status = true;
	env.status = USERS__V1__STATUS_CODE__OK;
	env.request_id = (char *)rid;
	env.has_payload = true;
	env.payload.data = buf;
	env.payload.len = protobuf_c_message_pack(msg, buf);
	reply(f, &env);
}

static void
serve_one(fake *f, const Users__V1__RequestEnvelope *req)
{
	Users__V1__ResponseEnvelope env = USERS__V1__RESPONSE_ENVELOPE__INIT;
	char who[256], deadline[32];

	snprintf(who, sizeof(who), "%s",
		 req->bearer_token ? req->bearer_token
		 : req->basic      ? req->basic->user_name
				   : "");
	if (strcmp(req->method, "Authenticate") == 0) {
		Users__V1__Authenticate *a = users__v1__authenticate__unpack(
		    NULL, req->payload.len, req->payload.data);
		Users__V1__AuthenticateResponse ar =
		    USERS__V1__AUTHENTICATE_RESPONSE__INIT;
		char tok[300];
		if (a == NULL || who[0] != '\0') {
			env.has_status = true;
			env.status =
			    USERS__V1__STATUS_CODE__FAILED_PRECONDITION;
			env.request_id = req->request_id;
			reply(f, &env);
		} else {
			snprintf(tok, sizeof(tok), "tok-%s", a->user_name);
			ar.bearer_token = tok;
			reply_message(f, req->request_id, &ar.base);
		}
		users__v1__authenticate__free_unpacked(a, NULL);
		return;
	}
	Users__V1__GetUser *g = users__v1__get_user__unpack(
	    NULL, req->payload.len, req->payload.data);
	const char *mode = g != NULL && g->user_id ? g->user_id : "echo";
	if (strcmp(mode, "silent") == 0) {
		/* nothing */
	} else if (strcmp(mode, "garbage") == 0) {
		reply_bytes(f, (const uint8_t *)"\xff\xff\xff", 3);
	} else if (strcmp(mode, "noerr") == 0) {
		env.has_status = true;
		env.status = USERS__V1__STATUS_CODE__NOT_FOUND;
		env.request_id = req->request_id;
		reply(f, &env);
	} else {
		Users__V1__UserInfo u = USERS__V1__USER_INFO__INIT;
		snprintf(deadline, sizeof(deadline), "%u", req->deadline_ms);
		u.id = req->request_id;
		u.first_name = req->method;
		u.last_name = who;
		u.email_address = deadline;
		reply_message(
		    f, strcmp(mode, "wrongid") == 0 ? "other" : req->request_id,
		    &u.base);
	}
	users__v1__get_user__free_unpacked(g, NULL);
}

/*
 * The server polls with a receive timeout and a stop flag: nng_close() of
 * a socket with a thread blocked in nng_recvmsg() can hang in nng 1.5.2
 * (seen here), so the thread leaves before the socket closes. It speaks
 * usersd's wire (a raw REP socket): every call of a request message is
 * answered in one answer message, sent back along the request's header.
 */
static void *
serve(void *arg)
{
	fake *f = arg;
	nng_msg *m;
	int rv;

	while (!atomic_load(&f->stop)) {
		up_batch_reader rd;
		const uint8_t *env;
		size_t len;

		if ((rv = nng_recvmsg(f->sock, &m, 0)) != 0) {
			if (rv == NNG_ETIMEDOUT) {
				continue;
			}
			break;
		}
		f->requests++;
		if (!up_batch_is(nng_msg_body(m), nng_msg_len(m))) {
			atomic_fetch_add(&f->errors,
					 1); /* the client batches */
		}
		if (nng_msg_alloc(&f->out, 0) != 0 ||
		    nng_msg_header_append(f->out, nng_msg_header(m),
					  nng_msg_header_len(m)) != 0) {
			break;
		}
		up_batch_reader_init(&rd, nng_msg_body(m), nng_msg_len(m));
		while (up_batch_next(&rd, &f->call, &env, &len) == 1) {
			Users__V1__RequestEnvelope *req =
			    users__v1__request_envelope__unpack(NULL, len, env);

			if (req != NULL && req->method != NULL) {
				serve_one(f, req);
			}
			users__v1__request_envelope__free_unpacked(req, NULL);
		}
		nng_msg_free(m);
		if (nng_msg_len(f->out) == 0 ||
		    nng_sendmsg(f->sock, f->out, 0) != 0) {
			nng_msg_free(f->out);
		}
		f->out = NULL;
	}
	return NULL;
}

static int
fake_start_at(fake *f, const char *at)
{
	memset(f, 0, sizeof(*f));
	if (nng_rep0_open_raw(&f->sock) != 0 ||
	    nng_socket_set_ms(f->sock, NNG_OPT_RECVTIMEO, 20) != 0 ||
	    nng_listen(f->sock, at, NULL, 0) != 0 ||
	    pthread_create(&f->thread, NULL, serve, f) != 0) {
		fprintf(stderr, "cannot start the fake daemon at %s\n", at);
		return -1;
	}
	return 0;
}

static int
fake_start(fake *f)
{
	return fake_start_at(f, url);
}

static void
fake_stop(fake *f)
{
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	CHECK_INT(atomic_load(&f->errors), 0);
	nng_close(f->sock);
}

/* The client's own connections (io.c), or nng's (the second pass). */
static bool hop_nng;

static uc_client *
open_client(uint32_t deadline_ms)
{
	const char *urls[] = {url};
	uc_options o = {.urls = urls,
			.n_urls = 1,
			.deadline_ms = deadline_ms,
			.hop_nng = hop_nng};
	uc_client *c = NULL;

	CHECK_INT(uc_client_open(&c, &o), 0);
	return c;
}

static const Users__V1__UserInfo *
user_of(const uc_result *r)
{
	return r->status == UP_OK ? (const void *)r->response : NULL;
}

static void
test_envelope(void)
{
	uc_client *c = open_client(0);
	Users__V1__GetUser g = USERS__V1__GET_USER__INIT;
	const Users__V1__UserInfo *u;
	uc_result res;

	if (c == NULL) {
		return;
	}
	g.user_id = "echo";
	CHECK_INT(uc_get_user(c, &g, NULL, &res), UP_OK);
	if ((u = user_of(&res)) != NULL) {
		CHECK_STR(u->first_name, "GetUser");
		CHECK_INT(strlen(u->id), 32);
		CHECK(strspn(u->id, "0123456789abcdef") == 32);
		CHECK_STR(u->last_name, "");
		CHECK_STR(u->email_address, "5000"); /* the default deadline */
	}
	uc_result_fini(&res);

	/* Two calls, two ids. */
	char first[64] = "";
	CHECK_INT(uc_get_user(c, &g, NULL, &res), UP_OK);
	if ((u = user_of(&res)) != NULL) {
		snprintf(first, sizeof(first), "%s", u->id);
	}
	uc_result_fini(&res);
	CHECK_INT(uc_get_user(c, &g, NULL, &res), UP_OK);
	if ((u = user_of(&res)) != NULL) {
		CHECK(strcmp(first, u->id) != 0);
	}
	uc_result_fini(&res);

	/* Credentials: the client's, overridden per call. */
	CHECK_INT(uc_set_bearer(c, "b-1"), 0);
	CHECK_INT(uc_call(c, "getUSER", &g.base, NULL, &res), UP_OK);
	if ((u = user_of(&res)) != NULL) {
		CHECK_STR(u->last_name, "b-1");
		CHECK_STR(u->first_name, "GetUser"); /* canonical name */
	}
	uc_result_fini(&res);
	uc_call_opts o = {.basic_user = "u@x",
			  .basic_password = "p",
			  .request_id = "my-id",
			  .deadline_ms = 1234};
	CHECK_INT(uc_get_user(c, &g, &o, &res), UP_OK);
	if ((u = user_of(&res)) != NULL) {
		CHECK_STR(u->last_name, "u@x");
		CHECK_STR(u->id, "my-id");
		CHECK_STR(u->email_address, "1234");
	}
	uc_result_fini(&res);
	CHECK_INT(uc_set_bearer(c, NULL), 0);
	CHECK_INT(uc_set_basic(c, "basic@x", "pw"), 0);
	CHECK_INT(uc_get_user(c, &g, NULL, &res), UP_OK);
	if ((u = user_of(&res)) != NULL) {
		CHECK_STR(u->last_name, "basic@x");
	}
	uc_result_fini(&res);
	CHECK_INT(uc_set_basic(c, "only-user", NULL), UP_INVALID_ARGUMENT);

	/* Login sends no credentials and keeps the token. */
	CHECK_INT(uc_login(c, "ada", "pw", &res), UP_OK);
	CHECK_STR(uc_bearer(c), "tok-ada");
	uc_result_fini(&res);
	CHECK_INT(uc_get_user(c, &g, NULL, &res), UP_OK);
	if ((u = user_of(&res)) != NULL) {
		CHECK_STR(u->last_name, "tok-ada");
	}
	uc_result_fini(&res);
	uc_client_close(c);
}

static void
test_failures(void)
{
	uc_client *c = open_client(0);
	Users__V1__GetUser g = USERS__V1__GET_USER__INIT;
	Users__V1__NewUser wrong = USERS__V1__NEW_USER__INIT;
	uc_call_opts quick = {.deadline_ms = 300};
	uc_result res;
	long long t0;

	if (c == NULL) {
		return;
	}
	g.user_id = "noerr";
	CHECK_INT(uc_get_user(c, &g, NULL, &res), UP_NOT_FOUND);
	CHECK(res.response == NULL && res.error != NULL);
	if (res.error != NULL) {
		CHECK_STR(res.error->error_code, "NotFound");
		CHECK_STR(res.error->message, "Not found.");
	}
	CHECK_STR(uc_result_message(&res), "NOT_FOUND: Not found.");
	uc_result_fini(&res);

	g.user_id = "garbage";
	CHECK_INT(uc_get_user(c, &g, &quick, &res), UP_INTERNAL);
	CHECK(res.error != NULL);
	uc_result_fini(&res);
	g.user_id = "wrongid";
	CHECK_INT(uc_get_user(c, &g, &quick, &res), UP_INTERNAL);
	uc_result_fini(&res);

	g.user_id = "silent";
	t0 = (long long)nng_clock();
	CHECK_INT(uc_get_user(c, &g, &quick, &res), UP_DEADLINE_EXCEEDED);
	CHECK((long long)nng_clock() - t0 >= 280);
	CHECK((long long)nng_clock() - t0 <= 300 + SLACK_MS);
	CHECK(res.error != NULL && res.error->message != NULL);
	uc_result_fini(&res);

	/* Caller mistakes. */
	CHECK_INT(uc_call(c, "GetUser", &wrong.base, NULL, &res),
		  UP_INVALID_ARGUMENT);
	CHECK(res.error != NULL);
	uc_result_fini(&res);
	CHECK_INT(uc_call(c, "Nope", &g.base, NULL, &res), UP_INVALID_ARGUMENT);
	uc_result_fini(&res);
	CHECK_INT(uc_get_user(c, NULL, NULL, &res), UP_INVALID_ARGUMENT);
	uc_result_fini(&res);
	uc_call_opts long_id = {.request_id = ""};
	CHECK_INT(uc_get_user(c, &g, &long_id, &res), UP_INVALID_ARGUMENT);
	uc_result_fini(&res);
	CHECK_INT(uc_login(c, NULL, "x", &res), UP_INVALID_ARGUMENT);
	uc_result_fini(&res);
	uc_client_close(c);

	/* Options. */
	uc_options none = {0};
	CHECK_INT(uc_client_open(&c, &none), UP_INVALID_ARGUMENT);
	CHECK_INT(uc_client_open(NULL, &none), UP_INVALID_ARGUMENT);
}

/* Async: counts per call. */
#define N_ASYNC 200
static pthread_mutex_t amtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t acv = PTHREAD_COND_INITIALIZER;
static int acalls[N_ASYNC];
static int astatus[N_ASYNC];
static int adone;

static void
on_async(uc_result *res, void *arg)
{
	int i = (int)(intptr_t)arg;

	pthread_mutex_lock(&amtx);
	acalls[i]++;
	astatus[i] = res->status;
	adone++;
	pthread_cond_broadcast(&acv);
	pthread_mutex_unlock(&amtx);
	uc_result_fini(res);
}

static int
async_wait(int n, int ms)
{
	struct timespec ts;
	int d;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000 + 1;
	pthread_mutex_lock(&amtx);
	while (adone < n && pthread_cond_timedwait(&acv, &amtx, &ts) == 0) {
	}
	d = adone;
	pthread_mutex_unlock(&amtx);
	return d;
}

static void
async_reset(void)
{
	pthread_mutex_lock(&amtx);
	memset(acalls, 0, sizeof(acalls));
	memset(astatus, 0, sizeof(astatus));
	adone = 0;
	pthread_mutex_unlock(&amtx);
}

static void
test_async(void)
{
	uc_client *c = open_client(0);
	Users__V1__GetUser g = USERS__V1__GET_USER__INIT;
	Users__V1__NewUser wrong = USERS__V1__NEW_USER__INIT;
	uc_call_opts quick = {.deadline_ms = 300};
	int once = 0, ok = 0;

	if (c == NULL) {
		return;
	}
	async_reset();
	g.user_id = "echo";
	for (int i = 0; i < N_ASYNC; i++) {
		CHECK_INT(uc_get_user_async(c, &g, NULL, on_async,
					    (void *)(intptr_t)i),
			  0);
	}
	CHECK_INT(async_wait(N_ASYNC, 10000), N_ASYNC);
	for (int i = 0; i < N_ASYNC; i++) {
		once += acalls[i] == 1;
		ok += astatus[i] == UP_OK;
	}
	CHECK_INT(once, N_ASYNC);
	CHECK_INT(ok, N_ASYNC);

	/* Errors at the start: no callback. */
	async_reset();
	CHECK_INT(
	    uc_call_async(c, "GetUser", &wrong.base, NULL, on_async, (void *)0),
	    UP_INVALID_ARGUMENT);
	CHECK_INT(async_wait(1, 100), 0);

	/* Close waits for calls in flight (silent: until their deadline). */
	async_reset();
	g.user_id = "silent";
	for (int i = 0; i < 20; i++) {
		CHECK_INT(uc_get_user_async(c, &g, &quick, on_async,
					    (void *)(intptr_t)i),
			  0);
	}
	uc_client_close(c);
	pthread_mutex_lock(&amtx);
	CHECK_INT(adone, 20);
	pthread_mutex_unlock(&amtx);
	for (int i = 0; i < 20; i++) {
		CHECK_INT(astatus[i], UP_DEADLINE_EXCEEDED);
	}
}

/* An async call's reply: the request id the fake saw (echo). */
typedef struct id_wait {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	bool done;
	char id[160];
} id_wait;

static void
on_id(uc_result *res, void *arg)
{
	id_wait *w = arg;
	const Users__V1__UserInfo *u = user_of(res);

	pthread_mutex_lock(&w->mtx);
	snprintf(w->id, sizeof(w->id), "%s", u != NULL ? u->id : "");
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mtx);
	uc_result_fini(res);
}

/* The request id the fake saw for one async call with opts. */
static void
async_id(uc_client *c, const uc_call_opts *opts, char *out, size_t size)
{
	Users__V1__GetUser g = USERS__V1__GET_USER__INIT;
	id_wait w = {.done = false};

	pthread_mutex_init(&w.mtx, NULL);
	pthread_cond_init(&w.cv, NULL);
	g.user_id = "echo";
	out[0] = '\0';
	if (uc_get_user_async(c, &g, opts, on_id, &w) == 0) {
		pthread_mutex_lock(&w.mtx);
		while (!w.done) { /* bounded: the call's deadline */
			pthread_cond_wait(&w.cv, &w.mtx);
		}
		pthread_mutex_unlock(&w.mtx);
		snprintf(out, size, "%s", w.id);
	}
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mtx);
}

static uc_daemon_stats
stats_of(uc_client *c, size_t i)
{
	uc_daemon_stats st;

	memset(&st, 0, sizeof(st));
	CHECK_INT(uc_daemon_stats_get(c, i, &st), 0);
	return st;
}

/* Polls until daemon i's connected state is want (deadline 5 s). */
static bool
wait_connected(uc_client *c, size_t i, bool want)
{
	long long t0 = (long long)nng_clock();

	while ((long long)nng_clock() - t0 < 5000) {
		uc_daemon_stats st;

		if (uc_daemon_stats_get(c, i, &st) == 0 &&
		    st.connected == want) {
			return true;
		}
		nng_msleep(5);
	}
	return false;
}

/*
 * Two daemons: the per-daemon state (connected, replies spread over both,
 * failures, last reply, connects/disconnects), one going away and coming
 * back; request ids on async calls, the caller's kept.
 */
static void
test_daemon_stats(void)
{
	char url2[128];
	const char *urls[2];
	uc_options o = {
	    .urls = urls, .n_urls = 2, .deadline_ms = 2000, .hop_nng = hop_nng};
	Users__V1__GetUser g = USERS__V1__GET_USER__INIT;
	uc_client *c = NULL;
	uc_daemon_stats s0, s1;
	uc_result res;
	fake f2;
	char id[160];
	int ok = 0;

	snprintf(url2, sizeof(url2), "ipc:///tmp/uc-lib-%d-2.sock",
		 (int)getpid());
	if (fake_start_at(&f2, url2) != 0) {
		CHECK(!"second fake");
		return;
	}
	urls[0] = url;
	urls[1] = url2;
	CHECK_INT(uc_client_open(&c, &o), 0);
	if (c == NULL) {
		fake_stop(&f2);
		return;
	}
	CHECK_INT(uc_daemon_count(c), 2);
	CHECK_INT(uc_daemon_count(NULL), 0);
	CHECK_INT(uc_daemon_stats_get(c, 2, &s0), UP_INVALID_ARGUMENT);
	CHECK_INT(uc_daemon_stats_get(c, 0, NULL), UP_INVALID_ARGUMENT);
	s0 = stats_of(c, 0);
	CHECK_STR(s0.url, url);
	CHECK_INT(s0.replies, 0);
	CHECK_INT(s0.last_reply_ms, -1);
	CHECK_INT(s0.last_reply_age_ms, -1);
	CHECK_STR(stats_of(c, 1).url, url2);
	CHECK(wait_connected(c, 0, true));
	CHECK(wait_connected(c, 1, true));

	g.user_id = "echo";
	for (int i = 0; i < 40; i++) {
		ok += uc_get_user(c, &g, NULL, &res) == UP_OK;
		uc_result_fini(&res);
	}
	CHECK_INT(ok, 40);
	s0 = stats_of(c, 0);
	s1 = stats_of(c, 1);
	CHECK_INT(s0.replies + s1.replies, 40);
	CHECK(s0.replies > 0 && s1.replies > 0); /* spread over both */
	CHECK(s0.connected && s1.connected);
	CHECK_INT(s0.pipes, 1);
	CHECK_INT(s0.connects, 1);
	CHECK_INT(s0.disconnects, 0);
	CHECK_INT(s0.failures + s1.failures, 0);
	CHECK(s0.last_reply_ms > 0);
	CHECK(s0.last_reply_age_ms >= 0 && s0.last_reply_age_ms < 5000);

	/* A reply that does not decode is the daemon's failure. */
	g.user_id = "garbage";
	CHECK_INT(uc_get_user(c, &g, NULL, &res), UP_INTERNAL);
	uc_result_fini(&res);
	CHECK_INT(stats_of(c, 0).failures + stats_of(c, 1).failures, 1);
	CHECK_INT(stats_of(c, 0).replies + stats_of(c, 1).replies, 41);

	/* Async calls carry a fresh id, or the caller's. */
	async_id(c, NULL, id, sizeof(id));
	CHECK_INT(strlen(id), 32);
	{
		uc_call_opts mine = {.request_id = "caller-id-1"};

		async_id(c, &mine, id, sizeof(id));
		CHECK_STR(id, "caller-id-1");
	}

	/* The second goes away: seen, and calls keep working. */
	fake_stop(&f2);
	CHECK(wait_connected(c, 1, false));
	s1 = stats_of(c, 1);
	CHECK_INT(s1.pipes, 0);
	CHECK_INT(s1.disconnects, 1);
	g.user_id = "echo";
	ok = 0;
	for (int i = 0; i < 10; i++) {
		ok += uc_get_user(c, &g, NULL, &res) == UP_OK;
		uc_result_fini(&res);
	}
	CHECK_INT(ok, 10);
	CHECK_INT(stats_of(c, 1).replies, s1.replies);

	/* And comes back at the same index: used again. */
	if (fake_start_at(&f2, url2) != 0) {
		CHECK(!"second fake again");
		uc_client_close(c);
		return;
	}
	CHECK(wait_connected(c, 1, true));
	CHECK(stats_of(c, 1).connects >= 2);
	{
		long long t0 = (long long)nng_clock();

		while (stats_of(c, 1).replies == s1.replies &&
		       (long long)nng_clock() - t0 < 5000) {
			CHECK_INT(uc_get_user(c, &g, NULL, &res), UP_OK);
			uc_result_fini(&res);
		}
		CHECK(stats_of(c, 1).replies > s1.replies);
	}
	uc_client_close(c);
	fake_stop(&f2);
	unlink(url2 + strlen("ipc://"));
}

/* No daemon, then one: UNAVAILABLE quickly, then calls succeed. */
static void
test_unavailable(fake *f)
{
	uc_client *c;
	Users__V1__GetUser g = USERS__V1__GET_USER__INIT;
	uc_result res;
	long long t0, dt;

	fake_stop(f);
	c = open_client(3000);
	if (c == NULL) {
		return;
	}
	g.user_id = "echo";
	t0 = (long long)nng_clock();
	CHECK_INT(uc_get_user(c, &g, NULL, &res), UP_UNAVAILABLE);
	dt = (long long)nng_clock() - t0;
	CHECK(res.error != NULL);
	uc_result_fini(&res);
	CHECK(dt <= 1000 + SLACK_MS); /* the connect grace, not the deadline */
	t0 = (long long)nng_clock();
	CHECK_INT(uc_get_user(c, &g, NULL, &res), UP_UNAVAILABLE);
	uc_result_fini(&res);
	CHECK((long long)nng_clock() - t0 <= 200);

	/* The daemon comes (back): the background dial finds it. */
	if (fake_start(f) != 0) {
		CHECK(!"restart");
		return;
	}
	t0 = (long long)nng_clock();
	int st = UP_UNAVAILABLE;
	while (st != UP_OK && (long long)nng_clock() - t0 < 5000) {
		st = uc_get_user(c, &g, NULL, &res);
		uc_result_fini(&res);
		if (st != UP_OK) {
			nng_msleep(20);
		}
	}
	CHECK_INT(st, UP_OK);
	uc_client_close(c);
}

/*
 * A peer that is no daemon (it greets as a REQ) is never taken for one by
 * the client's own connections: calls fail UNAVAILABLE after the connect
 * grace, no connection counts as made, and the client keeps trying (the
 * peer sees it come again).
 */
static void
test_not_rep(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	Users__V1__GetUser g = USERS__V1__GET_USER__INIT;
	uint8_t req[UP_SP_HELLO_LEN];
	uc_result res;
	uc_client *c;
	int lfd, accepted = 0;
	long long t0;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/uc-lib-%d-req.sock",
		 (int)getpid());
	snprintf(url, sizeof(url), "ipc://%s", sa.sun_path);
	unlink(sa.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 16) != 0) {
		CHECK(!"a listener");
		return;
	}
	up_sp_hello(req, UP_SP_REQ);
	hop_nng = false; /* the client's own connections */
	c = open_client(3000);
	if (c == NULL) {
		close(lfd);
		return;
	}
	g.user_id = "echo";
	t0 = (long long)nng_clock();
	/* the peer answers every connection with a REQ's hello, twice */
	while (accepted < 2 && (long long)nng_clock() - t0 < 5000) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			nng_msleep(2);
			continue;
		}
		CHECK_INT(send(fd, req, sizeof(req), MSG_NOSIGNAL),
			  (long)sizeof(req));
		accepted++;
		close(fd);
	}
	CHECK_INT(accepted, 2); /* tried again after the refusal */
	CHECK_INT(uc_get_user(c, &g, NULL, &res), UP_UNAVAILABLE);
	uc_result_fini(&res);
	CHECK_INT(stats_of(c, 0).connects, 0);
	uc_client_close(c);
	close(lfd);
	unlink(sa.sun_path);
}

/*
 * UC_METHODS (usersclient.h) is written by hand for the typed wrappers:
 * it must be the service of users.proto, method for method, in order,
 * each with its request type.
 */
static void
test_methods_are_the_contract(void)
{
	static const struct {
		const char *name;
		const char *request;
	} rows[] = {
#define UC_ROW(snake, pascal, req) {#pascal, #req},
	    UC_METHODS(UC_ROW)
#undef UC_ROW
	};
	size_t n = sizeof(rows) / sizeof(rows[0]);

	CHECK_INT(up_meta_load(), 0);
	CHECK_INT(n, up_method_count());
	for (size_t i = 0; i < n && i < up_method_count(); i++) {
		const up_method *m = up_method_at(i);

		CHECK_STR(rows[i].name, m->desc->name);
		CHECK_STR(rows[i].request, m->desc->input->c_name);
	}
}

int
main(void)
{
	fake f;

	snprintf(url, sizeof(url), "ipc:///tmp/uc-lib-%d.sock", (int)getpid());
	if (up_meta_load() != 0 || fake_start(&f) != 0) {
		return 1;
	}
	/* Every test against the fake (nng's own REP socket), on the
	 * client's own connections, then through nng. */
	for (int pass = 0; pass < 2; pass++) {
		hop_nng = pass == 1;
		fprintf(stderr, "test_client_lib: %s\n",
			hop_nng ? "through nng"
				: "on the client's own connections");
		test_envelope();
		test_failures();
		test_async();
		test_daemon_stats();
		test_unavailable(&f);
	}
	fake_stop(&f);
	unlink(url + strlen("ipc://"));
	test_not_rep();
	test_methods_are_the_contract();
	return check_done();
}
