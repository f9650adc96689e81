/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_RMATCH_BUILD_H
#define HF_RMATCH_BUILD_H

/*
 * The route matcher's build, agent side: compiles a virtual host's model
 * routes into the data plane's matcher (dataplane/proxy/rmatch-t.h), which
 * workers read with hf_rmatch_find() (dataplane/proxy/rmatch.h, where what
 * each condition compares is told). Allocates, compiles Hyperscan
 * databases, takes the lock of the database cache: never on a worker.
 */
#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>

#include "control-agent/model/model.h"

struct hf_rmatch;

/*
 * Builds the matcher of @p n_routes routes (a virtual host's, in order).
 * Copies everything it keeps: @p routes may be freed afterwards. Databases
 * are shared with other matchers through a locked cache, so a rebuild while
 * the previous matcher still lives compiles only what changed. Returns the
 * matcher, or NULL with a message in @p err naming the route index (and
 * name), the match block, the dimension and the pattern of a refused regex
 * with Hyperscan's reason, or the condition the matcher does not take, or
 * "out of memory".
 */
struct hf_rmatch *hf_rmatch_build(const struct hf_model_route *routes, unsigned int n_routes,
                                  char *err, size_t errlen);

/* Frees @p m (built by hf_rmatch_build()) and drops its references to shared databases. NULL is
 * fine. */
void hf_rmatch_free(struct hf_rmatch *m);

/*
 * Grows *@p scratch (allocating it when NULL) so that it fits every database
 * of @p m: call it for every matcher of a snapshot, then give each worker its
 * own copy with hs_clone_scratch(). Returns 0, or -ENOMEM.
 */
int hf_rmatch_scratch_grow(const struct hf_rmatch *m, hs_scratch_t **scratch);

/* What a build produced and what it cost, for logs, the admin API and benchmarks. */
struct hf_rmatch_stats {
	unsigned int n_routes;
	unsigned int n_blocks;     /* match blocks indexed (routes after a catch-all are not) */
	unsigned int n_trie_nodes; /* both path tries */
	unsigned int n_regexes;    /* regex conditions, every dimension */
	unsigned int n_screened;   /* path regexes behind a literal screen (see rmatch_build.c) */
	unsigned int n_databases;  /* Hyperscan databases referenced */
	unsigned int n_compiled;   /* of which compiled by this build */
	unsigned int n_reused;     /* of which shared with an earlier build (not compiled again) */
	uint64_t build_ns;         /* wall time of hf_rmatch_build() */
	size_t bytes;              /* memory held, databases included */
};

void hf_rmatch_stats(const struct hf_rmatch *m, struct hf_rmatch_stats *st);

#endif
