/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_ARP_H
#define HF_ARP_H

#include "dataplane/worker-t.h"

struct rte_mbuf;

/* Timer defaults, in milliseconds (Linux uses 30 s reachable, 1 s retransmit). */
#define HF_ARP_REACHABLE_MS 30000
#define HF_ARP_RETRY_MS 1000
#define HF_ARP_GC_MS 300000
#define HF_ARP_MAX_RETRIES 3

/** Empties the cache of @p w and sets its timers from @p tsc_hz. */
void hf_arp_init(struct hf_worker *w);

/** Frees every packet still waiting for resolution. */
void hf_arp_fini(struct hf_worker *w);

/*
 * Handles one ARP frame (RFC 826), m->l2_len set. Learns the sender when the
 * target is us or when the sender is already cached (the "merge" rule), and
 * answers requests for our address in place. Always consumes @p m.
 */
void hf_arp_input(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m);

/*
 * Sends IPv4 packet @p m (Ethernet header space in front, IP header final) to
 * next hop @p nexthop (network order) on @p p. When the MAC is not cached the
 * packet waits, bounded per entry and per worker, while requests go out once
 * a second, three times at most. Always consumes @p m.
 */
void hf_arp_output(struct hf_worker *w, const struct hf_port *p, uint32_t nexthop,
		   struct rte_mbuf *m);

/** Broadcasts a gratuitous ARP for the address of @p p (RFC 5227 2.3). */
void hf_arp_announce(struct hf_worker *w, const struct hf_port *p);

/** Ages entries and retransmits requests; call every few milliseconds. */
void hf_arp_tick(struct hf_worker *w);

/** Applies the cache updates other workers passed to @p w. */
void hf_arp_drain_siblings(struct hf_worker *w);

/** Looks up a confirmed MAC for @p ip on @p port; NULL when none. For tests and stats. */
const struct rte_ether_addr *hf_arp_lookup(const struct hf_worker *w, uint16_t port, uint32_t ip);

#endif
