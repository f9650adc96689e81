/* SPDX-License-Identifier: Apache-2.0 */
#include "dataplane/tcp/rto.h"

void
hf_tcp_rto_sample(struct hf_tcp_rto *r, uint64_t rtt_us)
{
	uint32_t rtt = rtt_us > HF_TCP_RTO_MAX_US ? HF_TCP_RTO_MAX_US : (uint32_t)rtt_us;
	uint64_t rto;

	if (r->srtt_us == 0) {
		/* 2.2: the first measurement R sets SRTT = R, RTTVAR = R/2. */
		r->srtt_us = rtt ? rtt : 1;
		r->rttvar_us = rtt / 2;
	} else {
		/* 2.3 with alpha = 1/8, beta = 1/4: RTTVAR first, with the old SRTT. */
		uint32_t delta = r->srtt_us > rtt ? r->srtt_us - rtt : rtt - r->srtt_us;

		r->rttvar_us = r->rttvar_us - r->rttvar_us / 4 + delta / 4;
		r->srtt_us = r->srtt_us - r->srtt_us / 8 + rtt / 8;
		if (r->srtt_us == 0)
			r->srtt_us = 1;
	}
	/* RTO = SRTT + max(G, K*RTTVAR), K = 4, then bounded (2.4, 2.5). */
	rto = (uint64_t)r->srtt_us +
	      (4ull * r->rttvar_us > HF_TCP_RTO_G_US ? 4ull * r->rttvar_us : HF_TCP_RTO_G_US);
	if (rto < HF_TCP_RTO_MIN_US)
		rto = HF_TCP_RTO_MIN_US;
	if (rto > HF_TCP_RTO_MAX_US)
		rto = HF_TCP_RTO_MAX_US;
	r->rto_us = (uint32_t)rto;
}
