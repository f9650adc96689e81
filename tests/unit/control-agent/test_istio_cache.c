/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Incremental reload of an Istio directory (struct hf_istio_cache): a load
 * parses only the files whose bytes changed, and its model is the one a
 * load from scratch makes of the same directory, whatever changed where:
 * one file among several, a file removed, and resources an unchanged file
 * depends on (DestinationRule subsets, Gateway ports, the namespaces that
 * resolve "name.namespace" hosts) changed in another file. Mistakes are
 * reported the same way from the cache as from a fresh parse.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf_test.h"
#include "control-agent/config_dump.h"
#include "control-agent/istio/istio.h"

static const char *const labels[] = {"istio=ingressgateway"};

static const char gateway_fmt[] =
	"apiVersion: networking.istio.io/v1beta1\n"
	"kind: Gateway\n"
	"metadata: {name: gw}\n"
	"spec:\n"
	"  selector: {istio: ingressgateway}\n"
	"  servers:\n"
	"  - port: {number: %u, name: http, protocol: HTTP}\n"
	"    hosts: [\"*\"]\n";

static const char services[] =
	"apiVersion: networking.istio.io/v1beta1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: a}\n"
	"spec:\n"
	"  hosts: [a.example]\n"
	"  ports: [{number: 8080, name: http, protocol: HTTP}]\n"
	"  resolution: STATIC\n"
	"  endpoints: [{address: 198.51.100.1, labels: {version: v1}}]\n"
	"---\n"
	"apiVersion: networking.istio.io/v1beta1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: b}\n"
	"spec:\n"
	"  hosts: [b.example]\n"
	"  ports: [{number: 8080, name: http, protocol: HTTP}]\n"
	"  resolution: STATIC\n"
	"  endpoints: [{address: 198.51.100.2}]\n";

static const char vs_fmt[] =
	"apiVersion: networking.istio.io/v1beta1\n"
	"kind: VirtualService\n"
	"metadata: {name: %s}\n"
	"spec:\n"
	"  hosts: [%s]\n"
	"  gateways: [gw]\n"
	"  http:\n"
	"  - match: [{uri: {prefix: \"%s\"}}]\n"
	"    route: [{destination: {host: %s%s}}]\n";

static const char dr_fmt[] =
	"apiVersion: networking.istio.io/v1beta1\n"
	"kind: DestinationRule\n"
	"metadata: {name: a}\n"
	"spec:\n"
	"  host: a.example\n"
	"  subsets:\n"
	"  - name: %s\n"
	"    labels: {version: v1}\n";

static char dir[64];
static char err[HF_ISTIO_ERR];
static struct hf_istio_stats last;	/* of load_same()'s cached load */

static void
put(const char *name, const char *text)
{
	char path[256], tmp[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(rename(tmp, path), 0);
}

static void
put_gateway(unsigned int port)
{
	char text[1024];

	snprintf(text, sizeof(text), gateway_fmt, port);
	put("gateway.yaml", text);
}

/* File @p file: VirtualService @p name for @p host, @p prefix to @p dest (and " subset..."). */
static void
put_vs(const char *file, const char *name, const char *host, const char *prefix,
       const char *dest, const char *subset)
{
	char text[1024], sub[64] = "";

	if (subset != NULL)
		snprintf(sub, sizeof(sub), ", subset: %s", subset);
	snprintf(text, sizeof(text), vs_fmt, name, host, prefix, dest, sub);
	put(file, text);
}

static void
put_dr(const char *subset)
{
	char text[1024];

	snprintf(text, sizeof(text), dr_fmt, subset);
	put("dr.yaml", text);
}

static void
rm(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(unlink(path), 0);
}

static int
load(struct hf_istio_cache *c, struct hf_istio_stats *st, struct hf_model *m)
{
	const struct hf_istio_node node = {
		.labels = labels,
		.n_labels = 1,
		.cache = c,
		.stats = st,
	};

	return hf_istio_load_node(dir, &node, m, err, sizeof(err));
}

/* The model as Envoy's resources (listeners, route configurations, clusters), keys sorted. */
static char *
dump(const struct hf_model *m)
{
	json_t *all = json_array();
	char *s;

	for (unsigned int i = 0; i < m->n_listeners; i++)
		json_array_append_new(all, hf_dump_listener(m, &m->listeners[i]));
	for (unsigned int i = 0; i < m->n_route_configs; i++)
		json_array_append_new(all, hf_dump_route_config(&m->route_configs[i]));
	for (unsigned int i = 0; i < m->n_clusters; i++)
		json_array_append_new(all, hf_dump_cluster(&m->clusters[i], true));
	s = json_dumps(all, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(all);
	assert_non_null(s);
	return s;
}

/*
 * Loads through @p c, expecting @p parsed of @p files parsed, and checks the
 * model against a load from scratch of the same directory. Returns the dump.
 */
static char *
load_same(struct hf_istio_cache *c, unsigned int files, unsigned int parsed)
{
	struct hf_model cached, fresh;
	struct hf_istio_stats st;
	char *a, *b;

	if (load(c, &st, &cached) != 0)
		fail_msg("cached load: %s", err);
	last = st;
	assert_int_equal(st.files, files);
	assert_int_equal(st.files_parsed, parsed);
	if (load(NULL, &st, &fresh) != 0)
		fail_msg("fresh load: %s", err);
	assert_int_equal(st.files_parsed, files);
	a = dump(&cached);
	b = dump(&fresh);
	assert_string_equal(a, b);
	free(b);
	hf_model_free(&cached);
	hf_model_free(&fresh);
	return a;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hf-istio-cache-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The files every case starts from (a Gateway on port 80, ServiceEntries a and b), and a cache. */
static struct hf_istio_cache *
start(void)
{
	struct hf_istio_cache *c = hf_istio_cache_new();

	assert_non_null(c);
	put_gateway(80);
	put("services.yaml", services);
	return c;
}

static bool
has(const char *dump, const char *what)
{
	return strstr(dump, what) != NULL;
}

/* One file changed among several: only it is parsed; the others' routes stay as they were. */
static void
test_one_file_changed(void **state)
{
	struct hf_istio_cache *c = start();
	char *d;

	(void)state;
	put_vs("vs-a.yaml", "a", "a.example", "/a1", "a.example", NULL);
	put_vs("vs-b.yaml", "b", "b.example", "/b1", "b.example", NULL);
	d = load_same(c, 4, 4);
	assert_true(has(d, "\"/a1\"") && has(d, "\"/b1\""));
	free(d);

	/* nothing changed: nothing parsed, the same model */
	d = load_same(c, 4, 0);
	assert_true(has(d, "\"/a1\"") && has(d, "\"/b1\""));
	free(d);

	/* one VirtualService changed: that file alone is parsed */
	put_vs("vs-b.yaml", "b", "b.example", "/b2", "b.example", NULL);
	d = load_same(c, 4, 1);
	assert_true(has(d, "\"/a1\"") && has(d, "\"/b2\"") && !has(d, "\"/b1\""));
	free(d);

	/* rewritten with the same bytes (kubectl apply of an unchanged file): nothing parsed */
	put_vs("vs-b.yaml", "b", "b.example", "/b2", "b.example", NULL);
	d = load_same(c, 4, 0);
	free(d);

	/* the same bytes under a new name are a new file: parsed once */
	put_vs("vs-c.yaml", "c", "c.example", "/c1", "b.example", NULL);
	d = load_same(c, 5, 1);
	assert_true(has(d, "\"/c1\""));
	free(d);
	hf_istio_cache_free(c);
}

/* A file removed: its resources are gone; the cache forgets it (parsed again when it is back). */
static void
test_file_removed(void **state)
{
	struct hf_istio_cache *c = start();
	char *d;

	(void)state;
	put_vs("vs-a.yaml", "a", "a.example", "/a1", "a.example", NULL);
	put_vs("vs-b.yaml", "b", "b.example", "/b1", "b.example", NULL);
	free(load_same(c, 4, 4));

	rm("vs-b.yaml");
	d = load_same(c, 3, 0);
	assert_true(has(d, "\"/a1\"") && !has(d, "\"/b1\"") && !has(d, "b.example:80"));
	free(d);

	put_vs("vs-b.yaml", "b", "b.example", "/b1", "b.example", NULL);
	d = load_same(c, 4, 1);
	assert_true(has(d, "\"/b1\""));
	free(d);

	/* the ServiceEntries removed: the unchanged VirtualServices now name unknown hosts */
	rm("services.yaml");
	assert_int_equal(load(c, NULL, &(struct hf_model){0}), -EINVAL);
	print_message("  refused: %s\n", err);
	assert_non_null(strstr(err, "vs-a.yaml"));
	hf_istio_cache_free(c);
}

/*
 * What an unchanged VirtualService becomes depends on other files: the
 * DestinationRule's subsets, the Gateway's port, the namespaces that make
 * "name.namespace" a service host. Each change elsewhere shows in its routes.
 */
static void
test_cross_file(void **state)
{
	struct hf_istio_cache *c = start();
	struct hf_model m;
	char *d;

	(void)state;
	put_dr("v1");
	put_vs("vs-a.yaml", "a", "a.example", "/a1", "a.example", "v1");
	d = load_same(c, 4, 4);
	assert_true(has(d, "outbound|8080|v1|a.example"));
	free(d);

	/* the subset renamed in dr.yaml: the unchanged VirtualService's route no longer resolves */
	put_dr("v2");
	assert_int_equal(load(c, NULL, &m), -EINVAL);
	print_message("  refused: %s\n", err);
	assert_non_null(strstr(err, "vs-a.yaml"));
	assert_non_null(strstr(err, "v1"));

	/* and back: the cluster of the subset again, vs-a.yaml still not parsed again */
	put_dr("v1");
	d = load_same(c, 4, 1);
	assert_true(has(d, "outbound|8080|v1|a.example"));
	free(d);

	/* the Gateway moves to port 8000: the unchanged VirtualService's host moves with it */
	put_gateway(8000);
	d = load_same(c, 4, 1);
	assert_true(has(d, "a.example:8000") && !has(d, "a.example:80\""));
	free(d);

	/*
	 * "web.shop" is a service host only when shop is a namespace of the
	 * configuration: a ServiceEntry in namespace shop, added in its own
	 * file, changes what the unchanged VirtualService routes to.
	 */
	put_vs("vs-web.yaml", "web", "web.example", "/w", "web.shop", NULL);
	assert_int_equal(load(c, NULL, &m), -EINVAL);
	print_message("  refused: %s\n", err);
	assert_non_null(strstr(err, "web.shop"));
	put("shop.yaml", "apiVersion: networking.istio.io/v1beta1\n"
			 "kind: ServiceEntry\n"
			 "metadata: {name: web, namespace: shop}\n"
			 "spec:\n"
			 "  hosts: [web]\n"
			 "  ports: [{number: 80, name: http, protocol: HTTP}]\n"
			 "  resolution: STATIC\n"
			 "  endpoints: [{address: 198.51.100.3}]\n");
	d = load_same(c, 6, 1);
	assert_true(has(d, "outbound|80||web.shop.svc.cluster.local"));
	free(d);
	hf_istio_cache_free(c);
}

/* VirtualService many-@p k for every host: three routes under /k<k>/, the last to @p dest. */
static void
put_many(unsigned int k, const char *dest)
{
	char name[32], text[2048];

	snprintf(name, sizeof(name), "vs-%u.yaml", k);
	snprintf(text, sizeof(text),
		 "apiVersion: networking.istio.io/v1beta1\n"
		 "kind: VirtualService\n"
		 "metadata: {name: many-%u}\n"
		 "spec:\n"
		 "  hosts: [\"*\"]\n"
		 "  gateways: [gw]\n"
		 "  http:\n"
		 "  - match: [{uri: {prefix: /k%u/a}}, {uri: {regex: \"/k%u/r/[0-9]+\"}}]\n"
		 "    route: [{destination: {host: a.example}}]\n"
		 "    timeout: 2s\n"
		 "  - match: [{uri: {exact: /k%u/b}}]\n"
		 "    route: [{destination: {host: a.example}, weight: 30},\n"
		 "            {destination: {host: b.example}, weight: 70}]\n"
		 "  - match: [{uri: {prefix: /k%u/}}]\n"
		 "    route: [{destination: {host: %s}}]\n",
		 k, k, k, k, k, dest);
	put(name, text);
}

static const char route_limit[] =
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
	"            name: \"*:80\"\n"
	"            route: {action: ROUTE}\n"
	"      patch:\n"
	"        operation: MERGE\n"
	"        value:\n"
	"          typed_per_filter_config:\n"
	"            envoy.filters.http.local_ratelimit:\n"
	"              \"@type\": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit\n"
	"              stat_prefix: per_route\n"
	"              token_bucket: {max_tokens: 2, fill_interval: 1s}\n";

/* Loads through @p c: how many routes have a rate limit "per_route" (the model is freed). */
static unsigned int
limited(struct hf_istio_cache *c)
{
	struct hf_model m;
	unsigned int n = 0;

	if (load(c, &last, &m) != 0)
		fail_msg("cached load: %s", err);
	for (unsigned int i = 0; i < m.n_route_configs; i++)
		for (unsigned int v = 0; v < m.route_configs[i].n_vhosts; v++)
			for (unsigned int r = 0; r < m.route_configs[i].vhosts[v].n_routes; r++) {
				const struct hf_model_route *mr = &m.route_configs[i].vhosts[v].routes[r];

				n += mr->ratelimit != NULL &&
				     strcmp(mr->ratelimit->stat_prefix, "per_route") == 0;
			}
	hf_model_free(&m);
	return n;
}

/*
 * The http routes of unchanged VirtualServices come from the cache (no
 * translation) and the model is still the one a load from scratch makes:
 * several VirtualServices merged into one virtual host, one of them
 * changed; an EnvoyFilter giving every route a rate limit (set on the
 * routes the cache lends, then gone with the filter); a ServiceEntry
 * changed under them. Any other resource changed means translating again.
 */
static void
test_vs_translations_reused(void **state)
{
	struct hf_istio_cache *c = start();
	char *d;

	(void)state;
	for (unsigned int k = 0; k < 3; k++)
		put_many(k, "a.example");
	free(load_same(c, 5, 5));
	assert_int_equal(last.vs_reused, 0);
	d = load_same(c, 5, 0);
	assert_int_equal(last.vs_reused, 3);
	assert_true(has(d, "\"/k0/a\"") && has(d, "\"/k2/\""));
	free(d);

	/* one changed: translated, the two others lent, in the same order as before */
	put_many(1, "b.example");
	d = load_same(c, 5, 1);
	assert_int_equal(last.vs_reused, 2);
	free(d);
	d = load_same(c, 5, 0);
	assert_int_equal(last.vs_reused, 3);
	free(d);

	/* a rate limit on every route (routes lent by the cache included), then without */
	put("ef.yaml", route_limit);
	d = load_same(c, 6, 1);
	assert_int_equal(last.vs_reused, 0);
	free(d);
	d = load_same(c, 6, 0);
	assert_int_equal(last.vs_reused, 3);
	free(d);
	/* (config_dump shows no rate limits: counted on the model) */
	assert_int_equal(limited(c), 9);
	assert_int_equal(last.vs_reused, 3);
	rm("ef.yaml");
	free(load_same(c, 5, 0));
	assert_int_equal(limited(c), 0);
	assert_int_equal(last.vs_reused, 3);

	/* b.example's port changes: the routes to it are made again and name the new cluster */
	put("services.yaml", "apiVersion: networking.istio.io/v1beta1\n"
			     "kind: ServiceEntry\n"
			     "metadata: {name: a}\n"
			     "spec:\n"
			     "  hosts: [a.example]\n"
			     "  ports: [{number: 8080, name: http, protocol: HTTP}]\n"
			     "  resolution: STATIC\n"
			     "  endpoints: [{address: 198.51.100.1, labels: {version: v1}}]\n"
			     "---\n"
			     "apiVersion: networking.istio.io/v1beta1\n"
			     "kind: ServiceEntry\n"
			     "metadata: {name: b}\n"
			     "spec:\n"
			     "  hosts: [b.example]\n"
			     "  ports: [{number: 9090, name: http, protocol: HTTP}]\n"
			     "  resolution: STATIC\n"
			     "  endpoints: [{address: 198.51.100.2}]\n");
	d = load_same(c, 5, 1);
	assert_int_equal(last.vs_reused, 0);
	assert_true(has(d, "outbound|9090||b.example") && !has(d, "outbound|8080||b.example"));
	free(d);
	hf_istio_cache_free(c);
}

/* Mistakes read the same from the cache: a broken file, and duplicates across two files. */
static void
test_errors_from_cache(void **state)
{
	struct hf_istio_cache *c = start();
	struct hf_istio_stats st;
	char first[HF_ISTIO_ERR];
	struct hf_model m;

	(void)state;
	put_vs("vs-a.yaml", "a", "a.example", "/a1", "a.example", NULL);
	put_vs("vs-b.yaml", "a", "b.example", "/b1", "b.example", NULL);
	assert_int_equal(load(c, &st, &m), -EINVAL);
	assert_int_equal(st.files_parsed, 4);
	print_message("  refused: %s\n", err);
	assert_non_null(strstr(err, "already defined at"));
	snprintf(first, sizeof(first), "%s", err);
	/* nothing changed: the same message, from trees not parsed again */
	assert_int_equal(load(c, &st, &m), -EINVAL);
	assert_int_equal(st.files_parsed, 0);
	assert_string_equal(err, first);

	/* broken YAML: refused each time (never kept), the rest still cached */
	put("vs-b.yaml", "apiVersion: networking.istio.io/v1beta1\nkind: [VirtualService\n");
	assert_int_equal(load(c, &st, &m), -EINVAL);
	assert_non_null(strstr(err, "vs-b.yaml"));
	snprintf(first, sizeof(first), "%s", err);
	assert_int_equal(load(c, &st, &m), -EINVAL);
	assert_string_equal(err, first);
	assert_int_equal(st.files_parsed, 0);	/* the broken one is not counted as parsed */

	put_vs("vs-b.yaml", "b", "b.example", "/b1", "b.example", NULL);
	free(load_same(c, 4, 1));
	hf_istio_cache_free(c);
}

/* A regex Hyperscan refused is refused again: only accepted ones are remembered. */
static void
test_regex_memo(void **state)
{
	static const char bad[] =
		"apiVersion: networking.istio.io/v1beta1\n"
		"kind: VirtualService\n"
		"metadata: {name: r}\n"
		"spec:\n"
		"  hosts: [a.example]\n"
		"  gateways: [gw]\n"
		"  http:\n"
		"  - match: [{uri: {regex: \"/x/(\"}}]\n"
		"    route: [{destination: {host: a.example}}]\n";
	struct hf_istio_cache *c = start();
	struct hf_model m;
	char *d;

	(void)state;
	put("vs-r.yaml", bad);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(load(c, NULL, &m), -EINVAL);
		assert_non_null(strstr(err, "is refused"));
	}
	put("vs-r.yaml", "apiVersion: networking.istio.io/v1beta1\n"
			 "kind: VirtualService\n"
			 "metadata: {name: r}\n"
			 "spec:\n"
			 "  hosts: [a.example]\n"
			 "  gateways: [gw]\n"
			 "  http:\n"
			 "  - match: [{uri: {regex: \"/x/[0-9]+\"}}]\n"
			 "    route: [{destination: {host: a.example}}]\n");
	d = load_same(c, 3, 1);
	assert_true(has(d, "/x/[0-9]+"));
	free(d);
	d = load_same(c, 3, 0);
	free(d);
	hf_istio_cache_free(c);
}


/* File all.yaml: VirtualServices a (routes /a0../a{n-1} when @p n > 1) b and c, in one file. */
static void
put_all(unsigned int n, const char *a_dest, const char *b_prefix, bool extra, const char *c_text)
{
	size_t cap = 4096 + (size_t)n * 128, len = 0;
	char *t = malloc(cap);

	assert_non_null(t);
	len += (size_t)snprintf(t + len, cap - len, "# three VirtualServices\n"
				"apiVersion: networking.istio.io/v1beta1\n"
				"kind: VirtualService\n"
				"metadata: {name: a}\n"
				"spec:\n"
				"  hosts: [a.example]\n"
				"  gateways: [gw]\n"
				"  http:\n");
	for (unsigned int i = 0; i < n; i++)
		len += (size_t)snprintf(t + len, cap - len,
					"  - match: [{uri: {prefix: \"/a%u/\"}}]\n"
					"    route: [{destination: {host: %s}}]\n", i,
					i == n / 2 ? a_dest : "a.example");
	len += (size_t)snprintf(t + len, cap - len, "---\n");
	len += (size_t)snprintf(t + len, cap - len, vs_fmt, "b", "b.example", b_prefix,
				"b.example", "");
	if (extra)
		len += (size_t)snprintf(t + len, cap - len, "---\n# an extra one\n---\n");
	snprintf(t + len, cap - len, "---\n%s", c_text);
	put("all.yaml", t);
	free(t);
}

static const char vs_c[] =
	"apiVersion: networking.istio.io/v1beta1\n"
	"kind: VirtualService\n"
	"metadata: {name: c}\n"
	"spec:\n"
	"  hosts: [c.example]\n"
	"  gateways: [gw]\n"
	"  http:\n"
	"  - headers:\n"
	"      request:\n"
	"        set:\n"
	"          x-note: >-\n"
	"            ---\n"
	"            not a marker\n"
	"    route: [{destination: {host: a.example}}]\n";

/*
 * Documents of one file: a change to one parses that one (or only the
 * routes that changed in a long list), the model always the one a fresh
 * load makes; documents added and removed.
 */
static void
test_documents_of_a_file(void **state)
{
	struct hf_istio_cache *c = start();
	char *d;

	(void)state;
	put_all(40, "a.example", "/b1", false, vs_c);
	d = load_same(c, 3, 3);
	assert_int_equal(last.docs_parsed, 6);	/* the Gateway and two ServiceEntries too */
	free(d);

	/* b's prefix: that document alone */
	put_all(40, "a.example", "/b2", false, vs_c);
	d = load_same(c, 3, 1);
	assert_int_equal(last.docs_parsed, 1);
	assert_int_equal(last.docs_spliced, 0);
	assert_true(has(d, "\"/b2\"") && !has(d, "\"/b1\""));
	free(d);

	/* one of a's 40 routes: that route alone is parsed again */
	put_all(40, "b.example", "/b2", false, vs_c);
	d = load_same(c, 3, 1);
	assert_int_equal(last.docs_parsed, 0);
	assert_int_equal(last.docs_spliced, 1);
	assert_true(has(d, "outbound|8080||b.example"));
	free(d);

	/*
	 * two routes more (more lines): a is parsed whole, and so are b and c, whose lines
	 * moved (their trees hold line numbers)
	 */
	put_all(42, "b.example", "/b2", false, vs_c);
	d = load_same(c, 3, 1);
	assert_int_equal(last.docs_parsed, 3);
	assert_int_equal(last.docs_spliced, 0);
	assert_true(has(d, "\"/a41/\""));
	free(d);

	/* empty documents added, then taken away: c moves down, then back (new lines: parsed) */
	put_all(42, "b.example", "/b2", true, vs_c);
	d = load_same(c, 3, 1);
	assert_int_equal(last.docs_parsed, 3);
	free(d);
	put_all(42, "b.example", "/b2", false, vs_c);
	d = load_same(c, 3, 1);
	free(d);

	/* c gone, then back */
	put_all(42, "b.example", "/b2", false, "");
	d = load_same(c, 3, 1);
	assert_true(!has(d, "c.example"));
	free(d);
	put_all(42, "b.example", "/b2", false, vs_c);
	d = load_same(c, 3, 1);
	assert_int_equal(last.docs_parsed, 1);
	assert_true(has(d, "not a marker"));
	free(d);
	hf_istio_cache_free(c);
}

/* A syntax error in the third document names its line, cached or not, the same way. */
static void
test_error_in_third_document(void **state)
{
	struct hf_istio_cache *c = start();
	char first[HF_ISTIO_ERR];
	struct hf_istio_stats st;
	struct hf_model m;

	(void)state;
	put_all(20, "a.example", "/b1", false, vs_c);
	free(load_same(c, 3, 3));
	/*
	 * c's "hosts" is line 64 of all.yaml (1 + 7 + 40 route lines, "---", b's 9, "---", 4 of
	 * c's); libyaml finds the flow list unclosed on the line after
	 */
	put_all(20, "a.example", "/b1", false,
		"apiVersion: networking.istio.io/v1beta1\n"
		"kind: VirtualService\n"
		"metadata: {name: c}\n"
		"spec:\n"
		"  hosts: [c.example\n"
		"  gateways: [gw]\n");
	assert_int_equal(load(c, &st, &m), -EINVAL);
	print_message("  cached: %s\n", err);
	snprintf(first, sizeof(first), "%s", err);
	assert_int_equal(load(NULL, &st, &m), -EINVAL);
	assert_string_equal(err, first);
	assert_non_null(strstr(err, "all.yaml:65: YAML syntax error"));
	hf_istio_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_file_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cross_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_from_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regex_memo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vs_translations_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_documents_of_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_in_third_document, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
