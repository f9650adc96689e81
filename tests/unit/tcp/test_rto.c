/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 6298 arithmetic against values worked out by hand, the clock
 * granularity term, the bounds (200 ms default floor, 1 s on request, 60 s
 * ceiling), exponential backoff and its cap, Karn's rule and its timestamp
 * exemption, the 3 s SYN fallback, and a long random series against an exact
 * (real-number) model of the filters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>

#include "dataplane/tcp/rto.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void
test_initial(void **state)
{
	struct hf_tcp_rto r;

	(void)state;
	hf_tcp_rto_init(&r);
	assert_int_equal(hf_tcp_rto_get_us(&r), 1000000);	/* 2.1 */
	assert_int_equal(hf_tcp_rto_srtt_us(&r), 0);
	assert_int_equal(hf_tcp_rto_initial_ms(), 1000);
	assert_int_equal(r.min_us, 200000);
	assert_int_equal(r.g_us, 1000);
}

/*
 * Five samples, each step by hand (microseconds, truncated like the code):
 *  R=500000  first: SRTT=500000, RTTVAR=250000, RTO=500000+4*250000
 *  R=300000  |500000-300000|=200000: RTTVAR=(3*250000+200000)/4=237500,
 *            SRTT=(7*500000+300000)/8=475000, RTO=475000+950000
 *  R=475000  delta 0: RTTVAR=3*237500/4=178125, SRTT=475000, RTO=475000+712500
 *  R=1000000 delta 525000: RTTVAR=(534375+525000)/4=264843.75,
 *            SRTT=(3325000+1000000)/8=540625, RTO=540625+1059372
 *  R=100000  delta 440625: RTTVAR=(794529+440625)/4=308788.5,
 *            SRTT=(3784375+100000)/8=485546.875, RTO=485546+1235152
 */
static void
test_rfc6298_by_hand(void **state)
{
	static const struct {
		uint64_t r;
		uint32_t srtt, rttvar, rto;
	} t[] = {
		{500000, 500000, 250000, 1500000},
		{300000, 475000, 237500, 1425000},
		{475000, 475000, 178125, 1187500},
		{1000000, 540625, 264843, 1599997},
		{100000, 485546, 308788, 1720698},
	};
	struct hf_tcp_rto r;

	(void)state;
	hf_tcp_rto_init(&r);
	for (size_t i = 0; i < N_ELEMS(t); i++) {
		hf_tcp_rto_sample(&r, t[i].r);
		assert_int_equal(r.srtt_us, t[i].srtt);
		assert_int_equal(r.rttvar_us, t[i].rttvar);
		assert_int_equal(hf_tcp_rto_get_us(&r), t[i].rto);
	}
}

/*
 * G: with a steady 100 ms path RTTVAR decays by 3/4 per sample (50000,
 * 37500, 28125, ...); once 4*RTTVAR drops below G = 1 ms, RTO = SRTT + G.
 * The floor is lowered to 1 us so that nothing else hides the term.
 */
static void
test_granularity_term(void **state)
{
	struct hf_tcp_rto r;

	(void)state;
	hf_tcp_rto_init(&r);
	assert_int_equal(hf_tcp_rto_configure(&r, 1, 1000), 0);
	for (int i = 0; i < 19; i++)
		hf_tcp_rto_sample(&r, 100000);
	assert_int_equal(r.rttvar_us, 280);			/* 4*280 = 1120 > G */
	assert_int_equal(hf_tcp_rto_get_us(&r), 101120);
	hf_tcp_rto_sample(&r, 100000);
	assert_int_equal(r.rttvar_us, 210);			/* 4*210 = 840 < G */
	assert_int_equal(hf_tcp_rto_get_us(&r), 101000);
	/* A coarser clock: G = 50 ms dominates at once. */
	assert_int_equal(hf_tcp_rto_configure(&r, 1, 50000), 0);
	assert_int_equal(hf_tcp_rto_get_us(&r), 150000);
}

static void
test_bounds(void **state)
{
	struct hf_tcp_rto r;

	(void)state;
	/* A 1 ms path: 1000 + 4*500 = 3 ms, raised to the 200 ms default floor. */
	hf_tcp_rto_init(&r);
	hf_tcp_rto_sample(&r, 1000);
	assert_int_equal(hf_tcp_rto_get_us(&r), HF_TCP_RTO_MIN_US);
	/* RFC 6298 2.4 to the letter: 1 s. */
	assert_int_equal(hf_tcp_rto_configure(&r, 1000000, 1000), 0);
	assert_int_equal(hf_tcp_rto_get_us(&r), 1000000);
	/* Before any sample the configured floor applies to the initial value too. */
	hf_tcp_rto_init(&r);
	assert_int_equal(hf_tcp_rto_configure(&r, 2000000, 1000), 0);
	assert_int_equal(hf_tcp_rto_get_us(&r), 2000000);
	/* 100 s: the sample counts as 60 s and the RTO is capped at 60 s. */
	hf_tcp_rto_init(&r);
	hf_tcp_rto_sample(&r, 100000000);
	assert_int_equal(r.srtt_us, HF_TCP_RTO_MAX_US);
	assert_int_equal(hf_tcp_rto_get_us(&r), HF_TCP_RTO_MAX_US);
	/* Absurd samples do not overflow anything. */
	hf_tcp_rto_sample(&r, UINT64_MAX);
	assert_int_equal(hf_tcp_rto_get_us(&r), HF_TCP_RTO_MAX_US);
	/* A sample of 0 (sub-microsecond path) still counts as a sample. */
	hf_tcp_rto_init(&r);
	hf_tcp_rto_sample(&r, 0);
	assert_int_equal(hf_tcp_rto_srtt_us(&r), 1);
	assert_int_equal(hf_tcp_rto_get_us(&r), HF_TCP_RTO_MIN_US);
}

static void
test_configure_refuses(void **state)
{
	static const uint32_t bad[][2] = {
	        {0, 1000},
	        {HF_TCP_RTO_MAX_US + 1, 1000},
	        {200000, 0},
	        {200000, HF_TCP_RTO_MAX_US + 1},
	};
	struct hf_tcp_rto r;

	(void)state;
	hf_tcp_rto_init(&r);
	for (size_t i = 0; i < N_ELEMS(bad); i++)
		assert_int_equal(hf_tcp_rto_configure(&r, bad[i][0], bad[i][1]), -EINVAL);
	assert_int_equal(r.min_us, HF_TCP_RTO_MIN_US);
	assert_int_equal(r.g_us, HF_TCP_RTO_G_US);
	assert_int_equal(hf_tcp_rto_configure(&r, HF_TCP_RTO_MAX_US, 1), 0);
	assert_int_equal(hf_tcp_rto_get_us(&r), HF_TCP_RTO_MAX_US);
}

/* 5.5: each expiry doubles the RTO up to 60 s; the next sample collapses it (5.7 note). */
static void
test_backoff(void **state)
{
	static const uint32_t want[] = {
		300000, 600000, 1200000, 2400000, 4800000, 9600000, 19200000, 38400000,
		60000000, 60000000, 60000000,
	};
	struct hf_tcp_rto r;

	(void)state;
	hf_tcp_rto_init(&r);
	hf_tcp_rto_sample(&r, 100000);	/* RTO 300 ms */
	for (size_t i = 0; i < N_ELEMS(want); i++) {
		assert_int_equal(hf_tcp_rto_get_us(&r), want[i]);
		hf_tcp_rto_backoff(&r);
	}
	assert_int_equal(r.backoff, 8);	/* stops counting at the cap */
	for (int i = 0; i < 1000; i++)
		hf_tcp_rto_backoff(&r);
	assert_int_equal(hf_tcp_rto_get_us(&r), HF_TCP_RTO_MAX_US);
	assert_int_equal(r.backoff, 8);
	/* A new sample: RTTVAR 3/4*50000 + 0 = 37500, RTO 100000 + 150000, no backoff. */
	hf_tcp_rto_sample(&r, 100000);
	assert_int_equal(r.backoff, 0);
	assert_int_equal(hf_tcp_rto_get_us(&r), 250000);
	/* Backoff from the initial 1 s, then cleared without a sample. */
	hf_tcp_rto_init(&r);
	hf_tcp_rto_backoff(&r);
	hf_tcp_rto_backoff(&r);
	assert_int_equal(hf_tcp_rto_get_us(&r), 4000000);
	hf_tcp_rto_backoff_clear(&r);
	assert_int_equal(hf_tcp_rto_get_us(&r), 1000000);
}

/* RFC 6298 3: no sample from a retransmitted segment, unless timed by the timestamp echo. */
static void
test_karn(void **state)
{
	static const struct {
		unsigned int flags;
		int rc;
	} t[] = {
		{0, 0},
		{HF_TCP_RTT_TIMESTAMP, 0},
		{HF_TCP_RTT_RETRANSMITTED, -EAGAIN},
		{HF_TCP_RTT_RETRANSMITTED | HF_TCP_RTT_TIMESTAMP, 0},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(t); i++) {
		struct hf_tcp_rto r;

		hf_tcp_rto_init(&r);
		hf_tcp_rto_backoff(&r);
		assert_int_equal(hf_tcp_rto_measure(&r, 100000, t[i].flags), t[i].rc);
		if (t[i].rc == 0) {
			assert_int_equal(r.srtt_us, 100000);
			assert_int_equal(hf_tcp_rto_get_us(&r), 300000);
		} else {
			/* Refused: nothing moved, the backoff stays. */
			assert_int_equal(r.srtt_us, 0);
			assert_int_equal(hf_tcp_rto_get_us(&r), 2000000);
		}
	}
}

/* 5.7: a lost SYN and no sample: at least 3 s once data flows. */
static void
test_syn_fallback(void **state)
{
	struct hf_tcp_rto r;

	(void)state;
	hf_tcp_rto_init(&r);
	hf_tcp_rto_backoff(&r);
	hf_tcp_rto_syn_lost(&r);
	assert_int_equal(hf_tcp_rto_get_us(&r), 3000000);
	/* With a sample (timestamps on the handshake) nothing changes. */
	hf_tcp_rto_init(&r);
	hf_tcp_rto_sample(&r, 100000);
	hf_tcp_rto_syn_lost(&r);
	assert_int_equal(hf_tcp_rto_get_us(&r), 300000);
	/* Already above 3 s: kept. */
	hf_tcp_rto_init(&r);
	assert_int_equal(hf_tcp_rto_configure(&r, 5000000, 1000), 0);
	hf_tcp_rto_syn_lost(&r);
	assert_int_equal(hf_tcp_rto_get_us(&r), 5000000);
}

/*
 * 10,000 random samples (10 us .. 2 s, with bursts and quiet stretches)
 * against the filters in real numbers: truncating to the microsecond never
 * drifts far, since each filter forgets its past geometrically: SRTT by at
 * most 1/(1 - 7/8) = 8 us, RTTVAR by at most (1 + 8/4)/(1 - 3/4) = 12 us.
 */
static void
test_random_against_real_numbers(void **state)
{
	struct hf_tcp_rto r;
	double srtt = 0, rttvar = 0;
	uint64_t x = 0x1234567887654321ull;

	(void)state;
	hf_tcp_rto_init(&r);
	for (int i = 0; i < 10000; i++) {
		uint64_t rtt;
		double rto;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		rtt = 10 + (x >> 8) % ((i / 1000) % 2 ? 2000000 : 20000);
		hf_tcp_rto_sample(&r, rtt);
		if (i == 0) {
			srtt = (double)rtt;
			rttvar = rtt / 2.0;
		} else {
			rttvar = 0.75 * rttvar + 0.25 * fabs(srtt - (double)rtt);
			srtt = 0.875 * srtt + 0.125 * (double)rtt;
		}
		rto = srtt + fmax(1000.0, 4 * rttvar);
		rto = fmin(fmax(rto, 200000.0), 60000000.0);
		assert_true(fabs(r.srtt_us - srtt) <= 8.0);
		assert_true(fabs(r.rttvar_us - rttvar) <= 16.0);
		assert_true(fabs(hf_tcp_rto_get_us(&r) - rto) <= 80.0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial),
		cmocka_unit_test(test_rfc6298_by_hand),
		cmocka_unit_test(test_granularity_term),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_configure_refuses),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_karn),
		cmocka_unit_test(test_syn_fallback),
		cmocka_unit_test(test_random_against_real_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
