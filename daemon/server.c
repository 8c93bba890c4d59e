/*
 * server.c - nng REP socket, contexts and aios; TLS for tls+tcp:// URLs;
 * the listener guard.
 *
 * The listener guard. nng 1.5.2 (Debian 12) stops accepting on a listener
 * for good when a peer disconnects during the connection handshake (nng
 * issue #1518, fixed in 1.6): on ipc:// a bare connect() and close() is
 * enough, and every later client then waits for ever. So a thread of the
 * server's sends a probe through each ipc:// and tcp:// listener every
 * GUARD_EVERY_MS, on a new connection each time (an empty message: the
 * daemon answers it at once, without the store); when GUARD_MISSES probes
 * in a row get no answer within
 * GUARD_WAIT_MS, the listener is closed and made anew on the same URL.
 * Clients reconnect by themselves and resend what was in flight (safe:
 * request ids). tls+tcp:// listeners are not probed (the probe would need
 * the server's trust chain).
 */
#include <arpa/inet.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server.h"
#include "validate.h"

enum ctx_state { CTX_RECV, CTX_BUSY, CTX_SEND, CTX_IDLE };

struct srv_ctx {
	ud_server *srv;
	nng_ctx ctx;
	nng_aio *aio;
	atomic_int state; /* enum ctx_state */
};

#define GUARD_EVERY_MS 2000
#define GUARD_WAIT_MS  3000
#define GUARD_MISSES   1

/* The guard's probe of one listener. */
struct probe {
	char url[256]; /* where the probe dials; "" when not probed */
	nng_socket sock;
	nng_dialer dialer; /* of the probe in progress */
	bool open;
	unsigned misses;
};

struct ud_server {
	ud_service *svc;
	const ud_config *cfg;
	nng_socket sock;
	bool sock_open;
	nng_listener *listeners;
	size_t n_listeners;
	nng_tls_config *tls;
	struct probe *probes; /* one per listener */
	pthread_t guard;
	bool guard_started;
	pthread_mutex_t guard_mu;
	pthread_cond_t guard_cv;
	bool guard_stop;
	atomic_uint restarts; /* listeners made anew by the guard */
	struct srv_ctx *ctxs;
	unsigned n_ctxs;
	atomic_bool stopping;
	atomic_int active; /* contexts not yet idle */
};

static void
ctx_recv(struct srv_ctx *sc)
{
	if (atomic_load(&sc->srv->stopping)) {
		sc->state = CTX_IDLE;
		atomic_fetch_sub(&sc->srv->active, 1);
		return;
	}
	sc->state = CTX_RECV;
	nng_ctx_recv(sc->ctx, sc->aio);
}

static void
ctx_cb(void *arg)
{
	struct srv_ctx *sc = arg;
	nng_msg *msg;
	uint8_t *raw;
	size_t len;

	switch (atomic_load(&sc->state)) {
	case CTX_RECV:
		if (nng_aio_result(sc->aio) != 0) {
			if (nng_aio_result(sc->aio) == NNG_ECLOSED ||
			    atomic_load(&sc->srv->stopping)) {
				sc->state = CTX_IDLE;
				atomic_fetch_sub(&sc->srv->active, 1);
				return;
			}
			ctx_recv(sc);
			return;
		}
		msg = nng_aio_get_msg(sc->aio);
		len = nng_msg_len(msg);
		raw = malloc(len ? len : 1);
		if (raw != NULL) {
			memcpy(raw, nng_msg_body(msg), len);
		}
		/* it may carry a password: the call wipes its copy too */
		ud_wipe(nng_msg_body(msg), len);
		nng_msg_free(msg);
		if (raw == NULL) {
			ctx_recv(
			    sc); /* out of memory: drop; the caller retries */
			return;
		}
		sc->state = CTX_BUSY;
		ud_service_submit(sc->srv->svc, sc, raw, len);
		return;
	case CTX_SEND:
		if (nng_aio_result(sc->aio) != 0) {
			nng_msg_free(nng_aio_get_msg(sc->aio));
		}
		ctx_recv(sc);
		return;
	default:
		return;
	}
}

/* ud_service's send hook: runs on whichever thread finished the call. */
static void
ctx_send(void *arg, const uint8_t *buf, size_t len)
{
	struct srv_ctx *sc = arg;
	nng_msg *msg;

	if (nng_msg_alloc(&msg, len) != 0) {
		ctx_recv(sc); /* no reply: the caller's deadline answers */
		return;
	}
	memcpy(nng_msg_body(msg), buf, len);
	sc->state = CTX_SEND;
	nng_aio_set_msg(sc->aio, msg);
	nng_ctx_send(sc->ctx, sc->aio);
}

/* A PEM file into a NUL-terminated buffer (at most 1 MiB). */
static char *
read_pem(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;

	if (f == NULL) {
		return NULL;
	}
	buf = malloc((1 << 20) + 1);
	if (buf != NULL) {
		n = fread(buf, 1, 1 << 20, f);
		if (ferror(f) || !feof(f)) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

/*
 * nng's cert_key_file wants certificate and key in one file: read the two
 * files and hand both over.
 */
static int
own_cert(nng_tls_config *tls, const char *cert_path, const char *key_path)
{
	char *cert = read_pem(cert_path);
	char *key = read_pem(key_path);
	int rv = NNG_ENOENT;

	if (cert != NULL && key != NULL) {
		rv = nng_tls_config_own_cert(tls, cert, key, NULL);
	}
	if (key != NULL) {
		memset(key, 0, strlen(key));
	}
	free(cert);
	free(key);
	return rv;
}

static int
tls_setup(ud_server *s, const ud_config *cfg)
{
	int rv;

	if ((rv = nng_tls_config_alloc(&s->tls, NNG_TLS_MODE_SERVER)) != 0) {
		return rv;
	}
	if (cfg->tls_cert == NULL || cfg->tls_key == NULL) {
		fprintf(stderr, "usersd: tls+tcp:// needs --tls-cert and "
				"--tls-key\n");
		return NNG_EINVAL;
	}
	if ((rv = own_cert(s->tls, cfg->tls_cert, cfg->tls_key)) != 0) {
		fprintf(stderr, "usersd: cannot load %s / %s: %s\n",
			cfg->tls_cert, cfg->tls_key, nng_strerror(rv));
		return rv;
	}
	if (cfg->tls_ca != NULL) {
		if ((rv = nng_tls_config_ca_file(s->tls, cfg->tls_ca)) != 0) {
			fprintf(stderr, "usersd: cannot load %s: %s\n",
				cfg->tls_ca, nng_strerror(rv));
			return rv;
		}
		/* Client certificates are checked when presented. */
		rv = nng_tls_config_auth_mode(s->tls,
					      NNG_TLS_AUTH_MODE_OPTIONAL);
	} else {
		rv = nng_tls_config_auth_mode(s->tls, NNG_TLS_AUTH_MODE_NONE);
	}
	return rv;
}

/* Creates and starts listener i on its URL. */
static int
listen_one(ud_server *s, size_t i)
{
	const ud_config *cfg = s->cfg;
	const char *url = cfg->listen[i];
	nng_listener *l = &s->listeners[i];
	int rv;

	if ((rv = nng_listener_create(l, s->sock, url)) != 0) {
		fprintf(stderr, "usersd: cannot listen on %s: %s\n", url,
			nng_strerror(rv));
		return rv;
	}
	if (strncmp(url, "tls+", 4) == 0) {
		if (s->tls == NULL && (rv = tls_setup(s, cfg)) != 0) {
			nng_listener_close(*l);
			return rv;
		}
		rv = nng_listener_set_ptr(*l, NNG_OPT_TLS_CONFIG, s->tls);
		if (rv != 0) {
			nng_listener_close(*l);
			return rv;
		}
	}
	nng_listener_set_size(*l, NNG_OPT_RECVMAXSZ, cfg->max_message);
	if ((rv = nng_listener_start(*l, 0)) != 0) {
		fprintf(stderr, "usersd: cannot listen on %s: %s%s\n", url,
			nng_strerror(rv),
			rv == NNG_EADDRINUSE
			    ? " (is another usersd running there?)"
			    : "");
		nng_listener_close(*l);
		return rv;
	}
	return 0;
}

static int
listen_all(ud_server *s, const ud_config *cfg)
{
	int rv;

	s->listeners = calloc(cfg->n_listen, sizeof(*s->listeners));
	s->probes = calloc(cfg->n_listen, sizeof(*s->probes));
	if (s->listeners == NULL || s->probes == NULL) {
		return NNG_ENOMEM;
	}
	for (size_t i = 0; i < cfg->n_listen; i++) {
		if ((rv = listen_one(s, i)) != 0) {
			return rv;
		}
		s->n_listeners++;
		fprintf(stderr, "usersd: listening on %s\n", cfg->listen[i]);
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * The listener guard (see the top of the file)
 */

/*
 * Where a probe of listener i dials: ipc:// as is; tcp:// with a wildcard
 * host on loopback, port 0 resolved; "" for what is not probed.
 */
static void
probe_url(ud_server *s, size_t i, char *out, size_t cap)
{
	const char *url = s->cfg->listen[i];
	const char *port;
	nng_sockaddr sa;

	out[0] = '\0';
	if (strncmp(url, "ipc://", 6) == 0) {
		snprintf(out, cap, "%s", url);
		return;
	}
	if (strncmp(url, "tcp://", 6) != 0 ||
	    (port = strrchr(url, ':')) == NULL || port < url + 6) {
		return;
	}
	if (nng_listener_get_addr(s->listeners[i], NNG_OPT_LOCADDR, &sa) == 0) {
		if (sa.s_family == NNG_AF_INET) {
			snprintf(out, cap, "tcp://127.0.0.1:%u",
				 (unsigned)ntohs(sa.s_in.sa_port));
			return;
		}
		if (sa.s_family == NNG_AF_INET6) {
			snprintf(out, cap, "tcp://[::1]:%u",
				 (unsigned)ntohs(sa.s_in6.sa_port));
			return;
		}
	}
}

static int
probe_open(struct probe *p)
{
	int rv;

	if ((rv = nng_req0_open(&p->sock)) != 0) {
		return rv;
	}
	p->open = true;
	/* one send per probe: no resend, a short wait */
	nng_socket_set_ms(p->sock, NNG_OPT_REQ_RESENDTIME, 3600 * 1000);
	nng_socket_set_ms(p->sock, NNG_OPT_RECVTIMEO, GUARD_WAIT_MS);
	nng_socket_set_ms(p->sock, NNG_OPT_SENDTIMEO, GUARD_WAIT_MS);
	nng_socket_set_ms(p->sock, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(p->sock, NNG_OPT_RECONNMAXT, 500);
	return 0;
}

/*
 * One round trip through the listener on a new connection (a connection
 * made before the listener got stuck keeps working: only new ones hang).
 * true when answered. The connection is closed after the answer, when its
 * handshake is surely over; a stuck one is closed too (the listener is
 * made anew anyway).
 */
static bool
probe_once(struct probe *p)
{
	char *buf = NULL;
	size_t len = 0;
	uint8_t empty = 0;
	bool ok = false;

	if (nng_dial(p->sock, p->url, &p->dialer, NNG_FLAG_NONBLOCK) != 0) {
		return false;
	}
	if (nng_send(p->sock, &empty, 0, 0) == 0 &&
	    nng_recv(p->sock, &buf, &len, NNG_FLAG_ALLOC) == 0) {
		nng_free(buf, len);
		ok = true;
	}
	nng_dialer_close(p->dialer);
	return ok;
}

static void
listener_renew(ud_server *s, size_t i)
{
	const char *url = s->cfg->listen[i];
	int rv;

	fprintf(stderr,
		"usersd: %s stopped answering (nng 1.5 listener bug); "
		"listening anew\n",
		url);
	nng_listener_close(s->listeners[i]);
	if ((rv = listen_one(s, i)) != 0) {
		fprintf(stderr, "usersd: cannot listen on %s again: %s\n", url,
			nng_strerror(rv));
		return;
	}
	atomic_fetch_add(&s->restarts, 1);
}

static bool
guard_wait(ud_server *s, int ms)
{
	struct timespec until;
	bool stop;

	ud_time_after_ms(CLOCK_REALTIME, (unsigned)ms, &until);
	pthread_mutex_lock(&s->guard_mu);
	while (!s->guard_stop && pthread_cond_timedwait(
				     &s->guard_cv, &s->guard_mu, &until) == 0) {
	}
	stop = s->guard_stop;
	pthread_mutex_unlock(&s->guard_mu);
	return stop;
}

static void *
guard_main(void *arg)
{
	ud_server *s = arg;

	while (!guard_wait(s, GUARD_EVERY_MS)) {
		for (size_t i = 0; i < s->n_listeners; i++) {
			struct probe *p = &s->probes[i];
			if (p->url[0] == '\0' || atomic_load(&s->stopping)) {
				continue;
			}
			if (!p->open && probe_open(p) != 0) {
				continue;
			}
			if (probe_once(p)) {
				p->misses = 0;
			} else if (++p->misses >= GUARD_MISSES &&
				   !atomic_load(&s->stopping)) {
				listener_renew(s, i);
				p->misses = 0;
			}
		}
	}
	return NULL;
}

static void
guard_start(ud_server *s)
{
	for (size_t i = 0; i < s->n_listeners; i++) {
		probe_url(s, i, s->probes[i].url, sizeof(s->probes[i].url));
	}
	pthread_mutex_init(&s->guard_mu, NULL);
	pthread_cond_init(&s->guard_cv, NULL);
	s->guard_started = pthread_create(&s->guard, NULL, guard_main, s) == 0;
	if (!s->guard_started) {
		pthread_cond_destroy(&s->guard_cv);
		pthread_mutex_destroy(&s->guard_mu);
	}
}

/*
 * Stops the guard. Its probe sockets are left to the process's exit:
 * nng_close can hang (docs/decisions.md, section 13).
 */
static void
guard_stop(ud_server *s)
{
	if (!s->guard_started) {
		return;
	}
	pthread_mutex_lock(&s->guard_mu);
	s->guard_stop = true;
	pthread_cond_signal(&s->guard_cv);
	pthread_mutex_unlock(&s->guard_mu);
	pthread_join(s->guard, NULL);
	pthread_cond_destroy(&s->guard_cv);
	pthread_mutex_destroy(&s->guard_mu);
	s->guard_started = false;
}

unsigned
ud_server_listener_restarts(ud_server *s)
{
	return atomic_load(&s->restarts);
}

int
ud_server_start(ud_server **out, ud_service *svc, const ud_config *cfg)
{
	ud_server *s = calloc(1, sizeof(*s));
	int rv;

	if (s == NULL) {
		return UP_INTERNAL;
	}
	s->svc = svc;
	s->cfg = cfg;
	svc->send = ctx_send;
	if ((rv = nng_rep0_open(&s->sock)) != 0) {
		goto fail;
	}
	s->sock_open = true;
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, cfg->max_message);
	s->ctxs = calloc(cfg->contexts, sizeof(*s->ctxs));
	if (s->ctxs == NULL) {
		rv = NNG_ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < cfg->contexts; i++) {
		struct srv_ctx *sc = &s->ctxs[i];
		sc->srv = s;
		if ((rv = nng_aio_alloc(&sc->aio, ctx_cb, sc)) != 0 ||
		    (rv = nng_ctx_open(&sc->ctx, s->sock)) != 0) {
			nng_aio_free(sc->aio);
			sc->aio = NULL;
			goto fail;
		}
		s->n_ctxs++;
	}
	if ((rv = listen_all(s, cfg)) != 0) {
		goto fail;
	}
	atomic_store(&s->active, (int)s->n_ctxs);
	for (unsigned i = 0; i < s->n_ctxs; i++) {
		ctx_recv(&s->ctxs[i]);
	}
	guard_start(s);
	*out = s;
	return 0;
fail:
	if (rv != 0 && s->n_listeners == 0) {
		fprintf(stderr, "usersd: nng: %s\n", nng_strerror(rv));
	}
	ud_server_free(s);
	return rv == NNG_EADDRINUSE ? UP_FAILED_PRECONDITION : UP_UNAVAILABLE;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
ud_server_drain(ud_server *s, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	struct timespec tick = {0, 2 * 1000 * 1000};

	atomic_store(&s->stopping, true);
	guard_stop(s); /* before the listeners it may renew go */
	for (size_t i = 0; i < s->n_listeners; i++) {
		nng_listener_close(s->listeners[i]);
	}
	/* Contexts waiting for a request stop; busy ones finish first. */
	for (unsigned i = 0; i < s->n_ctxs; i++) {
		nng_aio_cancel(s->ctxs[i].aio);
	}
	while (atomic_load(&s->svc->in_flight) > 0 && mono_ms() < deadline) {
		nanosleep(&tick, NULL);
	}
	/* Replies handed to nng: let them leave. */
	while (atomic_load(&s->active) > 0 && mono_ms() < deadline) {
		for (unsigned i = 0; i < s->n_ctxs; i++) {
			if (s->ctxs[i].state == CTX_RECV) {
				nng_aio_cancel(s->ctxs[i].aio);
			}
		}
		nanosleep(&tick, NULL);
	}
	return atomic_load(&s->svc->in_flight) == 0 ? 0 : UP_DEADLINE_EXCEEDED;
}

void
ud_server_free(ud_server *s)
{
	if (s == NULL) {
		return;
	}
	atomic_store(&s->stopping, true);
	guard_stop(s);
	for (unsigned i = 0; i < s->n_ctxs; i++) {
		nng_aio_stop(s->ctxs[i].aio);
	}
	for (unsigned i = 0; i < s->n_ctxs; i++) {
		nng_ctx_close(s->ctxs[i].ctx);
		nng_aio_free(s->ctxs[i].aio);
	}
	if (s->sock_open) {
		nng_close(s->sock);
	}
	if (s->tls != NULL) {
		nng_tls_config_free(s->tls);
	}
	free(s->listeners);
	free(s->probes);
	free(s->ctxs);
	free(s);
}
