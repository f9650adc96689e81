/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "dataplane/tcp/syncookie.h"

/*
 * Common path MSS values, ascending: 536 (RFC 9293 default), 1220 (IPv6
 * minimum MTU path), 1300 and 1360 (tunnels, VPNs), 1440 (Linux's table),
 * 1452 (PPPoE), 1460 (Ethernet), 8960 (9000-byte jumbo frames).
 */
const uint16_t hf_tcp_syncookie_mss[HF_SYNCOOKIE_MSS_N] = {536,	 1220, 1300, 1360,
							    1440, 1452, 1460, 8960};

static inline uint64_t
rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

/* One load, not eight: a byte loop cost the ISN of every connection ~100 instructions. */
static inline uint64_t
load64_le(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* SipHash's state, v0..v3 of the paper. */
struct sip {
	uint64_t v0, v1, v2, v3;
};

/* One SipRound (paper, section 2). */
static inline void
sip_round(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl(s->v2, 32);
}

/* Initialization: "somepseudorandomlygeneratedbytes" xor the key. */
static inline void
sip_init(struct sip *s, const uint8_t key[16])
{
	uint64_t k0 = load64_le(key), k1 = load64_le(key + 8);

	s->v0 = 0x736f6d6570736575ull ^ k0;
	s->v1 = 0x646f72616e646f6dull ^ k1;
	s->v2 = 0x6c7967656e657261ull ^ k0;
	s->v3 = 0x7465646279746573ull ^ k1;
}

/* Compression of one 8-byte word: c = 2 rounds. */
static inline void
sip_word(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

/* Finalization: d = 4 rounds. */
static inline uint64_t
sip_final(struct sip *s)
{
	s->v2 ^= 0xff;
	sip_round(s);
	sip_round(s);
	sip_round(s);
	sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

uint64_t
hf_siphash24(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t b = (uint64_t)len << 56;
	struct sip s;
	size_t i;

	sip_init(&s, key);
	for (i = 0; i + 8 <= len; i += 8)
		sip_word(&s, load64_le(in + i));
	/* The last word: the remaining bytes, and the length mod 256 in the top byte. */
	for (size_t k = 0; k < (len & 7); k++)
		b |= (uint64_t)in[i + k] << (8 * k);
	sip_word(&s, b);
	return sip_final(&s);
}

uint64_t
hf_siphash24_3u32(const uint8_t key[16], uint32_t a, uint32_t b, uint32_t c)
{
	struct sip s;

	sip_init(&s, key);
	/* The 12 bytes as hf_siphash24() reads them: one word, then c under the length byte. */
	sip_word(&s, (uint64_t)a | (uint64_t)b << 32);
	sip_word(&s, (uint64_t)12 << 56 | c);
	return sip_final(&s);
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
		      uint16_t dport, uint32_t peer_isn, uint64_t now_ms, uint16_t *mss)
{
	uint32_t count = (uint32_t)(now_ms / HF_SYNCOOKIE_PERIOD_MS), idx = 0;

	/* The largest table value not above what was asked. */
	for (uint32_t i = 0; i < HF_SYNCOOKIE_MSS_N; i++)
		if (hf_tcp_syncookie_mss[i] <= *mss)
			idx = i;
	*mss = hf_tcp_syncookie_mss[idx];
	return cookie_hash(secret, saddr, daddr, sport, dport, peer_isn, count, idx) << 8 |
	       (count & 31) << 3 | idx;
}

int
hf_tcp_syncookie_check(const uint8_t secret[16], uint32_t saddr, uint32_t daddr, uint16_t sport,
		       uint16_t dport, uint32_t peer_isn, uint32_t cookie, uint64_t now_ms,
		       uint16_t *mss)
{
	uint32_t now = (uint32_t)(now_ms / HF_SYNCOOKIE_PERIOD_MS);
	uint32_t age = (now - ((cookie >> 3) & 31)) & 31, idx = cookie & 7;

	/* The current period or the one before: a cookie lives between 64 and 128 s. */
	if (age > 1)
		return -EINVAL;
	if (cookie_hash(secret, saddr, daddr, sport, dport, peer_isn, now - age, idx) !=
	    cookie >> 8)
		return -EINVAL;
	*mss = hf_tcp_syncookie_mss[idx];
	return 0;
}

uint32_t
hf_tcp_syncookie_ts_encode(uint32_t ts_now, int peer_wscale, bool sack)
{
	uint32_t opts, ts;

	if (peer_wscale < 0)
		opts = HF_SYNCOOKIE_TS_WS_NONE;
	else
		opts = peer_wscale > 14 ? 14u : (uint32_t)peer_wscale;
	if (sack)
		opts |= HF_SYNCOOKIE_TS_SACK;
	ts = (ts_now & ~HF_SYNCOOKIE_TS_MASK) | opts;
	if ((int32_t)(ts - ts_now) > 0)
		ts -= HF_SYNCOOKIE_TS_MASK + 1;
	return ts;
}

int
hf_tcp_syncookie_ts_decode(uint32_t ts_ecr, int *peer_wscale, bool *sack)
{
	uint32_t opts = ts_ecr & HF_SYNCOOKIE_TS_MASK, ws = opts & HF_SYNCOOKIE_TS_WS_NONE;

	if (opts & HF_SYNCOOKIE_TS_RESERVED)
		return -EINVAL;
	*peer_wscale = ws == HF_SYNCOOKIE_TS_WS_NONE ? -1 : (int)ws;
	*sack = (opts & HF_SYNCOOKIE_TS_SACK) != 0;
	return 0;
}
