/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TCP_RTO_H
#define HF_TCP_RTO_H

#include <stdint.h>

/*
 * Round-trip estimation and the retransmission timeout, RFC 6298, in
 * microseconds. Deviation, as in Linux: the lower bound is 200 ms, not the
 * RFC's 1 s (section 2.4 allows it; 1 s stalls a data centre path for no
 * reason). Backoff (5.5) is applied by the caller as a shift of the value.
 */
#define HF_TCP_RTO_MIN_US 200000u
#define HF_TCP_RTO_MAX_US 60000000u
#define HF_TCP_RTO_INITIAL_US 1000000u	/* RFC 6298 2.1 */
#define HF_TCP_RTO_G_US 1000u		/* clock granularity: 1 ms ticks */

struct hf_tcp_rto {
	uint32_t srtt_us;		/* 0 until the first sample */
	uint32_t rttvar_us;
	uint32_t rto_us;
};

static inline void
hf_tcp_rto_init(struct hf_tcp_rto *r)
{
	r->srtt_us = 0;
	r->rttvar_us = 0;
	r->rto_us = HF_TCP_RTO_INITIAL_US;
}

/* Folds one measurement in (RFC 6298 2.2 and 2.3; Karn's rule is the caller's). */
void hf_tcp_rto_sample(struct hf_tcp_rto *r, uint64_t rtt_us);

static inline uint32_t
hf_tcp_rto_get_us(const struct hf_tcp_rto *r)
{
	return r->rto_us;
}

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
