/*
 * store_bench.c - the store's own figures, without the daemon: writes by
 * many threads at once (each waiting for its commit: group commit at work),
 * the same writes queued by one thread, and point reads by id on one
 * reader.
 *
 *   store_bench [--threads N] [--per N] [--reads N] [TARGET]
 *
 * TARGET is a SQLite path (default: a new temporary directory, removed at
 * the end) or a postgresql:// URL (a database the benchmark may fill).
 * Prints one line per figure; exits 1 when a write or read failed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "users_proto.h"

typedef struct run {
	ud_store *st;
	int t;
	int n;
	int errors;
} run;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
insert(ud_store_conn *c, void *arg)
{
	return ud_store_user_insert(c, arg);
}

static void *
writer_main(void *arg)
{
	run *r = arg;

	for (int i = 0; i < r->n; i++) {
		char email[64];
		ud_user u = {.email = email, .manager_access = -1};

		snprintf(email, sizeof(email), "sync%d-%d@example.com", r->t,
			 i);
		r->errors += ud_store_write_sync(r->st, insert, &u) != 0;
	}
	return NULL;
}

/* The writes queued by one thread, and their completion. */
typedef struct queued {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	int failed;
} queued;

typedef struct job {
	queued *q;
	ud_user u;
	char email[64];
} job;

static int
job_insert(ud_store_conn *c, void *arg)
{
	return ud_store_user_insert(c, &((job *)arg)->u);
}

static void
job_done(int rc, void *arg)
{
	job *j = arg;
	queued *q = j->q;

	pthread_mutex_lock(&q->mu);
	q->done++;
	q->failed += rc != 0;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	free(j);
}

static int
usage(void)
{
	fprintf(stderr, "usage: store_bench [--threads N] [--per N] "
			"[--reads N] [SQLITE_PATH|postgresql://...]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	int threads = 64, per = 150, reads = 200000, errors = 0, total;
	const char *target = NULL;
	char dir[] = "/tmp/store_bench.XXXXXX", path[64];
	ud_store *st = NULL;
	ud_store_conn *reader = NULL;
	ud_store_counters s, s0;
	pthread_t *th;
	run *runs;
	queued q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	uint64_t x = 88172645463325252ull;
	double t0, t;
	int64_t n;

	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--threads") == 0) {
			threads = atoi(argv[++i]);
		} else if (i + 1 < argc && strcmp(argv[i], "--per") == 0) {
			per = atoi(argv[++i]);
		} else if (i + 1 < argc && strcmp(argv[i], "--reads") == 0) {
			reads = atoi(argv[++i]);
		} else if (argv[i][0] != '-' && target == NULL) {
			target = argv[i];
		} else {
			return usage();
		}
	}
	if (threads < 1 || threads > 1024 || per < 1 || reads < 0) {
		return usage();
	}
	if (target == NULL) {
		if (mkdtemp(dir) == NULL) {
			perror("mkdtemp");
			return 1;
		}
		snprintf(path, sizeof(path), "%s/bench.db", dir);
		target = path;
	}
	if (up_meta_load() != 0 || ud_store_open(&st, target, NULL) != 0) {
		fprintf(stderr, "store_bench: cannot open %s\n", target);
		return 1;
	}
	total = threads * per;
	th = calloc((size_t)threads, sizeof(*th));
	runs = calloc((size_t)threads, sizeof(*runs));
	if (th == NULL || runs == NULL) {
		return 1;
	}

	t0 = now_s();
	for (int i = 0; i < threads; i++) {
		runs[i] = (run){.st = st, .t = i, .n = per};
		pthread_create(&th[i], NULL, writer_main, &runs[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		errors += runs[i].errors;
	}
	t = now_s() - t0;
	ud_store_stats(st, &s);
	printf("%s: %d writes by %d writers in %.3f s: %.0f writes/s, "
	       "%llu commits (%.1f writes/commit), %llu checkpoints\n",
	       ud_store_backend(st), total, threads, t, total / t,
	       (unsigned long long)s.commits,
	       (double)s.writes / (double)(s.commits ? s.commits : 1),
	       (unsigned long long)s.checkpoints);

	s0 = s;
	t0 = now_s();
	for (int i = 0; i < total; i++) {
		job *j = calloc(1, sizeof(*j));

		if (j == NULL) {
			errors++;
			continue;
		}
		snprintf(j->email, sizeof(j->email), "async%d@example.com", i);
		j->u.email = j->email;
		j->u.manager_access = -1;
		j->q = &q;
		if (ud_store_write(st, job_insert, job_done, j) != 0) {
			free(j);
			errors++;
			pthread_mutex_lock(&q.mu);
			q.done++;
			pthread_mutex_unlock(&q.mu);
		}
	}
	pthread_mutex_lock(&q.mu);
	while (q.done < total) {
		pthread_cond_wait(&q.cv, &q.mu);
	}
	errors += q.failed;
	pthread_mutex_unlock(&q.mu);
	t = now_s() - t0;
	ud_store_stats(st, &s);
	printf("%s: %d writes queued by one thread in %.3f s: %.0f writes/s, "
	       "%llu commits\n",
	       ud_store_backend(st), total, t, total / t,
	       (unsigned long long)(s.commits - s0.commits));

	if (ud_store_reader_open(st, &reader) != 0) {
		return 1;
	}
	n = ud_store_user_count(reader);
	t0 = now_s();
	for (int i = 0; i < reads && n > 0; i++) {
		ud_user u;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		errors += ud_store_user_get(
			      reader, 1 + (int64_t)(x % (uint64_t)n), &u) != 0;
		ud_user_fini(&u);
	}
	t = now_s() - t0;
	printf("%s: %d point reads by id on one reader in %.3f s: %.0f "
	       "reads/s\n",
	       ud_store_backend(st), reads, t, reads > 0 ? reads / t : 0.0);
	ud_store_reader_close(reader);
	ud_store_close(st);
	if (target == path) {
		static const char *const files[] = {"", "-wal", "-shm",
						    ".lock"};

		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			char f[96];
			snprintf(f, sizeof(f), "%s%s", path, files[i]);
			unlink(f);
		}
		rmdir(dir);
	}
	free(th);
	free(runs);
	if (errors != 0) {
		fprintf(stderr, "store_bench: %d failures\n", errors);
	}
	return errors != 0;
}
