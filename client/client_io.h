/*
 * client_io.h - libusersclient's own connections (io.c): a thread with an
 * epoll loop that carries the ipc:// and tcp:// daemons (by address) as
 * a transport of the client's (usersclient.h, "Transports of the caller's
 * own"), instead of nng's threads. Internal to the library.
 */
#ifndef UC_CLIENT_IO_H
#define UC_CLIENT_IO_H

#include <stddef.h>

#include "usersclient.h"

typedef struct uc_io uc_io;

/* An io for up to n daemons, messages received at most max_payload
 * bytes. 0 or an errno value. */
int uc_io_new(uc_io **out, size_t n, size_t max_payload);
/* The transport to open the client with (carries, kick, detach); valid
 * as long as io. */
const uc_transport *uc_io_transport(uc_io *io);
/* Starts the thread for client c (once uc_client_open has made it);
 * nothing of c is touched before. 0 or an errno value. */
int uc_io_start(uc_io *io, uc_client *c);
/* After detach (or when never started): frees. NULL is fine. */
void uc_io_free(uc_io *io);

#endif /* UC_CLIENT_IO_H */
