/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "bench/bench_peer.h"
#include "dataplane/net/arp.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"

static struct hf_port bench_port;
static const struct rte_ether_addr peer_mac = {{0x02, 0, 0, 0, 0, 0x99}};

int
bench_env_init(struct bench_env *e, uint32_t max_connections)
{
	static int eal_done;
	char prefix[64];
	char *argv[] = {"bench", "--no-huge", "-m", "1024", "--no-pci", "--no-shconf",
			"--log-level=error", "-l", "0", prefix};
	struct hf_tcp_config cfg;
	struct rte_mbuf *m;

	snprintf(prefix, sizeof(prefix), "--file-prefix=hfbench-%d", (int)getpid());
	if (!eal_done && rte_eal_init(10, argv) < 0)
		return -1;
	eal_done = 1;
	e->pool = rte_pktmbuf_pool_create("bench_pool", 65535, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (e->pool == NULL)
		return -1;
	memset(&bench_port, 0, sizeof(bench_port));
	bench_port.mtu = 1500;
	bench_port.addr = inet_addr("198.51.100.2");
	bench_port.mask = inet_addr("255.255.255.0");
	bench_port.prefix_len = 24;
	bench_port.mac = (struct rte_ether_addr){{0x02, 0, 0, 0, 0, 0x01}};
	bench_port.pool = e->pool;
	e->port = &bench_port;
	e->w = rte_zmalloc("bench_worker", sizeof(*e->w), RTE_CACHE_LINE_SIZE);
	if (e->w == NULL || hf_worker_init(e->w, 0, 1, &bench_port, 1, rte_get_tsc_hz()) != 0)
		return -1;
	hf_tcp_config_default(&cfg);
	cfg.max_connections = max_connections;
	cfg.time_wait_ms = 1;
	if (hf_tcp_init(e->w, &cfg) != 0)
		return -1;
	/* Teach the worker the peer's MAC so nothing waits on ARP. */
	e->w->now = rte_rdtsc();
	m = rte_pktmbuf_alloc(e->pool);
	{
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 60);
		struct rte_ether_hdr *eh = (struct rte_ether_hdr *)p;
		struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);

		memset(p, 0, 60);
		eh->dst_addr = bench_port.mac;
		eh->src_addr = peer_mac;
		eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
		ah->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
		ah->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		ah->arp_hlen = 6;
		ah->arp_plen = 4;
		ah->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
		ah->arp_data.arp_sha = peer_mac;
		ah->arp_data.arp_sip = inet_addr("198.51.100.1");
		ah->arp_data.arp_tip = bench_port.addr;
		m->l2_len = 14;
		hf_arp_input(e->w, &bench_port, m);
	}
	bench_drain(e, NULL);
	return 0;
}

struct rte_mbuf *
bench_segment(struct bench_env *e, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
	      uint8_t flags, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(e->pool);
	uint16_t total = (uint16_t)(14 + 20 + 20 + len);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, total);
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ih + 1);

	memset(p, 0, 14 + 20 + 20);
	memset(th + 1, 0x5a, len);
	eh->dst_addr = bench_port.mac;
	eh->src_addr = peer_mac;
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ih->version_ihl = RTE_IPV4_VHL_DEF;
	ih->total_length = htons((uint16_t)(total - 14));
	ih->time_to_live = 64;
	ih->next_proto_id = IPPROTO_TCP;
	ih->src_addr = inet_addr("198.51.100.1");
	ih->dst_addr = bench_port.addr;
	ih->hdr_checksum = rte_ipv4_cksum(ih);
	th->src_port = htons(sport);
	th->dst_port = htons(dport);
	th->sent_seq = htonl(seq);
	th->recv_ack = htonl(ack);
	th->data_off = 5 << 4;
	th->tcp_flags = flags;
	th->rx_win = htons(65535);
	th->cksum = rte_ipv4_udptcp_cksum(ih, th);
	return m;
}

unsigned int
bench_drain(struct bench_env *e, uint32_t *last_seq)
{
	struct hf_txbuf *tb = &e->w->tx[0];
	unsigned int n = tb->n;

	if (n > 0 && last_seq != NULL) {
		const struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(tb->m[n - 1], const struct rte_tcp_hdr *,
									14 + 20);
		*last_seq = ntohl(th->sent_seq);
	}
	rte_pktmbuf_free_bulk(tb->m, n);
	tb->n = 0;
	tb->ready = 0;
	return n;
}

#include <rte_cycles.h>
#include <rte_icmp.h>

#include "dataplane/net/eth.h"

static struct {
	struct hf_tcp_conn *c;
	uint32_t peer_seq;	/* next sequence number the peer sends */
	uint32_t our_next;	/* what the peer acknowledges */
	uint16_t sport;
} bconn;

static void
bench_read(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct rte_mbuf *m;

	while ((m = hf_tcp_recv(w, c, UINT32_MAX)) != NULL)
		rte_pktmbuf_free(m);
	if (hf_tcp_peer_closed(c))
		hf_tcp_shutdown(w, c);
}

static int
bench_accepted(struct hf_worker *w, struct hf_tcp_conn *c, void *lctx)
{
	(void)w;
	(void)lctx;
	bconn.c = c;
	return 0;
}

static const struct hf_tcp_ops bench_ops = {
	.accepted = bench_accepted,
	.readable = bench_read,
};

/* Hands one frame to the stack and runs the flush; returns the cycles it took. */
static uint64_t
feed(struct bench_env *e, struct rte_mbuf *m)
{
	uint64_t t0 = rte_rdtsc(), t1;

	e->w->now = t0;
	hf_eth_input(e->w, e->port, m);
	hf_tcp_poll(e->w);
	t1 = rte_rdtsc();
	return t1 - t0;
}

int
bench_tcp_data_setup(struct bench_env *e)
{
	uint32_t isn = 0;

	if (hf_tcp_listen(e->w, 80, &bench_ops, NULL) < 0)
		return -1;
	bconn.sport = 40000;
	bconn.peer_seq = 1000;
	feed(e, bench_segment(e, bconn.sport, 80, bconn.peer_seq, 0, RTE_TCP_SYN_FLAG, 0));
	if (bench_drain(e, &isn) != 1)
		return -1;
	bconn.peer_seq++;
	bconn.our_next = isn + 1;
	feed(e, bench_segment(e, bconn.sport, 80, bconn.peer_seq, bconn.our_next, RTE_TCP_ACK_FLAG, 0));
	bench_drain(e, NULL);
	return bconn.c != NULL && bconn.c->state == HF_TCP_ESTABLISHED ? 0 : -1;
}

uint64_t
bench_tcp_data_segment(struct bench_env *e, int offload)
{
	struct rte_mbuf *m = bench_segment(e, bconn.sport, 80, bconn.peer_seq, bconn.our_next,
					   RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 1448);
	uint64_t cyc;

	/* As a NIC with checksum offload would deliver it, and send our ACKs. */
	e->port->tx_l4_cksum = offload != 0;
	if (offload)
		m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;

	bconn.peer_seq += 1448;
	cyc = feed(e, m);
	bench_drain(e, NULL);
	return cyc;
}

uint64_t
bench_tcp_conn_life(struct bench_env *e)
{
	static uint16_t sport = 1024;
	uint32_t isn = 0, seq = 5000;
	uint64_t cyc = 0;

	sport = sport == 65535 ? 1024 : sport + 1;
	cyc += feed(e, bench_segment(e, sport, 80, seq, 0, RTE_TCP_SYN_FLAG, 0));
	bench_drain(e, &isn);
	cyc += feed(e, bench_segment(e, sport, 80, seq + 1, isn + 1, RTE_TCP_ACK_FLAG, 0));
	bench_drain(e, NULL);
	cyc += feed(e, bench_segment(e, sport, 80, seq + 1, isn + 1,
				     RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, 0));
	bench_drain(e, NULL);
	cyc += feed(e, bench_segment(e, sport, 80, seq + 2, isn + 2, RTE_TCP_ACK_FLAG, 0));
	bench_drain(e, NULL);
	return cyc;
}

/*
 * Phase 2 of memif_bench.sh at the TCP level: the peer connects, sends a
 * request, we answer and close first (connection: close), the peer's FIN
 * puts the TCB in TIME_WAIT, and the next SYN to that tuple reopens it
 * (RFC 6191), one local port after the other through the 28,232 a Linux
 * client uses: as many TIME_WAIT TCBs as ports, cold when their SYN comes.
 */
#define TW_PORTS 28232
#define TW_DPORT 81

static struct rte_mempool *tw_pool;

static int
tw_accepted(struct hf_worker *w, struct hf_tcp_conn *c, void *lctx)
{
	(void)w;
	(void)c;
	(void)lctx;
	return 0;
}

/* The request in, a 100-byte answer and our FIN out. */
static void
tw_read(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct rte_mbuf *m;
	bool got = false;

	while ((m = hf_tcp_recv(w, c, UINT32_MAX)) != NULL) {
		rte_pktmbuf_free(m);
		got = true;
	}
	if (!got || (c->flags & HF_TCP_F_FIN_QUEUED))
		return;
	m = rte_pktmbuf_alloc(tw_pool);
	memset(rte_pktmbuf_append(m, 100), 'r', 100);
	hf_tcp_send(w, c, m);
	hf_tcp_shutdown(w, c);
}

static const struct hf_tcp_ops tw_ops = {
	.accepted = tw_accepted,
	.readable = tw_read,
};

int
bench_tcp_tw_setup(struct bench_env *e)
{
	/* once per process: each benchmark that needs it asks, and a port is listened on once */
	static bool listening;

	tw_pool = e->pool;
	e->w->tcp->cfg.time_wait_ms = 60000;
	if (!listening && hf_tcp_listen(e->w, TW_DPORT, &tw_ops, NULL) < 0)
		return -1;
	listening = true;
	return 0;
}

uint64_t
bench_tcp_conn_tw_reopen(struct bench_env *e)
{
	static uint32_t iter;
	uint16_t sport = (uint16_t)(32768 + iter % TW_PORTS);
	uint32_t seq = 5000 + 1000 * iter++, isn = 0;
	uint64_t cyc = 0;

	cyc += feed(e, bench_segment(e, sport, TW_DPORT, seq, 0, RTE_TCP_SYN_FLAG, 0));
	bench_drain(e, &isn);
	cyc += feed(e, bench_segment(e, sport, TW_DPORT, seq + 1, isn + 1,
				     RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 100));
	bench_drain(e, NULL);
	cyc += feed(e, bench_segment(e, sport, TW_DPORT, seq + 101, isn + 102,
				     RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, 0));
	bench_drain(e, NULL);
	return cyc;
}

/* The sequence number of the frame sent to peer port @p sport in what @p e holds to send. */
static uint32_t
sent_seq_to(struct bench_env *e, uint16_t sport)
{
	struct hf_txbuf *tb = &e->w->tx[0];

	for (unsigned int i = 0; i < tb->n; i++) {
		const struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(tb->m[i],
						const struct rte_tcp_hdr *, 14 + 20);

		if (th->dst_port == htons(sport))
			return ntohl(th->sent_seq);
	}
	return 0;
}

/* Hands the frames @p m to the stack as one RX burst (warmed first when @p warm); its cycles. */
static uint64_t
feed_burst(struct bench_env *e, struct rte_mbuf **m, unsigned int k, int warm)
{
	uint64_t t0 = rte_rdtsc(), t1;

	e->w->now = t0;
	if (warm)
		hf_tcp_prefetch_burst(e->w, m, (uint16_t)k);
	for (unsigned int i = 0; i < k; i++)
		hf_eth_input(e->w, e->port, m[i]);
	hf_tcp_poll(e->w);
	t1 = rte_rdtsc();
	return t1 - t0;
}

uint64_t
bench_tcp_conn_tw_burst(struct bench_env *e, unsigned int k, int warm)
{
	static uint32_t iter = 7 * TW_PORTS / 13;	/* away from the one-at-a-time benchmark's */
	struct rte_mbuf *m[16];
	uint16_t sport[16];
	uint32_t seq[16], isn[16];
	uint64_t cyc = 0;

	k = RTE_MIN(k, 16u);
	for (unsigned int i = 0; i < k; i++) {
		sport[i] = (uint16_t)(32768 + iter % TW_PORTS);
		seq[i] = 5000 + 1000 * iter++;
		m[i] = bench_segment(e, sport[i], TW_DPORT, seq[i], 0, RTE_TCP_SYN_FLAG, 0);
	}
	cyc += feed_burst(e, m, k, warm);
	for (unsigned int i = 0; i < k; i++)
		isn[i] = sent_seq_to(e, sport[i]);
	bench_drain(e, NULL);
	for (unsigned int i = 0; i < k; i++)
		m[i] = bench_segment(e, sport[i], TW_DPORT, seq[i] + 1, isn[i] + 1,
				     RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 100);
	cyc += feed_burst(e, m, k, warm);
	bench_drain(e, NULL);
	for (unsigned int i = 0; i < k; i++)
		m[i] = bench_segment(e, sport[i], TW_DPORT, seq[i] + 101, isn[i] + 102,
				     RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, 0);
	cyc += feed_burst(e, m, k, warm);
	bench_drain(e, NULL);
	return cyc;
}

unsigned int
bench_tcp_time_wait(struct bench_env *e)
{
	unsigned int n = 0;

	for (const struct hf_tcp_conn *c = e->w->tcp->tw_head; c != NULL; c = c->tw_next)
		n++;
	return n;
}

uint64_t
bench_icmp_echo(struct bench_env *e, uint16_t payload)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(e->pool);
	uint16_t total = (uint16_t)(14 + 20 + 8 + payload);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, total);
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ih + 1);
	uint64_t t0, t1;

	memset(p, 0, 14 + 20 + 8);
	memset(ic + 1, 0xa5, payload);
	eh->dst_addr = e->port->mac;
	eh->src_addr = peer_mac;
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ih->version_ihl = RTE_IPV4_VHL_DEF;
	ih->total_length = htons((uint16_t)(total - 14));
	ih->time_to_live = 64;
	ih->next_proto_id = IPPROTO_ICMP;
	ih->src_addr = inet_addr("198.51.100.1");
	ih->dst_addr = e->port->addr;
	ih->hdr_checksum = rte_ipv4_cksum(ih);
	ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, 8 + payload);
	t0 = rte_rdtsc();
	e->w->now = t0;
	hf_eth_input(e->w, e->port, m);
	t1 = rte_rdtsc();
	bench_drain(e, NULL);
	return t1 - t0;
}

size_t
bench_tcp_footprint(void)
{
	return hf_tcp_conn_footprint();
}

uint64_t
bench_tsc_hz(void)
{
	return rte_get_tsc_hz();
}
