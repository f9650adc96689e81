/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_SNAPSHOT_T_H
#define HF_SNAPSHOT_T_H

#include <stdint.h>

#include "dataplane/proxy/ratelimit-t.h"
#include "dataplane/proxy/router.h"
#include "dataplane/worker-t.h"
#include "lb/cb-t.h"
#include "tls/tls-t.h"

/* What a listener of the configuration serves. */
enum hf_listener_kind { HF_LISTENER_HTTP, HF_LISTENER_TCP, HF_LISTENER_TLS };

/*
 * What the workers route by: compiled by the control agent from a model,
 * immutable once published, freed only after every worker has reported a
 * quiescent state since it stopped being current. A worker reads the
 * current one at the top of each loop and may use it, and anything it points
 * to, until the end of that iteration — never across iterations (copy what
 * must outlive one).
 */
struct hf_snap_endpoint {
	uint32_t addr;			/* network order */
	uint16_t port;			/* network order */
	uint32_t weight;
};

struct hf_snap_cluster {
	const char *name;		/* e.g. outbound|9080|v1|reviews.default.svc.cluster.local */
	/*
	 * The cluster's identity across snapshots: a 64-bit hash of its whole
	 * name (FNV-1a), so a request that outlives a snapshot finds its cluster
	 * again in the next one without keeping the name (retries).
	 */
	uint64_t id;
	uint8_t lb;			/* enum hf_lb_policy (lb/lb-t.h) */
	uint32_t connect_timeout_ms;
	unsigned int n_endpoints;
	const struct hf_snap_endpoint *endpoints;
	const struct hf_tls_client_config *tls;	/* TLS origination; NULL: plaintext */
	bool missing;			/* named by a route, not defined: 503 NC (no cluster) */
	struct hf_cb_limits cb;		/* circuit breakers, process-wide (lb/cb.h splits them) */
	struct hf_od_config od;		/* outlier detection; off unless a consecutive_* is set */
};

/* A tcp or tls route's destinations: weighted clusters (weights sum to total). */
struct hf_snap_l4_dest {
	int cluster;			/* index in the snapshot's clusters */
	uint32_t weight;
};

struct hf_snap_l4_route {
	uint32_t total;
	unsigned int n_dests;
	const struct hf_snap_l4_dest *dests;
};

struct hf_tls_sni_entry;

/* What an HTTP listener does with x-forwarded-client-cert (Envoy's forward_client_cert_details). */
enum hf_xfcc_mode {
	HF_XFCC_NODE,		/* the node's http.forward_client_cert (listeners of YAML, bootstrap) */
	HF_XFCC_SANITIZE,	/* a client's is dropped; none is sent */
	HF_XFCC_SANITIZE_SET,	/* a client's is dropped; ours describes its certificate */
};

struct hf_snap_listener {
	uint16_t port;			/* host order */
	uint8_t kind;			/* enum hf_listener_kind */
	uint8_t xfcc;			/* HTTP: enum hf_xfcc_mode */
	int cluster;			/* TCP: the cluster of its first route; -1 otherwise */
	struct hf_route_table table;	/* HTTP: its virtual hosts */
	const struct hf_tls_listener_config *tls;	/* HTTP, TCP: TLS terminated in front */
	/* TLS (passthrough): the tls routes, one chosen per connection by its SNI */
	unsigned int n_l4_routes;
	const struct hf_snap_l4_route *l4_routes;
	unsigned int n_sni;
	const struct hf_tls_sni_entry *sni;	/* tls/tls.h; .server is the index in l4_routes */
	const struct hf_rl_limit *ratelimit;	/* HTTP: its local rate limit; NULL: none */
};

struct hf_snap_arena;
struct hf_rmatch;
struct hf_authz;
struct hf_jwt_config;

struct hf_snapshot {
	uint64_t version;
	unsigned int n_clusters;
	const struct hf_snap_cluster *clusters;
	unsigned int n_listeners;
	const struct hf_snap_listener *listeners;
	/* RequestAuthentication: JWT rules (dataplane/proxy/jwt-t.h); NULL: none */
	const struct hf_jwt_config *jwt;
	/* Hyperscan scratch for the route matchers, one per worker (NULL when none needs one) */
	void *scratch[HF_MAX_WORKERS];
	/* uriRegexRewrite: PCRE2 match data, one per worker (NULL when no route has one) */
	void *re_match[HF_MAX_WORKERS];
	/* owned, for hf_snapshot_free() */
	struct hf_snap_arena *arena;
	unsigned int n_matchers;
	struct hf_rmatch **matchers;
	unsigned int n_regexes;
	void **regexes;			/* pcre2_code of the regex rewrites */
	/* local rate limits (dataplane/proxy/ratelimit.h), sorted by key; slot i is rl[i] */
	unsigned int n_rl;
	const struct hf_rl_limit *const *rl;
	/* the AuthorizationPolicies that select this node (proxy/authz-t.h); NULL: none, no check */
	const struct hf_authz *authz;
	/* Istio's standard metrics that Telemetry resources disabled: HF_METRIC_BIT()s */
	uint32_t metrics_off;
};

#endif
