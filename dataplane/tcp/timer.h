/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TIMER_H
#define HF_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A hashed timer wheel for one core (Varghese and Lauck, "Hashed and
 * Hierarchical Timing Wheels", scheme 6). A timer due at tick T waits in slot
 * T mod slots, in a doubly linked list, so arm, cancel and re-arm are O(1).
 * A timer more than one revolution away stays in its slot; its absolute
 * 64-bit expiry plays the part of scheme 6's rounds count (rounds =
 * (expire - now) / slots) and is compared rather than decremented, so a visit
 * writes nothing to timers that are not due.
 *
 * Ticks are whatever unit the owner advances by (the TCP stack uses
 * milliseconds). Timers are embedded in their owner (intrusive) and the wheel
 * never allocates after set-up: nothing here is ever out of memory.
 *
 * Ordering: hf_timer_wheel_advance() walks ticks in order and fires a timer at
 * exactly its expiry tick, so timers fire in expiry order, and timers due at
 * the same tick in the order they were armed (by hf_timer_arm(): see
 * hf_timer_arm_lazy()). A gap longer than a revolution
 * with nothing due is skipped by finding the earliest expiry, so a long idle
 * time costs O(slots + armed timers), not O(ticks).
 *
 * Single-threaded: one wheel belongs to one core, like the timers on it.
 */
struct hf_timer;
typedef void (*hf_timer_fn)(struct hf_timer *t, void *arg);

/* A node of a slot's circular list; a slot head is a bare link. */
struct hf_timer_link {
	struct hf_timer_link *next;	/* NULL when the timer is not armed */
	struct hf_timer_link *prev;
};

struct hf_timer {
	struct hf_timer_link link;	/* first member: a link is its timer */
	/*
	 * The tick of the slot visit that takes it off the wheel, meaningful
	 * while linked: the tick it fires at, or an earlier one when it was
	 * moved later or stopped lazily (hf_timer_arm_lazy()). A callback reads
	 * the tick it fires at here.
	 */
	uint64_t expire;
	uint64_t due;			/* tick at which it fires; 0 while not armed */
	hf_timer_fn fn;
	void *arg;
};

struct hf_timer_wheel {
	uint64_t now;			/* last tick processed */
	uint64_t mask;			/* slots - 1 */
	uint32_t armed;			/* timers armed, the batch being fired included */
	bool own_slots;			/* slot came from hf_timer_wheel_init() */
	struct hf_timer_link *slot;	/* one list head per slot, oldest timer first */
};

/*
 * Sets up @p w over @p slots list heads at @p slot_mem, which the caller owns
 * and keeps for the wheel's life (a per-core pool, an array in the owner).
 * @p slots is a power of two; a revolution shorter than the usual timeout
 * only costs visits to timers that are not due yet. The wheel starts at tick
 * @p now. Returns 0, or -EINVAL when @p slots is not a power of two.
 */
int hf_timer_wheel_setup(struct hf_timer_wheel *w, struct hf_timer_link *slot_mem,
			 uint32_t slots, uint64_t now);

/*
 * As hf_timer_wheel_setup(), with the slot heads allocated here (start-up
 * only; hf_timer_wheel_fini() frees them). Returns 0, -EINVAL or -ENOMEM.
 */
int hf_timer_wheel_init(struct hf_timer_wheel *w, uint32_t slots, uint64_t now);

/*
 * Disarms every timer still on the wheel without firing it (each then reads
 * as not pending, so no timer points into freed memory), and frees the slot
 * heads if hf_timer_wheel_init() allocated them. The timers must still be
 * valid memory. Safe on a zeroed wheel.
 */
void hf_timer_wheel_fini(struct hf_timer_wheel *w);

/* Prepares @p t, not armed, to call @p fn(t, @p arg) when it fires. Never on an armed timer. */
static inline void
hf_timer_init(struct hf_timer *t, hf_timer_fn fn, void *arg)
{
	t->link.next = NULL;
	t->link.prev = NULL;
	t->expire = 0;
	t->due = 0;
	t->fn = fn;
	t->arg = arg;
}

/* True while @p t is armed: from hf_timer_arm() until it fires or is cancelled. */
static inline bool
hf_timer_pending(const struct hf_timer *t)
{
	return t->due != 0;
}

/*
 * Stops @p t if armed; a no-op otherwise. Any timer may be cancelled at any
 * time, from a callback too (itself included, which is a no-op: a timer is
 * disarmed before its callback runs).
 */
static inline void
hf_timer_cancel(struct hf_timer_wheel *w, struct hf_timer *t)
{
	t->due = 0;
	if (t->link.next == NULL)
		return;
	t->link.prev->next = t->link.next;
	t->link.next->prev = t->link.prev;
	t->link.next = NULL;
	t->link.prev = NULL;
	w->armed--;
}

/*
 * Arms (or moves) @p t to fire at tick @p expire. A tick not after the
 * wheel's clock means "as soon as possible": the timer fires at the next tick
 * processed, from the advance under way when called from a callback.
 */
void hf_timer_arm(struct hf_timer_wheel *w, struct hf_timer *t, uint64_t expire);

/*
 * As hf_timer_arm(), for a timer that is moved far more often than it fires
 * (TCP's retransmission and delayed-ACK timers: armed and stopped again on
 * every request of a keep-alive connection). A timer still on the wheel for
 * a tick not after @p expire stays there with its new due tick, and the
 * wheel moves it on when that earlier tick comes: two stores instead of an
 * unlink and a link. It fires at @p expire all the same; among timers due at
 * the same tick it may fire after ones armed later (hf_timer_arm() keeps the
 * arming order).
 */
static inline void
hf_timer_arm_lazy(struct hf_timer_wheel *w, struct hf_timer *t, uint64_t expire)
{
	if (expire <= w->now)
		expire = w->now + 1;
	if (t->link.next != NULL && t->expire <= expire)
		t->due = expire;
	else
		hf_timer_arm(w, t, expire);
}

/*
 * As hf_timer_cancel(), leaving @p t on the wheel until its tick, where it
 * is dropped without firing (unless armed again meanwhile): one store. It
 * counts in hf_timer_wheel_armed() until then.
 */
static inline void
hf_timer_stop_lazy(struct hf_timer *t)
{
	t->due = 0;
}

/* Number of timers on @p w: the armed ones, and those stopped lazily whose tick has not come. */
static inline uint32_t
hf_timer_wheel_armed(const struct hf_timer_wheel *w)
{
	return w->armed;
}

/*
 * The earliest expiry among the armed timers, in @p tick. O(slots + armed):
 * for idle decisions, not per packet. Returns 0, or -ENOENT when none is armed.
 */
int hf_timer_wheel_next(const struct hf_timer_wheel *w, uint64_t *tick);

/*
 * Moves the wheel's clock to @p now (an earlier @p now is a no-op), firing
 * every timer due at or before it, in expiry order. Each timer is disarmed
 * just before its callback runs. A callback may arm, re-arm or cancel any
 * timer, itself included; a timer it arms at or before the tick being
 * processed fires at the next tick, within this same call if that tick is not
 * after @p now. A callback must not call hf_timer_wheel_advance() or
 * hf_timer_wheel_fini() on the same wheel.
 *
 * Returns how many timers fired.
 */
unsigned int hf_timer_wheel_advance(struct hf_timer_wheel *w, uint64_t now);

#endif
