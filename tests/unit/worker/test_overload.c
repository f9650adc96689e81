/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The overload manager's arithmetic (dataplane/overload.c): scaled triggers,
 * the smoothed backlog, several triggers on one action, and the draws that
 * make an action take its level's share of events.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dataplane/overload.h"

static const struct hf_overload_trigger off = {2.0f, 2.0f};

/* A config with every trigger off and a 1 ms window at 1 GHz. */
static void
start(struct hf_overload *o, struct hf_overload_config *cfg)
{
	cfg->window_us = 1000;
	for (int a = 0; a < HF_OVA__N; a++)
		for (int m = 0; m < HF_OVM__N; m++)
			cfg->trigger[a][m] = off;
	hf_overload_init(o, cfg, 1000000000, 7);
}

/* How many of @p n events action @p a takes. */
static unsigned int
takes(struct hf_overload *o, enum hf_overload_action a, unsigned int n)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++)
		k += hf_overload_act(o, a);
	return k;
}

static void
test_scale(void **state)
{
	const struct hf_overload_trigger t = {0.8f, 0.9f};
	const struct hf_overload_trigger step = {0.5f, 0.5f};

	(void)state;
	assert_true(hf_overload_scale(&t, 0.0f) == 0.0f);
	assert_true(hf_overload_scale(&t, 0.79f) == 0.0f);
	assert_true(fabsf(hf_overload_scale(&t, 0.85f) - 0.5f) < 1e-4f);
	assert_true(hf_overload_scale(&t, 0.9f) == 1.0f);
	assert_true(hf_overload_scale(&t, 1.0f) == 1.0f);
	/* scaling == saturation: a binary trigger */
	assert_true(hf_overload_scale(&step, 0.49f) == 0.0f);
	assert_true(hf_overload_scale(&step, 0.5f) == 1.0f);
	/* off never acts, even at full pressure */
	assert_true(hf_overload_scale(&off, 1.0f) == 0.0f);
}

static void
test_levels_and_draws(void **state)
{
	struct hf_overload_config cfg;
	struct hf_overload o;
	float p[HF_OVM__N] = {0};

	(void)state;
	start(&o, &cfg);
	o.cfg.trigger[HF_OVA_SHED_REQUESTS][HF_OVM_STREAMS] = (struct hf_overload_trigger){0.5f, 0.7f};
	o.cfg.trigger[HF_OVA_SHED_REQUESTS][HF_OVM_MBUFS] = (struct hf_overload_trigger){0.9f, 1.0f};
	o.cfg.trigger[HF_OVA_REFUSE_CONNECTIONS][HF_OVM_CONNECTIONS] =
		(struct hf_overload_trigger){0.9f, 0.9f};

	/* Nothing acts below every threshold. */
	p[HF_OVM_STREAMS] = 0.4f;
	hf_overload_update(&o, 0.0f, p);
	assert_int_equal(takes(&o, HF_OVA_SHED_REQUESTS, 10000), 0);
	assert_int_equal(takes(&o, HF_OVA_REFUSE_CONNECTIONS, 10000), 0);

	/* Half way up the streams trigger: about half the requests are shed. */
	p[HF_OVM_STREAMS] = 0.6f;
	hf_overload_update(&o, 0.0f, p);
	assert_true(fabsf(o.level[HF_OVA_SHED_REQUESTS] - 0.5f) < 1e-3f);
	{
		unsigned int k = takes(&o, HF_OVA_SHED_REQUESTS, 100000);

		assert_in_range(k, 48000, 52000);
	}
	/* The higher of two triggers wins: mbufs at 0.95 gives 0.5, streams at 0.65 gives 0.75. */
	p[HF_OVM_STREAMS] = 0.65f;
	p[HF_OVM_MBUFS] = 0.95f;
	hf_overload_update(&o, 0.0f, p);
	assert_true(fabsf(o.level[HF_OVA_SHED_REQUESTS] - 0.75f) < 1e-3f);
	/* At saturation every event is taken, without a draw. */
	p[HF_OVM_CONNECTIONS] = 0.95f;
	hf_overload_update(&o, 0.0f, p);
	assert_int_equal(takes(&o, HF_OVA_REFUSE_CONNECTIONS, 1000), 1000);
	/* Pressure gone: the actions stop at the next window. */
	for (int m = 0; m < HF_OVM__N; m++)
		p[m] = 0.0f;
	hf_overload_update(&o, 0.0f, p);
	assert_int_equal(takes(&o, HF_OVA_SHED_REQUESTS, 10000), 0);
	assert_int_equal(takes(&o, HF_OVA_REFUSE_CONNECTIONS, 10000), 0);
}

static void
test_backlog_smoothed(void **state)
{
	struct hf_overload_config cfg;
	struct hf_overload o;
	float p[HF_OVM__N] = {0};

	(void)state;
	start(&o, &cfg);
	o.cfg.trigger[HF_OVA_DISABLE_KEEPALIVE][HF_OVM_BACKLOG] = (struct hf_overload_trigger){0.8f, 0.8f};
	/* One fully backlogged window is not enough: a burst is not overload. */
	hf_overload_update(&o, 1.0f, p);
	assert_true(fabsf(o.pressure[HF_OVM_BACKLOG] - 0.5f) < 1e-4f);
	assert_int_equal(o.threshold[HF_OVA_DISABLE_KEEPALIVE], 0);
	/* Three in a row are: 0.5, 0.75, 0.875. */
	hf_overload_update(&o, 1.0f, p);
	assert_int_equal(o.threshold[HF_OVA_DISABLE_KEEPALIVE], 0);
	hf_overload_update(&o, 1.0f, p);
	assert_int_equal(o.threshold[HF_OVA_DISABLE_KEEPALIVE], UINT32_MAX);
	/* And it decays as the backlog clears. */
	hf_overload_update(&o, 0.0f, p);
	assert_int_equal(o.threshold[HF_OVA_DISABLE_KEEPALIVE], 0);
	/* The backlog entry of the readings is ignored: only the share counts. */
	p[HF_OVM_BACKLOG] = 1.0f;
	hf_overload_update(&o, 0.0f, p);
	assert_true(o.pressure[HF_OVM_BACKLOG] < 0.3f);
}

/*
 * Which iterations count as lagging: a peer's batches fill a burst or two at
 * a time at any load and count for nothing; only a queue still full after
 * HF_OVERLOAD_LAG_BURSTS full bursts in a row does.
 */
static void
test_lag_streak(void **state)
{
	struct hf_overload_config cfg;
	struct hf_overload o;

	(void)state;
	start(&o, &cfg);
	/* Batches of up to HF_OVERLOAD_LAG_BURSTS full bursts, each drained by the next poll. */
	for (int i = 0; i < 1000; i++) {
		for (int k = 0; k < HF_OVERLOAD_LAG_BURSTS; k++)
			hf_overload_loop(&o, true, 100);
		hf_overload_loop(&o, false, 10);
	}
	assert_int_equal(o.backlog_tsc, 0);
	/* A queue that stays full: every iteration past the streak's start counts. */
	for (int i = 0; i < HF_OVERLOAD_LAG_BURSTS + 10; i++)
		hf_overload_loop(&o, true, 100);
	assert_int_equal(o.backlog_tsc, 10 * 100);
	/* One partial burst ends the streak: the next full one starts over. */
	hf_overload_loop(&o, false, 10);
	hf_overload_loop(&o, true, 100);
	assert_int_equal(o.backlog_tsc, 10 * 100);
	assert_int_equal(o.full_streak, 1);
}

static void
test_defaults(void **state)
{
	struct hf_overload_config cfg;
	struct hf_overload o;
	float p[HF_OVM__N] = {0};

	(void)state;
	hf_overload_defaults(&cfg);
	hf_overload_init(&o, &cfg, 2000000000, 1);
	assert_int_equal(o.window_tsc, 20000000);	/* 10 ms at 2 GHz */
	/* Full pools with their own hard limits, and a full backlog, trigger nothing by default. */
	p[HF_OVM_CONNECTIONS] = 1.0f;
	p[HF_OVM_STREAMS] = 1.0f;
	for (int i = 0; i < 10; i++)
		hf_overload_update(&o, 1.0f, p);
	for (int a = 0; a < HF_OVA__N; a++)
		assert_int_equal(o.threshold[a], 0);
	/* A pool of mbufs nearly gone: every action, connections refused last. */
	p[HF_OVM_MBUFS] = 0.97f;
	hf_overload_update(&o, 0.0f, p);
	assert_int_equal(o.threshold[HF_OVA_DISABLE_KEEPALIVE], UINT32_MAX);
	assert_true(o.threshold[HF_OVA_SHED_REQUESTS] > 0);
	assert_true(o.level[HF_OVA_REFUSE_CONNECTIONS] < o.level[HF_OVA_SHED_REQUESTS]);
	assert_string_equal(hf_overload_action_name(HF_OVA_SHED_REQUESTS), "shed_requests");
	assert_string_equal(hf_overload_monitor_name(HF_OVM_BACKLOG), "backlog");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_levels_and_draws),
		cmocka_unit_test(test_backlog_smoothed),
		cmocka_unit_test(test_lag_streak),
		cmocka_unit_test(test_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
