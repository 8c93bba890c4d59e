/*
 * skel_server.h - the h2o scaffold of the two gateway reference servers
 * (h2o_bare.c and skeleton.c), built the way usersgw is built: N threads,
 * each with its own h2o_evloop and h2o_context_t over one global
 * configuration, each with its own listening socket on 127.0.0.1:PORT
 * (SO_REUSEPORT), one handler for every path, request bodies limited to
 * SKEL_MAX_BODY. Runs until SIGTERM or SIGINT.
 *
 * Threads: the main thread makes the listening sockets and the loop
 * threads; each thread makes its own loop and context (h2o's sockets use
 * the creating thread's buffer allocator); once all are set up the main
 * thread prints "<name>: ready port=P threads=N" on stdout, waits for the
 * signal, stops the loops (a wake-up through each context's queue) and
 * waits until each has left its loop; the threads then park until the
 * process exits. The handler and everything posted to a context's queue
 * run on that context's loop thread.
 */
#ifndef SKEL_SERVER_H
#define SKEL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <h2o.h>

#define SKEL_MAX_THREADS 64
#define SKEL_MAX_BODY    (64u * 1024u) /* larger bodies get 413 from h2o */

typedef struct skel_thread skel_thread;

typedef struct skel_config {
	const char *name; /* program name, for messages */
	unsigned threads; /* 1..SKEL_MAX_THREADS */
	uint16_t port;    /* 0: an ephemeral port */
	int (*on_req)(h2o_handler_t *self, h2o_req_t *req);
	/*
	 * Optional: thread_init on t's own thread once its context exists,
	 * before its loop runs (non-zero: the start fails, and thread_fini
	 * still runs for t); thread_fini on the main thread after the loop
	 * stopped.
	 */
	int (*thread_init)(skel_thread *t, void *arg);
	void (*thread_fini)(skel_thread *t, void *arg);
	void *arg;
} skel_config;

struct skel_thread {
	h2o_context_t ctx; /* first: skel_thread_of() finds t from it */
	h2o_evloop_t *loop;
	h2o_accept_ctx_t accept_ctx;
	int listen_fd; /* made by the main thread */
	h2o_socket_t *listener;
	h2o_multithread_receiver_t wake; /* message-less wake-ups (stop) */
	struct skel_server *srv;
	unsigned index;
	bool ctx_ready;
	/* Progress, under the server's mutex. */
	bool started; /* the thread was created */
	bool set_up;  /* thread_setup returned setup_rc */
	int setup_rc;
	bool stopped; /* it left its loop (or never ran it) */
	pthread_t tid;
	void *user; /* the program's per-thread state (thread_init sets it) */
};

/* The thread (and context) a request belongs to. */
skel_thread *skel_thread_of(h2o_req_t *req);

/*
 * Builds the server, prints the ready line, serves until SIGTERM/SIGINT,
 * stops the loops. The caller must have blocked SIGTERM and SIGINT in
 * every thread (skel_block_signals() before any thread starts). Returns 0
 * after a clean stop, 1 when the server could not start or a loop did not
 * stop within 10 s. The h2o objects are not disposed: the process is about
 * to exit.
 */
int skel_run(const skel_config *cfg);

/* Blocks SIGTERM and SIGINT (inherited by threads created later) and
 * ignores SIGPIPE. */
void skel_block_signals(void);

/* Waits for SIGTERM or SIGINT (blocked by skel_block_signals). */
void skel_wait_signal(void);

/* Answers req with status and a JSON body (copied). Loop thread only. */
void skel_respond(h2o_req_t *req, int status, const char *reason,
		  const void *body, size_t len);

/* The fixed ~260-byte JSON body of h2o_bare (a user record's size). */
extern const char skel_fixed_body[];
extern const size_t skel_fixed_body_len;

#endif
