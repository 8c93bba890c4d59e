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
		 uint64_t duration_ns, uint64_t count_from_ns)
{
	s->start_ns = start_ns;
	s->rate = rate == 0                     ? 1
		  : rate > BENCH_SCHED_MAX_RATE ? BENCH_SCHED_MAX_RATE
						: rate;
	s->total = 0;
	s->next = 0;
	s->late = 0;
	s->max_lag_ns = 0;
	s->full_ns = 0;
	s->full_since = 0;
	s->count_from = count_from_ns > start_ns ? count_from_ns : start_ns;
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
	if (due >= s->count_from) {
		if (lag > BENCH_SCHED_LATE_NS) {
			s->late++;
		}
		if (lag > s->max_lag_ns) {
			s->max_lag_ns = lag;
		}
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

/* Adds the full period [full_since, now) that lies in the window. */
static void
full_add(bench_sched *s, uint64_t now)
{
	uint64_t from =
	    s->full_since > s->count_from ? s->full_since : s->count_from;

	if (now > from) {
		s->full_ns += now - from;
	}
}

void
bench_sched_note_full(bench_sched *s, uint64_t now, bool full)
{
	if (full && s->full_since == 0) {
		s->full_since = now > 0 ? now : 1;
	} else if (!full && s->full_since != 0) {
		full_add(s, now);
		s->full_since = 0;
	}
}

void
bench_sched_finish(bench_sched *s, uint64_t stop, uint64_t *intended,
		   uint64_t *unsent)
{
	uint64_t due = bench_sched_due_count(s, stop);
	uint64_t before = s->count_from > s->start_ns
			      ? bench_sched_due_count(s, s->count_from - 1)
			      : 0;

	bench_sched_note_full(s, stop, false);
	*intended = due > before ? due - before : 0;
	*unsent = due > s->next ? due - s->next : 0;
}
