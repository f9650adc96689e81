/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_BOOTSTRAP_H
#define HF_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>

#include "control-agent/ratelimit.h"
#include "dataplane/overload-t.h"
#include "dataplane/port-t.h"
#include "dataplane/proxy/listener-t.h"
#include "dataplane/proxy/router.h"
#include "dataplane/tcp/tcp.h"

#define HF_BOOT_STR 128
#define HF_BOOT_DEVICE HF_PORT_DEVICE_MAX
#define HF_BOOT_MAX_LABELS 32
#define HF_BOOT_MAX_ARGS 32
#define HF_BOOT_ERR 512
#define HF_BOOT_NAME HF_LISTENER_NAME
#define HF_BOOT_MAX_LISTENERS HF_MAX_LISTENERS
#define HF_BOOT_MAX_CLUSTERS 64
#define HF_BOOT_MAX_ENDPOINTS 64
#define HF_BOOT_MAX_VHOSTS 256		/* over all HTTP listeners */
#define HF_BOOT_MAX_ROUTES 1024		/* over all virtual hosts */
#define HF_METRICS_MAX_SERIES_DEFAULT 1024

/* One route of a static route_config: match = { prefix | path }; route = { cluster; ... } */
struct hf_boot_route {
	enum hf_route_match match;
	char path[HF_ROUTER_PATH];
	char name[HF_ROUTER_NAME];	/* may be empty */
	int cluster;			/* index in hf_bootstrap.clusters */
	uint32_t timeout_ms;
	uint64_t max_request_bytes;
};

struct hf_boot_vhost {
	char name[HF_ROUTER_NAME];
	unsigned int n_domains;
	char domains[HF_ROUTER_MAX_DOMAINS][HF_ROUTER_DOMAIN];	/* lower case */
	unsigned int n_routes;
	const struct hf_boot_route *routes;	/* into hf_bootstrap.routes */
};

/* The route_config of an HTTP listener: hf_bootstrap.vhosts[first_vhost ..]. */
struct hf_boot_route_config {
	unsigned int first_vhost;
	unsigned int n_vhosts;
};

struct hf_boot_endpoint {
	uint32_t addr;			/* network order */
	uint16_t port;			/* network order */
};

struct hf_boot_cluster {
	char name[HF_BOOT_NAME];
	uint32_t connect_timeout_ms;
	unsigned int n_endpoints;
	struct hf_boot_endpoint endpoints[HF_BOOT_MAX_ENDPOINTS];
};

#define HF_BOOT_XDS_META 16

/*
 * xds = { address; port; node_id; cluster; api_type; initial_fetch_timeout_ms;
 *         metadata = { ISTIO_VERSION = "..."; ... }; }:
 * the ADS server this node is configured by (then it is the only source of
 * dynamic configuration: config.istio_dir is refused beside it). node_id
 * defaults to istiod's router~<ip>~<NAME>.<NAMESPACE>~<NAMESPACE>.svc.cluster.local.
 */
struct hf_boot_xds {
	uint16_t port;			/* 0: no xds block */
	uint32_t addr;			/* network order */
	char address[HF_BOOT_STR];
	char node_id[2 * HF_BOOT_STR];
	char cluster[HF_BOOT_STR];	/* node.cluster; default: the bootstrap's node.cluster */
	unsigned int n_meta;
	char meta_key[HF_BOOT_XDS_META][32];
	char meta_val[HF_BOOT_XDS_META][HF_BOOT_STR];
	bool delta;			/* api_type = "DELTA_GRPC": incremental ADS; "GRPC" (default): SotW */
	uint32_t initial_fetch_timeout_ms;	/* a resource not received by then does not exist; 0: wait */
	/*
	 * tls = true: the channel runs over TLS (istiod's 15012 style), presenting the
	 * identity block's certificate and verifying the server's against its root_cert;
	 * tls_san: a DNS or URI SAN the server's certificate must carry (also sent as SNI
	 * when a DNS name), e.g. "istiod.istio-system.svc"; "": the chain is checked only.
	 */
	bool tls;
	char tls_san[HF_BOOT_STR];
};

/*
 * identity = { trust_domain; namespace; service_account; cert_chain; key; root_cert; }: the
 * node's mesh identity, as istiod's CA would issue it (scripts/meshca.sh), in Istio's
 * file-mounted layout. Checked at load: the chain's leaf carries spiffe as a URI SAN, the key
 * is its own, the chain verifies to root_cert. ISTIO_MUTUAL presents it and trusts the root.
 */
struct hf_boot_identity {
	char trust_domain[HF_BOOT_STR];
	char ns[HF_BOOT_STR];
	char service_account[HF_BOOT_STR];
	char cert_chain[HF_BOOT_DEVICE];
	char key[HF_BOOT_DEVICE];
	char root_cert[HF_BOOT_DEVICE];
	char spiffe[3 * HF_BOOT_STR + 16];	/* spiffe://<td>/ns/<ns>/sa/<sa>; "": no identity */
};

/* The bootstrap file, validated. Every string is NUL-terminated. */
struct hf_bootstrap {
	char path[HF_BOOT_DEVICE];
	char node_id[HF_BOOT_STR];
	char node_cluster[HF_BOOT_STR];
	unsigned int n_labels;
	char labels[HF_BOOT_MAX_LABELS][HF_BOOT_STR];	/* "key=value" */
	char node_ns[HF_BOOT_STR];	/* node.namespace; "": identity's, node id's, "default" */
	char lcores[HF_BOOT_STR];
	unsigned int n_eal_args;
	char eal_args[HF_BOOT_MAX_ARGS][HF_BOOT_DEVICE];
	unsigned int n_ports;
	struct hf_port_config ports[HF_MAX_PORTS];
	unsigned int workers;
	char admin_address[HF_BOOT_STR];
	uint16_t admin_port;
	struct hf_tcp_config tcp;
	uint32_t http_max_requests;	/* http.max_requests; 0: max_connections / 4 */
	enum hf_path_mode http_path_normalization;	/* http.path_normalization (BASE) */
	bool http_xfcc_sanitize_only;	/* http.forward_client_cert: SANITIZE (else SANITIZE_SET) */
	uint32_t http_drain_timeout_ms;	/* http.drain_timeout_ms: a removed listener's drain bound */
	uint32_t http_xff_trusted_hops;	/* http.xff_num_trusted_hops: remote.ip of AuthorizationPolicy */
	unsigned int n_listeners;
	struct hf_listener_config listeners[HF_BOOT_MAX_LISTENERS];
	struct hf_boot_route_config route_configs[HF_BOOT_MAX_LISTENERS];	/* by listener */
	unsigned int n_clusters;
	struct hf_boot_cluster clusters[HF_BOOT_MAX_CLUSTERS];
	/* route configurations of the HTTP listeners; vhosts[i].routes points into routes */
	unsigned int n_vhosts;
	struct hf_boot_vhost vhosts[HF_BOOT_MAX_VHOSTS];
	unsigned int n_routes;
	struct hf_boot_route routes[HF_BOOT_MAX_ROUTES];
	char access_log[HF_BOOT_DEVICE];	/* file for the access log; empty: none */
	char istio_dir[HF_BOOT_DEVICE];	/* config.istio_dir: Istio YAML to serve, reloaded on change */
	char credentials_dir[HF_BOOT_DEVICE];	/* config.credentials_dir: credentialName/tls.{crt,key} */
	char root_ns[HF_BOOT_STR];	/* config.root_namespace (meshConfig.rootNamespace); "": istio-system */
	struct hf_http_listener_config istio_http;	/* what the Istio config's HTTP listeners enforce */
	struct hf_overload_config overload;	/* overload = { ... }; the defaults without it */
	uint32_t metrics_max_series;	/* metrics.max_series: Istio HTTP series per worker */
	bool metrics_enabled;		/* metrics.enabled: Istio's metrics recorded (true) */
	struct hf_boot_xds xds;		/* xds = { ... }; port 0 without it */
	int tls_session_tickets;	/* tls.session_tickets: resumption by tickets (true) */
	uint32_t tls_ticket_rotation_s;	/* tls.ticket_key_rotation_s: key period (3600) */
	struct hf_boot_identity identity;	/* identity = { ... }; spiffe "" without it */
	struct hf_boot_ratelimits ratelimits;	/* local_ratelimits = ( ... ) (ratelimit.h) */
};

/*
 * Reads and validates the libconfig file at @p path into @p b. Unknown keys,
 * wrong types and out-of-range values are refused. Returns 0, or -EINVAL with
 * one line "FILE:LINE: KEY: what is wrong" in @p err (-ENOENT when the file
 * cannot be read, the line then carrying strerror).
 */
int hf_bootstrap_load(struct hf_bootstrap *b, const char *path, char *err, size_t errlen);

/*
 * Counts the lcores of a DPDK -l list ("0-3,6") or of an --lcores map, which
 * runs lcores on given CPUs ("0@0,(1-3)@1": lcore 0 on CPU 0, lcores 1 to 3
 * on CPU 1; several workers on fewer CPUs). Returns the count, or -1 when
 * @p list is neither, or names an lcore twice. Blanks are not accepted.
 */
int hf_bootstrap_count_lcores(const char *list);

/* The static listeners and pool sizes as the proxies take them (points into @p b). */
void hf_bootstrap_proxy_config(const struct hf_bootstrap *b, struct hf_proxy_config *pc);

#endif
