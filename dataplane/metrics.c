/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Istio's standard metrics, the worker's half: find or claim a series, add
 * to it. No locks: each worker owns its tables; the agent reads them (see
 * metrics-t.h for the publication order of a new series).
 */
#include <errno.h>

#include <rte_common.h>
#include <rte_malloc.h>

#include "dataplane/counters.h"
#include "dataplane/metrics.h"
#include "dataplane/snapshot-t.h"
#include "dataplane/worker-t.h"

/* Series probed before giving up: the table has twice the configured slots. */
#define PROBES 16

const uint64_t hf_metrics_bounds_milli[HF_METRICS_BUCKETS] = {
	500, 1000, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
	5000000, 10000000, 30000000, 60000000, 300000000, 600000000, 1800000000,
	3600000000,
};

int
hf_metrics_init(struct hf_metrics *m, uint32_t max_series)
{
	uint32_t http = rte_align32pow2(RTE_MAX(max_series, 16u)) * 2;
	/* A TCP series is named by a uint16_t tag on its upstream TCB (tcp-t.h): 32768 at most. */
	uint32_t tcp = RTE_MIN(RTE_MAX(http / 4, 16u), 32768u);

	m->http = rte_zmalloc("hf_metrics_http", sizeof(*m->http) * http, RTE_CACHE_LINE_SIZE);
	m->tcp = rte_zmalloc("hf_metrics_tcp", sizeof(*m->tcp) * tcp, RTE_CACHE_LINE_SIZE);
	if (m->http == NULL || m->tcp == NULL) {
		hf_metrics_free(m);
		return -ENOMEM;
	}
	m->http_mask = http - 1;
	m->tcp_mask = tcp - 1;
	m->last_http = NULL;
	return 0;
}

void
hf_metrics_free(struct hf_metrics *m)
{
	rte_free(m->http);
	rte_free(m->tcp);
	m->http = NULL;
	m->tcp = NULL;
	m->last_http = NULL;
}

/*
 * The bucket of a value by its bit length k (highest set bit; 32 and past,
 * 2^32 and above every bound, share one entry), looked up by the count of
 * leading zeros, 63 - k, so no subtraction or clamp comes between: no two
 * bounds share a power-of-two interval [2^k, 2^(k+1)), so the bucket is the
 * bounds below 2^k (bits 56-63) plus one when the value is past the bound
 * in its interval (bits 0-55; 2^(k+1) - 1 when the interval holds none).
 * Two loads and a compare instead of a scan of up to 19 bounds three times
 * a request; test_metrics holds it to the scan at every bound and power of
 * two.
 */
static const uint64_t bucket_by_lz[64] = {
	[0 ... 31] = UINT64_C(18) << 56 | 0,
	[32] = UINT64_C(18) << 56 | 3600000000, [33] = UINT64_C(17) << 56 | 1800000000,
	[34] = UINT64_C(16) << 56 | 600000000, [35] = UINT64_C(15) << 56 | 300000000,
	[36] = UINT64_C(15) << 56 | 268435455, [37] = UINT64_C(15) << 56 | 134217727,
	[38] = UINT64_C(14) << 56 | 60000000, [39] = UINT64_C(13) << 56 | 30000000,
	[40] = UINT64_C(12) << 56 | 10000000, [41] = UINT64_C(11) << 56 | 5000000,
	[42] = UINT64_C(10) << 56 | 2500000, [43] = UINT64_C(10) << 56 | 2097151,
	[44] = UINT64_C(9) << 56 | 1000000, [45] = UINT64_C(8) << 56 | 500000,
	[46] = UINT64_C(7) << 56 | 250000, [47] = UINT64_C(6) << 56 | 100000,
	[48] = UINT64_C(5) << 56 | 50000, [49] = UINT64_C(4) << 56 | 25000,
	[50] = UINT64_C(3) << 56 | 10000, [51] = UINT64_C(2) << 56 | 5000,
	[52] = UINT64_C(2) << 56 | 4095, [53] = UINT64_C(2) << 56 | 2047,
	[54] = UINT64_C(1) << 56 | 1000, [55] = UINT64_C(0) << 56 | 500,
	[56] = UINT64_C(0) << 56 | 255, [57] = UINT64_C(0) << 56 | 127,
	[58] = UINT64_C(0) << 56 | 63,  [59] = UINT64_C(0) << 56 | 31,
	[60] = UINT64_C(0) << 56 | 15,  [61] = UINT64_C(0) << 56 | 7,
	[62] = UINT64_C(0) << 56 | 3,   [63] = UINT64_C(0) << 56 | 1,
};

static inline unsigned int
bucket(uint64_t v_milli)
{
	uint64_t e = bucket_by_lz[__builtin_clzll(v_milli | 1)];

	return (unsigned int)(e >> 56) + (v_milli > (e & ((UINT64_C(1) << 56) - 1)));
}

static inline void
observe(struct hf_metrics_hist *h, uint64_t v_milli, uint64_t sum_v)
{
	h->n[bucket(v_milli)]++;
	h->sum += sum_v;
}

unsigned int
hf_metrics_bucket(uint64_t v_milli)
{
	return bucket(v_milli);
}

void
hf_metrics_observe(struct hf_metrics_hist *h, uint64_t v_milli, uint64_t sum_v)
{
	observe(h, v_milli, sum_v);
}

/* A 64-bit mix of the key (the finalizer of MurmurHash3). */
static uint64_t
mix(uint64_t k)
{
	k ^= k >> 33;
	k *= UINT64_C(0xff51afd7ed558ccd);
	k ^= k >> 33;
	k *= UINT64_C(0xc4ceb9fe1a85ec53);
	return k ^ (k >> 33);
}

uint32_t
hf_metrics_off(const struct hf_worker *w)
{
	return w->snap != NULL ? w->snap->metrics_off : 0;
}

/* The HTTP series (@p cluster_id, @p code, @p flag) in the table, claimed if new; NULL: no room. */
static struct hf_metrics_http *
http_series(struct hf_metrics *m, uint64_t cluster_id, uint16_t code, uint8_t flag)
{
	uint64_t h = mix(cluster_id ^ ((uint64_t)code << 8 | flag) * UINT64_C(0x9e3779b97f4a7c15));

	for (unsigned int i = 0; i < PROBES; i++) {
		struct hf_metrics_http *e = &m->http[(h + i) & m->http_mask];

		if (!e->used) {
			e->cluster_id = cluster_id;
			e->code = code;
			e->flag = flag;
			/* The key is whole before the agent may see the slot. */
			__atomic_store_n(&e->used, 1, __ATOMIC_RELEASE);
			return e;
		}
		if (e->cluster_id == cluster_id && e->code == code && e->flag == flag)
			return e;
	}
	return NULL;
}

void
hf_metrics_http_done(struct hf_worker *w, uint64_t cluster_id, uint16_t code, uint8_t flag,
		     uint64_t duration_us, uint64_t rq_bytes, uint64_t rs_bytes)
{
	struct hf_metrics *m = &w->metrics;
	uint32_t off = hf_metrics_off(w);
	struct hf_metrics_http *s;

	if (m->http == NULL || (off & HF_METRICS_HTTP_ALL) == HF_METRICS_HTTP_ALL)
		return;
	s = m->last_http;
	if (s == NULL || s->cluster_id != cluster_id || s->code != code || s->flag != flag) {
		s = http_series(m, cluster_id, code, flag);
		if (unlikely(s == NULL)) {
			HF_COUNT(w, METRICS_DROP_SERIES_OVERFLOW);
			return;
		}
		m->last_http = s;
	}
	/* inline: three calls cost about what the three buckets do */
	if (!(off & HF_METRIC_BIT(HF_METRIC_REQUEST_COUNT)))
		s->requests++;
	if (!(off & HF_METRIC_BIT(HF_METRIC_REQUEST_DURATION)))
		observe(&s->duration, duration_us, duration_us);	/* µs: thousandths of a ms */
	if (!(off & HF_METRIC_BIT(HF_METRIC_REQUEST_SIZE)))
		observe(&s->rq_bytes, rq_bytes * 1000, rq_bytes);
	if (!(off & HF_METRIC_BIT(HF_METRIC_RESPONSE_SIZE)))
		observe(&s->rs_bytes, rs_bytes * 1000, rs_bytes);
}

struct hf_metrics_tcp *
hf_metrics_tcp_series(struct hf_worker *w, uint64_t cluster_id)
{
	struct hf_metrics *m = &w->metrics;
	uint64_t h;

	if (m->tcp == NULL)
		return NULL;
	h = mix(cluster_id);
	for (unsigned int i = 0; i < PROBES; i++) {
		struct hf_metrics_tcp *e = &m->tcp[(h + i) & m->tcp_mask];

		if (!e->used) {
			e->cluster_id = cluster_id;
			__atomic_store_n(&e->used, 1, __ATOMIC_RELEASE);
			return e;
		}
		if (e->cluster_id == cluster_id)
			return e;
	}
	HF_COUNT(w, METRICS_DROP_SERIES_OVERFLOW);
	return NULL;
}
