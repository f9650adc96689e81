/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_BOOTSTRAP_INT_H
#define HF_BOOTSTRAP_INT_H

/*
 * Between bootstrap.c and bootstrap_mesh.c: the xds and identity blocks, and
 * the HTTP listener settings both the config and the xds block take.
 */
#include <libconfig.h>

struct hf_cfg;
struct hf_bootstrap;
struct hf_http_listener_config;

/* Limits and timeouts of an HTTP connection manager in group @p s into @p h. 0 or the failure. */
int hf_boot_load_http_settings(struct hf_cfg *c, const config_setting_t *s, const char *where,
			       struct hf_http_listener_config *h);

/* The xds block (absent: none); the node id defaults from its metadata. 0 or the failure. */
int hf_boot_load_xds(struct hf_cfg *c, const config_setting_t *root, struct hf_bootstrap *b);
/* The identity block (absent: none): the SPIFFE ID and its files, checked. 0 or the failure. */
int hf_boot_load_identity(struct hf_cfg *c, const config_setting_t *root, struct hf_bootstrap *b);

#endif
