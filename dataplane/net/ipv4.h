/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_IPV4_H
#define HF_IPV4_H

#include <stdint.h>

#include "dataplane/worker-t.h"

struct rte_mbuf;

#define HF_IPV4_DEFAULT_TTL 64

/*
 * Validates one IPv4 datagram (RFC 791 3.1, RFC 1122 3.2.1): version, IHL,
 * total length against the frame, header checksum, TTL, source sanity, our
 * address as destination, no fragmentation. Trims Ethernet padding, sets
 * m->l3_len and hands the payload to its protocol. Always consumes @p m.
 */
void hf_ipv4_input(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m);

/*
 * Sends the datagram in @p m, whose IP header is filled but for TTL, id and
 * checksum, to its destination: on-link directly, otherwise through the
 * port's gateway. Always consumes @p m.
 */
void hf_ipv4_output(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m);

/*
 * hf_ipv4_output() for a datagram whose header is complete: TTL, DF, the ID
 * hf_ipv4_next_id() gave it (read, with nothing sent since) and its checksum.
 * For a sender that builds the whole header at once, from values in
 * registers, instead of storing fields hf_ipv4_finish() then reloads. Counts
 * it sent (ipv4.tx) as hf_ipv4_finish() does. Always consumes @p m.
 */
void hf_ipv4_output_complete(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m);

struct rte_ipv4_hdr;

/* Sets TTL, ID and DF and computes the header checksum of an outgoing datagram. */
void hf_ipv4_finish(struct hf_worker *w, struct rte_ipv4_hdr *ih);

/*
 * The ID field (host order) of the next datagram @p w sends: only unique
 * per source, and we never fragment (DF is set), so the count of datagrams
 * sent serves.
 */
static inline uint16_t
hf_ipv4_next_id(const struct hf_worker *w)
{
	return (uint16_t)w->cnt.v[HF_CNT_IPV4_TX];
}

/*
 * The next hop of a datagram to @p dst (network order) on @p p: @p dst itself
 * when it is on the port's link, else the port's gateway; 0 when there is no
 * route (off-link, no gateway). A source is never 0 (martian), so neither is
 * an on-link destination a reply goes to.
 */
static inline uint32_t
hf_ipv4_nexthop(const struct hf_port *p, uint32_t dst)
{
	return (dst & p->mask) == (p->addr & p->mask) ? dst : p->gateway;
}

/** True when @p addr (network order) can never be a unicast source (RFC 1122 3.2.1.3). */
static inline int
hf_ipv4_is_martian_source(uint32_t addr, uint32_t local_mask, uint32_t local)
{
	uint32_t h = __builtin_bswap32(addr);

	return h == 0 || h == 0xffffffffu || (h >> 28) == 0xe /* 224/4 multicast */ ||
	       (h >> 28) == 0xf /* 240/4 reserved */ || (h >> 24) == 127 /* loopback */ ||
	       addr == local || (addr & ~local_mask) == ~local_mask /* directed broadcast */;
}

#endif
