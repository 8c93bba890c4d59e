/*
 * users_notify.h - what usersd and usersgw tell systemd (Type=notify
 * units): READY=1 once they answer, STOPPING=1 when a signal stops them,
 * WATCHDOG=1 while the main thread lives. Through libsystemd's sd_notify
 * when the build found it, else nothing; also nothing when the program
 * was not started by systemd (no NOTIFY_SOCKET).
 */
#ifndef USERS_NOTIFY_H
#define USERS_NOTIFY_H

#include <signal.h>

/* Sends state ("READY=1\nSTATUS=...") to the service manager, if any. */
void up_notify(const char *state);

/*
 * Waits for one of sigs (blocked in every thread) and returns it; while
 * it waits, sends WATCHDOG=1 every half of the unit's WatchdogSec (when
 * the manager asked for pings). Returns -1 only on an error of sigwait.
 */
int up_notify_sigwait(const sigset_t *sigs);

#endif /* USERS_NOTIFY_H */
