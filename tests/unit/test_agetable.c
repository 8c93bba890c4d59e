/*
 * test_agetable.c - the age table under the lockout and replay tables
 * (daemon/auth/agetable.h): found by key, ordered oldest first, touched to
 * the newest, removed; keys seeded per table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agetable.h"
#include "check.h"

typedef struct item {
	ud_agetable_node node;
	int value;
} item;

static int freed;

static void
item_free(ud_agetable_node *n)
{
	freed++;
	free(n);
}

static item *
add(ud_agetable *t, const char *name, int value)
{
	item *it = calloc(1, sizeof(*it));

	if (it == NULL) {
		abort();
	}
	ud_agetable_key(t, name, strlen(name), it->node.key);
	it->value = value;
	ud_agetable_add(t, &it->node);
	return it;
}

static item *
find(ud_agetable *t, const char *name)
{
	uint8_t key[UD_AGETABLE_KEY_LEN];

	ud_agetable_key(t, name, strlen(name), key);
	return (item *)ud_agetable_find(t, key);
}

/* The values from oldest to newest, as a string of digits. */
static void
order(const ud_agetable *t, char *buf)
{
	size_t n = 0;

	for (const ud_agetable_node *p = t->oldest; p != NULL; p = p->newer) {
		buf[n++] = (char)('0' + ((const item *)p)->value);
	}
	buf[n] = '\0';
}

int
main(void)
{
	ud_agetable t, other;
	uint8_t k1[UD_AGETABLE_KEY_LEN], k2[UD_AGETABLE_KEY_LEN];
	char buf[64];
	item *b;

	/* a tiny table: many entries share few buckets */
	CHECK_INT(ud_agetable_init(&t, 1), 0);
	CHECK_INT(ud_agetable_init(&other, 1), 0);
	add(&t, "a", 1);
	b = add(&t, "b", 2);
	add(&t, "c", 3);
	for (int i = 0; i < 40; i++) {
		char name[16];
		snprintf(name, sizeof(name), "x%d", i);
		add(&t, name, 9);
	}
	CHECK_INT(t.count, 43);
	CHECK(find(&t, "a") != NULL && find(&t, "a")->value == 1);
	CHECK(find(&t, "b") == b);
	CHECK(find(&t, "nope") == NULL);
	/* oldest first; a touch makes an entry the newest */
	order(&t, buf);
	CHECK(strncmp(buf, "123", 3) == 0);
	ud_agetable_touch(&t, &b->node);
	order(&t, buf);
	CHECK(strncmp(buf, "13", 2) == 0 && buf[strlen(buf) - 1] == '2');
	/* removed: gone from both the buckets and the order */
	ud_agetable_remove(&t, &b->node);
	free(b);
	CHECK(find(&t, "b") == NULL);
	CHECK(find(&t, "c") != NULL);
	CHECK_INT(t.count, 42);
	order(&t, buf);
	CHECK(strchr(buf, '2') == NULL);
	/* a key depends on the table's seed: not guessable across tables */
	ud_agetable_key(&t, "a", 1, k1);
	ud_agetable_key(&other, "a", 1, k2);
	CHECK(memcmp(k1, k2, sizeof(k1)) != 0);
	ud_agetable_key(&t, "a", 1, k2);
	CHECK(memcmp(k1, k2, sizeof(k1)) == 0);
	/* fini hands every entry back */
	ud_agetable_fini(&t, item_free);
	CHECK_INT(freed, 42);
	ud_agetable_fini(&other, item_free);
	return check_done();
}
