/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EnvoyFilter, for one purpose: Envoy's local rate limit as Istio's task
 * "Enabling Rate Limits using Envoy" writes it. Hydrofoil runs no arbitrary
 * Envoy patch: what is read is
 *   - applyTo HTTP_FILTER, operation INSERT_BEFORE (envoy.filters.http.router)
 *     or INSERT_FIRST, value envoy.filters.http.local_ratelimit with a
 *     LocalRateLimit typed_config (direct, or in a TypedStruct): its
 *     token_bucket, when it has one, limits every request of the matched
 *     listeners (listener.portNumber; none: every HTTP listener);
 *   - applyTo HTTP_ROUTE or VIRTUAL_HOST, operation MERGE, value
 *     typed_per_filter_config of envoy.filters.http.local_ratelimit: that
 *     route's or virtual host's own bucket (routeConfiguration.portNumber,
 *     .name, .vhost.name, .vhost.route.name / .action).
 * Anything else is refused naming the resource and the field. A patch whose
 * context is SIDECAR_INBOUND or SIDECAR_OUTBOUND is checked and, as Istio
 * does for a gateway, applies to nothing; so does a filter whose
 * workloadSelector the node's labels do not satisfy.
 *
 * Where it differs from Envoy: a route's or virtual host's typed_per_filter_config
 * takes effect without the HTTP_FILTER patch (Envoy needs the filter in the
 * chain to run it); runtime_key has no runtime to read: default_value is the
 * fraction.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control-agent/istio/istio-int.h"
#include "control-agent/ratelimit.h"

#define LRL_FILTER "envoy.filters.http.local_ratelimit"
#define LRL_TYPE "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"
#define HCM "envoy.filters.network.http_connection_manager"
#define ONLY "Hydrofoil applies no arbitrary Envoy patch, only Envoy's local rate limit"

static const char *const spec_keys[] = {"workloadSelector", "configPatches", "priority", NULL};
static const char *const patch_keys[] = {"applyTo", "match", "patch", NULL};

/* A key of @p map not in @p known: refused with @p why. */
static int
only_keys(struct ist *st, const struct yn *map, const char *path, const char *const *known,
	  const char *why)
{
	char p[IST_PATH];

	for (unsigned int i = 0; i < map->n; i++) {
		const char *k = map->key[i]->s;
		bool ok = false;

		for (unsigned int j = 0; known[j] != NULL && !ok; j++)
			ok = strcmp(known[j], k) == 0;
		if (!ok)
			return ist_fail(st, map->key[i], ist_path(p, path, k), "not applied: %s", why);
	}
	return 0;
}

static bool
node_has(const struct ist *st, const char *key, const char *value)
{
	size_t kl = strlen(key);

	for (unsigned int i = 0; i < st->n_labels; i++) {
		const char *l = st->labels[i];

		if (strncmp(l, key, kl) == 0 && l[kl] == '=' && strcmp(l + kl + 1, value) == 0)
			return true;
	}
	return false;
}

/* A FractionalPercent { runtime_key; default_value { numerator; denominator } } as ppm. */
static int
fraction(struct ist *st, const struct yn *m, const char *path, const char *key, uint32_t *ppm)
{
	static const char *const fkeys[] = {"runtime_key", "default_value", NULL};
	static const char *const dkeys[] = {"numerator", "denominator", NULL};
	static const char *const dens[] = {"HUNDRED", "TEN_THOUSAND", "MILLION", NULL};
	static const uint32_t scale[] = {10000, 100, 1};
	const struct yn *f = NULL, *d = NULL;
	const char *rk;
	char p[IST_PATH], q[IST_PATH];
	uint32_t num = 0;
	int den = 0, rc;

	*ppm = 0;	/* Envoy's default: "0% of requests for safety" */
	if ((rc = ist_get_map(st, m, path, key, false, &f)) <= 0)
		return rc;
	ist_path(p, path, key);
	if ((rc = only_keys(st, f, p, fkeys, "a RuntimeFractionalPercent has runtime_key and "
			    "default_value")) < 0 ||
	    (rc = ist_get_str(st, f, p, "runtime_key", false, &rk)) < 0 ||
	    (rc = ist_get_map(st, f, p, "default_value", true, &d)) < 0)
		return rc;
	ist_path(q, p, "default_value");
	if ((rc = only_keys(st, d, q, dkeys, "a FractionalPercent has numerator and denominator")) < 0 ||
	    (rc = ist_get_u32(st, d, q, "numerator", false, 0, UINT32_MAX, &num)) < 0 ||
	    (rc = ist_get_enum(st, d, q, "denominator", dens, "HUNDRED, TEN_THOUSAND, MILLION",
			       &den)) < 0)
		return rc;
	/* Envoy caps a numerator above its denominator at 100% */
	*ppm = (uint64_t)num * scale[den] >= 1000000 ? 1000000 : num * scale[den];
	return 0;
}

static bool
reserved_header(const char *s)
{
	static const char *const names[] = {"content-length", "transfer-encoding", "connection",
					    "keep-alive", "proxy-connection", "te", "trailer",
					    "upgrade", "host", NULL};

	for (unsigned int i = 0; names[i] != NULL; i++)
		if (strcasecmp(s, names[i]) == 0)
			return true;
	return false;
}

/* response_headers_to_add: [{ append | append_action; header { key; value } }] */
static int
headers(struct ist *st, const struct yn *m, const char *path, struct hf_model_ratelimit *rl)
{
	static const char *const okeys[] = {"append", "append_action", "header", "keep_empty_value",
					    NULL};
	static const char *const hkeys[] = {"key", "value", NULL};
	static const char *const actions[] = {"APPEND_IF_EXISTS_OR_ADD", "ADD_IF_ABSENT",
					      "OVERWRITE_IF_EXISTS_OR_ADD", NULL};
	const struct yn *seq = NULL;
	char p[IST_PATH], q[IST_PATH], r[IST_PATH];
	int rc, action;
	bool b;

	if ((rc = ist_get_seq(st, m, path, "response_headers_to_add", false, &seq)) <= 0)
		return rc;
	ist_path(p, path, "response_headers_to_add");
	if (seq->n > HF_RL_MAX_HEADERS)
		return ist_fail(st, seq, p, "at most %d headers", HF_RL_MAX_HEADERS);
	rl->headers = calloc(seq->n + 1, sizeof(*rl->headers));
	if (rl->headers == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < seq->n; i++) {
		const struct yn *o = seq->val[i], *h = NULL;
		const char *key, *value;
		struct hf_model_header_op *op = &rl->headers[rl->n_headers];

		ist_pathi(q, p, i);
		if ((rc = ist_want(st, o, q, YN_MAP)) < 0 ||
		    (rc = only_keys(st, o, q, okeys, "a HeaderValueOption has append, append_action "
				    "and header")) < 0 ||
		    (rc = ist_get_bool(st, o, q, "append", &b)) < 0 ||
		    (rc = ist_get_enum(st, o, q, "append_action", actions, "APPEND_IF_EXISTS_OR_ADD, "
				       "ADD_IF_ABSENT, OVERWRITE_IF_EXISTS_OR_ADD", &action)) < 0 ||
		    (rc = ist_get_bool(st, o, q, "keep_empty_value", &b)) < 0 ||
		    (rc = ist_get_map(st, o, q, "header", true, &h)) < 0)
			return rc;
		ist_path(r, q, "header");
		if ((rc = only_keys(st, h, r, hkeys, "a header has key and value")) < 0 ||
		    (rc = ist_get_str(st, h, r, "key", true, &key)) < 0 ||
		    (rc = ist_get_str(st, h, r, "value", false, &value)) < 0)
			return rc;
		if (rc == 0)
			value = "";
		if ((rc = ist_check_token(st, ist_get(h, "key"), ist_path(q, r, "key"), "header name",
					  key)) < 0 ||
		    (rc = ist_check_field_value(st, ist_get(h, "value"), ist_path(q, r, "value"),
						value)) < 0)
			return rc;
		if (reserved_header(key))
			return ist_fail(st, ist_get(h, "key"), ist_path(q, r, "key"), "'%s' is a "
					"framing or hop-by-hop field: a header operation may not "
					"touch it", key);
		if (strchr(value, '%') != NULL)
			return ist_fail(st, ist_get(h, "value"), ist_path(q, r, "value"), "Envoy's "
					"%%COMMAND%% substitutions are not supported: the value is "
					"sent as written");
		op->op = HF_HDR_SET;
		op->name = ist_mdup(key);
		op->value = ist_mdup(value);
		if (op->name == NULL || op->value == NULL) {
			free(op->name);
			free(op->value);
			return ist_oom(st);
		}
		for (char *c = op->name; *c != '\0'; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
		rl->n_headers++;
	}
	return 0;
}

/*
 * A LocalRateLimit @p tc (a typed_config) at @p path into *@p out (NULL when
 * it has no token_bucket, which only the filter-wide config may lack).
 */
static int
local_ratelimit(struct ist *st, const struct yn *tc, const char *path, bool per_route,
		struct hf_model_ratelimit **out)
{
	static const char *const ts_keys[] = {"@type", "type_url", "value", NULL};
	static const char *const lrl_keys[] = {"@type", "stat_prefix", "status", "token_bucket",
					       "filter_enabled", "filter_enforced",
					       "response_headers_to_add", "enable_x_ratelimit_headers",
					       "local_rate_limit_per_downstream_connection",
					       "rate_limited_as_resource_exhausted", NULL};
	static const char *const tb_keys[] = {"max_tokens", "tokens_per_fill", "fill_interval", NULL};
	static const char *const st_keys[] = {"code", NULL};
	static const char *const xh[] = {"OFF", "DRAFT_VERSION_03", NULL};
	const struct yn *body = tc, *tb = NULL, *status = NULL;
	struct hf_model_ratelimit *rl;
	char p[IST_PATH], q[IST_PATH];
	const char *type, *url, *prefix;
	uint32_t code = 429;
	bool b;
	int rc, x = 0;

	*out = NULL;
	if ((rc = ist_want(st, tc, path, YN_MAP)) < 0 ||
	    (rc = ist_get_str(st, tc, path, "@type", true, &type)) < 0)
		return rc;
	snprintf(p, sizeof(p), "%s", path);
	if (strcmp(type, "type.googleapis.com/udpa.type.v1.TypedStruct") == 0 ||
	    strcmp(type, "type.googleapis.com/xds.type.v3.TypedStruct") == 0) {
		if ((rc = only_keys(st, tc, path, ts_keys, "a TypedStruct has @type, type_url and "
				    "value")) < 0 ||
		    (rc = ist_get_str(st, tc, path, "type_url", true, &url)) < 0 ||
		    (rc = ist_get_map(st, tc, path, "value", true, &body)) < 0)
			return rc;
		if (strcmp(url, LRL_TYPE) != 0)
			return ist_fail(st, ist_get(tc, "type_url"), ist_path(q, path, "type_url"),
					"'%s' is not applied: " ONLY " (%s)", url, LRL_TYPE);
		ist_path(p, path, "value");
		if (ist_get(body, "@type") != NULL)
			return ist_fail(st, ist_get(body, "@type"), ist_path(q, p, "@type"),
					"unknown field (the type is the TypedStruct's type_url)");
	} else if (strcmp(type, LRL_TYPE) != 0) {
		return ist_fail(st, ist_get(tc, "@type"), ist_path(q, path, "@type"), "'%s' is not "
				"applied: " ONLY " (%s, or a TypedStruct of it)", type, LRL_TYPE);
	}
	if ((rc = only_keys(st, body, p, lrl_keys, "the LocalRateLimit fields Hydrofoil applies are "
			    "stat_prefix, status, token_bucket, filter_enabled, filter_enforced, "
			    "response_headers_to_add, enable_x_ratelimit_headers")) < 0 ||
	    (rc = ist_get_str(st, body, p, "stat_prefix", true, &prefix)) < 0 ||
	    (rc = ist_get_map(st, body, p, "token_bucket", false, &tb)) < 0 ||
	    (rc = ist_get_map(st, body, p, "status", false, &status)) < 0 ||
	    (rc = ist_get_enum(st, body, p, "enable_x_ratelimit_headers", xh,
			       "OFF, DRAFT_VERSION_03", &x)) < 0 ||
	    (rc = ist_get_bool(st, body, p, "rate_limited_as_resource_exhausted", &b)) < 0)
		return rc;
	b = false;
	if ((rc = ist_get_bool(st, body, p, "local_rate_limit_per_downstream_connection", &b)) < 0)
		return rc;
	if (b)
		return ist_fail(st, ist_get(body, "local_rate_limit_per_downstream_connection"),
				ist_path(q, p, "local_rate_limit_per_downstream_connection"),
				"not supported: buckets are per worker (their share of the tokens)");
	if (!hf_rl_stat_prefix_ok(prefix))
		return ist_fail(st, ist_get(body, "stat_prefix"), ist_path(q, p, "stat_prefix"),
				"'%s' is not 1 to %d of letters, digits, '_', '.', '-'", prefix,
				HF_RL_STAT_NAME - 1);
	if (status != NULL) {
		ist_path(q, p, "status");
		if ((rc = only_keys(st, status, q, st_keys, "an HttpStatus has code")) < 0 ||
		    (rc = ist_get_u32(st, status, q, "code", true, 100, 599, &code)) < 0)
			return rc;
	}
	if (tb == NULL) {
		if (per_route)
			return ist_fail(st, body, p, "token_bucket: required in a per-route or "
					"virtual host config (Envoy refuses one without)");
		return 0;
	}
	rl = calloc(1, sizeof(*rl));
	if (rl == NULL)
		return ist_oom(st);
	*out = rl;
	ist_path(q, p, "token_bucket");
	rl->tokens_per_fill = 1;	/* Envoy's default */
	if ((rc = only_keys(st, tb, q, tb_keys, "a TokenBucket has max_tokens, tokens_per_fill and "
			    "fill_interval")) < 0 ||
	    (rc = ist_get_u32(st, tb, q, "max_tokens", true, 1, UINT32_MAX, &rl->max_tokens)) < 0 ||
	    (rc = ist_get_u32(st, tb, q, "tokens_per_fill", false, 1, UINT32_MAX,
			      &rl->tokens_per_fill)) < 0 ||
	    (rc = ist_get_ms(st, tb, q, "fill_interval", &rl->fill_interval_ms)) < 0)
		return rc;
	if (rc == 0)
		return ist_fail(st, tb, ist_path(p, q, "fill_interval"), "required field is missing");
	if (rl->fill_interval_ms < HF_RL_MIN_FILL_MS || rl->fill_interval_ms > HF_RL_MAX_FILL_MS)
		return ist_fail(st, ist_get(tb, "fill_interval"), ist_path(p, q, "fill_interval"),
				"%ums is out of range [%ums, %ums] (Envoy refuses below 50ms)",
				rl->fill_interval_ms, HF_RL_MIN_FILL_MS, HF_RL_MAX_FILL_MS);
	/* p is the LocalRateLimit's own path again (the messages above borrowed it) */
	if (body == tc)
		snprintf(p, sizeof(p), "%s", path);
	else
		ist_path(p, path, "value");
	if ((rc = fraction(st, body, p, "filter_enabled", &rl->enabled_ppm)) < 0 ||
	    (rc = fraction(st, body, p, "filter_enforced", &rl->enforced_ppm)) < 0 ||
	    (rc = headers(st, body, p, rl)) < 0)
		return rc;
	rl->status = (uint16_t)(code >= 400 ? code : 429);	/* Envoy: below 400 is 429 */
	rl->x_headers = x == 1;
	if ((rl->stat_prefix = ist_mdup(prefix)) == NULL)
		return ist_oom(st);
	snprintf(rl->origin, sizeof(rl->origin), "EnvoyFilter %s/%s", st->cur_ns, st->cur_name);
	return 0;
}

/* Sets *@p slot to a copy of @p rl, or refuses when that scope has one. */
static int
put(struct ist *st, const struct yn *at, const char *path, struct hf_model_ratelimit **slot,
    const struct hf_model_ratelimit *rl, const char *scope)
{
	struct hf_model_ratelimit *c;

	if (*slot != NULL)
		return ist_fail(st, at, path, "%s already has a local rate limit (%s)", scope,
				(*slot)->origin);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return ist_oom(st);
	*c = *rl;
	c->stat_prefix = ist_mdup(rl->stat_prefix);
	c->headers = calloc(rl->n_headers + 1, sizeof(*c->headers));
	c->n_headers = 0;
	*slot = c;
	if (c->stat_prefix == NULL || c->headers == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < rl->n_headers; i++) {
		c->headers[i].op = rl->headers[i].op;
		c->headers[i].name = ist_mdup(rl->headers[i].name);
		c->headers[i].value = ist_mdup(rl->headers[i].value);
		c->n_headers = i + 1;
		if (c->headers[i].name == NULL || c->headers[i].value == NULL)
			return ist_oom(st);
	}
	return 0;
}

/* match.context: true when the patch is for a gateway (ANY, GATEWAY). */
static int
context(struct ist *st, const struct yn *m, const char *path, bool *mine)
{
	static const char *const ctx[] = {"ANY", "GATEWAY", "SIDECAR_INBOUND", "SIDECAR_OUTBOUND",
					  NULL};
	int c = 0, rc = ist_get_enum(st, m, path, "context", ctx, "ANY, GATEWAY, SIDECAR_INBOUND, "
				     "SIDECAR_OUTBOUND", &c);

	*mine = c <= 1;
	return rc < 0 ? rc : 0;
}

/* applyTo HTTP_FILTER */
static int
http_filter(struct ist *st, const struct yn *m, const struct yn *patch, const char *path,
	    bool apply)
{
	static const char *const mkeys[] = {"context", "listener", NULL};
	static const char *const lkeys[] = {"portNumber", "filterChain", NULL};
	static const char *const ckeys[] = {"filter", NULL};
	static const char *const fkeys[] = {"name", "subFilter", NULL};
	static const char *const skeys[] = {"name", NULL};
	static const char *const pkeys[] = {"operation", "value", NULL};
	static const char *const vkeys[] = {"name", "typed_config", NULL};
	const struct yn *l = NULL, *fc = NULL, *f = NULL, *sf = NULL, *v = NULL, *tc = NULL;
	struct hf_model_ratelimit *rl = NULL;
	char p[IST_PATH], q[IST_PATH];
	const char *name = NULL, *op, *vname;
	uint32_t port = 0;
	bool mine;
	int rc;

	ist_path(p, path, "match");
	if ((rc = only_keys(st, m, p, mkeys, "an HTTP_FILTER patch matches context and "
			    "listener")) < 0 ||
	    (rc = context(st, m, p, &mine)) < 0 ||
	    (rc = ist_get_map(st, m, p, "listener", false, &l)) < 0)
		return rc;
	if (l != NULL) {
		ist_path(p, path, "match.listener");
		if ((rc = only_keys(st, l, p, lkeys, "a listener is matched by portNumber and "
				    "filterChain.filter")) < 0 ||
		    (rc = ist_get_u32(st, l, p, "portNumber", false, 1, 65535, &port)) < 0 ||
		    (rc = ist_get_map(st, l, p, "filterChain", false, &fc)) < 0)
			return rc;
	}
	if (fc != NULL) {
		ist_path(p, path, "match.listener.filterChain");
		if ((rc = only_keys(st, fc, p, ckeys, "a filter chain is matched by its filter")) < 0 ||
		    (rc = ist_get_map(st, fc, p, "filter", false, &f)) < 0)
			return rc;
	}
	if (f != NULL) {
		ist_path(p, path, "match.listener.filterChain.filter");
		if ((rc = only_keys(st, f, p, fkeys, "a filter is matched by name and "
				    "subFilter.name")) < 0 ||
		    (rc = ist_get_str(st, f, p, "name", false, &name)) < 0 ||
		    (rc = ist_get_map(st, f, p, "subFilter", false, &sf)) < 0)
			return rc;
		if (name != NULL && strcmp(name, HCM) != 0 &&
		    strcmp(name, "envoy.http_connection_manager") != 0)
			return ist_fail(st, ist_get(f, "name"), ist_path(q, p, "name"), "'%s': an "
					"HTTP filter lives in " HCM, name);
	}
	name = NULL;
	if (sf != NULL) {
		ist_path(p, path, "match.listener.filterChain.filter.subFilter");
		if ((rc = only_keys(st, sf, p, skeys, "a subFilter is matched by name")) < 0 ||
		    (rc = ist_get_str(st, sf, p, "name", true, &name)) < 0)
			return rc;
	}
	ist_path(p, path, "patch");
	if ((rc = only_keys(st, patch, p, pkeys, "a patch has operation and value")) < 0 ||
	    (rc = ist_get_str(st, patch, p, "operation", true, &op)) < 0 ||
	    (rc = ist_get_map(st, patch, p, "value", true, &v)) < 0)
		return rc;
	if (strcmp(op, "INSERT_BEFORE") == 0) {
		if (name != NULL && strcmp(name, "envoy.filters.http.router") != 0 &&
		    strcmp(name, "envoy.router") != 0)
			return ist_fail(st, ist_get(sf, "name"), ist_path(q, path,
					"match.listener.filterChain.filter.subFilter.name"),
					"'%s': the local rate limit runs just before the router "
					"(envoy.filters.http.router), nowhere else", name);
	} else if (strcmp(op, "INSERT_FIRST") != 0) {
		return ist_fail(st, ist_get(patch, "operation"), ist_path(q, p, "operation"),
				"'%s' is not applied: the local rate limit is inserted with "
				"INSERT_BEFORE envoy.filters.http.router or INSERT_FIRST", op);
	}
	ist_path(p, path, "patch.value");
	if ((rc = only_keys(st, v, p, vkeys, "an HTTP filter has name and typed_config")) < 0 ||
	    (rc = ist_get_str(st, v, p, "name", true, &vname)) < 0 ||
	    (rc = ist_get_map(st, v, p, "typed_config", true, &tc)) < 0)
		return rc;
	if (strcmp(vname, LRL_FILTER) != 0 && strcmp(vname, "envoy.local_ratelimit") != 0)
		return ist_fail(st, ist_get(v, "name"), ist_path(q, p, "name"), "'%s' is not "
				"applied: " ONLY " (" LRL_FILTER ")", vname);
	rc = local_ratelimit(st, tc, ist_path(q, p, "typed_config"), false, &rl);
	for (unsigned int i = 0; rc == 0 && rl != NULL && apply && mine && i < st->m.n_listeners;
	     i++) {
		struct hf_model_listener *ml = &st->m.listeners[i];
		char scope[96];

		if (ml->kind != HF_LISTENER_HTTP || (port != 0 && ml->port != port))
			continue;
		snprintf(scope, sizeof(scope), "listener %s", ml->name);
		rc = put(st, v, path, &ml->ratelimit, rl, scope);
	}
	hf_model_ratelimit_free(rl);
	return rc;
}

/* applyTo HTTP_ROUTE (@p route) or VIRTUAL_HOST */
static int
route_patch(struct ist *st, const struct yn *m, const struct yn *patch, const char *path,
	    bool route, bool apply)
{
	static const char *const mkeys[] = {"context", "routeConfiguration", NULL};
	static const char *const rkeys[] = {"portNumber", "name", "vhost", NULL};
	static const char *const vkeys_route[] = {"name", "route", NULL};
	static const char *const vkeys_vh[] = {"name", NULL};
	static const char *const rtkeys[] = {"name", "action", NULL};
	static const char *const actions[] = {"ANY", "ROUTE", "REDIRECT", "DIRECT_RESPONSE", NULL};
	static const char *const pkeys[] = {"operation", "value", NULL};
	static const char *const valkeys[] = {"typed_per_filter_config", NULL};
	static const char *const tpkeys[] = {LRL_FILTER, NULL};
	const struct yn *rcm = NULL, *vh = NULL, *rt = NULL, *v = NULL, *tp = NULL;
	struct hf_model_ratelimit *rl = NULL;
	const char *rc_name = NULL, *vh_name = NULL, *rt_name = NULL, *op;
	char p[IST_PATH], q[IST_PATH];
	uint32_t port = 0;
	int rc, action = 0;
	bool mine;

	ist_path(p, path, "match");
	if ((rc = only_keys(st, m, p, mkeys, "a route patch matches context and "
			    "routeConfiguration")) < 0 ||
	    (rc = context(st, m, p, &mine)) < 0 ||
	    (rc = ist_get_map(st, m, p, "routeConfiguration", false, &rcm)) < 0)
		return rc;
	if (rcm != NULL) {
		ist_path(p, path, "match.routeConfiguration");
		if ((rc = only_keys(st, rcm, p, rkeys, "a route configuration is matched by "
				    "portNumber, name and vhost")) < 0 ||
		    (rc = ist_get_u32(st, rcm, p, "portNumber", false, 1, 65535, &port)) < 0 ||
		    (rc = ist_get_str(st, rcm, p, "name", false, &rc_name)) < 0 ||
		    (rc = ist_get_map(st, rcm, p, "vhost", false, &vh)) < 0)
			return rc;
	}
	if (vh != NULL) {
		ist_path(p, path, "match.routeConfiguration.vhost");
		if ((rc = only_keys(st, vh, p, route ? vkeys_route : vkeys_vh, route ?
				    "a virtual host is matched by name and route" :
				    "a VIRTUAL_HOST patch matches the virtual host by name")) < 0 ||
		    (rc = ist_get_str(st, vh, p, "name", false, &vh_name)) < 0 ||
		    (rc = ist_get_map(st, vh, p, "route", false, &rt)) < 0)
			return rc;
	}
	if (rt != NULL) {
		ist_path(p, path, "match.routeConfiguration.vhost.route");
		if ((rc = only_keys(st, rt, p, rtkeys, "a route is matched by name and action")) < 0 ||
		    (rc = ist_get_str(st, rt, p, "name", false, &rt_name)) < 0 ||
		    (rc = ist_get_enum(st, rt, p, "action", actions, "ANY, ROUTE, REDIRECT, "
				       "DIRECT_RESPONSE", &action)) < 0)
			return rc;
	}
	ist_path(p, path, "patch");
	if ((rc = only_keys(st, patch, p, pkeys, "a patch has operation and value")) < 0 ||
	    (rc = ist_get_str(st, patch, p, "operation", true, &op)) < 0 ||
	    (rc = ist_get_map(st, patch, p, "value", true, &v)) < 0)
		return rc;
	if (strcmp(op, "MERGE") != 0)
		return ist_fail(st, ist_get(patch, "operation"), ist_path(q, p, "operation"),
				"'%s' is not applied: a route's or virtual host's local rate limit "
				"is MERGEd typed_per_filter_config", op);
	ist_path(p, path, "patch.value");
	if ((rc = only_keys(st, v, p, valkeys, "only typed_per_filter_config (of " LRL_FILTER
			    ") is merged")) < 0 ||
	    (rc = ist_get_map(st, v, p, "typed_per_filter_config", true, &tp)) < 0)
		return rc;
	ist_path(p, path, "patch.value.typed_per_filter_config");
	if ((rc = only_keys(st, tp, p, tpkeys, ONLY " (" LRL_FILTER ")")) < 0)
		return rc;
	if (ist_get(tp, LRL_FILTER) == NULL)
		return ist_fail(st, tp, p, "needs " LRL_FILTER);
	rc = local_ratelimit(st, ist_get(tp, LRL_FILTER), ist_path(q, p, LRL_FILTER), true, &rl);
	for (unsigned int i = 0; rc == 0 && apply && mine && i < st->m.n_listeners; i++) {
		const struct hf_model_listener *ml = &st->m.listeners[i];
		struct hf_model_route_config *rcfg;

		if (ml->kind != HF_LISTENER_HTTP || ml->route_config < 0 ||
		    (port != 0 && ml->port != port))
			continue;
		rcfg = &st->m.route_configs[ml->route_config];
		if (rc_name != NULL && strcmp(rcfg->name, rc_name) != 0)
			continue;
		for (unsigned int k = 0; rc == 0 && k < rcfg->n_vhosts; k++) {
			struct hf_model_vhost *mv = &rcfg->vhosts[k];
			char scope[HF_ROUTER_NAME * 2 + 64];

			if (vh_name != NULL && strcmp(mv->name, vh_name) != 0)
				continue;
			if (!route) {
				snprintf(scope, sizeof(scope), "virtual host %s", mv->name);
				rc = put(st, v, path, &mv->ratelimit, rl, scope);
				continue;
			}
			for (unsigned int j = 0; rc == 0 && j < mv->n_routes; j++) {
				struct hf_model_route *mr = &mv->routes[j];
				static const int kinds[] = {-1, HF_ACTION_ROUTE, HF_ACTION_REDIRECT,
							    HF_ACTION_DIRECT};

				if (rt_name != NULL && (mr->name == NULL || strcmp(mr->name, rt_name) != 0))
					continue;
				if (action != 0 && (int)mr->action != kinds[action])
					continue;
				snprintf(scope, sizeof(scope), "route %s of virtual host %s",
					 mr->name != NULL ? mr->name : "(unnamed)", mv->name);
				rc = put(st, v, path, &mr->ratelimit, rl, scope);
			}
		}
	}
	hf_model_ratelimit_free(rl);
	return rc;
}

static int
one_filter(struct ist *st, const struct ist_res *r)
{
	static const char *const sel_keys[] = {"labels", NULL};
	static const char *const kinds[] = {"HTTP_FILTER", "HTTP_ROUTE", "VIRTUAL_HOST", NULL};
	const struct yn *sel = NULL, *labels = NULL, *patches;
	char p[IST_PATH], q[IST_PATH];
	uint32_t prio;
	bool mine = true;
	int rc;

	if ((rc = only_keys(st, r->spec, "spec", spec_keys, "an EnvoyFilter is read for "
			    "workloadSelector, configPatches and priority")) < 0 ||
	    (rc = ist_get_map(st, r->spec, "spec", "workloadSelector", false, &sel)) < 0 ||
	    (rc = ist_get_u32(st, r->spec, "spec", "priority", false, 0, INT32_MAX, &prio)) < 0 ||
	    (rc = ist_get_seq(st, r->spec, "spec", "configPatches", true, &patches)) < 0)
		return rc;
	if (sel != NULL) {
		if ((rc = only_keys(st, sel, "spec.workloadSelector", sel_keys, "a workload "
				    "selector has labels")) < 0 ||
		    (rc = ist_get_strmap(st, sel, "spec.workloadSelector", "labels", &labels)) < 0)
			return rc;
		for (unsigned int k = 0; labels != NULL && k < labels->n; k++)
			mine &= node_has(st, labels->key[k]->s, labels->val[k]->s);
	}
	for (unsigned int i = 0; i < patches->n; i++) {
		const struct yn *cp = patches->val[i], *m = NULL, *patch = NULL;
		int kind = -1;

		ist_pathi(p, "spec.configPatches", i);
		if ((rc = ist_want(st, cp, p, YN_MAP)) < 0 ||
		    (rc = only_keys(st, cp, p, patch_keys, "a config patch has applyTo, match and "
				    "patch")) < 0 ||
		    (rc = ist_get_map(st, cp, p, "match", false, &m)) < 0 ||
		    (rc = ist_get_map(st, cp, p, "patch", true, &patch)) < 0)
			return rc;
		if (ist_get(cp, "applyTo") == NULL)
			return ist_fail(st, cp, ist_path(q, p, "applyTo"), "required field is missing");
		if ((rc = ist_get_enum(st, cp, p, "applyTo", kinds, "HTTP_FILTER, HTTP_ROUTE, "
				       "VIRTUAL_HOST", &kind)) < 0) {
			/* name what is applied, not only what the field may hold */
			const char *to = ist_get(cp, "applyTo")->s;

			return ist_fail(st, ist_get(cp, "applyTo"), ist_path(q, p, "applyTo"),
					"'%s' is not applied: " ONLY " (HTTP_FILTER, HTTP_ROUTE, "
					"VIRTUAL_HOST)", to != NULL ? to : "");
		}
		if (m == NULL)
			return ist_fail(st, cp, ist_path(q, p, "match"), "required field is missing");
		rc = kind == 0 ? http_filter(st, m, patch, p, mine)
				: route_patch(st, m, patch, p, kind == 1, mine);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
ist_envoy_filters(struct ist *st)
{
	for (unsigned int i = 0; i < st->n_res; i++) {
		int rc;

		if (st->res[i].kind != IST_EF)
			continue;
		ist_set_cur(st, &st->res[i]);
		if ((rc = one_filter(st, &st->res[i])) < 0)
			return rc;
	}
	return 0;
}
