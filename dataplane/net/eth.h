/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_ETH_H
#define HF_ETH_H

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dataplane/worker.h"

/*
 * Entry point of the stack for one received frame, data at the Ethernet
 * header. Accepts frames to our MAC or broadcast carrying IPv4 or ARP, and
 * hands them on with m->l2_len set; everything else is freed and counted
 * under eth.drop.*. Always consumes @p m.
 */
void hf_eth_input(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m);

/*
 * Fills the Ethernet header in front of the L3 packet in @p m (which must
 * start at that header) and queues it for TX on @p p. In line: every frame
 * sent comes here, most of them from the TCP output's fast path.
 */
static inline void
hf_eth_output(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m,
	      const struct rte_ether_addr *dst, uint16_t ether_type)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	rte_ether_addr_copy(dst, &eh->dst_addr);
	rte_ether_addr_copy(&p->mac, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(ether_type);
	hf_tx_enqueue(w, p, m);
}

#endif
