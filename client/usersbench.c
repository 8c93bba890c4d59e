/*
 * usersbench.c - the load generator of usersd and usersgw.
 *
 *   USERSBENCH_PASSWORD=... usersbench --url URL [--url URL...]
 *       --user EMAIL [--concurrency N] [--duration S] [--requests N]
 *       [--rate N] [--warmup S] [--mix get=70,patch=25,create=5]
 *       [--users N] [--json] [--hgrm FILE] [--max-p99-ms MS]
 *       [--max-errors N] [--deadline MS] [--tls-ca FILE | --tls-insecure]
 *       [--hop loop|nng] [--login-only]
 *   USERSBENCH_PASSWORD=... usersbench --http http://HOST:PORT
 *       (--url URL | --ids FILE) --user EMAIL [the same options]
 *
 * Setup (synchronous calls): log in as the admin, then make sure N users
 * bench-<i>@usersbench.invalid exist and know their ids (ListUsers with an
 * email filter and paging finds those seeded before; NewUser creates the
 * missing ones; ALREADY_EXISTS sends us back to ListUsers). With --http
 * and --ids FILE, the ids come from the file and usersd is not called.
 *
 * Closed loop (the default): N slots, each with exactly one request in
 * flight. A slot's callback (on an nng thread) records the latency (from
 * when the call was sent) and the status in the slot's own histogram and
 * counters and issues the slot's next request: no lock anywhere on the
 * hot path.
 *
 * Open loop (--rate R): requests are due at R per second whatever the
 * daemon does (bench_sched.h). The main thread sends each due request on
 * a free slot (at most N in flight); the callback records the latency from
 * the request's due time, not from when it went out, so a stall that
 * holds requests back shows in all of them, and frees the slot. A request
 * due while every slot is busy waits for one; the time that costs is in
 * its latency, and the report counts late and unsent requests and says
 * why the tool fell behind.
 *
 * In both, the main thread reads the slots' atomic counters for the
 * progress line, stops at --duration (after --warmup, whose requests are
 * sent and not recorded), at --requests, or on Ctrl-C (SIGINT: the run
 * stops and reports what it measured), waits for the calls in flight with
 * a deadline, merges the histograms of the finished slots and reports. A
 * run is bounded whatever the daemon or the client library does: slots
 * still in flight at the deadline are reported as unanswered and the
 * process exits without waiting for them.
 *
 * Ops: get = GetUser of a random seeded id; patch = PatchUser of a random
 * seeded id with a new first_name (~130-byte request); create = NewUser
 * with a unique email (per-run random prefix) and a password. --http:
 * GET and PATCH /users/{id} (bench_http.c).
 *
 * Exit status: 0 when the run completed (even with request errors) within
 * the thresholds, 1 on a setup failure (login, seeding), 2 on a usage
 * error, 3 when a threshold (--max-p99-ms, --max-errors) was exceeded,
 * 130 when Ctrl-C stopped the run (after the report).
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
#include <sys/prctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bench_hist.h"
#include "bench_sched.h"
#include "bench_sys.h"
#include "users_flags.h"
#include "usersbench.h"
#include "usersclient.h"

#define MAX_CONCURRENCY    1024
#define MAX_USERS          1000000u
#define MAX_DURATION       86400u
#define MAX_DEADLINE_MS    600000u
#define DEFAULT_DEADLINE   5000u
#define LIST_PAGE          1000
#define PATCH_TARGET_BYTES 130 /* packed PatchUser request */
#define EMAIL_DOMAIN       "@usersbench.invalid"
#define SEED_PREFIX        "bench-"
#define SEED_PASSWORD      "UsersBench-seed-Pw-2024!"
#define CREATE_PASSWORD    "UsersBench-new-Pw-2024!"
#define TEARDOWN_SECS      5
/* Nested issue depth at which a slot parks instead of recursing. */
#define MAX_ISSUE_DEPTH 8
/* The open loop polls this often for a free slot while all are busy. */
#define FULL_POLL_NS     50000u
#define EXIT_THRESHOLD   3
#define EXIT_INTERRUPTED 130

const char *const bench_op_names[OP_COUNT] = {"get", "patch", "create"};
static const char *const op_methods[OP_COUNT] = {"GetUser", "PatchUser",
						 "NewUser"};

struct bench;

/*
 * One request in flight at a time. Closed loop: written only by the
 * thread running the slot's current callback (or the main thread before
 * the first issue); issuing the next call orders one callback before the
 * next. Open loop: the main thread fills a slot that is not busy and
 * sends; the callback writes and then clears busy (release), which hands
 * the slot back. The main thread reads the atomics at any time and the
 * rest once `finished` (closed) or not `busy` (open).
 */
typedef struct slot {
	struct bench *b;
	unsigned index;
	uint64_t rng;
	enum bench_op op;
	uint64_t t0;     /* ns, when the current call was sent */
	uint64_t due;    /* ns, open loop: when it was due */
	bool recorded;   /* after the warm-up: counted and timed */
	uint64_t t_last; /* ns, last completion */
	uint64_t seq;    /* creates issued by this slot */
	uint64_t req_bytes;
	uint64_t resp_bytes;
	uint64_t answered; /* warm-up included: for the size estimate */
	uint64_t by_status[N_STATUS];
	uint64_t op_requests[OP_COUNT];
	uint64_t op_errors[OP_COUNT];
	bench_hist *hist[OP_COUNT]; /* NULL for ops not in the mix */
	int sync_failure;           /* status of a call refused at issue */
	char name[PATCH_TARGET_BYTES];
	char email[96];
	_Alignas(64) atomic_uint_fast64_t done;
	atomic_uint_fast64_t errors;
	atomic_bool parked;   /* closed: waiting for the main thread to issue */
	atomic_bool finished; /* closed: no call in flight and none to come */
	atomic_bool busy;     /* open: a call in flight */
} slot;

typedef struct bench {
	const bench_cfg *cfg;
	uc_client *client;
	char **ids; /* cfg->users seeded ids */
	char prefix[16];
	size_t token_len;
	slot *slots;
	bool open; /* --rate */
	atomic_bool stop;
	atomic_uint_fast64_t issued;
	atomic_uint active; /* closed: slots not finished; open: in flight */
	uint64_t t_start;
	uint64_t measure_from; /* the end of the warm-up */
} bench;

static _Thread_local unsigned issue_depth;

/* ------------------------------------------------------------------------
 * Small helpers
 */

uint64_t
bench_random_seed(void)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
		seed = bench_now_ns() ^ ((uint64_t)getpid() << 32);
	}
	return seed;
}

enum bench_op
bench_pick_op(const bench_cfg *cfg, uint64_t r)
{
	unsigned pick = (unsigned)(r % cfg->mix_total);
	int op;

	for (op = 0; op < OP_COUNT - 1; op++) {
		if (pick < cfg->mix[op]) {
			break;
		}
		pick -= cfg->mix[op];
	}
	return (enum bench_op)op;
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
 * The hot path: issue a call, take its answer, issue the next (closed
 * loop) or hand the slot back (open loop).
 */

static void slot_cb(uc_result *res, void *arg);

static void
slot_finish(slot *s)
{
	atomic_store_explicit(&s->finished, true, memory_order_release);
	atomic_fetch_sub_explicit(&s->b->active, 1, memory_order_acq_rel);
}

/* Open loop: the slot is free for the next due request. */
static void
slot_release(slot *s)
{
	atomic_store_explicit(&s->busy, false, memory_order_release);
	atomic_fetch_sub_explicit(&s->b->active, 1, memory_order_acq_rel);
}

/* Marks the send time, and whether this call is past the warm-up. */
static void
slot_stamp(slot *s)
{
	const bench *b = s->b;

	s->t0 = bench_now_ns();
	s->recorded = (b->open ? s->due : s->t0) >= b->measure_from;
}

/* Counts one answered or refused call with its status. */
static void
slot_count(slot *s, int st)
{
	if (s->recorded) {
		s->by_status[st]++;
		s->op_requests[s->op]++;
		if (st != UP_OK) {
			s->op_errors[s->op]++;
		}
	}
	atomic_fetch_add_explicit(&s->done, 1, memory_order_relaxed);
	if (st != UP_OK) {
		atomic_fetch_add_explicit(&s->errors, 1, memory_order_relaxed);
	}
}

/* Builds and sends the slot's next request; 0 or the refusal status. */
static int
slot_send(slot *s)
{
	bench *b = s->b;
	const bench_cfg *cfg = b->cfg;
	const char *id;
	size_t len, want;
	int rc;

	s->op = bench_pick_op(cfg, bench_rng_next(&s->rng));
	id = b->ids[bench_rng_next(&s->rng) % cfg->users];
	switch (s->op) {
	case OP_GET: {
		Users__V1__GetUser req = USERS__V1__GET_USER__INIT;

		req.user_id = (char *)id;
		s->req_bytes += request_wire_estimate(
		    b, OP_GET, users__v1__get_user__get_packed_size(&req));
		slot_stamp(s);
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
			 bench_rng_next(&s->rng));
		len = strlen(s->name);
		if (len < want) {
			memset(s->name + len, 'x', want - len);
		}
		s->name[want] = '\0';
		req.user_id = (char *)id;
		req.first_name = s->name;
		s->req_bytes += request_wire_estimate(
		    b, OP_PATCH, users__v1__patch_user__get_packed_size(&req));
		slot_stamp(s);
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
		slot_stamp(s);
		rc = uc_new_user_async(b->client, &req, NULL, slot_cb, s);
		break;
	}
	}
	return rc;
}

/*
 * Closed loop: issues the slot's next call, or finishes the slot when the
 * run is over. A call the library refuses (it then never calls back)
 * counts as an error and ends the slot: retrying at once could spin.
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
		slot_count(s, status_index(rc));
		slot_finish(s);
	}
}

/*
 * Open loop: sends the request due at `due` on a free slot. A refused
 * call counts as an error and the slot stays free (the next request goes
 * when it is due: no spinning).
 */
static void
slot_send_due(slot *s, uint64_t due)
{
	int rc;

	s->due = due;
	atomic_store_explicit(&s->busy, true, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->b->active, 1, memory_order_acq_rel);
	rc = slot_send(s);
	if (rc != 0) {
		s->sync_failure = rc;
		slot_count(s, status_index(rc));
		slot_release(s);
	}
}

static void
slot_cb(uc_result *res, void *arg)
{
	slot *s = arg;
	const bench *b = s->b;
	uint64_t t = bench_now_ns();
	int st = status_index(res->status);

	if (s->recorded && s->hist[s->op] != NULL) {
		/* Open loop: from the due time (bench_sched.h). */
		bench_hist_record(
		    s->hist[s->op],
		    (bench_sched_latency_ns(b->open ? s->due : s->t0, t) +
		     500) /
			1000);
	}
	s->t_last = t;
	s->answered++;
	if (res->response != NULL) {
		s->resp_bytes += response_wire_estimate(
		    protobuf_c_message_get_packed_size(res->response));
	} else if (res->error != NULL) {
		s->resp_bytes += response_wire_estimate(
		    protobuf_c_message_get_packed_size(&res->error->base));
	}
	uc_result_fini(res);
	slot_count(s, st);
	if (b->open) {
		slot_release(s);
		return;
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

/*
 * Fills the missing ids from ListUsers, page by page by its cursor (next),
 * which neither skips nor repeats a user however large the list; 0, or -1
 * with a message.
 */
static int
find_seeded(bench *b, unsigned *found)
{
	Users__V1__ListUsers req = USERS__V1__LIST_USERS__INIT;
	uc_result res = {0};
	const Users__V1__ListUsersResponse *lr;
	char *after = NULL;
	unsigned pages = 0;
	size_t i;
	int rc = -1;

	req.email = SEED_PREFIX;
	req.has_take = 1;
	req.take = LIST_PAGE;
	for (;;) {
		req.after = after;
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
		/* An empty page or no next page ends it. */
		if (lr->n_results == 0 || lr->next == NULL ||
		    lr->next[0] == '\0' || ++pages > MAX_USERS / 10) {
			break;
		}
		free(after);
		if ((after = strdup(lr->next)) == NULL) {
			fprintf(stderr, "usersbench: out of memory\n");
			goto out;
		}
		uc_result_fini(&res);
	}
	rc = 0;
out:
	free(after);
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
 * Run
 */

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

void
bench_progress(double elapsed_s, uint64_t done, double rate, uint64_t errors,
	       bool tty)
{
	if (tty) {
		fprintf(stderr,
			"\r\033[K%6.1f s  %10" PRIu64 " requests  %9.0f req/s  "
			"%" PRIu64 " errors",
			elapsed_s, done, rate, errors);
	} else {
		fprintf(stderr,
			"usersbench: %.0f s: %" PRIu64 " requests, %.0f req/s, "
			"%" PRIu64 " errors\n",
			elapsed_s, done, rate, errors);
	}
	fflush(stderr);
}

/* The progress line, once a tick (4 a second on a tty, else 1). */
typedef struct ticker {
	bool tty;
	uint64_t every, next, last_t, last_n;
} ticker;

static void
tick(const bench *b, ticker *k, uint64_t now, bool force)
{
	uint64_t done, errors;
	double dt;

	if (!force && now < k->next) {
		return;
	}
	counters(b, &done, &errors);
	dt = (double)(now - k->last_t) / 1e9;
	bench_progress((double)(now - b->t_start) / 1e9, done,
		       dt > 0 ? (double)(done - k->last_n) / dt : 0.0, errors,
		       k->tty);
	k->last_t = now;
	k->last_n = done;
	while (k->next <= now) {
		k->next += k->every;
	}
}

/* Closed loop until end, --requests or Ctrl-C; returns when it stopped. */
static uint64_t
run_closed(bench *b, uint64_t end, ticker *k)
{
	unsigned i;
	uint64_t now;

	atomic_store(&b->active, b->cfg->concurrency);
	for (i = 0; i < b->cfg->concurrency; i++) {
		slot_issue(&b->slots[i]);
	}
	for (;;) {
		now = bench_now_ns();
		if (now >= end || atomic_load(&b->active) == 0 ||
		    bench_interrupted()) {
			break;
		}
		unpark(b);
		tick(b, k, now, false);
		bench_sleep_ms(20);
	}
	return now < end ? now : end;
}

/* A slot with no call in flight, or NULL. */
static slot *
free_slot(bench *b, unsigned *cursor)
{
	unsigned n = b->cfg->concurrency, k, i;

	for (k = 0; k < n; k++) {
		i = (*cursor + k) % n;
		if (!atomic_load_explicit(&b->slots[i].busy,
					  memory_order_acquire)) {
			*cursor = i + 1;
			return &b->slots[i];
		}
	}
	return NULL;
}

/*
 * Sends the requests due by now on free slots, at most a burst of
 * --concurrency (the caller's loop comes back); true when a request is
 * due and every slot is busy.
 */
static bool
pump(bench *b, bench_sched *sc, unsigned *cursor)
{
	unsigned burst = b->cfg->concurrency;
	uint64_t due;
	slot *s;

	while (burst-- > 0 && bench_sched_wait_ns(sc, bench_now_ns()) == 0) {
		if ((s = free_slot(b, cursor)) == NULL) {
			return true;
		}
		bench_sched_take(sc, bench_now_ns(), &due);
		slot_send_due(s, due);
	}
	return false;
}

/* Open loop until end or Ctrl-C; returns when it stopped sending. */
static uint64_t
run_open(bench *b, bench_totals *t, uint64_t end, ticker *k)
{
	bench_sched sc;
	unsigned cursor = 0;
	bool full;
	uint64_t now, wait, stop;

	bench_sched_init(&sc, b->t_start, b->cfg->rate, end - b->t_start,
			 b->measure_from);
	for (;;) {
		now = bench_now_ns();
		if (now >= end || bench_interrupted()) {
			break;
		}
		full = pump(b, &sc, &cursor);
		now = bench_now_ns();
		bench_sched_note_full(&sc, now, full);
		tick(b, k, now, false);
		wait = full ? FULL_POLL_NS : bench_sched_wait_ns(&sc, now);
		if (k->next > now && wait > k->next - now) {
			wait = k->next - now;
		}
		if (end > now && wait > end - now) {
			wait = end - now;
		}
		if (wait > 0) {
			bench_sleep_ns(wait);
		}
	}
	stop = now < end ? now : end;
	/* What fell due before the stop goes out now, if a slot is free. */
	while (bench_sched_backlog(&sc, stop) > 0 && !pump(b, &sc, &cursor)) {
	}
	bench_sched_finish(&sc, stop, &t->intended, &t->unsent);
	t->late = sc.late;
	t->max_lag_us = sc.max_lag_ns / 1000;
	t->cap_full_s = (double)sc.full_ns / 1e9;
	return stop;
}

/* Sums the slots that finished into t. */
static void
collect(bench *b, bench_totals *t, uint64_t stop)
{
	const bench_cfg *cfg = b->cfg;
	uint64_t t_end = 0, n;
	unsigned i, k;

	for (i = 0; i < cfg->concurrency; i++) {
		const slot *s = &b->slots[i];
		bool idle =
		    b->open
			? !atomic_load_explicit(&s->busy, memory_order_acquire)
			: atomic_load_explicit(&s->finished,
					       memory_order_acquire);

		if (!idle) {
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
		t->answered_all += s->answered;
	}
	for (k = 0; k < OP_COUNT; k++) {
		t->requests += t->op_requests[k];
		t->errors += t->op_errors[k];
		if (t->op_hist[k] != NULL) {
			bench_hist_merge(t->all, t->op_hist[k]);
		}
	}
	t->errors += t->unanswered + t->unsent;
	/* Closed loop: to the last answer; open loop: the schedule's end. */
	if (!b->open) {
		stop = t->unfinished_slots > 0 || t_end == 0 ? bench_now_ns()
							     : t_end;
	}
	n = stop > b->measure_from ? stop - b->measure_from : 0;
	t->seconds = (double)n / 1e9;
}

/*
 * Drives the load (closed or open loop) for the warm-up and --duration,
 * then waits (bounded) for the calls in flight. Fills t from the slots
 * that finished.
 */
static void
run(bench *b, bench_totals *t)
{
	const bench_cfg *cfg = b->cfg;
	ticker k = {.tty = isatty(STDERR_FILENO)};
	uint64_t end, stop, drain_deadline;
	uint32_t call_ms =
	    cfg->deadline_ms ? cfg->deadline_ms : DEFAULT_DEADLINE;

	b->t_start = bench_now_ns();
	b->measure_from = b->t_start + (uint64_t)cfg->warmup_s * 1000000000u;
	end = b->measure_from + (uint64_t)cfg->duration_s * 1000000000u;
	k.every = (k.tty ? 250u : 1000u) * 1000000u;
	k.last_t = b->t_start;
	k.next = b->t_start + k.every;
	stop = b->open ? run_open(b, t, end, &k) : run_closed(b, end, &k);
	t->interrupted = bench_interrupted();
	atomic_store(&b->stop, true);
	/* In flight: at most one call deadline, plus a margin. */
	drain_deadline =
	    bench_now_ns() + ((uint64_t)call_ms + 2000u) * 1000000u;
	while (atomic_load(&b->active) > 0 && bench_now_ns() < drain_deadline) {
		if (!b->open) {
			unpark(b);
		}
		bench_sleep_ms(5);
	}
	if (k.tty) {
		tick(b, &k, bench_now_ns(), true);
		fputc('\n', stderr);
	}
	collect(b, t, stop);
}

/* ------------------------------------------------------------------------
 * Report
 */

static json_t *
latency_json(const bench_hist *h)
{
	json_t *o, *dist = json_array();
	bench_hist_walk w;

	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "p50",
		      (json_int_t)bench_hist_percentile(h, 50.0), "p90",
		      (json_int_t)bench_hist_percentile(h, 90.0), "p99",
		      (json_int_t)bench_hist_percentile(h, 99.0), "p999",
		      (json_int_t)bench_hist_percentile(h, 99.9), "max",
		      (json_int_t)h->max, "min",
		      (json_int_t)(h->total ? h->min : 0), "mean",
		      bench_hist_mean(h));
	/* The .hgrm's rows: every step of HdrHistogram's walk. */
	bench_hist_walk_init(&w, h, 5);
	while (bench_hist_walk_next(&w)) {
		json_array_append_new(dist,
				      json_pack("{s:f, s:I, s:I}", "percentile",
						w.percentile / 100.0, "us",
						(json_int_t)w.value, "count",
						(json_int_t)w.count));
	}
	json_object_set_new(o, "distribution", dist);
	return o;
}

static bool
is_http(const bench_cfg *cfg)
{
	return cfg->http_url != NULL;
}

/* Whether the run kept to --max-p99-ms and --max-errors; with `say`,
 * each one exceeded is written to stderr. */
static bool
thresholds_ok(const bench_cfg *cfg, const bench_totals *t, bool say)
{
	uint64_t p99 = bench_hist_percentile(t->all, 99.0);
	bool ok = true;

	if (cfg->has_max_p99 && (t->all->total == 0 || p99 > cfg->max_p99_us)) {
		ok = false;
		if (say && t->all->total == 0) {
			fprintf(stderr, "usersbench: threshold: no latency "
					"recorded (--max-p99-ms)\n");
		} else if (say) {
			fprintf(stderr,
				"usersbench: threshold: p99 %.3f ms > "
				"--max-p99-ms %.3f\n",
				(double)p99 / 1000.0,
				(double)cfg->max_p99_us / 1000.0);
		}
	}
	if (cfg->has_max_errors && t->errors > cfg->max_errors) {
		ok = false;
		if (say) {
			fprintf(stderr,
				"usersbench: threshold: %" PRIu64
				" errors > --max-errors %" PRIu64 "\n",
				t->errors, cfg->max_errors);
		}
	}
	return ok;
}

/* Whether the open loop fell behind its rate (see behind_say). */
static bool
behind(const bench_cfg *cfg, const bench_totals *t)
{
	return cfg->rate > 0 && (t->unsent > 0 || t->late * 100 > t->intended);
}

static void
behind_say(const bench_cfg *cfg, const bench_totals *t)
{
	if (!behind(cfg, t)) {
		return;
	}
	fprintf(stderr,
		"usersbench: fell behind %" PRIu64 "/s: of %" PRIu64
		" requests due, %" PRIu64 " were never sent and %" PRIu64
		" went more than 1 ms late (at most %.1f ms); latencies count "
		"from the due times, so they include that wait\n",
		cfg->rate, t->intended, t->unsent, t->late,
		(double)t->max_lag_us / 1000.0);
	if (t->cap_full_s * 100.0 > t->seconds) {
		fprintf(stderr,
			"usersbench: all %u %s were busy for %.2f s: the "
			"server answered slower than the rate "
			"(--concurrency raises the cap)\n",
			cfg->concurrency,
			is_http(cfg) ? "connections" : "slots", t->cap_full_s);
	} else {
		fprintf(stderr,
			"usersbench: a %s was free when they were "
			"due: the sender itself was late (a busy "
			"machine, or a rate beyond one thread)\n",
			is_http(cfg) ? "connection" : "slot");
	}
}

static int
report_json(const bench_cfg *cfg, const bench_totals *t)
{
	json_t *root = NULL, *by_status, *by_op, *urls, *mix, *o;
	double rate = t->seconds > 0 ? (double)t->requests / t->seconds : 0;
	size_t i;
	int rc = -1;

	if ((root = json_object()) == NULL) {
		goto out;
	}
	json_object_set_new(root, "mode",
			    json_string(is_http(cfg) ? "http" : "rpc"));
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
	if (is_http(cfg)) {
		o = json_object();
		for (i = 0; i < HTTP_CODES; i++) {
			char code[8];

			if (t->by_http[i] == 0) {
				continue;
			}
			snprintf(code, sizeof(code), "%zu", i);
			json_object_set_new(
			    o, i == 0 ? "no_answer" : code,
			    json_integer((json_int_t)t->by_http[i]));
		}
		json_object_set_new(root, "by_http", o);
	}
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
		json_object_set_new(by_op, bench_op_names[i], o);
	}
	json_object_set_new(root, "by_op", by_op);
	json_object_set_new(root, "unanswered",
			    json_integer((json_int_t)t->unanswered));
	json_object_set_new(root, "duration_s",
			    json_real(round(t->seconds * 1000.0) / 1000.0));
	json_object_set_new(root, "warmup_s",
			    json_integer((json_int_t)cfg->warmup_s));
	json_object_set_new(root, "interrupted", json_boolean(t->interrupted));
	json_object_set_new(root, "concurrency",
			    json_integer((json_int_t)cfg->concurrency));
	if (cfg->rate > 0) {
		json_object_set_new(
		    root, "open_loop",
		    json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:b}", "rate",
			      (json_int_t)cfg->rate, "intended",
			      (json_int_t)t->intended, "unsent",
			      (json_int_t)t->unsent, "late_sends",
			      (json_int_t)t->late, "max_send_lag_us",
			      (json_int_t)t->max_lag_us, "cap_full_s",
			      round(t->cap_full_s * 1000.0) / 1000.0, "behind",
			      behind(cfg, t)));
	} else {
		json_object_set_new(root, "open_loop", json_null());
	}
	json_object_set_new(root, "users",
			    json_integer((json_int_t)cfg->users));
	urls = json_array();
	if (is_http(cfg)) {
		json_array_append_new(urls, json_string(cfg->http_url));
	}
	for (i = 0; i < cfg->n_urls && !is_http(cfg); i++) {
		json_array_append_new(urls, json_string(cfg->urls[i]));
	}
	json_object_set_new(root, "urls", urls);
	mix = json_object();
	for (i = 0; i < OP_COUNT; i++) {
		json_object_set_new(mix, bench_op_names[i],
				    json_integer((json_int_t)cfg->mix[i]));
	}
	json_object_set_new(root, "mix", mix);
	o = json_object();
	if (cfg->has_max_p99) {
		json_object_set_new(
		    o, "max_p99_ms",
		    json_real((double)cfg->max_p99_us / 1000.0));
	}
	if (cfg->has_max_errors) {
		json_object_set_new(o, "max_errors",
				    json_integer((json_int_t)cfg->max_errors));
	}
	json_object_set_new(o, "passed",
			    json_boolean(thresholds_ok(cfg, t, false)));
	json_object_set_new(root, "thresholds", o);
	/* Estimated nng message sizes (envelope included): for nng_echo. */
	if (!is_http(cfg) && t->answered_all > 0) {
		uint64_t n = t->answered_all;

		json_object_set_new(root, "msg_bytes_est",
				    json_pack("{s:I, s:I}", "request",
					      (json_int_t)(t->req_bytes / n),
					      "response",
					      (json_int_t)(t->resp_bytes / n)));
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
report_text(const bench_cfg *cfg, const bench_totals *t)
{
	double rate = t->seconds > 0 ? (double)t->requests / t->seconds : 0;
	const bench_hist *h = t->all;
	size_t i;

	printf("usersbench: %s%s, ",
	       is_http(cfg) ? cfg->http_url : cfg->urls[0],
	       !is_http(cfg) && cfg->n_urls > 1 ? " (+more)" : "");
	if (cfg->rate > 0) {
		printf("open loop at %" PRIu64 "/s (at most %u in flight)",
		       cfg->rate, cfg->concurrency);
	} else {
		printf("%u in flight", cfg->concurrency);
	}
	printf(", %.2f s", t->seconds);
	if (cfg->warmup_s > 0) {
		printf(" after %u s of warm-up", cfg->warmup_s);
	}
	printf(", %u users, mix", cfg->users);
	for (i = 0; i < OP_COUNT; i++) {
		printf(" %s=%u", bench_op_names[i], cfg->mix[i]);
	}
	printf("\n  throughput  %.1f req/s\n", rate);
	printf("  requests    %" PRIu64 ", errors %" PRIu64 "\n", t->requests,
	       t->errors);
	printf("  latency us  p50 %" PRIu64 "  p90 %" PRIu64 "  p99 %" PRIu64
	       "  p99.9 %" PRIu64 "  max %" PRIu64 "  mean %.1f%s\n",
	       bench_hist_percentile(h, 50.0), bench_hist_percentile(h, 90.0),
	       bench_hist_percentile(h, 99.0), bench_hist_percentile(h, 99.9),
	       h->max, bench_hist_mean(h),
	       cfg->rate > 0 ? "  (from the due times)" : "");
	for (i = 0; i < OP_COUNT; i++) {
		if (t->op_hist[i] == NULL) {
			continue;
		}
		printf("  %-10s  %" PRIu64 " requests, %" PRIu64
		       " errors, p50 %" PRIu64 "  p99 %" PRIu64 "  max %" PRIu64
		       "\n",
		       bench_op_names[i], t->op_requests[i], t->op_errors[i],
		       bench_hist_percentile(t->op_hist[i], 50.0),
		       bench_hist_percentile(t->op_hist[i], 99.0),
		       t->op_hist[i]->max);
	}
	printf("  by status  ");
	if (is_http(cfg)) {
		for (i = 1; i < HTTP_CODES; i++) {
			if (t->by_http[i] > 0) {
				printf(" %zu %" PRIu64, i, t->by_http[i]);
			}
		}
		if (t->by_http[0] > 0) {
			printf(" NO_ANSWER %" PRIu64, t->by_http[0]);
		}
	}
	for (i = 0; i < N_STATUS && !is_http(cfg); i++) {
		if (t->by_status[i] > 0) {
			printf(" %s %" PRIu64, up_status_name((int)i),
			       t->by_status[i]);
		}
	}
	if (t->unanswered > 0) {
		printf(" UNANSWERED %" PRIu64, t->unanswered);
	}
	if (t->unsent > 0) {
		printf(" UNSENT %" PRIu64, t->unsent);
	}
	printf("\n");
	if (cfg->rate > 0) {
		printf("  open loop   %" PRIu64 " due, %" PRIu64
		       " unsent, %" PRIu64
		       " sent more than 1 ms late (at most %.1f ms), all "
		       "busy %.2f s\n",
		       t->intended, t->unsent, t->late,
		       (double)t->max_lag_us / 1000.0, t->cap_full_s);
	}
	if (t->interrupted) {
		printf("  interrupted (Ctrl-C): the figures cover the %.2f s "
		       "measured before it\n",
		       t->seconds);
	}
}

/* The .hgrm file of all requests (milliseconds); 0 or -1. */
static int
write_hgrm(const char *path, const bench_totals *t)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (f == NULL) {
		fprintf(stderr, "usersbench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	rc = bench_hist_write_hgrm(t->all, f, 1000.0);
	if (fclose(f) != 0 || rc != 0) {
		fprintf(stderr, "usersbench: %s: write error\n", path);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Options
 */

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: USERSBENCH_PASSWORD=... usersbench --url URL [--url "
		"URL...]\n"
		"         --user EMAIL [--concurrency N] [--duration S] "
		"[--requests N]\n"
		"         [--rate N] [--warmup S] "
		"[--mix get=70,patch=25,create=5]\n"
		"         [--users N] [--json] [--hgrm FILE] [--max-p99-ms MS] "
		"[--max-errors N]\n"
		"         [--deadline MS] [--tls-ca FILE | --tls-insecure] "
		"[--login-only]\n"
		"       USERSBENCH_PASSWORD=... usersbench --http "
		"http://HOST:PORT\n"
		"         (--url URL | --ids FILE) --user EMAIL [the options "
		"above]\n"
		"  defaults: concurrency 64, duration 10 s, users 1000, the "
		"mix above\n"
		"            (--http: get=70,patch=30)\n"
		"  --rate N        open loop: N requests a second whatever the "
		"server does,\n"
		"                  latency from each one's due time; at most "
		"--concurrency\n"
		"                  in flight (without --rate: a closed loop of "
		"--concurrency)\n"
		"  --warmup S      S seconds of load before --duration, not "
		"recorded\n"
		"  --hgrm FILE     the latency distribution as HdrHistogram's "
		".hgrm text (ms)\n"
		"  --max-p99-ms MS exit 3 when p99 is above MS (decimals "
		"allowed)\n"
		"  --max-errors N  exit 3 when more than N requests failed\n"
		"  --http URL      drive usersgw over HTTP/1.1 keep-alive: GET "
		"and PATCH\n"
		"                  /users/{id}, --concurrency connections, one "
		"request each\n"
		"  --ids FILE      --http: user ids, one a line (else seeded "
		"over --url)\n"
		"  --tls-ca FILE   CA that signed the daemon's certificate "
		"(tls+tcp:// needs it)\n"
		"  --tls-insecure  tls+tcp:// without checking the "
		"certificate (tests only)\n"
		"  --hop loop|nng  ipc:// and tcp:// on libusersclient's own "
		"connections\n"
		"                  (loop, default) or through nng's threads\n"
		"  --version       print the version and exit\n"
		"  Ctrl-C stops the run and reports what it measured (exit "
		"130).\n");
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

/* Milliseconds with up to 3 decimals ("2", "0.75") in microseconds. */
static int
parse_ms_us(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int decimals = -1;

	if (s == NULL || *s < '0' || *s > '9') {
		return -1;
	}
	for (; *s != '\0'; s++) {
		if (*s == '.' && decimals < 0) {
			decimals = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || decimals == 3 ||
		    v > UINT64_C(1000000000)) {
			return -1;
		}
		v = v * 10 + (uint64_t)(*s - '0');
		if (decimals >= 0) {
			decimals++;
		}
	}
	for (decimals = decimals < 0 ? 0 : decimals; decimals < 3; decimals++) {
		v *= 10;
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
			if (strlen(bench_op_names[op]) == nlen &&
			    strncmp(p, bench_op_names[op], nlen) == 0) {
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
	    "--url",        "--user",       "--concurrency", "--duration",
	    "--requests",   "--users",      "--deadline",    "--mix",
	    "--tls-ca",     "--rate",       "--warmup",      "--hgrm",
	    "--max-p99-ms", "--max-errors", "--http",        "--ids"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(a, names[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* One option with its value; 0, or -1 when the value is bad. */
static int
parse_value(const char *a, const char *val, bench_cfg *cfg, bool *mix_given)
{
	uint64_t v;

	if (strcmp(a, "--url") == 0) {
		if (cfg->n_urls == MAX_URLS) {
			return -1;
		}
		cfg->urls[cfg->n_urls++] = val;
	} else if (strcmp(a, "--user") == 0) {
		cfg->user = val;
	} else if (strcmp(a, "--concurrency") == 0) {
		if (parse_u64(val, 1, MAX_CONCURRENCY, &v) != 0) {
			return -1;
		}
		cfg->concurrency = (unsigned)v;
	} else if (strcmp(a, "--duration") == 0) {
		if (parse_u64(val, 1, MAX_DURATION, &v) != 0) {
			return -1;
		}
		cfg->duration_s = (unsigned)v;
	} else if (strcmp(a, "--warmup") == 0) {
		if (parse_u64(val, 0, MAX_DURATION, &v) != 0) {
			return -1;
		}
		cfg->warmup_s = (unsigned)v;
	} else if (strcmp(a, "--rate") == 0) {
		if (parse_u64(val, 1, BENCH_SCHED_MAX_RATE, &v) != 0) {
			return -1;
		}
		cfg->rate = v;
	} else if (strcmp(a, "--requests") == 0) {
		if (parse_u64(val, 1, UINT64_MAX / 2, &v) != 0) {
			return -1;
		}
		cfg->max_requests = v;
	} else if (strcmp(a, "--users") == 0) {
		if (parse_u64(val, 1, MAX_USERS, &v) != 0) {
			return -1;
		}
		cfg->users = (unsigned)v;
	} else if (strcmp(a, "--deadline") == 0) {
		if (parse_u64(val, 1, MAX_DEADLINE_MS, &v) != 0) {
			return -1;
		}
		cfg->deadline_ms = (uint32_t)v;
	} else if (strcmp(a, "--mix") == 0) {
		if (parse_mix(val, cfg) != 0) {
			return -1;
		}
		*mix_given = true;
	} else if (strcmp(a, "--max-p99-ms") == 0) {
		if (parse_ms_us(val, &cfg->max_p99_us) != 0) {
			return -1;
		}
		cfg->has_max_p99 = true;
	} else if (strcmp(a, "--max-errors") == 0) {
		if (parse_u64(val, 0, UINT64_MAX / 2, &cfg->max_errors) != 0) {
			return -1;
		}
		cfg->has_max_errors = true;
	} else if (strcmp(a, "--tls-ca") == 0) {
		cfg->tls_ca = val;
	} else if (strcmp(a, "--hgrm") == 0) {
		cfg->hgrm = val;
	} else if (strcmp(a, "--http") == 0) {
		cfg->http_url = val;
	} else if (strcmp(a, "--ids") == 0) {
		cfg->ids_file = val;
	}
	return 0;
}

static int
parse_args(int argc, char **argv, bench_cfg *cfg)
{
	bool mix_given = false;
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
		if (strcmp(a, "--hop") == 0 && i + 1 < argc &&
		    (strcmp(argv[i + 1], "loop") == 0 ||
		     strcmp(argv[i + 1], "nng") == 0)) {
			cfg->hop_nng = argv[++i][0] == 'n';
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strcmp(a, "--version") == 0) {
			up_flags_version("usersbench", stdout);
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
		if (parse_value(a, val, cfg, &mix_given) != 0) {
			fprintf(stderr, "usersbench: bad value for %s: %s\n", a,
				val);
			return -1;
		}
	}
	if (cfg->user == NULL ||
	    (cfg->n_urls == 0 &&
	     (cfg->http_url == NULL || cfg->ids_file == NULL))) {
		fprintf(stderr, "usersbench: --user and --url (or --http "
				"with --ids) are required\n");
		return -1;
	}
	if (cfg->rate > 0 && cfg->max_requests > 0) {
		fprintf(stderr, "usersbench: --requests is for the closed "
				"loop (not with --rate)\n");
		return -1;
	}
	if (cfg->http_url != NULL) {
		if (!mix_given) {
			cfg->mix[OP_GET] = 70;
			cfg->mix[OP_PATCH] = 30;
			cfg->mix[OP_CREATE] = 0;
			cfg->mix_total = 100;
		}
		if (cfg->mix[OP_CREATE] > 0) {
			fprintf(stderr, "usersbench: --http drives get and "
					"patch only\n");
			return -1;
		}
	} else if (cfg->ids_file != NULL) {
		fprintf(stderr, "usersbench: --ids is for --http\n");
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
	uint64_t seed = bench_random_seed();
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
		atomic_init(&s->busy, false);
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

/* --ids FILE: one id a line (blank lines skipped); 0 or -1. */
static int
read_ids(const char *path, bench *b, unsigned *n)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t len, cap = 0;
	char **ids = NULL, **grown;
	int rc = -1;

	*n = 0;
	if (f == NULL) {
		fprintf(stderr, "usersbench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		len = strcspn(line, "\r\n");
		if (line[len] == '\0' && !feof(f)) {
			fprintf(stderr, "usersbench: %s: a line too long\n",
				path);
			goto out;
		}
		line[len] = '\0';
		if (len == 0) {
			continue;
		}
		if (strspn(line, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
				 "QRSTUVWXYZ0123456789-_") != len) {
			fprintf(stderr, "usersbench: %s: not an id: %s\n", path,
				line);
			goto out;
		}
		if (*n == MAX_USERS) {
			break;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((grown = realloc(ids, cap * sizeof(*ids))) ==
			    NULL) {
				goto oom;
			}
			ids = grown;
		}
		if ((ids[*n] = strdup(line)) == NULL) {
			goto oom;
		}
		(*n)++;
	}
	if (*n == 0) {
		fprintf(stderr, "usersbench: %s: no id\n", path);
		goto out;
	}
	rc = 0;
	goto out;
oom:
	fprintf(stderr, "usersbench: out of memory\n");
out:
	fclose(f);
	b->ids = ids;
	return rc;
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
	unsigned i, n_ids = 0;
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
	b.open = cfg.rate > 0;
	signal(SIGPIPE, SIG_IGN);
	/* Wake-ups on time: the open loop sleeps until each due time. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	snprintf(b.prefix, sizeof(b.prefix), "ub%08" PRIx32,
		 (uint32_t)bench_random_seed());

	if (cfg.ids_file != NULL) {
		if (read_ids(cfg.ids_file, &b, &n_ids) != 0) {
			goto out;
		}
		cfg.users = n_ids;
	} else {
		opts.urls = cfg.urls;
		opts.n_urls = cfg.n_urls;
		opts.deadline_ms = cfg.deadline_ms;
		opts.tls_ca_file = cfg.tls_ca;
		opts.tls_insecure = cfg.tls_insecure;
		opts.hop_nng = cfg.hop_nng;
		if ((rv = uc_client_open(&b.client, &opts)) != 0) {
			fprintf(stderr, "usersbench: %s\n",
				uc_client_open_error());
			if (rv == UP_FAILED_PRECONDITION) {
				fprintf(stderr,
					"usersbench: --tls-ca FILE names that "
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
		b.token_len =
		    uc_bearer(b.client) ? strlen(uc_bearer(b.client)) : 0;
		if (cfg.login_only && cfg.http_url == NULL) {
			fprintf(stderr, "usersbench: login as %s ok\n",
				cfg.user);
			rc = 0;
			goto out;
		}
		if (seed_users(&b) != 0) {
			goto out;
		}
		n_ids = cfg.users;
	}
	if ((t.all = bench_hist_alloc()) == NULL) {
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

	if (cfg.http_url != NULL) {
		if (b.client != NULL) {
			/* Seeded: the rest goes over HTTP. */
			bench_watchdog("usersbench", TEARDOWN_SECS, 1);
			uc_client_close(b.client);
			bench_watchdog_off();
			b.client = NULL;
		}
		bench_catch_sigint();
		if (bench_http_run(&cfg, b.ids, n_ids, &t) != 0) {
			goto out;
		}
		if (cfg.login_only) {
			rc = 0;
			goto out;
		}
	} else {
		if (slots_alloc(&b) != 0) {
			fprintf(stderr, "usersbench: out of memory\n");
			goto out;
		}
		bench_catch_sigint();
		run(&b, &t);
	}

	if (cfg.json) {
		if (report_json(&cfg, &t) != 0) {
			fprintf(stderr, "usersbench: cannot write the JSON\n");
		}
	} else {
		report_text(&cfg, &t);
	}
	fflush(stdout);
	behind_say(&cfg, &t);
	if (t.refused_slots > 0) {
		fprintf(stderr,
			"usersbench: the client refused calls on %u slots "
			"(%s)\n",
			t.refused_slots, up_status_name(t.refused_status));
	}
	rc = 0;
	if (cfg.hgrm != NULL && write_hgrm(cfg.hgrm, &t) != 0) {
		rc = 1;
	}
	if (!thresholds_ok(&cfg, &t, true)) {
		rc = EXIT_THRESHOLD;
	} else if (t.interrupted && rc == 0) {
		rc = EXIT_INTERRUPTED;
	}
	if (t.unfinished_slots > 0) {
		/* Callbacks may still come and touch the slots: leave now. */
		fprintf(stderr,
			"usersbench: %u calls still unanswered after the "
			"deadline\n",
			t.unfinished_slots);
		fflush(stderr);
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
	/* Seeded: cfg.users slots (some NULL); read: the n_ids read. */
	for (i = 0; b.ids != NULL && i < (cfg.ids_file ? n_ids : cfg.users);
	     i++) {
		free(b.ids[i]);
	}
	free(b.ids);
	return rc;
}
