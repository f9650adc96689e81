/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_ARP_H
#define HF_ARP_H

#include <rte_branch_prediction.h>

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

/*
 * The cache slot of the entry for @p ip on @p port, whatever its state, or
 * -1 when there is none. A sender that sends many datagrams to one next hop
 * (a TCB) keeps it for hf_arp_slot_mac().
 */
int hf_arp_slot(const struct hf_worker *w, uint16_t port, uint32_t ip);

/*
 * The MAC in cache slot @p slot when that slot holds @p ip on @p port, confirmed
 * (REACHABLE): the address hf_arp_output() would send the datagram to, with
 * nothing else to do first, without looking @p ip up. NULL otherwise (the
 * slot went to another address, or the entry is stale, unresolved or gone):
 * the caller sends through hf_arp_output(), which refreshes or queues. Keys
 * are unique in the cache, so a slot found holding (@p port, @p ip) is the
 * entry a lookup would find; its MAC is read here at each use, so a changed
 * mapping is followed at once.
 */
static inline const struct rte_ether_addr *
hf_arp_slot_mac(const struct hf_worker *w, uint32_t slot, uint16_t port, uint32_t ip)
{
	const struct hf_arp_entry *e = &w->arp.e[slot & (HF_ARP_ENTRIES - 1)];

	if (likely(e->ip == ip && e->port == port && e->state == HF_ARP_REACHABLE))
		return &e->mac;
	return NULL;
}

/** Looks up a confirmed MAC for @p ip on @p port; NULL when none. For tests and stats. */
const struct rte_ether_addr *hf_arp_lookup(const struct hf_worker *w, uint16_t port, uint32_t ip);

#endif
