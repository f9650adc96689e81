/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_BOOTSTRAP_INT_H
#define HF_BOOTSTRAP_INT_H

/* What bootstrap.c takes from bootstrap_mesh.c: the xds and identity blocks. */
#include <libconfig.h>

struct hf_cfg;
struct hf_bootstrap;

/* The xds block (absent: none); the node id defaults from its metadata. 0 or the failure. */
int hf_boot_load_xds(struct hf_cfg *c, const config_setting_t *root, struct hf_bootstrap *b);
/* The identity block (absent: none): the SPIFFE ID and its files, checked. 0 or the failure. */
int hf_boot_load_identity(struct hf_cfg *c, const config_setting_t *root, struct hf_bootstrap *b);

#endif
