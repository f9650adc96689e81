/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_XDS_DUMP_H
#define HF_XDS_DUMP_H

/* The xDS client's part of GET /config_dump (control-agent/config_dump.c). */
#include <jansson.h>
#include <stdint.h>

#include "control-agent/model/model.h"
#include "control-agent/xds/xds.h"

/*
 * Adds the dynamic resources held to Envoy's config dumps: @p clusters gets
 * version_info, dynamic_active_clusters and dynamic_warming_clusters;
 * @p listeners version_info and dynamic_listeners (active_state,
 * warming_state); @p routes dynamic_route_configs; @p endpoints (NULL: left
 * out) dynamic_endpoint_configs. Each entry: version_info, the resource with
 * "@type", last_updated.
 */
void hf_xds_dump(const struct hf_xds *x, json_t *clusters, json_t *listeners, json_t *routes,
                 json_t *endpoints);

/*
 * Adds the Secrets to Envoy's SecretsConfigDump @p secrets:
 * dynamic_active_secrets (each as sent, private keys "[redacted]") and
 * dynamic_warming_secrets (named by a listener or cluster, not received yet).
 */
void hf_xds_dump_secrets(const struct hf_xds *x, json_t *secrets);

/*
 * The model of the snapshot last built from xDS (empty before the first),
 * its first n_static[0] listeners, [1] route configurations and [2] clusters
 * from the bootstrap; *@p built_ms when the newest resource was taken.
 */
const struct hf_model *hf_xds_model(const struct hf_xds *x, unsigned int n_static[3],
                                    uint64_t *built_ms);

/* @p ms (since the epoch) as RFC 3339 with milliseconds, UTC: a new JSON string. */
json_t *hf_json_time_ms(uint64_t ms);

#endif
