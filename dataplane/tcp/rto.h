/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TCP_RTO_H
#define HF_TCP_RTO_H

#include <stdint.h>

/*
 * Round-trip estimation and the retransmission timeout of RFC 6298, in
 * microseconds, integer arithmetic only (one sample costs a few adds and
 * shifts; values truncate to the microsecond).
 *
 *   first sample R:  SRTT = R, RTTVAR = R/2                        (2.2)
 *   next sample R':  RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'|,
 *                    then SRTT = 7/8 SRTT + 1/8 R'                 (2.3)
 *   RTO = SRTT + max(G, K * RTTVAR), K = 4, bounded               (2.2-2.5)
 *
 * Deviation, as in Linux: the lower bound defaults to 200 ms, not the 1 s
 * that 2.4 asks for ("SHOULD"); a 1 s floor stalls a data-centre path whose
 * RTT is a few hundred microseconds for three orders of magnitude longer
 * than needed. hf_tcp_rto_configure() restores 1 s where that matters. The
 * upper bound is the 60 s 2.5 allows; the initial value the 1 s of 2.1.
 */
#define HF_TCP_RTO_MIN_US 200000u	/* default lower bound (Linux's TCP_RTO_MIN) */
#define HF_TCP_RTO_MAX_US 60000000u	/* RFC 6298 2.5 */
#define HF_TCP_RTO_INITIAL_US 1000000u	/* RFC 6298 2.1 */
#define HF_TCP_RTO_SYN_FALLBACK_US 3000000u /* RFC 6298 5.7 */
#define HF_TCP_RTO_G_US 1000u		/* default clock granularity: 1 ms ticks */
#define HF_TCP_RTO_K 4u

/* Where a round-trip measurement comes from (flags of hf_tcp_rto_measure()). */
enum hf_tcp_rtt_flags {
	HF_TCP_RTT_RETRANSMITTED = 0x1,	/* the segment timed was sent more than once */
	HF_TCP_RTT_TIMESTAMP = 0x2,	/* measured as now - TSecr (RFC 7323 4.1) */
};

struct hf_tcp_rto {
	uint32_t srtt_us;		/* 0 until the first sample (a sample of 0 counts as 1) */
	uint32_t rttvar_us;
	uint32_t rto_us;		/* from the estimator and bounded; backoff not applied */
	uint32_t min_us;		/* lower bound */
	uint32_t g_us;			/* clock granularity G */
	uint8_t backoff;		/* doublings since the last sample (RFC 6298 5.5) */
};

/* Default bounds, no sample, RTO = 1 s (RFC 6298 2.1). */
static inline void
hf_tcp_rto_init(struct hf_tcp_rto *r)
{
	r->srtt_us = 0;
	r->rttvar_us = 0;
	r->rto_us = HF_TCP_RTO_INITIAL_US;
	r->min_us = HF_TCP_RTO_MIN_US;
	r->g_us = HF_TCP_RTO_G_US;
	r->backoff = 0;
}

/*
 * Sets the lower bound to @p min_us (1 s for RFC 6298 2.4 to the letter) and
 * the clock granularity to @p g_us, and recomputes the RTO with them.
 * Returns 0, or -EINVAL unless 0 < @p min_us <= HF_TCP_RTO_MAX_US and
 * 0 < @p g_us <= HF_TCP_RTO_MAX_US.
 */
int hf_tcp_rto_configure(struct hf_tcp_rto *r, uint32_t min_us, uint32_t g_us);

/*
 * Folds in one valid measurement @p rtt_us (RFC 6298 2.2, 2.3; values above
 * the upper bound count as the bound) and recomputes the RTO, which also
 * undoes any backoff ("collapsing" the RTO, 5.7's note). The caller has
 * applied Karn's rule; hf_tcp_rto_measure() applies it for it.
 */
void hf_tcp_rto_sample(struct hf_tcp_rto *r, uint64_t rtt_us);

/*
 * Offers a measurement with its origin (enum hf_tcp_rtt_flags). Karn's rule
 * (RFC 6298 3): a segment that was retransmitted gives no sample, since the
 * ACK may be for either copy, unless the time came from the timestamp option,
 * whose echo says which copy was acknowledged (RFC 6298 3, RFC 7323 4.1).
 * Every timestamp sample is used, one per ACK that advances the window; the
 * filter gains are not scaled down for several samples per RTT (RFC 7323
 * appendix G is a MAY; Linux does not either).
 * Returns 0 when folded in, -EAGAIN when Karn's rule refused it.
 */
int hf_tcp_rto_measure(struct hf_tcp_rto *r, uint64_t rtt_us, unsigned int flags);

/*
 * The retransmission timer expired (RFC 6298 5.5): doubles the RTO, up to the
 * upper bound, until the next sample.
 */
void hf_tcp_rto_backoff(struct hf_tcp_rto *r);

/* Forgets the backoff without a sample (for a caller that resets it on any new ACK). */
static inline void
hf_tcp_rto_backoff_clear(struct hf_tcp_rto *r)
{
	r->backoff = 0;
}

/*
 * RFC 6298 5.7: the SYN or SYN-ACK had to be retransmitted and no sample was
 * taken, so when data transmission begins the RTO is at least 3 s.
 */
void hf_tcp_rto_syn_lost(struct hf_tcp_rto *r);

/* The timeout to arm now: the estimator's RTO doubled per backoff, at most the upper bound. */
static inline uint32_t
hf_tcp_rto_get_us(const struct hf_tcp_rto *r)
{
	uint64_t v = (uint64_t)r->rto_us << r->backoff;

	return v > HF_TCP_RTO_MAX_US ? HF_TCP_RTO_MAX_US : (uint32_t)v;
}

/* SRTT in microseconds, 0 before the first sample. */
static inline uint32_t
hf_tcp_rto_srtt_us(const struct hf_tcp_rto *r)
{
	return r->srtt_us;
}

static inline uint32_t
hf_tcp_rto_initial_ms(void)
{
	return HF_TCP_RTO_INITIAL_US / 1000;
}

#endif
