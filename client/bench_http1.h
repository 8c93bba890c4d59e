/*
 * bench_http1.h - the HTTP/1.1 response reader of usersbench --http: how
 * long the response at the start of a buffer is, its status, whether the
 * server closes the connection after it, and its body.
 *
 * Strict and bounded: a status line "HTTP/1.x NNN reason", at most
 * BH1_MAX_HEAD bytes of head in at most BH1_MAX_FIELDS header lines, and a
 * body framed by Content-Length or chunked transfer coding (at most
 * BH1_MAX_BODY bytes either way); anything else (no framing, both
 * framings, a folded line, a 1xx answer) is refused. The bytes come from
 * the server under test: tests/fuzz/fuzz_http1.c holds the reader to its
 * bounds. No allocation, no state: the caller keeps the buffer and calls
 * again with more bytes until the answer is BH1_DONE or BH1_BAD.
 */
#ifndef BENCH_HTTP1_H
#define BENCH_HTTP1_H

#include <stdbool.h>
#include <stddef.h>

#define BH1_MAX_HEAD   16384
#define BH1_MAX_FIELDS 100
#define BH1_MAX_BODY   (1u << 20)

enum { BH1_BAD = -1, BH1_DONE = 0, BH1_MORE = 1 };

typedef struct bh1_response {
	int status;      /* 200..599 */
	size_t size;     /* the whole response, head and body */
	size_t body_off; /* where the body starts */
	size_t body_len; /* the body's bytes: the content (no chunk framing) */
	bool chunked;
	bool close; /* the server closes the connection after it */
} bh1_response;

/*
 * Reads the response at buf[0..len): BH1_DONE with *r filled when all of
 * it is there, BH1_MORE when it is incomplete so far, BH1_BAD when it is
 * not a response this reader takes.
 */
int bh1_parse(const char *buf, size_t len, bh1_response *r);

/*
 * Copies the body of a response bh1_parse gave BH1_DONE for into out
 * (chunks joined), at most cap - 1 bytes and a NUL; returns the body's
 * length (which may exceed what fitted).
 */
size_t bh1_body(const char *buf, const bh1_response *r, char *out, size_t cap);

#endif
