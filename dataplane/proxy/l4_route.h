/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_L4_ROUTE_H
#define HF_L4_ROUTE_H

/*
 * How the L4 proxy picks where a connection goes on a TLS passthrough
 * listener: the tls route its SNI selects, then one of that route's weighted
 * clusters. Pure C over the snapshot's types, shared by the worker (l4.c)
 * and the unit tests.
 */
#include <stddef.h>
#include <stdint.h>

#include "dataplane/snapshot-t.h"
#include "tls/tls.h"

/*
 * The tls route of passthrough listener @p sl for SNI @p name (@p len bytes,
 * any case): an exact sniHost first, then the longest "*.suffix" covering it,
 * then "*" (hf_tls_sni_select). -1 when none; a connection without SNI
 * (@p len 0) matches none, as Envoy's filter chains with server_names do not.
 */
static inline int
hf_l4_sni_route(const struct hf_snap_listener *sl, const char *name, size_t len)
{
	if (len == 0 || sl->n_sni == 0)
		return -1;
	return hf_tls_sni_select(sl->sni, sl->n_sni, name, len);
}

/*
 * The cluster of route @p r for the uniform 64-bit draw @p rnd: each
 * destination with the probability of its weight. -1 when every weight is 0.
 */
static inline int
hf_l4_route_cluster(const struct hf_snap_l4_route *r, uint64_t rnd)
{
	uint64_t x;

	if (r->total == 0)
		return -1;
	x = rnd % r->total;
	for (unsigned int i = 0; i < r->n_dests; i++) {
		if (x < r->dests[i].weight)
			return r->dests[i].cluster;
		x -= r->dests[i].weight;
	}
	return -1;
}

#endif
