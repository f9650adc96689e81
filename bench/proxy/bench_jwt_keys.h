/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_BENCH_JWT_KEYS_H
#define HF_BENCH_JWT_KEYS_H

#include "dataplane/proxy/jwt-t.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A fresh key for @p alg, a config of one rule (issuer https://issuer.example) holding it,
 * prepared for worker 0 as a snapshot's is when @p prepare, and in *@p token (malloc'ed)
 * @p payload signed by it. Aborts on failure. */
struct hf_jwt_config *bench_jwt_setup(const char *alg, const char *payload, char **token,
                                      int prepare);

#ifdef __cplusplus
}
#endif

#endif
