/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The authorization check (authz.h): Istio's AuthorizationPolicy semantics
 * over one request, as Envoy's RBAC filter applies what Pilot generates.
 * Two ways to the same verdict: the index the agent compiled (authz_index.c),
 * and here the tree walk, condition by condition, for the rules the index
 * leaves out and as the tests' reference, with the readings of a request's
 * attributes both share (authz-int.h). Every string is compared where it lies
 * in the request head; nothing is copied but an address and the key of an
 * address block.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <string.h>

#include <rte_byteorder.h>

#if RTE_BYTE_ORDER != RTE_LITTLE_ENDIAN
#error "match_addr() builds little-endian words"
#endif

#include "dataplane/proxy/authz-int.h"

struct hf_authz_hits hf_authz_hits[HF_MAX_WORKERS];


/* Whether field @p f is named @p name (@p n bytes, lower case). */
static inline bool
field_is(const struct hf_h1_header *f, const char *name, size_t n)
{
	return f->name.len == n && eq_nocase(f->name.p, name, n);
}

/*
 * The value of the header named @p name (@p n bytes, lower case), its fields
 * looked for from field @p from on: the field's own bytes when it came once,
 * else every field of that name joined with "," in the order they came, in
 * rq->join, as Envoy's RBAC reads a header (getAllOfHeaderAsString; RFC 9110
 * 5.3: the fields of a name are one comma-separated list). Not hf_h1_find(),
 * which takes a NUL-terminated name: a policy's is a slice. Returns false
 * when no field has the name, or when the joined value does not fit (it
 * cannot, in rooms of HF_AUTHZ_JOIN_ROOM: then the index and the tree walk
 * alike take the header as absent).
 */
bool
hf_authz_field_value(struct hf_authz_rq *rq, const char *name, size_t n, uint32_t from,
		     const char **v, size_t *vn)
{
	const struct hf_h1_message *msg = rq->msg;
	uint32_t i, k;
	size_t len = 0;

	for (i = from; i < msg->n_headers && !field_is(&msg->headers[i], name, n); i++)
		;
	if (i == msg->n_headers)
		return false;
	for (k = i + 1; k < msg->n_headers && !field_is(&msg->headers[k], name, n); k++)
		;
	if (k == msg->n_headers) {
		*v = msg->headers[i].value.p;
		*vn = msg->headers[i].value.len;
		return true;
	}
	for (k = i; k < msg->n_headers; k++) {
		const struct hf_h1_slice *f = &msg->headers[k].value;

		if (!field_is(&msg->headers[k], name, n))
			continue;
		if (rq->join == NULL || len + (k > i) + f->len > rq->join_cap)
			return false;
		if (k > i)
			rq->join[len++] = ',';
		memcpy(rq->join + len, f->p, f->len);
		len += f->len;
	}
	*v = rq->join;
	*vn = len;
	return true;
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
	static const char xff[] = "x-forwarded-for";
	const size_t xn = sizeof(xff) - 1;
	const char *p, *end, *start = NULL;
	uint32_t count = 0, want;

	if (hops == 0)
		return false;
	/* a field sent more than once is one list, its fields joined with "," (RFC 9110 5.3) */
	for (uint32_t i = 0; i < msg->n_headers; i++) {
		if (!field_is(&msg->headers[i], xff, xn))
			continue;
		p = msg->headers[i].value.p;
		end = p + msg->headers[i].value.len;
		for (const char *q = p; q < end; q++)
			count += *q == ',';
		count++;
	}
	if (count == 0 || count < hops)
		return false;
	/* the hops-th from the right is entry count - hops, from 0 on the left */
	want = count - hops;
	for (uint32_t i = 0; start == NULL; i++) {
		if (!field_is(&msg->headers[i], xff, xn))
			continue;
		p = msg->headers[i].value.p;
		end = p + msg->headers[i].value.len;
		for (const char *q = p; start == NULL; q++) {
			if (want == 0) {
				start = q;
			} else if (q == end) {
				want--;		/* the next field: past the "," joining them */
				break;
			} else if (*q == ',') {
				want--;
			}
		}
	}
	for (p = start; p < end && *p != ','; p++)
		;
	while (start < p && (*start == ' ' || *start == '\t'))
		start++;
	while (p > start && (p[-1] == ' ' || p[-1] == '\t'))
		p--;
	return parse_addr(start, (size_t)(p - start), out, v6);
}

/* The namespace of principal @p p ("td/ns/NS/sa/SA"), or false. */
bool
hf_authz_principal_ns(const char *p, size_t n, const char **ns, size_t *ns_len)
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
	const char *ns, *v;
	size_t ns_len, vn;
	uint8_t a[16] = {0};

	switch (c->attr) {
	case HF_AZ_PRINCIPAL:
		return rq->peer != NULL && rq->peer_len > 0 && any_str(c, rq->peer, rq->peer_len, false);
	case HF_AZ_NAMESPACE:
		return rq->peer != NULL && hf_authz_principal_ns(rq->peer, rq->peer_len, &ns, &ns_len) &&
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
		return msg->host.len > 0 && any_str(c, msg->host.p, msg->host.len, true);
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
		return hf_authz_field_value(rq, c->name, c->name_len, 0, &v, &vn) && any_str(c, v, vn, false);
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

bool
hf_authz_rule_holds(const struct hf_authz *az, const struct hf_authz_rule *r,
		    struct hf_authz_rq *rq)
{
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
policy_match(const struct hf_authz *az, const struct hf_authz_policy *p, struct hf_authz_rq *rq)
{
	for (uint16_t i = 0; i < p->n_rules; i++)
		if (hf_authz_rule_holds(az, &p->rules[i], rq))
			return &p->rules[i];
	return NULL;
}

void
hf_authz_result_clear(struct hf_authz_result *res)
{
	res->denied = false;
	res->policy = NULL;
	res->rule = NULL;
	res->allowed_by = NULL;
	res->slot = 0;
	res->n_audited = 0;
}

bool
hf_authz_check_tree(const struct hf_authz *az, struct hf_authz_rq *rq, struct hf_authz_result *res)
{
	const struct hf_authz_rule *r;

	hf_authz_result_clear(res);
	/* AUDIT decides nothing: every matching one is reported, whatever follows */
	for (uint16_t i = 0; i < az->n_audit; i++)
		if (policy_match(az, &az->audit[i], rq) != NULL) {
			if (res->n_audited < sizeof(res->audited) / sizeof(res->audited[0]))
				res->audited[res->n_audited] = az->audit[i].slot;
			res->n_audited++;
		}
	for (uint16_t i = 0; i < az->n_deny; i++)
		if ((r = policy_match(az, &az->deny[i], rq)) != NULL) {
			res->denied = true;
			res->policy = &az->deny[i];
			res->rule = r;
			res->slot = az->deny[i].slot;
			return true;
		}
	if (az->n_allow == 0)
		return false;
	for (uint16_t i = 0; i < az->n_allow; i++)
		if (policy_match(az, &az->allow[i], rq) != NULL) {
			res->allowed_by = &az->allow[i];
			res->slot = az->allow[i].slot;
			return false;
		}
	res->denied = true;
	return true;
}
