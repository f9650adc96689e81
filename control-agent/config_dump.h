/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_CONFIG_DUMP_H
#define HF_CONFIG_DUMP_H

/*
 * GET /config_dump and GET /clusters in Envoy's shapes (envoy.admin.v3),
 * whichever source configured the gateway: the bootstrap's static_resources
 * are the static entries; the Istio YAML path's compiled model, or the
 * resources the xDS client holds (as the server sent them, with their
 * versions and warming state), are the dynamic ones. Agent thread only.
 */
#include <jansson.h>
#include <stdint.h>

#include "control-agent/admin.h"
#include "control-agent/bootstrap.h"
#include "control-agent/model/model.h"
#include "control-agent/xds/dump.h"

struct hf_snapshot;
struct hf_worker;

struct hf_dump_in {
	const struct hf_bootstrap *boot;
	const struct hf_model *m; /* the current snapshot's model */
	unsigned int n_static[3]; /* its first listeners, route configs, clusters: bootstrap */
	uint64_t built_ms;        /* when it was built (last_updated of the YAML path) */
	uint64_t start_ms;        /* wall clock at start (the bootstrap's last_updated) */
	uint64_t version;         /* the snapshot's version (the YAML path's version_info) */
	const struct hf_xds *xds; /* NULL: the Istio YAML path */
	/* /clusters: the workers' circuit-breaker and outlier state (none: NULL, 0) */
	const struct hf_snapshot *snap;
	struct hf_worker *const *workers;
	uint16_t n_workers;
};

/*
 * GET /config_dump: {"configs": [BootstrapConfigDump, ClustersConfigDump,
 * (EndpointsConfigDump with ?include_eds), ListenersConfigDump,
 * RoutesConfigDump, SecretsConfigDump]}. ?resource=FIELD answers that
 * repeated field's entries alone (each with its "@type"), ?name_regex=RE
 * keeps the entries whose resource name RE matches (Hyperscan, at most
 * HF_ADMIN_FILTER_MAX bytes). Private keys read "[redacted]".
 */
void hf_config_dump(const struct hf_dump_in *in, const char *query, struct hf_admin_reply *r);

/*
 * GET /clusters: Envoy's "cluster::host:port::stat::value" lines for what
 * this agent knows of each cluster and host (no per-host traffic counters:
 * those are the workers' /stats), or ?format=json's cluster_statuses.
 */
void hf_clusters_dump(const struct hf_dump_in *in, const char *query, struct hf_admin_reply *r);

/* dump_model.c: model pieces as Envoy v3 resources, each with its "@type". */
json_t *hf_dump_listener(const struct hf_model *m, const struct hf_model_listener *l);
json_t *hf_dump_route_config(const struct hf_model_route_config *rc);
json_t *hf_dump_cluster(const struct hf_model_cluster *c, bool eds);
json_t *hf_dump_cla(const struct hf_model_cluster *c);
/* Appends {name, version_info (unless NULL), last_updated, secret} per certificate of @p m. */
void hf_dump_secrets(const struct hf_model *m, json_t *arr, const char *version, uint64_t ms);
void hf_dump_secret_name(char *b, size_t n, const struct hf_model_listener *l, unsigned int i);

#endif
