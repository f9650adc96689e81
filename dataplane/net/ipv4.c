/* SPDX-License-Identifier: Apache-2.0 */
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/net/arp.h"
#include "dataplane/net/cksum.h"
#include "dataplane/net/icmp.h"
#include "dataplane/net/ipv4.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"

void
hf_ipv4_input(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m)
{
	const uint32_t l2 = m->l2_len;
	const uint32_t frame = rte_pktmbuf_pkt_len(m);
	struct rte_ipv4_hdr *ih;
	uint32_t ihl, total;

	if (unlikely(rte_pktmbuf_data_len(m) < l2 + sizeof(*ih))) {
		HF_COUNT(w, IPV4_DROP_TRUNCATED);
		goto drop;
	}
	ih = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, l2);
	if (unlikely((ih->version_ihl >> 4) != 4)) {
		HF_COUNT(w, IPV4_DROP_VERSION);
		goto drop;
	}
	ihl = (uint32_t)(ih->version_ihl & RTE_IPV4_HDR_IHL_MASK) * 4;
	if (unlikely(ihl < sizeof(*ih) || l2 + ihl > rte_pktmbuf_data_len(m))) {
		HF_COUNT(w, IPV4_DROP_IHL);
		goto drop;
	}
	total = rte_be_to_cpu_16(ih->total_length);
	if (unlikely(total < ihl || l2 + total > frame)) {
		HF_COUNT(w, IPV4_DROP_TOTAL_LENGTH);
		goto drop;
	}
	/* RFC 1071: the sum over a correct header, checksum field included, is all ones. */
	if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
	    unlikely((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
		     hf_cksum_ipv4_hdr(ih) != 0)) {
		HF_COUNT(w, IPV4_DROP_CHECKSUM);
		goto drop;
	}
	if (unlikely(ih->time_to_live == 0)) {
		HF_COUNT(w, IPV4_DROP_TTL);
		goto drop;
	}
	if (unlikely(ih->dst_addr != p->addr)) {
		HF_COUNT(w, IPV4_DROP_NOT_OURS);
		goto drop;
	}
	if (unlikely(hf_ipv4_is_martian_source(ih->src_addr, p->mask, p->addr))) {
		HF_COUNT(w, IPV4_DROP_BAD_SOURCE);
		goto drop;
	}
	/* MF set or a non-zero offset: a fragment. We do not reassemble (yet). */
	if (unlikely(ih->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))) {
		HF_COUNT(w, IPV4_DROP_FRAGMENT);
		goto drop;
	}
	if (frame > l2 + total)
		rte_pktmbuf_trim(m, frame - (l2 + total));
	m->l3_len = ihl;
	HF_COUNT(w, IPV4_RX);

	switch (ih->next_proto_id) {
	case IPPROTO_ICMP:
		hf_icmp_input(w, p, m);
		return;
	case IPPROTO_TCP:
		if (w->tcp != NULL) {
			hf_tcp_input(w, p, m);
			return;
		}
		HF_COUNT(w, IPV4_DROP_PROTOCOL);
		break;
	default:
		HF_COUNT(w, IPV4_DROP_PROTOCOL);
		break;
	}
drop:
	rte_pktmbuf_free(m);
}

/*
 * Sends @p m to its destination, finishing its header first unless
 * @p complete: on-link directly, otherwise through the port's gateway.
 */
static inline void
output(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m, bool complete)
{
	struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	uint32_t nexthop = hf_ipv4_nexthop(p, ih->dst_addr);

	if (unlikely(nexthop == 0)) {
		HF_COUNT(w, IPV4_DROP_NO_ROUTE);
		rte_pktmbuf_free(m);
		return;
	}
	if (complete)
		HF_COUNT(w, IPV4_TX);
	else
		hf_ipv4_finish(w, ih);
	hf_arp_output(w, p, nexthop, m);
}

void
hf_ipv4_output(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m)
{
	output(w, p, m, false);
}

void
hf_ipv4_output_complete(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m)
{
	output(w, p, m, true);
}

void
hf_ipv4_finish(struct hf_worker *w, struct rte_ipv4_hdr *ih)
{
	ih->time_to_live = HF_IPV4_DEFAULT_TTL;
	ih->packet_id = rte_cpu_to_be_16(hf_ipv4_next_id(w));
	ih->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ih->hdr_checksum = 0;
	ih->hdr_checksum = hf_cksum_ipv4_hdr_fields(ih);
	HF_COUNT(w, IPV4_TX);
}
