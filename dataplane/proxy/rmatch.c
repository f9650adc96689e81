/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Route selection at a cost flat in the number of routes: the lookup, run by
 * workers on every request, over the matcher the control agent built
 * (rmatch-t.h; control-agent/compile/rmatch_build.c tells how, and why so).
 *
 * Every match block has at most one path condition, and the path is what
 * tells most routes apart, so the path is the index: one walk over it yields
 * the few blocks that can hold, and only those are checked in full.
 *
 * - Literals (exact and prefix paths) live in two radix tries, one
 *   case-sensitive and one over lower-cased keys (ignoreUriCase). A node is a
 *   path prefix; it lists the blocks whose prefix is that string and those
 *   whose exact path is. Walking the request path down a trie passes every
 *   registered prefix of it once: the work is the path's length and the
 *   trie's depth, not the number of routes; the walk ends on the exact node.
 * - A regex is filed in the same tries under its literal prefix, so a path
 *   only meets the regexes that could match it. The regexes under one prefix
 *   are in Hyperscan databases of a few patterns each (chunks), and one scan
 *   of the path tells which of a chunk's patterns match, as a bit mask.
 * - In a large group under one short prefix ("/", "/api/v"), one scan of the
 *   path with a database of the literals its regexes require names the few
 *   chunks worth scanning.
 * - Blocks without a path condition are candidates always, in one sorted list.
 * - Candidates are checked against the rest of their block (method,
 *   authority, scheme, port, headers, query parameters) only while their
 *   route is below the best found so far; lists are in route order, so a list
 *   stops at its first success. Literal candidates go first, regex groups
 *   after (the one that may hold the lowest route first), and a chunk whose
 *   first route cannot win is not scanned.
 * - Regex conditions on the other dimensions (authority, method, scheme, each
 *   header, each query parameter) are checked for candidates only, each with
 *   its own one-pattern database (vectored for headers: several fields of a
 *   name are scanned as one value joined by ',').
 *
 * Measured (bench/proxy/bench_rmatch.cc): 10,000 routes, ~110 ns a lookup.
 * Nothing here allocates, locks or calls the kernel; the only memory written
 * is the caller's stack and its Hyperscan scratch.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "dataplane/proxy/rmatch-t.h"
#include "dataplane/proxy/rmatch.h"
#include "dataplane/proxy/router.h"

#define RX_NODES 64 /* trie nodes with regexes remembered per walk; more are scanned at once */
#define RX_HITS  8  /* chunks named by one screening scan; more: scan them all */

static inline const char *
node_label(const struct hf_rmatch_node *nd)
{
	return nd->label_len <= HF_RMATCH_INLINE ? nd->label.in : nd->label.out;
}

static inline const uint8_t *
node_first(const struct hf_rmatch_node *nd)
{
	return nd->n_child <= HF_RMATCH_INLINE ? nd->first.in : nd->first.out;
}

struct req {
	const struct hf_rmatch *m;
	hs_scratch_t *scratch;
	const struct hf_h1_message *msg;
	const char *path;
	uint32_t plen;
	const char *query; /* after the '?'; NULL when the target has none */
	uint32_t qlen;
	const char *scheme;
	uint32_t slen;
	uint16_t port;
	uint32_t best; /* the lowest route known to match, or HF_RMATCH_NO_ROUTE */
};

static int
on_match_stop(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
              void *ctx)
{
	(void)id, (void)from, (void)to, (void)flags, (void)ctx;
	return 1;
}

static int
on_match_mask(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
              void *ctx)
{
	(void)from, (void)to, (void)flags;
	*(uint32_t *)ctx |= 1u << id;
	return 0;
}

static inline bool
bytes_eq(const char *a, const char *b, uint32_t n, bool icase)
{
	return icase ? strncasecmp(a, b, n) == 0 : memcmp(a, b, n) == 0;
}

/*
 * Whether the value made of the @p n pieces @p d/@p l (a header's fields
 * with their ',' separators in between) matches @p c.
 */
static bool
value_matches(const struct req *rq, const struct hf_rmatch_str *c, const char *const *d,
              const unsigned int *l, unsigned int n)
{
	uint64_t total = 0;
	uint32_t want, off = 0;

	if (c->kind == HF_MATCH_PRESENT)
		return true;
	if (c->kind == HF_MATCH_REGEX) {
		if (rq->scratch == NULL)
			return false;
		if (c->vectored)
			return hs_scan_vector(c->db, d, l, n, 0, rq->scratch, on_match_stop,
			                      NULL) == HS_SCAN_TERMINATED;
		return hs_scan(c->db, d[0], l[0], 0, rq->scratch, on_match_stop, NULL) ==
		       HS_SCAN_TERMINATED;
	}
	for (unsigned int i = 0; i < n; i++)
		total += l[i];
	if (c->kind == HF_MATCH_EXACT ? total != c->len : total < c->len)
		return false;
	want = c->len;
	for (unsigned int i = 0; i < n && want > 0; i++) {
		uint32_t k = l[i] < want ? l[i] : want;

		if (!bytes_eq(d[i], c->s + off, k, c->icase))
			return false;
		off += k;
		want -= k;
	}
	return true;
}

static bool
one_matches(const struct req *rq, const struct hf_rmatch_str *c, const char *p, uint32_t len)
{
	unsigned int l = len;

	return value_matches(rq, c, &p, &l, 1);
}

/* The first query parameter named @p kv (Envoy keeps the first), or false. */
static bool
query_value(const struct req *rq, const struct hf_rmatch_kv *kv, const char **v, uint32_t *vlen)
{
	const char *p = rq->query, *end = rq->query + rq->qlen;

	if (p == NULL)
		return false;
	for (;;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp != NULL ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pe - p));
		const char *ne = eq != NULL ? eq : pe;

		if ((uint32_t)(ne - p) == kv->name_len && memcmp(p, kv->name, kv->name_len) == 0) {
			*v = eq != NULL ? eq + 1 : pe;
			*vlen = (uint32_t)(pe - *v);
			return true;
		}
		if (amp == NULL)
			return false;
		p = amp + 1;
	}
}

static bool
kv_holds(const struct req *rq, const struct hf_rmatch_kv *kv)
{
	const char *d[2 * HF_H1_MAX_HEADERS_CAP];
	unsigned int l[2 * HF_H1_MAX_HEADERS_CAP];
	unsigned int n = 0;

	if (kv->query) {
		const char *v;
		uint32_t vlen;

		if (!query_value(rq, kv, &v, &vlen))
			return kv->absent;
		return one_matches(rq, &kv->m, v, vlen) != kv->absent;
	}
	for (uint32_t i = 0; i < rq->msg->n_headers; i++) {
		const struct hf_h1_header *h = &rq->msg->headers[i];

		if (h->name.len != kv->name_len ||
		    strncasecmp(h->name.p, kv->name, kv->name_len) != 0)
			continue;
		if (n > 0) {
			d[n] = ",";
			l[n++] = 1;
		}
		d[n] = h->value.p;
		l[n++] = h->value.len;
	}
	if (n == 0)
		return kv->absent;
	return value_matches(rq, &kv->m, d, l, n) != kv->absent;
}

/* Whether every condition of @p b but its path holds. */
static bool
rest_holds(const struct req *rq, const struct hf_rmatch_block *b)
{
	const struct hf_h1_message *msg = rq->msg;

	if (b->flags == 0)
		return true;
	if ((b->flags & HF_RMATCH_HAS_PORT) && b->port != rq->port)
		return false;
	if ((b->flags & HF_RMATCH_HAS_METHOD) &&
	    !one_matches(rq, &b->method, msg->method_name.p, msg->method_name.len))
		return false;
	if ((b->flags & HF_RMATCH_HAS_AUTHORITY) &&
	    !one_matches(rq, &b->authority, msg->host.p, msg->host.len))
		return false;
	if ((b->flags & HF_RMATCH_HAS_SCHEME) && !one_matches(rq, &b->scheme, rq->scheme, rq->slen))
		return false;
	for (uint32_t i = 0; i < b->n_kv; i++)
		if (!kv_holds(rq, &rq->m->kvs[b->kv + i]))
			return false;
	return true;
}

/* The first block of list @p r whose route can still win and whose rest holds. */
static inline void
try_list(struct req *rq, struct hf_rmatch_range r)
{
	const uint32_t *l = rq->m->lists + r.off;

	for (uint32_t i = 0; i < r.n; i++) {
		const struct hf_rmatch_block *b = &rq->m->blocks[l[i]];

		if (b->route >= rq->best)
			return;
		if (rest_holds(rq, b)) {
			rq->best = b->route;
			return;
		}
	}
}

/* Scans one chunk; its matching blocks are in route order, the first that holds wins. */
static void
try_chunk(struct req *rq, const struct hf_rmatch_chunk *ch)
{
	const struct hf_rmatch *m = rq->m;
	uint32_t mask = 0;

	if (hs_scan(ch->db, rq->path, rq->plen, 0, rq->scratch, on_match_mask, &mask) != HS_SUCCESS)
		return;
	while (mask != 0) {
		const struct hf_rmatch_block *b =
		        &m->blocks[m->lists[ch->entry + __builtin_ctz(mask)]];

		mask &= mask - 1;
		if (b->route >= rq->best)
			return;
		if (rest_holds(rq, b)) {
			rq->best = b->route;
			return;
		}
	}
}

/* The chunks a screening scan named (indexes in m->chunks, ascending). */
struct hits {
	const uint32_t *chunk_of;
	uint32_t n;
	bool overflow;
	uint32_t chunk[RX_HITS];
};

static int
on_literal(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
           void *ctx)
{
	struct hits *h = ctx;
	uint32_t c = h->chunk_of[id], i;

	(void)from, (void)to, (void)flags;
	for (i = 0; i < h->n && h->chunk[i] < c; i++)
		;
	if (i < h->n && h->chunk[i] == c)
		return 0;
	if (h->n == RX_HITS) {
		h->overflow = true;
		return 1;
	}
	memmove(&h->chunk[i + 1], &h->chunk[i], sizeof(h->chunk[0]) * (h->n - i));
	h->chunk[i] = c;
	h->n++;
	return 0;
}

/*
 * Scans the regexes of group @p g that can still win: its plain chunks in
 * route order, then those of its filtered chunks the screening scan names.
 */
static void
try_group(struct req *rq, const struct hf_rmatch_rxgroup *g)
{
	const struct hf_rmatch *m = rq->m;
	struct hits h = {.chunk_of = g->chunk_of};

	if (rq->scratch == NULL)
		return;
	for (uint32_t c = 0; c < g->plain.n; c++) {
		const struct hf_rmatch_chunk *ch = &m->chunks[g->plain.off + c];

		if (ch->first_route >= rq->best)
			break;
		try_chunk(rq, ch);
	}
	if (g->filtered.n == 0 || m->chunks[g->filtered.off].first_route >= rq->best)
		return;
	if (g->filter == NULL ||
	    hs_scan(g->filter, rq->path, rq->plen, 0, rq->scratch, on_literal, &h) != HS_SUCCESS) {
		/* no screen, or more chunks named than remembered: all of them */
		for (uint32_t c = 0; c < g->filtered.n; c++) {
			const struct hf_rmatch_chunk *ch = &m->chunks[g->filtered.off + c];

			if (ch->first_route >= rq->best)
				break;
			try_chunk(rq, ch);
		}
		return;
	}
	for (uint32_t i = 0; i < h.n && m->chunks[h.chunk[i]].first_route < rq->best; i++)
		try_chunk(rq, &m->chunks[h.chunk[i]]);
}

/* Labels are short (a few bytes): compared inline, 8 bytes at a time, rather than by a call. */
static inline bool
label_eq(const char *path, const char *label, uint32_t n, bool icase)
{
	if (icase) {
		for (uint32_t i = 0; i < n; i++)
			if ((char)tolower((unsigned char)path[i]) != label[i])
				return false;
		return true;
	}
	for (; n >= 8; n -= 8, path += 8, label += 8) {
		uint64_t a, b;

		memcpy(&a, path, 8);
		memcpy(&b, label, 8);
		if (a != b)
			return false;
	}
	for (; n > 0; n--)
		if (*path++ != *label++)
			return false;
	return true;
}

/* The child of @p nd whose label starts with @p c, or NULL. */
static inline const struct hf_rmatch_node *
child_of(const struct hf_rmatch_trie *t, const struct hf_rmatch_node *nd, uint8_t c)
{
	const uint8_t *first = node_first(nd), *f;

	if (nd->n_child <= 16) {
		for (uint32_t i = 0; i < nd->n_child; i++)
			if (first[i] == c)
				return &t->nodes[nd->child + i];
		return NULL;
	}
	f = memchr(first, c, nd->n_child);
	return f != NULL ? &t->nodes[nd->child + (uint32_t)(f - first)] : NULL;
}

/*
 * Walks the path down trie @p t: every node passed is a prefix of the path,
 * so its prefix blocks are candidates; the node where the path ends has the
 * exact ones. Regex groups met are remembered in @p rx for after the
 * literals (or scanned at once when @p rx is full).
 */
static void
walk(struct req *rq, const struct hf_rmatch_trie *t, bool icase,
     const struct hf_rmatch_rxgroup **rx, unsigned int *n_rx)
{
	const struct hf_rmatch_node *nd = &t->nodes[0];
	uint32_t pos = 0;

	if (t->n_nodes == 0)
		return;
	for (;;) {
		const struct hf_rmatch_node *ch;
		uint8_t c;

		if (nd->prefix.n > 0)
			try_list(rq, nd->prefix);
		if (nd->rxg != 0) {
			if (*n_rx < RX_NODES)
				rx[(*n_rx)++] = &rq->m->groups[nd->rxg - 1];
			else
				try_group(rq, &rq->m->groups[nd->rxg - 1]);
		}
		if (pos == rq->plen) {
			if (nd->exact.n > 0)
				try_list(rq, nd->exact);
			return;
		}
		c = (uint8_t)rq->path[pos];
		if (icase)
			c = (uint8_t)tolower(c);
		ch = child_of(t, nd, c);
		if (ch == NULL)
			return;
		if (ch->label_len > rq->plen - pos ||
		    !label_eq(rq->path + pos, node_label(ch), ch->label_len, icase))
			return;
		pos += ch->label_len;
		nd = ch;
	}
}

int
hf_rmatch_find(const struct hf_rmatch *m, hs_scratch_t *scratch, const struct hf_h1_message *msg,
               uint16_t port, const char *scheme)
{
	const char *q = memchr(msg->target.p, '?', msg->target.len);
	const struct hf_rmatch_rxgroup *rx[RX_NODES];
	unsigned int n_rx = 0;
	struct req rq = {
	        .m = m,
	        .scratch = scratch,
	        .msg = msg,
	        .path = msg->target.p,
	        .plen = q != NULL ? (uint32_t)(q - msg->target.p) : msg->target.len,
	        .query = q != NULL ? q + 1 : NULL,
	        .qlen = q != NULL ? msg->target.len - (uint32_t)(q - msg->target.p) - 1 : 0,
	        .scheme = scheme != NULL ? scheme : "",
	        .slen = scheme != NULL ? (uint32_t)strlen(scheme) : 0,
	        .port = port,
	        .best = m->always,
	};

	if (rq.best == 0)
		return 0;
	walk(&rq, &m->trie[0], false, rx, &n_rx);
	walk(&rq, &m->trie[1], true, rx, &n_rx);
	if (m->nopath.n > 0)
		try_list(&rq, m->nopath);
	/* The group that may hold the lowest route first: what it finds prunes the others. */
	for (unsigned int i = 1; i < n_rx; i++) {
		const struct hf_rmatch_rxgroup *g = rx[i];
		unsigned int j = i;

		for (; j > 0 && rx[j - 1]->first_route > g->first_route; j--)
			rx[j] = rx[j - 1];
		rx[j] = g;
	}
	for (unsigned int i = 0; i < n_rx && rx[i]->first_route < rq.best; i++)
		try_group(&rq, rx[i]);
	return rq.best == HF_RMATCH_NO_ROUTE ? -1 : (int)rq.best;
}
