/*
 * The benchmarks' latency histogram: bucket layout, percentiles, and
 * HdrHistogram's percentile walk and .hgrm text.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_hist.h"
#include "check.h"

/* |got - want| within one bucket width of want (relative 1/128). */
static int
close_to(uint64_t got, uint64_t want)
{
	uint64_t d = got > want ? got - want : want - got;

	return d * BH_SUB_BUCKETS <= want;
}

static void
test_layout(void)
{
	size_t i;
	uint64_t v;
	int ok = 1;

	/* Buckets tile the value range with no gap and no overlap. */
	CHECK_INT(bench_hist_bucket_low(0), 0);
	for (i = 0; i + 1 < BH_BUCKETS; i++) {
		if (bench_hist_bucket_high(i) + 1 !=
			bench_hist_bucket_low(i + 1) ||
		    bench_hist_bucket_low(i) > bench_hist_bucket_high(i)) {
			ok = 0;
			break;
		}
	}
	CHECK(ok);
	CHECK_INT(bench_hist_bucket_high(BH_BUCKETS - 1), BH_MAX_VALUE);

	/* Exact below 2 * BH_SUB_BUCKETS. */
	for (v = 0; v < 2 * BH_SUB_BUCKETS; v++) {
		if (bench_hist_bucket(v) != v) {
			ok = 0;
		}
	}
	CHECK(ok);

	/* Every value lies in its bucket; bucket width <= low / 128. */
	for (v = 1; v < (UINT64_C(1) << 24); v = v * 3 / 2 + 1) {
		size_t b = bench_hist_bucket(v);
		uint64_t lo = bench_hist_bucket_low(b);
		uint64_t hi = bench_hist_bucket_high(b);

		if (lo > v || v > hi || (hi - lo) * BH_SUB_BUCKETS > lo + 1) {
			ok = 0;
			fprintf(stderr, "value %llu: bucket %zu [%llu, %llu]\n",
				(unsigned long long)v, b,
				(unsigned long long)lo, (unsigned long long)hi);
			break;
		}
	}
	CHECK(ok);
	CHECK_INT(bench_hist_bucket(256), 256);
	CHECK_INT(bench_hist_bucket(257), 256);
	CHECK_INT(bench_hist_bucket(258), 257);
	CHECK_INT(bench_hist_bucket(BH_MAX_VALUE), BH_BUCKETS - 1);
	CHECK_INT(bench_hist_bucket(UINT64_MAX), BH_BUCKETS - 1);
}

static void
test_empty(void)
{
	bench_hist h;

	bench_hist_init(&h);
	CHECK_INT(h.total, 0);
	CHECK_INT(bench_hist_percentile(&h, 50.0), 0);
	CHECK_INT(bench_hist_percentile(&h, 100.0), 0);
	CHECK(bench_hist_mean(&h) == 0.0);
	bench_hist_fini(&h);
}

static void
test_uniform_small(void)
{
	bench_hist h;
	uint64_t v;

	/* 1..100 once each: exact buckets, exact percentiles. */
	bench_hist_init(&h);
	for (v = 1; v <= 100; v++) {
		bench_hist_record(&h, v);
	}
	CHECK_INT(h.total, 100);
	CHECK_INT(h.min, 1);
	CHECK_INT(h.max, 100);
	CHECK_INT(bench_hist_percentile(&h, 0.0), 1);
	CHECK_INT(bench_hist_percentile(&h, 1.0), 1);
	CHECK_INT(bench_hist_percentile(&h, 50.0), 50);
	CHECK_INT(bench_hist_percentile(&h, 90.0), 90);
	CHECK_INT(bench_hist_percentile(&h, 99.0), 99);
	CHECK_INT(bench_hist_percentile(&h, 99.9), 100);
	CHECK_INT(bench_hist_percentile(&h, 100.0), 100);
	CHECK(bench_hist_mean(&h) == 50.5);
	bench_hist_fini(&h);
}

static void
test_uniform_large(void)
{
	bench_hist *h = bench_hist_alloc();
	uint64_t v;

	CHECK(h != NULL);
	if (h == NULL) {
		return;
	}
	/* 1..100000 once each: percentiles within one bucket, never below. */
	for (v = 1; v <= 100000; v++) {
		bench_hist_record(h, v);
	}
	CHECK_INT(h->total, 100000);
	CHECK_INT(bench_hist_percentile(h, 50.0),
		  bench_hist_bucket_high(bench_hist_bucket(50000)));
	CHECK(close_to(bench_hist_percentile(h, 50.0), 50000));
	CHECK(bench_hist_percentile(h, 50.0) >= 50000);
	CHECK(close_to(bench_hist_percentile(h, 90.0), 90000));
	CHECK(close_to(bench_hist_percentile(h, 99.0), 99000));
	CHECK(close_to(bench_hist_percentile(h, 99.9), 99900));
	/* The top bucket is clamped to the exact maximum. */
	CHECK_INT(bench_hist_percentile(h, 99.999), 100000);
	CHECK_INT(bench_hist_percentile(h, 100.0), 100000);
	CHECK(bench_hist_mean(h) == 50000.5);
	bench_hist_free(h);
}

static void
test_bimodal(void)
{
	bench_hist h;

	/* 990 fast (100 us) and 10 slow (10 ms) requests. */
	bench_hist_init(&h);
	bench_hist_record_n(&h, 100, 990);
	bench_hist_record_n(&h, 10000, 10);
	CHECK_INT(h.total, 1000);
	CHECK_INT(bench_hist_percentile(&h, 50.0), 100);
	CHECK_INT(bench_hist_percentile(&h, 90.0), 100);
	CHECK_INT(bench_hist_percentile(&h, 99.0), 100);
	CHECK_INT(bench_hist_percentile(&h, 99.1), 10000);
	CHECK_INT(bench_hist_percentile(&h, 99.9), 10000);
	CHECK_INT(bench_hist_percentile(&h, 100.0), 10000);
	CHECK(bench_hist_mean(&h) == 199.0);
	bench_hist_fini(&h);
}

static void
test_constant(void)
{
	bench_hist h;

	/* A value inside a wide bucket reports exactly (min/max clamp). */
	bench_hist_init(&h);
	bench_hist_record_n(&h, 123457, 5000);
	CHECK_INT(bench_hist_percentile(&h, 50.0), 123457);
	CHECK_INT(bench_hist_percentile(&h, 99.9), 123457);
	bench_hist_fini(&h);
}

static void
test_merge(void)
{
	bench_hist *a = bench_hist_alloc(), *b = bench_hist_alloc();
	bench_hist *all = bench_hist_alloc();
	uint64_t v, x = 88172645463325252u;
	size_t i;
	int same = 1;

	CHECK(a != NULL && b != NULL && all != NULL);
	if (a == NULL || b == NULL || all == NULL) {
		goto out;
	}
	/* Pseudo-random values split over two histograms. */
	for (i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = x % 5000000u;
		bench_hist_record(i % 3 ? a : b, v);
		bench_hist_record(all, v);
	}
	bench_hist_merge(a, b);
	CHECK_INT(a->total, all->total);
	CHECK_INT(a->min, all->min);
	CHECK_INT(a->max, all->max);
	CHECK_INT(a->sum, all->sum);
	for (i = 0; i < BH_BUCKETS; i++) {
		if (a->counts[i] != all->counts[i]) {
			same = 0;
		}
	}
	CHECK(same);
	CHECK_INT(bench_hist_percentile(a, 99.0),
		  bench_hist_percentile(all, 99.0));
	/* Merging an empty histogram changes nothing. */
	bench_hist_init(b);
	bench_hist_merge(a, b);
	CHECK_INT(a->total, 200000);
	CHECK_INT(a->min, all->min);
	/* Uniform over [0, 5e6): p50 near 2.5e6 (sampling error < 1%). */
	v = bench_hist_percentile(all, 50.0);
	CHECK(v > 2475000 && v < 2525000);
out:
	bench_hist_free(a);
	bench_hist_free(b);
	bench_hist_free(all);
}

static void
test_overflow(void)
{
	bench_hist h;

	/* Beyond the tracked range: the last bucket, the exact max. */
	bench_hist_init(&h);
	bench_hist_record(&h, 10);
	bench_hist_record(&h, BH_MAX_VALUE * 4);
	CHECK_INT(h.counts[BH_BUCKETS - 1], 1);
	CHECK_INT(bench_hist_percentile(&h, 100.0), BH_MAX_VALUE * 4);
	CHECK_INT(bench_hist_percentile(&h, 99.0), BH_MAX_VALUE);
	CHECK_INT(bench_hist_percentile(&h, 50.0), 10);
	bench_hist_record(&h, UINT64_MAX);
	CHECK_INT(h.sum, UINT64_MAX);
	bench_hist_fini(&h);
}

/*
 * 1..10 once each (exact buckets): the walk's levels are HdrHistogram's
 * (steps of 10 up to 50, then 5, 2.5, 1.25 as the distance left halves),
 * each reported at the first value whose cumulative share reaches it, a
 * value reported again while its share covers the next level, and a last
 * step at 100 % once everything is counted.
 */
static void
test_walk_levels(void)
{
	static const struct {
		double level;
		uint64_t value;
	} want[] = {{0, 1},    {10, 1},    {20, 2}, {30, 3},     {40, 4},
		    {50, 5},   {55, 6},    {60, 6}, {65, 7},     {70, 7},
		    {75, 8},   {77.5, 8},  {80, 8}, {82.5, 9},   {85, 9},
		    {87.5, 9}, {88.75, 9}, {90, 9}, {91.25, 10}, {100, 10}};
	size_t n = sizeof(want) / sizeof(want[0]), i = 0;
	bench_hist h;
	bench_hist_walk w;
	uint64_t v;
	int ok = 1;

	bench_hist_init(&h);
	for (v = 1; v <= 10; v++) {
		bench_hist_record(&h, v);
	}
	bench_hist_walk_init(&w, &h, 5);
	while (bench_hist_walk_next(&w)) {
		if (i >= n || w.percentile != want[i].level ||
		    w.value != want[i].value || w.count != want[i].value) {
			fprintf(stderr, "step %zu: %g %llu %llu\n", i,
				w.percentile, (unsigned long long)w.value,
				(unsigned long long)w.count);
			ok = 0;
		}
		i++;
	}
	CHECK(ok);
	CHECK_INT(i, n);
	/* Done is done; an empty histogram has no step. */
	CHECK(!bench_hist_walk_next(&w));
	bench_hist_init(&h);
	bench_hist_walk_init(&w, &h, 5);
	CHECK(!bench_hist_walk_next(&w));
	bench_hist_fini(&h);
}

/* A wide spread: monotone steps, highest equivalent values, one 100 %. */
static void
test_walk_wide(void)
{
	bench_hist *h = bench_hist_alloc();
	bench_hist_walk w;
	uint64_t v, last_value = 0, last_count = 0, steps = 0;
	double last_level = -1.0;
	int ok = 1, at_100 = 0;

	CHECK(h != NULL);
	if (h == NULL) {
		return;
	}
	for (v = 1; v <= 1000000; v += 7) {
		bench_hist_record(h, v);
	}
	bench_hist_walk_init(&w, h, 5);
	while (bench_hist_walk_next(&w)) {
		steps++;
		if (w.value < last_value || w.count < last_count ||
		    w.percentile <= last_level ||
		    w.value !=
			bench_hist_bucket_high(bench_hist_bucket(w.value)) ||
		    100.0 * (double)w.count / (double)h->total < w.percentile) {
			ok = 0;
		}
		at_100 += w.percentile == 100.0;
		last_value = w.value;
		last_count = w.count;
		last_level = w.percentile;
	}
	CHECK(ok);
	CHECK_INT(at_100, 1);
	CHECK_INT(last_count, h->total);
	CHECK_INT(last_value,
		  bench_hist_bucket_high(bench_hist_bucket(h->max)));
	/*
	 * 6 steps to 50 %, then 5 per halving of what is left, until the
	 * top bucket (~0.4 % of the values: 8 halvings) is reached: ~57.
	 */
	CHECK(steps >= 50 && steps <= 64);
	/* The walk's p90 step is the histogram's p90. */
	bench_hist_walk_init(&w, h, 5);
	while (bench_hist_walk_next(&w) && w.percentile < 90.0) {
	}
	CHECK_INT(w.value, bench_hist_percentile(h, 90.0));
	bench_hist_free(h);
}

static void
test_stddev(void)
{
	bench_hist h;

	bench_hist_init(&h);
	CHECK(bench_hist_stddev(&h) == 0.0);
	bench_hist_record_n(&h, 100, 3);
	CHECK(bench_hist_stddev(&h) == 0.0);
	bench_hist_record_n(&h, 200, 3);
	/* 100 and 200 (exact buckets), mean 150: deviation 50. */
	CHECK(fabs(bench_hist_stddev(&h) - 50.0) < 1e-9);
	bench_hist_fini(&h);
}

/* The .hgrm text of 1..10 microseconds, written in milliseconds. */
static void
test_hgrm_text(void)
{
	static const char want[] =
	    "       Value   Percentile   TotalCount 1/(1-Percentile)\n"
	    "\n"
	    "       0.001     0.000000            1         1.00\n"
	    "       0.001     0.100000            1         1.11\n"
	    "       0.002     0.200000            2         1.25\n"
	    "       0.003     0.300000            3         1.43\n"
	    "       0.004     0.400000            4         1.67\n"
	    "       0.005     0.500000            5         2.00\n"
	    "       0.006     0.550000            6         2.22\n"
	    "       0.006     0.600000            6         2.50\n"
	    "       0.007     0.650000            7         2.86\n"
	    "       0.007     0.700000            7         3.33\n"
	    "       0.008     0.750000            8         4.00\n"
	    "       0.008     0.775000            8         4.44\n"
	    "       0.008     0.800000            8         5.00\n"
	    "       0.009     0.825000            9         5.71\n"
	    "       0.009     0.850000            9         6.67\n"
	    "       0.009     0.875000            9         8.00\n"
	    "       0.009     0.887500            9         8.89\n"
	    "       0.009     0.900000            9        10.00\n"
	    "       0.010     0.912500           10        11.43\n"
	    "       0.010     1.000000           10          inf\n"
	    "#[Mean    =        0.005, StdDeviation   =        0.003]\n"
	    "#[Max     =        0.010, Total count    =           10]\n"
	    "#[Buckets =           31, SubBuckets     =          256]\n";
	bench_hist h;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	uint64_t v;

	bench_hist_init(&h);
	for (v = 1; v <= 10; v++) {
		bench_hist_record(&h, v);
	}
	f = open_memstream(&text, &len);
	CHECK(f != NULL);
	if (f == NULL) {
		return;
	}
	CHECK_INT(bench_hist_write_hgrm(&h, f, 1000.0), 0);
	fclose(f);
	CHECK_STR(text, want);
	free(text);

	/* Empty: the header and the footer, no step. */
	bench_hist_init(&h);
	text = NULL;
	f = open_memstream(&text, &len);
	CHECK(f != NULL);
	if (f == NULL) {
		return;
	}
	CHECK_INT(bench_hist_write_hgrm(&h, f, 1000.0), 0);
	fclose(f);
	CHECK(text != NULL &&
	      strstr(text, "Total count    =            0]") != NULL);
	CHECK(text != NULL && strstr(text, " 1.000000 ") == NULL);
	free(text);
	bench_hist_fini(&h);
}

int
main(void)
{
	test_layout();
	test_empty();
	test_uniform_small();
	test_uniform_large();
	test_bimodal();
	test_constant();
	test_merge();
	test_overflow();
	test_walk_levels();
	test_walk_wide();
	test_stddev();
	test_hgrm_text();
	return check_done();
}
