/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A scripted TCP peer for microbenchmarks: it writes the segments a remote
 * host would send into frames, and reads back what the stack answered, with
 * no device in between. Everything the worker sends stays in its TX buffer
 * and is freed by bench_drain(), so the figures cover the stack alone.
 */
#ifndef HF_BENCH_PEER_H
#define HF_BENCH_PEER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
struct hf_worker;
struct hf_port;
struct rte_mbuf;
struct rte_mempool;

struct bench_env {
	struct hf_worker *w;
	struct hf_port *port;
	struct rte_mempool *pool;
};

/* EAL without hugepages, a pool, one fake port and a worker with a TCP stack. */
int bench_env_init(struct bench_env *e, uint32_t max_connections);

/*
 * A segment from 198.51.100.1:@p sport to our 198.51.100.2:@p dport with the
 * given fields and @p len payload bytes, checksums correct.
 */
struct rte_mbuf *bench_segment(struct bench_env *e, uint16_t sport, uint16_t dport, uint32_t seq,
			       uint32_t ack, uint8_t flags, uint16_t len);

/* Frees what the worker queued for TX; returns how many frames. If @p last_seq, the last one's seq. */
unsigned int bench_drain(struct bench_env *e, uint32_t *last_seq);
#ifdef __cplusplus
}
#endif

#endif

#ifdef __cplusplus
extern "C" {
#endif
/* Each returns the TSC cycles spent inside the stack for one unit of work. */

/* Sets up an established connection on port 80 whose reader drains what arrives. */
int bench_tcp_data_setup(struct bench_env *e);
/*
 * One in-order 1448-byte data segment in, ACK decision and any ACK out; with
 * @p offload the checksums are left to the (pretend) device, as on a real NIC.
 */
uint64_t bench_tcp_data_segment(struct bench_env *e, int offload);
/* A whole passive connection: SYN, ACK, FIN from the peer, our FIN, last ACK → CLOSED. */
uint64_t bench_tcp_conn_life(struct bench_env *e);
int bench_tcp_tw_setup(struct bench_env *e);
uint64_t bench_tcp_conn_tw_reopen(struct bench_env *e);
uint64_t bench_tcp_conn_tw_burst(struct bench_env *e, unsigned int k, int warm);
unsigned int bench_tcp_time_wait(struct bench_env *e);
/* One ICMP echo request of @p payload bytes turned into its reply. */
uint64_t bench_icmp_echo(struct bench_env *e, uint16_t payload);
/* Bytes of state per idle established connection. */
size_t bench_tcp_footprint(void);
uint64_t bench_tsc_hz(void);
#ifdef __cplusplus
}
#endif
