/*
 * server.h - the nng side of usersd: one raw REP socket, a few receivers,
 * and an outbox per connection (server.c, top, says how).
 *
 * A received message is one call (an older client's envelope) or a batch
 * of calls; each call is handed to the service (ud_service_submit) and its
 * answer comes back through the service's send hook, from whichever thread
 * finished it, to leave with the other answers ready for the same
 * connection. No callback blocks.
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
/* Closes the socket and frees the receivers and connections. */
void ud_server_free(ud_server *s);

#endif
