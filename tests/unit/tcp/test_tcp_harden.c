/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TCP stack against a hostile peer (issue 11): a blind attacker that got a
 * sequence number into the window but must guess the ACK (RFC 5961 5.2, RFC
 * 9293 3.10.7.4 window update rule), and peers that would pin the mbuf pool or
 * make reassembly quadratic with tiny or out-of-order segments (SegmentSmack,
 * CVE-2018-5390). A client worker A and a server worker B, joined by a wire
 * the test carries frames over; forged segments go to B directly.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_jhash.h>
#include <rte_tcp.h>

#include "hf_test.h"
#include "dataplane/net/eth.h"
#include "dataplane/tcp/options.h"
#include "dataplane/tcp/seq.h"
#include "dataplane/tcp/tcp-int.h"
#include "dataplane/tcp/tcp.h"
#include "tcp/tcp_app.h"

static struct hf_port pa, pb;
static struct hf_worker *A, *B;	/* A: 198.51.100.2 (client), B: 198.51.100.1 (server) */
static bool wire_down;		/* the wire loses every frame */

static struct tcp_app srv, cli;

static int
srv_accepted(struct hf_worker *w, struct hf_tcp_conn *c, void *lctx)
{
	(void)w;
	(void)lctx;
	memset(&srv, 0, sizeof(srv));
	srv.c = c;
	srv.connected = true;
	c->ctx = &srv;
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

static void
carry(struct hf_worker *from, struct hf_worker *to)
{
	struct rte_mbuf *m[64];
	unsigned int n;

	while ((n = hf_test_sent(from, m, 64)) > 0) {
		for (unsigned int i = 0; i < n; i++) {
			if (wire_down || rte_pktmbuf_linearize(m[i]) != 0) {
				rte_pktmbuf_free(m[i]);
				continue;
			}
			hf_eth_input(to, &to->ports[0], m[i]);
		}
	}
}

/* One turn of both workers' loops and the wire. */
static void
step(void)
{
	A->now = B->now = rte_rdtsc();
	hf_tcp_poll(A);
	hf_tcp_poll(B);
	carry(A, B);
	carry(B, A);
}

/* Runs both workers and the wire for up to @p ms, or until *@p done. */
static void
run(unsigned int ms, const bool *done)
{
	uint64_t end = rte_rdtsc() + ms * rte_get_tsc_hz() / 1000;

	while (rte_rdtsc() < end && (done == NULL || !*done))
		step();
}

static int
tcp_up(struct hf_worker *w, uint16_t name_id)
{
	struct hf_tcp_config cfg;
	int rc;

	hf_tcp_config_default(&cfg);
	cfg.max_connections = 16;
	cfg.time_wait_ms = 200;
	w->id = name_id;	/* names its table and pools */
	rc = hf_tcp_init(w, &cfg);
	w->id = 0;
	return rc;
}

static int
setup(void **state)
{
	static uint16_t generation;

	(void)state;
	hf_test_port(&pa, 0, 0, "198.51.100.2/24", NULL);
	hf_test_port(&pb, 0, 1, "198.51.100.1/24", NULL);
	A = hf_test_worker(0, &pa, 1);
	B = hf_test_worker(1, &pb, 1);
	assert_int_equal(tcp_up(A, (uint16_t)(10 + 2 * generation)), 0);
	assert_int_equal(tcp_up(B, (uint16_t)(11 + 2 * generation)), 0);
	generation++;
	assert_true(hf_tcp_listen(B, 80, &srv_ops, NULL) >= 0);
	memset(&srv, 0, sizeof(srv));
	memset(&cli, 0, sizeof(cli));
	wire_down = false;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	hf_test_worker_free(A);
	hf_test_worker_free(B);
	return 0;
}

/* Connects A to B and returns B's side of the connection. */
static struct hf_tcp_conn *
connect_pair(void)
{
	cli.c = hf_tcp_connect(A, 0, pb.addr, rte_cpu_to_be_16(80), 1000, &cli_ops, &cli);
	assert_non_null(cli.c);
	run(1000, &cli.connected);
	run(30, NULL);
	assert_true(cli.connected);
	assert_non_null(srv.c);
	/* Data, so that B acknowledges it with its whole window (a SYN-ACK offers 64 KB). */
	hf_tcp_send(A, cli.c, hf_test_mbuf("hi", 2));
	run(100, NULL);
	assert_int_equal(srv.got, 2);
	assert_true(srv.c->rcv_adv - srv.c->rcv_nxt > 65535);
	srv.got = 0;
	return srv.c;
}

/*
 * A segment "from the client" to B's connection @p c: @p flags, @p seq,
 * @p ack, raw window field @p wnd, @p len bytes of @p data (may be NULL: zeros).
 */
static struct rte_mbuf *
forge(const struct hf_tcp_conn *c, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd,
      const void *data, uint16_t len)
{
	static uint8_t l4[20 + 1500];
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)l4;
	struct rte_ipv4_hdr *ih;
	struct rte_mbuf *m;

	memset(l4, 0, 20);
	th->src_port = c->rport;
	th->dst_port = c->lport;
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = 5 << 4;
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(wnd);
	if (data != NULL)
		memcpy(l4 + 20, data, len);
	else
		memset(l4 + 20, 0, len);
	m = hf_test_ipv4(&pb.mac, IPPROTO_TCP, "198.51.100.2", "198.51.100.1", l4, 20 + len);
	ih = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	th = (struct rte_tcp_hdr *)(ih + 1);
	th->cksum = rte_ipv4_udptcp_cksum(ih, th);
	return m;
}

/* forge() with a timestamp option carrying @p ts_val. */
static struct rte_mbuf *
forge_ts(const struct hf_tcp_conn *c, uint32_t seq, uint32_t ack, uint32_t ts_val,
	 const void *data, uint16_t len)
{
	uint8_t l4[20 + 12 + 64] = {0};
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)l4;
	uint32_t optlen = hf_tcp_opts_build_data(l4 + 20, true, ts_val, 0, NULL, 0);
	struct rte_ipv4_hdr *ih;
	struct rte_mbuf *m;

	assert_true(len <= 64);
	th->src_port = c->rport;
	th->dst_port = c->lport;
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)(((20 + optlen) / 4) << 4);
	th->tcp_flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
	th->rx_win = rte_cpu_to_be_16(65535);
	memcpy(l4 + 20 + optlen, data, len);
	m = hf_test_ipv4(&pb.mac, IPPROTO_TCP, "198.51.100.2", "198.51.100.1", l4,
			 20 + optlen + len);
	ih = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	th = (struct rte_tcp_hdr *)(ih + 1);
	th->cksum = rte_ipv4_udptcp_cksum(ih, th);
	return m;
}

/* Hands @p m to B as if from the wire. */
static void
to_b(struct rte_mbuf *m)
{
	B->now = rte_rdtsc();
	hf_eth_input(B, &pb, m);
}

/* Bytes of payload B holds for @p c, and the mbufs holding them. */
static uint32_t
held_mbufs(const struct hf_tcp_conn *c)
{
	return c->rcvq_mbufs + c->ooo_mbufs;
}

static unsigned int
pool_in_use(void)
{
	return rte_mempool_in_use_count(hf_test_pool()) - hf_mbuf_stashed(A) - hf_mbuf_stashed(B);
}

/* ---- RFC 5961 5.2 and the window update rule ---- */

/*
 * B has data in flight the client has not acknowledged (its frames never
 * reach A), so there is an ACK a blind attacker could forge to advance
 * SND.UNA. Returns B's connection.
 */
static struct hf_tcp_conn *
in_flight(uint32_t bytes)
{
	static uint8_t data[8192];
	struct hf_tcp_conn *c = connect_pair();

	assert_true(bytes <= sizeof(data));
	for (uint32_t off = 0; off < bytes; off += 1000)
		hf_tcp_send(B, c, hf_test_mbuf(data + off, RTE_MIN(bytes - off, 1000u)));
	B->now = rte_rdtsc();
	hf_tcp_poll(B);
	hf_test_drain(B);
	assert_int_equal(c->snd_max - c->snd_una, bytes);
	assert_true(c->max_snd_wnd >= c->snd_wnd && c->snd_wnd > 0);
	return c;
}

/*
 * Drains what B sent; true when a TCP segment to @p c's peer among it passes
 * @p match (its IPv4 and TCP headers, its payload length), whose TCP header
 * is then copied to @p out (the first one that passed).
 */
static bool
b_sent_match(const struct hf_tcp_conn *c,
	     bool (*match)(const struct hf_tcp_conn *c, const struct rte_tcp_hdr *th, uint32_t len),
	     struct rte_tcp_hdr *out)
{
	struct rte_mbuf *m[16];
	unsigned int n = hf_test_sent(B, m, 16);
	bool found = false;

	for (unsigned int i = 0; i < n; i++) {
		struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod_offset(m[i], struct rte_ipv4_hdr *, 14);
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ih + 1);
		uint32_t len = rte_be_to_cpu_16(ih->total_length) - 20 - (th->data_off >> 4) * 4;

		if (!found && ih->next_proto_id == IPPROTO_TCP && th->dst_port == c->rport &&
		    match(c, th, len)) {
			*out = *th;
			found = true;
		}
		rte_pktmbuf_free(m[i]);
	}
	return found;
}

static bool
acks_rcv_nxt(const struct hf_tcp_conn *c, const struct rte_tcp_hdr *th, uint32_t len)
{
	(void)len;
	return (th->tcp_flags & RTE_TCP_ACK_FLAG) && rte_be_to_cpu_32(th->recv_ack) == c->rcv_nxt;
}

/* True when B sent an ACK of rcv_nxt on @p c since the last drain. */
static bool
b_sent_ack(const struct hf_tcp_conn *c)
{
	struct rte_tcp_hdr th;

	return b_sent_match(c, acks_rcv_nxt, &th);
}

/*
 * RFC 5961 5.2: an ACK below SND.UNA - MAX.SND.WND is discarded with its
 * data, answered with a challenge ACK and counted; one just inside the bound
 * is accepted (its data delivered), but moves neither SND.UNA nor the window.
 */
static void
test_ack_too_old(void **state)
{
	static const char evil[] = "INJECTED";
	struct hf_tcp_conn *c;
	uint32_t una, wnd, nxt, bound;
	uint64_t too_old, challenges;

	(void)state;
	c = in_flight(3000);
	una = c->snd_una;
	wnd = c->snd_wnd;
	nxt = c->rcv_nxt;
	bound = una - c->max_snd_wnd;
	too_old = B->cnt.v[HF_CNT_TCP_DROP_ACK_TOO_OLD];
	challenges = B->cnt.v[HF_CNT_TCP_CHALLENGE_ACKS];

	to_b(forge(c, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, nxt, bound - 1, 0, evil, 8));
	print_message("  ACK %u below SND.UNA - MAX.SND.WND (%u - %u): dropped +%" PRIu64
		      ", challenge ACKs +%" PRIu64 ", bytes delivered %zu\n",
		      bound - 1, una, c->max_snd_wnd,
		      B->cnt.v[HF_CNT_TCP_DROP_ACK_TOO_OLD] - too_old,
		      B->cnt.v[HF_CNT_TCP_CHALLENGE_ACKS] - challenges, srv.got);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_ACK_TOO_OLD], too_old + 1);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_CHALLENGE_ACKS], challenges + 1);
	assert_true(b_sent_ack(c));
	assert_int_equal(c->rcv_nxt, nxt);
	assert_int_equal(srv.got, 0);
	assert_int_equal(c->snd_una, una);
	assert_int_equal(c->snd_wnd, wnd);

	/* At the bound itself the ACK is acceptable (RFC 5961 5.2): data in, window untouched. */
	to_b(forge(c, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, nxt, bound, 0, evil, 8));
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_ACK_TOO_OLD], too_old + 1);
	assert_int_equal(c->rcv_nxt, nxt + 8);
	assert_int_equal(srv.got, 8);
	assert_int_equal(c->snd_una, una);
	assert_int_equal(c->snd_wnd, wnd);
}

/*
 * RFC 9293 3.10.7.4: the window is taken only from a segment with SND.UNA =<
 * SEG.ACK. An old ACK on a segment newer than SND.WL1 once closed the window
 * (or opened it past what the peer offers); a current ACK still moves it.
 */
static void
test_old_ack_no_window_update(void **state)
{
	struct hf_tcp_conn *c;
	uint32_t wnd;

	(void)state;
	c = in_flight(3000);
	wnd = c->snd_wnd;
	assert_true(wnd > 0);
	/* Newer SEG.SEQ than SND.WL1, an ACK 1000 below SND.UNA, window zero. */
	to_b(forge(c, RTE_TCP_ACK_FLAG, c->rcv_nxt + 100, c->snd_una - 1000, 0, NULL, 0));
	print_message("  old ACK with a newer sequence number: window %u -> %u\n", wnd, c->snd_wnd);
	assert_int_equal(c->snd_wnd, wnd);
	to_b(forge(c, RTE_TCP_ACK_FLAG, c->rcv_nxt + 200, c->snd_una - 1, 65535, NULL, 0));
	assert_int_equal(c->snd_wnd, wnd);
	assert_true(c->max_snd_wnd >= wnd);
	/* The peer's own ACK (SEG.ACK = SND.UNA) does move it. */
	to_b(forge(c, RTE_TCP_ACK_FLAG, c->rcv_nxt, c->snd_una, 100, NULL, 0));
	assert_int_equal(c->snd_wnd, 100u << c->snd_wscale);
	/* And an ACK of the data in flight moves both. */
	to_b(forge(c, RTE_TCP_ACK_FLAG, c->rcv_nxt, c->snd_una + 1000, 2000, NULL, 0));
	assert_int_equal(c->snd_wnd, 2000u << c->snd_wscale);
	assert_int_equal(c->snd_max - c->snd_una, 2000);
}

/*
 * A segment older than SND.WL1 whose ACK advances SND.UNA (a retransmission:
 * the peer's ACKs since were numbered at its SND.NXT, past a hole of ours)
 * carries the peer's current window, which is taken: the old one, kept on
 * the new SND.UNA, put the edge past what the peer offers.
 */
static void
test_window_from_retransmission(void **state)
{
	struct hf_tcp_conn *c;
	uint32_t una, nxt;

	(void)state;
	c = in_flight(3000);
	una = c->snd_una;
	nxt = c->rcv_nxt;
	/* The peer's pure ACK, numbered beyond a segment of its that we lost: a wide window. */
	to_b(forge(c, RTE_TCP_ACK_FLAG, nxt + 1000, una, 65535, NULL, 0));
	assert_int_equal(c->snd_wl1, nxt + 1000);
	assert_int_equal(c->snd_wnd, 65535u << c->snd_wscale);
	/* Its retransmission of the lost segment: an older number, a new ACK, a small window. */
	to_b(forge(c, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, nxt, una + 1000, 100, NULL, 1000));
	print_message("  retransmission acknowledging 1000 bytes: window %u, edge %u past the old"
		      " SND.UNA\n", c->snd_wnd, c->snd_una + c->snd_wnd - una);
	assert_int_equal(c->snd_una, una + 1000);
	assert_int_equal(c->snd_wnd, 100u << c->snd_wscale);
}

/*
 * An ACK numbered at the right edge of our window (the peer filled it, and we
 * hold a hole below) is acceptable, as Linux and BSD take it: the strict
 * RFC 9293 rule refused every ACK of such a peer until the hole was filled.
 */
static void
test_ack_at_right_edge(void **state)
{
	struct hf_tcp_conn *c;
	uint32_t una, edge;
	uint64_t oow;

	(void)state;
	c = in_flight(3000);
	una = c->snd_una;
	edge = c->rcv_adv;
	oow = B->cnt.v[HF_CNT_TCP_DROP_OUT_OF_WINDOW];
	/* Data just below the edge, out of order: B holds it behind a hole at rcv_nxt. */
	to_b(forge(c, RTE_TCP_ACK_FLAG, edge - 1000, una, 65535, NULL, 1000));
	assert_int_equal(c->ooo.bytes, 1000);
	hf_test_drain(B);
	to_b(forge(c, RTE_TCP_ACK_FLAG, edge, una + 1000, 65535, NULL, 0));
	print_message("  ACK numbered at the right edge (%u past RCV.NXT): SND.UNA +%u, "
		      "out-of-window drops +%" PRIu64 "\n", edge - c->rcv_nxt, c->snd_una - una,
		      B->cnt.v[HF_CNT_TCP_DROP_OUT_OF_WINDOW] - oow);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_OUT_OF_WINDOW], oow);
	assert_int_equal(c->snd_una, una + 1000);
	/* One past the edge is still out of the window. */
	to_b(forge(c, RTE_TCP_ACK_FLAG, edge + 1, una + 2000, 65535, NULL, 0));
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_OUT_OF_WINDOW], oow + 1);
	assert_int_equal(c->snd_una, una + 1000);
}

static bool
is_pure_ack(const struct hf_tcp_conn *c, const struct rte_tcp_hdr *th, uint32_t len)
{
	(void)c;
	return th->tcp_flags == RTE_TCP_ACK_FLAG && len == 0;
}

/* The number of the first ACK without data B sent on @p c since the last drain, in *@p seq. */
static bool
b_sent_pure_ack(const struct hf_tcp_conn *c, uint32_t *seq)
{
	struct rte_tcp_hdr th;

	if (!b_sent_match(c, is_pure_ack, &th))
		return false;
	*seq = rte_be_to_cpu_32(th.sent_seq);
	return true;
}

/*
 * After a retransmission timeout snd_nxt steps back to snd_una, but an ACK
 * goes out numbered snd_max (RFC 9293's SND.NXT): a peer that holds all we
 * sent (only its ACKs were lost) has its window start there, and discards a
 * segment below it whole, ACK field and all. Numbered snd_nxt, our ACKs of
 * its data were never heard while we resent old data, and when its ACKs were
 * refused too, both ends retransmitted old data for ever (test_tcp_soak).
 */
static void
test_ack_numbered_snd_max_after_timeout(void **state)
{
	struct hf_tcp_conn *c;
	uint64_t end = rte_rdtsc() + 5 * rte_get_tsc_hz();
	uint32_t seq = 0;

	(void)state;
	c = in_flight(3000);
	while (B->cnt.v[HF_CNT_TCP_RTO] == 0 && rte_rdtsc() < end) {
		B->now = rte_rdtsc();
		hf_tcp_poll(B);
		hf_test_drain(B);
	}
	assert_int_equal(B->cnt.v[HF_CNT_TCP_RTO], 1);
	/* One segment resent from snd_una: snd_nxt is behind snd_max. */
	assert_true(c->snd_nxt - c->snd_una < c->snd_max - c->snd_una);
	/* An old segment from the peer draws an ACK (RFC 9293 3.10.7.4, first check). */
	to_b(forge(c, RTE_TCP_ACK_FLAG, c->rcv_nxt - 1000, c->snd_una, 65535, NULL, 0));
	assert_true(b_sent_pure_ack(c, &seq));
	print_message("  after a timeout: snd_una %u, snd_nxt %u, snd_max %u; the ACK is numbered"
		      " %u\n", c->snd_una - c->iss, c->snd_nxt - c->iss, c->snd_max - c->iss,
		      seq - c->iss);
	assert_int_equal(seq, c->snd_max);
}

/*
 * A discarded segment changes nothing (RFC 5961 5.2): an unacceptable ACK
 * with a timestamp far in the future must not become TS.Recent, or every
 * segment of the real peer would then fail PAWS (RFC 7323 5) and the
 * connection would stall.
 */
static void
test_unacceptable_ack_keeps_ts_recent(void **state)
{
	struct hf_tcp_conn *c;
	uint32_t ts_recent;
	uint64_t paws;

	(void)state;
	c = in_flight(1000);
	assert_true(c->flags & HF_TCP_F_TS);
	ts_recent = c->ts_recent;
	paws = B->cnt.v[HF_CNT_TCP_DROP_PAWS];
	to_b(forge_ts(c, c->rcv_nxt, c->snd_una - c->max_snd_wnd - 1, ts_recent + 1000000000u,
		      "evil", 4));
	to_b(forge_ts(c, c->rcv_nxt, c->snd_max + 1000, ts_recent + 1000000000u, "evil", 4));
	assert_int_equal(c->ts_recent, ts_recent);
	/* The real client goes on (its own timestamps), and the data in flight is delivered. */
	hf_tcp_send(A, cli.c, hf_test_mbuf("after", 5));
	run(300, NULL);
	print_message("  TS.Recent %u after two forged segments stamped %u; PAWS drops +%" PRIu64
		      ", bytes delivered %zu\n", c->ts_recent, ts_recent + 1000000000u,
		      B->cnt.v[HF_CNT_TCP_DROP_PAWS] - paws, srv.got);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_PAWS], paws);
	assert_int_equal(srv.got, 5);
}

/*
 * Replies to unacceptable segments are limited to one per 500 ms a connection
 * (RFC 5961 7, Linux's tcp_invalid_ratelimit) for segments without data and
 * for challenges; a segment with data is answered every time, as its ACK may
 * be what ends the sender's retransmissions. Two ends that disagree over a
 * connection would otherwise ACK each other's ACKs for ever.
 */
static void
test_oow_replies_limited(void **state)
{
	struct hf_tcp_conn *c;
	uint64_t limited;

	(void)state;
	c = connect_pair();
	hf_test_drain(B);
	limited = B->cnt.v[HF_CNT_TCP_OOW_REPLIES_LIMITED];
	/* Pure ACKs far past the window: the first is answered, the next one not. */
	to_b(forge(c, RTE_TCP_ACK_FLAG, c->rcv_nxt + 10000000, c->snd_una, 65535, NULL, 0));
	assert_true(b_sent_ack(c));
	to_b(forge(c, RTE_TCP_ACK_FLAG, c->rcv_nxt + 10000000, c->snd_una, 65535, NULL, 0));
	assert_false(b_sent_ack(c));
	assert_int_equal(B->cnt.v[HF_CNT_TCP_OOW_REPLIES_LIMITED], limited + 1);
	/* Old data, twice: answered both times. */
	for (int i = 0; i < 2; i++) {
		to_b(forge(c, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, c->rcv_nxt - 1000, c->snd_una,
			   65535, NULL, 100));
		assert_true(b_sent_ack(c));
	}
	/* A SYN on the synchronized connection: its challenge ACK shares the limit. */
	to_b(forge(c, RTE_TCP_SYN_FLAG, c->rcv_nxt + 5, 0, 65535, NULL, 0));
	assert_false(b_sent_ack(c));
	assert_int_equal(B->cnt.v[HF_CNT_TCP_OOW_REPLIES_LIMITED], limited + 2);
	/* Past the limit's 504 ms, the next one goes. */
	rte_delay_ms(520);
	B->now = rte_rdtsc();
	hf_tcp_poll(B);
	hf_test_drain(B);
	to_b(forge(c, RTE_TCP_ACK_FLAG, c->rcv_nxt + 10000000, c->snd_una, 65535, NULL, 0));
	print_message("  replies held back within 500 ms: %" PRIu64 "\n",
		      B->cnt.v[HF_CNT_TCP_OOW_REPLIES_LIMITED] - limited);
	assert_true(b_sent_ack(c));
	assert_int_equal(B->cnt.v[HF_CNT_TCP_OOW_REPLIES_LIMITED], limited + 2);
}

/*
 * PAWS (RFC 7323 5.3) lets a timestamp one below TS.Recent pass, as Linux
 * (TCP_PAWS_WINDOW): a segment the network put behind one its sender stamped
 * a tick later. Two below is refused.
 */
static void
test_paws_window(void **state)
{
	struct hf_tcp_conn *c;
	uint32_t ts_recent, nxt;
	uint64_t paws;

	(void)state;
	c = in_flight(1000);
	assert_true(c->flags & HF_TCP_F_TS);
	ts_recent = c->ts_recent;
	nxt = c->rcv_nxt;
	paws = B->cnt.v[HF_CNT_TCP_DROP_PAWS];
	to_b(forge_ts(c, nxt, c->snd_una, ts_recent - 1, "a", 1));
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_PAWS], paws);
	assert_int_equal(c->rcv_nxt, nxt + 1);
	to_b(forge_ts(c, nxt + 1, c->snd_una, ts_recent - 2, "b", 1));
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_PAWS], paws + 1);
	assert_int_equal(c->rcv_nxt, nxt + 1);
}

/*
 * A blind attacker with in-window sequence numbers and guessed ACKs (any value
 * but the few that acknowledge data in flight): SND.UNA and the window never
 * move; every guess outside [SND.UNA - MAX.SND.WND, SND.NXT] is dropped and
 * counted, and none of its bytes reaches the application.
 */
static void
test_blind_attacker(void **state)
{
	enum { GUESSES = 4000 };
	struct hf_tcp_conn *c;
	uint32_t una, max, wnd, rcv0, seed = 12345;
	uint64_t old0, unsent0;
	unsigned int unacceptable = 0, old_ok = 0;

	(void)state;
	c = in_flight(4000);
	una = c->snd_una;
	max = c->snd_max;
	wnd = c->snd_wnd;
	rcv0 = c->rcv_nxt;
	old0 = B->cnt.v[HF_CNT_TCP_DROP_ACK_TOO_OLD];
	unsent0 = B->cnt.v[HF_CNT_TCP_DROP_ACK_UNSENT];
	for (unsigned int i = 0; i < GUESSES; i++) {
		uint32_t ack, seq;
		uint16_t wfield;

		seed = seed * 1103515245u + 12345u;
		ack = seed ^ (seed >> 7) * 2654435761u;
		/* Every tenth guess lands in the old-but-acceptable band, just behind SND.UNA. */
		if (i % 10 == 0)
			ack = una - 1 - (ack % (c->max_snd_wnd > 1 ? c->max_snd_wnd - 1 : 1));
		if (hf_seq_geq(ack, una) && hf_seq_leq(ack, max))
			continue;	/* right: the peer may move SND.UNA and SND.WND */
		seq = c->rcv_nxt + (seed >> 20) % 1000;		/* in the window */
		wfield = (uint16_t)(i % 3 == 0 ? 0 : seed >> 16);
		if (hf_seq_between(ack, una - c->max_snd_wnd, max + 1))
			old_ok++;
		else
			unacceptable++;
		to_b(forge(c, RTE_TCP_ACK_FLAG, seq, ack, wfield, "evil", i % 2 ? 4 : 0));
		assert_int_equal(c->snd_una, una);
		assert_int_equal(c->snd_wnd, wnd);
		if (i % 64 == 0) {
			hf_test_drain(B);
			assert_int_equal(tcp_rcv_check(c), 0);
		}
	}
	hf_test_drain(B);
	print_message("  %u guesses: %u outside [SND.UNA - MAX.SND.WND, SND.NXT] (dropped: "
		      "ack_too_old +%" PRIu64 ", ack_unsent +%" PRIu64 "), %u old but acceptable; "
		      "SND.UNA and SND.WND unchanged\n",
		      unacceptable + old_ok, unacceptable,
		      B->cnt.v[HF_CNT_TCP_DROP_ACK_TOO_OLD] - old0,
		      B->cnt.v[HF_CNT_TCP_DROP_ACK_UNSENT] - unsent0, old_ok);
	assert_true(unacceptable > GUESSES / 2 && old_ok > GUESSES / 20);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_ACK_TOO_OLD] - old0 +
			 B->cnt.v[HF_CNT_TCP_DROP_ACK_UNSENT] - unsent0, unacceptable);
	/* Only the old-but-acceptable guesses could place bytes (RFC 5961 leaves them that). */
	assert_true(c->rcv_nxt - rcv0 + c->ooo.bytes <= 4u * old_ok);
	assert_int_equal(c->snd_una, una);
	assert_int_equal(c->snd_wnd, wnd);
}

/* ---- mbuf budgets and collapsing ---- */

/* True when B sent a RST to the peer of @p c since the last drain (the frames are freed). */
static bool
b_sent_rst(const struct hf_tcp_conn *c)
{
	struct rte_mbuf *m[64];
	unsigned int n;
	bool found = false;

	while ((n = hf_test_sent(B, m, 64)) > 0)
		for (unsigned int i = 0; i < n; i++) {
			struct rte_ipv4_hdr *ih =
				rte_pktmbuf_mtod_offset(m[i], struct rte_ipv4_hdr *, 14);
			struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ih + 1);

			if (ih->next_proto_id == IPPROTO_TCP && th->dst_port == c->rport &&
			    (th->tcp_flags & RTE_TCP_RST_FLAG))
				found = true;
			rte_pktmbuf_free(m[i]);
		}
	return found;
}

/*
 * One-byte islands all over the window (each alone between two holes): the
 * out-of-order queue stops at its run and mbuf bounds and the refusals are
 * counted; once HF_TCP_RX_STRIKES budgets' worth were refused with the hole
 * at RCV.NXT never filled, the connection is reset (tcp.cx_reset_rx_abuse,
 * a RST to the peer, closed() with ECONNRESET) and everything it held is
 * back in the pool, while the islands still come.
 */
static void
test_ooo_islands(void **state)
{
	enum { N = 6000 };
	struct hf_tcp_conn *c;
	unsigned int idle, peak = 0, reset_at = N;
	uint64_t runs0, budget0, abuse0, refused;
	uint32_t seed = 7, base, strikes;
	bool rst = false;

	(void)state;
	c = connect_pair();
	hf_test_drain(B);
	idle = pool_in_use();
	base = c->rcv_nxt;
	strikes = HF_TCP_RX_STRIKES * tcp_rx_budget(c);
	runs0 = B->cnt.v[HF_CNT_TCP_DROP_OOO_RUNS];
	budget0 = B->cnt.v[HF_CNT_TCP_DROP_OOO_MBUF_BUDGET];
	abuse0 = B->cnt.v[HF_CNT_TCP_CX_RESET_RX_ABUSE];
	for (unsigned int i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		to_b(forge(c, RTE_TCP_ACK_FLAG, base + 2 + 2 * ((seed >> 8) % 100000),
			   c->snd_nxt, 65535, "x", 1));
		if (reset_at == N && c->state == HF_TCP_CLOSED) {
			reset_at = i;
			rst = b_sent_rst(c);
		}
		if (i % 32 == 31) {
			hf_test_drain(B);
			peak = RTE_MAX(peak, pool_in_use() - idle);
			if (reset_at == N) {
				assert_int_equal(tcp_rcv_check(c), 0);
				assert_true(c->ooo_runs <= HF_TCP_OOO_MAX_RUNS);
			}
		}
	}
	hf_test_drain(B);
	refused = B->cnt.v[HF_CNT_TCP_DROP_OOO_RUNS] - runs0 +
		  B->cnt.v[HF_CNT_TCP_DROP_OOO_MBUF_BUDGET] - budget0;
	print_message("  %u one-byte islands: pool peak +%u mbufs; refused: ooo_runs +%" PRIu64
		      ", ooo_mbuf_budget +%" PRIu64 "; reset after %u segments "
		      "(cx_reset_rx_abuse +%" PRIu64 ", RST sent: %s, closed %d)\n",
		      N, peak, B->cnt.v[HF_CNT_TCP_DROP_OOO_RUNS] - runs0,
		      B->cnt.v[HF_CNT_TCP_DROP_OOO_MBUF_BUDGET] - budget0, reset_at + 1,
		      B->cnt.v[HF_CNT_TCP_CX_RESET_RX_ABUSE] - abuse0, rst ? "yes" : "no",
		      srv.err);
	assert_true(peak <= tcp_rx_budget(c) / 2);
	assert_true(reset_at < N);
	assert_int_equal(refused, strikes);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_CX_RESET_RX_ABUSE] - abuse0, 1);
	assert_true(rst);
	assert_true(srv.closed);
	assert_int_equal(srv.err, -ECONNRESET);
	assert_int_equal(tcp_rx_check(B), 0);
	assert_int_equal(B->tcp->rx_mbufs, 0);
	assert_int_equal(pool_in_use(), idle);
}

/* Another connection from A to B; returns B's side (srv and cli now describe it). */
static struct hf_tcp_conn *
connect_another(void)
{
	memset(&srv, 0, sizeof(srv));
	memset(&cli, 0, sizeof(cli));
	return connect_pair();
}

/*
 * Feeds @p n segments of @p len bytes to @p c behind a one-byte hole at
 * RCV.NXT, from @p base + 1 + @p from * len on, checking the worker's count
 * and cap after each; returns the most the worker held.
 */
static uint32_t
feed_behind_hole(struct hf_tcp_conn *c, uint32_t base, const uint8_t *data, uint32_t from,
		 uint32_t n, uint16_t len)
{
	uint32_t most = 0;

	for (uint32_t k = from; k < from + n; k++) {
		to_b(forge(c, RTE_TCP_ACK_FLAG, base + 1 + k * len, c->snd_nxt, 65535,
			   data + 1 + k * len, len));
		most = RTE_MAX(most, B->tcp->rx_mbufs);
		assert_int_equal(tcp_rx_check(B), 0);
	}
	hf_test_drain(B);
	return most;
}

/*
 * Connections each within their own budget but together past the worker's
 * cap (set low here; by default half the worker's share of the pool): the
 * largest out-of-order queue is pruned (tcp.drop.ooo_pruned), the worker
 * never holds more than its cap, the others keep what they hold, and the
 * pruned connection is not reset: its stream arrives whole once its sender
 * fills the hole and sends again what was pruned (RFC 2018 8).
 */
static void
test_worker_cap_prunes_largest(void **state)
{
	enum { SEG = 1100, NX = 200, NY = 60, NZ = 60, LEN = 1 + NX * SEG };
	static uint8_t data[LEN];
	struct hf_tcp_conn *x, *y, *z;
	uint32_t bx, by, bz, most = 0;
	uint64_t pruned0;
	unsigned int idle;

	(void)state;
	for (uint32_t i = 0; i < LEN; i++)
		data[i] = (uint8_t)(i * 13 + (i >> 8));
	x = connect_another();
	y = connect_another();
	z = connect_another();
	hf_test_drain(A);
	hf_test_drain(B);
	idle = pool_in_use();
	B->tcp->rx_mbufs_max = 300;
	pruned0 = B->cnt.v[HF_CNT_TCP_DROP_OOO_PRUNED];
	bx = x->rcv_nxt;
	by = y->rcv_nxt;
	bz = z->rcv_nxt;
	most = RTE_MAX(most, feed_behind_hole(x, bx, data, 0, NX, SEG));
	most = RTE_MAX(most, feed_behind_hole(y, by, data, 0, NY, SEG));
	assert_int_equal(x->ooo_mbufs, NX);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_OOO_PRUNED], pruned0);
	/* z takes the worker to its cap, and one more: x, the largest, goes. */
	most = RTE_MAX(most, feed_behind_hole(z, bz, data, 0, NZ, SEG));
	print_message("  out-of-order mbufs x %u, y %u, z %u; worker held at most %u (cap %u); "
		      "ooo_pruned +%" PRIu64 "\n", x->ooo_mbufs, y->ooo_mbufs, z->ooo_mbufs, most,
		      B->tcp->rx_mbufs_max, B->cnt.v[HF_CNT_TCP_DROP_OOO_PRUNED] - pruned0);
	assert_true(most <= B->tcp->rx_mbufs_max);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_OOO_PRUNED] - pruned0, NX);
	assert_int_equal(x->ooo_mbufs, 0);
	assert_int_equal(y->ooo_mbufs, NY);
	assert_int_equal(z->ooo_mbufs, NZ);
	assert_int_equal(tcp_rcv_check(x), 0);
	assert_int_equal(tcp_rcv_check(z), 0);
	assert_true(pool_in_use() - idle <= B->tcp->rx_mbufs_max);

	/* x's sender fills the hole and sends again: the stream arrives whole, x was not reset. */
	assert_int_equal(x->state, HF_TCP_ESTABLISHED);
	x->ctx = &srv;
	memset(&srv, 0, sizeof(srv));
	srv.buf = malloc(LEN);
	srv.cap = LEN;
	to_b(forge(x, RTE_TCP_ACK_FLAG, bx, x->snd_nxt, 65535, data, 1));
	for (uint32_t k = 0; k < NX; k++)
		to_b(forge(x, RTE_TCP_ACK_FLAG, bx + 1 + k * SEG, x->snd_nxt, 65535,
			   data + 1 + k * SEG, SEG));
	hf_test_drain(B);
	assert_int_equal(srv.got, LEN);
	assert_memory_equal(srv.buf, data, LEN);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_CX_RESET_RX_ABUSE], 0);
	free(srv.buf);
	srv.buf = NULL;
	assert_int_equal(tcp_rx_check(B), 0);
}

/*
 * Feeds bytes [1, n] of @p data (byte 0 is the hole) to @p c one per segment,
 * in the order @p order gives, then byte 0; the application must get exactly
 * @p data, and the queues must never hold more mbufs than @p limit.
 */
static void
trickle(struct hf_tcp_conn *c, const uint8_t *data, const uint32_t *order, uint32_t n,
	uint32_t limit, const char *what)
{
	uint32_t base = c->rcv_nxt, peak = 0;
	uint64_t coll0 = B->cnt.v[HF_CNT_TCP_RX_COLLAPSED];

	srv.buf = malloc(n + 1);
	srv.cap = n + 1;
	srv.got = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = order[i] + 1;

		to_b(forge(c, RTE_TCP_ACK_FLAG, base + k, c->snd_nxt, 65535, data + k, 1));
		peak = RTE_MAX(peak, held_mbufs(c));
		if (i % 32 == 31) {
			hf_test_drain(B);
			assert_int_equal(tcp_rcv_check(c), 0);
		}
	}
	hf_test_drain(B);
	print_message("  %s: %u one-byte segments held in at most %u mbufs (%" PRIu64
		      " collapsed), ooo %u bytes\n",
		      what, n, peak, B->cnt.v[HF_CNT_TCP_RX_COLLAPSED] - coll0, c->ooo.bytes);
	assert_int_equal(c->ooo.bytes, n);
	assert_true(peak <= limit);
	to_b(forge(c, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, base, c->snd_nxt, 65535, data, 1));
	hf_test_drain(B);
	assert_int_equal(tcp_rcv_check(c), 0);
	assert_int_equal(srv.got, n + 1);
	assert_memory_equal(srv.buf, data, n + 1);
	assert_int_equal(held_mbufs(c), 0);
	free(srv.buf);
	srv.buf = NULL;
}

/*
 * One-byte segments behind a hole, ascending, descending and shuffled within
 * blocks: contiguous bytes are copied into few mbufs (not one each), nothing
 * is refused, and the stream arrives byte-exact once the hole is filled.
 */
static void
test_ooo_trickle_collapses(void **state)
{
	enum { N = 6000 };
	static uint8_t data[N + 1];
	static uint32_t order[N];
	struct hf_tcp_conn *c;
	uint32_t seed = 99;

	(void)state;
	c = connect_pair();
	for (uint32_t i = 0; i <= N; i++)
		data[i] = (uint8_t)(i * 131 + 7);
	for (uint32_t i = 0; i < N; i++)
		order[i] = i;
	trickle(c, data, order, N, N / 1000 + 2, "ascending");
	for (uint32_t i = 0; i <= N; i++)
		data[i] = (uint8_t)(i * 17 + 1);
	for (uint32_t i = 0; i < N; i++)
		order[i] = N - 1 - i;
	trickle(c, data, order, N, N / 400 + 2, "descending");
	/* Shuffled inside blocks of 16: islands form and join without passing the bounds. */
	for (uint32_t i = 0; i <= N; i++)
		data[i] = (uint8_t)(i * 29 + 3);
	for (uint32_t i = 0; i < N; i++)
		order[i] = i;
	for (uint32_t blk = 0; blk < N; blk += 16)
		for (uint32_t i = 15; i > 0; i--) {
			uint32_t j, t;

			seed = seed * 1103515245u + 12345u;
			j = (seed >> 16) % (i + 1);
			t = order[blk + i];
			order[blk + i] = order[blk + j];
			order[blk + j] = t;
		}
	trickle(c, data, order, N, N / 100 + 16, "shuffled by 16");
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_OOO_RUNS], 0);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_OOO_MBUF_BUDGET], 0);
}

/*
 * Random segments (1 to 1448 bytes, overlapping, duplicated, in any order)
 * against a reference stream, sent again until all is in, as a sender would:
 * the queues stay consistent and bounded at every step and the application
 * gets the stream byte-exact.
 */
static void
test_reasm_random_reference(void **state)
{
	enum { LEN = 96 * 1024 };
	static uint8_t data[LEN];
	struct hf_tcp_conn *c;
	uint32_t base, seed = 2024;
	unsigned int sent = 0;

	(void)state;
	c = connect_pair();
	base = c->rcv_nxt;
	for (uint32_t i = 0; i < LEN; i++)
		data[i] = (uint8_t)(i * 7 ^ (i >> 9));
	srv.buf = malloc(LEN);
	srv.cap = LEN;
	while (srv.got < LEN && sent < 200000) {
		uint32_t off, len, done = c->rcv_nxt - base;

		seed = seed * 1103515245u + 12345u;
		/* Mostly near the front, as a sender's window is; sometimes anywhere. */
		off = (seed >> 4) % 8 == 0 ? (seed >> 8) % LEN
					   : RTE_MAX(done, 1000u) - 1000 + (seed >> 8) % 40000;
		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % 4 == 0 ? 1 + (seed >> 8) % 8 : 1 + (seed >> 8) % 1448;
		if (off >= LEN)
			continue;
		len = RTE_MIN(len, LEN - off);
		to_b(forge(c, RTE_TCP_ACK_FLAG, base + off, c->snd_nxt, 65535, data + off,
			   (uint16_t)len));
		sent++;
		if (sent % 16 == 0) {
			hf_test_drain(B);
			assert_int_equal(tcp_rcv_check(c), 0);
		}
	}
	hf_test_drain(B);
	print_message("  %u random segments: %zu of %u bytes delivered, %" PRIu64
		      " collapsed, refused ooo_runs %" PRIu64 " ooo_mbuf_budget %" PRIu64 "\n",
		      sent, srv.got, LEN, B->cnt.v[HF_CNT_TCP_RX_COLLAPSED],
		      B->cnt.v[HF_CNT_TCP_DROP_OOO_RUNS],
		      B->cnt.v[HF_CNT_TCP_DROP_OOO_MBUF_BUDGET]);
	assert_int_equal(srv.got, LEN);
	assert_memory_equal(srv.buf, data, LEN);
	assert_int_equal(held_mbufs(c), 0);
	free(srv.buf);
	srv.buf = NULL;
}

/*
 * An application that does not read while the peer trickles in-order bytes,
 * one per segment: the receive queue holds them in a few mbufs, and they are
 * all there, in order, when it reads.
 */
static void
test_rcvq_trickle_paused(void **state)
{
	enum { N = 20000 };
	static uint8_t data[N];
	struct hf_tcp_conn *c;
	unsigned int idle, peak = 0;

	(void)state;
	c = connect_pair();
	hf_test_drain(B);
	idle = pool_in_use();
	srv.read_paused = true;
	for (uint32_t i = 0; i < N; i++) {
		data[i] = (uint8_t)(i * 3 + 11);
		to_b(forge(c, RTE_TCP_ACK_FLAG, c->rcv_nxt, c->snd_nxt, 65535, data + i, 1));
		if (i % 32 == 31) {
			hf_test_drain(B);
			peak = RTE_MAX(peak, pool_in_use() - idle);
		}
	}
	hf_test_drain(B);
	print_message("  %u in-order one-byte segments unread: %u mbufs in the receive queue "
		      "(pool peak +%u)\n", N, c->rcvq_mbufs, peak);
	assert_int_equal(c->rcvq.bytes, N);
	assert_true(c->rcvq_mbufs <= N / 1000 + 1);
	assert_true(peak <= N / 1000 + 2);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_RCVQ_MBUF_BUDGET], 0);
	srv.read_paused = false;
	srv.buf = malloc(N);
	srv.cap = N;
	app_read(B, c);
	assert_int_equal(srv.got, N);
	assert_memory_equal(srv.buf, data, N);
	assert_int_equal(c->rcvq_mbufs, 0);
	free(srv.buf);
	srv.buf = NULL;
}

/*
 * A writer that sends one byte per hf_tcp_send() to a peer that acknowledges
 * nothing (an echo whose client stopped reading): the send queue holds them
 * in a few mbufs, and the peer gets every byte in order once the wire works.
 */
static void
test_sndq_collapses(void **state)
{
	enum { N = 20000 };
	static uint8_t data[N];
	struct hf_tcp_conn *c;
	unsigned int idle, held;
	uint64_t end;

	(void)state;
	c = connect_pair();
	cli.buf = malloc(N);
	cli.cap = N;
	hf_test_drain(B);
	idle = pool_in_use();
	wire_down = true;
	for (uint32_t i = 0; i < N; i++) {
		data[i] = (uint8_t)(i * 5 + 1);
		hf_tcp_send(B, c, hf_test_mbuf(data + i, 1));
		if (i % 64 == 0)
			step();
	}
	run(5, NULL);
	held = pool_in_use() - idle;
	print_message("  %u one-byte sends unacknowledged: %u mbufs held (%" PRIu64
		      " collapsed)\n", N, held, B->cnt.v[HF_CNT_TCP_TX_COLLAPSED]);
	assert_int_equal(hf_tcp_sndq_bytes(c), N);
	assert_true(held <= N / 1000 + 16);
	wire_down = false;
	end = rte_rdtsc() + 10 * rte_get_tsc_hz();
	while (cli.got < N && rte_rdtsc() < end)
		run(10, NULL);
	assert_int_equal(cli.got, N);
	assert_memory_equal(cli.buf, data, N);
	free(cli.buf);
	cli.buf = NULL;
}

/*
 * Mbufs the stack cannot copy into (someone else holds a reference, as a
 * packet capture does): the budget is what bounds the queues then. One-byte
 * segments behind a hole stop at half the budget (tcp.drop.ooo_mbuf_budget);
 * in-order ones to a reader that does not read stop at the rest
 * (tcp.drop.rcvq_mbuf_budget), and flow again once it reads.
 */
static void
test_budget_when_shared(void **state)
{
	enum { N = 1200 };
	static struct rte_mbuf *ref[2 * N + 1];
	unsigned int n_ref = 0;
	struct hf_tcp_conn *c;
	uint32_t base, budget;
	uint64_t ooo0, rcvq0;

	(void)state;
	c = connect_pair();
	base = c->rcv_nxt;
	budget = tcp_rx_budget(c);
	ooo0 = B->cnt.v[HF_CNT_TCP_DROP_OOO_MBUF_BUDGET];
	rcvq0 = B->cnt.v[HF_CNT_TCP_DROP_RCVQ_MBUF_BUDGET];
	for (uint32_t i = 0; i < N; i++) {
		struct rte_mbuf *m = forge(c, RTE_TCP_ACK_FLAG, base + 1 + i, c->snd_nxt, 65535,
					   "o", 1);

		rte_mbuf_refcnt_update(m, 1);
		ref[n_ref++] = m;
		to_b(m);
	}
	hf_test_drain(B);
	assert_int_equal(tcp_rcv_check(c), 0);
	print_message("  %u shared one-byte segments behind a hole: %u mbufs held (budget %u), "
		      "ooo_mbuf_budget +%" PRIu64 "\n", N, c->ooo_mbufs, budget,
		      B->cnt.v[HF_CNT_TCP_DROP_OOO_MBUF_BUDGET] - ooo0);
	assert_int_equal(c->ooo_mbufs, budget / 2);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_OOO_MBUF_BUDGET] - ooo0, N - budget / 2);

	/* The hole filled, the run moves to the receive queue; then more in order. */
	srv.read_paused = true;
	for (uint32_t i = 0; i <= N; i++) {
		struct rte_mbuf *m = forge(c, RTE_TCP_ACK_FLAG, c->rcv_nxt, c->snd_nxt, 65535,
					   "i", 1);

		rte_mbuf_refcnt_update(m, 1);
		ref[n_ref++] = m;
		to_b(m);
	}
	hf_test_drain(B);
	assert_int_equal(tcp_rcv_check(c), 0);
	print_message("  %u shared in-order one-byte segments unread: %u mbufs held, "
		      "rcvq_mbuf_budget +%" PRIu64 "\n", N, c->rcvq_mbufs,
		      B->cnt.v[HF_CNT_TCP_DROP_RCVQ_MBUF_BUDGET] - rcvq0);
	assert_int_equal(c->rcvq_mbufs, budget);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_RCVQ_MBUF_BUDGET] - rcvq0, N + 1 - budget / 2);
	/* The reader reads: room again. */
	srv.read_paused = false;
	app_read(B, c);
	assert_int_equal(srv.got, budget);
	to_b(forge(c, RTE_TCP_ACK_FLAG, c->rcv_nxt, c->snd_nxt, 65535, "i", 1));
	assert_int_equal(srv.got, budget + 1);
	hf_tcp_abort(B, c);
	hf_test_drain(B);
	for (unsigned int i = 0; i < n_ref; i++)
		rte_pktmbuf_free_seg(ref[i]);
}

/* ---- SegmentSmack (CVE-2018-5390): cost of an out-of-order insertion ---- */

enum pattern { P_ASCENDING, P_RANDOM, P_FRONT_OF_LAST, P__N };
static const char *const pattern_name[P__N] = {
	"ascending one-byte islands", "random one-byte islands", "before the last of 32 runs"};

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * Times hf_eth_input() for @p n forged one-byte out-of-order segments in
 * pattern @p p; prints cycles per segment. Figures only: never fails on time.
 */
static void
smack(enum pattern p, unsigned int n)
{
	struct rte_mbuf *m[256];
	struct hf_tcp_conn *c;
	uint64_t cycles = 0, *dts = calloc(n, sizeof(*dts));
	uint32_t seed = 31337, base, last_front = 0;
	unsigned int done = 0;

	setup(NULL);
	c = connect_pair();
	hf_test_drain(B);
	base = c->rcv_nxt;
	if (p == P_FRONT_OF_LAST) {
		/* 32 islands 4 KB apart; then each segment extends the last one's front. */
		for (unsigned int j = 0; j < HF_TCP_OOO_MAX_RUNS; j++)
			to_b(forge(c, RTE_TCP_ACK_FLAG, base + 4096 * (j + 1), c->snd_nxt,
				   65535, "x", 1));
		last_front = base + 4096 * HF_TCP_OOO_MAX_RUNS;
		hf_test_drain(B);
	}
	while (done < n) {
		unsigned int k = RTE_MIN(n - done, 256u);

		for (unsigned int i = 0; i < k; i++) {
			uint32_t seq;

			seed = seed * 1103515245u + 12345u;
			switch (p) {
			case P_ASCENDING:
				seq = base + 2 + 2 * (done + i);
				break;
			case P_RANDOM:
				seq = base + 2 + 2 * ((seed >> 8) % 100000);
				break;
			default:
				seq = --last_front;
				break;
			}
			m[i] = forge(c, RTE_TCP_ACK_FLAG, seq, c->snd_nxt, 65535, "x", 1);
		}
		for (unsigned int i = 0; i < k; i++) {
			uint64_t t0 = rte_rdtsc(), dt;

			hf_eth_input(B, &pb, m[i]);
			dt = rte_rdtsc() - t0;
			cycles += dt;
			dts[done + i] = dt;
		}
		done += k;
		c->rx_strikes = 0;	/* the insertion's cost is measured, not the reset */
		B->now = rte_rdtsc();
		hf_tcp_poll(B);		/* the ACKs, with their SACK blocks */
		hf_test_drain(B);
	}
	qsort(dts, n, sizeof(*dts), cmp_u64);
	print_message("  %-28s %6u segments: %5.0f cycles each (median %" PRIu64 ", p99 %" PRIu64
		      "), %u held in %u mbufs, %u runs\n",
		      pattern_name[p], n, (double)cycles / n, dts[n / 2], dts[n * 99 / 100],
		      c->ooo.bytes, c->ooo_mbufs, c->ooo_runs);
	assert_int_equal(tcp_rcv_check(c), 0);
	assert_true(c->ooo_runs <= HF_TCP_OOO_MAX_RUNS && c->ooo_mbufs <= tcp_rx_budget(c) / 2);
	free(dts);
	teardown(NULL);
}

static void
test_segmentsmack_cost(void **state)
{
	(void)state;
	for (enum pattern p = 0; p < P__N; p++)
		smack(p, 6000);
}

/*
 * The 4-tuple table chains its TCBs by a hash keyed per worker: tuples that
 * share one bucket (found here with the worker's own key, which a peer does
 * not have) are all found, and each leaves its chain alone when it closes,
 * from the head, the middle or the tail, the others still found.
 */
static void
test_table_chains(void **state)
{
	struct hf_tcp_stack *st = B->tcp;
	const uint32_t raddr = pa.addr, laddr = pb.addr, lport = rte_cpu_to_be_16(80);
	uint16_t rports[6];
	struct hf_tcp_conn *c[6];
	uint32_t want = UINT32_MAX, n = 0;

	(void)state;
	assert_int_not_equal(A->tcp->hash_seed, B->tcp->hash_seed);
	for (uint32_t p = 1024; p < 65536 && n < 6; p++) {
		uint16_t rport = rte_cpu_to_be_16((uint16_t)p);
		uint32_t b = rte_jhash_3words(raddr, laddr, ((uint32_t)rport << 16) | lport,
					      st->hash_seed) & st->bucket_mask;

		if (want == UINT32_MAX)
			want = b;
		if (b == want)
			rports[n++] = rport;
	}
	assert_int_equal(n, 6);
	for (unsigned int i = 0; i < 6; i++) {
		c[i] = tcp_conn_alloc(B, 0, laddr, (uint16_t)lport, raddr, rports[i]);
		assert_non_null(c[i]);
	}
	for (unsigned int i = 0; i < 6; i++)
		assert_ptr_equal(tcp_conn_lookup(B, laddr, (uint16_t)lport, raddr, rports[i]), c[i]);
	/* The newest is the chain's head, the oldest its tail. */
	tcp_conn_close(B, c[5], 0);
	tcp_conn_close(B, c[2], 0);
	tcp_conn_close(B, c[0], 0);
	for (unsigned int i = 0; i < 6; i++)
		assert_ptr_equal(tcp_conn_lookup(B, laddr, (uint16_t)lport, raddr, rports[i]),
				 i == 0 || i == 2 || i == 5 ? NULL : c[i]);
	/* A TCB taken again for another tuple is found by that one only. */
	c[0] = tcp_conn_alloc(B, 0, laddr, (uint16_t)lport, raddr, rports[0]);
	assert_ptr_equal(tcp_conn_lookup(B, laddr, (uint16_t)lport, raddr, rports[0]), c[0]);
	assert_null(tcp_conn_lookup(B, laddr, (uint16_t)lport, raddr, rports[5]));
	tcp_conn_close(B, c[0], 0);
	tcp_conn_close(B, c[1], 0);
	tcp_conn_close(B, c[3], 0);
	tcp_conn_close(B, c[4], 0);
	for (unsigned int i = 0; i < 6; i++)
		assert_null(tcp_conn_lookup(B, laddr, (uint16_t)lport, raddr, rports[i]));
	assert_int_equal(st->n_active, 0);
	for (uint32_t i = 0; i <= st->bucket_mask; i++)
		assert_int_equal(st->buckets[i], 0);
}

/*
 * The worker's warming of an RX burst (hf_tcp_prefetch_burst) reads only
 * what a frame holds: short frames, other protocols and a header length past
 * the frame's end are passed over, and the frames go to the stack unchanged
 * (the connection's segment still taken, its data delivered).
 */
static void
test_prefetch_burst_odd_frames(void **state)
{
	struct hf_tcp_conn *c = connect_pair();
	uint8_t udp[8] = {0};
	struct rte_mbuf *m[6];
	struct rte_ipv4_hdr *ih;

	(void)state;
	m[0] = hf_test_mbuf("short", 5);
	m[1] = hf_test_ipv4(&pb.mac, IPPROTO_UDP, "198.51.100.2", "198.51.100.1", udp, 8);
	m[2] = hf_test_ipv4(&pb.mac, IPPROTO_TCP, "198.51.100.2", "198.51.100.1", udp, 4);
	ih = rte_pktmbuf_mtod_offset(m[2], struct rte_ipv4_hdr *, 14);
	ih->version_ihl = 0x4f;		/* 60 bytes of IPv4 header: past the frame */
	m[3] = hf_test_ipv4(&pb.mac, IPPROTO_TCP, "198.51.100.2", "198.51.100.1", udp, 4);
	ih = rte_pktmbuf_mtod_offset(m[3], struct rte_ipv4_hdr *, 14);
	ih->version_ihl = 0x43;		/* under 20 bytes */
	m[4] = forge(c, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, c->rcv_nxt, c->snd_nxt, 65535,
		     "abc", 3);
	m[5] = hf_test_mbuf("", 0);
	hf_tcp_prefetch_burst(B, m, 6);
	hf_tcp_prefetch_burst(B, m, 1);
	hf_tcp_prefetch_burst(B, m, 0);
	for (unsigned int i = 0; i < 6; i++)
		if (i == 4)
			hf_eth_input(B, &pb, m[i]);
		else
			rte_pktmbuf_free(m[i]);
	run(50, NULL);
	assert_int_equal(srv.got, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ack_too_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_ack_no_window_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_numbered_snd_max_after_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_window_from_retransmission, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_at_right_edge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unacceptable_ack_keeps_ts_recent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_oow_replies_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paws_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blind_attacker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ooo_islands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ooo_trickle_collapses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reasm_random_reference, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rcvq_trickle_paused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sndq_collapses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_when_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_cap_prunes_largest, setup, teardown),
		cmocka_unit_test(test_segmentsmack_cost),
		cmocka_unit_test_setup_teardown(test_table_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefetch_burst_odd_frames, setup, teardown),
	};

	hf_test_eal(2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
