/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hf_tcp_unlisten(): a listener the configuration dropped. New SYNs to its
 * port are refused (RST, tcp.drop.no_listener) while the connections it
 * accepted carry on; handshakes under way on it are reset; another
 * listener's handshakes survive the slot move; the port can be listened on
 * again. Two whole stacks on loopback ports, as test_tcp_stack.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "hf_test.h"
#include "dataplane/net/eth.h"
#include "dataplane/tcp/tcp.h"
#include "tcp/tcp_app.h"

static struct hf_port pa, pb;
static struct hf_worker *A, *B;	/* A: 198.51.100.2 (client), B: 198.51.100.1 (server) */
static struct tcp_app srv[8], cli[8];
static unsigned int n_srv;
static void *accepted_ctx[8];	/* the listener context each accepted() was given */

static int
srv_accepted(struct hf_worker *w, struct hf_tcp_conn *c, void *lctx)
{
	struct tcp_app *a = &srv[n_srv % 8];

	(void)w;
	accepted_ctx[n_srv % 8] = lctx;
	n_srv++;
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

/* Carries every frame @p from sent to @p to, as they are. */
static void
carry(struct hf_worker *from, struct hf_worker *to)
{
	struct rte_mbuf *m[64];
	unsigned int n = hf_test_sent(from, m, 64);

	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(rte_pktmbuf_linearize(m[i]), 0);
		hf_eth_input(to, &to->ports[0], m[i]);
	}
}

/* Runs both workers and the wire for up to @p ms, or until *@p done. */
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
	w->id = 0;
	return rc;
}

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
	cfg.max_connections = 64;
	cfg.time_wait_ms = 500;
	assert_int_equal(tcp_up(A, (uint16_t)(40 + 2 * generation), &cfg), 0);
	assert_int_equal(tcp_up(B, (uint16_t)(41 + 2 * generation), &cfg), 0);
	generation++;
	memset(srv, 0, sizeof(srv));
	memset(cli, 0, sizeof(cli));
	memset(accepted_ctx, 0, sizeof(accepted_ctx));
	n_srv = 0;
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

static struct hf_tcp_conn *
open_to(uint16_t port, struct tcp_app *a)
{
	a->c = hf_tcp_connect(A, 0, pb.addr, rte_cpu_to_be_16(port), 1000, &cli_ops, a);
	return a->c;
}

/*
 * After the port is closed a new connect is refused, while the connection
 * accepted before goes on both ways and ends cleanly; the same port then
 * listens again and accepts.
 */
static void
test_unlisten_keeps_established(void **state)
{
	static const uint8_t up[] = "request sent after the listener closed";
	static const uint8_t down[] = "answer";
	uint8_t sbuf[64], cbuf[64];

	(void)state;
	assert_true(hf_tcp_listen(B, 80, &srv_ops, NULL) >= 0);
	assert_non_null(open_to(80, &cli[0]));
	run(1000, &cli[0].connected);
	assert_true(cli[0].connected);
	run(20, NULL);
	assert_int_equal(n_srv, 1);

	assert_int_equal(hf_tcp_unlisten(B, 80), 0);
	assert_int_equal(B->tcp->n_listeners, 0);
	assert_int_equal(hf_tcp_unlisten(B, 80), -ENOENT);

	/* A new SYN: RST, counted as for any closed port; the client hears ECONNREFUSED. */
	assert_non_null(open_to(80, &cli[1]));
	run(1000, &cli[1].closed);
	assert_true(cli[1].closed);
	assert_int_equal(cli[1].err, -ECONNREFUSED);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_NO_LISTENER], 1);
	assert_int_equal(n_srv, 1);

	/* The established one still carries bytes both ways. */
	srv[0].buf = sbuf;
	srv[0].cap = sizeof(sbuf);
	cli[0].buf = cbuf;
	cli[0].cap = sizeof(cbuf);
	hf_tcp_send(A, cli[0].c, hf_test_mbuf(up, sizeof(up)));
	run(300, NULL);
	assert_int_equal(srv[0].got, sizeof(up));
	assert_memory_equal(sbuf, up, sizeof(up));
	hf_tcp_send(B, srv[0].c, hf_test_mbuf(down, sizeof(down)));
	run(300, NULL);
	assert_int_equal(cli[0].got, sizeof(down));
	assert_memory_equal(cbuf, down, sizeof(down));
	assert_false(cli[0].closed);
	assert_false(srv[0].closed);
	hf_tcp_shutdown(A, cli[0].c);
	run(300, &srv[0].eof);
	assert_true(srv[0].eof);
	hf_tcp_shutdown(B, srv[0].c);
	run(300, &srv[0].closed);
	assert_true(srv[0].closed);
	assert_int_equal(srv[0].err, 0);

	/* Listening again: accepted as before. */
	assert_true(hf_tcp_listen(B, 80, &srv_ops, NULL) >= 0);
	assert_non_null(open_to(80, &cli[2]));
	run(1000, &cli[2].connected);
	assert_true(cli[2].connected);
	run(20, NULL);
	assert_int_equal(n_srv, 2);
	assert_int_equal(B->cnt.v[HF_CNT_TCP_DROP_NO_LISTENER], 1);
}

/*
 * A handshake under way on the closed listener is reset; one on the listener
 * whose slot moves into the freed one completes and is accepted with its own
 * listener's context, and the backlog counts end at zero.
 */
static void
test_unlisten_handshakes(void **state)
{
	static int ctx81, ctx82, ctx83;

	(void)state;
	assert_true(hf_tcp_listen(B, 81, &srv_ops, &ctx81) >= 0);
	assert_true(hf_tcp_listen(B, 82, &srv_ops, &ctx82) >= 0);
	assert_true(hf_tcp_listen(B, 83, &srv_ops, &ctx83) >= 0);
	/* A refused connect first, so that both sides know each other's MAC (ARP). */
	assert_non_null(open_to(99, &cli[7]));
	run(1000, &cli[7].closed);
	assert_true(cli[7].closed);
	assert_non_null(open_to(81, &cli[0]));
	assert_non_null(open_to(83, &cli[1]));
	/* The SYNs reach B, whose SYN-ACKs stay on the wire for now: both in SYN-RECEIVED. */
	A->now = B->now = rte_rdtsc();
	hf_tcp_poll(A);
	carry(A, B);
	assert_int_equal(B->tcp->listeners[0].synrcvd, 1);
	assert_int_equal(B->tcp->listeners[2].synrcvd, 1);

	assert_int_equal(hf_tcp_unlisten(B, 81), 0);
	assert_int_equal(B->tcp->n_listeners, 2);
	/* 83 took 81's slot, with its handshake. */
	assert_int_equal(B->tcp->listeners[0].lport, rte_cpu_to_be_16(83));
	assert_int_equal(B->tcp->listeners[0].synrcvd, 1);
	assert_int_equal(B->tcp->listeners[1].lport, rte_cpu_to_be_16(82));

	run(1000, &cli[1].connected);
	run(100, &cli[0].closed);
	assert_true(cli[1].connected);
	assert_true(cli[0].closed);
	assert_int_not_equal(cli[0].err, 0);
	run(20, NULL);
	assert_int_equal(n_srv, 1);
	assert_ptr_equal(accepted_ctx[0], &ctx83);
	assert_int_equal(B->tcp->listeners[0].synrcvd, 0);
	assert_int_equal(B->tcp->listeners[1].synrcvd, 0);
	/* Only the accepted connection holds a TCB on B. */
	assert_int_equal(B->tcp->n_active, 1);
}

/* Slots come back: a port opened and closed many times never runs out of listeners. */
static void
test_unlisten_slots_reused(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < 4 * HF_TCP_MAX_LISTENERS; i++) {
		assert_true(hf_tcp_listen(B, (uint16_t)(1000 + i), &srv_ops, NULL) >= 0);
		assert_int_equal(hf_tcp_listen(B, (uint16_t)(1000 + i), &srv_ops, NULL), -EADDRINUSE);
		assert_int_equal(hf_tcp_unlisten(B, (uint16_t)(1000 + i)), 0);
	}
	assert_int_equal(B->tcp->n_listeners, 0);
	assert_int_equal(hf_tcp_unlisten(B, 1000), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unlisten_keeps_established, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlisten_handshakes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlisten_slots_reused, setup, teardown),
	};

	hf_test_eal(2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
