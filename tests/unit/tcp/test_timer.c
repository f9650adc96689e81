/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hashed timer wheel: every timer fires once, at exactly its tick, in
 * expiry order (arming order within a tick), across many revolutions and
 * long jumps of the clock, while callbacks cancel and re-arm timers, their
 * own included; 100,000 random timers keep all of this.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/tcp/timer.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* What fired, in order: which timer and the wheel's clock when it did. */
struct log {
	struct hf_timer_wheel *w;
	unsigned int n;
	int id[64];
	uint64_t at[64];
};

struct item {
	struct hf_timer t;
	struct log *log;
	int id;
};

static void
record(struct hf_timer *t, void *arg)
{
	struct item *it = arg;
	struct log *l = it->log;

	assert_false(hf_timer_pending(t));	/* disarmed before its callback */
	assert_true(l->n < N_ELEMS(l->id));
	l->id[l->n] = it->id;
	l->at[l->n] = l->w->now;
	l->n++;
}

static void
item_init(struct item *it, struct log *l, int id, hf_timer_fn fn)
{
	it->log = l;
	it->id = id;
	hf_timer_init(&it->t, fn, it);
}

static void
test_setup_errors(void **state)
{
	struct hf_timer_wheel w;
	struct hf_timer_link mem[8];
	static const uint32_t bad[] = {0, 3, 6, 100, 0x80000001u};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		assert_int_equal(hf_timer_wheel_init(&w, bad[i], 0), -EINVAL);
		assert_int_equal(hf_timer_wheel_setup(&w, mem, bad[i], 0), -EINVAL);
	}
	assert_int_equal(hf_timer_wheel_setup(&w, NULL, 8, 0), -EINVAL);
	assert_int_equal(hf_timer_wheel_setup(&w, mem, 1, 0), 0); /* one slot is a wheel too */
	assert_int_equal(hf_timer_wheel_setup(&w, mem, 8, 0), 0);
	hf_timer_wheel_fini(&w);	/* caller memory: not freed */
	memset(&w, 0, sizeof(w));
	hf_timer_wheel_fini(&w);	/* zeroed wheel: harmless */
}

/* One timer: not a tick early, once at its tick, never again. */
static void
test_fires_once_on_its_tick(void **state)
{
	struct hf_timer_wheel w;
	struct hf_timer_link mem[16];
	struct log l = {.w = &w};
	struct item a;

	(void)state;
	assert_int_equal(hf_timer_wheel_setup(&w, mem, 16, 1000), 0);
	item_init(&a, &l, 1, record);
	assert_false(hf_timer_pending(&a.t));
	hf_timer_arm(&w, &a.t, 1010);
	assert_true(hf_timer_pending(&a.t));
	assert_int_equal(hf_timer_wheel_armed(&w), 1);
	for (uint64_t now = 1001; now < 1010; now++) {
		assert_int_equal(hf_timer_wheel_advance(&w, now), 0);
		assert_true(hf_timer_pending(&a.t));
	}
	assert_int_equal(hf_timer_wheel_advance(&w, 1010), 1);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.at[0], 1010);
	assert_false(hf_timer_pending(&a.t));
	assert_int_equal(hf_timer_wheel_armed(&w), 0);
	assert_int_equal(hf_timer_wheel_advance(&w, 1010 + 16 * 100), 0);
	assert_int_equal(l.n, 1);
	/* Going back in time does nothing. */
	assert_int_equal(hf_timer_wheel_advance(&w, 5), 0);
	assert_int_equal(w.now, 1010 + 16 * 100);
	hf_timer_wheel_fini(&w);
}

/* A tick not after the clock means "at the next tick". */
static void
test_past_expiry_fires_next_tick(void **state)
{
	struct hf_timer_wheel w;
	struct log l = {.w = &w};
	struct item a, b;

	(void)state;
	assert_int_equal(hf_timer_wheel_init(&w, 64, 500), 0);
	item_init(&a, &l, 1, record);
	item_init(&b, &l, 2, record);
	hf_timer_arm(&w, &a.t, 500);
	hf_timer_arm(&w, &b.t, 3);
	assert_int_equal(a.t.expire, 501);
	assert_int_equal(b.t.expire, 501);
	assert_int_equal(hf_timer_wheel_advance(&w, 501), 2);
	assert_int_equal(l.at[0], 501);
	assert_int_equal(l.at[1], 501);
	hf_timer_wheel_fini(&w);
}

/* Timers many revolutions out, in one slot and in every slot, with a tick-by-tick clock. */
static void
test_many_revolutions(void **state)
{
	enum { SLOTS = 8, N = 48 };
	struct hf_timer_wheel w;
	struct hf_timer_link mem[SLOTS];
	struct log l = {.w = &w};
	struct item it[N];

	(void)state;
	assert_int_equal(hf_timer_wheel_setup(&w, mem, SLOTS, 0), 0);
	/* Timer i at 3 + 37 i: 37 is odd, so every slot is used, up to 220 revolutions out. */
	for (int i = N - 1; i >= 0; i--) {
		item_init(&it[i], &l, i, record);
		hf_timer_arm(&w, &it[i].t, 3 + 37 * (uint64_t)i);
	}
	for (uint64_t now = 1; now <= 3 + 37 * N; now++)
		hf_timer_wheel_advance(&w, now);
	assert_int_equal(l.n, N);
	for (int i = 0; i < N; i++) {
		assert_int_equal(l.id[i], i);
		assert_int_equal(l.at[i], 3 + 37 * (uint64_t)i);
	}
	hf_timer_wheel_fini(&w);
}

/*
 * Long jumps of the clock: idle gaps of millions of ticks are crossed in one
 * call, and what is due fires in order, at its own tick (callbacks see it).
 */
static void
test_long_jumps(void **state)
{
	static const uint64_t when[] = {5, 1000, 1000000, 123456789, 1000000000000ull};
	struct hf_timer_wheel w;
	struct log l = {.w = &w};
	struct item it[N_ELEMS(when)];
	uint64_t next;

	(void)state;
	assert_int_equal(hf_timer_wheel_init(&w, 16, 0), 0);
	assert_int_equal(hf_timer_wheel_next(&w, &next), -ENOENT);
	for (size_t i = 0; i < N_ELEMS(when); i++)
		item_init(&it[i], &l, (int)i, record);
	for (size_t i = N_ELEMS(when); i-- > 0;)	/* armed latest first */
		hf_timer_arm(&w, &it[i].t, when[i]);
	assert_int_equal(hf_timer_wheel_next(&w, &next), 0);
	assert_int_equal(next, 5);
	assert_int_equal(hf_timer_wheel_advance(&w, 200000000), 4);
	assert_int_equal(w.now, 200000000);
	assert_int_equal(hf_timer_wheel_next(&w, &next), 0);
	assert_int_equal(next, 1000000000000ull);
	assert_int_equal(hf_timer_wheel_advance(&w, UINT64_MAX - 1), 1);
	assert_int_equal(l.n, 5);
	for (size_t i = 0; i < N_ELEMS(when); i++) {
		assert_int_equal(l.id[i], (int)i);
		assert_int_equal(l.at[i], when[i]);
	}
	hf_timer_wheel_fini(&w);
}

/* Due at the same tick: the order they were armed; re-arming moves one to the back. */
static void
test_same_tick_fifo(void **state)
{
	struct hf_timer_wheel w;
	struct log l = {.w = &w};
	struct item it[5];

	(void)state;
	assert_int_equal(hf_timer_wheel_init(&w, 4, 0), 0);
	/* Armed first, same slot, two revolutions later: it must wait. */
	item_init(&it[4], &l, 4, record);
	hf_timer_arm(&w, &it[4].t, 9 + 8);
	for (int i = 0; i < 4; i++) {
		item_init(&it[i], &l, i, record);
		hf_timer_arm(&w, &it[i].t, 9);
	}
	hf_timer_arm(&w, &it[1].t, 9);
	assert_int_equal(hf_timer_wheel_advance(&w, 9), 4);
	assert_int_equal(l.id[0], 0);
	assert_int_equal(l.id[1], 2);
	assert_int_equal(l.id[2], 3);
	assert_int_equal(l.id[3], 1);
	assert_true(hf_timer_pending(&it[4].t));
	assert_int_equal(hf_timer_wheel_advance(&w, 17), 1);
	assert_int_equal(l.id[4], 4);
	assert_int_equal(l.at[4], 17);
	hf_timer_wheel_fini(&w);
}

static void
test_cancel_and_rearm(void **state)
{
	struct hf_timer_wheel w;
	struct log l = {.w = &w};
	struct item a, b, c;

	(void)state;
	assert_int_equal(hf_timer_wheel_init(&w, 32, 0), 0);
	item_init(&a, &l, 1, record);
	item_init(&b, &l, 2, record);
	item_init(&c, &l, 3, record);
	hf_timer_cancel(&w, &a.t);		/* not armed: nothing happens */
	assert_int_equal(hf_timer_wheel_armed(&w), 0);
	hf_timer_arm(&w, &a.t, 10);
	hf_timer_arm(&w, &b.t, 10);
	hf_timer_arm(&w, &c.t, 10 + 32);	/* same slot, next revolution */
	hf_timer_cancel(&w, &a.t);
	hf_timer_cancel(&w, &a.t);		/* twice: still fine */
	assert_false(hf_timer_pending(&a.t));
	assert_int_equal(hf_timer_wheel_armed(&w), 2);
	hf_timer_arm(&w, &b.t, 5);		/* earlier */
	hf_timer_arm(&w, &c.t, 100);		/* later, another slot */
	assert_int_equal(hf_timer_wheel_advance(&w, 99), 1);
	assert_int_equal(l.id[0], 2);
	assert_int_equal(l.at[0], 5);
	assert_int_equal(hf_timer_wheel_advance(&w, 100), 1);
	assert_int_equal(l.id[1], 3);
	assert_int_equal(l.at[1], 100);
	assert_int_equal(l.n, 2);
	hf_timer_wheel_fini(&w);
}

/*
 * Callbacks at work, all at tick 10 of an 8-slot wheel:
 *   A (armed first) cancels B, moves C to 15 while C waits in the same
 *     batch, and re-arms itself 7 ticks on until six timers have fired;
 *   B would have fired at 10;
 *   C was due at 10 too;
 *   D cancels itself (a no-op) and arms E "now", which means 11;
 *   F at 10 + 8: same slot, next revolution, untouched.
 */
static struct item cb[6];

static void
cb_a(struct hf_timer *t, void *arg)
{
	struct item *it = arg;

	record(t, arg);
	hf_timer_cancel(it->log->w, &cb[1].t);
	if (hf_timer_pending(&cb[2].t))
		hf_timer_arm(it->log->w, &cb[2].t, 15);
	if (it->log->n < 6)
		hf_timer_arm(it->log->w, t, it->log->w->now + 7);
}

static void
cb_d(struct hf_timer *t, void *arg)
{
	struct item *it = arg;

	record(t, arg);
	hf_timer_cancel(it->log->w, t);
	hf_timer_arm(it->log->w, &cb[4].t, it->log->w->now);
}

static void
test_callbacks_cancel_and_rearm(void **state)
{
	struct hf_timer_wheel w;
	struct log l = {.w = &w};
	/* By tick: 10 A, 10 D (B cancelled, C moved), 11 E, 15 C, 17 A, 18 F, 24 A. */
	static const int want_id[] = {0, 3, 4, 2, 0, 5, 0};
	static const uint64_t want_at[] = {10, 10, 11, 15, 17, 18, 24};

	(void)state;
	assert_int_equal(hf_timer_wheel_init(&w, 8, 0), 0);
	item_init(&cb[0], &l, 0, cb_a);
	item_init(&cb[1], &l, 1, record);
	item_init(&cb[2], &l, 2, record);
	item_init(&cb[3], &l, 3, cb_d);
	item_init(&cb[4], &l, 4, record);
	item_init(&cb[5], &l, 5, record);
	hf_timer_arm(&w, &cb[0].t, 10);
	hf_timer_arm(&w, &cb[1].t, 10);
	hf_timer_arm(&w, &cb[2].t, 10);
	hf_timer_arm(&w, &cb[3].t, 10);
	hf_timer_arm(&w, &cb[5].t, 18);
	/* One call for everything: what the callbacks arm inside the span fires in it. */
	assert_int_equal(hf_timer_wheel_advance(&w, 1000), N_ELEMS(want_id));
	assert_int_equal(l.n, N_ELEMS(want_id));
	for (unsigned int i = 0; i < l.n; i++) {
		assert_int_equal(l.id[i], want_id[i]);
		assert_int_equal(l.at[i], want_at[i]);
	}
	for (int i = 0; i < 6; i++)
		assert_false(hf_timer_pending(&cb[i].t));
	assert_int_equal(hf_timer_wheel_armed(&w), 0);
	hf_timer_wheel_fini(&w);
}

/* A periodic timer re-arming itself 1000 times, crossed in a single advance. */
static unsigned int periodic_n;
static uint64_t periodic_bad;

static void
periodic(struct hf_timer *t, void *arg)
{
	struct hf_timer_wheel *w = arg;

	if (w->now != 100 + 250 * (uint64_t)periodic_n)
		periodic_bad++;
	if (++periodic_n < 1000)
		hf_timer_arm(w, t, w->now + 250);
}

static void
test_periodic_self_rearm(void **state)
{
	struct hf_timer_wheel w;
	struct hf_timer t;

	(void)state;
	assert_int_equal(hf_timer_wheel_init(&w, 64, 0), 0);
	hf_timer_init(&t, periodic, &w);
	hf_timer_arm(&w, &t, 100);
	assert_int_equal(hf_timer_wheel_advance(&w, 10000000), 1000);
	assert_int_equal(periodic_n, 1000);
	assert_int_equal(periodic_bad, 0);
	assert_false(hf_timer_pending(&t));
	hf_timer_wheel_fini(&w);
}

/* fini disarms what is left, so nothing points into the freed slots. */
static void
test_fini_disarms(void **state)
{
	struct hf_timer_wheel w;
	struct log l = {.w = &w};
	struct item it[3];

	(void)state;
	assert_int_equal(hf_timer_wheel_init(&w, 8, 0), 0);
	for (int i = 0; i < 3; i++) {
		item_init(&it[i], &l, i, record);
		hf_timer_arm(&w, &it[i].t, 5 + 8 * (uint64_t)i);
	}
	hf_timer_wheel_fini(&w);
	for (int i = 0; i < 3; i++)
		assert_false(hf_timer_pending(&it[i].t));
	assert_int_equal(l.n, 0);
}

/*
 * 100,000 timers at random ticks over ~200 revolutions of a 1024-slot wheel;
 * a third cancelled, a seventh moved before the clock starts; while the clock
 * runs in random steps (some of them long jumps), callbacks move or cancel
 * other random timers and re-arm a few of their own. Every arming fires
 * exactly once unless undone first, exactly at its tick, and in (tick,
 * arming order) order overall.
 */
enum { MANY = 100000 };

struct rt {
	struct hf_timer t;
	uint64_t armed_seq;	/* order of the last arming */
	uint64_t want;		/* the tick the last arming asked for */
	unsigned int arms;	/* times armed */
	unsigned int fired;	/* times fired */
	unsigned int dropped;	/* armings undone: moved or cancelled while pending */
	unsigned int rearms;	/* times it re-armed itself */
};

static struct {
	struct hf_timer_wheel w;
	struct rt *t;
	uint64_t seq, last_expire, last_seq, fired, wrong_tick, out_of_order;
	uint64_t x;
	bool lazy;	/* half the arms and cancels lazy: no same-tick arming order */
} R;

static uint32_t
rnd(void)
{
	R.x ^= R.x << 13;
	R.x ^= R.x >> 7;
	R.x ^= R.x << 17;
	return (uint32_t)(R.x >> 11);
}

static void
rt_arm(struct rt *r, uint64_t expire)
{
	r->dropped += hf_timer_pending(&r->t);
	r->arms++;
	r->want = expire > R.w.now ? expire : R.w.now + 1;
	if (R.lazy && (rnd() & 1))
		hf_timer_arm_lazy(&R.w, &r->t, expire);
	else
		hf_timer_arm(&R.w, &r->t, expire);
	r->armed_seq = ++R.seq;
}

static void
rt_cancel(struct rt *r)
{
	r->dropped += hf_timer_pending(&r->t);
	if (R.lazy && (rnd() & 1))
		hf_timer_stop_lazy(&r->t);
	else
		hf_timer_cancel(&R.w, &r->t);
}

static void
rt_fire(struct hf_timer *t, void *arg)
{
	struct rt *r = arg;

	R.fired++;
	r->fired++;
	if (t->expire != R.w.now || r->want != R.w.now)
		R.wrong_tick++;
	if (t->expire < R.last_expire ||
	    (!R.lazy && t->expire == R.last_expire && r->armed_seq < R.last_seq))
		R.out_of_order++;
	R.last_expire = t->expire;
	R.last_seq = r->armed_seq;
	/* Disturb someone else: move, cancel, or leave alone. */
	switch (rnd() % 8) {
	case 0: {
		struct rt *o = &R.t[rnd() % MANY];

		if (hf_timer_pending(&o->t))
			rt_arm(o, R.w.now + rnd() % 3000);
		break;
	}
	case 1:
		rt_cancel(&R.t[rnd() % MANY]);
		break;
	case 2:
		if (r->rearms < 3) {	/* again, sometimes "now" (the next tick) */
			r->rearms++;
			rt_arm(r, R.w.now + rnd() % 2);
		}
		break;
	default:
		break;
	}
}

static void
random_100k(bool lazy)
{
	uint64_t now = 0, expected = 0;

	memset(&R, 0, sizeof(R));
	R.lazy = lazy;
	R.x = 0x2545f4914f6cdd1dull;
	R.t = calloc(MANY, sizeof(*R.t));
	assert_non_null(R.t);
	assert_int_equal(hf_timer_wheel_init(&R.w, 1024, 0), 0);
	for (int i = 0; i < MANY; i++) {
		hf_timer_init(&R.t[i].t, rt_fire, &R.t[i]);
		rt_arm(&R.t[i], 1 + rnd() % 200000);
	}
	for (int i = 0; i < MANY; i += 3)
		rt_cancel(&R.t[i]);
	for (int i = 1; i < MANY; i += 7)
		rt_arm(&R.t[i], 1 + rnd() % 220000);
	for (int i = 0; i < MANY; i++)
		expected += hf_timer_pending(&R.t[i].t);
	/* Lazily stopped timers stay on the wheel until their tick. */
	if (!lazy)
		assert_int_equal(hf_timer_wheel_armed(&R.w), expected);
	else
		assert_true(hf_timer_wheel_armed(&R.w) >= expected);
	while (hf_timer_wheel_armed(&R.w) > 0) {
		uint32_t r = rnd() % 100;

		now += r < 90 ? 1 + r % 7 : 1 + rnd() % 20000;
		hf_timer_wheel_advance(&R.w, now);
	}
	assert_int_equal(R.wrong_tick, 0);
	assert_int_equal(R.out_of_order, 0);
	/* Every arming either fired exactly once or was undone before its tick. */
	for (int i = 0; i < MANY; i++) {
		assert_false(hf_timer_pending(&R.t[i].t));
		assert_int_equal(R.t[i].arms, R.t[i].fired + R.t[i].dropped);
	}
	assert_true(R.fired > expected / 2);
	print_message("  %lu fired, %lu armed before the clock started\n", (unsigned long)R.fired,
		      (unsigned long)expected);
	hf_timer_wheel_fini(&R.w);
	free(R.t);
}

static void
test_random_100k(void **state)
{
	(void)state;
	random_100k(false);
}

/*
 * The same with half the arms lazy (hf_timer_arm_lazy()) and half the
 * cancels lazy (hf_timer_stop_lazy()): every arming still fires exactly once
 * at its tick unless undone, in tick order (the arming order within a tick
 * is what lazy arming gives up), and the wheel ends empty.
 */
static void
test_random_100k_lazy(void **state)
{
	(void)state;
	random_100k(true);
}

/*
 * The same 100,000 timers without disturbance: the count is exact, and each
 * fires exactly once, in order, whatever the stride of the clock.
 */
static uint64_t plain_last, plain_fired, plain_bad;
static struct hf_timer_wheel plain_w;

static void
plain_fire(struct hf_timer *t, void *arg)
{
	unsigned int *fired = arg;

	(*fired)++;
	if (t->expire < plain_last || t->expire != plain_w.now)
		plain_bad++;
	plain_last = t->expire;
	plain_fired++;
}

static void
test_random_100k_exact(void **state)
{
	static const uint64_t strides[] = {1, 3, 1000, 1023, 1024, 1025, 50000};
	struct hf_timer *t = calloc(MANY, sizeof(*t));
	unsigned int *fired = calloc(MANY, sizeof(*fired));
	uint64_t x = 0x853c49e6748fea9bull;

	(void)state;
	assert_non_null(t);
	assert_non_null(fired);
	for (size_t s = 0; s < N_ELEMS(strides); s++) {
		uint64_t now = 0;

		memset(fired, 0, MANY * sizeof(*fired));
		plain_last = 0;
		plain_fired = 0;
		plain_bad = 0;
		assert_int_equal(hf_timer_wheel_init(&plain_w, 512, 0), 0);
		for (int i = 0; i < MANY; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			hf_timer_init(&t[i], plain_fire, &fired[i]);
			hf_timer_arm(&plain_w, &t[i], 1 + (x >> 20) % 300000);
		}
		while (now < 300000) {
			now += strides[s];
			hf_timer_wheel_advance(&plain_w, now);
		}
		assert_int_equal(plain_fired, MANY);
		assert_int_equal(plain_bad, 0);
		for (int i = 0; i < MANY; i++)
			assert_int_equal(fired[i], 1);
		hf_timer_wheel_fini(&plain_w);
	}
	free(fired);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setup_errors),
		cmocka_unit_test(test_fires_once_on_its_tick),
		cmocka_unit_test(test_past_expiry_fires_next_tick),
		cmocka_unit_test(test_many_revolutions),
		cmocka_unit_test(test_long_jumps),
		cmocka_unit_test(test_same_tick_fifo),
		cmocka_unit_test(test_cancel_and_rearm),
		cmocka_unit_test(test_callbacks_cancel_and_rearm),
		cmocka_unit_test(test_periodic_self_rearm),
		cmocka_unit_test(test_fini_disarms),
		cmocka_unit_test(test_random_100k),
		cmocka_unit_test(test_random_100k_lazy),
		cmocka_unit_test(test_random_100k_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
