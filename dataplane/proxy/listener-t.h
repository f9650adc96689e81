/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_LISTENER_T_H
#define HF_LISTENER_T_H

/*
 * What the proxies need at start: the static listeners and their settings,
 * and the pool sizes. The control agent fills these from the bootstrap; the
 * routes and clusters come through the snapshot instead.
 */
#include <stdbool.h>
#include <stdint.h>

#include "dataplane/http/h1.h"
#include "dataplane/http/path.h"

#define HF_LISTENER_NAME 64
#define HF_MAX_LISTENERS 64		/* static listeners, and Istio listeners per worker */

/* The network filter a listener runs (Envoy's network filters). */
enum hf_l4_filter {
	HF_FILTER_ECHO,		/* sends every byte back (Envoy's envoy.filters.network.echo) */
	HF_FILTER_DISCARD,	/* reads and drops everything (RFC 863) */
	HF_FILTER_TCP_PROXY,	/* L4 proxy to a cluster (Envoy's tcp_proxy) */
	HF_FILTER_HTTP,		/* HTTP/1.1 reverse proxy (Envoy's http_connection_manager) */
};

/* What an HTTP listener enforces on its downstream connections (Envoy's HCM settings). */
struct hf_http_listener_config {
	struct hf_h1_limits limits;	/* request line 414, head size and field count 431 */
	uint32_t request_headers_timeout_ms;	/* head not complete by then: 408, close (slowloris) */
	uint32_t idle_timeout_ms;	/* keep-alive connection with no request: closed */
	enum hf_path_mode path_normalization;	/* http.path_normalization; 0 is BASE */
	/*
	 * http.forward_client_cert: SANITIZE (true) or SANITIZE_SET (false, the
	 * default of Istio's gateways): a client's x-forwarded-client-cert is
	 * dropped either way; SANITIZE_SET sends the upstream one that describes
	 * the certificate the client showed a MUTUAL server.
	 */
	bool xfcc_sanitize_only;
};

/* A listener of the bootstrap's static_resources, opened by every worker at start. */
struct hf_listener_config {
	char name[HF_LISTENER_NAME];
	uint16_t port;			/* host order */
	enum hf_l4_filter filter;
	int cluster;			/* tcp_proxy: index in the snapshot's clusters, else -1 */
	struct hf_http_listener_config http;	/* HF_FILTER_HTTP only */
};

/* Everything hf_l4_start() and hf_http_start() take; read-only for the workers' life. */
struct hf_proxy_config {
	unsigned int n_listeners;
	const struct hf_listener_config *listeners;
	uint32_t max_connections;	/* TCBs per worker (tcp.max_connections) */
	uint32_t max_requests;		/* HTTP exchanges in flight per worker; 0: max_connections / 4 */
	bool access_log;		/* records go to the agent through a ring per worker */
	/* the settings of the listeners the configuration (Istio) opens; NULL: it opens none */
	const struct hf_http_listener_config *dynamic_http;
	/*
	 * How long the connections of a listener the configuration removed may
	 * take to finish before they are reset (Envoy's --drain-time-s);
	 * http.drain_timeout_ms, 0: HF_DRAIN_TIMEOUT_DEFAULT_MS.
	 */
	uint32_t drain_timeout_ms;
};

#define HF_DRAIN_TIMEOUT_DEFAULT_MS 600000	/* Envoy's default drain time, 600 s */
/* A draining listener's connections are recounted this often (the gauge, the drain's end). */
#define HF_DRAIN_POLL_MS 100
/*
 * A tcp_proxy listener's are counted by a walk of the TCB array (16384 TCBs,
 * cache cold: about 0.1 ms here): once a second.
 */
#define HF_L4_DRAIN_POLL_MS 1000

#endif
