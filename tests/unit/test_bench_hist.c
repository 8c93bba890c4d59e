/* The benchmarks' latency histogram: bucket layout and percentiles. */
#include <stdint.h>
#include <stdlib.h>

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
	return check_done();
}
