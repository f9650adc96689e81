/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cache of compiled Hyperscan databases (hs_cache.h): a chained hash
 * table of entries keyed by their patterns, under one lock. Compiling
 * happens under the lock too, so two builds asking for the same patterns
 * compile them once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/compile/hs_cache.h"

static struct {
	pthread_mutex_t lock;
	struct hf_hs_cached **slots;
	size_t n_slots, n;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

uint64_t
hf_hs_cache_hash(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static int
cache_grow(void)
{
	size_t ns = cache.n_slots ? cache.n_slots * 2 : 1024;
	struct hf_hs_cached **s = calloc(ns, sizeof(*s));

	if (s == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cache.n_slots; i++) {
		struct hf_hs_cached *e = cache.slots[i], *nx;

		for (; e != NULL; e = nx) {
			nx = e->next;
			e->next = s[e->hash & (ns - 1)];
			s[e->hash & (ns - 1)] = e;
		}
	}
	free(cache.slots);
	cache.slots = s;
	cache.n_slots = ns;
	return 0;
}

struct hf_hs_cached *
hf_hs_cache_get(const char *const *pats, const char *const *bare, const size_t *lens,
                const unsigned int *flags, unsigned int n, unsigned int mode,
                hs_compile_error_t **cerr, bool *compiled)
{
	uint32_t tag = mode | (lens != NULL ? 0x80000000u : 0);
	size_t keylen = sizeof(tag);
	struct hf_hs_cached *e = NULL;
	unsigned int *ids = calloc(n, sizeof(*ids));
	hs_error_t rc;
	uint64_t h;
	char *k;

	*cerr = NULL;
	*compiled = false;
	for (unsigned int i = 0; i < n; i++)
		keylen += 2 * sizeof(uint32_t) + (lens != NULL ? lens[i] : strlen(pats[i]));
	e = ids != NULL ? malloc(sizeof(*e) + keylen) : NULL;
	if (e == NULL) {
		free(ids);
		return NULL;
	}
	k = e->key;
	memcpy(k, &tag, sizeof(tag));
	k += sizeof(tag);
	for (unsigned int i = 0; i < n; i++) {
		uint32_t f = flags[i], l = (uint32_t)(lens != NULL ? lens[i] : strlen(pats[i]));

		memcpy(k, &f, sizeof(f));
		memcpy(k + sizeof(f), &l, sizeof(l));
		memcpy(k + 2 * sizeof(f), pats[i], l);
		k += 2 * sizeof(f) + l;
		ids[i] = i;
	}
	h = hf_hs_cache_hash(e->key, keylen);
	pthread_mutex_lock(&cache.lock);
	if (cache.n_slots > 0) {
		for (struct hf_hs_cached *c = cache.slots[h & (cache.n_slots - 1)]; c != NULL;
		     c = c->next) {
			if (c->hash == h && c->keylen == keylen &&
			    memcmp(c->key, e->key, keylen) == 0) {
				c->refs++;
				pthread_mutex_unlock(&cache.lock);
				free(e);
				free(ids);
				return c;
			}
		}
	}
	if (cache.n >= cache.n_slots && cache_grow() != 0)
		goto fail;
	for (unsigned int i = 0; bare != NULL && i < n; i++) {
		hs_expr_info_t *info = NULL;

		if (hs_expression_info(bare[i], flags[i], &info, cerr) != HS_SUCCESS) {
			if (*cerr != NULL)
				(*cerr)->expression = (int)i;
			goto fail;
		}
		free(info);
	}
	if (lens != NULL)
		rc = hs_compile_lit_multi(pats, flags, ids, lens, n, mode, NULL, &e->db, cerr);
	else
		rc = hs_compile_multi(pats, flags, ids, n, mode, NULL, &e->db, cerr);
	if (rc != HS_SUCCESS)
		goto fail;
	*compiled = true;
	if (hs_database_size(e->db, &e->db_bytes) != HS_SUCCESS)
		e->db_bytes = 0;
	e->hash = h;
	e->keylen = keylen;
	e->refs = 1;
	e->next = cache.slots[h & (cache.n_slots - 1)];
	cache.slots[h & (cache.n_slots - 1)] = e;
	cache.n++;
	pthread_mutex_unlock(&cache.lock);
	free(ids);
	return e;
fail:
	pthread_mutex_unlock(&cache.lock);
	free(e);
	free(ids);
	return NULL;
}

void
hf_hs_cache_put(struct hf_hs_cached *e)
{
	struct hf_hs_cached **pp;

	pthread_mutex_lock(&cache.lock);
	if (--e->refs > 0) {
		pthread_mutex_unlock(&cache.lock);
		return;
	}
	for (pp = &cache.slots[e->hash & (cache.n_slots - 1)]; *pp != e; pp = &(*pp)->next)
		;
	*pp = e->next;
	cache.n--;
	pthread_mutex_unlock(&cache.lock);
	hs_free_database(e->db);
	free(e);
}
