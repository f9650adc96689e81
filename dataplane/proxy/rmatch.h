/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_RMATCH_H
#define HF_RMATCH_H

/*
 * Route selection inside one virtual host, as Istio's HTTPMatchRequest and
 * Envoy's RouteMatch define it: the route of lowest index one of whose match
 * blocks holds entirely wins (blocks OR, conditions of a block AND; a route
 * without blocks takes every request). The cost of a lookup does not grow
 * with the number of routes: see rmatch.c for how.
 *
 * Built by the control agent (control-agent/compile/rmatch_build.h) into the
 * layout of rmatch-t.h; read by any number of workers at once (read-only),
 * each with its own scratch.
 *
 * What a condition compares, per Istio/Envoy:
 * - uri: the path, the target up to the first '?' (the query is not part of
 *   it, and the target is taken as the parser gives it); exact, prefix or
 *   regex, case-insensitive when the match says ignore_case — for a regex too
 *   (HS_FLAG_CASELESS), although Istio documents ignoreUriCase for exact and
 *   prefix only and Envoy ignores case_sensitive for safe_regex: a translator
 *   that wants their letter leaves ignore_case off regexes.
 * - method: the request method as sent; authority: the Host header as sent
 *   (port included when the client sent one; empty when absent); scheme: the
 *   @p scheme of hf_rmatch_find(). Case-sensitive unless ignore_case.
 * - port: the listener port the request came in on; 0 is any.
 * - headers: by name, case-insensitively; several fields of one name are one
 *   value joined with ',' (Envoy since CVE-2020-25017); exact, prefix, regex,
 *   or PRESENT (ANY, Istio's `{}`, is taken as PRESENT). A missing header
 *   fails every condition but `absent` ones.
 * - absent (withoutHeaders): the negation — holds when the field is missing
 *   or its value does not match.
 * - query parameters: by name (case-sensitive), the first occurrence, its
 *   value as sent (not percent-decoded, as Envoy's route matcher); "?key"
 *   has the value ""; exact, prefix, regex or PRESENT.
 * - regexes match the whole value (Envoy's safe_regex full match): every one
 *   is compiled as ^(?:pattern)\z. Istio's regexes are RE2; Hyperscan's PCRE
 *   dialect takes their common subset, and what Hyperscan refuses is refused
 *   here. Bytes, not UTF-8 code points.
 */
#include <stdint.h>

#include <hs/hs.h>

#include "dataplane/http/h1.h"

struct hf_rmatch;

/*
 * The index of the first route of @p m that @p msg (a parsed request head)
 * matches, arriving on listener port @p port with scheme @p scheme ("http",
 * "https"; NUL-terminated), or -1 when none does (404 NR). Hot path: no
 * allocation, no lock, no system call. @p scratch is the worker's own, grown
 * by hf_rmatch_scratch_grow() for @p m (may be NULL when @p m has no regex).
 */
int hf_rmatch_find(const struct hf_rmatch *m, hs_scratch_t *scratch,
                   const struct hf_h1_message *msg, uint16_t port, const char *scheme);

#endif
