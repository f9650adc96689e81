/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_METRICS_T_H
#define HF_METRICS_T_H

/*
 * Istio's standard metrics as a worker records them: one series per
 * (destination cluster, response code, response flag) for HTTP, one per
 * cluster for TCP. Each worker writes only its own tables, with plain stores;
 * the control agent reads every worker's tables at scrape time, merges them
 * and names the labels (control-agent/prometheus.c). The tables are sized at
 * start (metrics.max_series) and never grow: a series that finds no room is
 * counted (metrics.drop.series_overflow) and not recorded.
 */
#include <stdint.h>

/*
 * Envoy's default histogram bucket bounds (its supported_buckets), used for
 * durations in milliseconds and for sizes in bytes alike, as Istio's metrics
 * are; a value above the last one lands in +Inf only.
 */
#define HF_METRICS_BUCKETS 19

/*
 * Istio's standard metrics as the Telemetry API names them
 * (metrics[].overrides[].match.metric): a bit each in hf_snapshot.metrics_off,
 * set for a metric that Telemetry resources disabled. A worker records none of
 * a kind's metrics (no series looked up) when all of that kind are off.
 */
enum hf_metric {
	HF_METRIC_REQUEST_COUNT,		/* istio_requests_total */
	HF_METRIC_REQUEST_DURATION,		/* istio_request_duration_milliseconds */
	HF_METRIC_REQUEST_SIZE,			/* istio_request_bytes */
	HF_METRIC_RESPONSE_SIZE,		/* istio_response_bytes */
	HF_METRIC_TCP_OPENED_CONNECTIONS,	/* istio_tcp_connections_opened_total */
	HF_METRIC_TCP_CLOSED_CONNECTIONS,	/* istio_tcp_connections_closed_total */
	HF_METRIC_TCP_SENT_BYTES,		/* istio_tcp_sent_bytes_total */
	HF_METRIC_TCP_RECEIVED_BYTES,		/* istio_tcp_received_bytes_total */
	HF_METRIC__N
};
#define HF_METRIC_BIT(m) (1u << (m))
#define HF_METRICS_HTTP_ALL 0x0fu		/* the four HTTP metrics' bits */
#define HF_METRICS_TCP_ALL 0xf0u		/* the four TCP metrics' bits */

/*
 * One histogram: the sum and counts per bucket (not cumulative; the last is
 * +Inf). The sum first, on the line of the first buckets where most values
 * land: an exchange touches 4 lines of its series, not 6.
 */
struct hf_metrics_hist {
	uint64_t sum;			/* durations: microseconds; sizes: bytes */
	uint64_t n[HF_METRICS_BUCKETS + 1];
};

struct hf_metrics_http {
	uint64_t cluster_id;		/* hf_snap_cluster.id; 0: no cluster (no route) */
	uint16_t code;			/* response code; 0: none sent */
	uint8_t flag;			/* enum hf_response_flag */
	uint8_t used;			/* set last, with release: the key above is whole */
	uint64_t requests;
	struct hf_metrics_hist duration;	/* microseconds, shown as milliseconds */
	struct hf_metrics_hist rq_bytes;
	struct hf_metrics_hist rs_bytes;
};

struct hf_metrics_tcp {
	uint64_t cluster_id;
	uint8_t used;
	uint64_t opened;
	uint64_t closed;
	uint64_t sent;			/* bytes sent to the downstream (Istio: istio_tcp_sent_bytes) */
	uint64_t received;		/* bytes received from the downstream */
};

/* A worker's tables: open addressing, linear probing, sizes powers of two. */
struct hf_metrics {
	uint32_t http_mask;		/* slots - 1 */
	uint32_t tcp_mask;
	struct hf_metrics_http *http;
	struct hf_metrics_tcp *tcp;
	/*
	 * The HTTP series the worker's last exchange went to, tried before the
	 * table is probed: a worker's exchanges mostly repeat their cluster and
	 * code. NULL: none yet. Only the worker reads it.
	 */
	struct hf_metrics_http *last_http;
};

#endif
