/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TCP_SEQ_H
#define HF_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Sequence-number arithmetic modulo 2^32 (RFC 9293 3.4): a is "less than" b
 * when b lies less than 2^31 ahead of it, so the comparisons hold across the
 * wrap as long as the two numbers are within 2^31 - 1 of each other, which
 * windows of at most 2^30 bytes (RFC 7323 2.3) guarantee. Two numbers exactly
 * 2^31 apart are each "less than" the other, as in every BSD-derived stack:
 * callers never compare numbers that far apart.
 *
 * The casts rely on the modular uint32_t -> int32_t conversion that GCC and
 * Clang define (C11 6.3.1.3 leaves it to the implementation).
 */
static inline bool
hf_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool
hf_seq_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static inline bool
hf_seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static inline bool
hf_seq_geq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

/*
 * lo <= a < hi, all modulo 2^32: a lies in the half-open range that starts at
 * lo and runs forward for (hi - lo) numbers. False for an empty range (lo ==
 * hi). Unlike the comparisons above it is exact for ranges up to 2^32 - 1
 * long, which is what the acceptability tests of RFC 9293 3.10.7.4 need.
 */
static inline bool
hf_seq_between(uint32_t a, uint32_t lo, uint32_t hi)
{
	return a - lo < hi - lo;
}

/* The later of a and b in sequence space. */
static inline uint32_t
hf_seq_max(uint32_t a, uint32_t b)
{
	return hf_seq_gt(a, b) ? a : b;
}

/* The earlier of a and b in sequence space. */
static inline uint32_t
hf_seq_min(uint32_t a, uint32_t b)
{
	return hf_seq_lt(a, b) ? a : b;
}

#endif
