/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_PORT_T_H
#define HF_PORT_T_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_common.h>
#include <rte_ether.h>

#include "dataplane/impair-t.h"

#define HF_MAX_PORTS 8
#define HF_PORT_NAME_MAX 32
#define HF_PORT_DEVICE_MAX 256
/* Workers the I/O gate tracks; HF_MAX_WORKERS may not exceed it (worker.c checks). */
#define HF_PORT_GATE_SLOTS 64

/* Each queue's descriptors unless the bootstrap says otherwise (ports.[i].rx_descriptors). */
#define HF_PORT_DESCRIPTORS 1024

/* How a port is to be opened (the bootstrap's ports list). */
struct hf_port_config {
	char name[HF_PORT_NAME_MAX];
	char device[HF_PORT_DEVICE_MAX];	/* vdev string ("net_tap0,iface=hf0") or PCI address */
	uint32_t addr;			/* network byte order */
	uint8_t prefix_len;
	uint32_t gateway;		/* network byte order, 0 when absent */
	uint16_t mtu;
	uint16_t rx_descriptors;	/* each RX queue's ring; the device may round it */
	uint16_t tx_descriptors;	/* each TX queue's ring */
	struct hf_impair_cfg impair;	/* off unless the port has an impair group */
};

/*
 * One configured port, as every worker sees it. Written by the main lcore
 * before the workers launch and read-only afterwards but for link_gen and
 * io_up: rte_eal_remote_launch() orders those writes before the worker starts.
 */
struct hf_port {
	uint16_t port_id;		/* DPDK ethdev id */
	uint16_t index;			/* position in the bootstrap's ports list */
	uint16_t mtu;			/* IP MTU in bytes */
	uint8_t prefix_len;
	char name[HF_PORT_NAME_MAX];
	struct rte_ether_addr mac;
	uint32_t addr;			/* our address, network byte order */
	bool tx_l4_cksum;		/* the device computes TCP checksums (TX offload on) */
	bool rx_l4_cksum;		/* the device checks TCP checksums (flags on RX mbufs) */
	uint32_t mask;			/* network byte order */
	uint32_t gateway;		/* network byte order; 0 when none */
	struct rte_mempool *pool;	/* mbufs for RX and for frames we build */
	uint16_t nb_rxd;		/* RX descriptors per queue, as set up */
	/* RSS as programmed, so active opens can pick ports that hash back to their worker */
	uint16_t reta_size;		/* 0 when the port has a single queue */
	uint16_t reta[512];		/* redirection table: hash & (size - 1) → queue */
	uint8_t rss_key[40];
	bool sw_steer;			/* the device does not steer by them: workers do (worker.c) */
	/*
	 * Bumped by the control agent each time the link comes up, the one
	 * field written after launch (release; workers read it with acquire).
	 * Worker 0 sends a gratuitous ARP when it sees a new value.
	 */
	uint32_t link_gen;
	/*
	 * A gated port's driver reallocates its rings on the EAL interrupt
	 * thread, under the workers' feet (net_memif when its peer goes or
	 * comes): workers touch it only while the I/O gate is open (port.h).
	 */
	bool gated;
	/*
	 * Gated ports: the link as the gate last saw it, written on the
	 * interrupt thread while the gate is closed, so it holds still for as
	 * long as a worker may use the port. Read by the workers and the agent
	 * (hf_port_link_up()). Unused on other ports.
	 */
	uint8_t io_up;
};

/* One worker's last pass through the gate, on a line of its own (it writes it every loop). */
struct hf_port_gate_slot {
	uint64_t seen;			/* gate epoch at the worker's last pass; 0: offline */
} __rte_cache_aligned;

/*
 * The I/O gate of the gated ports (one for all of them: their drivers share
 * the one EAL interrupt thread). The interrupt thread spends its time inside
 * the gate's own callback, where the gate is open and no driver callback can
 * run; before it leaves to run the drivers' callbacks it closes the gate and
 * waits until every online worker has passed through it once, so no RX or TX
 * burst on a gated port is in flight when a driver frees its rings. The
 * protocol is quiescent-state based, like rte_rcu_qsbr: see port.c.
 */
struct hf_port_gate {
	uint32_t open;			/* 1: gated ports may be used (interrupt thread writes) */
	bool stopping;			/* set by hf_port_close(): the callback lets go */
	uint64_t epoch;			/* bumped at each closing (interrupt thread writes) */
	struct hf_port_gate_slot slot[HF_PORT_GATE_SLOTS];	/* indexed by worker id */
} __rte_cache_aligned;

#endif
