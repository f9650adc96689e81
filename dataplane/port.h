/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_PORT_H
#define HF_PORT_H

#include <stdbool.h>
#include <stddef.h>

#include "dataplane/port-t.h"

/*
 * Appends to @p argv the EAL option that makes the device of @p bp exist:
 * "--vdev=<device>" for a virtual device (a name starting "net_"),
 * "-a <device>" for a PCI address. Returns the number of strings added (1 or 2).
 */
int hf_port_eal_args(const struct hf_port_config *bp, char **argv);

/*
 * Opens, configures and starts the DPDK port for @p bp with @p n_queues RX
 * and TX queue pairs (one per worker; RSS with a symmetric key spreads flows
 * when there are several). Fills @p p. Returns 0, or a negative errno with a
 * message in @p err.
 */
int hf_port_open(struct hf_port *p, const struct hf_port_config *bp, uint16_t index,
		 uint16_t n_queues, char *err, size_t errlen);

/*
 * Stops and closes the port and frees its mempool. Closing a gated port
 * stops the I/O gate first; every worker must be offline by then
 * (hf_port_gate_offline()), as they must stop polling any port being closed.
 */
void hf_port_close(struct hf_port *p);

/*
 * Reads the link state without waiting. For a gated port, the state the I/O
 * gate published: up only once the workers may use the port.
 */
bool hf_port_link_up(const struct hf_port *p);

/*
 * The I/O gate (struct hf_port_gate in port-t.h). A worker with gated ports
 * calls hf_port_gate_online() once before its first pass, hf_port_gate_pass()
 * at the top of every loop, and hf_port_gate_offline() after its last use of
 * a gated port. Between two passes it may use the gated ports if the earlier
 * pass returned true (and the port's io_up is set); otherwise it must not
 * call any burst function on them.
 */
extern struct hf_port_gate hf_port_gate;

/* Registers worker @p id (< HF_PORT_GATE_SLOTS) with the gate; it must pass next. */
void hf_port_gate_online(uint16_t id);

/* Worker @p id is done with gated ports: the gate stops waiting for it. */
void hf_port_gate_offline(uint16_t id);

/*
 * Worker @p id's quiescent point: it holds no reference into any gated
 * port's rings from here back to its previous pass. Returns whether the gate
 * is open, i.e. whether gated ports may be used until the next pass.
 */
static inline bool
hf_port_gate_pass(uint16_t id)
{
	struct hf_port_gate *g = &hf_port_gate;
	/* Pairs with the seq_cst increment that closes the gate (gate_cycle() in port.c). */
	uint64_t epoch = __atomic_load_n(&g->epoch, __ATOMIC_ACQUIRE);

	/*
	 * Pairs with the closer's acquire load of the slot: every burst this
	 * worker made since its last pass is over before the closer returns to
	 * the interrupt thread, and with it to the drivers' teardowns.
	 */
	__atomic_store_n(&g->slot[id].seen, epoch, __ATOMIC_RELEASE);
	/*
	 * Pairs with the release store that opens the gate: the io_up values
	 * published before it are the ones this worker reads until its next pass.
	 * A closing this worker has acknowledged above is seen here as closed
	 * (its store precedes the epoch just read).
	 */
	return __atomic_load_n(&g->open, __ATOMIC_ACQUIRE) != 0;
}

#endif
