/* SPDX-License-Identifier: Apache-2.0 */
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <netinet/ip_icmp.h>

#include "dataplane/net/cksum.h"
#include "dataplane/net/eth.h"
#include "dataplane/net/icmp.h"
#include "dataplane/net/ipv4.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changing from
 * @p old to @p new. Lets the reply keep the request's payload unread.
 */
static inline uint16_t
cksum_update16(uint16_t hc, uint16_t old, uint16_t new)
{
	uint32_t s = (uint16_t)~hc + (uint16_t)~old + new;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

void
hf_icmp_input(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m)
{
	const uint32_t off = m->l2_len + m->l3_len;
	const uint32_t len = rte_pktmbuf_pkt_len(m) - off;
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ih;
	struct rte_icmp_hdr *ic;
	uint16_t old;

	if (unlikely(len < sizeof(*ic) || rte_pktmbuf_data_len(m) < off + sizeof(*ic))) {
		HF_COUNT(w, ICMP_DROP_TRUNCATED);
		goto drop;
	}
	ic = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *, off);
	if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST &&
	    ic->icmp_type != ICMP_DEST_UNREACH && ic->icmp_type != ICMP_TIME_EXCEEDED) {
		HF_COUNT(w, ICMP_RX_OTHER);
		goto drop;
	}
	/* The checksum covers the whole message (RFC 792); a correct one sums to all ones. */
	if (unlikely(hf_cksum_mbuf(m, off, len) != 0xffff)) {
		HF_COUNT(w, ICMP_DROP_CHECKSUM);
		goto drop;
	}
	if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST) {
		/* An error quoting one of our datagrams (RFC 792): its transport decides. */
		const uint8_t *quote = (const uint8_t *)(ic + 1);
		uint32_t qlen = RTE_MIN(len, (uint32_t)rte_pktmbuf_data_len(m) - off) - sizeof(*ic);

		HF_COUNT(w, ICMP_RX_ERROR);
		if (w->tcp != NULL && qlen >= 20 && quote[9] == IPPROTO_TCP)
			hf_tcp_icmp_error(w, ic->icmp_type, ic->icmp_code,
					  rte_be_to_cpu_16(ic->icmp_seq_nb), quote, qlen);
		goto drop;
	}
	if (ic->icmp_code != 0) {
		HF_COUNT(w, ICMP_RX_OTHER);
		goto drop;
	}
	HF_COUNT(w, ICMP_RX_ECHO_REQUEST);

	/* Type 8 → 0 in the first word (type, code); code stays 0. */
	old = *(uint16_t *)ic;
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = cksum_update16(ic->icmp_cksum, old, *(uint16_t *)ic);

	ih = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	ih->dst_addr = ih->src_addr;
	ih->src_addr = p->addr;
	hf_ipv4_finish(w, ih);

	/* Straight back to the sender's MAC: the frame came from our next hop for it. */
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	HF_COUNT(w, ICMP_TX_ECHO_REPLY);
	hf_eth_output(w, p, m, &eh->src_addr, RTE_ETHER_TYPE_IPV4);
	return;
drop:
	rte_pktmbuf_free(m);
}
