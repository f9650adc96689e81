/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ARP for IPv4 over Ethernet (RFC 826), one cache per worker.
 *
 * The cache is an open-addressing table probed linearly over HF_ARP_PROBE
 * slots from the home bucket. Entries move INCOMPLETE → REACHABLE on an
 * answer, REACHABLE → STALE after reachable_tsc, and a STALE entry that is
 * used sends a refresh request; one that stays unanswered HF_ARP_MAX_RETRIES
 * times, or is left unused for gc_tsc, is freed. Whatever a worker learns
 * from the wire it passes to its siblings, because RSS spreads the replies
 * over queues without regard to which worker asked.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dataplane/net/arp.h"
#include "dataplane/net/eth.h"
#include "dataplane/worker.h"

static inline unsigned int
bucket(uint16_t port, uint32_t ip)
{
	/* Fibonacci hashing: the top bits of a multiplicative hash. */
	uint32_t h = (ip ^ ((uint32_t)port << 24)) * 2654435769u;

	return h >> (32 - __builtin_ctz(HF_ARP_ENTRIES));
}

/* In line: hf_arp_output() looks up the next hop of every datagram sent. */
static inline __attribute__((always_inline)) struct hf_arp_entry *
find(struct hf_arp_table *t, uint16_t port, uint32_t ip)
{
	unsigned int b = bucket(port, ip);

	for (unsigned int i = 0; i < HF_ARP_PROBE; i++) {
		struct hf_arp_entry *e = &t->e[(b + i) & (HF_ARP_ENTRIES - 1)];

		if (e->state != HF_ARP_FREE && e->ip == ip && e->port == port)
			return e;
	}
	return NULL;
}

static void
release(struct hf_worker *w, struct hf_arp_entry *e)
{
	for (unsigned int i = 0; i < e->n_pending; i++) {
		rte_pktmbuf_free(e->pending[i]);
		e->pending[i] = NULL;
		HF_COUNT(w, ARP_DROP_UNRESOLVED);
	}
	w->arp.n_pending -= e->n_pending;
	memset(e, 0, sizeof(*e));
}

/*
 * Returns a free slot for (port, ip), evicting the entry confirmed longest
 * ago among the probed ones when all are taken. Entries still waiting for an
 * answer are only evicted when nothing else is there.
 */
static struct hf_arp_entry *
insert(struct hf_worker *w, uint16_t port, uint32_t ip)
{
	struct hf_arp_table *t = &w->arp;
	unsigned int b = bucket(port, ip);
	struct hf_arp_entry *victim = NULL;

	for (unsigned int i = 0; i < HF_ARP_PROBE; i++) {
		struct hf_arp_entry *e = &t->e[(b + i) & (HF_ARP_ENTRIES - 1)];

		if (e->state == HF_ARP_FREE) {
			victim = e;
			goto take;
		}
		if (victim == NULL ||
		    (victim->state == HF_ARP_INCOMPLETE && e->state != HF_ARP_INCOMPLETE) ||
		    (e->state != HF_ARP_INCOMPLETE && e->confirmed < victim->confirmed))
			victim = e;
	}
	HF_COUNT(w, ARP_EVICTIONS);
	release(w, victim);
take:
	victim->ip = ip;
	victim->port = port;
	return victim;
}

static struct rte_mbuf *
build(struct hf_worker *w, const struct hf_port *p, uint16_t op,
      const struct rte_ether_addr *eth_dst, const struct rte_ether_addr *tha, uint32_t tip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(p->pool);
	struct rte_arp_hdr *ah;

	if (unlikely(m == NULL)) {
		HF_COUNT(w, PORT_DROP_NO_MBUF);
		return NULL;
	}
	if (rte_pktmbuf_append(m, sizeof(struct rte_ether_hdr) + sizeof(*ah)) == NULL) {
		rte_pktmbuf_free(m);
		HF_COUNT(w, PORT_DROP_NO_MBUF);
		return NULL;
	}
	ah = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));
	ah->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = sizeof(uint32_t);
	ah->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(&p->mac, &ah->arp_data.arp_sha);
	ah->arp_data.arp_sip = p->addr;
	rte_ether_addr_copy(tha, &ah->arp_data.arp_tha);
	ah->arp_data.arp_tip = tip;
	hf_eth_output(w, p, m, eth_dst, RTE_ETHER_TYPE_ARP);
	return m;
}

static const struct rte_ether_addr zero_mac;
static const struct rte_ether_addr bcast_mac = {.addr_bytes = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

static void
send_request(struct hf_worker *w, const struct hf_port *p, struct hf_arp_entry *e)
{
	/* A refresh of a known entry goes unicast, as Linux does in its PROBE state. */
	const struct rte_ether_addr *dst = e->state == HF_ARP_STALE ? &e->mac : &bcast_mac;

	if (build(w, p, RTE_ARP_OP_REQUEST, dst, &zero_mac, e->ip) != NULL)
		HF_COUNT(w, ARP_TX_REQUEST);
	e->retries++;
	e->next_request = w->now + w->arp.retry_tsc;
}

void
hf_arp_announce(struct hf_worker *w, const struct hf_port *p)
{
	if (build(w, p, RTE_ARP_OP_REQUEST, &bcast_mac, &zero_mac, p->addr) != NULL)
		HF_COUNT(w, ARP_TX_GRATUITOUS);
}

static void
flush_pending(struct hf_worker *w, const struct hf_port *p, struct hf_arp_entry *e)
{
	for (unsigned int i = 0; i < e->n_pending; i++) {
		hf_eth_output(w, p, e->pending[i], &e->mac, RTE_ETHER_TYPE_IPV4);
		e->pending[i] = NULL;
	}
	w->arp.n_pending -= e->n_pending;
	e->n_pending = 0;
}

/*
 * Records that @p ip is at @p mac on port @p p. With @p create false only an
 * existing entry is updated (RFC 826 merge rule for frames not addressed to
 * us). Returns 1 when the cache changed, 0 when it already held the mapping,
 * -1 when it has no entry to merge into (@p create false), so that the caller
 * knows what to tell siblings.
 */
static int
learn(struct hf_worker *w, const struct hf_port *p, uint32_t ip,
      const struct rte_ether_addr *mac, bool create)
{
	struct hf_arp_entry *e = find(&w->arp, p->index, ip);
	int changed;

	if (e == NULL) {
		if (!create)
			return -1;
		e = insert(w, p->index, ip);
		changed = 1;
	} else {
		changed = e->state != HF_ARP_REACHABLE || !rte_is_same_ether_addr(&e->mac, mac);
	}
	rte_ether_addr_copy(mac, &e->mac);
	e->state = HF_ARP_REACHABLE;
	e->confirmed = w->now;
	e->retries = 0;
	e->next_request = 0;
	flush_pending(w, p, e);
	HF_COUNT(w, ARP_LEARNED);
	return changed;
}

/* Passes a mapping to every sibling; with @p create false they only merge it (learn()). */
static void
tell_siblings(struct hf_worker *w, const struct hf_port *p, uint32_t ip,
	      const struct rte_ether_addr *mac, bool create)
{
	struct hf_arp_update u = {.ip = ip, .port = p->index, .create = create};

	if (w->siblings == NULL)
		return;
	rte_ether_addr_copy(mac, &u.mac);
	for (unsigned int i = 0; i < w->n_workers; i++) {
		struct hf_worker *s = w->siblings[i];

		if (s == w || s->arp_in == NULL)
			continue;
		if (rte_ring_mp_enqueue_elem(s->arp_in, &u, sizeof(u)) != 0)
			HF_COUNT(w, ARP_DROP_SIBLING_RING);
	}
}

void
hf_arp_drain_siblings(struct hf_worker *w)
{
	struct hf_arp_update u[HF_BURST];
	unsigned int n;

	if (w->arp_in == NULL)
		return;
	n = rte_ring_sc_dequeue_burst_elem(w->arp_in, u, sizeof(u[0]), HF_BURST, NULL);
	for (unsigned int i = 0; i < n; i++) {
		if (u[i].port >= w->n_ports)
			continue;
		/*
		 * News of a frame for us creates entries: it may answer our own pending
		 * request. A frame for others only refreshes what this worker holds.
		 */
		learn(w, &w->ports[u[i].port], u[i].ip, &u[i].mac, u[i].create);
		HF_COUNT(w, ARP_SIBLING_UPDATES);
	}
}

void
hf_arp_input(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m)
{
	struct rte_arp_hdr *ah;
	uint16_t op;
	uint32_t sip, tip;
	bool for_us;

	if (unlikely(rte_pktmbuf_data_len(m) < m->l2_len + sizeof(*ah))) {
		HF_COUNT(w, ARP_DROP_TRUNCATED);
		goto drop;
	}
	ah = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, m->l2_len);
	if (unlikely(ah->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
		     ah->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
		     ah->arp_hlen != RTE_ETHER_ADDR_LEN || ah->arp_plen != sizeof(uint32_t))) {
		HF_COUNT(w, ARP_DROP_FORMAT);
		goto drop;
	}
	op = rte_be_to_cpu_16(ah->arp_opcode);
	if (unlikely(op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)) {
		HF_COUNT(w, ARP_DROP_OPCODE);
		goto drop;
	}
	HF_COUNT_N(w, ARP_RX_REQUEST, op == RTE_ARP_OP_REQUEST);
	HF_COUNT_N(w, ARP_RX_REPLY, op == RTE_ARP_OP_REPLY);

	sip = ah->arp_data.arp_sip;
	tip = ah->arp_data.arp_tip;
	if (unlikely(!rte_is_unicast_ether_addr(&ah->arp_data.arp_sha) || sip == p->addr)) {
		/* Someone claims our address, or a MAC no host may have: learn nothing. */
		HF_COUNT(w, ARP_DROP_BAD_SENDER);
		goto drop;
	}
	for_us = tip == p->addr;

	/*
	 * An ARP probe (sender 0.0.0.0, RFC 5227 2.1.1) teaches no mapping. A
	 * change goes to the siblings, and so does a frame for others that this
	 * worker had no entry to merge into: a sibling may hold the sender (a
	 * gratuitous ARP after a MAC change, say) and must not keep the old MAC
	 * because RSS brought the news here.
	 */
	if (sip != 0 && learn(w, p, sip, &ah->arp_data.arp_sha, for_us) != 0)
		tell_siblings(w, p, sip, &ah->arp_data.arp_sha, for_us);

	if (!for_us) {
		HF_COUNT(w, ARP_DROP_NOT_FOR_US);
		goto drop;
	}
	if (op != RTE_ARP_OP_REQUEST)
		goto drop;	/* a reply for us: consumed by learn() above */

	/* Answer in place: the request becomes the reply (RFC 826, "swap fields"). */
	ah->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&ah->arp_data.arp_sha, &ah->arp_data.arp_tha);
	ah->arp_data.arp_tip = sip;
	rte_ether_addr_copy(&p->mac, &ah->arp_data.arp_sha);
	ah->arp_data.arp_sip = p->addr;
	/* Trim Ethernet padding so the reply is exactly what we built. */
	rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - (m->l2_len + sizeof(*ah)));
	HF_COUNT(w, ARP_TX_REPLY);
	hf_eth_output(w, p, m, &ah->arp_data.arp_tha, RTE_ETHER_TYPE_ARP);
	return;
drop:
	rte_pktmbuf_free(m);
}

void
hf_arp_output(struct hf_worker *w, const struct hf_port *p, uint32_t nexthop,
	      struct rte_mbuf *m)
{
	struct hf_arp_entry *e = find(&w->arp, p->index, nexthop);

	if (likely(e != NULL && e->state != HF_ARP_INCOMPLETE)) {
		if (unlikely(e->state == HF_ARP_STALE && e->next_request == 0))
			send_request(w, p, e);
		hf_eth_output(w, p, m, &e->mac, RTE_ETHER_TYPE_IPV4);
		return;
	}
	if (e == NULL) {
		e = insert(w, p->index, nexthop);
		e->state = HF_ARP_INCOMPLETE;
		send_request(w, p, e);
	}
	if (e->n_pending == HF_ARP_PENDING || w->arp.n_pending == HF_ARP_PENDING_TOTAL) {
		HF_COUNT(w, ARP_DROP_QUEUE_FULL);
		rte_pktmbuf_free(m);
		return;
	}
	e->pending[e->n_pending++] = m;
	w->arp.n_pending++;
}

void
hf_arp_tick(struct hf_worker *w)
{
	struct hf_arp_table *t = &w->arp;

	for (unsigned int i = 0; i < HF_ARP_ENTRIES; i++) {
		struct hf_arp_entry *e = &t->e[i];

		switch (e->state) {
		case HF_ARP_FREE:
			continue;
		case HF_ARP_REACHABLE:
			if (w->now - e->confirmed >= t->reachable_tsc)
				e->state = HF_ARP_STALE;
			continue;
		case HF_ARP_STALE:
		case HF_ARP_INCOMPLETE:
			break;
		}
		if (e->next_request != 0 && w->now >= e->next_request) {
			if (e->retries >= HF_ARP_MAX_RETRIES) {
				HF_COUNT(w, ARP_EXPIRED);
				release(w, e);
				continue;
			}
			send_request(w, &w->ports[e->port], e);
		} else if (e->state == HF_ARP_STALE && e->next_request == 0 &&
			   w->now - e->confirmed >= t->gc_tsc) {
			HF_COUNT(w, ARP_EXPIRED);
			release(w, e);
		}
	}
}

int
hf_arp_slot(const struct hf_worker *w, uint16_t port, uint32_t ip)
{
	const struct hf_arp_entry *e = find((struct hf_arp_table *)&w->arp, port, ip);

	return e != NULL ? (int)(e - w->arp.e) : -1;
}

const struct rte_ether_addr *
hf_arp_lookup(const struct hf_worker *w, uint16_t port, uint32_t ip)
{
	const struct hf_arp_entry *e = find((struct hf_arp_table *)&w->arp, port, ip);

	return e != NULL && e->state != HF_ARP_INCOMPLETE ? &e->mac : NULL;
}

void
hf_arp_init(struct hf_worker *w)
{
	memset(&w->arp, 0, sizeof(w->arp));
	w->arp.reachable_tsc = hf_ms_to_tsc(w, HF_ARP_REACHABLE_MS);
	w->arp.retry_tsc = hf_ms_to_tsc(w, HF_ARP_RETRY_MS);
	w->arp.gc_tsc = hf_ms_to_tsc(w, HF_ARP_GC_MS);
}

void
hf_arp_fini(struct hf_worker *w)
{
	for (unsigned int i = 0; i < HF_ARP_ENTRIES; i++)
		if (w->arp.e[i].state != HF_ARP_FREE)
			release(w, &w->arp.e[i]);
}
