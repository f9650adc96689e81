/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_AUTHZ_BUILD_H
#define HF_AUTHZ_BUILD_H

/*
 * AuthorizationPolicies, agent side: the memory a struct hf_authz
 * (dataplane/proxy/authz-t.h) is built in, its copy into a snapshot, and the
 * names its per-policy counters are shown under. The Istio loader
 * (control-agent/istio/authz.c) builds the model's; hf_authz_compile() gives
 * each snapshot its own. Never called by a worker.
 */
#include <stddef.h>
#include <stdint.h>

#include "dataplane/proxy/authz-t.h"

struct hf_stat_line;

/* An empty set of policies with its own memory; NULL when out of memory. */
struct hf_authz *hf_authz_new(void);

/* @p n zeroed bytes in the memory of @p az; NULL when out of memory. */
void *hf_authz_alloc(struct hf_authz *az, size_t n);

/* A copy of @p s in the memory of @p az; NULL when out of memory. */
char *hf_authz_strdup(struct hf_authz *az, const char *s);

/* Frees @p az and everything in its memory. NULL is fine. */
void hf_authz_free(struct hf_authz *az);

/*
 * The snapshot's copy of @p m: its own memory (nothing points into @p m), each
 * policy given its counter slot (by namespace/name, kept across snapshots;
 * past HF_AUTHZ_SLOTS - 1 names, slot 0) and each rule its access log
 * details (interned for the life of the process, at most
 * HF_AUTHZ_DETAILS_MAX; past that, the policy's without the rule). NULL when
 * out of memory.
 */
struct hf_authz *hf_authz_compile(const struct hf_authz *m);

#define HF_AUTHZ_DETAILS_MAX 4096

/*
 * The per-policy lines of /stats, summed over @p n_workers workers:
 * "rbac.policy.<ns>.<name>.denied" (DENY), ".allowed" (ALLOW, the first
 * that matched), ".audited" (AUDIT), for every policy a snapshot has held,
 * and "rbac.policy.overflow" for those past the slots. At most
 * HF_AUTHZ_SLOTS + 1 lines from l[*n], stopping at @p cap.
 */
void hf_authz_stat_lines(unsigned int n_workers, struct hf_stat_line *l, size_t *n, size_t cap);

#endif
