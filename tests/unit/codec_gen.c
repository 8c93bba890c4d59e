/*
 * codec_gen.c - random messages of the DTOs for the codec round-trip tests
 * (see codec_gen.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_gen.h"

static uint64_t gen_rng = 0x9e3779b97f4a7c15ull;

char *
gen_dup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d == NULL) {
		abort();
	}
	memcpy(d, s, n);
	return d;
}

uint32_t
gen_rnd(uint32_t n)
{
	gen_rng ^= gen_rng << 13;
	gen_rng ^= gen_rng >> 7;
	gen_rng ^= gen_rng << 17;
	return n == 0 ? 0 : (uint32_t)(gen_rng % n);
}

static const char *const default_pieces[] = {
    "",
    "a",
    "Ada",
    ",",
    "\"",
    "\"\"",
    "[",
    "]",
    "{",
    "}",
    ":",
    "\n",
    "\r\n",
    "\r",
    "\t",
    " ",
    "  ",
    "\\",
    "'",
    "=1+2",
    "+",
    "-",
    "@x",
    "\xc3\xa9",
    "\xe6\x97\xa5\xe6\x9c\xac",
    "\xf0\x9f\x98\x80",
    "\x01",
    "null",
    "True",
    "0",
    "-1",
    "a,b",
    "[a,b]",
    "{a:b}",
    "\"x\",y",
    "String",
    "\xe2\x80\xa8",
};

const gen_style gen_style_default = {
    default_pieces, sizeof(default_pieces) / sizeof(default_pieces[0]), NULL,
    NULL};

static const gen_style *style = &gen_style_default;

void
gen_use(const gen_style *s)
{
	style = s;
}

char *
gen_string(bool guid)
{
	char buf[256];
	size_t n = 0, k = gen_rnd(6);

	if (guid) {
		for (int i = 0; i < 32; i++) {
			buf[i] = "0123456789abcdef"[gen_rnd(16)];
		}
		buf[32] = '\0';
		return gen_dup(buf);
	}
	for (size_t i = 0; i < k; i++) {
		const char *p =
		    style->pieces[gen_rnd((uint32_t)style->n_pieces)];
		size_t l = strlen(p);
		if (n + l < sizeof(buf)) {
			memcpy(buf + n, p, l);
			n += l;
		}
	}
	buf[n] = '\0';
	return gen_dup(buf);
}

static int64_t
gen_i64(void)
{
	static const int64_t edge[] = {
	    0, 1, -1, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, 42};
	if (gen_rnd(2)) {
		return edge[gen_rnd(8)];
	}
	return (int64_t)(((uint64_t)gen_rnd(UINT32_MAX) << 32) |
			 gen_rnd(UINT32_MAX));
}

/* One random value of f written at p. */

static void
gen_value(const ProtobufCMessageDescriptor *d,
	  const ProtobufCFieldDescriptor *f, void *p, int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*(int32_t *)p = (int32_t)gen_i64();
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)p = (uint32_t)gen_i64();
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*(int64_t *)p = gen_i64();
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*(uint64_t *)p = (uint64_t)gen_i64();
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)p = (float)gen_rnd(1000) / 8;
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)p = (double)gen_i64() / 3;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)p = (protobuf_c_boolean)gen_rnd(2);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *e = f->descriptor;
		*(int *)p = e->values[gen_rnd(e->n_values)].value;
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const up_field_info *fi = up_field_info_of(d, f);
		*(char **)p = gen_string(fi != NULL && fi->guid);
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = p;
		b->len = gen_rnd(12);
		b->data = malloc(b->len + 1);
		for (size_t i = 0; i < b->len; i++) {
			b->data[i] = (uint8_t)gen_rnd(256);
		}
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		ProtobufCMessage *sub = uw_msg_new(f->descriptor);
		gen_fill(sub, depth + 1);
		*(ProtobufCMessage **)p = sub;
		break;
	}
	}
}

void
gen_fill(ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *base = (char *)m;
		if (gen_rnd(3) == 0) {
			continue; /* unset */
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n =
			    f->type == PROTOBUF_C_TYPE_MESSAGE && depth > 2
				? 0
				: gen_rnd(4);
			char *arr =
			    n ? calloc(n, uw_value_size(f->type)) : NULL;
			for (size_t k = 0; k < n; k++) {
				gen_value(d, f,
					  arr + k * uw_value_size(f->type),
					  depth);
			}
			if (uw_field_is_map(f)) {
				/* maps hold no nulls */
				for (size_t k = 0; k < n; k++) {
					Users__V1__ResponseStatus__MetaEntry
					    *e = ((void **)arr)[k];
					if (style->key_mid != NULL) {
						char key[64];
						free(e->key);
						snprintf(key, sizeof(key),
							 "k%zu%s%u%s", k,
							 style->key_mid,
							 gen_rnd(100),
							 style->key_end);
						e->key = gen_dup(key);
					}
					if (e->key == NULL) {
						e->key = gen_string(false);
					}
					if (e->value == NULL) {
						e->value = gen_dup("");
					}
				}
			}
			*(size_t *)(base + f->quantifier_offset) = n;
			*(char **)(base + f->offset) = arr;
			continue;
		}
		if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth > 3 &&
		    !uw_msg_is_list_wrapper(f->descriptor)) {
			continue;
		}
		gen_value(d, f, base + f->offset, depth);
		if (f->type != PROTOBUF_C_TYPE_STRING &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE) {
			*(protobuf_c_boolean *)(base + f->quantifier_offset) =
			    1;
		}
	}
}

bool
gen_same_packed(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	size_t na = protobuf_c_message_get_packed_size(a);
	size_t nb = protobuf_c_message_get_packed_size(b);
	uint8_t *pa, *pb;
	bool same;

	if (na != nb) {
		return false;
	}
	pa = malloc(na + 1);
	pb = malloc(nb + 1);
	if (pa == NULL || pb == NULL) {
		abort();
	}
	protobuf_c_message_pack(a, pa);
	protobuf_c_message_pack(b, pb);
	same = memcmp(pa, pb, na) == 0;
	free(pa);
	free(pb);
	return same;
}

const ProtobufCMessageDescriptor *const gen_all_dtos[GEN_N_DTOS] = {
    &users__v1__string_list__descriptor,
    &users__v1__response_error__descriptor,
    &users__v1__response_status__descriptor,
    &users__v1__error_response__descriptor,
    &users__v1__user_info__descriptor,
    &users__v1__new_user__descriptor,
    &users__v1__patch_user__descriptor,
    &users__v1__get_user__descriptor,
    &users__v1__list_users__descriptor,
    &users__v1__list_users_response__descriptor,
    &users__v1__delete_user__descriptor,
    &users__v1__delete_user_response__descriptor,
    &users__v1__organization_basic_view__descriptor,
    &users__v1__business_user_profile_data_view__descriptor,
    &users__v1__business_user_profile_data_response__descriptor,
    &users__v1__update_business_user__descriptor,
    &users__v1__organization__descriptor,
    &users__v1__create_organization__descriptor,
    &users__v1__get_organization__descriptor,
    &users__v1__list_organizations__descriptor,
    &users__v1__list_organizations_response__descriptor,
    &users__v1__add_organization_member__descriptor,
    &users__v1__remove_organization_member__descriptor,
    &users__v1__organization_member_response__descriptor,
    &users__v1__authenticate__descriptor,
    &users__v1__authenticate_response__descriptor,
    &users__v1__get_access_token__descriptor,
    &users__v1__get_access_token_response__descriptor,
    &users__v1__logout__descriptor,
    &users__v1__basic_credentials__descriptor,
    &users__v1__request_envelope__descriptor,
    &users__v1__response_envelope__descriptor,
    &users__v1__user_record__descriptor,
    &users__v1__import_users__descriptor,
    &users__v1__import_refusal__descriptor,
    &users__v1__import_users_response__descriptor,
    &users__v1__export_users__descriptor,
    &users__v1__export_users_response__descriptor,
};

char **
gen_strs1(const char *s)
{
	char **v = malloc(sizeof(char *));

	if (v == NULL) {
		abort();
	}
	v[0] = gen_dup(s);
	return v;
}

void *
gen_meta_entry(const ProtobufCMessageDescriptor *d, const char *k,
	       const char *v)
{
	/* ResponseStatus and ResponseError entries have the same layout */
	Users__V1__ResponseStatus__MetaEntry *e = malloc(d->sizeof_message);

	if (e == NULL) {
		abort();
	}
	d->message_init((ProtobufCMessage *)e);
	e->key = gen_dup(k);
	e->value = gen_dup(v);
	return e;
}

Users__V1__OrganizationBasicView *
gen_org_placeholder(int levels)
{
	Users__V1__OrganizationBasicView *o = malloc(sizeof(*o));

	if (o == NULL) {
		abort();
	}
	users__v1__organization_basic_view__init(o);
	o->id = gen_dup("00000000000000000000000000000000");
	o->name = gen_dup("String");
	o->has_type = 1;
	o->type = USERS__V1__ORGANIZATION_TYPE__Unknown;
	if (levels > 1) {
		o->n_sub_organizations = 1;
		o->sub_organizations = malloc(sizeof(void *));
		if (o->sub_organizations == NULL) {
			abort();
		}
		o->sub_organizations[0] = gen_org_placeholder(levels - 1);
	}
	return o;
}

char *
gen_encode(const uw_codec *c, const void *m)
{
	uw_buf b = {0};
	char *s;

	if (c->encode(m, &b) != 0) {
		uw_buf_fini(&b);
		return NULL;
	}
	s = gen_dup(b.data != NULL ? b.data : "");
	uw_buf_fini(&b);
	return s;
}

ProtobufCMessage *
gen_decode(const uw_codec *c, const ProtobufCMessageDescriptor *d,
	   const char *s, size_t n, const uw_limits *lim, uw_decode_error *err)
{
	ProtobufCMessage *m = uw_msg_new(d);

	memset(err, 0, sizeof(*err));
	if (c->decode(m, s, n, lim, err) != 0) {
		protobuf_c_message_free_unpacked(m, NULL);
		return NULL;
	}
	return m;
}

char *
gen_read_data(const char *rel)
{
	const char *src = getenv("USERS_SRC");
	char path[4096];
	char *buf = NULL;
	long len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/data/%s", src ? src : ".", rel);
	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)len + 1)) == NULL ||
	    fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}
