/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the TCP stack's input: one worker's whole stack (the
 * daemon's code, on a loopback port of the EAL) and a peer this harness
 * plays from the input, one operation at a time:
 *   - a segment (hf_tcp_input): flags, sequence and acknowledgment numbers
 *     as offsets from the connection's own numbers (RCV.NXT, IRS, the right
 *     edge of our window; SND.UNA, SND.NXT, SND.MAX, ISS) or raw, the window,
 *     MSS / window scale / SACK-permitted / timestamps / SACK blocks, and a
 *     payload of a chosen length whose bytes are a function of their
 *     sequence number (so every copy of a byte is the same byte, and the
 *     stream taken can be checked byte by byte against the IRS);
 *   - the application: send, receive, shut down, abort, connect, accept or
 *     refuse, read at once or let the window fill;
 *   - time passing (the timers: retransmission, persist, tail loss probe,
 *     delayed ACK, keepalive, FIN-WAIT-2, TIME-WAIT), ICMP errors.
 * The input's first bytes choose passive or active open and, optionally, a
 * clean three-way handshake with chosen options before the operations.
 *
 * After every operation, for every TCB: a valid state; SND.UNA <= SND.NXT <=
 * SND.MAX and ISS <= SND.UNA; the send queue's bytes are the sum of its
 * mbufs and cover what is in flight; the receive and out-of-order queues'
 * byte counts are the sums of their mbufs; out-of-order segments sorted,
 * disjoint, single, after RCV.NXT and inside the window advertised; no more
 * bytes held than the receive buffer; the SACK scoreboard within the flight.
 * For the connection the application holds: RCV.NXT never moves back; every
 * byte taken is the byte the peer sent at that place, in order; RCV.NXT -
 * IRS - 1 is what was taken plus what is queued (plus the FIN); SND.UNA -
 * ISS - 1 is what was sent minus what is queued (less the FIN). After the
 * stack's flush: data in flight has a retransmission timer, a zero window
 * with data waiting a persist timer, FIN-WAIT-2 and TIME-WAIT their life
 * timer (no TCB can be pinned forever by a silent peer). Every segment we
 * send: legal flags, inside [ISS, SND.MAX], payload bytes equal to what the
 * application wrote there, ACK numbers never going back.
 * At the end every TCB is aborted: the pool, the indirect pool and the TCB
 * table are back where they started, no timer left armed, the gauges at 0.
 *
 * The EAL starts once, in LLVMFuzzerInitialize (no hugepages, one net_ring
 * loopback port whose TX comes back on its RX, where the harness reads what
 * the stack sent). Time is a virtual clock that only moves forward.
 * fuzzes: dataplane/tcp/[a-z]*.c dataplane/net/[a-z]*.c
 * fuzz-flags: $(pkg-config --cflags libdpdk | sed 's|-march=[^ ]*||') -DALLOW_EXPERIMENTAL_API
 * fuzz-flags: $BUILD/dataplane/libhf_dataplane.a $BUILD/lb/libhf_lb.a
 * fuzz-flags: $(pkg-config --libs libdpdk libhs libpcre2-8) -lm
 * fuzz-flags: $BUILD/tls/libhf_tls.a $(pkg-config --libs openssl)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "dataplane/net/arp.h"
#include "dataplane/net/eth.h"
#include "dataplane/tcp/options.h"
#include "dataplane/tcp/seq.h"
#include "dataplane/tcp/tcp-int.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define OUR_IP "198.51.100.1"
#define PEER_IP "198.51.100.2"
#define LPORT 80
#define MAX_CONNS 16

static struct rte_mempool *pool;
static struct hf_port port;
static struct hf_worker *W;
static struct rte_ether_addr peer_mac = {{0x02, 0, 0, 0, 0, 0x99}};
static uint32_t our_ip, peer_ip;
static uint64_t vnow;		/* virtual TSC: only moves forward */
static uint64_t tsc_per_ms;
static bool trace;		/* HF_FUZZ_TRACE: each operation and where it left the TCB */

/* ---- the stream functions: the byte at each offset of either direction ---- */

/* The peer's byte at sequence number @p seq: whatever segment carries it, the same byte. */
static inline uint8_t
peer_byte(uint32_t seq)
{
	return (uint8_t)((seq * 2654435761u) >> 24);
}

static inline uint8_t
our_byte(uint32_t off)
{
	return (uint8_t)((off * 40503u + 7) >> 8);
}

/* ---- what the application and the peer know ---- */

static struct {
	struct hf_tcp_conn *c;		/* the connection the application holds; NULL: none */
	bool auto_read;			/* take data in readable() */
	bool refuse;			/* accepted() refuses */
	bool connected, closed;
	int err;
	uint32_t irs, iss;		/* of the incarnation held */
	uint32_t rcvd;			/* bytes taken, this incarnation */
	uint32_t sent;			/* bytes handed to hf_tcp_send(), this incarnation */
	uint32_t last_rcv_nxt;
	bool have_last;
} app;

static struct {
	uint16_t sport;			/* the peer's port, host order */
	uint16_t dport;			/* ours, host order */
	uint32_t iss;			/* the peer's ISS */
	uint32_t ts;			/* the peer's timestamp clock */
	uint32_t our_ts;		/* the last TSval we sent */
	bool ack_seen;			/* the next two: valid */
	uint32_t last_ack;		/* the highest ACK we sent on this incarnation */
	uint32_t ack_iss;		/* ...and the ISS it belongs to */
	uint32_t edge;			/* the right edge of our window, as advertised */
	bool edge_seen;
} peer;

static void
die(const char *why)
{
	fprintf(stderr, "fuzz_tcp_input: %s\n", why);
	abort();
}

static void
app_take(struct hf_worker *w, struct hf_tcp_conn *c, uint32_t max)
{
	struct rte_mbuf *m;

	if (c != app.c)
		return;
	while ((m = hf_tcp_recv(w, c, max)) != NULL) {
		uint32_t total = 0;

		for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
			const uint8_t *p = rte_pktmbuf_mtod(s, const uint8_t *);

			for (uint32_t i = 0; i < s->data_len; i++)
				if (p[i] != peer_byte(app.irs + 1 + app.rcvd + i))
					die("a byte taken is not the byte sent there");
			app.rcvd += s->data_len;
			total += s->data_len;
		}
		if (total != m->pkt_len)
			die("hf_tcp_recv: pkt_len is not the sum of the segments");
		rte_pktmbuf_free(m);
		if (max != UINT32_MAX)
			break;
	}
}

static void
on_readable(struct hf_worker *w, struct hf_tcp_conn *c)
{
	if (app.auto_read)
		app_take(w, c, UINT32_MAX);
}

static void
on_closed(struct hf_worker *w, struct hf_tcp_conn *c, int err)
{
	if (c != app.c)
		return;
	/* The bytes still queued may be taken now (tcp-t.h): an orderly end loses nothing. */
	app_take(w, c, UINT32_MAX);
	app.closed = true;
	app.err = err;
	app.c = NULL;
}

static void
on_connected(struct hf_worker *w, struct hf_tcp_conn *c)
{
	(void)w;
	if (c != app.c)
		return;
	/* The IRS of an active open is known from here on. */
	app.connected = true;
	app.irs = c->irs;
	app.rcvd = 0;
	app.have_last = false;
}

static void
adopt(struct hf_tcp_conn *c)
{
	app.c = c;
	app.closed = false;
	app.connected = true;
	app.irs = c->irs;
	app.iss = c->iss;
	app.rcvd = 0;
	app.sent = 0;
	app.have_last = false;
}

static int
on_accepted(struct hf_worker *w, struct hf_tcp_conn *c, void *lctx)
{
	(void)w;
	(void)lctx;
	if (app.refuse)
		return -1;
	/* The connection the peer plays; a second 4-tuple's connections run unwatched. */
	if (app.c == NULL && rte_be_to_cpu_16(c->rport) == peer.sport)
		adopt(c);
	return 0;
}

static const struct hf_tcp_ops ops = {
	.accepted = on_accepted,
	.connected = on_connected,
	.readable = on_readable,
	.closed = on_closed,
};

/* ---- set-up, once ---- */

static void
eal_done(void)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	/* The stack's heap parts hang off EAL memory, which LSan does not scan: freed first. */
	if (W != NULL) {
		hf_worker_fini(W);
		rte_free(W);
		W = NULL;
	}
	rte_eal_cleanup();
	rmdir(dir);
}

static void
arp_seed(void)
{
	/* An ARP request from the peer for our address teaches us its MAC (RFC 826). */
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eh;
	struct rte_arp_hdr *ah;

	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eh) + sizeof(*ah));
	ah = (struct rte_arp_hdr *)(eh + 1);
	memset(eh->dst_addr.addr_bytes, 0xff, RTE_ETHER_ADDR_LEN);
	eh->src_addr = peer_mac;
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	ah->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = 4;
	ah->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	ah->arp_data.arp_sha = peer_mac;
	ah->arp_data.arp_sip = peer_ip;
	memset(&ah->arp_data.arp_tha, 0, sizeof(ah->arp_data.arp_tha));
	ah->arp_data.arp_tip = our_ip;
	W->now = vnow;
	hf_eth_input(W, &port, m);
	if (hf_arp_lookup(W, 0, peer_ip) == NULL)
		die("the peer's MAC was not learned");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];
	char *eal[] = {"fuzz_tcp_input", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
		       "--no-telemetry", "--log-level=error", "-l", "0", "--vdev=net_ring0",
		       prefix};
	struct rte_eth_conf conf = {0};
	struct hf_tcp_config cfg;

	(void)argc;
	(void)argv;
	snprintf(prefix, sizeof(prefix), "--file-prefix=hffuzz-%d", (int)getpid());
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])), eal) < 0)
		die("EAL init failed");
	atexit(eal_done);
	pool = rte_pktmbuf_pool_create("fuzz_tcp", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (pool == NULL || rte_eth_dev_configure(0, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(0, 0, 1024, 0, NULL, pool) != 0 ||
	    rte_eth_tx_queue_setup(0, 0, 1024, 0, NULL) != 0 || rte_eth_dev_start(0) != 0)
		die("cannot start the loopback port");
	inet_pton(AF_INET, OUR_IP, &our_ip);
	inet_pton(AF_INET, PEER_IP, &peer_ip);
	port.port_id = 0;
	port.index = 0;
	port.mtu = 1500;
	port.addr = our_ip;
	port.prefix_len = 24;
	port.mask = htonl(~0u << 8);
	port.mac = (struct rte_ether_addr){{0x02, 0, 0, 0, 0, 0x01}};
	port.pool = pool;
	snprintf(port.name, sizeof(port.name), "fz0");
	W = rte_zmalloc("fuzz_worker", sizeof(*W), RTE_CACHE_LINE_SIZE);
	if (W == NULL || hf_worker_init(W, 0, 1, &port, 1, rte_get_tsc_hz()) != 0)
		die("worker");
	tsc_per_ms = rte_get_tsc_hz() / 1000;
	hf_tcp_config_default(&cfg);
	/* Small enough that the input can fill windows and queues, reach every timer. */
	cfg.max_connections = MAX_CONNS;
	cfg.rcv_buf = 100000;		/* window scale 1 */
	cfg.snd_high = 30000;
	cfg.snd_low = 10000;
	cfg.syn_backlog = 2;		/* SYN cookies after two half-open connections */
	cfg.time_wait_ms = 1000;
	cfg.fin_wait_2_ms = 2000;
	cfg.keepalive_idle_ms = 5000;
	cfg.keepalive_intvl_ms = 1000;
	cfg.keepalive_probes = 3;
	cfg.syn_retries = 3;
	if (hf_tcp_init(W, &cfg) != 0 || hf_tcp_listen(W, LPORT, &ops, NULL) < 0)
		die("TCP stack");
	/* The virtual clock starts after the stack's (hf_tcp_init reads the TSC), as a loop's. */
	vnow = rte_rdtsc();
	W->now = vnow;
	arp_seed();
	trace = getenv("HF_FUZZ_TRACE") != NULL;
	return 0;
}

/* ---- our output, as the peer receives it ---- */

static void
check_sent(struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ih;
	const struct rte_tcp_hdr *th;
	struct hf_tcp_conn *c = app.c;
	uint32_t ihl, doff, len, seq, ack, off;
	uint8_t fl, buf[2048];
	struct hf_tcp_opts o;

	if (eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return;
	if (rte_pktmbuf_pkt_len(m) > sizeof(buf))
		die("a frame larger than the MTU");
	/* Chains (payload by reference) are read flat. */
	memcpy(buf, rte_pktmbuf_read(m, 0, rte_pktmbuf_pkt_len(m), buf), rte_pktmbuf_pkt_len(m));
	ih = (const struct rte_ipv4_hdr *)(buf + sizeof(*eh));
	ihl = (ih->version_ihl & 0xf) * 4u;
	if (ih->next_proto_id != IPPROTO_TCP)
		return;
	if (ih->dst_addr != peer_ip || ih->src_addr != our_ip ||
	    rte_be_to_cpu_16(ih->total_length) + sizeof(*eh) != rte_pktmbuf_pkt_len(m) ||
	    rte_be_to_cpu_16(ih->total_length) > port.mtu)
		die("a datagram with the wrong addresses or length");
	th = (const struct rte_tcp_hdr *)((const uint8_t *)ih + ihl);
	doff = (th->data_off >> 4) * 4u;
	len = rte_be_to_cpu_16(ih->total_length) - ihl - doff;
	if (doff < 20 || hf_tcp_opts_parse((const uint8_t *)(th + 1), doff - 20, &o) != 0)
		die("a segment with a bad header or options");
	if (rte_ipv4_udptcp_cksum_verify(ih, th) != 0)
		die("a segment with a bad checksum");
	fl = th->tcp_flags;
	if (((fl & RTE_TCP_SYN_FLAG) && (fl & (RTE_TCP_FIN_FLAG | RTE_TCP_RST_FLAG))) ||
	    ((fl & RTE_TCP_RST_FLAG) && (fl & RTE_TCP_FIN_FLAG)) || fl == 0)
		die("a segment with flags no stack may send");
	if (o.ts_present)
		peer.our_ts = o.ts_val;
	if (c == NULL || th->src_port != c->lport || th->dst_port != c->rport ||
	    (fl & RTE_TCP_RST_FLAG))
		return;
	seq = rte_be_to_cpu_32(th->sent_seq);
	ack = rte_be_to_cpu_32(th->recv_ack);
	if (c->state == HF_TCP_TIME_WAIT || c->iss != app.iss)
		return;		/* TIME_WAIT keeps no send queue to compare with */
	if (!hf_seq_geq(seq + len, c->iss) ||
	    !hf_seq_leq(seq + len + !!(fl & RTE_TCP_FIN_FLAG), c->snd_max)) {
		fprintf(stderr, "segment ISS%+d len %u flags %02x; SND.UNA ISS+%u SND.MAX ISS+%u\n",
			(int32_t)(seq - c->iss), len, fl, c->snd_una - c->iss, c->snd_max - c->iss);
		die("a segment outside [ISS, SND.MAX]");
	}
	if ((fl & RTE_TCP_SYN_FLAG) && (seq != c->iss || len != 0))
		die("a SYN not at ISS, or with data");
	/* Payload: the application's bytes at their stream offsets. */
	off = seq - c->iss - 1;
	for (uint32_t i = 0; i < len; i++)
		if (off + i >= app.sent ||
		    buf[sizeof(*eh) + ihl + doff + i] != our_byte(off + i))
			die("payload sent is not what the application wrote there");
	if (fl & RTE_TCP_ACK_FLAG) {
		uint32_t edge = ack + ((uint32_t)rte_be_to_cpu_16(th->rx_win)
				       << ((fl & RTE_TCP_SYN_FLAG) ? 0 : c->rcv_wscale));

		if (peer.ack_seen && peer.ack_iss == c->iss && hf_seq_lt(ack, peer.last_ack))
			die("our ACK number went back");
		if (!hf_seq_leq(ack, c->rcv_nxt))
			die("an ACK of bytes not received");
		/* RFC 9293 3.8.6.2.2: the right edge never moves left (RFC 7323 2.4: rounding). */
		if (!(fl & RTE_TCP_SYN_FLAG) && peer.edge_seen && peer.ack_iss == c->iss &&
		    hf_seq_lt(edge + (1u << c->rcv_wscale), peer.edge + 1)) {
			fprintf(stderr, "ACK IRS+%u window %u << %u: edge IRS+%u, before IRS+%u\n",
				ack - c->irs, rte_be_to_cpu_16(th->rx_win), c->rcv_wscale,
				edge - c->irs, peer.edge - c->irs);
			die("the window we advertise shrank");
		}
		if (!(fl & RTE_TCP_SYN_FLAG)) {
			if (!peer.edge_seen || peer.ack_iss != c->iss || hf_seq_gt(edge, peer.edge))
				peer.edge = edge;
			peer.edge_seen = true;
		}
		if (!peer.ack_seen || peer.ack_iss != c->iss || hf_seq_gt(ack, peer.last_ack))
			peer.last_ack = ack;
		peer.ack_seen = true;
		peer.ack_iss = c->iss;
	}
}

/* Flushes TX and reads every frame the stack sent. */
static void
drain(void)
{
	struct rte_mbuf *m[32];
	uint16_t n;

	do {
		hf_tx_flush(W, &port);
		while ((n = rte_eth_rx_burst(0, 0, m, 32)) > 0)
			for (uint16_t i = 0; i < n; i++) {
				check_sent(m[i]);
				rte_pktmbuf_free(m[i]);
			}
	} while (W->tx[0].n > 0);
}

static void
poll_stack(void)
{
	W->now = vnow;
	hf_tcp_poll(W);
	drain();
}

/* ---- invariants ---- */

static uint32_t
chain_bytes(const struct rte_mbuf *m, const struct rte_mbuf **last)
{
	uint32_t n = 0;

	*last = NULL;
	for (; m != NULL; m = m->next) {
		n += m->data_len;
		*last = m;
	}
	return n;
}

static void
check_conn(const struct hf_tcp_conn *c, bool flushed)
{
	const struct hf_tcp_stack *st = W->tcp;
	const struct rte_mbuf *last;
	bool synced = c->state >= HF_TCP_ESTABLISHED;
	uint32_t space;

	if (c->state == HF_TCP_LISTEN || c->state >= HF_TCP__STATES)
		die("a TCB in an impossible state");
	if (c->state == HF_TCP_SYN_SENT && !(c->flags & HF_TCP_F_SYNCED) && c->snd_una != c->iss)
		die("SYN-SENT with SND.UNA past ISS");
	if (!hf_seq_leq(c->snd_una, c->snd_nxt) || !hf_seq_leq(c->snd_nxt, c->snd_max) ||
	    !hf_seq_leq(c->iss, c->snd_una))
		die("not ISS <= SND.UNA <= SND.NXT <= SND.MAX");
	if (chain_bytes(c->sndq_head, &last) != c->sndq_bytes || last != c->sndq_tail)
		die("send queue bytes are not the sum of its mbufs");
	/* What is in flight is queued data, plus the SYN and the FIN. */
	space = c->sndq_bytes + (c->snd_una == c->iss) + !!(c->flags & HF_TCP_F_FIN_SENT);
	if (c->state != HF_TCP_TIME_WAIT && c->snd_max - c->snd_una > space)
		die("more in flight than the send queue holds");
	if (chain_bytes(c->rcvq.head, &last) != c->rcvq.bytes || last != c->rcvq.tail)
		die("receive queue bytes are not the sum of its mbufs");
	if (chain_bytes(c->ooo.head, &last) != c->ooo.bytes || last != c->ooo.tail)
		die("out-of-order bytes are not the sum of its mbufs");
	if (c->rcvq.bytes + c->ooo.bytes > c->rcv_buf)
		die("more bytes held than the receive buffer");
	for (const struct rte_mbuf *o = c->ooo.head, *prev = NULL; o != NULL;
	     prev = o, o = o->next) {
		uint32_t s = o->hash.usr, e = s + o->data_len;

		if (o->data_len == 0 || o->nb_segs != 1)
			die("an empty or chained out-of-order segment");
		if (!hf_seq_gt(s, c->rcv_nxt))
			die("an out-of-order segment at or before RCV.NXT");
		if (!hf_seq_leq(e, c->rcv_adv))
			die("an out-of-order segment beyond the window advertised");
		if (prev != NULL && !hf_seq_leq(prev->hash.usr + prev->data_len, s))
			die("out-of-order segments unsorted or overlapping");
	}
	/* reasm.c's own bookkeeping: mbuf counts, runs, bounds. */
	if (tcp_rcv_check(c) != 0)
		die("tcp_rcv_check() refuses the receive queues");
	if (hf_tcp_sack_bytes(&c->sack) > c->snd_max - c->snd_una)
		die("more SACKed than in flight");
	if (synced && (c->mss == 0 || c->mss > port.mtu - 40 || c->cc.cwnd == 0))
		die("a synchronized connection without MSS or cwnd");
	if (!flushed || (c->flags & HF_TCP_F_PENDING))
		return;
	/* Liveness, once the flush has run: nothing waits without a timer to move it. */
	switch (c->state) {
	case HF_TCP_ESTABLISHED:
	case HF_TCP_FIN_WAIT_1:
	case HF_TCP_CLOSE_WAIT:
	case HF_TCP_CLOSING:
	case HF_TCP_LAST_ACK:
		if (c->snd_max != c->snd_una && !hf_timer_pending(&c->rtx_timer))
			die("data in flight without a retransmission timer");
		/*
		 * Data waiting and nothing in flight: only the peer's window can
		 * hold it back (zero, or too small to use under SWS avoidance), and
		 * a lost window update must not stall it for good (RFC 9293
		 * 3.8.6.1 persist, 3.8.6.2.1 override timeout).
		 */
		if (c->snd_max == c->snd_una && hf_seq_gt(c->snd_una + c->sndq_bytes, c->snd_nxt) &&
		    !hf_timer_pending(&c->rtx_timer))
			die("data waiting, nothing in flight and no timer to send it");
		break;
	case HF_TCP_SYN_SENT:
	case HF_TCP_SYN_RCVD:
		if (!hf_timer_pending(&c->rtx_timer))
			die("a handshake without its retransmission timer");
		break;
	case HF_TCP_FIN_WAIT_2:
	case HF_TCP_TIME_WAIT:
		if (!hf_timer_pending(&c->life_timer))
			die("FIN-WAIT-2 or TIME-WAIT without its timer");
		break;
	default:
		break;
	}
	(void)st;
}

static void
check_all(bool flushed)
{
	const struct hf_tcp_stack *st = W->tcp;
	uint32_t active = 0;

	for (uint32_t i = 0; i < st->cfg.max_connections; i++) {
		const struct hf_tcp_conn *c = &st->conns[i];

		if (c->state == HF_TCP_CLOSED)
			continue;
		active++;
		check_conn(c, flushed);
	}
	if (active != st->n_active || W->cnt.v[HF_CNT_TCP_CX_ACTIVE] != st->n_active)
		die("n_active and the gauge disagree with the TCB table");
	/* The connection the application holds, against what it took and wrote. */
	if (app.c != NULL) {
		const struct hf_tcp_conn *c = app.c;
		uint32_t fin_rcvd = !!(c->flags & HF_TCP_F_FIN_RCVD);
		bool fin_acked = (c->flags & HF_TCP_F_FIN_SENT) && c->snd_una == c->snd_max;

		if (c->state == HF_TCP_CLOSED || c->iss != app.iss)
			die("the application's connection changed under it");
		if (!app.connected)
			return;		/* an active open still in its handshake */
		if (c->irs != app.irs)
			die("the application's connection changed its IRS");
		if (app.have_last && hf_seq_lt(c->rcv_nxt, app.last_rcv_nxt))
			die("RCV.NXT moved back");
		app.last_rcv_nxt = c->rcv_nxt;
		app.have_last = true;
		if (c->state >= HF_TCP_ESTABLISHED &&
		    c->rcv_nxt - c->irs - 1 != app.rcvd + c->rcvq.bytes + fin_rcvd)
			die("RCV.NXT is not what was taken plus what is queued");
		if (c->snd_una != c->iss &&
		    c->snd_una - c->iss - 1 - fin_acked != app.sent - c->sndq_bytes)
			die("SND.UNA is not what was sent less what is queued");
	}
}

/* ---- the peer's segments ---- */

struct rd {
	const uint8_t *p;
	size_t n;
};

static uint8_t
u8(struct rd *r)
{
	uint8_t v = 0;

	if (r->n > 0) {
		v = r->p[0];
		r->p++;
		r->n--;
	}
	return v;
}

/* Big-endian; one read per statement, since C leaves the order of operands unspecified. */
static uint16_t
u16(struct rd *r)
{
	uint16_t hi = u8(r);

	return (uint16_t)(hi << 8 | u8(r));
}

static uint32_t
u32(struct rd *r)
{
	uint32_t hi = u16(r);

	return hi << 16 | u16(r);
}

/* An offset: small and signed, or (bit 0x8000 of the selector) scaled up to reach far. */
static int32_t
offset(struct rd *r, bool far)
{
	int16_t v = (int16_t)u16(r);

	return far ? (int32_t)v * 4096 : v;
}

struct seg {
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t wnd;
	uint8_t opts[40];
	uint32_t optlen;
	uint32_t len;
	uint16_t sport;
};

static void
send_seg(const struct seg *s)
{
	uint8_t buf[1600];
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)buf;
	struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ih + 1);
	uint32_t hl = 20 + s->optlen, tot = sizeof(*ih) + hl + s->len;
	uint8_t *pl = (uint8_t *)th + hl;
	struct rte_mbuf *m;
	char *d;

	memset(buf, 0, sizeof(*eh) + sizeof(*ih) + sizeof(*th));
	eh->dst_addr = port.mac;
	eh->src_addr = peer_mac;
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ih->version_ihl = RTE_IPV4_VHL_DEF;
	ih->total_length = rte_cpu_to_be_16((uint16_t)tot);
	ih->time_to_live = 64;
	ih->next_proto_id = IPPROTO_TCP;
	ih->src_addr = peer_ip;
	ih->dst_addr = our_ip;
	ih->hdr_checksum = rte_ipv4_cksum(ih);
	th->src_port = rte_cpu_to_be_16(s->sport);
	th->dst_port = rte_cpu_to_be_16(peer.dport);
	th->sent_seq = rte_cpu_to_be_32(s->seq);
	th->recv_ack = rte_cpu_to_be_32(s->ack);
	th->data_off = (uint8_t)((hl / 4) << 4);
	th->tcp_flags = s->flags;
	th->rx_win = rte_cpu_to_be_16(s->wnd);
	memcpy(th + 1, s->opts, s->optlen);
	/* The payload: the peer's stream bytes at their sequence numbers (data follows a SYN). */
	for (uint32_t i = 0; i < s->len; i++)
		pl[i] = peer_byte(s->seq + (s->flags & RTE_TCP_SYN_FLAG ? 1 : 0) + i);
	th->cksum = rte_ipv4_udptcp_cksum(ih, th);
	m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		die("the packet pool ran dry");
	d = rte_pktmbuf_append(m, (uint16_t)(sizeof(*eh) + tot));
	memcpy(d, buf, sizeof(*eh) + tot);
	m->l2_len = sizeof(*eh);
	m->l3_len = sizeof(*ih);
	if (trace)
		fprintf(stderr,
			"  seg port %u flags %02x seq peer.iss%+d ack %u wnd %u opts %u len %u\n",
			s->sport, s->flags, (int32_t)(s->seq - peer.iss), s->ack, s->wnd, s->optlen,
			s->len);
	W->now = vnow;
	hf_tcp_input(W, &port, m);
}

/* The connection of the peer's 4-tuple, if the stack has one. */
static struct hf_tcp_conn *
peer_conn(uint16_t sport)
{
	const struct hf_tcp_stack *st = W->tcp;

	for (uint32_t i = 0; i < st->cfg.max_connections; i++) {
		struct hf_tcp_conn *c = &st->conns[i];

		if (c->state != HF_TCP_CLOSED && c->raddr == peer_ip &&
		    rte_be_to_cpu_16(c->rport) == sport && rte_be_to_cpu_16(c->lport) == peer.dport)
			return c;
	}
	return NULL;
}

/*
 * Options from a selector byte: bit 0 MSS, 1 window scale, 2 SACK-permitted,
 * 3 timestamps, bits 4-5 SACK blocks (0-3), 6: a raw option list instead.
 */
static void
build_opts(struct rd *r, struct seg *s, const struct hf_tcp_conn *c)
{
	uint8_t sel = u8(r), *o = s->opts;
	uint32_t n = 0, sack[6];
	unsigned int nb = (sel >> 4) & 3;

	if (sel & 0x40) {
		uint32_t k = u8(r) % 41;

		for (uint32_t i = 0; i < k; i++)
			o[i] = u8(r);
		s->optlen = k & ~3u;
		return;
	}
	if (sel & 0x01) {
		uint16_t mss = u16(r);

		o[n++] = 2, o[n++] = 4, o[n++] = (uint8_t)(mss >> 8), o[n++] = (uint8_t)mss;
	}
	if (sel & 0x02)
		o[n++] = 1, o[n++] = 3, o[n++] = 3, o[n++] = u8(r) % 16;
	if (sel & 0x04)
		o[n++] = 1, o[n++] = 1, o[n++] = 4, o[n++] = 2;
	if (sel & 0x08) {
		uint32_t val = peer.ts + (uint32_t)(int8_t)u8(r);
		uint32_t ecr = peer.our_ts + (uint32_t)(int8_t)u8(r);

		o[n++] = 1, o[n++] = 1, o[n++] = 8, o[n++] = 10;
		for (int i = 3; i >= 0; i--)
			o[n++] = (uint8_t)(val >> (8 * i));
		for (int i = 3; i >= 0; i--)
			o[n++] = (uint8_t)(ecr >> (8 * i));
	}
	for (unsigned int b = 0; b < nb && n + 2 + 8 * (b + 1) <= 40; b++) {
		uint32_t base = c != NULL ? c->snd_una : 0;
		uint32_t start = base + (uint32_t)(int32_t)(int16_t)u16(r);

		sack[2 * b] = start;
		sack[2 * b + 1] = start + u16(r);
	}
	if (nb > 0) {
		/* NOP NOP SACK: as many blocks as fit in the 40 bytes. */
		unsigned int fit = (40 - n - 4) / 8 < nb ? (40 - n - 4) / 8 : nb;

		if (fit > 0) {
			o[n++] = 1, o[n++] = 1, o[n++] = 5, o[n++] = (uint8_t)(2 + 8 * fit);
			for (unsigned int b = 0; b < fit; b++)
				for (int w = 0; w < 2; w++)
					for (int i = 3; i >= 0; i--)
						o[n++] = (uint8_t)(sack[2 * b + w] >> (8 * i));
		}
	}
	s->optlen = n;
}

/*
 * One segment: flags, port, sequence selector and offset, acknowledgment
 * selector and offset, window, options, payload length.
 */
static void
op_segment(struct rd *r)
{
	struct seg s = {0};
	uint8_t ssel, asel;
	struct hf_tcp_conn *c;
	int32_t so, ao;

	s.flags = u8(r) & 0x3f;
	ssel = u8(r);
	s.sport = (ssel & 0x80) ? (uint16_t)(peer.sport + 1) : peer.sport;
	c = peer_conn(s.sport);
	so = offset(r, ssel & 0x40);
	switch (ssel & 3) {
	case 0:
		s.seq = (c != NULL && c->state != HF_TCP_SYN_SENT ? c->rcv_nxt : peer.iss + 1) + so;
		break;
	case 1:
		s.seq = (c != NULL && c->state != HF_TCP_SYN_SENT ? c->irs : peer.iss) + so;
		break;
	case 2:
		s.seq = (c != NULL ? c->rcv_adv : peer.iss + 1) + so;
		break;
	default:
		s.seq = u32(r);
		break;
	}
	asel = u8(r);
	ao = offset(r, asel & 0x40);
	switch (asel & 3) {
	case 0:
		s.ack = (c != NULL ? c->snd_una : 0) + ao;
		break;
	case 1:
		s.ack = (c != NULL ? c->snd_nxt : 0) + ao;
		break;
	case 2:
		s.ack = (c != NULL ? c->snd_max : 0) + ao;
		break;
	default:
		s.ack = u32(r);
		break;
	}
	s.wnd = u16(r);
	build_opts(r, &s, c);
	s.len = u16(r) % (1461 - s.optlen);
	send_seg(&s);
}

/* The application writes @p len bytes, in mbufs of up to 1000 bytes, one chain. */
static void
op_send(uint32_t len)
{
	struct rte_mbuf *head = NULL, *tail = NULL;
	uint32_t off = app.sent;

	if (app.c == NULL || len == 0)
		return;
	while (len > 0) {
		uint32_t k = len < 1000 ? len : 1000;
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint8_t *p;

		if (m == NULL)
			die("the packet pool ran dry");
		p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)k);
		for (uint32_t i = 0; i < k; i++)
			p[i] = our_byte(off + i);
		off += k;
		len -= k;
		if (tail != NULL) {
			tail->next = m;
			head->nb_segs++;
			head->pkt_len += k;
		} else {
			head = m;
		}
		tail = m;
	}
	if (hf_tcp_send(W, app.c, head) >= 0)
		app.sent = off;
}

/* An ICMP error quoting a segment of ours at a chosen sequence number. */
static void
op_icmp(struct rd *r)
{
	static const uint8_t tc[][2] = {{3, 4}, {3, 3}, {3, 2}, {3, 1}, {11, 0}, {12, 0}};
	uint8_t k = u8(r) % 6, quote[40];	/* room for a whole header; 28 bytes quoted */
	uint16_t mtu = u16(r);
	int32_t so = offset(r, false);
	struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)quote;
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ih + 1);
	struct hf_tcp_conn *c = peer_conn(peer.sport);

	if (c == NULL)
		return;
	memset(quote, 0, sizeof(quote));
	ih->version_ihl = RTE_IPV4_VHL_DEF;
	ih->src_addr = our_ip;
	ih->dst_addr = peer_ip;
	ih->next_proto_id = IPPROTO_TCP;
	th->src_port = c->lport;
	th->dst_port = c->rport;
	th->sent_seq = rte_cpu_to_be_32(c->snd_una + (uint32_t)so);
	hf_tcp_icmp_error(W, tc[k][0], tc[k][1], mtu, quote, 28);
}

/* The three-way handshake, done right, with the options @p sel asks for. */
static void
handshake(bool active, uint8_t sel)
{
	struct seg s = {.sport = peer.sport, .wnd = 65535};
	struct hf_tcp_conn *c;
	uint8_t *o = s.opts;
	uint32_t n = 0;

	o[n++] = 2, o[n++] = 4, o[n++] = 0x05, o[n++] = 0xb4;	/* MSS 1460 */
	if (sel & 1)
		o[n++] = 1, o[n++] = 3, o[n++] = 3, o[n++] = (uint8_t)(sel >> 4);
	if (sel & 2)
		o[n++] = 1, o[n++] = 1, o[n++] = 4, o[n++] = 2;
	if (sel & 4) {
		o[n++] = 1, o[n++] = 1, o[n++] = 8, o[n++] = 10;
		for (int i = 3; i >= 0; i--)
			o[n++] = (uint8_t)(peer.ts >> (8 * i));
		for (int i = 3; i >= 0; i--)
			o[n++] = (uint8_t)(peer.our_ts >> (8 * i));
	}
	s.optlen = n;
	if (active) {
		c = app.c;
		if (c == NULL || c->state != HF_TCP_SYN_SENT)
			return;
		s.flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
		s.seq = peer.iss;
		s.ack = c->iss + 1;
		send_seg(&s);
	} else {
		s.flags = RTE_TCP_SYN_FLAG;
		s.seq = peer.iss;
		send_seg(&s);
		poll_stack();
		c = peer_conn(peer.sport);
		if (c == NULL || c->state != HF_TCP_SYN_RCVD)
			return;
		s.flags = RTE_TCP_ACK_FLAG;
		s.seq = peer.iss + 1;
		s.ack = c->iss + 1;
		s.optlen = 0;
		if (sel & 4) {
			o[n = 0] = 1, o[++n] = 1, o[++n] = 8, o[++n] = 10;
			n++;
			for (int i = 3; i >= 0; i--)
				o[n++] = (uint8_t)(peer.ts >> (8 * i));
			for (int i = 3; i >= 0; i--)
				o[n++] = (uint8_t)(peer.our_ts >> (8 * i));
			s.optlen = n;
		}
		send_seg(&s);
	}
	poll_stack();
}

static void
finish(void)
{
	const struct hf_tcp_stack *st = W->tcp;

	/* Every TCB goes, as hf_tcp_abort() takes one down (RST, no callback). */
	for (uint32_t i = 0; i < st->cfg.max_connections; i++) {
		struct hf_tcp_conn *c = &st->conns[i];

		if (c->state != HF_TCP_CLOSED)
			hf_tcp_abort(W, c);
	}
	app.c = NULL;
	poll_stack();
}


static void
trace_op(uint8_t op)
{
	const struct hf_tcp_conn *c = peer_conn(peer.sport);

	if (c == NULL) {
		fprintf(stderr, "op %3u: no connection; app %s\n", op % 12,
			app.closed ? "closed" : "-");
		return;
	}
	fprintf(stderr, "op %3u: state %u una %u nxt %u max %u wnd %u | rcv_nxt %u adv %u rcvq %u "
		"ooo %u | taken %u sent %u queued %u\n", op % 12, c->state, c->snd_una - c->iss,
		c->snd_nxt - c->iss, c->snd_max - c->iss, c->snd_wnd, c->rcv_nxt - c->irs,
		c->rcv_adv - c->irs, c->rcvq.bytes, c->ooo.bytes, app.rcvd, app.sent,
		c->sndq_bytes);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct hf_tcp_stack *st = W->tcp;
	struct rd r = {data, size};
	unsigned int avail, clones;
	uint8_t mode;
	bool active;

	if (size < 8)
		return 0;
	poll_stack();
	/* The worker's stash holds fresh mbufs that are not in the pool, and not in use either. */
	avail = rte_mempool_avail_count(pool) + hf_mbuf_stashed(W);
	clones = hf_tcp_clones_in_use(W);
	memset(&app, 0, sizeof(app));
	memset(&peer, 0, sizeof(peer));
	mode = u8(&r);
	active = mode & 1;
	app.auto_read = mode & 2;
	peer.sport = (uint16_t)(1024 + (u16(&r) % 60000));
	peer.iss = u32(&r);
	peer.ts = u32(&r) | 1;
	peer.dport = LPORT;
	if (trace)
		fprintf(stderr, "mode %02x sport %u iss %u ts %u\n", mode, peer.sport, peer.iss,
			peer.ts);
	if (active) {
		app.c = hf_tcp_connect(W, 0, peer_ip, rte_cpu_to_be_16(peer.sport),
				       1000 + 100u * u8(&r), &ops, NULL);
		if (app.c == NULL)
			die("hf_tcp_connect failed with a free table");
		/* The peer listens on sport; our side is the ephemeral port. */
		peer.dport = rte_be_to_cpu_16(app.c->lport);
		app.iss = app.c->iss;
		app.irs = app.c->irs;
		app.connected = false;
		poll_stack();
	}
	if (mode & 4)
		handshake(active, u8(&r));
	check_all(true);

	while (r.n > 0) {
		uint8_t op = u8(&r);
		bool flushed = false;

		switch (op % 12) {
		case 0:
		case 1:
		case 2:
		case 3:
			op_segment(&r);
			break;
		case 4:
			op_send(u16(&r) % 20000);
			break;
		case 5:
			if (app.c != NULL)
				app_take(W, app.c, u16(&r) + 1u);
			break;
		case 6: {
			/* Time passes: up to 20 s, or (rarely) a long silence of 200 s. */
			uint32_t ms = op & 0x80 ? 200000 : u16(&r) % 20000;

			vnow += (uint64_t)ms * tsc_per_ms;
			peer.ts += ms;	/* the peer's timestamp clock ticks in ms too */
			poll_stack();
			flushed = true;
			break;
		}
		case 7:
			if (app.c != NULL)
				hf_tcp_shutdown(W, app.c);
			break;
		case 8:
			if (op & 0x80 && app.c != NULL) {
				hf_tcp_abort(W, app.c);
				app.c = NULL;
			} else {
				app.auto_read = !app.auto_read;
				app.refuse = op & 0x40;
				if (app.auto_read && app.c != NULL)
					app_take(W, app.c, UINT32_MAX);
			}
			break;
		case 9:
			op_icmp(&r);
			break;
		default:
			poll_stack();
			flushed = true;
			break;
		}
		/*
		 * What the operation sent at once (challenge ACKs, resets, replies
		 * of a TIME-WAIT) is read now, against the TCB that sent it. Input
		 * leaves the rest of its output to the flush; the invariants hold
		 * before it too.
		 */
		drain();
		check_all(flushed);
		if (trace)
			trace_op(op);
	}
	poll_stack();
	check_all(true);
	finish();
	if (st->n_active != 0 || st->n_free != st->cfg.max_connections ||
	    W->cnt.v[HF_CNT_TCP_CX_ACTIVE] != 0 || W->cnt.v[HF_CNT_TCP_CX_TIME_WAIT] != 0)
		die("TCBs left after every connection was aborted");
	for (uint32_t i = 0; i < st->n_listeners; i++)
		if (st->listeners[i].synrcvd != 0)
			die("a listener still counts half-open connections");
	if (st->wheel.armed != 0)
		die("timers left armed");
	if (W->arp.n_pending != 0)
		die("frames left waiting for ARP");
	if (rte_mempool_avail_count(pool) + hf_mbuf_stashed(W) != avail ||
	    hf_tcp_clones_in_use(W) != clones)
		die("mbufs leaked");
	return 0;
}
