/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_AGENT_H
#define HF_AGENT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "control-agent/access_log.h"
#include "control-agent/admin.h"
#include "control-agent/bootstrap.h"
#include "control-agent/config.h"
#include "control-agent/snapshot.h"
#include "control-agent/tickets.h"
#include "control-agent/xds/xds.h"
#include "dataplane/worker-t.h"

/*
 * The control agent: runs on the EAL main lcore, owns configuration, the
 * admin server and reporting. It reads workers only through their counters
 * and talks to them only through the port's link_gen and the stop flag.
 */
struct hf_agent {
	const struct hf_bootstrap *boot;
	struct hf_port *ports;
	uint16_t n_ports;
	struct hf_worker *const *workers;
	uint16_t n_workers;
	struct hf_admin *admin;
	uint64_t start_ms;
	bool live;			/* every port's link has been up once */
	bool link_up[HF_MAX_PORTS];
	struct hf_snapshot_publisher pub;	/* pub.qsbr set by the caller */
	struct hf_access_log alog;	/* f NULL: no access log */
	struct hf_config config;	/* where snapshots come from; hot reload */
	struct hf_xds *xds;		/* the bootstrap's xds server; NULL without one */
	struct hf_tickets tickets;	/* TLS session ticket keys, rotated */
};

/* Set from the signal handler (SIGINT, SIGTERM) or by POST /quitquitquit. */
extern volatile sig_atomic_t hf_agent_stop_requested;

/* Set by SIGHUP: read the configuration again. */
extern volatile sig_atomic_t hf_agent_reload_requested;

/*
 * Publishes the first snapshot (from the bootstrap), opens the admin listener
 * and installs the signal handlers. Returns 0 or a negative errno with a
 * message in @p err.
 */
int hf_agent_init(struct hf_agent *a, char *err, size_t errlen);

/** Serves admin requests and watches links until a stop is requested. Returns 0. */
int hf_agent_run(struct hf_agent *a);

/** Closes the admin server; with the workers stopped, frees every snapshot. */
void hf_agent_fini(struct hf_agent *a);

/*
 * Writes every counter, summed over workers, and the server and port gauges,
 * one "name: value" per line in name order, to @p out (the admin applies
 * /stats?filter= to these lines, see admin.h).
 */
void hf_agent_stats(struct hf_agent *a, struct hf_strbuf *out);

/*
 * Room for the longest stat name Hydrofoil makes: a cluster name
 * ("outbound|<port>|<subset>|<host>", a DNS name of up to 253 characters and a
 * label value of up to 63) or a policy's namespace (63) and name (253), with
 * their prefix and suffix ("cluster.", ".outlier_detection.ejections_enforced_total").
 */
#define HF_STAT_NAME_MAX 400

/* One line of /stats: a counter (only grows) or a gauge, with its description if it has one. */
struct hf_stat_line {
	char name[HF_STAT_NAME_MAX];
	uint64_t value;
	const char *help;		/* NULL: none */
	bool gauge;
};

/*
 * The lines hf_agent_stats() prints, in name order, in an array the caller
 * frees; *@p n lines. NULL when out of memory.
 */
struct hf_stat_line *hf_agent_stat_lines(struct hf_agent *a, size_t *n);

/*
 * GET /stats/prometheus (control-agent/prometheus.c): every /stats line and
 * Istio's standard metrics, in the Prometheus text format (version 0.0.4).
 */
void hf_agent_prometheus(struct hf_agent *a, struct hf_strbuf *out);

#endif
