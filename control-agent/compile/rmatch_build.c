/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The route matcher's build, agent side: a virtual host's model routes
 * compiled into the data plane's struct hf_rmatch (dataplane/proxy/rmatch-t.h),
 * which workers read with hf_rmatch_find() (dataplane/proxy/rmatch.c, where
 * the walk over it is told).
 *
 * - Literals (exact and prefix paths) go to two radix tries, one
 *   case-sensitive and one over lower-cased keys (ignoreUriCase), made in one
 *   pass over the sorted keys. No hash of exact paths beside them: the walk
 *   that finds the prefixes ends on the exact node for free.
 * - A regex is filed in the same tries under its literal prefix
 *   (rmatch_regex.c: "/api/v1/users/" for "/api/v1/users/[0-9]+"; "" when it
 *   opens with a class or group, or has a top-level '|'). The regexes under
 *   one prefix are compiled into Hyperscan databases of at most RX_CHUNK
 *   patterns, each anchored as ^(?:...)\z (Envoy's full match).
 * - A large group under one short prefix ("/", "/api/v") is screened: the
 *   regexes that must contain a literal of RX_REQ_MIN bytes or more
 *   ("/users7/search" in "/api/v[0-9]+/users7/search") have those literals in
 *   one more database (hs_compile_lit_multi). Hyperscan does the same inside
 *   one database; doing it here keeps the databases small (see below).
 * - Regex conditions on the other dimensions (authority, method, scheme, each
 *   header, each query parameter) get a one-pattern database each (vectored
 *   for headers: several fields of a name are scanned as one value joined by
 *   ',').
 *
 * Why small databases rather than one per dimension with every path literal
 * and regex in it: Hyperscan compiles at ~0.6-1.3 ms a pattern here, whatever
 * the grouping (1,000 path regexes in one database: 1.3 s; 9,000 literals with
 * hs_compile_lit_multi: 170 ms), and the issue wants a change to a
 * 10,000-route table served within 100 ms. So literals never go to Hyperscan
 * (the tries build in milliseconds), and compiled databases are shared through
 * a content-addressed cache: a rebuild while the previous matcher lives
 * compiles only the chunks whose patterns changed. Chunk boundaries are
 * content-defined (a pattern whose hash says so closes its chunk), so one new
 * regex disturbs one chunk, not every chunk after it. The price is a scan per
 * chunk met on the walk instead of one per request; prefixes and screens keep
 * that to one or two. Measured (bench/proxy/bench_rmatch.cc): 10,000 routes,
 * ~110 ns a lookup; cold build ~0.7 s; rebuild after one change ~5 ms.
 *
 * HS_FLAG_SINGLEMATCH is left off the anchored patterns: ^(?:...)\z can only
 * end where the data does, so each reports once at most anyway, and the flag
 * costs ~10 ns a matching scan. The screening literals keep it.
 *
 * Memory: one arena per matcher for its strings, nodes and lists; databases
 * belong to the cache, reference-counted, freed with their last matcher. The
 * cache's lock is taken by builds and frees only, never by a lookup.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control-agent/clock.h"
#include "control-agent/compile/hs_cache.h"
#include "control-agent/compile/rmatch-int.h"
#include "control-agent/compile/rmatch_build.h"
#include "dataplane/proxy/rmatch-t.h"

#define RX_CHUNK      16 /* at most this many patterns per path database (mask bits) */
#define RX_CUT_MASK   7  /* a pattern whose hash & this is 0 closes its chunk: ~8 per chunk */
#define RX_FILTER_MIN 16 /* a group of more regexes than this is screened by literals */
#define RX_REQ_MIN    3  /* the shortest required literal worth screening with */

_Static_assert(RX_CHUNK <= HF_RMATCH_CHUNK_MAX, "a chunk's matches must fit the lookup's mask");

struct arena {
	struct arena *next;
	size_t used, cap;
	char data[];
};

/*
 * A matcher as the agent holds it: what workers read first (the pointer
 * hf_rmatch_build() returns), then what only the agent needs to report on it
 * and free it.
 */
struct built {
	struct hf_rmatch m;
	unsigned int n_dbs, cap_dbs;
	struct hf_hs_cached **dbs; /* references held in the cache */
	struct arena *arena;
	size_t arena_bytes;
	struct hf_rmatch_stats st;
};

static inline const struct built *
built_of(const struct hf_rmatch *m)
{
	return (const struct built *)((const char *)m - offsetof(struct built, m));
}

/* ---- build ---- */

struct build {
	struct built *own;
	struct hf_rmatch *m; /* &own->m */
	const struct hf_model_route *routes;
	char *err;
	size_t errlen;
	bool nomem;
};

static void *
arena_alloc(struct build *b, size_t n)
{
	struct arena *a = b->own->arena;
	void *p;

	n = (n + 7) & ~(size_t)7;
	if (a == NULL || a->cap - a->used < n) {
		size_t cap = n > 65536 ? n : 65536;

		a = malloc(sizeof(*a) + cap);
		if (a == NULL) {
			b->nomem = true;
			return NULL;
		}
		a->next = b->own->arena;
		a->used = 0;
		a->cap = cap;
		b->own->arena = a;
		b->own->arena_bytes += sizeof(*a) + cap;
	}
	p = a->data + a->used;
	a->used += n;
	return p;
}

static char *
arena_str(struct build *b, const char *s, size_t len, bool lower)
{
	char *d = arena_alloc(b, len + 1);

	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		d[i] = lower ? (char)tolower((unsigned char)s[i]) : s[i];
	d[len] = '\0';
	return d;
}

static int fail(struct build *b, unsigned int route, unsigned int blk, const char *what,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
fail(struct build *b, unsigned int route, unsigned int blk, const char *what, const char *fmt, ...)
{
	const char *name = b->routes[route].name;
	int n;
	va_list ap;

	n = snprintf(b->err, b->errlen, "route %u%s%s%s match %u: %s: ", route, name ? " \"" : "",
	             name ? name : "", name ? "\"" : "", blk, what);
	if (n < 0 || (size_t)n >= b->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(b->err + n, b->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
keep_db(struct build *b, struct hf_hs_cached *e, bool compiled)
{
	struct built *o = b->own;

	if (o->n_dbs == o->cap_dbs) {
		unsigned int nc = o->cap_dbs ? o->cap_dbs * 2 : 16;
		struct hf_hs_cached **d = realloc(o->dbs, nc * sizeof(*d));

		if (d == NULL) {
			hf_hs_cache_put(e);
			b->nomem = true;
			return -ENOMEM;
		}
		o->dbs = d;
		o->cap_dbs = nc;
	}
	o->dbs[o->n_dbs++] = e;
	o->st.n_databases++;
	if (compiled)
		o->st.n_compiled++;
	else
		o->st.n_reused++;
	return 0;
}

/* No HS_FLAG_SINGLEMATCH: see the top of the file. */
static unsigned int
rx_flags(bool icase)
{
	return HS_FLAG_ALLOWEMPTY | (icase ? HS_FLAG_CASELESS : 0);
}

/* "^(?:re)\z": Envoy's full match, whatever anchors @p re has or lacks. */
static char *
rx_wrap(const char *re)
{
	char *w;

	if (asprintf(&w, "^(?:%s)\\z", re) < 0)
		return NULL;
	return w;
}

/* Hyperscan's word on @p re alone, so the offsets it cites are the user's. */
static void
rx_reason(const char *re, unsigned int flags, const char *fallback, char *out, size_t len)
{
	hs_compile_error_t *ce = NULL;
	hs_database_t *db = NULL;

	if (hs_compile(re, flags, HS_MODE_BLOCK, NULL, &db, &ce) != HS_SUCCESS && ce != NULL)
		snprintf(out, len, "%s", ce->message);
	else
		snprintf(out, len, "%s", fallback);
	hs_free_compile_error(ce);
	hs_free_database(db);
}

/* Compiles one regex condition of a non-path dimension into its own database. */
static int
compile_one(struct build *b, struct hf_rmatch_str *c, const char *re, unsigned int route,
            unsigned int blk, const char *what)
{
	unsigned int flags = rx_flags(c->icase);
	unsigned int mode = c->vectored ? HS_MODE_VECTORED : HS_MODE_BLOCK;
	hs_compile_error_t *ce;
	struct hf_hs_cached *e;
	bool compiled;
	char *w = rx_wrap(re);
	char why[256];

	if (w == NULL) {
		b->nomem = true;
		return -ENOMEM;
	}
	e = hf_hs_cache_get((const char *const *)&w, &re, NULL, &flags, 1, mode, &ce, &compiled);
	free(w);
	if (e == NULL && ce == NULL) {
		b->nomem = true;
		return -ENOMEM;
	}
	if (e == NULL) {
		rx_reason(re, flags, ce->message, why, sizeof(why));
		hs_free_compile_error(ce);
		return fail(b, route, blk, what, "regex \"%s\" refused by Hyperscan: %s", re, why);
	}
	c->db = e->db;
	b->own->st.n_regexes++;
	return keep_db(b, e, compiled);
}

/* Copies a StringMatch of any dimension but the path. */
static int
copy_str(struct build *b, struct hf_rmatch_str *c, const struct hf_model_str_match *s,
         bool vectored, unsigned int route, unsigned int blk, const char *what)
{
	const char *v = s->value != NULL ? s->value : "";

	c->kind = (uint8_t)s->kind;
	c->icase = s->ignore_case;
	c->vectored = vectored;
	switch (s->kind) {
	case HF_MATCH_ANY:
	case HF_MATCH_PRESENT: return 0;
	case HF_MATCH_EXACT:
	case HF_MATCH_PREFIX:
		c->len = (uint32_t)strlen(v);
		c->s = arena_str(b, v, c->len, false);
		return c->s != NULL ? 0 : -ENOMEM;
	case HF_MATCH_REGEX: return compile_one(b, c, v, route, blk, what);
	}
	return fail(b, route, blk, what, "unknown match kind %d", (int)s->kind);
}

/* ---- the path tries ---- */

enum { P_EXACT, P_PREFIX, P_REGEX };

struct pent {
	const char *key; /* in the arena */
	uint32_t klen;
	uint8_t kind; /* P_* */
	uint8_t icase;
	uint32_t block;
	uint32_t blk;    /* the block's index in its route, for messages */
	const char *re;  /* P_REGEX: the pattern as given */
	const char *req; /* P_REGEX: its longest required literal */
	uint32_t reqlen;
};

static int
pent_cmp(const void *a, const void *b)
{
	const struct pent *x = a, *y = b;
	uint32_t l = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, l);

	if (c != 0)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind - y->kind;
	return x->block < y->block ? -1 : x->block > y->block;
}

/* One distinct key of a trie, with its lists. */
struct tkey {
	const char *key;
	uint32_t klen;
	struct hf_rmatch_range exact, prefix;
	uint32_t rxg;
};

struct tbuild {
	struct build *b;
	struct hf_rmatch_trie *t;
	struct tkey *keys;
	uint32_t n_keys;
};

static uint32_t
lcp(const struct tkey *a, const struct tkey *z, uint32_t from)
{
	uint32_t l = a->klen < z->klen ? a->klen : z->klen;

	while (from < l && a->key[from] == z->key[from])
		from++;
	return from;
}

/*
 * Fills node @p ni, the string keys[lo].key[0..depth), from the sorted keys
 * [lo, hi) that all start with it: its own lists when one of them is that
 * string, then one child per distinct next byte, each labelled up to where
 * its keys part.
 */
static int
trie_fill(struct tbuild *tb, uint32_t ni, uint32_t lo, uint32_t hi, uint32_t depth)
{
	struct hf_rmatch_trie *t = tb->t;
	uint32_t groups = 0, child, a;
	uint8_t *first;

	if (lo < hi && tb->keys[lo].klen == depth) {
		t->nodes[ni].exact = tb->keys[lo].exact;
		t->nodes[ni].prefix = tb->keys[lo].prefix;
		t->nodes[ni].rxg = tb->keys[lo].rxg;
		lo++;
	}
	for (a = lo; a < hi; groups++) {
		uint8_t c = (uint8_t)tb->keys[a].key[depth];

		while (a < hi && (uint8_t)tb->keys[a].key[depth] == c)
			a++;
	}
	if (groups == 0)
		return 0;
	if (groups <= HF_RMATCH_INLINE) {
		first = t->nodes[ni].first.in;
	} else {
		first = arena_alloc(tb->b, groups);
		if (first == NULL)
			return -ENOMEM;
		t->nodes[ni].first.out = first;
	}
	child = t->n_nodes;
	t->n_nodes += groups;
	t->nodes[ni].child = child;
	t->nodes[ni].n_child = groups;
	for (uint32_t g = 0; lo < hi; g++) {
		uint8_t c = (uint8_t)tb->keys[lo].key[depth];
		uint32_t e, z = lo;
		struct hf_rmatch_node *nd = &t->nodes[child + g];

		while (z < hi && (uint8_t)tb->keys[z].key[depth] == c)
			z++;
		e = lcp(&tb->keys[lo], &tb->keys[z - 1], depth + 1);
		memset(nd, 0, sizeof(*nd));
		nd->label_len = e - depth;
		if (nd->label_len <= HF_RMATCH_INLINE)
			memcpy(nd->label.in, tb->keys[lo].key + depth, nd->label_len);
		else
			nd->label.out = tb->keys[lo].key + depth;
		first[g] = c;
		if (trie_fill(tb, child + g, lo, z, e) != 0)
			return -ENOMEM;
		lo = z;
	}
	return 0;
}

/* The content-defined chunk boundary: a pattern whose hash says so closes its chunk. */
static bool
closes_chunk(const char *re)
{
	return (hf_hs_cache_hash(re, strlen(re)) & RX_CUT_MASK) == 0;
}

/*
 * Compiles the regexes of one key (entries [lo, hi) of @p pe, in route order)
 * into chunks; on refusal, finds the pattern Hyperscan refuses by compiling
 * the chunk's patterns one by one.
 */
static int
compile_chunks(struct build *b, const struct pent *pe, uint32_t lo, uint32_t hi, uint32_t list_off,
               uint32_t *n_chunks)
{
	struct hf_rmatch *m = b->m;

	while (lo < hi) {
		const char *w[RX_CHUNK], *bare[RX_CHUNK];
		unsigned int fl[RX_CHUNK], n = 0;
		hs_compile_error_t *ce;
		struct hf_rmatch_chunk *ch;
		struct hf_hs_cached *e;
		bool compiled;
		int rc = 0;

		while (lo + n < hi && n < RX_CHUNK) {
			const struct pent *p = &pe[lo + n];

			fl[n] = rx_flags(p->icase);
			bare[n] = p->re;
			w[n] = rx_wrap(p->re);
			if (w[n++] == NULL) {
				rc = -ENOMEM;
				break;
			}
			if (closes_chunk(p->re))
				break;
		}
		e = rc == 0 ? hf_hs_cache_get(w, bare, NULL, fl, n, HS_MODE_BLOCK, &ce, &compiled)
		            : NULL;
		if (e == NULL && rc == 0 && ce != NULL) {
			/* the pattern Hyperscan names, else the first it refuses alone */
			unsigned int bad = ce->expression >= 0 && (unsigned int)ce->expression < n
			                           ? (unsigned int)ce->expression
			                           : 0;
			char why[256];

			for (unsigned int i = 0; ce->expression < 0 && i < n; i++) {
				hs_compile_error_t *one = NULL;
				hs_database_t *db = NULL;
				hs_error_t r =
				        hs_compile(w[i], fl[i], HS_MODE_BLOCK, NULL, &db, &one);

				hs_free_compile_error(one);
				hs_free_database(db);
				if (r != HS_SUCCESS) {
					bad = i;
					break;
				}
			}
			rx_reason(pe[lo + bad].re, fl[bad], ce->message, why, sizeof(why));
			hs_free_compile_error(ce);
			rc = fail(b, m->blocks[pe[lo + bad].block].route, pe[lo + bad].blk, "uri",
			          "regex \"%s\" refused by Hyperscan: %s", pe[lo + bad].re, why);
		} else if (e == NULL && rc == 0) {
			rc = -ENOMEM;
		}
		for (unsigned int i = 0; i < n; i++)
			free((void *)w[i]);
		if (rc == -ENOMEM)
			b->nomem = true;
		if (rc != 0)
			return rc;
		if (keep_db(b, e, compiled) != 0)
			return -ENOMEM;
		ch = &m->chunks[(*n_chunks)++];
		ch->db = e->db;
		ch->first_route = m->blocks[pe[lo].block].route;
		ch->entry = list_off + lo;
		ch->n = n;
		b->own->st.n_regexes += n;
		lo += n;
	}
	return 0;
}

/*
 * Makes the group of the regexes of one key, entries [x, y) of @p pe in route
 * order, their blocks at m->lists[base + x ...]. A large group is split
 * (stably) into the regexes without a required literal and those with one;
 * the latter get a literal database naming their chunks. *@p rxg: the
 * group's index + 1.
 */
static int
build_group(struct build *b, struct pent *pe, uint32_t x, uint32_t y, uint32_t base,
            uint32_t *n_chunks, uint32_t *rxg)
{
	struct hf_rmatch *m = b->m;
	struct hf_rmatch_rxgroup *g = &m->groups[m->n_groups];
	uint32_t nf = 0, split = y;
	int rc;

	memset(g, 0, sizeof(*g));
	for (uint32_t i = x; i < y; i++)
		nf += pe[i].reqlen >= RX_REQ_MIN;
	if (y - x > RX_FILTER_MIN && nf >= 4) {
		struct pent *tmp = malloc(sizeof(*tmp) * (y - x));
		uint32_t k = 0;

		if (tmp == NULL) {
			b->nomem = true;
			return -ENOMEM;
		}
		for (int pass = 0; pass < 2; pass++) {
			for (uint32_t i = x; i < y; i++)
				if ((pe[i].reqlen >= RX_REQ_MIN) == (pass == 1))
					tmp[k++] = pe[i];
			if (pass == 0)
				split = x + k;
		}
		memcpy(pe + x, tmp, sizeof(*tmp) * (y - x));
		free(tmp);
		for (uint32_t i = x; i < y; i++)
			m->lists[base + i] = pe[i].block;
	}
	g->plain.off = *n_chunks;
	rc = compile_chunks(b, pe, x, split, base, n_chunks);
	g->plain.n = *n_chunks - g->plain.off;
	g->filtered.off = *n_chunks;
	if (rc == 0)
		rc = compile_chunks(b, pe, split, y, base, n_chunks);
	g->filtered.n = *n_chunks - g->filtered.off;
	if (rc == 0 && split < y) {
		uint32_t nl = y - split;
		const char **lits = calloc(nl, sizeof(*lits));
		size_t *lens = calloc(nl, sizeof(*lens));
		unsigned int *fl = calloc(nl, sizeof(*fl));
		uint32_t *chunk_of = arena_alloc(b, sizeof(*chunk_of) * nl);
		hs_compile_error_t *ce = NULL;
		struct hf_hs_cached *e = NULL;
		bool compiled;

		if (lits != NULL && lens != NULL && fl != NULL && chunk_of != NULL) {
			for (uint32_t c = g->filtered.off; c < g->filtered.off + g->filtered.n; c++)
				for (uint32_t i = 0; i < m->chunks[c].n; i++)
					chunk_of[m->chunks[c].entry - base + i - split] = c;
			for (uint32_t i = 0; i < nl; i++) {
				lits[i] = pe[split + i].req;
				lens[i] = pe[split + i].reqlen;
				fl[i] = HS_FLAG_SINGLEMATCH |
				        (pe[split + i].icase ? HS_FLAG_CASELESS : 0);
			}
			e = hf_hs_cache_get(lits, NULL, lens, fl, nl, HS_MODE_BLOCK, &ce,
			                    &compiled);
		}
		free(lits);
		free(lens);
		free(fl);
		if (e == NULL && ce != NULL) {
			rc = fail(b, m->blocks[pe[split].block].route, pe[split].blk, "uri",
			          "screening literals of the regexes under \"%.*s\" refused by "
			          "Hyperscan: %s",
			          (int)pe[x].klen, pe[x].key, ce->message);
			hs_free_compile_error(ce);
		} else if (e == NULL) {
			b->nomem = true;
			rc = -ENOMEM;
		} else if ((rc = keep_db(b, e, compiled)) == 0) {
			g->filter = e->db;
			g->chunk_of = chunk_of;
			b->own->st.n_screened += nl;
		}
	}
	if (rc != 0)
		return rc;
	g->first_route = g->plain.n > 0 ? m->chunks[g->plain.off].first_route : HF_RMATCH_NO_ROUTE;
	if (g->filtered.n > 0 && m->chunks[g->filtered.off].first_route < g->first_route)
		g->first_route = m->chunks[g->filtered.off].first_route;
	*rxg = ++m->n_groups;
	return 0;
}

/*
 * Builds trie @p t from its entries @p pe (sorted here); their blocks go to
 * m->lists from @p *list_off on, their regex chunks to m->chunks.
 */
static int
trie_build(struct build *b, struct hf_rmatch_trie *t, struct pent *pe, uint32_t n,
           uint32_t *list_off, uint32_t *n_chunks)
{
	struct hf_rmatch *m = b->m;
	struct tbuild tb = {.b = b, .t = t};
	uint32_t base = *list_off;
	int rc = 0;

	if (n == 0)
		return 0;
	qsort(pe, n, sizeof(*pe), pent_cmp);
	tb.keys = calloc(n + 1, sizeof(*tb.keys));
	t->nodes = arena_alloc(b, sizeof(*t->nodes) * (2 * (size_t)n + 1));
	if (tb.keys == NULL || t->nodes == NULL) {
		free(tb.keys);
		b->nomem = true;
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		m->lists[base + i] = pe[i].block;
	*list_off += n;
	for (uint32_t i = 0; i < n && rc == 0;) {
		struct tkey *k = &tb.keys[tb.n_keys++];
		uint32_t j = i;

		k->key = pe[i].key;
		k->klen = pe[i].klen;
		while (j < n && pe[j].klen == k->klen && memcmp(pe[j].key, k->key, k->klen) == 0)
			j++;
		for (uint32_t x = i; x < j;) {
			uint32_t y = x;
			uint8_t kind = pe[x].kind;

			while (y < j && pe[y].kind == kind)
				y++;
			if (kind == P_EXACT)
				k->exact = (struct hf_rmatch_range){base + x, y - x};
			else if (kind == P_PREFIX)
				k->prefix = (struct hf_rmatch_range){base + x, y - x};
			else
				rc = build_group(b, pe, x, y, base, n_chunks, &k->rxg);
			x = y;
		}
		i = j;
	}
	if (rc == 0) {
		memset(&t->nodes[0], 0, sizeof(t->nodes[0]));
		t->n_nodes = 1;
		rc = trie_fill(&tb, 0, 0, tb.n_keys, 0);
		b->own->st.n_trie_nodes += t->n_nodes;
	}
	free(tb.keys);
	return rc;
}

static bool
unconditional(const struct hf_model_route_match *mm)
{
	return mm->uri.kind == HF_MATCH_ANY && mm->method.kind == HF_MATCH_ANY &&
	       mm->authority.kind == HF_MATCH_ANY && mm->scheme.kind == HF_MATCH_ANY &&
	       mm->port == 0 && mm->n_headers == 0 && mm->n_query == 0;
}

static int
copy_kv(struct build *b, struct hf_rmatch_kv *kv, const struct hf_model_kv_match *mk, bool query,
        unsigned int route, unsigned int blk)
{
	char what[160];
	struct hf_model_str_match s = mk->m;

	snprintf(what, sizeof(what), "%s \"%.100s\"",
	         query        ? "queryParams"
	         : mk->absent ? "withoutHeaders"
	                      : "headers",
	         mk->name != NULL ? mk->name : "");
	if (mk->name == NULL || mk->name[0] == '\0')
		return fail(b, route, blk, what, "empty name");
	kv->name_len = (uint32_t)strlen(mk->name);
	kv->name = arena_str(b, mk->name, kv->name_len, !query);
	if (kv->name == NULL)
		return -ENOMEM;
	kv->absent = mk->absent;
	kv->query = query;
	/* headers: {x: {}} is a presence match, as Istio reads it */
	if (s.kind == HF_MATCH_ANY)
		s.kind = HF_MATCH_PRESENT;
	return copy_str(b, &kv->m, &s, !query, route, blk, what);
}

static int
copy_block(struct build *b, struct hf_rmatch_block *bk, const struct hf_model_route_match *mm,
           unsigned int route, unsigned int blk, uint32_t *kv_next)
{
	struct hf_rmatch *m = b->m;
	int rc;

	bk->route = route;
	if (mm->uri.kind == HF_MATCH_PRESENT)
		return fail(b, route, blk, "uri",
		            "a presence match applies to headers and query "
		            "parameters only");
	if (mm->uri.kind > HF_MATCH_PRESENT)
		return fail(b, route, blk, "uri", "unknown match kind %d", (int)mm->uri.kind);
	if (mm->method.kind == HF_MATCH_PRESENT || mm->authority.kind == HF_MATCH_PRESENT ||
	    mm->scheme.kind == HF_MATCH_PRESENT)
		return fail(b, route, blk,
		            mm->method.kind == HF_MATCH_PRESENT      ? "method"
		            : mm->authority.kind == HF_MATCH_PRESENT ? "authority"
		                                                     : "scheme",
		            "a presence match applies to headers and query parameters only");
	if (mm->port > 65535)
		return fail(b, route, blk, "port", "%u is not a port", mm->port);
	if ((rc = copy_str(b, &bk->method, &mm->method, false, route, blk, "method")) != 0 ||
	    (rc = copy_str(b, &bk->authority, &mm->authority, false, route, blk, "authority")) !=
	            0 ||
	    (rc = copy_str(b, &bk->scheme, &mm->scheme, false, route, blk, "scheme")) != 0)
		return rc;
	bk->flags = (mm->method.kind != HF_MATCH_ANY ? HF_RMATCH_HAS_METHOD : 0) |
	            (mm->authority.kind != HF_MATCH_ANY ? HF_RMATCH_HAS_AUTHORITY : 0) |
	            (mm->scheme.kind != HF_MATCH_ANY ? HF_RMATCH_HAS_SCHEME : 0) |
	            (mm->port != 0 ? HF_RMATCH_HAS_PORT : 0) |
	            (mm->n_headers + mm->n_query > 0 ? HF_RMATCH_HAS_KV : 0);
	bk->port = mm->port;
	bk->kv = *kv_next;
	bk->n_kv = mm->n_headers + mm->n_query;
	for (unsigned int i = 0; i < mm->n_headers; i++)
		if ((rc = copy_kv(b, &m->kvs[(*kv_next)++], &mm->headers[i], false, route, blk)) !=
		    0)
			return rc;
	for (unsigned int i = 0; i < mm->n_query; i++)
		if ((rc = copy_kv(b, &m->kvs[(*kv_next)++], &mm->query[i], true, route, blk)) != 0)
			return rc;
	return 0;
}

struct hf_rmatch *
hf_rmatch_build(const struct hf_model_route *routes, unsigned int n_routes, char *err,
                size_t errlen)
{
	uint64_t t0 = hf_clock_ns();
	struct build b = {.routes = routes, .err = err, .errlen = errlen};
	struct built *o = calloc(1, sizeof(*o));
	struct hf_rmatch *m = o != NULL ? &o->m : NULL;
	uint32_t n_blocks = 0, n_kv = 0, n_path[2] = {0, 0}, n_rx = 0;
	uint32_t kv_next = 0, list_off = 0, n_chunks = 0, k = 0;
	struct pent *pe[2] = {NULL, NULL};
	uint32_t np[2] = {0, 0};
	int rc = 0;

	if (m == NULL)
		goto nomem;
	b.own = o;
	b.m = m;
	m->always = HF_RMATCH_NO_ROUTE;
	o->st.n_routes = n_routes;
	for (unsigned int i = 0; i < n_routes; i++) {
		const struct hf_model_route *r = &routes[i];

		if (r->n_matches == 0 && m->always == HF_RMATCH_NO_ROUTE)
			m->always = i;
		for (unsigned int j = 0; j < r->n_matches; j++) {
			const struct hf_model_route_match *mm = &r->matches[j];

			n_blocks++;
			n_kv += mm->n_headers + mm->n_query;
			if (mm->uri.kind != HF_MATCH_ANY)
				n_path[mm->uri.ignore_case ? 1 : 0]++;
			if (mm->uri.kind == HF_MATCH_REGEX)
				n_rx++;
			if (unconditional(mm) && m->always == HF_RMATCH_NO_ROUTE)
				m->always = i;
		}
	}
	o->st.n_blocks = n_blocks;
	m->blocks = arena_alloc(&b, sizeof(*m->blocks) * (n_blocks + 1));
	m->kvs = arena_alloc(&b, sizeof(*m->kvs) * (n_kv + 1));
	m->lists = arena_alloc(&b, sizeof(*m->lists) * (n_blocks + 1));
	m->chunks = arena_alloc(&b, sizeof(*m->chunks) * (n_rx + 1));
	m->groups = arena_alloc(&b, sizeof(*m->groups) * (n_rx + 1));
	pe[0] = calloc(n_path[0] + 1, sizeof(*pe[0]));
	pe[1] = calloc(n_path[1] + 1, sizeof(*pe[1]));
	if (b.nomem || pe[0] == NULL || pe[1] == NULL)
		goto nomem;
	memset(m->blocks, 0, sizeof(*m->blocks) * (n_blocks + 1));
	memset(m->kvs, 0, sizeof(*m->kvs) * (n_kv + 1));

	/*
	 * Blocks in route order: a block's index orders it as its route does.
	 * m->lists: the tries' blocks first, then those without a path condition.
	 */
	m->nopath.off = n_path[0] + n_path[1];
	for (unsigned int i = 0; i < n_routes && rc == 0; i++) {
		const struct hf_model_route *r = &routes[i];

		for (unsigned int j = 0; j < r->n_matches && rc == 0; j++, k++) {
			const struct hf_model_route_match *mm = &r->matches[j];
			const char *v = mm->uri.value != NULL ? mm->uri.value : "";
			bool ic = mm->uri.ignore_case;
			struct pent *p;

			rc = copy_block(&b, &m->blocks[k], mm, i, j, &kv_next);
			if (rc != 0)
				break;
			if (mm->uri.kind == HF_MATCH_ANY) {
				m->lists[n_path[0] + n_path[1] + m->nopath.n++] = k;
				continue;
			}
			p = &pe[ic][np[ic]++];
			p->block = k;
			p->blk = j;
			p->icase = ic;
			if (mm->uri.kind == HF_MATCH_REGEX) {
				char *pre = arena_alloc(&b, strlen(v) + 1);
				char *req = arena_alloc(&b, strlen(v) + 1);

				if (pre == NULL || req == NULL) {
					rc = -ENOMEM;
					break;
				}
				p->kind = P_REGEX;
				p->re = arena_str(&b, v, strlen(v), false);
				p->klen = (uint32_t)hf_rmatch_literal_prefix(v, pre, ic);
				p->key = pre;
				p->reqlen = (uint32_t)hf_rmatch_required_literal(v, req);
				p->req = req;
				if (p->re == NULL)
					rc = -ENOMEM;
			} else {
				p->kind = mm->uri.kind == HF_MATCH_EXACT ? P_EXACT : P_PREFIX;
				p->klen = (uint32_t)strlen(v);
				p->key = arena_str(&b, v, p->klen, ic);
				if (p->key == NULL)
					rc = -ENOMEM;
			}
		}
	}
	if (rc != 0)
		goto fail;
	for (int t = 0; t < 2 && rc == 0; t++)
		rc = trie_build(&b, &m->trie[t], pe[t], np[t], &list_off, &n_chunks);
	if (rc != 0)
		goto fail;
	free(pe[0]);
	free(pe[1]);
	o->st.bytes = o->arena_bytes + sizeof(*o) + o->cap_dbs * sizeof(*o->dbs);
	for (unsigned int i = 0; i < o->n_dbs; i++)
		o->st.bytes += o->dbs[i]->db_bytes;
	o->st.build_ns = hf_clock_ns() - t0;
	return m;
nomem:
	snprintf(err, errlen, "out of memory building the route matcher");
fail:
	if (b.nomem || rc == -ENOMEM)
		snprintf(err, errlen, "out of memory building the route matcher");
	free(pe[0]);
	free(pe[1]);
	hf_rmatch_free(m);
	return NULL;
}

void
hf_rmatch_free(struct hf_rmatch *m)
{
	struct arena *a, *nx;
	struct built *o;

	if (m == NULL)
		return;
	o = (struct built *)((char *)m - offsetof(struct built, m));
	for (unsigned int i = 0; i < o->n_dbs; i++)
		hf_hs_cache_put(o->dbs[i]);
	free(o->dbs);
	for (a = o->arena; a != NULL; a = nx) {
		nx = a->next;
		free(a);
	}
	free(o);
}

int
hf_rmatch_scratch_grow(const struct hf_rmatch *m, hs_scratch_t **scratch)
{
	const struct built *o = built_of(m);

	for (unsigned int i = 0; i < o->n_dbs; i++)
		if (hs_alloc_scratch(o->dbs[i]->db, scratch) != HS_SUCCESS)
			return -ENOMEM;
	return 0;
}

void
hf_rmatch_stats(const struct hf_rmatch *m, struct hf_rmatch_stats *st)
{
	*st = built_of(m)->st;
}
