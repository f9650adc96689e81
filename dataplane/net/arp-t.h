/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_ARP_T_H
#define HF_ARP_T_H

#include <stdint.h>
#include <rte_ether.h>

struct rte_mbuf;

/* Size of a worker's cache; a power of two so the bucket is a mask, not a modulo. */
#define HF_ARP_ENTRIES 1024
/* Slots probed from the home bucket before an entry is evicted. */
#define HF_ARP_PROBE 8
/* Packets an unresolved entry may hold while it waits (RFC 1122 2.3.2.2 asks for at least one). */
#define HF_ARP_PENDING 4
/* Packets all unresolved entries of a worker may hold together. */
#define HF_ARP_PENDING_TOTAL 256

enum hf_arp_state {
	HF_ARP_FREE = 0,
	HF_ARP_INCOMPLETE,	/* request sent, no answer yet */
	HF_ARP_REACHABLE,	/* confirmed within reachable_ms */
	HF_ARP_STALE,		/* usable; the next use sends a refresh request */
};

struct hf_arp_entry {
	uint32_t ip;			/* network byte order; key together with port */
	uint16_t port;			/* hf_port.index */
	uint8_t state;			/* enum hf_arp_state */
	uint8_t retries;		/* requests sent since the last confirmation */
	uint8_t n_pending;
	struct rte_ether_addr mac;
	uint64_t confirmed;		/* TSC of the last confirmation */
	uint64_t next_request;		/* TSC at which to (re)send a request; 0 for none */
	struct rte_mbuf *pending[HF_ARP_PENDING];
};

/* Learned mapping passed between workers so every cache sees every reply. */
struct hf_arp_update {
	uint32_t ip;
	uint16_t port;
	struct rte_ether_addr mac;
	uint8_t create;			/* 1: from a frame for us, may create; 0: merge only */
};

struct hf_arp_table {
	uint64_t reachable_tsc;		/* REACHABLE → STALE after this long */
	uint64_t retry_tsc;		/* interval between requests for one entry */
	uint64_t gc_tsc;		/* a STALE entry unused this long is freed */
	unsigned int n_pending;		/* packets held over all entries */
	struct hf_arp_entry e[HF_ARP_ENTRIES];
};

#endif
