/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Congestion control. NewReno: the RFC 6928 initial window, slow start
 * doubling per RTT (RFC 3465 L = 2*SMSS), byte-counted avoidance, ssthresh on
 * loss, RFC 6582 inflation and deflation, the loss window after a timeout.
 * CUBIC: beta on loss, K from its formula, the concave then convex curve
 * around W_max checked against W_cubic(t) computed here, the Reno-friendly
 * region, fast convergence, the flat epoch after a timeout, and a long run
 * against a per-ACK model of RFC 9438 written in segments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "dataplane/tcp/cc.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MSS 1000u

/* One round trip: every segment of the window acknowledged, one ACK each, at time t. */
static void
round_trip(struct hf_tcp_cc *cc, uint64_t t_us, uint32_t rtt_us)
{
	uint32_t n = cc->cwnd / cc->smss;

	for (uint32_t i = 0; i < n; i++)
		hf_tcp_cc_on_ack(cc, cc->smss, t_us, rtt_us, cc->cwnd);
}

static void
test_initial_window(void **state)
{
	/* min(10*MSS, max(2*MSS, 14600)), RFC 6928 2 */
	static const uint32_t t[][2] = {
		{536, 5360},   {1000, 10000}, {1220, 12200}, {1460, 14600},
		{1461, 14600}, {4000, 14600}, {7300, 14600}, {8960, 17920}, {65495, 130990},
	};
	struct hf_tcp_cc cc;

	(void)state;
	for (size_t i = 0; i < N_ELEMS(t); i++) {
		assert_int_equal(hf_tcp_cc_initial_window(t[i][0]), t[i][1]);
		assert_int_equal(hf_tcp_cc_init(&cc, HF_TCP_CC_CUBIC, t[i][0]), 0);
		assert_int_equal(cc.cwnd, t[i][1]);
		assert_int_equal(cc.ssthresh, UINT32_MAX);
		assert_true(hf_tcp_cc_in_slow_start(&cc));
	}
}

static void
test_init_and_ops(void **state)
{
	struct hf_tcp_cc cc;

	(void)state;
	assert_int_equal(hf_tcp_cc_init(&cc, HF_TCP_CC_NEWRENO, MSS), 0);
	assert_ptr_equal(cc.ops, &hf_tcp_cc_newreno);
	assert_string_equal(hf_tcp_cc_name(&cc), "newreno");
	assert_int_equal(hf_tcp_cc_init(&cc, HF_TCP_CC_CUBIC, MSS), 0);
	assert_ptr_equal(cc.ops, &hf_tcp_cc_cubic);
	assert_string_equal(hf_tcp_cc_name(&cc), "cubic");
	/* Refused, but left usable. */
	assert_int_equal(hf_tcp_cc_init(&cc, (enum hf_tcp_cc_algo)42, MSS), -EINVAL);
	assert_ptr_equal(cc.ops, &hf_tcp_cc_newreno);
	assert_int_equal(cc.cwnd, 10 * MSS);
	assert_int_equal(hf_tcp_cc_init(&cc, HF_TCP_CC_CUBIC, 0), -EINVAL);
	assert_int_equal(cc.smss, 536);
	assert_int_equal(cc.cwnd, 5360);
}

/* The wrappers go through whatever table the connection holds. */
static unsigned int calls[4];

static void
fake_ack(struct hf_tcp_cc *cc, uint32_t acked, uint64_t now_us, uint32_t rtt_us, uint32_t fl)
{
	(void)cc;
	calls[0] += acked == 1 && now_us == 2 && rtt_us == 3 && fl == 4;
}

static void
fake_enter(struct hf_tcp_cc *cc, uint32_t in_flight, uint64_t now_us)
{
	(void)cc;
	calls[1] += in_flight == 5 && now_us == 6;
}

static void
fake_exit(struct hf_tcp_cc *cc)
{
	(void)cc;
	calls[2]++;
}

static void
fake_rto(struct hf_tcp_cc *cc, uint32_t in_flight)
{
	(void)cc;
	calls[3] += in_flight == 7;
}

static void
test_ops_dispatch(void **state)
{
	static const struct hf_tcp_cc_ops fake = {
		.name = "fake",
		.on_ack = fake_ack,
		.on_enter_recovery = fake_enter,
		.on_exit_recovery = fake_exit,
		.on_rto = fake_rto,
	};
	struct hf_tcp_cc cc;

	(void)state;
	hf_tcp_cc_init(&cc, HF_TCP_CC_CUBIC, MSS);
	cc.ops = &fake;
	hf_tcp_cc_on_ack(&cc, 1, 2, 3, 4);
	hf_tcp_cc_on_enter_recovery(&cc, 5, 6);
	hf_tcp_cc_on_exit_recovery(&cc);
	hf_tcp_cc_on_rto(&cc, 7);
	for (int i = 0; i < 4; i++)
		assert_int_equal(calls[i], 1);
	assert_string_equal(hf_tcp_cc_name(&cc), "fake");
}

/* Slow start doubles cwnd every RTT, for both algorithms, with one ACK per segment or per two. */
static void
test_slow_start_doubling(void **state)
{
	(void)state;
	for (int algo = HF_TCP_CC_CUBIC; algo <= HF_TCP_CC_NEWRENO; algo++) {
		for (uint32_t per_ack = 1; per_ack <= 2; per_ack++) {
			struct hf_tcp_cc cc;
			uint32_t want = 10 * MSS;

			hf_tcp_cc_init(&cc, (enum hf_tcp_cc_algo)algo, MSS);
			for (int rtt = 0; rtt < 8; rtt++) {
				uint32_t acks = cc.cwnd / (per_ack * MSS);

				assert_int_equal(cc.cwnd, want);
				for (uint32_t a = 0; a < acks; a++)
					hf_tcp_cc_on_ack(&cc, per_ack * MSS, 1000 * (uint64_t)rtt,
							 100, cc.cwnd);
				want *= 2;	/* 10, 20, 40, ... 2560 segments */
			}
			assert_int_equal(cc.cwnd, 2560 * MSS);
		}
	}
}

/* RFC 3465 2.2: a stretch ACK counts at most L = 2*SMSS in slow start. */
static void
test_slow_start_limit(void **state)
{
	struct hf_tcp_cc cc;

	(void)state;
	hf_tcp_cc_init(&cc, HF_TCP_CC_NEWRENO, MSS);
	hf_tcp_cc_on_ack(&cc, 4 * MSS, 0, 0, 0);
	assert_int_equal(cc.cwnd, 12 * MSS);
	hf_tcp_cc_on_ack(&cc, 300, 0, 0, 0);	/* less than a segment: that much */
	assert_int_equal(cc.cwnd, 12 * MSS + 300);
	/* Never past the largest window, however many ACKs. */
	for (int i = 0; i < 1000000; i++)
		hf_tcp_cc_on_ack(&cc, 2 * MSS, 0, 0, 0);
	assert_int_equal(cc.cwnd, HF_TCP_CC_CWND_MAX);
}

/* RFC 5681 3.1, RFC 3465 2.1: one SMSS per cwnd of bytes acknowledged, leftovers carried. */
static void
test_newreno_avoidance(void **state)
{
	struct hf_tcp_cc cc;

	(void)state;
	hf_tcp_cc_init(&cc, HF_TCP_CC_NEWRENO, MSS);
	cc.cwnd = 20 * MSS;
	cc.ssthresh = 10 * MSS;
	/* Ten round trips of one ACK per segment: one segment more each. */
	for (int rtt = 0; rtt < 10; rtt++) {
		round_trip(&cc, 0, 0);
		assert_int_equal(cc.cwnd, (21 + (uint32_t)rtt) * MSS);
	}
	/*
	 * By hand with 1500-byte ACKs from cwnd 3000: 2 ACKs = 3000 -> cwnd
	 * 4000, carry 0; 3 ACKs = 4500 -> 5000, carry 500; 3 ACKs: 500 + 4500 =
	 * 5000 -> 6000, carry 0.
	 */
	hf_tcp_cc_init(&cc, HF_TCP_CC_NEWRENO, MSS);
	cc.cwnd = 3000;
	cc.ssthresh = 2000;
	hf_tcp_cc_on_ack(&cc, 1500, 0, 0, 0);
	assert_int_equal(cc.cwnd, 3000);
	hf_tcp_cc_on_ack(&cc, 1500, 0, 0, 0);
	assert_int_equal(cc.cwnd, 4000);
	hf_tcp_cc_on_ack(&cc, 1500, 0, 0, 0);
	hf_tcp_cc_on_ack(&cc, 1500, 0, 0, 0);
	assert_int_equal(cc.cwnd, 4000);
	hf_tcp_cc_on_ack(&cc, 1500, 0, 0, 0);
	assert_int_equal(cc.cwnd, 5000);
	assert_int_equal(cc.bytes_acked, 500);
	hf_tcp_cc_on_ack(&cc, 1500, 0, 0, 0);
	hf_tcp_cc_on_ack(&cc, 1500, 0, 0, 0);
	assert_int_equal(cc.cwnd, 5000);
	hf_tcp_cc_on_ack(&cc, 1500, 0, 0, 0);
	assert_int_equal(cc.cwnd, 6000);
	assert_int_equal(cc.bytes_acked, 0);
}

/* RFC 5681 eq. 4 on three duplicate ACKs; RFC 6582 3.2 steps 3-6 around it. */
static void
test_newreno_fast_recovery(void **state)
{
	static const uint32_t t[][2] = {
		/* FlightSize -> ssthresh = max(FlightSize / 2, 2*SMSS) */
		{40000, 20000}, {40001, 20000}, {4001, 2000}, {3000, 2000}, {0, 2000},
	};
	struct hf_tcp_cc cc;

	(void)state;
	for (size_t i = 0; i < N_ELEMS(t); i++) {
		hf_tcp_cc_init(&cc, HF_TCP_CC_NEWRENO, MSS);
		cc.cwnd = 50000;
		hf_tcp_cc_on_enter_recovery(&cc, t[i][0], 0);
		assert_int_equal(cc.ssthresh, t[i][1]);
		assert_int_equal(cc.cwnd, t[i][1]);
	}
	hf_tcp_cc_init(&cc, HF_TCP_CC_NEWRENO, MSS);
	hf_tcp_cc_on_enter_recovery(&cc, 40000, 0);
	hf_tcp_cc_inflate(&cc, 3);		/* step 3: ssthresh + 3*SMSS */
	assert_int_equal(cc.cwnd, 23000);
	hf_tcp_cc_inflate(&cc, 1);		/* step 4: one more per duplicate ACK */
	hf_tcp_cc_inflate(&cc, 1);
	assert_int_equal(cc.cwnd, 25000);
	hf_tcp_cc_on_partial_ack(&cc, 2500);	/* step 5: -2500, +SMSS back */
	assert_int_equal(cc.cwnd, 23500);
	hf_tcp_cc_on_partial_ack(&cc, 500);	/* less than SMSS: nothing back */
	assert_int_equal(cc.cwnd, 23000);
	hf_tcp_cc_on_partial_ack(&cc, 1000000);	/* never below one segment */
	assert_int_equal(cc.cwnd, MSS);
	hf_tcp_cc_on_exit_recovery(&cc);	/* step 6: deflate to ssthresh */
	assert_int_equal(cc.cwnd, 20000);
	/* Avoidance resumes from there, counting afresh. */
	for (int i = 0; i < 20; i++)
		hf_tcp_cc_on_ack(&cc, MSS, 0, 0, 20000);
	assert_int_equal(cc.cwnd, 21000);
}

/* RFC 5681 3.1: the loss window, ssthresh held over repeated timeouts, slow start after. */
static void
test_newreno_rto(void **state)
{
	struct hf_tcp_cc cc;

	(void)state;
	hf_tcp_cc_init(&cc, HF_TCP_CC_NEWRENO, MSS);
	cc.cwnd = 64 * MSS;
	hf_tcp_cc_on_rto(&cc, 30000);
	assert_int_equal(cc.cwnd, MSS);
	assert_int_equal(cc.ssthresh, 15000);
	hf_tcp_cc_on_rto(&cc, 30000);		/* the retransmission timed out too */
	hf_tcp_cc_on_rto(&cc, 1000);
	assert_int_equal(cc.cwnd, MSS);
	assert_int_equal(cc.ssthresh, 15000);
	/* Slow start: 1, 2, 4, 8, 16 segments, stopping at ssthresh then growing linearly. */
	for (int rtt = 0; rtt < 4; rtt++)
		round_trip(&cc, 0, 0);
	assert_int_equal(cc.cwnd, 15000);	/* 8 ACKs from 8000: 7 reach 15000, 1 is counted */
	assert_int_equal(cc.bytes_acked, MSS);
	assert_false(hf_tcp_cc_in_slow_start(&cc));
	/* New data was acknowledged: the next timeout computes ssthresh again. */
	hf_tcp_cc_on_rto(&cc, 12000);
	assert_int_equal(cc.ssthresh, 6000);
}

/* ---- CUBIC ---- */

static double
w_cubic(double t, double k, double w_max)
{
	return 0.4 * (t - k) * (t - k) * (t - k) + w_max;
}

/* RFC 9438 4.6: ssthresh = max(FlightSize * 0.7, 2*SMSS), cwnd to it; 4.2: K. */
static void
test_cubic_beta_and_k(void **state)
{
	static const uint32_t t[][2] = {
		/* FlightSize -> ssthresh */
		{100000, 70000}, {80000, 56000}, {2857, 2000}, {1000, 2000},
	};
	struct hf_tcp_cc cc;

	(void)state;
	for (size_t i = 0; i < N_ELEMS(t); i++) {
		hf_tcp_cc_init(&cc, HF_TCP_CC_CUBIC, MSS);
		cc.cwnd = 100 * MSS;
		hf_tcp_cc_on_enter_recovery(&cc, t[i][0], 0);
		assert_int_equal(cc.ssthresh, t[i][1]);
		assert_int_equal(cc.cwnd, t[i][1]);
		assert_true(fabs(cc.w_max - 100) < 1e-12);
		assert_true(fabs(cc.cwnd_prior - 100) < 1e-12);
	}
	/* The epoch starts on the first ACK of avoidance: K = cbrt((100 - 70) / 0.4) = cbrt(75). */
	hf_tcp_cc_init(&cc, HF_TCP_CC_CUBIC, MSS);
	cc.cwnd = 100 * MSS;
	hf_tcp_cc_on_enter_recovery(&cc, 100 * MSS, 5000000);
	hf_tcp_cc_on_exit_recovery(&cc);
	assert_int_equal(cc.cwnd, 70 * MSS);
	hf_tcp_cc_on_ack(&cc, MSS, 7000000, 100000, cc.cwnd);
	assert_true(fabs(cc.k - 4.217163326508746) < 1e-9);
	assert_true(fabs(cc.cwnd_epoch - 70) < 1e-12);
	assert_int_equal(cc.epoch_us, 7000000);
	/* W_max 1000 segments: K = cbrt(300 / 0.4) = cbrt(750). */
	hf_tcp_cc_init(&cc, HF_TCP_CC_CUBIC, MSS);
	cc.cwnd = 1000 * MSS;
	hf_tcp_cc_on_enter_recovery(&cc, 1000 * MSS, 0);
	hf_tcp_cc_on_ack(&cc, MSS, 1, 100000, cc.cwnd);
	assert_true(fabs(cc.k - 9.085602964160698) < 1e-9);
}

/*
 * After a loss at W_max = 1000 segments (cwnd 700), a window of ACKs per
 * 100 ms RTT: cwnd rises steeply then flattens towards W_max (concave), sits
 * at W_max around t = K, and bends up past it (convex). After each round at
 * time t it lies between W_cubic(t) (less a lag of a fraction of one round's
 * growth) and W_cubic(t + RTT), the target it never passes.
 */
static void
test_cubic_concave_convex(void **state)
{
	const double k = 9.085602964160698, w_max = 1000;
	const uint64_t t0 = 1000000, rtt = 100000;
	struct hf_tcp_cc cc;
	double q[5] = {0};	/* cwnd at t = 0, K/4, K/2, 3K/4, K */
	double at_k = 0, at_2k = 0;

	(void)state;
	hf_tcp_cc_init(&cc, HF_TCP_CC_CUBIC, MSS);
	cc.cwnd = 1000 * MSS;
	hf_tcp_cc_on_enter_recovery(&cc, 1000 * MSS, t0);
	for (uint64_t r = 0; r <= 182; r++) {
		double t = r * rtt / 1e6, w;

		round_trip(&cc, t0 + r * rtt, (uint32_t)rtt);
		w = cc.cwnd / (double)MSS;
		assert_true(w <= w_cubic(t + rtt / 1e6, k, w_max) + 1e-6);
		assert_true(w >= w_cubic(t, k, w_max) - 8);
		if (t < k - 0.2)
			assert_true(w < w_max);
		for (int i = 0; i < 5; i++)
			if (fabs(t - i * k / 4) < 0.05)
				q[i] = w;
		if (fabs(t - k) < 0.05)
			at_k = w;
		if (fabs(t - 2 * k) < 0.05)
			at_2k = w;
	}
	assert_true(cc.w_est < w_cubic(2 * k, k, w_max));	/* stayed in the cubic region */
	/* Concave: each quarter of the way to K gains less than the one before. */
	for (int i = 1; i < 4; i++)
		assert_true(q[i] - q[i - 1] > q[i + 1] - q[i]);
	assert_true(fabs(at_k - w_max) < 0.01 * w_max);
	/* Convex: the second half of [K, 2K] gains more than the first. */
	assert_true(fabs(at_2k - w_cubic(2 * k, k, w_max)) < 10);
	assert_true(at_2k - w_cubic(1.5 * k, k, w_max) > w_cubic(1.5 * k, k, w_max) - at_k);
}

/*
 * Small window, short RTT (W_max 10 segments, 10 ms): Reno's line beats the
 * cubic, so cwnd follows W_est (RFC 9438 4.3), computed here ACK by ACK:
 * W_est += alpha * 1 / cwnd, alpha = 3 * 0.3 / 1.7 until W_est reaches
 * cwnd_prior (10), then 1: about 0.53 segment per round trip, then about 1.
 */
static void
test_cubic_reno_friendly(void **state)
{
	const uint64_t t0 = 2000000, rtt = 10000;
	const double alpha = 3 * (1 - 0.7) / (1 + 0.7), k = cbrt(3 / 0.4);
	struct hf_tcp_cc cc;
	double w = 7, w_est = 7, before;

	(void)state;
	hf_tcp_cc_init(&cc, HF_TCP_CC_CUBIC, MSS);
	cc.cwnd = 10 * MSS;
	hf_tcp_cc_on_enter_recovery(&cc, 10 * MSS, t0);
	for (uint64_t r = 0; r < 100; r++) {
		uint32_t n = cc.cwnd / MSS;
		double t = r * rtt / 1e6;

		before = w;
		for (uint32_t i = 0; i < n; i++) {
			hf_tcp_cc_on_ack(&cc, MSS, t0 + r * rtt, (uint32_t)rtt, cc.cwnd);
			w_est += (w_est >= 10 ? 1 : alpha) / w;
			assert_true(w_cubic(t, k, 10) < w_est);
			if (w_est > w)
				w = w_est;
		}
		assert_true(fabs(cc.cwnd / (double)MSS - w) < 0.01);
		/* n ACKs of alpha/cwnd each: about n * alpha / cwnd per round. */
		if (r < 5)
			assert_true(fabs(w - before - n * alpha / before) < 0.03);
		if (r > 10)
			assert_true(fabs(w - before - n * 1.0 / before) < 0.03);
	}
}

/* RFC 9438 4.7: a loss below the last W_max lowers W_max to cwnd (1 + beta) / 2. */
static void
test_cubic_fast_convergence(void **state)
{
	struct hf_tcp_cc cc;

	(void)state;
	hf_tcp_cc_init(&cc, HF_TCP_CC_CUBIC, MSS);
	cc.cwnd = 100 * MSS;
	hf_tcp_cc_on_enter_recovery(&cc, 100 * MSS, 0);
	assert_true(fabs(cc.w_max - 100) < 1e-12);
	cc.cwnd = 90 * MSS;
	hf_tcp_cc_on_enter_recovery(&cc, 90 * MSS, 0);
	assert_true(fabs(cc.w_max - 76.5) < 1e-12);	/* 90 * (1 + 0.7) / 2 */
	assert_true(fabs(cc.cwnd_prior - 90) < 1e-12);
	assert_int_equal(cc.cwnd, 63 * MSS);
	cc.cwnd = 120 * MSS;
	hf_tcp_cc_on_enter_recovery(&cc, 120 * MSS, 0);
	assert_true(fabs(cc.w_max - 120) < 1e-12);	/* above: remembered as is */
}

/*
 * RFC 9438 4.8: a timeout sets ssthresh with beta, cwnd to one segment (held
 * over a second timeout), slow start, then an epoch with K = 0 and W_max =
 * cwnd_epoch: W_cubic(t) = 0.4 t^3 + cwnd_epoch.
 */
static void
test_cubic_rto(void **state)
{
	struct hf_tcp_cc cc;
	uint64_t t = 1000000;

	(void)state;
	hf_tcp_cc_init(&cc, HF_TCP_CC_CUBIC, MSS);
	cc.cwnd = 50 * MSS;
	hf_tcp_cc_on_rto(&cc, 50 * MSS);
	assert_int_equal(cc.cwnd, MSS);
	assert_int_equal(cc.ssthresh, 35 * MSS);
	hf_tcp_cc_on_rto(&cc, 10 * MSS);
	assert_int_equal(cc.ssthresh, 35 * MSS);
	assert_true(fabs(cc.w_max - 50) < 1e-12);
	/* Slow start 1, 2, 4, 8, 16, 32; in round six 3 ACKs reach 35, the 4th starts the epoch. */
	for (int r = 0; r < 6; r++, t += 100000)
		round_trip(&cc, t, 100000);
	assert_true(cc.flags & HF_TCP_CC_F_EPOCH);
	assert_true(fabs(cc.k) < 1e-12);
	assert_true(fabs(cc.w_max - 35) < 1e-12);
	assert_true(fabs(cc.cwnd_epoch - 35) < 1e-12);
	assert_true(fabs(cc.cwnd_prior - 50) < 1e-12);
	/* Convex from the start; after 8 s the cubic dominates: 0.4 * 8^3 + 35 = 239.8. */
	for (int r = 0; r < 80; r++, t += 100000)
		round_trip(&cc, t, 100000);
	{
		double tt = (t - 100000 - cc.epoch_us) / 1e6, w = cc.cwnd / (double)MSS;

		assert_true(w <= w_cubic(tt + 0.1, 0, 35) + 1e-6);
		assert_true(w >= w_cubic(tt, 0, 35) - 8);
	}
}

/*
 * RFC 9438 ACK by ACK, in segments, written from the text: slow start below
 * ssthresh; at an epoch start K from figure 2 (0 after a timeout or without a
 * W_max); target from figure 4 clamped to [cwnd, 1.5 cwnd]; W_est per figure
 * 4 of 4.3 with alpha 1 from cwnd_prior on; Reno-friendly when W_cubic(t) <
 * W_est, else cwnd += (target - cwnd) / cwnd.
 */
struct model {
	double cwnd, ssthresh, w_max, k, w_est, prior;
	double t_epoch;
	bool epoch, flat, rto_loss;
	unsigned int reno, concave, convex;
};

static void
model_ack(struct model *m, double t, double rtt)
{
	double target, tt;

	m->rto_loss = false;
	if (m->cwnd < m->ssthresh) {
		m->cwnd += 1;
		return;
	}
	if (!m->epoch) {
		m->epoch = true;
		m->t_epoch = t;
		if (m->flat || m->w_max <= 0) {
			if (m->w_max <= 0)
				m->prior = m->cwnd;
			m->w_max = m->cwnd;
			m->k = 0;
			m->flat = false;
		} else {
			m->k = cbrt((m->w_max - m->cwnd) / 0.4);
		}
		m->w_est = m->cwnd;
	}
	tt = t - m->t_epoch;
	target = w_cubic(tt + rtt, m->k, m->w_max);
	target = target < m->cwnd ? m->cwnd : target > 1.5 * m->cwnd ? 1.5 * m->cwnd : target;
	m->w_est += (m->w_est >= m->prior ? 1 : 3 * 0.3 / 1.7) / m->cwnd;
	if (w_cubic(tt, m->k, m->w_max) < m->w_est) {
		m->reno++;
		if (m->w_est > m->cwnd)
			m->cwnd = m->w_est;
	} else {
		if (m->cwnd < m->w_max)
			m->concave++;
		else
			m->convex++;
		m->cwnd += (target - m->cwnd) / m->cwnd;
	}
}

/* A loss with FlightSize = cwnd, given in bytes as the stack would. */
static void
model_loss(struct model *m, uint32_t flight_bytes, bool timeout)
{
	if (!(timeout && m->rto_loss)) {
		m->w_max = m->cwnd < m->w_max ? m->cwnd * 0.85 : m->cwnd;
		m->prior = m->cwnd;
		m->ssthresh = (double)((uint64_t)flight_bytes * 7 / 10) / MSS;
		if (m->ssthresh < 2)
			m->ssthresh = 2;
	}
	m->epoch = false;
	m->flat = timeout;
	m->rto_loss = timeout;
	m->cwnd = timeout ? 1 : m->ssthresh;
}

static void
test_cubic_against_model(void **state)
{
	/* What happens, in order: rounds of ACKs with an RTT, and losses. */
	static const struct {
		int rounds;
		uint32_t rtt_us;
		int loss;	/* 0 none, 1 fast retransmit, 2 timeout */
	} script[] = {
		{7, 40000, 1},	  /* slow start 10 -> 1280; loss: W_max 1280, K 9.9 s */
		{200, 40000, 1},  /* 8 s of concave growth; loss below W_max: fast convergence */
		{200, 20000, 1},  /* concave again, shorter RTT */
		{150, 80000, 2},  /* then a timeout */
		{400, 80000, 0},  /* slow start, flat epoch: Reno-friendly, then convex */
	};
	struct hf_tcp_cc cc;
	struct model m = {.cwnd = 10, .ssthresh = 1e18};
	double t = 3.0;

	(void)state;
	hf_tcp_cc_init(&cc, HF_TCP_CC_CUBIC, MSS);
	for (size_t s = 0; s < N_ELEMS(script); s++) {
		for (int r = 0; r < script[s].rounds; r++) {
			uint32_t n = cc.cwnd / MSS;

			for (uint32_t i = 0; i < n; i++) {
				hf_tcp_cc_on_ack(&cc, MSS, (uint64_t)llround(t * 1e6),
						 script[s].rtt_us, cc.cwnd);
				model_ack(&m, t, script[s].rtt_us / 1e6);
			}
			assert_true(fabs(cc.cwnd / (double)MSS - m.cwnd) < 0.05);
			t += script[s].rtt_us / 1e6;
		}
		/* Losses start from the same window in both (they agree within 0.05 segment). */
		m.cwnd = cc.cwnd / (double)MSS;
		if (script[s].loss == 1) {
			model_loss(&m, cc.cwnd, false);
			hf_tcp_cc_on_enter_recovery(&cc, cc.cwnd, (uint64_t)llround(t * 1e6));
			hf_tcp_cc_on_exit_recovery(&cc);
		} else if (script[s].loss == 2) {
			model_loss(&m, cc.cwnd, true);
			hf_tcp_cc_on_rto(&cc, cc.cwnd);
		}
		assert_true(fabs(cc.cwnd / (double)MSS - m.cwnd) < 0.05);
		assert_true(fabs(cc.ssthresh / (double)MSS - m.ssthresh) < 0.002);
	}
	print_message("  ACKs per region: Reno-friendly %u, concave %u, convex %u\n", m.reno,
		      m.concave, m.convex);
	assert_true(m.reno > 1000 && m.concave > 1000 && m.convex > 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial_window),
		cmocka_unit_test(test_init_and_ops),
		cmocka_unit_test(test_ops_dispatch),
		cmocka_unit_test(test_slow_start_doubling),
		cmocka_unit_test(test_slow_start_limit),
		cmocka_unit_test(test_newreno_avoidance),
		cmocka_unit_test(test_newreno_fast_recovery),
		cmocka_unit_test(test_newreno_rto),
		cmocka_unit_test(test_cubic_beta_and_k),
		cmocka_unit_test(test_cubic_concave_convex),
		cmocka_unit_test(test_cubic_reno_friendly),
		cmocka_unit_test(test_cubic_fast_convergence),
		cmocka_unit_test(test_cubic_rto),
		cmocka_unit_test(test_cubic_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
