/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port impairment: the configured rates within statistical bounds, the same
 * seed giving the same run, delays honoured, reordering that releases every
 * frame, and every mbuf accounted for.
 */
#include <math.h>
#include <string.h>

#include <rte_cycles.h>

#include "hf_test.h"
#include "dataplane/impair.h"

static struct hf_impair im;
static struct hf_counters cnt;

static struct rte_mbuf *
frame(uint32_t id)
{
	return hf_test_mbuf(&id, sizeof(id));
}

static uint32_t
id_of(const struct rte_mbuf *m)
{
	return *rte_pktmbuf_mtod(m, const uint32_t *);
}

/* Pushes @p n frames through in bursts of 32 at time @p now; returns frames out. */
static uint64_t
push(uint32_t n, uint64_t now, uint32_t *order, uint64_t *n_order)
{
	struct rte_mbuf *b[64];
	uint64_t out = 0;

	/* n == 0 still makes one call: that is how held frames are drained. */
	for (uint32_t i = 0; i < n || (n == 0 && i == 0); i += 32) {
		uint16_t k = (uint16_t)RTE_MIN(32u, n - i), got;

		for (uint16_t j = 0; j < k; j++)
			b[j] = frame(i + j);
		got = hf_impair_apply(&im, &cnt, b, k, 64, now);
		for (uint16_t j = 0; j < got; j++) {
			if (order != NULL)
				order[(*n_order)++] = id_of(b[j]);
			rte_pktmbuf_free(b[j]);
		}
		out += got;
	}
	return out;
}

static void
within(double got, double n, double p, const char *what)
{
	double sigma = sqrt(n * p * (1 - p));

	print_message("  %-10s %.0f of %.0f (expected %.0f ± %.0f)\n", what, got, n, n * p, 4 * sigma);
	assert_true(fabs(got - n * p) <= 4 * sigma + 1);
}

static void
test_rates(void **state)
{
	struct hf_impair_cfg cfg = {.loss = 0.03, .duplicate = 0.01, .reorder = 0.01, .seed = 7};
	unsigned int pool0 = rte_mempool_avail_count(hf_test_pool());
	uint64_t out;

	(void)state;
	memset(&cnt, 0, sizeof(cnt));
	assert_int_equal(hf_impair_init(&im, &cfg, HF_IMPAIR_RX, rte_get_tsc_hz(), 1), 0);
	out = push(100000, 1000, NULL, NULL);
	for (uint64_t k; (k = push(0, 1000 + rte_get_tsc_hz(), NULL, NULL)) > 0;)
		out += k;	/* whatever is still held */
	within(cnt.v[HF_CNT_IMPAIR_RX_DROPPED], 100000, 0.03, "dropped");
	within(cnt.v[HF_CNT_IMPAIR_RX_DUPLICATED], 100000 * 0.97, 0.01, "duplicated");
	within(cnt.v[HF_CNT_IMPAIR_RX_REORDERED], 100000 * 0.97 * 1.01, 0.01, "reordered");
	/* Conservation: in + duplicates = out + dropped, and no mbuf left behind. */
	assert_int_equal(100000 + cnt.v[HF_CNT_IMPAIR_RX_DUPLICATED],
			 out + cnt.v[HF_CNT_IMPAIR_RX_DROPPED]);
	hf_impair_fini(&im);
	assert_int_equal(rte_mempool_avail_count(hf_test_pool()), pool0);
}

static void
test_deterministic(void **state)
{
	struct hf_impair_cfg cfg = {.loss = 0.1, .duplicate = 0.05, .reorder = 0.05, .seed = 99};
	static uint32_t a[12000], b[12000], c[12000];
	uint64_t na = 0, nb = 0, nc = 0;

	(void)state;
	hf_impair_init(&im, &cfg, HF_IMPAIR_TX, rte_get_tsc_hz(), 3);
	push(10000, 1, a, &na);
	while (push(0, 1 + rte_get_tsc_hz(), a, &na) > 0)
		;
	hf_impair_init(&im, &cfg, HF_IMPAIR_TX, rte_get_tsc_hz(), 3);
	push(10000, 1, b, &nb);
	while (push(0, 1 + rte_get_tsc_hz(), b, &nb) > 0)
		;
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(a[0]));
	cfg.seed = 100;
	hf_impair_init(&im, &cfg, HF_IMPAIR_TX, rte_get_tsc_hz(), 3);
	push(10000, 1, c, &nc);
	while (push(0, 1 + rte_get_tsc_hz(), c, &nc) > 0)
		;
	assert_true(na != nc || memcmp(a, c, na * sizeof(a[0])) != 0);
}

static void
test_delay_and_reorder(void **state)
{
	uint64_t hz = rte_get_tsc_hz(), t0 = 1000000, n = 0;
	struct hf_impair_cfg cfg = {.delay_us = 5000, .reorder = 0.2, .seed = 5};
	static uint32_t order[2000];
	bool moved = false;

	(void)state;
	hf_impair_init(&im, &cfg, HF_IMPAIR_RX, hz, 0);
	assert_int_equal(push(1000, t0, order, &n), 0);			/* all held */
	assert_int_equal(push(0, t0 + hz * 4999 / 1000000, order, &n), 0);	/* not yet */
	/* Each call hands out at most a burst's room; the worker calls once per loop. */
	while (push(0, t0 + hz * 5001 / 1000000, order, &n) > 0)
		;
	while (push(0, t0 + hz, order, &n) > 0)
		;
	assert_int_equal(n, 1000);			/* everything came out */
	for (uint32_t i = 0; i < n; i++)
		moved |= order[i] != i;
	assert_true(moved);				/* and not all in order */
	assert_false(hf_impair_holding(&im));
}

static void
test_off_is_transparent(void **state)
{
	struct hf_impair_cfg cfg = {.seed = 1};
	static uint32_t order[640];
	uint64_t n = 0;

	(void)state;
	hf_impair_init(&im, &cfg, HF_IMPAIR_RX, rte_get_tsc_hz(), 0);
	assert_int_equal(push(640, 5, order, &n), 640);
	for (uint32_t i = 0; i < 640; i++)
		assert_int_equal(order[i], i);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_delay_and_reorder),
		cmocka_unit_test(test_off_is_transparent),
	};

	hf_test_eal(0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
