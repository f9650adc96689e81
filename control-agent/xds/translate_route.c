/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RouteConfiguration into the model (translate.h): virtual hosts with their
 * domains; routes matched by prefix, path or safe_regex, headers and query
 * parameters; routed to a cluster or weighted clusters with timeout, retries,
 * prefix, regex and host rewrite and a mirror, redirected, or answered
 * directly; header operations at every level; fault and CORS per route
 * (translate_filter.c). Any other field: refused.
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

/* @p s as a regex matching itself literally (RE2 syntax: metacharacters escaped). */
static char *
regex_literal(struct tr *t, const char *lead, const char *s, const char *trail)
{
	size_t n = strlen(s);
	char *o = malloc(strlen(lead) + 2 * n + strlen(trail) + 1), *q;

	if (o == NULL) {
		nomem(t);
		return NULL;
	}
	q = stpcpy(o, lead);
	for (; *s != '\0'; s++) {
		if (strchr("\\^$.|?*+()[]{}", *s) != NULL)
			*q++ = '\\';
		*q++ = *s;
	}
	strcpy(q, trail);
	return o;
}

int
hf_xds_tr_string_matcher(struct tr *t, const Envoy__Type__Matcher__V3__StringMatcher *s,
                         const char *at, struct hf_model_str_match *sm)
{
	char p[PATH];

	if (ONLY(t, s, at, "exact", "prefix", "suffix", "contains", "safe_regex",
	         "ignore_case") != 0)
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
	/* The model matches exact, prefix and whole-value regexes: the others are regexes. */
	case ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_SUFFIX:
		if (s->suffix[0] == '\0')
			return bad(t, at, "empty suffix");
		sm->kind = HF_MATCH_REGEX;
		sm->value = regex_literal(t, ".*", s->suffix, "");
		break;
	case ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_CONTAINS:
		if (s->contains[0] == '\0')
			return bad(t, at, "empty contains");
		sm->kind = HF_MATCH_REGEX;
		sm->value = regex_literal(t, ".*", s->contains, ".*");
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
		hf_xds_tr_string_matcher(t, h->string_match, p, &sm);
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
	return hf_xds_tr_string_matcher(t, q->string_match, p, &kv->m);
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

/*
 * Envoy's header value: "%%" is a literal '%', any other '%' starts a command
 * operator (%DOWNSTREAM_REMOTE_ADDRESS% and friends), which Hydrofoil does not
 * expand: refused rather than sent as written.
 */
static char *
header_value(struct tr *t, const char *v, const char *at)
{
	char *o = malloc(strlen(v) + 1), *q = o;

	if (o == NULL) {
		nomem(t);
		return NULL;
	}
	for (const char *s = v; *s != '\0'; s++) {
		if (*s == '%' && *++s != '%') {
			free(o);
			bad(t, at, "'%s': command operators (%%...%%) are not supported; %%%% is a "
			           "literal %%", v);
			return NULL;
		}
		*q++ = *s;
	}
	*q = '\0';
	return o;
}

/* Envoy refuses to touch pseudo-headers and host with these lists; so does the model. */
static int
header_name(struct tr *t, const char *name, const char *at)
{
	if (name[0] == '\0' || name[0] == ':' || strcasecmp(name, "host") == 0)
		return bad(t, at, "header '%s' cannot be added or removed", name);
	return 0;
}

/* Drops the operations on @p name an earlier (inner) level put in @p ops: a removal or an
 * overwrite at this level undoes them. */
static void
drop_ops(struct hf_model_header_op *ops, unsigned int *n_ops, const char *name)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < *n_ops; i++) {
		if (strcmp(ops[i].name, name) == 0) {
			free(ops[i].name);
			free(ops[i].value);
			continue;
		}
		ops[k++] = ops[i];
	}
	*n_ops = k;
}

/* Appends operation @p kind on @p name (lower-cased here) with @p value (taken, may be NULL). */
static int
append_op(struct tr *t, struct hf_model_header_op **ops, unsigned int *n_ops,
          enum hf_header_op_kind kind, const char *name, char *value)
{
	char *lower = sdup_lower(t, name);
	struct hf_model_header_op *op;

	if (lower != NULL && kind != HF_HDR_ADD)
		drop_ops(*ops, n_ops, lower);
	op = lower != NULL ? grow(t, ops, n_ops, sizeof(*op)) : NULL;
	if (op == NULL) {
		free(lower);
		free(value);
		return t->rc;
	}
	op->op = kind;
	op->name = lower;
	op->value = value;
	return 0;
}

/*
 * One level's *_headers_to_remove and *_headers_to_add (route, weighted
 * cluster, virtual host or route configuration) applied to @p ops, the inner
 * levels' operations: Envoy removes a level's names, then adds its headers, and
 * applies the levels from the route outwards. So that the data plane, which
 * applies the list in order to the request as received, gets the same result,
 * a removal or an overwrite replaces what inner levels did to that name.
 * @p what is "request" or "response", for the field paths.
 */
static int
header_ops(struct tr *t, const char *at, const char *what,
           Envoy__Config__Core__V3__HeaderValueOption *const *add, size_t n_add,
           char *const *rm, size_t n_rm, struct hf_model_header_op **ops, unsigned int *n_ops)
{
	char p[PATH], q[PATH];

	for (size_t i = 0; i < n_rm && t->rc == 0; i++) {
		path(p, sizeof(p), "%s.%s_headers_to_remove[%zu]", at, what, i);
		if (header_name(t, rm[i], p) != 0)
			return t->rc;
		if (append_op(t, ops, n_ops, HF_HDR_REMOVE, rm[i], NULL) != 0)
			return t->rc;
	}
	for (size_t i = 0; i < n_add && t->rc == 0; i++) {
		const Envoy__Config__Core__V3__HeaderValueOption *o = add[i];
		enum hf_header_op_kind kind;
		char *value;

		path(p, sizeof(p), "%s.%s_headers_to_add[%zu]", at, what, i);
		/* append (deprecated for append_action) is refused by name. */
		if (ONLY(t, o, p, "header", "append_action", "keep_empty_value") != 0)
			return t->rc;
		if (o->header == NULL)
			return bad(t, p, "no header");
		path(q, sizeof(q), "%s.header", p);
		if (ONLY(t, o->header, q, "key", "value") != 0 || header_name(t, o->header->key, q))
			return t->rc;
		if (o->append_action ==
		    ENVOY__CONFIG__CORE__V3__HEADER_VALUE_OPTION__HEADER_APPEND_ACTION__APPEND_IF_EXISTS_OR_ADD)
			kind = HF_HDR_ADD;
		else if (o->append_action ==
		         ENVOY__CONFIG__CORE__V3__HEADER_VALUE_OPTION__HEADER_APPEND_ACTION__OVERWRITE_IF_EXISTS_OR_ADD)
			kind = HF_HDR_SET;
		else
			return bad(t, p, "append_action %d is not supported (APPEND_IF_EXISTS_OR_ADD "
			                 "and OVERWRITE_IF_EXISTS_OR_ADD are)",
			           (int)o->append_action);
		/* An empty value is not added unless keep_empty_value says so (Envoy). */
		if (o->header->value[0] == '\0' && !o->keep_empty_value)
			continue;
		value = header_value(t, o->header->value, q);
		if (value == NULL || append_op(t, ops, n_ops, kind, o->header->key, value) != 0)
			return t->rc;
	}
	return t->rc;
}

/* The four lists of a level that has them all, into a route's or destination's ops. */
#define HEADER_OPS(t, at, m, rq, n_rq, rs, n_rs)                                                   \
	(header_ops((t), (at), "request", (m)->request_headers_to_add,                            \
	            (m)->n_request_headers_to_add, (m)->request_headers_to_remove,                \
	            (m)->n_request_headers_to_remove, (rq), (n_rq)) != 0 ||                       \
	         header_ops((t), (at), "response", (m)->response_headers_to_add,                  \
	                    (m)->n_response_headers_to_add, (m)->response_headers_to_remove,      \
	                    (m)->n_response_headers_to_remove, (rs), (n_rs)) != 0)

static int
mirror(struct tr *t, const Envoy__Config__Route__V3__RouteAction__RequestMirrorPolicy *mp,
       const char *at, struct hf_model_route *r)
{
	const Envoy__Config__Core__V3__RuntimeFractionalPercent *rf = mp->runtime_fraction;
	char p[PATH];

	if (ONLY(t, mp, at, "cluster", "runtime_fraction") != 0)
		return t->rc;
	if (mp->cluster[0] == '\0')
		return bad(t, at, "no cluster");
	r->mirror_cluster = sdup(t, mp->cluster);
	r->mirror_percent = 100;
	if (rf != NULL) {
		path(p, sizeof(p), "%s.runtime_fraction", at);
		/* Hydrofoil has no runtime: only the default value can be honoured. */
		if (ONLY(t, rf, p, "default_value") != 0)
			return t->rc;
		r->mirror_percent = hf_xds_tr_percent(rf->default_value);
	}
	return t->rc;
}

static int
redirect(struct tr *t, const Envoy__Config__Route__V3__RedirectAction *rd, const char *at,
         struct hf_model_route *r)
{
	static const uint16_t codes[] = {301, 302, 303, 307, 308};

	if (ONLY(t, rd, at, "host_redirect", "port_redirect", "response_code", "https_redirect",
	         "scheme_redirect", "path_redirect") != 0)
		return t->rc;
	r->action = HF_ACTION_REDIRECT;
	if ((unsigned int)rd->response_code >= sizeof(codes) / sizeof(codes[0]))
		return bad(t, at, "response_code %d is not known", (int)rd->response_code);
	r->redirect_code = codes[rd->response_code];
	if (rd->scheme_rewrite_specifier_case ==
	            ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__SCHEME_REWRITE_SPECIFIER_HTTPS_REDIRECT &&
	    rd->https_redirect) {
		r->redirect_scheme = sdup(t, "https");
	} else if (rd->scheme_rewrite_specifier_case ==
	           ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__SCHEME_REWRITE_SPECIFIER_SCHEME_REDIRECT) {
		/* The Location's scheme: http or https (RFC 9110 section 4.2). */
		if (strcasecmp(rd->scheme_redirect, "http") != 0 &&
		    strcasecmp(rd->scheme_redirect, "https") != 0)
			return bad(t, at, "scheme_redirect '%s' is not http or https",
			           rd->scheme_redirect);
		r->redirect_scheme = sdup_lower(t, rd->scheme_redirect);
	}
	if (rd->host_redirect[0] != '\0') {
		if (strpbrk(rd->host_redirect, "/?#@ ") != NULL)
			return bad(t, at, "host_redirect '%s' is not a host", rd->host_redirect);
		if (strchr(rd->host_redirect, ':') != NULL && rd->port_redirect != 0)
			return bad(t, at, "host_redirect '%s' has a port already", rd->host_redirect);
		r->redirect_authority = sdup(t, rd->host_redirect);
	}
	if (rd->port_redirect > 65535)
		return bad(t, at, "port_redirect %u is not a port", rd->port_redirect);
	r->redirect_port = rd->port_redirect;
	if (rd->path_rewrite_specifier_case ==
	    ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__PATH_REWRITE_SPECIFIER_PATH_REDIRECT) {
		/* The request's query follows the new path; one in path_redirect would replace it. */
		if (rd->path_redirect[0] != '/' || strpbrk(rd->path_redirect, "?# ") != NULL)
			return bad(t, at, "path_redirect '%s' must be a path (from '/', no query)",
			           rd->path_redirect);
		r->redirect_uri = sdup(t, rd->path_redirect);
	}
	if (t->rc == 0 && r->redirect_uri == NULL && r->redirect_authority == NULL &&
	    r->redirect_scheme == NULL && r->redirect_port == 0)
		return bad(t, at, "redirects to the same URL (set a host, port, scheme or path)");
	return t->rc;
}

static int
route_action(struct tr *t, const Envoy__Config__Route__V3__RouteAction *a, const char *at,
             struct hf_model_route *r)
{
	struct hf_model_weighted *w;
	char p[PATH];

	if (ONLY(t, a, at, "cluster", "weighted_clusters", "timeout", "retry_policy",
	         "prefix_rewrite", "regex_rewrite", "host_rewrite_literal",
	         "request_mirror_policies") != 0)
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
			if (ONLY(t, cw, q, "name", "weight", "request_headers_to_add",
			         "request_headers_to_remove", "response_headers_to_add",
			         "response_headers_to_remove") != 0)
				return t->rc;
			if (cw->name[0] == '\0')
				return bad(t, q, "no cluster name");
			w = grow(t, &r->clusters, &r->n_clusters, sizeof(*w));
			if (w == NULL)
				return t->rc;
			w->cluster = sdup(t, cw->name);
			w->weight = cw->weight != NULL ? cw->weight->value : 0;
			sum += w->weight;
			if (HEADER_OPS(t, q, cw, &w->rq_ops, &w->n_rq_ops, &w->rs_ops, &w->n_rs_ops))
				return t->rc;
		}
		if (sum == 0)
			return bad(t, p, "the weights add up to 0");
	} else {
		return bad(t, at, "no cluster or weighted_clusters");
	}
	r->timeout_ms = a->timeout != NULL ? duration_ms(a->timeout) : ROUTE_TIMEOUT_MS;
	if (a->prefix_rewrite[0] != '\0' && a->regex_rewrite != NULL)
		return bad(t, at, "prefix_rewrite and regex_rewrite together");
	if (a->prefix_rewrite[0] != '\0')
		r->rewrite_uri = sdup(t, a->prefix_rewrite);
	if (a->regex_rewrite != NULL) {
		path(p, sizeof(p), "%s.regex_rewrite", at);
		if (ONLY(t, a->regex_rewrite, p, "pattern", "substitution") != 0)
			return t->rc;
		if (a->regex_rewrite->pattern == NULL)
			return bad(t, p, "no pattern");
		path(p, sizeof(p), "%s.regex_rewrite.pattern", at);
		if (ONLY(t, a->regex_rewrite->pattern, p, "regex", "google_re2") != 0)
			return t->rc;
		r->rewrite_regex = sdup(t, a->regex_rewrite->pattern->regex);
		r->rewrite_regex_sub = sdup(t, a->regex_rewrite->substitution);
	}
	if (a->n_request_mirror_policies > 1)
		return bad(t, at, "request_mirror_policies: one mirror per route is supported, not %zu",
		           a->n_request_mirror_policies);
	if (a->n_request_mirror_policies == 1) {
		path(p, sizeof(p), "%s.request_mirror_policies[0]", at);
		if (mirror(t, a->request_mirror_policies[0], p, r) != 0)
			return t->rc;
	}
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

/* What a route inherits: its virtual host's and its route configuration's lists. */
struct outer {
	const Envoy__Config__Route__V3__VirtualHost *vh;
	const Envoy__Config__Route__V3__RouteConfiguration *rc;
	const char *vh_at;
};

static int
route(struct tr *t, const Envoy__Config__Route__V3__Route *ro, const char *at,
      const struct outer *o, struct hf_model_route *r)
{
	char p[PATH];

	if (ONLY(t, ro, at, "name", "match", "route", "redirect", "direct_response",
	         "typed_per_filter_config", "request_headers_to_add", "request_headers_to_remove",
	         "response_headers_to_add", "response_headers_to_remove") != 0)
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
		route_action(t, ro->route, p, r);
		break;
	case ENVOY__CONFIG__ROUTE__V3__ROUTE__ACTION_REDIRECT:
		path(p, sizeof(p), "%s.redirect", at);
		redirect(t, ro->redirect, p, r);
		break;
	case ENVOY__CONFIG__ROUTE__V3__ROUTE__ACTION_DIRECT_RESPONSE:
		path(p, sizeof(p), "%s.direct_response", at);
		direct_response(t, ro->direct_response, p, r);
		break;
	default: return bad(t, at, "no action (route, redirect or direct_response)");
	}
	/*
	 * A filter's most specific configuration wins as a whole (Envoy): the virtual
	 * host's first, then the route's own replaces it.
	 */
	for (size_t i = 0; i < o->vh->n_typed_per_filter_config && t->rc == 0; i++) {
		path(p, sizeof(p), "%s.typed_per_filter_config['%s']", o->vh_at,
		     o->vh->typed_per_filter_config[i]->key);
		hf_xds_tr_per_filter(t, o->vh->typed_per_filter_config[i]->key,
		                     o->vh->typed_per_filter_config[i]->value, p, r);
	}
	for (size_t i = 0; i < ro->n_typed_per_filter_config && t->rc == 0; i++) {
		path(p, sizeof(p), "%s.typed_per_filter_config['%s']", at,
		     ro->typed_per_filter_config[i]->key);
		if (strcmp(ro->typed_per_filter_config[i]->key, "envoy.filters.http.fault") == 0)
			memset(&r->fault, 0, sizeof(r->fault));
		hf_xds_tr_per_filter(t, ro->typed_per_filter_config[i]->key,
		                     ro->typed_per_filter_config[i]->value, p, r);
	}
	if (t->rc != 0)
		return t->rc;
	/*
	 * Header lists: the route's, then its virtual host's, then its route
	 * configuration's, in the order Envoy applies them (an outer level's
	 * overwrite wins).
	 */
	if (HEADER_OPS(t, at, ro, &r->rq_ops, &r->n_rq_ops, &r->rs_ops, &r->n_rs_ops) ||
	    HEADER_OPS(t, o->vh_at, o->vh, &r->rq_ops, &r->n_rq_ops, &r->rs_ops, &r->n_rs_ops))
		return t->rc;
	return header_ops(t, "RouteConfiguration", "request", o->rc->request_headers_to_add,
	                  o->rc->n_request_headers_to_add, o->rc->request_headers_to_remove,
	                  o->rc->n_request_headers_to_remove, &r->rq_ops, &r->n_rq_ops) != 0 ||
	       header_ops(t, "RouteConfiguration", "response", o->rc->response_headers_to_add,
	                  o->rc->n_response_headers_to_add, o->rc->response_headers_to_remove,
	                  o->rc->n_response_headers_to_remove, &r->rs_ops, &r->n_rs_ops) != 0
	               ? t->rc
	               : 0;
}

static int
vhost(struct tr *t, const Envoy__Config__Route__V3__VirtualHost *v, const char *at,
      const Envoy__Config__Route__V3__RouteConfiguration *rc, struct hf_model_vhost *mv)
{
	struct outer o = {.vh = v, .rc = rc, .vh_at = at};
	char p[PATH];

	if (ONLY(t, v, at, "name", "domains", "routes", "typed_per_filter_config",
	         "request_headers_to_add", "request_headers_to_remove", "response_headers_to_add",
	         "response_headers_to_remove") != 0)
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
		route(t, v->routes[i], p, &o, &mv->routes[i]);
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

	if (ONLY(&t, rc, "RouteConfiguration", "name", "virtual_hosts", "validate_clusters",
	         "request_headers_to_add", "request_headers_to_remove", "response_headers_to_add",
	         "response_headers_to_remove") != 0)
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
		vhost(&t, rc->virtual_hosts[i], p, rc, &mrc->vhosts[i]);
	}
	return t.rc;
}
