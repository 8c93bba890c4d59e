/*
 * test_sp.c - nng's SP framing as usersgw's hop speaks it (gateway/gw_sp.c),
 * byte for byte against what nng 1.5's ipc and tcp transports and its REP
 * protocol put on the wire: the hellos, a request's head, a reply read whole,
 * cut short, two in one read, and each refusal.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "gw_sp.h"

static void
test_hello(void)
{
	uint8_t h[GW_SP_HELLO_LEN];
	static const uint8_t req[] = {0, 'S', 'P', 0, 0, 48, 0, 0};
	uint8_t rep[] = {0, 'S', 'P', 0, 0, 49, 0, 0};

	gw_sp_hello(h);
	CHECK(memcmp(h, req, sizeof(req)) == 0);
	CHECK_INT(gw_sp_hello_check(rep), 0);
	CHECK_INT(gw_sp_hello_check(req), -1); /* another REQ: no daemon */
	rep[6] = 1;
	CHECK_INT(gw_sp_hello_check(rep), -1);
	rep[6] = 0;
	rep[1] = 's';
	CHECK_INT(gw_sp_hello_check(rep), -1);
}

static void
test_head(void)
{
	uint8_t h[GW_SP_HEAD_MAX];
	static const uint8_t ipc[] = {1, 0, 0, 0, 0, 0, 0, 1, 4, 0x80, 0, 0, 1};
	static const uint8_t tcp[] = {0, 0, 0, 0, 0, 0, 0, 7, 0x80, 0, 0, 1};

	CHECK_INT(gw_sp_head(h, true, 256), sizeof(ipc));
	CHECK(memcmp(h, ipc, sizeof(ipc)) == 0);
	CHECK_INT(gw_sp_head(h, false, 3), sizeof(tcp));
	CHECK(memcmp(h, tcp, sizeof(tcp)) == 0);
}

static void
test_next(void)
{
	/* two ipc replies, bodies "ab" and "", then a third cut short */
	static const uint8_t s[] = {1, 0, 0, 0,   0,    0, 0, 0,    6, 0x80,
				    0, 0, 1, 'a', 'b',  1, 0, 0,    0, 0,
				    0, 0, 0, 4,   0x80, 0, 0, 1,    1, 0,
				    0, 0, 0, 0,   0,    0, 5, 0x80, 0, 0};
	size_t fl = 0, off = 0;

	CHECK_INT(gw_sp_next(s, sizeof(s), true, 64, &fl, &off), 1);
	CHECK_INT(fl, 15);
	CHECK_INT(off, 13);
	CHECK_INT(gw_sp_next(s + 15, sizeof(s) - 15, true, 64, &fl, &off), 1);
	CHECK_INT(fl, 13);
	CHECK_INT(off, 13);
	CHECK_INT(gw_sp_next(s + 28, sizeof(s) - 28, true, 64, &fl, &off), 0);
	for (size_t n = 0; n < 15; n++) { /* every cut of the first */
		CHECK_INT(gw_sp_next(s, n, true, 64, &fl, &off), 0);
	}
	/* the same first reply over tcp: no type byte */
	CHECK_INT(gw_sp_next(s + 1, 14, false, 64, &fl, &off), 1);
	CHECK_INT(fl, 14);
	CHECK_INT(off, 12);
}

static void
test_refused(void)
{
	size_t fl = 0, off = 0;
	uint8_t s[] = {1, 0, 0, 0, 0, 0, 0, 0, 6, 0x80, 0, 0, 1, 'a', 'b'};

	CHECK_INT(gw_sp_next(s, sizeof(s), true, 1, &fl, &off), -1); /* max */
	CHECK_INT(gw_sp_next(s, sizeof(s), true, 2, &fl, &off), 1);
	s[0] = 2; /* not a message */
	CHECK_INT(gw_sp_next(s, 1, true, 64, &fl, &off), -1);
	s[0] = 1;
	s[9] = 0x00; /* a backtrace of two hops: not ours */
	CHECK_INT(gw_sp_next(s, sizeof(s), true, 64, &fl, &off), -1);
	s[9] = 0x80;
	s[8] = 3; /* shorter than a request id */
	CHECK_INT(gw_sp_next(s, sizeof(s), true, 64, &fl, &off), -1);
	s[8] = 6;
	s[1] = 0x80; /* a length of 2^63 and more: no sum overflows */
	CHECK_INT(gw_sp_next(s, sizeof(s), true, SIZE_MAX - 8, &fl, &off), 0);
	CHECK_INT(gw_sp_next(s, sizeof(s), true, 64, &fl, &off), -1);
}

int
main(void)
{
	test_hello();
	test_head();
	test_next();
	test_refused();
	return check_done();
}
