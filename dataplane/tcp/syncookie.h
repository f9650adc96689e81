/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TCP_SYNCOOKIE_H
#define HF_TCP_SYNCOOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012) of @p len bytes at @p data under the 128-bit @p key, both read as
 * little-endian bytes as the paper defines them: the result is the same on
 * every host.
 */
uint64_t hf_siphash24(const uint8_t key[16], const void *data, size_t len);

/*
 * hf_siphash24() of the 12 bytes @p a, @p b, @p c (in that order, each as a
 * little-endian host stores it), without the loops over a length: the ISN of
 * every connection (RFC 6528) hashes a 4-tuple of that size.
 */
uint64_t hf_siphash24_3u32(const uint8_t key[16], uint32_t a, uint32_t b, uint32_t c);

/*
 * SYN cookies (RFC 4987 3.6), Linux's layout. When the SYN queue is full the
 * ISN of our SYN-ACK carries the state we do not keep:
 *
 *   bits 31..8  24 bits of SipHash-2-4, under a 128-bit secret, of the
 *               4-tuple, the peer's ISN, the full time counter and the MSS
 *               index
 *   bits  7..3  the time counter (now / 64 s), modulo 32
 *   bits  2..0  the index of the MSS in hf_tcp_syncookie_mss[]
 *
 * Hashing the peer's ISN (which the ACK returns as its sequence number minus
 * one) and the MSS index as well as the 4-tuple and counter means a forged
 * ACK must match the SYN it claims to answer, and no bit of the cookie can be
 * changed, the MSS index included, without the hash failing. Hashing the
 * full counter means a cookie 32 periods old does not pass for a fresh one.
 *
 * Addresses and ports are taken as the caller holds them (network order, as
 * on the wire); only equality matters.
 */
#define HF_SYNCOOKIE_PERIOD_MS 64000u
#define HF_SYNCOOKIE_MSS_N 8

/* The MSS values a cookie can carry, ascending. */
extern const uint16_t hf_tcp_syncookie_mss[HF_SYNCOOKIE_MSS_N];

/*
 * Makes the cookie for a SYN with sequence number @p peer_isn received at
 * @p now_ms (any millisecond clock, the same that checks it). @p mss holds
 * the MSS to offer on entry: the largest table value not above it is encoded
 * (536 below 536, as Linux does) and returned in @p mss.
 */
uint32_t hf_tcp_syncookie_make(const uint8_t secret[16], uint32_t saddr, uint32_t daddr,
			       uint16_t sport, uint16_t dport, uint32_t peer_isn, uint64_t now_ms,
			       uint16_t *mss);

/*
 * Checks @p cookie (the ACK's acknowledgment number minus one) against the
 * ACK's sequence number minus one (@p peer_isn) at @p now_ms. A cookie made
 * in the current or the previous 64 s period is accepted; older ones, and
 * any with a field or a bit changed, are refused.
 * Returns 0 and sets @p mss, or -EINVAL.
 */
int hf_tcp_syncookie_check(const uint8_t secret[16], uint32_t saddr, uint32_t daddr,
			   uint16_t sport, uint16_t dport, uint32_t peer_isn, uint32_t cookie,
			   uint64_t now_ms, uint16_t *mss);

/*
 * The options of the SYN a cookie cannot hold, carried instead in the low
 * bits of the SYN-ACK's TSval, which the peer echoes in TSecr (Linux's
 * cookie_init_timestamp() layout). Only possible when the SYN carried
 * timestamps; the bits are not authenticated, which costs nothing: they only
 * describe the peer's own options.
 *
 *   bits 3..0  the peer's window shift 0..14, or 15 for none
 *   bit 4      the peer sent SACK-permitted
 *   bit 5      reserved (ECN in Linux), always 0 here
 */
#define HF_SYNCOOKIE_TS_BITS 6
#define HF_SYNCOOKIE_TS_MASK ((1u << HF_SYNCOOKIE_TS_BITS) - 1)
#define HF_SYNCOOKIE_TS_WS_NONE 0xfu
#define HF_SYNCOOKIE_TS_SACK 0x10u
#define HF_SYNCOOKIE_TS_RESERVED 0x20u

/*
 * The TSval to send at timestamp clock @p ts_now: @p ts_now with its low 6
 * bits replaced by the options, moved back by 64 if that put it ahead of
 * @p ts_now, so the peer never sees our clock jump forward (RFC 7323 5.4,
 * PAWS). @p peer_wscale < 0 means the SYN had no window scale option; values
 * above 14 are taken as 14.
 */
uint32_t hf_tcp_syncookie_ts_encode(uint32_t ts_now, int peer_wscale, bool sack);

/*
 * Reads back what hf_tcp_syncookie_ts_encode() stored, from the TSecr of the
 * ACK: @p peer_wscale (-1: none) and @p sack. Returns 0, or -EINVAL when the
 * reserved bit is set, which no TSval of ours has.
 */
int hf_tcp_syncookie_ts_decode(uint32_t ts_ecr, int *peer_wscale, bool *sack);

#endif
