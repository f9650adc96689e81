/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Two whole TCP stacks, each on its own worker and loopback port, joined by a
 * wire this test carries frames over and may drop, duplicate or reorder on.
 * What a user of the TCP API sees: handshakes, byte-exact transfer through a
 * bad wire, half-close and close, refusal, SYN cookies, pool exhaustion,
 * RFC 5961 resets, zero windows.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_icmp.h>
#include <rte_tcp.h>

#include "hf_test.h"
#include "dataplane/net/arp.h"
#include "dataplane/net/eth.h"
#include "dataplane/tcp/options.h"
#include "dataplane/tcp/seq.h"
#include "dataplane/tcp/tcp.h"
#include "tcp/tcp_app.h"

static struct hf_port pa, pb;
static struct hf_worker *A, *B;	/* A: 198.51.100.2 (client), B: 198.51.100.1 (server) */

/* What the wire does to each frame: permille chances. */
static struct {
	unsigned int drop, dup, reorder;
	unsigned int seed;
	uint64_t carried, dropped;
} wire;

static struct tcp_app srv[8], cli[8];
static unsigned int n_srv;

static int
srv_accepted(struct hf_worker *w, struct hf_tcp_conn *c, void *lctx)
{
	struct tcp_app *a = &srv[n_srv++ % 8];

	(void)w;
	(void)lctx;
	memset(a, 0, sizeof(*a));
	a->c = c;
	a->connected = true;
	c->ctx = a;
	return 0;
}

static const struct hf_tcp_ops srv_ops = {
	.accepted = srv_accepted,
	.readable = app_read,
	.closed = app_closed,
};

static const struct hf_tcp_ops cli_ops = {
	.connected = app_connected,
	.readable = app_read,
	.closed = app_closed,
};

static unsigned int
rnd(void)
{
	wire.seed = wire.seed * 1103515245u + 12345u;
	return (wire.seed >> 16) % 1000;
}

/* Carries what @p from sent to @p to, through the wire's faults. */
static void
carry(struct hf_worker *from, struct hf_worker *to)
{
	struct rte_mbuf *m[64], *held = NULL;
	unsigned int n = hf_test_sent(from, m, 64);

	for (unsigned int i = 0; i < n; i++) {
		wire.carried++;
		/* A wire delivers each frame in one piece, as a NIC's RX does. */
		assert_int_equal(rte_pktmbuf_linearize(m[i]), 0);
		if (rnd() < wire.drop) {
			wire.dropped++;
			rte_pktmbuf_free(m[i]);
			continue;
		}
		if (rnd() < wire.dup) {
			struct rte_mbuf *d = rte_pktmbuf_copy(m[i], hf_test_pool(), 0, UINT32_MAX);

			if (d != NULL)
				hf_eth_input(to, &to->ports[0], d);
		}
		if (held == NULL && rnd() < wire.reorder) {
			held = m[i];
			continue;
		}
		hf_eth_input(to, &to->ports[0], m[i]);
		if (held != NULL) {
			hf_eth_input(to, &to->ports[0], held);
			held = NULL;
		}
	}
	if (held != NULL)
		hf_eth_input(to, &to->ports[0], held);
}

/* Runs both workers (timers, flushes) and the wire for up to @p ms, or until *@p done. */
static void
run(unsigned int ms, const bool *done)
{
	uint64_t end = rte_rdtsc() + ms * rte_get_tsc_hz() / 1000;

	while (rte_rdtsc() < end && (done == NULL || !*done)) {
		A->now = B->now = rte_rdtsc();
		hf_tcp_poll(A);
		hf_tcp_poll(B);
		carry(A, B);
		carry(B, A);
	}
}

static int
tcp_up(struct hf_worker *w, uint16_t name_id, const struct hf_tcp_config *cfg)
{
	int rc;

	w->id = name_id;	/* names its table and pools */
	rc = hf_tcp_init(w, cfg);
	w->id = 0;		/* and queue 0 of its own port */
	return rc;
}

static struct hf_tcp_config cfg_b;
/* TCBs of the client side; a test that needs more sets it before setup() and teardown resets it. */
static uint32_t cfg_a_max = 64;

static int
setup(void **state)
{
	struct hf_tcp_config cfg;
	static uint16_t generation;

	(void)state;
	hf_test_port(&pa, 0, 0, "198.51.100.2/24", NULL);
	hf_test_port(&pb, 0, 1, "198.51.100.1/24", NULL);
	A = hf_test_worker(0, &pa, 1);
	B = hf_test_worker(1, &pb, 1);
	hf_tcp_config_default(&cfg);
	cfg.max_connections = cfg_a_max;
	cfg.time_wait_ms = 500;
	assert_int_equal(tcp_up(A, (uint16_t)(10 + 2 * generation), &cfg), 0);
	assert_int_equal(tcp_up(B, (uint16_t)(11 + 2 * generation), &cfg_b), 0);
	generation++;
	assert_true(hf_tcp_listen(B, 80, &srv_ops, NULL) >= 0);
	memset(&wire, 0, sizeof(wire));
	memset(srv, 0, sizeof(srv));
	memset(cli, 0, sizeof(cli));
	n_srv = 0;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	hf_test_worker_free(A);
	hf_test_worker_free(B);
	cfg_a_max = 64;
	return 0;
}

static int
setup_default(void **state)
{
	hf_tcp_config_default(&cfg_b);
	cfg_b.max_connections = 64;
	cfg_b.time_wait_ms = 500;
	return setup(state);
}

static struct hf_tcp_conn *
open_to(uint16_t port, struct tcp_app *a)
{
	a->c = hf_tcp_connect(A, 0, pb.addr, rte_cpu_to_be_16(port), 1000, &cli_ops, a);
	return a->c;
}

/* Sends @p len bytes of @p data from the client as the send queue takes them. */
static void
send_all(struct tcp_app *a, const uint8_t *data, size_t len)
{
	size_t off = 0;
	uint64_t end = rte_rdtsc() + 20 * rte_get_tsc_hz();

	while (off < len && rte_rdtsc() < end && a->c != NULL) {
		while (off < len && hf_tcp_writable(A->tcp, a->c)) {
			size_t n = RTE_MIN(len - off, (size_t)1000);

			hf_tcp_send(A, a->c, hf_test_mbuf(data + off, n));
			off += n;
		}
		run(1, NULL);
	}
	assert_int_equal(off, len);
}

/*
 * Payload handed over as chains of odd-length segments (as a proxy does: a
 * rewritten head, then a body cut at a message boundary) arrives byte-exact
 * with every checksum right: DPDK's own multi-segment sum gets odd
 * boundaries wrong, so the stack must not rely on it.
 */
static void
test_odd_segment_chains(void **state)
{
	enum { TOTAL = 96 * 1024 };
	static uint8_t data[TOTAL], got[TOTAL];
	struct tcp_app *a = &cli[0];
	size_t off = 0;
	unsigned int len = 1;
	uint64_t end = rte_rdtsc() + 20 * rte_get_tsc_hz();

	(void)state;
	for (size_t i = 0; i < TOTAL; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	assert_non_null(open_to(80, a));
	run(200, &a->connected);
	run(200, &srv[0].connected);
	assert_true(srv[0].connected);
	srv[0].buf = got;
	srv[0].cap = sizeof(got);
	while (off < TOTAL && rte_rdtsc() < end) {
		while (off < TOTAL && hf_tcp_writable(A->tcp, a->c)) {
			/* One chain of segments of 1, 3, 5, ... bytes: every inner boundary odd. */
			struct rte_mbuf *head = NULL, *tail = NULL;

			for (int k = 0; k < 4 && off < TOTAL; k++) {
				size_t n = RTE_MIN((size_t)len, TOTAL - off);
				struct rte_mbuf *m = hf_test_mbuf(data + off, n);

				if (tail != NULL)
					tail->next = m;
				else
					head = m;
				tail = m;
				off += n;
				len = len >= 601 ? 1 : len + 2;
			}
			hf_tcp_send(A, a->c, head);
		}
		run(1, NULL);
	}
	run(500, NULL);
	print_message("  %zu of %d bytes, %" PRIu64 " checksum drops, %" PRIu64 " retransmissions\n",
		      srv[0].got, TOTAL, B->cnt.v[HF_CNT_TCP_DROP_CHECKSUM],
		      A->cnt.v[HF_CNT_TCP_RETRANSMITS]);
	assert_int_equal(srv[0].got, TOTAL);
	assert_memory_equal(got, data, TOTAL);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_CHECKSUM], 0);
	assert_int_equal(A->cnt.v[HF_CNT_TCP_RETRANSMITS], 0);
}

/*
 * Sends one byte on @p a's connection and takes what A put on the wire: @p n frames into
 * @p out, of which *@p data carried a TCP segment and *@p arp an ARP request (both to @p mac).
 */
static void
one_byte_out(struct tcp_app *a, const struct rte_ether_addr *mac, unsigned int *data,
	     unsigned int *arp)
{
	struct rte_mbuf *out[8];
	unsigned int n;

	hf_tcp_send(A, a->c, hf_test_mbuf("x", 1));
	A->now = rte_rdtsc();
	hf_tcp_poll(A);
	n = hf_test_sent(A, out, 8);
	*data = *arp = 0;
	for (unsigned int i = 0; i < n; i++) {
		const struct rte_ether_hdr *eh;

		eh = rte_pktmbuf_mtod(out[i], const struct rte_ether_hdr *);
		if (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
			(*arp)++;
		} else {
			assert_memory_equal(&eh->dst_addr, mac, 6);
			(*data)++;
		}
		rte_pktmbuf_free(out[i]);
	}
}

/*
 * A TCB remembers the ARP cache slot of its next hop and sends there without a
 * lookup (emit_segment()), only while the slot still holds that address,
 * confirmed: a changed MAC is followed at once, a stale entry still sends its
 * refresh, a freed one makes the segment wait for a new resolution.
 */
static void
test_arp_slot_followed(void **state)
{
	const struct rte_ether_addr moved = {{0x02, 0, 0, 0, 0, 0x77}};
	struct tcp_app *a = &cli[0];
	unsigned int data, arp;

	(void)state;
	assert_non_null(open_to(80, a));
	run(200, &a->connected);
	run(200, &srv[0].connected);
	assert_true(srv[0].connected);
	one_byte_out(a, &pb.mac, &data, &arp);
	assert_int_equal(data, 1);
	assert_int_equal(arp, 0);
	assert_int_equal(a->c->arp_ip, pb.addr);

	/* B's address moves to another MAC (a gratuitous ARP): the next segment goes there. */
	hf_eth_input(A, &pa, hf_test_arp(RTE_ARP_OP_REQUEST, &pa.mac, "198.51.100.1",
					 "198.51.100.2", &moved));
	hf_test_drain(A);	/* the reply to that request */
	one_byte_out(a, &moved, &data, &arp);
	assert_int_equal(data, 1);
	assert_int_equal(arp, 0);

	/* Stale: the segment goes, and a unicast refresh with it. */
	A->now = rte_rdtsc() + hf_ms_to_tsc(A, HF_ARP_REACHABLE_MS + 1);
	hf_arp_tick(A);
	one_byte_out(a, &moved, &data, &arp);
	assert_int_equal(data, 1);
	assert_int_equal(arp, 1);

	/* Unanswered and collected: the entry is gone, the segment waits for a new request. */
	for (int i = 0; i <= HF_ARP_MAX_RETRIES; i++) {
		A->now += hf_ms_to_tsc(A, HF_ARP_GC_MS + HF_ARP_RETRY_MS);
		hf_arp_tick(A);
	}
	hf_test_drain(A);
	assert_null(hf_arp_lookup(A, 0, pb.addr));
	one_byte_out(a, &moved, &data, &arp);
	assert_int_equal(data, 0);
	assert_int_equal(arp, 1);
}

/* Handshake, 512 KB through a wire that drops, duplicates and reorders, half-close, close. */
static void
test_transfer_bad_wire(void **state)
{
	enum { LEN = 512 * 1024 };
	uint8_t *data = malloc(LEN);
	bool both_closed = false;

	(void)state;
	for (size_t i = 0; i < LEN; i++)
		data[i] = (uint8_t)(rand() >> 5);
	wire.drop = 20;
	wire.dup = 10;
	wire.reorder = 20;
	wire.seed = 42;
	assert_non_null(open_to(80, &cli[0]));
	run(3000, &cli[0].connected);
	assert_true(cli[0].connected);
	assert_int_equal(cli[0].c->state, HF_TCP_ESTABLISHED);
	run(50, NULL);
	assert_int_equal(n_srv, 1);
	srv[0].buf = malloc(LEN);
	srv[0].cap = LEN;
	send_all(&cli[0], data, LEN);
	hf_tcp_shutdown(A, cli[0].c);	/* our half closes: FIN after the data */
	run(20000, &srv[0].eof);
	assert_true(srv[0].eof);
	assert_int_equal(srv[0].got, LEN);
	assert_memory_equal(srv[0].buf, data, LEN);
	run(300, NULL);	/* the ACK of our FIN */
	assert_int_equal(cli[0].c->state, HF_TCP_FIN_WAIT_2);
	hf_tcp_shutdown(B, srv[0].c);
	for (uint64_t end = rte_rdtsc() + 10 * rte_get_tsc_hz(); !both_closed && rte_rdtsc() < end;) {
		run(10, NULL);
		both_closed = cli[0].closed && srv[0].closed;
	}
	assert_true(both_closed);
	assert_int_equal(cli[0].err, 0);
	assert_int_equal(srv[0].err, 0);
	/* The active closer keeps the 4-tuple in TIME_WAIT, then lets it go. */
	assert_int_equal(A->cnt.v[HF_CNT_TCP_CX_TIME_WAIT], 1);
	run(1500, NULL);
	assert_int_equal(A->cnt.v[HF_CNT_TCP_CX_TIME_WAIT], 0);
	assert_int_equal(A->tcp->n_active, 0);
	assert_int_equal(B->tcp->n_active, 0);
	print_message("  wire carried %" PRIu64 " frames, dropped %" PRIu64 "; retransmits %" PRIu64
		      ", SACK-driven fast retransmits %" PRIu64 ", out-of-order %" PRIu64 "\n",
		      wire.carried, wire.dropped, A->cnt.v[HF_CNT_TCP_RETRANSMITS],
		      A->cnt.v[HF_CNT_TCP_FAST_RETRANSMITS], B->cnt.v[HF_CNT_TCP_OOO_SEGMENTS]);
	assert_true(wire.dropped > 0 && B->cnt.v[HF_CNT_TCP_OOO_SEGMENTS] > 0);
	free(srv[0].buf);
	free(data);
}

/* No listener: RST, and the client hears ECONNREFUSED. */
static void
test_refused(void **state)
{
	(void)state;
	assert_non_null(open_to(81, &cli[0]));
	run(2000, &cli[0].closed);
	assert_true(cli[0].closed);
	assert_int_equal(cli[0].err, -ECONNREFUSED);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_NO_LISTENER], 1);
	assert_int_equal(A->tcp->n_active, 0);
}

/* A peer that never answers: the connect timeout ends it. */
static void
test_connect_timeout(void **state)
{
	(void)state;
	wire.drop = 1000;	/* everything */
	cli[0].c = hf_tcp_connect(A, 0, pb.addr, rte_cpu_to_be_16(80), 300, &cli_ops, &cli[0]);
	run(2000, &cli[0].closed);
	assert_true(cli[0].closed);
	assert_int_equal(cli[0].err, -ETIMEDOUT);
	assert_int_equal(A->cnt.v[HF_CNT_TCP_CX_CONNECT_FAIL], 1);
}

/*
 * A worker switched out for 500 ms between two loop iterations: a timer armed
 * while the next iteration handles its frames (here a connect timeout of
 * 300 ms) counts from then, not from the previous iteration's clock, so it
 * does not fire 500 ms early (hf_tcp_clock() before the burst, as the loop
 * does); and setting the clock fires no timer before hf_tcp_poll().
 */
static void
test_clock_after_a_switch_out(void **state)
{
	uint64_t ms = rte_get_tsc_hz() / 1000, t0 = rte_rdtsc();
	struct tcp_app early = {0};

	(void)state;
	A->now = t0;
	hf_tcp_poll(A);
	/* a timer due in 100 ms, armed before the switch-out */
	early.c = hf_tcp_connect(A, 0, pb.addr, rte_cpu_to_be_16(80), 100, &cli_ops, &early);
	assert_non_null(early.c);
	A->now = t0 + 500 * ms;
	hf_tcp_clock(A);
	assert_false(early.closed);		/* due, but not fired by the clock alone */
	cli[0].c = hf_tcp_connect(A, 0, pb.addr, rte_cpu_to_be_16(80), 300, &cli_ops, &cli[0]);
	assert_non_null(cli[0].c);
	hf_tcp_poll(A);
	assert_true(early.closed);		/* fired in the poll, after the frames */
	assert_int_equal(early.err, -ETIMEDOUT);
	A->now = t0 + (500 + 290) * ms;
	hf_tcp_poll(A);
	assert_false(cli[0].closed);		/* 290 ms after it was armed */
	A->now = t0 + (500 + 310) * ms;
	hf_tcp_poll(A);
	assert_true(cli[0].closed);
	assert_int_equal(cli[0].err, -ETIMEDOUT);
	hf_test_drain(A);
}

/* RFC 5961: an in-window RST not at rcv_nxt is challenged; one at rcv_nxt resets. */
static void
test_rst_rules(void **state)
{
	struct hf_tcp_conn *c;
	struct rte_mbuf *m[8];
	unsigned int n;

	(void)state;
	assert_non_null(open_to(80, &cli[0]));
	run(2000, &cli[0].connected);
	run(20, NULL);
	c = srv[0].c;
	assert_non_null(c);
	/* Forge RSTs "from the client" by turning the server's own ACK into one. */
	for (int exact = 0; exact < 2; exact++) {
		hf_tcp_send(A, cli[0].c, hf_test_mbuf("x", 1));
		run(100, NULL);
		uint64_t challenges = B->cnt.v[HF_CNT_TCP_CHALLENGE_ACKS];
		uint8_t frame[64] = {0};
		struct rte_ether_hdr *eh = (struct rte_ether_hdr *)frame;
		struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)(eh + 1);
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ih + 1);
		struct rte_mbuf *f;

		eh->dst_addr = pb.mac;
		eh->src_addr = pa.mac;
		eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		ih->version_ihl = RTE_IPV4_VHL_DEF;
		ih->total_length = rte_cpu_to_be_16(40);
		ih->time_to_live = 64;
		ih->next_proto_id = IPPROTO_TCP;
		ih->src_addr = pa.addr;
		ih->dst_addr = pb.addr;
		ih->hdr_checksum = rte_ipv4_cksum(ih);
		th->src_port = c->rport;
		th->dst_port = c->lport;
		th->sent_seq = rte_cpu_to_be_32(c->rcv_nxt + (exact ? 0 : 100));
		th->data_off = 5 << 4;
		th->tcp_flags = RTE_TCP_RST_FLAG;
		th->cksum = rte_ipv4_udptcp_cksum(ih, th);
		f = hf_test_mbuf(frame, 54);
		hf_eth_input(B, &pb, f);
		n = hf_test_sent(B, m, 8);
		rte_pktmbuf_free_bulk(m, n);
		if (!exact) {
			assert_int_equal(B->cnt.v[HF_CNT_TCP_CHALLENGE_ACKS], challenges + 1);
			assert_false(srv[0].closed);
		} else {
			assert_true(srv[0].closed);
			assert_int_equal(srv[0].err, -ECONNRESET);
		}
	}
}

static int
setup_cookies(void **state)
{
	hf_tcp_config_default(&cfg_b);
	cfg_b.max_connections = 64;
	cfg_b.syn_backlog = 0;	/* every SYN is answered with a cookie */
	return setup(state);
}

/* With the backlog full, a SYN cookie carries the handshake and the connection works. */
static void
test_syn_cookie(void **state)
{
	static const uint8_t msg[] = "carried by a cookie";

	(void)state;
	assert_non_null(open_to(80, &cli[0]));
	run(2000, &cli[0].connected);
	assert_true(cli[0].connected);
	run(50, NULL);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_SYNCOOKIES_SENT], 1);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_SYNCOOKIES_OK], 1);
	srv[0].buf = malloc(64);
	srv[0].cap = 64;
	hf_tcp_send(A, cli[0].c, hf_test_mbuf(msg, sizeof(msg)));
	run(500, NULL);
	assert_int_equal(srv[0].got, sizeof(msg));
	assert_memory_equal(srv[0].buf, msg, sizeof(msg));
	free(srv[0].buf);
}

static int
setup_small_pool(void **state)
{
	hf_tcp_config_default(&cfg_b);
	cfg_b.max_connections = 4;
	return setup(state);
}

/* A listener's closed() that must never run: the connection was never accepted. */
static int listener_closed_calls;

static void
never_closed(struct hf_worker *w, struct hf_tcp_conn *c, int err)
{
	(void)w;
	(void)c;
	(void)err;
	listener_closed_calls++;
}

static int
refuse_accept(struct hf_worker *w, struct hf_tcp_conn *c, void *lctx)
{
	(void)w;
	(void)c;
	(void)lctx;
	return 0;
}

/*
 * A connection that dies in SYN-RECEIVED (reset by a client that forgot it)
 * was never handed to the application: no closed() for it, whose ctx would
 * still be the listener's (an HTTP listener took it for a session and
 * crashed, 100,000 connections into a benchmark).
 */
static void
test_syn_rcvd_never_reported(void **state)
{
	static const struct hf_tcp_ops ops = {.accepted = refuse_accept, .closed = never_closed};
	static int sentinel;
	struct tcp_app *a = &cli[0];
	uint64_t rst0 = B->cnt.v[HF_CNT_TCP_CX_RESET_RX];

	(void)state;
	listener_closed_calls = 0;
	assert_true(hf_tcp_listen(B, 81, &ops, &sentinel) >= 0);
	assert_non_null(open_to(81, a));
	/* The SYN goes out, then the client forgets the connection without a word. */
	A->now = rte_rdtsc();
	hf_tcp_poll(A);
	carry(A, B);
	hf_tcp_abort(A, a->c);
	a->c = NULL;
	/* B's SYN-ACK reaches a client that knows nothing of it: RST, in SYN-RECEIVED. */
	run(300, NULL);
	print_message("  resets received by the server: %" PRIu64 ", active left: %u\n",
		      B->cnt.v[HF_CNT_TCP_CX_RESET_RX] - rst0, B->tcp->n_active);
	assert_true(B->cnt.v[HF_CNT_TCP_CX_RESET_RX] > rst0);
	assert_int_equal(B->tcp->n_active, 0);
	assert_int_equal(listener_closed_calls, 0);
}

/* A full TCB pool is a counted refusal, never a crash; the pool comes back. */
static void
test_pool_exhaustion(void **state)
{
	(void)state;
	/* Resolve the peer first: ARP holds only a few packets per unresolved neighbour. */
	assert_non_null(open_to(81, &cli[7]));
	run(500, &cli[7].closed);
	for (int i = 0; i < 5; i++)
		assert_non_null(open_to(80, &cli[i]));
	run(1500, NULL);
	int ok = 0, refused = 0;
	for (int i = 0; i < 5; i++) {
		ok += cli[i].connected && !cli[i].closed;
		refused += cli[i].closed && cli[i].err == -ECONNREFUSED;
	}
	assert_int_equal(ok, 4);
	assert_int_equal(refused, 1);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_NO_TCB], 1);
	for (int i = 0; i < 5; i++)
		if (cli[i].c != NULL)
			hf_tcp_abort(A, cli[i].c);
	run(300, NULL);
	assert_int_equal(B->tcp->n_active, 0);
	assert_int_equal(B->tcp->n_free, 4);
}

/* Local ports an active open may use (conn.c): 32768-60999. */
#define N_EPHEMERAL 28232

static int
setup_many_ports(void **state)
{
	cfg_a_max = N_EPHEMERAL + 64;
	return setup_default(state);
}

/*
 * Every local port toward one destination taken: the next active open is a
 * refusal counted as tcp.drop.no_local_port (not as a full TCB pool), at the
 * cost of a bounded search; a port that comes free anywhere in the range is
 * found again within the attempts that follow (the search resumes where the
 * last one stopped), and the other destinations are not affected.
 */
static void
test_local_ports_exhausted(void **state)
{
	struct hf_tcp_conn **c = calloc(N_EPHEMERAL, sizeof(*c));
	static struct tcp_app quiet;	/* never connected: there is no wire in this test */
	struct hf_tcp_conn *x = NULL;
	unsigned int attempts = 0;
	uint16_t freed;
	uint64_t t0;

	(void)state;
	assert_non_null(c);
	for (unsigned int i = 0; i < N_EPHEMERAL; i++) {
		c[i] = hf_tcp_connect(A, 0, pb.addr, rte_cpu_to_be_16(80), 60000, &cli_ops, &quiet);
		assert_non_null(c[i]);
	}
	t0 = rte_rdtsc();
	assert_null(hf_tcp_connect(A, 0, pb.addr, rte_cpu_to_be_16(80), 60000, &cli_ops, &quiet));
	print_message("  refused connect with %u ports taken: %.1f us\n", N_EPHEMERAL,
		      (double)(rte_rdtsc() - t0) * 1e6 / (double)rte_get_tsc_hz());
	assert_int_equal(A->cnt.v[HF_CNT_TCP_DROP_NO_LOCAL_PORT], 1);
	assert_int_equal(A->cnt.v[HF_CNT_TCP_DROP_NO_TCB], 0);
	/* Another destination port has a whole range of its own. */
	x = hf_tcp_connect(A, 0, pb.addr, rte_cpu_to_be_16(81), 60000, &cli_ops, &quiet);
	assert_non_null(x);
	hf_tcp_abort(A, x);
	/* One port comes free, far from where the search stands. */
	freed = c[N_EPHEMERAL / 3]->lport;
	hf_tcp_abort(A, c[N_EPHEMERAL / 3]);
	c[N_EPHEMERAL / 3] = NULL;
	while ((x = hf_tcp_connect(A, 0, pb.addr, rte_cpu_to_be_16(80), 60000, &cli_ops,
				   &quiet)) == NULL && attempts < 64)
		attempts++;
	print_message("  freed port found after %u refused attempts\n", attempts);
	assert_non_null(x);
	assert_int_equal(x->lport, freed);
	assert_true(attempts <= N_EPHEMERAL / 1024 + 1);
	assert_int_equal(A->cnt.v[HF_CNT_TCP_DROP_NO_LOCAL_PORT], 1 + attempts);
	hf_tcp_abort(A, x);
	for (unsigned int i = 0; i < N_EPHEMERAL; i++)
		if (c[i] != NULL)
			hf_tcp_abort(A, c[i]);
	free(c);
	hf_test_drain(A);
}

/* A reader that stops closes its window; the writer probes, and everything arrives later. */
static void
test_zero_window(void **state)
{
	enum { LEN = 600 * 1024 };	/* more than the 256 KB receive window */
	uint8_t *data = malloc(LEN);

	(void)state;
	for (size_t i = 0; i < LEN; i++)
		data[i] = (uint8_t)(i * 31);
	assert_non_null(open_to(80, &cli[0]));
	run(2000, &cli[0].connected);
	run(20, NULL);
	srv[0].read_paused = true;
	srv[0].buf = malloc(LEN);
	srv[0].cap = LEN;
	for (size_t off = 0; off < LEN; off += 1000)
		hf_tcp_send(A, cli[0].c, hf_test_mbuf(data + off, RTE_MIN((size_t)1000, LEN - off)));
	run(1500, NULL);
	assert_int_equal(cli[0].c->snd_wnd, 0);	/* the peer's window closed */
	assert_true(A->cnt.v[HF_CNT_TCP_ZWP] >= 1);	/* and we probe it */
	srv[0].read_paused = false;
	app_read(B, srv[0].c);
	run(5000, NULL);
	assert_int_equal(srv[0].got, LEN);
	assert_memory_equal(srv[0].buf, data, LEN);
	free(srv[0].buf);
	free(data);
}

/* An ICMP error from B's address to A quoting @p quoted (a frame A sent), with @p code and @p mtu. */
static struct rte_mbuf *
icmp_error(struct rte_mbuf *quoted, uint8_t type, uint8_t code, uint16_t mtu)
{
	uint8_t l4[8 + 60] = {0};
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)l4;
	const uint8_t *q = rte_pktmbuf_mtod_offset(quoted, const uint8_t *, 14);

	ic->icmp_type = type;
	ic->icmp_code = code;
	ic->icmp_seq_nb = rte_cpu_to_be_16(mtu);	/* next-hop MTU sits here (RFC 1191) */
	memcpy(ic + 1, q, 20 + 8);			/* IP header and 8 bytes of TCP (RFC 792) */
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(l4, 8 + 28);
	return hf_test_ipv4(&pa.mac, IPPROTO_ICMP, "198.51.100.1", "198.51.100.2", l4, 8 + 28);
}

/* ICMP errors: port unreachable fails a connect, frag-needed lowers the MSS, forgeries are refused. */
static void
test_icmp_errors(void **state)
{
	struct rte_mbuf *m[8], *syn = NULL;
	unsigned int n;

	(void)state;
	/* Resolve B first so the SYN leaves at once. */
	assert_non_null(open_to(81, &cli[7]));
	run(500, &cli[7].closed);
	assert_non_null(open_to(80, &cli[0]));
	n = hf_test_sent(A, m, 8);
	for (unsigned int i = 0; i < n; i++) {
		if (syn == NULL && rte_pktmbuf_pkt_len(m[i]) > 54)
			syn = m[i];
		else
			rte_pktmbuf_free(m[i]);
	}
	assert_non_null(syn);
	/* A forged error quoting a sequence number never sent is refused. */
	struct rte_mbuf *f = icmp_error(syn, 3, 3, 0);
	uint8_t *seq = rte_pktmbuf_mtod_offset(f, uint8_t *, 14 + 20 + 8 + 20 + 4);
	struct rte_icmp_hdr *fic = rte_pktmbuf_mtod_offset(f, struct rte_icmp_hdr *, 14 + 20);
	seq[0] ^= 0x40;
	fic->icmp_cksum = 0;
	fic->icmp_cksum = (uint16_t)~rte_raw_cksum(fic, 8 + 28);
	hf_eth_input(A, &pa, f);
	assert_int_equal(A->cnt.v[HF_CNT_TCP_DROP_ICMP], 1);
	assert_false(cli[0].closed);
	/* The genuine one ends the handshake. */
	hf_eth_input(A, &pa, icmp_error(syn, 3, 3, 0));
	assert_true(cli[0].closed);
	assert_int_equal(cli[0].err, -ECONNREFUSED);
	assert_int_equal(A->cnt.v[HF_CNT_TCP_ICMP_REFUSED], 1);
	rte_pktmbuf_free(syn);

	/* Fragmentation needed on an established connection: the MSS follows the path. */
	memset(&cli[1], 0, sizeof(cli[1]));
	assert_non_null(open_to(80, &cli[1]));
	run(1000, &cli[1].connected);
	run(30, NULL);
	hf_tcp_send(A, cli[1].c, hf_test_mbuf("path mtu probe", 14));
	A->now = rte_rdtsc();
	hf_tcp_poll(A);
	n = hf_test_sent(A, m, 8);
	assert_true(n >= 1);
	hf_eth_input(A, &pa, icmp_error(m[n - 1], 3, 4, 1000));
	rte_pktmbuf_free_bulk(m, n);
	assert_int_equal(A->cnt.v[HF_CNT_TCP_ICMP_PMTU], 1);
	assert_int_equal(cli[1].c->mss, 1000 - 40 - 12);
	run(500, NULL);
	assert_int_equal(srv[n_srv - 1].got, 14);	/* and the data still arrives */
}

/* Simultaneous close (RFC 9293 3.6, figure 13): both FINs cross; both go through CLOSING to TIME_WAIT. */
static void
test_simultaneous_close(void **state)
{
	struct hf_tcp_conn *a, *b;
	bool both = false;

	(void)state;
	assert_non_null(open_to(80, &cli[0]));
	run(1000, &cli[0].connected);
	run(30, NULL);
	a = cli[0].c;
	b = srv[0].c;
	assert_non_null(b);
	hf_tcp_shutdown(A, a);
	hf_tcp_shutdown(B, b);
	A->now = B->now = rte_rdtsc();
	hf_tcp_poll(A);		/* both FINs leave before either arrives */
	hf_tcp_poll(B);
	assert_int_equal(a->state, HF_TCP_FIN_WAIT_1);
	assert_int_equal(b->state, HF_TCP_FIN_WAIT_1);
	carry(A, B);
	carry(B, A);
	assert_true(a->state == HF_TCP_CLOSING || a->state == HF_TCP_TIME_WAIT);
	assert_true(b->state == HF_TCP_CLOSING || b->state == HF_TCP_TIME_WAIT);
	for (uint64_t end = rte_rdtsc() + rte_get_tsc_hz(); !both && rte_rdtsc() < end;) {
		run(5, NULL);
		both = a->state == HF_TCP_TIME_WAIT && b->state == HF_TCP_TIME_WAIT;
	}
	assert_true(both);
	assert_int_equal(A->cnt.v[HF_CNT_TCP_CX_TIME_WAIT], 1);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_CX_TIME_WAIT], 1);
	assert_true(cli[0].closed && srv[0].closed);
	assert_int_equal(cli[0].err, 0);
	assert_int_equal(srv[0].err, 0);
}

/*
 * A reply and the close in one pass (an HTTP response with "connection:
 * close"): the FIN rides on the last data segment, one frame instead of two,
 * and the close completes as before; the server keeps the TIME_WAIT.
 */
static void
test_fin_with_last_data(void **state)
{
	struct rte_mbuf *m[8];
	const struct rte_ipv4_hdr *ih;
	const struct rte_tcp_hdr *th;
	struct hf_tcp_conn *b;
	unsigned int n;
	bool both = false;

	(void)state;
	assert_non_null(open_to(80, &cli[0]));
	run(1000, &cli[0].connected);
	run(30, NULL);
	b = srv[0].c;
	assert_non_null(b);
	assert_true(hf_tcp_send(B, b, hf_test_mbuf("HTTP/1.1 200 OK\r\n\r\n", 19)) >= 0);
	hf_tcp_shutdown(B, b);
	B->now = rte_rdtsc();
	hf_tcp_poll(B);
	assert_int_equal(b->state, HF_TCP_FIN_WAIT_1);
	n = hf_test_sent(B, m, 8);
	assert_int_equal(n, 1);
	ih = rte_pktmbuf_mtod_offset(m[0], const struct rte_ipv4_hdr *, 14);
	th = (const struct rte_tcp_hdr *)(ih + 1);
	assert_int_equal(th->tcp_flags, RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(rte_be_to_cpu_16(ih->total_length) - 20 - (th->data_off >> 4) * 4, 19);
	/* The FIN takes a sequence number too. */
	assert_int_equal(b->snd_max, b->snd_una + 19 + 1);
	hf_eth_input(A, &pa, m[0]);
	assert_true(cli[0].eof);
	assert_int_equal(cli[0].got, 19);
	hf_tcp_shutdown(A, cli[0].c);
	for (uint64_t end = rte_rdtsc() + rte_get_tsc_hz(); !both && rte_rdtsc() < end;) {
		run(5, NULL);
		both = cli[0].closed && srv[0].closed;
	}
	assert_true(both);
	assert_int_equal(cli[0].err, 0);
	assert_int_equal(srv[0].err, 0);
	assert_int_equal(b->state, HF_TCP_TIME_WAIT);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_RETRANSMITS], 0);
}

/*
 * An orphan FIN_WAIT_2 (the peer acknowledged our FIN and never closes) ends
 * after fin_wait_2_ms, as Linux's tcp_fin_timeout bounds it; the timer is armed
 * by an ACK of our FIN that does not carry the peer's FIN.
 */
static void
test_fin_wait_2_orphan(void **state)
{
	struct hf_tcp_conn *b;

	(void)state;
	B->tcp->cfg.fin_wait_2_ms = 200;
	assert_non_null(open_to(80, &cli[0]));
	run(1000, &cli[0].connected);
	run(30, NULL);
	b = srv[0].c;
	assert_non_null(b);
	hf_tcp_shutdown(B, b);
	for (uint64_t end = rte_rdtsc() + rte_get_tsc_hz() / 2;
	     b->state != HF_TCP_FIN_WAIT_2 && rte_rdtsc() < end;)
		run(1, NULL);
	assert_int_equal(b->state, HF_TCP_FIN_WAIT_2);
	assert_true(hf_timer_pending(&b->life_timer));
	assert_int_equal(cli[0].c->state, HF_TCP_CLOSE_WAIT);
	run(600, &srv[0].closed);
	assert_true(srv[0].closed);
	assert_int_equal(srv[0].err, 0);
	assert_int_equal(B->tcp->n_active, 0);
	assert_int_equal(cli[0].c->state, HF_TCP_CLOSE_WAIT);
}

/* ---- every synchronized state × hostile segment kind ---- */

enum kind { K_RST_EXACT, K_RST_IN_WINDOW, K_SYN, K_DATA_OUT_OF_WINDOW, K_ACK_UNSENT, K__N };
static const char *const kind_name[K__N] = {"RST at rcv_nxt", "RST in window", "SYN",
					   "data beyond the window", "ACK of unsent data"};

/* A segment "from the client" to server connection @p c, headers only or with @p len bytes. */
static struct rte_mbuf *
forge(const struct hf_tcp_conn *c, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t len)
{
	uint8_t l4[20 + 64] = {0};
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)l4;
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ih;

	th->src_port = c->rport;
	th->dst_port = c->lport;
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = 5 << 4;
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(65535);
	m = hf_test_ipv4(&pb.mac, IPPROTO_TCP, "198.51.100.2", "198.51.100.1", l4, 20 + len);
	ih = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	th = (struct rte_tcp_hdr *)(ih + 1);
	th->cksum = rte_ipv4_udptcp_cksum(ih, th);
	return m;
}

/* Brings a server connection into @p state; returns it (its TCB stays valid in TIME_WAIT). */
static struct hf_tcp_conn *
reach(enum hf_tcp_state state)
{
	struct hf_tcp_conn *c;

	assert_non_null(open_to(80, &cli[0]));
	run(1000, &cli[0].connected);
	run(30, NULL);
	c = srv[0].c;
	assert_non_null(c);
	switch (state) {
	case HF_TCP_ESTABLISHED:
		break;
	case HF_TCP_CLOSE_WAIT:
	case HF_TCP_LAST_ACK:
		hf_tcp_shutdown(A, cli[0].c);
		run(1000, &srv[0].eof);
		if (state == HF_TCP_LAST_ACK) {
			wire.drop = 1000;	/* our FIN is never acknowledged */
			hf_tcp_shutdown(B, c);
			run(30, NULL);
		}
		break;
	case HF_TCP_FIN_WAIT_2:
	case HF_TCP_TIME_WAIT:
		hf_tcp_shutdown(B, c);
		run(100, NULL);
		if (state == HF_TCP_TIME_WAIT) {
			hf_tcp_shutdown(A, cli[0].c);
			run(100, NULL);
		}
		break;
	default:
		fail();
	}
	assert_int_equal(c->state, state);
	return c;
}

/* A SYN with MSS and timestamp options "from the client" of 4-tuple (@p sport → @p dport). */
static struct rte_mbuf *
forge_syn(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ts_val)
{
	uint8_t l4[20 + HF_TCP_OPTS_SYN_MAX_LEN] = {0};
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)l4;
	uint32_t optlen = hf_tcp_opts_build_syn(l4 + 20, 1460, -1, false, true, ts_val, 0);
	struct rte_ipv4_hdr *ih;
	struct rte_mbuf *m;

	th->src_port = sport;
	th->dst_port = dport;
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->data_off = (uint8_t)(((20 + optlen) / 4) << 4);
	th->tcp_flags = RTE_TCP_SYN_FLAG;
	th->rx_win = rte_cpu_to_be_16(65535);
	m = hf_test_ipv4(&pb.mac, IPPROTO_TCP, "198.51.100.2", "198.51.100.1", l4, 20 + optlen);
	ih = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	th = (struct rte_tcp_hdr *)(ih + 1);
	th->cksum = rte_ipv4_udptcp_cksum(ih, th);
	return m;
}

/* The sequence number of the SYN-ACK B sent to @p dport, or fails the test when there is none. */
static uint32_t
syn_ack_seq(uint16_t dport)
{
	struct rte_mbuf *m[16];
	unsigned int n = hf_test_sent(B, m, 16);
	bool found = false;
	uint32_t seq = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod_offset(m[i], struct rte_ipv4_hdr *, 14);
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ih + 1);

		if (ih->next_proto_id == IPPROTO_TCP && th->dst_port == dport &&
		    th->tcp_flags == (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) {
			seq = rte_be_to_cpu_32(th->sent_seq);
			found = true;
		}
		rte_pktmbuf_free(m[i]);
	}
	assert_true(found);
	return seq;
}

/*
 * A SYN for a 4-tuple in TIME_WAIT (the server closed first). With
 * timestamps on both incarnations the timestamp decides (RFC 6191 2): an
 * older one is a duplicate from the past and reopens nothing, whatever its
 * sequence number; a newer one reopens, even with a lower sequence number (a
 * client that restarted, with a new ISN secret). The reopened connection's
 * ISS is above everything the old one sent (RFC 9293 3.6.1), here a megabyte
 * sent moments ago, far more than the ISN clock moved since.
 */
static void
test_time_wait_reopen(void **state)
{
	enum { BULK = 1 << 20 };
	static uint8_t bulk[64 * 1024];
	struct hf_tcp_conn *tw;
	uint32_t snd_max, rcv_nxt, ts_recent, iss;
	uint16_t sport, dport;
	uint64_t recycled, end;
	size_t off = 0;

	(void)state;
	assert_non_null(open_to(80, &cli[0]));
	run(1000, &cli[0].connected);
	run(30, NULL);
	tw = srv[0].c;
	assert_non_null(tw);
	assert_true(tw->flags & HF_TCP_F_TS);
	end = rte_rdtsc() + 20 * rte_get_tsc_hz();
	while (cli[0].got < BULK && rte_rdtsc() < end) {
		while (off < BULK && hf_tcp_writable(B->tcp, tw)) {
			hf_tcp_send(B, tw, hf_test_mbuf(bulk, 1000));
			off += 1000;
		}
		run(1, NULL);
	}
	assert_true(cli[0].got >= BULK);
	hf_tcp_shutdown(B, tw);
	run(100, &cli[0].eof);
	hf_tcp_shutdown(A, cli[0].c);
	run(100, NULL);
	assert_int_equal(tw->state, HF_TCP_TIME_WAIT);
	snd_max = tw->snd_max;
	rcv_nxt = tw->rcv_nxt;
	ts_recent = tw->ts_recent;
	sport = tw->rport;
	dport = tw->lport;
	recycled = B->cnt.v[HF_CNT_TCP_CX_TW_RECYCLED];

	B->now = rte_rdtsc();
	hf_eth_input(B, &pb, forge_syn(sport, dport, rcv_nxt + 100000, ts_recent - 1));
	hf_tcp_poll(B);
	hf_test_drain(B);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_CX_TW_RECYCLED], recycled);
	assert_int_equal(tw->state, HF_TCP_TIME_WAIT);

	hf_eth_input(B, &pb, forge_syn(sport, dport, rcv_nxt - 1000, ts_recent + 1));
	hf_tcp_poll(B);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_CX_TW_RECYCLED], recycled + 1);
	iss = syn_ack_seq(sport);
	print_message("  old incarnation sent up to %u, the new one starts at %u (+%u)\n", snd_max,
		      iss, iss - snd_max);
	assert_true(hf_seq_geq(iss, snd_max + 65537));
}

static void
test_state_table(void **state)
{
	static const enum hf_tcp_state states[] = {HF_TCP_ESTABLISHED, HF_TCP_CLOSE_WAIT,
						   HF_TCP_FIN_WAIT_2, HF_TCP_LAST_ACK, HF_TCP_TIME_WAIT};
	static const char *const state_name[] = {
		[HF_TCP_ESTABLISHED] = "ESTABLISHED", [HF_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
		[HF_TCP_FIN_WAIT_2] = "FIN_WAIT_2", [HF_TCP_LAST_ACK] = "LAST_ACK",
		[HF_TCP_TIME_WAIT] = "TIME_WAIT"};

	(void)state;
	for (size_t si = 0; si < sizeof(states) / sizeof(states[0]); si++) {
		for (int k = 0; k < K__N; k++) {
			enum hf_tcp_state st = states[si];
			bool tw = st == HF_TCP_TIME_WAIT;
			struct hf_tcp_conn *c;
			struct hf_counters before;
			enum hf_counter want;
			bool survives = true;
			struct rte_mbuf *m;

			setup_default(NULL);
			c = reach(st);
			before = B->cnt;
			switch (k) {
			case K_RST_EXACT:
				m = forge(c, RTE_TCP_RST_FLAG, c->rcv_nxt, 0, 0);
				/* RFC 1337: TIME_WAIT ignores it; elsewhere it ends the connection. */
				want = tw ? HF_CNT_TCP_DROP_RST_IGNORED : HF_CNT_TCP_CX_RESET_RX;
				survives = tw;
				break;
			case K_RST_IN_WINDOW:
				m = forge(c, RTE_TCP_RST_FLAG, c->rcv_nxt + 10, 0, 0);
				want = tw ? HF_CNT_TCP_DROP_RST_IGNORED : HF_CNT_TCP_CHALLENGE_ACKS;
				break;
			case K_SYN:
				m = forge(c, RTE_TCP_SYN_FLAG, c->rcv_nxt + 10, 0, 0);
				/* RFC 6191: a newer SYN may take over a TIME_WAIT 4-tuple. */
				want = tw ? HF_CNT_TCP_CX_TW_RECYCLED : HF_CNT_TCP_DROP_SYN_SYNCED;
				survives = !tw;
				break;
			case K_DATA_OUT_OF_WINDOW:
				m = forge(c, RTE_TCP_ACK_FLAG, c->rcv_nxt + 40000000, c->snd_nxt, 16);
				want = HF_CNT_TCP_DROP_OUT_OF_WINDOW;
				break;
			default:
				m = forge(c, RTE_TCP_ACK_FLAG, c->rcv_nxt, c->snd_max + 100000, 0);
				want = tw ? HF_CNT_TCP_DROP_OUT_OF_WINDOW : HF_CNT_TCP_DROP_ACK_UNSENT;
				break;
			}
			if (tw && k == K_ACK_UNSENT)
				m = forge(c, RTE_TCP_ACK_FLAG, c->rcv_nxt + 40000000, 0, 0);
			B->now = rte_rdtsc();
			hf_eth_input(B, &pb, m);
			hf_tcp_poll(B);
			print_message("  %-11s × %-22s → %s +%" PRIu64 ", %s\n", state_name[st],
				      kind_name[k], hf_counter_name(want), B->cnt.v[want] - before.v[want],
				      survives ? "connection kept" : "connection gone");
			assert_int_equal(B->cnt.v[want], before.v[want] + 1);
			if (survives)
				assert_int_equal(c->state, st);
			else
				assert_true(c->state != st);	/* closed, or reused by the new SYN */
			teardown(NULL);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_transfer_bad_wire, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_arp_slot_followed, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_connect_timeout, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_clock_after_a_switch_out, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_rst_rules, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_syn_cookie, setup_cookies, teardown),
		cmocka_unit_test_setup_teardown(test_pool_exhaustion, setup_small_pool, teardown),
		cmocka_unit_test_setup_teardown(test_local_ports_exhausted, setup_many_ports,
						teardown),
		cmocka_unit_test_setup_teardown(test_syn_rcvd_never_reported, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_zero_window, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_icmp_errors, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_simultaneous_close, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_fin_with_last_data, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_fin_wait_2_orphan, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_time_wait_reopen, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_odd_segment_chains, setup_default, teardown),
		cmocka_unit_test(test_state_table),
	};

	hf_test_eal(2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
