/*
 * test_sp.c - nng's SP framing on a stream (proto/sp.c), byte for byte
 * against what nng 1.5's ipc and tcp transports and its REQ/REP protocol
 * put on the wire: both hellos, a frame's head, frames read whole, cut
 * short, two in one read, backtraces of one hop and of several, and each
 * refusal.
 */
#include <stdint.h>
#include <netinet/in.h>
#include <string.h>

#include "check.h"
#include "users_proto.h"

static void
test_hello(void)
{
	uint8_t h[UP_SP_HELLO_LEN];
	static const uint8_t req[] = {0, 'S', 'P', 0, 0, 48, 0, 0};
	uint8_t rep[] = {0, 'S', 'P', 0, 0, 49, 0, 0};

	up_sp_hello(h, UP_SP_REQ);
	CHECK(memcmp(h, req, sizeof(req)) == 0);
	up_sp_hello(h, UP_SP_REP);
	CHECK(memcmp(h, rep, sizeof(rep)) == 0);
	CHECK_INT(up_sp_hello_check(rep, UP_SP_REP), 0);
	CHECK_INT(up_sp_hello_check(req, UP_SP_REQ), 0);
	CHECK_INT(up_sp_hello_check(req, UP_SP_REP), -1); /* no daemon */
	CHECK_INT(up_sp_hello_check(rep, UP_SP_REQ), -1); /* no client */
	rep[6] = 1;
	CHECK_INT(up_sp_hello_check(rep, UP_SP_REP), -1);
	rep[6] = 0;
	rep[1] = 's';
	CHECK_INT(up_sp_hello_check(rep, UP_SP_REP), -1);
}

static void
test_head(void)
{
	uint8_t h[UP_SP_HEAD_MAX];
	static const uint8_t ipc[] = {1, 0, 0, 0, 0, 0, 0, 1, 4};
	static const uint8_t tcp[] = {0, 0, 0, 0, 0, 0, 0, 7};

	CHECK_INT(up_sp_head(h, true, 260), sizeof(ipc));
	CHECK(memcmp(h, ipc, sizeof(ipc)) == 0);
	CHECK_INT(up_sp_head(h, false, 7), sizeof(tcp));
	CHECK(memcmp(h, tcp, sizeof(tcp)) == 0);
}

static void
test_next(void)
{
	/* two ipc frames, bodies "ab" and "", then a third cut short */
	static const uint8_t s[] = {1, 0, 0, 0,   0,    0, 0, 0,    6, 0x80,
				    0, 0, 1, 'a', 'b',  1, 0, 0,    0, 0,
				    0, 0, 0, 4,   0x80, 0, 0, 1,    1, 0,
				    0, 0, 0, 0,   0,    0, 5, 0x80, 0, 0};
	/* a request through one device: two words of backtrace */
	static const uint8_t dev[] = {0, 0, 0, 0,    0, 0, 0, 9,  0,
				      0, 0, 7, 0x80, 0, 0, 2, 'x'};
	size_t fl = 0, off = 0;

	CHECK_INT(up_sp_next(s, sizeof(s), true, 64, &fl, &off), 1);
	CHECK_INT(fl, 15);
	CHECK_INT(off, 13);
	CHECK_INT(up_sp_next(s + 15, sizeof(s) - 15, true, 64, &fl, &off), 1);
	CHECK_INT(fl, 13);
	CHECK_INT(off, 13);
	CHECK_INT(up_sp_next(s + 28, sizeof(s) - 28, true, 64, &fl, &off), 0);
	for (size_t n = 0; n < 15; n++) { /* every cut of the first */
		CHECK_INT(up_sp_next(s, n, true, 64, &fl, &off), 0);
	}
	/* the same first frame over tcp: no type byte */
	CHECK_INT(up_sp_next(s + 1, 14, false, 64, &fl, &off), 1);
	CHECK_INT(fl, 14);
	CHECK_INT(off, 12);
	CHECK_INT(up_sp_next(dev, sizeof(dev), false, 64, &fl, &off), 1);
	CHECK_INT(fl, 17);
	CHECK_INT(off, 16);
	for (size_t n = 0; n < sizeof(dev); n++) {
		CHECK_INT(up_sp_next(dev, n, false, 64, &fl, &off), 0);
	}
}

static void
test_refused(void)
{
	size_t fl = 0, off = 0;
	uint8_t s[] = {1, 0, 0, 0, 0, 0, 0, 0, 6, 0x80, 0, 0, 1, 'a', 'b'};
	/* nine words without a request id: more hops than nng allows */
	uint8_t deep[8 + 40] = {0, 0, 0, 0, 0, 0, 0, 40};

	CHECK_INT(up_sp_next(s, sizeof(s), true, 5, &fl, &off), -1); /* max */
	CHECK_INT(up_sp_next(s, sizeof(s), true, 6, &fl, &off), 1);
	s[0] = 2; /* not a message */
	CHECK_INT(up_sp_next(s, 1, true, 64, &fl, &off), -1);
	s[0] = 1;
	s[8] = 3; /* shorter than a request id */
	CHECK_INT(up_sp_next(s, sizeof(s), true, 64, &fl, &off), -1);
	s[8] = 6;
	s[9] = 0; /* the body's first bytes: no id with its top bit */
	CHECK_INT(up_sp_next(s, sizeof(s), true, 64, &fl, &off), -1);
	s[9] = 0x80;
	s[1] = 0x80; /* a length of 2^63 and more: no sum overflows */
	CHECK_INT(up_sp_next(s, sizeof(s), true, SIZE_MAX - 8, &fl, &off), 0);
	CHECK_INT(up_sp_next(s, sizeof(s), true, 64, &fl, &off), -1);
	/* refused once the eighth word is there, the frame not yet whole */
	CHECK_INT(up_sp_next(deep, 8 + 28, false, 64, &fl, &off), 0);
	CHECK_INT(up_sp_next(deep, 8 + 32, false, 64, &fl, &off), -1);
	deep[8 + 28] = 0x80; /* the eighth word an id: eight hops read */
	CHECK_INT(up_sp_next(deep, sizeof(deep), false, 64, &fl, &off), 1);
	CHECK_INT(off, 8 + 32);
}

/* What the loops dial: ipc:// paths and tcp:// addresses, never names. */
static void
test_addr(void)
{
	struct sockaddr_storage a;
	socklen_t len = 0;
	bool ipc = false;
	char longpath[200];

	CHECK_INT(up_sp_addr("ipc:///tmp/x.sock", &a, &len, &ipc), 0);
	CHECK(ipc && a.ss_family == AF_UNIX);
	CHECK_INT(up_sp_addr("tcp://127.0.0.1:7000", &a, &len, &ipc), 0);
	CHECK(!ipc && a.ss_family == AF_INET &&
	      len == sizeof(struct sockaddr_in));
	CHECK_INT(up_sp_addr("tcp://[::1]:7000", &a, &len, &ipc), 0);
	CHECK(a.ss_family == AF_INET6);
	CHECK_INT(up_sp_addr("tcp://localhost:7000", &a, &len, &ipc), -1);
	CHECK_INT(up_sp_addr("tcp://127.0.0.1", &a, &len, &ipc), -1);
	CHECK_INT(up_sp_addr("tcp://:7000", &a, &len, &ipc), -1);
	CHECK_INT(up_sp_addr("tls+tcp://127.0.0.1:7000", &a, &len, &ipc), -1);
	CHECK_INT(up_sp_addr("ipc://", &a, &len, &ipc), -1);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	memcpy(longpath, "ipc://", 6);
	CHECK_INT(up_sp_addr(longpath, &a, &len, &ipc), -1);
}

/* A connection's input: grows to the largest frame and no further, keeps
 * what is not handed over, shrinks back after a large message. */
static void
test_in(void)
{
	up_sp_in b = {0};
	size_t most = 200 * 1024;

	while (up_sp_in_room(&b, most) == 0 && b.len < most) {
		b.p[b.len] = (uint8_t)b.len;
		b.len++;
	}
	CHECK_INT(b.len, most);
	CHECK_INT(b.cap, most);
	CHECK_INT(up_sp_in_room(&b, most), -1); /* full at its limit */
	up_sp_in_consume(&b, most - 3);
	CHECK_INT(b.len, 3);
	CHECK(b.p[0] == (uint8_t)(most - 3) && b.p[2] == (uint8_t)(most - 1));
	CHECK(b.cap <= 64 * 1024); /* a large buffer with little left shrinks */
	up_sp_in_consume(&b, 3);
	CHECK_INT(b.len, 0);
	CHECK(b.cap <= 64 * 1024);
	up_sp_in_fini(&b);
	CHECK(b.p == NULL && b.cap == 0);
}

int
main(void)
{
	test_hello();
	test_head();
	test_next();
	test_refused();
	test_addr();
	test_in();
	return check_done();
}
