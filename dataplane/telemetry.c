/* SPDX-License-Identifier: Apache-2.0 */
/* /hydrofoil/stats over DPDK telemetry (telemetry.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_telemetry.h>

#include "dataplane/counters.h"
#include "dataplane/telemetry.h"
#include "dataplane/worker-t.h"

static struct hf_worker *const *tel_workers;
static unsigned int tel_n;		/* 0: not answering (before start, after hf_telemetry_fini) */
static unsigned int tel_busy;		/* callbacks reading the workers now */

static int
stats_cb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct hf_counters sum = {0};
	uint64_t left = 0;
	unsigned int n, used = 0;
	char key[RTE_TEL_MAX_STRING_LEN];
	size_t plen = params != NULL ? strlen(params) : 0;

	(void)cmd;
	/* Pairs with hf_telemetry_fini(): it clears tel_n, then waits for tel_busy to drop. */
	__atomic_add_fetch(&tel_busy, 1, __ATOMIC_SEQ_CST);
	n = __atomic_load_n(&tel_n, __ATOMIC_SEQ_CST);
	for (unsigned int i = 0; i < n; i++)
		hf_counters_add(&sum, &tel_workers[i]->cnt);
	__atomic_sub_fetch(&tel_busy, 1, __ATOMIC_SEQ_CST);
	rte_tel_data_start_dict(d);
	for (unsigned int i = 0; i < HF_CNT__MAX; i++) {
		const char *name = hf_counter_name((enum hf_counter)i);

		if (plen > 0 ? strncmp(name, params, plen) != 0 : sum.v[i] == 0)
			continue;
		if (used == RTE_TEL_MAX_DICT_ENTRIES - 1) {
			left++;
			continue;
		}
		/* telemetry names take letters, digits, '_' and '/': "http.drop.x" is "http/drop/x" */
		snprintf(key, sizeof(key), "%s", name);
		for (char *c = key; *c != '\0'; c++)
			*c = *c == '.' ? '/' : (isalnum((unsigned char)*c) || *c == '_') ? *c : '_';
		rte_tel_data_add_dict_u64(d, key, sum.v[i]);
		used++;
	}
	if (left > 0)
		rte_tel_data_add_dict_u64(d, "hydrofoil/left_out", left);
	return 0;
}

int
hf_telemetry_init(struct hf_worker *const *workers, unsigned int n)
{
	tel_workers = workers;
	__atomic_store_n(&tel_n, n, __ATOMIC_SEQ_CST);
	/* the help must stay under RTE_TEL_MAX_STRING_LEN (128) or the command is refused */
	return rte_telemetry_register_cmd("/hydrofoil/stats", stats_cb,
					  "Hydrofoil's counters summed over workers: non-zero ones, "
					  "or those named from the prefix. Parameters: string prefix");
}

void
hf_telemetry_fini(void)
{
	__atomic_store_n(&tel_n, 0, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&tel_busy, __ATOMIC_SEQ_CST) != 0)
		usleep(1000);
}
