/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AuthorizationPolicy (security.istio.io v1 and v1beta1): every policy is
 * checked as Istio's validation would, and those that select this node are
 * translated into the model's struct hf_authz, as Pilot builds Envoy's RBAC
 * filter for a gateway:
 *   - selection: a policy in the root namespace (meshConfig.rootNamespace,
 *     istio-system by default) applies mesh-wide, one in the node's own
 *     namespace namespace-wide; with selector.matchLabels, only when the
 *     node's labels hold all of them. Policies of other namespaces do not
 *     apply. targetRef/targetRefs name Kubernetes Gateway API resources, which
 *     this node is not: refused by name.
 *   - actions ALLOW, DENY, AUDIT; CUSTOM (an external authorizer) is refused.
 *   - strings: "v" exact, "v*" prefix, "*v" suffix, "*" any value present;
 *     hosts are matched without regard to case; paths also take Istio's
 *     templates, "{*}" one segment and "{**}" the rest of the path (last).
 *   - ipBlocks, remoteIpBlocks, source.ip, remote.ip, destination.ip: an
 *     address or a CIDR block, IPv4 or IPv6.
 *   - `when` keys: request.headers[name], source.ip, remote.ip,
 *     source.namespace, source.principal, destination.ip, destination.port,
 *     connection.sni, request.auth.principal, request.auth.audiences,
 *     request.auth.presenter, request.auth.claims[a][b]...; any other key is
 *     refused by name.
 * What Istio leaves to the data plane's reading is kept as Istio means it:
 * an ALLOW policy without rules matches nothing (so it denies everything), a
 * rule `{}` matches every request; DENY and AUDIT without rules never match.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/compile/authz_build.h"
#include "control-agent/istio/istio-int.h"

#define MAX_ITEMS 4096		/* rules, clauses, values of one list: more is refused */

static const char *const spec_keys[] = {"selector", "action", "rules", "provider", "targetRef",
					"targetRefs", NULL};
static const char *const rule_keys[] = {"from", "to", "when", NULL};
static const char *const from_keys[] = {"source", NULL};
static const char *const to_keys[] = {"operation", NULL};
static const char *const when_keys[] = {"key", "values", "notValues", NULL};
static const char *const sel_keys[] = {"matchLabels", NULL};

/* A field of a source or an operation, its not-form next to it. */
struct field {
	const char *name, *not_name;
	enum hf_authz_attr attr;
};

static const struct field source_fields[] = {
	{"principals", "notPrincipals", HF_AZ_PRINCIPAL},
	{"requestPrincipals", "notRequestPrincipals", HF_AZ_REQ_PRINCIPAL},
	{"namespaces", "notNamespaces", HF_AZ_NAMESPACE},
	{"ipBlocks", "notIpBlocks", HF_AZ_SOURCE_IP},
	{"remoteIpBlocks", "notRemoteIpBlocks", HF_AZ_REMOTE_IP},
};
static const char *const source_later[] = {"serviceAccounts", "notServiceAccounts", NULL};

static const struct field operation_fields[] = {
	{"hosts", "notHosts", HF_AZ_HOST},
	{"ports", "notPorts", HF_AZ_PORT},
	{"methods", "notMethods", HF_AZ_METHOD},
	{"paths", "notPaths", HF_AZ_PATH},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The keys of a `when` condition with a fixed name. */
static const struct {
	const char *key;
	enum hf_authz_attr attr;
	const char *claim;		/* CLAIM: the claim it reads */
} when_fixed[] = {
	{"source.ip", HF_AZ_SOURCE_IP, NULL},
	{"remote.ip", HF_AZ_REMOTE_IP, NULL},
	{"source.namespace", HF_AZ_NAMESPACE, NULL},
	{"source.principal", HF_AZ_PRINCIPAL, NULL},
	{"destination.ip", HF_AZ_DEST_IP, NULL},
	{"destination.port", HF_AZ_PORT, NULL},
	{"connection.sni", HF_AZ_SNI, NULL},
	{"request.auth.principal", HF_AZ_REQ_PRINCIPAL, NULL},
	{"request.auth.audiences", HF_AZ_CLAIM, "aud"},
	{"request.auth.presenter", HF_AZ_CLAIM, "azp"},
};

/* ---- values ---- */

static bool
is_ip_attr(enum hf_authz_attr a)
{
	return a == HF_AZ_SOURCE_IP || a == HF_AZ_REMOTE_IP || a == HF_AZ_DEST_IP;
}

/* "a.b.c.d", "a.b.c.d/n", an IPv6 address, "x::y/n": into @p v. */
static bool
parse_cidr(const char *s, struct hf_authz_value *v)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned long plen;
	char *end;
	unsigned int max;

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(v->addr, 0, sizeof(v->addr));
	v->v6 = strchr(buf, ':') != NULL;
	if (inet_pton(v->v6 ? AF_INET6 : AF_INET, buf, v->addr) != 1)
		return false;
	max = v->v6 ? 128 : 32;
	plen = max;
	if (slash != NULL) {
		if (!isdigit((unsigned char)slash[1]))
			return false;
		plen = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || plen > max)
			return false;
	}
	v->kind = HF_AZM_CIDR;
	v->plen = (uint8_t)plen;
	return true;
}

/*
 * A path template: "{*}" and "{**}" each a whole segment (after a '/', before
 * a '/' or the end), "{**}" the last; no other brace, no bare '*'. NULL when
 * fine, else what is wrong.
 */
static const char *
template_error(const char *s)
{
	size_t n = strlen(s);

	if (s[0] != '/')
		return "a path template must start with '/'";
	for (size_t i = 0; i < n; i++) {
		size_t op = 0;

		if (strncmp(s + i, "{**}", 4) == 0)
			op = 4;
		else if (strncmp(s + i, "{*}", 3) == 0)
			op = 3;
		else if (s[i] == '{' || s[i] == '}')
			return "'{' and '}' only as {*} (one segment) or {**} (the rest)";
		else if (s[i] == '*')
			return "'*' cannot be mixed with {*} or {**} templates";
		if (op == 0)
			continue;
		if (s[i - 1] != '/' || (s[i + op] != '\0' && s[i + op] != '/'))
			return "{*} and {**} must each be a whole path segment";
		if (op == 4 && s[i + op] != '\0')
			return "{**} must be the last segment";
		i += op - 1;
	}
	return NULL;
}

/* One value @p s of a field reading @p attr into @p v. */
static int
value(struct ist *st, struct hf_authz *az, const struct yn *at, const char *path,
      enum hf_authz_attr attr, const char *s, struct hf_authz_value *v)
{
	size_t n = strlen(s);
	char shown[96], *copy;

	if (n == 0)
		return ist_fail(st, at, path, "must not be empty");
	if (is_ip_attr(attr)) {
		if (!parse_cidr(s, v))
			return ist_fail(st, at, path, "'%s' is not an IP address or a CIDR block "
					"(like 192.0.2.1 or 203.0.113.0/24)",
					ist_shown(shown, sizeof(shown), s));
		return 0;
	}
	if (attr == HF_AZ_PORT) {
		unsigned long p = 0;

		if (n > 5 || strspn(s, "0123456789") != n)
			return ist_fail(st, at, path, "'%s' is not a port number",
					ist_shown(shown, sizeof(shown), s));
		for (size_t i = 0; i < n; i++)
			p = p * 10 + (unsigned long)(s[i] - '0');
		if (p < 1 || p > 65535)
			return ist_fail(st, at, path, "port %lu is out of range [1, 65535]", p);
		v->kind = HF_AZM_PORT;
		v->port = (uint16_t)p;
		return 0;
	}
	if (n > UINT16_MAX)
		return ist_fail(st, at, path, "longer than %u bytes", UINT16_MAX);
	if (attr == HF_AZ_PATH && (strstr(s, "{*}") != NULL || strstr(s, "{**}") != NULL)) {
		const char *why = template_error(s);

		if (why != NULL)
			return ist_fail(st, at, path, "'%s': %s", ist_shown(shown, sizeof(shown), s),
					why);
		v->kind = HF_AZM_TEMPLATE;
		v->s = hf_authz_strdup(az, s);
		v->len = (uint16_t)n;
		return v->s == NULL ? ist_oom(st) : 0;
	}
	if (strcmp(s, "*") == 0) {
		v->kind = HF_AZM_PRESENT;
		return 0;
	}
	if (s[0] == '*') {
		v->kind = HF_AZM_SUFFIX;
		s++;
		n--;
	} else if (s[n - 1] == '*') {
		v->kind = HF_AZM_PREFIX;
		n--;
	} else {
		v->kind = HF_AZM_EXACT;
	}
	/* Istio would match a '*' elsewhere literally: in a path that is a mistake, said so */
	if (attr == HF_AZ_PATH && memchr(s, '*', n) != NULL)
		return ist_fail(st, at, path, "'%s': '*' only at the start (suffix) or the end "
				"(prefix), or alone; {*} stands for one path segment",
				ist_shown(shown, sizeof(shown), v->kind == HF_AZM_SUFFIX ? s - 1 : s));
	copy = hf_authz_alloc(az, n + 1);
	if (copy == NULL)
		return ist_oom(st);
	memcpy(copy, s, n);
	if (attr == HF_AZ_HOST || attr == HF_AZ_SNI)
		for (size_t i = 0; i < n; i++)
			copy[i] = (char)tolower((unsigned char)copy[i]);
	v->s = copy;
	v->len = (uint16_t)n;
	return 0;
}

/*
 * The list @p seq (strings; ports may be integers) of a field reading
 * @p attr into condition @p c. An empty list is no condition (0 values):
 * the caller leaves it out, as protobuf cannot tell it from an absent one.
 */
static int
values(struct ist *st, struct hf_authz *az, const struct yn *seq, const char *path,
       enum hf_authz_attr attr, bool negated, struct hf_authz_cond *c)
{
	struct hf_authz_value *v;
	char q[IST_PATH];
	int rc;

	if (seq->n > MAX_ITEMS)
		return ist_fail(st, seq, path, "%u values, at most %u", seq->n, MAX_ITEMS);
	v = hf_authz_alloc(az, sizeof(*v) * (seq->n > 0 ? seq->n : 1));
	if (v == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < seq->n; i++) {
		const struct yn *it = seq->val[i];

		ist_pathi(q, path, i);
		if (!(it->type == YN_STR || (attr == HF_AZ_PORT && it->type == YN_INT)))
			return ist_want(st, it, q, YN_STR);
		rc = value(st, az, it, q, attr, it->s, &v[i]);
		if (rc < 0)
			return rc;
	}
	c->attr = (uint8_t)attr;
	c->negated = negated;
	c->n_values = (uint16_t)seq->n;
	c->values = v;
	return 0;
}

/* A source or an operation @p m (@p what names it) into clause @p out. */
static int
clause(struct ist *st, struct hf_authz *az, const struct yn *m, const char *path, const char *what,
       const struct field *fields, unsigned int n_fields, const char *const *later,
       struct hf_authz_clause *out)
{
	const char *known[2 * 8 + 1];
	struct hf_authz_cond *c;
	char p[IST_PATH];
	unsigned int k = 0, n = 0;
	int rc;

	for (unsigned int i = 0; i < n_fields; i++) {
		known[k++] = fields[i].name;
		known[k++] = fields[i].not_name;
	}
	known[k] = NULL;
	if ((rc = ist_keys(st, m, path, known, later)) < 0)
		return rc;
	c = hf_authz_alloc(az, sizeof(*c) * 2 * n_fields);
	if (c == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < n_fields; i++)
		for (unsigned int neg = 0; neg < 2; neg++) {
			const char *key = neg ? fields[i].not_name : fields[i].name;
			const struct yn *seq = NULL;

			if ((rc = ist_get_seq(st, m, path, key, false, &seq)) < 0)
				return rc;
			if (rc == 0 || seq->n == 0)
				continue;
			rc = values(st, az, seq, ist_path(p, path, key), fields[i].attr, neg, &c[n]);
			if (rc < 0)
				return rc;
			n++;
		}
	/* Istio's validation: a source or an operation says something */
	if (n == 0)
		return ist_fail(st, m, path, "%s must not be empty: give at least one field", what);
	out->n_conds = (uint16_t)n;
	out->conds = c;
	return 0;
}

/* rules[].from (@p from: each entry a `source`) or rules[].to (each an `operation`) of @p r. */
static int
clauses(struct ist *st, struct hf_authz *az, const struct yn *r, const char *path, const char *key,
	bool from, uint16_t *n_out, const struct hf_authz_clause **out)
{
	const struct yn *seq = NULL, *m = NULL;
	struct hf_authz_clause *cl;
	char p[IST_PATH], q[IST_PATH], s[IST_PATH];
	int rc = ist_get_seq(st, r, path, key, false, &seq);

	*n_out = 0;
	*out = NULL;
	if (rc <= 0 || seq->n == 0)
		return rc;
	ist_path(p, path, key);
	if (seq->n > MAX_ITEMS)
		return ist_fail(st, seq, p, "%u entries, at most %u", seq->n, MAX_ITEMS);
	cl = hf_authz_alloc(az, sizeof(*cl) * seq->n);
	if (cl == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < seq->n; i++) {
		const char *inner = from ? "source" : "operation";

		ist_pathi(q, p, i);
		if ((rc = ist_want(st, seq->val[i], q, YN_MAP)) < 0 ||
		    (rc = ist_keys(st, seq->val[i], q, from ? from_keys : to_keys, NULL)) < 0 ||
		    (rc = ist_get_map(st, seq->val[i], q, inner, true, &m)) < 0)
			return rc;
		ist_path(s, q, inner);
		rc = from ? clause(st, az, m, s, "a source", source_fields, N(source_fields),
				   source_later, &cl[i])
			  : clause(st, az, m, s, "an operation", operation_fields,
				   N(operation_fields), NULL, &cl[i]);
		if (rc < 0)
			return rc;
	}
	*n_out = (uint16_t)seq->n;
	*out = cl;
	return 0;
}

/*
 * A `when` key: what it reads, and for request.headers[NAME] and
 * request.auth.claims[A][B]... the name (lower case, or "A.B" as struct
 * hf_authn flattens nested claims) into @p c.
 */
static int
when_key(struct ist *st, struct hf_authz *az, const struct yn *at, const char *path,
	 const char *key, struct hf_authz_cond *c)
{
	static const char hdr[] = "request.headers[", claims[] = "request.auth.claims[";
	char shown[96], *name;
	size_t n = strlen(key);

	for (unsigned int i = 0; i < N(when_fixed); i++)
		if (strcmp(key, when_fixed[i].key) == 0) {
			c->attr = (uint8_t)when_fixed[i].attr;
			if (when_fixed[i].claim != NULL) {
				c->name = hf_authz_strdup(az, when_fixed[i].claim);
				c->name_len = (uint16_t)strlen(when_fixed[i].claim);
				if (c->name == NULL)
					return ist_oom(st);
			}
			return 0;
		}
	if (strncmp(key, hdr, sizeof(hdr) - 1) == 0 && n > sizeof(hdr) && key[n - 1] == ']') {
		const char *h = key + sizeof(hdr) - 1;
		size_t hl = n - (sizeof(hdr) - 1) - 1;
		int rc;

		name = hf_authz_alloc(az, hl + 1);
		if (name == NULL)
			return ist_oom(st);
		for (size_t i = 0; i < hl; i++)
			name[i] = (char)tolower((unsigned char)h[i]);
		rc = ist_check_token(st, at, path, "header name", name);
		if (rc < 0)
			return rc;
		c->attr = HF_AZ_HEADER;
		c->name = name;
		c->name_len = (uint16_t)hl;
		return 0;
	}
	if (strncmp(key, claims, sizeof(claims) - 1) == 0) {
		/* [a][b][c] -> "a.b.c" */
		const char *p = key + sizeof(claims) - 2;
		size_t o = 0;

		name = hf_authz_alloc(az, n);
		if (name == NULL)
			return ist_oom(st);
		while (*p == '[') {
			const char *close = strchr(p, ']');

			if (close == NULL || close == p + 1 || memchr(p + 1, '[', (size_t)(close - p - 1)))
				break;
			if (o > 0)
				name[o++] = '.';
			memcpy(name + o, p + 1, (size_t)(close - p - 1));
			o += (size_t)(close - p - 1);
			p = close + 1;
		}
		if (*p != '\0' || o == 0)
			return ist_fail(st, at, path, "'%s' is not request.auth.claims[NAME] or "
					"request.auth.claims[NAME][NESTED]...",
					ist_shown(shown, sizeof(shown), key));
		name[o] = '\0';
		c->attr = HF_AZ_CLAIM;
		c->name = name;
		c->name_len = (uint16_t)o;
		return 0;
	}
	if (strncmp(key, "experimental.", 13) == 0)
		return ist_fail(st, at, path, "'%s': experimental keys are not supported",
				ist_shown(shown, sizeof(shown), key));
	return ist_fail(st, at, path, "'%s' is not a condition key this node reads "
			"(request.headers[NAME], source.ip, remote.ip, source.namespace, "
			"source.principal, destination.ip, destination.port, connection.sni, "
			"request.auth.principal, request.auth.audiences, request.auth.presenter, "
			"request.auth.claims[NAME])", ist_shown(shown, sizeof(shown), key));
}

/* rules[].when: each into one or two conditions (values, notValues) of @p out. */
static int
when(struct ist *st, struct hf_authz *az, const struct yn *r, const char *path, uint16_t *n_out,
     const struct hf_authz_cond **out)
{
	const struct yn *seq = NULL, *vals, *nots;
	struct hf_authz_cond *c;
	char p[IST_PATH], q[IST_PATH], s[IST_PATH];
	const char *key = NULL;
	unsigned int n = 0;
	int rc = ist_get_seq(st, r, path, "when", false, &seq);

	*n_out = 0;
	*out = NULL;
	if (rc <= 0 || seq->n == 0)
		return rc;
	ist_path(p, path, "when");
	if (seq->n > MAX_ITEMS)
		return ist_fail(st, seq, p, "%u conditions, at most %u", seq->n, MAX_ITEMS);
	c = hf_authz_alloc(az, sizeof(*c) * 2 * seq->n);
	if (c == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < seq->n; i++) {
		const struct yn *w = seq->val[i];
		struct hf_authz_cond k = {0};

		vals = nots = NULL;
		ist_pathi(q, p, i);
		if ((rc = ist_want(st, w, q, YN_MAP)) < 0 ||
		    (rc = ist_keys(st, w, q, when_keys, NULL)) < 0 ||
		    (rc = ist_get_str(st, w, q, "key", true, &key)) < 0 ||
		    (rc = when_key(st, az, ist_get(w, "key"), ist_path(s, q, "key"), key, &k)) < 0 ||
		    (rc = ist_get_seq(st, w, q, "values", false, &vals)) < 0 ||
		    (rc = ist_get_seq(st, w, q, "notValues", false, &nots)) < 0)
			return rc;
		if ((vals == NULL || vals->n == 0) && (nots == NULL || nots->n == 0))
			return ist_fail(st, w, q, "condition %s needs values or notValues", key);
		for (unsigned int neg = 0; neg < 2; neg++) {
			const struct yn *v = neg ? nots : vals;

			if (v == NULL || v->n == 0)
				continue;
			c[n] = k;
			rc = values(st, az, v, ist_path(s, q, neg ? "notValues" : "values"),
				    (enum hf_authz_attr)k.attr, neg, &c[n]);
			if (rc < 0)
				return rc;
			n++;
		}
	}
	*n_out = (uint16_t)n;
	*out = c;
	return 0;
}

/* ---- policies ---- */

/* Checks AuthorizationPolicy @p r and, when it selects the node, fills @p p. 1: selected. */
static int
policy(struct ist *st, struct hf_authz *az, const struct ist_res *r, struct hf_authz_policy *p)
{
	static const char *const actions[] = {"ALLOW", "DENY", "AUDIT", "CUSTOM", NULL};
	const struct yn *spec = r->spec, *sel = NULL, *labels = NULL, *rules = NULL, *prov;
	struct hf_authz_rule *ru;
	char q[IST_PATH];
	int action = HF_AUTHZ_ALLOW, rc;
	const char *root = ist_root_ns(st);
	const char *own = ist_node_ns(st);

	ist_set_cur(st, r);
	if (own == NULL)
		return ist_oom(st);
	if ((rc = ist_keys(st, spec, "spec", spec_keys, NULL)) < 0)
		return rc;
	if (ist_get(spec, "targetRef") != NULL || ist_get(spec, "targetRefs") != NULL) {
		const char *k = ist_get(spec, "targetRef") != NULL ? "targetRef" : "targetRefs";

		return ist_fail(st, ist_key(spec, k), ist_path(q, "spec", k), "%s names Kubernetes "
				"Gateway API resources (gateway.networking.k8s.io), which this node "
				"is not: select it with selector.matchLabels", k);
	}
	if ((rc = ist_get_enum(st, spec, "spec", "action", actions, "ALLOW, DENY, AUDIT, CUSTOM",
			       &action)) < 0)
		return rc;
	prov = ist_get(spec, "provider");
	if (action == 3) {
		const char *name = NULL;

		if (prov != NULL && prov->type == YN_MAP)
			ist_get_str(st, prov, "spec.provider", "name", false, &name);
		return ist_fail(st, ist_get(spec, "action"), "spec.action", "CUSTOM (an external "
				"authorizer%s%s%s) is not supported: ALLOW, DENY and AUDIT are",
				name != NULL ? ", provider '" : "", name != NULL ? name : "",
				name != NULL ? "'" : "");
	}
	if (prov != NULL)
		return ist_fail(st, ist_key(spec, "provider"), "spec.provider", "only the CUSTOM "
				"action takes a provider");
	if ((rc = ist_get_map(st, spec, "spec", "selector", false, &sel)) < 0)
		return rc;
	if (sel != NULL &&
	    ((rc = ist_keys(st, sel, "spec.selector", sel_keys, NULL)) < 0 ||
	     (rc = ist_get_strmap(st, sel, "spec.selector", "matchLabels", &labels)) < 0))
		return rc;
	if ((rc = ist_get_seq(st, spec, "spec", "rules", false, &rules)) < 0)
		return rc;
	if (rules != NULL && rules->n > MAX_ITEMS)
		return ist_fail(st, rules, "spec.rules", "%u rules, at most %u", rules->n,
				MAX_ITEMS);
	p->ns = hf_authz_strdup(az, r->ns);
	p->name = hf_authz_strdup(az, r->name);
	ru = hf_authz_alloc(az, sizeof(*ru) * (rules != NULL && rules->n > 0 ? rules->n : 1));
	if (p->ns == NULL || p->name == NULL || ru == NULL)
		return ist_oom(st);
	p->action = (uint8_t)action;
	p->rules = ru;
	for (unsigned int i = 0; rules != NULL && i < rules->n; i++) {
		const struct yn *x = rules->val[i];

		ist_pathi(q, "spec.rules", i);
		if ((rc = ist_want(st, x, q, YN_MAP)) < 0 ||
		    (rc = ist_keys(st, x, q, rule_keys, NULL)) < 0 ||
		    (rc = clauses(st, az, x, q, "from", true, &ru[i].n_from, &ru[i].from)) < 0 ||
		    (rc = clauses(st, az, x, q, "to", false, &ru[i].n_to, &ru[i].to)) < 0 ||
		    (rc = when(st, az, x, q, &ru[i].n_when, &ru[i].when)) < 0)
			return rc;
		p->n_rules++;
	}
	if (strcmp(r->ns, root) != 0 && strcmp(r->ns, own) != 0)
		return 0;
	return ist_node_has_labels(st, labels) ? 1 : 0;
}

int
ist_authz(struct ist *st)
{
	struct hf_authz_policy *all = NULL;
	struct hf_authz *az;
	unsigned int n = 0, k[3] = {0};
	struct hf_authz_policy *by[3];
	int rc = 0;

	for (unsigned int i = 0; i < st->n_res; i++)
		n += st->res[i].kind == IST_AP;
	if (n == 0)
		return 0;
	az = hf_authz_new();
	all = calloc(n, sizeof(*all));
	if (az == NULL || all == NULL) {
		free(all);
		hf_authz_free(az);
		return ist_oom(st);
	}
	n = 0;
	for (unsigned int i = 0; i < st->n_res && rc >= 0; i++) {
		if (st->res[i].kind != IST_AP)
			continue;
		memset(&all[n], 0, sizeof(all[n]));
		rc = policy(st, az, &st->res[i], &all[n]);
		if (rc == 1)
			n++;
	}
	if (rc < 0) {
		free(all);
		hf_authz_free(az);
		return rc;
	}
	/* no policy selects the node: no check at all, as without policies */
	if (n == 0) {
		free(all);
		hf_authz_free(az);
		return 0;
	}
	if (n > UINT16_MAX) {
		free(all);
		hf_authz_free(az);
		snprintf(st->err, st->errlen, "%s: %u AuthorizationPolicies select this node, at "
			 "most %u", st->path, n, UINT16_MAX);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < n; i++)
		k[all[i].action]++;
	for (unsigned int a = 0; a < 3; a++) {
		by[a] = hf_authz_alloc(az, sizeof(*by[a]) * (k[a] > 0 ? k[a] : 1));
		if (by[a] == NULL) {
			free(all);
			hf_authz_free(az);
			return ist_oom(st);
		}
		k[a] = 0;
	}
	for (unsigned int i = 0; i < n; i++)
		by[all[i].action][k[all[i].action]++] = all[i];
	free(all);
	az->xff_trusted_hops = st->xff_trusted_hops;
	az->allow = by[HF_AUTHZ_ALLOW];
	az->n_allow = (uint16_t)k[HF_AUTHZ_ALLOW];
	az->deny = by[HF_AUTHZ_DENY];
	az->n_deny = (uint16_t)k[HF_AUTHZ_DENY];
	az->audit = by[HF_AUTHZ_AUDIT];
	az->n_audit = (uint16_t)k[HF_AUTHZ_AUDIT];
	hf_authz_free(st->m.authz);
	st->m.authz = az;
	return 0;
}
