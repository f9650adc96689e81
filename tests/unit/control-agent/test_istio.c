/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Istio loader: Istio's documented examples load into the model Pilot
 * would make of them, field by field; every mistake is refused with the
 * file, the line, the resource and the field, and leaves nothing allocated.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf_test.h"
#include "control-agent/istio/istio.h"
#include "control-agent/istio/istio-int.h"
#include "control-agent/snapshot.h"
#include "dataplane/snapshot.h"

#define DATA "tests/unit/control-agent/istio/"

static const char *const node[] = {"istio=ingressgateway", "zone=a", "app=my-gateway-controller"};
#define N_NODE (sizeof(node) / sizeof(node[0]))

static char err[HF_ISTIO_ERR];

static const char *
data(const char *rel)
{
	static char path[1024];
	const char *root = getenv("HF_SOURCE_ROOT");

	snprintf(path, sizeof(path), "%s/" DATA "%s", root != NULL ? root : ".", rel);
	return path;
}

static void
load_ok(const char *rel, struct hf_model *m)
{
	int rc = hf_istio_load(data(rel), node, N_NODE, m, err, sizeof(err));

	if (rc != 0)
		fail_msg("%s: %d: %s", rel, rc, err);
}

static const struct hf_model_cluster *
cluster(const struct hf_model *m, const char *name)
{
	int i = hf_model_find_cluster(m, name);

	if (i < 0)
		fail_msg("no cluster %s", name);
	return &m->clusters[i];
}

static const struct hf_model_vhost *
vhost(const struct hf_model *m, const char *rc_name, const char *name)
{
	for (unsigned int i = 0; i < m->n_route_configs; i++) {
		const struct hf_model_route_config *rc = &m->route_configs[i];

		if (strcmp(rc->name, rc_name) != 0)
			continue;
		for (unsigned int v = 0; v < rc->n_vhosts; v++)
			if (strcmp(rc->vhosts[v].name, name) == 0)
				return &rc->vhosts[v];
	}
	fail_msg("no virtual host %s in %s", name, rc_name);
	return NULL;
}

static void
check_ep(const struct hf_model_endpoint *e, const char *addr, uint16_t port, uint32_t weight)
{
	assert_int_equal(e->addr, hf_test_addr(addr));
	assert_int_equal(e->port, port);
	assert_int_equal(e->weight, weight);
}

static void
check_sm(const struct hf_model_str_match *m, enum hf_match_kind kind, const char *value)
{
	assert_int_equal(m->kind, kind);
	if (value == NULL)
		assert_null(m->value);
	else
		assert_string_equal(m->value, value);
}

static void
check_kv(const struct hf_model_kv_match *kv, const char *name, enum hf_match_kind kind,
	 const char *value, bool absent)
{
	assert_string_equal(kv->name, name);
	check_sm(&kv->m, kind, value);
	assert_int_equal(kv->absent, absent);
}

static void
check_op(const struct hf_model_header_op *op, enum hf_header_op_kind kind, const char *name,
	 const char *value)
{
	assert_int_equal(op->op, kind);
	assert_string_equal(op->name, name);
	if (value == NULL)
		assert_null(op->value);
	else
		assert_string_equal(op->value, value);
}

static void
check_dest(const struct hf_model_weighted *w, const char *cluster_name, uint32_t weight)
{
	assert_string_equal(w->cluster, cluster_name);
	assert_int_equal(w->weight, weight);
}

/* Istio's retry policy where a route says nothing: 2 retries on connect failure and 503. */
static void
check_default_retries(const struct hf_model_route *r)
{
	assert_int_equal(r->retry.attempts, 2);
	assert_int_equal(r->retry.on, HF_RETRY_CONNECT_FAILURE | HF_RETRY_REFUSED_STREAM |
					      HF_RETRY_RETRIABLE_CODES);
	assert_int_equal(r->retry.n_codes, 1);
	assert_int_equal(r->retry.codes[0], 503);
}

/* ---- the seed ---- */

static void
test_seed(void **state)
{
	const char *pp = "outbound|9080||productpage.default.svc.cluster.local";
	const struct hf_model_cluster *c;
	const struct hf_model_vhost *vh;
	const struct hf_model_route *r;
	struct hf_model m;

	(void)state;
	load_ok("seed.yaml", &m);
	/* bookinfo-gateway: port 80 */
	assert_int_equal(m.n_listeners, 1);
	assert_string_equal(m.listeners[0].name, "0.0.0.0_80");
	assert_int_equal(m.listeners[0].port, 80);
	assert_int_equal(m.listeners[0].kind, HF_LISTENER_HTTP);
	assert_int_equal(m.listeners[0].route_config, 0);
	assert_int_equal(m.listeners[0].n_l4_routes, 0);
	assert_int_equal(m.n_route_configs, 1);
	assert_string_equal(m.route_configs[0].name, "http.80");
	/* only the bookinfo VirtualService binds: reviews-route has no gateways (the mesh's) */
	assert_int_equal(m.route_configs[0].n_vhosts, 1);
	vh = vhost(&m, "http.80", "*:80");
	assert_int_equal(vh->n_domains, 1);
	assert_string_equal(vh->domains[0], "*");
	assert_int_equal(vh->n_routes, 1);
	r = &vh->routes[0];
	assert_null(r->name);
	assert_int_equal(r->n_matches, 1);
	check_sm(&r->matches[0].uri, HF_MATCH_EXACT, "/productpage");
	assert_int_equal(r->matches[0].uri.ignore_case, false);
	check_sm(&r->matches[0].method, HF_MATCH_ANY, NULL);
	assert_int_equal(r->matches[0].port, 0);
	assert_int_equal(r->action, HF_ACTION_ROUTE);
	assert_int_equal(r->n_clusters, 1);
	check_dest(&r->clusters[0], pp, 100);
	assert_int_equal(r->timeout_ms, 0);
	check_default_retries(r);
	assert_null(r->mirror_cluster);
	assert_false(r->cors.enabled);

	assert_int_equal(m.n_clusters, 9);
	c = &m.clusters[0];
	assert_string_equal(c->name, pp);
	assert_string_equal(c->service, "productpage.default.svc.cluster.local");
	assert_int_equal(c->service_port, 9080);
	assert_null(c->subset);
	assert_int_equal(c->lb, HF_LB_LEAST_REQUEST);
	assert_int_equal(c->connect_timeout_ms, 10000);
	assert_int_equal(c->n_endpoints, 1);
	check_ep(&c->endpoints[0], "198.51.100.10", 9080, 1);
	/* bookinfo-ratings: LEAST_CONN, and v3's own ROUND_ROBIN */
	c = cluster(&m, "outbound|9080||ratings.default.svc.cluster.local");
	assert_int_equal(c->lb, HF_LB_LEAST_REQUEST);
	assert_int_equal(c->n_endpoints, 3);
	c = cluster(&m, "outbound|9080|v1|ratings.default.svc.cluster.local");
	assert_string_equal(c->subset, "v1");
	assert_int_equal(c->lb, HF_LB_LEAST_REQUEST);
	assert_int_equal(c->n_endpoints, 1);
	check_ep(&c->endpoints[0], "198.51.100.21", 9080, 1);
	assert_int_equal(c->endpoints[0].n_labels, 1);
	assert_string_equal(c->endpoints[0].labels[0], "version=v1");
	c = cluster(&m, "outbound|9080|v2|ratings.default.svc.cluster.local");
	assert_int_equal(c->lb, HF_LB_LEAST_REQUEST);
	check_ep(&c->endpoints[0], "198.51.100.22", 9080, 1);
	c = cluster(&m, "outbound|9080|v3|ratings.default.svc.cluster.local");
	assert_int_equal(c->lb, HF_LB_ROUND_ROBIN);
	assert_int_equal(c->n_endpoints, 1);
	check_ep(&c->endpoints[0], "198.51.100.23", 9080, 1);
	/* reviews-route's namespace foo: reviews.foo.svc.cluster.local */
	c = cluster(&m, "outbound|9080|v2|reviews.foo.svc.cluster.local");
	assert_int_equal(c->n_endpoints, 1);
	check_ep(&c->endpoints[0], "198.51.100.32", 9080, 1);
	/* the mongo cluster: STATIC endpoints on the service port, TLS DISABLE */
	c = &m.clusters[8];
	assert_string_equal(c->name, "outbound|27018||mymongodb.somedomain");
	assert_string_equal(c->service, "mymongodb.somedomain");
	assert_int_equal(c->n_endpoints, 2);
	check_ep(&c->endpoints[0], "2.2.2.2", 27018, 1);
	check_ep(&c->endpoints[1], "3.3.3.3", 27018, 1);
	assert_int_equal(c->endpoints[0].n_labels, 0);
	assert_null(c->endpoints[0].locality);
	assert_int_equal(c->tls_mode, HF_TLS_DISABLE);
	assert_null(c->tls_client_cert);
	hf_model_free(&m);
	assert_int_equal(m.n_clusters, 0);
}

/* ---- bookinfo as a directory ---- */

static void
test_bookinfo_dir(void **state)
{
	const char *v1 = "outbound|9080|v1|reviews.default.svc.cluster.local";
	const char *v3 = "outbound|9080|v3|reviews.default.svc.cluster.local";
	const struct hf_model_cluster *c;
	const struct hf_model_vhost *vh;
	const struct hf_model_route *r;
	static const char *const uris[] = {"/productpage", "/static", "/login", "/logout",
					   "/api/v1/products"};
	static const enum hf_match_kind kinds[] = {HF_MATCH_EXACT, HF_MATCH_PREFIX, HF_MATCH_EXACT,
						   HF_MATCH_EXACT, HF_MATCH_PREFIX};
	struct hf_model m;

	(void)state;
	/* the hidden file, notes.txt and the directory archive.yaml/ are garbage: not read */
	load_ok("bookinfo", &m);
	/* the egress gateway's selector is not this node's: no listener on 8080 */
	assert_int_equal(m.n_listeners, 1);
	assert_string_equal(m.listeners[0].name, "0.0.0.0_80");
	assert_int_equal(m.n_route_configs, 1);
	assert_int_equal(m.route_configs[0].n_vhosts, 2);
	vh = &m.route_configs[0].vhosts[0];
	assert_string_equal(vh->name, "*:80");
	assert_int_equal(vh->n_routes, 1);
	r = &vh->routes[0];
	assert_int_equal(r->n_matches, 5);
	for (unsigned int i = 0; i < 5; i++)
		check_sm(&r->matches[i].uri, kinds[i], uris[i]);
	check_dest(&r->clusters[0], "outbound|9080||productpage.default.svc.cluster.local", 100);

	vh = &m.route_configs[0].vhosts[1];
	assert_string_equal(vh->name, "bookinfo.example.com:80");
	assert_int_equal(vh->n_domains, 2);
	assert_string_equal(vh->domains[0], "bookinfo.example.com");
	assert_string_equal(vh->domains[1], "bookinfo.example.com:80");
	assert_int_equal(vh->n_routes, 1);
	r = &vh->routes[0];
	assert_int_equal(r->n_matches, 0);
	assert_int_equal(r->n_clusters, 2);
	check_dest(&r->clusters[0], v1, 50);
	check_dest(&r->clusters[1], v3, 50);

	/* 4 services, one port each; DRs: productpage v1, reviews v1-v3, ratings v1 */
	assert_int_equal(m.n_clusters, 4 + 1 + 3 + 1);
	assert_string_equal(m.clusters[0].name, "outbound|9080||productpage.default.svc."
						"cluster.local");
	assert_string_equal(m.clusters[1].name, "outbound|9080|v1|productpage.default.svc."
						"cluster.local");
	assert_string_equal(m.clusters[2].name, "outbound|9080||details.default.svc.cluster.local");
	assert_string_equal(m.clusters[3].name, "outbound|9080||reviews.default.svc.cluster.local");
	/* "ratings.default" is namespace default's ratings */
	assert_string_equal(m.clusters[8].name, "outbound|9080|v1|ratings.default.svc."
						"cluster.local");
	c = cluster(&m, "outbound|9080||reviews.default.svc.cluster.local");
	assert_int_equal(c->lb, HF_LB_LEAST_REQUEST);
	assert_int_equal(c->n_endpoints, 3);
	assert_string_equal(c->endpoints[1].locality, "us-east/zone-a");
	assert_int_equal(c->endpoints[1].n_labels, 2);
	assert_string_equal(c->endpoints[1].labels[0], "app=reviews");
	assert_string_equal(c->endpoints[1].labels[1], "version=v2");
	c = cluster(&m, v3);
	assert_int_equal(c->lb, HF_LB_ROUND_ROBIN);
	assert_int_equal(c->n_endpoints, 1);
	check_ep(&c->endpoints[0], "198.51.100.33", 9080, 3);
	c = cluster(&m, v1);
	assert_int_equal(c->lb, HF_LB_LEAST_REQUEST);
	check_ep(&c->endpoints[0], "198.51.100.31", 9080, 1);
	hf_model_free(&m);
}

/* The same directory for a node no Gateway selects: clusters, no listeners. */
static void
test_not_selected(void **state)
{
	const char *const other[] = {"istio=egress"}, *const egress[] = {"istio=egressgateway"};
	struct hf_model m;

	(void)state;
	assert_int_equal(hf_istio_load(data("bookinfo"), other, 1, &m, err, sizeof(err)), 0);
	assert_int_equal(m.n_listeners, 0);
	assert_int_equal(m.n_route_configs, 0);
	assert_int_equal(m.n_clusters, 9);
	hf_model_free(&m);
	/* the egress gateway's own labels pick it: port 8080, nothing bound to it */
	assert_int_equal(hf_istio_load(data("bookinfo"), egress, 1, &m, err, sizeof(err)), 0);
	assert_int_equal(m.n_listeners, 1);
	assert_int_equal(m.listeners[0].port, 8080);
	assert_int_equal(m.route_configs[0].n_vhosts, 0);
	hf_model_free(&m);
}

/* ---- every http field ---- */

static void
test_http_all(void **state)
{
	const char *r9080v1 = "outbound|9080|v1|ratings.prod.svc.cluster.local";
	const char *r9080v2 = "outbound|9080|v2|ratings.prod.svc.cluster.local";
	const char *mirror = "outbound|80||mirror.example.net";
	const struct hf_model_route_match *mt;
	const struct hf_model_vhost *vh;
	const struct hf_model_route *r;
	struct hf_model m;

	(void)state;
	load_ok("http-all.yaml", &m);
	assert_int_equal(m.n_listeners, 2);
	assert_string_equal(m.listeners[1].name, "0.0.0.0_8080");
	assert_int_equal(m.listeners[1].route_config, 1);
	assert_string_equal(m.route_configs[1].name, "http.8080");
	vh = vhost(&m, "http.80", "api.example.com:80");
	assert_int_equal(vh->n_domains, 2);
	assert_string_equal(vh->domains[0], "api.example.com");
	assert_string_equal(vh->domains[1], "api.example.com:80");
	assert_int_equal(vh->n_routes, 8);

	/* routes[0]: matches; blocks for port 8080 and for the mesh only are not this listener's */
	r = &vh->routes[0];
	assert_string_equal(r->name, "matches");
	assert_int_equal(r->n_matches, 2);
	mt = &r->matches[0];
	assert_string_equal(mt->name, "first");
	check_sm(&mt->uri, HF_MATCH_PREFIX, "/ratings/v2/");
	assert_true(mt->uri.ignore_case);
	check_sm(&mt->scheme, HF_MATCH_EXACT, "http");
	check_sm(&mt->method, HF_MATCH_REGEX, "GET|HEAD");
	check_sm(&mt->authority, HF_MATCH_PREFIX, "api.");
	assert_int_equal(mt->n_headers, 5);
	check_kv(&mt->headers[0], "end-user", HF_MATCH_EXACT, "jason", false);
	check_kv(&mt->headers[1], "x-trace", HF_MATCH_PREFIX, "abc", false);
	check_kv(&mt->headers[2], "x-id", HF_MATCH_REGEX, "[0-9]+", false);
	check_kv(&mt->headers[3], "x-present", HF_MATCH_PRESENT, NULL, false);
	check_kv(&mt->headers[4], "x-debug", HF_MATCH_PRESENT, NULL, true);
	assert_int_equal(mt->n_query, 2);
	check_kv(&mt->query[0], "v", HF_MATCH_EXACT, "2", false);
	check_kv(&mt->query[1], "q", HF_MATCH_REGEX, "a.*", false);
	assert_int_equal(mt->port, 0);
	mt = &r->matches[1];
	assert_null(mt->name);
	check_sm(&mt->uri, HF_MATCH_EXACT, "/r");
	assert_false(mt->uri.ignore_case);
	assert_int_equal(mt->port, 80);
	assert_int_equal(mt->n_headers, 0);
	assert_int_equal(r->action, HF_ACTION_ROUTE);
	assert_int_equal(r->n_clusters, 2);
	check_dest(&r->clusters[0], r9080v1, 75);
	assert_int_equal(r->clusters[0].n_rq_ops, 1);
	check_op(&r->clusters[0].rq_ops[0], HF_HDR_SET, "x-dest", "v1");
	assert_int_equal(r->clusters[0].n_rs_ops, 1);
	check_op(&r->clusters[0].rs_ops[0], HF_HDR_REMOVE, "x-internal", NULL);
	check_dest(&r->clusters[1], r9080v2, 25);
	assert_int_equal(r->clusters[1].n_rq_ops, 0);
	assert_int_equal(r->n_rq_ops, 3);
	check_op(&r->rq_ops[0], HF_HDR_SET, "x-set", "1");
	check_op(&r->rq_ops[1], HF_HDR_ADD, "x-add", "two");
	check_op(&r->rq_ops[2], HF_HDR_REMOVE, "x-remove", NULL);
	assert_int_equal(r->n_rs_ops, 1);
	check_op(&r->rs_ops[0], HF_HDR_ADD, "x-resp", "r");
	assert_string_equal(r->rewrite_uri, "/v1/bookRatings");
	assert_string_equal(r->rewrite_authority, "ratings.internal");
	assert_null(r->rewrite_regex);
	assert_int_equal(r->timeout_ms, 1500);
	assert_int_equal(r->retry.attempts, 3);
	assert_int_equal(r->retry.per_try_timeout_ms, 250);
	assert_int_equal(r->retry.on, HF_RETRY_GATEWAY_ERROR | HF_RETRY_CONNECT_FAILURE |
					      HF_RETRY_REFUSED_STREAM | HF_RETRY_RESET |
					      HF_RETRY_5XX | HF_RETRY_RETRIABLE_4XX |
					      HF_RETRY_RETRIABLE_CODES);
	assert_int_equal(r->retry.n_codes, 2);
	assert_int_equal(r->retry.codes[0], 503);
	assert_int_equal(r->retry.codes[1], 504);
	assert_int_equal(r->fault.delay_ms, 5000);
	assert_true(r->fault.delay_percent == 0.1);
	assert_int_equal(r->fault.abort_status, 418);
	assert_true(r->fault.abort_percent == 12.5);
	assert_string_equal(r->mirror_cluster, mirror);
	assert_true(r->mirror_percent == 50.0);
	assert_true(r->cors.enabled);
	assert_int_equal(r->cors.n_origins, 2);
	check_sm(&r->cors.origins[0], HF_MATCH_EXACT, "https://example.com");
	check_sm(&r->cors.origins[1], HF_MATCH_PREFIX, "https://shop.");
	assert_string_equal(r->cors.allow_methods, "POST,GET");
	assert_string_equal(r->cors.allow_headers, "X-Foo-Bar,X-Baz");
	assert_string_equal(r->cors.expose_headers, "X-Expose");
	assert_int_equal(r->cors.max_age_s, 86400);
	assert_false(r->cors.allow_credentials);

	/* routes[1]: uriRegexRewrite, timeout 0s, retries off */
	r = &vh->routes[1];
	assert_string_equal(r->name, "regex-rewrite");
	check_sm(&r->matches[0].uri, HF_MATCH_REGEX, "^/service/([^/]+)(/.*)$");
	assert_null(r->rewrite_uri);
	assert_string_equal(r->rewrite_regex, "^/service/([^/]+)(/.*)$");
	assert_string_equal(r->rewrite_regex_sub, "/tech/\\2/\\1");
	check_dest(&r->clusters[0], "outbound|9090|v2|ratings.prod.svc.cluster.local", 100);
	assert_int_equal(r->timeout_ms, 0);
	assert_int_equal(r->retry.attempts, 0);
	assert_int_equal(r->retry.on, 0);
	assert_int_equal(r->retry.n_codes, 0);
	assert_false(r->cors.enabled);

	/* routes[2]: attempts without retryOn take Istio's conditions; deprecated percent */
	r = &vh->routes[2];
	assert_string_equal(r->name, "no-retry-on");
	assert_int_equal(r->retry.attempts, 4);
	assert_int_equal(r->retry.on, HF_RETRY_CONNECT_FAILURE | HF_RETRY_REFUSED_STREAM |
					      HF_RETRY_RETRIABLE_CODES);
	assert_int_equal(r->retry.codes[0], 503);
	assert_int_equal(r->retry.per_try_timeout_ms, 0);
	assert_int_equal(r->fault.delay_ms, 100);
	assert_true(r->fault.delay_percent == 20);
	assert_int_equal(r->fault.abort_status, 503);
	assert_true(r->fault.abort_percent == 0);
	check_dest(&r->clusters[0], mirror, 100);
	assert_string_equal(r->mirror_cluster, r9080v1);
	assert_true(r->mirror_percent == 100);
	assert_true(r->cors.enabled);
	assert_int_equal(r->cors.n_origins, 1);
	check_sm(&r->cors.origins[0], HF_MATCH_EXACT, "https://old.example.com");
	assert_null(r->cors.allow_methods);
	assert_int_equal(r->cors.max_age_s, 0);

	/* routes[3..4]: redirects */
	r = &vh->routes[3];
	assert_int_equal(r->action, HF_ACTION_REDIRECT);
	assert_int_equal(r->n_clusters, 0);
	assert_string_equal(r->redirect_uri, "/v1/bookRatings");
	assert_string_equal(r->redirect_authority, "newratings.default.svc.cluster.local");
	assert_null(r->redirect_scheme);
	assert_int_equal(r->redirect_port, 0);
	assert_int_equal(r->redirect_code, 301);
	assert_int_equal(r->retry.attempts, 0);
	r = &vh->routes[4];
	assert_int_equal(r->action, HF_ACTION_REDIRECT);
	assert_null(r->redirect_uri);
	assert_string_equal(r->redirect_scheme, "https");
	assert_int_equal(r->redirect_port, 8443);
	assert_int_equal(r->redirect_code, 308);

	/* routes[5..6]: direct responses */
	r = &vh->routes[5];
	assert_int_equal(r->action, HF_ACTION_DIRECT);
	assert_int_equal(r->direct_status, 418);
	assert_string_equal(r->direct_body, "I'm a teapot");
	r = &vh->routes[6];
	assert_int_equal(r->direct_status, 410);
	assert_null(r->direct_body);

	/* routes[7]: a match on the listener port alone */
	r = &vh->routes[7];
	assert_string_equal(r->name, "gateway-80-only");
	assert_int_equal(r->n_matches, 1);
	check_sm(&r->matches[0].uri, HF_MATCH_ANY, NULL);
	assert_int_equal(r->matches[0].port, 80);

	/* port 8080: its own match block, and no route whose every block is for port 80 */
	vh = vhost(&m, "http.8080", "api.example.com:8080");
	assert_int_equal(vh->n_routes, 7);
	assert_int_equal(vh->routes[0].n_matches, 2);
	check_sm(&vh->routes[0].matches[1].uri, HF_MATCH_EXACT, "/only-8080");
	assert_int_equal(vh->routes[0].matches[1].port, 8080);
	assert_string_equal(vh->routes[6].name, "direct-empty");

	/* ratings: 2 ports x (all, v1, v2), then the mirror (DNS, an address endpoint) */
	assert_int_equal(m.n_clusters, 7);
	assert_string_equal(m.clusters[3].name, "outbound|9090||ratings.prod.svc.cluster.local");
	assert_int_equal(m.clusters[3].service_port, 9090);
	check_ep(&cluster(&m, mirror)->endpoints[0], "203.0.113.7", 80, 1);
	hf_model_free(&m);
}

/* ---- tcp ---- */

/* One redirect route first, matching every request: Envoy's require_tls ALL. */
static void
check_redirect(const struct hf_model_route *r)
{
	assert_int_equal(r->action, HF_ACTION_REDIRECT);
	assert_int_equal(r->n_matches, 0);
	assert_string_equal(r->redirect_scheme, "https");
	assert_int_equal(r->redirect_code, 301);
	assert_null(r->redirect_authority);
	assert_null(r->redirect_uri);
	assert_int_equal(r->redirect_port, 0);
}

static void
test_https_redirect(void **state)
{
	const struct hf_model_vhost *vh;
	struct hf_model m;

	(void)state;
	load_ok("https-redirect.yaml", &m);
	vh = vhost(&m, "http.80", "a.example.com:80");
	assert_int_equal(vh->n_routes, 2);
	check_redirect(&vh->routes[0]);
	assert_int_equal(vh->routes[1].action, HF_ACTION_DIRECT);
	vh = vhost(&m, "http.80", "x.b.example.com:80");
	assert_int_equal(vh->n_routes, 2);
	check_redirect(&vh->routes[0]);
	/* the wildcard host itself: a virtual host with the redirect alone */
	vh = vhost(&m, "http.80", "*.b.example.com:80");
	assert_int_equal(vh->n_routes, 1);
	check_redirect(&vh->routes[0]);
	/* port 8080's server does not redirect */
	vh = vhost(&m, "http.8080", "a.example.com:8080");
	assert_int_equal(vh->n_routes, 1);
	assert_int_equal(vh->routes[0].action, HF_ACTION_DIRECT);
	hf_model_free(&m);
}

static void
test_tcp(void **state)
{
	const char *mongo = "outbound|5555||mongo.prod.svc.cluster.local";
	const struct hf_model_listener *l;
	const struct hf_model_cluster *c;
	struct hf_model m;

	(void)state;
	load_ok("tcp.yaml", &m);
	assert_int_equal(m.n_listeners, 2);
	assert_int_equal(m.n_route_configs, 0);
	l = &m.listeners[0];
	assert_string_equal(l->name, "0.0.0.0_27017");
	assert_int_equal(l->kind, HF_LISTENER_TCP);
	assert_int_equal(l->route_config, -1);
	assert_int_equal(l->n_l4_routes, 2);
	assert_int_equal(l->l4_routes[0].port, 27017);
	assert_int_equal(l->l4_routes[0].n_sni, 0);
	assert_int_equal(l->l4_routes[0].n_clusters, 1);
	check_dest(&l->l4_routes[0].clusters[0], mongo, 100);
	assert_int_equal(l->l4_routes[1].port, 0);
	assert_int_equal(l->l4_routes[1].n_clusters, 1);
	check_dest(&l->l4_routes[1].clusters[0], mongo, 100);

	/* port 31400: the route for port 27017 is not its; the catch-all is */
	l = &m.listeners[1];
	assert_int_equal(l->port, 31400);
	assert_int_equal(l->n_l4_routes, 1);
	assert_int_equal(l->l4_routes[0].port, 0);

	/* endpoint ports: the service port, the endpoint's own */
	c = cluster(&m, mongo);
	check_ep(&c->endpoints[0], "198.51.100.50", 5555, 1);
	check_ep(&c->endpoints[1], "198.51.100.51", 27017, 1);
	hf_model_free(&m);
}

/* ---- WorkloadEntries and DestinationRule policy ---- */

/* What a DestinationRule may set; these rules set no circuit breaker and no outlier detection. */
static void
check_policy(const struct hf_model_cluster *c, enum hf_lb_policy lb, uint32_t connect)
{
	assert_int_equal(c->lb, lb);
	assert_int_equal(c->connect_timeout_ms, connect);
	assert_int_equal(c->max_connections, 0);
	assert_int_equal(c->max_pending_requests, 0);
	assert_false(c->outlier);
	assert_int_equal(c->tls_mode, HF_TLS_DISABLE);
	assert_null(c->tls_client_cert);
	assert_null(c->tls_private_key);
	assert_null(c->tls_ca_certs);
}

/* connectionPool limits and outlierDetection, as Pilot maps them, each group replaced whole. */
static void
test_circuit_breakers(void **state)
{
	const struct hf_model_cluster *c;
	struct hf_model m;

	(void)state;
	load_ok("circuit-breaker.yaml", &m);
	c = cluster(&m, "outbound|80||reviews.cb.example");
	assert_int_equal(c->connect_timeout_ms, 2000);
	assert_int_equal(c->max_connections, 100);
	assert_int_equal(c->max_pending_requests, 10);
	assert_int_equal(c->max_requests, 200);
	assert_int_equal(c->max_retries, 3);
	assert_int_equal(c->max_rq_per_cx, 50);
	assert_true(c->outlier);
	assert_int_equal(c->od.consecutive_5xx, 7);
	assert_int_equal(c->od.consecutive_gateway, 2);
	assert_false(c->od.split_local);
	assert_int_equal(c->od.consecutive_local, 0);
	assert_int_equal(c->od.interval_ms, 5000);
	assert_int_equal(c->od.base_ejection_ms, 60000);
	assert_int_equal(c->od.max_ejection_ms, 300000);
	assert_int_equal(c->od.max_ejection_percent, 40);
	assert_int_equal(c->od.min_health_percent, 25);
	/* port 81's connectionPool replaces the rule's whole: its other limits are unlimited */
	c = cluster(&m, "outbound|81||reviews.cb.example");
	assert_int_equal(c->max_connections, 5);
	assert_int_equal(c->max_pending_requests, 0);
	assert_int_equal(c->max_requests, 0);
	assert_int_equal(c->connect_timeout_ms, IST_CONNECT_TIMEOUT_MS);
	assert_int_equal(c->od.consecutive_5xx, 7);
	/* the subset's outlierDetection replaces the rule's: Istio's defaults for the rest */
	c = cluster(&m, "outbound|80|v2|reviews.cb.example");
	assert_int_equal(c->max_connections, 100);
	assert_true(c->outlier);
	assert_int_equal(c->od.consecutive_5xx, 5);
	assert_int_equal(c->od.consecutive_gateway, 0);
	assert_true(c->od.split_local);
	assert_int_equal(c->od.consecutive_local, 4);
	assert_int_equal(c->od.base_ejection_ms, 30000);
	assert_int_equal(c->od.interval_ms, 10000);
	assert_int_equal(c->od.max_ejection_percent, 10);
	assert_int_equal(c->od.min_health_percent, 0);
	hf_model_free(&m);
}

static void
test_workloads(void **state)
{
	const struct hf_model_cluster *c;
	struct hf_model m;

	(void)state;
	load_ok("workloads.yaml", &m);
	assert_int_equal(m.n_listeners, 0);
	assert_int_equal(m.n_clusters, 7);
	/* port 80: targetPort 8080, or vm2's own port for "http" */
	c = &m.clusters[0];
	assert_string_equal(c->name, "outbound|80||details.bookinfo.com");
	check_policy(c, HF_LB_RANDOM, 30);
	assert_int_equal(c->n_endpoints, 2);
	check_ep(&c->endpoints[0], "192.0.2.11", 8080, 1);
	assert_string_equal(c->endpoints[0].locality, "eu-west/zone-1");
	assert_int_equal(c->endpoints[0].n_labels, 3);
	assert_string_equal(c->endpoints[0].labels[1], "instance-id=vm1");
	check_ep(&c->endpoints[1], "192.0.2.12", 8081, 5);
	assert_null(c->endpoints[1].locality);
	c = &m.clusters[1];
	assert_string_equal(c->name, "outbound|80|v1|details.bookinfo.com");
	check_policy(c, HF_LB_RANDOM, 30);
	assert_int_equal(c->n_endpoints, 1);
	check_ep(&c->endpoints[0], "192.0.2.11", 8080, 1);
	/* v2: its policy replaces lb and tls, and its port 80 settings the pool */
	c = &m.clusters[2];
	assert_string_equal(c->name, "outbound|80|v2|details.bookinfo.com");
	check_policy(c, HF_LB_LEAST_REQUEST, 60000);
	assert_int_equal(c->n_endpoints, 1);
	check_ep(&c->endpoints[0], "192.0.2.12", 8081, 5);
	/* port 9090: the DR's port-level settings replace lb and the whole pool */
	c = &m.clusters[3];
	assert_string_equal(c->name, "outbound|9090||details.bookinfo.com");
	check_policy(c, HF_LB_ROUND_ROBIN, 10000);
	check_ep(&c->endpoints[0], "192.0.2.11", 9090, 1);
	check_ep(&c->endpoints[1], "192.0.2.12", 9090, 5);
	check_policy(&m.clusters[4], HF_LB_ROUND_ROBIN, 10000);
	check_policy(&m.clusters[5], HF_LB_LEAST_REQUEST, 10000);
	/* resolution NONE, no endpoints: passthrough */
	c = &m.clusters[6];
	assert_string_equal(c->name, "outbound|443||*.wikipedia.org");
	assert_int_equal(c->lb, HF_LB_PASSTHROUGH);
	assert_int_equal(c->n_endpoints, 0);
	hf_model_free(&m);
}

/* ---- binding ---- */

static void
check_vhost(const struct hf_model_vhost *vh, const char *name, unsigned int n_routes)
{
	assert_string_equal(vh->name, name);
	assert_int_equal(vh->n_routes, n_routes);
}

static void
test_binding(void **state)
{
	const char *backend = "outbound|8000||backend.team-a.svc.cluster.local";
	const struct hf_model_route_config *rc;
	struct hf_model m;

	(void)state;
	load_ok("binding.yaml", &m);
	assert_int_equal(m.n_listeners, 2);
	assert_int_equal(m.listeners[0].port, 80);
	assert_int_equal(m.listeners[1].port, 81);
	rc = &m.route_configs[m.listeners[0].route_config];
	assert_string_equal(rc->name, "http.80");
	assert_int_equal(rc->n_vhosts, 4);
	/* a, then a2's route for the same host (any case) after it */
	check_vhost(&rc->vhosts[0], "a.example.com:80", 2);
	assert_null(rc->vhosts[0].routes[0].name);
	assert_string_equal(rc->vhosts[0].routes[1].name, "later");
	check_dest(&rc->vhosts[0].routes[0].clusters[0], backend, 100);
	/* x.b.example.com through both gateways: once */
	check_vhost(&rc->vhosts[1], "x.b.example.com:80", 1);
	/* b's only admitted host, then admin's "*" narrowed to it */
	check_vhost(&rc->vhosts[2], "shared.example.com:80", 2);
	check_vhost(&rc->vhosts[3], "admin.example.com:80", 1);
	rc = &m.route_configs[m.listeners[1].route_config];
	assert_string_equal(rc->name, "http.81");
	assert_int_equal(rc->n_vhosts, 2);
	check_vhost(&rc->vhosts[0], "a.example.com:81", 1);
	check_vhost(&rc->vhosts[1], "x.b.example.com:81", 1);
	hf_model_free(&m);
}

/* Anchors and aliases: a shared node reads as a copy. */
static void
test_anchors(void **state)
{
	const struct hf_model_vhost *vh;
	struct hf_model m;

	(void)state;
	load_ok("anchors.yaml", &m);
	vh = vhost(&m, "http.80", "*:80");
	assert_int_equal(vh->n_routes, 2);
	check_dest(&vh->routes[0].clusters[0], "outbound|80||web.example.com", 100);
	check_dest(&vh->routes[1].clusters[0], "outbound|80||web.example.com", 100);
	check_sm(&vh->routes[1].matches[0].uri, HF_MATCH_PREFIX, "/b");
	hf_model_free(&m);
}

static void
test_empty_and_missing(void **state)
{
	struct hf_model m;

	(void)state;
	load_ok("empty.yaml", &m);
	assert_int_equal(m.n_listeners + m.n_route_configs + m.n_clusters, 0);
	memset(&m, 0xff, sizeof(m));
	assert_int_equal(hf_istio_load(data("nosuch"), node, N_NODE, &m, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "nosuch: cannot read: No such file or directory"));
	assert_null(m.listeners);
	assert_int_equal(m.n_clusters, 0);
}

/* ---- durations ---- */

static void
test_durations(void **state)
{
	static const struct {
		const char *s;
		int rc;
		uint32_t ms;
	} t[] = {
		{"1s", 0, 1000}, {"250ms", 0, 250}, {"1m", 0, 60000}, {"1h", 0, 3600000},
		{"1.5s", 0, 1500}, {"0.1s", 0, 100}, {"1m30s", 0, 90000}, {"2h45m", 0, 9900000},
		{"1000us", 0, 1}, {"5000000ns", 0, 5}, {"0", 0, 0}, {"0s", 0, 0},
		{"", -EINVAL, 0}, {"10", -EINVAL, 0}, {"s", -EINVAL, 0}, {"1x", -EINVAL, 0},
		{"-1s", -EINVAL, 0}, {"1 s", -EINVAL, 0}, {".s", -EINVAL, 0}, {"100us", -ERANGE, 0},
		{"2000h", -ERANGE, 0},
	};

	(void)state;
	for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint32_t ms = 12345;
		int rc = ist_parse_ms(t[i].s, &ms);

		if (rc != t[i].rc || (rc == 0 && ms != t[i].ms))
			fail_msg("'%s': rc %d ms %u, want %d %u", t[i].s, rc, ms, t[i].rc, t[i].ms);
	}
}

/* ---- values that go onto the wire ---- */

/* A gateway, a service and a VirtualService whose one http route each case completes. */
static const char values_head[] =
	"apiVersion: networking.istio.io/v1\n"
	"kind: Gateway\n"
	"metadata: {name: gw}\n"
	"spec:\n"
	"  selector: {istio: ingressgateway}\n"
	"  servers:\n"
	"  - port: {number: 80, name: http, protocol: HTTP}\n"
	"    hosts: [\"*\"]\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: web}\n"
	"spec:\n"
	"  hosts: [web]\n"
	"  ports: [{number: 80, name: http, protocol: HTTP}]\n"
	"  resolution: STATIC\n"
	"  endpoints: [{address: 198.51.100.1}]\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: VirtualService\n"
	"metadata: {name: web}\n"
	"spec:\n"
	"  hosts: [web]\n"
	"  gateways: [gw]\n"
	"  http:\n"
	"  - name: r\n";

#define ROUTE "    route: [{destination: {host: web}}]\n"

/*
 * Header names, header values, paths, authorities and schemes: each refused
 * value with the line (of the case's text, from 1) and what the message must
 * say. The strings are YAML, so "\\r" is a CR in the loaded value.
 */
static const struct {
	const char *yaml;
	unsigned int line;
	const char *says;
} bad_values[] = {
	{ROUTE "    headers: {request: {set: {\"x bad\": v}}}\n", 2,
	 "spec.http[0].headers.request.set.x bad: 'x bad' is not a valid header name: byte 1 is "
	 "not a token character"},
	{ROUTE "    headers: {request: {set: {\"\": v}}}\n", 2,
	 "spec.http[0].headers.request.set.: an empty header name"},
	{ROUTE "    headers:\n      request:\n        set: {x-a: \"v\\r\\nx-evil: 1\"}\n", 4,
	 "spec.http[0].headers.request.set.x-a: 'v\\x0d\\x0ax-evil: 1' is not a valid header value: "
	 "byte 1 is control byte 0x0d"},
	{ROUTE "    headers: {response: {add: {x-b: \"a\\nb\"}}}\n", 2,
	 "spec.http[0].headers.response.add.x-b: 'a\\x0ab' is not a valid header value: byte 1 is "
	 "control byte 0x0a"},
	{ROUTE "    headers: {request: {add: {x-c: \"a\\x7f\"}}}\n", 2,
	 "byte 1 is control byte 0x7f"},
	{"    route:\n    - destination: {host: web}\n"
	 "      headers: {request: {set: {x-d: \"\\x01\"}}}\n", 3,
	 "spec.http[0].route[0].headers.request.set.x-d: '\\x01' is not a valid header value: byte 0 "
	 "is control byte 0x01"},
	{"    route:\n    - destination: {host: web}\n"
	 "      headers: {response: {remove: [\"x y\"]}}\n", 3,
	 "spec.http[0].route[0].headers.response.remove[0]: 'x y' is not a valid header name"},
	{ROUTE "    headers: {request: {set: {x-e: \"a\\0b\"}}}\n", 2,
	 "a string holds a NUL byte"},
	{ROUTE "    headers: {request: {remove: [\":authority\"]}}\n", 2,
	 "spec.http[0].headers.request.remove[0]: ':authority' is not a valid header name: byte 0"},
	{ROUTE "    headers: {request: {remove: [content-length]}}\n", 2,
	 "'content-length' is a framing field the proxy manages: header operations may not change "
	 "it"},
	{ROUTE "    headers: {response: {set: {Transfer-Encoding: chunked}}}\n", 2,
	 "spec.http[0].headers.response.set.Transfer-Encoding: 'Transfer-Encoding' is a framing "
	 "field"},
	{ROUTE "    headers: {request: {set: {connection: close}}}\n", 2,
	 "'connection' is a hop-by-hop field the proxy manages"},
	/* Host: a second one, or one routing never saw (found by fuzz_http_msg). */
	{ROUTE "    headers: {request: {set: {Host: evil.example}}}\n", 2,
	 "spec.http[0].headers.request.set.Host: 'Host' may not be changed by header operations: "
	 "rewrite.authority sets the authority sent upstream"},
	{"    route:\n    - destination: {host: web}\n"
	 "      headers: {request: {add: {host: evil.example}}}\n", 3,
	 "spec.http[0].route[0].headers.request.add.host: 'host' may not be changed"},
	{ROUTE "    headers: {request: {remove: [host]}}\n", 2, "'host' may not be changed"},
	{"    directResponse: {status: 200, body: {string: hi}}\n"
	 "    headers: {response: {set: {x-f: \"a\\rb\"}}}\n", 2,
	 "spec.http[0].headers.response.set.x-f: 'a\\x0db' is not a valid header value"},
	{ROUTE "    rewrite: {uri: v2/api}\n", 2,
	 "spec.http[0].rewrite.uri: 'v2/api' is not a path: it must start with '/'"},
	{ROUTE "    rewrite: {uri: \"\"}\n", 2, "spec.http[0].rewrite.uri: '' is not a path"},
	{ROUTE "    rewrite: {uri: \"/a b\"}\n", 2,
	 "spec.http[0].rewrite.uri: '/a b' is not a valid path: byte 2 is a space"},
	{ROUTE "    rewrite: {uri: \"/a\\r\\nx: y\"}\n", 2,
	 "'/a\\x0d\\x0ax: y' is not a valid path: byte 2 is a control byte"},
	{ROUTE "    rewrite: {uri: \"/a#b\"}\n", 2, "byte 2 is a '#'"},
	{ROUTE "    rewrite: {uri: \"/caf\\u00e9\"}\n", 2, "byte 4 is a non-ASCII byte"},
	{ROUTE "    rewrite: {uri: \"/a%zz\"}\n", 2, "byte 2 is a '%' not followed by two hex digits"},
	{ROUTE "    rewrite: {uri: \"/a%4\"}\n", 2, "byte 2 is a '%' not followed by two hex digits"},
	{ROUTE "    rewrite: {authority: \"evil.example\\r\\nx: y\"}\n", 2,
	 "spec.http[0].rewrite.authority: 'evil.example\\x0d\\x0ax: y' is not a valid authority"},
	{ROUTE "    rewrite: {authority: \"a.example:0\"}\n", 2, "is not a valid authority"},
	{ROUTE "    rewrite: {authority: \"a.example:65536\"}\n", 2, "is not a valid authority"},
	{ROUTE "    rewrite: {authority: \"a.example:\"}\n", 2, "is not a valid authority"},
	{ROUTE "    rewrite: {authority: \"a.example:80x\"}\n", 2, "is not a valid authority"},
	{ROUTE "    rewrite: {authority: \"[::1\"}\n", 2, "is not a valid authority"},
	{ROUTE "    rewrite: {authority: \"[not-v6]:80\"}\n", 2, "is not a valid authority"},
	{ROUTE "    rewrite: {authority: \"[::1]x\"}\n", 2, "is not a valid authority"},
	{ROUTE "    rewrite: {authority: \"user@host\"}\n", 2, "is not a valid authority"},
	{ROUTE "    rewrite: {authority: \"a b\"}\n", 2, "is not a valid authority"},
	{ROUTE "    rewrite: {authority: \"\"}\n", 2, "'' is not a valid authority"},
	{ROUTE "    rewrite: {authority: \":80\"}\n", 2, "is not a valid authority"},
	{ROUTE "    rewrite:\n      uriRegexRewrite: {match: \"^/(.*)$\", rewrite: \"/x y\"}\n", 3,
	 "spec.http[0].rewrite.uriRegexRewrite.rewrite: '/x y' is not a valid path: byte 2 is a "
	 "space"},
	{"    redirect: {uri: relative}\n", 1,
	 "spec.http[0].redirect.uri: 'relative' is not a path: it must start with '/'"},
	{"    redirect: {uri: \"/a\\nb\"}\n", 1,
	 "spec.http[0].redirect.uri: '/a\\x0ab' is not a valid path: byte 2 is a control byte"},
	{"    redirect: {authority: \"a b\"}\n", 1,
	 "spec.http[0].redirect.authority: 'a b' is not a valid authority"},
	{"    redirect: {authority: \"a.example\\r\\nset-cookie: x\"}\n", 1,
	 "spec.http[0].redirect.authority: 'a.example\\x0d\\x0aset-cookie: x' is not a valid "
	 "authority"},
	{"    redirect: {scheme: javascript, uri: /x}\n", 1,
	 "spec.http[0].redirect.scheme: 'javascript' is not http or https"},
	{"    redirect:\n      authority: a.example:8080\n      port: 9090\n", 3,
	 "spec.http[0].redirect.port: authority 'a.example:8080' has a port already"},
	{ROUTE "    corsPolicy: {allowMethods: [\"GET POST\"]}\n", 2,
	 "spec.http[0].corsPolicy.allowMethods[0]: 'GET POST' is not a valid method"},
	{ROUTE "    corsPolicy: {allowHeaders: [\"x-a\\r\\n\"]}\n", 2,
	 "spec.http[0].corsPolicy.allowHeaders[0]: 'x-a\\x0d\\x0a' is not a valid header name"},
	{ROUTE "    corsPolicy: {exposeHeaders: [x-ok, \"x,y\"]}\n", 2,
	 "spec.http[0].corsPolicy.exposeHeaders[1]: 'x,y' is not a valid header name"},
	{ROUTE "    corsPolicy:\n      allowOrigins:\n      - exact: \"https://a.example\\r\\nx: y\"\n",
	 4, "spec.http[0].corsPolicy.allowOrigins[0]: 'https://a.example\\x0d\\x0ax: y' is not a "
	 "valid header value"},
	{ROUTE "    corsPolicy:\n      allowOrigins:\n      - prefix: \"https://\\ta\\x00\"\n", 4,
	 "a string holds a NUL byte"},
	{ROUTE "    corsPolicy: {allowOrigin: [\"https://a.example\\n\"]}\n", 2,
	 "spec.http[0].corsPolicy.allowOrigin[0]: 'https://a.example\\x0a' is not a valid header "
	 "value"},
};

static const struct hf_model_route *
values_load(const char *dir, const char *yaml, struct hf_model *m, char *file, size_t cap)
{
	FILE *f;

	snprintf(file, cap, "%s/vs.yaml", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs(values_head, f);
	fputs(yaml, f);
	fclose(f);
	if (hf_istio_load(file, node, N_NODE, m, err, sizeof(err)) != 0)
		return NULL;
	assert_int_equal(m->n_route_configs, 1);
	assert_int_equal(m->route_configs[0].n_vhosts, 1);
	assert_int_equal(m->route_configs[0].vhosts[0].n_routes, 1);
	return &m->route_configs[0].vhosts[0].routes[0];
}

static void
test_values_refused(void **state)
{
	char dir[] = "/tmp/hf-istio-values-XXXXXX", file[256], want[512];
	unsigned int head_lines = 0, bad = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (const char *c = values_head; *c != '\0'; c++)
		head_lines += *c == '\n';
	for (unsigned int i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
		static const struct hf_model zero;
		struct hf_model m;

		memset(&m, 0x5a, sizeof(m));
		if (values_load(dir, bad_values[i].yaml, &m, file, sizeof(file)) != NULL)
			fail_msg("case %u loaded:\n%s", i, bad_values[i].yaml);
		snprintf(want, sizeof(want), "%s:%u: ", file, head_lines + bad_values[i].line);
		if (strncmp(err, want, strlen(want)) != 0 || strstr(err, bad_values[i].says) == NULL) {
			print_error("case %u:\n  got  %s\n  want %s...%s\n", i, err, want,
				    bad_values[i].says);
			bad++;
		}
		/* the message is one line whatever the value held */
		for (const char *c = err; *c != '\0'; c++)
			assert_true((unsigned char)*c >= 0x20 && (unsigned char)*c != 0x7f);
		assert_memory_equal(&m, &zero, sizeof(m));
	}
	unlink(file);
	rmdir(dir);
	assert_int_equal(bad, 0);
}

/* The edges of each grammar load, byte for byte. */
static void
test_values_accepted(void **state)
{
	char dir[] = "/tmp/hf-istio-values-XXXXXX", file[256];
	const struct hf_model_route *r;
	struct hf_model m;

	(void)state;
	assert_non_null(mkdtemp(dir));

	/* HTAB, obs-text (UTF-8) and an empty value; every token character in a name */
	r = values_load(dir, ROUTE "    headers:\n      request:\n"
			"        set: {x-tab: \"a\\tb\", x-utf8: \"caf\\u00e9\", x-empty: \"\"}\n"
			"        add: {'X-!#$%&''*+.^_`|~1': v}\n"
			"        remove: [X-Debug]\n", &m, file, sizeof(file));
	if (r == NULL)
		fail_msg("%s", err);
	assert_int_equal(r->n_rq_ops, 5);
	check_op(&r->rq_ops[0], HF_HDR_SET, "x-tab", "a\tb");
	check_op(&r->rq_ops[1], HF_HDR_SET, "x-utf8", "caf\xc3\xa9");
	check_op(&r->rq_ops[2], HF_HDR_SET, "x-empty", "");
	check_op(&r->rq_ops[3], HF_HDR_ADD, "x-!#$%&'*+.^_`|~1", "v");
	check_op(&r->rq_ops[4], HF_HDR_REMOVE, "x-debug", NULL);
	hf_model_free(&m);

	/* authorities: bracketed IPv6 with a port, IPv4, the highest port, percent-encoding */
	static const char *const authorities[] = {
		"[2001:db8::1]:8443", "[::1]", "192.0.2.1:80", "xn--bcher-kva.example:65535",
		"a%41b.example", "reviews.default.svc.cluster.local", "a-b_c~d.example:1",
	};
	for (unsigned int i = 0; i < sizeof(authorities) / sizeof(authorities[0]); i++) {
		char yaml[256];

		snprintf(yaml, sizeof(yaml), ROUTE "    rewrite: {authority: \"%s\"}\n",
			 authorities[i]);
		r = values_load(dir, yaml, &m, file, sizeof(file));
		if (r == NULL)
			fail_msg("%s: %s", authorities[i], err);
		assert_string_equal(r->rewrite_authority, authorities[i]);
		hf_model_free(&m);
	}

	/* paths: the root, a query with percent-encoding, a substitution's group reference */
	r = values_load(dir, ROUTE "    rewrite: {uri: \"/search?q=a%20b&x=[1]\"}\n", &m, file,
			sizeof(file));
	if (r == NULL)
		fail_msg("%s", err);
	assert_string_equal(r->rewrite_uri, "/search?q=a%20b&x=[1]");
	hf_model_free(&m);
	r = values_load(dir, ROUTE "    rewrite: {uri: /}\n", &m, file, sizeof(file));
	if (r == NULL)
		fail_msg("%s", err);
	assert_string_equal(r->rewrite_uri, "/");
	hf_model_free(&m);
	r = values_load(dir, ROUTE "    rewrite:\n      uriRegexRewrite: {match: \"^/a/(.*)$\", "
			"rewrite: '\\1/x'}\n", &m, file, sizeof(file));
	if (r == NULL)
		fail_msg("%s", err);
	assert_string_equal(r->rewrite_regex_sub, "\\1/x");
	hf_model_free(&m);

	/* a redirect: a fragment, a scheme in any case (sent lower case), an IPv6 host, a port */
	r = values_load(dir, "    redirect: {uri: \"/new#top\", scheme: HTTPS, authority: \"[::1]\", "
			"port: 8443}\n", &m, file, sizeof(file));
	if (r == NULL)
		fail_msg("%s", err);
	assert_string_equal(r->redirect_uri, "/new#top");
	assert_string_equal(r->redirect_scheme, "https");
	assert_string_equal(r->redirect_authority, "[::1]");
	assert_int_equal(r->redirect_port, 8443);
	hf_model_free(&m);

	/* CORS: "*" is a token, so is M-SEARCH; an origin with a port */
	r = values_load(dir, ROUTE "    corsPolicy:\n      allowOrigins: [{exact: "
			"\"http://a.example:8080\"}]\n      allowMethods: [GET, M-SEARCH]\n"
			"      allowHeaders: [\"*\"]\n", &m, file, sizeof(file));
	if (r == NULL)
		fail_msg("%s", err);
	check_sm(&r->cors.origins[0], HF_MATCH_EXACT, "http://a.example:8080");
	assert_string_equal(r->cors.allow_methods, "GET,M-SEARCH");
	assert_string_equal(r->cors.allow_headers, "*");
	hf_model_free(&m);
	unlink(file);
	rmdir(dir);
}

/* ---- refusals ---- */

/*
 * One mistake per file under istio/invalid/: the line it is reported at and
 * what the message must say (the resource, the field path, the reason).
 */
static const struct {
	const char *file;
	unsigned int line;
	const char *says;
} refusals[] = {
	{"yaml-syntax.yaml", 8, "YAML syntax error: did not find expected ',' or ']'"},
	{"not-mapping.yaml", 1, "a resource must be a mapping, not a list"},
	{"dup-key.yaml", 8, "key 'hosts' appears twice (first at line 6)"},
	{"alias-loop.yaml", 7, "alias *a names no complete node before it"},
	{"alias-bomb.yaml", 12, "YAML larger than 1000000 nodes (aliases included)"},
	{"deep.yaml", 6, "YAML nested deeper than 64 levels"},
	{"kind-later.yaml", 2, "Sidecar: kind: Sidecar is not supported yet"},
	{"kind-unknown.yaml", 2, "kind: 'VirtualServce' is not a kind of networking.istio.io"},
	{"group-core.yaml", 2, "Service: apiVersion: the Kubernetes core API (v1) is not read"},
	{"group-apps.yaml", 1, "Deployment: apiVersion: API group apps (apps/v1) is not read"},
	{"version.yaml", 1, "apiVersion: version 'v2' of networking.istio.io is not one of"},
	{"no-name.yaml", 3, "Gateway: metadata.name: required field is missing"},
	{"duplicate.yaml", 12, "Gateway default/gw: metadata.name: Gateway default/gw is already "
			       "defined at "},
	{"field-top.yaml", 6, "VirtualService default/reviews: spec.hots: unknown field"},
	{"field-deep.yaml", 10, "spec.http[0].route[0].destination.hots: unknown field"},
	{"regex.yaml", 9, "spec.http[0].match[0].uri: regex '/consumer(catalog' is refused: Missing "
			   "close parenthesis"},
	{"type-list.yaml", 6, "spec.hosts: must be a list, not a string"},
	{"type-number.yaml", 8, "spec.servers[0].port.number: must be an integer, not a string"},
	{"headers-type.yaml", 9, "spec.http[0].match[0].headers: must be a mapping, not a list"},
	{"port-range.yaml", 8, "spec.servers[0].port.number: 70000 is out of range [1, 65535]"},
	{"vs-no-hosts.yaml", 5, "VirtualService default/reviews: spec.hosts: required field is "
				"missing"},
	{"gw-no-servers.yaml", 5, "Gateway default/gw: spec.servers: required field is missing"},
	{"dest-no-host.yaml", 9, "spec.http[0].route[0].destination.host: required field is "
				  "missing"},
	{"no-routes.yaml", 5, "spec: needs http, tls or tcp routes"},
	{"host-unknown.yaml", 23, "VirtualService default/reviews: spec.http[0].route[0]."
				  "destination.host: 'nosuch' is not a known service"},
	{"export-hidden.yaml", 23, "'reviews.team-a' is not a known service (ServiceEntry "
				   "team-a/reviews is not exported to namespace team-b)"},
	{"subset-unknown.yaml", 24, "spec.http[0].route[0].destination.subset: subset 'v9' is not "
				    "defined by a DestinationRule for reviews.default.svc."
				    "cluster.local"},
	{"port-needed.yaml", 22, "spec.http[0].route[0].destination: service reviews.default.svc."
				 "cluster.local has 2 ports: port.number is required"},
	{"weights.yaml", 21, "spec.http[0].route: weights sum to 90, not 100"},
	{"weight-range.yaml", 23, "spec.http[0].route[0].weight: -10 is out of range [0, 100]"},
	{"two-actions.yaml", 9, "spec.http[0].directResponse: only one of route, redirect, "
				"directResponse may be set"},
	{"rewrite-redirect.yaml", 9, "spec.http[0].rewrite: only applies to a route, not to a "
				     "redirect"},
	{"string-match.yaml", 9, "spec.http[0].match[0].uri: only one of exact, prefix, regex"},
	{"redirect-code.yaml", 10, "spec.http[0].redirect.redirectCode: 200 is not a redirect "
				   "code"},
	{"duration.yaml", 23, "spec.http[0].timeout: '10 seconds' is not a duration"},
	{"duration-type.yaml", 10, "spec.trafficPolicy.connectionPool.tcp.connectTimeout: must be "
				   "a duration string"},
	{"percentage.yaml", 25, "spec.http[0].fault.abort.percentage.value: 150 is not a "
				"percentage in [0, 100]"},
	{"mirror-pct.yaml", 23, "spec.http[0].mirrorPercentage: needs mirror"},
	{"retry-on.yaml", 23, "spec.http[0].retries.retryOn: 'unavailable' is not supported yet"},
	{"delegate.yaml", 9, "spec.http[0].delegate: not supported yet"},
	{"mirrors.yaml", 10, "spec.http[0].mirrors: not supported yet"},
	{"exponential.yaml", 23, "spec.http[0].fault.delay.exponentialDelay: not supported yet"},
	{"body-bytes.yaml", 11, "spec.http[0].directResponse.body.bytes: not supported yet"},
	{"source-labels.yaml", 9, "spec.http[0].match[0].sourceLabels: not supported yet"},
	{"source-namespace.yaml", 10, "spec.http[0].match[0].sourceNamespace: not supported yet"},
	{"tls-routes.yaml", 9, "VirtualService default/reviews: spec.tls[0].match[0].sniHosts[0]: "
			       "'login.example.org' is not within any of the VirtualService's hosts"},
	{"tls-route-no-match.yaml", 8, "spec.tls[0].match: required field is missing"},
	{"tls-sni-wildcard.yaml", 10, "spec.tls[0].match[0].sniHosts[1]: 'a.*.com' is not an SNI "
				      "host"},
	{"tls-source-labels.yaml", 10, "spec.tls[0].match[0].sourceLabels: not supported yet"},
	{"tls-mixed-port.yaml", 11, "spec.servers[1].port.protocol: port 443 already has a server "
				    "of protocol TLS passthrough (Gateway default/gw); this one is "
				    "HTTPS"},
	{"tcp-weighted.yaml", 23, "spec.tcp[0].route[1]: weighted tcp routes (2 destinations) are "
				  "not supported yet"},
	{"cors-regex.yaml", 25, "spec.http[0].corsPolicy.allowOrigins[1].regex: not supported yet "
				"(exact and prefix are)"},
	{"tls-server.yaml", 7, "Gateway default/gw: spec.servers[0]: a TLS server needs tls (mode "
			       "PASSTHROUGH, or SIMPLE or MUTUAL with a certificate)"},
	{"https-redirect.yaml", 10, "spec.servers[0].tls.httpsRedirect: not supported yet"},
	{"tls-mutual-no-ca.yaml", 9, "spec.servers[0].tls: mode MUTUAL needs caCertificates"},
	{"tls-mutual-both.yaml", 12, "spec.servers[0].tls.caCertificates: give credentialName "
				     "(whose ca.crt, or <name>-cacert/ca.crt, holds the CA) or "
				     "caCertificates, not both"},
	{"tls-simple-ca.yaml", 13, "spec.servers[0].tls.subjectAltNames: client certificates are "
				   "verified with mode MUTUAL only"},
	{"se-grpc.yaml", 9, "ServiceEntry default/api: spec.ports[1].protocol: GRPC is not "
			    "supported yet"},
	{"nul-byte.yaml", 6, "a string holds a NUL byte"},
	{"https.yaml", 11, "spec.servers[0].tls.credentialName: credentialName 'cert' needs "
			   "config.credentials_dir in the bootstrap"},
	{"tls-mutual.yaml", 10, "spec.servers[0].tls.mode: OPTIONAL_MUTUAL is not supported yet "
				"(SIMPLE, MUTUAL and PASSTHROUGH only)"},
	{"tls-passthrough.yaml", 10, "spec.servers[0].tls.credentialName: not used with mode "
				     "PASSTHROUGH"},
	{"tls-version.yaml", 12, "spec.servers[0].tls.minProtocolVersion: TLSV1_1 is not supported: "
				 "TLS 1.2 is the oldest version served"},
	{"tls-cipher.yaml", 12, "spec.servers[0].tls.cipherSuites[1]: unknown cipher suite 'RC4-NOPE'"},
	{"http2.yaml", 7, "spec.servers[0].port.protocol: GRPC is not supported yet"},
	{"protocol-clash.yaml", 10, "spec.servers[1].port.protocol: port 80 already has a server "
				    "of protocol HTTP (Gateway default/gw)"},
	{"dns-names.yaml", 11, "ServiceEntry default/external: spec.endpoints[1].address: "
			       "'us.api.example.com': DNS resolution of names is not supported "
			       "yet"},
	{"dns-hosts.yaml", 7, "spec.hosts[0]: resolution DNS without endpoints resolves the hosts: "
			      "DNS resolution of names is not supported yet"},
	{"static-no-endpoints.yaml", 5, "spec.endpoints: resolution STATIC needs endpoints or a "
					"workloadSelector"},
	{"service-account.yaml", 6, "WorkloadEntry default/details-svc: spec.network: not "
				    "supported yet"},
	{"consistent-hash.yaml", 9, "DestinationRule default/reviews: spec.trafficPolicy."
				    "loadBalancer.consistentHash: not supported yet"},
	{"outlier-interval.yaml", 11, "spec.subsets[0].trafficPolicy.outlierDetection."
				      "consecutiveErrors: not supported yet"},
	{"outlier-port.yaml", 11, "spec.trafficPolicy.portLevelSettings[0].outlierDetection."
				  "consecutiveErrors: not supported yet"},
	{"max-connections.yaml", 12, "spec.trafficPolicy.connectionPool.tcp."
				     "maxConnectionDuration: not supported yet"},
	{"pending-requests.yaml", 11, "spec.trafficPolicy.connectionPool.http.idleTimeout: not "
				      "supported yet"},
	{"lb-passthrough.yaml", 9, "spec.trafficPolicy.loadBalancer.simple: PASSTHROUGH is not "
				   "supported yet"},
	{"mutual.yaml", 8, "DestinationRule default/db: spec.trafficPolicy.tls: mode MUTUAL needs "
			   "clientCertificate and privateKey, or credentialName"},
	{"tls-simple.yaml", 13, "spec.subsets[0].trafficPolicy.tls.sni: '*.example.com' is not a "
				"server name"},
	{"tls-istio-mutual.yaml", 12, "spec.trafficPolicy.portLevelSettings[0].tls.mode: "
				      "ISTIO_MUTUAL needs the node's mesh identity"},
	{"tls-files.yaml", 10, "spec.trafficPolicy.tls.caCertificates: cannot read "
			       "'/nonexistent/hydrofoil/ca.pem'"},
	{"tls-crl.yaml", 10, "spec.trafficPolicy.tls.caCrl: not supported yet"},
	{"tls-simple-cert.yaml", 10, "spec.trafficPolicy.tls.clientCertificate: mode SIMPLE sends "
				    "no client certificate"},
	{"listeners-full.yaml", 136, "Gateway default/gw: spec.servers[64].port.number: port 8064 "
				     "would be listener 65: at most 64 ports in all"},
};

static void
test_refusals(void **state)
{
	static const struct hf_model zero;
	unsigned int bad = 0;

	(void)state;
	for (unsigned int i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		char rel[256], want[1200];
		struct hf_model m;
		int rc;

		snprintf(rel, sizeof(rel), "invalid/%s", refusals[i].file);
		snprintf(want, sizeof(want), "%s:%u: ", data(rel), refusals[i].line);
		memset(&m, 0x5a, sizeof(m));
		rc = hf_istio_load(data(rel), node, N_NODE, &m, err, sizeof(err));
		if (getenv("HF_ISTIO_PRINT") != NULL)
			printf("%s\n", strstr(err, "invalid/"));
		if (rc != -EINVAL)
			fail_msg("%s: rc %d: %s", refusals[i].file, rc, err);
		if (strncmp(err, want, strlen(want)) != 0 ||
		    strstr(err, refusals[i].says) == NULL) {
			print_error("%s:\n  got  %s\n  want %s...%s\n", refusals[i].file, err, want,
				    refusals[i].says);
			bad++;
		}
		assert_null(strchr(err, '\n'));
		/* nothing left allocated, nothing left pointing anywhere */
		assert_memory_equal(&m, &zero, sizeof(m));
	}
	assert_int_equal(bad, 0);
}

/* A message longer than the caller's buffer is cut, terminated, and the load still fails. */
static void
test_short_err(void **state)
{
	char small[24];
	struct hf_model m;

	(void)state;
	assert_int_equal(hf_istio_load(data("invalid/field-deep.yaml"), node, N_NODE, &m, small,
				       sizeof(small)), -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(hf_istio_load(data("invalid/field-deep.yaml"), node, N_NODE, &m, NULL, 0),
			 -EINVAL);
	assert_null(m.clusters);
}

/*
 * Host names as long as DNS allows (253 characters) become virtual hosts whose
 * domains ("name" and "name:80") are routed by; one character more is refused
 * with the file, line, resource and field, for a VirtualService's hosts as for
 * a Gateway server's.
 */
static void
test_long_hosts(void **state)
{
	static const char tmpl[] =
		"apiVersion: networking.istio.io/v1\n"
		"kind: Gateway\n"
		"metadata: {name: gw}\n"
		"spec:\n"
		"  selector: {istio: ingressgateway}\n"
		"  servers:\n"
		"  - port: {number: 80, name: http, protocol: HTTP}\n"
		"    hosts: [\"%s\"]\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: ServiceEntry\n"
		"metadata: {name: web}\n"
		"spec:\n"
		"  hosts: [web.example.com]\n"
		"  ports: [{number: 80, name: http, protocol: HTTP}]\n"
		"  resolution: STATIC\n"
		"  endpoints: [{address: 198.51.100.1}]\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: web}\n"
		"spec:\n"
		"  hosts: [\"%s\"]\n"
		"  gateways: [gw]\n"
		"  http:\n"
		"  - route: [{destination: {host: web.example.com}}]\n";
	char dir[] = "/tmp/hf-istio-long-XXXXXX", file[256], host[300], authority[320], want[600];
	struct hf_model m;
	struct hf_snapshot *s;
	const struct hf_snap_listener *sl;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/long.yaml", dir);
	/* 63-character labels: "aaa...a.aaa...a.aaa...a.a...a", 253 in all */
	memset(host, 'a', 253);
	for (int i = 63; i < 253; i += 64)
		host[i] = '.';
	host[253] = '\0';
	for (int k = 0; k < 3; k++) {
		/* 0: 253 both; 1: the VirtualService's host 254; 2: the Gateway server's 254 */
		char longer[300];

		snprintf(longer, sizeof(longer), "b%.253s", host);
		f = fopen(file, "w");
		assert_non_null(f);
		fprintf(f, tmpl, k == 2 ? longer : "*", k == 1 ? longer : host);
		fclose(f);
		memset(&m, 0, sizeof(m));
		if (k == 0) {
			if (hf_istio_load(file, node, N_NODE, &m, err, sizeof(err)) != 0)
				fail_msg("%s", err);
		} else {
			assert_int_equal(hf_istio_load(file, node, N_NODE, &m, err, sizeof(err)),
					 -EINVAL);
			snprintf(want, sizeof(want), "%s:%d: %s default/%s: %s: 'baaa", file,
				 k == 1 ? 23 : 8, k == 1 ? "VirtualService" : "Gateway",
				 k == 1 ? "web" : "gw", k == 1 ? "spec.hosts[0]" : "spec.servers[0].hosts[0]");
			print_message("  %s\n", err);
			assert_memory_equal(err, want, strlen(want));
			assert_non_null(strstr(err, "is 254 characters long: a host name has at most 253"));
			continue;
		}
		s = hf_snapshot_compile(&m, 1, 1, err, sizeof(err));
		if (s == NULL)
			fail_msg("compile: %s", err);
		sl = hf_snapshot_listener(s, 80);
		assert_non_null(sl);
		assert_non_null(hf_router_vhost(&sl->table, host, strlen(host)));
		snprintf(authority, sizeof(authority), "%s:80", host);
		assert_non_null(hf_router_vhost(&sl->table, authority, strlen(authority)));
		authority[0] = 'b';
		assert_null(hf_router_vhost(&sl->table, authority, strlen(authority)));
		hf_snapshot_free(s);
		hf_model_free(&m);
	}
	unlink(file);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_bookinfo_dir),
		cmocka_unit_test(test_not_selected),
		cmocka_unit_test(test_http_all),
		cmocka_unit_test(test_https_redirect),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_workloads),
		cmocka_unit_test(test_circuit_breakers),
		cmocka_unit_test(test_binding),
		cmocka_unit_test(test_anchors),
		cmocka_unit_test(test_empty_and_missing),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_values_refused),
		cmocka_unit_test(test_values_accepted),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_short_err),
		cmocka_unit_test(test_long_hosts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
