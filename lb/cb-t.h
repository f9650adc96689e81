/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_CB_T_H
#define HF_CB_T_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A cluster's circuit breakers (Envoy's circuit_breakers thresholds of the
 * DEFAULT priority; Istio's connectionPool), for the whole process; 0 is
 * unlimited. lb/cb.h says how they are split among the workers.
 */
struct hf_cb_limits {
	uint32_t max_connections;	/* upstream connections open */
	uint32_t max_pending;		/* requests waiting for a connection (queued or coming up) */
	uint32_t max_requests;		/* requests in flight */
	uint32_t max_retries;		/* retries in flight */
	uint32_t max_rq_per_cx;		/* requests one connection carries, then it closes */
};

/*
 * A cluster's outlier detection (Envoy's outlier_detection, Istio's
 * outlierDetection): which runs of failures eject a host, for how long, and
 * how much of the cluster may be out. Off when no consecutive_* is set.
 */
struct hf_od_config {
	uint32_t consecutive_5xx;	/* 0: this detector is off */
	uint32_t consecutive_gateway;	/* 502, 503, 504; 0: off */
	uint32_t consecutive_local;	/* local-origin failures, with split_local; 0: off */
	bool split_local;		/* connect failures count apart from responses */
	uint8_t max_ejection_percent;	/* of the cluster's hosts, at most; 0..100 */
	uint8_t min_health_percent;	/* below it, ejections are ignored (panic); 0: never */
	uint32_t base_ejection_ms;	/* an ejection lasts this times the host's ejections */
	uint32_t max_ejection_ms;	/* ... at most this (300 s), or the base if longer */
	uint32_t interval_ms;		/* a clean interval takes one off a host's ejections */
};

/*
 * One worker's state of one cluster, found by the cluster's id (snapshot-t.h)
 * so it outlives snapshots: what the limits count (gauges) and what they
 * refused (counters, Envoy's names). Written by its worker only; the agent
 * reads the counters as it reads the per-core ones.
 */
struct hf_cb_cluster {
	uint64_t id;			/* the cluster's id; 0: a free entry */
	uint32_t cx;			/* upstream connections open */
	uint32_t pending;		/* requests waiting for a connection: queued, or theirs coming up */
	uint32_t waiting;		/* of those, queued: max_connections was reached (hf_cb_admit_wait) */
	uint32_t wait_first;		/* the queue, in the caller's ids + 1 (0: empty), oldest first */
	uint32_t wait_last;
	uint32_t rq;			/* requests in flight */
	uint32_t retries;		/* requests in flight that are retries */
	uint32_t n_ejected;		/* hosts ejected now (may count some whose time is up) */
	uint32_t n_hosts;		/* the cluster's endpoints in the snapshot last seen */
	uint64_t cx_overflow;		/* upstream_cx_overflow */
	uint64_t rq_pending_overflow;	/* upstream_rq_pending_overflow */
	uint64_t rq_retry_overflow;	/* upstream_rq_retry_overflow */
	uint64_t ejections;		/* outlier_detection.ejections_enforced_total */
	struct hf_od_config od;		/* the settings last seen in a snapshot */
	struct hf_cb_limits lim;	/* the same, of the circuit breakers (the queue's wake-ups) */
};

/* One worker's outlier state of one host of one cluster. */
struct hf_od_host {
	uint64_t cluster;		/* the cluster's id; 0: a free entry */
	uint32_t addr;			/* network order */
	uint16_t port;			/* network order */
	bool ejected;
	uint32_t c5xx;			/* consecutive 5xx (local-origin ones too, unless split) */
	uint32_t cgw;			/* consecutive gateway failures */
	uint32_t clocal;		/* consecutive local-origin failures (split) */
	uint32_t n_ejections;		/* times ejected, decaying while clean */
	uint64_t until_ms;		/* ejected: when it comes back */
	uint64_t mark_ms;		/* last ejection's end or last decay: the decay clock */
};

#endif
