/*
 * gw_server.c - the gateway process: one listening socket shared by N loop
 * threads (each an h2o evloop with its own context and its own dup of the
 * listening fd), optional TLS with HTTP/2 by ALPN, one libusersclient
 * client shared by every loop, and a clean stop on SIGTERM/SIGINT (SIGHUP
 * reopens the log files and stops nothing). Under systemd (Type=notify)
 * it says READY=1 once every loop serves, STOPPING=1 at the signal, and
 * WATCHDOG=1 while it waits (users_notify.h).
 *
 * Loop turns. Each h2o_evloop_run handles the events of one wakeup (the
 * requests read, the replies posted); the RPCs their handlers start are
 * held by the client and leave together when the turn ends
 * (gw_request_flush): one message for a turn's calls, and no timer, so a
 * lone request leaves microseconds after it was read. Once stopping, a
 * loop starts no RPC, so its later turns have nothing to flush.
 *
 * Stopping: the main thread waits for the signal (blocked in every
 * thread, taken with sigwait), sets `stopping` and wakes each loop. A loop
 * closes its listener, asks its connections to shut down, keeps running
 * until its RPCs in flight are answered (bounded by the deadline) and its
 * connections are gone (bounded), then returns. Then the client is closed
 * (its callbacks have all run), replies nobody will read are freed, and
 * everything is torn down. A loop that still has open connections at the
 * end is left allocated (reachable) rather than freed under them.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "gw.h"
#include "gw_meta.h"
#include "users_log.h"
#include "users_notify.h"

#define LISTEN_BACKLOG 1024
#define ACCEPT_BATCH   16
#define DRAIN_CONNS_MS 1000
#define DRAIN_EXTRA_MS 1000

static gw_server
    server; /* static: what a stop leaves allocated stays reachable */

/* ------------------------------------------------------------------------
 * Listening socket
 */

int
gw_split_hostport(const char *s, char *host, size_t hsize, char *port,
		  size_t psize)
{
	const char *colon;
	size_t hl;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':') {
			return -1;
		}
		hl = (size_t)(close - s - 1);
		if (hl >= hsize) {
			return -1;
		}
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			return -1;
		}
		hl = (size_t)(colon - s);
		if (hl >= hsize) {
			return -1;
		}
		memcpy(host, s, hl);
		host[hl] = '\0';
	}
	if (strlen(colon + 1) == 0 || strlen(colon + 1) >= psize) {
		return -1;
	}
	snprintf(port, psize, "%s", colon + 1);
	return 0;
}

static int
open_listener(gw_server *srv)
{
	char host[256], port[16];
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char name[NI_MAXHOST], serv[NI_MAXSERV];
	int fd = -1;
	int one = 1;
	int rc;

	if (gw_split_hostport(srv->cfg.listen, host, sizeof(host), port,
			      sizeof(port)) != 0) {
		fprintf(stderr, "usersgw: --listen wants HOST:PORT, not '%s'\n",
			srv->cfg.listen);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "usersgw: %s: %s\n", srv->cfg.listen,
			gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		fprintf(stderr, "usersgw: listen on %s: %s\n", srv->cfg.listen,
			strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		freeaddrinfo(ai);
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	freeaddrinfo(ai);
	srv->listen_fd = fd;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, sl, name, sizeof(name), serv,
			sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
		snprintf(srv->listen_name, sizeof(srv->listen_name),
			 ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", name,
			 serv);
	} else {
		snprintf(srv->listen_name, sizeof(srv->listen_name), "%s",
			 srv->cfg.listen);
	}
	return 0;
}

static int
open_tls(gw_server *srv)
{
	SSL_CTX *ctx;

	if (srv->cfg.tls_cert == NULL) {
		return 0;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
				     SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, srv->cfg.tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, srv->cfg.tls_key,
					SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		char err[256];

		ERR_error_string_n(ERR_get_error(), err, sizeof(err));
		fprintf(stderr, "usersgw: TLS certificate/key: %s\n", err);
		SSL_CTX_free(ctx);
		return -1;
	}
	h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
	srv->ssl = ctx;
	return 0;
}

/* ------------------------------------------------------------------------
 * Loops
 */

static void
on_sock_close(void *data)
{
	gw_thread *t = data;

	t->conns--;
	atomic_fetch_sub_explicit(&t->srv->conns, 1, memory_order_relaxed);
}

static void
on_accept(h2o_socket_t *listener, const char *err)
{
	gw_thread *t = listener->data;
	gw_server *srv = t->srv;

	if (err != NULL) {
		return;
	}
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
		unsigned open;

		if (sock == NULL) {
			return;
		}
		open = atomic_fetch_add_explicit(&srv->conns, 1,
						 memory_order_relaxed);
		t->conns++;
		sock->on_close.cb = on_sock_close;
		sock->on_close.data = t;
		if (open >= srv->cfg.max_connections) {
			h2o_socket_close(sock); /* over the limit */
			continue;
		}
		h2o_accept(&t->accept, sock);
	}
}

/* Counts one event of the startup/stop handshake. */
static void
tell_main(gw_server *srv, unsigned *counter)
{
	pthread_mutex_lock(&srv->mtx);
	(*counter)++;
	pthread_cond_broadcast(&srv->cv);
	pthread_mutex_unlock(&srv->mtx);
}

/*
 * Everything h2o of a loop is created on that loop's thread: h2o keeps
 * per-thread buffer recyclers (h2o_socket_buffer_prototype is __thread),
 * and a socket made on one thread and read on another would share the
 * first thread's recycler.
 */
static int
thread_setup(gw_thread *t)
{
	gw_server *srv = t->srv;
	int fd;

	t->loop = h2o_evloop_create();
	h2o_context_init(&t->ctx, t->loop, &srv->conf);
	t->ctx_initialised = true;
	h2o_multithread_register_receiver(t->ctx.queue, &t->replies,
					  gw_request_on_replies);
	t->replies_registered = true;
	t->accept.ctx = &t->ctx;
	t->accept.hosts = srv->conf.hosts;
	t->accept.ssl_ctx = srv->ssl;
	if ((fd = fcntl(srv->listen_fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		return -1;
	}
	t->listener =
	    h2o_evloop_socket_create(t->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
	t->listener->data = t;
	h2o_socket_read_start(t->listener, on_accept);
	if (t->index == 0) {
		gw_hop_start(srv->hop, t);
	}
	return 0;
}

/* On the loop's thread, once nothing can post to it any more. */
static void
thread_teardown(gw_thread *t)
{
	gw_hop_stop(t->srv->hop, t);
	if (t->listener != NULL) {
		h2o_socket_read_stop(t->listener);
		h2o_socket_close(t->listener);
		t->listener = NULL;
	}
	if (t->replies_registered) {
		gw_request_drop_replies(&t->replies._messages);
		h2o_multithread_unregister_receiver(t->ctx.queue, &t->replies);
		t->replies_registered = false;
	}
	if (t->conns > 0) {
		return; /* left allocated (reachable) under its connections */
	}
	if (t->ctx_initialised) {
		/*
		 * h2o 2.2 leaves the HTTP/2 graceful-shutdown timer (armed by
		 * h2o_context_request_shutdown, re-armed each second while
		 * connections remain) linked; h2o_context_dispose asserts
		 * that no timer is. No connection is left: disarm it.
		 */
		if (h2o_timeout_is_linked(
			&t->ctx.http2._graceful_shutdown_timeout)) {
			h2o_timeout_unlink(
			    &t->ctx.http2._graceful_shutdown_timeout);
		}
		h2o_context_dispose(&t->ctx);
		t->ctx_initialised = false;
	}
	if (t->loop != NULL) {
		h2o_evloop_run(t->loop, 0); /* release closed sockets */
		h2o_evloop_destroy(t->loop);
		t->loop = NULL;
	}
	t->torn_down = true;
}

/*
 * One turn of a loop: the events of one wakeup (waiting at most
 * max_wait_ms), then the turn's RPCs as one message (gw_request_flush: none
 * once stopping), then, on loop 0, the hop's writes. h2o runs the
 * completion of a write started outside its callbacks only in the loop's
 * next run, after that run's wait: so after the hop wrote, the next turn
 * does not wait.
 */
static void
turn(gw_thread *t, int32_t max_wait_ms)
{
	h2o_evloop_run(t->loop, t->hop_wrote ? 0 : max_wait_ms);
	gw_request_flush(t);
	t->hop_wrote = gw_hop_pump(t->srv->hop);
}

static void *
loop_main(void *arg)
{
	gw_thread *t = arg;
	gw_server *srv = t->srv;
	uint64_t until;

	up_thread_name("gw-loop");

	if (thread_setup(t) != 0) {
		tell_main(srv, &srv->n_failed);
		while (!atomic_load(&srv->client_closed)) {
			turn(t, 20);
		}
		thread_teardown(t);
		return NULL;
	}
	tell_main(srv, &srv->n_ready);
	while (!atomic_load(&srv->stopping)) {
		turn(t, INT32_MAX);
	}
	/* From here on this loop starts no RPC (start_call checks). */
	tell_main(srv, &srv->n_acked);
	h2o_socket_read_stop(t->listener);
	h2o_socket_close(t->listener);
	t->listener = NULL;
	h2o_context_request_shutdown(&t->ctx);
	/* Answer what is in flight while the main thread closes the client
	 * (which waits for every callback); then what the last callbacks
	 * posted; then give connections a moment to go. */
	while (!atomic_load(&srv->client_closed)) {
		turn(t, 20);
	}
	until = (uint64_t)up_mono_ms() + DRAIN_EXTRA_MS;
	while (t->pending > 0 && (uint64_t)up_mono_ms() < until) {
		turn(t, 20);
	}
	until = (uint64_t)up_mono_ms() + DRAIN_CONNS_MS;
	while (t->conns > 0 && (uint64_t)up_mono_ms() < until) {
		turn(t, 20);
	}
	thread_teardown(t);
	return NULL;
}

/* Waits (bounded by nothing but the loops themselves) for counter. */
static void
wait_for(gw_server *srv, const unsigned *a, const unsigned *b, unsigned n)
{
	pthread_mutex_lock(&srv->mtx);
	while (*a + (b != NULL ? *b : 0) < n) {
		pthread_cond_wait(&srv->cv, &srv->mtx);
	}
	pthread_mutex_unlock(&srv->mtx);
}

static unsigned
default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > GW_MAX_THREADS ? GW_MAX_THREADS : (unsigned)n;
}

static int
setup_conf(gw_server *srv)
{
	h2o_hostconf_t *host;
	h2o_pathconf_t *path;
	h2o_handler_t *h;

	h2o_config_init(&srv->conf);
	srv->conf_initialised = true;
	srv->conf.server_name = h2o_iovec_init(H2O_STRLIT("usersgw"));
	srv->conf.max_request_entity_size = srv->cfg.max_body;
	srv->conf.http2.max_concurrent_requests_per_connection = 100;
	host = h2o_config_register_host(
	    &srv->conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
	path = h2o_config_register_path(host, "/", 0);
	h = h2o_create_handler(path, sizeof(*h));
	h->on_req = gw_request_on_req;
	return gw_log_register(srv, path);
}

int
gw_server_run(const gw_config *cfg)
{
	gw_server *srv = &server;
	uc_options uo = {0};
	sigset_t sigs;
	bool all_freed = true;
	unsigned n_started = 0;
	int sig = 0;
	int open_rc;
	int rc = 1;

	memset(srv, 0, sizeof(*srv));
	pthread_mutex_init(&srv->mtx, NULL);
	pthread_cond_init(&srv->cv, NULL);
	srv->cfg = *cfg;
	srv->listen_fd = -1;
	if (srv->cfg.threads == 0) {
		srv->cfg.threads = default_threads();
	}
	if (srv->cfg.deadline_ms == 0) {
		srv->cfg.deadline_ms = GW_DEFAULT_DEADLINE;
	}
	if (srv->cfg.max_body == 0) {
		srv->cfg.max_body = GW_DEFAULT_MAX_BODY;
	}
	if (srv->cfg.max_connections == 0) {
		srv->cfg.max_connections = GW_DEFAULT_MAX_CONNS;
	}

	/*
	 * Signals: SIGPIPE ignored; SIGTERM, SIGINT and SIGHUP taken by
	 * sigwait only (blocked before any thread starts, so every thread
	 * inherits the mask).
	 */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	if (gw_log_open(srv) != 0) {
		goto out;
	}
	if (up_meta_load() != 0 || gw_routes_init() != 0) {
		fprintf(stderr, "usersgw: cannot load the contract metadata\n");
		goto out;
	}
	gw_meta_set_public_url(srv->cfg.public_url);
	if (gw_meta_init() != 0) {
		/* the API still works; the pages answer what they can */
		fprintf(stderr, "usersgw: cannot build the metadata pages\n");
	}
	uo.urls = srv->cfg.daemons;
	uo.n_urls = srv->cfg.n_daemons;
	uo.deadline_ms = srv->cfg.deadline_ms;
	uo.tls_ca_file = srv->cfg.daemon_ca;
	uo.tls_insecure = srv->cfg.daemon_insecure;
	if (!srv->cfg.hop_nng) {
		if (gw_hop_init(srv) != 0) {
			fprintf(stderr, "usersgw: out of memory\n");
			goto out;
		}
		uo.transport = gw_hop_transport(srv->hop);
	}
	if ((open_rc = uc_client_open(&srv->uc, &uo)) != 0) {
		fprintf(stderr, "usersgw: %s\n", uc_client_open_error());
		if (open_rc == UP_FAILED_PRECONDITION) {
			fprintf(stderr, "usersgw: --daemon-ca FILE names that "
					"CA; --daemon-insecure skips the check "
					"(tests only)\n");
		}
		goto out;
	}
	gw_hop_set_client(srv->hop, srv->uc);
	if (open_listener(srv) != 0 || open_tls(srv) != 0 ||
	    setup_conf(srv) != 0) {
		goto out;
	}
	srv->threads = calloc(srv->cfg.threads, sizeof(*srv->threads));
	srv->all_metrics = calloc(srv->cfg.threads, sizeof(*srv->all_metrics));
	if (srv->threads == NULL || srv->all_metrics == NULL) {
		goto out;
	}
	for (size_t i = 0; i < srv->cfg.threads; i++) {
		gw_thread *t = &srv->threads[i];

		t->srv = srv;
		t->index = (unsigned)i;
		if (gw_metrics_init(&t->metrics) != 0) {
			goto out;
		}
		srv->all_metrics[i] = &t->metrics;
		srv->n_threads = i + 1;
	}
	gw_hop_bind(srv->hop, &srv->threads[0]);
	for (size_t i = 0; i < srv->n_threads; i++) {
		gw_thread *t = &srv->threads[i];

		if (pthread_create(&t->tid, NULL, loop_main, t) != 0) {
			fprintf(stderr, "usersgw: cannot start a thread\n");
			goto out;
		}
		t->started = true;
		n_started++;
	}
	wait_for(srv, &srv->n_ready, &srv->n_failed, n_started);
	if (srv->n_failed > 0) {
		fprintf(stderr, "usersgw: cannot set up a loop\n");
		goto out;
	}
	{
		char url[300], msg[400], threads[16];

		snprintf(url, sizeof(url), "%s://%s",
			 srv->ssl != NULL ? "https" : "http", srv->listen_name);
		snprintf(msg, sizeof(msg), "ready on %s (%zu threads)", url,
			 srv->n_threads);
		snprintf(threads, sizeof(threads), "%zu", srv->n_threads);
		up_log(UP_LOG_INFO, "ready", msg, "url", url, "threads",
		       threads, NULL);
	}
	up_notify("READY=1\nSTATUS=serving");
	for (;;) {
		if ((sig = up_notify_sigwait(&sigs)) < 0) {
			continue;
		}
		if (sig != SIGHUP) {
			break;
		}
		gw_log_reopen(srv);
	}
	up_notify("STOPPING=1");
	{
		char msg[64];

		snprintf(msg, sizeof(msg), "stopping (%s)", strsignal(sig));
		up_log(UP_LOG_INFO, "stopping", msg, NULL);
	}
	rc = 0;
out:
	/* 1. loops stop accepting and starting RPCs */
	atomic_store(&srv->stopping, true);
	for (size_t i = 0; i < srv->n_threads; i++) {
		if (srv->threads[i].started) {
			h2o_multithread_send_message(&srv->threads[i].replies,
						     NULL);
		}
	}
	wait_for(srv, &srv->n_acked, &srv->n_failed, n_started);
	/* 2. every callback runs before this returns (the loops answer) */
	uc_client_close(srv->uc);
	srv->uc = NULL;
	/* 3. the loops answer the last replies and tear themselves down */
	atomic_store(&srv->client_closed, true);
	for (size_t i = 0; i < srv->n_threads; i++) {
		if (srv->threads[i].started) {
			h2o_multithread_send_message(&srv->threads[i].replies,
						     NULL);
		}
	}
	for (size_t i = 0; i < srv->n_threads; i++) {
		if (srv->threads[i].started) {
			pthread_join(srv->threads[i].tid, NULL);
			srv->threads[i].started = false;
		}
		all_freed &= srv->threads[i].torn_down;
	}
	if (all_freed) {
		for (size_t i = 0; i < srv->n_threads; i++) {
			gw_metrics_fini(&srv->threads[i].metrics);
		}
		free(srv->threads);
		free(srv->all_metrics);
		srv->threads = NULL;
		srv->all_metrics = NULL;
		srv->n_threads = 0;
		if (srv->conf_initialised) {
			h2o_config_dispose(&srv->conf);
		}
		if (srv->ssl != NULL) {
			SSL_CTX_free(srv->ssl);
			srv->ssl = NULL;
		}
	}
	gw_hop_fini(srv); /* (no loop runs: every thread joined) */
	if (srv->listen_fd >= 0) {
		close(srv->listen_fd);
		srv->listen_fd = -1;
	}
	gw_routes_fini();
	if (rc == 0) {
		up_log(UP_LOG_INFO, "stopped", "stopped", NULL);
	}
	gw_log_close(srv);
	return rc;
}
