/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The authorization check by the index the agent compiled (authz-t.h): each
 * attribute of the request read and looked up once, every rule then decided
 * by bit operations, and a worker's memo of the sets and the last verdict.
 * Rules the index leaves out go to the tree walk (authz.c), which gives the
 * same verdict condition by condition.
 */
#include <assert.h>
#include <string.h>

#include "dataplane/proxy/authz-int.h"

static_assert(sizeof(struct hf_authz_dim) == 64, "a dim is one cache line");
static_assert(sizeof(struct hf_authz_memo_ent) == 128, "a memo entry is two cache lines");

/* What one dim gathers from a request: the terms its matches satisfy (P) and refute (N). */
struct gather {
	const struct hf_authz_ix *ix;
	uint32_t nw;
	bool any;			/* some entry matched */
	uint64_t p[HF_AUTHZ_IX_WORDS], n[HF_AUTHZ_IX_WORDS];
};

/* ORs sets @p p and @p n (g->nw words each) into @p g. */
static void
gather_words(struct gather *g, const uint64_t *p, const uint64_t *n)
{
	if (!g->any) {
		for (uint32_t i = 0; i < g->nw; i++) {
			g->p[i] = p[i];
			g->n[i] = n[i];
		}
		g->any = true;
		return;
	}
	for (uint32_t i = 0; i < g->nw; i++) {
		g->p[i] |= p[i];
		g->n[i] |= n[i];
	}
}

/* ORs the sets of an entry (its pos and neg, offsets in the index's sets) into @p g. */
static inline void
gather_sets(struct gather *g, uint32_t pos, uint32_t neg)
{
	gather_words(g, g->ix->sets + pos, g->ix->sets + neg);
}

/*
 * The entries of dim @p dim under key @p key (@p len bytes, hash @p h), for
 * request value @p s (@p n bytes; a template is matched against it whole).
 */
static void
probe_table(struct gather *g, uint32_t h, uint16_t dim, uint8_t cls, const char *key, size_t len,
	    bool nocase, const char *s, size_t n)
{
	const struct hf_authz_ix *ix = g->ix;

	for (uint32_t i = h & ix->mask;; i = (i + 1) & ix->mask) {
		const struct hf_authz_slot *sl = &ix->slots[i];

		if (sl->cls == HF_AZC_EMPTY)
			return;
		if (sl->h != h || sl->dim != dim || sl->cls != cls || sl->len != len ||
		    !eq(key, sl->s, len, nocase))
			continue;
		if (sl->kind != HF_AZM_TEMPLATE || hf_authz_template_match(sl->s, sl->tlen, s, n))
			gather_sets(g, sl->pos, sl->neg);
		/* more entries under the key: templates with one literal start */
		for (int32_t k = sl->next; k >= 0; k = ix->ents[k].next) {
			const struct hf_authz_ent *e = &ix->ents[k];

			if (e->kind != HF_AZM_TEMPLATE || hf_authz_template_match(e->s, e->tlen, s, n))
				gather_sets(g, e->pos, e->neg);
		}
		return;
	}
}

/* probe_table() behind the dim's filter, which turns most misses away before any hash. */
static inline void
probe(struct gather *g, uint16_t dim, uint8_t cls, uint32_t bit, const char *key, size_t len,
      bool nocase, const char *s, size_t n)
{
	if (hf_authz_filter_has(g->ix->dims[dim].filter, bit))
		probe_table(g, hf_authz_key_hash(key, len, nocase, dim, cls), dim, cls, key, len,
			    nocase, s, n);
}

/* Byte @p c of a request's value, as the dim's filter holds it. */
static inline uint32_t
fbyte(char c, bool nocase)
{
	return nocase ? lower((unsigned char)c) : (unsigned char)c;
}

/* String @p s (@p n bytes) against the values of dim @p di: present, prefixes, exact, suffixes. */
static void
lookup_str(struct gather *g, uint16_t di, const char *s, size_t n)
{
	const struct hf_authz_dim *d = &g->ix->dims[di];
	const bool nc = d->nocase;

	if (d->present >= 0)
		gather_sets(g, g->ix->ents[d->present].pos, g->ix->ents[d->present].neg);
	const uint16_t *pre = d->lens, *suf = d->lens + d->n_pre;

	for (uint16_t k = 0; k < d->n_pre && pre[k] <= n; k++) {
		size_t l = pre[k];
		uint32_t b = l > 0 ? fbyte(s[l - 1], nc) : 0;

		probe(g, di, HF_AZC_PREFIX, hf_authz_filter_bit(HF_AZC_PREFIX, (uint32_t)l, b), s, l,
		      nc, s, n);
	}
	if (d->exact) {
		uint32_t b = n > 0 ? fbyte(s[n - 1], nc) : 0;

		probe(g, di, HF_AZC_EXACT, hf_authz_filter_bit(HF_AZC_EXACT, (uint32_t)n, b), s, n,
		      nc, s, n);
	}
	for (uint16_t k = 0; k < d->n_suf && suf[k] <= n; k++) {
		size_t l = suf[k];
		const char *t = s + n - l;

		probe(g, di, HF_AZC_SUFFIX,
		      hf_authz_filter_bit(HF_AZC_SUFFIX, (uint32_t)l, l > 0 ? fbyte(t[0], nc) : 0),
		      t, l, nc, s, n);
	}
}

/* An address (@p a, network order, IPv4 in the first 4 bytes) against dim @p di's blocks. */
static void
lookup_addr(struct gather *g, uint16_t di, const uint8_t a[16], bool v6)
{
	const struct hf_authz_dim *d = &g->ix->dims[di];
	uint32_t a4;

	memcpy(&a4, a, 4);
	const uint16_t *plens = d->lens + d->n_pre + d->n_suf;

	for (uint16_t k = 0; k < d->n_plen; k++) {
		unsigned int plen = plens[k] & 0xff, full = plen / 8u, rest = plen % 8u;
		uint8_t key[17];
		uint32_t h;

		if ((bool)(plens[k] & 0x100) != v6)
			continue;
		/* the agent's key: the address cut to plen bits, then plen (5 or 17 bytes) */
		if (!v6) {
			/* in registers: the hash's two 4-byte words are bytes 0-3 and 1-4 (x86 order) */
			uint32_t m = plen == 0 ? 0 : rte_cpu_to_be_32(~UINT32_C(0) << (32 - plen));
			uint32_t w = a4 & m;

			if (!hf_authz_filter_has(d->filter,
						 hf_authz_filter_bit(HF_AZC_ADDR, plen, w & 0xff)))
				continue;
			memcpy(key, &w, 4);
			key[4] = (uint8_t)plen;
			h = hf_authz_hash_words(w, (uint64_t)(w >> 8 | (uint32_t)plen << 24), 5, di,
						HF_AZC_ADDR);
			probe_table(g, h, di, HF_AZC_ADDR, (const char *)key, 5, false, NULL, 0);
			continue;
		}
		memset(key, 0, sizeof(key));
		memcpy(key, a, full);
		if (rest != 0)
			key[full] = a[full] & (uint8_t)(0xff00u >> rest);
		key[16] = (uint8_t)plen;
		probe(g, di, HF_AZC_ADDR, hf_authz_filter_bit(HF_AZC_ADDR, plen | 0x100, key[0]),
		      (const char *)key, 17, false, NULL, 0);
	}
}

/* Key equality in a few loads: overlapping words, no byte loop (values are mostly short). */
static inline bool
same_key(const char *a, const char *b, size_t n)
{
	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8)
			if (hf_authz_load8(a + i) != hf_authz_load8(b + i))
				return false;
		return hf_authz_load8(a + n - 8) == hf_authz_load8(b + n - 8);
	}
	if (n >= 4)
		return hf_authz_load4(a) == hf_authz_load4(b) &&
		       hf_authz_load4(a + n - 4) == hf_authz_load4(b + n - 4);
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}


/*
 * What a dim lets live of the terms, given what it gathered: (dflt | P) & ~N,
 * into @p keep (@p nw words); dflt alone when nothing matched.
 */
static inline __attribute__((always_inline)) void
keep_of(const struct gather *g, const uint64_t *dflt, uint64_t *keep, uint32_t nw)
{
	if (!g->any) {
		for (uint32_t i = 0; i < nw; i++)
			keep[i] = dflt[i];
		return;
	}
	for (uint32_t i = 0; i < nw; i++)
		keep[i] = (dflt[i] | g->p[i]) & ~g->n[i];
}

/* Keeps in @p alive (@p nw words: a constant in check_ix()'s copies) the terms of @p keep. */
static inline __attribute__((always_inline)) void
and_into(uint64_t *alive, const uint64_t *keep, uint32_t nw)
{
	for (uint32_t i = 0; i < nw; i++)
		alive[i] &= keep[i];
}

/* Whether some term of @p alive is in set @p s (@p nw words). */
static inline __attribute__((always_inline)) bool
meets(const uint64_t *alive, const uint64_t *s, uint32_t nw)
{
	uint64_t x = 0;

	for (uint32_t i = 0; i < nw; i++)
		x |= alive[i] & s[i];
	return x != 0;
}

/*
 * What value @p key (@p n bytes) of dim @p di (attribute @p attr: an
 * address is 4 bytes IPv4 or 16 IPv6, @p v6; a port its 2 bytes, high
 * first; else a string) gathers, looked up in the index, into @p g.
 */
static __attribute__((noinline)) void
value_lookup(struct gather *g, uint16_t di, uint8_t attr, const char *key, size_t n, bool v6)
{
	g->any = false;
	switch (attr) {
	case HF_AZ_SOURCE_IP:
	case HF_AZ_DEST_IP:
	case HF_AZ_REMOTE_IP:
		lookup_addr(g, di, (const uint8_t *)key, v6);
		return;
	case HF_AZ_PORT:
		probe(g, di, HF_AZC_ADDR,
		      hf_authz_filter_bit(HF_AZC_ADDR, 0x200, (unsigned char)key[1]), key, 2, false,
		      NULL, 0);
		return;
	default:
		lookup_str(g, di, key, n);
		return;
	}
}

/*
 * Keeps in @p alive the terms value @p key (@p n bytes, as value_lookup()
 * takes it) of dim @p di (@p dflt its dflt set) lets live: from the worker's
 * memo @p memo when the dim's last value was the same, else looked up with
 * @p g (and remembered when it fits).
 */
static inline __attribute__((always_inline)) void
value_apply(struct gather *g, struct hf_authz_memo *memo, uint16_t di, uint8_t attr,
	    const char *key, size_t n, bool v6, const uint64_t *dflt, uint64_t *alive, uint32_t nw)
{
	struct hf_authz_memo_ent *e = NULL;
	uint64_t keep[HF_AUTHZ_IX_WORDS];

	if (memo != NULL && di < HF_AUTHZ_MEMO_DIMS) {
		e = &memo->ent[di];
		if (e->full && e->len == n && same_key(e->key, key, n)) {
			and_into(alive, e->keep, nw);
			return;
		}
	}
	value_lookup(g, di, attr, key, n, v6);
	keep_of(g, dflt, keep, nw);
	and_into(alive, keep, nw);
	if (e == NULL || n > HF_AUTHZ_MEMO_KEY)
		return;
	e->full = true;
	e->len = (uint8_t)n;
	memcpy(e->key, key, n);
	for (uint32_t i = 0; i < nw; i++)
		e->keep[i] = keep[i];
}

void
hf_authz_dim_keep(const struct hf_authz_ix *ix, uint16_t di, const char *s, size_t n,
		  uint64_t *out)
{
	struct gather g = {.ix = ix, .nw = ix->nw};

	value_lookup(&g, di, ix->dims[di].attr, s, n, false);
	keep_of(&g, ix->sets + ix->dims[di].dflt, out, ix->nw);
}

/*
 * The value main dim attribute @p attr reads of @p rq, as value_lookup()
 * takes it (an address worked out, or a port, in @p a). Returns false when
 * the request has none: the dim then lets its dflt terms live.
 */
static inline __attribute__((always_inline)) bool
value_of(const struct hf_authz *az, uint8_t attr, struct hf_authz_rq *rq, uint8_t a[16],
	 const char **key, size_t *n, bool *v6)
{
	const struct hf_h1_message *msg = rq->msg;
	const struct hf_authn *an = rq->authn;

	switch (attr) {
	case HF_AZ_PRINCIPAL:
		*key = rq->peer;
		*n = rq->peer_len;
		return rq->peer != NULL && rq->peer_len > 0;
	case HF_AZ_NAMESPACE:
		return rq->peer != NULL && hf_authz_principal_ns(rq->peer, rq->peer_len, key, n) && *n > 0;
	case HF_AZ_REQ_PRINCIPAL:
		if (an == NULL || an->principal_len == 0)
			return false;
		*key = an->buf + an->principal_off;
		*n = an->principal_len;
		return true;
	case HF_AZ_SOURCE_IP:
		*key = (const char *)&rq->src_ip;
		*n = 4;
		return true;
	case HF_AZ_DEST_IP:
		*key = (const char *)&rq->dst_ip;
		*n = 4;
		return true;
	case HF_AZ_REMOTE_IP:
		if (!hf_authz_xff_addr(msg, az->xff_trusted_hops, a, v6)) {
			memset(a, 0, 16);
			memcpy(a, &rq->src_ip, 4);
			*v6 = false;
		}
		*key = (const char *)a;
		*n = *v6 ? 16 : 4;
		return true;
	case HF_AZ_HOST:
		*key = msg->host.p;
		*n = msg->host.len;
		return msg->host.len > 0;
	case HF_AZ_PORT:
		a[0] = (uint8_t)(rq->dst_port >> 8);
		a[1] = (uint8_t)(rq->dst_port & 0xff);
		*key = (const char *)a;
		*n = 2;
		return true;
	case HF_AZ_METHOD:
		*key = msg->method_name.p;
		*n = msg->method_name.len;
		return true;
	case HF_AZ_PATH:
		*key = rq->path;
		*n = rq->path_len;
		return true;
	case HF_AZ_SNI:
		if (rq->sni == NULL || rq->sni[0] == '\0')
			return false;
		*key = rq->sni;
		*n = strlen(rq->sni);
		return true;
	default:
		return false;
	}
}

/*
 * Keeps in @p alive what claim dim @p di lets live: a list claim is one
 * entry per element, any of which may match, all gathered before the dim
 * decides (not remembered: the memo holds one value's answer).
 */
static __attribute__((noinline)) void
claim_apply(const struct hf_authz_ix *ix, uint16_t di, const struct hf_authn *an, uint64_t *alive,
	    uint32_t nw)
{
	const struct hf_authz_name *nm = &ix->names[di];
	uint64_t keep[HF_AUTHZ_IX_WORDS];
	struct gather g;

	g.ix = ix;
	g.nw = nw;
	g.any = false;
	if (an != NULL && an->principal_len > 0)
		for (uint16_t i = 0; i < an->n_claims && i < HF_AUTHN_MAX_CLAIMS; i++) {
			const struct hf_authn_claim *cl = &an->claims[i];

			if (cl->name_len == nm->len &&
			    memcmp(an->buf + cl->name_off, nm->s, nm->len) == 0)
				lookup_str(&g, di, an->buf + cl->val_off, cl->val_len);
		}
	keep_of(&g, ix->sets + ix->dims[di].dflt, keep, nw);
	and_into(alive, keep, nw);
}

/*
 * The header dims: one pass over the request's fields from field @p i on
 * (the first whose name has a length some policy reads), each such name
 * looked up; a name that came in one field is matched in place, one that
 * came in several is joined (hf_authz_field_value()).
 */
static __attribute__((noinline)) void
apply_headers(const struct hf_authz_ix *ix, struct gather *g, struct hf_authz_memo *memo,
	      struct hf_authz_rq *rq, uint32_t i, uint64_t *alive)
{
	const uint32_t nw = ix->nw;
	const struct hf_h1_message *msg = rq->msg;
	uint16_t seen[16];
	/* again: bit k set when dim seen[k] has more than one field */
	uint32_t hdr[16], n_seen = 0, again = 0;

	for (; i < msg->n_headers; i++) {
		const struct hf_h1_header *f = &msg->headers[i];
		uint32_t n = f->name.len < 63 ? f->name.len : 63, h;

		if (!(ix->hdr_lens & (UINT64_C(1) << n)))
			continue;
		h = hf_authz_key_hash(f->name.p, f->name.len, true, 0, HF_AZC_HDR);
		for (uint32_t s = h & ix->mask; ix->slots[s].cls != HF_AZC_EMPTY;
		     s = (s + 1) & ix->mask) {
			const struct hf_authz_slot *e = &ix->slots[s];
			uint32_t k;

			if (e->h != h || e->cls != HF_AZC_HDR || e->len != f->name.len ||
			    !eq_nocase(f->name.p, e->s, e->len))
				continue;
			for (k = 0; k < n_seen && seen[k] != e->dim; k++)
				;
			if (k < n_seen) {
				again |= UINT32_C(1) << k;
			} else if (n_seen < 16) {
				seen[n_seen] = e->dim;
				hdr[n_seen++] = i;
			} else {
				n_seen = UINT32_MAX;	/* too many to track: every dim looked up */
			}
			break;
		}
		if (n_seen == UINT32_MAX)
			break;
	}
	if (n_seen == 0) {
		and_into(alive, ix->sets + ix->hdr_dflt, nw);
		return;
	}
	for (uint16_t di = ix->n_main; di < ix->n_dims; di++) {
		const struct hf_authz_name *nm = &ix->names[di];
		const char *v = NULL;
		size_t vn = 0;
		bool have = false;

		if (n_seen == UINT32_MAX) {
			have = hf_authz_field_value(rq, nm->s, nm->len, 0, &v, &vn);
		} else {
			for (uint32_t k = 0; k < n_seen; k++) {
				const struct hf_h1_slice *f = &msg->headers[hdr[k]].value;

				if (seen[k] != di)
					continue;
				if (again & (UINT32_C(1) << k)) {
					have = hf_authz_field_value(rq, nm->s, nm->len, hdr[k], &v,
							   &vn);
				} else {
					v = f->p;
					vn = f->len;
					have = true;
				}
				break;
			}
		}
		if (have)
			value_apply(g, memo, di, HF_AZ_HEADER, v, vn, false,
				    ix->sets + ix->dims[di].dflt, alive, nw);
		else
			and_into(alive, ix->sets + ix->dims[di].dflt, nw);
	}
}

/* The first set bit of @p s in [@p from, @p to), or @p to. */
static uint32_t
first_bit(const uint64_t *s, uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to;) {
		uint64_t w = s[i / 64] >> (i % 64);

		if (w != 0) {
			i += (uint32_t)__builtin_ctzll(w);
			return i < to ? i : to;
		}
		i = (i / 64 + 1) * 64;
	}
	return to;
}

/* The first field of @p msg whose name has a length some header dim reads, or n_headers. */
static inline uint32_t
first_hdr_candidate(const struct hf_authz_ix *ix, const struct hf_h1_message *msg)
{
	uint32_t i;

	for (i = 0; i < msg->n_headers; i++) {
		uint32_t n = msg->headers[i].name.len;

		if (ix->hdr_lens & (UINT64_C(1) << (n < 63 ? n : 63)))
			break;
	}
	return i;
}

/*
 * Whether @p rq holds what the memo's last check read (hf_authz_memo): the
 * same value, or none, in each main dim it read, the same method, and again
 * no header field a policy reads when it found none.
 */
static inline __attribute__((always_inline)) bool
verdict_holds(const struct hf_authz *az, const struct hf_authz_ix *ix, struct hf_authz_rq *rq,
	      const struct hf_authz_memo *memo, bool method_table)
{
	const struct hf_h1_message *msg = rq->msg;

	for (uint32_t bits = memo->read; bits != 0; bits &= bits - 1) {
		const uint32_t di = (uint32_t)__builtin_ctz(bits);
		const uint8_t attr = ix->main_attr[di];
		const struct hf_authz_memo_ent *e;
		const char *key;
		size_t n;
		uint8_t a[16];
		bool v6 = false;

		if (attr == HF_AZ_METHOD) {
			if (msg->method != memo->method)
				return false;
			if (method_table)
				continue;
		}
		if (!value_of(az, attr, rq, a, &key, &n, &v6)) {
			if (!(memo->absent & (UINT32_C(1) << di)))
				return false;
			continue;
		}
		e = &memo->ent[di];
		if ((memo->absent & (UINT32_C(1) << di)) || e->len != n ||
		    !same_key(e->key, key, n))
			return false;
	}
	return !memo->hdr_scanned || first_hdr_candidate(ix, msg) == msg->n_headers;
}

/* The verdict the live terms @p alive (@p nw words) give, into @p res; true: denied. */
static inline __attribute__((always_inline)) bool
decide(const struct hf_authz *az, const struct hf_authz_ix *ix, const uint64_t *alive,
       struct hf_authz_result *res)
{
	const struct hf_authz_policy *last = NULL;
	uint32_t t;

	hf_authz_result_clear(res);
	/* AUDIT: each policy with a term alive, in order */
	for (t = first_bit(alive, ix->allow_end, ix->n_terms); t < ix->n_terms;
	     t = first_bit(alive, t + 1, ix->n_terms)) {
		if (ix->terms[t].policy == last)
			continue;
		last = ix->terms[t].policy;
		if (res->n_audited < sizeof(res->audited) / sizeof(res->audited[0]))
			res->audited[res->n_audited] = last->slot;
		res->n_audited++;
	}
	t = first_bit(alive, 0, ix->deny_end);
	if (t < ix->deny_end) {
		res->denied = true;
		res->policy = ix->terms[t].policy;
		res->rule = ix->terms[t].rule;
		res->slot = ix->terms[t].slot;
		return true;
	}
	if (az->n_allow == 0)
		return false;
	t = first_bit(alive, ix->deny_end, ix->allow_end);
	if (t < ix->allow_end) {
		res->allowed_by = ix->terms[t].policy;
		res->slot = ix->terms[t].slot;
		return false;
	}
	res->denied = true;
	return true;
}

/*
 * The check through the index, its sets @p nw words long, with the worker's
 * memo @p memo (at most 2 words) or none (NULL): constants in the copies
 * hf_authz_check() picks for the usual sizes, so the set operations are a
 * few instructions each, without loops, and a copy without a memo keeps no
 * record of what it read.
 */
static inline __attribute__((always_inline)) bool
check_ix(const struct hf_authz *az, const struct hf_authz_ix *ix, struct hf_authz_rq *rq,
	 struct hf_authz_memo *memo, struct hf_authz_result *res, const uint32_t nw)
{
	uint64_t alive[HF_AUTHZ_IX_WORDS];
	struct gather g;
	const struct hf_h1_message *msg = rq->msg;
	const enum hf_h1_method m = msg->method;
	/* the main dims' touch and dflt sets, side by side; then the header dims' pair */
	const uint64_t *run = ix->sets + ix->dim_sets;
	/* the method's answer, when the agent worked it out (a method the parser names) */
	const uint64_t *method_keep = ix->method_keep != NULL && m != HF_H1_M_OTHER &&
					      m <= HF_H1_M_PATCH
					      ? ix->method_keep + (size_t)m * nw
					      : NULL;
	/* what this check reads, for the memo's verdict; keep: whether it may keep one */
	uint32_t read = 0, absent = 0;
	bool keep = memo != NULL && ix->n_slow == 0, hdr_scanned = false, denied;

	if (memo != NULL) {
		if (memo->serial != ix->serial) {
			/* another index: what the memo holds was gathered from the last one */
			for (uint32_t i = 0; i < HF_AUTHZ_MEMO_DIMS; i++)
				memo->ent[i].full = false;
			memo->verdict = false;
			memo->serial = ix->serial;
		} else if (memo->verdict && verdict_holds(az, ix, rq, memo, method_keep != NULL)) {
			*res = memo->res;
			return res->denied;
		}
	}
	/*
	 * What this check will read whatever the request holds, asked for at
	 * once: between two requests the worker's packets push it out of L1,
	 * and one line after another it costs more than the check itself.
	 */
	for (const char *p = ix->run, *end = p + ix->run_len; p < end + 63; p += 64)
		__builtin_prefetch(p);
	if (method_keep != NULL)
		__builtin_prefetch(method_keep);
	g.ix = ix;
	g.nw = nw;
	for (uint32_t i = 0; i < nw; i++)
		alive[i] = UINT64_MAX;
	for (uint16_t di = 0; di < ix->n_main; di++) {
		const uint64_t *touch = run + (size_t)di * 2 * nw;
		const uint8_t attr = ix->main_attr[di];
		const char *key;
		size_t n;
		uint8_t a[16];
		bool v6 = false;

		/* no live term reads it: whatever the request holds, it would keep them all */
		if (!meets(alive, touch, nw))
			continue;
		if (di >= HF_AUTHZ_MEMO_DIMS)
			keep = false;
		read |= UINT32_C(1) << (di & 31);
		if (attr == HF_AZ_METHOD && method_keep != NULL) {
			and_into(alive, method_keep, nw);
			continue;
		}
		if (attr == HF_AZ_CLAIM) {
			keep = false;
			claim_apply(ix, di, rq->authn, alive, nw);
			continue;
		}
		if (value_of(az, attr, rq, a, &key, &n, &v6)) {
			if (n > HF_AUTHZ_MEMO_KEY)
				keep = false;
			value_apply(&g, memo, di, attr, key, n, v6, touch + nw, alive, nw);
		} else {
			absent |= UINT32_C(1) << (di & 31);
			and_into(alive, touch + nw, nw);	/* its dflt */
		}
	}
	if (ix->any_hdr && meets(alive, run + (size_t)ix->n_main * 2 * nw, nw)) {
		/* most requests send no field of a name a policy reads: none of its length, even */
		uint32_t i = first_hdr_candidate(ix, msg);

		if (i == msg->n_headers) {
			hdr_scanned = true;
			and_into(alive, run + ((size_t)ix->n_main * 2 + 1) * nw, nw);
		} else {
			keep = false;
			apply_headers(ix, &g, memo, rq, i, alive);
		}
	}
	for (uint32_t i = 0; i < ix->n_slow; i++) {
		uint32_t t = ix->slow[i];

		if (!hf_authz_rule_holds(az, ix->terms[t].rule, rq))
			alive[t / 64] &= ~(UINT64_C(1) << (t % 64));
	}
	denied = decide(az, ix, alive, res);
	if (memo != NULL) {
		memo->verdict = keep;
		if (keep) {
			memo->read = (uint16_t)read;
			memo->absent = (uint16_t)absent;
			memo->method = (uint8_t)m;
			memo->hdr_scanned = hdr_scanned;
			memo->res = *res;
		}
	}
	return denied;
}

static bool
check_ix1(const struct hf_authz *az, struct hf_authz_rq *rq, struct hf_authz_result *res)
{
	return check_ix(az, az->ix, rq, NULL, res, 1);
}

static bool
check_ix1m(const struct hf_authz *az, struct hf_authz_rq *rq, struct hf_authz_result *res)
{
	return check_ix(az, az->ix, rq, rq->memo, res, 1);
}

static bool
check_ix2(const struct hf_authz *az, struct hf_authz_rq *rq, struct hf_authz_result *res)
{
	return check_ix(az, az->ix, rq, NULL, res, 2);
}

static bool
check_ix2m(const struct hf_authz *az, struct hf_authz_rq *rq, struct hf_authz_result *res)
{
	return check_ix(az, az->ix, rq, rq->memo, res, 2);
}

static bool
check_ix4(const struct hf_authz *az, struct hf_authz_rq *rq, struct hf_authz_result *res)
{
	return check_ix(az, az->ix, rq, NULL, res, 4);
}

static bool
check_ixn(const struct hf_authz *az, struct hf_authz_rq *rq, struct hf_authz_result *res)
{
	return check_ix(az, az->ix, rq, NULL, res, az->ix->nw);
}

bool
hf_authz_check(const struct hf_authz *az, struct hf_authz_rq *rq, struct hf_authz_result *res)
{
	if (az->ix == NULL)
		return hf_authz_check_tree(az, rq, res);
	/* the memo's sets are 2 words: a larger index does without */
	switch (az->ix->nw) {
	case 1:
		return rq->memo != NULL ? check_ix1m(az, rq, res) : check_ix1(az, rq, res);
	case 2:
		return rq->memo != NULL ? check_ix2m(az, rq, res) : check_ix2(az, rq, res);
	case 4:
		return check_ix4(az, rq, res);
	default:
		return check_ixn(az, rq, res);
	}
}
