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

/*
 * Prints msg, an answer of the daemon: with json the bytes usersgw would
 * send for it in JSON (the codec library's encoder: every list written,
 * [] when empty; Guids as 32 hex digits; invalid UTF-8 as U+FFFD) and a
 * newline; else that JSON as text for people (ctl_print_text). hide:
 * names of fields left out (tokens), wiped and cleared from msg first.
 * NULL-terminated, or NULL. 0, or -1 (not encodable, a write error).
 */
int ctl_print_message(FILE *out, ProtobufCMessage *msg, bool json,
		      const char *const *hide);

/*
 * Prints JSON as text for people: "key: value" lines, nested objects
 * indented, lists of scalars comma-joined, lists of flat objects as a
 * table, empty lists left out. Returns 0 or -1 (write error).
 */
int ctl_print_text(FILE *out, const json_t *v);

#endif
