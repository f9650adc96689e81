/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_METRICS_H
#define HF_METRICS_H

#include <stdbool.h>

#include "dataplane/metrics-t.h"

struct hf_worker;

/* The upper bounds of the buckets, in thousandths of the unit (0.5 ms = 500). */
extern const uint64_t hf_metrics_bounds_milli[HF_METRICS_BUCKETS];

/*
 * Sizes @p m for @p max_series HTTP series (rounded up to a power of two,
 * twice that many slots so probes stay short) and a quarter as many TCP ones.
 * Returns 0 or -ENOMEM. hf_metrics_free() undoes it.
 */
int hf_metrics_init(struct hf_metrics *m, uint32_t max_series);
void hf_metrics_free(struct hf_metrics *m);

/* The bucket of @p v_milli: the first bound it does not pass; HF_METRICS_BUCKETS: +Inf. */
unsigned int hf_metrics_bucket(uint64_t v_milli);

/* Adds @p v (in thousandths of the unit) to @p h; @p sum_v goes into the sum as is. */
void hf_metrics_observe(struct hf_metrics_hist *h, uint64_t v_milli, uint64_t sum_v);

/* The metrics disabled (Telemetry) in the worker's snapshot of this iteration: HF_METRIC_BIT()s. */
uint32_t hf_metrics_off(const struct hf_worker *w);

/*
 * One HTTP exchange ended: @p code and @p flag as answered, @p duration_us
 * from its first byte to its end, body bytes both ways. Counts
 * metrics.drop.series_overflow when the series has no room. Records only the
 * metrics the snapshot has on; none, not even a series, when all four are off.
 */
void hf_metrics_http_done(struct hf_worker *w, uint64_t cluster_id, uint16_t code, uint8_t flag,
			  uint64_t duration_us, uint64_t rq_bytes, uint64_t rs_bytes);

/* The TCP series of @p cluster_id, NULL when it has no room (counted). */
struct hf_metrics_tcp *hf_metrics_tcp_series(struct hf_worker *w, uint64_t cluster_id);

#endif
