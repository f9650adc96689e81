/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_LB_H
#define HF_LB_H

/*
 * Endpoint selection, one API for every proxy: a worker keeps one struct
 * hf_lb_state per proxy and asks hf_lb_pick() for an endpoint of a snapshot's
 * cluster by the cluster's policy. Plain C: no DPDK call, no allocation after
 * hf_lb_state_init(), no lock, and deterministic for a given seed, so tests
 * drive it alone.
 *
 * Weights: an endpoint's weight is its share of the picks (Envoy's
 * load_balancing_weight, Istio's ServiceEntry/WorkloadEntry endpoint weight).
 * Envoy refuses a weight of 0 and Istio sends 1 for an unset weight; the
 * snapshot compiler already turns 0 into 1, and so does this module for any
 * caller that did not: a weight of 0 counts as 1, never as "drained".
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb/lb-t.h"

struct hf_snap_cluster;

/* Slots and arena entries for a worker's state when the caller has no better figure. */
#define HF_LB_SLOTS 1024
#define HF_LB_ARENA 16384
/* Policy picks an endpoint out (ctx->skip) costs before a scan for one that is in. */
#define HF_LB_SKIP_TRIES 16

/*
 * Bytes an hf_lb_state with @p n_slots cluster slots (at least 1) and
 * @p arena_size cached cumulative weights needs, all in one block.
 */
size_t hf_lb_state_size(unsigned int n_slots, uint32_t arena_size);

/*
 * Initialises @p st in a block of hf_lb_state_size(@p n_slots, @p arena_size)
 * bytes (the caller allocates and later frees it; no need to zero it). @p seed
 * starts the random source: the same seed gives the same picks.
 */
void hf_lb_state_init(struct hf_lb_state *st, unsigned int n_slots, uint32_t arena_size,
                      uint64_t seed);

/*
 * Requests (or connections) in flight to endpoint @p ep, index @p index of the
 * cluster being picked from; LEAST_REQUEST's measure of load.
 */
typedef uint32_t hf_lb_load_fn(void *arg, const struct hf_snap_endpoint *ep, unsigned int index);

/*
 * Whether endpoint @p ep, index @p index of the cluster being picked from, is
 * out of the picks (ejected by outlier detection).
 */
typedef bool hf_lb_skip_fn(void *arg, const struct hf_snap_endpoint *ep, unsigned int index);

/* One pick's context: whose state, which snapshot, where loads come from, who is out. */
struct hf_lb_ctx {
	struct hf_lb_state *st;
	uint64_t version;    /* the snapshot's version: what st caches is for it only */
	hf_lb_load_fn *load; /* NULL: no load known, LEAST_REQUEST picks as RANDOM */
	void *load_arg;
	hf_lb_skip_fn *skip; /* NULL: every endpoint is in */
	void *skip_arg;
};

/*
 * Picks an endpoint of cluster @p cl, index @p cluster in the snapshot of
 * version ctx->version, by cl->lb:
 *  - ROUND_ROBIN: weighted, exact over every cycle of total weight / gcd picks
 *    and interleaved (weights 1:3 give A B B B A B B B ...); each worker starts
 *    at its own random point of the cycle and keeps its position across
 *    snapshots as long as the cluster keeps its index;
 *  - RANDOM: each endpoint with probability weight / total weight;
 *  - LEAST_REQUEST: Envoy's power of two choices: two weighted random picks,
 *    the one with less load per unit of weight wins, a tie keeps the first
 *    (so equal loads leave the weighted shares as they are);
 *  - CONSISTENT_HASH is not built yet and picks as ROUND_ROBIN; PASSTHROUGH
 *    clusters have no endpoints.
 * With ctx->skip, an endpoint it puts out is passed over: the policy picks
 * again (round robin moves on, so the others share the load by their
 * weights), up to HF_LB_SKIP_TRIES times, then the first endpoint that is in
 * from a random point; when none is, the policy's first pick stands (Envoy's
 * panic routing: traffic to every host rather than to none).
 * A cluster of one endpoint returns 0 without using the random source.
 * Returns the endpoint's index in cl->endpoints, or -ENOENT when the cluster
 * has none. Runs in O(log n) per pick, O(n) at a cluster's first pick after
 * a snapshot change (O(n) per pick for the clusters the arena had no room for).
 */
int hf_lb_pick(struct hf_lb_ctx *ctx, const struct hf_snap_cluster *cl, unsigned int cluster);

/* The next number of @p st's random source (splitmix64). */
static inline uint64_t
hf_lb_rand(struct hf_lb_state *st)
{
	uint64_t z = (st->rng += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

#endif
