/*
 * policy_words.h - internal to the proto library: meta.c makes the
 * policy's sentences (policy.c) once the service's options are read.
 */
#ifndef UP_POLICY_WORDS_H
#define UP_POLICY_WORDS_H

#include <stddef.h>

void up_policy_words_init(const char *superuser, const char *const *admin,
			  size_t n_admin, const char *const *subtree,
			  size_t n_subtree);

#endif
