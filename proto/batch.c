/*
 * batch.c - the framing of several calls in one nng message (RequestBatch
 * and ResponseBatch in users.proto), read and written without unpacking the
 * batch: a frame is one BatchedRequest (BatchedResponse) as field 15 of the
 * batch, the call's number as its field 1 and the envelope's bytes as its
 * field 2. Reading hands out each envelope's bytes where they lie (the
 * caller unpacks each on its own, so one bad envelope fails one call);
 * writing puts a frame's head before envelope bytes packed once.
 *
 * The reader takes untrusted bytes (usersd reads clients' batches; the
 * client reads usersd's): every length is checked against what is left,
 * varints are at most 10 bytes, unknown fields are skipped as protobuf
 * says, groups are refused. Fuzzed by tests/fuzz/fuzz_batch.c.
 */
#include <string.h>

#include "users_proto.h"

#define WIRE_VARINT  0
#define WIRE_FIXED64 1
#define WIRE_LEN     2
#define WIRE_FIXED32 5

#define FIELD_FRAMES 15 /* RequestBatch.calls, ResponseBatch.replies */
#define FIELD_CALL   1
#define FIELD_ENV    2

bool
up_batch_is(const void *buf, size_t len)
{
	return len > 0 && ((const uint8_t *)buf)[0] == UP_BATCH_TAG;
}

size_t
up_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static size_t
varint_put(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

size_t
up_batch_frame_head(uint8_t out[UP_BATCH_HEAD_MAX], uint32_t call,
		    size_t env_len)
{
	size_t inner =
	    1 + up_varint_len(call) + 1 + up_varint_len(env_len) + env_len;
	size_t n = 0;

	out[n++] = UP_BATCH_TAG;
	n += varint_put(out + n, inner);
	out[n++] = (FIELD_CALL << 3) | WIRE_VARINT;
	n += varint_put(out + n, call);
	out[n++] = (FIELD_ENV << 3) | WIRE_LEN;
	n += varint_put(out + n, env_len);
	return n;
}

void
up_batch_reader_init(up_batch_reader *r, const void *buf, size_t len)
{
	r->p = buf;
	r->end = r->p + len;
}

/* A varint at *p (before end): 0 and *p moved past it, or -1. */
static int
varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned i = 0; i < 10; i++) {
		if (*p == end) {
			return -1;
		}
		uint8_t b = *(*p)++;

		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

/*
 * One field's key at *p: its number and wire type, and, for a
 * length-delimited field, its bytes (*data, *len) with *p past them;
 * other fields are skipped. 0, or -1 when malformed.
 */
static int
field_get(const uint8_t **p, const uint8_t *end, uint64_t *number,
	  unsigned *wire, uint64_t *value, const uint8_t **data, size_t *len)
{
	uint64_t key, n;

	if (varint_get(p, end, &key) != 0 || (key >> 3) == 0) {
		return -1;
	}
	*number = key >> 3;
	*wire = (unsigned)(key & 7);
	switch (*wire) {
	case WIRE_VARINT:
		return varint_get(p, end, value);
	case WIRE_FIXED64:
	case WIRE_FIXED32:
		n = *wire == WIRE_FIXED64 ? 8 : 4;
		if ((uint64_t)(end - *p) < n) {
			return -1;
		}
		*p += n;
		return 0;
	case WIRE_LEN:
		if (varint_get(p, end, &n) != 0 || (uint64_t)(end - *p) < n) {
			return -1;
		}
		*data = *p;
		*len = (size_t)n;
		*p += n;
		return 0;
	default:
		return -1; /* groups (3, 4) and reserved wire types */
	}
}

int
up_batch_next(up_batch_reader *r, uint32_t *call, const uint8_t **env,
	      size_t *env_len)
{
	while (r->p != r->end) {
		uint64_t number, value = 0;
		unsigned wire;
		const uint8_t *frame = NULL, *q, *fend;
		size_t flen = 0;
		bool have_env = false;

		if (field_get(&r->p, r->end, &number, &wire, &value, &frame,
			      &flen) != 0) {
			r->p = r->end;
			return -1;
		}
		if (number != FIELD_FRAMES) {
			continue; /* an unknown field of the batch */
		}
		if (wire != WIRE_LEN) {
			r->p = r->end;
			return -1;
		}
		*call = 0;
		*env = frame; /* empty unless the frame says more */
		*env_len = 0;
		q = frame;
		fend = frame + flen;
		while (q != fend) {
			const uint8_t *d = NULL;
			size_t dl = 0;

			if (field_get(&q, fend, &number, &wire, &value, &d,
				      &dl) != 0) {
				r->p = r->end;
				return -1;
			}
			if ((number == FIELD_CALL && wire != WIRE_VARINT) ||
			    (number == FIELD_ENV && wire != WIRE_LEN)) {
				r->p = r->end;
				return -1;
			}
			if (number == FIELD_CALL) {
				if (value > UINT32_MAX) {
					r->p = r->end;
					return -1;
				}
				*call = (uint32_t)value;
			} else if (number == FIELD_ENV) {
				/* Two would be merged by protobuf: refused. */
				if (have_env) {
					r->p = r->end;
					return -1;
				}
				have_env = true;
				*env = d;
				*env_len = dl;
			}
		}
		return 1;
	}
	return 0;
}
