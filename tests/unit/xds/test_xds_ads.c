/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ADS client's protocol state, driven without a network: this file
 * defines the gRPC stream functions (grpc.h), so the linker takes these
 * rather than grpc.c; the test opens and closes the "stream", reads every
 * request the client sends and hands it responses.
 *
 * Delta: wildcard first requests with the node; subscriptions follow the
 * references (subscribe and unsubscribe in one request); ACK and NACK by
 * nonce; removed_resources; initial_resource_versions after a reconnect.
 * Warming per resource: a cluster waits for its assignment, the rest
 * serves; a route to a cluster not there compiles as one marked missing;
 * a name removed by the server, or not received within the initial fetch
 * timeout, stops the wait; a listener replaced by a version that waits
 * keeps its previous version serving (make before break, state of the world).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf_test.h"
#include "control-agent/bootstrap.h"
#include "control-agent/snapshot.h"
#include "control-agent/xds/grpc.h"
#include "control-agent/xds/translate.h"
#include "control-agent/xds/xds.h"
#include "control-agent/xds/ads-int.h"
#include "control-agent/config_dump.h"

/* ------------------------------------------------------------------ the fake stream */

static const struct hf_grpc_ops *g_ops;
static void *g_ctx;
static bool g_open;
static char g_path[256];
#define MAX_SENT 64
static struct {
	uint8_t *p;
	size_t n;
} sent[MAX_SENT];
static unsigned int n_sent;

struct hf_grpc *
hf_grpc_new(uint32_t addr, uint16_t port, const char *authority, const char *path,
            const struct hf_grpc_tls *tls, const struct hf_grpc_ops *ops, void *ctx)
{
	(void)tls;
	(void)addr;
	(void)port;
	(void)authority;
	g_ops = ops;
	g_ctx = ctx;
	snprintf(g_path, sizeof(g_path), "%s", path);
	return (struct hf_grpc *)&g_open;
}

uint64_t
hf_grpc_counter(const struct hf_grpc *g, enum hf_grpc_counter c)
{
	(void)g;
	(void)c;
	return 0;
}

int
hf_grpc_poll(struct hf_grpc *g, uint64_t now_ms)
{
	(void)g;
	(void)now_ms;
	return 0;
}

int
hf_grpc_send(struct hf_grpc *g, const uint8_t *data, size_t len)
{
	(void)g;
	if (!g_open)
		return -ENOTCONN;
	assert_true(n_sent < MAX_SENT);
	sent[n_sent].p = malloc(len + 1);
	assert_non_null(sent[n_sent].p);
	memcpy(sent[n_sent].p, data, len);
	sent[n_sent++].n = len;
	return 0;
}

bool
hf_grpc_is_open(const struct hf_grpc *g)
{
	(void)g;
	return g_open;
}

void
hf_grpc_backoff_reset(struct hf_grpc *g)
{
	(void)g;
}

int
hf_grpc_fd(const struct hf_grpc *g)
{
	(void)g;
	return -1;
}

void
hf_grpc_free(struct hf_grpc *g)
{
	(void)g;
}

static void
sent_clear(void)
{
	for (unsigned int i = 0; i < n_sent; i++)
		free(sent[i].p);
	n_sent = 0;
}

/* Request @p i of those sent, decoded (free with ..._free_unpacked). */
static Envoy__Service__Discovery__V3__DeltaDiscoveryRequest *
delta_rq(unsigned int i)
{
	Envoy__Service__Discovery__V3__DeltaDiscoveryRequest *rq;

	assert_true(i < n_sent);
	rq = envoy__service__discovery__v3__delta_discovery_request__unpack(NULL, sent[i].n,
	                                                                    sent[i].p);
	assert_non_null(rq);
	return rq;
}

static Envoy__Service__Discovery__V3__DiscoveryRequest *
sotw_rq(unsigned int i)
{
	Envoy__Service__Discovery__V3__DiscoveryRequest *rq;

	assert_true(i < n_sent);
	rq = envoy__service__discovery__v3__discovery_request__unpack(NULL, sent[i].n, sent[i].p);
	assert_non_null(rq);
	return rq;
}

/* The last delta request of type @p url sent (NULL: none). */
static Envoy__Service__Discovery__V3__DeltaDiscoveryRequest *
last_delta(const char *url)
{
	for (unsigned int i = n_sent; i-- > 0;) {
		Envoy__Service__Discovery__V3__DeltaDiscoveryRequest *rq = delta_rq(i);

		if (strcmp(rq->type_url, url) == 0)
			return rq;
		envoy__service__discovery__v3__delta_discovery_request__free_unpacked(rq, NULL);
	}
	return NULL;
}

#define FREE_DRQ(rq) envoy__service__discovery__v3__delta_discovery_request__free_unpacked(rq, NULL)

/* ------------------------------------------------------------------ resources */

/* Packed resources live here until the test ends (an Any points into it). */
static uint8_t store[1 << 16];
static size_t stored;

static Google__Protobuf__Any *
any_of(const ProtobufCMessage *m, Google__Protobuf__Any *a)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	static char urls[64][160];
	static unsigned int n_urls;

	assert_true(stored + n <= sizeof(store));
	protobuf_c_message_pack(m, store + stored);
	google__protobuf__any__init(a);
	snprintf(urls[n_urls % 64], sizeof(urls[0]), HF_XDS_TYPE_PREFIX "%s", m->descriptor->name);
	a->type_url = urls[n_urls++ % 64];
	a->value.data = store + stored;
	a->value.len = n;
	stored += n;
	return a;
}

/* An EDS cluster, or with @p lb_bad a policy Hydrofoil refuses (MAGLEV). */
static void
cluster(Google__Protobuf__Any *a, const char *name, bool lb_bad)
{
	Envoy__Config__Cluster__V3__Cluster c = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__INIT;

	c.name = (char *)name;
	c.cluster_discovery_type_case =
	        ENVOY__CONFIG__CLUSTER__V3__CLUSTER__CLUSTER_DISCOVERY_TYPE_TYPE;
	c.type = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__EDS;
	if (lb_bad)
		c.lb_policy = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__MAGLEV;
	any_of(&c.base, a);
}

static void
cla(Google__Protobuf__Any *a, const char *name, uint32_t port)
{
	Envoy__Config__Endpoint__V3__ClusterLoadAssignment c =
	        ENVOY__CONFIG__ENDPOINT__V3__CLUSTER_LOAD_ASSIGNMENT__INIT;
	Envoy__Config__Endpoint__V3__LocalityLbEndpoints
	        le = ENVOY__CONFIG__ENDPOINT__V3__LOCALITY_LB_ENDPOINTS__INIT,
	        *ple = &le;
	Envoy__Config__Endpoint__V3__LbEndpoint lb = ENVOY__CONFIG__ENDPOINT__V3__LB_ENDPOINT__INIT,
	                                        *plb = &lb;
	Envoy__Config__Endpoint__V3__Endpoint ep = ENVOY__CONFIG__ENDPOINT__V3__ENDPOINT__INIT;
	Envoy__Config__Core__V3__Address ad = ENVOY__CONFIG__CORE__V3__ADDRESS__INIT;
	Envoy__Config__Core__V3__SocketAddress sa = ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__INIT;

	sa.address = "198.51.100.1";
	sa.port_specifier_case = ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__PORT_SPECIFIER_PORT_VALUE;
	sa.port_value = port;
	ad.address_case = ENVOY__CONFIG__CORE__V3__ADDRESS__ADDRESS_SOCKET_ADDRESS;
	ad.socket_address = &sa;
	ep.address = &ad;
	lb.host_identifier_case =
	        ENVOY__CONFIG__ENDPOINT__V3__LB_ENDPOINT__HOST_IDENTIFIER_ENDPOINT;
	lb.endpoint = &ep;
	le.n_lb_endpoints = 1;
	le.lb_endpoints = &plb;
	c.cluster_name = (char *)name;
	c.n_endpoints = 1;
	c.endpoints = &ple;
	any_of(&c.base, a);
}

/* An HTTP listener on @p port whose routes come by RDS as @p rds. */
static void
listener(Google__Protobuf__Any *a, const char *name, uint32_t port, const char *rds)
{
	Envoy__Config__Listener__V3__Listener l = ENVOY__CONFIG__LISTENER__V3__LISTENER__INIT;
	Envoy__Config__Core__V3__Address ad = ENVOY__CONFIG__CORE__V3__ADDRESS__INIT;
	Envoy__Config__Core__V3__SocketAddress sa = ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__INIT;
	Envoy__Config__Listener__V3__FilterChain
	        fc = ENVOY__CONFIG__LISTENER__V3__FILTER_CHAIN__INIT,
	        *pfc = &fc;
	Envoy__Config__Listener__V3__Filter f = ENVOY__CONFIG__LISTENER__V3__FILTER__INIT, *pf = &f;
	Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager h =
	        ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__INIT;
	Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__Rds r =
	        ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__RDS__INIT;
	Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpFilter
	        hf = ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_FILTER__INIT,
	        *phf = &hf;
	Envoy__Extensions__Filters__Http__Router__V3__Router router =
	        ENVOY__EXTENSIONS__FILTERS__HTTP__ROUTER__V3__ROUTER__INIT;
	Google__Protobuf__Any ra, ha;

	any_of(&router.base, &ra);
	hf.name = "envoy.filters.http.router";
	hf.config_type_case =
	        ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_FILTER__CONFIG_TYPE_TYPED_CONFIG;
	hf.typed_config = &ra;
	r.route_config_name = (char *)rds;
	h.stat_prefix = "http";
	h.route_specifier_case =
	        ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__ROUTE_SPECIFIER_RDS;
	h.rds = &r;
	h.n_http_filters = 1;
	h.http_filters = &phf;
	any_of(&h.base, &ha);
	f.name = "envoy.filters.network.http_connection_manager";
	f.config_type_case = ENVOY__CONFIG__LISTENER__V3__FILTER__CONFIG_TYPE_TYPED_CONFIG;
	f.typed_config = &ha;
	fc.n_filters = 1;
	fc.filters = &pf;
	sa.address = "0.0.0.0";
	sa.port_specifier_case = ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__PORT_SPECIFIER_PORT_VALUE;
	sa.port_value = port;
	ad.address_case = ENVOY__CONFIG__CORE__V3__ADDRESS__ADDRESS_SOCKET_ADDRESS;
	ad.socket_address = &sa;
	l.name = (char *)name;
	l.address = &ad;
	l.n_filter_chains = 1;
	l.filter_chains = &pfc;
	any_of(&l.base, a);
}

/* A route configuration sending everything to @p cluster_name. */
static void
routes(Google__Protobuf__Any *a, const char *name, const char *cluster_name)
{
	Envoy__Config__Route__V3__RouteConfiguration rc =
	        ENVOY__CONFIG__ROUTE__V3__ROUTE_CONFIGURATION__INIT;
	Envoy__Config__Route__V3__VirtualHost vh = ENVOY__CONFIG__ROUTE__V3__VIRTUAL_HOST__INIT,
	                                      *pvh = &vh;
	Envoy__Config__Route__V3__Route r = ENVOY__CONFIG__ROUTE__V3__ROUTE__INIT, *pr = &r;
	Envoy__Config__Route__V3__RouteMatch m = ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__INIT;
	Envoy__Config__Route__V3__RouteAction ra = ENVOY__CONFIG__ROUTE__V3__ROUTE_ACTION__INIT;
	char *domains[] = {"*"};

	m.path_specifier_case = ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_PREFIX;
	m.prefix = "/";
	ra.cluster_specifier_case =
	        ENVOY__CONFIG__ROUTE__V3__ROUTE_ACTION__CLUSTER_SPECIFIER_CLUSTER;
	ra.cluster = (char *)cluster_name;
	r.match = &m;
	r.action_case = ENVOY__CONFIG__ROUTE__V3__ROUTE__ACTION_ROUTE;
	r.route = &ra;
	vh.name = "all";
	vh.n_domains = 1;
	vh.domains = domains;
	vh.n_routes = 1;
	vh.routes = &pr;
	rc.name = (char *)name;
	rc.n_virtual_hosts = 1;
	rc.virtual_hosts = &pvh;
	any_of(&rc.base, a);
}

/* Hands the client a delta response of @p n resources (name, version, Any) and removals. */
static void
delta(const char *url, const char *nonce, unsigned int n, const char *const *names,
      const char *const *versions, Google__Protobuf__Any *anys, unsigned int n_removed,
      const char *const *removed)
{
	Envoy__Service__Discovery__V3__DeltaDiscoveryResponse rs =
	        ENVOY__SERVICE__DISCOVERY__V3__DELTA_DISCOVERY_RESPONSE__INIT;
	Envoy__Service__Discovery__V3__Resource r[8], *pr[8];
	uint8_t buf[8192];
	size_t len;

	assert_true(n <= 8);
	for (unsigned int i = 0; i < n; i++) {
		envoy__service__discovery__v3__resource__init(&r[i]);
		r[i].name = (char *)names[i];
		r[i].version = (char *)versions[i];
		r[i].resource = &anys[i];
		pr[i] = &r[i];
	}
	rs.type_url = (char *)url;
	rs.nonce = (char *)nonce;
	rs.system_version_info = "sys";
	rs.n_resources = n;
	rs.resources = pr;
	rs.n_removed_resources = n_removed;
	rs.removed_resources = (char **)removed;
	len = envoy__service__discovery__v3__delta_discovery_response__get_packed_size(&rs);
	assert_true(len <= sizeof(buf));
	envoy__service__discovery__v3__delta_discovery_response__pack(&rs, buf);
	g_ops->on_message(g_ctx, buf, len);
}

static void
sotw(const char *url, const char *version, const char *nonce, unsigned int n,
     Google__Protobuf__Any *anys)
{
	Envoy__Service__Discovery__V3__DiscoveryResponse rs =
	        ENVOY__SERVICE__DISCOVERY__V3__DISCOVERY_RESPONSE__INIT;
	Google__Protobuf__Any *pa[8];
	uint8_t buf[8192];
	size_t len;

	for (unsigned int i = 0; i < n; i++)
		pa[i] = &anys[i];
	rs.type_url = (char *)url;
	rs.version_info = (char *)version;
	rs.nonce = (char *)nonce;
	rs.n_resources = n;
	rs.resources = pa;
	len = envoy__service__discovery__v3__discovery_response__get_packed_size(&rs);
	assert_true(len <= sizeof(buf));
	envoy__service__discovery__v3__discovery_response__pack(&rs, buf);
	g_ops->on_message(g_ctx, buf, len);
}

/* ------------------------------------------------------------------ the client */

static struct hf_bootstrap boot;

static struct hf_xds *
open_client(const char *extra)
{
	char path[] = "/tmp/hf-xds-ads-XXXXXX", err[HF_BOOT_ERR];
	int fd = mkstemp(path);
	struct hf_xds *x;
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f,
	        "ports = ( { name = \"p0\"; device = \"net_tap0\"; address = \"198.51.100.2/24\"; "
	        "} );\nxds = { address = \"127.0.0.1\"; port = 15010; node_id = \"n1\"; %s };\n",
	        extra);
	fclose(f);
	assert_int_equal(hf_bootstrap_load(&boot, path, err, sizeof(err)), 0);
	unlink(path);
	x = hf_xds_open(&boot, 1, err, sizeof(err));
	assert_non_null(x);
	sent_clear();
	stored = 0;
	g_open = true;
	g_ops->on_open(g_ctx);
	return x;
}

static uint64_t version;

/* Polls at @p now and returns the snapshot built (the previous one freed), or NULL. */
static struct hf_snapshot *
poll_at(struct hf_xds *x, uint64_t now, struct hf_snapshot **keep)
{
	struct hf_snapshot *s = hf_xds_poll(x, now, &version);

	if (s != NULL) {
		hf_snapshot_free(*keep);
		*keep = s;
	}
	return s;
}

static const struct hf_snap_cluster *
snap_cluster(const struct hf_snapshot *s, const char *name)
{
	for (unsigned int i = 0; i < s->n_clusters; i++)
		if (strcmp(s->clusters[i].name, name) == 0)
			return &s->clusters[i];
	return NULL;
}

static bool
has_name(char **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return true;
	return false;
}

static void
test_delta(void **state)
{
	struct hf_xds *x = open_client("api_type = \"DELTA_GRPC\"; initial_fetch_timeout_ms = 0;");
	Envoy__Service__Discovery__V3__DeltaDiscoveryRequest *rq;
	struct hf_snapshot *snap = NULL;
	Google__Protobuf__Any a[4];
	const struct hf_snap_cluster *c;

	(void)state;
	assert_string_equal(g_path, "/envoy.service.discovery.v3.AggregatedDiscoveryService/"
	                            "DeltaAggregatedResources");
	/* the stream opens CDS then LDS, wildcard (no names), the node on the first */
	assert_int_equal(n_sent, 2);
	rq = delta_rq(0);
	assert_string_equal(rq->type_url, HF_XDS_CDS);
	assert_int_equal(rq->n_resource_names_subscribe, 0);
	assert_int_equal(rq->n_initial_resource_versions, 0);
	assert_non_null(rq->node);
	assert_string_equal(rq->node->id, "n1");
	FREE_DRQ(rq);
	rq = delta_rq(1);
	assert_string_equal(rq->type_url, HF_XDS_LDS);
	assert_null(rq->node);
	FREE_DRQ(rq);

	/* clusters web and api: ACKed by nonce, their assignments subscribed by name */
	sent_clear();
	cluster(&a[0], "web", false);
	cluster(&a[1], "api", false);
	delta(HF_XDS_CDS, "n1", 2, (const char *[]){"web", "api"}, (const char *[]){"w1", "a1"}, a,
	      0, NULL);
	rq = last_delta(HF_XDS_CDS);
	assert_string_equal(rq->response_nonce, "n1");
	assert_null(rq->error_detail);
	FREE_DRQ(rq);
	rq = last_delta(HF_XDS_EDS);
	assert_int_equal(rq->n_resource_names_subscribe, 2);
	assert_true(has_name(rq->resource_names_subscribe, 2, "web"));
	assert_true(has_name(rq->resource_names_subscribe, 2, "api"));
	FREE_DRQ(rq);

	/* warming per resource: web's assignment comes, api's not: web serves, api is missing */
	cla(&a[0], "web", 9101);
	delta(HF_XDS_EDS, "n2", 1, (const char *[]){"web"}, (const char *[]){"e1"}, a, 0, NULL);
	listener(&a[0], "l80", 80, "http.80");
	delta(HF_XDS_LDS, "n3", 1, (const char *[]){"l80"}, (const char *[]){"l1"}, a, 0, NULL);
	routes(&a[0], "http.80", "api");
	delta(HF_XDS_RDS, "n4", 1, (const char *[]){"http.80"}, (const char *[]){"r1"}, a, 0, NULL);
	assert_non_null(poll_at(x, 1000, &snap));
	assert_int_equal(snap->n_listeners, 1);
	c = snap_cluster(snap, "web");
	assert_non_null(c);
	assert_false(c->missing);
	assert_int_equal(c->n_endpoints, 1);
	c = snap_cluster(snap, "api");
	assert_non_null(c);
	assert_true(c->missing); /* the route to it compiles: 503 NC until it is warm */

	/* the server says api's assignment does not exist: api serves with no endpoint */
	delta(HF_XDS_EDS, "n5", 0, NULL, NULL, NULL, 1, (const char *[]){"api"});
	assert_non_null(poll_at(x, 1100, &snap));
	c = snap_cluster(snap, "api");
	assert_non_null(c);
	assert_false(c->missing);
	assert_int_equal(c->n_endpoints, 0);

	/* a NACK: the nonce and an error naming the resource and the field; nothing taken */
	sent_clear();
	cluster(&a[0], "bad", true);
	delta(HF_XDS_CDS, "n6", 1, (const char *[]){"bad"}, (const char *[]){"b1"}, a, 0, NULL);
	rq = last_delta(HF_XDS_CDS);
	assert_string_equal(rq->response_nonce, "n6");
	assert_non_null(rq->error_detail);
	assert_non_null(strstr(rq->error_detail->message, "Cluster 'bad': lb_policy"));
	FREE_DRQ(rq);
	assert_null(last_delta(HF_XDS_EDS)); /* no subscription for 'bad' */

	/* reconnect: each first request carries the versions held */
	g_open = false;
	g_ops->on_close(g_ctx, "test");
	sent_clear();
	g_open = true;
	g_ops->on_open(g_ctx);
	rq = last_delta(HF_XDS_CDS);
	assert_non_null(rq->node);
	assert_int_equal(rq->n_initial_resource_versions, 2);
	for (size_t i = 0; i < 2; i++) {
		const char *k = rq->initial_resource_versions[i]->key;

		assert_string_equal(rq->initial_resource_versions[i]->value,
		                    strcmp(k, "web") == 0 ? "w1" : "a1");
	}
	FREE_DRQ(rq);
	rq = last_delta(HF_XDS_EDS);
	assert_int_equal(rq->n_resource_names_subscribe, 2);
	assert_int_equal(rq->n_initial_resource_versions, 1);
	assert_string_equal(rq->initial_resource_versions[0]->key, "web");
	assert_string_equal(rq->initial_resource_versions[0]->value, "e1");
	FREE_DRQ(rq);
	rq = last_delta(HF_XDS_RDS);
	assert_int_equal(rq->n_initial_resource_versions, 1);
	assert_string_equal(rq->initial_resource_versions[0]->value, "r1");
	FREE_DRQ(rq);

	/* the listener removed: its routes are unsubscribed, the port goes */
	sent_clear();
	delta(HF_XDS_LDS, "n7", 0, NULL, NULL, NULL, 1, (const char *[]){"l80"});
	rq = last_delta(HF_XDS_RDS);
	assert_int_equal(rq->n_resource_names_subscribe, 0);
	assert_int_equal(rq->n_resource_names_unsubscribe, 1);
	assert_string_equal(rq->resource_names_unsubscribe[0], "http.80");
	FREE_DRQ(rq);
	assert_non_null(poll_at(x, 1200, &snap));
	assert_int_equal(snap->n_listeners, 0);

	hf_snapshot_free(snap);
	hf_xds_close(x);
	sent_clear();
}

/* State of the world: the initial fetch timeout, and make before break. */
static void
test_sotw_warming(void **state)
{
	struct hf_xds *x = open_client("initial_fetch_timeout_ms = 1000;");
	Envoy__Service__Discovery__V3__DiscoveryRequest *rq;
	struct hf_snapshot *snap = NULL;
	Google__Protobuf__Any a[4];
	const struct hf_snap_cluster *c;

	(void)state;
	assert_string_equal(g_path, "/envoy.service.discovery.v3.AggregatedDiscoveryService/"
	                            "StreamAggregatedResources");
	rq = sotw_rq(0);
	assert_string_equal(rq->type_url, HF_XDS_CDS);
	envoy__service__discovery__v3__discovery_request__free_unpacked(rq, NULL);
	assert_null(poll_at(x, 5000, &snap)); /* nothing held, nothing built */
	cluster(&a[0], "late", false);
	cluster(&a[1], "web", false);
	sotw(HF_XDS_CDS, "c1", "s1", 2, a);
	cla(&a[0], "web", 9101);
	sotw(HF_XDS_EDS, "e1", "s2", 1, a);
	listener(&a[0], "l80", 80, "http.80");
	sotw(HF_XDS_LDS, "l1", "s3", 1, a);
	routes(&a[0], "http.80", "late");
	sotw(HF_XDS_RDS, "r1", "s4", 1, a);
	assert_non_null(poll_at(x, 5100, &snap));
	assert_int_equal(snap->n_listeners, 1);
	assert_true(snap_cluster(snap, "late")->missing);
	/* not yet 1000 ms since 'late' was asked for: nothing changes */
	assert_null(poll_at(x, 5500, &snap));
	/* then it does not exist: the cluster serves with no endpoint */
	assert_non_null(poll_at(x, 6100, &snap));
	c = snap_cluster(snap, "late");
	assert_false(c->missing);
	assert_int_equal(c->n_endpoints, 0);

	/* make before break: the listener moves to http.81, not there; the old one serves */
	listener(&a[0], "l80", 80, "http.81");
	sotw(HF_XDS_LDS, "l2", "s5", 1, a);
	assert_non_null(poll_at(x, 6200, &snap));
	assert_int_equal(snap->n_listeners, 1);
	/* both names stay subscribed while the new one warms */
	rq = sotw_rq(n_sent - 1);
	assert_string_equal(rq->type_url, HF_XDS_RDS);
	assert_int_equal(rq->n_resource_names, 2);
	envoy__service__discovery__v3__discovery_request__free_unpacked(rq, NULL);
	routes(&a[0], "http.80", "late");
	routes(&a[1], "http.81", "web");
	sotw(HF_XDS_RDS, "r2", "s6", 2, a);
	assert_non_null(poll_at(x, 6300, &snap));
	assert_int_equal(snap->n_listeners, 1);
	/* the new version serves now: http.80 is no longer asked for */
	rq = sotw_rq(n_sent - 1);
	assert_string_equal(rq->type_url, HF_XDS_RDS);
	assert_int_equal(rq->n_resource_names, 1);
	assert_string_equal(rq->resource_names[0], "http.81");
	envoy__service__discovery__v3__discovery_request__free_unpacked(rq, NULL);

	hf_snapshot_free(snap);
	hf_xds_close(x);
	sent_clear();
}

/* Route configuration @p name of @p m as config_dump shows it (free it). */
static char *
rc_dump(const struct hf_model *m, const char *name)
{
	for (unsigned int i = 0; i < m->n_route_configs; i++)
		if (strcmp(m->route_configs[i].name, name) == 0) {
			json_t *j = hf_dump_route_config(&m->route_configs[i]);
			char *s = json_dumps(j, JSON_SORT_KEYS);

			json_decref(j);
			return s;
		}
	fail_msg("no route configuration %s", name);
	return NULL;
}

/* The cluster route 0 of the first virtual host of listener 0 sends to. */
static const char *
routed_to(const struct hf_snapshot *s)
{
	assert_int_equal(s->n_listeners, 1);
	assert_true(s->listeners[0].table.n_vhosts >= 1);
	return s->clusters[s->listeners[0].table.vhosts[0].routes[0].cluster].name;
}

/*
 * A route configuration is translated once, when it arrives, and lent to
 * each build while it is held: a build for new endpoints serves the same
 * routes, reading as a fresh translation of the message would; a new
 * version of it replaces what is lent (no stale routes), and the model a
 * build kept (config_dump) outlives the version it borrowed from.
 */
static void
test_sotw_rds_lent(void **state)
{
	struct hf_xds *x = open_client("");
	struct hf_snapshot *snap = NULL;
	struct hf_model fresh = {0};
	char err[HF_XDS_ERR], *a_dump, *b_dump;
	const struct res *rr;
	Google__Protobuf__Any a[2];

	(void)state;
	cluster(&a[0], "web", false);
	cluster(&a[1], "web-b", false);
	sotw(HF_XDS_CDS, "c1", "s1", 2, a);
	cla(&a[0], "web", 9101);
	cla(&a[1], "web-b", 9102);
	sotw(HF_XDS_EDS, "e1", "s2", 2, a);
	listener(&a[0], "l80", 80, "http.80");
	sotw(HF_XDS_LDS, "l1", "s3", 1, a);
	routes(&a[0], "http.80", "web");
	sotw(HF_XDS_RDS, "r1", "s4", 1, a);
	assert_non_null(poll_at(x, 100, &snap));
	assert_string_equal(routed_to(snap), "web");
	rr = hf_xds_find(&x->s[T_RDS], "http.80");
	assert_non_null(rr);
	assert_non_null(rr->tr);
	/* what the model borrowed reads as the message translated now */
	assert_int_equal(hf_xds_tr_route_config((const void *)rr->msg, &fresh, err, sizeof(err)), 0);
	a_dump = rc_dump(&x->model, "http.80");
	b_dump = rc_dump(&fresh, "http.80");
	assert_string_equal(a_dump, b_dump);
	free(a_dump);
	free(b_dump);
	hf_model_free(&fresh);
	assert_true(x->model.route_configs[x->model.n_route_configs - 1].vhosts[0].borrowed);

	/* new endpoints: rebuilt, the same routes lent again */
	cla(&a[0], "web", 9103);
	sotw(HF_XDS_EDS, "e2", "s5", 1, a);
	assert_non_null(poll_at(x, 200, &snap));
	assert_string_equal(routed_to(snap), "web");
	assert_int_equal(snap_cluster(snap, "web")->endpoints[0].port, htons(9103));
	assert_ptr_equal(hf_xds_find(&x->s[T_RDS], "http.80")->tr, rr->tr);

	/* a new version: its own translation serves, the old one is gone with its message */
	routes(&a[0], "http.80", "web-b");
	sotw(HF_XDS_RDS, "r2", "s6", 1, a);
	assert_non_null(poll_at(x, 300, &snap));
	assert_string_equal(routed_to(snap), "web-b");
	a_dump = rc_dump(&x->model, "http.80");
	assert_non_null(strstr(a_dump, "web-b"));
	free(a_dump);

	hf_snapshot_free(snap);
	hf_xds_close(x);
	sent_clear();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_delta),
	        cmocka_unit_test(test_sotw_warming),
	        cmocka_unit_test(test_sotw_rds_lent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
