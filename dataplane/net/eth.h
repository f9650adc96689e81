/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_ETH_H
#define HF_ETH_H

#include "dataplane/worker-t.h"

struct rte_mbuf;

/*
 * Entry point of the stack for one received frame, data at the Ethernet
 * header. Accepts frames to our MAC or broadcast carrying IPv4 or ARP, and
 * hands them on with m->l2_len set; everything else is freed and counted
 * under eth.drop.*. Always consumes @p m.
 */
void hf_eth_input(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m);

/*
 * Fills the Ethernet header in front of the L3 packet in @p m (which must
 * start at that header) and queues it for TX on @p p.
 */
void hf_eth_output(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m,
		   const struct rte_ether_addr *dst, uint16_t ether_type);

#endif
