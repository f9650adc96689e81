/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parts of an Envoy v3 Cluster istiod writes beyond discovery and LB
 * policy (translate.c), into the model:
 *  - circuit_breakers: the thresholds of the default priority, enforced by
 *    the workers (lb/cb.h: each enforces its share); shown by /clusters and
 *    /config_dump;
 *  - outlier_detection: the consecutive-failure detectors (below), enforced
 *    per worker (lb/cb.h);
 *  - typed_extension_protocol_options holding an upstreams.http.v3
 *    HttpProtocolOptions: explicit HTTP/1.1 or use_downstream_protocol (the
 *    downstream is HTTP/1.1 here, so both mean HTTP/1.1); HTTP/2 and HTTP/3
 *    upstreams are refused by name; common_http_protocol_options'
 *    max_requests_per_connection (istiod's maxRequestsPerConnection) only;
 *  - common_lb_config: healthy_panic_threshold (Envoy's default 50 %):
 *    under it, outlier ejections are ignored; EDS-unhealthy endpoints are
 *    never routed to (translate.c), in panic or not;
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
		/*
		 * Envoy's defaults (1024 connections, pending and requests, 3 retries)
		 * are not filled in: istiod always writes every threshold, and an
		 * absent one is the model's unlimited.
		 */
		mc->max_requests = limit(th->max_requests);
		mc->max_retries = limit(th->max_retries);
	}
	return t->rc;
}

static uint32_t duration_ms(const Google__Protobuf__Duration *d);

/* A UInt32Value, @p dflt when absent. */
static uint32_t
u32_or(const Google__Protobuf__UInt32Value *v, uint32_t dflt)
{
	return v != NULL ? v->value : dflt;
}

/* An enforcing_* percentage: 100 (always) or 0 (never); a chance in between is refused. */
static int
enforcing(struct tr *t, const Google__Protobuf__UInt32Value *v, const char *name, uint32_t dflt,
          bool *on)
{
	uint32_t e = u32_or(v, dflt);

	if (e != 0 && e != 100)
		return bad(t, name, "%u: only 0 and 100 are supported (no ejection by chance)", e);
	*on = e == 100;
	return 0;
}

/*
 * What istiod writes for a DestinationRule's outlierDetection
 * (cluster_builder.go): the consecutive-failure detectors, with Envoy's
 * defaults for what is absent (5 consecutive 5xx enforced; 5 gateway
 * failures, not enforced unless enforcing_consecutive_gateway_failure says
 * 100; interval 10 s, base ejection 30 s, max ejection 300 s, 10 %). The
 * success-rate and failure-percentage detectors are not run: istiod writes
 * enforcing_success_rate 0, and a cluster asking for either is refused by
 * name; an unset enforcing_success_rate (Envoy's 100, which ejects on success
 * rate only with 5 hosts of 100 requests each per interval) is taken as 0.
 */
static int
outlier_detection(struct tr *t, const Envoy__Config__Cluster__V3__OutlierDetection *od,
                  struct hf_model_cluster *mc)
{
	struct hf_od_config *o = &mc->od;
	bool e5 = true, egw = false, elocal = true;

	if (ONLY(t, od, "outlier_detection", "consecutive_5xx", "interval", "base_ejection_time",
	         "max_ejection_percent", "enforcing_consecutive_5xx", "enforcing_success_rate",
	         "consecutive_gateway_failure", "enforcing_consecutive_gateway_failure",
	         "split_external_local_origin_errors", "consecutive_local_origin_failure",
	         "enforcing_consecutive_local_origin_failure", "max_ejection_time",
	         "success_rate_minimum_hosts", "success_rate_request_volume",
	         "success_rate_stdev_factor") != 0)
		return t->rc;
	if (od->enforcing_success_rate != NULL && od->enforcing_success_rate->value != 0)
		return bad(t, "outlier_detection.enforcing_success_rate",
		           "%u: success-rate ejection is not supported (0 turns it off)",
		           od->enforcing_success_rate->value);
	if (enforcing(t, od->enforcing_consecutive_5xx,
	              "outlier_detection.enforcing_consecutive_5xx", 100, &e5) != 0 ||
	    enforcing(t, od->enforcing_consecutive_gateway_failure,
	              "outlier_detection.enforcing_consecutive_gateway_failure", 0, &egw) != 0 ||
	    enforcing(t, od->enforcing_consecutive_local_origin_failure,
	              "outlier_detection.enforcing_consecutive_local_origin_failure", 100,
	              &elocal) != 0)
		return t->rc;
	if (u32_or(od->max_ejection_percent, 10) > 100)
		return bad(t, "outlier_detection.max_ejection_percent", "%u: above 100",
		           od->max_ejection_percent->value);
	mc->outlier = true;
	o->consecutive_5xx = e5 ? u32_or(od->consecutive_5xx, 5) : 0;
	o->consecutive_gateway = egw ? u32_or(od->consecutive_gateway_failure, 5) : 0;
	o->split_local = od->split_external_local_origin_errors;
	o->consecutive_local =
	        o->split_local && elocal ? u32_or(od->consecutive_local_origin_failure, 5) : 0;
	o->interval_ms = od->interval != NULL ? duration_ms(od->interval) : 10000;
	o->base_ejection_ms = od->base_ejection_time != NULL ? duration_ms(od->base_ejection_time) :
	                                                       30000;
	o->max_ejection_ms = od->max_ejection_time != NULL ? duration_ms(od->max_ejection_time) :
	                                                     300000;
	o->max_ejection_percent = (uint8_t)u32_or(od->max_ejection_percent, 10);
	return 0;
}

static int
http_options(struct tr *t, const Google__Protobuf__Any *any, const char *at,
             struct hf_model_cluster *mc)
{
	Envoy__Extensions__Upstreams__Http__V3__HttpProtocolOptions *o;
	char p[PATH];

	o = (void *)unpack_any(
	        t, any, &envoy__extensions__upstreams__http__v3__http_protocol_options__descriptor,
	        at);
	if (o == NULL)
		return t->rc;
	if (ONLY(t, o, at, "explicit_http_config", "use_downstream_protocol_config",
	         "common_http_protocol_options") != 0)
		goto out;
	if (o->common_http_protocol_options != NULL) {
		/* istiod's maxRequestsPerConnection; its idle_timeout and the rest are refused */
		path(p, sizeof(p), "%s.common_http_protocol_options", at);
		if (ONLY(t, o->common_http_protocol_options, p, "max_requests_per_connection") != 0)
			goto out;
		mc->max_rq_per_cx =
		        limit(o->common_http_protocol_options->max_requests_per_connection);
	}
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
protocol_options(struct tr *t, const Envoy__Config__Cluster__V3__Cluster *c,
                 struct hf_model_cluster *mc)
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
		http_options(t, e->value, p, mc);
	}
	return t->rc;
}

static int
common_lb(struct tr *t, const Envoy__Config__Cluster__V3__Cluster__CommonLbConfig *lc,
          struct hf_model_cluster *mc)
{
	/*
	 * locality_weighted_lb_config would pick a locality by its weight first;
	 * the model weighs endpoints only, so it is refused (Istio writes it for a
	 * localityLbSetting with distribute; failover is priorities, supported).
	 */
	if (ONLY(t, lc, "common_lb_config", "healthy_panic_threshold") != 0)
		return t->rc;
	/*
	 * Endpoints EDS does not call healthy are never chosen here (translate.c);
	 * the threshold is the share of hosts outlier detection must leave in, under
	 * which it is ignored (Istio's minHealthPercent).
	 */
	if (lc->healthy_panic_threshold != NULL) {
		double v = lc->healthy_panic_threshold->value;

		if (!(v >= 0 && v <= 100))
			return bad(t, "common_lb_config.healthy_panic_threshold",
			           "%g%%: not a percentage", v);
		mc->od.min_health_percent = (uint8_t)(v + 0.5);
	}
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
	/* Envoy's default panic threshold; common_lb_config may change it */
	mc->od.min_health_percent = 50;
	if (c->circuit_breakers != NULL && circuit_breakers(t, c->circuit_breakers, mc) != 0)
		return t->rc;
	if (c->outlier_detection != NULL && outlier_detection(t, c->outlier_detection, mc) != 0)
		return t->rc;
	if (protocol_options(t, c, mc) != 0)
		return t->rc;
	if (c->common_lb_config != NULL && common_lb(t, c->common_lb_config, mc) != 0)
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
