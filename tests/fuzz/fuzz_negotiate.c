/*
 * fuzz_negotiate.c - content negotiation (gateway/gw_negotiate.c) on
 * untrusted input. The input is a case file (tests/unit/negotiate_case.h:
 * "key: value" lines giving the route, path format, query string, Accept,
 * Content-Type and body; the seed corpus is tests/data/negotiate), split
 * into those fields and negotiated; its expectations, if any, are not
 * read. The whole input is also given raw to the Accept reader, the query
 * reader and the callback check.
 *
 * Never a crash, a read out of bounds or UB, and the answer always keeps
 * the rules' invariants: a known format; JSONP only as JSON with a safe
 * name; 400 and 406 in plain JSON; a path's unknown format is a 406; a
 * documented route's suffix decides the format; predefined routes ignore
 * Accept; the same input, the same answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/negotiate_case.h"
#include "fuzz_require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
known_codec(const uw_codec *c)
{
	for (size_t i = 0; uw_codecs[i] != NULL; i++) {
		if (uw_codecs[i] == c) {
			return true;
		}
	}
	return false;
}

static bool
same_out(const gw_neg_out *a, const gw_neg_out *b)
{
	return a->status == b->status && a->codec == b->codec &&
	       a->jsonp == b->jsonp && strcmp(a->callback, b->callback) == 0 &&
	       a->body == b->body && a->body_codec == b->body_codec &&
	       a->message == b->message;
}

static void
check_out(const gw_neg_in *in, const gw_neg_out *out)
{
	gw_neg_out again;
	size_t cb_len = strnlen(out->callback, sizeof(out->callback));

	require(cb_len < sizeof(out->callback));
	require(neg_status_http(out->status) > 0);
	require(out->codec != NULL && known_codec(out->codec));
	require((out->status == GW_NEG_OK) == (out->message == NULL));
	if (out->jsonp) {
		require(out->codec == &uw_codec_json);
		require(gw_neg_callback_ok(out->callback, cb_len));
		require(out->status == GW_NEG_OK ||
			out->status == GW_NEG_UNSUPPORTED_TYPE);
	} else {
		require(cb_len == 0);
	}
	if (out->status == GW_NEG_BAD_CALLBACK ||
	    out->status == GW_NEG_NOT_ACCEPTABLE) {
		require(!out->jsonp && out->codec == &uw_codec_json);
	}
	require((out->body == GW_NEG_BODY_CODEC) == (out->body_codec != NULL));
	require(out->body_codec == NULL || known_codec(out->body_codec));
	if (!in->has_body) {
		require(out->body == GW_NEG_BODY_NONE);
	}
	if (in->predefined && in->has_body && out->body != GW_NEG_BODY_FORM) {
		require(out->body == GW_NEG_BODY_CODEC);
	}
	require((out->status == GW_NEG_UNSUPPORTED_TYPE) ==
		(out->body == GW_NEG_BODY_UNKNOWN &&
		 out->status != GW_NEG_BAD_CALLBACK &&
		 out->status != GW_NEG_NOT_ACCEPTABLE));
	if (in->route_format_unknown) {
		require(out->status == GW_NEG_NOT_ACCEPTABLE);
	} else if (!in->predefined && in->route_codec != NULL) {
		require(out->codec == in->route_codec && !out->jsonp);
	}
	gw_negotiate(in, &again);
	require(same_out(out, &again));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static neg_case c;
	const char *text = (const char *)data;
	char err[128];
	char buf[GW_NEG_CALLBACK_MAX + 1];
	gw_neg_in in;
	gw_neg_out out, no_accept;
	const uw_codec *a;
	size_t len;
	int found;

	/* the raw input as an Accept header, a query string, a callback */
	a = gw_neg_accept(text, size, NULL);
	require(a == NULL || known_codec(a));
	a = gw_neg_accept(text, size, &uw_codec_csv);
	require(a == NULL || known_codec(a));
	found =
	    gw_neg_query_param(text, size, "callback", buf, sizeof(buf), &len);
	require(found >= -1 && found <= 1 && len < sizeof(buf));
	require(found == 1 || (len == 0 && buf[0] == '\0'));
	(void)gw_neg_callback_ok(text, size);

	/* the input as a case */
	if (neg_case_parse(text, size, &c, err, sizeof(err)) != 0 ||
	    neg_case_input(&c, &in) != 0) {
		return 0;
	}
	gw_negotiate(&in, &out);
	check_out(&in, &out);
	/* predefined routes ignore Accept */
	if (in.predefined) {
		gw_neg_in in2 = in;

		in2.accept = NULL;
		in2.accept_len = 0;
		gw_negotiate(&in2, &no_accept);
		require(same_out(&out, &no_accept));
	}
	return 0;
}
