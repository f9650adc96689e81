/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sequence-number arithmetic (RFC 9293 3.4): every comparison on both sides
 * of the 2^32 wrap, at every distance class, against 64-bit reference
 * arithmetic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dataplane/tcp/seq.h"

static const uint32_t bases[] = {
	0, 1, 2, 1000, 0x3fffffff, 0x40000000, 0x7ffffffe, 0x7fffffff, 0x80000000, 0x80000001,
	0xbfffffff, 0xc0000000, 0xfffffc18, 0xfffffff0, 0xfffffffe, 0xffffffff,
};

/* Forward distances that keep "b after a" unambiguous: 1 .. 2^31 - 1. */
static const uint32_t distances[] = {
        1,     2,          15,         16,         1000,       65535,
        65536, 0x00ffffff, 0x3fffffff, 0x40000000, 0x7ffffffe, 0x7fffffff,
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	/* xorshift64*: reproducible, no libc state shared with cmocka. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

/* b = a + d, with the sum wrapping past 2^32 for the high bases. */
static void
test_after_is_greater(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(bases); i++) {
		for (size_t j = 0; j < N_ELEMS(distances); j++) {
			uint32_t a = bases[i], b = a + distances[j];

			assert_true(hf_seq_lt(a, b));
			assert_true(hf_seq_leq(a, b));
			assert_false(hf_seq_gt(a, b));
			assert_false(hf_seq_geq(a, b));
			assert_true(hf_seq_gt(b, a));
			assert_true(hf_seq_geq(b, a));
			assert_false(hf_seq_lt(b, a));
			assert_false(hf_seq_leq(b, a));
			assert_int_equal(hf_seq_max(a, b), b);
			assert_int_equal(hf_seq_max(b, a), b);
			assert_int_equal(hf_seq_min(a, b), a);
			assert_int_equal(hf_seq_min(b, a), a);
		}
	}
}

static void
test_equal(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(bases); i++) {
		uint32_t a = bases[i];

		assert_false(hf_seq_lt(a, a));
		assert_true(hf_seq_leq(a, a));
		assert_false(hf_seq_gt(a, a));
		assert_true(hf_seq_geq(a, a));
		assert_int_equal(hf_seq_max(a, a), a);
		assert_int_equal(hf_seq_min(a, a), a);
	}
}

/* The numbers right at the wrap, spelled out. */
static void
test_wrap_literals(void **state)
{
	static const struct {
		uint32_t a, b;	/* a is before b */
	} t[] = {
	        {0xffffffff, 0},    {0xffffffff, 1},          {0xfffffff0, 0x10},
	        {0xfffffc18, 1000}, {0x80000000, 0xffffffff}, {0x7fffffff, 0x80000000},
	        {0x80000001, 0},    {1, 0x80000000},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(t); i++) {
		assert_true(hf_seq_lt(t[i].a, t[i].b));
		assert_true(hf_seq_gt(t[i].b, t[i].a));
		assert_true(hf_seq_leq(t[i].a, t[i].b));
		assert_true(hf_seq_geq(t[i].b, t[i].a));
		assert_false(hf_seq_lt(t[i].b, t[i].a));
		assert_int_equal(hf_seq_max(t[i].a, t[i].b), t[i].b);
		assert_int_equal(hf_seq_min(t[i].a, t[i].b), t[i].a);
	}
}

/* Exactly 2^31 apart the order is undefined; the documented answer is "each before the other". */
static void
test_half_space_ambiguity(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(bases); i++) {
		uint32_t a = bases[i], b = a + 0x80000000u;

		assert_true(hf_seq_lt(a, b));
		assert_true(hf_seq_lt(b, a));
		assert_false(hf_seq_gt(a, b));
		assert_false(hf_seq_gt(b, a));
	}
}

/* lo <= a < hi modulo 2^32, on tables that straddle the wrap. */
static void
test_between_table(void **state)
{
	static const struct {
		uint32_t a, lo, hi;
		int in;
	} t[] = {
	        {5, 5, 10, 1},
	        {9, 5, 10, 1},
	        {10, 5, 10, 0},
	        {4, 5, 10, 0},
	        {0xfffffff0, 0xfffffff0, 0x10, 1},
	        {0xffffffff, 0xfffffff0, 0x10, 1},
	        {0, 0xfffffff0, 0x10, 1},
	        {0xf, 0xfffffff0, 0x10, 1},
	        {0x10, 0xfffffff0, 0x10, 0},
	        {0xffffffef, 0xfffffff0, 0x10, 0},
	        {0x80000000, 0xfffffff0, 0x10, 0},
	        /* empty ranges hold nothing */
	        {5, 5, 5, 0},
	        {0, 0, 0, 0},
	        {0xffffffff, 0xffffffff, 0xffffffff, 0},
	        /* a range of 2^32 - 1 numbers holds every number but hi */
	        {5, 5, 4, 1},
	        {3, 5, 4, 1},
	        {4, 5, 4, 0},
	        {0x80000000, 5, 4, 1},
	        /* ranges longer than 2^31, where lt/gt would be ambiguous */
	        {0x90000000, 0, 0xa0000000, 1},
	        {0xa0000000, 0, 0xa0000000, 0},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(t); i++) {
		print_message("  %#x in [%#x, %#x)\n", t[i].a, t[i].lo, t[i].hi);
		assert_int_equal(hf_seq_between(t[i].a, t[i].lo, t[i].hi), t[i].in);
	}
}

/* A million random pairs against signed 64-bit differences. */
static void
test_random_against_reference(void **state)
{
	(void)state;
	for (int i = 0; i < 1000000; i++) {
		uint32_t a = rnd();
		/* -(2^31 - 1) .. 2^31 - 1 */
		int64_t d = (int64_t)(rnd() % 0xffffffffu) - 0x7fffffff;
		uint32_t b = (uint32_t)((int64_t)a + d);

		assert_int_equal(hf_seq_lt(a, b), d > 0);
		assert_int_equal(hf_seq_leq(a, b), d >= 0);
		assert_int_equal(hf_seq_gt(a, b), d < 0);
		assert_int_equal(hf_seq_geq(a, b), d <= 0);
		assert_int_equal(hf_seq_max(a, b), d > 0 ? b : a);
		assert_int_equal(hf_seq_min(a, b), d > 0 ? a : b);
	}
	for (int i = 0; i < 1000000; i++) {
		uint32_t lo = rnd(), len = rnd(), off = rnd();

		assert_int_equal(hf_seq_between(lo + off, lo, lo + len), off < len);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_after_is_greater),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_wrap_literals),
		cmocka_unit_test(test_half_space_ambiguity),
		cmocka_unit_test(test_between_table),
		cmocka_unit_test(test_random_against_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
