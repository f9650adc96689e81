/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_tcp_impaired in virtual time: a client stack streams into an echo
 * on a server stack whose port impairs both directions (dataplane/impair.c:
 * loss, reordering, duplication, delay), while reading the echo back. The
 * clock is the test's: a loop pass is a fixed step of simulated time, so
 * minutes of a lossy transfer take seconds, and a run repeats exactly.
 *
 * A run stalls when for 300 s of its time neither the echo received nor the
 * client got anything back; it then prints both TCBs. The suite runs 4 seeds
 * of 4 MB; HF_SOAK_SEEDS and HF_SOAK_MB ask for more (100 seeds of 20 MB
 * take about 15 s on a quiet core).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "hf_test.h"
#include "dataplane/impair.h"
#include "dataplane/net/arp.h"
#include "dataplane/net/eth.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"

static struct hf_port pa, pb;
static struct hf_worker *A, *B;	/* A: the client (Linux in test_tcp_impaired), B: the echo */
static uint64_t vnow, hz;

static struct {
	struct hf_tcp_conn *c;
	uint64_t sent, got, total;
	bool connected, closed;
	int err;
} cli;

static struct hf_tcp_conn *echo_c;

/* l4.c's echo: what the send queue can take of what was read, back on the same connection. */
static void
echo_pump(struct hf_worker *w, struct hf_tcp_conn *c)
{
	const struct hf_tcp_stack *st = w->tcp;

	while (hf_tcp_writable(st, c)) {
		struct rte_mbuf *m = hf_tcp_recv(w, c, st->cfg.snd_high - hf_tcp_sndq_bytes(c));

		if (m == NULL)
			break;
		if (hf_tcp_send(w, c, m) < 0)
			break;
	}
	if (hf_tcp_peer_closed(c))
		hf_tcp_shutdown(w, c);
}

static int
echo_accepted(struct hf_worker *w, struct hf_tcp_conn *c, void *lctx)
{
	(void)w;
	(void)lctx;
	echo_c = c;
	return 0;
}

static void
echo_closed(struct hf_worker *w, struct hf_tcp_conn *c, int err)
{
	(void)w;
	(void)c;
	(void)err;
	echo_c = NULL;
}

static const struct hf_tcp_ops echo_ops = {
	.accepted = echo_accepted,
	.readable = echo_pump,
	.writable = echo_pump,
	.closed = echo_closed,
};

static void
cli_read(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct rte_mbuf *m;

	while ((m = hf_tcp_recv(w, c, UINT32_MAX)) != NULL) {
		cli.got += rte_pktmbuf_pkt_len(m);
		rte_pktmbuf_free(m);
	}
}

static void
cli_connected(struct hf_worker *w, struct hf_tcp_conn *c)
{
	(void)w;
	(void)c;
	cli.connected = true;
}

static void
cli_closed(struct hf_worker *w, struct hf_tcp_conn *c, int err)
{
	(void)w;
	(void)c;
	cli.closed = true;
	cli.err = err;
	cli.c = NULL;
}

static const struct hf_tcp_ops cli_ops = {
	.connected = cli_connected,
	.readable = cli_read,
	.closed = cli_closed,
};

/* Frames on the plain part of the wire (the client's side): a short fixed delay. */
#define WIRE_Q 16384
static struct {
	struct rte_mbuf *m[WIRE_Q];
	uint64_t due[WIRE_Q];
	unsigned int head, n;
} to_a, to_b;

static void
wire_put(typeof(to_a) *q, struct rte_mbuf *m, uint64_t due)
{
	assert_true(q->n < WIRE_Q);
	assert_int_equal(rte_pktmbuf_linearize(m), 0);
	q->m[(q->head + q->n) % WIRE_Q] = m;
	q->due[(q->head + q->n) % WIRE_Q] = due;
	q->n++;
}

/* One pass of both workers at the virtual time. */
static void
step(uint64_t link_tsc)
{
	struct rte_mbuf *m[64];
	unsigned int n;
	struct hf_impair *rx = B->impair[0][HF_IMPAIR_RX];

	A->now = B->now = vnow;
	hf_arp_tick(A);
	hf_arp_tick(B);
	hf_tcp_poll(A);
	hf_tcp_poll(B);
	/* A's frames onto the wire; B's leave through its TX impairment (hf_tx_flush). */
	n = hf_test_sent(A, m, 64);
	for (unsigned int i = 0; i < n; i++)
		wire_put(&to_b, m[i], vnow + link_tsc);
	n = hf_test_sent(B, m, 64);
	for (unsigned int i = 0; i < n; i++)
		wire_put(&to_a, m[i], vnow + link_tsc);
	while (to_a.n > 0 && to_a.due[to_a.head] <= vnow) {
		hf_eth_input(A, &A->ports[0], to_a.m[to_a.head]);
		to_a.head = (to_a.head + 1) % WIRE_Q;
		to_a.n--;
	}
	/* B's RX impairment as its rx_burst() applies it. */
	n = 0;
	while (to_b.n > 0 && to_b.due[to_b.head] <= vnow && n < 32) {
		m[n++] = to_b.m[to_b.head];
		to_b.head = (to_b.head + 1) % WIRE_Q;
		to_b.n--;
	}
	n = hf_impair_apply(rx, &B->cnt, m, (uint16_t)n, 64, vnow);
	for (unsigned int i = 0; i < n; i++)
		hf_eth_input(B, &B->ports[0], m[i]);
}

static void
dump(const char *who, const struct hf_tcp_conn *c, const struct hf_worker *w)
{
	if (c == NULL) {
		print_message("%s: no connection\n", who);
		return;
	}
	print_message("%s: state %u flags %#x una %u nxt %u max %u sndq %u snd_wnd %u cwnd %u "
		      "rcv_nxt %u rcv_adv %u rcvq %u ooo %u rtx(due %" PRIu64 " exp %" PRIu64
		      " linked %d) wheel.now %" PRIu64 " backoff %u recover %u sack.n %u\n",
		      who, c->state, c->flags, c->snd_una - c->iss, c->snd_nxt - c->iss,
		      c->snd_max - c->iss, c->sndq_bytes, c->snd_wnd, c->cc.cwnd,
		      c->rcv_nxt - c->irs, c->rcv_adv - c->irs, c->rcvq.bytes, c->ooo.bytes,
		      c->rtx_timer.due, c->rtx_timer.expire, c->rtx_timer.link.next != NULL,
		      w->tcp->wheel.now, c->rto_backoff, c->recover - c->iss, c->sack.n);
}

static bool
soak(uint64_t total, uint64_t seed, double loss, double reorder, double dup, uint32_t delay_us)
{
	struct hf_impair_cfg ic = {.loss = loss, .reorder = reorder, .duplicate = dup,
				   .delay_us = delay_us, .seed = seed};
	struct hf_tcp_config cfg;
	uint64_t step_tsc, link_tsc, last_change, last_got = 0, last_echo = 0, end;
	static uint8_t chunk[1400];

	hf_test_port(&pa, 0, 0, "198.51.100.2/24", NULL);
	hf_test_port(&pb, 0, 1, "198.51.100.1/24", NULL);
	A = hf_test_worker(0, &pa, 1);
	B = hf_test_worker(1, &pb, 1);
	hz = rte_get_tsc_hz();
	step_tsc = hz / 20000;		/* 50 us a pass */
	link_tsc = hz / 10000;		/* 100 us each way */
	hf_tcp_config_default(&cfg);
	cfg.max_connections = 16;
	A->id = 40 + (uint16_t)(2 * seed);
	assert_int_equal(hf_tcp_init(A, &cfg), 0);
	A->id = 0;
	B->id = 41 + (uint16_t)(2 * seed);
	assert_int_equal(hf_tcp_init(B, &cfg), 0);
	B->id = 0;
	assert_int_equal(hf_worker_impair(B, 0, &ic), 0);
	assert_true(hf_tcp_listen(B, 7, &echo_ops, NULL) >= 0);
	memset(&cli, 0, sizeof(cli));
	echo_c = NULL;
	cli.total = total;
	vnow = rte_rdtsc();
	cli.c = hf_tcp_connect(A, 0, pb.addr, rte_cpu_to_be_16(7), 60000, &cli_ops, NULL);
	assert_non_null(cli.c);
	end = vnow + 3600 * hz;
	last_change = vnow;
	while (vnow < end && (cli.got < total)) {
		vnow += step_tsc;
		if (cli.connected && cli.c != NULL) {
			while (cli.sent < total && hf_tcp_writable(A->tcp, cli.c)) {
				uint32_t n = (uint32_t)RTE_MIN(total - cli.sent, sizeof(chunk));

				hf_tcp_send(A, cli.c, hf_test_mbuf(chunk, n));
				cli.sent += n;
			}
		}
		step(link_tsc);
		if (cli.closed)
			break;
		if (cli.got != last_got || (echo_c != NULL && echo_c->rcv_nxt != last_echo)) {
			last_got = cli.got;
			last_echo = echo_c != NULL ? echo_c->rcv_nxt : 0;
			last_change = vnow;
		} else if (vnow - last_change > 300 * hz) {
			break;
		}
	}
	print_message("seed %" PRIu64 ": sent %" PRIu64 " got %" PRIu64 " in %.1f s (virtual);"
		      " B retransmits %" PRIu64 " rto %" PRIu64 " tlp %" PRIu64 " fast %" PRIu64
		      " zwp %" PRIu64 " no_mbuf %" PRIu64 "\n",
		      seed, cli.sent, cli.got, (double)(vnow - (end - 3600 * hz)) / (double)hz,
		      B->cnt.v[HF_CNT_TCP_RETRANSMITS], B->cnt.v[HF_CNT_TCP_RTO],
		      B->cnt.v[HF_CNT_TCP_TLP], B->cnt.v[HF_CNT_TCP_FAST_RETRANSMITS],
		      B->cnt.v[HF_CNT_TCP_ZWP], B->cnt.v[HF_CNT_TCP_DROP_NO_MBUF]);
	print_message("  out-of-window drops: A %" PRIu64 " B %" PRIu64 "; PAWS A %" PRIu64
		      " B %" PRIu64 "\n", A->cnt.v[HF_CNT_TCP_DROP_OUT_OF_WINDOW],
		      B->cnt.v[HF_CNT_TCP_DROP_OUT_OF_WINDOW], A->cnt.v[HF_CNT_TCP_DROP_PAWS],
		      B->cnt.v[HF_CNT_TCP_DROP_PAWS]);
	if (cli.got != total) {
		dump("client", cli.c, A);
		dump("echo  ", echo_c, B);
	}
	while (to_a.n > 0) {
		rte_pktmbuf_free(to_a.m[to_a.head]);
		to_a.head = (to_a.head + 1) % WIRE_Q;
		to_a.n--;
	}
	while (to_b.n > 0) {
		rte_pktmbuf_free(to_b.m[to_b.head]);
		to_b.head = (to_b.head + 1) % WIRE_Q;
		to_b.n--;
	}
	hf_test_worker_free(A);
	hf_test_worker_free(B);
	return cli.got == total;
}

static void
test_echo_impaired(void **state)
{
	const char *s = getenv("HF_SOAK_SEEDS");
	const char *mb = getenv("HF_SOAK_MB");
	unsigned int seeds = s != NULL ? (unsigned int)atoi(s) : 4, failed = 0;
	uint64_t total = (uint64_t)(mb != NULL ? atof(mb) : 4.0) * 1000000;

	(void)state;
	for (unsigned int i = 1; i <= seeds; i++)
		failed += !soak(total, i, 0.03, 0.01, 0.01, 5000);
	print_message("%u of %u runs stalled\n", failed, seeds);
	assert_int_equal(failed, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_impaired),
	};

	hf_test_eal(2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
