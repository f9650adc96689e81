/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The load generator's latency histogram: percentiles of known distributions
 * within the stated error (v <= reported < v * (1 + 2^-k)), the range limits,
 * merge, reset, and the bucket layout across every magnitude.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bench/loadgen/hist.h"
#include "bench/loadgen/sched.h"

#define K        5 /* 2^-5: within 3.125% */
#define HOUR_NS  (UINT64_C(3600) * 1000 * 1000 * 1000)
#define N_VALUES 1000000

static uint64_t *values; /* N_VALUES samples, for the exact quantiles */

/* Uniform in (0, 1]. */
static double
rng_unit(uint64_t *x)
{
	return (double)((hf_splitmix64(x) >> 11) + 1) * 0x1p-53;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* @p got reports @p v as the contract says: v <= got < v * (1 + 2^-K), exact below 2^K. */
static void
assert_within(uint64_t got, uint64_t v, const char *what)
{
	if (got < v || (double)(got - v) >= (double)v / (1 << K))
		fail_msg("%s: reported %llu for %llu, beyond 2^-%d", what, (unsigned long long)got,
		         (unsigned long long)v, K);
}

/* The rank-th smallest of n sorted values, rank = ceil(p/100 * n) as the histogram counts. */
static uint64_t
exact_at(const uint64_t *sorted, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n - 1e-9);

	return sorted[rank == 0 ? 0 : rank - 1];
}

/* Records values[0..n), then checks the usual percentiles against the sorted values. */
static void
check_against_exact(struct hf_hist *h, size_t n)
{
	static const double pct[] = {0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100};
	char what[32];

	qsort(values, n, sizeof(values[0]), cmp_u64);
	for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
		snprintf(what, sizeof(what), "p%g", pct[i]);
		assert_within(hf_hist_value_at(h, pct[i]), exact_at(values, n, pct[i]), what);
	}
	assert_int_equal(hf_hist_min(h), values[0]);
	assert_int_equal(hf_hist_max(h), values[n - 1]);
	assert_int_equal(hf_hist_value_at(h, 100), values[n - 1]);
}

static void
test_layout(void **state)
{
	struct hf_hist *h = hf_hist_create(HOUR_NS, K);
	uint8_t buf[64];

	(void)state;
	assert_non_null(h);
	/* (42 - 5 + 1) powers of two of 32 buckets, plus the exact ones below 64: ~10 KB. */
	assert_true(hf_hist_memsize(HOUR_NS, K) < 12 * 1024);
	assert_int_equal(hf_hist_memsize(HOUR_NS, 0), 0);
	assert_int_equal(hf_hist_memsize(HOUR_NS, HF_HIST_SUB_BITS_MAX + 1), 0);
	assert_null(hf_hist_create(HOUR_NS, 0));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(hf_hist_init((struct hf_hist *)buf, sizeof(buf), HOUR_NS, K), -ENOSPC);
	assert_int_equal(hf_hist_init((struct hf_hist *)buf, sizeof(buf), HOUR_NS, 99), -EINVAL);

	/* Empty: every statistic is 0. */
	assert_int_equal(h->count, 0);
	assert_int_equal(hf_hist_min(h), 0);
	assert_int_equal(hf_hist_max(h), 0);
	assert_true(hf_hist_mean(h) == 0.0);
	assert_int_equal(hf_hist_value_at(h, 50), 0);
	hf_hist_free(h);
}

/*
 * Every magnitude from 1 ns to an hour, at and around each power of two and
 * at random points: the bucket holds the value, is no wider than 2^-K of it,
 * and the buckets tile the range (each one starts where the previous ended).
 */
static void
test_error_bound_all_magnitudes(void **state)
{
	struct hf_hist *h = hf_hist_create(HOUR_NS, K);
	uint64_t rng = 42;

	(void)state;
	for (uint64_t v = 0; v < 4096; v++) { /* small values, one by one */
		uint64_t lo = hf_hist_lowest_equivalent(h, v),
		         hi = hf_hist_highest_equivalent(h, v);

		assert_true(lo <= v && v <= hi);
		if (v < (2 << K))
			assert_true(lo == v && hi == v); /* exact */
		if (v > 0 && lo == v)
			assert_int_equal(hf_hist_highest_equivalent(h, v - 1), v - 1);
	}
	for (unsigned int e = 0; e < 42; e++) {
		uint64_t p = UINT64_C(1) << e;
		uint64_t probe[] = {p - 1,
		                    p,
		                    p + 1,
		                    p + p / 3,
		                    2 * p - 1,
		                    p + hf_splitmix64(&rng) % p,
		                    p + hf_splitmix64(&rng) % p};

		for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
			uint64_t v = probe[i], hi = hf_hist_highest_equivalent(h, v);
			uint64_t lo = hf_hist_lowest_equivalent(h, v);

			if (v == 0 || v > HOUR_NS)
				continue;
			assert_true(lo <= v);
			assert_within(hi, v, "highest equivalent");
			assert_true((hi - lo + 1) <= (lo >> K) || hi == lo);
			/* The next bucket starts right after this one. */
			if (hi < HOUR_NS)
				assert_int_equal(hf_hist_lowest_equivalent(h, hi + 1), hi + 1);
			/* And through a percentile, with a larger value so the max cap stays out of
			 * it. */
			hf_hist_reset(h);
			hf_hist_record_n(h, v, 99);
			hf_hist_record(h, HOUR_NS);
			assert_within(hf_hist_value_at(h, 50), v, "p50 of one magnitude");
		}
	}
	hf_hist_free(h);
}

/* Uniform 1..1,000,000 ns, each once: the quantiles are known exactly. */
static void
test_uniform(void **state)
{
	struct hf_hist *h = hf_hist_create(HOUR_NS, K);

	(void)state;
	for (uint64_t v = 1; v <= 1000000; v++)
		hf_hist_record(h, v);
	assert_int_equal(h->count, 1000000);
	assert_within(hf_hist_value_at(h, 50), 500000, "p50");
	assert_within(hf_hist_value_at(h, 90), 900000, "p90");
	assert_within(hf_hist_value_at(h, 99), 990000, "p99");
	assert_within(hf_hist_value_at(h, 99.9), 999000, "p99.9");
	assert_int_equal(hf_hist_value_at(h, 100), 1000000);
	assert_int_equal(hf_hist_min(h), 1);
	assert_int_equal(hf_hist_max(h), 1000000);
	assert_true(hf_hist_mean(h) == 500000.5);
	hf_hist_free(h);
}

/* Exponential latencies of mean 100 µs: the exact quantiles, and the theoretical ones -mean
 * ln(1-p). */
static void
test_exponential(void **state)
{
	struct hf_hist *h = hf_hist_create(HOUR_NS, K);
	const double mean = 100000.0;
	uint64_t rng = 7;
	static const double pct[] = {50, 90, 99};

	(void)state;
	for (size_t i = 0; i < N_VALUES; i++) {
		values[i] = (uint64_t)(-log(rng_unit(&rng)) * mean) + 1;
		hf_hist_record(h, values[i]);
	}
	/* The sample mean of 10^6 draws is within 0.5% (five standard errors). */
	assert_true(fabs(hf_hist_mean(h) / (mean + 0.5) - 1.0) < 0.005);
	for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
		double want = -mean * log(1.0 - pct[i] / 100.0);
		double got = (double)hf_hist_value_at(h, pct[i]);

		/* Bucket error plus 1% of sampling error (p99's is 0.2% here). */
		if (got < want * 0.99 || got > want * (1.0 + 1.0 / (1 << K)) * 1.01)
			fail_msg("p%g: %.0f, theory %.0f", pct[i], got, want);
	}
	check_against_exact(h, N_VALUES);
	hf_hist_free(h);
}

/*
 * The rank of percentile p is ceil(p/100 * count) in exact arithmetic, though
 * p/100 is not exact in binary: 28% of 25 is 7.000000000000001 in doubles, and
 * must still be rank 7, not 8. Values 1..n below 2^(K+1) sit in a bucket each,
 * so the value reported is the rank itself.
 */
static void
test_rank_rounding(void **state)
{
	struct hf_hist *h = hf_hist_create(HOUR_NS, K);

	(void)state;
	for (uint64_t n = 1; n < (2 << K); n++) {
		hf_hist_reset(h);
		for (uint64_t v = 1; v <= n; v++)
			hf_hist_record(h, v);
		for (uint64_t tenths = 1; tenths < 1000; tenths++) {
			uint64_t rank = (tenths * n + 999) / 1000;

			if (hf_hist_value_at(h, (double)tenths / 10) != rank)
				fail_msg("p%g of 1..%llu: %llu, want %llu", (double)tenths / 10,
				         (unsigned long long)n,
				         (unsigned long long)hf_hist_value_at(h,
				                                              (double)tenths / 10),
				         (unsigned long long)rank);
		}
	}
	hf_hist_free(h);
}

/* One constant: every percentile is the constant itself, exactly (the cap at max). */
static void
test_constant(void **state)
{
	struct hf_hist *h = hf_hist_create(HOUR_NS, K);

	(void)state;
	hf_hist_record_n(h, 99, 0); /* no occurrence: no effect */
	hf_hist_record_n(h, 12345, 1000);
	assert_int_equal(h->count, 1000);
	assert_int_equal(hf_hist_value_at(h, 0), 12345);
	assert_int_equal(hf_hist_value_at(h, 50), 12345);
	assert_int_equal(hf_hist_value_at(h, 99.9), 12345);
	assert_int_equal(hf_hist_value_at(h, 100), 12345);
	assert_true(hf_hist_mean(h) == 12345.0);
	hf_hist_free(h);
}

/*
 * 98.5% of requests near 100 µs, 1.5% near 10 ms (a slow upstream), shuffled:
 * p50 and p98 are in the fast mode, p99 must land in the slow one.
 */
static void
test_bimodal(void **state)
{
	struct hf_hist *h = hf_hist_create(HOUR_NS, K);
	uint64_t rng = 11;
	size_t n = 200000, slow = n * 15 / 1000;

	(void)state;
	for (size_t i = 0; i < n; i++)
		values[i] = i < slow ? 9000000 + hf_splitmix64(&rng) % 2000001
		                     : 90000 + hf_splitmix64(&rng) % 20001;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = hf_splitmix64(&rng) % (i + 1);
		uint64_t t = values[i];

		values[i] = values[j];
		values[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		hf_hist_record(h, values[i]);
	assert_true(hf_hist_value_at(h, 50) <= 110000 * (1.0 + 1.0 / (1 << K)));
	assert_true(hf_hist_value_at(h, 98) <= 110000 * (1.0 + 1.0 / (1 << K)));
	assert_true(hf_hist_value_at(h, 99) >= 9000000);
	assert_true(hf_hist_value_at(h, 99.9) >= 9000000);
	check_against_exact(h, n);
	hf_hist_free(h);
}

/* 1 ns, the largest trackable value, and beyond it: clamped, counted, never lost. */
static void
test_range_limits(void **state)
{
	struct hf_hist *h = hf_hist_create(HOUR_NS, K);

	(void)state;
	hf_hist_record(h, 1);
	assert_int_equal(hf_hist_value_at(h, 50), 1);
	hf_hist_record(h, HOUR_NS);
	assert_int_equal(hf_hist_min(h), 1);
	assert_int_equal(hf_hist_max(h), HOUR_NS);
	assert_int_equal(hf_hist_value_at(h, 0), 1);
	assert_int_equal(hf_hist_value_at(h, 50), 1);
	assert_int_equal(hf_hist_value_at(h, 100), HOUR_NS);
	assert_int_equal(h->saturated, 0);

	hf_hist_record(h, HOUR_NS * 10);
	hf_hist_record(h, UINT64_MAX);
	assert_int_equal(h->saturated, 2);
	assert_int_equal(h->count, 4);
	assert_int_equal(hf_hist_max(h), HOUR_NS);
	assert_int_equal(hf_hist_value_at(h, 75), HOUR_NS);

	/* A histogram may track the whole 64-bit range. */
	struct hf_hist *w = hf_hist_create(UINT64_MAX, K);

	assert_non_null(w);
	hf_hist_record(w, UINT64_MAX);
	hf_hist_record(w, 0);
	assert_int_equal(w->saturated, 0);
	assert_int_equal(hf_hist_value_at(w, 100), UINT64_MAX);
	assert_int_equal(hf_hist_value_at(w, 50), 0);
	assert_int_equal(hf_hist_highest_equivalent(w, UINT64_MAX), UINT64_MAX);
	hf_hist_free(w);
	hf_hist_free(h);
}

/* Same buckets, same statistics. */
static void
assert_same(const struct hf_hist *a, const struct hf_hist *b)
{
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->sum, b->sum);
	assert_int_equal(a->min, b->min);
	assert_int_equal(a->max, b->max);
	assert_int_equal(a->saturated, b->saturated);
	assert_int_equal(a->n_buckets, b->n_buckets);
	assert_memory_equal(a->counts, b->counts, a->n_buckets * sizeof(a->counts[0]));
}

/* Four workers' histograms merged equal one histogram that saw every value. */
static void
test_merge(void **state)
{
	struct hf_hist *all = hf_hist_create(HOUR_NS, K), *sum = hf_hist_create(HOUR_NS, K);
	struct hf_hist *w[4];
	uint64_t rng = 3;

	(void)state;
	for (int i = 0; i < 4; i++)
		w[i] = hf_hist_create(HOUR_NS, K);
	for (int i = 0; i < 400000; i++) {
		uint64_t v = (uint64_t)(-log(rng_unit(&rng)) * (i % 4 + 1) * 50000.0);

		if (i % 1000 == 0)
			v = HOUR_NS + 1; /* saturated ones merge too */
		hf_hist_record(all, v);
		hf_hist_record(w[i % 4], v);
	}
	hf_hist_record(w[3], 0); /* one worker with a new minimum */
	hf_hist_record(all, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(hf_hist_merge(sum, w[i]), 0);
	assert_same(sum, all);
	assert_int_equal(hf_hist_value_at(sum, 99.9), hf_hist_value_at(all, 99.9));

	/* Merging an empty histogram changes nothing. */
	hf_hist_reset(w[0]);
	assert_int_equal(hf_hist_merge(sum, w[0]), 0);
	assert_same(sum, all);

	/* Layouts that cannot merge leave the destination alone. */
	struct hf_hist *fine = hf_hist_create(HOUR_NS, 7), *wide = hf_hist_create(UINT64_MAX, K);
	struct hf_hist *narrow = hf_hist_create(1000000, K);

	hf_hist_record(fine, 5);
	assert_int_equal(hf_hist_merge(sum, fine), -EINVAL);
	assert_same(sum, all);
	hf_hist_record(wide, HOUR_NS * 2);
	assert_int_equal(hf_hist_merge(sum, wide), -ERANGE);
	assert_same(sum, all);
	/* A narrower range merges into a wider one. */
	hf_hist_record(narrow, 777);
	hf_hist_record(all, 777);
	assert_int_equal(hf_hist_merge(sum, narrow), 0);
	assert_same(sum, all);

	hf_hist_free(narrow);
	hf_hist_free(wide);
	hf_hist_free(fine);
	for (int i = 0; i < 4; i++)
		hf_hist_free(w[i]);
	hf_hist_free(sum);
	hf_hist_free(all);
}

/* Reset empties everything and the histogram records afresh, as new. */
static void
test_reset(void **state)
{
	struct hf_hist *h = hf_hist_create(HOUR_NS, K), *fresh = hf_hist_create(HOUR_NS, K);

	(void)state;
	for (uint64_t v = 1; v < 100000; v += 7)
		hf_hist_record(h, v * 1000);
	hf_hist_record(h, UINT64_MAX);
	hf_hist_reset(h);
	assert_int_equal(h->count, 0);
	assert_int_equal(h->saturated, 0);
	assert_int_equal(hf_hist_min(h), 0);
	assert_int_equal(hf_hist_max(h), 0);
	assert_int_equal(hf_hist_value_at(h, 99), 0);
	assert_same(h, fresh);
	hf_hist_record(h, 42);
	assert_int_equal(hf_hist_min(h), 42);
	assert_int_equal(hf_hist_value_at(h, 50), 42);
	hf_hist_free(fresh);
	hf_hist_free(h);
}

/* The iterator walks the non-empty buckets in order, adding up to the count; print succeeds. */
static void
test_iterate_and_print(void **state)
{
	struct hf_hist *h = hf_hist_create(HOUR_NS, K);
	struct hf_hist_iter it;
	struct hf_hist_bucket b;
	uint64_t last_hi = 0, total = 0;
	unsigned int n = 0;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	hf_hist_record_n(h, 100, 3);
	hf_hist_record_n(h, 5000, 2);
	hf_hist_record_n(h, 1000000, 1);
	hf_hist_iter_init(&it);
	while (hf_hist_iter_next(h, &it, &b)) {
		assert_true(n == 0 || b.lo > last_hi);
		assert_true(b.lo <= b.hi);
		total += b.count;
		assert_int_equal(b.cumulative, total);
		last_hi = b.hi;
		n++;
	}
	assert_int_equal(n, 3);
	assert_int_equal(total, 6);
	assert_false(hf_hist_iter_next(h, &it, &b)); /* stays at the end */

	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(hf_hist_print(h, f, 1000.0), 0);
	fclose(f);
	assert_non_null(strstr(text, "count 6"));
	assert_non_null(strstr(text, "p99.9"));
	assert_non_null(strstr(text, "1000.000")); /* the max, in µs */
	free(text);
	hf_hist_free(h);
}

static int
setup(void **state)
{
	(void)state;
	values = malloc(N_VALUES * sizeof(values[0]));
	return values == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	free(values);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_layout),
	        cmocka_unit_test(test_error_bound_all_magnitudes),
	        cmocka_unit_test(test_uniform),
	        cmocka_unit_test(test_exponential),
	        cmocka_unit_test(test_rank_rounding),
	        cmocka_unit_test(test_constant),
	        cmocka_unit_test(test_bimodal),
	        cmocka_unit_test(test_range_limits),
	        cmocka_unit_test(test_merge),
	        cmocka_unit_test(test_reset),
	        cmocka_unit_test(test_iterate_and_print),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
