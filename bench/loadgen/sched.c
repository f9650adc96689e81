/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The open-loop schedule: fixed-point arithmetic set up once in init, so that
 * handing out due requests only adds and compares.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>

#include "sched.h"

#define Q32 4294967296.0

/* Largest mean period: 40 Poisson gaps of it (-ln 2^-53 = 36.7) still fit in 63 bits. */
#define PERIOD_MAX 72057594037927936.0L /* 2^56 */

/* Adds a gap of @p whole + @p frac * 2^-32 ticks to the next intended time. */
static inline void
advance_by(struct hf_sched *s, uint64_t whole, uint32_t frac)
{
	uint64_t f = (uint64_t)s->next_frac + frac;

	s->next += whole + (f >> 32);
	s->next_frac = (uint32_t)f;
}

/*
 * The next exponential gap, by inversion: -ln(u) * mean for u uniform in (0, 1]
 * (53 random bits plus one, so never 0 and ln never diverges). One log() per
 * request; the mean is a multiplication, not a division.
 */
static inline void
advance_poisson(struct hf_sched *s)
{
	double u = (double)((hf_splitmix64(&s->rng) >> 11) + 1) * 0x1p-53;
	double gap = -log(u) * s->mean_gap;
	uint64_t whole = (uint64_t)gap;

	advance_by(s, whole, (uint32_t)((gap - (double)whole) * Q32));
}

int
hf_sched_init(struct hf_sched *s, double rate, uint64_t hz, enum hf_sched_mode mode, uint64_t seed,
              uint64_t start)
{
	long double period, whole, frac;

	if (s == NULL || !isfinite(rate) || !(rate > 0.0) || hz == 0)
		return -EINVAL;
	if (mode != HF_SCHED_CONSTANT && mode != HF_SCHED_POISSON)
		return -EINVAL;
	/* long double: 64 mantissa bits on x86, so the fraction is right to 2^-32 tick. */
	period = (long double)hz / (long double)rate;
	if (period > PERIOD_MAX)
		return -EINVAL;
	whole = floorl(period);
	frac = nearbyintl((period - whole) * (long double)Q32);
	if (frac >= (long double)Q32) { /* rounded up into the next whole tick */
		whole += 1.0L;
		frac = 0.0L;
	}
	s->period = (uint64_t)whole;
	s->period_frac = (uint32_t)frac;
	s->mean_gap = (double)period;
	s->next = start;
	s->next_frac = 0;
	s->rng = seed;
	s->issued = 0;
	s->hz = hz;
	s->ns_mult = (uint64_t)nearbyintl(1e9L * (long double)Q32 / (long double)hz);
	s->mode = mode;
	return 0;
}

unsigned int
hf_sched_poll(struct hf_sched *s, uint64_t now, uint64_t *intended, unsigned int max)
{
	unsigned int n = 0;

	if (s->mode == HF_SCHED_CONSTANT) {
		while (n < max && s->next <= now) {
			intended[n++] = s->next;
			advance_by(s, s->period, s->period_frac);
		}
	} else {
		while (n < max && s->next <= now) {
			intended[n++] = s->next;
			advance_poisson(s);
		}
	}
	s->issued += n;
	return n;
}
