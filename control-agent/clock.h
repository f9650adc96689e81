/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_CLOCK_H
#define HF_CLOCK_H

/*
 * The agent's clock: CLOCK_MONOTONIC (never steps back when the wall clock is
 * set). Workers use the TSC instead; these are for the control thread only.
 */
#include <stdint.h>
#include <time.h>

static inline uint64_t
hf_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t
hf_clock_us(void)
{
	return hf_clock_ns() / 1000u;
}

static inline uint64_t
hf_clock_ms(void)
{
	return hf_clock_ns() / 1000000u;
}

#endif
