/*
 * scale_bench.c - the figures of tests/bench/scale: a store of N users
 * built by ImportUsers, then GET and ListUsers against it, over RPC
 * (libusersclient) from this one process.
 *
 *   scale_bench --url URL --users N --hashes FILE [--db PATH] [--threads T]
 *               [--metrics http://HOST:PORT/metrics] [--no-import]
 *
 * --no-import measures a store built by an earlier run (the same N).
 * The admin signs in with $SCALE_USER / $SCALE_PASSWORD. FILE holds stored
 * password hashes, one a line (made by other tools: tests/bench/scale);
 * row i gets hash i modulo their count, so every row is a real hash of a
 * scheme usersd reads, without making a million of them. Prints:
 *   - the import rate (rows a second, T callers of 1000 rows each);
 *   - the database size (PATH and its -wal; SQLite);
 *   - with --metrics (usersd's /metrics), how long the search index took
 *     to catch up after the import (usersd_store_index_pending down to
 *     0, polled) and then to merge its segments (usersd_store_index_
 *     merging 0): the GETs and the lists are measured only after, so
 *     they measure the store and not its catching up;
 *   - GET rate with 1,000 users and with N (T callers for 3 s, random ids);
 *   - ListUsers latency over 1,000 requests, one at a time: p50, p99 and
 *     max of the round trip (the server's time plus one ipc hop, about
 *     0.1 ms here) for the first page, a page by cursor at 90% of the
 *     ids, a page by skip at 90%, an email substring and a name
 *     substring (each a few matches), and an email substring that every
 *     user matches.
 * The deep cursor is made as ListUsers makes it (base64url of "u" and the
 * id): the benchmark knows the format, callers need not.
 */
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "usersclient.h"

#define BATCH 1000

static const char *const words[] = {
    "Ada",     "Grace",  "Alan",      "Edsger",   "Barbara",   "Donald",
    "Ken",     "Dennis", "Frances",   "Hedy",     "Katherine", "Margaret",
    "Niklaus", "Tony",   "Leslie",    "Radia",    "Shafi",     "Sophie",
    "Tim",     "Vint",   "Whitfield", "Yukihiro", "Zhores",    "Ivan",
    "John",    "Karen",  "Lynn",      "Mary",     "Nancy",     "Olga",
    "Peter",   "Quentin"};
#define N_WORDS (sizeof(words) / sizeof(words[0]))

static const char *url, *hashes_path, *db_path, *metrics_url;
static long long n_users = 1000000;
static int threads = 2;
static int no_import;
static char **hashes;
static size_t n_hashes;

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uc_client *
open_client(void)
{
	const char *urls[] = {url};
	uc_options o = {.urls = urls, .n_urls = 1, .deadline_ms = 120000};
	uc_client *c = NULL;
	uc_result res;
	const char *user = getenv("SCALE_USER"), *pw = getenv("SCALE_PASSWORD");

	if (uc_client_open(&c, &o) != 0) {
		fprintf(stderr, "scale_bench: %s\n", uc_client_open_error());
		return NULL;
	}
	if (uc_login(c, user ? user : "admin@example.com", pw ? pw : "",
		     &res) != UP_OK) {
		fprintf(stderr, "scale_bench: login: %s\n",
			uc_result_message(&res));
		uc_result_fini(&res);
		return NULL;
	}
	uc_result_fini(&res);
	return c;
}

static int
load_hashes(void)
{
	FILE *f = fopen(hashes_path, "r");
	char line[512];
	size_t cap = 0;

	if (f == NULL) {
		perror(hashes_path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0') {
			continue;
		}
		if (n_hashes == cap) {
			cap = cap ? cap * 2 : 256;
			hashes = realloc(hashes, cap * sizeof(*hashes));
		}
		hashes[n_hashes++] = strdup(line);
	}
	fclose(f);
	return n_hashes > 0 ? 0 : -1;
}

/* Imports users [first, last) in calls of BATCH rows. */
static int
import_range(uc_client *c, long long first, long long last)
{
	Users__V1__UserRecord rows[BATCH], *v[BATCH];
	static _Thread_local char email[BATCH][64], lname[BATCH][32];

	for (long long k = first; k < last; k += BATCH) {
		Users__V1__ImportUsers req = USERS__V1__IMPORT_USERS__INIT;
		uc_result res = {0};
		size_t n = 0;
		int rc;

		for (long long i = k; i < last && n < BATCH; i++, n++) {
			users__v1__user_record__init(&rows[n]);
			snprintf(email[n], sizeof(email[n]),
				 "user%07lld.%s@scale.example", i,
				 words[i % N_WORDS]);
			snprintf(lname[n], sizeof(lname[n]), "%s%lld",
				 words[(i / N_WORDS) % N_WORDS], i % 100003);
			rows[n].email_address = email[n];
			rows[n].first_name = (char *)words[i % N_WORDS];
			rows[n].last_name = lname[n];
			rows[n].password_hash = hashes[i % n_hashes];
			v[n] = &rows[n];
		}
		req.users = v;
		req.n_users = n;
		rc = uc_import_users(c, &req, NULL, &res);
		if (rc != UP_OK ||
		    ((Users__V1__ImportUsersResponse *)res.response)->refused >
			0) {
			fprintf(stderr, "scale_bench: import at %lld: %s\n", k,
				rc != UP_OK ? uc_result_message(&res)
					    : "rows refused");
			uc_result_fini(&res);
			return -1;
		}
		uc_result_fini(&res);
	}
	return 0;
}

typedef struct job {
	pthread_t t;
	uc_client *c;
	long long first, last; /* import */
	long long ids;         /* get: ids 2..ids+1 */
	double until;
	long long done;
	int rc;
	unsigned seed;
} job;

static void *
import_main(void *arg)
{
	job *j = arg;

	j->rc = import_range(j->c, j->first, j->last);
	return NULL;
}

/* Imports [first, last) with the threads; rows a second. */
static double
import_all(uc_client **cs, long long first, long long last)
{
	job j[16] = {{0}};
	double t0 = now_s();
	long long per = (last - first) / threads / BATCH * BATCH;
	int rc = 0;

	for (int i = 0; i < threads; i++) {
		j[i].c = cs[i];
		j[i].first = first + per * i;
		j[i].last = i == threads - 1 ? last : first + per * (i + 1);
		pthread_create(&j[i].t, NULL, import_main, &j[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(j[i].t, NULL);
		rc |= j[i].rc;
	}
	return rc == 0 ? (double)(last - first) / (now_s() - t0) : -1;
}

static void *
get_main(void *arg)
{
	job *j = arg;
	char id[32];

	while (now_s() < j->until) {
		Users__V1__GetUser req = USERS__V1__GET_USER__INIT;
		uc_result res = {0};

		snprintf(id, sizeof(id), "%lld",
			 2 + (long long)(rand_r(&j->seed) % j->ids));
		req.user_id = id;
		if (uc_get_user(j->c, &req, NULL, &res) == UP_OK) {
			j->done++;
		}
		uc_result_fini(&res);
	}
	return NULL;
}

static double
get_rate(uc_client **cs, long long ids)
{
	job j[16] = {{0}};
	double t0 = now_s();
	long long done = 0;

	for (int i = 0; i < threads * 2; i++) {
		j[i].c = cs[i % threads];
		j[i].ids = ids;
		j[i].until = t0 + 3;
		j[i].seed = (unsigned)(i + 1) * 7919u;
		pthread_create(&j[i].t, NULL, get_main, &j[i]);
	}
	for (int i = 0; i < threads * 2; i++) {
		pthread_join(j[i].t, NULL);
		done += j[i].done;
	}
	return (double)done / (now_s() - t0);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* base64url without padding of "u<id>", as ListUsers writes a cursor. */
static void
cursor_of(long long id, char *out, size_t size)
{
	static const char al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char raw[32];
	size_t n = (size_t)snprintf(raw, sizeof(raw), "u%lld", id), o = 0;

	for (size_t i = 0; i < n && o + 5 < size; i += 3) {
		unsigned v = (unsigned char)raw[i] << 16;
		size_t left = n - i;
		if (left > 1) {
			v |= (unsigned char)raw[i + 1] << 8;
		}
		if (left > 2) {
			v |= (unsigned char)raw[i + 2];
		}
		out[o++] = al[v >> 18 & 63];
		out[o++] = al[v >> 12 & 63];
		if (left > 1) {
			out[o++] = al[v >> 6 & 63];
		}
		if (left > 2) {
			out[o++] = al[v & 63];
		}
	}
	out[o] = '\0';
}

typedef enum kind { FIRST, CURSOR, SKIP, EMAIL, NAME, COMMON } kind;

static void
list_latency(uc_client *c, kind k, const char *label)
{
	enum { N = 1000 };
	static double ms[N];
	char cur[64], text[64];
	size_t results = 0;

	for (int i = 0; i < N; i++) {
		Users__V1__ListUsers req = USERS__V1__LIST_USERS__INIT;
		long long deep = n_users * 9 / 10 + (i * 7919) % (n_users / 20);
		uc_result res = {0};
		double t0;

		req.has_take = true;
		req.take = 20;
		if (k == CURSOR) {
			cursor_of(deep, cur, sizeof(cur));
			req.after = cur;
		} else if (k == SKIP) {
			req.has_skip = true;
			req.skip = (int32_t)deep;
		} else if (k == EMAIL) {
			/* one user: "r0912345." */
			snprintf(text, sizeof(text), "r%07lld.", deep);
			req.email = text;
		} else if (k == COMMON) {
			req.email = "scale"; /* in every email */
		} else if (k == NAME) {
			/* a last name: a word and a number, a few users */
			snprintf(text, sizeof(text), "%s%lld",
				 words[(deep / N_WORDS) % N_WORDS],
				 deep % 100003);
			req.name = text;
		}
		t0 = now_s();
		if (uc_list_users(c, &req, NULL, &res) != UP_OK) {
			fprintf(stderr, "scale_bench: %s: %s\n", label,
				uc_result_message(&res));
		} else {
			results +=
			    ((Users__V1__ListUsersResponse *)res.response)
				->n_results;
		}
		ms[i] = (now_s() - t0) * 1000;
		uc_result_fini(&res);
	}
	qsort(ms, N, sizeof(ms[0]), cmp_double);
	printf("  %-30s p50 %7.3f ms   p99 %7.3f ms   max %7.3f ms   "
	       "(%.1f results a page)\n",
	       label, ms[N / 2], ms[N * 99 / 100], ms[N - 1],
	       (double)results / N);
}

/*
 * The value of gauge name in GET metrics_url (http://HOST:PORT/PATH, one
 * connection a call), -1 when it cannot be read, -2 when usersd has none
 * of that name (an older one).
 */
static long long
metric(const char *name)
{
	char host[256], port[16], path[256], req[600];
	static char resp[1 << 18];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	size_t got = 0, len = strlen(name);
	long long v = -1;
	ssize_t r;
	int fd = -1;

	if (sscanf(metrics_url, "http://%255[^:]:%15[0-9]%255s", host, port,
		   path) != 3 ||
	    getaddrinfo(host, port, &hints, &ai) != 0) {
		return -1;
	}
	if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) < 0 ||
	    connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		goto out;
	}
	snprintf(req, sizeof(req),
		 "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n",
		 path, host);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		goto out;
	}
	while (got + 1 < sizeof(resp) &&
	       (r = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0) {
		got += (size_t)r;
	}
	resp[got] = '\0';
	v = strncmp(resp, "HTTP/1.", 7) == 0 && strstr(resp, " 200 ") ? -2 : -1;
	for (const char *p = resp; (p = strstr(p, name)) != NULL; p += len) {
		if ((p == resp || p[-1] == '\n') && p[len] == ' ') {
			v = atoll(p + len + 1);
			break;
		}
	}
out:
	if (fd >= 0) {
		close(fd);
	}
	freeaddrinfo(ai);
	return v;
}

/*
 * Polls gauge name until 0 (every 20 ms, 30 minutes at most); the seconds
 * it took, or -1 (never reached, or unreadable).
 */
static double
wait_zero(const char *name)
{
	double t0 = now_s();
	long long pending;

	while ((pending = metric(name)) != 0 && pending != -2) {
		struct timespec tick = {0, 20000000};

		if (pending < 0 || now_s() - t0 > 1800) {
			return -1;
		}
		nanosleep(&tick, NULL); /* the poll's period, not a wait */
	}
	return now_s() - t0;
}

static long long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

int
main(int argc, char **argv)
{
	uc_client *cs[16];
	double rate, get1k, getn;
	char wal[600];

	for (int i = 1; i < argc; i += 2) {
		if (strcmp(argv[i], "--no-import") == 0) {
			no_import = 1;
			i--;
		} else if (i + 1 == argc) {
			break;
		} else if (strcmp(argv[i], "--url") == 0) {
			url = argv[i + 1];
		} else if (strcmp(argv[i], "--users") == 0) {
			n_users = atoll(argv[i + 1]);
		} else if (strcmp(argv[i], "--hashes") == 0) {
			hashes_path = argv[i + 1];
		} else if (strcmp(argv[i], "--db") == 0) {
			db_path = argv[i + 1];
		} else if (strcmp(argv[i], "--metrics") == 0) {
			metrics_url = argv[i + 1];
		} else if (strcmp(argv[i], "--threads") == 0) {
			threads = atoi(argv[i + 1]);
		}
	}
	if (url == NULL || hashes_path == NULL || n_users < 2000 ||
	    threads < 1 || threads > 8 || load_hashes() != 0) {
		fprintf(stderr, "usage: scale_bench --url URL --users N>=2000 "
				"--hashes FILE [--db PATH] [--threads 1..8] "
				"[--metrics URL]\n");
		return 2;
	}
	for (int i = 0; i < threads; i++) {
		if ((cs[i] = open_client()) == NULL) {
			return 1;
		}
	}
	if (no_import) {
		get1k = get_rate(cs, 1000); /* of the first 1,000 ids only */
		goto measure;
	}
	if (import_range(cs[0], 0, 1000) != 0) {
		return 1;
	}
	get1k = get_rate(cs, 1000);
	rate = import_all(cs, 1000, n_users);
	if (rate < 0) {
		return 1;
	}
	printf("import: %lld users (%zu distinct stored hashes, %d callers "
	       "of %d rows): %.0f users/s\n",
	       n_users - 1000, n_hashes, threads, BATCH, rate);
measure:
	if (db_path != NULL) {
		snprintf(wal, sizeof(wal), "%s-wal", db_path);
		printf("database: %.1f MiB (%s) + %.1f MiB WAL\n",
		       (double)file_size(db_path) / 1048576, db_path,
		       (double)file_size(wal) / 1048576);
	}
	if (metrics_url != NULL) {
		long long left = metric("usersd_store_index_pending");
		double wait = wait_zero("usersd_store_index_pending");
		double merge =
		    wait < 0 ? -1 : wait_zero("usersd_store_index_merging");

		if (wait < 0 || merge < 0) {
			fprintf(stderr,
				"scale_bench: the search index did not "
				"catch up (%s)\n",
				metrics_url);
			return 1;
		}
		printf("search index: %lld users pending at the import's end, "
		       "caught up %.1f s later, its segments merged %.1f s "
		       "after that\n",
		       left, wait, merge);
		if (db_path != NULL) {
			printf("database then: %.1f MiB + %.1f MiB WAL\n",
			       (double)file_size(db_path) / 1048576,
			       (double)file_size(wal) / 1048576);
		}
	}
	getn = get_rate(cs, n_users);
	printf("GET: %.0f/s at 1,000 users, %.0f/s at %lld: ratio %.2f\n",
	       get1k, getn, n_users, getn / get1k);
	printf("ListUsers, take 20, one request at a time (1,000 each):\n");
	list_latency(cs[0], FIRST, "first page");
	list_latency(cs[0], CURSOR, "page by cursor at 90%");
	list_latency(cs[0], SKIP, "page by skip at 90%");
	list_latency(cs[0], EMAIL, "email substring (1 match)");
	list_latency(cs[0], NAME, "name substring (a few)");
	list_latency(cs[0], COMMON, "email substring (every user)");
	fflush(stdout);
	_exit(0); /* no uc_client_close: nng_close can hang at exit */
}
