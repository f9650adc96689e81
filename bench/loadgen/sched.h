/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_SCHED_H
#define HF_SCHED_H

#include <stdint.h>

/*
 * The open-loop send schedule, without coordinated omission (as wrk2 does it).
 * The schedule fixes when each request is meant to leave, from the target rate
 * alone: request i's intended send time does not depend on when request i-1
 * actually left or was answered. A worker polls the schedule with the current
 * time and gets the intended times of the requests now due; it measures each
 * request's latency from that intended time, not from when it got round to
 * sending it. A stall (a slow server holding every connection busy, a worker
 * that stopped polling) then shows up as the latency it really caused: the
 * requests that should have gone out meanwhile are handed out late, with their
 * intended times in the past. A closed-loop sender, which waits for an answer
 * before the next request, only ever measures the requests it managed to send
 * and hides the stall; that mode is not this module's job.
 *
 * Time is in clock ticks (the TSC), the same ticks the caller reads. Intended
 * times are kept as ticks plus a 32-bit fraction, so a period of hz/rate ticks
 * that is not a whole number (3 GHz at 7 requests/s) does not drift: after N
 * requests the schedule is off by less than N * 2^-32 ticks. Polling adds,
 * compares and shifts; it never divides.
 *
 * A schedule belongs to one worker; nothing is shared.
 */

enum hf_sched_mode {
	HF_SCHED_CONSTANT, /* one request every hz/rate ticks exactly */
	HF_SCHED_POISSON,  /* exponential gaps of mean hz/rate: a Poisson arrival process */
};

struct hf_sched {
	uint64_t next;        /* tick of the next intended send, integer part */
	uint32_t next_frac;   /* and its fraction, in 2^-32 ticks */
	uint32_t period_frac; /* fraction of the period, in 2^-32 ticks */
	uint64_t period;      /* whole ticks per request (constant mode) */
	double mean_gap;      /* hz/rate in ticks: the Poisson mode's mean gap */
	uint64_t rng;         /* splitmix64 state of the Poisson mode */
	uint64_t issued;      /* requests handed out since init */
	uint64_t ns_mult;     /* nanoseconds per tick, Q32 */
	uint64_t hz;          /* ticks per second */
	enum hf_sched_mode mode;
};

/*
 * Starts a schedule of @p rate requests per second (> 0, fractions allowed)
 * on a clock of @p hz ticks per second, whose first request is intended at
 * tick @p start and the next ones one period (constant mode) or one
 * exponential gap drawn from a splitmix64 stream seeded with @p seed (Poisson
 * mode; the same seed gives the same times) apart.
 * Returns 0, or -EINVAL for a rate or clock that is zero, negative, not finite,
 * or a mean period beyond 2^56 ticks (eight months at 3 GHz).
 */
int hf_sched_init(struct hf_sched *s, double rate, uint64_t hz, enum hf_sched_mode mode,
                  uint64_t seed, uint64_t start);

/*
 * Hands out the requests due at tick @p now: writes the intended send times of
 * at most @p max of them to @p intended, in order (non-decreasing; strictly
 * increasing in constant mode while the period is at least one tick), and
 * returns how many. A request is due once its intended time is <= @p now. After
 * a stall more than @p max may be due: the rest come with the next calls, with
 * their original, past intended times, so that the caller can send in bursts of
 * its own size and still charge the stall to the latencies.
 */
unsigned int hf_sched_poll(struct hf_sched *s, uint64_t now, uint64_t *intended, unsigned int max);

/* The intended time of the next request not yet handed out: when the caller next has work. */
static inline uint64_t
hf_sched_next(const struct hf_sched *s)
{
	return s->next;
}

/* How far behind the schedule the caller is at @p now: 0 if nothing is due. */
static inline uint64_t
hf_sched_lag(const struct hf_sched *s, uint64_t now)
{
	return now >= s->next ? now - s->next : 0;
}

/*
 * @p ticks (a latency: completion minus intended time) in nanoseconds, by one
 * 64x64 multiply and a shift, rounded down: off by at most 1 ns plus a relative
 * error below hz / (1e9 * 2^33), 5e-10 at 4 GHz.
 */
static inline uint64_t
hf_sched_ticks_to_ns(const struct hf_sched *s, uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * s->ns_mult) >> 32);
}

/*
 * splitmix64 (Steele, Lea, Flood 2014): one state word, full period, passes
 * BigCrush. The Poisson schedule draws from it; tests use it for their inputs.
 */
static inline uint64_t
hf_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

#endif
