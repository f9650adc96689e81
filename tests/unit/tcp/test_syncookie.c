/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SYN cookies (RFC 4987 3.6) and the SipHash-2-4 under them: the 64
 * reference vectors, a round trip for every MSS index, the layout of the
 * 32 bits, acceptance for exactly the current and previous 64 s period,
 * refusal of any changed bit in the cookie, the 4-tuple, the peer's ISN or
 * the secret, and the window-scale/SACK bits carried in the timestamp.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/tcp/syncookie.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * SipHash-2-4 of the messages 00, 00 01, ..., 00 .. 3e under the key
 * 00 .. 0f: the reference implementation's vectors (vectors.h, the paper's
 * appendix A is entry 15), as 64-bit little-endian values.
 */
static const uint64_t sip_vectors[64] = {
	0x726fdb47dd0e0e31ull, 0x74f839c593dc67fdull, 0x0d6c8009d9a94f5aull, 0x85676696d7fb7e2dull,
	0xcf2794e0277187b7ull, 0x18765564cd99a68dull, 0xcbc9466e58fee3ceull, 0xab0200f58b01d137ull,
	0x93f5f5799a932462ull, 0x9e0082df0ba9e4b0ull, 0x7a5dbbc594ddb9f3ull, 0xf4b32f46226bada7ull,
	0x751e8fbc860ee5fbull, 0x14ea5627c0843d90ull, 0xf723ca908e7af2eeull, 0xa129ca6149be45e5ull,
	0x3f2acc7f57c29bdbull, 0x699ae9f52cbe4794ull, 0x4bc1b3f0968dd39cull, 0xbb6dc91da77961bdull,
	0xbed65cf21aa2ee98ull, 0xd0f2cbb02e3b67c7ull, 0x93536795e3a33e88ull, 0xa80c038ccd5ccec8ull,
	0xb8ad50c6f649af94ull, 0xbce192de8a85b8eaull, 0x17d835b85bbb15f3ull, 0x2f2e6163076bcfadull,
	0xde4daaaca71dc9a5ull, 0xa6a2506687956571ull, 0xad87a3535c49ef28ull, 0x32d892fad841c342ull,
	0x7127512f72f27cceull, 0xa7f32346f95978e3ull, 0x12e0b01abb051238ull, 0x15e034d40fa197aeull,
	0x314dffbe0815a3b4ull, 0x027990f029623981ull, 0xcadcd4e59ef40c4dull, 0x9abfd8766a33735cull,
	0x0e3ea96b5304a7d0ull, 0xad0c42d6fc585992ull, 0x187306c89bc215a9ull, 0xd4a60abcf3792b95ull,
	0xf935451de4f21df2ull, 0xa9538f0419755787ull, 0xdb9acddff56ca510ull, 0xd06c98cd5c0975ebull,
	0xe612a3cb9ecba951ull, 0xc766e62cfcadaf96ull, 0xee64435a9752fe72ull, 0xa192d576b245165aull,
	0x0a8787bf8ecb74b2ull, 0x81b3e73d20b49b6full, 0x7fa8220ba3b2eceaull, 0x245731c13ca42499ull,
	0xb78dbfaf3a8d83bdull, 0xea1ad565322a1a0bull, 0x60e61c23a3795013ull, 0x6606d7e446282b93ull,
	0x6ca4ecb15c5f91e1ull, 0x9f626da15c9625f3ull, 0xe51b38608ef25f57ull, 0x958a324ceb064572ull,
};

static void
test_siphash_vectors(void **state)
{
	uint8_t key[16], msg[64 + 7];

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int len = 0; len < 64; len++) {
		for (int i = 0; i < len; i++)
			msg[i] = (uint8_t)i;
		assert_int_equal(hf_siphash24(key, msg, (size_t)len), sip_vectors[len]);
		/* The same bytes at every misalignment give the same value. */
		for (int off = 1; off < 8; off++) {
			memmove(msg + off, msg + off - 1, (size_t)len);
			assert_int_equal(hf_siphash24(key, msg + off, (size_t)len),
			                 sip_vectors[len]);
		}
	}
}

/* The 12-byte form the ISN uses: the paper's vector, and the generic function on random words. */
static void
test_siphash_3u32(void **state)
{
	uint8_t key[16], msg[12];
	uint32_t w[3];

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	/* Bytes 00 01 .. 0b, each word read little-endian. */
	assert_int_equal(hf_siphash24_3u32(key, 0x03020100u, 0x07060504u, 0x0b0a0908u),
			 sip_vectors[12]);
	srand(7);
	for (int n = 0; n < 10000; n++) {
		for (int i = 0; i < 16; i++)
			key[i] = (uint8_t)rand();
		for (int i = 0; i < 3; i++)
			w[i] = (uint32_t)rand() ^ (uint32_t)rand() << 16;
		for (int i = 0; i < 12; i++)
			msg[i] = (uint8_t)(w[i / 4] >> (8 * (i % 4)));
		assert_int_equal(hf_siphash24_3u32(key, w[0], w[1], w[2]),
				 hf_siphash24(key, msg, sizeof(msg)));
	}
}

static const uint8_t secret[16] = {0x5e, 0xc1, 0x2e, 0x70, 0x01, 0x02, 0x03, 0x04,
				   0xa5, 0x5a, 0xff, 0x00, 0x10, 0x20, 0x30, 0x40};

/* 198.51.100.7:40000 -> 203.0.113.1:443 in network order, as the stack passes them. */
#define SA 0x076433c6u
#define DA 0x017100cbu
#define SP 0x409cu
#define DP 0xbb01u
#define ISN 0x89abcdefu

/* Every table entry survives a round trip; the cookie's low bits say which one and when. */
static void
test_roundtrip_every_mss(void **state)
{
	const uint64_t now = 12345ull * HF_SYNCOOKIE_PERIOD_MS + 777;

	(void)state;
	for (uint32_t i = 0; i < HF_SYNCOOKIE_MSS_N; i++) {
		uint16_t mss = hf_tcp_syncookie_mss[i], got = 0;
		uint32_t c = hf_tcp_syncookie_make(secret, SA, DA, SP, DP, ISN, now, &mss);

		assert_int_equal(mss, hf_tcp_syncookie_mss[i]);
		assert_int_equal(c & 7, i);				/* bits 2..0 */
		assert_int_equal((c >> 3) & 31, 12345 % 32);		/* bits 7..3 */
		assert_int_equal(hf_tcp_syncookie_check(secret, SA, DA, SP, DP, ISN, c, now, &got),
		                 0);
		assert_int_equal(got, hf_tcp_syncookie_mss[i]);
		if (i > 0)
			assert_true(hf_tcp_syncookie_mss[i] > hf_tcp_syncookie_mss[i - 1]);
	}
}

/* The largest table value not above what was asked (536 below 536). */
static void
test_mss_choice(void **state)
{
	static const uint16_t t[][2] = {
	        {0, 536},     {100, 536},   {535, 536},   {536, 536},   {1219, 536},
	        {1220, 1220}, {1280, 1220}, {1300, 1300}, {1359, 1300}, {1360, 1360},
	        {1440, 1440}, {1451, 1440}, {1452, 1452}, {1459, 1452}, {1460, 1460},
	        {1500, 1460}, {8959, 1460}, {8960, 8960}, {9000, 8960}, {65535, 8960},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(t); i++) {
		uint16_t mss = t[i][0], got = 0;
		uint32_t c = hf_tcp_syncookie_make(secret, SA, DA, SP, DP, ISN, 0, &mss);

		print_message("  asked %u\n", t[i][0]);
		assert_int_equal(mss, t[i][1]);
		assert_int_equal(hf_tcp_syncookie_check(secret, SA, DA, SP, DP, ISN, c, 1, &got),
		                 0);
		assert_int_equal(got, t[i][1]);
	}
}

/*
 * A cookie is good in the period it was made and the next one, whatever the
 * position within the period, and refused from two periods on, including 32
 * periods on, where the 5-bit counter reads the same again.
 */
static void
test_two_periods(void **state)
{
	const uint64_t P = HF_SYNCOOKIE_PERIOD_MS, p0 = 1000;
	static const uint64_t offsets[] = {0, 1, 31999, 63999};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(offsets); i++) {
		uint64_t made = p0 * P + offsets[i];
		uint16_t mss = 1460, got;
		uint32_t c = hf_tcp_syncookie_make(secret, SA, DA, SP, DP, ISN, made, &mss);
		uint64_t good[] = {made, p0 * P + P - 1, (p0 + 1) * P, (p0 + 2) * P - 1};
		uint64_t bad[] = {(p0 + 2) * P, (p0 + 2) * P + offsets[i], (p0 + 3) * P,
				  (p0 + 32) * P + offsets[i], (p0 + 33) * P, (p0 - 1) * P};

		for (size_t g = 0; g < N_ELEMS(good); g++)
			assert_int_equal(hf_tcp_syncookie_check(secret, SA, DA, SP, DP, ISN, c,
			                                        good[g], &got),
			                 0);
		for (size_t b = 0; b < N_ELEMS(bad); b++)
			assert_int_equal(hf_tcp_syncookie_check(secret, SA, DA, SP, DP, ISN, c,
			                                        bad[b], &got),
			                 -EINVAL);
	}
}

/* The 5-bit counter wraps from 31 to 0: the previous period is still accepted across it. */
static void
test_counter_wrap(void **state)
{
	const uint64_t P = HF_SYNCOOKIE_PERIOD_MS;
	uint16_t mss = 1460, got;
	uint32_t c = hf_tcp_syncookie_make(secret, SA, DA, SP, DP, ISN, 31 * P + 5, &mss);

	(void)state;
	assert_int_equal((c >> 3) & 31, 31);
	assert_int_equal(hf_tcp_syncookie_check(secret, SA, DA, SP, DP, ISN, c, 32 * P + 5, &got),
	                 0);
	assert_int_equal(hf_tcp_syncookie_check(secret, SA, DA, SP, DP, ISN, c, 33 * P, &got),
			 -EINVAL);
	/* A millisecond clock past 2^32 (49.7 days) works the same. */
	mss = 1460;
	c = hf_tcp_syncookie_make(secret, SA, DA, SP, DP, ISN, 5000000000000ull, &mss);
	assert_int_equal(
	        hf_tcp_syncookie_check(secret, SA, DA, SP, DP, ISN, c, 5000000000000ull + P, &got),
	        0);
	assert_int_equal(hf_tcp_syncookie_check(secret, SA, DA, SP, DP, ISN, c,
						5000000000000ull + 2 * P, &got),
			 -EINVAL);
}

/*
 * One flipped bit anywhere is refused: in the cookie (hash, counter and MSS
 * bits alike), in either address, either port, the peer's ISN, or the secret.
 * Done for a cookie of each MSS index.
 */
static void
test_flipped_bits(void **state)
{
	const uint64_t now = 777ull * HF_SYNCOOKIE_PERIOD_MS + 4242;

	(void)state;
	for (uint32_t i = 0; i < HF_SYNCOOKIE_MSS_N; i++) {
		uint16_t mss = hf_tcp_syncookie_mss[i], got;
		uint32_t c = hf_tcp_syncookie_make(secret, SA, DA, SP, DP, ISN, now, &mss);

		for (int bit = 0; bit < 32; bit++) {
			uint32_t f = 1u << bit;

			assert_int_equal(hf_tcp_syncookie_check(secret, SA, DA, SP, DP, ISN, c ^ f,
								now, &got), -EINVAL);
			assert_int_equal(hf_tcp_syncookie_check(secret, SA ^ f, DA, SP, DP, ISN, c,
								now, &got), -EINVAL);
			assert_int_equal(hf_tcp_syncookie_check(secret, SA, DA ^ f, SP, DP, ISN, c,
								now, &got), -EINVAL);
			assert_int_equal(hf_tcp_syncookie_check(secret, SA, DA, SP, DP, ISN ^ f, c,
								now, &got), -EINVAL);
			if (bit < 16) {
				assert_int_equal(hf_tcp_syncookie_check(secret, SA, DA,
				                                        (uint16_t)(SP ^ f), DP, ISN,
				                                        c, now, &got),
				                 -EINVAL);
				assert_int_equal(hf_tcp_syncookie_check(secret, SA, DA, SP,
									(uint16_t)(DP ^ f), ISN,
									c, now, &got), -EINVAL);
			}
		}
		/* Swapping the direction of the 4-tuple is a different connection. */
		assert_int_equal(hf_tcp_syncookie_check(secret, DA, SA, DP, SP, ISN, c, now, &got),
				 -EINVAL);
		for (int bit = 0; bit < 128; bit++) {
			uint8_t k[16];

			memcpy(k, secret, sizeof(k));
			k[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_int_equal(
			        hf_tcp_syncookie_check(k, SA, DA, SP, DP, ISN, c, now, &got),
			        -EINVAL);
		}
		/* And the untouched cookie is still good. */
		assert_int_equal(hf_tcp_syncookie_check(secret, SA, DA, SP, DP, ISN, c, now, &got),
		                 0);
	}
}

/* Different connections get unrelated cookies: no two of 256 neighbours collide in 24 bits. */
static void
test_cookies_spread(void **state)
{
	static uint32_t seen[256];

	(void)state;
	for (uint32_t i = 0; i < N_ELEMS(seen); i++) {
		uint16_t mss = 1460;

		seen[i] = hf_tcp_syncookie_make(secret, SA, DA, (uint16_t)(SP + i), DP, ISN, 0,
		                                &mss) >>
		          8;
		for (uint32_t j = 0; j < i; j++)
			assert_true(seen[j] != seen[i] || i == j);
	}
}

/* Window scale and SACK in the TSval's low 6 bits, never ahead of our clock. */
static void
test_timestamp_options(void **state)
{
	static const uint32_t clocks[] = {0, 5, 62, 63, 64, 65, 1000, 0x7fffffff, 0xffffffc0,
					  0xffffffff};

	(void)state;
	for (size_t c = 0; c < N_ELEMS(clocks); c++) {
		for (int ws = -1; ws <= 16; ws++) {
			for (int sack = 0; sack <= 1; sack++) {
				uint32_t ts = hf_tcp_syncookie_ts_encode(clocks[c], ws, sack);
				int ws_got;
				bool sack_got;

				/* Not in the future, less than 64 ticks in the past (mod 2^32). */
				assert_true(clocks[c] - ts < 64);
				assert_int_equal(hf_tcp_syncookie_ts_decode(ts, &ws_got, &sack_got),
				                 0);
				assert_int_equal(ws_got, ws < 0 ? -1 : ws > 14 ? 14 : ws);
				assert_int_equal(sack_got, sack);
				assert_int_equal(ts & HF_SYNCOOKIE_TS_RESERVED, 0);
			}
		}
	}
	/* Exact layout: shift 7, SACK: 0x17 in the low bits of 1000 (0x3e8 -> 0x3d7). */
	assert_int_equal(hf_tcp_syncookie_ts_encode(1000, 7, true), 0x3d7);
	assert_int_equal(hf_tcp_syncookie_ts_encode(1023, 7, true), 0x3d7);
	assert_int_equal(hf_tcp_syncookie_ts_encode(1024, -1, false), 0x3cf);
	/* An echo with the reserved (ECN) bit was not made by us. */
	{
		int ws;
		bool sack;

		assert_int_equal(hf_tcp_syncookie_ts_decode(0x20, &ws, &sack), -EINVAL);
		assert_int_equal(hf_tcp_syncookie_ts_decode(0x3f | 0x1000, &ws, &sack), -EINVAL);
		assert_int_equal(hf_tcp_syncookie_ts_decode(0x1f, &ws, &sack), 0);
		assert_int_equal(ws, -1);
		assert_true(sack);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_siphash_3u32),
		cmocka_unit_test(test_roundtrip_every_mss),
		cmocka_unit_test(test_mss_choice),
		cmocka_unit_test(test_two_periods),
		cmocka_unit_test(test_counter_wrap),
		cmocka_unit_test(test_flipped_bits),
		cmocka_unit_test(test_cookies_spread),
		cmocka_unit_test(test_timestamp_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
