/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_ICMP_H
#define HF_ICMP_H

#include "dataplane/worker-t.h"

struct rte_mbuf;

/*
 * Handles one ICMP message (RFC 792), m->l2_len and m->l3_len set, the
 * datagram validated by hf_ipv4_input(). An echo request is turned into its
 * reply in place, payload untouched, and sent back to the MAC it came from;
 * other types are counted and consumed. Always consumes @p m.
 */
void hf_icmp_input(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m);

#endif
