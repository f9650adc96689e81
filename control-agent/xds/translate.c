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

#include "control-agent/xds/translate-int.h"

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
	if (ONLY(t, h, at, "codec_type", "stat_prefix", "rds", "route_config", "http_filters") != 0)
		goto out;
	if (h->codec_type !=
	            ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__CODEC_TYPE__AUTO &&
	    h->codec_type !=
	            ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__CODEC_TYPE__HTTP1) {
		bad(t, at,
		    "codec_type: only AUTO and HTTP1 (HTTP/1.1 is what the data plane speaks)");
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

int
hf_xds_tr_listener(const Envoy__Config__Listener__V3__Listener *l, struct hf_model *m, char **rds,
                   struct hf_xds_sds *sds, char *err, size_t errlen)
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
		return bad(&t, "address.socket_address.port_value", "%u is not a port",
		           sa->port_value);
	if (l->n_filter_chains != 1)
		return bad(&t, "filter_chains", "exactly one filter chain is supported (got %zu)",
		           l->n_filter_chains);
	fc = l->filter_chains[0];
	if (ONLY(&t, fc, "filter_chains[0]", "name", "filters", "filter_chain_match",
	         "transport_socket") != 0)
		return t.rc;
	/* SNI is what tells TLS servers apart; a chain matches on nothing else here. */
	if (fc->filter_chain_match != NULL &&
	    ONLY(&t, fc->filter_chain_match, "filter_chains[0].filter_chain_match",
	         "server_names") != 0)
		return t.rc;
	if (fc->filter_chain_match != NULL && fc->transport_socket == NULL)
		return bad(&t, "filter_chains[0].filter_chain_match.server_names",
		           "matching SNI needs the chain to terminate TLS (transport_socket)");
	if (fc->n_filters != 1)
		return bad(&t, "filter_chains[0].filters",
		           "exactly one network filter "
		           "(http_connection_manager or tcp_proxy) is supported (got %zu)",
		           fc->n_filters);
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
	if (strcmp(f->name, HCM_NAME) == 0) {
		/* hcm() may append a route configuration: the listener is re-found by index */
		unsigned int li = m->n_listeners - 1;

		if (hcm(&t, f->typed_config, "filter_chains[0].filters[0].typed_config", m, ml,
		        rds) != 0 ||
		    fc->transport_socket == NULL)
			return t.rc;
		return hf_xds_tr_down_tls(
		        &t, fc->transport_socket, "filter_chains[0].transport_socket",
		        fc->filter_chain_match != NULL ? fc->filter_chain_match->server_names
		                                       : NULL,
		        fc->filter_chain_match != NULL ? fc->filter_chain_match->n_server_names : 0,
		        sds, &m->listeners[li]);
	}
	if (fc->transport_socket != NULL)
		return bad(&t, "filter_chains[0].transport_socket",
		           "TLS is terminated for http_connection_manager chains only");
	if (strcmp(f->name, TCP_PROXY_NAME) == 0)
		return tcp_proxy(&t, f->typed_config, "filter_chains[0].filters[0].typed_config",
		                 ml);
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
	 * tlsMode for transport_socket_matches); opaque to the load balancer, as in
	 * Envoy, and transport_socket_matches, its one consumer here, is refused.
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
		return bad(t, q, "endpoint.address.socket_address.address: '%s' is not an IPv4 address",
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
			return bad(t, p, "priority %u: at most %d levels are supported", le->priority,
			           MAX_PRIORITY);
		if (le->priority >= n_prio)
			n_prio = le->priority + 1;
		for (size_t j = 0; j < le->n_lb_endpoints && t->rc == 0; j++) {
			struct hf_model_endpoint e = {0};
			int ok;

			path(q, sizeof(q), "%s.lb_endpoints[%zu]", p, j);
			if ((ok = lb_endpoint(t, le->lb_endpoints[j], q, &e)) < 0)
				return t->rc;
			pr[le->priority].hosts++;
			if (ok) {
				pr[le->priority].healthy++;
				pr[le->priority].weight += e.weight;
			}
		}
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

/*
 * Circuit breakers are not enforced yet: the thresholds istiod writes by
 * default (every limit 2^32-1, i.e. none) are taken, a real limit is refused
 * rather than ignored.
 */
static int
circuit_breakers(struct tr *t, const Envoy__Config__Cluster__V3__CircuitBreakers *cb)
{
	char p[PATH];

	if (ONLY(t, cb, "circuit_breakers", "thresholds") != 0)
		return t->rc;
	for (size_t i = 0; i < cb->n_thresholds; i++) {
		const Envoy__Config__Cluster__V3__CircuitBreakers__Thresholds *th = cb->thresholds[i];
		const Google__Protobuf__UInt32Value *lim[] = {th->max_connections,
		                                              th->max_pending_requests,
		                                              th->max_requests, th->max_retries,
		                                              th->max_connection_pools};

		path(p, sizeof(p), "circuit_breakers.thresholds[%zu]", i);
		if (ONLY(t, th, p, "priority", "max_connections", "max_pending_requests",
		         "max_requests", "max_retries", "track_remaining",
		         "max_connection_pools") != 0)
			return t->rc;
		for (size_t k = 0; k < sizeof(lim) / sizeof(lim[0]); k++)
			if (lim[k] != NULL && lim[k]->value != UINT32_MAX)
				return bad(t, p,
				           "a limit of %u: circuit breaking is not enforced by "
				           "Hydrofoil yet (only unlimited thresholds, istiod's "
				           "default, are taken)",
				           lim[k]->value);
	}
	return t->rc;
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
	         "metadata") != 0 ||
	    (c->circuit_breakers != NULL && circuit_breakers(&t, c->circuit_breakers) != 0))
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
	if (c->transport_socket != NULL &&
	    hf_xds_tr_up_tls(&t, c->transport_socket, "transport_socket", sds, mc) != 0)
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
