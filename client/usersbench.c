/*
 * usersbench.c - the load generator of usersd.
 *
 *   USERSBENCH_PASSWORD=... usersbench --url URL [--url URL...]
 *       --user EMAIL [--concurrency N] [--duration S] [--requests N]
 *       [--mix get=70,patch=25,create=5] [--users N] [--json]
 *       [--deadline MS] [--tls-ca FILE | --tls-insecure] [--login-only]
 *
 * Setup (synchronous calls): log in as the admin, then make sure N users
 * bench-<i>@usersbench.invalid exist and know their ids (ListUsers with an
 * email filter and paging finds those seeded before; NewUser creates the
 * missing ones; ALREADY_EXISTS sends us back to ListUsers).
 *
 * Load (asynchronous calls): N slots, each with exactly one request in
 * flight. A slot's callback (on an nng thread) records the latency and the
 * status in the slot's own histogram and counters and issues the slot's
 * next request: no lock anywhere on the hot path. The main thread only
 * reads the slots' atomic counters for the progress line, raises the stop
 * flag at --duration (or when --requests have been issued), waits for the
 * slots to finish with a deadline, merges the histograms of the finished
 * slots and reports. A run is bounded whatever the daemon or the client
 * library does: slots still in flight at the deadline are reported as
 * unanswered and the process exits without waiting for them.
 *
 * Ops: get = GetUser of a random seeded id; patch = PatchUser of a random
 * seeded id with a new first_name (~130-byte request); create = NewUser
 * with a unique email (per-run random prefix) and a password.
 *
 * Exit status: 0 when the run completed (even with request errors), 1 on a
 * setup failure (login, seeding), 2 on a usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bench_hist.h"
#include "bench_sys.h"
#include "usersclient.h"

#define MAX_URLS           16
#define MAX_CONCURRENCY    1024
#define MAX_USERS          1000000u
#define MAX_DURATION       86400u
#define MAX_DEADLINE_MS    600000u
#define DEFAULT_DEADLINE   5000u
#define LIST_PAGE          1000
#define N_STATUS           (UP_UNAUTHENTICATED + 1)
#define PATCH_TARGET_BYTES 130 /* packed PatchUser request */
#define EMAIL_DOMAIN       "@usersbench.invalid"
#define SEED_PREFIX        "bench-"
#define SEED_PASSWORD      "UsersBench-seed-Pw-2024!"
#define CREATE_PASSWORD    "UsersBench-new-Pw-2024!"
#define TEARDOWN_SECS      5
/* Nested issue depth at which a slot parks instead of recursing. */
#define MAX_ISSUE_DEPTH 8

enum bench_op { OP_GET, OP_PATCH, OP_CREATE, OP_COUNT };

static const char *const op_names[OP_COUNT] = {"get", "patch", "create"};
static const char *const op_methods[OP_COUNT] = {"GetUser", "PatchUser",
						 "NewUser"};

typedef struct bench_cfg {
	const char *urls[MAX_URLS];
	size_t n_urls;
	const char *user;
	const char *password;
	unsigned concurrency;
	unsigned duration_s;
	uint64_t max_requests; /* 0: no limit */
	unsigned mix[OP_COUNT];
	unsigned mix_total;
	unsigned users;
	uint32_t deadline_ms; /* 0: the library's default */
	const char *tls_ca;
	bool tls_insecure;
	bool json;
	bool login_only;
} bench_cfg;

struct bench;

/*
 * One request in flight at a time. Written only by the thread running the
 * slot's current callback (or the main thread before the first issue);
 * issuing the next call orders one callback before the next. The main
 * thread reads the atomics at any time and the rest once `finished` is set.
 */
typedef struct slot {
	struct bench *b;
	unsigned index;
	uint64_t rng;
	enum bench_op op;
	uint64_t t0;     /* ns, when the current call was issued */
	uint64_t t_last; /* ns, last completion */
	uint64_t seq;    /* creates issued by this slot */
	uint64_t req_bytes;
	uint64_t resp_bytes;
	uint64_t by_status[N_STATUS];
	uint64_t op_requests[OP_COUNT];
	uint64_t op_errors[OP_COUNT];
	bench_hist *hist[OP_COUNT]; /* NULL for ops not in the mix */
	int sync_failure;           /* status of a call refused at issue */
	char name[PATCH_TARGET_BYTES];
	char email[96];
	_Alignas(64) atomic_uint_fast64_t done;
	atomic_uint_fast64_t errors;
	atomic_bool parked;   /* waiting for the main thread to issue */
	atomic_bool finished; /* no call in flight and none to come */
} slot;

typedef struct bench {
	const bench_cfg *cfg;
	uc_client *client;
	char **ids; /* cfg->users seeded ids */
	char prefix[16];
	size_t token_len;
	slot *slots;
	atomic_bool stop;
	atomic_uint_fast64_t issued;
	atomic_uint active; /* slots not finished */
	uint64_t t_start;
} bench;

static _Thread_local unsigned issue_depth;

/* ------------------------------------------------------------------------
 * Small helpers
 */

/* splitmix64: a good 64-bit generator from any seed. */
static uint64_t
rng_next(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t
random_seed(void)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
		seed = bench_now_ns() ^ ((uint64_t)getpid() << 32);
	}
	return seed;
}

static int
status_index(int status)
{
	return status >= 0 && status < N_STATUS ? status : UP_UNKNOWN;
}

/* Rough wire sizes of the envelopes around a payload (see report). */
static size_t
request_wire_estimate(const bench *b, enum bench_op op, size_t payload)
{
	/* method, bearer token, request id (~32), deadline, payload tags */
	return payload + 2 + strlen(op_methods[op]) + 3 + b->token_len + 34 +
	       6 + 3;
}

static size_t
response_wire_estimate(size_t payload)
{
	/* status, payload tag, request id */
	return payload + 2 + 3 + 34;
}

/* ------------------------------------------------------------------------
 * The hot path: issue a call, take its answer, issue the next.
 */

static void slot_cb(uc_result *res, void *arg);

static void
slot_finish(slot *s)
{
	atomic_store_explicit(&s->finished, true, memory_order_release);
	atomic_fetch_sub_explicit(&s->b->active, 1, memory_order_acq_rel);
}

/* Builds and sends the slot's next request; 0 or the refusal status. */
static int
slot_send(slot *s)
{
	bench *b = s->b;
	const bench_cfg *cfg = b->cfg;
	unsigned pick = (unsigned)(rng_next(&s->rng) % cfg->mix_total);
	const char *id;
	size_t len, want;
	int op, rc;

	for (op = 0; op < OP_COUNT - 1; op++) {
		if (pick < cfg->mix[op]) {
			break;
		}
		pick -= cfg->mix[op];
	}
	s->op = (enum bench_op)op;
	id = b->ids[rng_next(&s->rng) % cfg->users];
	switch (s->op) {
	case OP_GET: {
		Users__V1__GetUser req = USERS__V1__GET_USER__INIT;

		req.user_id = (char *)id;
		s->req_bytes += request_wire_estimate(
		    b, OP_GET, users__v1__get_user__get_packed_size(&req));
		s->t0 = bench_now_ns();
		rc = uc_get_user_async(b->client, &req, NULL, slot_cb, s);
		break;
	}
	case OP_PATCH: {
		Users__V1__PatchUser req = USERS__V1__PATCH_USER__INIT;

		/* first_name sized so the packed request is ~130 bytes */
		len = strlen(id);
		want = len + 16 < PATCH_TARGET_BYTES - 4
			   ? PATCH_TARGET_BYTES - 4 - len
			   : 16;
		if (want >= sizeof(s->name)) {
			want = sizeof(s->name) - 1;
		}
		snprintf(s->name, sizeof(s->name), "Bench %016" PRIx64 " ",
			 rng_next(&s->rng));
		len = strlen(s->name);
		if (len < want) {
			memset(s->name + len, 'x', want - len);
		}
		s->name[want] = '\0';
		req.user_id = (char *)id;
		req.first_name = s->name;
		s->req_bytes += request_wire_estimate(
		    b, OP_PATCH, users__v1__patch_user__get_packed_size(&req));
		s->t0 = bench_now_ns();
		rc = uc_patch_user_async(b->client, &req, NULL, slot_cb, s);
		break;
	}
	default: {
		Users__V1__NewUser req = USERS__V1__NEW_USER__INIT;

		snprintf(s->email, sizeof(s->email),
			 "%s-%u-%" PRIu64 EMAIL_DOMAIN, b->prefix, s->index,
			 s->seq++);
		req.email_address = s->email;
		req.password = CREATE_PASSWORD;
		req.first_name = "Bench";
		req.last_name = "Created";
		s->req_bytes += request_wire_estimate(
		    b, OP_CREATE, users__v1__new_user__get_packed_size(&req));
		s->t0 = bench_now_ns();
		rc = uc_new_user_async(b->client, &req, NULL, slot_cb, s);
		break;
	}
	}
	return rc;
}

/*
 * Issues the slot's next call, or finishes the slot when the run is over.
 * A call the library refuses (it then never calls back) counts as an
 * error and ends the slot: retrying at once could spin.
 */
static void
slot_issue(slot *s)
{
	bench *b = s->b;
	uint64_t max = b->cfg->max_requests;
	int rc;

	if (atomic_load_explicit(&b->stop, memory_order_relaxed)) {
		slot_finish(s);
		return;
	}
	if (max != 0 && atomic_fetch_add_explicit(
			    &b->issued, 1, memory_order_relaxed) >= max) {
		slot_finish(s);
		return;
	}
	if (issue_depth >= MAX_ISSUE_DEPTH) {
		/* The library called back inline: let the main thread go on. */
		atomic_store_explicit(&s->parked, true, memory_order_release);
		return;
	}
	issue_depth++;
	rc = slot_send(s);
	issue_depth--;
	if (rc != 0) {
		s->sync_failure = rc;
		s->by_status[status_index(rc)]++;
		s->op_requests[s->op]++;
		s->op_errors[s->op]++;
		atomic_fetch_add_explicit(&s->done, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&s->errors, 1, memory_order_relaxed);
		slot_finish(s);
	}
}

static void
slot_cb(uc_result *res, void *arg)
{
	slot *s = arg;
	uint64_t t = bench_now_ns();
	int st = status_index(res->status);

	if (s->hist[s->op] != NULL) {
		bench_hist_record(s->hist[s->op], (t - s->t0 + 500) / 1000);
	}
	s->t_last = t;
	s->by_status[st]++;
	s->op_requests[s->op]++;
	if (res->response != NULL) {
		s->resp_bytes += response_wire_estimate(
		    protobuf_c_message_get_packed_size(res->response));
	} else if (res->error != NULL) {
		s->resp_bytes += response_wire_estimate(
		    protobuf_c_message_get_packed_size(&res->error->base));
	}
	uc_result_fini(res);
	atomic_fetch_add_explicit(&s->done, 1, memory_order_relaxed);
	if (st != UP_OK) {
		s->op_errors[s->op]++;
		atomic_fetch_add_explicit(&s->errors, 1, memory_order_relaxed);
	}
	slot_issue(s);
}

/* ------------------------------------------------------------------------
 * Setup: login and seeding (synchronous).
 */

/* i when email is exactly bench-<i>@usersbench.invalid with i < n. */
static long
seed_index(const char *email, unsigned n)
{
	size_t plen = strlen(SEED_PREFIX), dlen = strlen(EMAIL_DOMAIN);
	const char *p;
	unsigned long v = 0;

	if (email == NULL || strncmp(email, SEED_PREFIX, plen) != 0) {
		return -1;
	}
	p = email + plen;
	if (*p < '0' || *p > '9' || (*p == '0' && p[1] != '@')) {
		return -1;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v >= n) {
			return -1;
		}
	}
	if (strlen(p) != dlen || strcmp(p, EMAIL_DOMAIN) != 0) {
		return -1;
	}
	return (long)v;
}

/* Fills the missing ids from ListUsers; 0, or -1 with a message. */
static int
find_seeded(bench *b, unsigned *found)
{
	Users__V1__ListUsers req = USERS__V1__LIST_USERS__INIT;
	uc_result res = {0};
	const Users__V1__ListUsersResponse *lr;
	int32_t skip = 0;
	unsigned pages = 0;
	size_t i;
	int rc = -1;

	req.email = SEED_PREFIX;
	req.has_take = 1;
	req.take = LIST_PAGE;
	req.has_skip = 1;
	for (;;) {
		req.skip = skip;
		if (uc_list_users(b->client, &req, NULL, &res) != UP_OK) {
			fprintf(stderr, "usersbench: ListUsers failed: %s\n",
				uc_result_message(&res));
			goto out;
		}
		lr = (const Users__V1__ListUsersResponse *)res.response;
		if (lr == NULL) {
			fprintf(stderr, "usersbench: ListUsers: no response\n");
			goto out;
		}
		for (i = 0; i < lr->n_results; i++) {
			const Users__V1__UserInfo *u = lr->results[i];
			long k = seed_index(u->email_address, b->cfg->users);

			if (k < 0 || u->id == NULL || u->id[0] == '\0' ||
			    b->ids[k] != NULL) {
				continue;
			}
			if ((b->ids[k] = strdup(u->id)) == NULL) {
				fprintf(stderr, "usersbench: out of memory\n");
				goto out;
			}
			(*found)++;
		}
		skip += (int32_t)lr->n_results;
		/* A short or empty page, or the total reached, ends it. */
		if (lr->n_results == 0 ||
		    (lr->has_total && skip >= lr->total) ||
		    ++pages > MAX_USERS / 10) {
			break;
		}
		uc_result_fini(&res);
	}
	rc = 0;
out:
	uc_result_fini(&res);
	return rc;
}

static int
seed_users(bench *b)
{
	unsigned n = b->cfg->users, found = 0, created = 0, i;
	bool relist = false;
	uc_result res = {0};
	char email[64];
	int rc = -1, st;

	if ((b->ids = calloc(n, sizeof(*b->ids))) == NULL) {
		fprintf(stderr, "usersbench: out of memory\n");
		return -1;
	}
	if (find_seeded(b, &found) != 0) {
		return -1;
	}
	if (found < n) {
		fprintf(stderr,
			"usersbench: %u of %u users seeded; creating %u\n",
			found, n, n - found);
	}
	for (i = 0; i < n; i++) {
		Users__V1__NewUser req = USERS__V1__NEW_USER__INIT;
		const Users__V1__UserInfo *u;

		if (b->ids[i] != NULL) {
			continue;
		}
		snprintf(email, sizeof(email), SEED_PREFIX "%u" EMAIL_DOMAIN,
			 i);
		req.email_address = email;
		req.password = SEED_PASSWORD;
		req.first_name = "Bench";
		req.last_name = "Seed";
		st = uc_new_user(b->client, &req, NULL, &res);
		u = (const Users__V1__UserInfo *)res.response;
		if (st == UP_ALREADY_EXISTS) {
			relist = true;
		} else if (st != UP_OK || u == NULL || u->id == NULL ||
			   u->id[0] == '\0') {
			fprintf(stderr, "usersbench: seeding %s failed: %s\n",
				email,
				st == UP_OK ? "OK without a user id"
					    : uc_result_message(&res));
			goto out;
		} else if ((b->ids[i] = strdup(u->id)) == NULL) {
			fprintf(stderr, "usersbench: out of memory\n");
			goto out;
		} else {
			created++;
		}
		uc_result_fini(&res);
	}
	if (relist && find_seeded(b, &found) != 0) {
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (b->ids[i] == NULL) {
			fprintf(stderr,
				"usersbench: seeding failed: " SEED_PREFIX
				"%u" EMAIL_DOMAIN " exists but ListUsers does "
				"not return it\n",
				i);
			goto out;
		}
	}
	if (created > 0) {
		fprintf(stderr, "usersbench: created %u users\n", created);
	}
	rc = 0;
out:
	uc_result_fini(&res);
	return rc;
}

/* ------------------------------------------------------------------------
 * Run and report
 */

typedef struct bench_totals {
	uint64_t requests; /* answered or refused */
	uint64_t errors;   /* includes unanswered */
	uint64_t unanswered;
	unsigned unfinished_slots;
	unsigned refused_slots;
	int refused_status;
	double seconds;
	uint64_t by_status[N_STATUS];
	uint64_t op_requests[OP_COUNT];
	uint64_t op_errors[OP_COUNT];
	uint64_t req_bytes, resp_bytes;
	bench_hist *all;               /* all ops */
	bench_hist *op_hist[OP_COUNT]; /* per op in the mix */
} bench_totals;

static void
counters(const bench *b, uint64_t *done, uint64_t *errors)
{
	unsigned i;

	*done = *errors = 0;
	for (i = 0; i < b->cfg->concurrency; i++) {
		*done += atomic_load_explicit(&b->slots[i].done,
					      memory_order_relaxed);
		*errors += atomic_load_explicit(&b->slots[i].errors,
						memory_order_relaxed);
	}
}

/* Issues parked slots from the main thread. */
static void
unpark(bench *b)
{
	unsigned i;

	for (i = 0; i < b->cfg->concurrency; i++) {
		if (atomic_exchange_explicit(&b->slots[i].parked, false,
					     memory_order_acq_rel)) {
			slot_issue(&b->slots[i]);
		}
	}
}

static void
progress(const bench *b, uint64_t now, uint64_t *last_t, uint64_t *last_n,
	 bool tty)
{
	uint64_t done, errors;
	double dt = (double)(now - *last_t) / 1e9;
	double el = (double)(now - b->t_start) / 1e9;
	double rate;

	counters(b, &done, &errors);
	rate = dt > 0 ? (double)(done - *last_n) / dt : 0.0;
	if (tty) {
		fprintf(stderr,
			"\r\033[K%6.1f s  %10" PRIu64 " requests  %9.0f req/s  "
			"%" PRIu64 " errors",
			el, done, rate, errors);
	} else {
		fprintf(stderr,
			"usersbench: %.0f s: %" PRIu64 " requests, %.0f req/s, "
			"%" PRIu64 " errors\n",
			el, done, rate, errors);
	}
	fflush(stderr);
	*last_t = now;
	*last_n = done;
}

/*
 * Drives the load until --duration or --requests, then waits (bounded) for
 * the calls in flight. Fills t from the slots that finished.
 */
static void
run(bench *b, bench_totals *t)
{
	const bench_cfg *cfg = b->cfg;
	bool tty = isatty(STDERR_FILENO);
	uint64_t end, now, last_t, last_n = 0, drain_deadline, t_end = 0;
	uint64_t tick = (tty ? 250u : 1000u) * 1000000u, next_tick;
	uint64_t done, errors;
	uint32_t call_ms =
	    cfg->deadline_ms ? cfg->deadline_ms : DEFAULT_DEADLINE;
	unsigned i, k;

	atomic_store(&b->active, cfg->concurrency);
	b->t_start = bench_now_ns();
	end = b->t_start + (uint64_t)cfg->duration_s * 1000000000u;
	last_t = next_tick = b->t_start;
	next_tick += tick;
	for (i = 0; i < cfg->concurrency; i++) {
		slot_issue(&b->slots[i]);
	}
	for (;;) {
		now = bench_now_ns();
		if (now >= end || atomic_load(&b->active) == 0) {
			break;
		}
		unpark(b);
		if (now >= next_tick) {
			progress(b, now, &last_t, &last_n, tty);
			next_tick += tick;
		}
		bench_sleep_ms(20);
	}
	atomic_store(&b->stop, true);
	/* In flight: at most one call deadline, plus a margin. */
	drain_deadline =
	    bench_now_ns() + ((uint64_t)call_ms + 2000u) * 1000000u;
	while (atomic_load(&b->active) > 0 && bench_now_ns() < drain_deadline) {
		unpark(b);
		bench_sleep_ms(5);
	}
	if (tty) {
		progress(b, bench_now_ns(), &last_t, &last_n, tty);
		fputc('\n', stderr);
	}

	counters(b, &done, &errors);
	t->requests = done;
	t->errors = errors;
	for (i = 0; i < cfg->concurrency; i++) {
		const slot *s = &b->slots[i];

		if (!atomic_load_explicit(&s->finished, memory_order_acquire)) {
			/* Still writing: read nothing but its atomics. */
			t->unfinished_slots++;
			t->unanswered++;
			continue;
		}
		if (s->sync_failure != 0) {
			t->refused_slots++;
			t->refused_status = s->sync_failure;
		}
		if (s->t_last > t_end) {
			t_end = s->t_last;
		}
		for (k = 0; k < N_STATUS; k++) {
			t->by_status[k] += s->by_status[k];
		}
		for (k = 0; k < OP_COUNT; k++) {
			t->op_requests[k] += s->op_requests[k];
			t->op_errors[k] += s->op_errors[k];
			if (s->hist[k] != NULL) {
				bench_hist_merge(t->op_hist[k], s->hist[k]);
			}
		}
		t->req_bytes += s->req_bytes;
		t->resp_bytes += s->resp_bytes;
	}
	for (k = 0; k < OP_COUNT; k++) {
		if (t->op_hist[k] != NULL) {
			bench_hist_merge(t->all, t->op_hist[k]);
		}
	}
	t->errors += t->unanswered;
	if (t->unfinished_slots > 0 || t_end == 0) {
		t_end = bench_now_ns();
	}
	t->seconds = (double)(t_end - b->t_start) / 1e9;
}

static json_t *
latency_json(const bench_hist *h)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "p50",
			 (json_int_t)bench_hist_percentile(h, 50.0), "p90",
			 (json_int_t)bench_hist_percentile(h, 90.0), "p99",
			 (json_int_t)bench_hist_percentile(h, 99.0), "p999",
			 (json_int_t)bench_hist_percentile(h, 99.9), "max",
			 (json_int_t)h->max, "min",
			 (json_int_t)(h->total ? h->min : 0), "mean",
			 bench_hist_mean(h));
}

static int
report_json(const bench *b, const bench_totals *t)
{
	const bench_cfg *cfg = b->cfg;
	json_t *root = NULL, *by_status, *by_op, *urls, *mix, *o;
	double rate = t->seconds > 0 ? (double)t->requests / t->seconds : 0;
	size_t i;
	int rc = -1;

	if ((root = json_object()) == NULL) {
		goto out;
	}
	json_object_set_new(root, "throughput",
			    json_real(round(rate * 10.0) / 10.0));
	json_object_set_new(root, "requests",
			    json_integer((json_int_t)t->requests));
	json_object_set_new(root, "errors",
			    json_integer((json_int_t)t->errors));
	by_status = json_object();
	for (i = 0; i < N_STATUS; i++) {
		if (t->by_status[i] > 0) {
			json_object_set_new(
			    by_status, up_status_name((int)i),
			    json_integer((json_int_t)t->by_status[i]));
		}
	}
	json_object_set_new(root, "by_status", by_status);
	json_object_set_new(root, "latency_us", latency_json(t->all));
	by_op = json_object();
	for (i = 0; i < OP_COUNT; i++) {
		if (t->op_hist[i] == NULL) {
			continue;
		}
		o = json_pack("{s:I, s:I, s:o}", "requests",
			      (json_int_t)t->op_requests[i], "errors",
			      (json_int_t)t->op_errors[i], "latency_us",
			      latency_json(t->op_hist[i]));
		json_object_set_new(by_op, op_names[i], o);
	}
	json_object_set_new(root, "by_op", by_op);
	json_object_set_new(root, "unanswered",
			    json_integer((json_int_t)t->unanswered));
	json_object_set_new(root, "duration_s",
			    json_real(round(t->seconds * 1000.0) / 1000.0));
	json_object_set_new(root, "concurrency",
			    json_integer((json_int_t)cfg->concurrency));
	json_object_set_new(root, "users",
			    json_integer((json_int_t)cfg->users));
	urls = json_array();
	for (i = 0; i < cfg->n_urls; i++) {
		json_array_append_new(urls, json_string(cfg->urls[i]));
	}
	json_object_set_new(root, "urls", urls);
	mix = json_object();
	for (i = 0; i < OP_COUNT; i++) {
		json_object_set_new(mix, op_names[i],
				    json_integer((json_int_t)cfg->mix[i]));
	}
	json_object_set_new(root, "mix", mix);
	/* Estimated nng message sizes (envelope included): for nng_echo. */
	if (t->requests > t->unanswered) {
		uint64_t n = t->requests - t->unanswered;

		json_object_set_new(
		    root, "msg_bytes_est",
		    json_pack("{s:I, s:I}", "request",
			      (json_int_t)(t->req_bytes / (n ? n : 1)),
			      "response",
			      (json_int_t)(t->resp_bytes / (n ? n : 1))));
	}
	if (json_dumpf(root, stdout,
		       JSON_INDENT(2) | JSON_REAL_PRECISION(12)) != 0) {
		goto out;
	}
	fputc('\n', stdout);
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static void
report_text(const bench *b, const bench_totals *t)
{
	const bench_cfg *cfg = b->cfg;
	double rate = t->seconds > 0 ? (double)t->requests / t->seconds : 0;
	const bench_hist *h = t->all;
	size_t i;

	printf("usersbench: %s%s, %u in flight, %.2f s, %u users, mix",
	       cfg->urls[0], cfg->n_urls > 1 ? " (+more)" : "",
	       cfg->concurrency, t->seconds, cfg->users);
	for (i = 0; i < OP_COUNT; i++) {
		printf(" %s=%u", op_names[i], cfg->mix[i]);
	}
	printf("\n  throughput  %.1f req/s\n", rate);
	printf("  requests    %" PRIu64 ", errors %" PRIu64 "\n", t->requests,
	       t->errors);
	printf("  latency us  p50 %" PRIu64 "  p90 %" PRIu64 "  p99 %" PRIu64
	       "  p99.9 %" PRIu64 "  max %" PRIu64 "  mean %.1f\n",
	       bench_hist_percentile(h, 50.0), bench_hist_percentile(h, 90.0),
	       bench_hist_percentile(h, 99.0), bench_hist_percentile(h, 99.9),
	       h->max, bench_hist_mean(h));
	for (i = 0; i < OP_COUNT; i++) {
		if (t->op_hist[i] == NULL) {
			continue;
		}
		printf("  %-10s  %" PRIu64 " requests, %" PRIu64
		       " errors, p50 %" PRIu64 "  p99 %" PRIu64 "  max %" PRIu64
		       "\n",
		       op_names[i], t->op_requests[i], t->op_errors[i],
		       bench_hist_percentile(t->op_hist[i], 50.0),
		       bench_hist_percentile(t->op_hist[i], 99.0),
		       t->op_hist[i]->max);
	}
	printf("  by status  ");
	for (i = 0; i < N_STATUS; i++) {
		if (t->by_status[i] > 0) {
			printf(" %s %" PRIu64, up_status_name((int)i),
			       t->by_status[i]);
		}
	}
	if (t->unanswered > 0) {
		printf(" UNANSWERED %" PRIu64, t->unanswered);
	}
	printf("\n");
}

/* ------------------------------------------------------------------------
 * Options
 */

static void
usage(FILE *f)
{
	fprintf(f, "usage: USERSBENCH_PASSWORD=... usersbench --url URL [--url "
		   "URL...]\n"
		   "         --user EMAIL [--concurrency N] [--duration S] "
		   "[--requests N]\n"
		   "         [--mix get=70,patch=25,create=5] [--users N] "
		   "[--json]\n"
		   "         [--deadline MS] [--tls-ca FILE | --tls-insecure] "
		   "[--login-only]\n"
		   "  defaults: concurrency 64, duration 10 s, users 1000, the "
		   "mix above\n"
		   "  --tls-ca FILE   CA that signed the daemon's certificate "
		   "(tls+tcp:// needs it)\n"
		   "  --tls-insecure  tls+tcp:// without checking the "
		   "certificate (tests only)\n");
}

static int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9') {
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max) {
		return -1;
	}
	*out = v;
	return 0;
}

/* "get=70,patch=25,create=5": ops not named get 0. */
static int
parse_mix(const char *s, bench_cfg *cfg)
{
	const char *p = s;
	char num[16];
	unsigned long v;
	char *end;
	int op;

	memset(cfg->mix, 0, sizeof(cfg->mix));
	cfg->mix_total = 0;
	while (*p != '\0') {
		const char *eq = strchr(p, '=');
		const char *comma = strchr(p, ',');
		size_t nlen, vlen;

		if (comma == NULL) {
			comma = p + strlen(p);
		}
		if (eq == NULL || eq > comma) {
			return -1;
		}
		nlen = (size_t)(eq - p);
		vlen = (size_t)(comma - eq - 1);
		for (op = 0; op < OP_COUNT; op++) {
			if (strlen(op_names[op]) == nlen &&
			    strncmp(p, op_names[op], nlen) == 0) {
				break;
			}
		}
		if (op == OP_COUNT || vlen == 0 || vlen >= sizeof(num)) {
			return -1;
		}
		memcpy(num, eq + 1, vlen);
		num[vlen] = '\0';
		errno = 0;
		v = strtoul(num, &end, 10);
		if (num[0] < '0' || num[0] > '9' || *end != '\0' ||
		    errno != 0 || v > 1000000) {
			return -1;
		}
		cfg->mix[op] = (unsigned)v;
		p = *comma == ',' ? comma + 1 : comma;
	}
	for (op = 0; op < OP_COUNT; op++) {
		cfg->mix_total += cfg->mix[op];
	}
	return cfg->mix_total > 0 ? 0 : -1;
}

/* Whether a is one of the options that take a value. */
static bool
takes_value(const char *a)
{
	static const char *const names[] = {
	    "--url",      "--user",     "--concurrency",
	    "--duration", "--requests", "--users",
	    "--deadline", "--mix",      "--tls-ca"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(a, names[i]) == 0) {
			return true;
		}
	}
	return false;
}

static int
parse_args(int argc, char **argv, bench_cfg *cfg)
{
	uint64_t v;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--json") == 0) {
			cfg->json = true;
			continue;
		}
		if (strcmp(a, "--login-only") == 0) {
			cfg->login_only = true;
			continue;
		}
		if (strcmp(a, "--tls-insecure") == 0) {
			cfg->tls_insecure = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (!takes_value(a)) {
			fprintf(stderr, "usersbench: unknown option %s\n", a);
			return -1;
		}
		if (val == NULL) {
			fprintf(stderr, "usersbench: %s needs a value\n", a);
			return -1;
		}
		i++;
		if (strcmp(a, "--url") == 0) {
			if (cfg->n_urls == MAX_URLS) {
				fprintf(stderr,
					"usersbench: at most %d --url\n",
					MAX_URLS);
				return -1;
			}
			cfg->urls[cfg->n_urls++] = val;
		} else if (strcmp(a, "--user") == 0) {
			cfg->user = val;
		} else if (strcmp(a, "--concurrency") == 0) {
			if (parse_u64(val, 1, MAX_CONCURRENCY, &v) != 0) {
				goto bad;
			}
			cfg->concurrency = (unsigned)v;
		} else if (strcmp(a, "--duration") == 0) {
			if (parse_u64(val, 1, MAX_DURATION, &v) != 0) {
				goto bad;
			}
			cfg->duration_s = (unsigned)v;
		} else if (strcmp(a, "--requests") == 0) {
			if (parse_u64(val, 1, UINT64_MAX / 2, &v) != 0) {
				goto bad;
			}
			cfg->max_requests = v;
		} else if (strcmp(a, "--users") == 0) {
			if (parse_u64(val, 1, MAX_USERS, &v) != 0) {
				goto bad;
			}
			cfg->users = (unsigned)v;
		} else if (strcmp(a, "--deadline") == 0) {
			if (parse_u64(val, 1, MAX_DEADLINE_MS, &v) != 0) {
				goto bad;
			}
			cfg->deadline_ms = (uint32_t)v;
		} else if (strcmp(a, "--mix") == 0) {
			if (parse_mix(val, cfg) != 0) {
				goto bad;
			}
		} else if (strcmp(a, "--tls-ca") == 0) {
			cfg->tls_ca = val;
		} else {
			fprintf(stderr, "usersbench: unknown option %s\n", a);
			return -1;
		}
		continue;
	bad:
		fprintf(stderr, "usersbench: bad value for %s: %s\n", a, val);
		return -1;
	}
	if (cfg->n_urls == 0 || cfg->user == NULL) {
		fprintf(stderr, "usersbench: --url and --user are required\n");
		return -1;
	}
	cfg->password = getenv("USERSBENCH_PASSWORD");
	if (cfg->password == NULL || cfg->password[0] == '\0') {
		fprintf(stderr, "usersbench: set the password in "
				"USERSBENCH_PASSWORD\n");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * main
 */

static int
slots_alloc(bench *b)
{
	const bench_cfg *cfg = b->cfg;
	uint64_t seed = random_seed();
	unsigned i, k;

	b->slots = aligned_alloc(
	    64, ((sizeof(slot) * cfg->concurrency + 63) / 64) * 64);
	if (b->slots == NULL) {
		return -1;
	}
	memset(b->slots, 0, sizeof(slot) * cfg->concurrency);
	for (i = 0; i < cfg->concurrency; i++) {
		slot *s = &b->slots[i];

		s->b = b;
		s->index = i;
		s->rng = seed + i * UINT64_C(0x632be59bd9b4e019);
		atomic_init(&s->done, 0);
		atomic_init(&s->errors, 0);
		atomic_init(&s->parked, false);
		atomic_init(&s->finished, false);
		for (k = 0; k < OP_COUNT; k++) {
			if (cfg->mix[k] == 0) {
				continue;
			}
			if ((s->hist[k] = bench_hist_alloc()) == NULL) {
				return -1;
			}
		}
	}
	return 0;
}

static void
slots_free(bench *b)
{
	unsigned i, k;

	for (i = 0; b->slots != NULL && i < b->cfg->concurrency; i++) {
		for (k = 0; k < OP_COUNT; k++) {
			bench_hist_free(b->slots[i].hist[k]);
		}
	}
	free(b->slots);
	b->slots = NULL;
}

int
main(int argc, char **argv)
{
	bench_cfg cfg = {.concurrency = 64,
			 .duration_s = 10,
			 .users = 1000,
			 .mix = {70, 25, 5},
			 .mix_total = 100};
	uc_options opts = {0};
	uc_result res = {0};
	bench b;
	bench_totals t;
	unsigned i;
	int rv;
	int rc = 1;

	memset(&b, 0, sizeof(b));
	memset(&t, 0, sizeof(t));
	atomic_init(&b.stop, false);
	atomic_init(&b.issued, 0);
	atomic_init(&b.active, 0);
	if (parse_args(argc, argv, &cfg) != 0) {
		usage(stderr);
		return 2;
	}
	b.cfg = &cfg;
	signal(SIGPIPE, SIG_IGN);
	snprintf(b.prefix, sizeof(b.prefix), "ub%08" PRIx32,
		 (uint32_t)random_seed());

	opts.urls = cfg.urls;
	opts.n_urls = cfg.n_urls;
	opts.deadline_ms = cfg.deadline_ms;
	opts.tls_ca_file = cfg.tls_ca;
	opts.tls_insecure = cfg.tls_insecure;
	if ((rv = uc_client_open(&b.client, &opts)) != 0) {
		fprintf(stderr, "usersbench: %s\n", uc_client_open_error());
		if (rv == UP_FAILED_PRECONDITION) {
			fprintf(stderr, "usersbench: --tls-ca FILE names that "
					"CA; --tls-insecure skips the check "
					"(tests only)\n");
		}
		goto out;
	}
	if (uc_login(b.client, cfg.user, cfg.password, &res) != UP_OK) {
		fprintf(stderr, "usersbench: login as %s failed: %s\n",
			cfg.user, uc_result_message(&res));
		goto out;
	}
	uc_result_fini(&res);
	b.token_len = uc_bearer(b.client) ? strlen(uc_bearer(b.client)) : 0;
	if (cfg.login_only) {
		fprintf(stderr, "usersbench: login as %s ok\n", cfg.user);
		rc = 0;
		goto out;
	}
	if (seed_users(&b) != 0) {
		goto out;
	}
	if (slots_alloc(&b) != 0 || (t.all = bench_hist_alloc()) == NULL) {
		fprintf(stderr, "usersbench: out of memory\n");
		goto out;
	}
	for (i = 0; i < OP_COUNT; i++) {
		if (cfg.mix[i] > 0 &&
		    (t.op_hist[i] = bench_hist_alloc()) == NULL) {
			fprintf(stderr, "usersbench: out of memory\n");
			goto out;
		}
	}

	run(&b, &t);

	if (cfg.json) {
		if (report_json(&b, &t) != 0) {
			fprintf(stderr, "usersbench: cannot write the JSON\n");
		}
	} else {
		report_text(&b, &t);
	}
	fflush(stdout);
	if (t.refused_slots > 0) {
		fprintf(stderr,
			"usersbench: %u slots stopped: the client refused a "
			"call (%s)\n",
			t.refused_slots, up_status_name(t.refused_status));
	}
	rc = 0;
	if (t.unfinished_slots > 0) {
		/* Callbacks may still come and touch the slots: leave now. */
		fprintf(stderr,
			"usersbench: %u calls still unanswered after the "
			"deadline\n",
			t.unfinished_slots);
		_exit(rc);
	}
out:
	uc_result_fini(&res);
	bench_watchdog("usersbench", TEARDOWN_SECS, rc);
	fflush(stdout);
	if (b.client != NULL) {
		uc_client_close(b.client);
	}
	alarm(0);
	slots_free(&b);
	bench_hist_free(t.all);
	for (i = 0; i < OP_COUNT; i++) {
		bench_hist_free(t.op_hist[i]);
	}
	for (i = 0; b.ids != NULL && i < cfg.users; i++) {
		free(b.ids[i]);
	}
	free(b.ids);
	return rc;
}
