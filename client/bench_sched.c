/*
 * bench_sched.c - the open-loop schedule (bench_sched.h).
 *
 * Request i is due at start + floor(i * 1e9 / rate). Then due_ns(i) <= now
 * exactly when i * 1e9 < (now - start + 1) * rate, so the count of
 * requests due at now is ceil((now - start + 1) * rate / 1e9). Products
 * are taken in 128 bits: no overflow and no rounding drift, however long
 * the run.
 */
#include "bench_sched.h"

#define NS_PER_S UINT64_C(1000000000)

typedef unsigned __int128 u128;

void
bench_sched_init(bench_sched *s, uint64_t start_ns, uint64_t rate,
		 uint64_t duration_ns)
{
	s->start_ns = start_ns;
	s->rate = rate == 0                     ? 1
		  : rate > BENCH_SCHED_MAX_RATE ? BENCH_SCHED_MAX_RATE
						: rate;
	s->total = 0;
	s->next = 0;
	s->late = 0;
	s->max_lag_ns = 0;
	/* Due strictly before start + duration. */
	if (duration_ns > 0) {
		s->total = bench_sched_due_count(s, start_ns + duration_ns - 1);
	}
}

uint64_t
bench_sched_due_ns(const bench_sched *s, uint64_t i)
{
	return s->start_ns + (uint64_t)((u128)i * NS_PER_S / s->rate);
}

uint64_t
bench_sched_due_count(const bench_sched *s, uint64_t now)
{
	u128 n;

	if (now < s->start_ns) {
		return 0;
	}
	n = ((u128)(now - s->start_ns) + 1) * s->rate;
	n = (n + NS_PER_S - 1) / NS_PER_S;
	/* total is 0 while init computes it: no cap then. */
	if (s->total != 0 && n > s->total) {
		return s->total;
	}
	return n > UINT64_MAX ? UINT64_MAX : (uint64_t)n;
}

bool
bench_sched_take(bench_sched *s, uint64_t now, uint64_t *due_ns)
{
	uint64_t due, lag;

	if (s->next >= s->total) {
		return false;
	}
	due = bench_sched_due_ns(s, s->next);
	if (due > now) {
		return false;
	}
	lag = now - due;
	if (lag > BENCH_SCHED_LATE_NS) {
		s->late++;
	}
	if (lag > s->max_lag_ns) {
		s->max_lag_ns = lag;
	}
	s->next++;
	*due_ns = due;
	return true;
}

uint64_t
bench_sched_backlog(const bench_sched *s, uint64_t now)
{
	uint64_t due = bench_sched_due_count(s, now);

	return due > s->next ? due - s->next : 0;
}

uint64_t
bench_sched_wait_ns(const bench_sched *s, uint64_t now)
{
	uint64_t due;

	if (s->next >= s->total) {
		return UINT64_MAX;
	}
	due = bench_sched_due_ns(s, s->next);
	return due > now ? due - now : 0;
}

uint64_t
bench_sched_unsent(const bench_sched *s)
{
	return s->total - s->next;
}

uint64_t
bench_sched_latency_ns(uint64_t due_ns, uint64_t done_ns)
{
	return done_ns > due_ns ? done_ns - due_ns : 0;
}
