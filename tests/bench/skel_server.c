/*
 * skel_server.c - the h2o scaffold of the gateway reference servers (see
 * skel_server.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "skel_server.h"
#include "users_proto.h"

#define LISTEN_BACKLOG 1024

/* A user record as usersgw would render it: 259 bytes. */
const char skel_fixed_body[] =
    "{\"id\":\"u_01HV6Z3Q9R8K7M2N4P5S6T7U8V\","
    "\"email\":\"bench-1234@usersbench.invalid\","
    "\"firstName\":\"Bench\",\"lastName\":\"User-0001\","
    "\"roles\":[\"User\"],\"accountIds\":[],\"phoneNumber\":null,"
    "\"createdAt\":\"2024-01-01T00:00:00Z\","
    "\"modifiedAt\":\"2024-01-01T00:00:00Z\",\"isActive\":true}";
const size_t skel_fixed_body_len = sizeof(skel_fixed_body) - 1;

#define STOP_WAIT_SECS 10

struct skel_server {
	const skel_config *cfg;
	h2o_globalconf_t conf;
	skel_thread *threads;
	unsigned n_threads;
	uint16_t port;
	atomic_bool stop;    /* set under mtx */
	bool go;             /* every thread is set up: run (under mtx) */
	pthread_mutex_t mtx; /* guards go and the threads' progress flags */
	pthread_cond_t cond; /* any of them changed */
};

skel_thread *
skel_thread_of(h2o_req_t *req)
{
	return H2O_STRUCT_FROM_MEMBER(skel_thread, ctx, req->conn->ctx);
}

void
skel_block_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

void
skel_wait_signal(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	while (sigwait(&set, &sig) != 0) {
	}
}

void
skel_respond(h2o_req_t *req, int status, const char *reason, const void *body,
	     size_t len)
{
	req->res.status = status;
	req->res.reason = reason;
	req->res.content_length = len;
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE,
		       NULL, H2O_STRLIT("application/json; charset=utf-8"));
	h2o_send_inline(req, body, len);
}

/* ------------------------------------------------------------------------
 * Threads
 */

static void
on_accept(h2o_socket_t *listener, const char *err)
{
	skel_thread *t = listener->data;
	h2o_socket_t *sock;

	if (err != NULL) {
		return;
	}
	if ((sock = h2o_evloop_socket_accept(listener)) == NULL) {
		return;
	}
	h2o_accept(&t->accept_ctx, sock);
}

static void
on_wake(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
	(void)receiver;
	(void)messages; /* only NULL messages are sent: the list is empty */
}

/*
 * A listening socket on 127.0.0.1:*port (SO_REUSEPORT, so each thread has
 * its own); *port receives the bound port. The fd, or -1.
 */
static int
listen_on(const char *name, uint16_t *port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd, on = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		fprintf(stderr, "%s: socket: %s\n", name, strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(*port);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		fprintf(stderr, "%s: listen on 127.0.0.1:%u: %s\n", name,
			(unsigned)*port, strerror(errno));
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/*
 * On t's thread: its loop, context, wake-up receiver and listener, then the
 * program's thread_init. Every h2o object of a loop is made on the loop's
 * own thread: sockets take their buffers from the creating thread's
 * thread-local allocator, which is not safe to share.
 */
static int
thread_setup(struct skel_server *srv, skel_thread *t)
{
	t->loop = h2o_evloop_create();
	h2o_context_init(&t->ctx, t->loop, &srv->conf);
	t->ctx_ready = true;
	h2o_multithread_register_receiver(t->ctx.queue, &t->wake, on_wake);
	t->accept_ctx.ctx = &t->ctx;
	t->accept_ctx.hosts = srv->conf.hosts;
	t->listener = h2o_evloop_socket_create(t->loop, t->listen_fd,
					       H2O_SOCKET_FLAG_DONT_READ);
	t->listener->data = t;
	h2o_socket_read_start(t->listener, on_accept);
	if (srv->cfg->thread_init != NULL &&
	    srv->cfg->thread_init(t, srv->cfg->arg) != 0) {
		return -1;
	}
	return 0;
}

/*
 * Sets itself up, reports, waits for the go (or the stop), runs the loop
 * until the stop flag, reports, then parks until the process exits (as
 * h2o's own server does): h2o keeps per-thread caches of buffers and pool
 * chunks in thread-local storage that only a live thread keeps reachable,
 * and the process is about to exit anyway. Every signal is blocked here,
 * so pause() never returns.
 */
static void *
thread_main(void *arg)
{
	skel_thread *t = arg;
	struct skel_server *srv = t->srv;
	int rc = thread_setup(srv, t);
	bool go;

	pthread_mutex_lock(&srv->mtx);
	t->setup_rc = rc;
	t->set_up = true;
	pthread_cond_broadcast(&srv->cond);
	while (!srv->go && !atomic_load(&srv->stop)) {
		pthread_cond_wait(&srv->cond, &srv->mtx);
	}
	go = srv->go && rc == 0;
	pthread_mutex_unlock(&srv->mtx);
	while (go && !atomic_load_explicit(&srv->stop, memory_order_acquire)) {
		h2o_evloop_run(t->loop, INT32_MAX);
	}
	pthread_mutex_lock(&srv->mtx);
	t->stopped = true;
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->mtx);
	for (;;) {
		pause();
	}
	return NULL;
}

/* Threads started and not yet past their loop (under srv->mtx). */
static unsigned
running_threads(const struct skel_server *srv)
{
	unsigned i, n = 0;

	for (i = 0; i < srv->n_threads; i++) {
		if (srv->threads[i].started && !srv->threads[i].stopped) {
			n++;
		}
	}
	return n;
}

/*
 * Under srv->mtx: waits until done(srv) or the deadline. 0, or -1 at the
 * deadline.
 */
static int
wait_until(struct skel_server *srv, bool (*done)(const struct skel_server *),
	   const struct timespec *deadline)
{
	while (!done(srv)) {
		if (pthread_cond_timedwait(&srv->cond, &srv->mtx, deadline) ==
			ETIMEDOUT &&
		    !done(srv)) {
			return -1;
		}
	}
	return 0;
}

static bool
all_set_up(const struct skel_server *srv)
{
	unsigned i;

	for (i = 0; i < srv->n_threads; i++) {
		if (srv->threads[i].started && !srv->threads[i].set_up) {
			return false;
		}
	}
	return true;
}

static bool
all_stopped(const struct skel_server *srv)
{
	return running_threads(srv) == 0;
}

static void
deadline_in(struct timespec *ts, int secs)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += secs;
}

/*
 * Stops the loops and waits (at most STOP_WAIT_SECS) until each thread has
 * left its loop, then runs thread_fini for each set-up thread. 0, or -1
 * when a thread did not stop in time (thread_fini is then skipped).
 */
static int
server_stop(struct skel_server *srv)
{
	struct timespec deadline;
	unsigned i;
	int rc;

	pthread_mutex_lock(&srv->mtx);
	atomic_store_explicit(&srv->stop, true, memory_order_release);
	pthread_cond_broadcast(&srv->cond);
	for (i = 0; srv->go && i < srv->n_threads; i++) {
		if (srv->threads[i].set_up && srv->threads[i].setup_rc == 0) {
			h2o_multithread_send_message(&srv->threads[i].wake,
						     NULL);
		}
	}
	deadline_in(&deadline, STOP_WAIT_SECS);
	rc = wait_until(srv, all_stopped, &deadline);
	pthread_mutex_unlock(&srv->mtx);
	if (rc != 0) {
		fprintf(stderr, "%s: a loop did not stop within %d s\n",
			srv->cfg->name, STOP_WAIT_SECS);
		return -1;
	}
	for (i = 0; i < srv->n_threads; i++) {
		if (srv->threads[i].ctx_ready &&
		    srv->cfg->thread_fini != NULL) {
			srv->cfg->thread_fini(&srv->threads[i], srv->cfg->arg);
		}
	}
	return 0;
}

int
skel_run(const skel_config *cfg)
{
	static struct skel_server srv; /* reachable until exit */
	struct timespec deadline;
	h2o_hostconf_t *host;
	h2o_pathconf_t *path;
	h2o_handler_t *handler;
	unsigned i;
	int rc = 1;

	memset(&srv, 0, sizeof(srv));
	srv.cfg = cfg;
	srv.port = cfg->port;
	atomic_init(&srv.stop, false);
	pthread_mutex_init(&srv.mtx, NULL);
	pthread_cond_init(&srv.cond, NULL);
	h2o_config_init(&srv.conf);
	srv.conf.max_request_entity_size = SKEL_MAX_BODY;
	host = h2o_config_register_host(
	    &srv.conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
	path = h2o_config_register_path(host, "/", 0);
	handler = h2o_create_handler(path, sizeof(*handler));
	handler->on_req = cfg->on_req;

	srv.threads = calloc(cfg->threads, sizeof(*srv.threads));
	if (srv.threads == NULL) {
		fprintf(stderr, "%s: out of memory\n", cfg->name);
		goto out;
	}
	srv.n_threads = cfg->threads;
	/* The listeners first: the first one decides an ephemeral port. */
	for (i = 0; i < srv.n_threads; i++) {
		srv.threads[i].srv = &srv;
		srv.threads[i].index = i;
		srv.threads[i].listen_fd = listen_on(cfg->name, &srv.port);
		if (srv.threads[i].listen_fd < 0) {
			goto out;
		}
	}
	pthread_mutex_lock(&srv.mtx);
	for (i = 0; i < srv.n_threads; i++) {
		skel_thread *t = &srv.threads[i];

		if (pthread_create(&t->tid, NULL, thread_main, t) != 0) {
			fprintf(stderr, "%s: pthread_create failed\n",
				cfg->name);
			break;
		}
		t->started = true;
	}
	deadline_in(&deadline, STOP_WAIT_SECS);
	if (i == srv.n_threads &&
	    wait_until(&srv, all_set_up, &deadline) == 0) {
		for (i = 0; i < srv.n_threads; i++) {
			if (srv.threads[i].setup_rc != 0) {
				break;
			}
		}
	}
	if (i == srv.n_threads) {
		srv.go = true;
		pthread_cond_broadcast(&srv.cond);
	} else {
		fprintf(stderr, "%s: a loop thread did not start\n", cfg->name);
	}
	pthread_mutex_unlock(&srv.mtx);
	if (!srv.go) {
		goto out;
	}
	printf("%s: ready port=%u threads=%u\n", cfg->name, (unsigned)srv.port,
	       srv.n_threads);
	fflush(stdout);
	skel_wait_signal();
	rc = 0;
out:
	if (srv.threads != NULL && server_stop(&srv) != 0) {
		rc = 1;
	}
	return rc;
}
