/*
 * test_secrets.c - the (secret) fields of the contract and
 * up_message_wipe_secrets(): exactly the expected fields carry the option,
 * and for every message of the contract, filled in full (every string,
 * bytes and message field, repeated ones twice, nested messages too), a
 * wipe zeroes every secret byte and leaves every other byte as it was.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "users_proto.h"

#define MAX_DEPTH 4
#define MAX_SEEN  256
#define MAX_KEPT  8192

/* The fields that must carry (secret): "Message.field". */
static const char *const expected[] = {
    "users.v1.Authenticate.password",   "users.v1.NewUser.password",
    "users.v1.PatchUser.new_password",  "users.v1.BasicCredentials.password",
    "users.v1.RequestEnvelope.payload", "users.v1.UserRecord.password_hash",
};
#define N_EXPECTED (sizeof(expected) / sizeof(expected[0]))

/* ------------------------------------------------------------------------
 * Every message of the contract
 */

static const ProtobufCMessageDescriptor *seen[MAX_SEEN];
static size_t n_seen;

static void
collect(const ProtobufCMessageDescriptor *d)
{
	for (size_t i = 0; i < n_seen; i++) {
		if (seen[i] == d) {
			return;
		}
	}
	if (n_seen == MAX_SEEN) {
		CHECK(0);
		return;
	}
	seen[n_seen++] = d;
	for (unsigned i = 0; i < d->n_fields; i++) {
		if (d->fields[i].type == PROTOBUF_C_TYPE_MESSAGE) {
			collect(d->fields[i].descriptor);
		}
	}
}

static void
collect_all(void)
{
	for (size_t i = 0; i < up_method_count(); i++) {
		collect(up_method_at(i)->desc->input);
		collect(up_method_at(i)->desc->output);
	}
	collect(&users__v1__request_envelope__descriptor);
	collect(&users__v1__response_envelope__descriptor);
	collect(&users__v1__error_response__descriptor);
}

static bool
is_expected(const ProtobufCMessageDescriptor *d,
	    const ProtobufCFieldDescriptor *f)
{
	char name[256];

	snprintf(name, sizeof(name), "%s.%s", d->name, f->name);
	for (size_t i = 0; i < N_EXPECTED; i++) {
		if (strcmp(expected[i], name) == 0) {
			return true;
		}
	}
	return false;
}

/* Exactly the expected fields are marked, and each of them is found. */
static void
test_marked_fields(void)
{
	size_t found = 0;

	for (size_t i = 0; i < n_seen; i++) {
		const ProtobufCMessageDescriptor *d = seen[i];
		for (unsigned k = 0; k < d->n_fields; k++) {
			const up_field_info *fi =
			    up_field_info_of(d, &d->fields[k]);
			bool want = is_expected(d, &d->fields[k]);

			CHECK(fi != NULL);
			if (fi == NULL) {
				continue;
			}
			if (fi->secret != want) {
				fprintf(stderr, "%s.%s: secret is %d\n",
					d->name, d->fields[k].name, fi->secret);
			}
			CHECK(fi->secret == want);
			found += fi->secret;
		}
	}
	CHECK_INT(found, N_EXPECTED);
}

/* ------------------------------------------------------------------------
 * Wiping
 */

/* A piece of memory a filled message owns, and what it held. */
typedef struct kept {
	const uint8_t *at;
	uint8_t *copy;
	size_t len;
	bool secret;
	const char *where; /* Message.field, for messages */
} kept;

static kept kept_v[MAX_KEPT];
static size_t n_kept;
static unsigned counter;

static void
keep(const void *at, size_t len, bool secret, const char *where)
{
	kept *k;

	if (n_kept == MAX_KEPT) {
		CHECK(0);
		return;
	}
	k = &kept_v[n_kept++];
	k->at = at;
	k->len = len;
	k->secret = secret;
	k->where = where;
	k->copy = malloc(len ? len : 1);
	if (k->copy != NULL) {
		memcpy(k->copy, at, len);
	}
}

static char *
new_string(bool secret, const char *where)
{
	char buf[64];
	char *s;

	snprintf(buf, sizeof(buf), "value-%u-of-%s", counter++, where);
	s = strdup(buf);
	if (s != NULL) {
		keep(s, strlen(s), secret, where);
	}
	return s;
}

static ProtobufCMessage *fill(const ProtobufCMessageDescriptor *d, int depth);

/* One value of f into at (a field's slot or an element of its array). */
static void
fill_value(const ProtobufCMessageDescriptor *d,
	   const ProtobufCFieldDescriptor *f, void *at, int depth)
{
	const up_field_info *fi = up_field_info_of(d, f);
	bool secret = fi != NULL && fi->secret;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		*(char **)at = new_string(secret, f->name);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = at;
		b->len = 24;
		b->data = malloc(b->len);
		if (b->data != NULL) {
			for (size_t i = 0; i < b->len; i++) {
				b->data[i] =
				    (uint8_t)(0x41 + (counter + i) % 26);
			}
			counter++;
			keep(b->data, b->len, secret, f->name);
		}
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)at =
		    depth < MAX_DEPTH ? fill(f->descriptor, depth + 1) : NULL;
		break;
	default:
		break; /* numbers: no memory of their own */
	}
}

static bool
has_memory(const ProtobufCFieldDescriptor *f)
{
	return f->type == PROTOBUF_C_TYPE_STRING ||
	       f->type == PROTOBUF_C_TYPE_BYTES ||
	       f->type == PROTOBUF_C_TYPE_MESSAGE;
}

/* A message of type d with every string, bytes and message field set. */
static ProtobufCMessage *
fill(const ProtobufCMessageDescriptor *d, int depth)
{
	ProtobufCMessage *m = calloc(1, d->sizeof_message);

	if (m == NULL) {
		return NULL;
	}
	d->message_init(m);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *slot = (char *)m + f->offset;

		if (!has_memory(f)) {
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t sz = f->type == PROTOBUF_C_TYPE_BYTES
					? sizeof(ProtobufCBinaryData)
					: sizeof(void *);
			char *arr = calloc(2, sz);
			if (arr == NULL) {
				continue;
			}
			*(char **)slot = arr;
			*(size_t *)((char *)m + f->quantifier_offset) = 2;
			fill_value(d, f, arr, depth);
			fill_value(d, f, arr + sz, depth);
			continue;
		}
		if (f->type == PROTOBUF_C_TYPE_BYTES &&
		    f->label == PROTOBUF_C_LABEL_OPTIONAL &&
		    f->quantifier_offset != 0) {
			*(protobuf_c_boolean *)((char *)m +
						f->quantifier_offset) = 1;
		}
		fill_value(d, f, slot, depth);
	}
	return m;
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != 0) {
			return false;
		}
	}
	return true;
}

/*
 * For each message of the contract: filled, wiped, and every piece of
 * memory checked before it is freed.
 */
static void
test_wipe_every_message(void)
{
	size_t secrets_seen = 0;

	for (size_t i = 0; i < n_seen; i++) {
		ProtobufCMessage *m;

		n_kept = 0;
		m = fill(seen[i], 0);
		CHECK(m != NULL);
		if (m == NULL) {
			continue;
		}
		up_message_wipe_secrets(m);
		for (size_t k = 0; k < n_kept; k++) {
			kept *e = &kept_v[k];
			bool ok = e->secret
				      ? all_zero(e->at, e->len)
				      : memcmp(e->at, e->copy, e->len) == 0;
			if (!ok) {
				fprintf(stderr, "%s: field %s was %s\n",
					seen[i]->name, e->where,
					e->secret ? "not wiped" : "changed");
			}
			CHECK(ok);
			secrets_seen += e->secret;
			free(e->copy);
		}
		protobuf_c_message_free_unpacked(m, NULL);
	}
	/* the walk reached secrets, nested ones included */
	CHECK(secrets_seen >= N_EXPECTED);
}

/* An envelope as the daemon unpacks it: Basic password and payload. */
static void
test_unpacked_envelope(void)
{
	Users__V1__RequestEnvelope e = USERS__V1__REQUEST_ENVELOPE__INIT;
	Users__V1__BasicCredentials b = USERS__V1__BASIC_CREDENTIALS__INIT;
	Users__V1__Authenticate a = USERS__V1__AUTHENTICATE__INIT;
	Users__V1__RequestEnvelope *u;
	Users__V1__Authenticate *ua;
	uint8_t payload[128], buf[512];
	size_t n;

	a.user_name = "ann@example.com";
	a.password = "a-password-1";
	b.user_name = "bob@example.com";
	b.password = "b-password-2";
	e.method = "Authenticate";
	e.basic = &b;
	e.has_payload = true;
	e.payload.data = payload;
	e.payload.len = users__v1__authenticate__pack(&a, payload);
	n = users__v1__request_envelope__pack(&e, buf);
	u = users__v1__request_envelope__unpack(NULL, n, buf);
	CHECK(u != NULL && u->basic != NULL && u->has_payload);
	if (u == NULL || u->basic == NULL) {
		return;
	}
	ua = users__v1__authenticate__unpack(NULL, u->payload.len,
					     u->payload.data);
	CHECK(ua != NULL);
	up_message_wipe_secrets(&u->base);
	up_message_wipe_secrets(&ua->base);
	CHECK(all_zero((const uint8_t *)u->basic->password, 12));
	CHECK(all_zero(u->payload.data, u->payload.len));
	CHECK_STR(u->basic->user_name, "bob@example.com");
	CHECK_STR(u->method, "Authenticate");
	if (ua != NULL) {
		CHECK(all_zero((const uint8_t *)ua->password, 12));
		CHECK_STR(ua->user_name, "ann@example.com");
		users__v1__authenticate__free_unpacked(ua, NULL);
	}
	users__v1__request_envelope__free_unpacked(u, NULL);
	/* NULL and a message with nothing set are fine */
	up_message_wipe_secrets(NULL);
	{
		Users__V1__NewUser empty = USERS__V1__NEW_USER__INIT;
		up_message_wipe_secrets(&empty.base);
		CHECK(empty.password == NULL);
	}
}

static void
test_wipe_primitive(void)
{
	uint8_t buf[16];

	memset(buf, 0xa5, sizeof(buf));
	up_wipe(buf + 4, 8);
	CHECK(buf[3] == 0xa5 && buf[12] == 0xa5);
	CHECK(all_zero(buf + 4, 8));
	up_wipe(NULL, 0);
}

int
main(void)
{
	CHECK_INT(up_meta_load(), 0);
	collect_all();
	CHECK(n_seen > 20);
	test_marked_fields();
	test_wipe_every_message();
	test_unpacked_envelope();
	test_wipe_primitive();
	return check_done();
}
