/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Envoy v3 resources into the model (translate.h). The first slice: listeners
 * with one filter chain holding an HTTP connection manager (RDS or inline
 * routes, the router filter) or a tcp_proxy to one cluster; virtual hosts,
 * routes matched by prefix, path or safe_regex, headers and query parameters,
 * routed to a cluster or weighted clusters with timeout, retries, prefix and
 * host rewrite, or answered directly; EDS and STATIC clusters with their LB
 * policy; endpoints with weights, localities and health status.
 *
 * Each message is first checked against the list of its fields this file
 * implements (only()): a field set outside that list refuses the resource
 * with its path, so an unsupported feature is a NACK, never ignored.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/xds/translate.h"

/* Envoy's defaults (Envoy's API docs: RouteAction.timeout, Cluster.connect_timeout, num_retries). */
#define ROUTE_TIMEOUT_MS 15000
#define CONNECT_TIMEOUT_MS 5000
#define NUM_RETRIES 1

#define PATH 256

struct tr {
	char *err;
	size_t errlen;
	int rc;				/* first failure: -EINVAL or -ENOMEM */
};

static int __attribute__((format(printf, 3, 4)))
bad(struct tr *t, const char *at, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (t->rc != 0)
		return t->rc;
	n = (size_t)snprintf(t->err, t->errlen, "%s: ", at);
	va_start(ap, fmt);
	if (n < t->errlen)
		vsnprintf(t->err + n, t->errlen - n, fmt, ap);
	va_end(ap);
	t->rc = -EINVAL;
	return t->rc;
}

/* A field path: "at.child". Truncation is harmless (an error message's path). */
static void __attribute__((format(printf, 3, 4)))
path(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, len, fmt, ap);
	va_end(ap);
}

static int
nomem(struct tr *t)
{
	if (t->rc == 0) {
		snprintf(t->err, t->errlen, "out of memory");
		t->rc = -ENOMEM;
	}
	return t->rc;
}

static char *
sdup(struct tr *t, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		nomem(t);
	return p;
}

static char *
sdup_lower(struct tr *t, const char *s)
{
	char *p = sdup(t, s);

	for (char *q = p; q != NULL && *q != '\0'; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	return p;
}

/* Grows array *@p v of *@p n elements by one zeroed element; returns it or NULL (ENOMEM). */
static void *
grow(struct tr *t, void *v, unsigned int *n, size_t size)
{
	char **pv = v;
	char *nv = realloc(*pv, (*n + 1) * size);

	if (nv == NULL) {
		nomem(t);
		return NULL;
	}
	*pv = nv;
	memset(nv + *n * size, 0, size);
	return nv + (*n)++ * size;
}

/* Whether field @p f of @p m holds anything (proto3: a value other than the default). */
static bool
field_set(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	static const uint8_t zero[16];
	const char *base = (const char *)m;
	const void *v = base + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(base + f->quantifier_offset) != 0;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0 &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING)
		return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
	switch (f->type) {
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(void *const *)v != NULL;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)v;

		return s != NULL && *s != '\0';
	}
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)v)->len != 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return memcmp(v, zero, 8) != 0;
	case PROTOBUF_C_TYPE_BOOL:
		return *(const protobuf_c_boolean *)v != 0;
	default:		/* 32-bit integers, enums, float */
		return memcmp(v, zero, 4) != 0;
	}
}

/*
 * Refuses @p m when it sets a field not named in @p ok (NULL-terminated) or
 * carries fields unknown to these protos. @p at is the message's path.
 */
static int
only(struct tr *t, const ProtobufCMessage *m, const char *at, const char *const *ok)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		bool allowed = false;

		if (!field_set(m, f))
			continue;
		for (const char *const *k = ok; *k != NULL && !allowed; k++)
			allowed = strcmp(*k, f->name) == 0;
		if (!allowed)
			return bad(t, at, "field '%s' is not supported by Hydrofoil (yet)", f->name);
	}
	if (m->n_unknown_fields > 0)
		return bad(t, at, "unknown field number %u", m->unknown_fields[0].tag);
	return 0;
}

#define ONLY(t, m, at, ...) only((t), &(m)->base, (at), (const char *const[]){__VA_ARGS__, NULL})

/* Unpacks Any @p a as a @p d message; NULL with the failure set. Free with protobuf_c_message_free_unpacked. */
static ProtobufCMessage *
unpack_any(struct tr *t, const Google__Protobuf__Any *a, const ProtobufCMessageDescriptor *d,
	   const char *at)
{
	const char *slash = strrchr(a->type_url, '/');
	const char *name = slash != NULL ? slash + 1 : a->type_url;
	ProtobufCMessage *m;

	if (strcmp(name, d->name) != 0) {
		bad(t, at, "type '%s' is not supported here (want %s)", a->type_url, d->name);
		return NULL;
	}
	m = protobuf_c_message_unpack(d, NULL, a->value.len, a->value.data);
	if (m == NULL)
		bad(t, at, "not a valid %s message", d->name);
	return m;
}

static uint32_t
duration_ms(const Google__Protobuf__Duration *d)
{
	int64_t ms = d->seconds * 1000 + d->nanos / 1000000;

	return ms < 0 ? 0 : ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

/* ------------------------------------------------------------------------------------------- */
/* route configurations                                                                         */

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
	default:
		return bad(t, at, "no match pattern");
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

	/* exact_match, prefix_match, safe_regex_match: deprecated in v3 for string_match, refused */
	if (ONLY(t, h, at, "name", "present_match", "string_match", "invert_match") != 0)
		return t->rc;
	switch (h->header_match_specifier_case) {
	case ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_PRESENT_MATCH:
		if (!h->present_match)
			return bad(t, at, "present_match false is not supported (use invert_match)");
		sm.kind = HF_MATCH_PRESENT;
		break;
	case ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_STRING_MATCH:
		path(p, sizeof(p), "%s.string_match", at);
		string_matcher(t, h->string_match, p, &sm);
		break;
	default:
		return bad(t, at, "no match specifier");
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
	default:
		return bad(t, at, "no path specifier (prefix, path or safe_regex)");
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
			if (rp->retriable_status_codes[i] < 100 || rp->retriable_status_codes[i] > 599)
				return bad(t, at, "retriable_status_codes[%zu]: %u is not an HTTP status",
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
	if (a->cluster_specifier_case == ENVOY__CONFIG__ROUTE__V3__ROUTE_ACTION__CLUSTER_SPECIFIER_CLUSTER) {
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
			const Envoy__Config__Route__V3__WeightedCluster__ClusterWeight *cw = wc->clusters[i];
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
	default:
		return bad(t, at, "no action (route or direct_response)");
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
hf_xds_tr_route_config(const Envoy__Config__Route__V3__RouteConfiguration *rc,
		       struct hf_model *m, char *err, size_t errlen)
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
	mrc->vhosts = calloc(rc->n_virtual_hosts == 0 ? 1 : rc->n_virtual_hosts, sizeof(*mrc->vhosts));
	if (mrc->vhosts == NULL)
		return nomem(&t);
	for (size_t i = 0; i < rc->n_virtual_hosts && t.rc == 0; i++) {
		path(p, sizeof(p), "virtual_hosts[%zu]", i);
		mrc->n_vhosts++;
		vhost(&t, rc->virtual_hosts[i], p, &mrc->vhosts[i]);
	}
	return t.rc;
}

/* ------------------------------------------------------------------------------------------- */
/* listeners                                                                                    */

/* An RDS or EDS config source: only ADS, the stream this client holds, is spoken. */
static int
config_source(struct tr *t, const Envoy__Config__Core__V3__ConfigSource *cs, const char *at)
{
	/* initial_fetch_timeout is accepted: this client waits for the resource however long. */
	if (ONLY(t, cs, at, "ads", "resource_api_version", "initial_fetch_timeout") != 0)
		return t->rc;
	if (cs->config_source_specifier_case !=
	    ENVOY__CONFIG__CORE__V3__CONFIG_SOURCE__CONFIG_SOURCE_SPECIFIER_ADS)
		return bad(t, at, "only ads is supported as a config source");
	return 0;
}

static int
http_filters(struct tr *t, const Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager *h,
	     const char *at)
{
	char p[PATH];
	size_t last = h->n_http_filters;

	/* The router must be there and last (Envoy refuses a chain that does not end with it). */
	for (size_t i = 0; i < h->n_http_filters && t->rc == 0; i++) {
		const Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpFilter *f =
			h->http_filters[i];
		ProtobufCMessage *router;

		path(p, sizeof(p), "%s.http_filters[%zu]", at, i);
		if (ONLY(t, f, p, "name", "typed_config", "is_optional") != 0)
			return t->rc;
		if (f->typed_config == NULL || strcmp(f->name, "envoy.filters.http.router") != 0) {
			/* An optional filter this data plane lacks is skipped, as Envoy does. */
			if (f->is_optional)
				continue;
			return bad(t, p, "HTTP filter '%s' is not supported (mark it is_optional to skip it)",
				   f->name);
		}
		path(p, sizeof(p), "%s.http_filters[%zu].typed_config", at, i);
		router = unpack_any(t, f->typed_config, &envoy__extensions__filters__http__router__v3__router__descriptor, p);
		if (router == NULL)
			return t->rc;
		only(t, router, p, (const char *const[]){NULL});
		protobuf_c_message_free_unpacked(router, NULL);
		last = i;
	}
	if (t->rc == 0 && last != h->n_http_filters - 1)
		return bad(t, at, "http_filters: the last filter must be envoy.filters.http.router");
	return t->rc;
}

static int
hcm(struct tr *t, const Google__Protobuf__Any *any, const char *at, struct hf_model *m,
    struct hf_model_listener *ml, char **rds)
{
	Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager *h;
	char p[PATH];

	h = (void *)unpack_any(t, any, &envoy__extensions__filters__network__http_connection_manager__v3__http_connection_manager__descriptor, at);
	if (h == NULL)
		return t->rc;
	if (ONLY(t, h, at, "codec_type", "stat_prefix", "rds", "route_config", "http_filters") != 0)
		goto out;
	if (h->codec_type != ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__CODEC_TYPE__AUTO &&
	    h->codec_type != ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__CODEC_TYPE__HTTP1) {
		bad(t, at, "codec_type: only AUTO and HTTP1 (HTTP/1.1 is what the data plane speaks)");
		goto out;
	}
	if (http_filters(t, h, at) != 0)
		goto out;
	ml->kind = HF_LISTENER_HTTP;
	ml->route_config = -1;
	if (h->route_specifier_case ==
	    ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__ROUTE_SPECIFIER_RDS) {
		path(p, sizeof(p), "%s.rds", at);
		if (ONLY(t, h->rds, p, "config_source", "route_config_name") != 0)
			goto out;
		if (h->rds->route_config_name[0] == '\0') {
			bad(t, p, "no route_config_name");
			goto out;
		}
		if (h->rds->config_source != NULL) {
			path(p, sizeof(p), "%s.rds.config_source", at);
			if (config_source(t, h->rds->config_source, p) != 0)
				goto out;
		}
		*rds = sdup(t, h->rds->route_config_name);
	} else if (h->route_specifier_case ==
		   ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__ROUTE_SPECIFIER_ROUTE_CONFIG) {
		char e2[200];
		int rc = hf_xds_tr_route_config(h->route_config, m, e2, sizeof(e2));

		if (rc == -ENOMEM) {
			nomem(t);
		} else if (rc != 0) {
			bad(t, at, "route_config.%s", e2);
		} else {
			ml->route_config = (int)m->n_route_configs - 1;
			if (m->route_configs[ml->route_config].name[0] == '\0') {
				free(m->route_configs[ml->route_config].name);
				m->route_configs[ml->route_config].name = sdup(t, ml->name);
			}
		}
	} else {
		bad(t, at, "no rds or route_config");
	}
out:
	protobuf_c_message_free_unpacked(&h->base, NULL);
	return t->rc;
}

static int
tcp_proxy(struct tr *t, const Google__Protobuf__Any *any, const char *at,
	  struct hf_model_listener *ml)
{
	Envoy__Extensions__Filters__Network__TcpProxy__V3__TcpProxy *tp;
	struct hf_model_l4_route *r;

	tp = (void *)unpack_any(t, any, &envoy__extensions__filters__network__tcp_proxy__v3__tcp_proxy__descriptor, at);
	if (tp == NULL)
		return t->rc;
	if (ONLY(t, tp, at, "stat_prefix", "cluster") != 0)
		goto out;
	if (tp->cluster_specifier_case !=
	    ENVOY__EXTENSIONS__FILTERS__NETWORK__TCP_PROXY__V3__TCP_PROXY__CLUSTER_SPECIFIER_CLUSTER ||
	    tp->cluster[0] == '\0') {
		bad(t, at, "no cluster");
		goto out;
	}
	ml->kind = HF_LISTENER_TCP;
	ml->route_config = -1;
	r = grow(t, &ml->l4_routes, &ml->n_l4_routes, sizeof(*r));
	if (r == NULL)
		goto out;
	r->clusters = calloc(1, sizeof(*r->clusters));
	if (r->clusters == NULL) {
		nomem(t);
		goto out;
	}
	r->n_clusters = 1;
	r->clusters[0].cluster = sdup(t, tp->cluster);
	r->clusters[0].weight = 1;
out:
	protobuf_c_message_free_unpacked(&tp->base, NULL);
	return t->rc;
}

#define HCM_NAME "envoy.filters.network.http_connection_manager"
#define TCP_PROXY_NAME "envoy.filters.network.tcp_proxy"

int
hf_xds_tr_listener(const Envoy__Config__Listener__V3__Listener *l, struct hf_model *m, char **rds,
		   char *err, size_t errlen)
{
	struct tr t = {.err = err, .errlen = errlen};
	const Envoy__Config__Core__V3__SocketAddress *sa;
	const Envoy__Config__Listener__V3__FilterChain *fc;
	const Envoy__Config__Listener__V3__Filter *f;
	struct hf_model_listener *ml;
	struct in_addr ia;

	*rds = NULL;
	if (ONLY(&t, l, "Listener", "name", "address", "filter_chains", "traffic_direction") != 0)
		return t.rc;
	if (l->address == NULL)
		return bad(&t, "address", "missing");
	if (ONLY(&t, l->address, "address", "socket_address") != 0)
		return t.rc;
	sa = l->address->socket_address;
	if (sa == NULL)
		return bad(&t, "address", "only socket_address is supported");
	if (ONLY(&t, sa, "address.socket_address", "address", "port_value") != 0)
		return t.rc;
	/* The data plane listens on its ports' addresses: a listener names the port only. */
	if (inet_pton(AF_INET, sa->address, &ia) != 1 && strcmp(sa->address, "::") != 0)
		return bad(&t, "address.socket_address.address", "'%s' is not an IPv4 address",
			   sa->address);
	if (sa->port_value == 0 || sa->port_value > 65535)
		return bad(&t, "address.socket_address.port_value", "%u is not a port", sa->port_value);
	if (l->n_filter_chains != 1)
		return bad(&t, "filter_chains", "exactly one filter chain is supported (got %zu)",
			   l->n_filter_chains);
	fc = l->filter_chains[0];
	if (ONLY(&t, fc, "filter_chains[0]", "name", "filters") != 0)
		return t.rc;
	if (fc->n_filters != 1)
		return bad(&t, "filter_chains[0].filters", "exactly one network filter "
			   "(http_connection_manager or tcp_proxy) is supported (got %zu)", fc->n_filters);
	f = fc->filters[0];
	if (ONLY(&t, f, "filter_chains[0].filters[0]", "name", "typed_config") != 0)
		return t.rc;
	if (f->typed_config == NULL)
		return bad(&t, "filter_chains[0].filters[0]", "no typed_config");
	ml = grow(&t, &m->listeners, &m->n_listeners, sizeof(*ml));
	if (ml == NULL)
		return t.rc;
	ml->name = sdup(&t, l->name);
	ml->port = (uint16_t)sa->port_value;
	ml->route_config = -1;
	if (t.rc != 0)
		return t.rc;
	if (strcmp(f->name, HCM_NAME) == 0)
		return hcm(&t, f->typed_config, "filter_chains[0].filters[0].typed_config", m, ml, rds);
	if (strcmp(f->name, TCP_PROXY_NAME) == 0)
		return tcp_proxy(&t, f->typed_config, "filter_chains[0].filters[0].typed_config", ml);
	return bad(&t, "filter_chains[0].filters[0].name", "network filter '%s' is not supported",
		   f->name);
}

/* ------------------------------------------------------------------------------------------- */
/* clusters and endpoints                                                                       */

static void
free_endpoints(struct hf_model_cluster *mc)
{
	for (unsigned int i = 0; i < mc->n_endpoints; i++) {
		free(mc->endpoints[i].locality);
		for (unsigned int j = 0; j < mc->endpoints[i].n_labels; j++)
			free(mc->endpoints[i].labels[j]);
		free(mc->endpoints[i].labels);
	}
	free(mc->endpoints);
	mc->endpoints = NULL;
	mc->n_endpoints = 0;
}

static int
endpoints(struct tr *t, const Envoy__Config__Endpoint__V3__ClusterLoadAssignment *cla,
	  const char *at, struct hf_model_cluster *mc)
{
	char p[PATH], q[PATH];

	if (ONLY(t, cla, at, "cluster_name", "endpoints") != 0)
		return t->rc;
	free_endpoints(mc);
	for (size_t i = 0; i < cla->n_endpoints && t->rc == 0; i++) {
		const Envoy__Config__Endpoint__V3__LocalityLbEndpoints *le = cla->endpoints[i];
		char loc[3 * 64 + 3] = "";

		path(p, sizeof(p), "%sendpoints[%zu]", at, i);
		if (ONLY(t, le, p, "locality", "lb_endpoints") != 0)
			return t->rc;
		if (le->locality != NULL) {
			path(q, sizeof(q), "%s.locality", p);
			if (ONLY(t, le->locality, q, "region", "zone", "sub_zone") != 0)
				return t->rc;
			snprintf(loc, sizeof(loc), "%.64s/%.64s/%.64s", le->locality->region,
				 le->locality->zone, le->locality->sub_zone);
		}
		for (size_t j = 0; j < le->n_lb_endpoints && t->rc == 0; j++) {
			const Envoy__Config__Endpoint__V3__LbEndpoint *lb = le->lb_endpoints[j];
			const Envoy__Config__Core__V3__SocketAddress *sa;
			struct hf_model_endpoint *e;
			struct in_addr ia;

			path(q, sizeof(q), "%s.lb_endpoints[%zu]", p, j);
			if (ONLY(t, lb, q, "endpoint", "health_status", "load_balancing_weight") != 0)
				return t->rc;
			if (lb->endpoint == NULL || lb->endpoint->address == NULL ||
			    lb->endpoint->address->socket_address == NULL)
				return bad(t, q, "no endpoint.address.socket_address");
			if (ONLY(t, lb->endpoint, q, "address") != 0 ||
			    ONLY(t, lb->endpoint->address, q, "socket_address") != 0)
				return t->rc;
			sa = lb->endpoint->address->socket_address;
			if (ONLY(t, sa, q, "address", "port_value") != 0)
				return t->rc;
			if (inet_pton(AF_INET, sa->address, &ia) != 1)
				return bad(t, q, "endpoint.address.socket_address.address: '%s' is not "
					   "an IPv4 address", sa->address);
			if (sa->port_value == 0 || sa->port_value > 65535)
				return bad(t, q, "endpoint.address.socket_address.port_value: %u is not "
					   "a port", sa->port_value);
			if (lb->load_balancing_weight != NULL && lb->load_balancing_weight->value == 0)
				return bad(t, q, "load_balancing_weight: 0 (must be at least 1)");
			/* Envoy sends traffic to HEALTHY and UNKNOWN hosts; the others wait. */
			if (lb->health_status != ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__UNKNOWN &&
			    lb->health_status != ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__HEALTHY)
				continue;
			e = grow(t, &mc->endpoints, &mc->n_endpoints, sizeof(*e));
			if (e == NULL)
				return t->rc;
			e->addr = ia.s_addr;
			e->port = (uint16_t)sa->port_value;
			e->weight = lb->load_balancing_weight != NULL ? lb->load_balancing_weight->value : 1;
			if (loc[0] != '\0')
				e->locality = sdup(t, loc);
		}
	}
	return t->rc;
}

int
hf_xds_tr_endpoints(const Envoy__Config__Endpoint__V3__ClusterLoadAssignment *cla,
		    struct hf_model_cluster *mc, char *err, size_t errlen)
{
	struct tr t = {.err = err, .errlen = errlen};

	return endpoints(&t, cla, "", mc);
}

int
hf_xds_tr_cluster(const Envoy__Config__Cluster__V3__Cluster *c, struct hf_model *m, char **eds,
		  char *err, size_t errlen)
{
	struct tr t = {.err = err, .errlen = errlen};
	struct hf_model_cluster *mc;

	*eds = NULL;
	if (ONLY(&t, c, "Cluster", "name", "type", "eds_cluster_config", "connect_timeout",
		 "lb_policy", "load_assignment") != 0)
		return t.rc;
	if (c->name[0] == '\0')
		return bad(&t, "name", "empty");
	mc = grow(&t, &m->clusters, &m->n_clusters, sizeof(*mc));
	if (mc == NULL)
		return t.rc;
	mc->name = sdup(&t, c->name);
	mc->service = sdup(&t, c->name);
	mc->connect_timeout_ms = c->connect_timeout != NULL ? duration_ms(c->connect_timeout)
							    : CONNECT_TIMEOUT_MS;
	switch (c->lb_policy) {
	case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__ROUND_ROBIN:
		mc->lb = HF_LB_ROUND_ROBIN;
		break;
	case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__LEAST_REQUEST:
		mc->lb = HF_LB_LEAST_REQUEST;
		break;
	case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__RANDOM:
		mc->lb = HF_LB_RANDOM;
		break;
	default:
		return bad(&t, "lb_policy", "only ROUND_ROBIN, LEAST_REQUEST and RANDOM are supported");
	}
	if (c->cluster_discovery_type_case !=
	    ENVOY__CONFIG__CLUSTER__V3__CLUSTER__CLUSTER_DISCOVERY_TYPE_TYPE &&
	    c->cluster_discovery_type_case != ENVOY__CONFIG__CLUSTER__V3__CLUSTER__CLUSTER_DISCOVERY_TYPE__NOT_SET)
		return bad(&t, "cluster_type", "custom cluster types are not supported");
	/* Absent, type is STATIC (its default, 0). */
	switch (c->type) {
	case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__STATIC:
		if (c->eds_cluster_config != NULL)
			return bad(&t, "eds_cluster_config", "set on a STATIC cluster");
		if (c->load_assignment == NULL)
			return bad(&t, "load_assignment", "a STATIC cluster needs one");
		return endpoints(&t, c->load_assignment, "load_assignment.", mc);
	case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__EDS:
		if (c->load_assignment != NULL)
			return bad(&t, "load_assignment", "set on an EDS cluster");
		if (c->eds_cluster_config != NULL) {
			if (ONLY(&t, c->eds_cluster_config, "eds_cluster_config", "eds_config",
				 "service_name") != 0)
				return t.rc;
			if (c->eds_cluster_config->eds_config != NULL &&
			    config_source(&t, c->eds_cluster_config->eds_config,
					  "eds_cluster_config.eds_config") != 0)
				return t.rc;
			if (c->eds_cluster_config->service_name[0] != '\0') {
				*eds = sdup(&t, c->eds_cluster_config->service_name);
				return t.rc;
			}
		}
		*eds = sdup(&t, c->name);
		return t.rc;
	default:
		return bad(&t, "type", "only STATIC and EDS clusters are supported");
	}
}
