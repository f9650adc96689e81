/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Istio's metrics, the worker's half (dataplane/metrics.c): Envoy's bucket
 * bounds with values on and just past them, one series per (cluster, code,
 * flag), a full table counting overflow instead of recording, and what a
 * snapshot's Telemetry turned off not recorded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane/metrics.h"
#include "dataplane/snapshot-t.h"
#include "dataplane/worker-t.h"

/* A worker with tables of @p slots HTTP slots (a power of two), from the C heap. */
static struct hf_worker *
worker(uint32_t slots)
{
	struct hf_worker *w = aligned_alloc(64, sizeof(*w));

	assert_non_null(w);
	memset(w, 0, sizeof(*w));
	w->metrics.http = calloc(slots, sizeof(*w->metrics.http));
	w->metrics.tcp = calloc(slots, sizeof(*w->metrics.tcp));
	w->metrics.http_mask = slots - 1;
	w->metrics.tcp_mask = slots - 1;
	return w;
}

static void
release(struct hf_worker *w)
{
	free(w->metrics.http);
	free(w->metrics.tcp);
	free(w);
}

static const struct hf_metrics_http *
find(const struct hf_worker *w, uint64_t cluster, uint16_t code, uint8_t flag)
{
	for (uint32_t i = 0; i <= w->metrics.http_mask; i++) {
		const struct hf_metrics_http *e = &w->metrics.http[i];

		if (e->used && e->cluster_id == cluster && e->code == code && e->flag == flag)
			return e;
	}
	return NULL;
}

/* A value on a bound is in that bucket (Prometheus' le), one past it in the next. */
static void
test_bucket_bounds(void **state)
{
	struct hf_metrics_hist h;

	(void)state;
	memset(&h, 0, sizeof(h));
	hf_metrics_observe(&h, 0, 0);		/* 0 ms: le="0.5" */
	hf_metrics_observe(&h, 500, 0);		/* 0.5 ms exactly: le="0.5" */
	hf_metrics_observe(&h, 501, 0);		/* just past: le="1" */
	hf_metrics_observe(&h, 5000, 0);	/* 5 ms: le="5" */
	hf_metrics_observe(&h, 3600000000, 0);	/* one hour: the last bound */
	hf_metrics_observe(&h, 3600000001, 7);	/* past it: +Inf only */
	assert_int_equal(h.n[0], 2);
	assert_int_equal(h.n[1], 1);
	assert_int_equal(h.n[2], 1);
	assert_int_equal(h.n[HF_METRICS_BUCKETS - 1], 1);
	assert_int_equal(h.n[HF_METRICS_BUCKETS], 1);
	assert_int_equal(h.sum, 7);
}

/* The scan hf_metrics_bucket() stands for: the first bound @p v does not pass. */
static unsigned int
bucket_scan(uint64_t v)
{
	unsigned int b = 0;

	while (b < HF_METRICS_BUCKETS && v > hf_metrics_bounds_milli[b])
		b++;
	return b;
}

/* The bucket by bit length agrees with the scan at and around every bound and power of two. */
static void
test_bucket_fast(void **state)
{
	uint64_t x = UINT64_C(0x9e3779b97f4a7c15);

	(void)state;
	for (unsigned int i = 0; i < HF_METRICS_BUCKETS; i++)
		for (int64_t d = -2; d <= 2; d++) {
			uint64_t v = hf_metrics_bounds_milli[i] + (uint64_t)d;

			assert_int_equal(hf_metrics_bucket(v), bucket_scan(v));
		}
	for (unsigned int k = 0; k < 64; k++)
		for (int64_t d = -1; d <= 1; d++)
			assert_int_equal(hf_metrics_bucket((UINT64_C(1) << k) + (uint64_t)d),
					 bucket_scan((UINT64_C(1) << k) + (uint64_t)d));
	assert_int_equal(hf_metrics_bucket(0), 0);
	assert_int_equal(hf_metrics_bucket(UINT64_MAX), HF_METRICS_BUCKETS);
	for (int i = 0; i < 1000000; i++) {
		/* values of every size: a random word cut to a random bit length */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t v = x >> (x % 64);

		assert_int_equal(hf_metrics_bucket(v), bucket_scan(v));
	}
}

/* Same key, same series; any part of the key different, another series. */
static void
test_series_by_key(void **state)
{
	struct hf_worker *w = worker(64);
	const struct hf_metrics_http *e;

	(void)state;
	for (int i = 0; i < 3; i++)
		hf_metrics_http_done(w, 42, 200, 0, 1500, 10, 100);
	hf_metrics_http_done(w, 42, 503, 3, 20, 0, 19);
	hf_metrics_http_done(w, 43, 200, 0, 20, 0, 19);
	e = find(w, 42, 200, 0);
	assert_non_null(e);
	assert_int_equal(e->requests, 3);
	assert_int_equal(e->duration.sum, 4500);	/* microseconds */
	assert_int_equal(e->duration.n[2], 3);		/* 1.5 ms: le="5" */
	assert_int_equal(e->rq_bytes.sum, 30);
	assert_int_equal(e->rs_bytes.n[6], 3);		/* 100 bytes: le="100" */
	assert_int_equal(find(w, 42, 503, 3)->requests, 1);
	assert_int_equal(find(w, 43, 200, 0)->requests, 1);
	assert_null(find(w, 43, 503, 3));
	assert_int_equal(w->cnt.v[HF_CNT_METRICS_DROP_SERIES_OVERFLOW], 0);
	release(w);
}

/* Past its slots a table records nothing more and counts each loss; known series go on. */
static void
test_overflow_counted(void **state)
{
	struct hf_worker *w = worker(16);
	unsigned int recorded = 0;

	(void)state;
	for (uint16_t code = 100; code < 140; code++)
		hf_metrics_http_done(w, 1, code, 0, 1, 0, 0);
	for (uint32_t i = 0; i <= w->metrics.http_mask; i++)
		recorded += w->metrics.http[i].used;
	assert_int_equal(recorded, 16);
	assert_int_equal(w->cnt.v[HF_CNT_METRICS_DROP_SERIES_OVERFLOW], 40 - 16);
	for (uint32_t i = 0; i <= w->metrics.http_mask; i++) {
		const struct hf_metrics_http *e = &w->metrics.http[i];

		hf_metrics_http_done(w, 1, e->code, 0, 1, 0, 0);
		assert_int_equal(e->requests, 2);
	}
	assert_int_equal(w->cnt.v[HF_CNT_METRICS_DROP_SERIES_OVERFLOW], 40 - 16);
	release(w);
}

/* TCP series: one per cluster. */
static void
test_tcp_series(void **state)
{
	struct hf_worker *w = worker(16);
	struct hf_metrics_tcp *a = hf_metrics_tcp_series(w, 9), *b = hf_metrics_tcp_series(w, 10);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_ptr_equal(hf_metrics_tcp_series(w, 9), a);
	assert_int_equal(a->cluster_id, 9);
	release(w);
}

/* The snapshot's metrics_off: each metric off is left alone; all four HTTP ones off, no series. */
static void
test_telemetry_off(void **state)
{
	struct hf_worker *w = worker(16);
	struct hf_snapshot snap = {
		.metrics_off = HF_METRIC_BIT(HF_METRIC_REQUEST_DURATION) |
			       HF_METRIC_BIT(HF_METRIC_RESPONSE_SIZE),
	};
	const struct hf_metrics_http *e;

	(void)state;
	w->snap = &snap;
	assert_int_equal(hf_metrics_off(w), snap.metrics_off);
	hf_metrics_http_done(w, 7, 200, 0, 1500, 10, 100);
	e = find(w, 7, 200, 0);
	assert_non_null(e);
	assert_int_equal(e->requests, 1);
	assert_int_equal(e->rq_bytes.sum, 10);
	assert_int_equal(e->duration.sum, 0);
	assert_int_equal(e->rs_bytes.sum, 0);
	snap.metrics_off = HF_METRICS_HTTP_ALL;
	hf_metrics_http_done(w, 8, 200, 0, 1500, 10, 100);
	hf_metrics_http_done(w, 7, 200, 0, 1500, 10, 100);
	assert_null(find(w, 8, 200, 0));
	assert_int_equal(e->requests, 1);
	/* the TCP ones are another kind: the HTTP series go on when only they are off */
	snap.metrics_off = HF_METRICS_TCP_ALL;
	hf_metrics_http_done(w, 7, 200, 0, 1500, 10, 100);
	assert_int_equal(e->requests, 2);
	assert_int_equal(e->duration.sum, 1500);
	w->snap = NULL;
	assert_int_equal(hf_metrics_off(w), 0);
	release(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_bounds),
		cmocka_unit_test(test_bucket_fast),
		cmocka_unit_test(test_series_by_key),
		cmocka_unit_test(test_overflow_counted),
		cmocka_unit_test(test_tcp_series),
		cmocka_unit_test(test_telemetry_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
