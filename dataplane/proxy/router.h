/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_ROUTER_H
#define HF_ROUTER_H

#include <stddef.h>
#include <stdint.h>

/*
 * Route selection as Envoy does it: a virtual host by the request's authority
 * (exact domain, then the longest "*.suffix", then the longest "prefix.*",
 * then "*"), then the first of its routes whose path match holds. Tables are
 * built by the control agent and read by workers inside one snapshot.
 */
#define HF_ROUTER_NAME 128
#define HF_ROUTER_PATH 256
#define HF_ROUTER_MAX_DOMAINS 16

enum hf_route_match { HF_ROUTE_PREFIX, HF_ROUTE_EXACT };

struct hf_route {
	enum hf_route_match match;
	uint16_t path_len;
	char path[HF_ROUTER_PATH];
	char name[HF_ROUTER_NAME];	/* %ROUTE_NAME% of the access log; may be empty */
	int cluster;			/* index in the snapshot's clusters */
	uint32_t timeout_ms;		/* request fully read → response complete; 0: none */
	uint64_t max_request_bytes;	/* body limit (413); 0: none */
};

struct hf_vhost {
	char name[HF_ROUTER_NAME];
	unsigned int n_domains;
	char domains[HF_ROUTER_MAX_DOMAINS][HF_ROUTER_NAME];	/* lower case */
	unsigned int n_routes;
	const struct hf_route *routes;
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
const struct hf_vhost *hf_router_vhost(const struct hf_route_table *t, const char *host, size_t len);

/* The first route of @p v matching the path of @p target (the query is not part of it); NULL: 404. */
const struct hf_route *hf_router_route(const struct hf_vhost *v, const char *target, size_t len);

/*
 * Checks a domain as Envoy accepts it: "*", "*.suffix" / "*suffix", "prefix.*" /
 * "prefix*", or a name without '*'. Returns 0 or -EINVAL.
 */
int hf_router_domain_valid(const char *domain);

#endif
