/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_ADDR_H
#define HF_ADDR_H

#include <stdint.h>

/*
 * Parses "a.b.c.d/len" (@p prefix_len non-NULL; len 1..32) or "a.b.c.d"
 * (@p prefix_len NULL) into @p addr, network order. Returns 0 or -EINVAL.
 */
int hf_addr_parse_ipv4(const char *s, uint32_t *addr, uint8_t *prefix_len);

/* Parses "a.b.c.d:port" (port 1..65535) into network order. Returns 0 or -EINVAL. */
int hf_addr_parse_endpoint(const char *s, uint32_t *addr, uint16_t *port);

#endif
