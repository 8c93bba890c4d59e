/*
 * bench_hist.c - the log-linear latency histogram (see bench_hist.h).
 *
 * Bucket of v: shift = max(0, floor(log2 v) - BH_SUB_BITS), then
 * index = shift * BH_SUB_BUCKETS + (v >> shift). For shift 0 that is v
 * itself (values below 2 * BH_SUB_BUCKETS are exact); for shift s >= 1,
 * v >> s lies in [BH_SUB_BUCKETS, 2 * BH_SUB_BUCKETS), so each power of
 * two owns BH_SUB_BUCKETS consecutive buckets after the exact ones.
 */
#include "bench_hist.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void
bench_hist_init(bench_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void
bench_hist_fini(bench_hist *h)
{
	(void)h;
}

bench_hist *
bench_hist_alloc(void)
{
	bench_hist *h = malloc(sizeof(*h));

	if (h != NULL) {
		bench_hist_init(h);
	}
	return h;
}

void
bench_hist_free(bench_hist *h)
{
	free(h);
}

static unsigned
log2_floor(uint64_t v)
{
	return 63u - (unsigned)__builtin_clzll(v | 1u);
}

size_t
bench_hist_bucket(uint64_t value)
{
	unsigned lg, shift;

	if (value > BH_MAX_VALUE) {
		value = BH_MAX_VALUE;
	}
	lg = log2_floor(value);
	shift = lg > BH_SUB_BITS ? lg - BH_SUB_BITS : 0;
	return (size_t)shift * BH_SUB_BUCKETS + (size_t)(value >> shift);
}

uint64_t
bench_hist_bucket_low(size_t bucket)
{
	size_t shift, sub;

	if (bucket >= BH_BUCKETS) {
		bucket = BH_BUCKETS - 1;
	}
	if (bucket < 2 * BH_SUB_BUCKETS) {
		return bucket;
	}
	shift = bucket / BH_SUB_BUCKETS - 1;
	sub = bucket - shift * BH_SUB_BUCKETS;
	return (uint64_t)sub << shift;
}

uint64_t
bench_hist_bucket_high(size_t bucket)
{
	size_t shift, sub;

	if (bucket >= BH_BUCKETS) {
		bucket = BH_BUCKETS - 1;
	}
	if (bucket < 2 * BH_SUB_BUCKETS) {
		return bucket;
	}
	shift = bucket / BH_SUB_BUCKETS - 1;
	sub = bucket - shift * BH_SUB_BUCKETS;
	return (((uint64_t)sub + 1) << shift) - 1;
}

void
bench_hist_record_n(bench_hist *h, uint64_t value, uint64_t count)
{
	uint64_t add;

	if (count == 0) {
		return;
	}
	h->counts[bench_hist_bucket(value)] += count;
	h->total += count;
	if (value < h->min) {
		h->min = value;
	}
	if (value > h->max) {
		h->max = value;
	}
	if (value != 0 && count > UINT64_MAX / value) {
		add = UINT64_MAX;
	} else {
		add = value * count;
	}
	h->sum = add > UINT64_MAX - h->sum ? UINT64_MAX : h->sum + add;
}

void
bench_hist_record(bench_hist *h, uint64_t value)
{
	bench_hist_record_n(h, value, 1);
}

void
bench_hist_merge(bench_hist *dst, const bench_hist *src)
{
	size_t i;

	if (src->total == 0) {
		return;
	}
	for (i = 0; i < BH_BUCKETS; i++) {
		dst->counts[i] += src->counts[i];
	}
	dst->total += src->total;
	if (src->min < dst->min) {
		dst->min = src->min;
	}
	if (src->max > dst->max) {
		dst->max = src->max;
	}
	dst->sum =
	    src->sum > UINT64_MAX - dst->sum ? UINT64_MAX : dst->sum + src->sum;
}

uint64_t
bench_hist_percentile(const bench_hist *h, double p)
{
	uint64_t rank, seen = 0, v;
	double want;
	size_t i;

	if (h->total == 0) {
		return 0;
	}
	if (!(p > 0.0)) { /* also NaN */
		return h->min;
	}
	if (p >= 100.0) {
		return h->max;
	}
	want = ceil(p / 100.0 * (double)h->total);
	rank = want < 1.0 ? 1 : (uint64_t)want;
	if (rank > h->total) {
		rank = h->total;
	}
	for (i = 0; i < BH_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			break;
		}
	}
	if (i == BH_BUCKETS) {
		return h->max;
	}
	v = bench_hist_bucket_high(i);
	if (v > h->max) {
		v = h->max;
	}
	if (v < h->min) {
		v = h->min;
	}
	return v;
}

double
bench_hist_mean(const bench_hist *h)
{
	if (h->total == 0) {
		return 0.0;
	}
	return (double)h->sum / (double)h->total;
}

double
bench_hist_stddev(const bench_hist *h)
{
	double mean, dev, total = 0.0;
	uint64_t lo, hi;
	size_t i;

	if (h->total == 0) {
		return 0.0;
	}
	mean = bench_hist_mean(h);
	for (i = 0; i < BH_BUCKETS; i++) {
		if (h->counts[i] == 0) {
			continue;
		}
		lo = bench_hist_bucket_low(i);
		hi = bench_hist_bucket_high(i);
		dev = (double)(lo + (hi - lo + 1) / 2) - mean;
		total += dev * dev * (double)h->counts[i];
	}
	return sqrt(total / (double)h->total);
}

void
bench_hist_walk_init(bench_hist_walk *w, const bench_hist *h, unsigned ticks)
{
	memset(w, 0, sizeof(*w));
	w->h = h;
	w->ticks = ticks > 0 ? ticks : 1;
}

bool
bench_hist_walk_next(bench_hist_walk *w)
{
	const bench_hist *h = w->h;
	double half;

	if (h->total == 0 || w->finished) {
		return false;
	}
	if (w->started && w->seen >= h->total) {
		/* Every value counted: one more step, at 100 %. */
		w->finished = true;
		w->percentile = 100.0;
		return true;
	}
	if (!w->started) {
		w->started = true;
		w->bucket = 0;
		w->seen = h->counts[0];
	}
	for (;;) {
		if (h->counts[w->bucket] != 0 &&
		    w->level <= 100.0 * (double)w->seen / (double)h->total) {
			break;
		}
		if (w->bucket + 1 >= BH_BUCKETS) {
			/* Unreachable while total matches the counts. */
			w->finished = true;
			return false;
		}
		w->bucket++;
		w->seen += h->counts[w->bucket];
	}
	w->value = bench_hist_bucket_high(w->bucket);
	w->percentile = w->level;
	w->count = w->seen;
	/* The next level: 100 / (ticks * 2^(floor(log2(100 / left)) + 1)). */
	half = pow(2.0, floor(log(100.0 / (100.0 - w->level)) / log(2.0)) + 1);
	w->level += 100.0 / ((double)w->ticks * half);
	return true;
}

int
bench_hist_write_hgrm(const bench_hist *h, FILE *f, double scale)
{
	bench_hist_walk w;
	double p;

	fprintf(f, "%12s %12s %12s %12s\n\n", "Value", "Percentile",
		"TotalCount", "1/(1-Percentile)");
	bench_hist_walk_init(&w, h, 5);
	while (bench_hist_walk_next(&w)) {
		p = w.percentile / 100.0;
		fprintf(f, "%12.3f %12f %12" PRIu64, (double)w.value / scale, p,
			w.count);
		if (p < 1.0) {
			fprintf(f, " %12.2f\n", 1.0 / (1.0 - p));
		} else {
			fprintf(f, " %12s\n", "inf"); /* as HdrHistogram's */
		}
	}
	fprintf(f, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n",
		bench_hist_mean(h) / scale, bench_hist_stddev(h) / scale);
	fprintf(f, "#[Max     = %12.3f, Total count    = %12" PRIu64 "]\n",
		(double)h->max / scale, h->total);
	fprintf(f, "#[Buckets = %12d, SubBuckets     = %12d]\n",
		BH_MAX_SHIFT + 1, 2 * BH_SUB_BUCKETS);
	return ferror(f) ? -1 : 0;
}
