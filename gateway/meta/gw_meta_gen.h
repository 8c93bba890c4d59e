/*
 * gw_meta_gen.h - what the DTO generators of /types/{lang} share (private
 * to gateway/meta): one generation's settings (the language, the query's
 * options, the selected types), the properties of a DTO as every language
 * writes them, and the Options header.
 *
 * A generation is a pure function of the contract, the options and the
 * base URL: gw_meta_types() makes a gw_gen, the language's writer appends
 * to a uw_buf (0, or -1 when out of memory), gw_meta_types() frees it.
 */
#ifndef GW_META_GEN_H
#define GW_META_GEN_H

#include "gw_meta.h"

typedef struct gw_gen gw_gen;

/* One language of /types/{name}. */
typedef struct gw_meta_lang {
	const char *name;   /* the route: "python" */
	const char *label;  /* "Python" (pages, /types) */
	const char *open;   /* the Options comment's first line */
	const char *close;  /* and its last */
	const char *prefix; /* marks an option left at its default: "//" */
	unsigned listed;    /* GW_OPT_* bits the header lists (and honours) */
	unsigned defaults;  /* GW_OPT_* bits that are True by default */
	unsigned collect;   /* gw_meta_collect flags (POST_ORDER) */
	int (*write)(const gw_gen *g, uw_buf *out);
} gw_meta_lang;

struct gw_gen {
	const gw_meta_lang *lang;
	const gw_meta_opts *o;
	gw_meta_set *set; /* the selected types, in the language's order */
	bool rs;          /* AddResponseStatus */
	bool ss_types;    /* AddServiceStackTypes */
	bool comments;    /* AddDescriptionAsComments */
	bool init_lists;  /* InitializeCollections */
	bool optional;    /* MakePropertiesOptional */
};

/* A DTO's property as the generators write it. */
typedef struct gw_prop {
	const ProtobufCMessageDescriptor *d; /* the declaring message */
	const ProtobufCFieldDescriptor *f;
	gw_meta_type t;
	const char *name; /* declared, PascalCase: "SubOrganizations" */
	const char *wire; /* on the wire: "organizations" */
	/* The wire name when it is not the declared name's camelCase:
	 * [DataMember(Name=...)], @SerializedName, CodingKeys. */
	const char *data_member;
	const char *desc; /* "" when none */
	bool required;
	/* A list whose absence matters (a StringList of a PATCH): never
	 * initialized, so an untouched DTO leaves it out. */
	bool presence;
	/* Written initialized to an empty collection (InitializeCollections,
	 * or a required list when properties are not optional). */
	bool init;
} gw_prop;

#define GW_GEN_MAX_PROPS 64

/*
 * The properties of d: its fields, then (AddResponseStatus, on an
 * operation's response without one) a responseStatus. Returns how many
 * were written to out (at most GW_GEN_MAX_PROPS).
 */
size_t gw_gen_props(const gw_gen *g, const ProtobufCMessageDescriptor *d,
		    gw_prop *out);

/* The operation whose request d is, or NULL; the verb interface of a
 * request ("IPatch"), NULL for other types. */
const up_method *gw_gen_method(const ProtobufCMessageDescriptor *d);
const char *gw_gen_verb_interface(const ProtobufCMessageDescriptor *d);
/* Whether d is some operation's response. */
bool gw_gen_is_response(const ProtobufCMessageDescriptor *d);
/* The index of message d in the set, or set->n. */
size_t gw_gen_index(const gw_meta_set *set,
		    const ProtobufCMessageDescriptor *d);
/* Whether the set holds d (message) or e (enum). */
bool gw_gen_has(const gw_meta_set *set, const ProtobufCMessageDescriptor *d,
		const ProtobufCEnumDescriptor *e);

/*
 * The Options header: open, Version, Tip, BaseUrl, then each listed option
 * as "Name: value", with the language's prefix when the query did not
 * give it, then close and a blank line. Nothing when the options say
 * without_options.
 */
int gw_gen_header(const gw_gen *g, uw_buf *out);

/* "accountIds" of "AccountIds" (the first letter lowered). */
int gw_gen_put_camel(uw_buf *out, const char *pascal);

/* The writers, one per language (gw_meta_types_*.c). */
int gw_gen_python(const gw_gen *g, uw_buf *out);
int gw_gen_swift(const gw_gen *g, uw_buf *out);
int gw_gen_csharp(const gw_gen *g, uw_buf *out);
int gw_gen_typescript(const gw_gen *g, uw_buf *out);
int gw_gen_mjs(const gw_gen *g, uw_buf *out);
int gw_gen_java(const gw_gen *g, uw_buf *out);
int gw_gen_kotlin(const gw_gen *g, uw_buf *out);
int gw_gen_dart(const gw_gen *g, uw_buf *out);

#define GEN_CHECK(expr)                                                        \
	do {                                                                   \
		if ((expr) != 0) {                                             \
			return -1;                                             \
		}                                                              \
	} while (0)

#endif /* GW_META_GEN_H */
