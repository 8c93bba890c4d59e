/*
 * notify.c - the service manager's notifications (users_notify.h). Built
 * with libsystemd when it is there (USERS_HAVE_SYSTEMD), and without it
 * every call does nothing and the programs run as before.
 */
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "users_notify.h"

#ifdef USERS_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

void
up_notify(const char *state)
{
#ifdef USERS_HAVE_SYSTEMD
	(void)sd_notify(0, state);
#else
	(void)state;
#endif
}

/* Half the watchdog interval in microseconds, or 0 when none is asked. */
static uint64_t
ping_every_us(void)
{
#ifdef USERS_HAVE_SYSTEMD
	uint64_t us = 0;

	if (sd_watchdog_enabled(0, &us) > 0 && us > 0) {
		return us / 2;
	}
#endif
	return 0;
}

int
up_notify_sigwait(const sigset_t *sigs)
{
	uint64_t every = ping_every_us();
	int sig;

	if (every == 0) {
		while (sigwait(sigs, &sig) != 0) {
		}
		return sig;
	}
	for (;;) {
		struct timespec ts = {(time_t)(every / 1000000),
				      (long)(every % 1000000) * 1000};

		sig = sigtimedwait(sigs, NULL, &ts);
		if (sig > 0) {
			return sig;
		}
		if (errno == EAGAIN) {
			up_notify("WATCHDOG=1");
		} else if (errno != EINTR) {
			return -1;
		}
	}
}
