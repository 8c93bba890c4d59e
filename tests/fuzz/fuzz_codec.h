/*
 * fuzz_codec.h - what the codec fuzz targets (fuzz_{json,xml,jsv,csv,form}.c)
 * share: the input read into a DTO, the result encoded back, and that
 * encoding decoded again to the same message (compared by packed bytes).
 * Anything else aborts, so libFuzzer (or the corpus replay) reports it.
 */
#ifndef FUZZ_CODEC_H
#define FUZZ_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "users_wire.h"

/* Reads in[0..len) into m: 0, or -1 with *err filled (arg: fuzz_codec's). */
typedef int (*fuzz_read_fn)(ProtobufCMessage *m, const char *in, size_t len,
			    const void *arg, uw_decode_error *err);

typedef struct fuzz_codec {
	const uw_codec *codec; /* encodes back, decodes that encoding */
	fuzz_read_fn read;     /* reads the input; NULL: codec->decode */
	const void *arg;       /* for read */
	bool explain;          /* a refusal must carry a non-empty message */
} fuzz_codec;

/*
 * One DTO: reads data into a new d; when that succeeds, encodes it with
 * fc->codec, and that must decode to the same message; when it fails, the
 * error message must be NUL-terminated (and non-empty with fc->explain).
 */
void fuzz_codec_one(const fuzz_codec *fc, const ProtobufCMessageDescriptor *d,
		    const uint8_t *data, size_t size);

/*
 * fuzz_codec_one() for each request DTO of the service (up_meta_load()
 * done), then for each of extra (NULL-terminated, or NULL).
 */
void fuzz_codec_all(const fuzz_codec *fc, const uint8_t *data, size_t size,
		    const ProtobufCMessageDescriptor *const *extra);

#endif
