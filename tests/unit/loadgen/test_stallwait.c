/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a measured response waited through (bench/loadgen/stallwait.h), on a
 * simulated open loop: requests fall due at a fixed rate into a FIFO backlog
 * that a server drains at a fixed rate, except while its loop stalls. The
 * stall's shadow (its end plus its length) covers the queue it leaves only
 * while the server has as much to spare as it gets; nearer saturation the
 * queue outlives the shadow, and the responses due in it are told apart from
 * those due once the backlog emptied.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "bench/loadgen/stallwait.h"

#define MAXQ 4096

struct sim {
	uint64_t due_every;		/* a request falls due every this many ticks */
	uint64_t serve_every;		/* the server answers one every this many ticks */
	uint64_t stall_start, stall_end;	/* the server's loop stalls in [start, end) */
	bool peer;			/* the stall is the target's (else the loadgen's own) */
	uint64_t n[4];			/* responses by enum lg_wait */
	uint64_t queue_first, queue_last;	/* intended times of the first and last LG_WAIT_QUEUE */
	uint64_t clean_after;		/* first intended time after the stall classed clean */
};

/* Runs @p s for @p ticks; the shadow's end is published at the stall's end, as the loops do. */
static void
simulate(struct sim *s, uint64_t ticks)
{
	uint64_t q[MAXQ], head = 0, tail = 0, shadow = 0, next_serve = 0;
	struct lg_qshadow qs = {0};

	for (uint64_t now = 1; now <= ticks; now++) {
		bool stalled = now >= s->stall_start && now < s->stall_end;

		if (now == s->stall_end)
			shadow = 2 * s->stall_end - s->stall_start;
		if (now % s->due_every == 0) {
			assert_true(tail - head < MAXQ);
			q[tail++ % MAXQ] = now;
		}
		if (!stalled && head != tail && now >= next_serve) {
			uint64_t intended = q[head++ % MAXQ];
			enum lg_wait k = lg_wait_class(&qs, intended, s->peer ? 0 : shadow,
						       s->peer ? shadow : 0);

			s->n[k]++;
			if (k == LG_WAIT_QUEUE) {
				if (s->queue_first == 0)
					s->queue_first = intended;
				s->queue_last = intended;
			}
			if (k == LG_WAIT_CLEAN && intended > s->stall_end && s->clean_after == 0)
				s->clean_after = intended;
			next_serve = now + s->serve_every;
		}
		/* The dispatcher's pass: the backlog here holds what is due and not yet answered. */
		lg_qshadow_update(&qs, head != tail, now, s->peer ? 0 : shadow, s->peer ? shadow : 0);
	}
}

/* Half load: the shadow covers the queue, and nothing is left to the backlog rule. */
static void
test_half_load_shadow_covers(void **state)
{
	struct sim s = {.due_every = 10, .serve_every = 5, .stall_start = 1000, .stall_end = 2000};

	(void)state;
	simulate(&s, 10000);
	assert_true(s.n[LG_WAIT_OWN] > 0);
	assert_int_equal(s.n[LG_WAIT_QUEUE], 0);
	assert_int_equal(s.n[LG_WAIT_PEER], 0);
	/* 1000 due every 10 before the stall, and all but the stall's and its shadow's after it */
	assert_true(s.n[LG_WAIT_CLEAN] >= 800);
}

/*
 * 80% load: the 100 requests due in a 1000-tick stall drain at 1 per 50 ticks
 * to spare, in 5000 ticks, past the shadow's end (3000). Those due between the
 * shadow's end and the backlog's emptying are the queue's; what is due after
 * that is clean again.
 */
static void
test_high_load_queue_outlives_shadow(void **state)
{
	struct sim s = {.due_every = 10, .serve_every = 8, .stall_start = 1000, .stall_end = 2000};

	(void)state;
	simulate(&s, 20000);
	assert_true(s.n[LG_WAIT_OWN] > 0);
	assert_true(s.n[LG_WAIT_QUEUE] > 0);
	assert_true(s.queue_first >= 3000);
	assert_true(s.clean_after > s.queue_last);
	assert_true(s.n[LG_WAIT_CLEAN] > 0);
	/* The backlog empties near 1000 + 1000 * 10 / 2 = 6000: nothing due after ~6100 is the queue's. */
	assert_true(s.queue_last < 6200);
}

/* The same with the target's stall (its stall board): its shadow, then the queue. */
static void
test_peer_stall_then_queue(void **state)
{
	struct sim s = {.due_every = 10, .serve_every = 8, .stall_start = 1000, .stall_end = 2000,
			.peer = true};

	(void)state;
	simulate(&s, 20000);
	assert_int_equal(s.n[LG_WAIT_OWN], 0);
	assert_true(s.n[LG_WAIT_PEER] > 0);
	assert_true(s.n[LG_WAIT_QUEUE] > 0);
	assert_true(s.queue_first >= 3000);
}

/* No stall: a standing backlog at 80% load is the server's own queue, never left out. */
static void
test_no_stall_nothing_left_out(void **state)
{
	struct sim s = {.due_every = 10, .serve_every = 8};

	(void)state;
	simulate(&s, 20000);
	assert_int_equal(s.n[LG_WAIT_OWN] + s.n[LG_WAIT_PEER] + s.n[LG_WAIT_QUEUE], 0);
	assert_true(s.n[LG_WAIT_CLEAN] >= 1990);
}

/* Precedence: the own shadow, then the target's, then the backlog; each with its own bound. */
static void
test_class_order(void **state)
{
	struct lg_qshadow q = {.stalled = false, .end = 500};

	(void)state;
	assert_int_equal(lg_wait_class(&q, 100, 200, 300), LG_WAIT_OWN);
	assert_int_equal(lg_wait_class(&q, 250, 200, 300), LG_WAIT_PEER);
	assert_int_equal(lg_wait_class(&q, 400, 200, 300), LG_WAIT_QUEUE);
	assert_int_equal(lg_wait_class(&q, 600, 200, 300), LG_WAIT_CLEAN);
	q.stalled = true;
	assert_int_equal(lg_wait_class(&q, 600, 200, 300), LG_WAIT_QUEUE);
	/* A backlog found empty ends the stalled one; one that a shadow never touched stays clean. */
	lg_qshadow_update(&q, false, 700, 200, 300);
	assert_false(q.stalled);
	assert_int_equal(q.end, 700);
	lg_qshadow_update(&q, true, 800, 200, 300);
	assert_false(q.stalled);
	assert_int_equal(lg_wait_class(&q, 750, 200, 300), LG_WAIT_CLEAN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_half_load_shadow_covers),
		cmocka_unit_test(test_high_load_queue_outlives_shadow),
		cmocka_unit_test(test_peer_stall_then_queue),
		cmocka_unit_test(test_no_stall_nothing_left_out),
		cmocka_unit_test(test_class_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
