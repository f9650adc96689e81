/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>

#include "dataplane/tcp/timer.h"

int
hf_timer_wheel_init(struct hf_timer_wheel *w, uint32_t slots, uint64_t now)
{
	if (slots == 0 || (slots & (slots - 1)) != 0)
		return -EINVAL;
	w->slot = calloc(slots, sizeof(*w->slot));
	if (w->slot == NULL)
		return -ENOMEM;
	w->mask = slots - 1;
	w->now = now;
	return 0;
}

void
hf_timer_wheel_fini(struct hf_timer_wheel *w)
{
	free(w->slot);
	w->slot = NULL;
}

static inline void
link_into(struct hf_timer **head, struct hf_timer *t)
{
	t->next = *head;
	if (t->next != NULL)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
}

void
hf_timer_arm(struct hf_timer_wheel *w, struct hf_timer *t, uint64_t expire)
{
	hf_timer_cancel(w, t);
	if (expire <= w->now)
		expire = w->now + 1;
	t->expire = expire;
	link_into(&w->slot[expire & w->mask], t);
}

unsigned int
hf_timer_wheel_advance(struct hf_timer_wheel *w, uint64_t now)
{
	uint64_t ticks = now > w->now ? now - w->now : 0;
	unsigned int fired = 0;

	/* After a gap longer than a revolution every slot is visited once. */
	if (ticks > w->mask + 1)
		ticks = w->mask + 1;
	while (ticks-- > 0) {
		uint64_t tick = ++w->now;
		struct hf_timer *local = NULL;

		/* Detach the slot: callbacks that arm timers into it cannot make us loop. */
		if (w->slot[tick & w->mask] == NULL)
			continue;
		local = w->slot[tick & w->mask];
		w->slot[tick & w->mask] = NULL;
		local->pprev = &local;
		while (local != NULL) {
			struct hf_timer *t = local;

			hf_timer_cancel(w, t);	/* unlinks from the local list */
			if (t->expire > now) {
				link_into(&w->slot[tick & w->mask], t);	/* a later revolution */
				continue;
			}
			fired++;
			t->fn(t, t->arg);
		}
	}
	if (w->now < now)
		w->now = now;
	return fired;
}
