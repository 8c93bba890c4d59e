/*
 * test_lockout.c - failed-login lockout: progression, doubling, cap,
 * success reset, window, expiry, case folding, bound, threads; and the
 * same policy on a state kept outside the table (the shared store's).
 */
#include <pthread.h>
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

/* Fails n times at t, each refused or not; the check right after. */
static int
fail_n(ud_lockout *l, const char *name, int n, int64_t t, int64_t *retry)
{
	for (int i = 0; i < n; i++) {
		ud_lockout_failure(l, name, t);
	}
	return ud_lockout_check(l, name, t, retry);
}

static void
test_progression(void)
{
	ud_lockout *l;
	int64_t retry = -1, t = 1000;

	CHECK_INT(ud_lockout_alloc(&l, &cfg), 0);
	CHECK_INT(ud_lockout_check(l, "ann", t, &retry), 0);
	CHECK_INT(retry, 0);
	CHECK_INT(fail_n(l, "ann", 2, t, &retry), 0);
	/* The third failure locks for lock_s. */
	CHECK_INT(fail_n(l, "ann", 1, t, &retry), UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 10);
	CHECK_INT(ud_lockout_check(l, "ann", t + 9, &retry),
		  UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 1);
	/* Failures while locked do not count or extend. */
	ud_lockout_failure(l, "ann", t + 5);
	CHECK_INT(ud_lockout_check(l, "ann", t + 10, &retry), 0);

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
	CHECK_INT(ud_lockout_check(l, "ann", t, &retry), 0);
	CHECK_INT(fail_n(l, "ann", 2, t, &retry), 0);
	CHECK_INT(fail_n(l, "ann", 1, t, &retry), UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 10);

	/* NULL retry pointer is fine. */
	CHECK_INT(ud_lockout_check(l, "ann", t, NULL), UP_RESOURCE_EXHAUSTED);
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
	CHECK_INT(ud_lockout_check(l, "bob", t + 20 + 100, &retry), 0);
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
	CHECK_INT(ud_lockout_check(l, "aNn@eXample.com", 100, &retry),
		  UP_RESOURCE_EXHAUSTED);
	CHECK_INT(ud_lockout_check(l, "ann@example.co", 100, &retry), 0);
	ud_lockout_success(l, "ANN@example.com");
	CHECK_INT(ud_lockout_check(l, "ann@example.com", 100, &retry), 0);
	/* Unknown names and NULL are harmless. */
	ud_lockout_success(l, "nobody");
	CHECK_INT(ud_lockout_check(l, NULL, 100, &retry), 0);
	ud_lockout_free(l);
}

static void
test_bound(void)
{
	ud_lockout *l;
	int64_t retry;
	char name[32];

	CHECK_INT(ud_lockout_alloc(&l, &cfg), 0);
	CHECK_INT(fail_n(l, "victim", 3, 100, &retry), UP_RESOURCE_EXHAUSTED);
	/* Three more names fit beside it (max 4)... */
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		ud_lockout_failure(l, name, 101);
	}
	CHECK_INT(ud_lockout_check(l, "victim", 101, &retry),
		  UP_RESOURCE_EXHAUSTED);
	/* ...a fifth evicts the oldest. */
	ud_lockout_failure(l, "n3", 102);
	CHECK_INT(ud_lockout_check(l, "victim", 102, &retry), 0);
	/* Many names: the table stays bounded (ASan would see a leak). */
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "flood%d", i);
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
		if (i % 5 == 0) {
			ud_lockout_success(a->l, name);
		} else {
			ud_lockout_failure(a->l, name, i / 50);
		}
		ud_lockout_check(a->l, name, i / 50, &retry);
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

/* The policy on a bare state, as the daemon applies it to the store's. */
static void
test_state(void)
{
	ud_login_state s;
	char key[UD_LOCKOUT_KEY_MAX + 1], longname[400];
	int64_t retry = -1, t = 5000;

	memset(&s, 0, sizeof(s));
	CHECK_INT(ud_lockout_state_check(&cfg, &s, t, &retry), 0);
	ud_lockout_state_failure(&cfg, &s, t);
	ud_lockout_state_failure(&cfg, &s, t);
	CHECK_INT(ud_lockout_state_check(&cfg, &s, t, &retry), 0);
	ud_lockout_state_failure(&cfg, &s, t);
	CHECK_INT(ud_lockout_state_check(&cfg, &s, t + 1, &retry),
		  UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 9);
	CHECK(!ud_lockout_state_forgotten(&cfg, &s, t + 10 + 99));
	/* The second lock doubles. */
	t += 10;
	for (int i = 0; i < 3; i++) {
		ud_lockout_state_failure(&cfg, &s, t);
	}
	CHECK_INT(ud_lockout_state_check(&cfg, &s, t, &retry),
		  UP_RESOURCE_EXHAUSTED);
	CHECK_INT(retry, 20);
	/* A window after the lock ends, the name starts over. */
	CHECK(ud_lockout_state_forgotten(&cfg, &s, t + 20 + 100));
	ud_lockout_state_failure(&cfg, &s, t + 20 + 100);
	CHECK_INT(s.failures, 1);
	CHECK_INT(s.locks, 0);

	CHECK_INT((int)ud_lockout_key("Ann@Example.COM", key), 15);
	CHECK(strcmp(key, "ann@example.com") == 0);
	memset(longname, 'A', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_INT((int)ud_lockout_key(longname, key), UD_LOCKOUT_KEY_MAX);
	CHECK(key[0] == 'a' && key[UD_LOCKOUT_KEY_MAX] == '\0');
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
	return check_done();
}
