/*
 * test_batch.c - the batch framing (proto/batch.c) against the contract:
 * frames written by up_batch_frame_head are what protobuf-c packs for
 * RequestBatch / ResponseBatch and unpacks back; the reader hands out each
 * call's number and envelope bytes, skips unknown fields, and refuses what
 * is malformed without reading past the end.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "users_proto.h"

/* Appends one frame (head + envelope) to buf at *n. */
static void
put_frame(uint8_t *buf, size_t *n, uint32_t call, const uint8_t *env,
	  size_t len)
{
	uint8_t head[UP_BATCH_HEAD_MAX];
	size_t h = up_batch_frame_head(head, call, len);

	memcpy(buf + *n, head, h);
	memcpy(buf + *n + h, env, len);
	*n += h + len;
}

static size_t
pack_request(uint8_t *out, const char *method, const char *id)
{
	Users__V1__RequestEnvelope e = USERS__V1__REQUEST_ENVELOPE__INIT;

	e.method = (char *)method;
	e.request_id = (char *)id;
	e.has_deadline_ms = true;
	e.deadline_ms = 5000;
	return users__v1__request_envelope__pack(&e, out);
}

/* Written by hand, read by protobuf-c as the contract's RequestBatch. */
static void
test_written_is_the_contract(void)
{
	static uint8_t buf[70000], env[66000];
	size_t n = 0, len;
	uint32_t calls[] = {1, 127, 128, 300000, UINT32_MAX};
	Users__V1__RequestBatch *b;

	for (size_t i = 0; i < 5; i++) {
		char id[16];

		snprintf(id, sizeof(id), "id-%zu", i);
		len = pack_request(env, "GetUser", id);
		put_frame(buf, &n, calls[i], env, len);
	}
	CHECK(up_batch_is(buf, n));
	b = users__v1__request_batch__unpack(NULL, n, buf);
	CHECK(b != NULL);
	if (b != NULL) {
		CHECK_INT(b->n_calls, 5);
		for (size_t i = 0; i < b->n_calls && i < 5; i++) {
			char id[16];

			snprintf(id, sizeof(id), "id-%zu", i);
			CHECK(b->calls[i]->has_call);
			CHECK_INT(b->calls[i]->call, calls[i]);
			CHECK(b->calls[i]->request != NULL);
			if (b->calls[i]->request != NULL) {
				CHECK_STR(b->calls[i]->request->method,
					  "GetUser");
				CHECK_STR(b->calls[i]->request->request_id, id);
			}
		}
		users__v1__request_batch__free_unpacked(b, NULL);
	}

	/* A long envelope: multi-byte lengths on both levels. */
	memset(env, 'x', sizeof(env));
	n = 0;
	put_frame(buf, &n, 7, env, 65000);
	{
		up_batch_reader r;
		uint32_t call = 0;
		const uint8_t *e = NULL;
		size_t el = 0;

		up_batch_reader_init(&r, buf, n);
		CHECK_INT(up_batch_next(&r, &call, &e, &el), 1);
		CHECK_INT(call, 7);
		CHECK_INT(el, 65000);
		CHECK(e == buf + n - 65000);
		CHECK_INT(up_batch_next(&r, &call, &e, &el), 0);
	}
}

/* Packed by protobuf-c, read by the reader. */
static void
test_read_what_protobuf_packs(void)
{
	Users__V1__ResponseEnvelope e1 = USERS__V1__RESPONSE_ENVELOPE__INIT;
	Users__V1__ResponseEnvelope e2 = USERS__V1__RESPONSE_ENVELOPE__INIT;
	Users__V1__BatchedResponse r1 = USERS__V1__BATCHED_RESPONSE__INIT;
	Users__V1__BatchedResponse r2 = USERS__V1__BATCHED_RESPONSE__INIT;
	Users__V1__BatchedResponse *rs[] = {&r1, &r2};
	Users__V1__ResponseBatch b = USERS__V1__RESPONSE_BATCH__INIT;
	uint8_t buf[512];
	size_t n;
	up_batch_reader rd;
	uint32_t call;
	const uint8_t *env;
	size_t len;

	e1.has_status = true;
	e1.status = USERS__V1__STATUS_CODE__NOT_FOUND;
	e1.request_id = "a";
	e2.request_id = "b";
	r1.has_call = true;
	r1.call = 42;
	r1.response = &e1;
	r2.has_call = true;
	r2.call = 43;
	r2.response = &e2;
	b.n_replies = 2;
	b.replies = rs;
	n = users__v1__response_batch__pack(&b, buf);
	CHECK(up_batch_is(buf, n));

	up_batch_reader_init(&rd, buf, n);
	CHECK_INT(up_batch_next(&rd, &call, &env, &len), 1);
	CHECK_INT(call, 42);
	{
		Users__V1__ResponseEnvelope *u =
		    users__v1__response_envelope__unpack(NULL, len, env);
		CHECK(u != NULL &&
		      u->status == USERS__V1__STATUS_CODE__NOT_FOUND);
		CHECK(u != NULL && strcmp(u->request_id, "a") == 0);
		users__v1__response_envelope__free_unpacked(u, NULL);
	}
	CHECK_INT(up_batch_next(&rd, &call, &env, &len), 1);
	CHECK_INT(call, 43);
	CHECK_INT(up_batch_next(&rd, &call, &env, &len), 0);

	/* A single envelope is not a batch; neither is nothing. */
	n = users__v1__response_envelope__pack(&e1, buf);
	CHECK(!up_batch_is(buf, n));
	CHECK(!up_batch_is(buf, 0));
}

static int
read_all(const uint8_t *buf, size_t n, int *frames)
{
	up_batch_reader r;
	uint32_t call;
	const uint8_t *env;
	size_t len;
	int rc;

	*frames = 0;
	up_batch_reader_init(&r, buf, n);
	while ((rc = up_batch_next(&r, &call, &env, &len)) == 1) {
		CHECK(env >= buf && env + len <= buf + n);
		(*frames)++;
	}
	return rc;
}

static void
test_malformed(void)
{
	int frames;

	/* Cut short: the frame's length says more than there is. */
	{
		uint8_t b[] = {0x7a, 0x05, 0x08, 0x01, 0x12};
		CHECK_INT(read_all(b, sizeof(b), &frames), -1);
		CHECK_INT(frames, 0);
	}
	/* An envelope longer than its frame. */
	{
		uint8_t b[] = {0x7a, 0x04, 0x08, 0x01, 0x12, 0x09};
		CHECK_INT(read_all(b, sizeof(b), &frames), -1);
	}
	/* A good frame, then garbage: the first is read. */
	{
		uint8_t b[] = {0x7a, 0x04, 0x08, 0x01, 0x12, 0x00, 0xff};
		CHECK_INT(read_all(b, sizeof(b), &frames), -1);
		CHECK_INT(frames, 1);
	}
	/* A varint of 11 bytes. */
	{
		uint8_t b[] = {0x7a, 0x0c, 0x08, 0xff, 0xff, 0xff, 0xff,
			       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
		CHECK_INT(read_all(b, sizeof(b), &frames), -1);
	}
	/* A call number over 32 bits. */
	{
		uint8_t b[] = {0x7a, 0x06, 0x08, 0x80, 0x80, 0x80, 0x80, 0x10};
		CHECK_INT(read_all(b, sizeof(b), &frames), -1);
	}
	/* Two envelopes in one frame. */
	{
		uint8_t b[] = {0x7a, 0x06, 0x08, 0x01, 0x12, 0x00, 0x12, 0x00};
		CHECK_INT(read_all(b, sizeof(b), &frames), -1);
	}
	/* The call as bytes: a wrong wire type. */
	{
		uint8_t b[] = {0x7a, 0x02, 0x0a, 0x00};
		CHECK_INT(read_all(b, sizeof(b), &frames), -1);
	}
	/* A group. */
	{
		uint8_t b[] = {0x7a, 0x02, 0x0b, 0x0c};
		CHECK_INT(read_all(b, sizeof(b), &frames), -1);
	}
	/* Field 0. */
	{
		uint8_t b[] = {0x00, 0x00};
		CHECK_INT(read_all(b, sizeof(b), &frames), -1);
	}
	/* Unknown fields are skipped, inside and outside frames; a frame
	 * without an envelope is an empty envelope. */
	{
		uint8_t b[] = {0x7a, 0x02, 0x08, 0x05, /* call 5, no env */
			       0x08, 0x01,             /* field 1 varint */
			       0x11, 1,    2,    3,    4,   5, 6,
			       7,    8,                           /* fixed64 */
			       0x7a, 0x0a, 0x1d, 1,    2,   3, 4, /* fixed32 */
			       0x08, 0x09, 0x12, 0x01, 0x00};
		up_batch_reader r;
		uint32_t call;
		const uint8_t *env;
		size_t len;

		up_batch_reader_init(&r, b, sizeof(b));
		CHECK_INT(up_batch_next(&r, &call, &env, &len), 1);
		CHECK_INT(call, 5);
		CHECK_INT(len, 0);
		CHECK(env != NULL);
		CHECK_INT(up_batch_next(&r, &call, &env, &len), 1);
		CHECK_INT(call, 9);
		CHECK_INT(len, 1);
		CHECK_INT(up_batch_next(&r, &call, &env, &len), 0);
	}
	/* Empty: no frames. */
	CHECK_INT(read_all((const uint8_t *)"", 0, &frames), 0);
}

int
main(void)
{
	test_written_is_the_contract();
	test_read_what_protobuf_packs();
	test_malformed();
	return check_done();
}
