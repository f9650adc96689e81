/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_MODEL_H
#define HF_MODEL_H

/*
 * The control agent's model of the configuration, shaped like Envoy's v3 API:
 * listeners (one per Gateway port), route configurations with virtual hosts
 * and routes, clusters with endpoints. Every source (the bootstrap's
 * static_resources, Istio YAML, later xDS) produces one; the snapshot
 * compiler turns it into what the workers read.
 *
 * Agent side only: plain heap memory, built and freed off the hot path. One
 * struct hf_model owns everything reachable from it (strings included) and
 * hf_model_free() releases it all.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The vocabulary the workers read (match kinds, header ops, retry flags, listener kinds, LB) */
#include "dataplane/http/path.h"
#include "dataplane/proxy/router.h"
#include "dataplane/snapshot-t.h"
#include "lb/lb-t.h"

struct hf_authz;

struct hf_model_str_match {
	enum hf_match_kind kind;
	char *value;			/* NULL for ANY and PRESENT */
	bool ignore_case;
};

/* A header or query parameter condition; `absent` for withoutHeaders. */
struct hf_model_kv_match {
	char *name;			/* header names lower case */
	struct hf_model_str_match m;
	bool absent;			/* the condition holds when the field is not there / does not match */
};

/* One HTTPMatchRequest: every condition must hold (AND). */
struct hf_model_route_match {
	char *name;
	struct hf_model_str_match uri;
	struct hf_model_str_match scheme;
	struct hf_model_str_match method;
	struct hf_model_str_match authority;
	unsigned int n_headers;
	struct hf_model_kv_match *headers;
	unsigned int n_query;
	struct hf_model_kv_match *query;
	uint32_t port;			/* 0: any listener port */
};

struct hf_model_weighted {
	char *cluster;			/* cluster name, e.g. "outbound|9080|v1|reviews.default.svc.cluster.local" */
	uint32_t weight;		/* relative; all zero is refused by the translator */
	/* headers operations of this destination (HTTPRouteDestination.headers) */
	unsigned int n_rq_ops, n_rs_ops;
	struct hf_model_header_op *rq_ops, *rs_ops;
};

struct hf_model_header_op {
	enum hf_header_op_kind op;
	char *name;			/* lower case */
	char *value;			/* NULL for REMOVE */
};

enum hf_route_action {
	HF_ACTION_ROUTE,		/* to weighted clusters */
	HF_ACTION_REDIRECT,
	HF_ACTION_DIRECT,		/* directResponse */
};

struct hf_model_cors {
	bool enabled;
	unsigned int n_origins;
	struct hf_model_str_match *origins;	/* allowOrigins */
	char *allow_methods;		/* comma-joined, as sent in the answer */
	char *allow_headers;
	char *expose_headers;
	uint32_t max_age_s;		/* 0: not sent */
	bool allow_credentials;
};

/*
 * A local rate limit (Envoy's LocalRateLimit): a token bucket and how it is
 * applied. Owned by the listener, virtual host or route that points to it.
 */
struct hf_model_ratelimit {
	char *stat_prefix;
	uint32_t max_tokens;
	uint32_t tokens_per_fill;
	uint32_t fill_interval_ms;
	uint32_t enabled_ppm;		/* filter_enabled, parts per million */
	uint32_t enforced_ppm;		/* filter_enforced */
	uint16_t status;		/* 429 unless given */
	bool x_headers;			/* enable_x_ratelimit_headers: DRAFT_VERSION_03 */
	unsigned int n_headers;
	struct hf_model_header_op *headers;	/* response_headers_to_add (set or add) */
	char origin[192];		/* who set it, for messages ("bootstrap", "EnvoyFilter ns/name") */
};

/* Frees what @p c holds and leaves it empty (not enabled). */
void hf_model_cors_free(struct hf_model_cors *c);

/* Frees @p rl and what it holds; NULL is fine. */
void hf_model_ratelimit_free(struct hf_model_ratelimit *rl);

struct hf_model_route {
	char *name;
	unsigned int n_matches;		/* OR of matches; 0: every request */
	struct hf_model_route_match *matches;
	enum hf_route_action action;

	/* HF_ACTION_ROUTE */
	unsigned int n_clusters;
	struct hf_model_weighted *clusters;
	char *rewrite_uri;		/* replaces the matched prefix (or the whole path for exact/regex) */
	char *rewrite_regex;		/* uriRegexRewrite.match */
	char *rewrite_regex_sub;	/* uriRegexRewrite.rewrite, \1-style groups */
	char *rewrite_authority;
	uint32_t timeout_ms;		/* 0: none (Istio's default for VirtualService routes) */
	uint64_t max_request_bytes;	/* body limit → 413; 0: none (bootstrap routes only) */
	struct {
		uint32_t attempts;	/* retries after the first try; 0: none */
		uint32_t per_try_timeout_ms;
		uint32_t on;		/* HF_RETRY_* */
		unsigned int n_codes;
		uint16_t *codes;
	} retry;
	struct {
		uint32_t delay_ms;
		double delay_percent;	/* 0..100 */
		uint16_t abort_status;	/* 0: no abort */
		double abort_percent;
	} fault;
	char *mirror_cluster;		/* NULL: none */
	double mirror_percent;		/* 0..100 */

	/* HF_ACTION_REDIRECT */
	char *redirect_uri;
	char *redirect_authority;
	char *redirect_scheme;
	uint32_t redirect_port;		/* 0: keep */
	uint16_t redirect_code;		/* 301 by default */

	/* HF_ACTION_DIRECT */
	uint16_t direct_status;
	char *direct_body;		/* may be NULL */

	struct hf_model_cors cors;
	unsigned int n_rq_ops, n_rs_ops;
	struct hf_model_header_op *rq_ops, *rs_ops;
	struct hf_model_ratelimit *ratelimit;	/* NULL: none of its own */
	/*
	 * Everything above but ratelimit belongs to a struct hf_model_piece the
	 * model holds a reference to (a VirtualService's routes as an earlier
	 * load translated them); ratelimit, which EnvoyFilters and the
	 * bootstrap set after translation, is the model's own. hf_model_free()
	 * frees only that.
	 */
	bool borrowed;
};

struct hf_model_vhost {
	char *name;
	unsigned int n_domains;
	char **domains;			/* lower case; "*", "*.suffix", "prefix.*", exact, maybe ":port" */
	unsigned int n_routes;
	struct hf_model_route *routes;	/* first match wins */
	struct hf_model_ratelimit *ratelimit;	/* NULL: none of its own */
	/*
	 * Everything above belongs to a struct hf_model_piece the model holds
	 * a reference to (hf_model.pieces): hf_model_free() leaves it alone.
	 * Nothing may change a borrowed virtual host; it is only read.
	 */
	bool borrowed;
};

struct hf_model_route_config {
	char *name;			/* e.g. "http.80" as Istio names gateway route configs */
	unsigned int n_vhosts;
	struct hf_model_vhost *vhosts;
};

/* A TCP or TLS (SNI) route of a listener: weighted clusters. */
struct hf_model_l4_route {
	unsigned int n_sni;		/* TLS routes: sniHosts; 0 for TCP */
	char **sni;
	uint32_t port;			/* match port; 0: any */
	unsigned int n_clusters;
	struct hf_model_weighted *clusters;
};

/*
 * A Gateway server with tls.mode SIMPLE or MUTUAL: the certificate and key
 * the agent read (credentialName or file paths), checked to match, and its
 * settings; for MUTUAL the CA bundle client certificates must chain to.
 */
struct hf_model_tls_server {
	unsigned int n_names;
	char **names;			/* the server's hosts without namespace, lower case */
	char *cert_pem;
	size_t cert_len;
	char *key_pem;
	size_t key_len;
	uint16_t min_version;		/* HF_TLS_V1_2 / HF_TLS_V1_3 (tls/tls-t.h) */
	uint16_t max_version;
	char *ciphers;			/* "A:B:C", TLS <= 1.2; NULL: OpenSSL's default */
	char *ca_pem;			/* MUTUAL: caCertificates or the credential's ca.crt; NULL: SIMPLE */
	size_t ca_len;
	unsigned int n_sans;		/* MUTUAL: subjectAltNames a client certificate must carry */
	char **sans;
};

/* An HTTPS listener's servers, in the order their Gateways came; the first answers without SNI. */
struct hf_model_tls {
	unsigned int n_servers;
	struct hf_model_tls_server *servers;
};

/* Frees @p t and what it holds (key bytes wiped first); NULL is fine. */
void hf_model_tls_free(struct hf_model_tls *t);

struct hf_model_listener {
	char *name;			/* "0.0.0.0_80" */
	uint16_t port;
	enum hf_listener_kind kind;
	int route_config;		/* HTTP: index in route_configs */
	unsigned int n_l4_routes;	/* TCP and TLS */
	struct hf_model_l4_route *l4_routes;
	struct hf_model_tls *tls;	/* HTTP over TLS (HTTPS servers); NULL: plaintext */
	struct hf_model_ratelimit *ratelimit;	/* HTTP: the listener-wide limit; NULL: none */
	/*
	 * HTTP, from an xDS HttpConnectionManager (control-agent/xds/translate.c):
	 * what it asks of the connection manager, recorded only when hcm_set (the
	 * YAML and bootstrap paths take the bootstrap's http.* settings).
	 */
	bool hcm_set;
	enum hf_path_mode path_normalization;	/* normalize_path, merge_slashes, escaped slashes */
	uint32_t xff_num_trusted_hops;		/* Envoy's xff_num_trusted_hops */
	uint8_t xfcc;				/* enum hf_xfcc_mode (forward_client_cert_details) */
	uint32_t idle_timeout_ms;		/* common_http_protocol_options.idle_timeout; 0: none */
	bool idle_timeout_set;			/* unset: Envoy's default, one hour */
};

struct hf_model_endpoint {
	uint32_t addr;			/* IPv4, network order */
	uint16_t port;			/* host order */
	uint32_t weight;		/* 1 unless given */
	char *locality;			/* may be NULL */
	unsigned int n_labels;
	char **labels;			/* "key=value" */
};

enum hf_tls_mode { HF_TLS_DISABLE = 0, HF_TLS_SIMPLE, HF_TLS_MUTUAL, HF_TLS_ISTIO_MUTUAL };

/*
 * A DestinationRule's tls block with a mode other than DISABLE, its files
 * read: what the upstream connections of a cluster originate (tls/client.c).
 */
struct hf_model_up_tls {
	enum hf_tls_mode mode;
	char *sni;			/* NULL: the service's host name (when it is one) */
	bool insecure_skip_verify;	/* the server certificate is not checked */
	unsigned int n_sans;		/* subjectAltNames: the server must carry one */
	char **sans;
	char *ca_pem;			/* caCertificates, system bundle, mesh root; NULL: skip */
	size_t ca_len;
	char *cert_pem;			/* MUTUAL / ISTIO_MUTUAL: our certificate chain and key */
	size_t cert_len;
	char *key_pem;
	size_t key_len;
};

/* Frees @p t (NULL is fine), the key bytes wiped first. */
void hf_model_up_tls_free(struct hf_model_up_tls *t);

struct hf_model_cluster {
	char *name;			/* Istio's: outbound|<port>|<subset>|<fqdn> */
	char *service;			/* the FQDN it belongs to */
	uint16_t service_port;
	char *subset;			/* may be NULL */
	enum hf_lb_policy lb;
	uint32_t connect_timeout_ms;
	/* DestinationRule settings kept for the issues to come */
	enum hf_tls_mode tls_mode;
	char *tls_client_cert;		/* DestinationRule tls paths, NULL when not given */
	char *tls_private_key;
	char *tls_ca_certs;
	struct hf_model_up_tls *up_tls;	/* TLS origination (not DISABLE); NULL: plaintext */
	/* circuit breakers (DEFAULT priority), enforced per worker share (lb/cb.h); 0: unlimited */
	uint32_t max_connections;
	uint32_t max_pending_requests;
	uint32_t max_requests;
	uint32_t max_retries;
	uint32_t max_rq_per_cx;		/* max_requests_per_connection */
	bool outlier;			/* outlier_detection given (shown by /config_dump) */
	struct hf_od_config od;		/* its settings, Envoy's defaults filled in */
	/*
	 * xDS transport_socket_matches (istiod's auto-mTLS): up_tls is for endpoints
	 * whose metadata says tlsMode "istio"; endpoints without it are plaintext.
	 */
	bool tls_by_endpoint;
	unsigned int n_endpoints;
	struct hf_model_endpoint *endpoints;
	/*
	 * Named by a route but not defined (xDS: not sent, or still warming):
	 * requests routed to it are answered 503 NC, as Envoy answers them.
	 */
	bool missing;
};

struct hf_jwt_config;

struct hf_model {
	/* RequestAuthentication's JWT rules (control-agent/jwks.h): one reference; NULL: none */
	const struct hf_jwt_config *jwt;
	unsigned int n_listeners;
	struct hf_model_listener *listeners;
	unsigned int n_route_configs;
	struct hf_model_route_config *route_configs;
	unsigned int n_clusters;
	struct hf_model_cluster *clusters;
	/* AuthorizationPolicies selecting the node (control-agent/compile/authz_build.h); NULL: none */
	struct hf_authz *authz;
	/* Istio's standard metrics that Telemetry resources disabled (HF_METRIC_BIT()s, dataplane/metrics-t.h) */
	uint32_t metrics_off;
	/* the pieces its borrowed virtual hosts and routes belong to: one reference each */
	unsigned int n_pieces;
	struct hf_model_piece **pieces;
};

/*
 * A piece of model translated once and lent to the models of the builds
 * that follow while its source does not change (an xDS RouteConfiguration,
 * translated when it arrived and checked), so that a rebuild for another
 * resource (endpoints every 100 ms) neither translates it again nor copies
 * it. Reference-counted: held by whoever keeps the source and by each
 * model that borrows from it, freed with the last. Immutable once made.
 */
struct hf_model_piece {
	unsigned int refs;
	struct hf_model m;
};

/* A piece holding what @p m held (@p m is left empty), one reference; NULL when out of memory
 * (@p m then unchanged). */
struct hf_model_piece *hf_model_piece_new(struct hf_model *m);

/* One more reference to @p p; returns @p p. */
struct hf_model_piece *hf_model_piece_ref(struct hf_model_piece *p);

/* Drops one reference to @p p (NULL is fine); the last frees it. */
void hf_model_piece_unref(struct hf_model_piece *p);

/*
 * Appends to @p m a route configuration that borrows route configuration
 * @p i of piece @p p: its name copied, its virtual hosts shallow copies
 * marked borrowed, @p m holding a reference to @p p. The result reads as
 * the piece's own would (tests/unit/xds/test_xds_ads.c, test_sotw_rds_lent).
 * Returns 0 or -ENOMEM (then @p m is as before).
 */
int hf_model_borrow_route_config(struct hf_model *m, struct hf_model_piece *p, unsigned int i);

/* Adds to @p m's list one reference to @p p, whose pieces it borrows: 0 or -ENOMEM. */
int hf_model_hold_piece(struct hf_model *m, struct hf_model_piece *p);

/* Frees everything @p m owns and zeroes it. Safe on a zeroed model. */
void hf_model_free(struct hf_model *m);

/* Index of the cluster named @p name, or -1. */
int hf_model_find_cluster(const struct hf_model *m, const char *name);

/*
 * Moves everything of @p src into @p dst (listeners keep their route
 * configurations) and leaves @p src empty. Returns 0, -EADDRINUSE when a
 * listener port of @p src is already one of @p dst's (nothing moved), or
 * -ENOMEM (then what had moved belongs to @p dst; free both).
 */
int hf_model_append(struct hf_model *dst, struct hf_model *src);

struct hf_bootstrap;

/*
 * The bootstrap's static_resources as a model: its clusters (in order, so
 * their indexes stay), an HTTP listener with a route configuration per http
 * listener, a TCP listener per tcp_proxy listener. Returns 0 or -ENOMEM
 * (then @p m is empty).
 */
int hf_model_from_bootstrap(const struct hf_bootstrap *b, struct hf_model *m);

#endif
