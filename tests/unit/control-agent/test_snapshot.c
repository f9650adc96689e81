/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Snapshot publication under RCU: a replaced snapshot stays readable until
 * every worker has reported a quiescent state after the swap, then goes.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "hf_test.h"
#include "control-agent/snapshot.h"

static struct hf_bootstrap boot;

static void
test_grace_period(void **state)
{
	struct hf_snapshot_publisher pub = {0};
	struct rte_rcu_qsbr *q = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(2), RTE_CACHE_LINE_SIZE);
	const struct hf_snapshot *seen0, *seen1;

	(void)state;
	assert_non_null(q);
	assert_int_equal(rte_rcu_qsbr_init(q, 2), 0);
	pub.qsbr = q;
	/* Two workers, both online. */
	for (unsigned int t = 0; t < 2; t++) {
		rte_rcu_qsbr_thread_register(q, t);
		rte_rcu_qsbr_thread_online(q, t);
	}
	boot.n_clusters = 1;
	strcpy(boot.clusters[0].name, "v1");
	assert_int_equal(hf_snapshot_publish(&pub, hf_snapshot_build(&boot, 1)), 0);
	seen0 = hf_snapshot_current();	/* worker 0 starts an iteration on version 1 */
	seen1 = hf_snapshot_current();	/* so does worker 1 */
	assert_int_equal(seen0->version, 1);

	strcpy(boot.clusters[0].name, "v2");
	assert_int_equal(hf_snapshot_publish(&pub, hf_snapshot_build(&boot, 2)), 0);
	assert_int_equal(hf_snapshot_current()->version, 2);	/* new iterations see v2 */
	assert_string_equal(seen0->clusters[0].name, "v1");	/* in-flight ones keep v1 */
	assert_int_equal(hf_snapshot_reclaim(&pub, false), 1);	/* nobody quiescent yet */
	rte_rcu_qsbr_quiescent(q, 0);
	assert_int_equal(hf_snapshot_reclaim(&pub, false), 1);	/* worker 1 may still read v1 */
	assert_string_equal(seen1->clusters[0].name, "v1");
	rte_rcu_qsbr_quiescent(q, 1);
	assert_int_equal(hf_snapshot_reclaim(&pub, false), 0);	/* now v1 is gone */
	assert_int_equal(pub.freed, 1);
	assert_int_equal(pub.published, 2);

	/* An offline worker does not hold grace periods up. */
	rte_rcu_qsbr_thread_offline(q, 1);
	assert_int_equal(hf_snapshot_publish(&pub, hf_snapshot_build(&boot, 3)), 0);
	rte_rcu_qsbr_quiescent(q, 0);
	assert_int_equal(hf_snapshot_reclaim(&pub, false), 0);
	assert_int_equal(pub.freed, 2);
	free(hf_snapshot_now);
	hf_snapshot_now = NULL;
	rte_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grace_period),
	};

	hf_test_eal(0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
