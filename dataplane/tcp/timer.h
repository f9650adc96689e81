/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TIMER_H
#define HF_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A hashed timer wheel (Varghese and Lauck, scheme 6) for one core: arm,
 * cancel and re-arm are O(1); a timer further away than one revolution waits
 * in its slot for its turn. Ticks are whatever unit the owner advances by
 * (TCP uses milliseconds). Timers are embedded in their owner.
 */
struct hf_timer;
typedef void (*hf_timer_fn)(struct hf_timer *t, void *arg);

struct hf_timer {
	struct hf_timer *next;
	struct hf_timer **pprev;	/* NULL when not armed */
	uint64_t expire;		/* tick at which it fires */
	hf_timer_fn fn;
	void *arg;
};

struct hf_timer_wheel {
	uint64_t now;			/* last tick processed */
	uint64_t mask;			/* slots - 1 */
	struct hf_timer **slot;
};

/** Sets up a wheel of @p slots (a power of two) at tick @p now. Returns 0, -EINVAL or -ENOMEM. */
int hf_timer_wheel_init(struct hf_timer_wheel *w, uint32_t slots, uint64_t now);

/** Frees the slots; armed timers are forgotten, not fired. */
void hf_timer_wheel_fini(struct hf_timer_wheel *w);

/** Prepares @p t to call @p fn(t, @p arg) when it fires. */
static inline void
hf_timer_init(struct hf_timer *t, hf_timer_fn fn, void *arg)
{
	t->next = NULL;
	t->pprev = NULL;
	t->expire = 0;
	t->fn = fn;
	t->arg = arg;
}

static inline bool
hf_timer_pending(const struct hf_timer *t)
{
	return t->pprev != NULL;
}

/** Stops @p t if armed. */
static inline void
hf_timer_cancel(struct hf_timer_wheel *w, struct hf_timer *t)
{
	(void)w;
	if (t->pprev == NULL)
		return;
	*t->pprev = t->next;
	if (t->next != NULL)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
}

/* Arms (or re-arms) @p t to fire at tick @p expire; a past tick fires at the next advance. */
void hf_timer_arm(struct hf_timer_wheel *w, struct hf_timer *t, uint64_t expire);

/*
 * Fires, in tick order, every timer due at or before @p now. A callback may
 * arm or cancel any timer, itself included. Returns how many fired.
 */
unsigned int hf_timer_wheel_advance(struct hf_timer_wheel *w, uint64_t now);

#endif
