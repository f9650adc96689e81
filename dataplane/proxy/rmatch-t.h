/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_RMATCH_T_H
#define HF_RMATCH_T_H

/*
 * The compiled route matcher of one virtual host, as workers read it: the
 * control agent builds it (control-agent/compile/rmatch_build.c), the
 * lookup (rmatch.c) walks it, nobody writes it once it is published. The
 * data plane owns this layout; the agent compiles its model into it.
 *
 * The request path is the index. Every match block has at most one path
 * condition, filed in one of two radix tries (case-sensitive, and over
 * lower-cased keys for ignoreUriCase): a node is a path prefix and lists the
 * blocks whose prefix or exact path it is, and the regexes whose literal
 * prefix it is (what every match must begin with), compiled into Hyperscan
 * databases of at most HF_RMATCH_CHUNK_MAX patterns. Blocks without a path
 * condition are in one list of their own. Every list is in route order.
 *
 * Strings, nodes and lists are in memory the agent owns; databases are
 * shared between matchers by the agent's cache. Both outlive the matcher's
 * last reader (RCU).
 */
#include <stdbool.h>
#include <stdint.h>

#include <hs/hs.h>

#define HF_RMATCH_NO_ROUTE  UINT32_MAX /* no route matches (yet) */
#define HF_RMATCH_CHUNK_MAX 32         /* patterns per path database: the lookup's 32-bit mask */
#define HF_RMATCH_INLINE    8          /* node labels and child lists this short live in the node */

/* Which conditions a block has besides its path (struct hf_rmatch_block.flags). */
enum {
	HF_RMATCH_HAS_METHOD = 0x01,
	HF_RMATCH_HAS_AUTHORITY = 0x02,
	HF_RMATCH_HAS_SCHEME = 0x04,
	HF_RMATCH_HAS_PORT = 0x08,
	HF_RMATCH_HAS_KV = 0x10, /* headers or query parameters */
};

/* A compiled StringMatch. */
struct hf_rmatch_str {
	uint8_t kind; /* enum hf_match_kind (router.h); ANY: the block has no such condition */
	uint8_t icase;
	uint8_t vectored;        /* regex database in HS_MODE_VECTORED (headers: several fields) */
	uint32_t len;            /* literal length */
	const char *s;           /* literal (exact, prefix) */
	const hs_database_t *db; /* regex: its own one-pattern database */
};

/* A header or query parameter condition. */
struct hf_rmatch_kv {
	const char *name; /* headers: lower case */
	uint32_t name_len;
	bool absent; /* withoutHeaders: holds when missing or not matching */
	bool query;  /* a query parameter, else a header */
	struct hf_rmatch_str m;
};

/* One match block (HTTPMatchRequest); its path condition is in a trie. */
struct hf_rmatch_block {
	uint32_t route;
	uint32_t flags; /* HF_RMATCH_HAS_* */
	uint32_t port;
	uint32_t kv, n_kv; /* m->kvs[kv .. kv + n_kv) */
	struct hf_rmatch_str method, authority, scheme;
};

struct hf_rmatch_range {
	uint32_t off, n;
};

/*
 * A trie node: 48 bytes, the bytes of its edge and its children's first
 * bytes kept in place when short, as they nearly always are, so a step down
 * the trie touches one node rather than three scattered lines.
 */
struct hf_rmatch_node {
	uint32_t label_len; /* the edge into this node */
	uint32_t n_child;
	uint32_t child; /* first child in the trie's nodes; siblings are contiguous */
	uint32_t rxg;   /* its regexes: m->groups[rxg - 1]; 0: none */
	union {
		char in[HF_RMATCH_INLINE]; /* label_len <= HF_RMATCH_INLINE */
		const char *out;
	} label;
	union {
		uint8_t in[HF_RMATCH_INLINE]; /* n_child <= HF_RMATCH_INLINE: each child's first
		                                 byte */
		const uint8_t *out;
	} first;
	struct hf_rmatch_range exact, prefix; /* blocks, in m->lists, route order */
};

/* One path database: pattern id is the block m->lists[entry + id]; ids in route order. */
struct hf_rmatch_chunk {
	const hs_database_t *db;
	uint32_t first_route;
	uint32_t entry;
	uint32_t n; /* at most HF_RMATCH_CHUNK_MAX */
};

/*
 * The regexes filed under one literal prefix. A small group is scanned whole
 * (its chunks in route order). In a large one, the regexes that must contain
 * some literal of a few bytes (a required factor: "/users7/search" in
 * "/api/v[0-9]+/users7/search") are screened first: one scan of the path
 * with a literal database names the chunks worth scanning.
 */
struct hf_rmatch_rxgroup {
	struct hf_rmatch_range plain;    /* chunks scanned whenever the node is passed */
	struct hf_rmatch_range filtered; /* chunks scanned when the filter names them */
	const hs_database_t *filter;     /* the filtered regexes' required literals; NULL: none */
	const uint32_t *chunk_of;        /* filter id → index in m->chunks */
	uint32_t first_route;            /* the lowest route of its regexes */
};

struct hf_rmatch_trie {
	struct hf_rmatch_node *nodes; /* nodes[0] is the root (the empty prefix) */
	uint32_t n_nodes;             /* 0: an empty trie */
};

struct hf_rmatch {
	uint32_t always; /* the first route that takes every request, or HF_RMATCH_NO_ROUTE */
	struct hf_rmatch_block *blocks; /* in route order */
	struct hf_rmatch_kv *kvs;
	uint32_t *lists; /* block indexes: the tries' lists, then nopath */
	struct hf_rmatch_chunk *chunks;
	struct hf_rmatch_rxgroup *groups;
	uint32_t n_groups;
	struct hf_rmatch_range nopath; /* blocks without a path condition, in m->lists */
	struct hf_rmatch_trie trie[2]; /* [0] case-sensitive, [1] lower-cased keys */
};

#endif
