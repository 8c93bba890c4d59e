/*
 * server.h - the nng side of usersd: a REP socket served through many
 * contexts, each with its own aio, so that many calls are in flight.
 *
 * Each context cycles: receive -> (the call runs elsewhere) -> send ->
 * receive. Its callbacks never block: a received message is handed to the
 * service (ud_service_submit) and the reply comes back through
 * ud_server_send from whichever thread finished the call.
 */
#ifndef UD_SERVER_H
#define UD_SERVER_H

#include "service.h"

typedef struct ud_server ud_server;

/* Opens the socket and listens on every URL of cfg. */
int ud_server_start(ud_server **out, ud_service *svc, const ud_config *cfg);
/*
 * Stops listening and receiving; calls in flight still get their replies.
 * Returns when they have (or after timeout_ms, returning UP_DEADLINE_EXCEEDED).
 */
int ud_server_drain(ud_server *s, int timeout_ms);
/* How many listeners the guard has made anew (nng 1.5's stuck listener). */
unsigned ud_server_listener_restarts(ud_server *s);
/* Frees the contexts and closes the socket. */
void ud_server_free(ud_server *s);

#endif
