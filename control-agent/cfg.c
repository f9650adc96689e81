/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading libconfig files strictly: every key known, every value of its type
 * and range, every error one line "FILE:LINE: KEY: what is wrong".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "control-agent/cfg.h"

/*
 * Copies @p s into @p dst (@p cap bytes, NUL-terminated) with every control
 * byte written as \xNN, and truncated before an escape that would not fit.
 * Error messages quote values from the file, and libconfig strings may hold
 * any byte (a raw newline, "\n", "\x1b"): the line an operator's terminal or
 * log receives must stay one line and say nothing the file did not.
 */
static void
escape_into(char *dst, size_t cap, const char *s)
{
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char b = (unsigned char)*s;

		if (b < 0x20 || b == 0x7f) {
			if (o + 4 >= cap)
				break;
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", b);
		} else {
			if (o + 1 >= cap)
				break;
			dst[o++] = (char)b;
		}
	}
	dst[o] = '\0';
}

int
hf_cfg_fail(struct hf_cfg *c, const config_setting_t *s, const char *key, const char *fmt, ...)
{
	/* The root group has no line of its own: a key missing at the top is reported at line 1. */
	int line = s != NULL ? (int)config_setting_source_line(s) : 0;
	char raw[1024];
	int n = snprintf(raw, sizeof(raw), "%s:%d: %s: ", c->path, line > 0 ? line : 1, key);
	va_list ap;

	if (n >= 0 && (size_t)n < sizeof(raw)) {
		va_start(ap, fmt);
		vsnprintf(raw + n, sizeof(raw) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	if (c->errlen > 0)
		escape_into(c->err, c->errlen, raw);
	return -EINVAL;
}

const char *
hf_cfg_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP: return "a group { }";
	case CONFIG_TYPE_INT: case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array [ ]";
	case CONFIG_TYPE_LIST: return "a list ( )";
	default: return "a setting";
	}
}

/* Refuses any member of group @p g whose name is not in @p known (NULL-terminated). */
int
hf_cfg_check_keys(struct hf_cfg *c, const config_setting_t *g, const char *where, const char *const *known)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *name = config_setting_name(s);
		const char *const *k;
		char key[HF_CFG_KEY];

		for (k = known; *k != NULL; k++)
			if (strcmp(*k, name) == 0)
				break;
		if (*k == NULL) {
			snprintf(key, sizeof(key), "%s%s%s", where, *where ? "." : "", name);
			return hf_cfg_fail(c, s, key, "unknown key");
		}
	}
	return 0;
}

/*
 * Fetches member @p name of @p g with the expected @p type. Returns the
 * setting, NULL when absent (and not @p required), or NULL with @p *rc set.
 */
const config_setting_t *
hf_cfg_member(struct hf_cfg *c, const config_setting_t *g, const char *where, const char *name, int type,
       int required, int *rc)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	char key[HF_CFG_KEY];
	int t;

	snprintf(key, sizeof(key), "%s%s%s", where, *where ? "." : "", name);
	if (s == NULL) {
		if (required)
			*rc = hf_cfg_fail(c, g, key, "required key is missing");
		return NULL;
	}
	t = config_setting_type(s);
	if (type == CONFIG_TYPE_INT && t == CONFIG_TYPE_INT64)
		t = CONFIG_TYPE_INT;
	/* Arrays and lists of strings both read naturally as lists. */
	if (type == CONFIG_TYPE_ARRAY && t == CONFIG_TYPE_LIST)
		t = CONFIG_TYPE_ARRAY;
	if (t != type) {
		*rc = hf_cfg_fail(c, s, key, "must be %s, not %s", hf_cfg_type_name(type), hf_cfg_type_name(t));
		return NULL;
	}
	return s;
}

int
hf_cfg_get_string(struct hf_cfg *c, const config_setting_t *g, const char *where, const char *name,
	   char *dst, size_t dstlen, int required)
{
	int rc = 0;
	const config_setting_t *s = hf_cfg_member(c, g, where, name, CONFIG_TYPE_STRING, required, &rc);
	const char *v;
	char key[HF_CFG_KEY];

	if (s == NULL)
		return rc;
	v = config_setting_get_string(s);
	snprintf(key, sizeof(key), "%s%s%s", where, *where ? "." : "", name);
	if (*v == '\0')
		return hf_cfg_fail(c, s, key, "must not be empty");
	if (strlen(v) >= dstlen)
		return hf_cfg_fail(c, s, key, "longer than %zu characters", dstlen - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

int
hf_cfg_get_int(struct hf_cfg *c, const config_setting_t *g, const char *where, const char *name,
	long long lo, long long hi, long long *dst, int required)
{
	int rc = 0;
	const config_setting_t *s = hf_cfg_member(c, g, where, name, CONFIG_TYPE_INT, required, &rc);
	long long v;
	char key[HF_CFG_KEY];

	if (s == NULL)
		return rc;
	v = config_setting_get_int64(s);
	snprintf(key, sizeof(key), "%s%s%s", where, *where ? "." : "", name);
	if (v < lo || v > hi)
		return hf_cfg_fail(c, s, key, "%lld is out of range [%lld, %lld]", v, lo, hi);
	*dst = v;
	return 0;
}

/* Reads an array of strings into rows of @p rowlen bytes; returns the count or -EINVAL. */
int
hf_cfg_get_strings(struct hf_cfg *c, const config_setting_t *g, const char *where, const char *name,
	    char *rows, size_t rowlen, unsigned int max)
{
	int rc = 0;
	const config_setting_t *s = hf_cfg_member(c, g, where, name, CONFIG_TYPE_ARRAY, 0, &rc);
	char key[HF_CFG_KEY];
	int n;

	if (s == NULL)
		return rc;
	n = config_setting_length(s);
	snprintf(key, sizeof(key), "%s.%s", where, name);
	if ((unsigned int)n > max)
		return hf_cfg_fail(c, s, key, "%d entries, at most %u allowed", n, max);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *v = config_setting_get_string(e);

		if (v == NULL)
			return hf_cfg_fail(c, e, key, "entry %d must be a string", i);
		if (strlen(v) >= rowlen)
			return hf_cfg_fail(c, e, key, "entry %d is longer than %zu characters", i, rowlen - 1);
		memcpy(rows + (size_t)i * rowlen, v, strlen(v) + 1);
	}
	return n;
}


int
hf_cfg_get_prob(struct hf_cfg *c, const config_setting_t *g, const char *where, const char *name, double *dst)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	char key[HF_CFG_KEY];
	double v;

	if (s == NULL)
		return 0;
	snprintf(key, sizeof(key), "%s.%s", where, name);
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		v = config_setting_get_float(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT || config_setting_type(s) == CONFIG_TYPE_INT64)
		v = (double)config_setting_get_int64(s);
	else
		return hf_cfg_fail(c, s, key, "must be a number, not %s", hf_cfg_type_name(config_setting_type(s)));
	if (!(v >= 0.0 && v <= 1.0))
		return hf_cfg_fail(c, s, key, "%g is not a probability in [0, 1]", v);
	*dst = v;
	return 0;
}
