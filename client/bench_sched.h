/*
 * bench_sched.h - the open-loop schedule of the load tools (usersbench
 * --rate): requests due at a constant rate whatever the server does, each
 * timed from when it was due rather than from when it could be sent.
 *
 * A closed loop (one request in flight per slot, the next sent when the
 * answer comes) stops sending while the server stalls, so the stall shows
 * as one slow request per slot and the requests that would have queued
 * behind it are never measured ("coordinated omission"). Here request i
 * is due at start + i / rate whether or not the earlier ones came back;
 * when the tool cannot send it then (no free connection, or the sending
 * thread is late), it goes later but its latency still counts from its due
 * time, and the schedule counts how late the sends were. Requests still
 * unsent when the run ends are counted too (bench_sched_unsent), never
 * dropped in silence.
 *
 * Pure arithmetic on nanosecond times (the caller reads the clock): one
 * owner thread, no allocation; init only (nothing to release).
 */
#ifndef BENCH_SCHED_H
#define BENCH_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#define BENCH_SCHED_MAX_RATE 10000000u /* requests per second */
/* A send this much after its due time counts as late. */
#define BENCH_SCHED_LATE_NS 1000000u

typedef struct bench_sched {
	uint64_t start_ns;   /* request 0 is due then */
	uint64_t rate;       /* requests per second, 1..BENCH_SCHED_MAX_RATE */
	uint64_t total;      /* requests due before start + duration */
	uint64_t count_from; /* ns: the measured window (after a warm-up) */
	uint64_t next;       /* the next request to take */
	/* Over the requests due in the measured window: */
	uint64_t late;       /* taken more than BENCH_SCHED_LATE_NS late */
	uint64_t max_lag_ns; /* the latest a request was taken */
	uint64_t full_ns;    /* time the tool had no room for a due request */
	uint64_t full_since; /* 0: not full now */
} bench_sched;

/*
 * A schedule of `rate` per second from start_ns for duration_ns, whose
 * lateness and full time count from count_from_ns on (the end of a
 * warm-up; start_ns for none).
 */
void bench_sched_init(bench_sched *s, uint64_t start_ns, uint64_t rate,
		      uint64_t duration_ns, uint64_t count_from_ns);
/* When request i is due: start + floor(i * 1e9 / rate), no drift. */
uint64_t bench_sched_due_ns(const bench_sched *s, uint64_t i);
/* How many requests are due at or before now (at most total). */
uint64_t bench_sched_due_count(const bench_sched *s, uint64_t now);
/*
 * Takes the next request when it is due at now: true, its due time in
 * *due_ns, and the lateness counted; false when none is due yet or the
 * schedule is done.
 */
bool bench_sched_take(bench_sched *s, uint64_t now, uint64_t *due_ns);
/* Due at now and not yet taken: the tool is that far behind. */
uint64_t bench_sched_backlog(const bench_sched *s, uint64_t now);
/* ns until the next request is due: 0 when one is due, UINT64_MAX when
 * the schedule is done. */
uint64_t bench_sched_wait_ns(const bench_sched *s, uint64_t now);
/* Never taken: at the end of a run, the requests the tool did not send. */
uint64_t bench_sched_unsent(const bench_sched *s);
/*
 * Tells the schedule whether the tool is full at now: a request is due and
 * no slot or connection is free to send it. The time spent full in the
 * measured window adds up in full_ns: when it is 0 and requests still went
 * late, the sender itself was slow.
 */
void bench_sched_note_full(bench_sched *s, uint64_t now, bool full);
/*
 * Ends the run (sending stopped at stop): *intended = the requests due in
 * the measured window up to stop, *unsent = those due by stop and never
 * taken. Closes a full period still open.
 */
void bench_sched_finish(bench_sched *s, uint64_t stop, uint64_t *intended,
			uint64_t *unsent);
/*
 * The latency of a request due at due_ns and answered at done_ns: from
 * its due time, whenever it was sent (0 if done_ns is earlier).
 */
uint64_t bench_sched_latency_ns(uint64_t due_ns, uint64_t done_ns);

#endif
