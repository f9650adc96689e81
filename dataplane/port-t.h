/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_PORT_T_H
#define HF_PORT_T_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_ether.h>

#define HF_MAX_PORTS 8
#define HF_PORT_NAME_MAX 32

/*
 * One configured port, as every worker sees it. Written by the main lcore
 * before the workers launch and read-only afterwards but for link_gen:
 * rte_eal_remote_launch() orders those writes before the worker starts.
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
	/* RSS as programmed, so active opens can pick ports that hash back to their worker */
	uint16_t reta_size;		/* 0 when the port has a single queue */
	uint16_t reta[512];		/* redirection table: hash & (size - 1) → queue */
	uint8_t rss_key[40];
	/*
	 * Bumped by the control agent each time the link comes up, the one
	 * field written after launch (release; workers read it with acquire).
	 * Worker 0 sends a gratuitous ARP when it sees a new value.
	 */
	uint32_t link_gen;
};

#endif
