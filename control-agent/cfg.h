/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_CFG_H
#define HF_CFG_H

#include <stddef.h>

#include <libconfig.h>

/* Longest dotted key path an error names ("static_resources.listeners.[3].port"). */
#define HF_CFG_KEY 128

/* One file being read: where errors go. */
struct hf_cfg {
	const char *path;
	char *err;
	size_t errlen;
};

/* Writes "PATH:LINE: KEY: message" (the line of @p s, 1 when NULL) into c->err. Returns -EINVAL. */
int hf_cfg_fail(struct hf_cfg *c, const config_setting_t *s, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "an integer", "a group { }", ...: what a libconfig type is called in errors. */
const char *hf_cfg_type_name(int type);

/* Refuses any member of group @p g whose name is not in @p known (NULL-terminated). 0 or -EINVAL. */
int hf_cfg_check_keys(struct hf_cfg *c, const config_setting_t *g, const char *where,
		      const char *const *known);

/*
 * Fetches member @p name of @p g with the expected @p type. Returns the
 * setting, NULL when absent (and not @p required), or NULL with @p *rc set.
 */
const config_setting_t *hf_cfg_member(struct hf_cfg *c, const config_setting_t *g, const char *where,
				      const char *name, int type, int required, int *rc);

/* A non-empty string shorter than @p dstlen into @p dst; absent and optional: 0, untouched. */
int hf_cfg_get_string(struct hf_cfg *c, const config_setting_t *g, const char *where,
		      const char *name, char *dst, size_t dstlen, int required);

/* An integer in [@p lo, @p hi] into @p dst; absent and optional: 0, untouched. */
int hf_cfg_get_int(struct hf_cfg *c, const config_setting_t *g, const char *where, const char *name,
		   long long lo, long long hi, long long *dst, int required);

/* An array of strings into rows of @p rowlen bytes; returns the count or -EINVAL. */
int hf_cfg_get_strings(struct hf_cfg *c, const config_setting_t *g, const char *where,
		       const char *name, char *rows, size_t rowlen, unsigned int max);

/* A number in [0, 1] into @p dst; absent: 0, untouched. */
int hf_cfg_get_prob(struct hf_cfg *c, const config_setting_t *g, const char *where, const char *name,
		    double *dst);

#endif
