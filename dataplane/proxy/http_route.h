/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_HTTP_ROUTE_H
#define HF_HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_random.h>

#include "dataplane/http/h1.h"
#include "dataplane/proxy/router.h"

/*
 * The route of @p vh for request @p msg on listener port @p port: by the
 * virtual host's matcher (with this worker's Hyperscan @p scratch) when it
 * has one, else by its routes' own prefix/exact paths. NULL: 404 NR.
 */
const struct hf_route *hf_http_route_select(const struct hf_vhost *vh, void *scratch,
					    const struct hf_h1_message *msg, uint16_t port);

struct hf_snapshot;
struct hf_snap_listener;

/*
 * The route of request @p msg on listener port @p port of snapshot @p snap:
 * the listener, its virtual host by the Host field, then
 * hf_http_route_select(). NULL for 404 NR; the listener and virtual host it
 * was found in (or NULL) into @p slp and @p vhp.
 */
const struct hf_route *hf_http_route_find(const struct hf_snapshot *snap, void *scratch,
					  uint16_t port, const struct hf_h1_message *msg,
					  const struct hf_snap_listener **slp,
					  const struct hf_vhost **vhp);

/* The weighted destination of forwarding route @p r, drawn at random by weight. */
const struct hf_route_dest *hf_http_route_dest(const struct hf_route *r);

/*
 * True with probability @p ppm parts per million (faults, mirroring). Inline:
 * most routes have neither, and every request asks twice.
 */
static inline bool
hf_http_chance(uint32_t ppm)
{
	return ppm >= 1000000 || (ppm > 0 && rte_rand() % 1000000 < ppm);
}

/*
 * Writes the target to send for route @p r with a uri rewrite: the matched
 * prefix (or, after an exact or regex match, the whole path) replaced; or,
 * with uriRegexRewrite, every match of its pattern in the path substituted
 * (with the worker's PCRE2 @p match data). The query is kept. Returns the
 * length, or 0 when it does not fit in @p cap.
 */
size_t hf_http_route_target(const struct hf_route *r, void *match, const char *target, size_t len,
			    char *out, size_t cap);

/*
 * Writes the "location: ...\r\n" field of redirect route @p r for @p msg:
 * scheme, authority and port as the redirect says or as the request had
 * them, the path replaced when the redirect gives one, the query kept.
 * Returns its length, or 0 when it does not fit.
 */
size_t hf_http_route_location(const struct hf_route *r, const struct hf_h1_message *msg,
			      char *out, size_t cap);

/*
 * CORS (Istio corsPolicy) for @p msg: when the route has a policy and the
 * request's Origin is allowed, writes the access-control-* fields to answer
 * with into @p out and says in *@p preflight whether this is a preflight
 * (OPTIONS with Access-Control-Request-Method), which is answered locally.
 * Returns the bytes written (0: no CORS answer), or -1 when they do not fit.
 */
int hf_http_route_cors(const struct hf_route *r, const struct hf_h1_message *msg, char *out,
		       size_t cap, bool *preflight);

#endif
