/*
 * skel_echo.c - the skeleton's echo server (see skel_echo.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "skel_echo.h"

typedef struct echo_ctx {
	nng_ctx ctx;
	nng_aio *aio;
	bool open;
	bool sending; /* owned by the callback once started */
} echo_ctx;

struct skel_echo {
	nng_socket sock;
	bool sock_open;
	echo_ctx *ctxs;
	unsigned n_ctxs;
};

/* nng thread: recv done -> send it back; send done -> recv again. */
static void
echo_cb(void *arg)
{
	echo_ctx *c = arg;
	int rv = nng_aio_result(c->aio);

	if (c->sending) {
		c->sending = false;
		if (rv != 0) {
			/* A failed send leaves the message with us. */
			nng_msg_free(nng_aio_get_msg(c->aio));
			nng_aio_set_msg(c->aio, NULL);
		}
	} else if (rv == 0) {
		/* The received message is in the aio: send it back as is. */
		c->sending = true;
		nng_ctx_send(c->ctx, c->aio);
		return;
	}
	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
		return;
	}
	nng_ctx_recv(c->ctx, c->aio);
}

void
skel_echo_free(skel_echo *e)
{
	unsigned i;

	if (e == NULL) {
		return;
	}
	for (i = 0; e->ctxs != NULL && i < e->n_ctxs; i++) {
		if (e->ctxs[i].aio != NULL) {
			nng_aio_stop(e->ctxs[i].aio);
		}
	}
	for (i = 0; e->ctxs != NULL && i < e->n_ctxs; i++) {
		if (e->ctxs[i].open) {
			nng_ctx_close(e->ctxs[i].ctx);
		}
		if (e->ctxs[i].aio != NULL) {
			nng_aio_free(e->ctxs[i].aio);
		}
	}
	free(e->ctxs);
	if (e->sock_open) {
		nng_close(e->sock);
	}
	free(e);
}

int
skel_echo_start(skel_echo **out, const char *url, unsigned contexts,
		size_t max_msg)
{
	skel_echo *e;
	unsigned i;
	int rv;

	*out = NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->ctxs = calloc(contexts, sizeof(*e->ctxs))) == NULL) {
		fprintf(stderr, "skeleton: echo: out of memory\n");
		goto fail;
	}
	e->n_ctxs = contexts;
	if ((rv = nng_rep0_open(&e->sock)) != 0) {
		fprintf(stderr, "skeleton: echo: rep0_open: %s\n",
			nng_strerror(rv));
		goto fail;
	}
	e->sock_open = true;
	if ((rv = nng_socket_set_size(e->sock, NNG_OPT_RECVMAXSZ, max_msg)) !=
		0 ||
	    (rv = nng_listen(e->sock, url, NULL, 0)) != 0) {
		fprintf(stderr, "skeleton: echo: listen %s: %s\n", url,
			nng_strerror(rv));
		goto fail;
	}
	for (i = 0; i < e->n_ctxs; i++) {
		echo_ctx *c = &e->ctxs[i];

		if ((rv = nng_aio_alloc(&c->aio, echo_cb, c)) != 0 ||
		    (rv = nng_ctx_open(&c->ctx, e->sock)) != 0) {
			fprintf(stderr, "skeleton: echo: context: %s\n",
				nng_strerror(rv));
			goto fail;
		}
		c->open = true;
	}
	for (i = 0; i < e->n_ctxs; i++) {
		nng_ctx_recv(e->ctxs[i].ctx, e->ctxs[i].aio);
	}
	*out = e;
	return 0;
fail:
	skel_echo_free(e);
	return -1;
}
