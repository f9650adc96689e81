/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NewReno and CUBIC. Both share slow start and the recovery window
 * arithmetic; they differ in avoidance and in how far they back off.
 */
#include <errno.h>
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

static inline void
set_cwnd(struct hf_tcp_cc *cc, uint64_t cwnd)
{
	cc->cwnd = (uint32_t)(cwnd > HF_TCP_CC_CWND_MAX ? HF_TCP_CC_CWND_MAX : cwnd);
}

/* RFC 5681 3.1 with RFC 3465 2.2: at most L = 2*SMSS per ACK. */
static void
slow_start(struct hf_tcp_cc *cc, uint32_t acked)
{
	set_cwnd(cc, (uint64_t)cc->cwnd + min_u32(acked, 2 * cc->smss));
}

int
hf_tcp_cc_init(struct hf_tcp_cc *cc, enum hf_tcp_cc_algo algo, uint32_t smss)
{
	int rc = 0;

	switch (algo) {
	case HF_TCP_CC_CUBIC:
		cc->ops = &hf_tcp_cc_cubic;
		break;
	case HF_TCP_CC_NEWRENO:
		cc->ops = &hf_tcp_cc_newreno;
		break;
	default:
		cc->ops = &hf_tcp_cc_newreno;
		rc = -EINVAL;
		break;
	}
	if (smss == 0) {
		smss = 536;	/* RFC 9293 3.7.1 default */
		rc = -EINVAL;
	}
	cc->smss = smss;
	cc->cwnd = hf_tcp_cc_initial_window(smss);
	cc->ssthresh = UINT32_MAX;	/* RFC 5681 3.1: arbitrarily high */
	cc->bytes_acked = 0;
	cc->flags = 0;
	cc->epoch_us = 0;
	cc->w_max = 0;
	cc->k = 0;
	cc->w_est = 0;
	cc->cwnd_epoch = 0;
	cc->cwnd_prior = 0;
	cc->frac = 0;
	return rc;
}

void
hf_tcp_cc_inflate(struct hf_tcp_cc *cc, uint32_t dupacks)
{
	set_cwnd(cc, (uint64_t)cc->cwnd + (uint64_t)dupacks * cc->smss);
}

void
hf_tcp_cc_on_partial_ack(struct hf_tcp_cc *cc, uint32_t acked)
{
	uint32_t cwnd = cc->cwnd > acked ? cc->cwnd - acked : 0;

	if (acked >= cc->smss)
		cwnd += cc->smss;
	cc->cwnd = max_u32(cwnd, cc->smss);
}

static void
exit_recovery(struct hf_tcp_cc *cc)
{
	cc->cwnd = cc->ssthresh;
	cc->bytes_acked = 0;
}

/* ---- NewReno (RFC 5681, RFC 6582) ---- */

static void
reno_on_ack(struct hf_tcp_cc *cc, uint32_t acked, uint64_t now_us, uint32_t rtt_us,
	    uint32_t in_flight)
{
	(void)now_us;
	(void)rtt_us;
	(void)in_flight;
	cc->flags &= ~HF_TCP_CC_F_RTO_LOSS;
	if (cc->cwnd < cc->ssthresh) {
		slow_start(cc, acked);
		return;
	}
	/* RFC 5681 3.1 with RFC 3465 2.1: one SMSS per cwnd of bytes acknowledged. */
	cc->bytes_acked += acked;
	if (cc->bytes_acked >= cc->cwnd) {
		cc->bytes_acked -= cc->cwnd;
		set_cwnd(cc, (uint64_t)cc->cwnd + cc->smss);
	}
}

/* RFC 5681 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS). */
static uint32_t
reno_ssthresh(const struct hf_tcp_cc *cc, uint32_t in_flight)
{
	return max_u32(in_flight / 2, 2 * cc->smss);
}

static void
reno_on_enter_recovery(struct hf_tcp_cc *cc, uint32_t in_flight, uint64_t now_us)
{
	(void)now_us;
	cc->ssthresh = reno_ssthresh(cc, in_flight);
	cc->cwnd = cc->ssthresh;
	cc->bytes_acked = 0;
	cc->flags &= ~HF_TCP_CC_F_RTO_LOSS;
}

static void
reno_on_rto(struct hf_tcp_cc *cc, uint32_t in_flight)
{
	if (!(cc->flags & HF_TCP_CC_F_RTO_LOSS))
		cc->ssthresh = reno_ssthresh(cc, in_flight);
	cc->cwnd = cc->smss;	/* the loss window */
	cc->bytes_acked = 0;
	cc->flags |= HF_TCP_CC_F_RTO_LOSS;
}

const struct hf_tcp_cc_ops hf_tcp_cc_newreno = {
	.name = "newreno",
	.on_ack = reno_on_ack,
	.on_enter_recovery = reno_on_enter_recovery,
	.on_exit_recovery = exit_recovery,
	.on_rto = reno_on_rto,
};

/* ---- CUBIC (RFC 9438) ---- */

/* W_cubic(t) = C (t - K)^3 + W_max (RFC 9438 4.2, figure 1), t in seconds. */
static inline double
w_cubic(const struct hf_tcp_cc *cc, double t)
{
	double d = t - cc->k;

	return HF_CUBIC_C * d * d * d + cc->w_max;
}

/* RFC 9438 4.2: the start of a congestion avoidance stage. */
static void
cubic_epoch_start(struct hf_tcp_cc *cc, double w, uint64_t now_us)
{
	cc->flags |= HF_TCP_CC_F_EPOCH;
	cc->epoch_us = now_us;
	cc->cwnd_epoch = w;
	cc->frac = 0;
	if ((cc->flags & HF_TCP_CC_F_FLAT_EPOCH) || cc->w_max <= 0) {
		/*
		 * 4.8 after a timeout, and 4.10 when avoidance begins without a
		 * congestion event: K = 0 and W_max = cwnd_epoch, so the curve
		 * starts convex from where we are.
		 */
		if (cc->w_max <= 0)
			cc->cwnd_prior = w;
		cc->w_max = w;
		cc->k = 0;
		cc->flags &= ~HF_TCP_CC_F_FLAT_EPOCH;
	} else {
		/* Figure 2: K = cbrt((W_max - cwnd_epoch) / C). */
		cc->k = cbrt((cc->w_max - w) / HF_CUBIC_C);
	}
	cc->w_est = w;	/* 4.3: W_est starts at cwnd_epoch */
}

static void
cubic_avoid(struct hf_tcp_cc *cc, uint32_t acked, uint64_t now_us, uint32_t rtt_us)
{
	const double seg = cc->smss, alpha_aimd = 3.0 * (1 - HF_CUBIC_BETA) / (1 + HF_CUBIC_BETA);
	double w = cc->cwnd / seg, segs = acked / seg, t, target, w_new, inc;
	uint64_t whole;

	if (!(cc->flags & HF_TCP_CC_F_EPOCH))
		cubic_epoch_start(cc, w, now_us);
	t = now_us > cc->epoch_us ? (double)(now_us - cc->epoch_us) / 1e6 : 0;

	/* 4.2 figure 4: aim at W_cubic one RTT ahead, within [cwnd, 1.5 cwnd]. */
	target = w_cubic(cc, t + rtt_us / 1e6);
	if (target < w)
		target = w;
	else if (target > 1.5 * w)
		target = 1.5 * w;

	/*
	 * 4.3: W_est grows by alpha_cubic per window acknowledged, alpha_cubic
	 * = 3 (1 - beta) / (1 + beta) until W_est reaches cwnd_prior, 1 after.
	 */
	cc->w_est += (cc->w_est >= cc->cwnd_prior ? 1.0 : alpha_aimd) * segs / w;

	if (w_cubic(cc, t) < cc->w_est)
		w_new = cc->w_est > w ? cc->w_est : w;	/* Reno-friendly region (4.3) */
	else
		w_new = w + (target - w) / w * segs;	/* concave (4.4) or convex (4.5) */

	/* w_new >= w in every region, so inc >= 0 and the cast is a floor. */
	inc = cc->frac + (w_new - w) * seg;
	if (inc > HF_TCP_CC_CWND_MAX)
		inc = HF_TCP_CC_CWND_MAX;
	whole = (uint64_t)inc;
	cc->frac = inc - (double)whole;
	set_cwnd(cc, (uint64_t)cc->cwnd + whole);
}

static void
cubic_on_ack(struct hf_tcp_cc *cc, uint32_t acked, uint64_t now_us, uint32_t rtt_us,
	     uint32_t in_flight)
{
	(void)in_flight;
	cc->flags &= ~HF_TCP_CC_F_RTO_LOSS;
	if (cc->cwnd < cc->ssthresh)
		slow_start(cc, acked);	/* 4.10: standard slow start (no HyStart++) */
	else
		cubic_avoid(cc, acked, now_us, rtt_us);
}

/*
 * 4.6 and 4.7: remember W_max (lowered further when it shrank: fast
 * convergence yields to newer flows), cwnd_prior, and set
 * ssthresh = max(FlightSize * beta_cubic, 2*SMSS). The epoch ends.
 */
static void
cubic_reduce(struct hf_tcp_cc *cc, uint32_t in_flight)
{
	double w = cc->cwnd / (double)cc->smss;

	cc->w_max = w < cc->w_max ? w * (1 + HF_CUBIC_BETA) / 2 : w;
	cc->cwnd_prior = w;
	/* beta_cubic as the exact 7/10: 0.7 in binary would make 90000 * 0.7 = 62999. */
	cc->ssthresh = max_u32((uint32_t)((uint64_t)in_flight * 7 / 10), 2 * cc->smss);
	cc->flags &= ~(HF_TCP_CC_F_EPOCH | HF_TCP_CC_F_FLAT_EPOCH);
	cc->frac = 0;
}

static void
cubic_on_enter_recovery(struct hf_tcp_cc *cc, uint32_t in_flight, uint64_t now_us)
{
	(void)now_us;
	cubic_reduce(cc, in_flight);
	cc->cwnd = cc->ssthresh;
	cc->flags &= ~HF_TCP_CC_F_RTO_LOSS;
}

static void
cubic_on_rto(struct hf_tcp_cc *cc, uint32_t in_flight)
{
	/* 4.8: ssthresh as for a loss, cwnd as Reno, then a flat epoch. */
	if (!(cc->flags & HF_TCP_CC_F_RTO_LOSS))
		cubic_reduce(cc, in_flight);
	cc->flags &= ~HF_TCP_CC_F_EPOCH;
	cc->flags |= HF_TCP_CC_F_FLAT_EPOCH | HF_TCP_CC_F_RTO_LOSS;
	cc->cwnd = cc->smss;
}

const struct hf_tcp_cc_ops hf_tcp_cc_cubic = {
	.name = "cubic",
	.on_ack = cubic_on_ack,
	.on_enter_recovery = cubic_on_enter_recovery,
	.on_exit_recovery = exit_recovery,
	.on_rto = cubic_on_rto,
};
