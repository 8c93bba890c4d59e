/*
 * usersbench --http's response reader (client/bench_http1.c): framing by
 * Content-Length and by chunks, where a response ends, Connection: close,
 * and what it refuses.
 */
#include <stdlib.h>
#include <string.h>

#include "bench_http1.h"
#include "check.h"

/* Every strict prefix of a complete response is incomplete. */
static int
prefixes_more(const char *s, size_t size)
{
	bh1_response r;
	size_t n;

	for (n = 0; n < size; n++) {
		if (bh1_parse(s, n, &r) != BH1_MORE) {
			fprintf(stderr, "prefix %zu of %zu: not MORE\n", n,
				size);
			return 0;
		}
	}
	return 1;
}

static int
parse(const char *s, bh1_response *r)
{
	return bh1_parse(s, strlen(s), r);
}

static void
test_content_length(void)
{
	const char *s = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			"content-LENGTH:  5 \r\n\r\nhello";
	char body[16];
	bh1_response r;

	CHECK_INT(parse(s, &r), BH1_DONE);
	CHECK_INT(r.status, 200);
	CHECK_INT(r.size, strlen(s));
	CHECK_INT(r.body_len, 5);
	CHECK(!r.close);
	CHECK(!r.chunked);
	CHECK_INT(bh1_body(s, &r, body, sizeof(body)), 5);
	CHECK_STR(body, "hello");
	/* Cut short: the body is whatever fits. */
	CHECK_INT(bh1_body(s, &r, body, 3), 5);
	CHECK_STR(body, "he");
	CHECK(prefixes_more(s, strlen(s)));

	/* A second response behind it is not part of this one. */
	{
		char two[256];

		snprintf(two, sizeof(two), "%s%s", s, s);
		CHECK_INT(parse(two, &r), BH1_DONE);
		CHECK_INT(r.size, strlen(s));
	}
	/* No reason phrase; a 404 with a body. */
	CHECK_INT(parse("HTTP/1.1 404\r\nContent-Length: 2\r\n\r\n{}", &r),
		  BH1_DONE);
	CHECK_INT(r.status, 404);
}

static void
test_chunked(void)
{
	const char *s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
			"5\r\nhello\r\n6;ext=1\r\n world\r\nA\r\n0123456789\r\n"
			"0\r\nX-Trailer: 1\r\n\r\n";
	char body[64];
	bh1_response r;

	CHECK_INT(parse(s, &r), BH1_DONE);
	CHECK(r.chunked);
	CHECK_INT(r.size, strlen(s));
	CHECK_INT(r.body_len, 21);
	CHECK_INT(bh1_body(s, &r, body, sizeof(body)), 21);
	CHECK_STR(body, "hello world0123456789");
	CHECK(prefixes_more(s, strlen(s)));
	/* An empty chunked body. */
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			"0\r\n\r\n",
			&r),
		  BH1_DONE);
	CHECK_INT(r.body_len, 0);
}

static void
test_close(void)
{
	bh1_response r;

	CHECK_INT(parse("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\n"
			"Content-Length: 0\r\n\r\n",
			&r),
		  BH1_DONE);
	CHECK(r.close);
	CHECK_INT(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", &r),
		  BH1_DONE);
	CHECK(r.close);
	CHECK_INT(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
			"Content-Length: 0\r\n\r\n",
			&r),
		  BH1_DONE);
	CHECK(!r.close);
	/* "closed" is not "close". */
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nConnection: closed\r\n"
			"Content-Length: 0\r\n\r\n",
			&r),
		  BH1_DONE);
	CHECK(!r.close);
	/* 204 and 304 have no body. */
	CHECK_INT(parse("HTTP/1.1 204 No Content\r\n\r\n", &r), BH1_DONE);
	CHECK_INT(r.size, strlen("HTTP/1.1 204 No Content\r\n\r\n"));
}

static void
test_refused(void)
{
	static const char *const bad[] = {
	    "HTTP/1.1 200 OK\r\n\r\n", /* no framing */
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n0\r\n\r\n", /* both */
	    "HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n",
	    "HTTP/1.1 100 Continue\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n folded\r\n\r\nx",
	    "HTTP/1.1 200 OK\r\nContent-Length: 1a\r\n\r\nx",
	    "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n"
	    "\r\nxx",
	    "HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "fffffff\r\n", /* a chunk too large */
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\nabX\r\n0\r\n\r\n", /* no CRLF after the data */
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "zz\r\n", /* not hex */
	    "HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\nabc",
	    "HTTP/1.1 200 OK\r\nNo Colon\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nX: a\x01b\r\nContent-Length: 0\r\n\r\n",
	    "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", /* bare LF */
	};
	bh1_response r;
	size_t i;
	int ok = 1;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &r) != BH1_BAD) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			ok = 0;
		}
	}
	CHECK(ok);
}

/* A head without its end is incomplete up to BH1_MAX_HEAD, then bad. */
static void
test_head_limit(void)
{
	size_t n = BH1_MAX_HEAD + 10;
	char *s = malloc(n);
	bh1_response r;

	CHECK(s != NULL);
	if (s == NULL) {
		return;
	}
	memcpy(s, "HTTP/1.1 200 OK\r\nX: ", 20);
	memset(s + 20, 'a', n - 20);
	CHECK_INT(bh1_parse(s, BH1_MAX_HEAD - 1, &r), BH1_MORE);
	CHECK_INT(bh1_parse(s, BH1_MAX_HEAD, &r), BH1_BAD);
	CHECK_INT(bh1_parse(s, n, &r), BH1_BAD);
	free(s);
}

int
main(void)
{
	test_content_length();
	test_chunked();
	test_close();
	test_refused();
	test_head_limit();
	return check_done();
}
