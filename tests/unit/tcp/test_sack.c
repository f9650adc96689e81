/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SACK, both sides (RFC 2018, RFC 2883, RFC 6675). Sender: the scoreboard
 * sorts and merges, refuses blocks outside (snd_una, snd_max], reports
 * D-SACKs, trims on cumulative ACKs, walks holes, applies IsLost, forgets the
 * highest range when full, and matches a byte-map model through thousands
 * of random updates across the 2^32 wrap. Receiver: blocks come out most
 * recent first, merged, clipped, with a D-SACK in front when asked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dataplane/tcp/sack.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void
assert_ranges(const struct hf_tcp_sack_board *b, const uint32_t *want, unsigned int n)
{
	uint32_t bytes = 0;

	assert_int_equal(b->n, n);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(b->start[i], want[2 * i]);
		assert_int_equal(b->end[i], want[2 * i + 1]);
		bytes += want[2 * i + 1] - want[2 * i];
	}
	assert_int_equal(hf_tcp_sack_bytes(b), bytes);
}

/* Out of order, overlapping, touching and nested blocks become sorted disjoint ranges. */
static void
test_sorts_and_merges(void **state)
{
	const uint32_t u = 0xfffff000;	/* ranges straddle the wrap */
	struct hf_tcp_sack_board b;
	uint32_t blk[8];

	(void)state;
	hf_tcp_sack_init(&b);
	blk[0] = u + 5000; blk[1] = u + 6000;
	blk[2] = u + 3000; blk[3] = u + 4000;
	blk[4] = u + 1000; blk[5] = u + 2000;
	assert_int_equal(hf_tcp_sack_update(&b, u, u + 10000, blk, 3), 0);
	assert_ranges(&b, (const uint32_t[]){u + 1000, u + 2000, u + 3000, u + 4000, u + 5000,
					     u + 6000}, 3);
	/* Touching on the left of one and overlapping another merges three into one. */
	blk[0] = u + 2000; blk[1] = u + 3500;
	hf_tcp_sack_update(&b, u, u + 10000, blk, 1);
	assert_ranges(&b, (const uint32_t[]){u + 1000, u + 4000, u + 5000, u + 6000}, 2);
	/* Nested: nothing changes. */
	blk[0] = u + 1500; blk[1] = u + 1600;
	hf_tcp_sack_update(&b, u, u + 10000, blk, 1);
	assert_ranges(&b, (const uint32_t[]){u + 1000, u + 4000, u + 5000, u + 6000}, 2);
	/* Covering everything: one range. */
	blk[0] = u + 500; blk[1] = u + 7000;
	hf_tcp_sack_update(&b, u, u + 10000, blk, 1);
	assert_ranges(&b, (const uint32_t[]){u + 500, u + 7000}, 1);
}

/* RFC 2018 3 / Linux's tcp_is_sackblock_valid(): only blocks within (snd_una, snd_max]. */
static void
test_block_validity(void **state)
{
	const uint32_t una = 0xffffff00, max = una + 1000;	/* max is past the wrap */
	static const struct {
		int32_t s, e;	/* relative to una */
		int kept;
		const char *what;
	} t[] = {
		{1, 100, 1, "just after snd_una"},
		{900, 1000, 1, "ending at snd_max"},
		{0, 100, 0, "starting at snd_una (the peer would have acknowledged it)"},
		{-50, 100, 0, "straddling snd_una"},
		{900, 1001, 0, "past snd_max"},
		{1000, 1100, 0, "wholly beyond what was sent"},
		{500, 500, 0, "empty"},
		{600, 500, 0, "reversed"},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(t); i++) {
		struct hf_tcp_sack_board b;
		uint32_t blk[2] = {una + (uint32_t)t[i].s, una + (uint32_t)t[i].e};

		print_message("  %s\n", t[i].what);
		hf_tcp_sack_init(&b);
		assert_int_equal(hf_tcp_sack_update(&b, una, max, blk, 1), 0);
		assert_int_equal(b.n, t[i].kept);
	}
}

/* RFC 2883 4.1: a block at or below the cumulative ACK, or a first block within the second. */
static void
test_dsack(void **state)
{
	const uint32_t una = 10000, max = 20000;
	struct hf_tcp_sack_board b;
	uint32_t blk[8];

	(void)state;
	hf_tcp_sack_init(&b);
	/* Below snd_una, first. */
	blk[0] = 9000; blk[1] = 10000;
	assert_int_equal(hf_tcp_sack_update(&b, una, max, blk, 1), 1);
	assert_int_equal(b.n, 0);
	/* Below snd_una, then a real block. */
	blk[0] = 8000; blk[1] = 8500;
	blk[2] = 12000; blk[3] = 13000;
	assert_int_equal(hf_tcp_sack_update(&b, una, max, blk, 2), 1);
	assert_ranges(&b, (const uint32_t[]){12000, 13000}, 1);
	/* A duplicate above snd_una: the first block lies within the second. */
	hf_tcp_sack_init(&b);
	blk[0] = 15000; blk[1] = 15500;
	blk[2] = 14000; blk[3] = 16000;
	blk[4] = 18000; blk[5] = 19000;
	assert_int_equal(hf_tcp_sack_update(&b, una, max, blk, 3), 1);
	assert_ranges(&b, (const uint32_t[]){14000, 16000, 18000, 19000}, 2);
	/* Equal to the second block counts as within it. */
	blk[0] = 14000; blk[1] = 16000;
	assert_int_equal(hf_tcp_sack_update(&b, una, max, blk, 2), 1);
	/* Not within the second: an ordinary block. */
	hf_tcp_sack_init(&b);
	blk[0] = 15000; blk[1] = 17000;
	blk[2] = 14000; blk[3] = 16000;
	assert_int_equal(hf_tcp_sack_update(&b, una, max, blk, 2), 0);
	assert_ranges(&b, (const uint32_t[]){14000, 17000}, 1);
	/* A peer repeating stale blocks below snd_una: each is reported. */
	blk[0] = 1000; blk[1] = 2000;
	blk[2] = 3000; blk[3] = 4000;
	assert_int_equal(hf_tcp_sack_update(&b, una, max, blk, 2), 2);
}

static void
test_cumulative_ack(void **state)
{
	const uint32_t u = 0xfffffc00;
	struct hf_tcp_sack_board b;
	uint32_t blk[6] = {u + 1000, u + 2000, u + 3000, u + 4000, u + 5000, u + 6000};

	(void)state;
	hf_tcp_sack_init(&b);
	hf_tcp_sack_update(&b, u, u + 10000, blk, 3);
	hf_tcp_sack_ack(&b, u + 500);		/* below everything: nothing changes */
	assert_ranges(&b, blk, 3);
	hf_tcp_sack_ack(&b, u + 2000);		/* exactly the end of the first */
	assert_ranges(&b, blk + 2, 2);
	hf_tcp_sack_ack(&b, u + 3500);		/* into the second: trimmed */
	assert_ranges(&b, (const uint32_t[]){u + 3500, u + 4000, u + 5000, u + 6000}, 2);
	hf_tcp_sack_ack(&b, u + 7000);		/* past everything */
	assert_int_equal(b.n, 0);
	assert_int_equal(hf_tcp_sack_bytes(&b), 0);
	hf_tcp_sack_update(&b, u + 7000, u + 10000, (const uint32_t[]){u + 8000, u + 9000}, 1);
	hf_tcp_sack_clear(&b);
	assert_int_equal(b.n, 0);
	assert_int_equal(hf_tcp_sack_bytes(&b), 0);
}

/* Walking the holes below the highest SACKed byte, with from anywhere. */
static void
test_next_hole(void **state)
{
	const uint32_t u = 0xffffffff - 2500;	/* the holes cross the wrap */
	const uint32_t max = u + 10000;
	struct hf_tcp_sack_board b;
	uint32_t blk[6] = {u + 1000, u + 2000, u + 3000, u + 3500, u + 5000, u + 6000};
	static const struct {
		uint32_t from, start, len;	/* relative to u; len 0: none */
	} t[] = {
		{0, 0, 1000},	    {999, 999, 1},	{1000, 2000, 1000}, {1500, 2000, 1000},
		{2000, 2000, 1000}, {2999, 2999, 1},	{3000, 3500, 1500}, {4000, 4000, 1000},
		{5000, 0, 0},	    {6000, 0, 0},	{9000, 0, 0},
	};
	uint32_t start, len, from;
	unsigned int holes = 0;

	(void)state;
	hf_tcp_sack_init(&b);
	assert_false(hf_tcp_sack_next_hole(&b, u, max, u, &start, &len));	/* nothing SACKed */
	hf_tcp_sack_update(&b, u, max, blk, 3);
	for (size_t i = 0; i < N_ELEMS(t); i++) {
		bool found = hf_tcp_sack_next_hole(&b, u, max, u + t[i].from, &start, &len);

		print_message("  from +%u\n", t[i].from);
		assert_int_equal(found, t[i].len != 0);
		if (found) {
			assert_int_equal(start, u + t[i].start);
			assert_int_equal(len, t[i].len);
		}
	}
	/* from below snd_una starts at snd_una. */
	assert_true(hf_tcp_sack_next_hole(&b, u, max, u - 100, &start, &len));
	assert_int_equal(start, u);
	/* A full walk visits the three holes, then stops. */
	for (from = u; hf_tcp_sack_next_hole(&b, u, max, from, &start, &len); from = start + len)
		holes++;
	assert_int_equal(holes, 3);
}

/* RFC 6675 4 IsLost with SMSS = 1000 and DupThresh = 3. */
static void
test_is_lost(void **state)
{
	static const struct {
		uint32_t blk[8];
		unsigned int n;
		uint32_t seq;
		bool lost;
		const char *what;
	} t[] = {
	        {{1100, 1200, 1300, 1400, 1500, 1600}, 3, 1000, true, "three ranges above"},
	        {{1100, 1200, 1300, 1400}, 2, 1000, false, "two small ranges above"},
	        {{2000, 4000}, 1, 1000, false, "exactly 2 SMSS above: not more than"},
	        {{2000, 4001}, 1, 1000, true, "2 SMSS + 1 above"},
	        {{2000, 3000, 4000, 5001}, 2, 1000, true, "2 SMSS + 1 in two ranges"},
	        {{1100, 1200, 1300, 1400, 1500, 1600}, 3, 1350, false, "only 1.5 ranges above seq"},
	        {{1100, 1200, 1300, 1400, 1500, 1600}, 3, 1200, false, "two ranges above seq"},
	        {{1000, 5000}, 1, 3000, false, "seq inside a range: exactly 2 SMSS past it"},
	        {{1000, 5000}, 1, 2999, true, "seq inside a range: 2 SMSS + 1 past it"},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(t); i++) {
		struct hf_tcp_sack_board b;

		print_message("  %s\n", t[i].what);
		hf_tcp_sack_init(&b);
		hf_tcp_sack_update(&b, 999, 100000, t[i].blk, t[i].n);
		assert_int_equal(hf_tcp_sack_is_lost(&b, t[i].seq, 1000), t[i].lost);
	}
}

/* Full: a higher range is not taken; a lower one pushes the highest out; merging frees room. */
static void
test_full_capacity(void **state)
{
	struct hf_tcp_sack_board b;
	uint32_t blk[2];

	(void)state;
	hf_tcp_sack_init(&b);
	for (uint32_t i = 0; i < HF_TCP_SACK_RANGES; i++) {
		blk[0] = 1000 + 1000 * i;
		blk[1] = blk[0] + 100;		/* [1000,1100) [2000,2100) ... [16000,16100) */
		hf_tcp_sack_update(&b, 0, 100000, blk, 1);
	}
	assert_int_equal(b.n, HF_TCP_SACK_RANGES);
	assert_int_equal(hf_tcp_sack_bytes(&b), 100 * HF_TCP_SACK_RANGES);
	/* Higher than all: forgotten at once. */
	blk[0] = 50000; blk[1] = 50100;
	hf_tcp_sack_update(&b, 0, 100000, blk, 1);
	assert_int_equal(b.n, HF_TCP_SACK_RANGES);
	assert_int_equal(b.end[HF_TCP_SACK_RANGES - 1], 16100);
	/* Lower than all: kept, the highest [16000,16100) goes. */
	blk[0] = 100; blk[1] = 200;
	hf_tcp_sack_update(&b, 0, 100000, blk, 1);
	assert_int_equal(b.n, HF_TCP_SACK_RANGES);
	assert_int_equal(b.start[0], 100);
	assert_int_equal(b.end[HF_TCP_SACK_RANGES - 1], 15100);
	assert_int_equal(hf_tcp_sack_bytes(&b), 100 * HF_TCP_SACK_RANGES);
	/* Bridging two ranges while full: no loss, one fewer range. */
	blk[0] = 1100; blk[1] = 2000;
	hf_tcp_sack_update(&b, 0, 100000, blk, 1);
	assert_int_equal(b.n, HF_TCP_SACK_RANGES - 1);
	assert_int_equal(b.start[1], 1000);
	assert_int_equal(b.end[1], 2100);
	assert_int_equal(b.end[HF_TCP_SACK_RANGES - 2], 15100);
}

/*
 * The scoreboard against a byte map, across the wrap: random blocks, random
 * cumulative ACKs; the model forgets its highest range whenever it holds
 * more than the board's capacity, which is the board's documented rule.
 */
enum { WIN = 6000 };

static uint8_t model[WIN];	/* 1: SACKed; index 0 is base */

static unsigned int
model_ranges(uint32_t lo, uint32_t *out, unsigned int max)
{
	unsigned int n = 0;

	for (uint32_t i = lo; i < WIN; i++) {
		if (!model[i] || (i > lo && model[i - 1]))
			continue;
		if (n < max) {
			uint32_t j = i;

			while (j < WIN && model[j])
				j++;
			out[2 * n] = i;
			out[2 * n + 1] = j;
		}
		n++;
	}
	return n;
}

static void
test_random_against_byte_map(void **state)
{
	const uint32_t base = 0xffffe000;
	uint32_t una = 0, max = WIN;	/* relative to base */
	uint64_t x = 0xdeadbeefcafef00dull;
	struct hf_tcp_sack_board b;

	(void)state;
	memset(model, 0, sizeof(model));
	hf_tcp_sack_init(&b);
	for (int it = 0; it < 20000; it++) {
		uint32_t r[2 * (HF_TCP_SACK_RANGES + 1)], n, bytes = 0;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (x % 50 == 0 && una < WIN - 1) {
			/* A cumulative ACK moves forward. */
			uint32_t to = una + 1 + (uint32_t)(x >> 32) % 200;

			if (to > WIN - 1)
				to = WIN - 1;
			memset(model + una, 0, to - una);
			una = to;
			hf_tcp_sack_ack(&b, base + una);
		} else if (una < WIN - 1) {
			uint32_t s = una + 1 + (uint32_t)(x >> 16) % (WIN - una - 1);
			uint32_t e = s + 1 + (uint32_t)(x >> 40) % 60, blk[2];

			if (e > max)
				e = max;
			blk[0] = base + s;
			blk[1] = base + e;
			assert_int_equal(hf_tcp_sack_update(&b, base + una, base + max, blk, 1), 0);
			memset(model + s, 1, e - s);
			while ((n = model_ranges(una, r, HF_TCP_SACK_RANGES + 1)) >
			       HF_TCP_SACK_RANGES) {
				/* Forget the highest, as the board does. */
				uint32_t hi[2 * (HF_TCP_SACK_RANGES + 1)];

				model_ranges(una, hi, HF_TCP_SACK_RANGES + 1);
				memset(model + hi[2 * HF_TCP_SACK_RANGES], 0,
				       hi[2 * HF_TCP_SACK_RANGES + 1] - hi[2 * HF_TCP_SACK_RANGES]);
			}
		}
		n = model_ranges(una, r, HF_TCP_SACK_RANGES + 1);
		assert_int_equal(b.n, n);
		for (unsigned int i = 0; i < n; i++) {
			assert_int_equal(b.start[i], base + r[2 * i]);
			assert_int_equal(b.end[i], base + r[2 * i + 1]);
			bytes += r[2 * i + 1] - r[2 * i];
		}
		assert_int_equal(hf_tcp_sack_bytes(&b), bytes);
		/* Holes: every un-SACKed byte between una and the highest SACKed one, once. */
		if (it % 97 == 0) {
			uint32_t from = base + una, start, len, covered = 0;

			while (hf_tcp_sack_next_hole(&b, base + una, base + max, from, &start,
			                             &len)) {
				for (uint32_t k = 0; k < len; k++)
					assert_int_equal(model[start - base + k], 0);
				assert_int_equal(model[start - base + len], 1);
				covered += len;
				from = start + len;
			}
			if (n > 0)
				assert_int_equal(covered, r[2 * n - 1] - una - bytes);
		}
	}
}

/* ---- receiver side ---- */

static void
assert_blocks(const uint32_t *got, unsigned int n, const uint32_t *want, unsigned int n_want)
{
	assert_int_equal(n, n_want);
	for (unsigned int i = 0; i < 2 * n; i++)
		assert_int_equal(got[i], want[i]);
}

/* RFC 2018 4: the block holding the newest segment first, then the next newest. */
static void
test_rcv_most_recent_first(void **state)
{
	static const struct hf_tcp_sack_rcv_range r[] = {
	        {2000, 3000, 10}, {4000, 5000, 40},  {6000, 7000, 20},
	        {8000, 9000, 30}, {10000, 11000, 5},
	};
	uint32_t out[2 * HF_TCP_SACK_RCV_MAX];

	(void)state;
	assert_blocks(out, hf_tcp_sack_rcv_blocks(r, 5, 1000, NULL, out, 4),
		      (const uint32_t[]){4000, 5000, 8000, 9000, 6000, 7000, 2000, 3000}, 4);
	assert_blocks(out, hf_tcp_sack_rcv_blocks(r, 5, 1000, NULL, out, 3),
		      (const uint32_t[]){4000, 5000, 8000, 9000, 6000, 7000}, 3);
	assert_blocks(out, hf_tcp_sack_rcv_blocks(r, 5, 1000, NULL, out, 1),
		      (const uint32_t[]){4000, 5000}, 1);
	assert_int_equal(hf_tcp_sack_rcv_blocks(r, 5, 1000, NULL, out, 0), 0);
	assert_int_equal(hf_tcp_sack_rcv_blocks(r, 0, 1000, NULL, out, 4), 0);
	/* Asking for ten gives the four an option can hold. */
	assert_int_equal(hf_tcp_sack_rcv_blocks(r, 5, 1000, NULL, out, 10), 4);
}

/* Segments held one by one: contiguous ones form one block with the newest stamp. */
static void
test_rcv_merges_and_clips(void **state)
{
	const uint32_t u = 0xfffffe00;
	const struct hf_tcp_sack_rcv_range r[] = {
		{u + 0, u + 100, 1},	  /* at or below rcv_nxt once it moves: left out */
		{u + 200, u + 300, 7},
		{u + 300, u + 400, 2},	  /* touches the one before */
		{u + 350, u + 500, 3},	  /* overlaps it */
		{u + 700, u + 800, 5},
		{u + 800, u + 900, 9},	  /* newest, merged into [700, 900) */
	};
	uint32_t out[2 * HF_TCP_SACK_RCV_MAX];

	(void)state;
	assert_blocks(out, hf_tcp_sack_rcv_blocks(r, N_ELEMS(r), u - 100, NULL, out, 4),
		      (const uint32_t[]){u + 700, u + 900, u + 200, u + 500, u + 0, u + 100}, 3);
	/* rcv_nxt moved to u+250: the first range is gone, the second clipped. */
	assert_blocks(out, hf_tcp_sack_rcv_blocks(r, N_ELEMS(r), u + 250, NULL, out, 4),
		      (const uint32_t[]){u + 700, u + 900, u + 250, u + 500}, 2);
	/* Past everything: nothing to report. */
	assert_int_equal(hf_tcp_sack_rcv_blocks(r, N_ELEMS(r), u + 900, NULL, out, 4), 0);
}

/* RFC 2883 4: the D-SACK first, then the block that contains it, then by recency. */
static void
test_rcv_dsack(void **state)
{
	static const struct hf_tcp_sack_rcv_range r[] = {
		{2000, 3000, 10}, {4000, 5000, 40}, {6000, 7000, 20}, {8000, 9000, 30},
	};
	uint32_t out[2 * HF_TCP_SACK_RCV_MAX];

	(void)state;
	/* A duplicate below rcv_nxt: first, then the rest by recency. */
	assert_blocks(out, hf_tcp_sack_rcv_blocks(r, 4, 1000, (const uint32_t[]){500, 600}, out, 4),
		      (const uint32_t[]){500, 600, 4000, 5000, 8000, 9000, 6000, 7000}, 4);
	/* A duplicate inside the oldest out-of-order block: that block comes second. */
	assert_blocks(out,
		      hf_tcp_sack_rcv_blocks(r, 4, 1000, (const uint32_t[]){2200, 2400}, out, 3),
		      (const uint32_t[]){2200, 2400, 2000, 3000, 4000, 5000}, 3);
	/* Room for one block only: the D-SACK. */
	assert_blocks(out, hf_tcp_sack_rcv_blocks(r, 4, 1000, (const uint32_t[]){500, 600}, out, 1),
		      (const uint32_t[]){500, 600}, 1);
	/* An empty D-SACK range is no D-SACK. */
	assert_blocks(out, hf_tcp_sack_rcv_blocks(r, 4, 1000, (const uint32_t[]){500, 500}, out, 1),
		      (const uint32_t[]){4000, 5000}, 1);
}

/* Stamps compare modulo 2^32: a counter that wrapped is still the newest. */
static void
test_rcv_stamp_wrap(void **state)
{
	static const struct hf_tcp_sack_rcv_range r[] = {
		{2000, 3000, 0xfffffff0}, {4000, 5000, 0x00000003}, {6000, 7000, 0xffffffff},
	};
	uint32_t out[2 * HF_TCP_SACK_RCV_MAX];

	(void)state;
	assert_blocks(out, hf_tcp_sack_rcv_blocks(r, 3, 1000, NULL, out, 4),
		      (const uint32_t[]){4000, 5000, 6000, 7000, 2000, 3000}, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorts_and_merges),
		cmocka_unit_test(test_block_validity),
		cmocka_unit_test(test_dsack),
		cmocka_unit_test(test_cumulative_ack),
		cmocka_unit_test(test_next_hole),
		cmocka_unit_test(test_is_lost),
		cmocka_unit_test(test_full_capacity),
		cmocka_unit_test(test_random_against_byte_map),
		cmocka_unit_test(test_rcv_most_recent_first),
		cmocka_unit_test(test_rcv_merges_and_clips),
		cmocka_unit_test(test_rcv_dsack),
		cmocka_unit_test(test_rcv_stamp_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
