/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_CB_H
#define HF_CB_H

/*
 * Circuit breakers and outlier detection, per worker (lb/cb-t.h has the
 * types). Plain C like the rest of lb/: no DPDK call, no lock, no allocation
 * after hf_lb_state_init(); the tables live in the worker's hf_lb_state.
 *
 * Circuit breakers. Envoy counts each limit for the whole process (atomics
 * shared by its workers). Workers here share nothing, so each worker enforces
 * its share of each limit: the limit divided among the workers, the
 * remainder one each to the first workers (10 over 3 workers: 4, 3, 3), as
 * the local rate limit splits its tokens (dataplane/proxy/ratelimit.h), but
 * never less than 1: a limit below the worker count lets up to one per
 * worker through instead of refusing every request of some workers. What one
 * client meets depends on the worker its connection landed on (RSS).
 *
 * Outlier detection is per worker too (Envoy's is per cluster across its
 * workers): each worker counts the consecutive failures it sees of a host and
 * ejects it for its own picks. Requests of one client spread over workers by
 * connection, so a host failing everything is ejected by every worker that
 * sends it traffic, each after consecutive_* of its own requests; a worker
 * that sends it nothing has no reason to eject it. Sharing the counts would
 * need atomics or a round trip through the agent on every response.
 * Ejection ends when its time is up, checked when the host is next met
 * (Envoy checks at each interval: its ejections last up to one interval
 * longer).
 */
#include <stdbool.h>
#include <stdint.h>

#include "lb/cb-t.h"
#include "lb/lb-t.h"

/* Entries of a worker's cluster table and host table (open addressing, never shrunk). */
#define HF_CB_CLUSTERS 1024
#define HF_OD_HOSTS 4096

/*
 * Worker @p id of @p n's share of process-wide limit @p total: 0 (unlimited)
 * stays 0, else an even part, the remainder to the first workers, at least 1.
 */
static inline uint32_t
hf_cb_share(uint32_t total, unsigned int id, unsigned int n)
{
	uint32_t s;

	if (total == 0 || n <= 1)
		return total;
	s = total / n + (id < total % n ? 1 : 0);
	return s > 0 ? s : 1;
}

/*
 * The entry of cluster @p id in @p st, made when new. NULL when @p id is 0 or
 * the table is full (st->cb_full counts it; the cluster then runs unlimited
 * on this worker).
 */
struct hf_cb_cluster *hf_cb_cluster(struct hf_lb_state *st, uint64_t id);

/* Why a request was refused (hf_cb_admit_*): -EBUSY with *@p why set. */
enum hf_cb_overflow {
	HF_CB_OK = 0,
	HF_CB_CX,			/* max_connections: upstream_cx_overflow (and pending) */
	HF_CB_PENDING,			/* max_pending_requests: upstream_rq_pending_overflow */
	HF_CB_RQ,			/* max_requests: upstream_rq_pending_overflow (Envoy's) */
	HF_CB_RETRY,			/* max_retries: upstream_rq_retry_overflow */
	HF_CB_WAIT,			/* not refused: queued for a connection (hf_cb_admit_wait) */
};

/*
 * A new request for cluster @p c under limits @p lim, worker @p id of @p n:
 * takes a place among its requests in flight (c->rq) and returns 0, or counts
 * the overflow and returns -EBUSY (HF_CB_RQ).
 */
int hf_cb_admit_rq(struct hf_cb_cluster *c, const struct hf_cb_limits *lim, unsigned int id,
		   unsigned int n);

/*
 * A request of cluster @p c needs a new upstream connection: takes a
 * connection and a pending place (c->cx, c->pending) and returns 0, or
 * returns -EBUSY. At max_connections upstream_cx_overflow counts it (*@p why
 * HF_CB_CX), and the request may wait for a connection as in Envoy's HTTP/1.1
 * pool (hf_cb_admit_wait). With room for a connection but max_pending_requests
 * requests already waiting for theirs, upstream_rq_pending_overflow counts it
 * (HF_CB_PENDING).
 */
int hf_cb_admit_cx(struct hf_cb_cluster *c, const struct hf_cb_limits *lim, unsigned int id,
		   unsigned int n, enum hf_cb_overflow *why);

/*
 * A request of cluster @p c found max_connections reached: takes a pending
 * place (c->pending) to wait in and returns 0, or counts
 * upstream_rq_pending_overflow and returns -EBUSY when max_pending_requests
 * (this worker's share) requests already wait. The caller keeps the queue
 * (c->waiting, c->wait_first, c->wait_last) and gives the place back when
 * the request leaves it.
 */
int hf_cb_admit_wait(struct hf_cb_cluster *c, const struct hf_cb_limits *lim, unsigned int id,
		     unsigned int n);

/* A retry of a request of @p c: takes a retry place and returns 0, or counts and -EBUSY. */
int hf_cb_admit_retry(struct hf_cb_cluster *c, const struct hf_cb_limits *lim, unsigned int id,
		      unsigned int n);

/* ---- outlier detection ---- */

/* Whether @p od ejects at all. */
static inline bool
hf_od_enabled(const struct hf_od_config *od)
{
	return od->consecutive_5xx != 0 || od->consecutive_gateway != 0 ||
	       (od->split_local && od->consecutive_local != 0);
}

/*
 * The outlier entry of host (@p addr, @p port) of cluster @p cluster in @p st;
 * made when new if @p create. NULL when absent, or the table is full
 * (st->od_full counts it: the host is never ejected on this worker).
 */
struct hf_od_host *hf_od_host(struct hf_lb_state *st, uint64_t cluster, uint32_t addr,
			      uint16_t port, bool create);

/* What an exchange with a host came to, for its detectors. */
enum hf_od_result {
	HF_OD_SUCCESS,			/* a response below 500 */
	HF_OD_5XX,			/* a 500..599 response other than a gateway failure */
	HF_OD_GATEWAY,			/* 502, 503, 504 */
	HF_OD_LOCAL_FAILURE,		/* no response: connect failure, reset, timeout */
	HF_OD_LOCAL_SUCCESS,		/* the connection came up */
};

/* The result class of response status @p status. */
static inline enum hf_od_result
hf_od_classify(int status)
{
	if (status >= 502 && status <= 504)
		return HF_OD_GATEWAY;
	return status >= 500 && status <= 599 ? HF_OD_5XX : HF_OD_SUCCESS;
}

/*
 * Counts result @p r of host @p h of cluster @p c (settings c->od, c->n_hosts
 * hosts) at @p now_ms, and ejects the host when a run reaches its threshold,
 * as Envoy's detectors do:
 *  - consecutive_5xx: 5xx responses in a row; without split_local a local-origin
 *    failure counts as a 503 (a 5xx and a gateway failure), as Envoy maps it;
 *  - consecutive_gateway: 502, 503 and 504 in a row;
 *  - consecutive_local (split_local only): local-origin failures in a row,
 *    which a connection that comes up resets.
 * A response below 500 ends the 5xx and gateway runs. An ejection lasts
 * base_ejection_ms times the host's ejections so far (this one included),
 * at most max(max_ejection_ms, base_ejection_ms); it is refused (the run
 * starts again) when it would put more than max_ejection_percent of the
 * hosts out, except that one host may always be ejected (Envoy's rule).
 * Returns true when this report ejected the host.
 */
bool hf_od_report(struct hf_cb_cluster *c, struct hf_od_host *h, enum hf_od_result r,
		  uint64_t now_ms);

/*
 * Whether host @p h of cluster @p c is out of the picks at @p now_ms; an
 * ejection whose time is up ends here (the host is back, c->n_ejected drops).
 */
bool hf_od_ejected(struct hf_cb_cluster *c, struct hf_od_host *h, uint64_t now_ms);

/*
 * Whether the cluster is in panic: fewer than min_health_percent of its hosts
 * are in, so the picks ignore ejections (Envoy's healthy_panic_threshold,
 * which Istio's minHealthPercent sets).
 */
static inline bool
hf_od_panic(const struct hf_cb_cluster *c)
{
	uint64_t in = c->n_hosts > c->n_ejected ? c->n_hosts - c->n_ejected : 0;

	return c->n_ejected > 0 && in * 100 < (uint64_t)c->od.min_health_percent * c->n_hosts;
}

#endif
