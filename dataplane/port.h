/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_PORT_H
#define HF_PORT_H

#include <stdbool.h>
#include <stddef.h>

#include "control-agent/bootstrap.h"
#include "dataplane/port-t.h"

/*
 * Appends to @p argv the EAL option that makes the device of @p bp exist:
 * "--vdev=<device>" for a virtual device (a name starting "net_"),
 * "-a <device>" for a PCI address. Returns the number of strings added (1 or 2).
 */
int hf_port_eal_args(const struct hf_boot_port *bp, char **argv);

/*
 * Opens, configures and starts the DPDK port for @p bp with @p n_queues RX
 * and TX queue pairs (one per worker; RSS with a symmetric key spreads flows
 * when there are several). Fills @p p. Returns 0, or a negative errno with a
 * message in @p err.
 */
int hf_port_open(struct hf_port *p, const struct hf_boot_port *bp, uint16_t index,
		 uint16_t n_queues, char *err, size_t errlen);

/** Stops and closes the port and frees its mempool. */
void hf_port_close(struct hf_port *p);

/** Reads the link state without waiting. */
bool hf_port_link_up(const struct hf_port *p);

#endif
