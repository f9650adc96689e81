/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_CONFIG_H
#define HF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control-agent/bootstrap.h"
#include "control-agent/istio/istio.h"
#include "control-agent/model/model.h"
#include "control-agent/snapshot.h"
#include "control-agent/watch.h"

/*
 * Where the routing configuration comes from: the bootstrap's
 * static_resources, and the Istio YAML directory of config.istio_dir when
 * there is one. The directory is watched (inotify) and re-read on change or
 * on SIGHUP; a change is parsed, translated and compiled here, on the agent's
 * thread, and only a valid one replaces the snapshot. An invalid one is
 * logged in one line and the old snapshot keeps serving.
 *
 * The certificate, key and CA files a load read are watched too (watch.h):
 * a change to one of them reloads the same way, so a rotated certificate is
 * served by new handshakes while established connections keep the one they
 * started with. A pair that does not match (a certificate written before its
 * key) is refused like any bad change, counted in cert_rejected and logged
 * with its paths; the next change to any of the files retries.
 */
struct hf_config {
	const struct hf_bootstrap *boot;
	unsigned int n_workers;
	int inotify_fd;			/* -1 without istio_dir */
	bool pending;			/* a change was seen; reload at due_ms */
	uint64_t due_ms;
	uint64_t version;		/* of the last snapshot built */
	uint64_t reloads;		/* snapshots built after the first */
	uint64_t rejected;		/* changes refused */
	uint64_t last_build_us;		/* how long the last good load + compile took */
	/* where the last build's time went, in µs, and how many YAML files it had to parse */
	struct hf_config_phases {
		uint64_t read_us, parse_us, translate_us, merge_us, compile_us;
		unsigned int files, files_parsed;
		unsigned int vs_reused;	/* VirtualServices whose routes were not translated again */
	} last;
	struct hf_istio_cache *istio_cache;	/* parsed Istio files kept from build to build */
	char last_error[HF_BOOT_ERR + 64];
	struct hf_watch watch;		/* files the last load read (certificates...) */
	bool by_files;			/* the pending reload is for changed watched files */
	uint64_t cert_changes;		/* reloads for changed watched files */
	uint64_t cert_rejected;		/* of those, refused: the files before serve on */
	/*
	 * The model of the snapshot last built, for GET /config_dump and
	 * /clusters: its first n_static_* listeners, route configurations and
	 * clusters come from the bootstrap, the rest from the Istio directory.
	 */
	struct hf_model model;
	unsigned int n_static_listeners, n_static_route_configs, n_static_clusters;
	uint64_t model_ms;		/* wall clock (ms since the epoch) it was built */
};

/*
 * Builds the snapshot of @p b's configuration, version @p version, for
 * @p n_workers workers. Returns it, or NULL with one line in @p err.
 */
struct hf_snapshot *hf_config_build(const struct hf_bootstrap *b, uint64_t version,
				    unsigned int n_workers, char *err, size_t errlen);

/* Starts watching (no-op without istio_dir). Returns 0 or -errno with @p err. */
int hf_config_open(struct hf_config *c, const struct hf_bootstrap *b, unsigned int n_workers,
		   char *err, size_t errlen);

/*
 * The first snapshot (version 1), recording the files it reads for the watch.
 * NULL with one line in @p err.
 */
struct hf_snapshot *hf_config_first(struct hf_config *c, char *err, size_t errlen);

/* Asks for a reload at the next poll (SIGHUP). */
void hf_config_request_reload(struct hf_config *c, uint64_t now_ms);

/*
 * Reads change notifications; once a change has been quiet for a moment,
 * rebuilds and returns the new snapshot for the caller to publish (NULL: no
 * change, or the change was refused and logged).
 */
struct hf_snapshot *hf_config_poll(struct hf_config *c, uint64_t now_ms);

void hf_config_close(struct hf_config *c);

#endif
