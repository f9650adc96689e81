/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_CERTS_H
#define HF_CERTS_H

/*
 * The certificates the current configuration serves, as the admin's
 * GET /certs shows them (Envoy's admin.v3.Certificates JSON) and as expiry
 * gauges in /stats. Read from the snapshot's TLS servers (the PEM bytes the
 * workers build their contexts from), each named by the watched file whose
 * bytes they are (watch.h), "<inline>" when none is. Agent thread only.
 */
#include <stdint.h>

#include "control-agent/strbuf.h"
#include "control-agent/watch.h"
#include "dataplane/snapshot-t.h"

/*
 * {"certificates": [{"ca_cert": [...], "cert_chain": [...]}, ...]}: one entry
 * per distinct (certificate, CA) pair of @p s's TLS servers, each
 * certificate with path, serial_number, subject_alt_names,
 * days_until_expiration, valid_from and expiration_time (@p now_s: the
 * wall clock, seconds since the epoch).
 */
void hf_certs_json(const struct hf_snapshot *s, const struct hf_watch *w, int64_t now_s,
		   struct hf_strbuf *b);

/*
 * Calls @p fn once per distinct certificate of @p s (leaf or CA) with a name
 * for its gauge (its file's path relative to @p creds_dir when under it, else
 * the path; '/' as '.') and the whole days until it expires (negative once
 * it has). Returns how many.
 */
unsigned int hf_certs_expiry(const struct hf_snapshot *s, const struct hf_watch *w,
			     const char *creds_dir, int64_t now_s,
			     void (*fn)(void *arg, const char *name, int64_t days), void *arg);

#endif
