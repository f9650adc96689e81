/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ethernet, ARP, IPv4 and ICMP as a user of the port sees them: what comes
 * back for a frame, and which counter rises for each frame that is refused.
 */
#include <arpa/inet.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_random.h>
#include <rte_tcp.h>

#include "hf_test.h"
#include "dataplane/net/arp.h"
#include "dataplane/net/cksum.h"
#include "dataplane/net/eth.h"
#include "dataplane/net/ipv4.h"
#include "dataplane/worker.h"

static struct hf_port port;
static struct hf_worker *w;
static const struct rte_ether_addr peer_mac = {{0x02, 0, 0, 0, 0, 0x99}};

static int
setup(void **state)
{
	(void)state;
	hf_test_port(&port, 0, 0, "198.51.100.2/24", "198.51.100.1");
	w = hf_test_worker(0, &port, 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	hf_test_worker_free(w);
	return 0;
}

static struct rte_mbuf *
echo_request(size_t payload, uint16_t seq)
{
	uint8_t l4[1600];
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)l4;

	memset(l4, 0, sizeof(l4));
	ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	ic->icmp_ident = htons(0x4846);
	ic->icmp_seq_nb = htons(seq);
	for (size_t i = 0; i < payload; i++)
		l4[sizeof(*ic) + i] = (uint8_t)(i * 7 + 3);
	ic->icmp_cksum = ~rte_raw_cksum(l4, sizeof(*ic) + payload);
	return hf_test_ipv4(&port.mac, IPPROTO_ICMP, "198.51.100.1", "198.51.100.2", l4,
			    sizeof(*ic) + payload);
}

/* An echo request of every size gets one reply: swapped, payload unchanged, checksums right. */
static void
test_echo_reply(void **state)
{
	static const size_t sizes[] = {0, 1, 56, 1000, 1472};

	(void)state;
	for (size_t k = 0; k < RTE_DIM(sizes); k++) {
		struct rte_mbuf *req = echo_request(sizes[k], (uint16_t)k), *out[4];
		uint8_t want[1600];
		uint64_t rx = w->cnt.v[HF_CNT_ICMP_RX_ECHO_REQUEST];

		memcpy(want, rte_pktmbuf_mtod(req, uint8_t *), rte_pktmbuf_pkt_len(req));
		hf_eth_input(w, &port, req);
		assert_int_equal(hf_test_sent(w, out, 4), 1);
		assert_int_equal(w->cnt.v[HF_CNT_ICMP_RX_ECHO_REQUEST], rx + 1);

		const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(out[0], struct rte_ether_hdr *);
		const struct rte_ipv4_hdr *ih = (const struct rte_ipv4_hdr *)(eh + 1);
		const struct rte_icmp_hdr *ic = (const struct rte_icmp_hdr *)(ih + 1);

		assert_int_equal(rte_pktmbuf_pkt_len(out[0]), 14 + 20 + 8 + sizes[k]);
		assert_memory_equal(&eh->dst_addr, &peer_mac, 6);
		assert_memory_equal(&eh->src_addr, &port.mac, 6);
		assert_int_equal(ih->src_addr, hf_test_addr("198.51.100.2"));
		assert_int_equal(ih->dst_addr, hf_test_addr("198.51.100.1"));
		assert_int_equal(rte_ipv4_cksum(ih), 0);
		assert_int_equal(ic->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
		assert_int_equal(ic->icmp_ident, htons(0x4846));
		assert_int_equal(ic->icmp_seq_nb, htons((uint16_t)k));
		assert_int_equal((uint16_t)~rte_raw_cksum(ic, 8 + sizes[k]), 0);
		assert_memory_equal(ic + 1, want + 14 + 20 + 8, sizes[k]);
		rte_pktmbuf_free(out[0]);
	}
}

/* A minimum-size frame with padding is answered without the padding. */
static void
test_padding_trimmed(void **state)
{
	struct rte_mbuf *req = echo_request(4, 9), *out[2];

	(void)state;
	rte_pktmbuf_append(req, 60 - rte_pktmbuf_pkt_len(req));	/* Ethernet pad to 60 */
	hf_eth_input(w, &port, req);
	assert_int_equal(hf_test_sent(w, out, 2), 1);
	assert_int_equal(rte_pktmbuf_pkt_len(out[0]), 14 + 20 + 8 + 4);
	rte_pktmbuf_free(out[0]);
}

enum mutate {
	M_NONE, M_RUNT, M_VLAN, M_IPV6, M_MCAST, M_OTHER_MAC, M_TRUNC_IP, M_VERSION, M_IHL_LOW,
	M_IHL_HIGH, M_TOTLEN_HIGH, M_TOTLEN_LOW, M_CKSUM, M_TTL0, M_NOT_OURS, M_SRC_LOOPBACK,
	M_SRC_MCAST, M_SRC_ZERO, M_SRC_OURS, M_SRC_BCAST, M_FRAG_MF, M_FRAG_OFF, M_UDP,
	M_ICMP_TRUNC, M_ICMP_CKSUM, M_ICMP_OTHER,
};

static const struct {
	enum mutate how;
	enum hf_counter counter;
	const char *what;
} drops[] = {
	{M_RUNT, HF_CNT_ETH_DROP_RUNT, "runt frame"},
	{M_VLAN, HF_CNT_ETH_DROP_VLAN, "802.1Q tag"},
	{M_IPV6, HF_CNT_ETH_DROP_ETHERTYPE, "IPv6 ethertype"},
	{M_MCAST, HF_CNT_ETH_DROP_MULTICAST, "multicast MAC"},
	{M_OTHER_MAC, HF_CNT_ETH_DROP_OTHER_HOST, "another host's MAC"},
	{M_TRUNC_IP, HF_CNT_IPV4_DROP_TRUNCATED, "IP header cut short"},
	{M_VERSION, HF_CNT_IPV4_DROP_VERSION, "version 5"},
	{M_IHL_LOW, HF_CNT_IPV4_DROP_IHL, "IHL 4"},
	{M_IHL_HIGH, HF_CNT_IPV4_DROP_IHL, "IHL beyond the frame"},
	{M_TOTLEN_HIGH, HF_CNT_IPV4_DROP_TOTAL_LENGTH, "total length beyond the frame"},
	{M_TOTLEN_LOW, HF_CNT_IPV4_DROP_TOTAL_LENGTH, "total length below the header"},
	{M_CKSUM, HF_CNT_IPV4_DROP_CHECKSUM, "bad header checksum"},
	{M_TTL0, HF_CNT_IPV4_DROP_TTL, "TTL 0"},
	{M_NOT_OURS, HF_CNT_IPV4_DROP_NOT_OURS, "not our address"},
	{M_SRC_LOOPBACK, HF_CNT_IPV4_DROP_BAD_SOURCE, "loopback source"},
	{M_SRC_MCAST, HF_CNT_IPV4_DROP_BAD_SOURCE, "multicast source"},
	{M_SRC_ZERO, HF_CNT_IPV4_DROP_BAD_SOURCE, "0.0.0.0 source"},
	{M_SRC_OURS, HF_CNT_IPV4_DROP_BAD_SOURCE, "our own address as source"},
	{M_SRC_BCAST, HF_CNT_IPV4_DROP_BAD_SOURCE, "subnet broadcast source"},
	{M_FRAG_MF, HF_CNT_IPV4_DROP_FRAGMENT, "first fragment"},
	{M_FRAG_OFF, HF_CNT_IPV4_DROP_FRAGMENT, "later fragment"},
	{M_UDP, HF_CNT_IPV4_DROP_PROTOCOL, "UDP"},
	{M_ICMP_TRUNC, HF_CNT_ICMP_DROP_TRUNCATED, "ICMP cut short"},
	{M_ICMP_CKSUM, HF_CNT_ICMP_DROP_CHECKSUM, "bad ICMP checksum"},
	{M_ICMP_OTHER, HF_CNT_ICMP_RX_OTHER, "ICMP timestamp request"},
};

static struct rte_mbuf *
mutated(enum mutate how)
{
	struct rte_mbuf *m = echo_request(16, 1);
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ih + 1);
	bool fix = true;

	switch (how) {
	case M_NONE: break;
	case M_RUNT: rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - 10); break;
	case M_VLAN: eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_VLAN); break;
	case M_IPV6: eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6); break;
	case M_MCAST: eh->dst_addr.addr_bytes[0] = 0x01; break;
	case M_OTHER_MAC: eh->dst_addr.addr_bytes[5] = 0x77; break;
	case M_TRUNC_IP: rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - 14 - 12); fix = false; break;
	case M_VERSION: ih->version_ihl = 0x55; break;
	case M_IHL_LOW: ih->version_ihl = 0x44; break;
	case M_IHL_HIGH: ih->version_ihl = 0x4f; fix = false; break;
	case M_TOTLEN_HIGH: ih->total_length = htons(1400); break;
	case M_TOTLEN_LOW: ih->total_length = htons(12); break;
	case M_CKSUM: ih->hdr_checksum ^= 0x5555; fix = false; break;
	case M_TTL0: ih->time_to_live = 0; break;
	case M_NOT_OURS: ih->dst_addr = hf_test_addr("198.51.100.3"); break;
	case M_SRC_LOOPBACK: ih->src_addr = hf_test_addr("127.0.0.1"); break;
	case M_SRC_MCAST: ih->src_addr = hf_test_addr("224.0.0.5"); break;
	case M_SRC_ZERO: ih->src_addr = 0; break;
	case M_SRC_OURS: ih->src_addr = port.addr; break;
	case M_SRC_BCAST: ih->src_addr = hf_test_addr("198.51.100.255"); break;
	case M_FRAG_MF: ih->fragment_offset = RTE_BE16(RTE_IPV4_HDR_MF_FLAG); break;
	case M_FRAG_OFF: ih->fragment_offset = htons(20); break;
	case M_UDP: ih->next_proto_id = IPPROTO_UDP; break;
	case M_ICMP_TRUNC:
		ih->total_length = htons(20 + 4);
		rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - 14 - 20 - 4);
		break;
	case M_ICMP_CKSUM: ic->icmp_cksum ^= 0x0101; break;
	case M_ICMP_OTHER:
		ic->icmp_type = 13;
		ic->icmp_cksum = 0;
		ic->icmp_cksum = ~rte_raw_cksum(ic, 8 + 16);
		break;
	}
	if (fix && how != M_RUNT) {
		ih->hdr_checksum = 0;
		ih->hdr_checksum = rte_ipv4_cksum(ih);
	}
	return m;
}

/* Each malformed or unwanted frame raises exactly its own counter, answers nothing, leaks nothing. */
static void
test_drops(void **state)
{
	(void)state;
	for (size_t k = 0; k < RTE_DIM(drops); k++) {
		struct hf_counters before = w->cnt;
		struct rte_mbuf *m = mutated(drops[k].how), *out[4];
		unsigned int free_before = rte_mempool_avail_count(hf_test_pool()) + 1;

		hf_eth_input(w, &port, m);
		print_message("  %-32s → %s\n", drops[k].what, hf_counter_name(drops[k].counter));
		assert_int_equal(hf_test_sent(w, out, 4), 0);
		assert_int_equal(w->cnt.v[drops[k].counter], before.v[drops[k].counter] + 1);
		for (unsigned int c = 0; c < HF_CNT__MAX; c++)
			if (c != drops[k].counter && strstr(hf_counter_name(c), ".drop.") != NULL)
				assert_int_equal(w->cnt.v[c], before.v[c]);
		assert_int_equal(rte_mempool_avail_count(hf_test_pool()), free_before);
	}
}

static const struct rte_ether_addr bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

/* A request for our address is answered in place and teaches us the requester. */
static void
test_arp_reply(void **state)
{
	struct rte_mbuf *out[2];
	const struct rte_arp_hdr *ah;

	(void)state;
	hf_eth_input(w, &port,
		     hf_test_arp(RTE_ARP_OP_REQUEST, &bcast, "198.51.100.9", "198.51.100.2",
				 &peer_mac));
	assert_int_equal(hf_test_sent(w, out, 2), 1);
	ah = rte_pktmbuf_mtod_offset(out[0], const struct rte_arp_hdr *, 14);
	assert_int_equal(ntohs(ah->arp_opcode), RTE_ARP_OP_REPLY);
	assert_memory_equal(&ah->arp_data.arp_sha, &port.mac, 6);
	assert_int_equal(ah->arp_data.arp_sip, port.addr);
	assert_memory_equal(&ah->arp_data.arp_tha, &peer_mac, 6);
	assert_int_equal(ah->arp_data.arp_tip, hf_test_addr("198.51.100.9"));
	assert_int_equal(rte_pktmbuf_pkt_len(out[0]), 14 + sizeof(*ah));
	assert_non_null(hf_arp_lookup(w, 0, hf_test_addr("198.51.100.9")));
	rte_pktmbuf_free(out[0]);
}

/* Requests for others and probes teach nothing new (RFC 826 merge, RFC 5227 probe). */
static void
test_arp_merge_rule(void **state)
{
	struct rte_ether_addr other = {{0x02, 0, 0, 0, 0, 0x55}};
	uint64_t not_for_us = w->cnt.v[HF_CNT_ARP_DROP_NOT_FOR_US];

	(void)state;
	hf_eth_input(w, &port,
		     hf_test_arp(RTE_ARP_OP_REQUEST, &bcast, "198.51.100.50", "198.51.100.60",
				 &other));
	assert_null(hf_arp_lookup(w, 0, hf_test_addr("198.51.100.50")));
	assert_int_equal(w->cnt.v[HF_CNT_ARP_DROP_NOT_FOR_US], not_for_us + 1);
	hf_eth_input(w, &port,
		     hf_test_arp(RTE_ARP_OP_REQUEST, &bcast, "0.0.0.0", "198.51.100.2", &other));
	assert_int_equal(hf_test_drain(w), 1);	/* a probe for us is answered */
	assert_null(hf_arp_lookup(w, 0, 0));
	/* An entry that exists is refreshed by anyone's request (merge). */
	hf_eth_input(w, &port,
		     hf_test_arp(RTE_ARP_OP_REQUEST, &bcast, "198.51.100.9", "198.51.100.60",
				 &other));
	assert_memory_equal(hf_arp_lookup(w, 0, hf_test_addr("198.51.100.9")), &other, 6);
}

/* Sending to an unknown next hop: one broadcast request, the packet waits, the reply releases it. */
static void
test_arp_resolve(void **state)
{
	struct rte_ether_addr gw_mac = {{0x02, 0, 0, 0, 0, 0x01}};
	struct rte_mbuf *out[8], *m;
	const struct rte_ether_hdr *eh;
	uint8_t l4[8] = {8, 0};

	(void)state;
	m = hf_test_ipv4(&port.mac, IPPROTO_ICMP, "198.51.100.2", "203.0.113.7", l4, sizeof(l4));
	w->now = rte_rdtsc();
	hf_ipv4_output(w, &port, m);	/* off-link: through the gateway */
	assert_int_equal(hf_test_sent(w, out, 8), 1);
	eh = rte_pktmbuf_mtod(out[0], const struct rte_ether_hdr *);
	assert_true(rte_is_broadcast_ether_addr(&eh->dst_addr));
	assert_int_equal(rte_pktmbuf_mtod_offset(out[0], struct rte_arp_hdr *, 14)->arp_data.arp_tip,
			 hf_test_addr("198.51.100.1"));
	rte_pktmbuf_free(out[0]);
	hf_eth_input(w, &port,
		     hf_test_arp(RTE_ARP_OP_REPLY, &port.mac, "198.51.100.1", "198.51.100.2",
				 &gw_mac));
	assert_int_equal(hf_test_sent(w, out, 8), 1);
	eh = rte_pktmbuf_mtod(out[0], const struct rte_ether_hdr *);
	assert_memory_equal(&eh->dst_addr, &gw_mac, 6);
	assert_int_equal(eh->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV4));
	rte_pktmbuf_free(out[0]);
}

/* The hold queue is bounded, and an unanswered next hop gives up after three requests. */
static void
test_arp_queue_and_timeout(void **state)
{
	uint8_t l4[8] = {8, 0};
	uint64_t full = w->cnt.v[HF_CNT_ARP_DROP_QUEUE_FULL];
	uint64_t unresolved = w->cnt.v[HF_CNT_ARP_DROP_UNRESOLVED];
	uint64_t requests = w->cnt.v[HF_CNT_ARP_TX_REQUEST];

	(void)state;
	for (int i = 0; i < HF_ARP_PENDING + 2; i++)
		hf_ipv4_output(w, &port, hf_test_ipv4(&port.mac, IPPROTO_ICMP, "198.51.100.2",
						      "198.51.100.200", l4, sizeof(l4)));
	assert_int_equal(w->cnt.v[HF_CNT_ARP_DROP_QUEUE_FULL], full + 2);
	for (int i = 0; i < HF_ARP_MAX_RETRIES + 1; i++) {
		w->now += hf_ms_to_tsc(w, HF_ARP_RETRY_MS + 1);
		hf_arp_tick(w);
	}
	assert_int_equal(w->cnt.v[HF_CNT_ARP_TX_REQUEST], requests + HF_ARP_MAX_RETRIES);
	assert_int_equal(w->cnt.v[HF_CNT_ARP_DROP_UNRESOLVED], unresolved + HF_ARP_PENDING);
	hf_test_drain(w);
}

/* A confirmed entry goes stale, and using it sends a unicast refresh. */
static void
test_arp_stale_refresh(void **state)
{
	struct rte_ether_addr mac = {{0x02, 0, 0, 0, 0, 0x42}};
	uint8_t l4[8] = {8, 0};
	struct rte_mbuf *out[4];
	unsigned int n, arp = 0;

	(void)state;
	w->now = rte_rdtsc();
	hf_eth_input(w, &port,
		     hf_test_arp(RTE_ARP_OP_REQUEST, &bcast, "198.51.100.42", "198.51.100.2",
				 &mac));
	hf_test_drain(w);
	w->now += hf_ms_to_tsc(w, HF_ARP_REACHABLE_MS + 1);
	hf_arp_tick(w);
	hf_ipv4_output(w, &port, hf_test_ipv4(&port.mac, IPPROTO_ICMP, "198.51.100.2",
					      "198.51.100.42", l4, sizeof(l4)));
	n = hf_test_sent(w, out, 4);
	assert_int_equal(n, 2);	/* the packet itself, and a refresh request */
	for (unsigned int i = 0; i < n; i++) {
		const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(out[i], const struct rte_ether_hdr *);

		assert_memory_equal(&eh->dst_addr, &mac, 6);	/* both unicast */
		arp += eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP);
		rte_pktmbuf_free(out[i]);
	}
	assert_int_equal(arp, 1);
}

/*
 * A slot remembered for an address gives its MAC only while it holds that
 * address on that port, confirmed (what the TCP output's fast path trusts).
 */
static void
test_arp_slot(void **state)
{
	struct rte_ether_addr mac = {{0x02, 0, 0, 0, 0, 0x43}};
	uint32_t ip = hf_test_addr("198.51.100.43");
	int slot;

	(void)state;
	w->now = rte_rdtsc();
	assert_int_equal(hf_arp_slot(w, 0, ip), -1);
	hf_eth_input(w, &port, hf_test_arp(RTE_ARP_OP_REQUEST, &bcast, "198.51.100.43",
					   "198.51.100.2", &mac));
	hf_test_drain(w);
	slot = hf_arp_slot(w, 0, ip);
	assert_true(slot >= 0);
	assert_memory_equal(hf_arp_slot_mac(w, (uint32_t)slot, 0, ip), &mac, 6);
	assert_null(hf_arp_slot_mac(w, (uint32_t)slot, 0, hf_test_addr("198.51.100.44")));
	assert_null(hf_arp_slot_mac(w, (uint32_t)slot, 1, ip));
	assert_null(hf_arp_slot_mac(w, (uint32_t)slot + 1, 0, ip));
	w->now += hf_ms_to_tsc(w, HF_ARP_REACHABLE_MS + 1);
	hf_arp_tick(w);
	assert_null(hf_arp_slot_mac(w, (uint32_t)slot, 0, ip));	/* stale */
}

/*
 * Three workers: what one learns from the wire reaches the others, since RSS
 * brings ARP to a worker without regard to which one asked. A frame for us
 * creates entries everywhere; a frame for others (a gratuitous ARP after a MAC
 * change) refreshes the siblings that hold its sender, even when the worker it
 * reached holds nothing, and creates nothing anywhere (RFC 826 merge rule).
 */
static void
test_arp_siblings(void **state)
{
	const struct rte_ether_addr old_mac = {{0x02, 0, 0, 0, 0, 0x61}};
	const struct rte_ether_addr new_mac = {{0x02, 0, 0, 0, 0, 0x62}};
	const struct rte_ether_addr z_mac = {{0x02, 0, 0, 0, 0, 0x63}};
	const uint32_t y = hf_test_addr("198.51.100.61"), z = hf_test_addr("198.51.100.63");
	struct hf_worker *s[3];

	(void)state;
	for (uint16_t i = 0; i < 3; i++) {
		s[i] = rte_zmalloc("sibling", sizeof(*s[i]), RTE_CACHE_LINE_SIZE);
		assert_non_null(s[i]);
		assert_int_equal(hf_worker_init(s[i], i, 3, &port, 1, rte_get_tsc_hz()), 0);
		s[i]->siblings = s;
		s[i]->now = rte_rdtsc();
	}
	hf_eth_input(s[0], &port, hf_test_arp(RTE_ARP_OP_REQUEST, &bcast, "198.51.100.61",
					    "198.51.100.2", &old_mac));
	hf_arp_drain_siblings(s[1]);
	hf_arp_drain_siblings(s[2]);
	for (int i = 0; i < 3; i++)
		assert_memory_equal(hf_arp_lookup(s[i], 0, y), &old_mac, 6);

	/* Worker 0 forgets y: unused past the reachable time, then past the collection time. */
	s[0]->now += hf_ms_to_tsc(s[0], HF_ARP_REACHABLE_MS + 1);
	hf_arp_tick(s[0]);
	s[0]->now += hf_ms_to_tsc(s[0], HF_ARP_GC_MS + 1);
	hf_arp_tick(s[0]);
	assert_null(hf_arp_lookup(s[0], 0, y));

	/* y announces a new MAC, z announces itself; both reach worker 0 alone. */
	hf_eth_input(s[0], &port, hf_test_arp(RTE_ARP_OP_REQUEST, &bcast, "198.51.100.61",
					    "198.51.100.61", &new_mac));
	hf_eth_input(s[0], &port, hf_test_arp(RTE_ARP_OP_REQUEST, &bcast, "198.51.100.63",
					    "198.51.100.63", &z_mac));
	assert_null(hf_arp_lookup(s[0], 0, y));
	assert_null(hf_arp_lookup(s[0], 0, z));
	for (int i = 1; i < 3; i++) {
		hf_arp_drain_siblings(s[i]);
		assert_memory_equal(hf_arp_lookup(s[i], 0, y), &new_mac, 6);
		assert_null(hf_arp_lookup(s[i], 0, z));
		assert_int_equal(s[i]->cnt.v[HF_CNT_ARP_SIBLING_UPDATES], 3);
	}
	for (int i = 0; i < 3; i++) {
		hf_worker_fini(s[i]);
		rte_free(s[i]);
	}
}

static void
test_gratuitous(void **state)
{
	struct rte_mbuf *out[2];
	const struct rte_arp_hdr *ah;

	(void)state;
	hf_arp_announce(w, &port);
	assert_int_equal(hf_test_sent(w, out, 2), 1);
	ah = rte_pktmbuf_mtod_offset(out[0], const struct rte_arp_hdr *, 14);
	assert_true(rte_is_broadcast_ether_addr(&rte_pktmbuf_mtod(out[0], struct rte_ether_hdr *)->dst_addr));
	assert_int_equal(ah->arp_data.arp_sip, port.addr);
	assert_int_equal(ah->arp_data.arp_tip, port.addr);
	rte_pktmbuf_free(out[0]);
}

static void
test_arp_bad(void **state)
{
	struct rte_mbuf *m;
	struct rte_arp_hdr *ah;
	uint64_t fmt = w->cnt.v[HF_CNT_ARP_DROP_FORMAT], op = w->cnt.v[HF_CNT_ARP_DROP_OPCODE];
	uint64_t sender = w->cnt.v[HF_CNT_ARP_DROP_BAD_SENDER];
	uint64_t trunc = w->cnt.v[HF_CNT_ARP_DROP_TRUNCATED];

	(void)state;
	m = hf_test_arp(RTE_ARP_OP_REQUEST, &bcast, "198.51.100.9", "198.51.100.2", &peer_mac);
	ah = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, 14);
	ah->arp_hardware = htons(6);
	hf_eth_input(w, &port, m);
	m = hf_test_arp(9, &bcast, "198.51.100.9", "198.51.100.2", &peer_mac);
	hf_eth_input(w, &port, m);
	m = hf_test_arp(RTE_ARP_OP_REQUEST, &bcast, "198.51.100.2", "198.51.100.2", &peer_mac);
	hf_eth_input(w, &port, m);
	m = hf_test_arp(RTE_ARP_OP_REQUEST, &bcast, "198.51.100.9", "198.51.100.2", &bcast);
	hf_eth_input(w, &port, m);
	m = hf_test_arp(RTE_ARP_OP_REQUEST, &bcast, "198.51.100.9", "198.51.100.2", &peer_mac);
	rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - 20);
	hf_eth_input(w, &port, m);
	assert_int_equal(hf_test_drain(w), 0);
	assert_int_equal(w->cnt.v[HF_CNT_ARP_DROP_FORMAT], fmt + 1);
	assert_int_equal(w->cnt.v[HF_CNT_ARP_DROP_OPCODE], op + 1);
	assert_int_equal(w->cnt.v[HF_CNT_ARP_DROP_BAD_SENDER], sender + 2);
	assert_int_equal(w->cnt.v[HF_CNT_ARP_DROP_TRUNCATED], trunc + 1);
}

/* A chain holding @p data cut into segments of random lengths (odd ones too), 0-3 bytes of headroom skew. */
static struct rte_mbuf *
random_chain(const uint8_t *data, size_t len)
{
	struct rte_mbuf *head = NULL;
	size_t done = 0;

	do {
		struct rte_mbuf *m = rte_pktmbuf_alloc(hf_test_pool());
		size_t n = RTE_MIN(len - done, (size_t)(rte_rand() % 300));

		assert_non_null(m);
		rte_pktmbuf_adj(m, 0);
		m->data_off = (uint16_t)(m->data_off + rte_rand() % 4);
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), data + done, n);
		done += n;
		if (head == NULL)
			head = m;
		else
			assert_int_equal(rte_pktmbuf_chain(head, m), 0);
	} while (done < len);
	return head;
}

/*
 * The fast sum against DPDK's contiguous one, over 20,000 random buffers cut
 * into random chains at random offsets; then whole TCP segments: the field
 * we compute is the one DPDK computes, a correct segment passes the check and
 * any single flipped bit fails it.
 */
static void
test_cksum(void **state)
{
	static uint8_t data[4096];

	(void)state;
	for (int k = 0; k < 20000; k++) {
		size_t len = rte_rand() % 2000, off = len > 0 ? rte_rand() % (len + 1) : 0;
		size_t want = rte_rand() % (len - off + 2);
		struct rte_mbuf *m;
		uint16_t ref;

		for (size_t i = 0; i < len; i++)
			data[i] = (uint8_t)rte_rand();
		m = random_chain(data, len);
		ref = rte_raw_cksum(data + off, RTE_MIN(want, len - off));
		/* 0 and 0xffff are the same number in ones' complement. */
		if (hf_cksum_mbuf(m, (uint32_t)off, (uint32_t)want) != ref)
			assert_true(ref == 0 && hf_cksum_mbuf(m, (uint32_t)off, (uint32_t)want) == 0xffff);
		rte_pktmbuf_free(m);
	}
	/*
	 * One contiguous buffer of every length to 1,600 bytes at each alignment, and the largest
	 * segment: every mix of the 16- and 4-byte steps, the 2-byte one and the odd byte.
	 */
	{
		static uint8_t big[65536 + 4];

		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = (uint8_t)rte_rand();
		for (size_t len = 0; len <= 1600; len++)
			for (size_t a = 0; a < 4; a++)
				assert_int_equal(hf_cksum_fold(hf_cksum_add(big + a, len, 0)) % 0xffff,
						 rte_raw_cksum(big + a, len) % 0xffff);
		memset(big, 0xff, sizeof(big));
		assert_int_equal(hf_cksum_fold(hf_cksum_add(big + 1, 65535, 0)) % 0xffff,
				 rte_raw_cksum(big + 1, 65535) % 0xffff);
	}
	for (int k = 0; k < 2000; k++) {
		size_t payload = rte_rand() % 1400, len = sizeof(struct rte_ipv4_hdr) +
							   sizeof(struct rte_tcp_hdr) + payload;
		struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)data;
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ih + 1);
		struct rte_mbuf *m;
		uint16_t ours;

		for (size_t i = 0; i < len; i++)
			data[i] = (uint8_t)rte_rand();
		ih->version_ihl = RTE_IPV4_VHL_DEF;
		ih->next_proto_id = IPPROTO_TCP;
		ih->total_length = rte_cpu_to_be_16((uint16_t)len);
		th->cksum = 0;
		m = random_chain(data, len);
		ours = hf_cksum_tcp_ipv4(m, ih, sizeof(*ih));
		assert_int_equal(ours, rte_ipv4_udptcp_cksum(ih, th));
		rte_pktmbuf_free(m);
		/* The whole datagram in one segment: hf_cksum_l4_ipv4()'s single-call path. */
		m = rte_pktmbuf_alloc(hf_test_pool());
		assert_non_null(m);
		assert_non_null(rte_pktmbuf_append(m, (uint16_t)len));
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), data, len);
		assert_int_equal(hf_cksum_tcp_ipv4(m, ih, sizeof(*ih)), ours);
		rte_pktmbuf_free(m);
		th->cksum = ours;
		m = random_chain(data, len);
		assert_true(hf_cksum_l4_ipv4_ok(m, ih, sizeof(*ih)));
		rte_pktmbuf_free(m);
		{
			size_t bit = sizeof(*ih) * 8 + rte_rand() % ((len - sizeof(*ih)) * 8);

			data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			m = random_chain(data, len);
			assert_false(hf_cksum_l4_ipv4_ok(m, ih, sizeof(*ih)));
			rte_pktmbuf_free(m);
		}
	}
}

/*
 * The header sums (both forms) against DPDK's: rte_ipv4_cksum() over random headers of every
 * length (options included), rte_ipv4_phdr_cksum() over random pseudo-headers
 * (folded alike), a correct header checks as 0, and a flipped bit does not.
 */
static void
test_cksum_headers(void **state)
{
	static uint8_t data[60];
	struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)data;

	(void)state;
	for (int k = 0; k < 20000; k++) {
		uint8_t ihl = (uint8_t)(5 + rte_rand() % 11);
		size_t bit;

		for (size_t i = 0; i < sizeof(data); i++)
			data[i] = (uint8_t)rte_rand();
		ih->version_ihl = (uint8_t)(0x40 | ihl);
		/* Any total length at or past the header (the L4 length is the difference). */
		ih->total_length = rte_cpu_to_be_16((uint16_t)(ihl * 4 + rte_rand() % 65000));
		assert_int_equal(hf_cksum_ipv4_hdr(ih), rte_ipv4_cksum(ih));
		assert_int_equal(hf_cksum_ipv4_hdr_fields(ih), rte_ipv4_cksum(ih));
		assert_int_equal(hf_cksum_fold(hf_cksum_phdr_ipv4(ih)), rte_ipv4_phdr_cksum(ih, 0));
		ih->hdr_checksum = 0;
		ih->hdr_checksum = hf_cksum_ipv4_hdr(ih);
		assert_int_equal(hf_cksum_ipv4_hdr(ih), 0);
		assert_int_equal(hf_cksum_ipv4_hdr_fields(ih), 0);
		bit = rte_rand() % (ihl * 32u);
		data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_not_equal(hf_cksum_ipv4_hdr(ih), 0);
		assert_int_not_equal(hf_cksum_ipv4_hdr_fields(ih), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_reply),
		cmocka_unit_test(test_padding_trimmed),
		cmocka_unit_test(test_drops),
		cmocka_unit_test(test_arp_reply),
		cmocka_unit_test(test_arp_merge_rule),
		cmocka_unit_test(test_arp_resolve),
		cmocka_unit_test(test_arp_queue_and_timeout),
		cmocka_unit_test(test_arp_stale_refresh),
		cmocka_unit_test(test_arp_slot),
		cmocka_unit_test(test_arp_siblings),
		cmocka_unit_test(test_gratuitous),
		cmocka_unit_test(test_arp_bad),
		cmocka_unit_test(test_cksum),
		cmocka_unit_test(test_cksum_headers),
	};

	hf_test_eal(1);
	return cmocka_run_group_tests(tests, setup, teardown);
}
