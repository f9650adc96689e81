/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The memory of a set of AuthorizationPolicies (chunks freed all at once),
 * its copy into a snapshot with the index workers check it by (authz-t.h),
 * and the two tables that outlive snapshots: the
 * counter slot of each policy name, and the access log details of each
 * rule. Both are bounded and only grow, so what a worker copied from a
 * snapshot (a details pointer in a log record, a slot number) still means
 * the same thing after that snapshot is freed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/agent.h"
#include "control-agent/compile/authz_build.h"
#include "dataplane/proxy/authz.h"

#define CHUNK (16 * 1024)

struct hf_authz_mem {
	struct hf_authz_mem *next;
	size_t used, cap;
	max_align_t data[];
};

struct hf_authz *
hf_authz_new(void)
{
	struct hf_authz tmp = {0}, *az;

	az = hf_authz_alloc(&tmp, sizeof(*az));
	if (az == NULL) {
		hf_authz_free(&tmp);
		return NULL;
	}
	az->mem = tmp.mem;
	return az;
}

void *
hf_authz_alloc(struct hf_authz *az, size_t n)
{
	struct hf_authz_mem *c = az->mem;
	void *p;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (n == 0)
		n = sizeof(max_align_t);
	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > CHUNK ? n : CHUNK;

		c = calloc(1, sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->cap = cap;
		c->next = az->mem;
		az->mem = c;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

char *
hf_authz_strdup(struct hf_authz *az, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = hf_authz_alloc(az, n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

void
hf_authz_free(struct hf_authz *az)
{
	struct hf_authz_mem *c;

	if (az == NULL)
		return;
	/* az itself lives in its own memory (hf_authz_new), or is the caller's */
	c = az->mem;
	az->mem = NULL;
	while (c != NULL) {
		struct hf_authz_mem *next = c->next;

		free(c);
		c = next;
	}
}

/* ---- the tables that outlive snapshots (agent thread only) ---- */

static struct {
	char *ns, *name;
	uint8_t action;
} slots[HF_AUTHZ_SLOTS];
static unsigned int n_slots = 1;	/* slot 0: names past the table */

static char *details[HF_AUTHZ_DETAILS_MAX];
static unsigned int n_details;

static uint16_t
slot_of(const char *ns, const char *name, uint8_t action)
{
	char *a, *b;

	for (unsigned int i = 1; i < n_slots; i++)
		if (strcmp(slots[i].ns, ns) == 0 && strcmp(slots[i].name, name) == 0) {
			slots[i].action = action;
			return (uint16_t)i;
		}
	if (n_slots == HF_AUTHZ_SLOTS)
		return 0;
	a = strdup(ns);
	b = strdup(name);
	if (a == NULL || b == NULL) {
		free(a);
		free(b);
		return 0;
	}
	slots[n_slots].ns = a;
	slots[n_slots].name = b;
	slots[n_slots].action = action;
	return (uint16_t)n_slots++;
}

/* Envoy's policy name, as Istio generates it: ns[NS]-policy[NAME]-rule[I] (I < 0: none). */
static const char *
details_of(const char *ns, const char *name, int rule)
{
	char buf[512];

	if (rule >= 0)
		snprintf(buf, sizeof(buf), "rbac_access_denied_matched_policy[ns[%s]-policy[%s]-rule[%d]]",
			 ns, name, rule);
	else
		snprintf(buf, sizeof(buf), "rbac_access_denied_matched_policy[ns[%s]-policy[%s]]",
			 ns, name);
	for (unsigned int i = 0; i < n_details; i++)
		if (strcmp(details[i], buf) == 0)
			return details[i];
	if (n_details == HF_AUTHZ_DETAILS_MAX || (details[n_details] = strdup(buf)) == NULL)
		return NULL;
	return details[n_details++];
}

/* ---- the snapshot's copy ---- */

static const char *
dup_str(struct hf_authz *az, const char *s, bool *nomem)
{
	char *p;

	if (s == NULL)
		return NULL;
	p = hf_authz_strdup(az, s);
	if (p == NULL)
		*nomem = true;
	return p;
}

static void *
dup_mem(struct hf_authz *az, const void *src, size_t n, bool *nomem)
{
	void *p;

	if (n == 0 || src == NULL)
		return NULL;
	p = hf_authz_alloc(az, n);
	if (p == NULL) {
		*nomem = true;
		return NULL;
	}
	memcpy(p, src, n);
	return p;
}

static const struct hf_authz_cond *
dup_conds(struct hf_authz *az, const struct hf_authz_cond *src, uint16_t n, bool *nomem)
{
	struct hf_authz_cond *c = dup_mem(az, src, sizeof(*c) * n, nomem);

	for (uint16_t i = 0; c != NULL && i < n; i++) {
		struct hf_authz_value *v = dup_mem(az, src[i].values,
						   sizeof(*v) * src[i].n_values, nomem);

		c[i].name = dup_str(az, src[i].name, nomem);
		for (uint16_t k = 0; v != NULL && k < src[i].n_values; k++)
			v[k].s = dup_str(az, src[i].values[k].s, nomem);
		c[i].values = v;
	}
	return c;
}

static const struct hf_authz_clause *
dup_clauses(struct hf_authz *az, const struct hf_authz_clause *src, uint16_t n, bool *nomem)
{
	struct hf_authz_clause *c = dup_mem(az, src, sizeof(*c) * n, nomem);

	for (uint16_t i = 0; c != NULL && i < n; i++)
		c[i].conds = dup_conds(az, src[i].conds, src[i].n_conds, nomem);
	return c;
}

static const struct hf_authz_policy *
dup_policies(struct hf_authz *az, const struct hf_authz_policy *src, uint16_t n, bool *nomem)
{
	struct hf_authz_policy *p = dup_mem(az, src, sizeof(*p) * n, nomem);

	for (uint16_t i = 0; p != NULL && i < n; i++) {
		struct hf_authz_rule *r = dup_mem(az, src[i].rules, sizeof(*r) * src[i].n_rules,
						  nomem);

		p[i].ns = dup_str(az, src[i].ns, nomem);
		p[i].name = dup_str(az, src[i].name, nomem);
		p[i].slot = slot_of(src[i].ns, src[i].name, src[i].action);
		for (uint16_t k = 0; r != NULL && k < src[i].n_rules; k++) {
			const struct hf_authz_rule *sr = &src[i].rules[k];

			r[k].from = dup_clauses(az, sr->from, sr->n_from, nomem);
			r[k].to = dup_clauses(az, sr->to, sr->n_to, nomem);
			r[k].when = dup_conds(az, sr->when, sr->n_when, nomem);
			r[k].details = details_of(src[i].ns, src[i].name, k);
			if (r[k].details == NULL)
				r[k].details = details_of(src[i].ns, src[i].name, -1);
		}
		p[i].rules = r;
	}
	return p;
}

/* ---- the index (dataplane/proxy/authz-t.h), built once per snapshot ---- */

/* A dim while it is built: its lengths grow as values come. */
struct dimb {
	uint8_t attr;
	bool nocase, exact;
	uint16_t name_len;
	const char *name;
	int32_t present;
	uint16_t n_pre, n_suf, n_plen;
	uint16_t *pre, *suf, *plen;	/* malloc'd, sorted, distinct */
	uint32_t haspos;		/* set: the terms with a positive condition on it */
	uint32_t touch;			/* set: those and the terms with a negated one */
};

/* The builder's table: the entry under each key, by number. */
struct bslot {
	uint32_t h;
	int32_t ent;			/* -1: empty */
};

struct ixb {
	struct hf_authz *az;
	uint32_t nw;
	struct dimb *dims;
	uint32_t n_dims;
	struct hf_authz_ent *ents;
	uint32_t n_ents, cap_ents;
	uint64_t *sets;
	uint32_t n_words, cap_words;
	struct bslot *slots;		/* sized for every value the terms hold */
	uint32_t mask;
	bool nomem;
};

/* A zeroed set of nw words; its offset, or UINT32_MAX when out of memory. */
static uint32_t
set_new(struct ixb *b)
{
	uint32_t off = b->n_words;

	if (b->n_words + b->nw > b->cap_words) {
		uint32_t cap = b->cap_words * 2 + b->nw * 16;
		uint64_t *p = realloc(b->sets, cap * sizeof(*p));

		if (p == NULL) {
			b->nomem = true;
			return UINT32_MAX;
		}
		b->sets = p;
		b->cap_words = cap;
	}
	memset(b->sets + off, 0, b->nw * sizeof(uint64_t));
	b->n_words += b->nw;
	return off;
}

static void
set_bit(struct ixb *b, uint32_t set, uint32_t t)
{
	if (set != UINT32_MAX)
		b->sets[set + t / 64] |= UINT64_C(1) << (t % 64);
}

/* Adds @p v to the sorted, distinct list @p l of @p n. */
static void
len_add(struct ixb *b, uint16_t **l, uint16_t *n, uint16_t v)
{
	uint16_t *p, i;

	for (i = 0; i < *n && (*l)[i] < v; i++)
		;
	if (i < *n && (*l)[i] == v)
		return;
	p = realloc(*l, sizeof(*p) * (*n + 1u));
	if (p == NULL) {
		b->nomem = true;
		return;
	}
	memmove(p + i + 1, p + i, sizeof(*p) * (*n - i));
	p[i] = v;
	*l = p;
	(*n)++;
}

static bool
same_dim(const struct hf_authz_cond *a, const struct hf_authz_cond *c)
{
	if (a->attr != c->attr)
		return false;
	if (a->attr != HF_AZ_HEADER && a->attr != HF_AZ_CLAIM)
		return true;
	return a->name_len == c->name_len && memcmp(a->name, c->name, a->name_len) == 0;
}

static uint32_t
dim_of(struct ixb *b, const struct hf_authz_cond *c)
{
	struct dimb *d;

	for (uint32_t i = 0; i < b->n_dims; i++) {
		d = &b->dims[i];
		if (d->attr == c->attr && (c->attr != HF_AZ_HEADER && c->attr != HF_AZ_CLAIM
					   ? true
					   : d->name_len == c->name_len &&
						     memcmp(d->name, c->name, c->name_len) == 0))
			return i;
	}
	d = realloc(b->dims, sizeof(*d) * (b->n_dims + 1));
	if (d == NULL || b->n_dims == UINT16_MAX) {
		if (d != NULL)
			b->dims = d;
		b->nomem = true;
		return UINT32_MAX;
	}
	b->dims = d;
	d = &b->dims[b->n_dims];
	memset(d, 0, sizeof(*d));
	d->attr = c->attr;
	d->nocase = c->attr == HF_AZ_HOST || c->attr == HF_AZ_SNI;
	d->name = c->name;
	d->name_len = c->name_len;
	d->present = -1;
	d->haspos = set_new(b);
	return b->n_dims++;
}

/* The hash of key @p s (@p n bytes), as the worker computes it; header names under dim 0. */
static uint32_t
key_hash(const char *s, size_t n, bool lower, uint32_t dim, uint8_t cls)
{
	return hf_authz_key_hash(s, n, lower, cls == HF_AZC_HDR ? 0 : dim, cls);
}

/* The entry keyed (@p dim, @p cls, @p s) of kind @p kind (a template: @p t), added if new. */
static int32_t
ent_of(struct ixb *b, uint32_t dim, uint8_t cls, uint8_t kind, const char *s, uint16_t len,
       const char *t, uint16_t tlen, bool lower)
{
	uint32_t h = key_hash(s, len, lower, dim, cls), i;
	struct hf_authz_ent *e;
	int32_t head = -1, last = -1;

	for (i = h & b->mask; b->slots[i].ent >= 0; i = (i + 1) & b->mask) {
		e = &b->ents[b->slots[i].ent];
		if (b->slots[i].h == h && e->dim == dim && e->cls == cls && e->len == len &&
		    memcmp(e->s, s, len) == 0) {
			head = b->slots[i].ent;
			break;
		}
	}
	for (int32_t k = head; k >= 0; k = b->ents[k].next) {
		e = &b->ents[k];
		if (e->kind == kind && (kind != HF_AZM_TEMPLATE ||
					(e->tlen == tlen && memcmp(e->s, t, tlen) == 0)))
			return k;
		last = k;
	}
	if (b->n_ents == b->cap_ents) {
		uint32_t cap = b->cap_ents * 2 + 64;

		e = realloc(b->ents, sizeof(*e) * cap);
		if (e == NULL) {
			b->nomem = true;
			return -1;
		}
		b->ents = e;
		b->cap_ents = cap;
	}
	e = &b->ents[b->n_ents];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->cls = cls;
	e->dim = (uint16_t)dim;
	e->len = len;
	e->tlen = tlen;
	e->next = -1;
	e->s = kind == HF_AZM_TEMPLATE ? t : s;
	e->pos = cls == HF_AZC_HDR ? 0 : set_new(b);
	e->neg = cls == HF_AZC_HDR ? 0 : set_new(b);
	if (last >= 0)
		b->ents[last].next = (int32_t)b->n_ents;
	else {
		b->slots[i].h = h;
		b->slots[i].ent = (int32_t)b->n_ents;
	}
	return (int32_t)b->n_ents++;
}

/*
 * Value @p v of a condition on dim @p di, satisfied or refuted by term @p t.
 * A value that can never match the attribute (as the tree walk's str_match
 * and cidr_match see it) is left out.
 */
static void
add_value(struct ixb *b, uint32_t di, const struct hf_authz_value *v, bool negated, uint32_t t)
{
	struct dimb *d = &b->dims[di];
	int32_t e = -1;

	if (d->attr == HF_AZ_SOURCE_IP || d->attr == HF_AZ_REMOTE_IP || d->attr == HF_AZ_DEST_IP) {
		unsigned int full = v->plen / 8u, rest = v->plen % 8u;
		uint8_t *key;

		if (v->kind != HF_AZM_CIDR || v->plen > (v->v6 ? 128 : 32))
			return;
		/* the block's address, its bits past plen cleared, then plen: 5 or 17 bytes */
		uint16_t klen = v->v6 ? 17 : 5;

		key = hf_authz_alloc(b->az, klen);
		if (key == NULL) {
			b->nomem = true;
			return;
		}
		memcpy(key, v->addr, full);
		if (rest != 0)
			key[full] = v->addr[full] & (uint8_t)(0xff00u >> rest);
		key[klen - 1] = v->plen;
		len_add(b, &d->plen, &d->n_plen, (uint16_t)(v->plen | (v->v6 ? 0x100 : 0)));
		e = ent_of(b, di, HF_AZC_ADDR, HF_AZM_CIDR, (const char *)key, klen, NULL, 0, false);
	} else if (d->attr == HF_AZ_PORT) {
		char *key = hf_authz_alloc(b->az, 2);

		if (key == NULL) {
			b->nomem = true;
			return;
		}
		/* the tree walk compares the port whatever the kind */
		key[0] = (char)(v->port >> 8);
		key[1] = (char)(v->port & 0xff);
		e = ent_of(b, di, HF_AZC_ADDR, HF_AZM_PORT, key, 2, NULL, 0, false);
	} else {
		switch (v->kind) {
		case HF_AZM_EXACT:
			d->exact = true;
			e = ent_of(b, di, HF_AZC_EXACT, v->kind, v->s, v->len, NULL, 0, d->nocase);
			break;
		case HF_AZM_PREFIX:
			len_add(b, &d->pre, &d->n_pre, v->len);
			e = ent_of(b, di, HF_AZC_PREFIX, v->kind, v->s, v->len, NULL, 0, d->nocase);
			break;
		case HF_AZM_SUFFIX:
			len_add(b, &d->suf, &d->n_suf, v->len);
			e = ent_of(b, di, HF_AZC_SUFFIX, v->kind, v->s, v->len, NULL, 0, d->nocase);
			break;
		case HF_AZM_TEMPLATE: {
			/* keyed by its literal start, which a matching path begins with */
			uint16_t lit = (uint16_t)strcspn(v->s, "{");

			if (lit > v->len)
				lit = v->len;
			len_add(b, &d->pre, &d->n_pre, lit);
			e = ent_of(b, di, HF_AZC_PREFIX, v->kind, v->s, lit, v->s, v->len, d->nocase);
			break;
		}
		case HF_AZM_PRESENT:
			if (d->present < 0) {
				static const char none[1];

				/* in the table under a class no request probes: it owns the sets */
				e = ent_of(b, di, HF_AZC_HDR + 1, v->kind, none, 0, NULL, 0, false);
				d = &b->dims[di];
				d->present = e;
			}
			e = d->present;
			break;
		default:
			return;
		}
	}
	if (e >= 0)
		set_bit(b, negated ? b->ents[e].neg : b->ents[e].pos, t);
}

/* The conditions of term (@p f, @p t) of rule @p r into @p out (at most @p cap); how many, or -1. */
static int
term_conds(const struct hf_authz_rule *r, uint16_t f, uint16_t t,
	   const struct hf_authz_cond **out, unsigned int cap)
{
	unsigned int n = 0;
	const struct hf_authz_clause *parts[2] = {
		r->n_from > 0 ? &r->from[f] : NULL,
		r->n_to > 0 ? &r->to[t] : NULL,
	};

	for (unsigned int p = 0; p < 2; p++)
		for (uint16_t i = 0; parts[p] != NULL && i < parts[p]->n_conds; i++) {
			if (n == cap)
				return -1;
			out[n++] = &parts[p]->conds[i];
		}
	for (uint16_t i = 0; i < r->n_when; i++) {
		if (n == cap)
			return -1;
		out[n++] = &r->when[i];
	}
	return (int)n;
}

#define TERM_CONDS 64

/* Whether rule @p r needs the tree walk: too many pairs, or two positive conditions on a dim. */
static bool
rule_slow(const struct hf_authz_rule *r)
{
	const struct hf_authz_cond *c[TERM_CONDS];
	uint32_t nf = r->n_from > 0 ? r->n_from : 1, nt = r->n_to > 0 ? r->n_to : 1;

	if (nf * nt > HF_AUTHZ_IX_PAIRS)
		return true;
	for (uint16_t f = 0; f < nf; f++)
		for (uint16_t t = 0; t < nt; t++) {
			int n = term_conds(r, f, t, c, TERM_CONDS);

			if (n < 0)
				return true;
			for (int i = 0; i < n; i++)
				for (int k = i + 1; k < n; k++)
					if (!c[i]->negated && !c[k]->negated && same_dim(c[i], c[k]))
						return true;
		}
	return false;
}

static uint32_t
rule_terms(const struct hf_authz_rule *r)
{
	if (rule_slow(r))
		return 1;
	return (r->n_from > 0 ? r->n_from : 1u) * (r->n_to > 0 ? r->n_to : 1u);
}

/* Lays out the terms of @p n policies from term @p t on; fills dims and entries. */
static uint32_t
index_policies(struct ixb *b, const struct hf_authz_policy *p, uint16_t n, uint32_t t,
	       struct hf_authz_term *terms, uint32_t *slow, uint32_t *n_slow)
{
	const struct hf_authz_cond *c[TERM_CONDS];

	for (uint16_t i = 0; i < n; i++)
		for (uint16_t k = 0; k < p[i].n_rules; k++) {
			const struct hf_authz_rule *r = &p[i].rules[k];
			uint16_t nf = r->n_from > 0 ? r->n_from : 1, nt = r->n_to > 0 ? r->n_to : 1;

			if (rule_slow(r)) {
				terms[t].policy = &p[i];
				terms[t].rule = r;
				terms[t].slot = p[i].slot;
				slow[(*n_slow)++] = t++;
				continue;
			}
			for (uint16_t f = 0; f < nf; f++)
				for (uint16_t o = 0; o < nt; o++, t++) {
					int nc = term_conds(r, f, o, c, TERM_CONDS);

					terms[t].policy = &p[i];
					terms[t].rule = r;
					terms[t].slot = p[i].slot;
					for (int j = 0; j < nc && !b->nomem; j++) {
						uint32_t di = dim_of(b, c[j]);

						if (di == UINT32_MAX)
							break;
						if (!c[j]->negated)
							set_bit(b, b->dims[di].haspos, t);
						for (uint16_t v = 0; v < c[j]->n_values; v++)
							add_value(b, di, &c[j]->values[v], c[j]->negated, t);
					}
				}
		}
	return t;
}

static uint32_t
count_terms(const struct hf_authz_policy *p, uint16_t n, uint64_t *values)
{
	uint32_t t = 0;

	for (uint16_t i = 0; i < n; i++)
		for (uint16_t k = 0; k < p[i].n_rules; k++) {
			const struct hf_authz_rule *r = &p[i].rules[k];
			uint32_t nt = rule_terms(r);

			t += nt;
			/* every value of every term, and a name each: a bound on the entries */
			for (uint16_t f = 0; f < r->n_from; f++)
				for (uint16_t c = 0; c < r->from[f].n_conds; c++)
					*values += (uint64_t)nt * (r->from[f].conds[c].n_values + 1u);
			for (uint16_t f = 0; f < r->n_to; f++)
				for (uint16_t c = 0; c < r->to[f].n_conds; c++)
					*values += (uint64_t)nt * (r->to[f].conds[c].n_values + 1u);
			for (uint16_t c = 0; c < r->n_when; c++)
				*values += (uint64_t)nt * (r->when[c].n_values + 1u);
		}
	return t;
}

/* Copies @p n bytes of @p src into @p az's memory (NULL for none; sets *nomem when short). */
static void *
ix_copy(struct hf_authz *az, const void *src, size_t n, bool *nomem)
{
	return dup_mem(az, src, n, nomem);
}

/* The bit of entry @p e (not a header name) in its dim @p d's filter, as the worker finds it. */
static uint32_t
filter_bit(const struct hf_authz_ent *e, const struct hf_authz_dim *d)
{
	const unsigned char *k = (const unsigned char *)e->s;
	uint32_t first = e->len > 0 ? k[0] : 0, last = e->len > 0 ? k[e->len - 1] : 0;

	if (d->nocase) {
		first = first >= 'A' && first <= 'Z' ? first + 32 : first;
		last = last >= 'A' && last <= 'Z' ? last + 32 : last;
	}
	switch (e->cls) {
	case HF_AZC_EXACT:
	case HF_AZC_PREFIX:
		return hf_authz_filter_bit(e->cls, e->len, last);
	case HF_AZC_SUFFIX:
		return hf_authz_filter_bit(e->cls, e->len, first);
	default:
		/* a port (2 bytes, its low one), or an address block, its plen last */
		if (d->attr == HF_AZ_PORT)
			return hf_authz_filter_bit(HF_AZC_ADDR, 0x200, k[1]);
		return hf_authz_filter_bit(HF_AZC_ADDR, last | (e->len == 17 ? 0x100u : 0), first);
	}
}

/* Copies @p n lengths from @p src to *@p at, which moves past them. */
static void
lens_copy(uint16_t **at, const uint16_t *src, uint16_t n)
{
	if (n == 0)
		return;
	memcpy(*at, src, sizeof(**at) * n);
	*at += n;
}

/* Builds the index into @p b from its scratch: the worker's arrays, in @p az's memory. */
static int
index_publish(struct ixb *b, struct hf_authz_ix *ix, uint32_t n_terms)
{
	struct hf_authz_dim *dims;
	struct hf_authz_name *names;
	struct hf_authz_slot *slots;
	uint32_t n_slots = 16, hdr_dflt, hdr_touch, n_main = 0, *perm, dim_sets, attr_sets;
	size_t n_lens = 0, lens_bytes;
	uint16_t *lens;
	char *block;
	uint64_t hdr_lens = 0;
	bool nomem = false;

	/* touch: the terms a condition on the dim reads, positive or negated */
	for (uint32_t i = 0; i < b->n_dims; i++) {
		b->dims[i].touch = set_new(b);
		if (b->nomem)
			return -1;
		memcpy(b->sets + b->dims[i].touch, b->sets + b->dims[i].haspos,
		       b->nw * sizeof(uint64_t));
	}
	for (uint32_t i = 0; i < b->n_ents; i++)
		for (uint32_t w = 0; b->ents[i].cls != HF_AZC_HDR && w < b->nw; w++)
			b->sets[b->dims[b->ents[i].dim].touch + w] |= b->sets[b->ents[i].neg + w];
	/* the header dims' dflt AND'ed: the answer when a request sends none of their fields */
	hdr_dflt = set_new(b);
	hdr_touch = set_new(b);
	if (b->nomem)
		return -1;
	memset(b->sets + hdr_dflt, 0xff, b->nw * sizeof(uint64_t));
	for (uint32_t i = 0; i < b->n_dims; i++) {
		struct dimb *d = &b->dims[i];

		/* dflt: the terms without a positive condition here (haspos turned over in place) */
		for (uint32_t w = 0; w < b->nw; w++)
			b->sets[d->haspos + w] = ~b->sets[d->haspos + w];
		if (d->attr != HF_AZ_HEADER)
			continue;
		ix->any_hdr = true;
		hdr_lens |= UINT64_C(1) << (d->name_len < 63 ? d->name_len : 63);
		for (uint32_t w = 0; w < b->nw; w++) {
			b->sets[hdr_dflt + w] &= b->sets[d->haspos + w];
			b->sets[hdr_touch + w] |= b->sets[d->touch + w];
		}
		if (ent_of(b, i, HF_AZC_HDR, HF_AZM_EXACT, d->name, d->name_len, NULL, 0, true) < 0)
			return -1;
	}
	/* the header dims last: the worker passes over them at once when no field of theirs came */
	for (uint32_t i = 0; i < b->n_dims; i++)
		n_lens += (size_t)b->dims[i].n_pre + b->dims[i].n_suf + b->dims[i].n_plen;
	perm = malloc(sizeof(*perm) * (b->n_dims > 0 ? b->n_dims : 1));
	/*
	 * One block: the header dims' lengths, the main dims' lengths, then the
	 * dims (main first): what a lookup of a main dim's value reads is near.
	 */
	lens_bytes = (sizeof(uint16_t) * n_lens + 63) & ~(size_t)63;
	/* on a line boundary (the memory's are 16 bytes apart): each dim on a line of its own */
	block = hf_authz_alloc(b->az, 48 + lens_bytes +
					      sizeof(*dims) * (b->n_dims > 0 ? b->n_dims : 1));
	names = hf_authz_alloc(b->az, sizeof(*names) * (b->n_dims > 0 ? b->n_dims : 1));
	if (block == NULL || names == NULL || perm == NULL) {
		free(perm);
		return -1;
	}
	block = (char *)(((uintptr_t)block + 63) & ~(uintptr_t)63);
	lens = (uint16_t *)block;
	dims = (struct hf_authz_dim *)(block + lens_bytes);
	for (uint32_t i = 0; i < b->n_dims; i++)
		if (b->dims[i].attr != HF_AZ_HEADER)
			perm[i] = n_main++;
	for (uint32_t i = 0, k = n_main; i < b->n_dims; i++)
		if (b->dims[i].attr == HF_AZ_HEADER)
			perm[i] = k++;
	for (uint32_t i = 0; i < b->n_ents; i++)
		b->ents[i].dim = (uint16_t)perm[b->ents[i].dim];
	for (uint32_t k = 0; k < b->n_dims; k++) {
		/* the header dims' lengths first, the main dims' next to the dims */
		uint32_t i = k < b->n_dims - n_main ? n_main + k : k - (b->n_dims - n_main);
		const struct dimb *d = NULL;

		for (uint32_t o = 0; d == NULL; o++)
			if (perm[o] == i)
				d = &b->dims[o];

		dims[i].attr = d->attr;
		dims[i].nocase = d->nocase;
		dims[i].exact = d->exact;
		names[i].s = d->name;
		names[i].len = d->name_len;
		dims[i].present = d->present;
		dims[i].n_pre = d->n_pre;
		dims[i].n_suf = d->n_suf;
		dims[i].n_plen = d->n_plen;
		/* prefix, suffix and block lengths one after the other */
		dims[i].lens = lens;
		lens_copy(&lens, d->pre, d->n_pre);
		lens_copy(&lens, d->suf, d->n_suf);
		lens_copy(&lens, d->plen, d->n_plen);
		dims[i].dflt = d->haspos;
		dims[i].touch = d->touch;
	}
	/* the worker's table: at most half full, only the heads of the chains in it */
	while (n_slots < 2 * b->n_ents)
		n_slots *= 2;
	slots = hf_authz_alloc(b->az, sizeof(*slots) * n_slots);
	if (slots == NULL) {
		free(perm);
		return -1;
	}
	for (uint32_t i = 0; i < n_slots; i++)
		slots[i].cls = HF_AZC_EMPTY;
	for (uint32_t i = 0; i <= b->mask; i++) {
		const struct hf_authz_ent *e;
		uint32_t k, h;

		if (b->slots[i].ent < 0)
			continue;
		/* hashed again: the dims have their final numbers */
		e = &b->ents[b->slots[i].ent];
		h = key_hash(e->s, e->len,
			     e->cls == HF_AZC_HDR || (e->cls <= HF_AZC_SUFFIX && dims[e->dim].nocase),
			     e->dim, e->cls);
		for (k = h & (n_slots - 1); slots[k].cls != HF_AZC_EMPTY; k = (k + 1) & (n_slots - 1))
			;
		if (e->cls <= HF_AZC_ADDR) {
			uint32_t bit = filter_bit(e, &dims[e->dim]);

			dims[e->dim].filter[bit >> 6] |= UINT64_C(1) << (bit & 63);
		}
		slots[k].h = h;
		slots[k].next = e->next;
		slots[k].cls = e->cls;
		slots[k].kind = e->kind;
		slots[k].dim = e->dim;
		slots[k].len = e->len;
		slots[k].tlen = e->tlen;
		slots[k].s = e->s;
		slots[k].pos = e->pos;
		slots[k].neg = e->neg;
	}
	free(perm);
	/*
	 * The sets a request reads of every dim it looks at, whatever it holds
	 * (touch, dflt), side by side in the dims' order, with the header dims'
	 * two: a few cache lines, not one per set wherever the build left it.
	 */
	/* the main dims' attributes, a byte each, in the words just before the run */
	attr_sets = b->n_words;
	for (uint32_t k = 0; k < (n_main + 8 * b->nw - 1) / (8 * b->nw); k++)
		set_new(b);
	if (b->nomem)
		return -1;
	for (uint32_t k = 0; k < n_main; k++)
		((uint8_t *)(b->sets + attr_sets))[k] = dims[k].attr;
	dim_sets = b->n_words;
	for (uint32_t k = 0; k <= b->n_dims; k++) {
		/* the main dims, the header dims' AND and OR, the header dims */
		uint32_t i = k < n_main ? k : k - 1;
		uint32_t *pt = k == n_main ? &hdr_touch : &dims[i].touch;
		uint32_t *pd = k == n_main ? &hdr_dflt : &dims[i].dflt;
		uint32_t touch = set_new(b), dflt = set_new(b);

		if (b->nomem)
			return -1;
		memcpy(b->sets + touch, b->sets + *pt, b->nw * sizeof(uint64_t));
		memcpy(b->sets + dflt, b->sets + *pd, b->nw * sizeof(uint64_t));
		*pt = touch;
		*pd = dflt;
	}
	ix->n_terms = n_terms;
	ix->nw = b->nw;
	ix->n_dims = (uint16_t)b->n_dims;
	ix->n_main = (uint16_t)n_main;
	ix->dims = dims;
	ix->names = names;
	ix->mask = n_slots - 1;
	ix->slots = slots;
	ix->ents = ix_copy(b->az, b->ents, sizeof(*b->ents) * b->n_ents, &nomem);
	ix->sets = ix_copy(b->az, b->sets, sizeof(uint64_t) * b->n_words, &nomem);
	ix->hdr_lens = hdr_lens;
	ix->hdr_dflt = hdr_dflt;
	ix->hdr_touch = hdr_touch;
	ix->dim_sets = dim_sets;
	if (ix->sets != NULL) {
		ix->main_attr = (const uint8_t *)(ix->sets + attr_sets);
		ix->run = ix->main_attr;
		ix->run_len = (uint32_t)((dim_sets - attr_sets) + (n_main + 1) * 2 * b->nw) *
			      (uint32_t)sizeof(uint64_t);
	}
	return nomem ? -1 : 0;
}

/*
 * The METHOD dim's answer for each method the parser names (ix->method_keep),
 * worked out by the worker's own matching on the finished index.
 */
static int
method_table(struct hf_authz *az, struct hf_authz_ix *ix)
{
	static const char *const names[] = {
		[HF_H1_M_GET] = "GET",		[HF_H1_M_HEAD] = "HEAD",
		[HF_H1_M_POST] = "POST",	[HF_H1_M_PUT] = "PUT",
		[HF_H1_M_DELETE] = "DELETE",	[HF_H1_M_CONNECT] = "CONNECT",
		[HF_H1_M_OPTIONS] = "OPTIONS",	[HF_H1_M_TRACE] = "TRACE",
		[HF_H1_M_PATCH] = "PATCH",
	};
	uint64_t *keep;

	ix->method_keep = NULL;
	for (uint16_t di = 0; di < ix->n_main; di++) {
		if (ix->dims[di].attr != HF_AZ_METHOD)
			continue;
		keep = hf_authz_alloc(az, sizeof(*keep) * ix->nw * (HF_H1_M_PATCH + 1u));
		if (keep == NULL)
			return -1;
		/* OTHER's row stays unused: such a method is looked up */
		memset(keep, 0xff, sizeof(*keep) * ix->nw);
		for (unsigned int m = HF_H1_M_GET; m <= HF_H1_M_PATCH; m++)
			hf_authz_dim_keep(ix, di, names[m], strlen(names[m]), keep + m * ix->nw);
		ix->method_dim = di;
		ix->method_keep = keep;
		return 0;
	}
	return 0;
}

/* The last index's serial (hf_authz_ix.serial): a worker's memo tells indexes apart by it. */
static uint64_t ix_serial;

/*
 * Compiles the policies of @p az (already its own copy) into its index
 * (az->ix). Returns 0, with az->ix NULL when the terms pass
 * HF_AUTHZ_IX_WORDS x 64 or their values 2^24 (the tree walk decides then),
 * or -ENOMEM.
 */
static int
hf_authz_index(struct hf_authz *az)
{
	struct ixb b = {.az = az};
	struct hf_authz_ix *ix;
	struct hf_authz_term *terms;
	uint32_t *slow, n_slow = 0, n_terms, t, n_slots = 16;
	uint64_t values = 0;
	int rc = -ENOMEM;

	n_terms = count_terms(az->deny, az->n_deny, &values) +
		  count_terms(az->allow, az->n_allow, &values) +
		  count_terms(az->audit, az->n_audit, &values);
	/* past these, the tree walk: a table that large would not pay for itself */
	if (n_terms > HF_AUTHZ_IX_WORDS * 64 || values > (UINT64_C(1) << 24))
		return 0;
	while (n_slots < 2 * values + 2)
		n_slots *= 2;
	ix = hf_authz_alloc(az, sizeof(*ix));
	terms = hf_authz_alloc(az, sizeof(*terms) * (n_terms > 0 ? n_terms : 1));
	slow = hf_authz_alloc(az, sizeof(*slow) * (n_terms > 0 ? n_terms : 1));
	b.slots = malloc(sizeof(*b.slots) * n_slots);
	if (ix == NULL || terms == NULL || slow == NULL || b.slots == NULL)
		goto out;
	for (uint32_t i = 0; i < n_slots; i++)
		b.slots[i].ent = -1;
	b.mask = n_slots - 1;
	b.nw = (n_terms + 63) / 64 > 0 ? (n_terms + 63) / 64 : 1;
	t = index_policies(&b, az->deny, az->n_deny, 0, terms, slow, &n_slow);
	ix->deny_end = t;
	t = index_policies(&b, az->allow, az->n_allow, t, terms, slow, &n_slow);
	ix->allow_end = t;
	t = index_policies(&b, az->audit, az->n_audit, t, terms, slow, &n_slow);
	if (b.nomem || index_publish(&b, ix, t) < 0 || method_table(az, ix) < 0)
		goto out;
	ix->terms = terms;
	ix->serial = __atomic_add_fetch(&ix_serial, 1, __ATOMIC_RELAXED);
	ix->n_slow = n_slow;
	ix->slow = slow;
	az->ix = ix;
	rc = 0;
out:
	for (uint32_t i = 0; i < b.n_dims; i++) {
		free(b.dims[i].pre);
		free(b.dims[i].suf);
		free(b.dims[i].plen);
	}
	free(b.dims);
	free(b.ents);
	free(b.sets);
	free(b.slots);
	return rc;
}

struct hf_authz *
hf_authz_compile(const struct hf_authz *m)
{
	struct hf_authz *az = hf_authz_new();
	bool nomem = false;

	if (az == NULL)
		return NULL;
	az->xff_trusted_hops = m->xff_trusted_hops;
	az->n_deny = m->n_deny;
	az->n_allow = m->n_allow;
	az->n_audit = m->n_audit;
	az->deny = dup_policies(az, m->deny, m->n_deny, &nomem);
	az->allow = dup_policies(az, m->allow, m->n_allow, &nomem);
	az->audit = dup_policies(az, m->audit, m->n_audit, &nomem);
	if (nomem || hf_authz_index(az) < 0) {
		hf_authz_free(az);
		return NULL;
	}
	return az;
}

/* Whether @p a and @p b read the same once Prometheus' forbidden characters are '_'. */
static bool
same_metric(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a, y = *b;
		bool okx = (x >= 'a' && x <= 'z') || (x >= 'A' && x <= 'Z') || (x >= '0' && x <= '9') ||
			   x == ':' || x == '\0';
		bool oky = (y >= 'a' && y <= 'z') || (y >= 'A' && y <= 'Z') || (y >= '0' && y <= '9') ||
			   y == ':' || y == '\0';

		if ((okx ? x : '_') != (oky ? y : '_'))
			return false;
		if (x == '\0')
			return true;
	}
}

void
hf_authz_stat_lines(unsigned int n_workers, struct hf_stat_line *l, size_t *n, size_t cap)
{
	size_t first = *n;

	static const char *const verb[] = {
		[HF_AUTHZ_ALLOW] = "allowed", [HF_AUTHZ_DENY] = "denied", [HF_AUTHZ_AUDIT] = "audited",
	};

	for (unsigned int i = 0; i < n_slots && *n < cap; i++) {
		uint64_t sum = 0;

		for (unsigned int w = 0; w < n_workers && w < HF_MAX_WORKERS; w++)
			sum += __atomic_load_n(&hf_authz_hits[w].n[i], __ATOMIC_RELAXED);
		if (i == 0)
			snprintf(l[*n].name, sizeof(l[*n].name), "rbac.policy.overflow");
		else
			snprintf(l[*n].name, sizeof(l[*n].name), "rbac.policy.%s.%s.%s", slots[i].ns,
				 slots[i].name, verb[slots[i].action]);
		/* "a-b" and "a.b" would be one Prometheus name: the later one says its slot */
		for (size_t k = first; k < *n; k++)
			if (same_metric(l[k].name, l[*n].name)) {
				snprintf(l[*n].name, sizeof(l[*n].name), "rbac.policy.%s.%s.%u.%s",
					 slots[i].ns, slots[i].name, i, verb[slots[i].action]);
				break;
			}
		l[*n].help = i == 0 ? "requests counted for policies past the table of names"
				    : "requests this AuthorizationPolicy decided (ALLOW: the first "
				      "that matched; DENY: denied; AUDIT: matched)";
		l[*n].gauge = false;
		l[*n].value = sum;
		(*n)++;
	}
}
