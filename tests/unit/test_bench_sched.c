/*
 * The open-loop schedule of usersbench --rate: when each request is due,
 * how many are due at a time, lateness, and latency from the due time
 * when the tool falls behind.
 */
#include <stdint.h>
#include <stdlib.h>

#include "bench_hist.h"
#include "bench_sched.h"
#include "check.h"

#define MS UINT64_C(1000000)
#define S  UINT64_C(1000000000)

static void
test_due_times(void)
{
	static const uint64_t rates[] = {
	    1, 3, 7, 1000, 33333, 9999991, BENCH_SCHED_MAX_RATE};
	bench_sched s;
	uint64_t i, d;
	size_t r;
	int ok = 1;

	bench_sched_init(&s, 5 * S, 3, S, 0);
	CHECK_INT(bench_sched_due_ns(&s, 0), 5 * S);
	CHECK_INT(bench_sched_due_ns(&s, 1), 5 * S + 333333333);
	CHECK_INT(bench_sched_due_ns(&s, 2), 5 * S + 666666666);
	CHECK_INT(bench_sched_due_ns(&s, 3), 6 * S);
	CHECK_INT(s.total, 3);

	/* due_count is the inverse of due_ns, for every rate. */
	for (r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		bench_sched_init(&s, 123456789, rates[r], 10 * S, 0);
		for (i = 0; i < 20000 && i < s.total; i += 1 + i / 7) {
			d = bench_sched_due_ns(&s, i);
			if (bench_sched_due_count(&s, d) != i + 1 ||
			    (i > 0 && bench_sched_due_count(&s, d - 1) != i)) {
				ok = 0;
			}
		}
		/* And it does not drift: rate requests a second, exactly. */
		if (bench_sched_due_ns(&s, rates[r] * 9) != 123456789 + 9 * S) {
			ok = 0;
		}
	}
	CHECK(ok);
	CHECK_INT(bench_sched_due_count(&s, 0), 0);

	/* total: due strictly before start + duration. */
	bench_sched_init(&s, 0, 1000, 10 * S, 0);
	CHECK_INT(s.total, 10000);
	bench_sched_init(&s, 0, 3, 1, 0);
	CHECK_INT(s.total, 1);
	bench_sched_init(&s, 0, 1000, 0, 0);
	CHECK_INT(s.total, 0);
	/* A day at the highest rate fits. */
	bench_sched_init(&s, 0, BENCH_SCHED_MAX_RATE, 86400 * S, 0);
	CHECK_INT(s.total, (uint64_t)BENCH_SCHED_MAX_RATE * 86400);
	CHECK_INT(bench_sched_due_ns(&s, s.total - 1),
		  86400 * S - S / BENCH_SCHED_MAX_RATE);
}

static void
test_take_and_wait(void)
{
	bench_sched s;
	uint64_t due = 0, n = 0;

	bench_sched_init(&s, 10 * S, 1000, S, 0); /* one every ms */
	CHECK_INT(bench_sched_wait_ns(&s, 9 * S), S);
	CHECK(!bench_sched_take(&s, 10 * S - 1, &due));
	CHECK(bench_sched_take(&s, 10 * S, &due));
	CHECK_INT(due, 10 * S);
	CHECK(!bench_sched_take(&s, 10 * S, &due));
	CHECK_INT(bench_sched_wait_ns(&s, 10 * S), MS);

	/* The sender wakes 5 ms later: requests 1..5 are due, in order. */
	CHECK_INT(bench_sched_backlog(&s, 10 * S + 5 * MS), 5);
	while (bench_sched_take(&s, 10 * S + 5 * MS, &due)) {
		n++;
		CHECK_INT(due, 10 * S + n * MS);
	}
	CHECK_INT(n, 5);
	CHECK_INT(bench_sched_wait_ns(&s, 10 * S + 5 * MS), 0 + MS);
	/* Sent 4, 3, 2, 1 and 0 ms late: more than 1 ms late are 3. */
	CHECK_INT(s.late, 3);
	CHECK_INT(s.max_lag_ns, 4 * MS);

	/* The run ends with requests due and not taken: they are counted. */
	CHECK_INT(bench_sched_backlog(&s, 11 * S), 994);
	CHECK_INT(bench_sched_unsent(&s), 994);
	while (bench_sched_take(&s, 11 * S, &due)) {
	}
	CHECK_INT(bench_sched_unsent(&s), 0);
	CHECK_INT(bench_sched_wait_ns(&s, 11 * S), UINT64_MAX);
	CHECK(!bench_sched_take(&s, 12 * S, &due));
}

/* A warm-up: its lateness is not counted; the window's is. */
static void
test_window(void)
{
	bench_sched s;
	uint64_t due, intended = 0, unsent = 0;

	/* 1000/s from 0 for 3 s, measured from 1 s. */
	bench_sched_init(&s, 0, 1000, 3 * S, S);
	/* Requests 0..9 taken 10 ms late: in the warm-up, not counted. */
	while (s.next < 10 && bench_sched_take(&s, 19 * MS, &due)) {
	}
	CHECK_INT(s.next, 10);
	CHECK_INT(s.late, 0);
	CHECK_INT(s.max_lag_ns, 0);
	/* Up to 999 on time, then 1000 and 1001 taken 3 ms late. */
	while (s.next < 1000 && bench_sched_take(&s, s.next * MS, &due)) {
	}
	CHECK_INT(s.next, 1000);
	CHECK(bench_sched_take(&s, 1003 * MS, &due));
	CHECK(bench_sched_take(&s, 1003 * MS, &due));
	CHECK_INT(s.late, 2);
	CHECK_INT(s.max_lag_ns, 3 * MS);

	/* Full from 0.5 s to 1.2 s (0.2 s of it measured), 2.0 to 2.1 s,
	 * and from 2.5 s to the stop at 2.6 s. */
	bench_sched_note_full(&s, 500 * MS, true);
	bench_sched_note_full(&s, 600 * MS, true);
	bench_sched_note_full(&s, 1200 * MS, false);
	bench_sched_note_full(&s, 2000 * MS, true);
	bench_sched_note_full(&s, 2100 * MS, false);
	bench_sched_note_full(&s, 2500 * MS, true);
	bench_sched_finish(&s, 2600 * MS, &intended, &unsent);
	CHECK_INT(s.full_ns, 400 * MS);
	/* Due in [1 s, 2.6 s]: 1000..2600; by 2.6 s, 2601 due, 1002 sent. */
	CHECK_INT(intended, 1601);
	CHECK_INT(unsent, 1599);

	/* Without a warm-up, the window is the whole run. */
	bench_sched_init(&s, 5 * S, 1000, S, 0);
	CHECK_INT(s.count_from, 5 * S);
	bench_sched_finish(&s, 6 * S, &intended, &unsent);
	CHECK_INT(intended, 1000);
	CHECK_INT(unsent, 1000);
	/* Stopped early (Ctrl-C at 5.5 s): only what was due by then. */
	bench_sched_init(&s, 5 * S, 1000, S, 0);
	bench_sched_finish(&s, 5 * S + 500 * MS, &intended, &unsent);
	CHECK_INT(intended, 501);
	CHECK_INT(unsent, 501);
}

static void
test_latency_from_due(void)
{
	/* Due at 10 ms, sent at 50 ms (the tool was behind), answered at
	 * 51 ms: the request waited 41 ms, not 1. */
	CHECK_INT(bench_sched_latency_ns(10 * MS, 51 * MS), 41 * MS);
	CHECK_INT(bench_sched_latency_ns(10 * MS, 10 * MS), 0);
	CHECK_INT(bench_sched_latency_ns(10 * MS, 9 * MS), 0);
}

/*
 * A server that answers at once except for a stall of one second, driven
 * at 1000/s with at most 4 requests in flight over 3 s. The requests due
 * during the stall cannot be sent (the 4 slots are taken) and go when it
 * ends; timed from their due times, the stall shows in about a third of
 * all requests (their latencies spread over 0..1 s), where a closed loop
 * would have shown 4 slow requests. Nothing is dropped.
 */
static void
test_stall(void)
{
	bench_sched s;
	bench_hist *h = bench_hist_alloc();
	uint64_t in_flight_due[4], t, due;
	uint64_t stall_from = S, stall_to = 2 * S, over_half = 0, sent = 0;
	unsigned in_flight = 0, k;

	CHECK(h != NULL);
	if (h == NULL) {
		return;
	}
	bench_sched_init(&s, 0, 1000, 3 * S, 0);
	for (t = 0; t <= 3 * S; t += 100000) { /* 100 us steps */
		/* The server answers what is in flight unless stalled. */
		if (t < stall_from || t >= stall_to) {
			for (k = 0; k < in_flight; k++) {
				uint64_t lat =
				    bench_sched_latency_ns(in_flight_due[k], t);

				bench_hist_record(h, lat / 1000);
				over_half += lat > S / 2;
			}
			in_flight = 0;
		}
		while (in_flight < 4 && bench_sched_take(&s, t, &due)) {
			in_flight_due[in_flight++] = due;
			sent++;
		}
		bench_sched_note_full(
		    &s, t, in_flight == 4 && bench_sched_wait_ns(&s, t) == 0);
	}
	CHECK_INT(sent, 3000);
	CHECK_INT(bench_sched_unsent(&s), 0);
	CHECK_INT(h->total, 3000);
	/*
	 * Request j of the stall (due at 1 s + j ms) goes out after it, 4 per
	 * 100 us step, and is answered 1 s - j * 0.975 ms after its due time:
	 * more than 0.5 s for j < 512.8.
	 */
	CHECK_INT(over_half, 513);
	CHECK(bench_hist_percentile(h, 99.0) > 900000);
	CHECK(bench_hist_percentile(h, 50.0) < 1000);
	CHECK(s.late > 990);
	CHECK(s.max_lag_ns >= 996 * MS);
	/* Full from the stall's 5th request (1.004 s) until it drained. */
	CHECK(s.full_ns > 990 * MS && s.full_ns < 1030 * MS);
	bench_hist_free(h);
}

int
main(void)
{
	test_due_times();
	test_take_and_wait();
	test_window();
	test_latency_from_due();
	test_stall();
	return check_done();
}
