/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TCP_SYNCOOKIE_H
#define HF_TCP_SYNCOOKIE_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 (Aumasson and Bernstein, 2012) of @p len bytes under a 128-bit key. */
uint64_t hf_siphash24(const uint8_t key[16], const void *data, size_t len);

/*
 * SYN cookies (RFC 4987 3.6). The ISN of our SYN-ACK encodes the state we do
 * not keep: bits 31..8 a keyed hash of the 4-tuple, the peer's ISN, the
 * time counter and the MSS index; bits 7..3 the time counter (64 s steps);
 * bits 2..0 the index of the MSS in a fixed table. Addresses and ports are in
 * network order, as on the wire.
 */
#define HF_SYNCOOKIE_PERIOD_MS 64000u

/*
 * Makes the cookie for a SYN with sequence @p peer_isn at time @p now_ms.
 * @p mss holds the MSS to offer on entry and the table value encoded on return.
 */
uint32_t hf_tcp_syncookie_make(const uint8_t secret[16], uint32_t saddr, uint32_t daddr,
			       uint16_t sport, uint16_t dport, uint32_t peer_isn, uint32_t now_ms,
			       uint16_t *mss);

/*
 * Checks @p cookie (the ACK's acknowledgment number minus one) against the
 * ACK's sequence number minus one (@p peer_isn). Accepts the current and the
 * previous period only. Returns 0 and the MSS, or -EINVAL.
 */
int hf_tcp_syncookie_check(const uint8_t secret[16], uint32_t saddr, uint32_t daddr,
			   uint16_t sport, uint16_t dport, uint32_t peer_isn, uint32_t cookie,
			   uint32_t now_ms, uint16_t *mss);

#endif
