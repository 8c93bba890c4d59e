/*
 * bench_sys.c - clock, sleep and teardown watchdog of the benchmark
 * programs (bench_sys.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_sys.h"

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
bench_sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

void
bench_sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
			      .tv_nsec = (long)(ns % 1000000000u)};

	nanosleep(&ts, NULL);
}

static volatile sig_atomic_t sigint_seen;

static void
on_sigint(int sig)
{
	(void)sig;
	sigint_seen = 1;
}

void
bench_catch_sigint(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sa.sa_flags = SA_RESETHAND | SA_RESTART; /* the next one kills */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
}

bool
bench_interrupted(void)
{
	return sigint_seen != 0;
}

/* What the alarm writes and exits with (set before it is armed). */
static char watchdog_msg[96];
static volatile sig_atomic_t watchdog_rc;

static void
on_alarm(int sig)
{
	ssize_t n;

	(void)sig;
	n = write(STDERR_FILENO, watchdog_msg, strlen(watchdog_msg));
	(void)n;
	_exit(watchdog_rc);
}

void
bench_watchdog(const char *prog, unsigned secs, int rc)
{
	struct sigaction sa;

	snprintf(watchdog_msg, sizeof(watchdog_msg),
		 "%s: teardown hung; exiting anyway\n", prog);
	watchdog_rc = rc;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(secs);
}

void
bench_watchdog_off(void)
{
	alarm(0);
}
