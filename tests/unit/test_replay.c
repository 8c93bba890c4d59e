/*
 * test_replay.c - the request-id table: new, pending with waiters, done,
 * mismatch, the caller in the digest, answers not final, cancelled,
 * expiry, bounds, entries used again, threads.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "replay.h"
#include "users_proto.h"

typedef struct got {
	int calls;
	size_t len;
	char bytes[64];
	int was_null;
} got;

static void
on_answer(const uint8_t *resp, size_t len, void *arg)
{
	got *g = arg;

	g->calls++;
	g->len = len;
	g->was_null = resp == NULL;
	if (resp != NULL && len < sizeof(g->bytes)) {
		memcpy(g->bytes, resp, len);
		g->bytes[len] = '\0';
	}
}

/* begin, as the caller subject. */
static ud_replay_state
begin_as(ud_replay *r, const char *id, const char *method, int64_t subject,
	 const char *payload, int64_t now, got *g, uint8_t **resp, size_t *len)
{
	uint8_t digest[UD_REPLAY_DIGEST_LEN];

	ud_replay_digest(method, subject, (const uint8_t *)payload,
			 strlen(payload), digest);
	return ud_replay_begin(r, id, digest, now, g != NULL ? on_answer : NULL,
			       g, resp, len);
}

static ud_replay_state
begin(ud_replay *r, const char *id, const char *method, const char *payload,
      int64_t now, got *g, uint8_t **resp, size_t *len)
{
	return begin_as(r, id, method, 7, payload, now, g, resp, len);
}

static void
test_flow(void)
{
	ud_replay *r;
	got g1 = {0}, g2 = {0}, g3 = {0};
	uint8_t *resp = (uint8_t *)"junk";
	size_t len = 99;

	CHECK_INT(ud_replay_alloc(&r, 60, 16), 0);
	CHECK_INT(begin(r, "r1", "CreateUser", "{a}", 1000, &g1, &resp, &len),
		  UD_REPLAY_NEW);
	CHECK(resp == NULL && len == 0);
	/* The same request again while it runs: two waiters. */
	CHECK_INT(begin(r, "r1", "CreateUser", "{a}", 1001, &g1, &resp, &len),
		  UD_REPLAY_PENDING);
	CHECK_INT(begin(r, "r1", "CreateUser", "{a}", 1001, &g2, &resp, &len),
		  UD_REPLAY_PENDING);
	/* Same id, other payload or method. */
	CHECK_INT(begin(r, "r1", "CreateUser", "{b}", 1001, &g3, &resp, &len),
		  UD_REPLAY_MISMATCH);
	CHECK_INT(begin(r, "r1", "DeleteUser", "{a}", 1001, &g3, &resp, &len),
		  UD_REPLAY_MISMATCH);
	/* Without a waiter: PENDING, nothing kept. */
	CHECK_INT(begin(r, "r1", "CreateUser", "{a}", 1001, NULL, &resp, &len),
		  UD_REPLAY_PENDING);

	ud_replay_finish(r, "r1", (const uint8_t *)"hello", 5, true);
	CHECK_INT(g1.calls, 1);
	CHECK_INT(g2.calls, 1);
	CHECK_INT(g3.calls, 0);
	CHECK_STR(g1.bytes, "hello");
	CHECK_STR(g2.bytes, "hello");
	CHECK_INT(g1.len, 5);

	/* Done: a copy of the answer. */
	CHECK_INT(begin(r, "r1", "CreateUser", "{a}", 1002, &g3, &resp, &len),
		  UD_REPLAY_DONE);
	CHECK(resp != NULL && len == 5 && memcmp(resp, "hello", 5) == 0);
	free(resp);
	CHECK_INT(g3.calls, 0);
	CHECK_INT(begin(r, "r1", "CreateUser", "{b}", 1002, NULL, &resp, &len),
		  UD_REPLAY_MISMATCH);
	CHECK(resp == NULL);

	/* A second finish is ignored; waiters are not called again. */
	ud_replay_finish(r, "r1", (const uint8_t *)"other", 5, true);
	CHECK_INT(g1.calls, 1);
	CHECK_INT(begin(r, "r1", "CreateUser", "{a}", 1002, NULL, &resp, &len),
		  UD_REPLAY_DONE);
	CHECK(resp != NULL && memcmp(resp, "hello", 5) == 0);
	free(resp);
	ud_replay_finish(r, "unknown", (const uint8_t *)"x", 1, true);

	/* An empty answer is an answer. */
	CHECK_INT(begin(r, "r0", "M", "", 1002, NULL, &resp, &len),
		  UD_REPLAY_NEW);
	ud_replay_finish(r, "r0", (const uint8_t *)"", 0, true);
	CHECK_INT(begin(r, "r0", "M", "", 1002, NULL, &resp, &len),
		  UD_REPLAY_DONE);
	CHECK(resp != NULL && len == 0);
	free(resp);

	/* Method and payload are not confused across their border. */
	CHECK_INT(begin(r, "r9", "ab", "c", 1002, NULL, &resp, &len),
		  UD_REPLAY_NEW);
	CHECK_INT(begin(r, "r9", "a", "bc", 1002, NULL, &resp, &len),
		  UD_REPLAY_MISMATCH);
	ud_replay_finish(r, "r9", NULL, 0, false);
	ud_replay_free(r);
}

static void
test_cancel_and_waiter_bound(void)
{
	ud_replay *r;
	got g[UD_REPLAY_MAX_WAITERS + 1];
	uint8_t *resp;
	size_t len;

	memset(g, 0, sizeof(g));
	CHECK_INT(ud_replay_alloc(&r, 60, 16), 0);
	CHECK_INT(begin(r, "r2", "M", "p", 10, NULL, &resp, &len),
		  UD_REPLAY_NEW);
	for (int i = 0; i < UD_REPLAY_MAX_WAITERS; i++) {
		CHECK_INT(begin(r, "r2", "M", "p", 10, &g[i], &resp, &len),
			  UD_REPLAY_PENDING);
	}
	/* Beyond the bound: refused, never run twice. */
	CHECK_INT(begin(r, "r2", "M", "p", 10, &g[UD_REPLAY_MAX_WAITERS], &resp,
			&len),
		  UD_REPLAY_BUSY);
	/* Cancelled: waiters get (NULL, 0), and the id is forgotten. */
	ud_replay_finish(r, "r2", NULL, 0, false);
	for (int i = 0; i < UD_REPLAY_MAX_WAITERS; i++) {
		CHECK_INT(g[i].calls, 1);
		CHECK(g[i].was_null && g[i].len == 0);
	}
	CHECK_INT(g[UD_REPLAY_MAX_WAITERS].calls, 0);
	CHECK_INT(begin(r, "r2", "M", "p", 11, NULL, &resp, &len),
		  UD_REPLAY_NEW);
	ud_replay_finish(r, "r2", (const uint8_t *)"ok", 2, true);
	ud_replay_free(r);
}

/*
 * The caller is part of what an id stands for: the same id and request
 * from another caller (or none) never gets the first one's answer.
 */
static void
test_subject(void)
{
	ud_replay *r;
	uint8_t *resp = NULL;
	size_t len;
	uint8_t d1[UD_REPLAY_DIGEST_LEN], d2[UD_REPLAY_DIGEST_LEN];

	ud_replay_digest("M", 1, (const uint8_t *)"p", 1, d1);
	ud_replay_digest("M", 2, (const uint8_t *)"p", 1, d2);
	CHECK(memcmp(d1, d2, sizeof(d1)) != 0);
	ud_replay_digest("M", 256, (const uint8_t *)"p", 1, d2);
	CHECK(memcmp(d1, d2, sizeof(d1)) != 0);
	ud_replay_digest("M", 1, (const uint8_t *)"p", 1, d2);
	CHECK(memcmp(d1, d2, sizeof(d1)) == 0);

	CHECK_INT(ud_replay_alloc(&r, 60, 16), 0);
	CHECK_INT(
	    begin_as(r, "s1", "PatchUser", 1, "{a}", 10, NULL, &resp, &len),
	    UD_REPLAY_NEW);
	ud_replay_finish(r, "s1", (const uint8_t *)"secret", 6, true);
	CHECK_INT(
	    begin_as(r, "s1", "PatchUser", 2, "{a}", 11, NULL, &resp, &len),
	    UD_REPLAY_MISMATCH);
	CHECK(resp == NULL);
	CHECK_INT(
	    begin_as(r, "s1", "PatchUser", 0, "{a}", 11, NULL, &resp, &len),
	    UD_REPLAY_MISMATCH);
	CHECK(resp == NULL);
	CHECK_INT(
	    begin_as(r, "s1", "PatchUser", 1, "{a}", 11, NULL, &resp, &len),
	    UD_REPLAY_DONE);
	CHECK(resp != NULL && len == 6);
	free(resp);
	ud_replay_free(r);
}

/*
 * An answer that is not final (the store was busy, say) is given to the
 * waiters of that moment, and the id is forgotten: a retry runs again,
 * and its final answer is the one kept.
 */
static void
test_not_final(void)
{
	ud_replay *r;
	got g1 = {0}, g2 = {0};
	uint8_t *resp = NULL;
	size_t len;

	CHECK_INT(ud_replay_alloc(&r, 60, 16), 0);
	CHECK_INT(begin(r, "t1", "M", "p", 10, NULL, &resp, &len),
		  UD_REPLAY_NEW);
	CHECK_INT(begin(r, "t1", "M", "p", 10, &g1, &resp, &len),
		  UD_REPLAY_PENDING);
	ud_replay_finish(r, "t1", (const uint8_t *)"busy", 4, false);
	CHECK_INT(g1.calls, 1);
	CHECK(!g1.was_null);
	CHECK_STR(g1.bytes, "busy");
	/* forgotten: the retry is new, and may wait on its own run */
	CHECK_INT(begin(r, "t1", "M", "p", 11, NULL, &resp, &len),
		  UD_REPLAY_NEW);
	CHECK_INT(begin(r, "t1", "M", "p", 11, &g2, &resp, &len),
		  UD_REPLAY_PENDING);
	ud_replay_finish(r, "t1", (const uint8_t *)"done", 4, true);
	CHECK_INT(g2.calls, 1);
	CHECK_STR(g2.bytes, "done");
	CHECK_INT(g1.calls, 1);
	CHECK_INT(begin(r, "t1", "M", "p", 12, NULL, &resp, &len),
		  UD_REPLAY_DONE);
	CHECK(resp != NULL && len == 4 && memcmp(resp, "done", 4) == 0);
	free(resp);
	ud_replay_free(r);
}

static void
test_expiry(void)
{
	ud_replay *r;
	uint8_t *resp;
	size_t len;

	CHECK_INT(ud_replay_alloc(&r, 60, 16), 0);
	CHECK_INT(begin(r, "e1", "M", "p", 1000, NULL, &resp, &len),
		  UD_REPLAY_NEW);
	ud_replay_finish(r, "e1", (const uint8_t *)"A", 1, true);
	CHECK_INT(begin(r, "e1", "M", "p", 1059, NULL, &resp, &len),
		  UD_REPLAY_DONE);
	free(resp);
	CHECK_INT(begin(r, "e1", "M", "p", 1060, NULL, &resp, &len),
		  UD_REPLAY_NEW);
	/* A pending entry outlives the window: its waiters need an answer. */
	CHECK_INT(begin(r, "e1", "M", "p", 5000, NULL, &resp, &len),
		  UD_REPLAY_PENDING);
	ud_replay_finish(r, "e1", (const uint8_t *)"B", 1, true);
	CHECK_INT(begin(r, "e1", "M", "p", 5000, NULL, &resp, &len),
		  UD_REPLAY_NEW);
	ud_replay_finish(r, "e1", NULL, 0, false);
	ud_replay_free(r);
}

static void
test_bound(void)
{
	ud_replay *r;
	uint8_t *resp;
	size_t len;
	char id[32];

	CHECK_INT(ud_replay_alloc(&r, 60, 2), 0);
	CHECK_INT(begin(r, "a", "M", "p", 1, NULL, &resp, &len), UD_REPLAY_NEW);
	ud_replay_finish(r, "a", (const uint8_t *)"A", 1, true);
	CHECK_INT(begin(r, "b", "M", "p", 2, NULL, &resp, &len), UD_REPLAY_NEW);
	ud_replay_finish(r, "b", (const uint8_t *)"B", 1, true);
	/* Full: the oldest finished one goes. */
	CHECK_INT(begin(r, "c", "M", "p", 3, NULL, &resp, &len), UD_REPLAY_NEW);
	CHECK_INT(begin(r, "b", "M", "p", 3, NULL, &resp, &len),
		  UD_REPLAY_DONE);
	free(resp);
	CHECK_INT(begin(r, "a", "M", "p", 3, NULL, &resp, &len), UD_REPLAY_NEW);
	/* Now a and c are both pending: nothing can go. */
	CHECK_INT(begin(r, "d", "M", "p", 3, NULL, &resp, &len),
		  UD_REPLAY_BUSY);
	ud_replay_finish(r, "c", (const uint8_t *)"C", 1, true);
	CHECK_INT(begin(r, "d", "M", "p", 3, NULL, &resp, &len), UD_REPLAY_NEW);
	ud_replay_finish(r, "a", NULL, 0, false);
	ud_replay_finish(r, "d", (const uint8_t *)"D", 1, true);

	/* Many ids: bounded (ASan would see leaks or overruns). */
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "id%d", i);
		CHECK(begin(r, id, "M", "p", 10 + i, NULL, &resp, &len) ==
		      UD_REPLAY_NEW);
		ud_replay_finish(r, id, (const uint8_t *)"x", 1, true);
	}
	ud_replay_free(r);
	CHECK_INT(ud_replay_alloc(&r, 60, 0), UP_INVALID_ARGUMENT);
	CHECK(r == NULL);
}

/*
 * Entries leave the table (evicted, expired, not final) and are used again
 * with the buffer of their last answer: every answer comes back as its
 * own bytes and length, shorter or longer than the one before, whatever
 * entry held it.
 */
static void
test_reuse(void)
{
	ud_replay *r;
	uint8_t *resp;
	size_t len;
	char id[32], ans[64];

	CHECK_INT(ud_replay_alloc(&r, 60, 3), 0);
	for (int i = 0; i < 400; i++) {
		size_t n = (size_t)(i * 7 % 50); /* 0 to 49 bytes */

		snprintf(id, sizeof(id), "r%d", i);
		memset(ans, 'a' + i % 26, n);
		CHECK(begin(r, id, "M", "p", 1 + i / 50, NULL, &resp, &len) ==
		      UD_REPLAY_NEW);
		/* every fifth answer is not final: its entry leaves at once */
		ud_replay_finish(r, id, (const uint8_t *)ans, n, i % 5 != 0);
		if (i % 5 == 0) {
			CHECK(begin(r, id, "M", "p", 1 + i / 50, NULL, &resp,
				    &len) == UD_REPLAY_NEW);
			ud_replay_finish(r, id, (const uint8_t *)ans, n, true);
		}
		resp = NULL;
		CHECK(begin(r, id, "M", "p", 1 + i / 50, NULL, &resp, &len) ==
		      UD_REPLAY_DONE);
		CHECK(len == n && resp != NULL &&
		      (n == 0 || memcmp(resp, ans, n) == 0));
		free(resp);
	}
	/* the window passes: all expire, and are taken again */
	CHECK_INT(begin(r, "late", "M", "p", 500, NULL, &resp, &len),
		  UD_REPLAY_NEW);
	ud_replay_finish(r, "late", (const uint8_t *)"L", 1, true);
	CHECK_INT(begin(r, "r399", "M", "p", 500, NULL, &resp, &len),
		  UD_REPLAY_NEW);
	ud_replay_finish(r, "r399", NULL, 0, false);
	CHECK_INT(begin(r, "late", "M", "p", 500, NULL, &resp, &len),
		  UD_REPLAY_DONE);
	CHECK(len == 1 && resp != NULL && resp[0] == 'L');
	free(resp);
	ud_replay_free(r);
}

typedef struct worker_arg {
	ud_replay *r;
	int id;
	int news;
} worker_arg;

static void
count_answer(const uint8_t *resp, size_t len, void *arg)
{
	(void)resp;
	(void)len;
	__atomic_add_fetch((int *)arg, 1, __ATOMIC_RELAXED);
}

static int answers;

static void *
worker(void *p)
{
	worker_arg *a = p;
	char id[32];
	uint8_t *resp;
	size_t len;

	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "t%d", i % 97);
		uint8_t digest[UD_REPLAY_DIGEST_LEN];
		ud_replay_digest("M", 7, (const uint8_t *)"p", 1, digest);
		ud_replay_state st =
		    ud_replay_begin(a->r, id, digest, i / 100, count_answer,
				    &answers, &resp, &len);
		if (st == UD_REPLAY_NEW) {
			a->news++;
			ud_replay_finish(a->r, id, (const uint8_t *)"z", 1,
					 true);
		} else if (st == UD_REPLAY_DONE) {
			free(resp);
		}
	}
	return NULL;
}

static void
test_threads(void)
{
	ud_replay *r;
	pthread_t th[4];
	worker_arg args[4];

	CHECK_INT(ud_replay_alloc(&r, 5, 64), 0);
	for (int i = 0; i < 4; i++) {
		args[i].r = r;
		args[i].id = i;
		args[i].news = 0;
		CHECK_INT(pthread_create(&th[i], NULL, worker, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
	}
	ud_replay_free(r);
}

int
main(void)
{
	test_flow();
	test_cancel_and_waiter_bound();
	test_subject();
	test_not_final();
	test_expiry();
	test_bound();
	test_reuse();
	test_threads();
	return check_done();
}
