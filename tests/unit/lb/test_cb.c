/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Circuit breakers and outlier detection (lb/cb.c), alone: each limit's
 * per-worker share and its overflow counters, and the ejection state machine
 * (thresholds, runs broken by a success, ejection time growing with the
 * ejections and capped, max_ejection_percent, the return after the time and
 * the decay of the count), and picks that pass over ejected hosts.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>

#include "dataplane/snapshot-t.h"
#include "lb/cb.h"
#include "lb/lb.h"

static struct hf_lb_state *
state_new(void)
{
	struct hf_lb_state *st = malloc(hf_lb_state_size(8, 64));

	assert_non_null(st);
	hf_lb_state_init(st, 8, 64, 42);
	return st;
}

static void
test_share(void **state)
{
	(void)state;
	/* 10 over 3 workers: 4, 3, 3; unlimited stays unlimited; never below 1 */
	assert_int_equal(hf_cb_share(10, 0, 3), 4);
	assert_int_equal(hf_cb_share(10, 1, 3), 3);
	assert_int_equal(hf_cb_share(10, 2, 3), 3);
	assert_int_equal(hf_cb_share(0, 1, 3), 0);
	assert_int_equal(hf_cb_share(1, 0, 4), 1);
	assert_int_equal(hf_cb_share(1, 3, 4), 1);
	assert_int_equal(hf_cb_share(7, 0, 1), 7);
}

static void
test_limits(void **state)
{
	struct hf_lb_state *st = state_new();
	struct hf_cb_limits lim = {.max_connections = 2, .max_pending = 1, .max_requests = 3,
				   .max_retries = 1};
	struct hf_cb_cluster *c = hf_cb_cluster(st, 77);
	enum hf_cb_overflow why;

	(void)state;
	assert_non_null(c);
	assert_ptr_equal(hf_cb_cluster(st, 77), c);
	assert_null(hf_cb_cluster(st, 0));
	/* requests: 3 in flight, the 4th overflows */
	for (int i = 0; i < 3; i++)
		assert_int_equal(hf_cb_admit_rq(c, &lim, 0, 1), 0);
	assert_int_equal(hf_cb_admit_rq(c, &lim, 0, 1), -EBUSY);
	assert_int_equal(c->rq_pending_overflow, 1);
	/* one connection coming up fills pending: a second waits for nothing, overflows */
	assert_int_equal(hf_cb_admit_cx(c, &lim, 0, 1, &why), 0);
	assert_int_equal(hf_cb_admit_cx(c, &lim, 0, 1, &why), -EBUSY);
	assert_int_equal(why, HF_CB_PENDING);
	assert_int_equal(c->cx_overflow, 0);
	assert_int_equal(c->rq_pending_overflow, 2);
	/* it came up: room for a second; a third is over max_connections */
	c->pending--;
	assert_int_equal(hf_cb_admit_cx(c, &lim, 0, 1, &why), 0);
	c->pending--;
	assert_int_equal(hf_cb_admit_cx(c, &lim, 0, 1, &why), -EBUSY);
	assert_int_equal(why, HF_CB_CX);
	assert_int_equal(c->cx_overflow, 1);
	assert_int_equal(c->rq_pending_overflow, 2);
	assert_int_equal(c->cx, 2);
	/* at max_connections it may wait: one pending place, then the queue is full */
	assert_int_equal(hf_cb_admit_wait(c, &lim, 0, 1), 0);
	assert_int_equal(c->pending, 1);
	assert_int_equal(hf_cb_admit_wait(c, &lim, 0, 1), -EBUSY);
	assert_int_equal(c->rq_pending_overflow, 3);
	c->pending--;
	/* retries */
	assert_int_equal(hf_cb_admit_retry(c, &lim, 0, 1), 0);
	assert_int_equal(hf_cb_admit_retry(c, &lim, 0, 1), -EBUSY);
	assert_int_equal(c->rq_retry_overflow, 1);
	/* a worker's share: max_connections 2 over 4 workers is 1 each */
	{
		struct hf_cb_cluster *d = hf_cb_cluster(st, 78);

		assert_int_equal(hf_cb_admit_cx(d, &lim, 3, 4, &why), 0);
		d->pending = 0;
		assert_int_equal(hf_cb_admit_cx(d, &lim, 3, 4, &why), -EBUSY);
		assert_int_equal(why, HF_CB_CX);
	}
	/* unlimited: no limit set, no overflow */
	{
		struct hf_cb_limits none = {0};
		struct hf_cb_cluster *e = hf_cb_cluster(st, 79);

		for (int i = 0; i < 1000; i++) {
			assert_int_equal(hf_cb_admit_rq(e, &none, 0, 2), 0);
			assert_int_equal(hf_cb_admit_cx(e, &none, 0, 2, &why), 0);
		}
	}
	free(st);
}

static void
od_setup(struct hf_lb_state *st, struct hf_cb_cluster **c, struct hf_od_host **h, unsigned int n)
{
	*c = hf_cb_cluster(st, 5);
	(*c)->od = (struct hf_od_config){.consecutive_5xx = 3, .base_ejection_ms = 1000,
					 .max_ejection_ms = 2500, .interval_ms = 500,
					 .max_ejection_percent = 50};
	(*c)->n_hosts = n;
	for (unsigned int i = 0; i < n; i++) {
		h[i] = hf_od_host(st, 5, htonl(0xc6336400u + i), htons(80), true);
		assert_non_null(h[i]);
	}
}

static void
test_eject(void **state)
{
	struct hf_lb_state *st = state_new();
	struct hf_cb_cluster *c;
	struct hf_od_host *h[4];

	(void)state;
	od_setup(st, &c, h, 4);
	assert_null(hf_od_host(st, 5, 1, 1, false));
	assert_ptr_equal(hf_od_host(st, 5, htonl(0xc6336400u), htons(80), false), h[0]);
	/* a success breaks the run: 2 + 2 5xx do not eject, 3 in a row do */
	assert_false(hf_od_report(c, h[0], HF_OD_5XX, 0));
	assert_false(hf_od_report(c, h[0], HF_OD_GATEWAY, 0));
	assert_false(hf_od_report(c, h[0], HF_OD_SUCCESS, 0));
	assert_false(hf_od_report(c, h[0], HF_OD_5XX, 0));
	assert_false(hf_od_report(c, h[0], HF_OD_5XX, 0));
	assert_true(hf_od_report(c, h[0], HF_OD_5XX, 10));
	assert_true(hf_od_ejected(c, h[0], 10));
	assert_int_equal(c->n_ejected, 1);
	assert_int_equal(c->ejections, 1);
	/* base * 1 = 1000 ms */
	assert_true(hf_od_ejected(c, h[0], 1009));
	assert_false(hf_od_ejected(c, h[0], 1010));
	assert_int_equal(c->n_ejected, 0);
	/* ejected again at once: base * 2 */
	for (int i = 0; i < 3; i++)
		hf_od_report(c, h[0], HF_OD_5XX, 1020);
	assert_true(hf_od_ejected(c, h[0], 3019));
	assert_false(hf_od_ejected(c, h[0], 3020));
	/* a third time: base * 3 = 3000, capped at 2500 */
	for (int i = 0; i < 3; i++)
		hf_od_report(c, h[0], HF_OD_5XX, 3020);
	assert_true(hf_od_ejected(c, h[0], 5519));
	assert_false(hf_od_ejected(c, h[0], 5520));
	assert_int_equal(h[0]->n_ejections, 3);
	/* clean intervals decay the count: 2 intervals of 500 ms later, 1 is left */
	assert_false(hf_od_report(c, h[0], HF_OD_SUCCESS, 6520));
	assert_int_equal(h[0]->n_ejections, 1);
	free(st);
}

static void
test_eject_limits(void **state)
{
	struct hf_lb_state *st = state_new();
	struct hf_cb_cluster *c;
	struct hf_od_host *h[4];

	(void)state;
	od_setup(st, &c, h, 4);
	/* 50 % of 4 hosts: two may be out, not three */
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < 3; i++)
			hf_od_report(c, h[k], HF_OD_5XX, 0);
	assert_true(hf_od_ejected(c, h[0], 1));
	assert_true(hf_od_ejected(c, h[1], 1));
	assert_false(hf_od_ejected(c, h[2], 1));
	assert_int_equal(c->n_ejected, 2);
	/* one host may always go, whatever the percentage */
	c->od.max_ejection_percent = 0;
	for (int i = 0; i < 3; i++)
		hf_od_report(c, h[3], HF_OD_5XX, 0);
	assert_false(hf_od_ejected(c, h[3], 1));
	/* panic: min_health_percent 75 with 2 of 4 in */
	assert_false(hf_od_panic(c));
	c->od.min_health_percent = 75;
	assert_true(hf_od_panic(c));
	free(st);
}

static void
test_detectors(void **state)
{
	struct hf_lb_state *st = state_new();
	struct hf_cb_cluster *c;
	struct hf_od_host *h[2];

	(void)state;
	od_setup(st, &c, h, 2);
	c->od.max_ejection_percent = 100;
	/* gateway failures alone: 2 of them with consecutive_gateway 2, 5xx off */
	c->od.consecutive_5xx = 0;
	c->od.consecutive_gateway = 2;
	assert_false(hf_od_report(c, h[0], HF_OD_5XX, 0));
	assert_false(hf_od_report(c, h[0], HF_OD_GATEWAY, 0));
	assert_true(hf_od_report(c, h[0], HF_OD_GATEWAY, 0));
	/* without split, a local failure is a 503: a gateway failure */
	assert_false(hf_od_report(c, h[1], HF_OD_LOCAL_FAILURE, 0));
	assert_true(hf_od_report(c, h[1], HF_OD_LOCAL_FAILURE, 0));
	assert_false(hf_od_ejected(c, h[0], 100000));
	assert_false(hf_od_ejected(c, h[1], 100000));
	/* split: local failures count apart, a connection that comes up resets them */
	c->od.split_local = true;
	c->od.consecutive_local = 2;
	assert_false(hf_od_report(c, h[0], HF_OD_LOCAL_FAILURE, 100000));
	assert_false(hf_od_report(c, h[0], HF_OD_LOCAL_SUCCESS, 100000));
	assert_false(hf_od_report(c, h[0], HF_OD_LOCAL_FAILURE, 100000));
	assert_false(hf_od_report(c, h[0], HF_OD_GATEWAY, 100000));
	assert_true(hf_od_report(c, h[0], HF_OD_LOCAL_FAILURE, 100000));
	assert_int_equal(hf_od_classify(503), HF_OD_GATEWAY);
	assert_int_equal(hf_od_classify(500), HF_OD_5XX);
	assert_int_equal(hf_od_classify(404), HF_OD_SUCCESS);
	free(st);
}

/* Picks pass over what skip() puts out; none in: the policy's pick stands (panic). */
static bool out_mask[4];

static bool
skip_out(void *arg, const struct hf_snap_endpoint *ep, unsigned int index)
{
	(void)arg;
	(void)ep;
	return out_mask[index];
}

static void
test_pick_skips(void **state)
{
	struct hf_lb_state *st = state_new();
	struct hf_snap_endpoint eps[4];
	struct hf_snap_cluster cl = {.id = 9, .n_endpoints = 4, .endpoints = eps};
	struct hf_lb_ctx ctx = {.st = st, .version = 1, .skip = skip_out};
	unsigned int count[4] = {0};

	(void)state;
	for (unsigned int i = 0; i < 4; i++)
		eps[i] = (struct hf_snap_endpoint){.addr = i + 1, .port = 80, .weight = 1};
	for (int lb = HF_LB_ROUND_ROBIN; lb <= HF_LB_RANDOM; lb++) {
		cl.lb = (uint8_t)lb;
		memset(count, 0, sizeof(count));
		out_mask[1] = out_mask[2] = true;
		for (int i = 0; i < 4000; i++)
			count[hf_lb_pick(&ctx, &cl, 0)]++;
		assert_int_equal(count[1] + count[2], 0);
		assert_true(count[0] > 1500 && count[3] > 1500);
		/* every host out: traffic to all rather than none */
		out_mask[0] = out_mask[3] = true;
		memset(count, 0, sizeof(count));
		for (int i = 0; i < 4000; i++)
			count[hf_lb_pick(&ctx, &cl, 0)]++;
		for (int k = 0; k < 4; k++)
			assert_true(count[k] > 500);
		memset(out_mask, 0, sizeof(out_mask));
	}
	free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_share),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_eject),
		cmocka_unit_test(test_eject_limits),
		cmocka_unit_test(test_detectors),
		cmocka_unit_test(test_pick_skips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
