/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "dataplane/tcp/rto.h"

static uint32_t
bound(const struct hf_tcp_rto *r, uint64_t v)
{
	if (v < r->min_us)
		v = r->min_us;
	if (v > HF_TCP_RTO_MAX_US)
		v = HF_TCP_RTO_MAX_US;
	return (uint32_t)v;
}

/* RTO = SRTT + max(G, K * RTTVAR) (2.2, 2.3), then bounded (2.4, 2.5). */
static void
compute(struct hf_tcp_rto *r)
{
	uint64_t var = (uint64_t)HF_TCP_RTO_K * r->rttvar_us;

	r->rto_us = bound(r, (uint64_t)r->srtt_us + (var > r->g_us ? var : r->g_us));
}

int
hf_tcp_rto_configure(struct hf_tcp_rto *r, uint32_t min_us, uint32_t g_us)
{
	if (min_us == 0 || min_us > HF_TCP_RTO_MAX_US || g_us == 0 || g_us > HF_TCP_RTO_MAX_US)
		return -EINVAL;
	r->min_us = min_us;
	r->g_us = g_us;
	if (r->srtt_us == 0)
		r->rto_us = bound(r, HF_TCP_RTO_INITIAL_US);
	else
		compute(r);
	return 0;
}

void
hf_tcp_rto_sample(struct hf_tcp_rto *r, uint64_t rtt_us)
{
	uint32_t rtt = rtt_us > HF_TCP_RTO_MAX_US ? HF_TCP_RTO_MAX_US : (uint32_t)rtt_us;

	if (r->srtt_us == 0) {
		/* 2.2: the first measurement R sets SRTT = R, RTTVAR = R/2. */
		r->srtt_us = rtt != 0 ? rtt : 1;	/* 0 means "no sample yet" */
		r->rttvar_us = rtt / 2;
	} else {
		/* 2.3, alpha = 1/8 and beta = 1/4: RTTVAR first, from the old SRTT. */
		uint32_t delta = r->srtt_us > rtt ? r->srtt_us - rtt : rtt - r->srtt_us;

		r->rttvar_us = (uint32_t)((3ull * r->rttvar_us + delta) / 4);
		r->srtt_us = (uint32_t)((7ull * r->srtt_us + rtt) / 8);
		if (r->srtt_us == 0)
			r->srtt_us = 1;
	}
	r->backoff = 0;
	compute(r);
}

int
hf_tcp_rto_measure(struct hf_tcp_rto *r, uint64_t rtt_us, unsigned int flags)
{
	if ((flags & HF_TCP_RTT_RETRANSMITTED) && !(flags & HF_TCP_RTT_TIMESTAMP))
		return -EAGAIN;
	hf_tcp_rto_sample(r, rtt_us);
	return 0;
}

void
hf_tcp_rto_backoff(struct hf_tcp_rto *r)
{
	/* Stop counting once the bound is reached: the shift stays small and defined. */
	if (hf_tcp_rto_get_us(r) < HF_TCP_RTO_MAX_US)
		r->backoff++;
}

void
hf_tcp_rto_syn_lost(struct hf_tcp_rto *r)
{
	if (r->srtt_us != 0)
		return;
	r->backoff = 0;
	if (r->rto_us < HF_TCP_RTO_SYN_FALLBACK_US)
		r->rto_us = HF_TCP_RTO_SYN_FALLBACK_US;
}
