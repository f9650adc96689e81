/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_HS_CACHE_H
#define HF_HS_CACHE_H

/*
 * Compiled Hyperscan databases shared between builds, agent side: keyed by
 * their content (mode, and each pattern's flags and bytes), so a build while
 * an earlier one still lives compiles only the pattern lists it has not seen.
 * Reference-counted: a database is freed with its last holder. One process
 * wide lock, taken by builds and frees only; workers only scan the databases.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>

struct hf_hs_cached {
	hs_database_t *db;
	size_t db_bytes; /* hs_database_size(), 0 when unknown */
	/* the cache's own */
	struct hf_hs_cached *next;
	uint64_t hash;
	unsigned int refs;
	size_t keylen;
	char key[]; /* mode and kind, then (flags, length, bytes) per pattern */
};

/*
 * A database of patterns @p pats (flags @p flags, ids 0..n-1) in @p mode —
 * literals of lengths @p lens (hs_compile_lit_multi) when @p lens is not NULL,
 * else regexes: the cached one when the same list was compiled before, else
 * compiled now. Regexes come wrapped (^(?:re)\z); before they are compiled,
 * each of @p bare (the regexes as given) must parse alone, or a pattern like
 * "a)|(b" would escape the wrapping. Returns the entry (one more reference),
 * or NULL with *@p cerr set when Hyperscan refuses (the caller frees it;
 * expression is the index of the pattern when known), or NULL and *@p cerr
 * NULL when out of memory. *@p compiled tells which.
 */
struct hf_hs_cached *hf_hs_cache_get(const char *const *pats, const char *const *bare,
                                     const size_t *lens, const unsigned int *flags, unsigned int n,
                                     unsigned int mode, hs_compile_error_t **cerr, bool *compiled);

/* Drops one reference to @p e; the last frees its database. */
void hf_hs_cache_put(struct hf_hs_cached *e);

/* The cache's hash (64-bit FNV-1a) of @p n bytes at @p p. */
uint64_t hf_hs_cache_hash(const void *p, size_t n);

#endif
