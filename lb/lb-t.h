/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_LB_T_H
#define HF_LB_T_H

/*
 * How a cluster picks an endpoint (Istio's DestinationRule loadBalancer,
 * Envoy's lb_policy). The values are stored in the snapshot's clusters.
 */
enum hf_lb_policy {
	HF_LB_ROUND_ROBIN = 0,
	HF_LB_LEAST_REQUEST,		/* LEAST_REQUEST and LEAST_CONN */
	HF_LB_RANDOM,
	HF_LB_PASSTHROUGH,
	HF_LB_CONSISTENT_HASH,		/* kept in the model for the load-balancing issue */
};

#endif
