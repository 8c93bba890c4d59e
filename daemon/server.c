/*
 * server.c - nng REP socket, contexts and aios; TLS for tls+tcp:// URLs.
 */
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server.h"

enum ctx_state { CTX_RECV, CTX_BUSY, CTX_SEND, CTX_IDLE };

struct srv_ctx {
	ud_server *srv;
	nng_ctx ctx;
	nng_aio *aio;
	atomic_int state; /* enum ctx_state */
};

struct ud_server {
	ud_service *svc;
	nng_socket sock;
	bool sock_open;
	nng_listener *listeners;
	size_t n_listeners;
	nng_tls_config *tls;
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

static int
listen_all(ud_server *s, const ud_config *cfg)
{
	int rv;

	s->listeners = calloc(cfg->n_listen, sizeof(*s->listeners));
	if (s->listeners == NULL) {
		return NNG_ENOMEM;
	}
	for (size_t i = 0; i < cfg->n_listen; i++) {
		const char *url = cfg->listen[i];
		nng_listener *l = &s->listeners[i];
		if ((rv = nng_listener_create(l, s->sock, url)) != 0) {
			fprintf(stderr, "usersd: cannot listen on %s: %s\n",
				url, nng_strerror(rv));
			return rv;
		}
		s->n_listeners++;
		if (strncmp(url, "tls+", 4) == 0) {
			if (s->tls == NULL && (rv = tls_setup(s, cfg)) != 0) {
				return rv;
			}
			rv = nng_listener_set_ptr(*l, NNG_OPT_TLS_CONFIG,
						  s->tls);
			if (rv != 0) {
				return rv;
			}
		}
		nng_listener_set_size(*l, NNG_OPT_RECVMAXSZ, cfg->max_message);
		if ((rv = nng_listener_start(*l, 0)) != 0) {
			fprintf(stderr, "usersd: cannot listen on %s: %s%s\n",
				url, nng_strerror(rv),
				rv == NNG_EADDRINUSE
				    ? " (is another usersd running there?)"
				    : "");
			return rv;
		}
		fprintf(stderr, "usersd: listening on %s\n", url);
	}
	return 0;
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
	free(s->ctxs);
	free(s);
}
