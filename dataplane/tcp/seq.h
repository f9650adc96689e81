/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TCP_SEQ_H
#define HF_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Sequence-number comparisons modulo 2^32 (RFC 9293 3.4): a is "less than" b
 * when b lies less than 2^31 ahead of it.
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

/* lo <= a < hi, all modulo 2^32; false for an empty range. */
static inline bool
hf_seq_between(uint32_t a, uint32_t lo, uint32_t hi)
{
	return a - lo < hi - lo;
}

static inline uint32_t
hf_seq_max(uint32_t a, uint32_t b)
{
	return hf_seq_gt(a, b) ? a : b;
}

static inline uint32_t
hf_seq_min(uint32_t a, uint32_t b)
{
	return hf_seq_lt(a, b) ? a : b;
}

#endif
