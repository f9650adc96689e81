/* SPDX-License-Identifier: Apache-2.0 */
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dataplane/net/arp.h"
#include "dataplane/net/eth.h"
#include "dataplane/net/ipv4.h"
#include "dataplane/worker.h"

static inline void
drop(struct rte_mbuf *m)
{
	rte_pktmbuf_free(m);
}

void
hf_eth_input(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh;

	if (unlikely(rte_pktmbuf_data_len(m) < sizeof(*eh))) {
		HF_COUNT(w, ETH_DROP_RUNT);
		drop(m);
		return;
	}
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	m->l2_len = sizeof(*eh);

	/* Unicast to us is the common case; test it first and in one compare. */
	if (unlikely(!rte_is_same_ether_addr(&eh->dst_addr, &p->mac))) {
		if (rte_is_broadcast_ether_addr(&eh->dst_addr)) {
			/* accepted: ARP requests and announcements arrive this way */
		} else if (rte_is_multicast_ether_addr(&eh->dst_addr)) {
			HF_COUNT(w, ETH_DROP_MULTICAST);
			drop(m);
			return;
		} else {
			HF_COUNT(w, ETH_DROP_OTHER_HOST);
			drop(m);
			return;
		}
	}

	switch (eh->ether_type) {
	case RTE_BE16(RTE_ETHER_TYPE_IPV4):
		hf_ipv4_input(w, p, m);
		return;
	case RTE_BE16(RTE_ETHER_TYPE_ARP):
		hf_arp_input(w, p, m);
		return;
	case RTE_BE16(RTE_ETHER_TYPE_VLAN):
	case RTE_BE16(RTE_ETHER_TYPE_QINQ):
		HF_COUNT(w, ETH_DROP_VLAN);
		break;
	default:
		HF_COUNT(w, ETH_DROP_ETHERTYPE);
		break;
	}
	drop(m);
}
