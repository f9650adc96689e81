/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_SNAPSHOT_T_H
#define HF_SNAPSHOT_T_H

#include <stdint.h>

#include "control-agent/bootstrap.h"

/*
 * What the workers route by: built by the control agent, immutable once
 * published, freed only after every worker has reported a quiescent state
 * since it stopped being current. A worker reads the current one at the top
 * of each loop and may use it, and anything it points to, until the end of
 * that iteration — never across iterations (copy what must outlive one).
 */
struct hf_snapshot {
	uint64_t version;
	unsigned int n_clusters;
	struct hf_boot_cluster clusters[HF_BOOT_MAX_CLUSTERS];
	/* route configuration of each HTTP listener, by listener index (empty for others) */
	struct hf_route_table tables[HF_BOOT_MAX_LISTENERS];
	/* what the tables point into: in the same allocation, after this struct */
	unsigned int n_vhosts;
	struct hf_vhost *vhosts;
	unsigned int n_routes;
	struct hf_route *routes;
};

#endif
