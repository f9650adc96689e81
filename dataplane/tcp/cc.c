/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>

#include "dataplane/tcp/cc.h"

static inline uint32_t
max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

static inline uint32_t
min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

void
hf_tcp_cc_init(struct hf_tcp_cc *cc, enum hf_tcp_cc_algo algo, uint32_t smss)
{
	cc->algo = (uint8_t)algo;
	cc->smss = smss;
	cc->cwnd = min_u32(10 * smss, max_u32(2 * smss, 14600));
	cc->ssthresh = UINT32_MAX;	/* RFC 5681 3.1: arbitrarily high */
	cc->bytes_acked = 0;
	cc->epoch_us = 0;
	cc->w_max = 0;
	cc->k = 0;
	cc->w_est = 0;
	cc->cwnd_epoch = 0;
}

static void
reno_avoid(struct hf_tcp_cc *cc, uint32_t acked)
{
	/* RFC 5681 3.1 with appropriate byte counting: one SMSS per cwnd acknowledged. */
	cc->bytes_acked += acked;
	if (cc->bytes_acked >= cc->cwnd) {
		cc->bytes_acked -= cc->cwnd;
		cc->cwnd += cc->smss;
	}
}

static void
cubic_avoid(struct hf_tcp_cc *cc, uint32_t acked, uint64_t now_us, uint32_t srtt_us)
{
	double seg = cc->smss, cwnd = cc->cwnd / seg, t, target, w_cubic;

	if (cc->epoch_us == 0) {
		/* 4.2: a new epoch; K from the distance to W_max (0 above it). */
		cc->epoch_us = now_us ? now_us : 1;
		cc->cwnd_epoch = cwnd;
		if (cc->w_max < cwnd)
			cc->w_max = cwnd;
		cc->k = cbrt((cc->w_max - cwnd) / HF_CUBIC_C);
		cc->w_est = cwnd;
	}
	t = (double)(now_us - cc->epoch_us) / 1e6;
	/* 4.2: W_cubic(t) = C (t - K)^3 + W_max, aimed at one RTT ahead. */
	w_cubic = HF_CUBIC_C * pow(t - cc->k, 3) + cc->w_max;
	target = HF_CUBIC_C * pow(t + srtt_us / 1e6 - cc->k, 3) + cc->w_max;
	if (target < cwnd)
		target = cwnd;
	if (target > 1.5 * cwnd)
		target = 1.5 * cwnd;
	/* 4.3: the Reno-friendly window grows by alpha_cubic per RTT. */
	cc->w_est += 3.0 * (1 - HF_CUBIC_BETA) / (1 + HF_CUBIC_BETA) * (acked / seg) / cwnd;
	if (w_cubic < cc->w_est) {
		if (cc->w_est > cwnd)
			cwnd = cc->w_est;
	} else {
		/* 4.4/4.5: move (target - cwnd) / cwnd segments per acknowledged segment. */
		cwnd += (target - cwnd) / cwnd * (acked / seg);
	}
	cc->cwnd = max_u32((uint32_t)(cwnd * seg), cc->cwnd);
}

void
hf_tcp_cc_on_ack(struct hf_tcp_cc *cc, uint32_t acked, uint64_t now_us, uint32_t srtt_us,
		 uint32_t in_flight)
{
	(void)in_flight;
	if (cc->cwnd < cc->ssthresh) {
		/* Slow start, RFC 3465 with L = 2*SMSS. */
		cc->cwnd += min_u32(acked, 2 * cc->smss);
		return;
	}
	if (cc->algo == HF_TCP_CC_CUBIC)
		cubic_avoid(cc, acked, now_us, srtt_us);
	else
		reno_avoid(cc, acked);
}

/*
 * A loss, by duplicate ACKs or a timeout: CUBIC remembers W_max and backs off
 * by beta (RFC 9438 4.6, with 4.7 fast convergence: yield to newer flows when
 * W_max is shrinking); NewReno halves the flight (RFC 5681 eq. 4).
 */
static void
set_ssthresh(struct hf_tcp_cc *cc, uint32_t in_flight)
{
	if (cc->algo == HF_TCP_CC_CUBIC) {
		double cwnd = cc->cwnd / (double)cc->smss;

		cc->w_max = cwnd < cc->w_max ? cwnd * (1 + HF_CUBIC_BETA) / 2 : cwnd;
		cc->epoch_us = 0;
		cc->ssthresh = max_u32((uint32_t)(cc->cwnd * HF_CUBIC_BETA), 2 * cc->smss);
	} else {
		cc->ssthresh = max_u32(in_flight / 2, 2 * cc->smss);
	}
	cc->bytes_acked = 0;
}

void
hf_tcp_cc_on_enter_recovery(struct hf_tcp_cc *cc, uint32_t in_flight, uint64_t now_us)
{
	(void)now_us;
	set_ssthresh(cc, in_flight);
	cc->cwnd = cc->ssthresh;
	cc->bytes_acked = 0;
}

void
hf_tcp_cc_on_exit_recovery(struct hf_tcp_cc *cc)
{
	cc->cwnd = cc->ssthresh;
}

void
hf_tcp_cc_on_rto(struct hf_tcp_cc *cc, uint32_t in_flight)
{
	set_ssthresh(cc, in_flight);
	cc->cwnd = cc->smss;
	cc->bytes_acked = 0;
}
