/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP options (RFC 9293 3.1, RFC 7323, RFC 2018): what real stacks send parses
 * to the right fields, every malformed length of every known kind is refused,
 * every prefix of a valid list is either refused or parses to what it holds,
 * and what the builders write is byte-exact and parses back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "dataplane/tcp/options.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Linux's SYN: MSS 1460, SACK-permitted + TS packed, NOP, WS 7 (20 bytes). */
static const uint8_t linux_syn[] = {
	2, 4, 0x05, 0xb4,
	4, 2, 8, 10, 0x00, 0x01, 0xe2, 0x40, 0x00, 0x00, 0x00, 0x00,
	1, 3, 3, 7,
};

static void
test_parse_linux_syn(void **state)
{
	struct hf_tcp_opts o;

	(void)state;
	assert_int_equal(hf_tcp_opts_parse(linux_syn, sizeof(linux_syn), &o), 0);
	assert_true(o.mss_present);
	assert_int_equal(o.mss, 1460);
	assert_true(o.sack_permitted);
	assert_true(o.ts_present);
	assert_int_equal(o.ts_val, 123456);
	assert_int_equal(o.ts_ecr, 0);
	assert_true(o.ws_present);
	assert_int_equal(o.ws_shift, 7);
	assert_int_equal(o.sack_blocks, 0);
}

/* A data segment from a SACK receiver: NOP NOP TS, NOP NOP SACK with 3 blocks across the wrap. */
static void
test_parse_sack_blocks(void **state)
{
	static const uint8_t p[] = {
		1, 1, 8, 10, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x07,
		1, 1, 5, 26,
		0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0xff, 0xf0,
		0xff, 0xff, 0xff, 0xf8, 0x00, 0x00, 0x00, 0x10,
		0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20, 0x00,
	};
	static const uint32_t want[] = {0xffffff00, 0xfffffff0, 0xfffffff8, 0x10, 0x1000, 0x2000};
	struct hf_tcp_opts o;

	(void)state;
	assert_int_equal(sizeof(p), 40);
	assert_int_equal(hf_tcp_opts_parse(p, sizeof(p), &o), 0);
	assert_true(o.ts_present);
	assert_int_equal(o.ts_val, 0xdeadbeef);
	assert_int_equal(o.ts_ecr, 7);
	assert_int_equal(o.sack_blocks, 3);
	assert_memory_equal(o.sack, want, sizeof(want));
	assert_false(o.mss_present || o.ws_present || o.sack_permitted);
}

/* Each SACK option size 1..4 blocks, alone: all accepted, n read back. */
static void
test_parse_sack_every_count(void **state)
{
	uint8_t p[40];
	struct hf_tcp_opts o;

	(void)state;
	for (unsigned int n = 1; n <= 4; n++) {
		p[0] = HF_TCP_OPT_SACK;
		p[1] = (uint8_t)(2 + 8 * n);
		for (unsigned int i = 0; i < 8 * n; i++)
			p[2 + i] = (uint8_t)i;
		assert_int_equal(hf_tcp_opts_parse(p, 2 + 8 * n, &o), 0);
		assert_int_equal(o.sack_blocks, n);
		assert_int_equal(o.sack[0], 0x00010203);
		assert_int_equal(o.sack[2 * n - 1], ((8 * n - 4) << 24) | ((8 * n - 3) << 16) |
							    ((8 * n - 2) << 8) | (8 * n - 1));
	}
}

/* RFC 7323 2.3: any shift above 14 is used as 14. */
static void
test_parse_ws_clamp(void **state)
{
	uint8_t p[3] = {HF_TCP_OPT_WS, 3, 0};
	struct hf_tcp_opts o;

	(void)state;
	for (unsigned int v = 0; v < 256; v++) {
		p[2] = (uint8_t)v;
		assert_int_equal(hf_tcp_opts_parse(p, sizeof(p), &o), 0);
		assert_true(o.ws_present);
		assert_int_equal(o.ws_shift, v > 14 ? 14 : v);
	}
}

/* Unknown kinds (MPTCP 30, TFO 34, experimental 253/254, TCP-AO 29) are skipped by their length. */
static void
test_parse_unknown_skipped(void **state)
{
	static const uint8_t p[] = {
		30, 12, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
		2, 4, 0x23, 0x28,
		34, 2,
		254, 4, 0xf9, 0x89,
		253, 3, 0,
		29, 4, 1, 2,
		1, 3, 3, 14,
	};
	struct hf_tcp_opts o;

	(void)state;
	assert_int_equal(hf_tcp_opts_parse(p, sizeof(p), &o), 0);
	assert_true(o.mss_present);
	assert_int_equal(o.mss, 9000);
	assert_true(o.ws_present);
	assert_int_equal(o.ws_shift, 14);
	assert_false(o.ts_present || o.sack_permitted);
}

static void
test_parse_eol_nop_empty(void **state)
{
	static const uint8_t eol_then_garbage[] = {2, 4, 1, 0, 0, 2, 1, 0xff, 0x7f};
	static const uint8_t nops[] = {1, 1, 1, 1, 1, 1, 1, 1};
	static const uint8_t lone_eol[] = {0};
	struct hf_tcp_opts o;

	(void)state;
	assert_int_equal(hf_tcp_opts_parse(NULL, 0, &o), 0);
	assert_false(o.mss_present || o.ws_present || o.sack_permitted || o.ts_present);
	assert_int_equal(hf_tcp_opts_parse(nops, sizeof(nops), &o), 0);
	assert_int_equal(hf_tcp_opts_parse(lone_eol, sizeof(lone_eol), &o), 0);
	/* EOL ends the list: the malformed bytes after it are never read. */
	assert_int_equal(hf_tcp_opts_parse(eol_then_garbage, sizeof(eol_then_garbage), &o), 0);
	assert_true(o.mss_present);
	assert_int_equal(o.mss, 256);
}

/* A second instance of an option overrides the first; the struct is cleared between calls. */
static void
test_parse_duplicates_and_reset(void **state)
{
	static const uint8_t twice[] = {2, 4, 0x05, 0xb4, 2, 4, 0x02, 0x18};
	static const uint8_t ts_only[] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
	struct hf_tcp_opts o;

	(void)state;
	assert_int_equal(hf_tcp_opts_parse(twice, sizeof(twice), &o), 0);
	assert_int_equal(o.mss, 536);
	assert_int_equal(hf_tcp_opts_parse(ts_only, sizeof(ts_only), &o), 0);
	assert_false(o.mss_present);
	assert_int_equal(o.mss, 0);
	assert_true(o.ts_present);
}

/*
 * Every length byte 0..40 for every known kind, alone and after a valid NOP
 * NOP MSS prefix: accepted exactly when it is the kind's legal length.
 */
static void
test_parse_every_length_of_every_kind(void **state)
{
	static const uint8_t kinds[] = {HF_TCP_OPT_MSS, HF_TCP_OPT_WS, HF_TCP_OPT_SACK_PERM,
					HF_TCP_OPT_SACK, HF_TCP_OPT_TS, 99};
	struct hf_tcp_opts o;

	(void)state;
	for (size_t k = 0; k < N_ELEMS(kinds); k++) {
		for (unsigned int l = 0; l <= 40; l++) {
			for (unsigned int pre = 0; pre <= 6; pre += 6) {
				uint8_t p[48] = {1, 1, 2, 4, 5, 0xb4};
				uint32_t len = pre + (l < 2 ? 2 : l);
				bool ok;

				p[pre] = kinds[k];
				p[pre + 1] = (uint8_t)l;
				switch (kinds[k]) {
				case HF_TCP_OPT_MSS: ok = l == 4; break;
				case HF_TCP_OPT_WS: ok = l == 3; break;
				case HF_TCP_OPT_SACK_PERM: ok = l == 2; break;
				case HF_TCP_OPT_SACK:
					ok = l >= 10 && l <= 34 && (l - 2) % 8 == 0;
					break;
				case HF_TCP_OPT_TS: ok = l == 10; break;
				default: ok = l >= 2; break;
				}
				assert_int_equal(hf_tcp_opts_parse(p, len, &o), ok ? 0 : -EINVAL);
				/* One byte short of its own length: always refused. */
				if (l >= 2)
					assert_int_equal(hf_tcp_opts_parse(p, len - 1, &o),
					                 -EINVAL);
			}
		}
	}
}

/* The malformed cases one by one, with names, as a reviewer reads them. */
static void
test_parse_malformed_table(void **state)
{
	static const struct {
		uint8_t bytes[44];
		uint32_t len;
		const char *what;
	} bad[] = {
		{{2}, 1, "MSS kind without a length byte"},
		{{1, 1, 1, 8}, 4, "TS kind without a length byte after NOPs"},
		{{99}, 1, "unknown kind without a length byte"},
		{{2, 0, 1, 1}, 4, "length 0 (would loop forever)"},
		{{2, 1, 1, 1}, 4, "length 1"},
		{{99, 0}, 2, "unknown kind of length 0"},
		{{99, 1, 1, 1}, 4, "unknown kind of length 1"},
		{{2, 4, 5}, 3, "MSS running past the header"},
		{{8, 10, 0, 0, 0, 0, 0, 0, 0}, 9, "timestamps running past the header"},
		{{99, 12, 0, 0}, 4, "unknown option running past the header"},
		{{2, 3, 5, 0}, 4, "MSS of length 3"},
		{{2, 5, 5, 0, 0}, 5, "MSS of length 5"},
		{{3, 2, 1, 1}, 4, "window scale of length 2"},
		{{3, 4, 7, 0}, 4, "window scale of length 4"},
		{{4, 3, 0, 0}, 4, "SACK-permitted of length 3"},
		{{4, 4, 0, 0}, 4, "SACK-permitted of length 4"},
		{{5, 2, 0, 0}, 4, "SACK with no block"},
		{{5, 6, 0, 0, 0, 0}, 6, "SACK of length 6"},
		{{5, 9, 0, 0, 0, 0, 0, 0, 0}, 9, "SACK of length 9"},
		{{5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 11, "SACK of length 11"},
		{{5, 42}, 42, "SACK of five blocks"},
		{{8, 8, 0, 0, 0, 0, 0, 0}, 8, "timestamps of length 8"},
		{{8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 12, "timestamps of length 12"},
		{{2, 4, 5, 0xb4, 3, 3, 7, 4, 3, 0}, 10, "valid options, then a bad one"},
	};
	struct hf_tcp_opts o;

	(void)state;
	for (size_t k = 0; k < N_ELEMS(bad); k++) {
		print_message("  %s\n", bad[k].what);
		assert_int_equal(hf_tcp_opts_parse(bad[k].bytes, bad[k].len, &o), -EINVAL);
	}
}

/*
 * Every prefix of valid lists: cut at an option boundary it parses to the
 * options before the cut; cut inside an option it is refused.
 */
static void
test_parse_every_prefix(void **state)
{
	/* MSS | NOP NOP SACKP | NOP NOP TS | NOP WS: boundaries 4, 5, 6, 8, 9, 10, 20, 21, 24. */
	uint8_t p[24];
	uint32_t n;
	struct hf_tcp_opts o;

	(void)state;
	n = hf_tcp_opts_build_syn(p, 1460, 9, true, true, 0x01020304, 0x05060708);
	assert_int_equal(n, 24);
	for (uint32_t len = 0; len <= n; len++) {
		static const uint32_t bounds[] = {0, 4, 5, 6, 8, 9, 10, 20, 21, 24};
		bool boundary = false;
		int rc = hf_tcp_opts_parse(p, len, &o);

		for (size_t b = 0; b < N_ELEMS(bounds); b++)
			boundary |= bounds[b] == len;
		print_message("  prefix %u\n", len);
		assert_int_equal(rc, boundary ? 0 : -EINVAL);
		if (rc != 0)
			continue;
		assert_int_equal(o.mss_present, len >= 4);
		assert_int_equal(o.sack_permitted, len >= 8);
		assert_int_equal(o.ts_present, len >= 20);
		assert_int_equal(o.ws_present, len >= 24);
	}
}

/* Every combination the SYN builder takes: exact length, alignment, round trip. */
static void
test_build_syn_combinations(void **state)
{
	static const int shifts[] = {-1, 0, 1, 7, 14, 15, 200};

	(void)state;
	for (int sack = 0; sack <= 1; sack++) {
		for (int ts = 0; ts <= 1; ts++) {
			for (size_t s = 0; s < N_ELEMS(shifts); s++) {
				uint8_t buf[HF_TCP_OPTS_SYN_MAX_LEN + 8];
				struct hf_tcp_opts o;
				uint32_t n, want = 4 + 4 * sack + 12 * ts + 4 * (shifts[s] >= 0);

				memset(buf, 0xaa, sizeof(buf));
				n = hf_tcp_opts_build_syn(buf, 8960, shifts[s], sack, ts,
				                          0xfffffffe, 1);
				assert_int_equal(n, want);
				assert_int_equal(n % 4, 0);
				assert_true(n <= HF_TCP_OPTS_SYN_MAX_LEN);
				assert_int_equal(buf[n], 0xaa);		/* nothing written past n */
				assert_int_equal(hf_tcp_opts_parse(buf, n, &o), 0);
				assert_true(o.mss_present);
				assert_int_equal(o.mss, 8960);
				assert_int_equal(o.sack_permitted, sack);
				assert_int_equal(o.ts_present, ts);
				if (ts) {
					assert_int_equal(o.ts_val, 0xfffffffe);
					assert_int_equal(o.ts_ecr, 1);
				}
				assert_int_equal(o.ws_present, shifts[s] >= 0);
				if (shifts[s] >= 0)
					assert_int_equal(o.ws_shift,
					                 shifts[s] > 14 ? 14 : shifts[s]);
			}
		}
	}
}

/* The full SYN set, byte for byte. */
static void
test_build_syn_bytes(void **state)
{
	static const uint8_t want[] = {
		2, 4, 0x05, 0xb4,
		1, 1, 4, 2,
		1, 1, 8, 10, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
		1, 3, 3, 7,
	};
	uint8_t buf[HF_TCP_OPTS_SYN_MAX_LEN];

	(void)state;
	assert_int_equal(hf_tcp_opts_build_syn(buf, 1460, 7, true, true, 0x12345678, 0x9abcdef0),
			 sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

/* Data segments: 0..3 blocks with timestamps, 0..4 without, more asked are cut. */
static void
test_build_data(void **state)
{
	static const uint32_t sack[10] = {0xfffffff0, 0x10, 100, 200, 300, 400, 500, 600, 700, 800};

	(void)state;
	for (int ts = 0; ts <= 1; ts++) {
		for (unsigned int asked = 0; asked <= 5; asked++) {
			uint8_t buf[HF_TCP_OPTS_MAX_LEN + 4];
			struct hf_tcp_opts o;
			unsigned int fit = ts ? 3 : 4, got = asked < fit ? asked : fit;
			uint32_t n;

			memset(buf, 0xaa, sizeof(buf));
			n = hf_tcp_opts_build_data(buf, ts, 77, 88, sack, asked);
			assert_int_equal(n, 12 * ts + (got ? 4 + 8 * got : 0));
			assert_true(n <= HF_TCP_OPTS_MAX_LEN);
			assert_int_equal(n % 4, 0);
			assert_int_equal(buf[n], 0xaa);
			assert_int_equal(hf_tcp_opts_parse(buf, n, &o), 0);
			assert_int_equal(o.ts_present, ts);
			assert_int_equal(o.sack_blocks, got);
			if (got)
				assert_memory_equal(o.sack, sack, 2 * got * sizeof(uint32_t));
		}
	}
}

static void
test_build_data_bytes(void **state)
{
	static const uint32_t sack[2] = {0x01020304, 0x05060708};
	static const uint8_t want[] = {
		1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 10,
		1, 1, 5, 10, 1, 2, 3, 4, 5, 6, 7, 8,
	};
	uint8_t buf[HF_TCP_OPTS_MAX_LEN];

	(void)state;
	assert_int_equal(hf_tcp_opts_build_data(buf, true, 9, 10, sack, 1), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

/* Random bytes never crash the parser and never yield out-of-range fields. */
static void
test_parse_random(void **state)
{
	uint64_t x = 88172645463325252ull;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint8_t p[40];
		struct hf_tcp_opts o;
		uint32_t len;
		int rc;

		for (size_t b = 0; b < sizeof(p); b++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* Bias towards small kinds and lengths so that real options occur. */
			p[b] = (uint8_t)(x & 0x80 ? x % 12 : x >> 24);
		}
		len = (uint32_t)(x >> 40) % 41;
		rc = hf_tcp_opts_parse(p, len, &o);
		assert_true(rc == 0 || rc == -EINVAL);
		if (rc == 0) {
			assert_true(o.sack_blocks <= HF_TCP_MAX_SACK_BLOCKS);
			assert_true(o.ws_shift <= 14);
		}
	}
}

/*
 * The in-line path of hf_tcp_opts_parse() (NOP NOP TS, 12 bytes) against the
 * walk: 12-byte lists that are that layout or one byte off it (every byte of
 * the first word changed to every value, random values after), and the
 * layout inside longer and shorter lists, give the same result and fields.
 */
static void
test_parse_fast_path_matches_walk(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (unsigned int pos = 0; pos < 5; pos++) {
		for (unsigned int v = 0; v < 256; v++) {
			uint8_t p[16];
			struct hf_tcp_opts a, b;
			int ra, rb;

			hf_tcp_opts_put_ts(p, (uint32_t)x, (uint32_t)(x >> 32));
			p[12] = HF_TCP_OPT_NOP;
			p[13] = HF_TCP_OPT_NOP;
			p[14] = HF_TCP_OPT_NOP;
			p[15] = HF_TCP_OPT_EOL;
			if (pos < 4)
				p[pos] = (uint8_t)v;
			for (uint32_t len = 10; len <= 16; len++) {
				ra = hf_tcp_opts_parse(p, len, &a);
				rb = hf_tcp_opts_parse_list(p, len, &b);
				assert_int_equal(ra, rb);
				if (ra == 0)
					assert_memory_equal(&a, &b, sizeof(a));
			}
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
	}
	{
		uint8_t p[12];
		struct hf_tcp_opts o;

		hf_tcp_opts_put_ts(p, 0x01020304, 0xa0b0c0d0);
		assert_int_equal(hf_tcp_opts_parse(p, sizeof(p), &o), 0);
		assert_true(o.ts_present);
		assert_false(o.mss_present || o.ws_present || o.sack_permitted || o.sack_blocks);
		assert_int_equal(o.ts_val, 0x01020304);
		assert_int_equal(o.ts_ecr, 0xa0b0c0d0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_linux_syn),
		cmocka_unit_test(test_parse_sack_blocks),
		cmocka_unit_test(test_parse_sack_every_count),
		cmocka_unit_test(test_parse_ws_clamp),
		cmocka_unit_test(test_parse_unknown_skipped),
		cmocka_unit_test(test_parse_eol_nop_empty),
		cmocka_unit_test(test_parse_duplicates_and_reset),
		cmocka_unit_test(test_parse_every_length_of_every_kind),
		cmocka_unit_test(test_parse_malformed_table),
		cmocka_unit_test(test_parse_every_prefix),
		cmocka_unit_test(test_build_syn_combinations),
		cmocka_unit_test(test_build_syn_bytes),
		cmocka_unit_test(test_build_data),
		cmocka_unit_test(test_build_data_bytes),
		cmocka_unit_test(test_parse_random),
		cmocka_unit_test(test_parse_fast_path_matches_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
