/*
 * bench_sys.h - what every benchmark program of the project needs of the
 * system (usersbench, nng_echo, skeleton): a monotonic clock, a sleep that
 * survives signals, a watchdog for a teardown that may hang (nng_close
 * can: docs/decisions.md, section 13), and a Ctrl-C that stops a run
 * instead of killing it.
 */
#ifndef BENCH_SYS_H
#define BENCH_SYS_H

#include <stdbool.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);
/* Sleeps ms milliseconds, resuming after a signal. */
void bench_sleep_ms(unsigned ms);
/* Sleeps ns nanoseconds (once: a signal ends it early). */
void bench_sleep_ns(uint64_t ns);
/*
 * From now on the first SIGINT (Ctrl-C) only raises a flag that
 * bench_interrupted() reports, so that the run can stop and print what it
 * measured; the second kills the process as usual.
 */
void bench_catch_sigint(void);
bool bench_interrupted(void);
/*
 * In secs seconds the process writes "<prog>: teardown hung; exiting
 * anyway" and exits with rc, unless bench_watchdog_off() comes first.
 * Arming again replaces the earlier alarm.
 */
void bench_watchdog(const char *prog, unsigned secs, int rc);
void bench_watchdog_off(void);

#endif
