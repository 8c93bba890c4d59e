/*
 * loop.h - usersd's own listeners for ipc:// and tcp:// (loop.c, top,
 * says how): a few threads, each an epoll loop that accepts connections,
 * reads nng's SP framing (up_sp_*, users_proto.h) and hands each whole
 * request message to its owner (server.c), which answers by writing to
 * the connection from whichever thread finished the calls. No nng thread
 * sits between a client's bytes and the call they carry.
 *
 * The owner keeps one lock per connection (its peer's). It writes with
 * ud_conn_send and ud_conn_send_more under that lock; the loop calls the
 * writable and closed hooks, which take it too, so no write meets a close.
 */
#ifndef UD_LOOP_H
#define UD_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ud_loop ud_loop;
typedef struct ud_conn ud_conn;

typedef struct ud_loop_hooks {
	void *arg;
	/* A client said hello on c: the owner's handle for it (its peer),
	 * or NULL to close it. A loop thread. */
	void *(*open)(void *arg, ud_conn *c);
	/*
	 * One whole request message of peer's: its SP header (the
	 * backtrace, hl bytes, to be given back with each answer) and its
	 * body, which the hook may overwrite (wipe); both are the loop's,
	 * valid during the call. A loop thread.
	 */
	void (*message)(void *arg, void *peer, const uint8_t *hdr, size_t hl,
			uint8_t *body, size_t len);
	/* The socket takes bytes again after a ud_conn_send that returned
	 * 1: the owner takes its lock and calls ud_conn_send_more. */
	void (*writable)(void *arg, void *peer);
	/* The connection is gone: once the hook returns, the owner never
	 * writes to it again. A loop thread, or ud_loop_free's. */
	void (*closed)(void *arg, void *peer);
	/*
	 * Whether a message of peer's may be handed over now: UD_TAKE_NOW;
	 * UD_TAKE_LATER (the owner's bound on calls in flight: the loops
	 * park until ud_loop_wake); UD_TAKE_STALLED (this connection's
	 * answers wait for the client to read: nothing more is read from
	 * it until the writable hook has run). A loop thread.
	 */
	int (*may_take)(void *arg, void *peer);
} ud_loop_hooks;

enum { UD_TAKE_NOW, UD_TAKE_LATER, UD_TAKE_STALLED };

/* Whether url is one the loops serve: ipc://PATH, tcp://, tcp4://,
 * tcp6://HOST:PORT. */
bool ud_loop_serves(const char *url);
/*
 * A loop of n threads (at least 1) for hooks, messages at most
 * max_payload bytes (SP header and body, as nng's NNG_OPT_RECVMAXSZ
 * counts; a longer one closes its connection). Nothing runs before
 * ud_loop_start. 0 or an errno value.
 */
int ud_loop_new(ud_loop **out, const ud_loop_hooks *hooks, unsigned n,
		size_t max_payload);
/*
 * Listens on url (ud_loop_serves). 0, or an errno value with why
 * filled in (EADDRINUSE when something listens there already).
 */
int ud_loop_listen(ud_loop *l, const char *url, char *why, size_t why_len);
/* Starts the threads. 0 or an errno value. */
int ud_loop_start(ud_loop *l);
/* may_take turned true: parked connections are read again. Any thread;
 * cheap when nothing is parked. */
void ud_loop_wake(ud_loop *l);
/* Stops accepting and taking messages (a drain): the listeners close,
 * connections stay open for the answers still to come. */
void ud_loop_quiesce(ud_loop *l);
/* Stops the threads, closes every connection (the closed hook for
 * each) and listener (an ipc:// path is removed). NULL is fine. */
void ud_loop_free(ud_loop *l);

/*
 * Under the owner's lock for c: writes one message (hdr and body behind
 * the frame's head). 0 written whole; 1 the kernel took part of it: the
 * rest is kept, and the writable hook comes when it can go on; -1 the
 * connection is broken (the closed hook follows).
 */
int ud_conn_send(ud_conn *c, const uint8_t *hdr, size_t hl, const uint8_t *body,
		 size_t len);
/* Under the owner's lock, after the writable hook: 0 the rest went, 1
 * not yet (another writable hook follows), -1 broken. */
int ud_conn_send_more(ud_conn *c);

#endif /* UD_LOOP_H */
