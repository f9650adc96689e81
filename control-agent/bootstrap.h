/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_BOOTSTRAP_H
#define HF_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane/http/h1.h"
#include "dataplane/impair-t.h"
#include "dataplane/port-t.h"
#include "dataplane/proxy/router.h"
#include "dataplane/tcp/tcp.h"

#define HF_BOOT_STR 128
#define HF_BOOT_DEVICE 256
#define HF_BOOT_MAX_LABELS 32
#define HF_BOOT_MAX_ARGS 32
#define HF_BOOT_ERR 512
#define HF_BOOT_NAME 64
#define HF_BOOT_MAX_LISTENERS 64
#define HF_BOOT_MAX_CLUSTERS 64
#define HF_BOOT_MAX_ENDPOINTS 64
#define HF_BOOT_MAX_VHOSTS 256		/* over all HTTP listeners */
#define HF_BOOT_MAX_ROUTES 1024		/* over all virtual hosts */

/* The network filter a listener runs (Envoy's network filters). */
enum hf_l4_filter {
	HF_FILTER_ECHO,		/* sends every byte back (Envoy's envoy.filters.network.echo) */
	HF_FILTER_DISCARD,	/* reads and drops everything (RFC 863) */
	HF_FILTER_TCP_PROXY,	/* L4 proxy to a cluster (Envoy's tcp_proxy) */
	HF_FILTER_HTTP,		/* HTTP/1.1 reverse proxy (Envoy's http_connection_manager) */
};

/* What an HTTP listener enforces on its downstream connections (Envoy's HCM settings). */
struct hf_boot_http {
	struct hf_h1_limits limits;	/* request line 414, head size and field count 431 */
	uint32_t request_headers_timeout_ms;	/* head not complete by then: 408, close (slowloris) */
	uint32_t idle_timeout_ms;	/* keep-alive connection with no request: closed */
	unsigned int first_vhost;	/* its route_config: hf_bootstrap.vhosts[first_vhost ..] */
	unsigned int n_vhosts;
};

struct hf_boot_listener {
	char name[HF_BOOT_NAME];
	uint16_t port;			/* host order */
	enum hf_l4_filter filter;
	int cluster;			/* index in clusters for tcp_proxy, else -1 */
	struct hf_boot_http http;	/* HF_FILTER_HTTP only */
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

struct hf_boot_port {
	char name[HF_PORT_NAME_MAX];
	char device[HF_BOOT_DEVICE];	/* vdev string ("net_tap0,iface=hf0") or PCI address */
	uint32_t addr;			/* network byte order */
	uint8_t prefix_len;
	uint32_t gateway;		/* network byte order, 0 when absent */
	uint16_t mtu;
	struct hf_impair_cfg impair;	/* off unless the port has an impair group */
};

/* The bootstrap file, validated. Every string is NUL-terminated. */
struct hf_bootstrap {
	char path[HF_BOOT_DEVICE];
	char node_id[HF_BOOT_STR];
	char node_cluster[HF_BOOT_STR];
	unsigned int n_labels;
	char labels[HF_BOOT_MAX_LABELS][HF_BOOT_STR];	/* "key=value" */
	char lcores[HF_BOOT_STR];
	unsigned int n_eal_args;
	char eal_args[HF_BOOT_MAX_ARGS][HF_BOOT_DEVICE];
	unsigned int n_ports;
	struct hf_boot_port ports[HF_MAX_PORTS];
	unsigned int workers;
	char admin_address[HF_BOOT_STR];
	uint16_t admin_port;
	struct hf_tcp_config tcp;
	uint32_t http_max_requests;	/* http.max_requests; 0: max_connections / 4 */
	unsigned int n_listeners;
	struct hf_boot_listener listeners[HF_BOOT_MAX_LISTENERS];
	unsigned int n_clusters;
	struct hf_boot_cluster clusters[HF_BOOT_MAX_CLUSTERS];
	/* route configurations of the HTTP listeners; vhosts[i].routes points into routes */
	unsigned int n_vhosts;
	struct hf_vhost vhosts[HF_BOOT_MAX_VHOSTS];
	unsigned int n_routes;
	struct hf_route routes[HF_BOOT_MAX_ROUTES];
	char access_log[HF_BOOT_DEVICE];	/* file for the access log; empty: none */
	char istio_dir[HF_BOOT_DEVICE];	/* config.istio_dir: Istio YAML to serve, reloaded on change */
	struct hf_boot_http istio_http;	/* what the Istio config's HTTP listeners enforce */
};

/*
 * Reads and validates the libconfig file at @p path into @p b. Unknown keys,
 * wrong types and out-of-range values are refused. Returns 0, or -EINVAL with
 * one line "FILE:LINE: KEY: what is wrong" in @p err (-ENOENT when the file
 * cannot be read, the line then carrying strerror).
 */
int hf_bootstrap_load(struct hf_bootstrap *b, const char *path, char *err, size_t errlen);

/*
 * Counts the lcores of a DPDK -l list ("0-3,6"). Returns the count, or -1
 * when @p list is not of that form (DPDK's --lcores group syntax included).
 */
int hf_bootstrap_count_lcores(const char *list);

/*
 * Parses "a.b.c.d/len" (@p prefix_len non-NULL) or "a.b.c.d" into network
 * order. Returns 0 or -EINVAL.
 */
int hf_parse_ipv4(const char *s, uint32_t *addr, uint8_t *prefix_len);

#endif
