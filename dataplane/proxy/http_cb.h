/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_HTTP_CB_H
#define HF_HTTP_CB_H

/*
 * The HTTP proxy's circuit breakers and outlier detection (lb/cb.h), between
 * the session machine and the upstream pool (http_pool.c), and what the agent
 * reads of them for /stats and /clusters.
 */
#include <stdbool.h>
#include <stdint.h>

#include "lb/cb.h"

/* Envoy's answer to a request a circuit breaker refused (503, response flag UO). */
#define HF_HTTP_UO_DETAILS "upstream_reset_before_response_started{overflow}"
#define HF_HTTP_UO_BODY                                                                    \
	"upstream connect error or disconnect/reset before headers. reset reason: overflow"

struct hf_worker;
struct hf_http_session;
struct hf_http_stream;
struct hf_http_up;
struct hf_http_state;
struct hf_snap_cluster;

/* Connection @p u came up: it leaves its cluster's pending requests; the host did connect. */
void hf_http_cb_connected(struct hf_worker *w, struct hf_http_up *u);

/*
 * Stream @p x of worker state @p h ends: its place among its cluster's
 * requests (and retries) is given back, and its place in the cluster's queue
 * of requests waiting for a connection if it was still there.
 */
void hf_http_cb_stream_end(struct hf_http_state *h, struct hf_http_stream *x);

/*
 * The request of @p s is to be sent again to cluster @p cl: its first retry
 * takes a place among the cluster's retries in flight. 0, or -EBUSY when
 * max_retries (this worker's share) is reached (counted: upstream_rq_retry_overflow).
 */
int hf_http_cb_retry(struct hf_worker *w, struct hf_http_session *s,
		     const struct hf_snap_cluster *cl);

/* Reports what the exchange of @p s with its upstream host came to, to the host's detectors. */
void hf_http_outlier_report(struct hf_worker *w, struct hf_http_session *s, enum hf_od_result r);

/* Per-cluster figures, Envoy's cluster.<name>.* stats. */
enum {
	HF_HTTP_CB_CX_OVERFLOW,		/* upstream_cx_overflow */
	HF_HTTP_CB_PENDING_OVERFLOW,	/* upstream_rq_pending_overflow */
	HF_HTTP_CB_RETRY_OVERFLOW,	/* upstream_rq_retry_overflow */
	HF_HTTP_CB_EJECTIONS,		/* outlier_detection.ejections_enforced_total */
	HF_HTTP_CB_CX_ACTIVE,		/* upstream_cx_active (gauge) */
	HF_HTTP_CB_RQ_ACTIVE,		/* upstream_rq_active (gauge) */
	HF_HTTP_CB_RQ_PENDING_ACTIVE,	/* upstream_rq_pending_active (gauge): queued or connecting */
	HF_HTTP_CB_STAT__N,
};

/*
 * Adds worker @p w's figures of cluster @p cluster_id to @p out. Called by the
 * agent: it reads words the worker alone writes, as it reads its counters.
 */
void hf_http_cb_stats(const struct hf_worker *w, uint64_t cluster_id,
		      uint64_t out[HF_HTTP_CB_STAT__N]);

/* Whether worker @p w has host (@p addr, @p port: network order) of the cluster ejected now. */
bool hf_http_od_failed(const struct hf_worker *w, uint64_t cluster_id, uint32_t addr,
		       uint16_t port, uint64_t now_tsc);

#endif
