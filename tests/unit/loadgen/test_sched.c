/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The open-loop schedule, on a simulated clock (nothing sleeps, nothing reads
 * the real time): the rate it hands requests out at, constant and Poisson; the
 * order of intended times; and a stalled caller, whose backlog arrives bounded
 * per poll with intended times in the past, so that the stall is measured as
 * latency rather than hidden (coordinated omission).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "bench/loadgen/hist.h"
#include "bench/loadgen/sched.h"

#define BURST    32
#define HZ_ROUND UINT64_C(3000000000) /* 3 GHz: whole periods */
#define HZ_ODD   UINT64_C(2100000007) /* a prime: no rate divides it */

/*
 * Polls @p s from @p t0 until @p t0 + @p span - 1 at random intervals of up to
 * @p max_step ticks, as a busy worker would, and returns how many requests were
 * handed out. On the way it checks every contract a poll makes: each intended
 * time is due (<= now), none goes backwards (strictly forward if @p strict),
 * and one not handed out by a poll that had room was not yet due then.
 */
static uint64_t
run(struct hf_sched *s, uint64_t t0, uint64_t span, uint64_t max_step, uint64_t seed, bool strict)
{
	uint64_t intended[BURST], now = t0, prev_now = 0, last = 0, total = 0, rng = seed;
	bool prev_full = true, any = false;
	unsigned int stuck = 0;

	for (;;) {
		unsigned int n = hf_sched_poll(s, now, intended, BURST);

		assert_true(n <= BURST);
		for (unsigned int i = 0; i < n; i++) {
			assert_true(intended[i] <= now);
			assert_true(intended[i] >= t0);
			if (any) {
				assert_true(intended[i] >= last);
				if (strict)
					assert_true(intended[i] > last);
			}
			if (!prev_full) /* the previous poll had room: this one was not due */
				assert_true(intended[i] > prev_now);
			last = intended[i];
			any = true;
		}
		total += n;
		prev_full = n == BURST;
		prev_now = now;
		if (n == BURST) { /* a backlog: poll again at once, as the loop would */
			if (++stuck > 100000000)
				fail_msg("the schedule does not move on at tick %llu",
				         (unsigned long long)now);
			continue;
		}
		stuck = 0;
		if (now == t0 + span - 1)
			break;
		now += 1 + hf_splitmix64(&rng) % max_step;
		if (now > t0 + span - 1)
			now = t0 + span - 1;
	}
	return total;
}

/* Constant rates over one simulated second, on a clock that divides and one that does not. */
static void
test_constant_rate(void **state)
{
	static const struct {
		double rate;
		uint64_t hz, max_step;
	} cases[] = {
	        {10000, HZ_ROUND, 150000}, {10000, HZ_ODD, 150000},   {1000000, HZ_ROUND, 50000},
	        {1000000, HZ_ODD, 50000},  {1, HZ_ROUND, 300000000},  {1, HZ_ODD, 300000000},
	        {7, HZ_ROUND, 30000000},   {123456.5, HZ_ODD, 40000}, {30000000, HZ_ROUND, 3000},
	};
	struct hf_sched s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t t0 = 1000000007 * (i + 1), got;

		assert_int_equal(
		        hf_sched_init(&s, cases[i].rate, cases[i].hz, HF_SCHED_CONSTANT, 0, t0), 0);
		got = run(&s, t0, cases[i].hz, cases[i].max_step, i, true);
		if (fabs((double)got - cases[i].rate) > 1.0)
			fail_msg("rate %g on %llu Hz: %llu requests in one second", cases[i].rate,
			         (unsigned long long)cases[i].hz, (unsigned long long)got);
		assert_int_equal(s.issued, got);
	}

	/* Over ten seconds at 1/s: ten, the first at the start. */
	uint64_t intended[BURST];

	assert_int_equal(hf_sched_init(&s, 1, HZ_ROUND, HF_SCHED_CONSTANT, 0, 500), 0);
	assert_int_equal(hf_sched_next(&s), 500);
	assert_int_equal(run(&s, 500, 10 * HZ_ROUND, 100000000, 9, true), 10);
	assert_int_equal(hf_sched_next(&s), 500 + 10 * HZ_ROUND);

	/* The next request is due at its tick, not one before. */
	assert_int_equal(hf_sched_poll(&s, hf_sched_next(&s) - 1, intended, BURST), 0);
	assert_int_equal(hf_sched_lag(&s, hf_sched_next(&s) - 1), 0);
	assert_int_equal(hf_sched_poll(&s, hf_sched_next(&s), intended, BURST), 1);
	assert_int_equal(intended[0], 500 + 10 * HZ_ROUND);
}

/* A long run at an awkward period does not drift: 10^8 requests land where rate and clock say. */
static void
test_no_drift(void **state)
{
	struct hf_sched s;
	uint64_t intended[BURST], n = 0;

	(void)state;
	/* 2100000007 / 3000000 = 700.0000023 ticks: a 32-bit-fraction-free schedule loses 0.23 s.
	 */
	assert_int_equal(hf_sched_init(&s, 3000000, HZ_ODD, HF_SCHED_CONSTANT, 0, 0), 0);
	while (n < 100000000)
		n += hf_sched_poll(&s, UINT64_MAX, intended, BURST);
	/* Request 10^8 is intended at 10^8 * hz / rate = 70000000233.33 ticks. */
	assert_true(llabs((long long)hf_sched_next(&s) - 70000000233LL) <= 1);
}

/*
 * Poisson arrivals at 10,000/s, seed fixed: counts per second within five
 * standard deviations (sqrt(10,000) = 100), gaps exponential (mean, the share
 * of gaps above the mean, e^-1, and the coefficient of variation 1), and the
 * same seed repeats the same times.
 */
static void
test_poisson(void **state)
{
	struct hf_sched s, t;
	uint64_t intended[BURST], other[BURST], prev = 0, n = 0, above = 0;
	double sum = 0, sum2 = 0, mean_gap = (double)HZ_ROUND / 10000;
	const uint64_t samples = 1000000;

	(void)state;
	for (uint64_t seed = 1; seed <= 5; seed++) {
		uint64_t got;

		assert_int_equal(hf_sched_init(&s, 10000, HZ_ROUND, HF_SCHED_POISSON, seed, 0), 0);
		got = run(&s, 0, HZ_ROUND, 150000, seed, false);
		if (fabs((double)got - 10000.0) > 500.0)
			fail_msg("seed %llu: %llu requests in one second", (unsigned long long)seed,
			         (unsigned long long)got);
	}

	assert_int_equal(hf_sched_init(&s, 10000, HZ_ROUND, HF_SCHED_POISSON, 42, 0), 0);
	assert_int_equal(hf_sched_poll(&s, 0, intended, 1), 1); /* the first, at the start */
	assert_int_equal(intended[0], 0);
	while (n < samples) {
		unsigned int k = hf_sched_poll(&s, UINT64_MAX, intended, BURST);

		for (unsigned int i = 0; i < k; i++) {
			double gap = (double)(intended[i] - prev);

			assert_true(intended[i] >= prev);
			sum += gap;
			sum2 += gap * gap;
			above += gap > mean_gap;
			prev = intended[i];
		}
		n += k;
	}
	/* Standard error of the mean gap: 0.1%; of the share above the mean: 0.05%. */
	double mean = sum / (double)n, cv = sqrt(sum2 / (double)n - mean * mean) / mean;

	assert_true(fabs(mean / mean_gap - 1.0) < 0.005);
	assert_true(fabs((double)above / (double)n - exp(-1.0)) < 0.0025);
	assert_true(fabs(cv - 1.0) < 0.01);

	/* Deterministic: the same seed gives the same times, another seed others. */
	assert_int_equal(hf_sched_init(&s, 10000, HZ_ROUND, HF_SCHED_POISSON, 77, 0), 0);
	assert_int_equal(hf_sched_init(&t, 10000, HZ_ROUND, HF_SCHED_POISSON, 77, 0), 0);
	for (int r = 0; r < 100; r++) {
		assert_int_equal(hf_sched_poll(&s, UINT64_MAX, intended, BURST), BURST);
		assert_int_equal(hf_sched_poll(&t, UINT64_MAX, other, BURST), BURST);
		assert_memory_equal(intended, other, sizeof(intended));
	}
	assert_int_equal(hf_sched_init(&t, 10000, HZ_ROUND, HF_SCHED_POISSON, 78, 0), 0);
	hf_sched_poll(&t, UINT64_MAX, other, BURST);
	hf_sched_poll(&s, UINT64_MAX, intended, BURST);
	assert_true(other[BURST - 1] != intended[BURST - 1]);
}

/*
 * A caller that stops polling for 100 ms at 10,000/s owes 1,000 requests: it
 * gets them 32 per poll, oldest first, every one intended in the past. Their
 * latencies, measured from the intended times (ending when they are sent, as
 * if the server answered at once), spread evenly from 100 ms down to 0: the
 * stall is in the histogram. Measured from the actual send time they would all
 * read 0, which is coordinated omission.
 */
static void
test_stall_backlog(void **state)
{
	struct hf_hist *h = hf_hist_create(UINT64_C(3600) * 1000000000, 5);
	const uint64_t ms = HZ_ROUND / 1000;
	uint64_t intended[BURST], now, backlog = 0, last = 0;
	unsigned int n, polls = 0;
	struct hf_sched s;

	(void)state;
	assert_int_equal(hf_sched_init(&s, 10000, HZ_ROUND, HF_SCHED_CONSTANT, 0, 0), 0);
	/* 10 ms of polling every 10 µs: each request on time, to within one poll. */
	for (now = 0; now < 10 * ms; now += ms / 100) {
		n = hf_sched_poll(&s, now, intended, BURST);
		assert_true(n <= 1);
		for (unsigned int i = 0; i < n; i++) {
			assert_true(now - intended[i] < ms / 100);
			hf_hist_record(h, hf_sched_ticks_to_ns(&s, now - intended[i]));
			last = intended[i];
		}
	}
	assert_int_equal(s.issued, 100);
	assert_true(hf_hist_max(h) < 10000); /* under 10 µs */

	/* Then nothing for 100 ms. */
	now += 100 * ms;
	assert_true(hf_sched_lag(&s, now) > 99 * ms);
	while ((n = hf_sched_poll(&s, now, intended, BURST)) > 0) {
		assert_true(n == BURST || backlog + n >= 1000);
		for (unsigned int i = 0; i < n; i++) {
			assert_true(intended[i] < now || (i == n - 1 && intended[i] == now));
			assert_true(intended[i] > last);
			last = intended[i];
			hf_hist_record(h, hf_sched_ticks_to_ns(&s, now - intended[i]));
		}
		if (polls++ == 0) /* the oldest first: owed since just after the last poll */
			assert_true(now - intended[0] > 99 * ms);
		backlog += n;
	}
	assert_true(backlog == 1000 || backlog == 1001);
	assert_int_equal(polls, (backlog + BURST - 1) / BURST);
	assert_int_equal(hf_sched_lag(&s, now), 0);
	assert_true(hf_sched_next(&s) > now);

	/* 1,100 requests, 1,000 of them late by 0..100 ms evenly: p50 about 45 ms, max about 100.
	 */
	assert_int_equal(h->count, 100 + backlog);
	assert_true(hf_hist_value_at(h, 50) > 40000000 && hf_hist_value_at(h, 50) < 50000000);
	assert_true(hf_hist_value_at(h, 99) > 95000000);
	assert_true(hf_hist_max(h) > 99000000 && hf_hist_max(h) <= 100010000);
	hf_hist_free(h);
}

/* A poll with no room hands out nothing and loses nothing. */
static void
test_bounded(void **state)
{
	struct hf_sched s;
	uint64_t intended[BURST];

	(void)state;
	assert_int_equal(hf_sched_init(&s, 1000, HZ_ROUND, HF_SCHED_CONSTANT, 0, 0), 0);
	assert_int_equal(hf_sched_poll(&s, HZ_ROUND, intended, 0), 0);
	assert_int_equal(hf_sched_poll(&s, HZ_ROUND, intended, 1), 1);
	assert_int_equal(intended[0], 0);
	assert_int_equal(hf_sched_poll(&s, HZ_ROUND, intended, 5), 5);
	assert_int_equal(intended[4], 5 * 3000000);
	assert_int_equal(s.issued, 6);
}

/*
 * |got - want| within the contract: 1 ns of rounding down plus a relative
 * error below hz / (1e9 * 2^33).
 */
static void
assert_ns(const struct hf_sched *s, uint64_t ticks, uint64_t want)
{
	uint64_t got = hf_sched_ticks_to_ns(s, ticks);
	double err = fabs((double)got - (double)want);

	if (err > 1.0 + (double)want * (double)s->hz / (1e9 * 0x1p33))
		fail_msg("%llu ticks at %llu Hz: %llu ns, want %llu", (unsigned long long)ticks,
		         (unsigned long long)s->hz, (unsigned long long)got,
		         (unsigned long long)want);
}

/* Ticks to nanoseconds: within the bound from a tick to an hour, no overflow; exact at 1 GHz. */
static void
test_ticks_to_ns(void **state)
{
	static const uint64_t hz[] = {HZ_ROUND, HZ_ODD, UINT64_C(3999999999), 1000};
	const uint64_t hour = 3600;
	struct hf_sched s;

	(void)state;
	for (size_t i = 0; i < sizeof(hz) / sizeof(hz[0]); i++) {
		assert_int_equal(hf_sched_init(&s, 1, hz[i], HF_SCHED_CONSTANT, 0, 0), 0);
		assert_ns(&s, 0, 0);
		assert_ns(&s, hz[i], 1000000000);
		assert_ns(&s, hz[i] / 1000,
		          (uint64_t)((double)(hz[i] / 1000) * 1e9 / (double)hz[i]));
		assert_ns(&s, hour * hz[i], hour * 1000000000);
		assert_ns(&s, 24 * hour * hz[i], 24 * hour * 1000000000);
	}
	assert_int_equal(hf_sched_init(&s, 1, 1000000000, HF_SCHED_CONSTANT, 0, 0), 0);
	assert_int_equal(hf_sched_ticks_to_ns(&s, 123456789), 123456789);
	assert_int_equal(hf_sched_ticks_to_ns(&s, UINT64_C(1) << 62), UINT64_C(1) << 62);
}

static void
test_invalid(void **state)
{
	struct hf_sched s;

	(void)state;
	assert_int_equal(hf_sched_init(&s, 0, HZ_ROUND, HF_SCHED_CONSTANT, 0, 0), -EINVAL);
	assert_int_equal(hf_sched_init(&s, -5, HZ_ROUND, HF_SCHED_CONSTANT, 0, 0), -EINVAL);
	assert_int_equal(hf_sched_init(&s, NAN, HZ_ROUND, HF_SCHED_CONSTANT, 0, 0), -EINVAL);
	assert_int_equal(hf_sched_init(&s, INFINITY, HZ_ROUND, HF_SCHED_CONSTANT, 0, 0), -EINVAL);
	assert_int_equal(hf_sched_init(&s, 1000, 0, HF_SCHED_CONSTANT, 0, 0), -EINVAL);
	assert_int_equal(hf_sched_init(&s, 1e-12, HZ_ROUND, HF_SCHED_CONSTANT, 0, 0), -EINVAL);
	assert_int_equal(hf_sched_init(&s, 1000, HZ_ROUND, (enum hf_sched_mode)9, 0, 0), -EINVAL);
	/* Faster than the clock is allowed: several requests per tick, in order. */
	assert_int_equal(hf_sched_init(&s, 2 * (double)HZ_ROUND, HZ_ROUND, HF_SCHED_CONSTANT, 0, 0),
	                 0);
	assert_int_equal(run(&s, 0, 1000, 3, 1, false), 2000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_constant_rate), cmocka_unit_test(test_no_drift),
	        cmocka_unit_test(test_poisson),       cmocka_unit_test(test_stall_backlog),
	        cmocka_unit_test(test_bounded),       cmocka_unit_test(test_ticks_to_ns),
	        cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
