/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /config_dump's pieces: protobuf-c messages as protobuf's JSON mapping
 * the way Envoy prints them (Duration, enums, wrappers, Any unpacked or
 * kept as base64, private keys redacted); the model's dump (a TLS server's
 * key never appears, ?resource= types each entry, ?name_regex= filters by
 * name, a bad regex is a 400); /clusters' lines and JSON.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hf_test.h"
#include "control-agent/config_dump.h"
#include "control-agent/xds/pb_json.h"
#include "control-agent/xds/translate.h"

static char *
dumps(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

	json_decref(j);
	assert_non_null(s);
	return s;
}

static void
test_base64(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foobar", "Zm9vYmFy"}};

	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = hf_json_base64((const uint8_t *)cases[i].in, strlen(cases[i].in));

		assert_string_equal(json_string_value(j), cases[i].out);
		json_decref(j);
	}
}

static void
test_cluster_json(void **state)
{
	Envoy__Config__Cluster__V3__Cluster c = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__INIT;
	Envoy__Config__Cluster__V3__Cluster__EdsClusterConfig ec =
	        ENVOY__CONFIG__CLUSTER__V3__CLUSTER__EDS_CLUSTER_CONFIG__INIT;
	Google__Protobuf__Duration d = GOOGLE__PROTOBUF__DURATION__INIT;
	char *s;

	(void)state;
	c.name = "web";
	c.cluster_discovery_type_case =
	        ENVOY__CONFIG__CLUSTER__V3__CLUSTER__CLUSTER_DISCOVERY_TYPE_TYPE;
	c.type = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__EDS;
	c.lb_policy = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__LEAST_REQUEST;
	d.seconds = 1;
	d.nanos = 500000000;
	c.connect_timeout = &d;
	ec.service_name = "web.svc";
	c.eds_cluster_config = &ec;
	s = dumps(hf_pb_json_typed(&c.base));
	assert_string_equal(s,
	                    "{\"@type\":\"type.googleapis.com/envoy.config.cluster.v3.Cluster\","
	                    "\"connect_timeout\":\"1.5s\","
	                    "\"eds_cluster_config\":{\"service_name\":\"web.svc\"},"
	                    "\"lb_policy\":\"LEAST_REQUEST\",\"name\":\"web\",\"type\":\"EDS\"}");
	free(s);
}

/* An Any inside a message: decoded with its @type when known, base64 otherwise. */
static void
test_any(void **state)
{
	Envoy__Extensions__Filters__Network__TcpProxy__V3__TcpProxy tp =
	        ENVOY__EXTENSIONS__FILTERS__NETWORK__TCP_PROXY__V3__TCP_PROXY__INIT;
	Envoy__Config__Listener__V3__Filter f = ENVOY__CONFIG__LISTENER__V3__FILTER__INIT;
	Google__Protobuf__Any a = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t buf[64];
	char *s;

	(void)state;
	tp.stat_prefix = "tcp";
	tp.cluster_specifier_case =
	        ENVOY__EXTENSIONS__FILTERS__NETWORK__TCP_PROXY__V3__TCP_PROXY__CLUSTER_SPECIFIER_CLUSTER;
	tp.cluster = "web";
	a.type_url = HF_XDS_TYPE_PREFIX "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
	a.value.len = protobuf_c_message_pack(&tp.base, buf);
	a.value.data = buf;
	f.name = "envoy.filters.network.tcp_proxy";
	f.config_type_case = ENVOY__CONFIG__LISTENER__V3__FILTER__CONFIG_TYPE_TYPED_CONFIG;
	f.typed_config = &a;
	s = dumps(hf_pb_json(&f.base));
	assert_non_null(strstr(s,
	                       "\"typed_config\":{\"@type\":\"type.googleapis.com/envoy.extensions."
	                       "filters.network.tcp_proxy.v3.TcpProxy\",\"cluster\":\"web\","
	                       "\"stat_prefix\":\"tcp\"}"));
	free(s);
	a.type_url = HF_XDS_TYPE_PREFIX "istio.stats.PluginConfig";
	s = dumps(hf_pb_json(&f.base));
	assert_non_null(strstr(s, "\"@type\":\"type.googleapis.com/istio.stats.PluginConfig\","
	                          "\"value\":\""));
	free(s);
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	assert_non_null(p);
	return p;
}

/* A model as the Istio path makes it: an HTTPS listener (key inside), a route, a cluster. */
static void
model(struct hf_model *m)
{
	struct hf_model_listener *l;
	struct hf_model_tls_server *ts;
	struct hf_model_route_config *rc;
	struct hf_model_route *r;
	struct hf_model_cluster *c;

	memset(m, 0, sizeof(*m));
	m->listeners = calloc(1, sizeof(*l));
	m->route_configs = calloc(1, sizeof(*rc));
	m->clusters = calloc(2, sizeof(*c));
	assert_non_null(m->listeners);
	assert_non_null(m->route_configs);
	assert_non_null(m->clusters);
	m->n_listeners = 1;
	m->n_route_configs = 1;
	m->n_clusters = 2;
	l = &m->listeners[0];
	l->name = xstrdup("0.0.0.0_443");
	l->port = 443;
	l->kind = HF_LISTENER_HTTP;
	l->route_config = 0;
	l->tls = calloc(1, sizeof(*l->tls));
	assert_non_null(l->tls);
	l->tls->servers = ts = calloc(1, sizeof(*ts));
	assert_non_null(ts);
	l->tls->n_servers = 1;
	ts->names = calloc(1, sizeof(char *));
	assert_non_null(ts->names);
	ts->names[0] = xstrdup("shop.example.com");
	ts->n_names = 1;
	ts->cert_pem = xstrdup("-----BEGIN CERTIFICATE-----\nCERT\n");
	ts->cert_len = strlen(ts->cert_pem);
	ts->key_pem = xstrdup("-----BEGIN PRIVATE KEY-----\nSUPERSECRETKEY\n");
	ts->key_len = strlen(ts->key_pem);
	rc = &m->route_configs[0];
	rc->name = xstrdup("https.443");
	rc->vhosts = calloc(1, sizeof(*rc->vhosts));
	assert_non_null(rc->vhosts);
	rc->n_vhosts = 1;
	rc->vhosts[0].name = xstrdup("shop");
	rc->vhosts[0].domains = calloc(1, sizeof(char *));
	assert_non_null(rc->vhosts[0].domains);
	rc->vhosts[0].domains[0] = xstrdup("shop.example.com");
	rc->vhosts[0].n_domains = 1;
	rc->vhosts[0].routes = r = calloc(1, sizeof(*r));
	assert_non_null(r);
	rc->vhosts[0].n_routes = 1;
	r->action = HF_ACTION_ROUTE;
	r->clusters = calloc(1, sizeof(*r->clusters));
	assert_non_null(r->clusters);
	r->n_clusters = 1;
	r->clusters[0].cluster = xstrdup("outbound|80||shop.default.svc.cluster.local");
	r->clusters[0].weight = 100;
	r->timeout_ms = 2500;
	c = &m->clusters[0];
	c->name = xstrdup("outbound|80||shop.default.svc.cluster.local");
	c->service = xstrdup("shop.default.svc.cluster.local");
	c->connect_timeout_ms = 10000;
	c->endpoints = calloc(1, sizeof(*c->endpoints));
	assert_non_null(c->endpoints);
	c->n_endpoints = 1;
	c->endpoints[0].addr = hf_test_addr("198.51.100.7");
	c->endpoints[0].port = 8080;
	c->endpoints[0].weight = 3;
	c->endpoints[0].locality = xstrdup("eu/eu-1a/rack1");
	/* a stand-in for a missing cluster: never shown */
	m->clusters[1].name = xstrdup("ghost");
	m->clusters[1].service = xstrdup("ghost");
	m->clusters[1].missing = true;
}

static struct hf_bootstrap boot;

static char *
dump(const struct hf_model *m, const char *query, int *status)
{
	struct hf_dump_in in = {
	        .boot = &boot, .m = m, .version = 7, .built_ms = 1000, .start_ms = 0};
	struct hf_admin_reply r = {.status = 200};
	char *s;

	hf_config_dump(&in, query, &r);
	*status = r.status;
	s = strndup(r.body.s != NULL ? r.body.s : "", r.body.len);
	hf_strbuf_free(&r.body);
	assert_non_null(s);
	return s;
}

static void
test_model_dump(void **state)
{
	struct hf_model m;
	json_t *j, *c;
	int status;
	char *s;

	(void)state;
	snprintf(boot.admin_address, sizeof(boot.admin_address), "127.0.0.1");
	boot.admin_port = 15000;
	model(&m);
	s = dump(&m, "", &status);
	assert_int_equal(status, 200);
	assert_null(strstr(s, "SUPERSECRETKEY"));
	assert_non_null(strstr(s, "\"[redacted]\""));
	assert_non_null(strstr(s, "CERT"));
	assert_null(strstr(s, "ghost"));
	j = json_loads(s, 0, NULL);
	assert_non_null(j);
	c = json_object_get(json_array_get(json_object_get(j, "configs"), 1),
	                    "dynamic_active_clusters");
	assert_int_equal(json_array_size(c), 1);
	assert_string_equal(
	        json_string_value(json_object_get(json_array_get(c, 0), "version_info")), "7");
	json_decref(j);
	free(s);

	/* ?resource=: the entries alone, each typed */
	s = dump(&m, "resource=dynamic_active_secrets", &status);
	assert_int_equal(status, 200);
	assert_non_null(strstr(s, "envoy.admin.v3.SecretsConfigDump.DynamicSecret"));
	assert_non_null(strstr(s, "0.0.0.0_443~shop.example.com"));
	assert_null(strstr(s, "SUPERSECRETKEY"));
	assert_null(strstr(s, "ClustersConfigDump"));
	free(s);
	s = dump(&m, "resource=no_such_field", &status);
	assert_int_equal(status, 404);
	free(s);

	/* ?name_regex= keeps the matching names only; a regex Hyperscan refuses is a 400 */
	s = dump(&m, "name_regex=%5Eoutbound", &status);
	assert_int_equal(status, 200);
	assert_non_null(strstr(s, "outbound|80||shop"));
	assert_null(strstr(s, "0.0.0.0_443\""));
	free(s);
	s = dump(&m, "name_regex=(a", &status);
	assert_int_equal(status, 400);
	free(s);

	/* ?include_eds: the endpoints, by locality */
	s = dump(&m, "include_eds", &status);
	assert_non_null(strstr(s, "EndpointsConfigDump"));
	assert_non_null(strstr(s, "\"region\": \"eu\""));
	assert_non_null(strstr(s, "\"address\": \"198.51.100.7\""));
	free(s);
	hf_model_free(&m);
}

static void
test_clusters(void **state)
{
	struct hf_model m;
	struct hf_dump_in in = {.boot = &boot, .m = NULL};
	struct hf_admin_reply r = {.status = 200};
	const char *name = "outbound|80||shop.default.svc.cluster.local";
	char want[256];

	(void)state;
	model(&m);
	in.m = &m;
	hf_clusters_dump(&in, "", &r);
	snprintf(want, sizeof(want), "%s::198.51.100.7:8080::health_flags::healthy\n", name);
	assert_non_null(strstr(r.body.s, want));
	snprintf(want, sizeof(want), "%s::198.51.100.7:8080::weight::3\n", name);
	assert_non_null(strstr(r.body.s, want));
	snprintf(want, sizeof(want), "%s::198.51.100.7:8080::zone::eu-1a\n", name);
	assert_non_null(strstr(r.body.s, want));
	snprintf(want, sizeof(want), "%s::added_via_api::true\n", name);
	assert_non_null(strstr(r.body.s, want));
	assert_null(strstr(r.body.s, "ghost"));
	hf_strbuf_free(&r.body);
	r = (struct hf_admin_reply){.status = 200};
	hf_clusters_dump(&in, "format=json", &r);
	assert_string_equal(r.content_type, "application/json");
	assert_non_null(strstr(r.body.s, "\"eds_health_status\": \"HEALTHY\""));
	hf_strbuf_free(&r.body);
	hf_model_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_base64),   cmocka_unit_test(test_cluster_json),
	        cmocka_unit_test(test_any),      cmocka_unit_test(test_model_dump),
	        cmocka_unit_test(test_clusters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
