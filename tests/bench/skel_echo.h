/*
 * skel_echo.h - the echo server of the skeleton reference: an nng REP
 * socket with N contexts, each an async aio loop (receive, send the same
 * message back, receive), nothing else. It stands where usersd stands.
 *
 * Callbacks run on nng threads and touch only their own context.
 */
#ifndef SKEL_ECHO_H
#define SKEL_ECHO_H

#include <stddef.h>

typedef struct skel_echo skel_echo;

/*
 * Listens on url with `contexts` REP contexts, messages up to max_msg
 * bytes. On success *out is the caller's (skel_echo_free); on failure a
 * message went to stderr and *out is NULL.
 */
int skel_echo_start(skel_echo **out, const char *url, unsigned contexts,
		    size_t max_msg);

/*
 * Stops the contexts, closes the socket and frees e (NULL is fine). nng_close
 * can hang (docs/decisions.md, section 13): callers at exit bound it with
 * an alarm.
 */
void skel_echo_free(skel_echo *e);

#endif
