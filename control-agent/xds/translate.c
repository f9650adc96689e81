/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Envoy v3 resources into the model (translate.h). The first slice: listeners
 * with one filter chain holding an HTTP connection manager (RDS or inline
 * routes, the router filter) or a tcp_proxy to one cluster; EDS and STATIC
 * clusters with their LB policy; endpoints with weights, localities and
 * health status. Route configurations: translate_route.c.
 *
 * Each message is first checked against the list of its fields this file
 * implements (only()): a field set outside that list refuses the resource
 * with its path, so an unsupported feature is a NACK, never ignored.
 */
#include <arpa/inet.h>
#include <strings.h>

#include "control-agent/xds/translate-int.h"
#include "dataplane/http/path.h"

/* ------------------------------------------------------------------------------------------- */
/* listeners                                                                                    */

/* An RDS or EDS config source: only ADS, the stream this client holds, is spoken. */
int
hf_xds_tr_config_source(struct tr *t, const Envoy__Config__Core__V3__ConfigSource *cs,
                        const char *at)
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
http_filters(
        struct tr *t,
        const Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager
                *h,
        const char *at)
{
	char p[PATH];
	size_t last = h->n_http_filters;

	/* The router must be there and last (Envoy refuses a chain that does not end with it). */
	for (size_t i = 0; i < h->n_http_filters && t->rc == 0; i++) {
		const Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpFilter
		        *f = h->http_filters[i];
		ProtobufCMessage *router;

		path(p, sizeof(p), "%s.http_filters[%zu]", at, i);
		if (ONLY(t, f, p, "name", "typed_config", "is_optional") != 0)
			return t->rc;
		if (strcmp(f->name, "envoy.filters.http.router") != 0) {
			/* fault, cors: configured per route; an optional one this data plane lacks
			 * is skipped, as Envoy does. */
			hf_xds_tr_http_filter(t, f, p);
			continue;
		}
		if (f->typed_config == NULL)
			return bad(t, p, "the router has no typed_config");
		path(p, sizeof(p), "%s.http_filters[%zu].typed_config", at, i);
		router = unpack_any(
		        t, f->typed_config,
		        &envoy__extensions__filters__http__router__v3__router__descriptor, p);
		if (router == NULL)
			return t->rc;
		only(t, router, p, (const char *const[]){NULL});
		protobuf_c_message_free_unpacked(router, NULL);
		last = i;
	}
	if (t->rc == 0 && last != h->n_http_filters - 1)
		return bad(t, at,
		           "http_filters: the last filter must be envoy.filters.http.router");
	return t->rc;
}

typedef Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager hcm_t;

#define HCM_ENUM(x) ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__##x

/*
 * access_log: Hydrofoil writes its own access log (the bootstrap's
 * access_log, Istio's default format), so istiod's file logger to
 * /dev/stdout (meshConfig.accessLogFile) is that log and is taken as it;
 * another path, another logger or a filter would log what Hydrofoil does not.
 */
static int
hcm_access_log(struct tr *t, const hcm_t *h, const char *at)
{
	char p[PATH];

	for (size_t i = 0; i < h->n_access_log && t->rc == 0; i++) {
		const Envoy__Config__Accesslog__V3__AccessLog *a = h->access_log[i];
		Envoy__Extensions__AccessLoggers__File__V3__FileAccessLog *f;

		path(p, sizeof(p), "%s.access_log[%zu]", at, i);
		if (ONLY(t, a, p, "name", "typed_config") != 0)
			return t->rc;
		if (a->config_type_case !=
		    ENVOY__CONFIG__ACCESSLOG__V3__ACCESS_LOG__CONFIG_TYPE_TYPED_CONFIG)
			return bad(t, p, "no typed_config");
		path(p, sizeof(p), "%s.access_log[%zu].typed_config", at, i);
		f = (void *)unpack_any(
		        t, a->typed_config,
		        &envoy__extensions__access_loggers__file__v3__file_access_log__descriptor,
		        p);
		if (f == NULL)
			return t->rc;
		/* The format is Istio's, which Hydrofoil's log already writes. */
		if (ONLY(t, f, p, "path", "log_format", "format", "json_format",
		         "typed_json_format") == 0 &&
		    strcmp(f->path, "/dev/stdout") != 0)
			bad(t, p,
			    "path '%s': only /dev/stdout (Hydrofoil's own access log, the "
			    "bootstrap's "
			    "access_log) is written",
			    f->path);
		protobuf_c_message_free_unpacked(&f->base, NULL);
	}
	return t->rc;
}

/* tracing: sampling and tags without a provider trace nothing; a provider would send spans. */
static int
hcm_tracing(struct tr *t, const hcm_t *h, const char *at)
{
	char p[PATH];

	if (h->tracing == NULL)
		return 0;
	path(p, sizeof(p), "%s.tracing", at);
	if (h->tracing->provider != NULL)
		return bad(t, p, "provider: Hydrofoil has no tracer to send spans to");
	return ONLY(t, h->tracing, p, "client_sampling", "random_sampling", "overall_sampling",
	            "verbose", "max_path_tag_length", "custom_tags", "spawn_upstream_span");
}

/*
 * Path normalization as Envoy's three fields say it, into Hydrofoil's modes
 * (the ones Istio's meshConfig.pathNormalization writes): none, normalize_path
 * (RFC 3986 6), then merge_slashes, then %2F and %5C unescaped and forwarded.
 */
static int
hcm_path(struct tr *t, const hcm_t *h, const char *at, struct hf_model_listener *ml)
{
	bool norm = h->normalize_path != NULL && h->normalize_path->value;
	int esc = h->path_with_escaped_slashes_action;

	if (esc ==
	    HCM_ENUM(HTTP_CONNECTION_MANAGER__PATH_WITH_ESCAPED_SLASHES_ACTION__KEEP_UNCHANGED))
		esc = 0;
	if (esc != 0 &&
	    esc != HCM_ENUM(
	                   HTTP_CONNECTION_MANAGER__PATH_WITH_ESCAPED_SLASHES_ACTION__UNESCAPE_AND_FORWARD))
		return bad(t, at,
		           "path_with_escaped_slashes_action: only KEEP_UNCHANGED and "
		           "UNESCAPE_AND_FORWARD (Hydrofoil neither rejects nor redirects)");
	if (!norm && (h->merge_slashes || esc != 0))
		return bad(t, at,
		           "%s without normalize_path: Hydrofoil merges slashes and unescapes them "
		           "only on a normalized path",
		           h->merge_slashes ? "merge_slashes" : "path_with_escaped_slashes_action");
	if (esc != 0 && !h->merge_slashes)
		return bad(t, at,
		           "path_with_escaped_slashes_action UNESCAPE_AND_FORWARD without "
		           "merge_slashes: Hydrofoil's DECODE_AND_MERGE_SLASHES does both");
	ml->path_normalization = !norm              ? HF_PATH_NONE
	                         : esc != 0         ? HF_PATH_DECODE_AND_MERGE_SLASHES
	                         : h->merge_slashes ? HF_PATH_MERGE_SLASHES
	                                            : HF_PATH_BASE;
	return 0;
}

/* Upgrades: WebSocket is a byte tunnel after the upstream's 101 (RFC 6455); nothing else. */
static int
hcm_upgrades(struct tr *t, const hcm_t *h, const char *at)
{
	char p[PATH];

	for (size_t i = 0; i < h->n_upgrade_configs && t->rc == 0; i++) {
		const Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager__UpgradeConfig
		        *u = h->upgrade_configs[i];

		path(p, sizeof(p), "%s.upgrade_configs[%zu]", at, i);
		if (ONLY(t, u, p, "upgrade_type", "enabled") != 0)
			return t->rc;
		if (strcasecmp(u->upgrade_type, "websocket") != 0)
			return bad(t, p, "upgrade_type '%s': Hydrofoil tunnels websocket only",
			           u->upgrade_type);
		if (u->enabled != NULL && !u->enabled->value)
			return bad(t, p, "enabled false: Hydrofoil always tunnels websocket");
	}
	return t->rc;
}

/* common_http_protocol_options and http_protocol_options (HTTP/1.1). */
static int
hcm_protocol(struct tr *t, const hcm_t *h, const char *at, struct hf_model_listener *ml)
{
	const Envoy__Config__Core__V3__HttpProtocolOptions *c = h->common_http_protocol_options;
	char p[PATH];

	if (c != NULL) {
		path(p, sizeof(p), "%s.common_http_protocol_options", at);
		if (ONLY(t, c, p, "idle_timeout", "headers_with_underscores_action") != 0)
			return t->rc;
		if (c->headers_with_underscores_action !=
		    ENVOY__CONFIG__CORE__V3__HTTP_PROTOCOL_OPTIONS__HEADERS_WITH_UNDERSCORES_ACTION__ALLOW)
			return bad(t, p,
			           "headers_with_underscores_action: only ALLOW (Hydrofoil passes "
			           "such headers on)");
		if (c->idle_timeout != NULL) {
			ml->idle_timeout_ms = duration_ms(c->idle_timeout);
			ml->idle_timeout_set = true;
		}
	}
	if (h->http_protocol_options != NULL) {
		path(p, sizeof(p), "%s.http_protocol_options", at);
		/* HTTP/1.0 requests are served (RFC 9112 2.6), as with accept_http_10. */
		if (ONLY(t, h->http_protocol_options, p, "accept_http_10") != 0)
			return t->rc;
	}
	/* Envoy's stream idle timeout; istiod turns it off (0s), Hydrofoil has none. */
	if (h->stream_idle_timeout != NULL && duration_ms(h->stream_idle_timeout) != 0)
		return bad(t, at,
		           "stream_idle_timeout: only 0 (off); Hydrofoil bounds a request by its "
		           "route timeout");
	return 0;
}

/*
 * What the request's headers become: x-forwarded-for (Hydrofoil is the edge:
 * the peer is appended, use_remote_address), x-request-id (generated when
 * absent, one sent is kept), x-forwarded-client-cert.
 */
static int
hcm_headers(struct tr *t, const hcm_t *h, const char *at, struct hf_model_listener *ml)
{
	char p[PATH];
	int fcc = h->forward_client_cert_details;

	if (h->use_remote_address != NULL && !h->use_remote_address->value)
		return bad(t, at,
		           "use_remote_address: false is not supported (Hydrofoil is the edge: "
		           "it appends the peer's address to x-forwarded-for)");
	if (h->generate_request_id != NULL && !h->generate_request_id->value)
		return bad(t, at,
		           "generate_request_id: false is not supported (Hydrofoil gives a "
		           "request without x-request-id a UUIDv4)");
	if (h->add_user_agent != NULL && h->add_user_agent->value)
		return bad(
		        t, at,
		        "add_user_agent: Hydrofoil adds no x-envoy-downstream-service-* headers");
	if (fcc != HCM_ENUM(HTTP_CONNECTION_MANAGER__FORWARD_CLIENT_CERT_DETAILS__SANITIZE) &&
	    fcc != HCM_ENUM(HTTP_CONNECTION_MANAGER__FORWARD_CLIENT_CERT_DETAILS__SANITIZE_SET))
		return bad(t, at,
		           "forward_client_cert_details: only SANITIZE and SANITIZE_SET (the others "
		           "pass on what a client claims)");
	ml->xfcc = fcc == HCM_ENUM(HTTP_CONNECTION_MANAGER__FORWARD_CLIENT_CERT_DETAILS__SANITIZE_SET)
	                   ? HF_XFCC_SANITIZE_SET
	                   : HF_XFCC_SANITIZE;
	if (ml->xfcc == HF_XFCC_SANITIZE_SET) {
		const Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager__SetCurrentClientCertDetails
		        *d = h->set_current_client_cert_details;

		/* What tls/peer.c writes beside By and Hash: Istio's gateway fields. */
		path(p, sizeof(p), "%s.set_current_client_cert_details", at);
		if (d == NULL || d->subject == NULL || !d->subject->value || !d->uri || !d->dns ||
		    d->cert || d->chain)
			return bad(t, p,
			           "Hydrofoil sets By, Hash, Subject, URI and DNS (Istio's subject, "
			           "uri and dns true; cert and chain false), not another set");
	}
	if (h->request_id_extension != NULL) {
		ProtobufCMessage *u;

		path(p, sizeof(p), "%s.request_id_extension", at);
		if (ONLY(t, h->request_id_extension, p, "typed_config") != 0)
			return t->rc;
		if (h->request_id_extension->typed_config == NULL)
			return bad(t, p, "no typed_config");
		path(p, sizeof(p), "%s.request_id_extension.typed_config", at);
		/* Hydrofoil's ids are UUIDv4; the trace-reason packing only matters to a tracer. */
		u = unpack_any(
		        t, h->request_id_extension->typed_config,
		        &envoy__extensions__request_id__uuid__v3__uuid_request_id_config__descriptor,
		        p);
		if (u == NULL)
			return t->rc;
		only(t, u, p,
		     (const char *const[]){"pack_trace_reason", "use_request_id_for_trace_sampling",
		                           NULL});
		protobuf_c_message_free_unpacked(u, NULL);
		if (t->rc != 0)
			return t->rc;
	}
	if (h->xff_num_trusted_hops > 64)
		return bad(t, at, "xff_num_trusted_hops: %u is over 64", h->xff_num_trusted_hops);
	ml->xff_num_trusted_hops = h->xff_num_trusted_hops;
	return 0;
}

static struct {
	bool set;
	enum hf_path_mode path;
	uint32_t xff_hops;
	uint32_t idle_ms;
} node_http;

void
hf_xds_translate_node_http(enum hf_path_mode path, uint32_t xff_hops, uint32_t idle_ms)
{
	node_http.set = true;
	node_http.path = path;
	node_http.xff_hops = xff_hops;
	node_http.idle_ms = idle_ms;
}

/*
 * The settings of @p ml (from @p h) against what the data plane applies
 * (hf_xds_translate_node_http). An HCM that says nothing of paths (no
 * normalize_path, merge_slashes or escaped-slash action: Envoy's runtime
 * default decides) gets the node's mode.
 */
static int
hcm_node_agrees(struct tr *t, const hcm_t *h, const char *at, struct hf_model_listener *ml)
{
	if (!node_http.set)
		return 0;
	if (h->normalize_path == NULL && !h->merge_slashes && h->path_with_escaped_slashes_action == 0)
		ml->path_normalization = node_http.path;
	if (ml->path_normalization != node_http.path)
		return bad(t, at,
		           "normalize_path/merge_slashes/path_with_escaped_slashes_action: %s, but "
		           "this node applies %s (http.path_normalization) to every listener",
		           hf_path_mode_name(ml->path_normalization), hf_path_mode_name(node_http.path));
	if (ml->xff_num_trusted_hops != node_http.xff_hops)
		return bad(t, at,
		           "xff_num_trusted_hops: %u, but this node applies %u "
		           "(http.xff_num_trusted_hops) to every listener",
		           ml->xff_num_trusted_hops, node_http.xff_hops);
	if (ml->idle_timeout_set && ml->idle_timeout_ms != node_http.idle_ms)
		return bad(t, at,
		           "common_http_protocol_options.idle_timeout: %u ms, but this node applies "
		           "%u ms (config.idle_timeout_ms or xds.idle_timeout_ms) to every listener",
		           ml->idle_timeout_ms, node_http.idle_ms);
	return 0;
}

/* Every HCM setting beside the routes and filters, into @p ml (the hcm_* fields). */
static int
hcm_settings(struct tr *t, const hcm_t *h, const char *at, struct hf_model_listener *ml)
{
	if (hcm_path(t, h, at, ml) != 0 || hcm_headers(t, h, at, ml) != 0 ||
	    hcm_protocol(t, h, at, ml) != 0 || hcm_upgrades(t, h, at) != 0 ||
	    hcm_access_log(t, h, at) != 0 || hcm_tracing(t, h, at) != 0 ||
	    hcm_node_agrees(t, h, at, ml) != 0)
		return t->rc;
	ml->hcm_set = true;
	return 0;
}

static int
hcm(struct tr *t, const Google__Protobuf__Any *any, const char *at, struct hf_model *m,
    struct hf_model_listener *ml, char **rds)
{
	Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager *h;
	char p[PATH];

	h = (void *)unpack_any(
	        t, any,
	        &envoy__extensions__filters__network__http_connection_manager__v3__http_connection_manager__descriptor,
	        at);
	if (h == NULL)
		return t->rc;
	/*
	 * stat_prefix names Envoy's stats (Hydrofoil's are its own); server_name is
	 * Envoy's server header, Hydrofoil's local replies say "hydrofoil" and
	 * upstream responses keep theirs. Hydrofoil keeps a request's x-request-id,
	 * which is preserve_external_request_id true; false (the default, so never
	 * seen as set) would have Envoy replace an external one.
	 */
	if (ONLY(t, h, at, "codec_type", "stat_prefix", "rds", "route_config", "http_filters",
	         "use_remote_address", "normalize_path", "merge_slashes",
	         "path_with_escaped_slashes_action", "upgrade_configs", "access_log", "tracing",
	         "server_name", "generate_request_id", "preserve_external_request_id",
	         "forward_client_cert_details", "set_current_client_cert_details",
	         "request_id_extension", "stream_idle_timeout", "common_http_protocol_options",
	         "http_protocol_options", "xff_num_trusted_hops", "add_user_agent") != 0)
		goto out;
	if (h->codec_type !=
	            ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__CODEC_TYPE__AUTO &&
	    h->codec_type !=
	            ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__CODEC_TYPE__HTTP1) {
		bad(t, at,
		    "codec_type: only AUTO and HTTP1 (HTTP/1.1 is what the data plane speaks)");
		goto out;
	}
	if (http_filters(t, h, at) != 0 || hcm_settings(t, h, at, ml) != 0)
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
			if (hf_xds_tr_config_source(t, h->rds->config_source, p) != 0)
				goto out;
		}
		*rds = sdup(t, h->rds->route_config_name);
	} else if (
	        h->route_specifier_case ==
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

	tp = (void *)unpack_any(
	        t, any, &envoy__extensions__filters__network__tcp_proxy__v3__tcp_proxy__descriptor,
	        at);
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

#define HCM_NAME       "envoy.filters.network.http_connection_manager"
#define TCP_PROXY_NAME "envoy.filters.network.tcp_proxy"

#define TLS_INSPECTOR "envoy.filters.listener.tls_inspector"

typedef Envoy__Config__Listener__V3__FilterChain chain_t;

/* What a filter chain is, checked (chain_check). */
struct chain {
	const chain_t *fc;
	unsigned int index; /* in filter_chains, for paths */
	bool http;          /* http_connection_manager, else tcp_proxy */
	bool tls;           /* terminates TLS (transport_socket) */
	bool sni;           /* passes TLS through by SNI (tcp_proxy, server_names or "tls") */
	size_t n_names;     /* filter_chain_match.server_names */
	char **names;
};

/*
 * Filter chain @p i checked alone. Returns 1 when it can never match (a
 * destination_port other than the listener's: Envoy keeps such a chain and
 * never picks it), 0 taken, negative refused.
 */
static int
chain_check(struct tr *t, const chain_t *fc, unsigned int i, uint32_t port, struct chain *c)
{
	const Envoy__Config__Listener__V3__FilterChainMatch *fm = fc->filter_chain_match;
	const Envoy__Config__Listener__V3__Filter *f;
	char p[PATH], q[PATH];

	path(p, sizeof(p), "filter_chains[%u]", i);
	if (ONLY(t, fc, p, "name", "filters", "filter_chain_match", "transport_socket") != 0)
		return t->rc;
	*c = (struct chain){.fc = fc, .index = i, .tls = fc->transport_socket != NULL};
	if (fm != NULL) {
		path(q, sizeof(q), "%s.filter_chain_match", p);
		/* SNI tells TLS servers apart; the port and the transport are implied here. */
		if (ONLY(t, fm, q, "server_names", "transport_protocol", "destination_port") != 0)
			return t->rc;
		if (fm->destination_port != NULL && fm->destination_port->value != port)
			return 1;
		c->n_names = fm->n_server_names;
		c->names = fm->server_names;
	}
	path(q, sizeof(q), "%s.filters", p);
	if (fc->n_filters != 1)
		return bad(t, q,
		           "exactly one network filter (http_connection_manager or tcp_proxy) "
		           "is supported (got %zu)",
		           fc->n_filters);
	f = fc->filters[0];
	path(q, sizeof(q), "%s.filters[0]", p);
	if (ONLY(t, f, q, "name", "typed_config") != 0)
		return t->rc;
	if (f->typed_config == NULL)
		return bad(t, q, "no typed_config");
	path(q, sizeof(q), "%s.filters[0].name", p);
	if (strcmp(f->name, HCM_NAME) == 0)
		c->http = true;
	else if (strcmp(f->name, TCP_PROXY_NAME) != 0)
		return bad(t, q, "network filter '%s' is not supported", f->name);
	path(q, sizeof(q), "%s.transport_socket", p);
	if (c->tls && !c->http)
		return bad(t, q, "TLS is terminated for http_connection_manager chains only");
	/* server_names without termination: TLS passthrough (tcp_proxy), SNI read by the worker */
	path(q, sizeof(q), "%s.filter_chain_match.server_names", p);
	if (c->n_names > 0 && !c->tls && c->http)
		return bad(t, q,
		           "matching SNI needs the chain to terminate TLS (transport_socket)");
	c->sni = !c->http && c->n_names > 0;
	if (fm != NULL && fm->transport_protocol[0] != '\0') {
		bool tls_in;

		/* tcp_proxy and transport_protocol tls, no names: every other name passes */
		c->sni |= !c->http && strcmp(fm->transport_protocol, "tls") == 0;
		tls_in = c->tls || c->sni;

		path(q, sizeof(q), "%s.filter_chain_match.transport_protocol", p);
		if (strcmp(fm->transport_protocol, "tls") != 0 &&
		    strcmp(fm->transport_protocol, "raw_buffer") != 0)
			return bad(t, q, "'%s': only tls and raw_buffer", fm->transport_protocol);
		if (strcmp(fm->transport_protocol, "tls") == 0 && !tls_in)
			return bad(t, q,
			           "tls on a chain that neither terminates TLS nor matches "
			           "server_names: TLS and plaintext chains on one listener are "
			           "not supported");
		if (strcmp(fm->transport_protocol, "raw_buffer") == 0 && tls_in)
			return bad(t, q, "raw_buffer on a TLS chain never matches");
	}
	return 0;
}

/* Whether chains @p a and @p b share a server name (or both match every name). */
static const char *
chain_overlap(const struct chain *a, const struct chain *b)
{
	if (a->n_names == 0 && b->n_names == 0)
		return "*";
	for (size_t i = 0; i < a->n_names; i++)
		for (size_t j = 0; j < b->n_names; j++)
			if (strcasecmp(a->names[i], b->names[j]) == 0)
				return a->names[i];
	return NULL;
}

static int
listener_filters(struct tr *t, const Envoy__Config__Listener__V3__Listener *l)
{
	char p[PATH];

	for (size_t i = 0; i < l->n_listener_filters; i++) {
		const Envoy__Config__Listener__V3__ListenerFilter *f = l->listener_filters[i];

		path(p, sizeof(p), "listener_filters[%zu]", i);
		if (ONLY(t, f, p, "name", "typed_config") != 0)
			return t->rc;
		/* The data plane reads the ClientHello's SNI itself: the inspector is implied. */
		if (strcmp(f->name, TLS_INSPECTOR) != 0)
			return bad(t, p, "listener filter '%s' is not supported", f->name);
	}
	return 0;
}

/*
 * The HTTP chains of a listener: one route table (the model's), every chain
 * naming the same RDS route configuration (istiod's for the servers of one
 * Gateway port); each TLS chain one server of the listener's TLS, the chain
 * matching every name first (the model's first server answers without SNI).
 */
static int
http_chains(struct tr *t, struct chain *cs, unsigned int n, struct hf_model *m, unsigned int li,
            char **rds, struct hf_xds_sds *sds)
{
	char p[PATH];

	for (unsigned int k = 0; k < n && t->rc == 0; k++) {
		const struct chain *c = &cs[k];
		struct hf_model_listener tmp = {.name = m->listeners[li].name, .route_config = -1};
		char *other = NULL;

		path(p, sizeof(p), "filter_chains[%u].filters[0].typed_config", c->index);
		if (k == 0) {
			if (hcm(t, c->fc->filters[0]->typed_config, p, m, &m->listeners[li], rds) !=
			    0)
				return t->rc;
		} else {
			unsigned int n_rc = m->n_route_configs;

			if (hcm(t, c->fc->filters[0]->typed_config, p, m, &tmp, &other) != 0) {
				free(other);
				return t->rc;
			}
			if (m->n_route_configs != n_rc || *rds == NULL || other == NULL ||
			    strcmp(other, *rds) != 0)
				bad(t, p,
				    "rds.route_config_name '%s' is not filter_chains[%u]'s '%s': a "
				    "listener has one route table in Hydrofoil (its chains differ "
				    "by "
				    "certificate only)",
				    other != NULL ? other : "(inline)", cs[0].index,
				    *rds != NULL ? *rds : "(inline)");
			free(other);
			if (t->rc != 0)
				return t->rc;
			/* One listener, one set of connection manager settings (the model's). */
			if (tmp.path_normalization != m->listeners[li].path_normalization ||
			    tmp.xff_num_trusted_hops != m->listeners[li].xff_num_trusted_hops ||
			    tmp.idle_timeout_set != m->listeners[li].idle_timeout_set ||
			    tmp.idle_timeout_ms != m->listeners[li].idle_timeout_ms ||
			    tmp.xfcc != m->listeners[li].xfcc)
				return bad(t, p,
				           "path normalization, xff_num_trusted_hops, "
				           "forward_client_cert_details or idle_timeout differ from "
				           "filter_chains[%u]'s: a listener has one setting of each "
				           "in Hydrofoil",
				           cs[0].index);
		}
		if (!c->tls)
			continue;
		path(p, sizeof(p), "filter_chains[%u].transport_socket", c->index);
		if (hf_xds_tr_down_tls(t, c->fc->transport_socket, p, c->names, c->n_names, sds,
		                       &m->listeners[li]) != 0)
			return t->rc;
	}
	return t->rc;
}

/* TLS passthrough: each chain's server_names route to its tcp_proxy's cluster. */
static int
passthrough_chains(struct tr *t, struct chain *cs, unsigned int n, struct hf_model_listener *ml)
{
	char p[PATH];

	for (unsigned int k = 0; k < n; k++) {
		struct hf_model_l4_route *r;
		size_t nn = cs[k].n_names == 0 ? 1 : cs[k].n_names;

		path(p, sizeof(p), "filter_chains[%u].filters[0].typed_config", cs[k].index);
		if (tcp_proxy(t, cs[k].fc->filters[0]->typed_config, p, ml) != 0)
			return t->rc;
		r = &ml->l4_routes[ml->n_l4_routes - 1];
		if ((r->sni = calloc(nn, sizeof(*r->sni))) == NULL)
			return nomem(t);
		/* no server_names: every other name (the SNI table's "*") */
		for (size_t i = 0; i < nn; i++)
			if ((r->sni[r->n_sni++] = sdup_lower(
			             t, cs[k].n_names == 0 ? "*" : cs[k].names[i])) == NULL)
				return t->rc;
	}
	ml->kind = HF_LISTENER_TLS;
	return 0;
}

int
hf_xds_tr_listener(const Envoy__Config__Listener__V3__Listener *l, struct hf_model *m, char **rds,
                   struct hf_xds_sds *sds, char *err, size_t errlen)
{
	struct tr t = {.err = err, .errlen = errlen};
	const Envoy__Config__Core__V3__SocketAddress *sa;
	struct hf_model_listener *ml;
	struct chain *cs;
	unsigned int n = 0, li;
	bool any_tls = false, passthrough = false;
	struct in_addr ia;

	*rds = NULL;
	if (ONLY(&t, l, "Listener", "name", "address", "filter_chains", "traffic_direction",
	         "listener_filters") != 0 ||
	    listener_filters(&t, l) != 0)
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
		return bad(&t, "address.socket_address.port_value", "%u is not a port",
		           sa->port_value);
	if (l->n_filter_chains == 0)
		return bad(&t, "filter_chains", "none");
	cs = calloc(l->n_filter_chains, sizeof(*cs));
	if (cs == NULL)
		return nomem(&t);
	for (unsigned int i = 0; i < l->n_filter_chains && t.rc == 0; i++) {
		struct chain c;
		char p[PATH];
		int rc = chain_check(&t, l->filter_chains[i], i, sa->port_value, &c);

		if (rc != 0)
			continue; /* 1: never matches, as in Envoy; else refused */
		path(p, sizeof(p), "filter_chains[%u]", i);
		for (unsigned int k = 0; k < n && t.rc == 0; k++) {
			const char *dup = chain_overlap(&cs[k], &c);

			if (dup != NULL)
				bad(&t, p,
				    "matches what filter_chains[%u] matches (server name '%s')",
				    cs[k].index, dup);
		}
		if (t.rc == 0 && n > 0 && c.http != cs[0].http)
			bad(&t, p,
			    "http_connection_manager and tcp_proxy chains on one listener are "
			    "not supported");
		if (t.rc == 0 && n > 0 && (c.tls || c.sni) != (any_tls || passthrough))
			bad(&t, p, "TLS and plaintext chains on one listener are not supported");
		if (t.rc != 0)
			break;
		any_tls |= c.tls;
		passthrough |= c.sni;
		/* the chain matching every server name first: it answers without SNI */
		if (c.n_names == 0 && n > 0) {
			memmove(&cs[1], &cs[0], n * sizeof(*cs));
			cs[0] = c;
		} else {
			cs[n] = c;
		}
		n++;
	}
	if (t.rc == 0 && n == 0)
		bad(&t, "filter_chains", "no chain can match (destination_port is not %u)",
		    sa->port_value);
	if (t.rc == 0 && n > 1 && !any_tls && !passthrough)
		bad(&t, "filter_chains", "several plaintext chains: only SNI tells chains apart");
	if (t.rc != 0 || (ml = grow(&t, &m->listeners, &m->n_listeners, sizeof(*ml))) == NULL)
		goto out;
	li = m->n_listeners - 1;
	ml->name = sdup(&t, l->name);
	ml->port = (uint16_t)sa->port_value;
	ml->route_config = -1;
	if (t.rc != 0)
		goto out;
	if (cs[0].http)
		http_chains(&t, cs, n, m, li, rds, sds);
	else if (passthrough)
		passthrough_chains(&t, cs, n, ml);
	else
		tcp_proxy(&t, cs[0].fc->filters[0]->typed_config,
		          "filter_chains[0].filters[0].typed_config", ml);
out:
	free(cs);
	return t.rc;
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

/* Envoy's overprovisioning factor (ClusterLoadAssignment.Policy), in percent. */
#define OVERPROVISIONING 140
#define MAX_PRIORITY     8

/* What the priority levels of an assignment hold: hosts, healthy hosts, their weight. */
struct prio {
	uint32_t hosts, healthy;
	uint64_t weight;
	uint32_t load;		/* percent of the traffic (Envoy's priority load) */
};

/*
 * Envoy's priority load (LoadBalancerBase::recalculatePerPriorityState): a
 * level's health is min(100, overprovisioning x healthy / hosts); levels take
 * traffic in order, each its health normalised by the total (at most 100), so
 * a level fully healthy takes all of it and a degraded one spills the rest to
 * the next. Health comes from health_status alone here (no active checks).
 */
static void
priority_load(struct prio *pr, unsigned int n, uint32_t factor)
{
	uint32_t health[MAX_PRIORITY], total = 0, left = 100;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t h = pr[i].hosts == 0 ? 0 : (uint64_t)factor * pr[i].healthy / pr[i].hosts;

		health[i] = h > 100 ? 100 : (uint32_t)h;
		total += health[i];
	}
	if (total > 100)
		total = 100;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t l = total == 0 ? 0 : health[i] * 100 / total;

		pr[i].load = l < left ? l : left;
		left -= pr[i].load;
	}
	/* Rounding leftovers go to the first level that takes traffic. */
	for (unsigned int i = 0; i < n && left > 0; i++)
		if (pr[i].load > 0) {
			pr[i].load += left;
			left = 0;
		}
}

/*
 * One lb_endpoint checked; its address into @p e. Returns whether it takes
 * traffic (HEALTHY or UNKNOWN, as Envoy's load balancers choose), or -1.
 */
static int
lb_endpoint(struct tr *t, const Envoy__Config__Endpoint__V3__LbEndpoint *lb, const char *q,
            struct hf_model_endpoint *e)
{
	const Envoy__Config__Core__V3__SocketAddress *sa;
	struct in_addr ia;

	/*
	 * metadata: istiod sets it on every endpoint (the workload for telemetry,
	 * tlsMode for transport_socket_matches, read by endpoints()); opaque to the
	 * load balancer, as in Envoy.
	 */
	if (ONLY(t, lb, q, "endpoint", "health_status", "load_balancing_weight", "metadata") != 0)
		return -1;
	if (lb->endpoint == NULL || lb->endpoint->address == NULL ||
	    lb->endpoint->address->socket_address == NULL)
		return bad(t, q, "no endpoint.address.socket_address"), -1;
	if (ONLY(t, lb->endpoint, q, "address") != 0 ||
	    ONLY(t, lb->endpoint->address, q, "socket_address") != 0)
		return -1;
	sa = lb->endpoint->address->socket_address;
	if (ONLY(t, sa, q, "address", "port_value") != 0)
		return -1;
	if (inet_pton(AF_INET, sa->address, &ia) != 1)
		return bad(t, q,
		           "endpoint.address.socket_address.address: '%s' is not an IPv4 address",
		           sa->address),
		       -1;
	if (sa->port_value == 0 || sa->port_value > 65535)
		return bad(t, q, "endpoint.address.socket_address.port_value: %u is not a port",
		           sa->port_value),
		       -1;
	if (lb->load_balancing_weight != NULL && lb->load_balancing_weight->value == 0)
		return bad(t, q, "load_balancing_weight: 0 (must be at least 1)"), -1;
	e->addr = ia.s_addr;
	e->port = (uint16_t)sa->port_value;
	e->weight = lb->load_balancing_weight != NULL ? lb->load_balancing_weight->value : 1;
	return lb->health_status == ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__UNKNOWN ||
	       lb->health_status == ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__HEALTHY;
}

static int
endpoints(struct tr *t, const Envoy__Config__Endpoint__V3__ClusterLoadAssignment *cla,
          const char *at, struct hf_model_cluster *mc)
{
	struct prio pr[MAX_PRIORITY] = {{0}};
	uint32_t factor = OVERPROVISIONING;
	unsigned int n_prio = 0, levels = 0;
	char p[PATH], q[PATH];

	const char *mode = NULL, *mode_at = "";
	char mode_path[PATH] = "";

	if (ONLY(t, cla, at, "cluster_name", "endpoints", "policy") != 0)
		return t->rc;
	if (cla->policy != NULL) {
		path(p, sizeof(p), "%spolicy", at);
		if (ONLY(t, cla->policy, p, "overprovisioning_factor") != 0)
			return t->rc;
		if (cla->policy->overprovisioning_factor != NULL)
			factor = cla->policy->overprovisioning_factor->value;
	}
	free_endpoints(mc);
	/* First the levels' health, then the healthy endpoints of the levels with traffic. */
	for (size_t i = 0; i < cla->n_endpoints && t->rc == 0; i++) {
		const Envoy__Config__Endpoint__V3__LocalityLbEndpoints *le = cla->endpoints[i];

		path(p, sizeof(p), "%sendpoints[%zu]", at, i);
		/*
		 * load_balancing_weight (Istio sets it) weighs localities only under a
		 * cluster's locality_weighted_lb_config, which is refused: Envoy ignores it too.
		 */
		if (ONLY(t, le, p, "locality", "lb_endpoints", "load_balancing_weight",
		         "priority") != 0)
			return t->rc;
		if (le->priority >= MAX_PRIORITY)
			return bad(t, p, "priority %u: at most %d levels are supported",
			           le->priority, MAX_PRIORITY);
		if (le->priority >= n_prio)
			n_prio = le->priority + 1;
		for (size_t j = 0; j < le->n_lb_endpoints && t->rc == 0; j++) {
			struct hf_model_endpoint e = {0};
			int ok;

			path(q, sizeof(q), "%s.lb_endpoints[%zu]", p, j);
			if ((ok = lb_endpoint(t, le->lb_endpoints[j], q, &e)) < 0)
				return t->rc;
			/*
			 * transport_socket_matches choose a transport per endpoint by this
			 * metadata; the model has one per cluster: an assignment whose
			 * endpoints differ is refused, whatever its cluster (checked alone).
			 */
			if (mode == NULL) {
				mode = hf_xds_tr_tls_mode(le->lb_endpoints[j]->metadata);
				snprintf(mode_path, sizeof(mode_path), "%s", q);
				mode_at = mode_path;
			} else if (strcmp(mode, hf_xds_tr_tls_mode(
			                                le->lb_endpoints[j]->metadata)) != 0) {
				return bad(t, q,
				           "metadata." HF_XDS_SOCKET_MATCH ".tlsMode '%s' differs "
				           "from %s's '%s': Hydrofoil chooses one transport "
				           "socket per cluster",
				           hf_xds_tr_tls_mode(le->lb_endpoints[j]->metadata),
				           mode_at, mode);
			}
			pr[le->priority].hosts++;
			if (ok) {
				pr[le->priority].healthy++;
				pr[le->priority].weight += e.weight;
			}
		}
	}
	/* istiod's auto-mTLS: TLS to endpoints that say tlsMode istio, plaintext otherwise */
	if (mc->tls_by_endpoint && mode != NULL && strcmp(mode, "istio") != 0) {
		hf_model_up_tls_free(mc->up_tls);
		mc->up_tls = NULL;
		mc->tls_mode = HF_TLS_DISABLE;
	}
	priority_load(pr, n_prio, factor);
	for (unsigned int i = 0; i < n_prio; i++)
		levels += pr[i].load > 0;
	for (size_t i = 0; i < cla->n_endpoints && t->rc == 0; i++) {
		const Envoy__Config__Endpoint__V3__LocalityLbEndpoints *le = cla->endpoints[i];
		const struct prio *lv = &pr[le->priority];
		char loc[3 * 64 + 3] = "";

		if (lv->load == 0)
			continue;
		if (le->locality != NULL) {
			path(q, sizeof(q), "%sendpoints[%zu].locality", at, i);
			if (ONLY(t, le->locality, q, "region", "zone", "sub_zone") != 0)
				return t->rc;
			snprintf(loc, sizeof(loc), "%.64s/%.64s/%.64s", le->locality->region,
			         le->locality->zone, le->locality->sub_zone);
		}
		for (size_t j = 0; j < le->n_lb_endpoints && t->rc == 0; j++) {
			struct hf_model_endpoint *e, tmp = {0};

			path(q, sizeof(q), "%sendpoints[%zu].lb_endpoints[%zu]", at, i, j);
			if (lb_endpoint(t, le->lb_endpoints[j], q, &tmp) <= 0)
				continue;	/* checked above: not healthy */
			e = grow(t, &mc->endpoints, &mc->n_endpoints, sizeof(*e));
			if (e == NULL)
				return t->rc;
			*e = tmp;
			/* Several levels at once: each level's share of its load, by weight. */
			if (levels > 1) {
				uint64_t w = (uint64_t)lv->load * 10000 * tmp.weight / lv->weight;

				e->weight = w == 0 ? 1 : w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
			}
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
                  struct hf_xds_sds *sds, char *err, size_t errlen)
{
	struct tr t = {.err = err, .errlen = errlen};
	struct hf_model_cluster *mc;

	*eds = NULL;
	/* metadata: istiod's services and original port, for telemetry; opaque, as in Envoy. */
	if (ONLY(&t, c, "Cluster", "name", "type", "eds_cluster_config", "connect_timeout",
	         "lb_policy", "load_assignment", "transport_socket", "circuit_breakers",
	         "metadata", "outlier_detection", "transport_socket_matches",
	         "typed_extension_protocol_options", "common_lb_config", "filters") != 0)
		return t.rc;
	if (c->name[0] == '\0')
		return bad(&t, "name", "empty");
	mc = grow(&t, &m->clusters, &m->n_clusters, sizeof(*mc));
	if (mc == NULL)
		return t.rc;
	mc->name = sdup(&t, c->name);
	mc->service = sdup(&t, c->name);
	mc->connect_timeout_ms =
	        c->connect_timeout != NULL ? duration_ms(c->connect_timeout) : CONNECT_TIMEOUT_MS;
	if (hf_xds_tr_cluster_extras(&t, c, sds, mc) != 0)
		return t.rc;
	switch (c->lb_policy) {
	case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__ROUND_ROBIN:
		mc->lb = HF_LB_ROUND_ROBIN;
		break;
	case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__LEAST_REQUEST:
		mc->lb = HF_LB_LEAST_REQUEST;
		break;
	case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__RANDOM: mc->lb = HF_LB_RANDOM; break;
	default:
		return bad(&t, "lb_policy",
		           "only ROUND_ROBIN, LEAST_REQUEST and RANDOM are supported");
	}
	if (c->cluster_discovery_type_case !=
	            ENVOY__CONFIG__CLUSTER__V3__CLUSTER__CLUSTER_DISCOVERY_TYPE_TYPE &&
	    c->cluster_discovery_type_case !=
	            ENVOY__CONFIG__CLUSTER__V3__CLUSTER__CLUSTER_DISCOVERY_TYPE__NOT_SET)
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
			    hf_xds_tr_config_source(&t, c->eds_cluster_config->eds_config,
			                            "eds_cluster_config.eds_config") != 0)
				return t.rc;
			if (c->eds_cluster_config->service_name[0] != '\0') {
				*eds = sdup(&t, c->eds_cluster_config->service_name);
				return t.rc;
			}
		}
		*eds = sdup(&t, c->name);
		return t.rc;
	default: return bad(&t, "type", "only STATIC and EDS clusters are supported");
	}
}
