/*
 * ctl_json.h - usersctl's output: any protobuf-c message of the contract as
 * the REST API's JSON (camelCase json names), and that JSON as readable
 * text. Internal to usersctl (and its unit tests).
 */
#ifndef CTL_JSON_H
#define CTL_JSON_H

#include <stdio.h>

#include <jansson.h>

#include "users_proto.h"

/*
 * The message as JSON, by walking its descriptor: fields by their json
 * name (up_field_info json_name), unset fields omitted, enums by name
 * (numbers for up_enum_as_number enums), 64-bit integers as numbers, bytes
 * as base64, StringList wrappers as a plain list, map entries as an
 * object. A new reference (the caller's), or NULL on OOM, invalid UTF-8
 * or nesting deeper than CTL_JSON_MAX_DEPTH. up_meta_load() first.
 */
#define CTL_JSON_MAX_DEPTH 32
json_t *ctl_json_of_message(const ProtobufCMessage *msg);

/*
 * Prints JSON as text for people: "key: value" lines, nested objects
 * indented, lists of scalars comma-joined, lists of flat objects as a
 * table. Returns 0 or -1 (write error).
 */
int ctl_print_text(FILE *out, const json_t *v);

#endif
