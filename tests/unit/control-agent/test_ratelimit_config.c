/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Local rate limits, configured: the EnvoyFilter shapes of Istio's rate-limit
 * task (filter-wide, per virtual host, per route) land on the listeners,
 * virtual hosts and routes they match; every other patch is refused naming
 * the resource and the field; the bootstrap's local_ratelimits do the same
 * from libconfig; the compiled snapshot numbers its buckets by sorted keys
 * that stay the same across compiles of the same configuration.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf_test.h"
#include "control-agent/bootstrap.h"
#include "control-agent/config.h"
#include "control-agent/istio/istio.h"
#include "control-agent/ratelimit.h"
#include "control-agent/snapshot.h"

static const char *const node[] = {"istio=ingressgateway"};

static const char base[] =
	"apiVersion: networking.istio.io/v1\n"
	"kind: Gateway\n"
	"metadata: {name: gw, namespace: istio-system}\n"
	"spec:\n"
	"  selector: {istio: ingressgateway}\n"
	"  servers:\n"
	"  - port: {number: 8080, name: http, protocol: HTTP}\n"
	"    hosts: [\"*\"]\n"
	"  - port: {number: 9090, name: http2, protocol: HTTP}\n"
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
	"  hosts: [\"*\"]\n"
	"  gateways: [istio-system/gw]\n"
	"  http:\n"
	"  - name: api\n"
	"    match: [{uri: {prefix: /api}}, {uri: {prefix: /v2/api}}]\n"
	"    route: [{destination: {host: web}}]\n"
	"  - name: moved\n"
	"    match: [{uri: {prefix: /old}}]\n"
	"    redirect: {uri: /new}\n"
	"  - name: rest\n"
	"    route: [{destination: {host: web}}]\n";

/* The task's filter-wide patch, for a gateway: a TypedStruct, every field the task sets. */
static const char filter_wide[] =
	"apiVersion: networking.istio.io/v1alpha3\n"
	"kind: EnvoyFilter\n"
	"metadata: {name: filter-local-ratelimit-svc, namespace: istio-system}\n"
	"spec:\n"
	"  workloadSelector:\n"
	"    labels: {istio: ingressgateway}\n"
	"  configPatches:\n"
	"    - applyTo: HTTP_FILTER\n"
	"      match:\n"
	"        context: GATEWAY\n"
	"        listener:\n"
	"          portNumber: 8080\n"
	"          filterChain:\n"
	"            filter:\n"
	"              name: \"envoy.filters.network.http_connection_manager\"\n"
	"              subFilter: {name: envoy.filters.http.router}\n"
	"      patch:\n"
	"        operation: INSERT_BEFORE\n"
	"        value:\n"
	"          name: envoy.filters.http.local_ratelimit\n"
	"          typed_config:\n"
	"            \"@type\": type.googleapis.com/udpa.type.v1.TypedStruct\n"
	"            type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit\n"
	"            value:\n"
	"              stat_prefix: http_local_rate_limiter\n"
	"              token_bucket:\n"
	"                max_tokens: 4\n"
	"                tokens_per_fill: 4\n"
	"                fill_interval: 60s\n"
	"              filter_enabled:\n"
	"                runtime_key: local_rate_limit_enabled\n"
	"                default_value:\n"
	"                  numerator: 100\n"
	"                  denominator: HUNDRED\n"
	"              filter_enforced:\n"
	"                runtime_key: local_rate_limit_enforced\n"
	"                default_value:\n"
	"                  numerator: 50\n"
	"                  denominator: HUNDRED\n"
	"              enable_x_ratelimit_headers: DRAFT_VERSION_03\n"
	"              response_headers_to_add:\n"
	"                - append: false\n"
	"                  header:\n"
	"                    key: x-local-rate-limit\n"
	"                    value: 'true'\n";

/* The task's per-route form: the filter without a bucket, the route's own config (direct @type). */
static const char per_route[] =
	"apiVersion: networking.istio.io/v1alpha3\n"
	"kind: EnvoyFilter\n"
	"metadata: {name: per-route, namespace: istio-system}\n"
	"spec:\n"
	"  configPatches:\n"
	"    - applyTo: HTTP_FILTER\n"
	"      match:\n"
	"        context: GATEWAY\n"
	"        listener:\n"
	"          filterChain:\n"
	"            filter: {name: \"envoy.filters.network.http_connection_manager\"}\n"
	"      patch:\n"
	"        operation: INSERT_BEFORE\n"
	"        value:\n"
	"          name: envoy.filters.http.local_ratelimit\n"
	"          typed_config:\n"
	"            \"@type\": type.googleapis.com/udpa.type.v1.TypedStruct\n"
	"            type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit\n"
	"            value: {stat_prefix: http_local_rate_limiter}\n"
	"    - applyTo: HTTP_ROUTE\n"
	"      match:\n"
	"        context: GATEWAY\n"
	"        routeConfiguration:\n"
	"          vhost:\n"
	"            name: \"*:8080\"\n"
	"            route: {action: ROUTE}\n"
	"      patch:\n"
	"        operation: MERGE\n"
	"        value:\n"
	"          typed_per_filter_config:\n"
	"            envoy.filters.http.local_ratelimit:\n"
	"              \"@type\": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit\n"
	"              stat_prefix: per_route\n"
	"              token_bucket: {max_tokens: 2, fill_interval: 1s}\n"
	"              filter_enabled: {default_value: {numerator: 10000, denominator: MILLION}}\n"
	"    - applyTo: VIRTUAL_HOST\n"
	"      match:\n"
	"        routeConfiguration:\n"
	"          portNumber: 9090\n"
	"          vhost: {name: \"*:9090\"}\n"
	"      patch:\n"
	"        operation: MERGE\n"
	"        value:\n"
	"          typed_per_filter_config:\n"
	"            envoy.filters.http.local_ratelimit:\n"
	"              \"@type\": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit\n"
	"              stat_prefix: vhost\n"
	"              status: {code: 503}\n"
	"              token_bucket: {max_tokens: 7, tokens_per_fill: 3, fill_interval: 500ms}\n";

static char dir[64];
static char err[HF_ISTIO_ERR];

/* Writes base and @p extra into a fresh directory; returns its path. */
static const char *
write_dir(const char *extra)
{
	char path[128];
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/hf-rl-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(base, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/b.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(extra, f);
	fclose(f);
	return dir;
}

static void
rm_dir(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/b.yaml", dir);
	unlink(path);
	rmdir(dir);
}

static int
load(const char *extra, struct hf_model *m)
{
	int rc = hf_istio_load(write_dir(extra), node, 1, m, err, sizeof(err));

	rm_dir();
	return rc;
}

static const struct hf_model_listener *
listener(const struct hf_model *m, uint16_t port)
{
	for (unsigned int i = 0; i < m->n_listeners; i++)
		if (m->listeners[i].port == port)
			return &m->listeners[i];
	fail_msg("no listener on %u", port);
	return NULL;
}

static const struct hf_model_vhost *
vhost0(const struct hf_model *m, uint16_t port)
{
	const struct hf_model_listener *l = listener(m, port);

	return &m->route_configs[l->route_config].vhosts[0];
}

static void
test_filter_wide(void **state)
{
	struct hf_model m;
	const struct hf_model_ratelimit *rl;

	(void)state;
	if (load(filter_wide, &m) != 0)
		fail_msg("%s", err);
	rl = listener(&m, 8080)->ratelimit;
	assert_non_null(rl);
	assert_null(listener(&m, 9090)->ratelimit);	/* portNumber: 8080 only */
	assert_string_equal(rl->stat_prefix, "http_local_rate_limiter");
	assert_int_equal(rl->max_tokens, 4);
	assert_int_equal(rl->tokens_per_fill, 4);
	assert_int_equal(rl->fill_interval_ms, 60000);
	assert_int_equal(rl->enabled_ppm, 1000000);
	assert_int_equal(rl->enforced_ppm, 500000);
	assert_true(rl->x_headers);
	assert_int_equal(rl->status, 429);
	assert_int_equal(rl->n_headers, 1);
	assert_string_equal(rl->headers[0].name, "x-local-rate-limit");
	assert_string_equal(rl->headers[0].value, "true");
	assert_string_equal(rl->origin, "EnvoyFilter istio-system/filter-local-ratelimit-svc");
	assert_null(vhost0(&m, 8080)->ratelimit);
	hf_model_free(&m);
}

static void
test_per_route(void **state)
{
	const struct hf_model_vhost *vh;
	struct hf_model m;

	(void)state;
	if (load(per_route, &m) != 0)
		fail_msg("%s", err);
	/* the filter-wide config has no bucket: nothing on the listeners */
	assert_null(listener(&m, 8080)->ratelimit);
	assert_null(listener(&m, 9090)->ratelimit);
	vh = vhost0(&m, 8080);
	assert_null(vh->ratelimit);
	assert_int_equal(vh->n_routes, 3);
	/* action ROUTE: api and rest, not the redirect */
	assert_non_null(vh->routes[0].ratelimit);
	assert_null(vh->routes[1].ratelimit);
	assert_non_null(vh->routes[2].ratelimit);
	assert_int_equal(vh->routes[0].ratelimit->max_tokens, 2);
	assert_int_equal(vh->routes[0].ratelimit->tokens_per_fill, 1);	/* Envoy's default */
	assert_int_equal(vh->routes[0].ratelimit->fill_interval_ms, 1000);
	assert_int_equal(vh->routes[0].ratelimit->enabled_ppm, 10000);
	assert_int_equal(vh->routes[0].ratelimit->enforced_ppm, 0);	/* Envoy's default: 0% */
	assert_false(vh->routes[0].ratelimit->x_headers);
	/* the 9090 virtual host */
	vh = vhost0(&m, 9090);
	assert_non_null(vh->ratelimit);
	assert_null(vh->routes[0].ratelimit);
	assert_int_equal(vh->ratelimit->status, 503);
	assert_int_equal(vh->ratelimit->max_tokens, 7);
	assert_int_equal(vh->ratelimit->fill_interval_ms, 500);
	hf_model_free(&m);
}

/* Shapes that take effect nowhere: another workload, a sidecar context. */
static void
test_not_mine(void **state)
{
	static const char *const edits[][2] = {
		{"labels: {istio: ingressgateway}", "labels: {app: productpage}"},
		{"context: GATEWAY", "context: SIDECAR_INBOUND"},
	};
	struct hf_model m;

	(void)state;
	for (unsigned int i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char y[sizeof(filter_wide) + 64];
		const char *at = strstr(filter_wide, edits[i][0]);

		assert_non_null(at);
		snprintf(y, sizeof(y), "%.*s%s%s", (int)(at - filter_wide), filter_wide, edits[i][1],
			 at + strlen(edits[i][0]));
		if (load(y, &m) != 0)
			fail_msg("%s", err);
		assert_null(listener(&m, 8080)->ratelimit);
		hf_model_free(&m);
	}
}

/* One change to filter_wide or per_route each, and the message it must give. */
static const struct {
	const char *doc;	/* "w": filter_wide, "r": per_route */
	const char *from, *to, *want;
} refusals[] = {
	{"w", "applyTo: HTTP_FILTER", "applyTo: CLUSTER",
	 "EnvoyFilter istio-system/filter-local-ratelimit-svc: spec.configPatches[0].applyTo: "
	 "'CLUSTER' is not applied: Hydrofoil applies no arbitrary Envoy patch"},
	{"w", "name: envoy.filters.http.local_ratelimit", "name: envoy.filters.http.lua",
	 "spec.configPatches[0].patch.value.name: 'envoy.filters.http.lua' is not applied"},
	{"w", "operation: INSERT_BEFORE", "operation: REMOVE",
	 "spec.configPatches[0].patch.operation: 'REMOVE' is not applied"},
	{"w", "subFilter: {name: envoy.filters.http.router}", "subFilter: {name: envoy.filters.http.cors}",
	 "subFilter.name: 'envoy.filters.http.cors': the local rate limit runs just before the router"},
	{"w", "              stat_prefix: http_local_rate_limiter\n",
	 "              stat_prefix: http_local_rate_limiter\n              descriptors: []\n",
	 "typed_config.value.descriptors: not applied"},
	{"w", "fill_interval: 60s", "fill_interval: 10ms",
	 "token_bucket.fill_interval: 10ms is out of range [50ms"},
	{"w", "max_tokens: 4", "max_tokens: 0", "token_bucket.max_tokens: 0 is out of range"},
	{"w", "denominator: HUNDRED", "denominator: THOUSAND",
	 "default_value.denominator: 'THOUSAND' is not one of"},
	{"w", "key: x-local-rate-limit", "key: content-length",
	 "header.key: 'content-length' is a framing or hop-by-hop field"},
	{"w", "value: 'true'", "value: '%DOWNSTREAM_REMOTE_ADDRESS%'",
	 "%COMMAND% substitutions are not supported"},
	{"w", "type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
	 "type_url: type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
	 "type_url: 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' is not applied"},
	{"w", "  workloadSelector:", "  targetRefs: []\n  workloadSelector:",
	 "spec.targetRefs: not applied"},
	{"w", "          portNumber: 8080\n", "          portNumber: 8080\n          name: x\n",
	 "match.listener.name: not applied"},
	{"w", "enable_x_ratelimit_headers: DRAFT_VERSION_03", "local_rate_limit_per_downstream_connection: true",
	 "local_rate_limit_per_downstream_connection: not supported: buckets are per worker"},
	{"r", "token_bucket: {max_tokens: 2, fill_interval: 1s}", "status: {code: 429}",
	 "token_bucket: required in a per-route or virtual host config"},
	{"r", "operation: MERGE", "operation: REPLACE",
	 "spec.configPatches[1].patch.operation: 'REPLACE' is not applied"},
	{"r", "          typed_per_filter_config:\n            envoy.filters.http.local_ratelimit:\n              \"@type\": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit\n              stat_prefix: per_route",
	 "          typed_per_filter_config:\n            envoy.filters.http.fault:\n              \"@type\": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit\n              stat_prefix: per_route",
	 "typed_per_filter_config.envoy.filters.http.fault: not applied"},
	{"r", "route: {action: ROUTE}", "route: {action: ALL}", "route.action: 'ALL' is not one of"},
	{"r", "vhost: {name: \"*:9090\"}", "vhost: {name: \"*:9090\", route: {name: x}}",
	 "spec.configPatches[2].match.routeConfiguration.vhost.route: not applied"},
	{"r", "          portNumber: 9090\n", "          portNumber: 9090\n          gateway: a/b\n",
	 "match.routeConfiguration.gateway: not applied"},
	{"r", "stat_prefix: vhost", "stat_prefix: \"bad prefix\"",
	 "stat_prefix: 'bad prefix' is not 1 to 59 of letters"},
};

static void
test_refusals(void **state)
{
	struct hf_model m;

	(void)state;
	for (unsigned int i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const char *src = refusals[i].doc[0] == 'w' ? filter_wide : per_route;
		const char *at = strstr(src, refusals[i].from);
		size_t cap = strlen(src) + strlen(refusals[i].to) + 1;
		char *y = malloc(cap);

		if (at == NULL)
			fail_msg("case %u: '%s' not in the document", i, refusals[i].from);
		snprintf(y, cap, "%.*s%s%s", (int)(at - src), src, refusals[i].to,
			 at + strlen(refusals[i].from));
		assert_int_equal(load(y, &m), -EINVAL);
		free(y);
		if (strstr(err, refusals[i].want) == NULL)
			fail_msg("case %u: '%s' lacks '%s'", i, err, refusals[i].want);
		/* file and line first, then the resource */
		assert_non_null(strstr(err, "/b.yaml:"));
		assert_non_null(strstr(err, "EnvoyFilter istio-system/"));
	}
}

/* Two EnvoyFilters for one scope: the second is refused, naming the first. */
static void
test_twice(void **state)
{
	char y[2 * sizeof(filter_wide) + 8];
	struct hf_model m;

	(void)state;
	snprintf(y, sizeof(y), "%s---\n%s", filter_wide, filter_wide);
	/* the second one needs a name of its own */
	memcpy(strstr(y + sizeof(filter_wide), "filter-local-ratelimit-svc"), "filter-local-ratelimit-sv2",
	       26);
	assert_int_equal(load(y, &m), -EINVAL);
	assert_non_null(strstr(err, "listener 0.0.0.0_8080 already has a local rate limit "
				    "(EnvoyFilter istio-system/filter-local-ratelimit-svc)"));
}

/* ---- the bootstrap ---- */

static const char boot_head[] =
	"dpdk: { lcores = \"0-1\"; args = [ \"--no-pci\" ]; };\n"
	"ports = ( { name = \"p0\"; device = \"net_tap0,iface=hf0\"; address = \"198.51.100.2/24\"; } );\n"
	"static_resources: {\n"
	"  clusters = ( { name = \"b\"; endpoints = [ \"198.51.100.1:80\" ]; } );\n"
	"  listeners = ( { name = \"h\"; port = 80; filter = \"http\"; route_config = {\n"
	"    virtual_hosts = ( { name = \"all\"; domains = [ \"*\" ]; routes = (\n"
	"      { name = \"slow\"; match = { prefix = \"/slow\"; }; route = { cluster = \"b\"; }; },\n"
	"      { name = \"rest\"; match = { prefix = \"/\"; }; route = { cluster = \"b\"; }; } ); } ); }; } );\n"
	"};\n";

static int
boot_load(const char *tail, struct hf_bootstrap *b, char *e, size_t elen)
{
	char path[] = "/tmp/hf-rl-boot-XXXXXX";
	int fd = mkstemp(path), rc;
	FILE *f = fdopen(fd, "w");

	fputs(boot_head, f);
	fputs(tail, f);
	fclose(f);
	rc = hf_bootstrap_load(b, path, e, elen);
	unlink(path);
	return rc;
}

static struct hf_bootstrap boot;

static void
test_bootstrap(void **state)
{
	static const struct {
		const char *tail, *want;
	} bad[] = {
		{"local_ratelimits = ( { port = 80; max_tokens = 0; fill_interval_ms = 1000; } );",
		 "local_ratelimits.[0].max_tokens: 0 is out of range"},
		{"local_ratelimits = ( { port = 80; max_tokens = 5; fill_interval_ms = 10; } );",
		 "local_ratelimits.[0].fill_interval_ms: 10 is out of range"},
		{"local_ratelimits = ( { port = 80; max_tokens = 5; fill_interval_ms = 100; "
		 "filter_enforced = 101.0; } );", "filter_enforced: must be a percentage"},
		{"local_ratelimits = ( { port = 80; max_tokens = 5; fill_interval_ms = 100; "
		 "descriptors = 1; } );", "local_ratelimits.[0].descriptors: unknown key"},
		{"local_ratelimits = ( { port = 80; max_tokens = 5; fill_interval_ms = 100; "
		 "response_headers_to_add = ( { key = \"connection\"; value = \"x\"; } ); } );",
		 "'connection' is not a header name a response may get added"},
	};
	char e[HF_BOOT_ERR];
	struct hf_snapshot *s;
	const struct hf_route *r;

	(void)state;
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(boot_load(bad[i].tail, &boot, e, sizeof(e)), -EINVAL);
		if (strstr(e, bad[i].want) == NULL)
			fail_msg("case %u: '%s' lacks '%s'", i, e, bad[i].want);
	}
	assert_int_equal(boot_load("local_ratelimits = (\n"
				   "  { port = 80; max_tokens = 10; fill_interval_ms = 60000;\n"
				   "    x_ratelimit_headers = true; stat_prefix = \"gw\"; },\n"
				   "  { port = 80; route = \"slow\"; max_tokens = 2; tokens_per_fill = 2;\n"
				   "    fill_interval_ms = 1000; filter_enforced = 50;\n"
				   "    response_headers_to_add = ( { key = \"X-Slow\"; value = \"yes\"; } ); },\n"
				   "  { port = 81; max_tokens = 1; fill_interval_ms = 100; } );\n",
				   &boot, e, sizeof(e)), 0);
	assert_int_equal(boot.ratelimits.n, 3);
	s = hf_config_build(&boot, 1, 2, e, sizeof(e));
	if (s == NULL)
		fail_msg("%s", e);
	/* port 81 matches nothing: no effect */
	assert_int_equal(s->n_rl, 2);
	assert_non_null(s->listeners[0].ratelimit);
	assert_int_equal(s->listeners[0].ratelimit->max_tokens, 10);
	assert_true(s->listeners[0].ratelimit->x_headers);
	assert_int_equal(s->listeners[0].ratelimit->enabled_ppm, 1000000);	/* 100% unless said */
	assert_string_equal(hf_rl_stat_name(s->listeners[0].ratelimit->stat), "gw");
	r = &s->listeners[0].table.vhosts[0].routes[0];
	assert_non_null(r->ratelimit);
	assert_int_equal(r->ratelimit->enforced_ppm, 500000);
	assert_int_equal(r->ratelimit->n_headers, 1);
	assert_string_equal(r->ratelimit->headers[0].name, "x-slow");
	assert_null(s->listeners[0].table.vhosts[0].routes[1].ratelimit);
	assert_string_equal(hf_rl_stat_name(r->ratelimit->stat), "http_local_rate_limiter");
	/* sorted by key, each numbered by its place */
	assert_true(s->rl[0]->key < s->rl[1]->key);
	assert_int_equal(s->rl[0]->slot, 0);
	assert_int_equal(s->rl[1]->slot, 1);
	{
		/* the same configuration compiles to the same keys: buckets survive a reload */
		struct hf_snapshot *s2 = hf_config_build(&boot, 2, 2, e, sizeof(e));

		assert_non_null(s2);
		assert_int_equal(s2->rl[0]->key, s->rl[0]->key);
		assert_int_equal(s2->rl[1]->key, s->rl[1]->key);
		hf_snapshot_free(s2);
		/* a changed bucket changes its key only */
		boot.ratelimits.rl[1].max_tokens = 3;
		s2 = hf_config_build(&boot, 3, 2, e, sizeof(e));
		assert_non_null(s2);
		assert_int_equal(s2->listeners[0].ratelimit->key, s->listeners[0].ratelimit->key);
		assert_true(s2->listeners[0].table.vhosts[0].routes[0].ratelimit->key != r->ratelimit->key);
		hf_snapshot_free(s2);
	}
	hf_snapshot_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_wide),
		cmocka_unit_test(test_per_route),
		cmocka_unit_test(test_not_mine),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_twice),
		cmocka_unit_test(test_bootstrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
