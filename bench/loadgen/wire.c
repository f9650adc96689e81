/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hf-wire: the bench's bare forwarder (issue 16). Two DPDK ports, every frame
 * received on one sent unchanged on the other, by one busy-polling lcore: a
 * piece of wire with a poll loop in it. memif_bench.sh puts it where
 * hydrofoil's worker runs (core 1, a memif server on two sockets) between the
 * loadgen's clients and its server role, so that the latency baseline crosses
 * the same two cores and the same four memif rings a proxied request crosses,
 * with none of Hydrofoil's work: hydrofoil's figure against this one is what
 * Hydrofoil adds, not what the layout of two processes on two cores adds.
 *
 * Its loop stalls (two loop starts more than 50 us apart: a preemption, an
 * interrupt, the hypervisor) are published on a stall board as hydrofoil's
 * worker publishes its own (hf_stall_board_publish()), so the loadgen's "p99
 * without the requests that waited through a stall" leaves out the same kind
 * of interval on both paths.
 *
 * usage: hf-wire [--stall-board FILE] [--json] -- EAL options (two ports: --vdev ...)
 * Runs until SIGTERM or SIGINT, then prints frames forwarded each way, frames
 * the other port's TX queue refused (freed, counted), and its loop stalls.
 * Its EAL file prefix is hf-wire-<pid>, whose files it removes as it ends.
 * Exit status 0 after a run, 1 when start-up failed, 2 for a bad command line.
 */
#include <getopt.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dataplane/eal_files.h"
#include "dataplane/worker.h"

#define BURST 32
#define RING 1024
#define POOL_MBUFS 8191
/* A loop gap longer than this is a stall, as hydrofoil's worker counts them. */
#define STALL_US 50
/* Times a TX queue may refuse the rest of a burst before the rest is freed. */
#define TX_TRIES 4
/* EAL arguments: the caller's, and the file prefix. */
#define MAX_EAL_ARGS 64

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct dir {
	uint16_t from, to;
	uint64_t frames, refused;
};

/* One RX burst of @p d's port, sent on the other; returns the frames taken. */
static uint16_t
forward(struct dir *d)
{
	struct rte_mbuf *pkts[BURST];
	uint16_t n = rte_eth_rx_burst(d->from, 0, pkts, BURST), sent = 0;

	for (int i = 0; i < TX_TRIES && sent < n; i++)
		sent += rte_eth_tx_burst(d->to, 0, pkts + sent, n - sent);
	if (sent < n) {
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
		d->refused += n - sent;
	}
	d->frames += n;
	return n;
}

static int
port_up(uint16_t port, struct rte_mempool *pool)
{
	struct rte_eth_conf conf;
	uint16_t rxd = RING, txd = RING;

	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
	    rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd) != 0 ||
	    rte_eth_rx_queue_setup(port, 0, rxd, rte_eth_dev_socket_id(port), NULL, pool) != 0 ||
	    rte_eth_tx_queue_setup(port, 0, txd, rte_eth_dev_socket_id(port), NULL) != 0 ||
	    rte_eth_dev_start(port) != 0)
		return -1;
	rte_eth_promiscuous_enable(port);
	return 0;
}

/* Ends the EAL and removes its files (@p prefix_arg: "--file-prefix=..."); returns @p status. */
static int
end(const char *prefix_arg, int status)
{
	rte_eal_cleanup();
	hf_eal_files_remove(prefix_arg + strlen("--file-prefix="));
	return status;
}

static void
usage(void)
{
	fprintf(stderr, "usage: hf-wire [--stall-board FILE] [--json] -- EAL options "
			"(two ports: --vdev ...)\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"stall-board", required_argument, NULL, 'b'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *board_path = NULL;
	struct hf_stall_board *board = NULL;
	struct rte_mempool *pool;
	struct dir d[2] = {{.from = 0, .to = 1}, {.from = 1, .to = 0}};
	uint64_t stall_tsc, last, stalls = 0, longest = 0;
	bool json = false;
	int c, eal_at = argc, eal_argc = 0;
	char prefix[64], *eal_argv[MAX_EAL_ARGS + 2];

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			eal_at = i;
			break;
		}
	while ((c = getopt_long(eal_at, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b': board_path = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (optind != eal_at) {
		usage();
		return 2;
	}
	if (argc - eal_at > MAX_EAL_ARGS) {
		fprintf(stderr, "hf-wire: more than %d EAL arguments\n", MAX_EAL_ARGS);
		return 2;
	}
	eal_argv[eal_argc++] = argv[0];
	for (int i = eal_at + 1; i < argc; i++)
		eal_argv[eal_argc++] = argv[i];
	snprintf(prefix, sizeof(prefix), "--file-prefix=hf-wire-%ld", (long)getpid());
	eal_argv[eal_argc++] = prefix;
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "hf-wire: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (rte_eth_dev_count_avail() != 2) {
		fprintf(stderr, "hf-wire: needs exactly two ports, has %u\n", rte_eth_dev_count_avail());
		return end(prefix, 1);
	}
	pool = rte_pktmbuf_pool_create("wire", POOL_MBUFS, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	if (pool == NULL || port_up(0, pool) != 0 || port_up(1, pool) != 0) {
		fprintf(stderr, "hf-wire: cannot start the ports: %s\n", rte_strerror(rte_errno));
		return end(prefix, 1);
	}
	if (board_path != NULL && (board = hf_stall_board_map(board_path, true)) == NULL) {
		fprintf(stderr, "hf-wire: --stall-board %s: %s\n", board_path, strerror(errno));
		return end(prefix, 1);
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("hf-wire: forwarding between ports 0 and 1 on lcore %u\n", rte_lcore_id());
	fflush(stdout);
	stall_tsc = rte_get_tsc_hz() / 1000000 * STALL_US;
	last = rte_rdtsc();
	while (!stop) {
		uint64_t now = rte_rdtsc();

		if (now - last > stall_tsc) {
			stalls++;
			longest = RTE_MAX(longest, now - last);
			if (board != NULL)
				hf_stall_board_publish(board, &board->slot[0], last, now);
		}
		last = now;
		forward(&d[0]);
		forward(&d[1]);
	}
	if (json)
		printf("{\"frames_0_to_1\":%" PRIu64 ",\"frames_1_to_0\":%" PRIu64
		       ",\"refused\":%" PRIu64 ",\"stalls\":%" PRIu64 ",\"longest_gap_us\":%.1f}\n",
		       d[0].frames, d[1].frames, d[0].refused + d[1].refused, stalls,
		       (double)longest * 1e6 / (double)rte_get_tsc_hz());
	else
		printf("hf-wire: %" PRIu64 " frames 0->1, %" PRIu64 " frames 1->0, %" PRIu64
		       " refused by a TX queue, %" PRIu64 " loop stalls over %d us (longest %.1f us)\n",
		       d[0].frames, d[1].frames, d[0].refused + d[1].refused, stalls, STALL_US,
		       (double)longest * 1e6 / (double)rte_get_tsc_hz());
	for (uint16_t p = 0; p < 2; p++)
		rte_eth_dev_stop(p);
	return end(prefix, 0);
}
