/*
 * ctl_json.h - usersctl's output: any message of the contract as the REST
 * API's JSON (the userswire library's encoder, as usersgw writes it), and
 * that JSON as readable text. Internal to usersctl (and its unit tests).
 */
#ifndef CTL_JSON_H
#define CTL_JSON_H

#include <stdio.h>

#include <jansson.h>

#include "users_wire.h"

/* usersctl -o: how an answer is printed. */
enum {
	CTL_OUT_TABLE = 0, /* text for people (ctl_print_text): the default */
	CTL_OUT_JSON = 1,  /* the wire's JSON (--json) */
	CTL_OUT_YAML = 2,  /* that JSON as YAML (ctl_print_yaml) */
	CTL_OUT_WIDE = 3,  /* the text, its cells never cut */
};

/*
 * Prints msg, an answer of the daemon: with CTL_OUT_JSON the bytes usersgw
 * would send for it in JSON (the codec library's encoder: every list
 * written, [] when empty; Guids as 32 hex digits; invalid UTF-8 as
 * U+FFFD) and a newline; else that JSON as text for people
 * (ctl_print_text; CTL_OUT_WIDE: cells of any length) or as YAML. hide:
 * names of fields left out (tokens), wiped and cleared from msg first.
 * NULL-terminated, or NULL. 0, or -1 (not encodable, a write error).
 */
int ctl_print_message(FILE *out, ProtobufCMessage *msg, int output,
		      const char *const *hide);

/*
 * Prints JSON as text for people: "key: value" lines, nested objects
 * indented, lists of scalars comma-joined, lists of flat objects as a
 * table, empty lists left out. Returns 0 or -1 (write error).
 */
int ctl_print_text(FILE *out, const json_t *v);

/*
 * Prints JSON as a YAML document ("---" first): block style, every string
 * and key double-quoted, every list written ([] when empty). 0 or -1.
 */
int ctl_print_yaml(FILE *out, const json_t *v);

#endif
