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
 * The layout is HdrHistogram's with 256 sub-buckets (two significant
 * digits): 31 power-of-two buckets of 128 counts each after the exact
 * ones, so the percentile walk below and the .hgrm text it writes are
 * those of HdrHistogram over the same counts.
 *
 * Fixed memory (the struct is ~32 KiB, no allocation), mergeable (two
 * histograms of the same layout add bucket by bucket), and not thread-safe:
 * give each writer its own histogram and merge when the writers are done.
 * init/fini for an embedded histogram, alloc/free for a heap one.
 */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/*
 * The standard deviation, HdrHistogram's way: each bucket's values taken
 * at the middle of the bucket, around the exact mean (0.0 when empty).
 */
double bench_hist_stddev(const bench_hist *h);

/* The bucket a value falls in, and the range of values a bucket holds. */
size_t bench_hist_bucket(uint64_t value);
uint64_t bench_hist_bucket_low(size_t bucket);
uint64_t bench_hist_bucket_high(size_t bucket);

/*
 * HdrHistogram's percentile walk: the levels 0, 10, 20, ... 50, 55, ...
 * 75, 77.5, ..., each half of the distance left to 100 % split into
 * `ticks` steps (HdrHistogram's "ticks per half distance", 5 in its
 * tools). A step is reported at the first bucket whose cumulative count
 * reaches the level; once every value is counted, one last step at 100 %.
 * Each step gives the highest value equivalent to its bucket (not clamped
 * to the exact maximum: HdrHistogram's output does the same), the level
 * (0..100) and the count of values up to that bucket.
 *
 *   bench_hist_walk w;
 *   bench_hist_walk_init(&w, h, 5);
 *   while (bench_hist_walk_next(&w)) use(w.value, w.percentile, w.count);
 *
 * An empty histogram has no step. h must not change during the walk.
 */
typedef struct bench_hist_walk {
	const bench_hist *h;
	unsigned ticks;
	size_t bucket;  /* the bucket of the last step */
	uint64_t seen;  /* values in buckets 0..bucket */
	double level;   /* the next level to report, 0..100 */
	bool started;   /* bucket and seen are set */
	bool finished;  /* the 100 % step was given */
	uint64_t value; /* of the step just given */
	double percentile;
	uint64_t count;
} bench_hist_walk;

void bench_hist_walk_init(bench_hist_walk *w, const bench_hist *h,
			  unsigned ticks);
bool bench_hist_walk_next(bench_hist_walk *w);

/*
 * Writes h as HdrHistogram's percentile distribution text (.hgrm, the
 * layout of its C library's classic output, as wrk2 prints it): a header,
 * one line per step of the walk with 5 ticks per half distance ("Value
 * Percentile TotalCount 1/(1-Percentile)", values divided by `scale`,
 * three decimals), and the footer lines #[Mean, StdDeviation], #[Max,
 * Total count] and #[Buckets, SubBuckets]. 0, or -1 when f reports a
 * write error.
 */
int bench_hist_write_hgrm(const bench_hist *h, FILE *f, double scale);

#endif /* BENCH_HIST_H */
