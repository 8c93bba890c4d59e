/*
 * gw_meta.h - the self-describing API (docs/wire-formats.md, section 12):
 * metadata pages, typed DTOs and the OpenAPI document, all generated from
 * users.proto's embedded descriptor set (up_meta) and the codecs of
 * users_wire.h.
 *
 *   gw_meta_model.c  the type model shared by the generators: which types
 *                    an operation reaches, each field's type, names
 *   gw_meta_html.c   GET /metadata and /{fmt}/metadata?op=NAME, with the
 *                    samples the real codecs write for a placeholder-filled
 *                    message
 *   gw_meta_types.c  GET /types, /types/metadata, /types/{lang}: what the
 *                    DTO writers share (gw_meta_gen.h)
 *   gw_meta_lang_*.c one DTO writer per language
 *   gw_meta_openapi.c GET /openapi.json (OpenAPI 3.1)
 *   gw_meta_serve.c  the cache (built once, on first use, thread-safe) and
 *                    the h2o entry point
 *
 * The generators are pure functions of the contract and of what they are
 * given (a request's options and Host): they append to a uw_buf and
 * return 0, or -1 (out of memory, buffer full); on -1 the buffer holds a
 * partial result the caller discards. They need up_meta_load() to have
 * returned 0.
 */
#ifndef GW_META_H
#define GW_META_H

#include <stdbool.h>
#include <stddef.h>

#include "users_wire.h"
#include "users_proto.h"

/* The formats with a metadata page, in the order the index lists them. */
#define GW_META_N_FORMATS 4
extern const char *const gw_meta_formats[GW_META_N_FORMATS]; /* "xml".. */

/* The DTO languages of /types/{lang}, in the order /types lists them:
 * "csharp", "typescript", "mjs" (JavaScript, an ES module), "dart",
 * "java", "kotlin", "python", "swift". */
#define GW_META_N_LANGS 8
extern const char *const gw_meta_langs[GW_META_N_LANGS];
/* "C#", "TypeScript", "JavaScript", ...; NULL for an unknown language. */
const char *gw_meta_lang_label(const char *lang);

/*
 * The options of a /types request (ServiceStack's names, from the query
 * string), and where the API is. A DTO file's Options header lists them;
 * ServiceStack's tools update a file by sending the ones a user
 * uncommented back as the query of BaseUrl + /types/{lang}.
 */
enum {
	GW_OPT_ADD_RESPONSE_STATUS,
	GW_OPT_ADD_SERVICESTACK_TYPES,
	GW_OPT_ADD_DESCRIPTION_AS_COMMENTS,
	GW_OPT_INITIALIZE_COLLECTIONS,
	GW_OPT_MAKE_PROPERTIES_OPTIONAL,
	GW_OPT_N_BOOLS,
	/* the two lists, as bits of gw_meta_lang.listed */
	GW_OPT_INCLUDE_TYPES = GW_OPT_N_BOOLS,
	GW_OPT_EXCLUDE_TYPES,
};
#define GW_OPT_BIT(o) (1u << (o))
/* "AddResponseStatus", ... "IncludeTypes", "ExcludeTypes" */
extern const char *const gw_meta_opt_names[GW_OPT_EXCLUDE_TYPES + 1];

#define GW_META_URL_MAX   256
#define GW_META_TYPES_MAX 512 /* bytes of IncludeTypes or ExcludeTypes */

typedef struct gw_meta_opts {
	/* absolute, no trailing '/': "https://users.example.com" */
	char base_url[GW_META_URL_MAX];
	/* -1 when the query does not give it, else 0 or 1 */
	signed char flags[GW_OPT_N_BOOLS];
	/* the lists as given, trimmed, joined by ','; given or not */
	char include_types[GW_META_TYPES_MAX];
	char exclude_types[GW_META_TYPES_MAX];
	bool has_include, has_exclude;
	/* no Options header (the code blocks of the operation pages) */
	bool without_options;
} gw_meta_opts;

/* Defaults: nothing given, base_url copied (truncated to fit). */
void gw_meta_opts_init(gw_meta_opts *o, const char *base_url);
/*
 * Reads the options of a raw query string into o: booleans True/False in
 * any letter case, lists of type names separated by ','. 0, or -1 when a
 * value cannot be read (not a boolean, too long, a NUL, a name that is
 * not a type name's characters).
 */
int gw_meta_opts_read(gw_meta_opts *o, const char *query, size_t len);

/* ------------------------------------------------------------------------
 * The type model (gw_meta_model.c)
 */
typedef enum gw_meta_kind {
	GW_MK_STRING,
	GW_MK_GUID,
	GW_MK_BOOL,
	GW_MK_INT32,
	GW_MK_INT64,
	GW_MK_UINT32,
	GW_MK_UINT64,
	GW_MK_FLOAT,
	GW_MK_DOUBLE,
	GW_MK_BYTES,
	GW_MK_ENUM,
	GW_MK_MESSAGE,
} gw_meta_kind;

typedef struct gw_meta_scalar {
	gw_meta_kind kind;
	const ProtobufCEnumDescriptor *en;     /* GW_MK_ENUM */
	const ProtobufCMessageDescriptor *msg; /* GW_MK_MESSAGE */
} gw_meta_scalar;

/* What a field holds as the API shows it: list wrappers are lists of
 * their item, map<k,v> fields are dictionaries. */
typedef struct gw_meta_type {
	gw_meta_scalar item; /* the value (of each item, of each map value) */
	gw_meta_scalar key;  /* map: the key */
	bool list;
	bool map;
} gw_meta_type;

void gw_meta_field_type(const ProtobufCMessageDescriptor *d,
			const ProtobufCFieldDescriptor *f, gw_meta_type *out);

/* A type an operation reaches: a message or an enum. */
typedef struct gw_meta_ref {
	const ProtobufCMessageDescriptor *msg; /* one of the two is set */
	const ProtobufCEnumDescriptor *en;
} gw_meta_ref;

#define GW_META_MAX_TYPES 128

typedef struct gw_meta_set {
	gw_meta_ref refs[GW_META_MAX_TYPES];
	size_t n;
} gw_meta_set;

/* How gw_meta_collect orders and filters what it finds. */
enum {
	/* Dependencies before the types that use them (for languages that
	 * want declarations first); else each type before what it reaches
	 * (the metadata pages' order). */
	GW_META_POST_ORDER = 1,
	/* Do not expand ServiceStack's own types (ResponseStatus...) that a
	 * DTO reaches; roots are always expanded. */
	GW_META_SKIP_SS_NESTED = 2,
	/* Leave out the enums. */
	GW_META_NO_ENUMS = 4,
};

/*
 * Appends root (when not there yet) and every message and enum it reaches
 * to set. List wrappers and map entries are never types of their own.
 * 0, or -1 when the set is full.
 */
int gw_meta_collect(gw_meta_set *set, const ProtobufCMessageDescriptor *root,
		    unsigned flags);
/* Every type of every operation: for each method its response, then its
 * request (with POST_ORDER: declarations first). 0 or -1. */
int gw_meta_collect_all(gw_meta_set *set, unsigned flags);
/* A new set (free() it) of every type, as gw_meta_collect_all; NULL when
 * out of memory or full. */
gw_meta_set *gw_meta_set_all(unsigned flags);

/* ServiceStack's own types (xml_namespace schemas.servicestack.net). */
bool gw_meta_is_ss_type(const ProtobufCMessageDescriptor *d);
/* The first route's HTTP method ("POST"), "POST" when none. */
const char *gw_meta_verb(const up_method *m);
/* Every route the pages document for an operation: its own (routes),
 * then those usersgw answers itself (gw_routes: GET /auth). */
size_t gw_meta_route_count(const up_method *m);
const up_route *gw_meta_route_at(const up_method *m, size_t i);
/* Whether the verb sends a body (POST, PUT, PATCH). */
bool gw_meta_verb_has_body(const char *verb);
/* The field's description, "" when none; required and param_in. */
const char *gw_meta_field_description(const ProtobufCMessageDescriptor *d,
				      const ProtobufCFieldDescriptor *f);
bool gw_meta_field_required(const ProtobufCMessageDescriptor *d,
			    const ProtobufCFieldDescriptor *f);
const char *gw_meta_field_param_in(const ProtobufCMessageDescriptor *d,
				   const ProtobufCFieldDescriptor *f);
uint32_t gw_meta_field_max_len(const ProtobufCMessageDescriptor *d,
			       const ProtobufCFieldDescriptor *f);
/* The method whose request type is d, or NULL. */
const up_method *gw_meta_method_of_request(const ProtobufCMessageDescriptor *d);

/* C#'s name of a type, as the pages' Data Type column shows it:
 * "string", "List<string>", "Dictionary<string, string>", "Guid". */
int gw_meta_put_cs_type(uw_buf *out, const gw_meta_type *t);

/* Output helpers */
int gw_meta_printf(uw_buf *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s with & < > " ' escaped for HTML text and attribute values. */
int gw_meta_put_html(uw_buf *out, const char *s);
/* A line break, then unit n times (the indentation of displayed
 * samples). */
int gw_meta_put_indent(uw_buf *out, const char *unit, int n);
/* s with \ and " escaped and line breaks as spaces, for a one-line
 * C-like string literal inside a comment or attribute. */
int gw_meta_put_literal(uw_buf *out, const char *s);
/* s with line breaks as spaces and comment closers broken, for text in a
 * comment block or docstring. */
int gw_meta_put_comment(uw_buf *out, const char *s);
/* "accountIds" -> "account_ids"; "ViewFiles" -> "VIEW_FILES" (upper). */
int gw_meta_put_snake(uw_buf *out, const char *s, bool upper);

/* ------------------------------------------------------------------------
 * The generators
 */

/*
 * A new message of type d with every field filled with a placeholder, the
 * way ServiceStack's sample pages do: strings "String", numbers 0,
 * booleans false, enums their first value, Guids all zeros, lists and
 * maps one item, nested messages filled in turn (a type that already
 * occurs three times on the path is left empty). Free it with
 * protobuf_c_message_free_unpacked(msg, NULL). NULL when out of memory.
 */
ProtobufCMessage *gw_meta_placeholder(const ProtobufCMessageDescriptor *d);

/*
 * The sample body of a message of type d in codec c, as the pages show
 * it: the codec's own bytes, JSV indented the way ServiceStack displays
 * it, XML one element a line without its declaration. 0 or -1.
 */
int gw_meta_sample(const ProtobufCMessageDescriptor *d, const uw_codec *c,
		   uw_buf *out);
/* ServiceStack's JSV display form of compact JSV (quotes respected). */
int gw_meta_jsv_indent(const char *jsv, size_t len, uw_buf *out);

/* GET /metadata: every operation with a link per format. */
int gw_meta_html_index(uw_buf *out);
/*
 * GET /{fmt}/metadata?op=NAME[&lang=LANG]: fmt is one of gw_meta_formats;
 * lang NULL for the parameter tables, else one of gw_meta_langs: the
 * operation's DTOs in that language instead (ServiceStack's language
 * tabs). host: the Host line of the samples.
 */
int gw_meta_html_op(const up_method *m, const char *fmt, const char *lang,
		    const char *host, uw_buf *out);
/* A small page for an unknown operation (404). */
int gw_meta_html_not_found(const char *what, uw_buf *out);

/*
 * GET /types/{lang}: lang is one of gw_meta_langs; o the request's options
 * (IncludeTypes picks types and everything they reach, an operation's
 * request its response too; ExcludeTypes drops types by name).
 */
int gw_meta_types(const char *lang, const gw_meta_opts *o, uw_buf *out);
/* GET /types: a JSON object of every language's URL under base_url. */
int gw_meta_types_index(const char *base_url, uw_buf *out);
/* GET /types/metadata: the selected types and operations as
 * ServiceStack's MetadataTypes JSON (what its tooling reads). */
int gw_meta_types_metadata(const gw_meta_opts *o, uw_buf *out);

/* GET /openapi.json */
int gw_meta_openapi(uw_buf *out);

/* ------------------------------------------------------------------------
 * Serving (gw_meta_serve.c)
 */

/* Builds every page once (later calls return the first result; any
 * thread). 0 or -1. */
int gw_meta_init(void);

/*
 * --public-url: the absolute URL clients reach the API at (the BaseUrl of
 * DTO files, the Host of the samples). NULL or "": each request's own
 * scheme and Host. Called once, before the loops start.
 */
void gw_meta_set_public_url(const char *url);

/* Where a request says the API is. */
typedef struct gw_meta_site {
	const char *base_url; /* "https://users.example.com" */
	const char *host;     /* "users.example.com" */
} gw_meta_site;

/*
 * Looks up one response by the request's method, path and query (what
 * gw_meta_serve answers): the index, OpenAPI and 404 page from the cache,
 * the operation pages and /types files made for the request (its Host,
 * its options). A NULL body means "not ours". gw_meta_response_fini()
 * after.
 */
typedef struct gw_meta_response {
	int status;               /* 200, 304, 400, 404, 405 */
	const char *content_type; /* NULL for 304 */
	const char *body;         /* the cache's, or owned */
	size_t len;
	const char *etag; /* "\"...\"" */
	bool html;
	char *owned; /* body made for this request (free()d by _fini) */
	char etag_buf[24];
} gw_meta_response;

bool gw_meta_lookup(const char *method, size_t mlen, const char *path,
		    size_t len, const char *if_none_match, size_t inm_len,
		    const gw_meta_site *site, gw_meta_response *out);
void gw_meta_response_fini(gw_meta_response *r);

struct st_h2o_req_t;
/*
 * Answers GET/HEAD /metadata, /{fmt}/metadata, /types/{lang} and
 * /openapi.json on the request's loop thread. Returns true when the
 * request was one of ours and has been answered, false when it was not
 * (nothing sent).
 */
bool gw_meta_serve(struct st_h2o_req_t *req);

#endif /* GW_META_H */
