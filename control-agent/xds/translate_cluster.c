/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parts of an Envoy v3 Cluster istiod writes beyond discovery and LB
 * policy (translate.c), into the model:
 *  - circuit_breakers and outlier_detection: stored (the thresholds of the
 *    default priority, outlier_detection's consecutive_5xx), shown by
 *    /clusters and /config_dump, not enforced yet (the load-balancing work);
 *  - typed_extension_protocol_options holding an upstreams.http.v3
 *    HttpProtocolOptions: explicit HTTP/1.1 or use_downstream_protocol (the
 *    downstream is HTTP/1.1 here, so both mean HTTP/1.1); HTTP/2 and HTTP/3
 *    upstreams are refused by name;
 *  - common_lb_config: a healthy_panic_threshold of 0 (the data plane routes
 *    to healthy endpoints only, which is panic mode disabled);
 *  - filters: Istio's istio.metadata_exchange (peer metadata for Istio's
 *    telemetry over ALPN) is skipped as an HTTP filter marked optional is,
 *    any other upstream filter is refused;
 *  - transport_socket_matches in istiod's auto-mTLS shape: a match
 *    {tlsMode: istio} with an UpstreamTlsContext and a catch-all ({}) with
 *    raw_buffer. The model chooses a transport per cluster, so the TLS
 *    context is kept with tls_by_endpoint and the endpoints decide
 *    (translate.c: endpoints of one assignment must agree).
 */
#include "control-agent/xds/translate-int.h"

#define HTTP_OPTIONS "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
#define RAW_BUFFER   "envoy.transport_sockets.raw_buffer"
#define TLS_SOCKET   "envoy.transport_sockets.tls"
#define ISTIO_MX     "istio.metadata_exchange"

/* A UInt32Value limit: 2^32-1, istiod's "unlimited", is the model's 0. */
static uint32_t
limit(const Google__Protobuf__UInt32Value *v)
{
	return v == NULL || v->value == UINT32_MAX ? 0 : v->value;
}

static int
circuit_breakers(struct tr *t, const Envoy__Config__Cluster__V3__CircuitBreakers *cb,
                 struct hf_model_cluster *mc)
{
	char p[PATH];

	if (ONLY(t, cb, "circuit_breakers", "thresholds") != 0)
		return t->rc;
	for (size_t i = 0; i < cb->n_thresholds; i++) {
		const Envoy__Config__Cluster__V3__CircuitBreakers__Thresholds *th =
		        cb->thresholds[i];

		path(p, sizeof(p), "circuit_breakers.thresholds[%zu]", i);
		/* retry_budget would replace max_retries: refused rather than shown wrong */
		if (ONLY(t, th, p, "priority", "max_connections", "max_pending_requests",
		         "max_requests", "max_retries", "track_remaining",
		         "max_connection_pools") != 0)
			return t->rc;
		/* HIGH priority (Istio never writes one) stays in the dump, as sent. */
		if (th->priority != ENVOY__CONFIG__CORE__V3__ROUTING_PRIORITY__DEFAULT)
			continue;
		mc->max_connections = limit(th->max_connections);
		mc->max_pending_requests = limit(th->max_pending_requests);
		/* Envoy's default for max_requests is 1024, for max_retries 3: kept as given */
		mc->max_requests = limit(th->max_requests);
		mc->max_retries = limit(th->max_retries);
	}
	return t->rc;
}

/* What istiod writes for a DestinationRule's outlierDetection (cluster_builder.go). */
static int
outlier_detection(struct tr *t, const Envoy__Config__Cluster__V3__OutlierDetection *od,
                  struct hf_model_cluster *mc)
{
	if (ONLY(t, od, "outlier_detection", "consecutive_5xx", "interval", "base_ejection_time",
	         "max_ejection_percent", "enforcing_consecutive_5xx", "enforcing_success_rate",
	         "consecutive_gateway_failure", "enforcing_consecutive_gateway_failure",
	         "split_external_local_origin_errors", "consecutive_local_origin_failure",
	         "enforcing_consecutive_local_origin_failure", "max_ejection_time",
	         "success_rate_minimum_hosts", "success_rate_request_volume",
	         "success_rate_stdev_factor") != 0)
		return t->rc;
	/* Envoy's default: 5 consecutive 5xx eject a host. */
	mc->outlier_consecutive_5xx = od->consecutive_5xx != NULL ? od->consecutive_5xx->value : 5;
	return 0;
}

static int
http_options(struct tr *t, const Google__Protobuf__Any *any, const char *at)
{
	Envoy__Extensions__Upstreams__Http__V3__HttpProtocolOptions *o;
	char p[PATH];

	o = (void *)unpack_any(
	        t, any, &envoy__extensions__upstreams__http__v3__http_protocol_options__descriptor,
	        at);
	if (o == NULL)
		return t->rc;
	if (ONLY(t, o, at, "explicit_http_config", "use_downstream_protocol_config") != 0)
		goto out;
	switch (o->upstream_protocol_options_case) {
	case ENVOY__EXTENSIONS__UPSTREAMS__HTTP__V3__HTTP_PROTOCOL_OPTIONS__UPSTREAM_PROTOCOL_OPTIONS_EXPLICIT_HTTP_CONFIG: {
		const Envoy__Extensions__Upstreams__Http__V3__HttpProtocolOptions__ExplicitHttpConfig
		        *e = o->explicit_http_config;

		path(p, sizeof(p), "%s.explicit_http_config", at);
		if (e->protocol_config_case ==
		    ENVOY__EXTENSIONS__UPSTREAMS__HTTP__V3__HTTP_PROTOCOL_OPTIONS__EXPLICIT_HTTP_CONFIG__PROTOCOL_CONFIG_HTTP2_PROTOCOL_OPTIONS) {
			/* the refusal operators meet (h2UpgradePolicy, gRPC ports): say why */
			path(p, sizeof(p), "%s.explicit_http_config.http2_protocol_options", at);
			bad(t, p,
			    "HTTP/2 to upstreams is not supported (Hydrofoil speaks HTTP/1.1)");
			break;
		}
		if (e->protocol_config_case !=
		    ENVOY__EXTENSIONS__UPSTREAMS__HTTP__V3__HTTP_PROTOCOL_OPTIONS__EXPLICIT_HTTP_CONFIG__PROTOCOL_CONFIG_HTTP_PROTOCOL_OPTIONS) {
			if (ONLY(t, e, p, "http_protocol_options") == 0)
				bad(t, p, "no protocol chosen");
			break;
		}
		path(p, sizeof(p), "%s.explicit_http_config.http_protocol_options", at);
		/* HTTP/1.1 options (header case, absolute URLs...) the data plane has none of */
		only(t, &e->http_protocol_options->base, p, (const char *const[]){NULL});
		break;
	}
	case ENVOY__EXTENSIONS__UPSTREAMS__HTTP__V3__HTTP_PROTOCOL_OPTIONS__UPSTREAM_PROTOCOL_OPTIONS_USE_DOWNSTREAM_PROTOCOL_CONFIG: {
		const Envoy__Extensions__Upstreams__Http__V3__HttpProtocolOptions__UseDownstreamHttpConfig
		        *u = o->use_downstream_protocol_config;

		/*
		 * Downstream connections are HTTP/1.1 here, so upstream ones are too: the
		 * HTTP/2 options (istiod's h2 for an h2 downstream) are never used, as in
		 * Envoy for an HTTP/1.1 request.
		 */
		path(p, sizeof(p), "%s.use_downstream_protocol_config", at);
		if (ONLY(t, u, p, "http_protocol_options", "http2_protocol_options") != 0)
			break;
		if (u->http_protocol_options != NULL) {
			path(p, sizeof(p),
			     "%s.use_downstream_protocol_config.http_protocol_options", at);
			only(t, &u->http_protocol_options->base, p, (const char *const[]){NULL});
		}
		break;
	}
	default: bad(t, at, "no explicit_http_config or use_downstream_protocol_config");
	}
out:
	protobuf_c_message_free_unpacked(&o->base, NULL);
	return t->rc;
}

static int
protocol_options(struct tr *t, const Envoy__Config__Cluster__V3__Cluster *c)
{
	char p[PATH];

	for (size_t i = 0; i < c->n_typed_extension_protocol_options && t->rc == 0; i++) {
		const Envoy__Config__Cluster__V3__Cluster__TypedExtensionProtocolOptionsEntry *e =
		        c->typed_extension_protocol_options[i];

		path(p, sizeof(p), "typed_extension_protocol_options['%s']", e->key);
		if (strcmp(e->key, HTTP_OPTIONS) != 0)
			return bad(t, p, "protocol options of this extension are not supported");
		if (e->value == NULL)
			return bad(t, p, "no value");
		http_options(t, e->value, p);
	}
	return t->rc;
}

static int
common_lb(struct tr *t, const Envoy__Config__Cluster__V3__Cluster__CommonLbConfig *lc)
{
	/*
	 * locality_weighted_lb_config would pick a locality by its weight first;
	 * the model weighs endpoints only, so it is refused (Istio writes it for a
	 * localityLbSetting with distribute; failover is priorities, supported).
	 */
	if (ONLY(t, lc, "common_lb_config", "healthy_panic_threshold") != 0)
		return t->rc;
	/*
	 * Endpoints not healthy are never chosen here (translate.c): that is
	 * Envoy's panic mode disabled, a threshold of 0. Another threshold would
	 * route to unhealthy hosts under it, which is not implemented.
	 */
	if (lc->healthy_panic_threshold != NULL && lc->healthy_panic_threshold->value != 0)
		return bad(t, "common_lb_config.healthy_panic_threshold",
		           "%g%%: panic routing to unhealthy endpoints is not supported (only 0, "
		           "panic disabled)",
		           lc->healthy_panic_threshold->value);
	return 0;
}

static int
cluster_filters(struct tr *t, const Envoy__Config__Cluster__V3__Cluster *c)
{
	char p[PATH];

	for (size_t i = 0; i < c->n_filters; i++) {
		const Envoy__Config__Cluster__V3__Filter *f = c->filters[i];

		path(p, sizeof(p), "filters[%zu]", i);
		if (ONLY(t, f, p, "name", "typed_config") != 0)
			return t->rc;
		/*
		 * Istio's metadata exchange adds peer labels to Istio's telemetry; the
		 * upstream sidecar serves without it. Cluster filters have no
		 * is_optional: this one Istio-only filter is skipped by name.
		 */
		if (strcmp(f->name, ISTIO_MX) == 0)
			continue;
		return bad(t, p, "upstream network filter '%s' is not supported", f->name);
	}
	return 0;
}

/* The string value of @p key in Struct @p s, or NULL. */
static const char *
struct_string(const Google__Protobuf__Struct *s, const char *key, bool *other)
{
	*other = false;
	for (size_t i = 0; s != NULL && i < s->n_fields; i++) {
		const Google__Protobuf__Value *v = s->fields[i]->value;

		if (strcmp(s->fields[i]->key, key) != 0) {
			*other = true;
			continue;
		}
		if (v == NULL || v->kind_case != GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE) {
			*other = true;
			return NULL;
		}
		return v->string_value;
	}
	return NULL;
}

const char *
hf_xds_tr_tls_mode(const Envoy__Config__Core__V3__Metadata *md)
{
	bool other;

	for (size_t i = 0; md != NULL && i < md->n_filter_metadata; i++)
		if (strcmp(md->filter_metadata[i]->key, HF_XDS_SOCKET_MATCH) == 0) {
			const char *v =
			        struct_string(md->filter_metadata[i]->value, "tlsMode", &other);

			return v != NULL ? v : "";
		}
	return "";
}

/* A transport socket that is raw_buffer (istiod's plaintext), checked. */
static bool
is_raw(struct tr *t, const Envoy__Config__Core__V3__TransportSocket *ts, const char *at)
{
	if (ts == NULL || strcmp(ts->name, RAW_BUFFER) != 0)
		return false;
	if (ONLY(t, ts, at, "name", "typed_config") != 0)
		return false;
	if (ts->typed_config != NULL) {
		char p[PATH];
		ProtobufCMessage *m;

		path(p, sizeof(p), "%s.typed_config", at);
		m = unpack_any(
		        t, ts->typed_config,
		        &envoy__extensions__transport_sockets__raw_buffer__v3__raw_buffer__descriptor,
		        p);
		if (m == NULL)
			return false;
		protobuf_c_message_free_unpacked(m, NULL);
	}
	return true;
}

/*
 * istiod's auto-mTLS: [{match {tlsMode: istio}, TLS}, {match {}, raw_buffer}]
 * (cluster_tls.go). Each entry is checked; the TLS one fills mc->up_tls.
 */
static int
socket_matches(struct tr *t, const Envoy__Config__Cluster__V3__Cluster *c, struct hf_xds_sds *sds,
               struct hf_model_cluster *mc)
{
	bool tls = false, catch_all = false;
	char p[PATH], q[PATH];

	if (c->transport_socket != NULL && !is_raw(t, c->transport_socket, "transport_socket"))
		return t->rc != 0 ? t->rc
		                  : bad(t, "transport_socket",
		                        "with transport_socket_matches, only raw_buffer as the "
		                        "default (a TLS default for some endpoints and not others "
		                        "needs a transport per endpoint)");
	for (size_t i = 0; i < c->n_transport_socket_matches && t->rc == 0; i++) {
		const Envoy__Config__Cluster__V3__Cluster__TransportSocketMatch *m =
		        c->transport_socket_matches[i];
		const char *mode;
		bool other;

		path(p, sizeof(p), "transport_socket_matches[%zu]", i);
		if (ONLY(t, m, p, "name", "match", "transport_socket") != 0)
			return t->rc;
		if (m->transport_socket == NULL)
			return bad(t, p, "no transport_socket");
		if (catch_all)
			return bad(t, p, "after a match of every endpoint ({}): never chosen");
		mode = struct_string(m->match, "tlsMode", &other);
		path(q, sizeof(q), "%s.match", p);
		if (other)
			return bad(t, q, "only istiod's {tlsMode: istio} and {} are supported");
		path(q, sizeof(q), "%s.transport_socket", p);
		if (mode == NULL) {
			catch_all = true;
			if (!is_raw(t, m->transport_socket, q))
				return t->rc != 0 ? t->rc
				                  : bad(t, q,
				                        "the match of every endpoint must be "
				                        "raw_buffer (TLS for all: the cluster's "
				                        "transport_socket)");
			continue;
		}
		if (strcmp(mode, "istio") != 0)
			return bad(t, q, "tlsMode '%s': only 'istio' is supported", mode);
		if (tls)
			return bad(t, p, "a second match of tlsMode istio: never chosen");
		if (strcmp(m->transport_socket->name, TLS_SOCKET) != 0)
			return bad(t, q, "tlsMode istio must hold " TLS_SOCKET);
		tls = true;
		if (hf_xds_tr_up_tls(t, m->transport_socket, q, sds, mc) != 0)
			return t->rc;
	}
	mc->tls_by_endpoint = tls;
	return t->rc;
}

int
hf_xds_tr_cluster_extras(struct tr *t, const Envoy__Config__Cluster__V3__Cluster *c,
                         struct hf_xds_sds *sds, struct hf_model_cluster *mc)
{
	if (c->circuit_breakers != NULL && circuit_breakers(t, c->circuit_breakers, mc) != 0)
		return t->rc;
	if (c->outlier_detection != NULL && outlier_detection(t, c->outlier_detection, mc) != 0)
		return t->rc;
	if (protocol_options(t, c) != 0)
		return t->rc;
	if (c->common_lb_config != NULL && common_lb(t, c->common_lb_config) != 0)
		return t->rc;
	if (cluster_filters(t, c) != 0)
		return t->rc;
	if (c->n_transport_socket_matches > 0)
		return socket_matches(t, c, sds, mc);
	/* raw_buffer as the cluster's socket is plaintext, as no socket is */
	if (c->transport_socket != NULL && strcmp(c->transport_socket->name, RAW_BUFFER) == 0)
		return is_raw(t, c->transport_socket, "transport_socket") ? 0 : t->rc;
	if (c->transport_socket != NULL)
		return hf_xds_tr_up_tls(t, c->transport_socket, "transport_socket", sds, mc);
	return 0;
}
