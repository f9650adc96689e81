/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RouteConfiguration into the model (translate.h): virtual hosts with their
 * domains; routes matched by prefix, path or safe_regex, headers and query
 * parameters; routed to a cluster or weighted clusters with timeout, retries,
 * prefix and host rewrite, or answered directly. Any other field: refused.
 */
#include "control-agent/xds/translate-int.h"

static int
regex_value(struct tr *t, const Envoy__Type__Matcher__V3__RegexMatcher *r, const char *at,
            struct hf_model_str_match *sm)
{
	if (ONLY(t, r, at, "regex", "google_re2") != 0)
		return t->rc;
	sm->kind = HF_MATCH_REGEX;
	sm->value = sdup(t, r->regex);
	return t->rc;
}

static int
string_matcher(struct tr *t, const Envoy__Type__Matcher__V3__StringMatcher *s, const char *at,
               struct hf_model_str_match *sm)
{
	char p[PATH];

	if (ONLY(t, s, at, "exact", "prefix", "safe_regex", "ignore_case") != 0)
		return t->rc;
	sm->ignore_case = s->ignore_case;
	switch (s->match_pattern_case) {
	case ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_EXACT:
		sm->kind = HF_MATCH_EXACT;
		sm->value = sdup(t, s->exact);
		break;
	case ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_PREFIX:
		sm->kind = HF_MATCH_PREFIX;
		sm->value = sdup(t, s->prefix);
		break;
	case ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_SAFE_REGEX:
		path(p, sizeof(p), "%s.safe_regex", at);
		return regex_value(t, s->safe_regex, p, sm);
	default: return bad(t, at, "no match pattern");
	}
	return t->rc;
}

static int
header_matcher(struct tr *t, const Envoy__Config__Route__V3__HeaderMatcher *h, const char *at,
               struct hf_model_route_match *rm)
{
	struct hf_model_str_match sm = {0};
	struct hf_model_kv_match *kv;
	char p[PATH];

	/* exact_match, prefix_match, safe_regex_match: deprecated in v3 for string_match, refused
	 */
	if (ONLY(t, h, at, "name", "present_match", "string_match", "invert_match") != 0)
		return t->rc;
	switch (h->header_match_specifier_case) {
	case ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_PRESENT_MATCH:
		if (!h->present_match)
			return bad(t, at,
			           "present_match false is not supported (use invert_match)");
		sm.kind = HF_MATCH_PRESENT;
		break;
	case ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_STRING_MATCH:
		path(p, sizeof(p), "%s.string_match", at);
		string_matcher(t, h->string_match, p, &sm);
		break;
	default: return bad(t, at, "no match specifier");
	}
	if (t->rc != 0) {
		free(sm.value);
		return t->rc;
	}
	/* The pseudo-headers the model matches in fields of their own (RFC 9113 section 8.3.1). */
	if (strcmp(h->name, ":method") == 0 || strcmp(h->name, ":authority") == 0) {
		struct hf_model_str_match *dst = h->name[1] == 'm' ? &rm->method : &rm->authority;

		if (h->invert_match || dst->kind != HF_MATCH_ANY || sm.kind == HF_MATCH_PRESENT) {
			free(sm.value);
			return bad(t, at, "this match on %s is not supported", h->name);
		}
		*dst = sm;
		return 0;
	}
	if (h->name[0] == ':') {
		free(sm.value);
		return bad(t, at, "matching pseudo-header %s is not supported", h->name);
	}
	kv = grow(t, &rm->headers, &rm->n_headers, sizeof(*kv));
	if (kv == NULL) {
		free(sm.value);
		return t->rc;
	}
	kv->name = sdup_lower(t, h->name);
	kv->m = sm;
	kv->absent = h->invert_match;
	return t->rc;
}

static int
query_matcher(struct tr *t, const Envoy__Config__Route__V3__QueryParameterMatcher *q,
              const char *at, struct hf_model_route_match *rm)
{
	struct hf_model_kv_match *kv;
	char p[PATH];

	if (ONLY(t, q, at, "name", "string_match", "present_match") != 0)
		return t->rc;
	kv = grow(t, &rm->query, &rm->n_query, sizeof(*kv));
	if (kv == NULL)
		return t->rc;
	kv->name = sdup(t, q->name);
	if (q->query_parameter_match_specifier_case ==
	    ENVOY__CONFIG__ROUTE__V3__QUERY_PARAMETER_MATCHER__QUERY_PARAMETER_MATCH_SPECIFIER_PRESENT_MATCH) {
		if (!q->present_match)
			return bad(t, at, "present_match false is not supported");
		kv->m.kind = HF_MATCH_PRESENT;
		return t->rc;
	}
	if (q->string_match == NULL)
		return bad(t, at, "no match specifier");
	path(p, sizeof(p), "%s.string_match", at);
	return string_matcher(t, q->string_match, p, &kv->m);
}

static int
route_match(struct tr *t, const Envoy__Config__Route__V3__RouteMatch *m, const char *at,
            struct hf_model_route *r)
{
	struct hf_model_route_match *rm;
	char p[PATH];

	if (ONLY(t, m, at, "prefix", "path", "safe_regex", "case_sensitive", "headers",
	         "query_parameters") != 0)
		return t->rc;
	rm = grow(t, &r->matches, &r->n_matches, sizeof(*rm));
	if (rm == NULL)
		return t->rc;
	rm->uri.ignore_case = m->case_sensitive != NULL && !m->case_sensitive->value;
	switch (m->path_specifier_case) {
	case ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_PREFIX:
		rm->uri.kind = HF_MATCH_PREFIX;
		rm->uri.value = sdup(t, m->prefix);
		break;
	case ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_PATH:
		rm->uri.kind = HF_MATCH_EXACT;
		rm->uri.value = sdup(t, m->path);
		break;
	case ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_SAFE_REGEX:
		path(p, sizeof(p), "%s.safe_regex", at);
		if (regex_value(t, m->safe_regex, p, &rm->uri) != 0)
			return t->rc;
		break;
	default: return bad(t, at, "no path specifier (prefix, path or safe_regex)");
	}
	for (size_t i = 0; i < m->n_headers && t->rc == 0; i++) {
		path(p, sizeof(p), "%s.headers[%zu]", at, i);
		header_matcher(t, m->headers[i], p, rm);
	}
	for (size_t i = 0; i < m->n_query_parameters && t->rc == 0; i++) {
		path(p, sizeof(p), "%s.query_parameters[%zu]", at, i);
		query_matcher(t, m->query_parameters[i], p, rm);
	}
	return t->rc;
}

/* Envoy's retry_on conditions (x-envoy-retry-on) the data plane implements. */
static const struct {
	const char *name;
	uint32_t flag;
} retry_on[] = {
        {"5xx", HF_RETRY_5XX},
        {"gateway-error", HF_RETRY_GATEWAY_ERROR},
        {"connect-failure", HF_RETRY_CONNECT_FAILURE},
        {"reset", HF_RETRY_RESET},
        {"retriable-4xx", HF_RETRY_RETRIABLE_4XX},
        {"retriable-status-codes", HF_RETRY_RETRIABLE_CODES},
        {"refused-stream", HF_RETRY_REFUSED_STREAM},
};

static int
retry_policy(struct tr *t, const Envoy__Config__Route__V3__RetryPolicy *rp, const char *at,
             struct hf_model_route *r)
{
	const char *s = rp->retry_on;

	if (ONLY(t, rp, at, "retry_on", "num_retries", "per_try_timeout",
	         "retriable_status_codes") != 0)
		return t->rc;
	while (*s != '\0') {
		size_t n = strcspn(s, ",");
		unsigned int i;

		for (i = 0; i < sizeof(retry_on) / sizeof(retry_on[0]); i++)
			if (strlen(retry_on[i].name) == n && strncmp(s, retry_on[i].name, n) == 0)
				break;
		if (i == sizeof(retry_on) / sizeof(retry_on[0]))
			return bad(t, at, "retry_on: '%.*s' is not supported", (int)n, s);
		r->retry.on |= retry_on[i].flag;
		s += n;
		if (*s == ',')
			s++;
	}
	r->retry.attempts = rp->num_retries != NULL ? rp->num_retries->value : NUM_RETRIES;
	if (rp->per_try_timeout != NULL)
		r->retry.per_try_timeout_ms = duration_ms(rp->per_try_timeout);
	if (rp->n_retriable_status_codes > 0) {
		r->retry.codes = calloc(rp->n_retriable_status_codes, sizeof(uint16_t));
		if (r->retry.codes == NULL)
			return nomem(t);
		for (size_t i = 0; i < rp->n_retriable_status_codes; i++) {
			if (rp->retriable_status_codes[i] < 100 ||
			    rp->retriable_status_codes[i] > 599)
				return bad(t, at,
				           "retriable_status_codes[%zu]: %u is not an HTTP status",
				           i, rp->retriable_status_codes[i]);
			r->retry.codes[i] = (uint16_t)rp->retriable_status_codes[i];
		}
		r->retry.n_codes = (unsigned int)rp->n_retriable_status_codes;
	}
	return t->rc;
}

static int
route_action(struct tr *t, const Envoy__Config__Route__V3__RouteAction *a, const char *at,
             struct hf_model_route *r)
{
	struct hf_model_weighted *w;
	char p[PATH];

	if (ONLY(t, a, at, "cluster", "weighted_clusters", "timeout", "retry_policy",
	         "prefix_rewrite", "host_rewrite_literal") != 0)
		return t->rc;
	r->action = HF_ACTION_ROUTE;
	if (a->cluster_specifier_case ==
	    ENVOY__CONFIG__ROUTE__V3__ROUTE_ACTION__CLUSTER_SPECIFIER_CLUSTER) {
		w = grow(t, &r->clusters, &r->n_clusters, sizeof(*w));
		if (w == NULL)
			return t->rc;
		w->cluster = sdup(t, a->cluster);
		w->weight = 1;
	} else if (a->cluster_specifier_case ==
	           ENVOY__CONFIG__ROUTE__V3__ROUTE_ACTION__CLUSTER_SPECIFIER_WEIGHTED_CLUSTERS) {
		const Envoy__Config__Route__V3__WeightedCluster *wc = a->weighted_clusters;
		uint64_t sum = 0;

		path(p, sizeof(p), "%s.weighted_clusters", at);
		if (ONLY(t, wc, p, "clusters") != 0)
			return t->rc;
		for (size_t i = 0; i < wc->n_clusters; i++) {
			const Envoy__Config__Route__V3__WeightedCluster__ClusterWeight *cw =
			        wc->clusters[i];
			char q[PATH];

			path(q, sizeof(q), "%s.clusters[%zu]", p, i);
			if (ONLY(t, cw, q, "name", "weight") != 0)
				return t->rc;
			if (cw->name[0] == '\0')
				return bad(t, q, "no cluster name");
			w = grow(t, &r->clusters, &r->n_clusters, sizeof(*w));
			if (w == NULL)
				return t->rc;
			w->cluster = sdup(t, cw->name);
			w->weight = cw->weight != NULL ? cw->weight->value : 0;
			sum += w->weight;
		}
		if (sum == 0)
			return bad(t, p, "the weights add up to 0");
	} else {
		return bad(t, at, "no cluster or weighted_clusters");
	}
	r->timeout_ms = a->timeout != NULL ? duration_ms(a->timeout) : ROUTE_TIMEOUT_MS;
	if (a->prefix_rewrite[0] != '\0')
		r->rewrite_uri = sdup(t, a->prefix_rewrite);
	if (a->host_rewrite_specifier_case ==
	    ENVOY__CONFIG__ROUTE__V3__ROUTE_ACTION__HOST_REWRITE_SPECIFIER_HOST_REWRITE_LITERAL)
		r->rewrite_authority = sdup(t, a->host_rewrite_literal);
	if (a->retry_policy != NULL) {
		path(p, sizeof(p), "%s.retry_policy", at);
		retry_policy(t, a->retry_policy, p, r);
	}
	return t->rc;
}

static int
direct_response(struct tr *t, const Envoy__Config__Route__V3__DirectResponseAction *d,
                const char *at, struct hf_model_route *r)
{
	char p[PATH];

	if (ONLY(t, d, at, "status", "body") != 0)
		return t->rc;
	if (d->status < 200 || d->status > 599)
		return bad(t, at, "status %u is not between 200 and 599", d->status);
	r->action = HF_ACTION_DIRECT;
	r->direct_status = (uint16_t)d->status;
	if (d->body != NULL) {
		path(p, sizeof(p), "%s.body", at);
		if (ONLY(t, d->body, p, "inline_string") != 0)
			return t->rc;
		r->direct_body = sdup(t, d->body->inline_string);
	}
	return t->rc;
}

static int
route(struct tr *t, const Envoy__Config__Route__V3__Route *ro, const char *at,
      struct hf_model_route *r)
{
	char p[PATH];

	if (ONLY(t, ro, at, "name", "match", "route", "direct_response") != 0)
		return t->rc;
	if (ro->name[0] != '\0')
		r->name = sdup(t, ro->name);
	if (ro->match == NULL)
		return bad(t, at, "no match");
	path(p, sizeof(p), "%s.match", at);
	if (route_match(t, ro->match, p, r) != 0)
		return t->rc;
	switch (ro->action_case) {
	case ENVOY__CONFIG__ROUTE__V3__ROUTE__ACTION_ROUTE:
		path(p, sizeof(p), "%s.route", at);
		return route_action(t, ro->route, p, r);
	case ENVOY__CONFIG__ROUTE__V3__ROUTE__ACTION_DIRECT_RESPONSE:
		path(p, sizeof(p), "%s.direct_response", at);
		return direct_response(t, ro->direct_response, p, r);
	default: return bad(t, at, "no action (route or direct_response)");
	}
}

static int
vhost(struct tr *t, const Envoy__Config__Route__V3__VirtualHost *v, const char *at,
      struct hf_model_vhost *mv)
{
	char p[PATH];

	if (ONLY(t, v, at, "name", "domains", "routes") != 0)
		return t->rc;
	if (v->n_domains == 0)
		return bad(t, at, "no domains");
	mv->name = sdup(t, v->name);
	mv->domains = calloc(v->n_domains, sizeof(char *));
	mv->routes = calloc(v->n_routes == 0 ? 1 : v->n_routes, sizeof(*mv->routes));
	if (mv->domains == NULL || mv->routes == NULL)
		return nomem(t);
	for (size_t i = 0; i < v->n_domains; i++) {
		mv->domains[i] = sdup_lower(t, v->domains[i]);
		mv->n_domains++;
	}
	for (size_t i = 0; i < v->n_routes && t->rc == 0; i++) {
		path(p, sizeof(p), "%s.routes[%zu]", at, i);
		mv->n_routes++;
		route(t, v->routes[i], p, &mv->routes[i]);
	}
	return t->rc;
}

int
hf_xds_tr_route_config(const Envoy__Config__Route__V3__RouteConfiguration *rc, struct hf_model *m,
                       char *err, size_t errlen)
{
	struct tr t = {.err = err, .errlen = errlen};
	struct hf_model_route_config *mrc;
	char p[PATH];

	if (ONLY(&t, rc, "RouteConfiguration", "name", "virtual_hosts", "validate_clusters") != 0)
		return t.rc;
	mrc = grow(&t, &m->route_configs, &m->n_route_configs, sizeof(*mrc));
	if (mrc == NULL)
		return t.rc;
	mrc->name = sdup(&t, rc->name);
	mrc->vhosts =
	        calloc(rc->n_virtual_hosts == 0 ? 1 : rc->n_virtual_hosts, sizeof(*mrc->vhosts));
	if (mrc->vhosts == NULL)
		return nomem(&t);
	for (size_t i = 0; i < rc->n_virtual_hosts && t.rc == 0; i++) {
		path(p, sizeof(p), "virtual_hosts[%zu]", i);
		mrc->n_vhosts++;
		vhost(&t, rc->virtual_hosts[i], p, &mrc->vhosts[i]);
	}
	return t.rc;
}
