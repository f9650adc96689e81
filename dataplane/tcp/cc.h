/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TCP_CC_H
#define HF_TCP_CC_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Congestion control behind an ops table: NewReno (RFC 5681, with RFC 3465
 * byte counting and the window arithmetic of RFC 6582 fast recovery) and
 * CUBIC (RFC 9438), the default.
 *
 * Units: windows in bytes (cwnd, ssthresh, smss); time in microseconds from
 * the caller's clock (now_us, rtt_us). CUBIC works internally in segments
 * and seconds with doubles: per ACK that is a few multiplications, no libm
 * call (cbrt() runs once per congestion epoch); growth below one byte is
 * carried to the next ACK, so nothing is lost to truncation.
 *
 * Division of labour: the stack decides when a loss happened, what to
 * retransmit and when recovery ends (the "recover" point of RFC 6582, the
 * scoreboard of RFC 6675); this module only sets cwnd and ssthresh. Under
 * SACK recovery (RFC 6675) cwnd stays at ssthresh and the stack's pipe
 * estimate governs; without SACK the stack inflates and deflates cwnd with
 * hf_tcp_cc_inflate() and hf_tcp_cc_on_partial_ack() (RFC 6582 3.2).
 */
enum hf_tcp_cc_algo {
	HF_TCP_CC_CUBIC = 0,
	HF_TCP_CC_NEWRENO,
};

#define HF_CUBIC_C 0.4			/* RFC 9438 5: segments / s^3 */
#define HF_CUBIC_BETA 0.7		/* RFC 9438 4.6 (ssthresh uses the exact 7/10) */
#define HF_TCP_CC_CWND_MAX (1u << 30)	/* the largest window TCP can offer (RFC 7323 2.3) */

struct hf_tcp_cc;

/* One algorithm. Every hook is mandatory; they are called through the wrappers below. */
struct hf_tcp_cc_ops {
	const char *name;
	void (*on_ack)(struct hf_tcp_cc *cc, uint32_t acked, uint64_t now_us, uint32_t rtt_us,
		       uint32_t in_flight);
	void (*on_enter_recovery)(struct hf_tcp_cc *cc, uint32_t in_flight, uint64_t now_us);
	void (*on_exit_recovery)(struct hf_tcp_cc *cc);
	void (*on_rto)(struct hf_tcp_cc *cc, uint32_t in_flight);
};

extern const struct hf_tcp_cc_ops hf_tcp_cc_newreno;
extern const struct hf_tcp_cc_ops hf_tcp_cc_cubic;

/* struct hf_tcp_cc.flags */
enum {
	HF_TCP_CC_F_EPOCH = 0x1,	/* CUBIC: a congestion avoidance epoch is running */
	HF_TCP_CC_F_FLAT_EPOCH = 0x2,	/* CUBIC: the next epoch has K = 0 (RFC 9438 4.8) */
	HF_TCP_CC_F_RTO_LOSS = 0x4,	/* timed out, nothing new acknowledged since */
};

struct hf_tcp_cc {
	const struct hf_tcp_cc_ops *ops;
	uint32_t cwnd;			/* bytes */
	uint32_t ssthresh;		/* bytes */
	uint32_t smss;			/* bytes; the stack may lower it (PMTU) */
	uint32_t bytes_acked;		/* NewReno: RFC 3465 byte counting in avoidance */
	uint32_t flags;			/* HF_TCP_CC_F_* */
	struct {			/* CUBIC (RFC 9438 4): segments, seconds */
		uint64_t epoch_us;	/* t_epoch */
		double w_max;		/* W_max; 0 before the first congestion event */
		double k;		/* K */
		double w_est;		/* W_est, the Reno-friendly estimate (4.3) */
		double cwnd_epoch;	/* cwnd when the epoch began */
		double cwnd_prior;	/* cwnd before the last reduction (4.6) */
		double frac;		/* growth below one byte, in bytes, not yet applied */
	};
};

/* RFC 6928 2: IW = min(10*MSS, max(2*MSS, 14600)). */
static inline uint32_t
hf_tcp_cc_initial_window(uint32_t smss)
{
	uint32_t floor = 2 * smss > 14600 ? 2 * smss : 14600;

	return 10 * smss < floor ? 10 * smss : floor;
}

/*
 * Sets @p cc up for @p algo with sender MSS @p smss: cwnd to the initial
 * window, ssthresh "arbitrarily high" (RFC 5681 3.1), no CUBIC history.
 * Returns 0, or -EINVAL for an unknown algorithm or a zero MSS (@p cc is
 * then left as NewReno with a 536-byte MSS, so it is still usable).
 */
int hf_tcp_cc_init(struct hf_tcp_cc *cc, enum hf_tcp_cc_algo algo, uint32_t smss);

static inline const char *
hf_tcp_cc_name(const struct hf_tcp_cc *cc)
{
	return cc->ops->name;
}

static inline bool
hf_tcp_cc_in_slow_start(const struct hf_tcp_cc *cc)
{
	return cc->cwnd < cc->ssthresh;
}

/*
 * @p acked new bytes were cumulatively acknowledged outside recovery, at
 * @p now_us, with smoothed RTT @p rtt_us (0 when unknown) and @p in_flight
 * bytes still outstanding: slow start (RFC 5681 3.1, RFC 3465 with
 * L = 2*SMSS) below ssthresh, the algorithm's avoidance above.
 *
 * @p in_flight is not used by NewReno or CUBIC growth: telling an
 * application-limited round (RFC 7661, RFC 9438 5.8) from one merely not
 * refilled yet takes the sender's view of the whole round, which the stack
 * has and a single ACK does not. A caller that knows it was not cwnd-limited
 * during the round simply does not report the ACK here.
 */
static inline void
hf_tcp_cc_on_ack(struct hf_tcp_cc *cc, uint32_t acked, uint64_t now_us, uint32_t rtt_us,
		 uint32_t in_flight)
{
	cc->ops->on_ack(cc, acked, now_us, rtt_us, in_flight);
}

/*
 * A loss detected by duplicate ACKs or SACK, with @p in_flight bytes
 * outstanding (FlightSize): ssthresh from the algorithm (NewReno
 * max(FlightSize/2, 2*SMSS), RFC 5681 eq. 4; CUBIC max(FlightSize*0.7,
 * 2*SMSS), RFC 9438 4.6) and cwnd = ssthresh. Without SACK the caller then
 * adds the three duplicate ACKs with hf_tcp_cc_inflate(cc, 3) (RFC 6582 3.2
 * step 3).
 */
static inline void
hf_tcp_cc_on_enter_recovery(struct hf_tcp_cc *cc, uint32_t in_flight, uint64_t now_us)
{
	cc->ops->on_enter_recovery(cc, in_flight, now_us);
}

/*
 * Recovery ended with a full acknowledgment: cwnd deflates to ssthresh
 * (RFC 6582 3.2 step 6, option 2: the one that suits SACK recovery too, where
 * cwnd was never inflated).
 */
static inline void
hf_tcp_cc_on_exit_recovery(struct hf_tcp_cc *cc)
{
	cc->ops->on_exit_recovery(cc);
}

/*
 * The retransmission timer expired with @p in_flight bytes outstanding:
 * ssthresh as for a loss (held, not lowered again, on a further timeout
 * before new data is acknowledged: RFC 5681 3.1), cwnd to the loss window of
 * one segment (RFC 5681 3.1); CUBIC starts its next epoch flat (RFC 9438 4.8).
 */
static inline void
hf_tcp_cc_on_rto(struct hf_tcp_cc *cc, uint32_t in_flight)
{
	cc->ops->on_rto(cc, in_flight);
}

/*
 * NewReno fast recovery without SACK (RFC 6582 3.2 steps 3 and 4, RFC 5681
 * 3.2 steps 4 and 5): each of @p dupacks duplicate ACKs means a segment left
 * the network, so cwnd grows by one SMSS each.
 */
void hf_tcp_cc_inflate(struct hf_tcp_cc *cc, uint32_t dupacks);

/*
 * A partial acknowledgment of @p acked new bytes during fast recovery
 * (RFC 6582 3.2 step 5): cwnd deflates by @p acked, then gets one SMSS back if
 * @p acked is at least one SMSS; never below one SMSS.
 */
void hf_tcp_cc_on_partial_ack(struct hf_tcp_cc *cc, uint32_t acked);

#endif
