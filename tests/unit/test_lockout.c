/*
 * test_lockout.c - the lockout of user names: reservations (attempts
 * counted before their check, at most free_failures at once, given back
 * without a verdict), progression, doubling, cap, success reset, window,
 * expiry, case folding, bound, threads; and the same policy on a state
 * kept outside the table (the shared store's).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "lockout.h"
#include "users_proto.h"

static const ud_lockout_config cfg = {
    .free_failures = 3,
    .window_s = 100,
    .lock_s = 10,
    .max_lock_s = 35,
    .max_entries = 4,
};

/* Whether an attempt at t would go on: reserved, then given back. */
static int
probe(ud_lockout *l, const char *name, int64_t t, int64_t *retry)
{
	int rc = ud_lockout_reserve(l, name, t, retry);

	if (rc == 0) {
		ud_lockout_release(l, name, t);
	}
	return rc;
}

/* n wrong passwords at t, one after the other (each reserved, then
 * failed; the ones refused are not checked); the probe right after. */
static int
fail_n(ud_lockout *l, const char *name, int n, int64_t t, int64_t *retry)
{
	for (int i = 0; i < n; i++) {
		if (ud_lockout_reserve(l, name, t, NULL) == 0) {
			ud_lockout_failure(l, name, t);
		}
	}
	return probe(l, name, t, retry);
}

static void
test_progression(void)
{
	ud_lockout *l;
	int64_t retry = -1, t = 1000;

	CHECK_INT(ud_lockout_alloc(&l, &cfg), 0);
	CHECK_INT(probe(l, "ann", t, &retry), 0);
	CHECK_INT(retry, 0);
	CHECK_INT(fail_n(l, "ann", 2, t, &retry), 0);
	/* The third failure locks for lock_s. */
	CHECK_INT(fail_n(l, "ann", 1, t, &retry), UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 10);
	CHECK_INT(probe(l, "ann", t + 9, &retry), UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 1);
	/* Failures while locked do not count or extend. */
	ud_lockout_failure(l, "ann", t + 5);
	CHECK_INT(probe(l, "ann", t + 10, &retry), 0);

	/* The next lock doubles, then doubles, then hits the cap. */
	t += 10;
	CHECK_INT(fail_n(l, "ann", 2, t, &retry), 0);
	CHECK_INT(fail_n(l, "ann", 1, t, &retry), UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 20);
	t += 20;
	CHECK_INT(fail_n(l, "ann", 3, t, &retry), UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 35); /* 40, capped */
	t += 35;
	CHECK_INT(fail_n(l, "ann", 3, t, &retry), UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 35);

	/* A success clears everything, doubling included. */
	ud_lockout_success(l, "ann");
	CHECK_INT(probe(l, "ann", t, &retry), 0);
	CHECK_INT(fail_n(l, "ann", 2, t, &retry), 0);
	CHECK_INT(fail_n(l, "ann", 1, t, &retry), UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 10);

	/* NULL retry pointer is fine. */
	CHECK_INT(probe(l, "ann", t, NULL), UP_RESOURCE_EXHAUSTED);
	ud_lockout_free(l);
}

static void
test_window_and_expiry(void)
{
	ud_lockout *l;
	int64_t retry, t = 5000;

	CHECK_INT(ud_lockout_alloc(&l, &cfg), 0);
	/* Failures spread beyond the window do not add up. */
	CHECK_INT(fail_n(l, "bob", 2, t, &retry), 0);
	CHECK_INT(fail_n(l, "bob", 1, t + 100, &retry), 0);
	CHECK_INT(fail_n(l, "bob", 1, t + 150, &retry), 0);
	CHECK_INT(fail_n(l, "bob", 1, t + 199, &retry), UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 10);

	/* A lock is remembered (doubling) until window_s after it ends... */
	t += 199;
	CHECK_INT(fail_n(l, "bob", 3, t + 10 + 99, &retry),
		  UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 20);
	/* ...and forgotten after. */
	t += 109;
	CHECK_INT(probe(l, "bob", t + 20 + 100, &retry), 0);
	CHECK_INT(fail_n(l, "bob", 3, t + 20 + 100, &retry),
		  UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 10);
	ud_lockout_free(l);
}

static void
test_case_folding(void)
{
	ud_lockout *l;
	int64_t retry;

	CHECK_INT(ud_lockout_alloc(&l, &cfg), 0);
	ud_lockout_failure(l, "Ann@Example.COM", 100);
	ud_lockout_failure(l, "ann@example.com", 100);
	ud_lockout_failure(l, "ANN@EXAMPLE.COM", 100);
	CHECK_INT(probe(l, "aNn@eXample.com", 100, &retry),
		  UP_RESOURCE_EXHAUSTED);
	CHECK_INT(probe(l, "ann@example.co", 100, &retry), 0);
	ud_lockout_success(l, "ANN@example.com");
	CHECK_INT(probe(l, "ann@example.com", 100, &retry), 0);
	/* Unknown names and NULL are harmless. */
	ud_lockout_success(l, "nobody");
	CHECK_INT(probe(l, NULL, 100, &retry), 0);
	ud_lockout_free(l);
}

static void
test_bound(void)
{
	ud_lockout *l;
	int64_t retry;
	char name[32];

	CHECK_INT(ud_lockout_alloc(&l, &cfg), 0);
	/* victim is locked at 100 until 110 */
	CHECK_INT(fail_n(l, "victim", 3, 100, &retry), UP_RESOURCE_EXHAUSTED);
	/* Three more names fit beside it (max 4)... */
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		ud_lockout_failure(l, name, 101);
	}
	CHECK_INT(probe(l, "victim", 101, &retry), UP_RESOURCE_EXHAUSTED);
	/* ...a fifth forgets the oldest that is not locked (n0, one failure
	 * short of nothing), never the locked victim, older as it is. */
	CHECK_INT(fail_n(l, "n1", 1, 102, &retry), 0); /* n1: 2 failures */
	ud_lockout_failure(l, "n3", 102);
	CHECK_INT(probe(l, "victim", 102, &retry), UP_RESOURCE_EXHAUSTED);
	CHECK_INT(fail_n(l, "n1", 0, 102, &retry), 0);
	CHECK_INT(fail_n(l, "n1", 1, 102, &retry), UP_RESOURCE_EXHAUSTED);
	/* A flood of new names cannot push the lock out: the attack that
	 * reset a lock by filling the table. */
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "flood%d", i);
		if (ud_lockout_reserve(l, name, 103, NULL) == 0) {
			ud_lockout_failure(l, name, 103);
		}
	}
	CHECK_INT(probe(l, "victim", 104, &retry), UP_RESOURCE_EXHAUSTED);
	ud_lockout_free(l);

	/* A table of locked names only: a new name waits (1 s) rather than
	 * push one out; once the locks are forgotten, it goes on. */
	CHECK_INT(ud_lockout_alloc(&l, &cfg), 0);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "locked%d", i);
		CHECK_INT(fail_n(l, name, 3, 10, &retry),
			  UP_RESOURCE_EXHAUSTED);
	}
	CHECK_INT(probe(l, "newcomer", 11, &retry), UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 1);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "locked%d", i);
		CHECK_INT(probe(l, name, 11, &retry), UP_RESOURCE_EXHAUSTED);
	}
	CHECK_INT(probe(l, "newcomer", 10 + 10 + 100, &retry), 0);
	/* Many names: the table stays bounded (ASan would see a leak). */
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "many%d", i);
		ud_lockout_failure(l, name, 200 + i / 100);
	}
	CHECK_INT(fail_n(l, "last", 3, 400, &retry), UP_RESOURCE_EXHAUSTED);
	ud_lockout_free(l);

	/* Defaults from a NULL config. */
	CHECK_INT(ud_lockout_alloc(&l, NULL), 0);
	CHECK_INT(fail_n(l, "d", 4, 1, &retry), 0);
	CHECK_INT(fail_n(l, "d", 1, 1, &retry), UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 60);
	ud_lockout_free(l);
}

typedef struct hammer_arg {
	ud_lockout *l;
	int id;
} hammer_arg;

static void *
hammer(void *p)
{
	hammer_arg *a = p;
	char name[32];
	int64_t retry;

	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "u%d", (i * 7 + a->id) % 13);
		if (ud_lockout_reserve(a->l, name, i / 50, &retry) != 0) {
			continue;
		}
		if (i % 5 == 0) {
			ud_lockout_success(a->l, name);
		} else if (i % 7 == 0) {
			ud_lockout_release(a->l, name, i / 50);
		} else {
			ud_lockout_failure(a->l, name, i / 50);
		}
	}
	return NULL;
}

static void
test_threads(void)
{
	ud_lockout *l;
	pthread_t th[4];
	hammer_arg args[4];

	CHECK_INT(ud_lockout_alloc(&l, &cfg), 0);
	for (int i = 0; i < 4; i++) {
		args[i].l = l;
		args[i].id = i;
		CHECK_INT(pthread_create(&th[i], NULL, hammer, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
	}
	ud_lockout_free(l);
}

/* Whether an attempt on the bare state s at t would go on. */
static int
state_probe(ud_login_state *s, int64_t t, int64_t *retry)
{
	int rc = ud_lockout_state_reserve(&cfg, s, t, retry);

	if (rc == 0) {
		ud_lockout_state_release(s);
	}
	return rc;
}

/* A wrong password on the bare state s at t (reserved, then failed). */
static void
state_fail(ud_login_state *s, int64_t t)
{
	if (ud_lockout_state_reserve(&cfg, s, t, NULL) == 0) {
		ud_lockout_state_failure(&cfg, s, t);
	}
}

/* The policy on a bare state, as the daemon applies it to the store's. */
static void
test_state(void)
{
	ud_login_state s;
	char key[UD_LOCKOUT_KEY_MAX + 1], longname[400];
	int64_t retry = -1, t = 5000;

	memset(&s, 0, sizeof(s));
	CHECK_INT(state_probe(&s, t, &retry), 0);
	CHECK(ud_lockout_state_forgotten(&cfg, &s, t));
	state_fail(&s, t);
	state_fail(&s, t);
	CHECK_INT(state_probe(&s, t, &retry), 0);
	CHECK(!ud_lockout_state_forgotten(&cfg, &s, t));
	state_fail(&s, t);
	CHECK_INT(state_probe(&s, t + 1, &retry), UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 9);
	CHECK(!ud_lockout_state_forgotten(&cfg, &s, t + 10 + 99));
	/* The second lock doubles. */
	t += 10;
	for (int i = 0; i < 3; i++) {
		state_fail(&s, t);
	}
	CHECK_INT(state_probe(&s, t, &retry), UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 20);
	/* A window after the lock ends, the name starts over. */
	CHECK(ud_lockout_state_forgotten(&cfg, &s, t + 20 + 100));
	state_fail(&s, t + 20 + 100);
	CHECK_INT(s.failures, 1);
	CHECK_INT(s.locks, 0);
	CHECK_INT(s.pending, 0);

	CHECK_INT((int)ud_lockout_key("Ann@Example.COM", key), 15);
	CHECK(strcmp(key, "ann@example.com") == 0);
	memset(longname, 'A', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_INT((int)ud_lockout_key(longname, key), UD_LOCKOUT_KEY_MAX);
	CHECK(key[0] == 'a' && key[UD_LOCKOUT_KEY_MAX] == '\0');
}

/*
 * Reservations: attempts count from before their check. free_failures
 * (3) attempts at once are let through, the fourth is refused with no
 * lock (retry in a second); a release gives its slot back; the verdicts
 * of the three then lock the name, and nothing else ever got through.
 */
static void
test_reservations(void)
{
	ud_lockout *l;
	int64_t retry = -1, t = 7000;

	CHECK_INT(ud_lockout_alloc(&l, &cfg), 0);
	for (int i = 0; i < 3; i++) {
		CHECK_INT(ud_lockout_reserve(l, "eve", t, &retry), 0);
		CHECK_INT(retry, 0);
	}
	CHECK_INT(ud_lockout_reserve(l, "eve", t, &retry),
		  UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 1);
	/* the other names are not concerned */
	CHECK_INT(probe(l, "adam", t, &retry), 0);
	/* no verdict: the slot is back, and taken again */
	ud_lockout_release(l, "eve", t);
	CHECK_INT(ud_lockout_reserve(l, "eve", t, &retry), 0);
	CHECK_INT(ud_lockout_reserve(l, "eve", t, &retry),
		  UP_RESOURCE_EXHAUSTED);
	/* two failures: the third attempt still runs, the name is full */
	ud_lockout_failure(l, "eve", t);
	ud_lockout_failure(l, "eve", t);
	CHECK_INT(ud_lockout_reserve(l, "eve", t, &retry),
		  UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 1);
	/* the third failure locks for lock_s */
	ud_lockout_failure(l, "eve", t + 1);
	CHECK_INT(ud_lockout_reserve(l, "eve", t + 1, &retry),
		  UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 10);
	/* released after two failures: the third slot is free again */
	CHECK_INT(fail_n(l, "ida", 2, t, &retry), 0);
	CHECK_INT(ud_lockout_reserve(l, "ida", t, &retry), 0);
	CHECK_INT(ud_lockout_reserve(l, "ida", t, &retry),
		  UP_RESOURCE_EXHAUSTED);
	ud_lockout_release(l, "ida", t);
	CHECK_INT(probe(l, "ida", t, &retry), 0);
	/* a success clears the name and its other reservations */
	CHECK_INT(ud_lockout_reserve(l, "joe", t, &retry), 0);
	CHECK_INT(ud_lockout_reserve(l, "joe", t, &retry), 0);
	CHECK_INT(ud_lockout_reserve(l, "joe", t, &retry), 0);
	ud_lockout_success(l, "joe");
	CHECK_INT(probe(l, "joe", t, &retry), 0);
	/* and the late failures of those count from nothing again */
	ud_lockout_failure(l, "joe", t);
	ud_lockout_failure(l, "joe", t);
	CHECK_INT(probe(l, "joe", t, &retry), 0);
	ud_lockout_failure(l, "joe", t);
	CHECK_INT(probe(l, "joe", t, &retry), UP_RESOURCE_EXHAUSTED);
	/* a release of a name nobody holds is harmless */
	ud_lockout_release(l, "nobody", t);
	CHECK_INT(probe(l, "nobody", t, &retry), 0);
	ud_lockout_free(l);
}

/* Reservations of an attempt that never ended (its daemon died) are
 * dropped once the name has been idle UD_LOCKOUT_PENDING_TTL_S. */
static void
test_pending_ttl(void)
{
	ud_lockout_config c = cfg;
	ud_login_state s;
	int64_t retry, t = 9000;

	c.window_s = 1000; /* longer than the TTL */
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 3; i++) {
		CHECK_INT(ud_lockout_state_reserve(&c, &s, t, &retry), 0);
	}
	CHECK_INT(s.pending, 3);
	CHECK_INT(ud_lockout_state_reserve(&c, &s, t + 59, &retry),
		  UP_RESOURCE_EXHAUSTED);
	CHECK_INT(ud_lockout_state_reserve(&c, &s, t + UD_LOCKOUT_PENDING_TTL_S,
					   &retry),
		  0);
	CHECK_INT(s.pending, 1);
	/* a late verdict of a dropped one does not go below nothing */
	ud_lockout_state_release(&s);
	ud_lockout_state_release(&s);
	CHECK_INT(s.pending, 0);
	CHECK(ud_lockout_state_forgotten(&c, &s, t + 60));
}

typedef struct race_arg {
	ud_lockout *l;
	pthread_barrier_t *go;
	pthread_barrier_t *hashed;
	atomic_int *granted;
	int64_t t;
} race_arg;

/*
 * One guess per thread, all at once: reserve, then (once every thread has
 * its answer, as while the hashes run) a wrong password.
 */
static void *
race(void *p)
{
	race_arg *a = p;
	int rc;

	pthread_barrier_wait(a->go);
	rc = ud_lockout_reserve(a->l, "target", a->t, NULL);
	pthread_barrier_wait(a->hashed);
	if (rc == 0) {
		atomic_fetch_add(a->granted, 1);
		ud_lockout_failure(a->l, "target", a->t);
	}
	return NULL;
}

/*
 * 32 threads guess at once, several rounds: exactly free_failures (3)
 * guesses are let through per window, and the name ends locked.
 */
static void
test_parallel_guesses(void)
{
	enum { N = 32 };
	pthread_t th[N];
	race_arg args[N];
	pthread_barrier_t go, hashed;
	atomic_int granted;
	ud_lockout *l;
	int64_t retry;

	CHECK_INT(ud_lockout_alloc(&l, &cfg), 0);
	for (int round = 0; round < 20; round++) {
		int64_t t = 100000 + round * 1000; /* a new window each */
		atomic_store(&granted, 0);
		pthread_barrier_init(&go, NULL, N);
		pthread_barrier_init(&hashed, NULL, N);
		for (int i = 0; i < N; i++) {
			args[i] = (race_arg){l, &go, &hashed, &granted, t};
			pthread_create(&th[i], NULL, race, &args[i]);
		}
		for (int i = 0; i < N; i++) {
			pthread_join(th[i], NULL);
		}
		pthread_barrier_destroy(&go);
		pthread_barrier_destroy(&hashed);
		CHECK_INT(atomic_load(&granted), 3);
		CHECK_INT(probe(l, "target", t, &retry), UP_RESOURCE_EXHAUSTED);
		CHECK(retry >= 10);
	}
	ud_lockout_free(l);
}

int
main(void)
{
	test_progression();
	test_window_and_expiry();
	test_case_folding();
	test_bound();
	test_threads();
	test_state();
	test_reservations();
	test_pending_ttl();
	test_parallel_guesses();
	return check_done();
}
