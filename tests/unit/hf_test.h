/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the unit tests: an in-memory EAL, a packet pool, loopback ports
 * (net_ring: what a worker sends on one comes back out of its RX queue) and
 * workers over them, so the stack runs exactly as in the daemon, with frames
 * the tests build, inspect and carry between workers themselves.
 */
#ifndef HF_TEST_H
#define HF_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dataplane/worker.h"

struct hf_istio_node;
struct hf_model;

#define HF_TEST_MAX_PORTS 4

/* Starts the EAL once per process (no hugepages, no PCI) with @p n_ring_ports loopback ports. */
void hf_test_eal(unsigned int n_ring_ports);

struct rte_mempool *hf_test_pool(void);

/*
 * Fills @p p as port @p index on loopback device @p dev, address @p cidr
 * ("198.51.100.2/24"), gateway @p gw (NULL for none), MAC 02:00:00:00:00:<dev+1>.
 */
void hf_test_port(struct hf_port *p, uint16_t index, uint16_t dev, const char *cidr, const char *gw);

/* A worker with id @p id over @p ports. */
struct hf_worker *hf_test_worker(uint16_t id, const struct hf_port *ports, uint16_t n_ports);
void hf_test_worker_free(struct hf_worker *w);

/* Flushes @p w's TX and takes what it sent on its port 0 (up to @p max frames). */
unsigned int hf_test_sent(struct hf_worker *w, struct rte_mbuf **out, unsigned int max);

/* Frees every frame @p w sent; returns how many there were. */
unsigned int hf_test_drain(struct hf_worker *w);

/* An mbuf holding a copy of @p len bytes at @p data. */
struct rte_mbuf *hf_test_mbuf(const void *data, size_t len);

/*
 * Builds Ethernet + IPv4 (+ payload) into a new mbuf, checksums correct:
 * @p proto, @p src/@p dst in dotted form, @p l4 of @p l4len bytes.
 */
struct rte_mbuf *hf_test_ipv4(const struct rte_ether_addr *dst_mac, uint8_t proto, const char *src,
			      const char *dst, const void *l4, size_t l4len);

/*
 * An ARP frame (a 60-byte one) of opcode @p op (host order) to @p eth_dst from @p sha: sender
 * @p sip at @p sha, target @p tip, in dotted form.
 */
struct rte_mbuf *hf_test_arp(uint16_t op, const struct rte_ether_addr *eth_dst, const char *sip,
			     const char *tip, const struct rte_ether_addr *sha);

uint32_t hf_test_addr(const char *dotted);

/*
 * A loader's robustness pass over the YAML @p text: @p load (0: it loaded,
 * and released what it made; else its return code, the message in @p err) is
 * given @p text cut at every byte, then with each value after a ": " or
 * inside "[ ]" or "{ }" replaced in turn by values of the wrong shape. Every
 * refusal must be -EINVAL with a message. Returns the number refused and
 * prints both counts.
 */
unsigned int hf_test_yaml_mangle(const char *text, size_t len, int (*load)(const char *, size_t),
				 const char *err);

/*
 * Writes @p len bytes of YAML @p yaml to @p dir/@p file, then loads @p dir's
 * Istio configuration for @p node into @p m: hf_istio_load_node()'s return,
 * its message in @p err (emptied first).
 */
int hf_test_istio_text(const char *dir, const char *file, const struct hf_istio_node *node,
		       const char *yaml, size_t len, struct hf_model *m, char *err, size_t err_len);

#endif
