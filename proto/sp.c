/*
 * sp.c - nng's SP framing on a stream, read and written by our own loops
 * (users_proto.h, "SP framing", says what goes over the wire).
 */
#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "users_proto.h"

void
up_sp_hello(uint8_t out[UP_SP_HELLO_LEN], unsigned proto)
{
	out[0] = 0;
	out[1] = 'S';
	out[2] = 'P';
	out[3] = 0;
	out[4] = (uint8_t)(proto >> 8);
	out[5] = (uint8_t)(proto & 0xffu);
	out[6] = 0;
	out[7] = 0;
}

int
up_sp_hello_check(const uint8_t in[UP_SP_HELLO_LEN], unsigned proto)
{
	if (in[0] != 0 || in[1] != 'S' || in[2] != 'P' || in[3] != 0 ||
	    ((unsigned)in[4] << 8 | in[5]) != proto || in[6] != 0 ||
	    in[7] != 0) {
		return -1;
	}
	return 0;
}

size_t
up_sp_head(uint8_t out[UP_SP_HEAD_MAX], bool ipc, size_t payload_len)
{
	uint64_t len = (uint64_t)payload_len;
	size_t k = 0;

	if (ipc) {
		out[k++] = 1;
	}
	for (int shift = 56; shift >= 0; shift -= 8) {
		out[k++] = (uint8_t)(len >> shift);
	}
	return k;
}

int
up_sp_next(const uint8_t *p, size_t n, bool ipc, size_t max_payload,
	   size_t *frame_len, size_t *body_off)
{
	size_t head = ipc ? 9 : 8, words;
	uint64_t len = 0;

	if (n == 0) {
		return 0;
	}
	if (ipc && p[0] != 1) {
		return -1;
	}
	if (n < head) {
		return 0;
	}
	for (size_t i = head - 8; i < head; i++) {
		len = len << 8 | p[i];
	}
	/* bounded before any sum */
	if (len > max_payload || len > SIZE_MAX - head) {
		return -1;
	}
	/* The backtrace: words up to the one with its top bit set, found
	 * as soon as its bytes are here. */
	words = (size_t)len / 4;
	if (words > UP_SP_HOPS_MAX) {
		words = UP_SP_HOPS_MAX;
	}
	for (size_t w = 0;; w++) {
		if (w == words) {
			return -1; /* no request id, or too many hops */
		}
		if (n < head + 4 * (w + 1)) {
			return 0;
		}
		if ((p[head + 4 * w] & 0x80u) != 0) {
			*body_off = head + 4 * (w + 1);
			break;
		}
	}
	if (n - head < len) {
		return 0;
	}
	*frame_len = head + (size_t)len;
	return 1;
}

/* ipc://PATH into a Unix address. */
static int
addr_ipc(const char *path, struct sockaddr_storage *out, socklen_t *len)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)out;
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(sun->sun_path)) {
		return -1;
	}
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	return 0;
}

/* HOST:PORT or [V6]:PORT, HOST an address: never a lookup by name. */
static int
addr_tcp(const char *hostport, struct sockaddr_storage *out, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(hostport, ':'), *h = hostport;
	struct addrinfo hints, *res = NULL;
	size_t hl;
	int rv = -1;

	if (colon == NULL || colon[1] == '\0') {
		return -1;
	}
	hl = (size_t)(colon - hostport);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host)) {
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
	if (getaddrinfo(host, colon + 1, &hints, &res) == 0 && res != NULL &&
	    res->ai_addrlen <= sizeof(*out)) {
		memcpy(out, res->ai_addr, res->ai_addrlen);
		*len = res->ai_addrlen;
		rv = 0;
	}
	if (res != NULL) {
		freeaddrinfo(res);
	}
	return rv;
}

int
up_sp_addr(const char *url, struct sockaddr_storage *out, socklen_t *len,
	   bool *ipc)
{
	if (strncmp(url, "ipc://", 6) == 0) {
		*ipc = true;
		return addr_ipc(url + 6, out, len);
	}
	if (strncmp(url, "tcp://", 6) == 0) {
		*ipc = false;
		return addr_tcp(url + 6, out, len);
	}
	return -1;
}

/* A buffer's first size, and what one left idle shrinks back to. */
#define IN_FIRST (16 * 1024)
#define IN_KEEP  (64 * 1024)

/* The buffer moved to cap bytes (what it holds kept, the old wiped). */
static int
in_move(up_sp_in *b, size_t cap)
{
	uint8_t *p = NULL;

	if (cap > 0 && (p = malloc(cap)) == NULL) {
		return -1;
	}
	if (b->len > 0) {
		memcpy(p, b->p, b->len);
	}
	up_wipe_free(b->p, b->cap);
	b->p = p;
	b->cap = cap;
	return 0;
}

int
up_sp_in_room(up_sp_in *b, size_t most)
{
	size_t cap;

	if (b->len < b->cap) {
		return 0;
	}
	if (b->cap >= most) {
		return -1;
	}
	cap = b->cap == 0 ? IN_FIRST : 2 * b->cap;
	return in_move(b, cap > most ? most : cap);
}

void
up_sp_in_consume(up_sp_in *b, size_t n)
{
	if (n > 0) {
		memmove(b->p, b->p + n, b->len - n);
		up_wipe(b->p + b->len - n, n); /* the copies left behind */
		b->len -= n;
	}
	if (b->cap > IN_KEEP && b->len <= IN_KEEP / 2) {
		/* after a large message: not kept for ever */
		(void)in_move(b, b->len > 0 ? IN_KEEP : 0);
	}
}

void
up_sp_in_fini(up_sp_in *b)
{
	up_wipe_free(b->p, b->cap);
	b->p = NULL;
	b->len = b->cap = 0;
}
