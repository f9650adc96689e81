/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The memory of a set of AuthorizationPolicies (chunks freed all at once),
 * its copy into a snapshot, and the two tables that outlive snapshots: the
 * counter slot of each policy name, and the access log details of each
 * rule. Both are bounded and only grow, so what a worker copied from a
 * snapshot (a details pointer in a log record, a slot number) still means
 * the same thing after that snapshot is freed.
 */
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

#define ALL UINT64_MAX

/*
 * The first-segment bit a path value pins down, or ALL: an exact path, a prefix
 * or a template whose literal start holds a whole first segment ("/a/..." ->
 * "a"; an exact "/a" -> "a"); not "/a*" (the segment may go on), "*x", "*".
 */
static uint64_t
path_bits(const struct hf_authz_value *v)
{
	size_t n = v->len, k = 1;

	if (v->kind == HF_AZM_TEMPLATE)
		n = strcspn(v->s, "{");
	else if (v->kind != HF_AZM_EXACT && v->kind != HF_AZM_PREFIX)
		return ALL;
	if (n == 0 || v->s[0] != '/')
		return ALL;
	while (k < n && v->s[k] != '/')
		k++;
	if (k == n && v->kind != HF_AZM_EXACT)
		return ALL;
	return hf_authz_bit(v->s + 1, k - 1, false);
}

/* What a clause's conditions on @p attr pin down: the OR of its values' bits, or ALL. */
static uint64_t
clause_bits(const struct hf_authz_clause *cl, enum hf_authz_attr attr)
{
	for (uint16_t i = 0; i < cl->n_conds; i++) {
		const struct hf_authz_cond *c = &cl->conds[i];
		uint64_t m = 0;

		if (c->attr != attr || c->negated)
			continue;
		for (uint16_t k = 0; k < c->n_values && m != ALL; k++)
			m |= attr == HF_AZ_PATH ? path_bits(&c->values[k])
			     : c->values[k].kind == HF_AZM_EXACT
				     ? hf_authz_bit(c->values[k].s, c->values[k].len, false)
				     : ALL;
		return m;	/* one field of each kind per clause */
	}
	return ALL;
}

/* A rule's prefilter on @p attr: any of its `to` clauses may be the one that holds. */
static uint64_t
rule_bits(const struct hf_authz_rule *r, enum hf_authz_attr attr)
{
	uint64_t m = 0;

	if (r->n_to == 0)
		return ALL;
	for (uint16_t i = 0; i < r->n_to && m != ALL; i++)
		m |= clause_bits(&r->to[i], attr);
	return m;
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
			r[k].seg_mask = *nomem || r[k].to == NULL ? ALL : rule_bits(&r[k], HF_AZ_PATH);
			r[k].host_mask = *nomem || r[k].to == NULL ? ALL : rule_bits(&r[k], HF_AZ_HOST);
			az->filter_seg |= r[k].seg_mask != ALL;
			az->filter_host |= r[k].host_mask != ALL;
			r[k].details = details_of(src[i].ns, src[i].name, k);
			if (r[k].details == NULL)
				r[k].details = details_of(src[i].ns, src[i].name, -1);
		}
		p[i].rules = r;
	}
	return p;
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
	if (nomem) {
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
