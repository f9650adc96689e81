/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The resources istiod writes for a gateway (tests/integration/xds/istiod/,
 * the files test_xds_istiod.sh serves), into the model: clusters with
 * auto-mTLS transport_socket_matches, circuit breakers, outlier detection,
 * HttpProtocolOptions, common_lb_config and the metadata exchange filter;
 * endpoints choosing the transport; a listener with one filter chain per
 * TLS server. Each variant Hydrofoil cannot honour is NACKed with the
 * field's path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_test.h"
#include "control-agent/xds/translate.h"
#include "pb_from_json.h"

#define MTLS  "outbound|443||web-mtls.default.svc.cluster.local"
#define PLAIN "outbound|80||web-plain.default.svc.cluster.local"
#define GW    "0.0.0.0_443"

static char err[512];

static void
sds_free(struct hf_xds_sds *sds)
{
	for (unsigned int i = 0; i < sds->n; i++)
		free(sds->names[i]);
	free(sds->names);
	memset(sds, 0, sizeof(*sds));
}

/* Cluster JSON @p text (freed) into @p m: the translation's result. */
static int
cluster(char *text, struct hf_model *m, struct hf_xds_sds *sds)
{
	ProtobufCMessage *c = pbj_parse(&envoy__config__cluster__v3__cluster__descriptor, text);
	char *eds = NULL;
	int rc;

	err[0] = '\0';
	rc = hf_xds_tr_cluster((const void *)c, m, &eds, sds, err, sizeof(err));
	free(eds);
	protobuf_c_message_free_unpacked(c, NULL);
	return rc;
}

static int
endpoints(char *text, struct hf_model_cluster *mc)
{
	ProtobufCMessage *e =
	        pbj_parse(&envoy__config__endpoint__v3__cluster_load_assignment__descriptor, text);
	int rc;

	err[0] = '\0';
	rc = hf_xds_tr_endpoints((const void *)e, mc, err, sizeof(err));
	protobuf_c_message_free_unpacked(e, NULL);
	return rc;
}

static int
listener(ProtobufCMessage *l, struct hf_model *m, char **rds, struct hf_xds_sds *sds)
{
	int rc;

	err[0] = '\0';
	*rds = NULL;
	rc = hf_xds_tr_listener((const void *)l, m, rds, sds, err, sizeof(err));
	protobuf_c_message_free_unpacked(l, NULL);
	return rc;
}

/* istiod's auto-mTLS cluster: TLS kept for endpoints saying tlsMode istio, dropped otherwise. */
static void
test_cluster_auto_mtls(void **state)
{
	struct hf_model m = {0};
	struct hf_xds_sds sds = {0};
	const struct hf_model_up_tls *t;

	(void)state;
	assert_int_equal(cluster(pbj_text("clusters.json", MTLS), &m, &sds), 0);
	assert_int_equal(m.n_clusters, 1);
	assert_int_equal(m.clusters[0].lb, HF_LB_LEAST_REQUEST);
	assert_int_equal(m.clusters[0].connect_timeout_ms, 10000);
	assert_true(m.clusters[0].tls_by_endpoint);
	t = m.clusters[0].up_tls;
	assert_non_null(t);
	assert_int_equal(t->mode, HF_TLS_MUTUAL);
	assert_false(t->insecure_skip_verify);
	assert_string_equal(t->sni, "outbound_.443_._.web-mtls.default.svc.cluster.local");
	assert_int_equal(t->n_sans, 1);
	assert_string_equal(t->sans[0], "spiffe://cluster.local/ns/default/sa/web");
	/* the node's identity and the mesh root, by SDS through sds-grpc: waited for on ADS */
	assert_int_equal(sds.n, 2);
	assert_string_equal(sds.names[0], "default");
	assert_string_equal(sds.names[1], "ROOTCA");
	/* istiod's unlimited circuit breakers: the model's 0 */
	assert_int_equal(m.clusters[0].max_connections, 0);
	assert_int_equal(m.clusters[0].max_retries, 0);

	/* its endpoints say tlsMode istio: TLS stays */
	assert_int_equal(endpoints(pbj_text("endpoints.json", MTLS), &m.clusters[0]), 0);
	assert_int_equal(m.clusters[0].n_endpoints, 1);
	assert_int_equal(m.clusters[0].endpoints[0].port, 9443);
	assert_non_null(m.clusters[0].up_tls);
	/* endpoints without tlsMode (a pod without a sidecar): plaintext, as raw_buffer */
	assert_int_equal(endpoints(pbj_text("endpoints.json", PLAIN), &m.clusters[0]), 0);
	assert_null(m.clusters[0].up_tls);
	assert_int_equal(m.clusters[0].tls_mode, HF_TLS_DISABLE);
	hf_model_free(&m);
	sds_free(&sds);
}

/* A DestinationRule's connectionPool and outlierDetection, as istiod writes them. */
static void
test_cluster_stored(void **state)
{
	struct hf_model m = {0};
	struct hf_xds_sds sds = {0};

	(void)state;
	assert_int_equal(cluster(pbj_text("clusters.json", PLAIN), &m, &sds), 0);
	assert_int_equal(m.clusters[0].max_connections, 100);
	assert_int_equal(m.clusters[0].max_pending_requests, 10);
	assert_int_equal(m.clusters[0].max_requests, 200);
	assert_int_equal(m.clusters[0].max_retries, 0);
	assert_true(m.clusters[0].outlier);
	assert_int_equal(m.clusters[0].od.consecutive_5xx, 7);
	/* what istiod leaves out: Envoy's defaults */
	assert_int_equal(m.clusters[0].od.consecutive_gateway, 0);
	assert_int_equal(m.clusters[0].od.base_ejection_ms, 30000);
	assert_int_equal(m.clusters[0].od.max_ejection_ms, 300000);
	assert_int_equal(m.clusters[0].od.max_ejection_percent, 10);
	hf_model_free(&m);
	sds_free(&sds);
	/* maxRequestsPerConnection, where istiod writes it */
	assert_int_equal(cluster(pbj_replace(pbj_text("clusters.json", PLAIN),
	                                     "\"explicit_http_config\"",
	                                     "\"common_http_protocol_options\":"
	                                     "{\"max_requests_per_connection\":{\"value\":3}},"
	                                     "\"explicit_http_config\""),
	                         &m, &sds),
	                 0);
	assert_int_equal(m.clusters[0].max_rq_per_cx, 3);
	hf_model_free(&m);
	sds_free(&sds);
	/* outlier_detection without consecutive_5xx: Envoy's default, 5 */
	assert_int_equal(cluster(pbj_replace(pbj_text("clusters.json", PLAIN),
	                                     "\"consecutive_5xx\":{\"value\":7},", ""),
	                         &m, &sds),
	                 0);
	assert_int_equal(m.clusters[0].od.consecutive_5xx, 5);
	hf_model_free(&m);
	sds_free(&sds);
	/* raw_buffer as the cluster's own socket (no matches) is plaintext */
	{
		Envoy__Config__Cluster__V3__Cluster *c =
		        (void *)pbj_parse(&envoy__config__cluster__v3__cluster__descriptor,
		                          pbj_text("clusters.json", PLAIN));
		char *eds = NULL;

		c->transport_socket = c->transport_socket_matches[1]->transport_socket;
		c->transport_socket_matches[1]->transport_socket = NULL;
		for (size_t i = 0; i < c->n_transport_socket_matches; i++)
			protobuf_c_message_free_unpacked(&c->transport_socket_matches[i]->base,
			                                 NULL);
		c->n_transport_socket_matches = 0;
		assert_int_equal(hf_xds_tr_cluster(c, &m, &eds, &sds, err, sizeof(err)), 0);
		assert_null(m.clusters[0].up_tls);
		assert_false(m.clusters[0].tls_by_endpoint);
		free(eds);
		protobuf_c_message_free_unpacked(&c->base, NULL);
		hf_model_free(&m);
		sds_free(&sds);
	}
}

static const struct {
	const char *name, *from, *to, *want;
} refused[] = {
        {PLAIN, "\"explicit_http_config\":{\"http_protocol_options\":{}}",
         "\"explicit_http_config\":{\"http2_protocol_options\":{}}",
         "typed_extension_protocol_options['envoy.extensions.upstreams.http.v3."
         "HttpProtocolOptions'].explicit_http_config.http2_protocol_options: HTTP/2 to "
         "upstreams is not supported"},
        {PLAIN, "\"healthy_panic_threshold\":{}", "\"healthy_panic_threshold\":{\"value\":150}",
         "common_lb_config.healthy_panic_threshold: 150%: not a percentage"},
        {PLAIN, "\"enforcing_success_rate\":{\"value\":0}",
         "\"enforcing_success_rate\":{\"value\":100}",
         "outlier_detection.enforcing_success_rate: 100: success-rate ejection is not supported"},
        {MTLS, "\"common_lb_config\":{}",
         "\"common_lb_config\":{\"locality_weighted_lb_config\":{}}",
         "common_lb_config: field 'locality_weighted_lb_config' is not supported"},
        {PLAIN, "\"istio.metadata_exchange\"", "\"envoy.filters.network.rbac\"",
         "filters[0]: upstream network filter 'envoy.filters.network.rbac' is not supported"},
        {MTLS, "\"cluster_name\":\"sds-grpc\"", "\"cluster_name\":\"vault-sds\"",
         "tls_certificate_sds_secret_configs[0].sds_config.api_config_source.grpc_services[0]."
         "envoy_grpc: cluster_name 'vault-sds': secrets come over ADS"},
        {MTLS, "\"api_type\":\"GRPC\"", "\"api_type\":\"REST\"",
         "sds_config.api_config_source: api_type: only GRPC"},
        {MTLS, "{\"stringValue\":\"istio\"}", "{\"stringValue\":\"strict\"}",
         "transport_socket_matches[0].transport_socket: tlsMode 'strict': only 'istio'"},
        {MTLS, "\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\":",
         "\"envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions\":",
         "typed_extension_protocol_options['envoy.extensions.upstreams.tcp.v3."
         "TcpProtocolOptions']: protocol options of this extension are not supported"},
        {MTLS, "\"istio-peer-exchange\",\"istio\"", "\"istio-peer-exchange\",\"h2\"",
         "alpn_protocols[1]: 'h2': ALPN is not offered upstream"},
        {PLAIN, "\"enforcing_success_rate\":{\"value\":0}",
         "\"failure_percentage_threshold\":{\"value\":5}",
         "outlier_detection: field 'failure_percentage_threshold' is not supported"},
        {MTLS, "\"name\":\"envoy.transport_sockets.raw_buffer\"",
         "\"name\":\"envoy.transport_sockets.alts\"",
         "transport_socket_matches[1].transport_socket: the match of every endpoint must be "
         "raw_buffer"},
        {MTLS, "\"match\":{\"fields\":{\"tlsMode\"", "\"match\":{\"fields\":{\"app\"",
         "transport_socket_matches[0].match: only istiod's {tlsMode: istio} and {}"},
        {PLAIN, "\"track_remaining\":true", "\"track_remaining\":true,\"retry_budget\":{}",
         "circuit_breakers.thresholds[0]: field 'retry_budget' is not supported"},
};

static void
test_cluster_refused(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct hf_model m = {0};
		struct hf_xds_sds sds = {0};
		char *text = pbj_replace(pbj_text("clusters.json", refused[i].name),
		                         refused[i].from, refused[i].to);

		if (cluster(text, &m, &sds) != -EINVAL || strstr(err, refused[i].want) == NULL)
			fail_msg("case %u: '%s' does not say '%s'", i, err, refused[i].want);
		hf_model_free(&m);
		sds_free(&sds);
	}
}

/* Endpoints of one assignment choosing different transports: one per cluster here. */
static void
test_endpoints_mixed_tls_mode(void **state)
{
	struct hf_model m = {.clusters = calloc(1, sizeof(*m.clusters)), .n_clusters = 1};

	(void)state;
	assert_int_equal(
	        endpoints(pbj_replace(pbj_text("endpoints.json", MTLS), "\"lb_endpoints\":[",
	                              "\"lb_endpoints\":[{\"endpoint\":{\"address\":{"
	                              "\"socket_address\":{\"address\":\"198.51.100.1\","
	                              "\"port_value\":9102}}}},"),
	                  &m.clusters[0]),
	        -EINVAL);
	assert_non_null(strstr(err,
	                       "endpoints[0].lb_endpoints[1]: metadata.envoy.transport_socket_"
	                       "match.tlsMode 'istio' differs from endpoints[0].lb_endpoints[0]'s "
	                       "'': Hydrofoil chooses one transport socket per cluster"));
	hf_model_free(&m);
}

/* A gateway's two HTTPS servers on 443: one chain each, one route table, two certificates. */
static void
test_listener_sni_chains(void **state)
{
	const ProtobufCMessageDescriptor *d = &envoy__config__listener__v3__listener__descriptor;
	struct hf_model m = {0};
	struct hf_xds_sds sds = {0};
	const struct hf_model_tls *t;
	char *rds;

	(void)state;
	assert_int_equal(listener(pbj_parse(d, pbj_text("listeners.json", GW)), &m, &rds, &sds), 0);
	assert_string_equal(rds, "https.443.https.gw.istio-system");
	assert_int_equal(m.listeners[0].kind, HF_LISTENER_HTTP);
	assert_int_equal(m.listeners[0].port, 443);
	t = m.listeners[0].tls;
	assert_non_null(t);
	assert_int_equal(t->n_servers, 2);
	assert_string_equal(t->servers[0].names[0], "a.example.com");
	assert_string_equal(t->servers[1].names[0], "b.example.com");
	assert_int_equal(sds.n, 2);
	assert_string_equal(sds.names[0], "kubernetes://a-cred");
	assert_string_equal(sds.names[1], "kubernetes://b-cred");
	free(rds);
	hf_model_free(&m);
	sds_free(&sds);

	/* a chain for every other name (no server_names) answers first: without SNI too */
	assert_int_equal(listener(pbj_parse(d, pbj_replace(pbj_text("listeners.json", GW),
	                                                   "\"server_names\":[\"b.example.com\"]",
	                                                   "\"transport_protocol\":\"tls\"")),
	                          &m, &rds, &sds),
	                 0);
	t = m.listeners[0].tls;
	assert_int_equal(t->n_servers, 2);
	assert_string_equal(t->servers[0].names[0], "*");
	assert_string_equal(t->servers[1].names[0], "a.example.com");
	free(rds);
	hf_model_free(&m);
	sds_free(&sds);

	/* a chain for another destination_port never matches: left out, as Envoy never picks it */
	assert_int_equal(
	        listener(pbj_parse(d, pbj_replace(pbj_text("listeners.json", GW),
	                                          "\"server_names\":[\"b.example.com\"]",
	                                          "\"server_names\":[\"b.example.com\"],"
	                                          "\"destination_port\":{\"value\":8443}")),
	                 &m, &rds, &sds),
	        0);
	assert_int_equal(m.listeners[0].tls->n_servers, 1);
	assert_string_equal(m.listeners[0].tls->servers[0].names[0], "a.example.com");
	free(rds);
	hf_model_free(&m);
	sds_free(&sds);
}

static const struct {
	bool last;
	const char *from, *to, *want;
} lrefused[] = {
        {true, "\"route_config_name\":\"https.443.https.gw.istio-system\"",
         "\"route_config_name\":\"https.443.https-b.gw2.istio-system\"",
         "filter_chains[1].filters[0].typed_config: rds.route_config_name "
         "'https.443.https-b.gw2.istio-system' is not filter_chains[0]'s "
         "'https.443.https.gw.istio-system': a listener has one route table"},
        {false, "b.example.com", "A.example.com",
         "filter_chains[1]: matches what filter_chains[0] matches (server name 'a.example.com')"},
        {true, "\"server_names\":[\"b.example.com\"]",
         "\"server_names\":[\"b.example.com\"],\"transport_protocol\":\"raw_buffer\"",
         "filter_chains[1].filter_chain_match.transport_protocol: raw_buffer on a TLS chain "
         "never matches"},
        {true, "\"server_names\":[\"b.example.com\"]",
         "\"server_names\":[\"b.example.com\"],\"application_protocols\":[\"h2\"]",
         "filter_chains[1].filter_chain_match: field 'application_protocols' is not supported"},
        {false, "envoy.filters.listener.tls_inspector", "envoy.filters.listener.http_inspector",
         "listener_filters[0]: listener filter 'envoy.filters.listener.http_inspector' is not "
         "supported"},
};

static void
test_listener_refused(void **state)
{
	const ProtobufCMessageDescriptor *d = &envoy__config__listener__v3__listener__descriptor;
	Envoy__Config__Listener__V3__Listener *l;
	struct hf_model m = {0};
	struct hf_xds_sds sds = {0};
	char *rds;

	(void)state;
	for (unsigned int i = 0; i < sizeof(lrefused) / sizeof(lrefused[0]); i++) {
		char *text = pbj_text("listeners.json", GW);

		text = lrefused[i].last ? pbj_replace_last(text, lrefused[i].from, lrefused[i].to)
		                        : pbj_replace(text, lrefused[i].from, lrefused[i].to);
		if (listener(pbj_parse(d, text), &m, &rds, &sds) != -EINVAL ||
		    strstr(err, lrefused[i].want) == NULL)
			fail_msg("case %u: '%s' does not say '%s'", i, err, lrefused[i].want);
		free(rds);
		hf_model_free(&m);
		sds_free(&sds);
	}
	/* TLS and plaintext chains on one port: the second chain made plaintext */
	l = (void *)pbj_parse(d, pbj_text("listeners.json", GW));
	protobuf_c_message_free_unpacked(&l->filter_chains[1]->transport_socket->base, NULL);
	l->filter_chains[1]->transport_socket = NULL;
	protobuf_c_message_free_unpacked(&l->filter_chains[1]->filter_chain_match->base, NULL);
	l->filter_chains[1]->filter_chain_match = NULL;
	assert_int_equal(listener(&l->base, &m, &rds, &sds), -EINVAL);
	assert_non_null(strstr(err,
	                       "filter_chains[1]: TLS and plaintext chains on one listener are "
	                       "not supported"));
	free(rds);
	hf_model_free(&m);
	sds_free(&sds);
	/* every chain for another port: none can match */
	assert_int_equal(
	        listener(pbj_parse(d, pbj_replace(pbj_text("listeners.json", "0.0.0.0_80"),
	                                          "\"filter_chains\":[{",
	                                          "\"filter_chains\":[{\"filter_chain_match\":{"
	                                          "\"destination_port\":{\"value\":81}},")),
	                 &m, &rds, &sds),
	        -EINVAL);
	assert_non_null(
	        strstr(err, "filter_chains: no chain can match (destination_port is not 80)"));
	free(rds);
	hf_model_free(&m);
	sds_free(&sds);
}

/* TLS passthrough (a Gateway server with tls.mode PASSTHROUGH): SNI routes to tcp_proxy clusters.
 */
static void
test_listener_passthrough(void **state)
{
	const ProtobufCMessageDescriptor *d = &envoy__config__listener__v3__listener__descriptor;
	struct hf_model m = {0};
	struct hf_xds_sds sds = {0};
	char *rds, *chain = strdup(
	                   "{\"filter_chain_match\":{\"server_names\":[\"NAME\"],"
	                   "\"transport_protocol\":\"tls\"},\"filters\":[{\"name\":"
	                   "\"envoy.filters.network.tcp_proxy\",\"typed_config\":{\"@type\":"
	                   "\"type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3."
	                   "TcpProxy\",\"stat_prefix\":\"p\",\"cluster\":\"CLUSTER\"}}]}");
	char *a = pbj_replace(pbj_replace(strdup(chain), "NAME", "db.example.com"), "CLUSTER",
	                      "outbound|5432||db.default.svc.cluster.local");
	char *b = pbj_replace(pbj_replace(chain, "NAME", "*.example.org"), "CLUSTER",
	                      "outbound|443||org.default.svc.cluster.local");
	char text[2048];

	(void)state;
	snprintf(text, sizeof(text),
	         "{\"name\":\"0.0.0.0_15443\",\"address\":{\"socket_address\":{\"address\":"
	         "\"0.0.0.0\",\"port_value\":15443}},\"listener_filters\":[{\"name\":"
	         "\"envoy.filters.listener.tls_inspector\"}],\"filter_chains\":[%s,%s]}",
	         a, b);
	free(a);
	free(b);
	assert_int_equal(listener(pbj_parse(d, strdup(text)), &m, &rds, &sds), 0);
	assert_null(rds);
	assert_int_equal(m.listeners[0].kind, HF_LISTENER_TLS);
	assert_int_equal(m.listeners[0].n_l4_routes, 2);
	assert_string_equal(m.listeners[0].l4_routes[0].sni[0], "db.example.com");
	assert_string_equal(m.listeners[0].l4_routes[0].clusters[0].cluster,
	                    "outbound|5432||db.default.svc.cluster.local");
	assert_string_equal(m.listeners[0].l4_routes[1].sni[0], "*.example.org");
	hf_model_free(&m);

	/* transport_protocol tls without server_names: every other name (the SNI table's "*") */
	assert_int_equal(
	        listener(pbj_parse(d, pbj_replace(strdup(text),
	                                          "\"server_names\":[\"*.example.org\"],", "")),
	                 &m, &rds, &sds),
	        0);
	assert_int_equal(m.listeners[0].kind, HF_LISTENER_TLS);
	assert_int_equal(m.listeners[0].n_l4_routes, 2);
	assert_string_equal(m.listeners[0].l4_routes[0].sni[0], "*");
	assert_string_equal(m.listeners[0].l4_routes[0].clusters[0].cluster,
	                    "outbound|443||org.default.svc.cluster.local");
	hf_model_free(&m);
	/* without transport_protocol it would be plaintext beside TLS passthrough: refused */
	assert_int_equal(listener(pbj_parse(d, pbj_replace(strdup(text),
	                                                   "\"server_names\":[\"*.example.org\"],"
	                                                   "\"transport_protocol\":\"tls\"",
	                                                   "")),
	                          &m, &rds, &sds),
	                 -EINVAL);
	assert_non_null(strstr(err, "TLS and plaintext chains on one listener are not supported"));
	hf_model_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cluster_auto_mtls),
	        cmocka_unit_test(test_cluster_stored),
	        cmocka_unit_test(test_cluster_refused),
	        cmocka_unit_test(test_endpoints_mixed_tls_mode),
	        cmocka_unit_test(test_listener_sni_chains),
	        cmocka_unit_test(test_listener_refused),
	        cmocka_unit_test(test_listener_passthrough),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
