/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_AGENT_FILE_H
#define HF_AGENT_FILE_H

#include <stddef.h>

/* The largest file the agent reads whole: certificates, keys, CA bundles, JWKS. */
#define HF_FILE_MAX (1u << 20)

/*
 * Reads all of @p path (at most HF_FILE_MAX bytes) into a malloc'ed,
 * NUL-terminated *@p out of *@p len bytes. 0, or -errno (-EFBIG when too
 * large, -EIO on a read error); on failure whatever was read is zeroed
 * before it is freed (it may be a private key).
 */
int hf_file_read(const char *path, char **out, size_t *len);

#endif
