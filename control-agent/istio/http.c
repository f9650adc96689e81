/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VirtualService http routes into model routes, field by field as Pilot
 * translates them for a gateway. Every field of Istio's HTTPRoute is either
 * translated or refused by name ("not supported yet"); none is dropped.
 *
 * The same code checks and translates: a VirtualService is first translated
 * with no binding (every match block kept, the result thrown away) so that
 * its mistakes are reported whether or not a gateway uses it, then once per
 * listener and host it binds to.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <hs/hs.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "control-agent/istio/istio-int.h"

static const char *const route_keys[] = {
	"name", "match", "route", "redirect", "directResponse", "rewrite", "timeout", "retries",
	"fault", "mirror", "mirrorPercentage", "corsPolicy", "headers", NULL,
};
static const char *const route_later[] = {"delegate", "mirrors", "mirrorPercent", "mirror_percent",
					  NULL};
static const char *const match_keys[] = {
	"name", "uri", "scheme", "method", "authority", "headers", "queryParams", "withoutHeaders",
	"port", "ignoreUriCase", "gateways", NULL,
};
static const char *const match_later[] = {"sourceLabels", "sourceNamespace", "statPrefix", NULL};
static const char *const sm_keys[] = {"exact", "prefix", "regex", NULL};
static const char *const rd_keys[] = {"destination", "weight", "headers", NULL};
static const char *const l4d_keys[] = {"destination", "weight", NULL};
static const char *const hdr_keys[] = {"request", "response", NULL};
static const char *const ops_keys[] = {"set", "add", "remove", NULL};
static const char *const rewrite_keys[] = {"uri", "authority", "uriRegexRewrite", NULL};
static const char *const regex_rw_keys[] = {"match", "rewrite", NULL};
static const char *const redirect_keys[] = {"uri", "authority", "port", "scheme", "redirectCode",
					    NULL};
static const char *const redirect_later[] = {"derivePort", NULL};
static const char *const direct_keys[] = {"status", "body", NULL};
static const char *const body_keys[] = {"string", NULL};
static const char *const body_later[] = {"bytes", NULL};
static const char *const retry_keys[] = {"attempts", "perTryTimeout", "retryOn", NULL};
static const char *const retry_later[] = {"retryRemoteLocalities", "retryIgnorePreviousHosts",
					  "backoff", NULL};
static const char *const fault_keys[] = {"delay", "abort", NULL};
static const char *const delay_keys[] = {"fixedDelay", "percentage", "percent", NULL};
static const char *const delay_later[] = {"exponentialDelay", NULL};
static const char *const abort_keys[] = {"httpStatus", "percentage", "percent", NULL};
static const char *const abort_later[] = {"grpcStatus", "http2Error", NULL};
static const char *const pct_keys[] = {"value", NULL};
static const char *const cors_keys[] = {"allowOrigin", "allowOrigins", "allowMethods",
					"allowHeaders", "exposeHeaders", "maxAge",
					"allowCredentials", NULL};
static const char *const cors_later[] = {"unmatchedPreflights", NULL};

static char *
lower_dup(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/*
 * A regex must compile as the route matcher will compile it (Hyperscan, the
 * whole value): refused here, where the file, line and field are known.
 */
static int
check_regex(struct ist *st, const struct yn *v, const char *path, const char *re)
{
	hs_compile_error_t *ce = NULL;
	hs_expr_info_t *info = NULL;
	int rc = 0;

	if (ist_cache_regex_known(st, re))
		return 0;
	/* hs_expression_info parses without compiling (tens of µs, not a millisecond). */
	if (hs_expression_info(re, HS_FLAG_ALLOWEMPTY, &info, &ce) != HS_SUCCESS)
		rc = ist_fail(st, v, path, "regex '%s' is refused: %s", re,
			      ce != NULL ? ce->message : "cannot be compiled");
	else
		ist_cache_regex_add(st, re);
	hs_free_compile_error(ce);
	free(info);
	return rc;
}

/* A StringMatch; `{}` is a presence test where @p presence allows it (headers, queryParams). */
static int
str_match(struct ist *st, const struct yn *v, const char *path, bool presence,
	  struct hf_model_str_match *m)
{
	static const enum hf_match_kind kinds[] = {HF_MATCH_EXACT, HF_MATCH_PREFIX, HF_MATCH_REGEX};
	unsigned int n = 0;
	int rc;

	if ((rc = ist_want(st, v, path, YN_MAP)) < 0 ||
	    (rc = ist_keys(st, v, path, sm_keys, NULL)) < 0)
		return rc;
	for (unsigned int i = 0; i < 3; i++) {
		const char *s;

		rc = ist_get_str(st, v, path, sm_keys[i], false, &s);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		if (n++ > 0)
			return ist_fail(st, v, path, "only one of exact, prefix, regex may be set");
		m->kind = kinds[i];
		if (m->kind == HF_MATCH_REGEX && (rc = check_regex(st, v, path, s)) < 0)
			return rc;
		m->value = strdup(s);
		if (m->value == NULL)
			return ist_oom(st);
	}
	if (n == 0 && !presence)
		return ist_fail(st, v, path, "needs one of exact, prefix, regex");
	if (n == 0)
		m->kind = HF_MATCH_PRESENT;
	return 0;
}

/* headers, withoutHeaders, queryParams: name -> StringMatch, appended to *@p kv. */
static int
kv_matches(struct ist *st, const struct yn *map, const char *path, const char *key, bool lower,
	   bool absent, unsigned int *n, struct hf_model_kv_match **kv)
{
	const struct yn *v = NULL;
	char p[IST_PATH], q[IST_PATH];
	int rc = ist_get_map(st, map, path, key, false, &v);
	struct hf_model_kv_match *grown;

	if (rc <= 0)
		return rc;
	ist_path(p, path, key);
	grown = realloc(*kv, sizeof(**kv) * (*n + v->n + 1));
	if (grown == NULL)
		return ist_oom(st);
	*kv = grown;
	for (unsigned int i = 0; i < v->n; i++) {
		struct hf_model_kv_match *k = &(*kv)[(*n)++];

		memset(k, 0, sizeof(*k));
		k->absent = absent;
		k->name = lower ? lower_dup(v->key[i]->s) : strdup(v->key[i]->s);
		if (k->name == NULL)
			return ist_oom(st);
		if (k->name[0] == '\0')
			return ist_fail(st, v->key[i], p, "an empty name");
		if ((rc = str_match(st, v->val[i], ist_path(q, p, v->key[i]->s), true, &k->m)) < 0)
			return rc;
	}
	return 0;
}

bool
ist_match_gateways(struct ist *st, const struct ist_res *vs, const struct yn *gws,
		   const struct ist_bind *b)
{
	(void)st;
	for (unsigned int i = 0; gws != NULL && i < gws->n; i++) {
		const char *g = gws->val[i]->s, *slash = strchr(g, '/');
		const char *ns = vs->ns, *name = g;
		size_t nsl = strlen(vs->ns);

		if (slash != NULL) {
			ns = g;
			nsl = (size_t)(slash - g);
			name = slash + 1;
		}
		for (unsigned int k = 0; k < b->n_gws; k++)
			if (strlen(b->gws[k]->ns) == nsl && strncmp(b->gws[k]->ns, ns, nsl) == 0 &&
			    strcmp(b->gws[k]->name, name) == 0)
				return true;
	}
	return false;
}

bool
ist_block_applies(struct ist *st, const struct ist_res *vs, const struct yn *m,
		  const struct ist_bind *b)
{
	const struct yn *gws = ist_get(m, "gateways"), *port = ist_get(m, "port");

	if (b->port == 0)
		return true;
	if (gws != NULL && gws->n > 0 && !ist_match_gateways(st, vs, gws, b))
		return false;
	return port == NULL || strtoul(port->s, NULL, 10) == b->port;
}

static int
match_block(struct ist *st, const struct yn *m, const char *path, struct hf_model_route_match *rm)
{
	static const char *const fields[] = {"uri", "scheme", "method", "authority"};
	struct hf_model_str_match *dst[] = {&rm->uri, &rm->scheme, &rm->method, &rm->authority};
	const struct yn *gws;
	const char *name = NULL;
	char p[IST_PATH];
	bool icase = false;
	int rc;

	if ((rc = ist_want(st, m, path, YN_MAP)) < 0 ||
	    (rc = ist_keys(st, m, path, match_keys, match_later)) < 0 ||
	    (rc = ist_get_str(st, m, path, "name", false, &name)) < 0 ||
	    (rc = ist_get_u32(st, m, path, "port", false, 1, 65535, &rm->port)) < 0 ||
	    (rc = ist_get_bool(st, m, path, "ignoreUriCase", &icase)) < 0 ||
	    (rc = ist_get_strs(st, m, path, "gateways", false, &gws)) < 0)
		return rc;
	if (name != NULL && (rm->name = strdup(name)) == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < 4; i++) {
		const struct yn *v = ist_get(m, fields[i]);

		if (v != NULL && (rc = str_match(st, v, ist_path(p, path, fields[i]), false,
						 dst[i])) < 0)
			return rc;
	}
	rm->uri.ignore_case = icase;
	if ((rc = kv_matches(st, m, path, "headers", true, false, &rm->n_headers,
			     &rm->headers)) < 0 ||
	    (rc = kv_matches(st, m, path, "withoutHeaders", true, true, &rm->n_headers,
			     &rm->headers)) < 0 ||
	    (rc = kv_matches(st, m, path, "queryParams", false, false, &rm->n_query,
			     &rm->query)) < 0)
		return rc;
	return 0;
}

/*
 * Fields a header operation may not touch: the framing fields (a changed
 * Content-Length or Transfer-Encoding would have the next hop read another
 * body than the one sent: request smuggling, RFC 9112 section 6.3) and the
 * hop-by-hop fields the proxy itself writes or removes (RFC 9110 section 7.6.1).
 */
static const char *const proxy_fields[] = {"content-length", "transfer-encoding", "connection",
					   "keep-alive", "proxy-connection", "te", "trailer",
					   "upgrade", NULL};

static int
op_name(struct ist *st, const struct yn *at, const char *path, const char *name)
{
	int rc = ist_check_token(st, at, path, "header name", name);

	if (rc < 0)
		return rc;
	for (unsigned int i = 0; proxy_fields[i] != NULL; i++)
		if (strcasecmp(name, proxy_fields[i]) == 0)
			return ist_fail(st, at, path, "'%s' is %s field the proxy manages: header "
					"operations may not change it", name,
					i < 2 ? "a framing" : "a hop-by-hop");
	/*
	 * Host is the authority the request was routed by and is sent once
	 * (RFC 9112 3.2): an operation would add a second one or make it say
	 * something else than routing saw. Envoy refuses it too (":-prefixed
	 * or host headers may not be modified"); rewrite.authority changes it.
	 */
	if (strcasecmp(name, "host") == 0)
		return ist_fail(st, at, path, "'%s' may not be changed by header operations: "
				"rewrite.authority sets the authority sent upstream", name);
	return 0;
}

static int
ops_of(struct ist *st, const struct yn *ops, const char *path, unsigned int *n,
       struct hf_model_header_op **out)
{
	static const char *const kinds[] = {"set", "add", "remove"};
	const struct yn *set = NULL, *add = NULL, *rm = NULL;
	char p[IST_PATH], q[IST_PATH];
	unsigned int total;
	int rc;

	if ((rc = ist_keys(st, ops, path, ops_keys, NULL)) < 0 ||
	    (rc = ist_get_strmap(st, ops, path, "set", &set)) < 0 ||
	    (rc = ist_get_strmap(st, ops, path, "add", &add)) < 0 ||
	    (rc = ist_get_strs(st, ops, path, "remove", false, &rm)) < 0)
		return rc;
	total = (set ? set->n : 0) + (add ? add->n : 0) + (rm ? rm->n : 0);
	*out = calloc(total + 1, sizeof(**out));
	if (*out == NULL)
		return ist_oom(st);
	for (unsigned int k = 0; k < 3; k++) {
		const struct yn *l = k == 0 ? set : k == 1 ? add : rm;

		ist_path(p, path, kinds[k]);
		for (unsigned int i = 0; l != NULL && i < l->n; i++) {
			struct hf_model_header_op *op = &(*out)[(*n)++];
			const struct yn *name = k == 2 ? l->val[i] : l->key[i];

			if (k == 2)
				ist_pathi(q, p, i);
			else
				ist_path(q, p, name->s);
			if ((rc = op_name(st, name, q, name->s)) < 0 ||
			    (k < 2 && (rc = ist_check_field_value(st, l->val[i], q,
								  l->val[i]->s)) < 0))
				return rc;
			op->op = k == 0 ? HF_HDR_SET : k == 1 ? HF_HDR_ADD : HF_HDR_REMOVE;
			op->name = lower_dup(name->s);
			if (op->name == NULL ||
			    (k < 2 && (op->value = strdup(l->val[i]->s)) == NULL))
				return ist_oom(st);
		}
	}
	return 0;
}

int
ist_header_ops(struct ist *st, const struct yn *map, const char *path, const char *key,
	       unsigned int *n_rq, struct hf_model_header_op **rq, unsigned int *n_rs,
	       struct hf_model_header_op **rs)
{
	const struct yn *h = NULL, *rqm = NULL, *rsm = NULL;
	char p[IST_PATH], q[IST_PATH];
	int rc = ist_get_map(st, map, path, key, false, &h);

	if (rc <= 0)
		return rc;
	ist_path(p, path, key);
	if ((rc = ist_keys(st, h, p, hdr_keys, NULL)) < 0 ||
	    (rc = ist_get_map(st, h, p, "request", false, &rqm)) < 0 ||
	    (rc = ist_get_map(st, h, p, "response", false, &rsm)) < 0)
		return rc;
	if (rqm != NULL && (rc = ops_of(st, rqm, ist_path(q, p, "request"), n_rq, rq)) < 0)
		return rc;
	if (rsm != NULL && (rc = ops_of(st, rsm, ist_path(q, p, "response"), n_rs, rs)) < 0)
		return rc;
	return 0;
}

int
ist_destinations(struct ist *st, const struct ist_res *vs, const struct yn *seq, const char *path,
		 bool http, unsigned int *n, struct hf_model_weighted **out)
{
	char p[IST_PATH], q[IST_PATH];
	uint32_t sum = 0;
	int rc;

	if ((rc = ist_want(st, seq, path, YN_SEQ)) < 0)
		return rc;
	if (seq->n == 0)
		return ist_fail(st, seq, path, "needs at least one destination");
	*out = calloc(seq->n, sizeof(**out));
	if (*out == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < seq->n; i++) {
		const struct yn *d = seq->val[i], *dest;
		struct hf_model_weighted *w = &(*out)[(*n)++];

		ist_pathi(p, path, i);
		if ((rc = ist_want(st, d, p, YN_MAP)) < 0 ||
		    (rc = ist_keys(st, d, p, http ? rd_keys : l4d_keys, NULL)) < 0 ||
		    (rc = ist_get_map(st, d, p, "destination", true, &dest)) < 0 ||
		    (rc = ist_destination(st, vs, dest, ist_path(q, p, "destination"),
					  &w->cluster)) < 0)
			return rc;
		rc = ist_get_u32(st, d, p, "weight", false, 0, 100, &w->weight);
		if (rc < 0)
			return rc;
		/* a lone destination without a weight takes everything */
		if (rc == 0 && seq->n == 1)
			w->weight = 100;
		sum += w->weight;
		if (http && (rc = ist_header_ops(st, d, p, "headers", &w->n_rq_ops, &w->rq_ops,
						 &w->n_rs_ops, &w->rs_ops)) < 0)
			return rc;
	}
	if (sum != 100)
		return ist_fail(st, seq, path, "weights sum to %u, not 100", sum);
	return 0;
}

static int
percentage(struct ist *st, const struct yn *map, const char *path, double *out)
{
	const struct yn *pc = NULL;
	char p[IST_PATH];
	int rc = ist_get_map(st, map, path, "percentage", false, &pc);

	if (rc <= 0)
		return rc;
	ist_path(p, path, "percentage");
	if ((rc = ist_keys(st, pc, p, pct_keys, NULL)) < 0 ||
	    (rc = ist_get_percent(st, pc, p, "value", out)) < 0)
		return rc;
	return 1;
}

static int
fault(struct ist *st, const struct yn *f, const char *path, struct hf_model_route *r)
{
	const struct yn *delay = NULL, *abort_ = NULL;
	char p[IST_PATH];
	uint32_t pct, status = 0;
	int rc;

	if ((rc = ist_keys(st, f, path, fault_keys, NULL)) < 0 ||
	    (rc = ist_get_map(st, f, path, "delay", false, &delay)) < 0 ||
	    (rc = ist_get_map(st, f, path, "abort", false, &abort_)) < 0)
		return rc;
	if (delay == NULL && abort_ == NULL)
		return ist_fail(st, f, path, "needs delay or abort");
	/* no percentage: no request is touched (Istio's documented default) */
	if (delay != NULL) {
		ist_path(p, path, "delay");
		if ((rc = ist_keys(st, delay, p, delay_keys, delay_later)) < 0 ||
		    (rc = ist_get_u32(st, delay, p, "percent", false, 0, 100, &pct)) < 0)
			return rc;
		if (rc > 0)
			r->fault.delay_percent = pct;
		if ((rc = percentage(st, delay, p, &r->fault.delay_percent)) < 0 ||
		    (rc = ist_get_ms(st, delay, p, "fixedDelay", &r->fault.delay_ms)) < 0)
			return rc;
		if (rc == 0) {
			char q[IST_PATH];

			return ist_fail(st, delay, ist_path(q, p, "fixedDelay"), "required field "
					"is missing");
		}
	}
	if (abort_ != NULL) {
		ist_path(p, path, "abort");
		if ((rc = ist_keys(st, abort_, p, abort_keys, abort_later)) < 0 ||
		    (rc = ist_get_u32(st, abort_, p, "percent", false, 0, 100, &pct)) < 0)
			return rc;
		if (rc > 0)
			r->fault.abort_percent = pct;
		if ((rc = percentage(st, abort_, p, &r->fault.abort_percent)) < 0 ||
		    (rc = ist_get_u32(st, abort_, p, "httpStatus", true, 200, 599, &status)) < 0)
			return rc;
		r->fault.abort_status = (uint16_t)status;
	}
	return 0;
}

/* retryOn: Envoy's retry_on names Istio passes through, and status codes. */
static int
retry_on(struct ist *st, const struct yn *v, const char *path, struct hf_model_route *r)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} names[] = {
		{"5xx", HF_RETRY_5XX},
		{"gateway-error", HF_RETRY_GATEWAY_ERROR},
		{"connect-failure", HF_RETRY_CONNECT_FAILURE},
		{"reset", HF_RETRY_RESET},
		{"retriable-4xx", HF_RETRY_RETRIABLE_4XX},
		{"refused-stream", HF_RETRY_REFUSED_STREAM},
		{"retriable-status-codes", HF_RETRY_RETRIABLE_CODES},
	};
	const char *s = v->s;
	size_t cap = 0;

	r->retry.on = 0;
	free(r->retry.codes);
	r->retry.codes = NULL;
	r->retry.n_codes = 0;
	for (const char *c = s; *c != '\0'; c++)
		cap += *c == ',';
	r->retry.codes = calloc(cap + 1, sizeof(*r->retry.codes));
	if (r->retry.codes == NULL)
		return ist_oom(st);
	while (*s != '\0') {
		char tok[64];
		size_t n = strcspn(s, ",");
		unsigned int k;
		char *end;
		unsigned long code;

		while (n > 0 && isspace((unsigned char)*s)) {
			s++;
			n--;
		}
		snprintf(tok, sizeof(tok), "%.*s", (int)n, s);
		for (size_t l = strlen(tok); l > 0 && isspace((unsigned char)tok[l - 1]); l--)
			tok[l - 1] = '\0';
		s += n + (s[n] == ',');
		if (tok[0] == '\0')
			continue;
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strcmp(tok, names[k].name) == 0)
				break;
		if (k < sizeof(names) / sizeof(names[0])) {
			r->retry.on |= names[k].flag;
			continue;
		}
		code = strtoul(tok, &end, 10);
		if (*end == '\0' && isdigit((unsigned char)tok[0])) {
			if (code < 100 || code > 599)
				return ist_fail(st, v, path, "%lu is not an HTTP status code",
						code);
			r->retry.codes[r->retry.n_codes++] = (uint16_t)code;
			r->retry.on |= HF_RETRY_RETRIABLE_CODES;
			continue;
		}
		return ist_fail(st, v, path, "'%s' is not supported yet (5xx, gateway-error, "
				"connect-failure, reset, retriable-4xx, refused-stream, "
				"retriable-status-codes and status codes are)", tok);
	}
	return 0;
}

/* Istio's retry policy for a route that says nothing: 2 retries on connect failure and 503. */
static int
default_retries(struct ist *st, struct hf_model_route *r)
{
	r->retry.attempts = 2;
	r->retry.on = HF_RETRY_CONNECT_FAILURE | HF_RETRY_REFUSED_STREAM | HF_RETRY_RETRIABLE_CODES;
	free(r->retry.codes);
	r->retry.codes = malloc(sizeof(*r->retry.codes));
	if (r->retry.codes == NULL)
		return ist_oom(st);
	r->retry.codes[0] = 503;
	r->retry.n_codes = 1;
	return 0;
}

static int
retries(struct ist *st, const struct yn *rt, const char *path, struct hf_model_route *r)
{
	const struct yn *on;
	char p[IST_PATH];
	int rc;

	/* a retries block replaces Istio's default policy whole */
	r->retry.attempts = 0;
	r->retry.on = 0;
	r->retry.n_codes = 0;
	free(r->retry.codes);
	r->retry.codes = NULL;
	if ((rc = ist_keys(st, rt, path, retry_keys, retry_later)) < 0 ||
	    (rc = ist_get_u32(st, rt, path, "attempts", false, 0, INT32_MAX,
			      &r->retry.attempts)) < 0 ||
	    (rc = ist_get_ms(st, rt, path, "perTryTimeout", &r->retry.per_try_timeout_ms)) < 0)
		return rc;
	on = ist_get(rt, "retryOn");
	if (on != NULL) {
		ist_path(p, path, "retryOn");
		if ((rc = ist_want(st, on, p, YN_STR)) < 0 || (rc = retry_on(st, on, p, r)) < 0)
			return rc;
	} else if (r->retry.attempts > 0) {
		uint32_t attempts = r->retry.attempts;

		if ((rc = default_retries(st, r)) < 0)
			return rc;
		r->retry.attempts = attempts;
	}
	return 0;
}

/* A list of tokens (methods, header names) joined with ',' as the CORS answer sends it. */
static int
join(struct ist *st, const struct yn *map, const char *path, const char *key, const char *what,
     char **out)
{
	const struct yn *l = NULL;
	char p[IST_PATH], q[IST_PATH];
	size_t len = 0;
	int rc = ist_get_strs(st, map, path, key, false, &l);

	if (rc <= 0)
		return rc;
	ist_path(p, path, key);
	for (unsigned int i = 0; i < l->n; i++) {
		if ((rc = ist_check_token(st, l->val[i], ist_pathi(q, p, i), what,
					  l->val[i]->s)) < 0)
			return rc;
		len += strlen(l->val[i]->s) + 1;
	}
	*out = calloc(len + 1, 1);
	if (*out == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < l->n; i++) {
		if (i > 0)
			strcat(*out, ",");
		strcat(*out, l->val[i]->s);
	}
	return 0;
}

static int
cors(struct ist *st, const struct yn *c, const char *path, struct hf_model_cors *o)
{
	const struct yn *origins = NULL, *origin = NULL;
	char p[IST_PATH], q[IST_PATH], r[IST_PATH];
	uint32_t ms = 0;
	int rc;

	o->enabled = true;
	if ((rc = ist_keys(st, c, path, cors_keys, cors_later)) < 0 ||
	    (rc = ist_get_seq(st, c, path, "allowOrigins", false, &origins)) < 0 ||
	    (rc = ist_get_strs(st, c, path, "allowOrigin", false, &origin)) < 0 ||
	    (rc = join(st, c, path, "allowMethods", "method", &o->allow_methods)) < 0 ||
	    (rc = join(st, c, path, "allowHeaders", "header name", &o->allow_headers)) < 0 ||
	    (rc = join(st, c, path, "exposeHeaders", "header name", &o->expose_headers)) < 0 ||
	    (rc = ist_get_ms(st, c, path, "maxAge", &ms)) < 0 ||
	    (rc = ist_get_bool(st, c, path, "allowCredentials", &o->allow_credentials)) < 0)
		return rc;
	o->max_age_s = ms / 1000;
	o->origins = calloc((origins ? origins->n : 0) + (origin ? origin->n : 0) + 1,
			    sizeof(*o->origins));
	if (o->origins == NULL)
		return ist_oom(st);
	ist_path(p, path, "allowOrigins");
	for (unsigned int i = 0; origins != NULL && i < origins->n; i++) {
		struct hf_model_str_match *m = &o->origins[o->n_origins++];
		const struct yn *v = origins->val[i];

		ist_pathi(q, p, i);
		if ((rc = str_match(st, v, q, false, m)) < 0)
			return rc;
		/* the data plane compares origins as strings; a regex would never match */
		if (m->kind == HF_MATCH_REGEX)
			return ist_fail(st, ist_get(v, "regex"), ist_path(r, q, "regex"),
					"not supported yet (exact and prefix are)");
		if ((rc = ist_check_field_value(st, v, q, m->value)) < 0)
			return rc;
	}
	/* the deprecated allowOrigin: exact strings */
	ist_path(p, path, "allowOrigin");
	for (unsigned int i = 0; origin != NULL && i < origin->n; i++) {
		struct hf_model_str_match *m = &o->origins[o->n_origins++];

		m->kind = HF_MATCH_EXACT;
		if ((rc = ist_check_field_value(st, origin->val[i], ist_pathi(q, p, i),
						origin->val[i]->s)) < 0)
			return rc;
		if ((m->value = strdup(origin->val[i]->s)) == NULL)
			return ist_oom(st);
	}
	return 0;
}

static int
dup_opt(struct ist *st, const struct yn *map, const char *path, const char *key, char **out)
{
	const char *s;
	int rc = ist_get_str(st, map, path, key, false, &s);

	if (rc <= 0)
		return rc;
	*out = strdup(s);
	return *out == NULL ? ist_oom(st) : 1;
}

static int
rewrite(struct ist *st, const struct yn *rw, const char *path, struct hf_model_route *r)
{
	const struct yn *rx = NULL;
	const char *s;
	char p[IST_PATH], q[IST_PATH];
	bool port;
	int rc;

	if ((rc = ist_keys(st, rw, path, rewrite_keys, NULL)) < 0 ||
	    (rc = dup_opt(st, rw, path, "uri", &r->rewrite_uri)) < 0 ||
	    (rc > 0 && (rc = ist_check_path(st, ist_get(rw, "uri"), ist_path(q, path, "uri"),
					    r->rewrite_uri, true, false)) < 0) ||
	    (rc = dup_opt(st, rw, path, "authority", &r->rewrite_authority)) < 0 ||
	    (rc > 0 && (rc = ist_check_authority(st, ist_get(rw, "authority"),
						 ist_path(q, path, "authority"),
						 r->rewrite_authority, &port)) < 0) ||
	    (rc = ist_get_map(st, rw, path, "uriRegexRewrite", false, &rx)) < 0)
		return rc;
	if (rx == NULL)
		return 0;
	ist_path(p, path, "uriRegexRewrite");
	if (r->rewrite_uri != NULL)
		return ist_fail(st, rx, p, "cannot be set together with uri");
	if ((rc = ist_keys(st, rx, p, regex_rw_keys, NULL)) < 0 ||
	    (rc = ist_get_str(st, rx, p, "match", true, &s)) < 0 ||
	    (rc = ist_get_str(st, rx, p, "rewrite", false, &s)) < 0 ||
	    (rc == 0 && (rc = ist_fail(st, rx, ist_path(q, p, "rewrite"), "required field is "
				       "missing")) < 0) ||
	    (rc = dup_opt(st, rx, p, "match", &r->rewrite_regex)) < 0 ||
	    (rc = dup_opt(st, rx, p, "rewrite", &r->rewrite_regex_sub)) < 0 ||
	    (rc = ist_check_path(st, ist_get(rx, "rewrite"), ist_path(q, p, "rewrite"),
				 r->rewrite_regex_sub, false, false)) < 0)
		return rc;
	/* Compiled here once to refuse it with its line; the snapshot compiles it again. */
	{
		int ec;
		PCRE2_SIZE eo;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)r->rewrite_regex, PCRE2_ZERO_TERMINATED, 0,
					       &ec, &eo, NULL);
		PCRE2_UCHAR msg[160];

		if (re == NULL) {
			pcre2_get_error_message(ec, msg, sizeof(msg));
			return ist_fail(st, rx, ist_path(q, p, "match"), "regex '%s' is refused: %s at %zu",
					r->rewrite_regex, (const char *)msg, (size_t)eo);
		}
		pcre2_code_free(re);
	}
	return 0;
}

static int
redirect(struct ist *st, const struct yn *rd, const char *path, struct hf_model_route *r)
{
	char p[IST_PATH];
	uint32_t code = 301;
	bool has_port = false;
	int rc;

	r->action = HF_ACTION_REDIRECT;
	if ((rc = ist_keys(st, rd, path, redirect_keys, redirect_later)) < 0 ||
	    (rc = dup_opt(st, rd, path, "uri", &r->redirect_uri)) < 0 ||
	    (rc > 0 && (rc = ist_check_path(st, ist_get(rd, "uri"), ist_path(p, path, "uri"),
					    r->redirect_uri, true, true)) < 0) ||
	    (rc = dup_opt(st, rd, path, "authority", &r->redirect_authority)) < 0 ||
	    (rc > 0 && (rc = ist_check_authority(st, ist_get(rd, "authority"),
						 ist_path(p, path, "authority"),
						 r->redirect_authority, &has_port)) < 0) ||
	    (rc = dup_opt(st, rd, path, "scheme", &r->redirect_scheme)) < 0 ||
	    (rc = ist_get_u32(st, rd, path, "port", false, 1, 65535, &r->redirect_port)) < 0 ||
	    (rc = ist_get_u32(st, rd, path, "redirectCode", false, 0, 999, &code)) < 0)
		return rc;
	/* the Location's scheme: http or https (RFC 9110 section 4.2), case-insensitive */
	if (r->redirect_scheme != NULL && strcasecmp(r->redirect_scheme, "http") != 0 &&
	    strcasecmp(r->redirect_scheme, "https") != 0) {
		char shown[96];

		return ist_fail(st, ist_get(rd, "scheme"), ist_path(p, path, "scheme"), "'%s' is "
				"not http or https", ist_shown(shown, sizeof(shown),
							       r->redirect_scheme));
	}
	for (char *c = r->redirect_scheme; c != NULL && *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	if (has_port && r->redirect_port != 0)
		return ist_fail(st, ist_get(rd, "port"), ist_path(p, path, "port"), "authority "
				"'%s' has a port already", r->redirect_authority);
	if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308)
		return ist_fail(st, ist_get(rd, "redirectCode"), ist_path(p, path, "redirectCode"),
				"%u is not a redirect code (301, 302, 303, 307, 308)", code);
	r->redirect_code = (uint16_t)code;
	if (r->redirect_uri == NULL && r->redirect_authority == NULL &&
	    r->redirect_scheme == NULL && r->redirect_port == 0)
		return ist_fail(st, rd, path, "needs one of uri, authority, scheme, port");
	return 0;
}

static int
direct(struct ist *st, const struct yn *dr, const char *path, struct hf_model_route *r)
{
	const struct yn *body = NULL;
	uint32_t status;
	char p[IST_PATH];
	int rc;

	r->action = HF_ACTION_DIRECT;
	if ((rc = ist_keys(st, dr, path, direct_keys, NULL)) < 0 ||
	    (rc = ist_get_u32(st, dr, path, "status", true, 200, 599, &status)) < 0 ||
	    (rc = ist_get_map(st, dr, path, "body", false, &body)) < 0)
		return rc;
	r->direct_status = (uint16_t)status;
	if (body == NULL)
		return 0;
	ist_path(p, path, "body");
	if ((rc = ist_keys(st, body, p, body_keys, body_later)) < 0 ||
	    (rc = dup_opt(st, body, p, "string", &r->direct_body)) < 0)
		return rc;
	return 0;
}

/* Fields that only make sense when the route forwards (not with redirect or directResponse). */
static int
route_only(struct ist *st, const struct yn *h, const char *path, const char *action)
{
	static const char *const fields[] = {"rewrite", "timeout", "retries", "mirror",
					     "mirrorPercentage", NULL};
	char p[IST_PATH];

	for (unsigned int i = 0; fields[i] != NULL; i++)
		if (ist_get(h, fields[i]) != NULL)
			return ist_fail(st, ist_key(h, fields[i]), ist_path(p, path, fields[i]),
					"only applies to a route, not to a %s", action);
	return 0;
}

static int
actions(struct ist *st, const struct ist_res *vs, const struct yn *h, const char *path,
	struct hf_model_route *r)
{
	static const char *const acts[] = {"route", "redirect", "directResponse"};
	const struct yn *v = NULL, *act = NULL;
	char p[IST_PATH];
	unsigned int n = 0, which = 0;
	int rc;

	for (unsigned int i = 0; i < 3; i++)
		if (ist_get(h, acts[i]) != NULL) {
			if (n++ > 0)
				return ist_fail(st, ist_key(h, acts[i]), ist_path(p, path, acts[i]),
						"only one of route, redirect, directResponse may "
						"be set");
			act = ist_get(h, acts[i]);
			which = i;
		}
	if (n == 0)
		return ist_fail(st, h, path, "needs one of route, redirect, directResponse");
	ist_path(p, path, acts[which]);
	if (which == 0) {
		r->action = HF_ACTION_ROUTE;
		rc = ist_destinations(st, vs, act, p, true, &r->n_clusters, &r->clusters);
	} else {
		if ((rc = route_only(st, h, path, acts[which])) < 0 ||
		    (rc = ist_want(st, act, p, YN_MAP)) < 0)
			return rc;
		rc = which == 1 ? redirect(st, act, p, r) : direct(st, act, p, r);
	}
	if (rc < 0)
		return rc;
	if ((rc = ist_get_map(st, h, path, "rewrite", false, &v)) < 0 ||
	    (rc > 0 && (rc = rewrite(st, v, ist_path(p, path, "rewrite"), r)) < 0) ||
	    (rc = ist_get_ms(st, h, path, "timeout", &r->timeout_ms)) < 0)
		return rc;
	if (r->action == HF_ACTION_ROUTE && (rc = default_retries(st, r)) < 0)
		return rc;
	if ((rc = ist_get_map(st, h, path, "retries", false, &v)) < 0 ||
	    (rc > 0 && (rc = retries(st, v, ist_path(p, path, "retries"), r)) < 0))
		return rc;
	return 0;
}

static int
http_route(struct ist *st, const struct ist_res *vs, const struct yn *h, const char *path,
	   const struct ist_bind *b, struct hf_model_vhost *vh)
{
	const struct yn *match = NULL, *v = NULL;
	struct hf_model_route *r;
	char p[IST_PATH], q[IST_PATH];
	unsigned int kept = 0;
	int rc;

	if ((rc = ist_want(st, h, path, YN_MAP)) < 0 ||
	    (rc = ist_keys(st, h, path, route_keys, route_later)) < 0 ||
	    (rc = ist_get_seq(st, h, path, "match", false, &match)) < 0)
		return rc;
	for (unsigned int i = 0; match != NULL && i < match->n; i++)
		kept += ist_block_applies(st, vs, match->val[i], b);
	/* every match block is for other gateways or ports: not a route of this listener */
	if (match != NULL && match->n > 0 && kept == 0)
		return 0;
	r = ist_push(&vh->routes, &vh->n_routes, sizeof(*r));
	if (r == NULL)
		return ist_oom(st);
	if ((rc = dup_opt(st, h, path, "name", &r->name)) < 0)
		return rc;
	if (kept > 0 && (r->matches = calloc(kept, sizeof(*r->matches))) == NULL)
		return ist_oom(st);
	ist_path(p, path, "match");
	for (unsigned int i = 0; match != NULL && i < match->n; i++) {
		if (!ist_block_applies(st, vs, match->val[i], b))
			continue;
		rc = match_block(st, match->val[i], ist_pathi(q, p, i),
				 &r->matches[r->n_matches++]);
		if (rc < 0)
			return rc;
	}
	if ((rc = actions(st, vs, h, path, r)) < 0 ||
	    (rc = ist_header_ops(st, h, path, "headers", &r->n_rq_ops, &r->rq_ops, &r->n_rs_ops,
				 &r->rs_ops)) < 0 ||
	    (rc = ist_get_map(st, h, path, "fault", false, &v)) < 0 ||
	    (rc > 0 && (rc = fault(st, v, ist_path(p, path, "fault"), r)) < 0) ||
	    (rc = ist_get_map(st, h, path, "corsPolicy", false, &v)) < 0 ||
	    (rc > 0 && (rc = cors(st, v, ist_path(p, path, "corsPolicy"), &r->cors)) < 0) ||
	    (rc = ist_get_map(st, h, path, "mirror", false, &v)) < 0 ||
	    (rc > 0 && (rc = ist_destination(st, vs, v, ist_path(p, path, "mirror"),
					     &r->mirror_cluster)) < 0))
		return rc;
	if (r->mirror_cluster != NULL)
		r->mirror_percent = 100;
	if ((rc = ist_get_map(st, h, path, "mirrorPercentage", false, &v)) < 0)
		return rc;
	if (rc > 0) {
		ist_path(p, path, "mirrorPercentage");
		if (r->mirror_cluster == NULL)
			return ist_fail(st, v, p, "needs mirror");
		if ((rc = ist_keys(st, v, p, pct_keys, NULL)) < 0 ||
		    (rc = ist_get_percent(st, v, p, "value", &r->mirror_percent)) < 0)
			return rc;
	}
	return 0;
}

int
ist_http_routes(struct ist *st, const struct ist_res *vs, const struct ist_bind *b,
		struct hf_model_vhost *vh)
{
	const struct yn *http = NULL;
	char p[IST_PATH];
	int rc = ist_get_seq(st, vs->spec, "spec", "http", false, &http);

	for (unsigned int i = 0; rc >= 0 && http != NULL && i < http->n; i++)
		rc = http_route(st, vs, http->val[i], ist_pathi(p, "spec.http", i), b, vh);
	return rc < 0 ? rc : 0;
}

bool
ist_http_all_apply(struct ist *st, const struct ist_res *vs, const struct ist_bind *b)
{
	const struct yn *http = ist_get(vs->spec, "http");

	for (unsigned int i = 0; http != NULL && i < http->n; i++) {
		const struct yn *match = ist_get(http->val[i], "match");

		for (unsigned int k = 0; match != NULL && k < match->n; k++)
			if (!ist_block_applies(st, vs, match->val[k], b))
				return false;
	}
	return true;
}
