/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TCP_CC_H
#define HF_TCP_CC_H

#include <stdint.h>

/*
 * Congestion control: NewReno (RFC 5681, RFC 6582 bookkeeping stays in the
 * stack) and CUBIC (RFC 9438), the default. Windows in bytes; CUBIC's curve is
 * computed in segments with doubles, once per ACK. Time in microseconds from
 * the caller's clock.
 */
enum hf_tcp_cc_algo {
	HF_TCP_CC_CUBIC = 0,
	HF_TCP_CC_NEWRENO,
};

struct hf_tcp_cc {
	uint8_t algo;			/* enum hf_tcp_cc_algo */
	uint32_t smss;
	uint32_t cwnd;
	uint32_t ssthresh;
	uint32_t bytes_acked;		/* congestion avoidance byte counting (RFC 3465) */
	/* CUBIC state (RFC 9438 4), in segments and seconds */
	uint64_t epoch_us;		/* start of the current avoidance epoch; 0: none */
	double w_max;
	double k;
	double w_est;			/* Reno-friendly estimate (4.3) */
	double cwnd_epoch;
};

#define HF_CUBIC_C 0.4
#define HF_CUBIC_BETA 0.7

/* Initial window per RFC 6928: min(10*MSS, max(2*MSS, 14600)). */
void hf_tcp_cc_init(struct hf_tcp_cc *cc, enum hf_tcp_cc_algo algo, uint32_t smss);

/* New data acknowledged outside recovery: slow start or congestion avoidance. */
void hf_tcp_cc_on_ack(struct hf_tcp_cc *cc, uint32_t acked, uint64_t now_us, uint32_t srtt_us,
		      uint32_t in_flight);

/* Fast retransmit: ssthresh and cwnd after a loss (RFC 5681 3.2 step 2, RFC 9438 4.6). */
void hf_tcp_cc_on_enter_recovery(struct hf_tcp_cc *cc, uint32_t in_flight, uint64_t now_us);

/* Full acknowledgment of the recovery point: deflate to ssthresh (RFC 6582 3.2 step 3). */
void hf_tcp_cc_on_exit_recovery(struct hf_tcp_cc *cc);

/* Retransmission timeout: ssthresh from the flight, cwnd to one segment (RFC 5681 3.1). */
void hf_tcp_cc_on_rto(struct hf_tcp_cc *cc, uint32_t in_flight);

#endif
