/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_LB_T_H
#define HF_LB_T_H

#include <stdbool.h>
#include <stdint.h>

/*
 * How a cluster picks an endpoint (Istio's DestinationRule loadBalancer,
 * Envoy's lb_policy). The values are stored in the snapshot's clusters.
 */
enum hf_lb_policy {
	HF_LB_ROUND_ROBIN = 0,
	HF_LB_LEAST_REQUEST,		/* LEAST_REQUEST and LEAST_CONN */
	HF_LB_RANDOM,
	HF_LB_PASSTHROUGH,
	HF_LB_CONSISTENT_HASH,		/* kept in the model for the load-balancing issue */
};

struct hf_snap_endpoint;
struct hf_cb_cluster;
struct hf_od_host;

/*
 * What one worker knows of one cluster of the snapshot it picks from: the
 * cluster's weight line and its round-robin position on it (lb/lb.c says how
 * both are used). Built at the cluster's first pick under a new snapshot;
 * only `pos` changes per pick.
 */
struct hf_lb_slot {
	uint64_t epoch;			/* hf_lb_state.epoch it was built in; 0: never */
	const struct hf_snap_endpoint *eps;	/* the endpoints it was built from */
	unsigned int cluster;		/* the cluster's index in the snapshot */
	unsigned int n;			/* its endpoint count */
	bool uniform;			/* equal weights: the line is the endpoints */
	uint32_t gcd;			/* of the weights: the line's unit */
	uint64_t line;			/* total weight / gcd (n when uniform) */
	uint64_t stride;		/* round-robin step on the line, coprime with it */
	uint64_t pos;			/* round-robin position, in [0, line) */
	const uint64_t *cum;		/* cumulative weights / gcd [n]; NULL: not cached */
};

/*
 * One worker's load-balancing state: its random source and a slot per
 * cluster (by index modulo n_slots), plus an arena for the slots' cumulative
 * weights. Owned by the worker (one per proxy that picks), never shared:
 * picking takes no lock. Sized once by hf_lb_state_size(); nothing is
 * allocated after.
 */
struct hf_lb_state {
	uint64_t rng;			/* splitmix64 state */
	uint64_t version;		/* snapshot version the slots and the arena are for */
	uint64_t epoch;			/* bumped per version; older slots are stale */
	unsigned int n_slots;
	uint32_t arena_used;		/* entries of arena[] given to slots of this epoch */
	uint32_t arena_size;
	struct hf_lb_slot *slots;	/* [n_slots], in the same allocation */
	uint64_t *arena;		/* [arena_size], in the same allocation */
	uint64_t uncached;		/* slots built with the arena full */
	/* circuit breakers and outlier detection (lb/cb.h), in the same allocation */
	struct hf_cb_cluster *cb;	/* [HF_CB_CLUSTERS], by cluster id */
	struct hf_od_host *od;		/* [HF_OD_HOSTS], by cluster id and host */
	uint64_t cb_full;		/* clusters the table had no room for (run unlimited) */
	uint64_t od_full;		/* hosts the table had no room for (never ejected) */
};

#endif
