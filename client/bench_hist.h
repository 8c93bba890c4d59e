/*
 * bench_hist.h - a latency histogram for the benchmarks (usersbench,
 * nng_echo): HDR-style log-linear buckets over unsigned integer values
 * (the benchmarks record microseconds).
 *
 * Buckets: values below 2 * BH_SUB_BUCKETS are exact (one bucket each);
 * above, every power of two [2^n, 2^(n+1)) is split into BH_SUB_BUCKETS
 * equal buckets, so a reported value is within 1/BH_SUB_BUCKETS (< 0.8 %)
 * of the true one. Values above BH_MAX_VALUE (~38 hours in microseconds)
 * count in the last bucket; the exact maximum is kept apart.
 *
 * Fixed memory (the struct is ~32 KiB, no allocation), mergeable (two
 * histograms of the same layout add bucket by bucket), and not thread-safe:
 * give each writer its own histogram and merge when the writers are done.
 * init/fini for an embedded histogram, alloc/free for a heap one.
 */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stddef.h>
#include <stdint.h>

#define BH_SUB_BITS    7
#define BH_SUB_BUCKETS (1u << BH_SUB_BITS) /* 128 per power of two */
#define BH_MAX_SHIFT   30                  /* largest power: 2^(7+30) */
#define BH_MAX_VALUE   ((UINT64_C(1) << (BH_SUB_BITS + BH_MAX_SHIFT + 1)) - 1)
#define BH_BUCKETS     ((BH_MAX_SHIFT + 2) * BH_SUB_BUCKETS) /* 4096 */

typedef struct bench_hist {
	uint64_t total; /* values recorded */
	uint64_t min;   /* exact; UINT64_MAX while empty */
	uint64_t max;   /* exact; 0 while empty */
	uint64_t sum;   /* for the mean (saturates) */
	uint64_t counts[BH_BUCKETS];
} bench_hist;

/* Empties h. Safe on any memory; fini is a no-op kept for symmetry. */
void bench_hist_init(bench_hist *h);
void bench_hist_fini(bench_hist *h);
/* A zeroed heap histogram, or NULL on OOM; free with bench_hist_free. */
bench_hist *bench_hist_alloc(void);
void bench_hist_free(bench_hist *h);

/* Counts one value (values above BH_MAX_VALUE land in the last bucket). */
void bench_hist_record(bench_hist *h, uint64_t value);
/* Counts `count` occurrences of one value. */
void bench_hist_record_n(bench_hist *h, uint64_t value, uint64_t count);
/* Adds src into dst (src unchanged). */
void bench_hist_merge(bench_hist *dst, const bench_hist *src);

/*
 * The value at percentile p (0..100): the highest value equivalent to the
 * bucket holding the ceil(p/100 * total)-th smallest value, clamped to the
 * exact min and max; p >= 100 gives max, p <= 0 gives min. 0 when empty.
 */
uint64_t bench_hist_percentile(const bench_hist *h, double p);
/* The mean of the recorded values (0.0 when empty). */
double bench_hist_mean(const bench_hist *h);

/* The bucket a value falls in, and the range of values a bucket holds. */
size_t bench_hist_bucket(uint64_t value);
uint64_t bench_hist_bucket_low(size_t bucket);
uint64_t bench_hist_bucket_high(size_t bucket);

#endif /* BENCH_HIST_H */
