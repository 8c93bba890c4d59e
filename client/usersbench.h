/*
 * usersbench.h - what the two drivers of usersbench share: the options,
 * the totals a run fills and the progress line. usersbench.c parses the
 * options, seeds, drives usersd over libusersclient (RPC), and reports;
 * bench_http.c drives usersgw over HTTP/1.1 (--http) and fills the same
 * totals, so that both modes report, write .hgrm and apply thresholds
 * through one piece of code.
 */
#ifndef USERSBENCH_H
#define USERSBENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "bench_hist.h"
#include "users_proto.h"

#define N_STATUS   (UP_UNAUTHENTICATED + 1)
#define HTTP_CODES 600 /* by_http[code]; 0: no answer */

enum bench_op { OP_GET, OP_PATCH, OP_CREATE, OP_COUNT };

extern const char *const bench_op_names[OP_COUNT];

#define MAX_URLS 16

typedef struct bench_cfg {
	const char *urls[MAX_URLS];
	size_t n_urls;
	const char *http_url; /* --http: drive usersgw over HTTP/1.1 */
	const char *ids_file; /* --ids: user ids, one a line */
	const char *user;
	const char *password;
	unsigned concurrency; /* in flight (open loop: at most) */
	unsigned duration_s;
	unsigned warmup_s;
	uint64_t rate;         /* 0: closed loop */
	uint64_t max_requests; /* 0: no limit */
	unsigned mix[OP_COUNT];
	unsigned mix_total;
	unsigned users;
	uint32_t deadline_ms; /* 0: the default */
	const char *tls_ca;
	const char *hgrm; /* --hgrm FILE */
	uint64_t max_p99_us;
	bool has_max_p99;
	uint64_t max_errors;
	bool has_max_errors;
	bool tls_insecure;
	bool hop_nng; /* --hop nng */
	bool json;
	bool login_only;
} bench_cfg;

typedef struct bench_totals {
	uint64_t requests; /* answered or refused, in the measured window */
	uint64_t errors;   /* includes unanswered and unsent */
	uint64_t unanswered;
	unsigned unfinished_slots;
	unsigned refused_slots;
	int refused_status;
	double seconds; /* the measured window */
	bool interrupted;
	uint64_t by_status[N_STATUS]; /* RPC */
	uint64_t by_http[HTTP_CODES]; /* HTTP */
	uint64_t op_requests[OP_COUNT];
	uint64_t op_errors[OP_COUNT];
	uint64_t req_bytes, resp_bytes, answered_all;
	bench_hist *all;               /* all ops */
	bench_hist *op_hist[OP_COUNT]; /* per op in the mix */
	/* Open loop (--rate), over the measured window. */
	uint64_t intended;   /* requests due */
	uint64_t unsent;     /* due and never sent */
	uint64_t late;       /* sent more than 1 ms after their due time */
	uint64_t max_lag_us; /* the latest send */
	double cap_full_s;   /* every slot busy while requests were due */
} bench_totals;

/* splitmix64: a good 64-bit generator from any seed. */
static inline uint64_t
bench_rng_next(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A random 64-bit seed. */
uint64_t bench_random_seed(void);
/* The op a random number picks from the mix. */
enum bench_op bench_pick_op(const bench_cfg *cfg, uint64_t r);

/* The progress line on stderr (tty: rewritten in place). */
void bench_progress(double elapsed_s, uint64_t done, double rate,
		    uint64_t errors, bool tty);

/*
 * The HTTP/1.1 driver (bench_http.c): logs in over REST, then (unless
 * --login-only) GET and PATCH /users/{id} over the ids, closed or open
 * loop, into t. 0, or -1 after a message (setup failed).
 */
int bench_http_run(const bench_cfg *cfg, char *const *ids, unsigned n_ids,
		   bench_totals *t);

#endif
