/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_ROUTER_H
#define HF_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Route selection as Envoy does it: a virtual host by the request's authority
 * (exact domain, then the longest "*.suffix", then the longest "prefix.*",
 * then "*"), then the first of its routes whose path match holds. Tables are
 * built by the control agent and read by workers inside one snapshot.
 */
#define HF_ROUTER_NAME 128
/* A DNS name at its longest (253, RFC 1035 2.3.4 less the root's dot), ":65535", a NUL. */
#define HF_ROUTER_HOST_MAX 253
#define HF_ROUTER_DOMAIN (HF_ROUTER_HOST_MAX + 6 + 1)
#define HF_ROUTER_PATH 256
#define HF_ROUTER_MAX_DOMAINS 16

enum hf_route_match { HF_ROUTE_PREFIX, HF_ROUTE_EXACT };

struct hf_rl_limit;

/* How a string is matched (Istio StringMatch, Envoy StringMatcher). */
enum hf_match_kind {
	HF_MATCH_ANY = 0,		/* no condition */
	HF_MATCH_EXACT,
	HF_MATCH_PREFIX,
	HF_MATCH_REGEX,			/* RE2 syntax as Istio takes it; Hyperscan at run time, whole value */
	HF_MATCH_PRESENT,		/* headers and query parameters: the field exists */
};

/* A header operation's kind (Istio Headers.HeaderOperations: set, add, remove). */
enum hf_header_op_kind { HF_HDR_SET, HF_HDR_ADD, HF_HDR_REMOVE };

/* retryOn conditions (Istio's strings → Envoy's retry_on). */
enum {
	HF_RETRY_5XX = 0x01,
	HF_RETRY_GATEWAY_ERROR = 0x02,	/* 502, 503, 504 */
	HF_RETRY_CONNECT_FAILURE = 0x04,
	HF_RETRY_RESET = 0x08,
	HF_RETRY_RETRIABLE_4XX = 0x10,	/* 409 */
	HF_RETRY_RETRIABLE_CODES = 0x20,	/* retriable_codes */
	HF_RETRY_REFUSED_STREAM = 0x40,
};

/* What a route does (Istio HTTPRoute: route, redirect, directResponse). */
enum hf_route_kind { HF_ROUTE_FORWARD = 0, HF_ROUTE_REDIRECT, HF_ROUTE_DIRECT };

/* A header operation: set replaces every field of the name, add appends, remove drops. */
struct hf_route_hdr_op {
	uint8_t op;			/* enum hf_header_op_kind */
	uint16_t name_len;
	uint16_t value_len;
	const char *name;		/* lower case */
	const char *value;
};

/* One weighted destination; weights are cumulative so a pick is one scan. */
struct hf_route_dest {
	int cluster;			/* index in the snapshot's clusters */
	uint32_t weight_end;		/* cumulative weight up to and including this one */
	uint16_t n_rq_ops, n_rs_ops;
	const struct hf_route_hdr_op *rq_ops, *rs_ops;
};

struct hf_route_cors {
	bool enabled;
	bool allow_credentials;
	uint32_t max_age_s;
	unsigned int n_origins;
	const struct hf_route_origin {
		uint8_t kind;		/* enum hf_match_kind */
		uint16_t len;
		const char *value;
	} *origins;
	const char *allow_methods, *allow_headers, *expose_headers;	/* may be NULL */
};

/*
 * A route of a snapshot: one match block of an Istio HTTPRoute (Istio makes
 * one Envoy route per block, so a rewrite knows the prefix it replaces) and
 * its action. Routes built from the bootstrap use `match`/`path` and a
 * single `cluster`; routes built from a model are chosen by the virtual
 * host's matcher and may use everything else. Strings live in the snapshot.
 */
struct hf_route {
	enum hf_route_match match;
	uint16_t path_len;
	char path[HF_ROUTER_PATH];
	char name[HF_ROUTER_NAME];	/* %ROUTE_NAME% of the access log; may be empty */
	int cluster;			/* index in the snapshot's clusters (first destination) */
	uint32_t timeout_ms;		/* request fully read → response complete; 0: none */
	uint64_t max_request_bytes;	/* body limit (413); 0: none */

	uint8_t kind;			/* enum hf_route_kind */
	uint16_t n_dests;
	uint32_t total_weight;
	const struct hf_route_dest *dests;	/* NULL: the single `cluster` */
	/* rewrite: the first `strip` bytes of the path (the matched prefix, or all) become rewrite_uri */
	const char *rewrite_uri;
	uint16_t rewrite_uri_len;
	bool rewrite_whole;		/* the match was exact or regex: the whole path is replaced */
	uint16_t strip;			/* prefix length replaced (prefix matches) */
	const char *rewrite_authority;
	const void *rewrite_re;		/* uriRegexRewrite: a PCRE2 code (JIT); NULL: none */
	const char *rewrite_sub;	/* its substitution, PCRE2 syntax ($1) */
	uint16_t rewrite_sub_len;
	struct {
		uint32_t attempts;
		uint32_t per_try_timeout_ms;
		uint32_t on;		/* HF_RETRY_* */
		unsigned int n_codes;
		const uint16_t *codes;
	} retry;
	struct {
		uint32_t delay_ms;
		uint32_t delay_ppm;	/* chance in parts per million */
		uint16_t abort_status;
		uint32_t abort_ppm;
	} fault;
	int mirror_cluster;		/* -1: none */
	uint32_t mirror_ppm;
	/* redirect */
	const char *redirect_uri, *redirect_authority, *redirect_scheme;
	uint32_t redirect_port;
	uint16_t redirect_code;
	/* direct response */
	uint16_t direct_status;
	const char *direct_body;	/* may be NULL */
	struct hf_route_cors cors;
	uint16_t n_rq_ops, n_rs_ops;
	const struct hf_route_hdr_op *rq_ops, *rs_ops;
	const struct hf_rl_limit *ratelimit;	/* its local rate limit (ratelimit-t.h); NULL: none */
};

struct hf_rmatch;

struct hf_vhost {
	char name[HF_ROUTER_NAME];
	unsigned int n_domains;
	char domains[HF_ROUTER_MAX_DOMAINS][HF_ROUTER_DOMAIN];	/* lower case */
	unsigned int n_routes;
	const struct hf_route *routes;
	const struct hf_rmatch *rm;	/* NULL: routes matched by their own prefix/exact path */
	const struct hf_rl_limit *ratelimit;	/* its local rate limit; NULL: none */
};

struct hf_route_table {
	unsigned int n_vhosts;
	const struct hf_vhost *vhosts;
};

/*
 * The virtual host for authority @p host (@p len bytes, any case, maybe with
 * ":port"). As Envoy, the authority is matched as sent, port included
 * (Istio lists "host" and "host:port" domains); only when no domain matches
 * is the bare host tried. NULL: 404 NR.
 */
const struct hf_vhost *hf_router_vhost(const struct hf_route_table *t, const char *host,
				       size_t len);

/* The first route of @p v matching the path of @p target (not its query); NULL: 404. */
const struct hf_route *hf_router_route(const struct hf_vhost *v, const char *target, size_t len);

/*
 * Checks a domain as Envoy accepts it: "*", "*.suffix" / "*suffix", "prefix.*" /
 * "prefix*", or a name without '*'; the name at most HF_ROUTER_HOST_MAX
 * characters, then maybe ":port" (1 to 5 digits). Returns 0 or -EINVAL.
 */
int hf_router_domain_valid(const char *domain);

#endif
