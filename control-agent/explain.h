/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_EXPLAIN_H
#define HF_EXPLAIN_H

#include "control-agent/admin.h"
#include "dataplane/proxy/listener-t.h"
#include "dataplane/snapshot-t.h"

/*
 * GET /explain?method=M&url=U[&header=name:value]...[&host=H][&port=P]: the
 * listener, path normalization, virtual host, route, clusters (with their
 * weights) and endpoints a worker would give that request on snapshot @p s,
 * each with why, as text into @p r. The listeners' settings (path
 * normalization) come from @p pc. A bad query gets a 400 saying what is wrong.
 * Called on the agent thread, which owns @p s.
 */
void hf_explain(const struct hf_snapshot *s, const struct hf_proxy_config *pc, const char *query,
		struct hf_admin_reply *r);

#endif
