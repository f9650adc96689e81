/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_HTTP_AUTHZ_H
#define HF_HTTP_AUTHZ_H

#include "dataplane/http/h1.h"

struct hf_worker;
struct hf_http_session;

/*
 * Checks request @p msg of session @p s, its target already shaped (the
 * normalized path the router will use), against the AuthorizationPolicies of
 * the worker's snapshot, before any route is looked at (Envoy's RBAC filter
 * runs before the router). Counts the verdict. Returns NULL when the request
 * may go on, or the %RESPONSE_CODE_DETAILS% of its denial (static storage),
 * for a 403 "RBAC: access denied" with flag RBAC.
 */
const char *hf_http_authz(struct hf_worker *w, const struct hf_http_session *s,
			  const struct hf_h1_message *msg);

#endif
