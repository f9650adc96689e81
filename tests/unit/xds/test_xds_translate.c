/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Envoy resources into the model (control-agent/xds/translate.c): what each
 * supported field becomes, and the NACK reason of what is not supported —
 * the resource's field path and the cause, never a silent drop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "hf_test.h"
#include "control-agent/xds/translate.h"
#include "xds_listener.h"

static char err[512];
static struct hf_xds_sds nosds; /* these resources name no secret */

static void
test_listener_rds(void **state)
{
	struct http_listener x;
	struct hf_model m = {0};
	char *rds = NULL;

	(void)state;
	http_listener(&x, 8080, "http.8080");
	pack(&x.hcm_any, &x.h.base);
	assert_int_equal(hf_xds_tr_listener(&x.l, &m, &rds, &nosds, err, sizeof(err)), 0);
	assert_int_equal(m.n_listeners, 1);
	assert_int_equal(m.listeners[0].port, 8080);
	assert_int_equal(m.listeners[0].kind, HF_LISTENER_HTTP);
	assert_int_equal(m.listeners[0].route_config, -1);
	assert_string_equal(m.listeners[0].name, "http_80");
	assert_string_equal(rds, "http.8080");
	free(rds);
	hf_model_free(&m);
	free(x.hcm_any.value.data);
	free(x.router_any.value.data);
}

/* Each case breaks one thing; the error names where. */
static void
test_listener_refused(void **state)
{
	static const struct {
		int what;
		const char *want;
	} cases[] = {
	        {0, "filter_chains[1]: matches what filter_chains[0] matches"},
	        {1, "field 'per_connection_buffer_limit_bytes' is not supported"},
	        {2, "http_filters[0]: HTTP filter 'istio.stats' is not supported"},
	        {3, "codec_type"},
	        {4,
	         "filter_chains[0].filters[0].name: network filter 'envoy.filters.network.rbac'"},
	        {5, "port_value: 0 is not a port"},
	        {6, "use_remote_address: false is not supported"},
	        /* the control plane's strings reach logs and error_detail as one printable line */
	        {7, "network filter 'evil?name?"
	            "?' is not supported"},
	};
	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_listener x;
		struct hf_model m = {0};
		Google__Protobuf__UInt32Value limit = GOOGLE__PROTOBUF__UINT32_VALUE__INIT;
		Google__Protobuf__BoolValue yes = GOOGLE__PROTOBUF__BOOL_VALUE__INIT;
		char *rds = NULL;

		http_listener(&x, 80, "r");
		switch (cases[i].what) {
		case 0:
			x.pfc[1] = &x.fc;
			x.l.n_filter_chains = 2;
			break;
		case 1:
			limit.value = 1024;
			x.l.per_connection_buffer_limit_bytes = &limit;
			break;
		case 2: x.hf.name = "istio.stats"; break;
		case 3:
			x.h.codec_type =
			        ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__CODEC_TYPE__HTTP2;
			break;
		case 4: x.f.name = "envoy.filters.network.rbac"; break;
		case 5: x.sa.port_value = 0; break;
		case 6:
			yes.value = 0; /* Hydrofoil is the edge: true is taken */
			x.h.use_remote_address = &yes;
			break;
		case 7: x.f.name = "evil\nname\x01\x7f"; break;
		}
		pack(&x.hcm_any, &x.h.base);
		err[0] = '\0';
		assert_int_equal(hf_xds_tr_listener(&x.l, &m, &rds, &nosds, err, sizeof(err)), -EINVAL);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %u: '%s' does not say '%s'", i, err, cases[i].want);
		assert_null(rds);
		hf_model_free(&m);
		free(x.hcm_any.value.data);
		free(x.router_any.value.data);
	}
}

/* An optional filter Hydrofoil lacks is skipped, as Envoy does with is_optional. */
static void
test_listener_optional_filter(void **state)
{
	struct http_listener x;
	Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpFilter opt, *two[2];
	struct hf_model m = {0};
	char *rds = NULL;

	(void)state;
	http_listener(&x, 80, "r");
	envoy__extensions__filters__network__http_connection_manager__v3__http_filter__init(&opt);
	opt.name = "istio.metadata_exchange";
	opt.is_optional = 1;
	two[0] = &opt;
	two[1] = &x.hf;
	x.h.n_http_filters = 2;
	x.h.http_filters = two;
	pack(&x.hcm_any, &x.h.base);
	assert_int_equal(hf_xds_tr_listener(&x.l, &m, &rds, &nosds, err, sizeof(err)), 0);
	free(rds);
	hf_model_free(&m);
	free(x.hcm_any.value.data);
	free(x.router_any.value.data);
}

struct rc {
	Envoy__Config__Route__V3__RouteConfiguration rc;
	Envoy__Config__Route__V3__VirtualHost vh, *pvh[1];
	Envoy__Config__Route__V3__Route r, *pr[1];
	Envoy__Config__Route__V3__RouteMatch match;
	Envoy__Config__Route__V3__RouteAction action;
	char *domains[2];
};

static void
route_config(struct rc *x)
{
	memset(x, 0, sizeof(*x));
	envoy__config__route__v3__route_configuration__init(&x->rc);
	envoy__config__route__v3__virtual_host__init(&x->vh);
	envoy__config__route__v3__route__init(&x->r);
	envoy__config__route__v3__route_match__init(&x->match);
	envoy__config__route__v3__route_action__init(&x->action);
	x->rc.name = "http.80";
	x->domains[0] = "Bookinfo.Example";
	x->domains[1] = "*";
	x->vh.name = "vh";
	x->vh.n_domains = 2;
	x->vh.domains = x->domains;
	x->match.path_specifier_case = ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_PREFIX;
	x->match.prefix = "/api";
	x->action.cluster_specifier_case =
	        ENVOY__CONFIG__ROUTE__V3__ROUTE_ACTION__CLUSTER_SPECIFIER_CLUSTER;
	x->action.cluster = "web";
	x->r.match = &x->match;
	x->r.action_case = ENVOY__CONFIG__ROUTE__V3__ROUTE__ACTION_ROUTE;
	x->r.route = &x->action;
	x->pr[0] = &x->r;
	x->vh.n_routes = 1;
	x->vh.routes = x->pr;
	x->pvh[0] = &x->vh;
	x->rc.n_virtual_hosts = 1;
	x->rc.virtual_hosts = x->pvh;
}

static void
test_routes(void **state)
{
	struct rc x;
	struct hf_model m = {0};
	Envoy__Config__Route__V3__HeaderMatcher h = ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__INIT,
	                                        *ph = &h;
	Envoy__Type__Matcher__V3__StringMatcher sm = ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__INIT;
	Envoy__Config__Route__V3__WeightedCluster wc =
	        ENVOY__CONFIG__ROUTE__V3__WEIGHTED_CLUSTER__INIT;
	Envoy__Config__Route__V3__WeightedCluster__ClusterWeight
	        w1 = ENVOY__CONFIG__ROUTE__V3__WEIGHTED_CLUSTER__CLUSTER_WEIGHT__INIT,
	        w2 = w1, *pw[2] = {&w1, &w2};
	Google__Protobuf__UInt32Value v20 = GOOGLE__PROTOBUF__UINT32_VALUE__INIT, v80 = v20,
	                              n3 = v20;
	Envoy__Config__Route__V3__RetryPolicy rp = ENVOY__CONFIG__ROUTE__V3__RETRY_POLICY__INIT;
	Google__Protobuf__Duration d = GOOGLE__PROTOBUF__DURATION__INIT;
	uint32_t codes[] = {503};
	const struct hf_model_route *r;

	(void)state;
	route_config(&x);
	sm.match_pattern_case = ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_EXACT;
	sm.exact = "yes";
	h.name = "X-Canary";
	h.header_match_specifier_case =
	        ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_STRING_MATCH;
	h.string_match = &sm;
	h.invert_match = 1;
	x.match.n_headers = 1;
	x.match.headers = &ph;
	v20.value = 20;
	v80.value = 80;
	w1.name = "a";
	w1.weight = &v20;
	w2.name = "b";
	w2.weight = &v80;
	wc.n_clusters = 2;
	wc.clusters = pw;
	x.action.cluster_specifier_case =
	        ENVOY__CONFIG__ROUTE__V3__ROUTE_ACTION__CLUSTER_SPECIFIER_WEIGHTED_CLUSTERS;
	x.action.weighted_clusters = &wc;
	rp.retry_on = "5xx,retriable-status-codes";
	n3.value = 3;
	rp.num_retries = &n3;
	rp.n_retriable_status_codes = 1;
	rp.retriable_status_codes = codes;
	x.action.retry_policy = &rp;
	d.seconds = 2;
	d.nanos = 500000000;
	x.action.timeout = &d;
	x.action.prefix_rewrite = "/v2";
	assert_int_equal(hf_xds_tr_route_config(&x.rc, &m, err, sizeof(err)), 0);
	assert_int_equal(m.n_route_configs, 1);
	assert_string_equal(m.route_configs[0].name, "http.80");
	assert_int_equal(m.route_configs[0].n_vhosts, 1);
	assert_string_equal(m.route_configs[0].vhosts[0].domains[0], "bookinfo.example");
	r = &m.route_configs[0].vhosts[0].routes[0];
	assert_int_equal(r->n_matches, 1);
	assert_int_equal(r->matches[0].uri.kind, HF_MATCH_PREFIX);
	assert_string_equal(r->matches[0].uri.value, "/api");
	assert_int_equal(r->matches[0].n_headers, 1);
	assert_string_equal(r->matches[0].headers[0].name, "x-canary");
	assert_true(r->matches[0].headers[0].absent);
	assert_int_equal(r->n_clusters, 2);
	assert_string_equal(r->clusters[1].cluster, "b");
	assert_int_equal(r->clusters[1].weight, 80);
	assert_int_equal(r->timeout_ms, 2500);
	assert_int_equal(r->retry.attempts, 3);
	assert_int_equal(r->retry.on, HF_RETRY_5XX | HF_RETRY_RETRIABLE_CODES);
	assert_int_equal(r->retry.n_codes, 1);
	assert_int_equal(r->retry.codes[0], 503);
	assert_string_equal(r->rewrite_uri, "/v2");
	hf_model_free(&m);

	/* Without a timeout, Envoy's default of 15 s; without num_retries, 1. */
	route_config(&x);
	rp.num_retries = NULL;
	rp.n_retriable_status_codes = 0;
	rp.retry_on = "connect-failure";
	x.action.retry_policy = &rp;
	x.match.path_specifier_case = ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_PATH;
	x.match.path = "/exact";
	assert_int_equal(hf_xds_tr_route_config(&x.rc, &m, err, sizeof(err)), 0);
	r = &m.route_configs[0].vhosts[0].routes[0];
	assert_int_equal(r->matches[0].uri.kind, HF_MATCH_EXACT);
	assert_int_equal(r->timeout_ms, 15000);
	assert_int_equal(r->retry.attempts, 1);
	hf_model_free(&m);
}

static void
test_routes_refused(void **state)
{
	static const struct {
		int what;
		const char *want;
	} cases[] = {
	        {0, "virtual_hosts[0].routes[0].redirect: redirects to the same URL"},
	        {1, "virtual_hosts[0].routes[0].route: field 'cluster_header' is not supported"},
	        {2, "virtual_hosts[0].routes[0].route.retry_policy: retry_on: 'bogus' is not "
	            "supported"},
	        {3, "virtual_hosts[0].routes[0].match: no path specifier"},
	        {4, "virtual_hosts[0]: no domains"},
	        {5, "virtual_hosts[0].routes[0].match: field 'runtime_fraction' is not supported"},
	};
	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rc x;
		struct hf_model m = {0};
		Envoy__Config__Route__V3__RedirectAction red =
		        ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__INIT;
		Envoy__Config__Route__V3__RetryPolicy rp =
		        ENVOY__CONFIG__ROUTE__V3__RETRY_POLICY__INIT;
		Envoy__Config__Core__V3__RuntimeFractionalPercent rf =
		        ENVOY__CONFIG__CORE__V3__RUNTIME_FRACTIONAL_PERCENT__INIT;

		route_config(&x);
		switch (cases[i].what) {
		case 0:
			x.r.action_case = ENVOY__CONFIG__ROUTE__V3__ROUTE__ACTION_REDIRECT;
			x.r.redirect = &red;
			break;
		case 1:
			x.action.cluster_specifier_case =
			        ENVOY__CONFIG__ROUTE__V3__ROUTE_ACTION__CLUSTER_SPECIFIER_CLUSTER_HEADER;
			x.action.cluster_header = "x-cluster";
			break;
		case 2:
			rp.retry_on = "5xx,bogus";
			x.action.retry_policy = &rp;
			break;
		case 3:
			x.match.path_specifier_case =
			        ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER__NOT_SET;
			break;
		case 4: x.vh.n_domains = 0; break;
		case 5:
			rf.runtime_key = "k";
			x.match.runtime_fraction = &rf;
			break;
		}
		err[0] = '\0';
		assert_int_equal(hf_xds_tr_route_config(&x.rc, &m, err, sizeof(err)), -EINVAL);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %u: '%s' does not say '%s'", i, err, cases[i].want);
		hf_model_free(&m);
	}
}

/* hv: a HeaderValueOption, overwrite or append. */
static void
hv(Envoy__Config__Core__V3__HeaderValueOption *o, Envoy__Config__Core__V3__HeaderValue *h,
   const char *key, const char *value, bool overwrite)
{
	envoy__config__core__v3__header_value_option__init(o);
	envoy__config__core__v3__header_value__init(h);
	h->key = (char *)key;
	h->value = (char *)value;
	o->header = h;
	o->append_action =
	        overwrite
	                ? ENVOY__CONFIG__CORE__V3__HEADER_VALUE_OPTION__HEADER_APPEND_ACTION__OVERWRITE_IF_EXISTS_OR_ADD
	                : ENVOY__CONFIG__CORE__V3__HEADER_VALUE_OPTION__HEADER_APPEND_ACTION__APPEND_IF_EXISTS_OR_ADD;
}

/*
 * Header lists at the route, virtual host and route configuration levels, in
 * Envoy's order (route first, an outer level's removal or overwrite replaces what
 * inner levels did to that name); "%%" unescaped; an empty value skipped.
 */
static void
test_route_header_levels(void **state)
{
	struct rc x;
	struct hf_model m = {0};
	Envoy__Config__Core__V3__HeaderValueOption o[6], *ro[3] = {&o[0], &o[1], &o[5]},
	                                                 *vo[1] = {&o[2]}, *co[2] = {&o[3], &o[4]};
	Envoy__Config__Core__V3__HeaderValue h[6];
	char *rm[1] = {"X-Gone"};
	const struct hf_model_route *r;

	(void)state;
	route_config(&x);
	hv(&o[0], &h[0], "X-A", "1", true);	/* route: set x-a 1 */
	hv(&o[1], &h[1], "x-gone", "g", false);	/* route: add x-gone, removed by the vhost */
	hv(&o[5], &h[5], "x-empty", "", false);	/* skipped: empty, keep_empty_value false */
	hv(&o[2], &h[2], "x-a", "2", false);	/* vhost: add x-a 2 */
	hv(&o[3], &h[3], "x-b", "50%%", true);	/* config: set x-b "50%" */
	hv(&o[4], &h[4], "x-c", "c", false);
	x.r.n_request_headers_to_add = 3;
	x.r.request_headers_to_add = ro;
	x.vh.n_request_headers_to_add = 1;
	x.vh.request_headers_to_add = vo;
	x.vh.n_request_headers_to_remove = 1;
	x.vh.request_headers_to_remove = rm;
	x.rc.n_request_headers_to_add = 2;
	x.rc.request_headers_to_add = co;
	assert_int_equal(hf_xds_tr_route_config(&x.rc, &m, err, sizeof(err)), 0);
	r = &m.route_configs[0].vhosts[0].routes[0];
	/* set x-a 1, (add x-gone dropped) remove x-gone, add x-a 2, set x-b, add x-c */
	assert_int_equal(r->n_rq_ops, 5);
	assert_int_equal(r->rq_ops[0].op, HF_HDR_SET);
	assert_string_equal(r->rq_ops[0].name, "x-a");
	assert_int_equal(r->rq_ops[1].op, HF_HDR_REMOVE);
	assert_string_equal(r->rq_ops[1].name, "x-gone");
	assert_int_equal(r->rq_ops[2].op, HF_HDR_ADD);
	assert_string_equal(r->rq_ops[2].value, "2");
	assert_int_equal(r->rq_ops[3].op, HF_HDR_SET);
	assert_string_equal(r->rq_ops[3].value, "50%");
	assert_string_equal(r->rq_ops[4].name, "x-c");
	hf_model_free(&m);

	/* An overwrite at the configuration level replaces both of x-a's inner operations. */
	route_config(&x);
	hv(&o[3], &h[3], "x-a", "outer", true);
	x.r.n_request_headers_to_add = 1;
	x.r.request_headers_to_add = ro;
	x.vh.n_request_headers_to_add = 1;
	x.vh.request_headers_to_add = vo;
	x.rc.n_request_headers_to_add = 1;
	x.rc.request_headers_to_add = co;
	hv(&o[0], &h[0], "x-a", "1", true);
	hv(&o[2], &h[2], "x-a", "2", false);
	assert_int_equal(hf_xds_tr_route_config(&x.rc, &m, err, sizeof(err)), 0);
	r = &m.route_configs[0].vhosts[0].routes[0];
	assert_int_equal(r->n_rq_ops, 1);
	assert_string_equal(r->rq_ops[0].value, "outer");
	hf_model_free(&m);

	/* A command operator is refused, naming the field; so are :path and host. */
	route_config(&x);
	hv(&o[0], &h[0], "x-ip", "%DOWNSTREAM_REMOTE_ADDRESS%", true);
	x.r.n_response_headers_to_add = 1;
	x.r.response_headers_to_add = ro;
	assert_int_equal(hf_xds_tr_route_config(&x.rc, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "routes[0].response_headers_to_add[0].header: "
	                            "'%DOWNSTREAM_REMOTE_ADDRESS%': command operators"));
	hf_model_free(&m);
	memset(&m, 0, sizeof(m));
	route_config(&x);
	hv(&o[0], &h[0], "Host", "h", true);
	x.r.n_request_headers_to_add = 1;
	x.r.request_headers_to_add = ro;
	assert_int_equal(hf_xds_tr_route_config(&x.rc, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "header 'Host' cannot be added or removed"));
	hf_model_free(&m);
}

/* suffix and contains become regexes with the value's metacharacters escaped. */
static void
test_route_string_matchers(void **state)
{
	struct rc x;
	struct hf_model m = {0};
	Envoy__Config__Route__V3__HeaderMatcher h1 = ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__INIT,
	                                        h2 = h1, *ph[2] = {&h1, &h2};
	Envoy__Type__Matcher__V3__StringMatcher s1 = ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__INIT,
	                                        s2 = s1;
	const struct hf_model_route_match *rm;

	(void)state;
	route_config(&x);
	s1.match_pattern_case = ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_SUFFIX;
	s1.suffix = ".png";
	s2.match_pattern_case = ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_CONTAINS;
	s2.contains = "a(b)*[c]\\";
	s2.ignore_case = 1;
	h1.name = "x-file";
	h2.name = "user-agent";
	h1.header_match_specifier_case = h2.header_match_specifier_case =
	        ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_STRING_MATCH;
	h1.string_match = &s1;
	h2.string_match = &s2;
	x.match.n_headers = 2;
	x.match.headers = ph;
	assert_int_equal(hf_xds_tr_route_config(&x.rc, &m, err, sizeof(err)), 0);
	rm = &m.route_configs[0].vhosts[0].routes[0].matches[0];
	assert_int_equal(rm->headers[0].m.kind, HF_MATCH_REGEX);
	assert_string_equal(rm->headers[0].m.value, ".*\\.png");
	assert_string_equal(rm->headers[1].m.value, ".*a\\(b\\)\\*\\[c\\]\\\\.*");
	assert_true(rm->headers[1].m.ignore_case);
	hf_model_free(&m);
}

/* Redirects: Envoy's response codes, https_redirect, and what is refused. */
static void
test_route_redirect(void **state)
{
	struct rc x;
	struct hf_model m = {0};
	Envoy__Config__Route__V3__RedirectAction red = ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__INIT;
	const struct hf_model_route *r;

	(void)state;
	route_config(&x);
	red.response_code = ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__REDIRECT_RESPONSE_CODE__PERMANENT_REDIRECT;
	red.scheme_rewrite_specifier_case =
	        ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__SCHEME_REWRITE_SPECIFIER_HTTPS_REDIRECT;
	red.https_redirect = 1;
	red.host_redirect = "example.org";
	red.path_rewrite_specifier_case =
	        ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__PATH_REWRITE_SPECIFIER_PATH_REDIRECT;
	red.path_redirect = "/new";
	x.r.action_case = ENVOY__CONFIG__ROUTE__V3__ROUTE__ACTION_REDIRECT;
	x.r.redirect = &red;
	assert_int_equal(hf_xds_tr_route_config(&x.rc, &m, err, sizeof(err)), 0);
	r = &m.route_configs[0].vhosts[0].routes[0];
	assert_int_equal(r->action, HF_ACTION_REDIRECT);
	assert_int_equal(r->redirect_code, 308);
	assert_string_equal(r->redirect_scheme, "https");
	assert_string_equal(r->redirect_authority, "example.org");
	assert_string_equal(r->redirect_uri, "/new");
	hf_model_free(&m);

	memset(&m, 0, sizeof(m));
	red.path_redirect = "/new?x=1";	/* would replace the request's query: refused */
	assert_int_equal(hf_xds_tr_route_config(&x.rc, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "path_redirect '/new?x=1' must be a path"));
	hf_model_free(&m);
	memset(&m, 0, sizeof(m));
	red.path_redirect = "/new";
	red.strip_query = 1;
	assert_int_equal(hf_xds_tr_route_config(&x.rc, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "field 'strip_query' is not supported"));
	hf_model_free(&m);
}

static void
test_clusters(void **state)
{
	Envoy__Config__Cluster__V3__Cluster c = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__INIT;
	Envoy__Config__Cluster__V3__Cluster__EdsClusterConfig eds =
	        ENVOY__CONFIG__CLUSTER__V3__CLUSTER__EDS_CLUSTER_CONFIG__INIT;
	struct hf_model m = {0};
	char *name = NULL;

	(void)state;
	c.name = "outbound|80||web.default.svc.cluster.local";
	c.cluster_discovery_type_case =
	        ENVOY__CONFIG__CLUSTER__V3__CLUSTER__CLUSTER_DISCOVERY_TYPE_TYPE;
	c.type = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__EDS;
	c.lb_policy = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__LEAST_REQUEST;
	eds.service_name = "web-eds";
	c.eds_cluster_config = &eds;
	assert_int_equal(hf_xds_tr_cluster(&c, &m, &name, &nosds, err, sizeof(err)), 0);
	assert_string_equal(name, "web-eds");
	assert_int_equal(m.clusters[0].lb, HF_LB_LEAST_REQUEST);
	assert_int_equal(m.clusters[0].connect_timeout_ms, 5000);
	free(name);
	hf_model_free(&m);

	c.lb_policy = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__MAGLEV;
	assert_int_equal(hf_xds_tr_cluster(&c, &m, &name, &nosds, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "lb_policy"));
	hf_model_free(&m);

	c.lb_policy = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__ROUND_ROBIN;
	c.type = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__STRICT_DNS;
	c.eds_cluster_config = NULL;
	assert_int_equal(hf_xds_tr_cluster(&c, &m, &name, &nosds, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "type: only STATIC and EDS"));
	hf_model_free(&m);

	/* circuit breakers are stored (2^32-1, istiod's default, is unlimited: 0), not enforced */
	{
		Envoy__Config__Cluster__V3__CircuitBreakers cb =
		        ENVOY__CONFIG__CLUSTER__V3__CIRCUIT_BREAKERS__INIT;
		Envoy__Config__Cluster__V3__CircuitBreakers__Thresholds th =
		        ENVOY__CONFIG__CLUSTER__V3__CIRCUIT_BREAKERS__THRESHOLDS__INIT,
		        *pth = &th;
		Google__Protobuf__UInt32Value max = GOOGLE__PROTOBUF__UINT32_VALUE__INIT;
		Envoy__Config__Core__V3__Metadata md = ENVOY__CONFIG__CORE__V3__METADATA__INIT;

		max.value = UINT32_MAX;
		th.max_connections = th.max_pending_requests = th.max_requests = th.max_retries = &max;
		th.track_remaining = 1;
		cb.n_thresholds = 1;
		cb.thresholds = &pth;
		c.type = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__EDS;
		c.circuit_breakers = &cb;
		c.metadata = &md;
		assert_int_equal(hf_xds_tr_cluster(&c, &m, &name, &nosds, err, sizeof(err)), 0);
		assert_int_equal(m.clusters[0].max_connections, 0);
		assert_int_equal(m.clusters[0].max_requests, 0);
		free(name);
		hf_model_free(&m);
		max.value = 1024;
		assert_int_equal(hf_xds_tr_cluster(&c, &m, &name, &nosds, err, sizeof(err)), 0);
		assert_int_equal(m.clusters[0].max_connections, 1024);
		assert_int_equal(m.clusters[0].max_pending_requests, 1024);
		assert_int_equal(m.clusters[0].max_requests, 1024);
		assert_int_equal(m.clusters[0].max_retries, 1024);
		free(name);
		hf_model_free(&m);
	}
}

/* Three lb_endpoints at 198.51.100.1:9080, :9081 and @p third:9082, each set up in place. */
struct eps {
	Envoy__Config__Endpoint__V3__LbEndpoint lb[3], *plb[3];
	Envoy__Config__Endpoint__V3__Endpoint ep[3];
	Envoy__Config__Core__V3__Address ad[3];
	Envoy__Config__Core__V3__SocketAddress sa[3];
};

static void
eps_init(struct eps *x, const char *third)
{
	for (int i = 0; i < 3; i++) {
		envoy__config__endpoint__v3__lb_endpoint__init(&x->lb[i]);
		envoy__config__endpoint__v3__endpoint__init(&x->ep[i]);
		envoy__config__core__v3__address__init(&x->ad[i]);
		envoy__config__core__v3__socket_address__init(&x->sa[i]);
		x->sa[i].address = (char *)(i == 2 ? third : "198.51.100.1");
		x->sa[i].port_specifier_case =
		        ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__PORT_SPECIFIER_PORT_VALUE;
		x->sa[i].port_value = 9080 + (uint32_t)i;
		x->ad[i].address_case = ENVOY__CONFIG__CORE__V3__ADDRESS__ADDRESS_SOCKET_ADDRESS;
		x->ad[i].socket_address = &x->sa[i];
		x->ep[i].address = &x->ad[i];
		x->lb[i].host_identifier_case =
		        ENVOY__CONFIG__ENDPOINT__V3__LB_ENDPOINT__HOST_IDENTIFIER_ENDPOINT;
		x->lb[i].endpoint = &x->ep[i];
		x->plb[i] = &x->lb[i];
	}
}

/*
 * Priorities as Envoy weighs them (overprovisioning 140%): a level with half
 * its hosts unhealthy keeps 70% of the traffic and spills 30% to the next; a
 * healthy level 0 takes it all; more than 8 levels are refused.
 */
static void
test_endpoint_priorities(void **state)
{
	Envoy__Config__Endpoint__V3__ClusterLoadAssignment cla =
	        ENVOY__CONFIG__ENDPOINT__V3__CLUSTER_LOAD_ASSIGNMENT__INIT;
	Envoy__Config__Endpoint__V3__LocalityLbEndpoints le[2], *ple[2] = {&le[0], &le[1]};
	static struct eps e;
	Envoy__Config__Endpoint__V3__LbEndpoint *lb = e.lb, **plb = e.plb;
	Google__Protobuf__UInt32Value lw = GOOGLE__PROTOBUF__UINT32_VALUE__INIT;
	Envoy__Config__Core__V3__Metadata md;
	struct hf_model_cluster mc = {0};

	(void)state;
	eps_init(&e, "198.51.100.1");
	for (int i = 0; i < 2; i++)
		envoy__config__endpoint__v3__locality_lb_endpoints__init(&le[i]);
	/* level 0: 9080 healthy, 9081 unhealthy; level 1: 9082 (locality weight as Istio sends) */
	lb[1].health_status = ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__UNHEALTHY;
	/* istiod's endpoint metadata (workload, tlsMode) is taken */
	envoy__config__core__v3__metadata__init(&md);
	lb[0].metadata = &md;
	le[0].n_lb_endpoints = 2;
	le[0].lb_endpoints = plb;
	le[1].n_lb_endpoints = 1;
	le[1].lb_endpoints = &plb[2];
	le[1].priority = 1;
	lw.value = 1;
	le[1].load_balancing_weight = &lw;
	cla.cluster_name = "web";
	cla.n_endpoints = 2;
	cla.endpoints = ple;
	assert_int_equal(hf_xds_tr_endpoints(&cla, &mc, err, sizeof(err)), 0);
	assert_int_equal(mc.n_endpoints, 2);
	assert_int_equal(mc.endpoints[0].port, 9080);
	assert_int_equal(mc.endpoints[1].port, 9082);
	/* 70% and 30% of the traffic */
	assert_int_equal(mc.endpoints[0].weight * 3, mc.endpoints[1].weight * 7);

	/* level 0 healthy: level 1 takes nothing, and the weights are the endpoints' own */
	lb[1].health_status = ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__HEALTHY;
	assert_int_equal(hf_xds_tr_endpoints(&cla, &mc, err, sizeof(err)), 0);
	assert_int_equal(mc.n_endpoints, 2);
	assert_int_equal(mc.endpoints[0].port, 9080);
	assert_int_equal(mc.endpoints[1].port, 9081);
	assert_int_equal(mc.endpoints[0].weight, 1);

	/* level 0 all unhealthy: level 1 takes everything */
	lb[0].health_status = lb[1].health_status = ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__DRAINING;
	assert_int_equal(hf_xds_tr_endpoints(&cla, &mc, err, sizeof(err)), 0);
	assert_int_equal(mc.n_endpoints, 1);
	assert_int_equal(mc.endpoints[0].port, 9082);

	le[1].priority = 8;
	assert_int_equal(hf_xds_tr_endpoints(&cla, &mc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "endpoints[1]: priority 8: at most 8 levels"));
	{
		struct hf_model m = {.clusters = malloc(sizeof(mc)), .n_clusters = 1};

		assert_non_null(m.clusters);
		m.clusters[0] = mc;
		hf_model_free(&m);
	}
}

static void
test_endpoints(void **state)
{
	Envoy__Config__Endpoint__V3__ClusterLoadAssignment cla =
	        ENVOY__CONFIG__ENDPOINT__V3__CLUSTER_LOAD_ASSIGNMENT__INIT;
	Envoy__Config__Endpoint__V3__LocalityLbEndpoints
	        le = ENVOY__CONFIG__ENDPOINT__V3__LOCALITY_LB_ENDPOINTS__INIT,
	        *ple = &le;
	Envoy__Config__Core__V3__Locality loc = ENVOY__CONFIG__CORE__V3__LOCALITY__INIT;
	static struct eps e;
	Envoy__Config__Endpoint__V3__LbEndpoint *lb = e.lb, **plb = e.plb;
	Envoy__Config__Core__V3__SocketAddress *sa = e.sa;
	Google__Protobuf__UInt32Value w = GOOGLE__PROTOBUF__UINT32_VALUE__INIT;
	struct hf_model_cluster mc = {0};
	struct hf_model m = {0};

	(void)state;
	eps_init(&e, "198.51.100.3");
	w.value = 7;
	lb[0].load_balancing_weight = &w;
	lb[0].health_status = ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__HEALTHY;
	lb[1].health_status = ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__UNHEALTHY;
	loc.region = "eu";
	loc.zone = "a";
	le.locality = &loc;
	le.n_lb_endpoints = 3;
	le.lb_endpoints = plb;
	cla.cluster_name = "web";
	cla.n_endpoints = 1;
	cla.endpoints = &ple;
	assert_int_equal(hf_xds_tr_endpoints(&cla, &mc, err, sizeof(err)), 0);
	/* the UNHEALTHY one is left out */
	assert_int_equal(mc.n_endpoints, 2);
	assert_int_equal(mc.endpoints[0].addr, inet_addr("198.51.100.1"));
	assert_int_equal(mc.endpoints[0].port, 9080);
	assert_int_equal(mc.endpoints[0].weight, 7);
	assert_string_equal(mc.endpoints[0].locality, "eu/a/");
	assert_int_equal(mc.endpoints[1].port, 9082);
	assert_int_equal(mc.endpoints[1].weight, 1);

	sa[2].address = "web.example";
	assert_int_equal(hf_xds_tr_endpoints(&cla, &mc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "endpoints[0].lb_endpoints[2]"));
	assert_non_null(strstr(err, "not an IPv4 address"));
	sa[2].address = "198.51.100.3";
	le.priority = 9;
	assert_int_equal(hf_xds_tr_endpoints(&cla, &mc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "endpoints[0]: priority 9: at most 8 levels"));
	m.clusters = malloc(sizeof(mc));
	assert_non_null(m.clusters);
	m.clusters[0] = mc;
	m.n_clusters = 1;
	hf_model_free(&m);
}

static void
test_tcp_proxy(void **state)
{
	struct http_listener x;
	Envoy__Extensions__Filters__Network__TcpProxy__V3__TcpProxy tp =
	        ENVOY__EXTENSIONS__FILTERS__NETWORK__TCP_PROXY__V3__TCP_PROXY__INIT;
	struct hf_model m = {0};
	char *rds = NULL;

	(void)state;
	http_listener(&x, 9000, "unused");
	tp.stat_prefix = "tcp";
	tp.cluster_specifier_case =
	        ENVOY__EXTENSIONS__FILTERS__NETWORK__TCP_PROXY__V3__TCP_PROXY__CLUSTER_SPECIFIER_CLUSTER;
	tp.cluster = "db";
	pack(&x.hcm_any, &tp.base);
	x.f.name = "envoy.filters.network.tcp_proxy";
	assert_int_equal(hf_xds_tr_listener(&x.l, &m, &rds, &nosds, err, sizeof(err)), 0);
	assert_null(rds);
	assert_int_equal(m.listeners[0].kind, HF_LISTENER_TCP);
	assert_int_equal(m.listeners[0].n_l4_routes, 1);
	assert_string_equal(m.listeners[0].l4_routes[0].clusters[0].cluster, "db");
	hf_model_free(&m);
	free(x.hcm_any.value.data);

	/* an Any of the wrong type where the tcp_proxy goes */
	x.f.typed_config = &x.router_any;
	assert_int_equal(hf_xds_tr_listener(&x.l, &m, &rds, &nosds, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is not supported here"));
	hf_model_free(&m);
	free(x.router_any.value.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_listener_rds),
	        cmocka_unit_test(test_listener_refused),
	        cmocka_unit_test(test_listener_optional_filter),
	        cmocka_unit_test(test_routes),
	        cmocka_unit_test(test_routes_refused),
	        cmocka_unit_test(test_route_header_levels),
	        cmocka_unit_test(test_route_string_matchers),
	        cmocka_unit_test(test_route_redirect),
	        cmocka_unit_test(test_clusters),
	        cmocka_unit_test(test_endpoints),
	        cmocka_unit_test(test_endpoint_priorities),
	        cmocka_unit_test(test_tcp_proxy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
