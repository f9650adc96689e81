/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "dataplane/tcp/syncookie.h"

/* MSS values a cookie can carry, ascending (Linux's IPv4 table plus jumbo). */
static const uint16_t mss_table[8] = {536, 1200, 1300, 1360, 1400, 1440, 1460, 8960};

static inline uint64_t
rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t
load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;	/* little-endian hosts only, as the reference; we build for x86-64 */
}

#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);                          \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                             \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                             \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);                          \
	} while (0)

uint64_t
hf_siphash24(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t k0 = load64(key), k1 = load64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i, tail = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t k = 0; k < tail; k++)
		b |= (uint64_t)in[i + k] << (8 * k);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static uint32_t
cookie_hash(const uint8_t secret[16], uint32_t saddr, uint32_t daddr, uint16_t sport,
	    uint16_t dport, uint32_t peer_isn, uint32_t count, uint32_t mss_idx)
{
	uint32_t in[6] = {saddr, daddr, (uint32_t)sport << 16 | dport, peer_isn, count, mss_idx};

	return (uint32_t)hf_siphash24(secret, in, sizeof(in)) & 0xffffff;
}

uint32_t
hf_tcp_syncookie_make(const uint8_t secret[16], uint32_t saddr, uint32_t daddr, uint16_t sport,
		      uint16_t dport, uint32_t peer_isn, uint32_t now_ms, uint16_t *mss)
{
	uint32_t count = now_ms / HF_SYNCOOKIE_PERIOD_MS, idx = 0;

	/* The largest table value not above what was asked. */
	for (uint32_t i = 0; i < 8; i++)
		if (mss_table[i] <= *mss)
			idx = i;
	*mss = mss_table[idx];
	return cookie_hash(secret, saddr, daddr, sport, dport, peer_isn, count, idx) << 8 |
	       (count & 31) << 3 | idx;
}

int
hf_tcp_syncookie_check(const uint8_t secret[16], uint32_t saddr, uint32_t daddr, uint16_t sport,
		       uint16_t dport, uint32_t peer_isn, uint32_t cookie, uint32_t now_ms,
		       uint16_t *mss)
{
	uint32_t now = now_ms / HF_SYNCOOKIE_PERIOD_MS;
	uint32_t age = (now - ((cookie >> 3) & 31)) & 31, idx = cookie & 7;

	if (age > 1)
		return -EINVAL;
	if (cookie_hash(secret, saddr, daddr, sport, dport, peer_isn, now - age, idx) != cookie >> 8)
		return -EINVAL;
	*mss = mss_table[idx];
	return 0;
}
