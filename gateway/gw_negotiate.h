/*
 * gw_negotiate.h - content negotiation (docs/wire-formats.md, sections 2
 * and 3): from what a request says about formats, the format of the answer
 * (or JSONP with its callback, or why it cannot be answered) and the
 * reader of its body. Pure functions over plain inputs: no h2o types, no
 * allocation, no global state; safe from any thread.
 *
 * Response format, documented routes (/users, /user, /auth/..., and the
 * gateway's own GET /auth), first rule that applies wins:
 *   1. the format the path names (.json .xml .jsv .csv suffix);
 *   2. ?callback=NAME: JSON wrapped as JSONP (NAME must be a safe
 *      identifier, see gw_neg_callback_ok; anything else: 400);
 *   3. ?format=NAME (a name we do not speak: 406);
 *   4. Accept (see gw_neg_accept; naming nothing we speak: 406);
 *   5. the body's format when the body has one, else JSON.
 * Predefined routes (/api/{Op}, /{fmt}/reply|oneway/{Op}): ?callback=,
 * then ?format=, then the route's own format; Accept is ignored.
 * A path naming a format we do not speak is a 406 on any route.
 * Query parameter names match case-insensitively; the first of a name
 * counts; values are percent-decoded ('+' is a space).
 *
 * Request body: none without one; a form post (application/x-www-form-
 * urlencoded) is read as a form on every route; otherwise a predefined
 * route reads it in its own format whatever the Content-Type says, and a
 * documented route by its Content-Type (parameters ignored; a missing or
 * unknown one: 415, checked after the response format is chosen so the
 * 415 is answered in that format).
 */
#ifndef GW_NEGOTIATE_H
#define GW_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>

#include "users_wire.h"

/* Longest JSONP callback name accepted (bytes, after percent-decoding). */
#define GW_NEG_CALLBACK_MAX 64

typedef struct gw_neg_in {
	bool predefined; /* /api/{Op}, /{fmt}/reply|oneway/{Op} */
	/*
	 * The format the path names: a documented route's .ext suffix, a
	 * predefined route's own format (JSON for /api/{Op}, else its suffix
	 * or {fmt}); NULL: none (a predefined route then answers JSON).
	 */
	const uw_codec *route_codec;
	bool route_format_unknown; /* the path names a format we lack */
	const char *query;         /* raw, after '?'; NULL: no query */
	size_t query_len;
	const char *accept; /* the Accept header's value; NULL: none */
	size_t accept_len;
	const char *content_type; /* the Content-Type; NULL: none */
	size_t content_type_len;
	bool has_body; /* a non-empty body that the route reads */
} gw_neg_in;

typedef enum gw_neg_status {
	GW_NEG_OK = 0,
	GW_NEG_BAD_CALLBACK,    /* 400 ArgumentException, field Callback */
	GW_NEG_NOT_ACCEPTABLE,  /* 406 NotAcceptable, answered in JSON */
	GW_NEG_UNSUPPORTED_TYPE /* 415 UnsupportedMediaType */
} gw_neg_status;

typedef enum gw_neg_body {
	GW_NEG_BODY_NONE = 0, /* no body to read */
	GW_NEG_BODY_CODEC,    /* read with body_codec */
	GW_NEG_BODY_FORM,     /* a form post */
	GW_NEG_BODY_UNKNOWN   /* a Content-Type we do not read, or none */
} gw_neg_body;

typedef struct gw_neg_out {
	gw_neg_status status;
	/* For a status other than OK: the ResponseStatus message (static). */
	const char *message;
	/* The answer's format; always set (JSON under JSONP and for 406). */
	const uw_codec *codec;
	bool jsonp;
	char callback[GW_NEG_CALLBACK_MAX + 1]; /* with jsonp, else "" */
	gw_neg_body body;
	const uw_codec *body_codec; /* with GW_NEG_BODY_CODEC, else NULL */
} gw_neg_out;

/* Fills *out from *in (every member; in's strings are only read). */
void gw_negotiate(const gw_neg_in *in, gw_neg_out *out);

/*
 * The Accept rule. Entries are split at ',' and ';' outside quoted
 * strings; media types compare case-insensitively; an entry's q parameter
 * (RFC 9110 qvalue, read leniently: spaces, a leading '.', more than three
 * decimals; above 1 counts as 1, negative as 0, unreadable as 1) weighs
 * it, and q=0 refuses. Each of our formats gets the q of the most specific
 * entry naming it: one of its media types (application/json or text/json
 * for JSON, application/xml or text/xml, text/jsv or application/jsv,
 * text/csv), else the range of the type of its response Content-Type
 * (application/STAR covers JSON and XML, text/STAR JSV and CSV; STAR is
 * the asterisk), else STAR/STAR or a bare STAR. The format with the
 * highest q wins; on a tie, the one whose entry came first; among the
 * formats one range names, body (the format of the request's body, when
 * it has one) and then JSON, JSV, CSV, XML.
 * An Accept with no entry at all (empty, only commas) counts as absent:
 * body, else JSON. NULL: it names nothing we speak with q > 0.
 */
const uw_codec *gw_neg_accept(const char *accept, size_t len,
			      const uw_codec *body);

/*
 * A JSONP callback name we put on the wire: 1..GW_NEG_CALLBACK_MAX bytes,
 * one JavaScript identifier or a dotted path of them (jQuery's
 * "jQuery3600_17", Angular's "angular.callbacks._0"), each part ASCII
 * [A-Za-z_$][A-Za-z0-9_$]*. Nothing else: no brackets, quotes, spaces,
 * leading, trailing or doubled dots, digits first, non-ASCII. The length
 * bound also keeps a name from being a Flash file (Rosetta Flash).
 */
bool gw_neg_callback_ok(const char *name, size_t len);

/*
 * The first value of name (case-insensitive) in a raw query string (NULL:
 * none), percent-decoded ('+' a space, a malformed escape kept as it is)
 * into out (size >= 1; NUL-terminated; *out_len bytes, which may hold a
 * decoded NUL). 1 when found and it fits in size - 1 bytes, 0 when name is
 * absent (or has no '='), -1 when found but too long (out "").
 */
int gw_neg_query_param(const char *query, size_t len, const char *name,
		       char *out, size_t size, size_t *out_len);

#endif /* GW_NEGOTIATE_H */
