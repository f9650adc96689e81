/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>

#include "dataplane/tcp/timer.h"

static inline struct hf_timer *
timer_of(struct hf_timer_link *l)
{
	return (struct hf_timer *)l;	/* link is the first member */
}

static inline void
list_init(struct hf_timer_link *head)
{
	head->next = head;
	head->prev = head;
}

static inline void
list_append(struct hf_timer_link *head, struct hf_timer_link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

int
hf_timer_wheel_setup(struct hf_timer_wheel *w, struct hf_timer_link *slot_mem, uint32_t slots,
		     uint64_t now)
{
	if (slot_mem == NULL || slots == 0 || (slots & (slots - 1)) != 0)
		return -EINVAL;
	for (uint32_t i = 0; i < slots; i++)
		list_init(&slot_mem[i]);
	w->slot = slot_mem;
	w->mask = slots - 1;
	w->now = now;
	w->armed = 0;
	w->own_slots = false;
	return 0;
}

int
hf_timer_wheel_init(struct hf_timer_wheel *w, uint32_t slots, uint64_t now)
{
	struct hf_timer_link *mem;
	int rc;

	if (slots == 0 || (slots & (slots - 1)) != 0)
		return -EINVAL;
	mem = calloc(slots, sizeof(*mem));
	if (mem == NULL)
		return -ENOMEM;
	rc = hf_timer_wheel_setup(w, mem, slots, now);
	if (rc != 0) {
		free(mem);
		return rc;
	}
	w->own_slots = true;
	return 0;
}

void
hf_timer_wheel_fini(struct hf_timer_wheel *w)
{
	if (w->slot == NULL)
		return;
	for (uint64_t i = 0; i <= w->mask; i++) {
		struct hf_timer_link *head = &w->slot[i], *l = head->next;

		while (l != head) {
			struct hf_timer_link *next = l->next;

			l->next = NULL;
			l->prev = NULL;
			timer_of(l)->due = 0;
			l = next;
		}
		list_init(head);
	}
	w->armed = 0;
	if (w->own_slots)
		free(w->slot);
	w->slot = NULL;
	w->own_slots = false;
}

void
hf_timer_arm(struct hf_timer_wheel *w, struct hf_timer *t, uint64_t expire)
{
	hf_timer_cancel(w, t);
	if (expire <= w->now)
		expire = w->now + 1;
	t->expire = expire;
	t->due = expire;
	/* Appended: timers of one tick fire in the order they were armed. */
	list_append(&w->slot[expire & w->mask], &t->link);
	w->armed++;
}

int
hf_timer_wheel_next(const struct hf_timer_wheel *w, uint64_t *tick)
{
	uint64_t best = UINT64_MAX;

	if (w->armed == 0)
		return -ENOENT;
	for (uint64_t i = 0; i <= w->mask; i++) {
		const struct hf_timer_link *head = &w->slot[i];

		for (const struct hf_timer_link *l = head->next; l != head; l = l->next) {
			const struct hf_timer *t = (const struct hf_timer *)l;

			if (t->expire < best)
				best = t->expire;
		}
	}
	*tick = best;
	return 0;
}

/*
 * Fires the timers of @p tick. The due ones are first moved, in order, to a
 * batch list on the stack: what callbacks arm meanwhile goes to the wheel, so
 * the loop ends, and a callback cancelling or moving a timer of the batch
 * just unlinks it from there. A timer whose due tick is later (moved by
 * hf_timer_arm_lazy()) goes back to the wheel for it; one stopped lazily
 * (due 0) is only taken off.
 */
static unsigned int
run_tick(struct hf_timer_wheel *w, uint64_t tick)
{
	struct hf_timer_link *head = &w->slot[tick & w->mask], batch;
	unsigned int fired = 0;

	if (head->next == head)
		return 0;
	list_init(&batch);
	for (struct hf_timer_link *l = head->next, *next; l != head; l = next) {
		next = l->next;
		if (timer_of(l)->expire > tick)
			continue;	/* a later revolution */
		l->prev->next = l->next;
		l->next->prev = l->prev;
		list_append(&batch, l);
	}
	while (batch.next != &batch) {
		struct hf_timer *t = timer_of(batch.next);
		uint64_t due = t->due;

		hf_timer_cancel(w, t);
		if (due > tick) {
			hf_timer_arm(w, t, due);
			continue;
		}
		if (due == 0)
			continue;
		fired++;
		t->fn(t, t->arg);
	}
	return fired;
}

unsigned int
hf_timer_wheel_advance(struct hf_timer_wheel *w, uint64_t now)
{
	unsigned int fired = 0, n;
	uint64_t idle = 0, next = 0;

	/*
	 * Invariant: every armed timer expires after w->now. Ticks are visited
	 * one by one; after a whole revolution with nothing due, the clock jumps
	 * to just before the earliest expiry, which keeps the invariant.
	 */
	while (w->now < now) {
		if (w->armed == 0) {
			w->now = now;
			break;
		}
		if (idle > w->mask && now - w->now > w->mask + 1) {
			hf_timer_wheel_next(w, &next);
			if (next > now) {
				w->now = now;
				break;
			}
			w->now = next - 1;
			idle = 0;
		}
		/* Callbacks see the clock at the tick they fire on. */
		n = run_tick(w, ++w->now);
		fired += n;
		idle = n == 0 ? idle + 1 : 0;
	}
	return fired;
}
