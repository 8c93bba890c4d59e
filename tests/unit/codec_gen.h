/*
 * codec_gen.h - random messages of the DTOs for the codec round-trip
 * tests (a fixed xorshift seed: every run makes the same messages), and
 * comparison by packed protobuf bytes. Strings are made of pieces that
 * stress text formats: separators, quotes, brackets, line breaks, spaces at
 * the ends, non-ASCII, formula starts, empty values.
 */
#ifndef CODEC_GEN_H
#define CODEC_GEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "users_wire.h"

#define GEN_N_DTOS 38

/*
 * What random strings are made of, and how map keys are made. The default
 * (gen_style_default) stresses text formats: separators, quotes, brackets,
 * line breaks, spaces at the ends, non-ASCII, formula starts, empty
 * values; its map keys are random (possibly equal) strings. A codec's test
 * can bring its own pieces, and with key_mid non-NULL distinct map keys
 * "k<index><key_mid><0..99><key_end>" (for formats with one value a key).
 */
typedef struct gen_style {
	const char *const *pieces;
	size_t n_pieces;
	const char *key_mid;
	const char *key_end;
} gen_style;

extern const gen_style gen_style_default;

/* Makes the next messages with s (kept, not copied); the default first. */
void gen_use(const gen_style *s);

/* A fixed-seed xorshift: 0..n-1 (0 when n is 0). */
uint32_t gen_rnd(uint32_t n);

/* A malloc'd copy of s; aborts when out of memory. */
char *gen_dup(const char *s);

/* A random string (malloc'd): 32 hex digits when guid, else pieces. */
char *gen_string(bool guid);

/* Fills about two thirds of m's fields, nesting a few levels. */
void gen_fill(ProtobufCMessage *m, int depth);

/* Whether a and b pack to the same protobuf bytes. */
bool gen_same_packed(const ProtobufCMessage *a, const ProtobufCMessage *b);

/* Every message of users.proto. */
extern const ProtobufCMessageDescriptor *const gen_all_dtos[GEN_N_DTOS];

/*
 * Helpers for the golden cases. Each returns what the caller frees (the
 * message with protobuf_c_message_free_unpacked(), the rest with free()),
 * and aborts when out of memory.
 */

/* A one-element string array holding a copy of s. */
char **gen_strs1(const char *s);

/* A map entry of d (a ResponseStatus or ResponseError meta entry) k: v. */
void *gen_meta_entry(const ProtobufCMessageDescriptor *d, const char *k,
		     const char *v);

/* The seeds' placeholder organization (zero Id, Name "String", type
 * Unknown) with one sub-organization nested for each level above 1. */
Users__V1__OrganizationBasicView *gen_org_placeholder(int levels);

/* m encoded with c, NUL-terminated; NULL when c refuses it. */
char *gen_encode(const uw_codec *c, const void *m);

/* s[0..n) decoded with c into a new d, lim NULL for the defaults; NULL
 * and *err (cleared first) when c refuses it. */
ProtobufCMessage *gen_decode(const uw_codec *c,
			     const ProtobufCMessageDescriptor *d, const char *s,
			     size_t n, const uw_limits *lim,
			     uw_decode_error *err);

/*
 * A golden file of tests/data (e.g. "seeds/UpdateBusinessUser.request.jsv",
 * the seed's sample as committed once for every test that needs it), read
 * from $USERS_SRC. A malloc'd NUL-terminated copy; exits the test when it
 * cannot be read (a missing golden file is a broken test, not a skip).
 */
char *gen_read_data(const char *rel);

#endif /* CODEC_GEN_H */
