/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The authorization check (authz.h): Istio's AuthorizationPolicy semantics
 * over one request, as Envoy's RBAC filter applies what Pilot generates.
 * Straight loops over the compiled policies; every string is compared where
 * it lies in the request head, nothing is copied but the one address an
 * x-forwarded-for entry gives.
 */
#include <arpa/inet.h>
#include <string.h>

#include "dataplane/proxy/authz.h"

struct hf_authz_hits hf_authz_hits[HF_MAX_WORKERS];

static inline unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* @p n bytes of @p a (the request's, any case) against @p b (the policy's, lower case). */
static bool
eq_nocase(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != (unsigned char)b[i])
			return false;
	return true;
}

/* Byte equality of short strings, 8 bytes at a time: no call (values are mostly short). */
static inline bool
same(const char *a, const char *b, size_t n)
{
	uint64_t x, y;

	for (; n >= 8; a += 8, b += 8, n -= 8) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if (x != y)
			return false;
	}
	for (; n > 0; a++, b++, n--)
		if (*a != *b)
			return false;
	return true;
}

static inline bool
eq(const char *a, const char *b, size_t n, bool nocase)
{
	return nocase ? eq_nocase(a, b, n) : same(a, b, n);
}

/*
 * The first field named @p name (@p n bytes, lower case) of @p msg, or NULL.
 * Not hf_h1_find(), which takes a NUL-terminated name: a policy's is a slice.
 */
static const struct hf_h1_header *
find_field(const struct hf_h1_message *msg, const char *name, size_t n)
{
	for (uint32_t i = 0; i < msg->n_headers; i++)
		if (msg->headers[i].name.len == n && eq_nocase(msg->headers[i].name.p, name, n))
			return &msg->headers[i];
	return NULL;
}

bool
hf_authz_template_match(const char *t, size_t tlen, const char *path, size_t plen)
{
	size_t i = 0, j = 0;

	while (i < tlen) {
		if (tlen - i >= 4 && memcmp(t + i, "{**}", 4) == 0)
			return true;	/* the rest of the path, whatever it holds (it is last) */
		if (tlen - i >= 3 && memcmp(t + i, "{*}", 3) == 0) {
			size_t k = j;

			/* one segment: at least one byte, up to the next '/' */
			while (k < plen && path[k] != '/')
				k++;
			if (k == j)
				return false;
			j = k;
			i += 3;
			continue;
		}
		if (j >= plen || t[i] != path[j])
			return false;
		i++;
		j++;
	}
	return j == plen;
}

/* Whether string @p s (@p n bytes) matches value @p v. */
static bool
str_match(const struct hf_authz_value *v, const char *s, size_t n, bool nocase)
{
	switch (v->kind) {
	case HF_AZM_EXACT:
		return n == v->len && eq(s, v->s, n, nocase);
	case HF_AZM_PREFIX:
		return n >= v->len && eq(s, v->s, v->len, nocase);
	case HF_AZM_SUFFIX:
		return n >= v->len && eq(s + n - v->len, v->s, v->len, nocase);
	case HF_AZM_PRESENT:
		return true;
	case HF_AZM_TEMPLATE:
		return hf_authz_template_match(v->s, v->len, s, n);
	default:
		return false;
	}
}

static bool
cidr_match(const struct hf_authz_value *v, const uint8_t *a, bool v6)
{
	unsigned int full = v->plen / 8u, rest = v->plen % 8u;

	if (v->kind != HF_AZM_CIDR || (bool)v->v6 != v6)
		return false;
	if (memcmp(v->addr, a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((v->addr[full] ^ a[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

/* Parses "a.b.c.d" or an IPv6 address of @p n bytes (blanks trimmed by the caller). */
static bool
parse_addr(const char *s, size_t n, uint8_t out[16], bool *v6)
{
	char buf[48];

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(out, 0, 16);
	if (memchr(buf, ':', n) != NULL) {
		*v6 = true;
		return inet_pton(AF_INET6, buf, out) == 1;
	}
	*v6 = false;
	return inet_pton(AF_INET, buf, out) == 1;
}

bool
hf_authz_xff_addr(const struct hf_h1_message *msg, uint32_t hops, uint8_t out[16], bool *v6)
{
	const struct hf_h1_header *f;
	const char *p, *end, *start;
	uint32_t count = 0, want;

	if (hops == 0 || (f = find_field(msg, "x-forwarded-for", 15)) == NULL)
		return false;
	p = f->value.p;
	end = p + f->value.len;
	for (const char *q = p; q < end; q++)
		count += *q == ',';
	count++;
	if (count < hops)
		return false;
	/* the hops-th from the right is entry count - hops, from 0 on the left */
	want = count - hops;
	for (start = p; want > 0; start++)
		if (*start == ',')
			want--;
	for (p = start; p < end && *p != ','; p++)
		;
	while (start < p && (*start == ' ' || *start == '\t'))
		start++;
	while (p > start && (p[-1] == ' ' || p[-1] == '\t'))
		p--;
	return parse_addr(start, (size_t)(p - start), out, v6);
}

/* The namespace of principal @p p ("td/ns/NS/sa/SA"), or false. */
static bool
principal_ns(const char *p, size_t n, const char **ns, size_t *ns_len)
{
	for (size_t i = 0; i + 4 <= n; i++)
		if (memcmp(p + i, "/ns/", 4) == 0) {
			size_t k = i + 4;

			while (k < n && p[k] != '/')
				k++;
			*ns = p + i + 4;
			*ns_len = k - i - 4;
			return true;
		}
	return false;
}

/* Whether any value of @p c matches string @p s (@p n bytes). */
static bool
any_str(const struct hf_authz_cond *c, const char *s, size_t n, bool nocase)
{
	for (uint16_t i = 0; i < c->n_values; i++)
		if (str_match(&c->values[i], s, n, nocase))
			return true;
	return false;
}

static bool
any_cidr(const struct hf_authz_cond *c, const uint8_t *a, bool v6)
{
	for (uint16_t i = 0; i < c->n_values; i++)
		if (cidr_match(&c->values[i], a, v6))
			return true;
	return false;
}

/* Whether the claim @p name has a value @p c matches (a list claim: any of its elements). */
static bool
any_claim(const struct hf_authz_cond *c, const struct hf_authn *a)
{
	if (a == NULL || a->principal_len == 0)
		return false;
	for (uint16_t i = 0; i < a->n_claims && i < HF_AUTHN_MAX_CLAIMS; i++) {
		const struct hf_authn_claim *cl = &a->claims[i];

		if (cl->name_len == c->name_len &&
		    memcmp(a->buf + cl->name_off, c->name, c->name_len) == 0 &&
		    any_str(c, a->buf + cl->val_off, cl->val_len, false))
			return true;
	}
	return false;
}

/* Whether the attribute of @p c matches one of its values (an absent attribute matches none). */
static bool
matches(const struct hf_authz *az, const struct hf_authz_cond *c, struct hf_authz_rq *rq)
{
	const struct hf_h1_message *msg = rq->msg;
	const struct hf_h1_header *f;
	const char *ns;
	size_t ns_len;
	uint8_t a[16] = {0};

	switch (c->attr) {
	case HF_AZ_PRINCIPAL:
		return rq->peer != NULL && rq->peer_len > 0 && any_str(c, rq->peer, rq->peer_len, false);
	case HF_AZ_NAMESPACE:
		return rq->peer != NULL && principal_ns(rq->peer, rq->peer_len, &ns, &ns_len) &&
		       ns_len > 0 && any_str(c, ns, ns_len, false);
	case HF_AZ_REQ_PRINCIPAL:
		return rq->authn != NULL && rq->authn->principal_len > 0 &&
		       any_str(c, rq->authn->buf + rq->authn->principal_off, rq->authn->principal_len,
			       false);
	case HF_AZ_SOURCE_IP:
		memcpy(a, &rq->src_ip, 4);
		return any_cidr(c, a, false);
	case HF_AZ_DEST_IP:
		memcpy(a, &rq->dst_ip, 4);
		return any_cidr(c, a, false);
	case HF_AZ_REMOTE_IP:
		if (!rq->remote_done) {
			bool v6 = false;

			if (!hf_authz_xff_addr(msg, az->xff_trusted_hops, rq->remote, &v6)) {
				memset(rq->remote, 0, sizeof(rq->remote));
				memcpy(rq->remote, &rq->src_ip, 4);
				v6 = false;
			}
			rq->remote_v6 = v6;
			rq->remote_done = true;
		}
		return any_cidr(c, rq->remote, rq->remote_v6);
	case HF_AZ_HOST:
		if (msg->host.len == 0)
			return false;
		if (!rq->host_done) {
			/* lower case once, then every host value is a plain memcmp */
			rq->host_len = 0;
			if (msg->host.len <= sizeof(rq->host_lc)) {
				for (uint32_t i = 0; i < msg->host.len; i++)
					rq->host_lc[i] = (char)lower((unsigned char)msg->host.p[i]);
				rq->host_len = (uint16_t)msg->host.len;
			}
			rq->host_done = true;
		}
		if (rq->host_len > 0)
			return any_str(c, rq->host_lc, rq->host_len, false);
		return any_str(c, msg->host.p, msg->host.len, true);
	case HF_AZ_PORT:
		for (uint16_t i = 0; i < c->n_values; i++)
			if (c->values[i].port == rq->dst_port)
				return true;
		return false;
	case HF_AZ_METHOD:
		return any_str(c, msg->method_name.p, msg->method_name.len, false);
	case HF_AZ_PATH:
		return any_str(c, rq->path, rq->path_len, false);
	case HF_AZ_HEADER:
		f = find_field(msg, c->name, c->name_len);
		return f != NULL && any_str(c, f->value.p, f->value.len, false);
	case HF_AZ_SNI:
		return rq->sni != NULL && rq->sni[0] != '\0' &&
		       any_str(c, rq->sni, strlen(rq->sni), true);
	case HF_AZ_CLAIM:
		return any_claim(c, rq->authn);
	default:
		return false;
	}
}

bool
hf_authz_cond_holds(const struct hf_authz *az, const struct hf_authz_cond *c,
		    struct hf_authz_rq *rq)
{
	return matches(az, c, rq) != c->negated;
}

static bool
clause_holds(const struct hf_authz *az, const struct hf_authz_clause *cl, struct hf_authz_rq *rq)
{
	for (uint16_t i = 0; i < cl->n_conds; i++)
		if (!hf_authz_cond_holds(az, &cl->conds[i], rq))
			return false;
	return true;
}

/* Any of @p n clauses (none: true). */
static bool
some_clause(const struct hf_authz *az, const struct hf_authz_clause *cl, uint16_t n,
	    struct hf_authz_rq *rq)
{
	if (n == 0)
		return true;
	for (uint16_t i = 0; i < n; i++)
		if (clause_holds(az, &cl[i], rq))
			return true;
	return false;
}

/* The request's prefilter bits; 0: unknown (no filter applies). */
struct bits {
	uint64_t seg, host;
};

static bool
rule_holds(const struct hf_authz *az, const struct hf_authz_rule *r, struct hf_authz_rq *rq,
	   const struct bits *b)
{
	if ((b->seg != 0 && !(r->seg_mask & b->seg)) || (b->host != 0 && !(r->host_mask & b->host)))
		return false;
	/* the operation first: methods and paths tell most requests apart at the least cost */
	if (!some_clause(az, r->to, r->n_to, rq) || !some_clause(az, r->from, r->n_from, rq))
		return false;
	for (uint16_t i = 0; i < r->n_when; i++)
		if (!hf_authz_cond_holds(az, &r->when[i], rq))
			return false;
	return true;
}

/* The first rule of @p p that holds, or NULL. */
static const struct hf_authz_rule *
policy_match(const struct hf_authz *az, const struct hf_authz_policy *p, struct hf_authz_rq *rq,
	     const struct bits *b)
{
	for (uint16_t i = 0; i < p->n_rules; i++)
		if (rule_holds(az, &p->rules[i], rq, b))
			return &p->rules[i];
	return NULL;
}

/* The request's first path segment and Host bits, the Host lower-cased on the way. */
static void
request_bits(const struct hf_authz *az, struct hf_authz_rq *rq, struct bits *b)
{
	const struct hf_h1_message *msg = rq->msg;
	uint32_t k = 1;

	b->seg = b->host = 0;
	if (az->filter_seg && rq->path_len > 0 && rq->path[0] == '/') {
		while (k < rq->path_len && rq->path[k] != '/')
			k++;
		b->seg = hf_authz_bit(rq->path + 1, k - 1, false);
	}
	if (!az->filter_host || msg->host.len == 0)
		return;
	if (!rq->host_done) {
		rq->host_len = 0;
		if (msg->host.len <= sizeof(rq->host_lc)) {
			for (uint32_t i = 0; i < msg->host.len; i++)
				rq->host_lc[i] = (char)lower((unsigned char)msg->host.p[i]);
			rq->host_len = (uint16_t)msg->host.len;
		}
		rq->host_done = true;
	}
	b->host = rq->host_len > 0 ? hf_authz_bit(rq->host_lc, rq->host_len, false)
				   : hf_authz_bit(msg->host.p, msg->host.len, true);
}

bool
hf_authz_check(const struct hf_authz *az, struct hf_authz_rq *rq, struct hf_authz_result *res)
{
	const struct hf_authz_rule *r;
	struct bits b = {0, 0};

	if (az->filter_seg || az->filter_host)
		request_bits(az, rq, &b);
	res->denied = false;
	res->policy = NULL;
	res->rule = NULL;
	res->allowed_by = NULL;
	res->n_audited = 0;
	/* AUDIT decides nothing: every matching one is reported, whatever follows */
	for (uint16_t i = 0; i < az->n_audit; i++)
		if (policy_match(az, &az->audit[i], rq, &b) != NULL) {
			if (res->n_audited < sizeof(res->audited) / sizeof(res->audited[0]))
				res->audited[res->n_audited] = az->audit[i].slot;
			res->n_audited++;
		}
	for (uint16_t i = 0; i < az->n_deny; i++)
		if ((r = policy_match(az, &az->deny[i], rq, &b)) != NULL) {
			res->denied = true;
			res->policy = &az->deny[i];
			res->rule = r;
			return true;
		}
	if (az->n_allow == 0)
		return false;
	for (uint16_t i = 0; i < az->n_allow; i++)
		if (policy_match(az, &az->allow[i], rq, &b) != NULL) {
			res->allowed_by = &az->allow[i];
			return false;
		}
	res->denied = true;
	return true;
}
