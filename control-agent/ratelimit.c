/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Local rate limits, agent side (ratelimit.h): the bootstrap's
 * local_ratelimits, their place on the model, and the stat prefix registry.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control-agent/ratelimit.h"
#include "dataplane/proxy/ratelimit.h"

/* ---- stat prefixes ---- */

static char stat_names[HF_RL_MAX_STATS][HF_RL_STAT_NAME];
static unsigned int n_stat_names;

bool
hf_rl_stat_prefix_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= HF_RL_STAT_NAME)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

uint16_t
hf_rl_stat_index(const char *name)
{
	for (unsigned int i = 0; i < n_stat_names; i++)
		if (strcmp(stat_names[i], name) == 0)
			return (uint16_t)i;
	if (n_stat_names == HF_RL_MAX_STATS || !hf_rl_stat_prefix_ok(name))
		return HF_RL_MAX_STATS;
	snprintf(stat_names[n_stat_names], sizeof(stat_names[0]), "%s", name);
	return (uint16_t)n_stat_names++;
}

unsigned int
hf_rl_stat_count(void)
{
	return n_stat_names;
}

const char *
hf_rl_stat_name(unsigned int i)
{
	return i < n_stat_names ? stat_names[i] : NULL;
}

const char *
hf_rl_stat_suffix(unsigned int k)
{
	static const char *const names[HF_RL_STAT__N] = {
		[HF_RL_STAT_ENABLED] = "enabled",
		[HF_RL_STAT_ENFORCED] = "enforced",
		[HF_RL_STAT_RATE_LIMITED] = "rate_limited",
		[HF_RL_STAT_OK] = "ok",
	};

	return k < HF_RL_STAT__N ? names[k] : NULL;
}

void
hf_rl_stats_sum(unsigned int n_workers, uint64_t sum[HF_RL_MAX_STATS][HF_RL_STAT__N])
{
	for (unsigned int w = 0; w < n_workers && w < HF_MAX_WORKERS; w++) {
		const struct hf_rl_state *st = hf_rl_worker(w);

		for (unsigned int i = 0; i < n_stat_names; i++)
			for (unsigned int k = 0; k < HF_RL_STAT__N; k++)
				sum[i][k] += __atomic_load_n(&st->stats[i][k], __ATOMIC_RELAXED);
	}
}

/* ---- the bootstrap's local_ratelimits ---- */

/* A float or an integer setting as a double; false for anything else. */
static bool
number(const config_setting_t *s, double *v)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_FLOAT: *v = config_setting_get_float(s); return true;
	case CONFIG_TYPE_INT: *v = config_setting_get_int(s); return true;
	default: return false;
	}
}

/* A percentage 0..100 (integer or float) as parts per million; absent: 100%. */
static int
get_percent(struct hf_cfg *c, const config_setting_t *g, const char *where, const char *name,
	    uint32_t *ppm)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	char key[2 * HF_CFG_KEY];
	double v;

	*ppm = 1000000;
	if (s == NULL)
		return 0;
	snprintf(key, sizeof(key), "%s.%s", where, name);
	if (!number(s, &v) || !(v >= 0 && v <= 100))
		return hf_cfg_fail(c, s, key, "must be a percentage from 0 to 100");
	*ppm = (uint32_t)(v * 10000.0 + 0.5);
	return 0;
}

/* RFC 9110 5.6.2 token characters. */
static bool
token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return false;
	return true;
}

/* Fields a header operation may not touch: framing and hop-by-hop (RFC 9110 7.6.1). */
static bool
reserved_header(const char *s)
{
	static const char *const names[] = {"content-length", "transfer-encoding", "connection",
					    "keep-alive", "proxy-connection", "te", "trailer",
					    "upgrade", "host", NULL};

	for (unsigned int i = 0; names[i] != NULL; i++)
		if (strcasecmp(s, names[i]) == 0)
			return true;
	return false;
}

static int
load_headers(struct hf_cfg *c, const config_setting_t *g, const char *where,
	     struct hf_boot_ratelimit *r)
{
	static const char *const keys[] = {"key", "value", NULL};
	const config_setting_t *l = config_setting_get_member(g, "response_headers_to_add");
	char key[2 * HF_CFG_KEY];
	int rc;

	snprintf(key, sizeof(key), "%s.response_headers_to_add", where);
	if (l == NULL)
		return 0;
	if (config_setting_type(l) != CONFIG_TYPE_LIST)
		return hf_cfg_fail(c, l, key, "must be a list ( { key; value; }, ... )");
	if (config_setting_length(l) > (int)(sizeof(r->headers) / sizeof(r->headers[0])))
		return hf_cfg_fail(c, l, key, "at most %zu headers",
				   sizeof(r->headers) / sizeof(r->headers[0]));
	for (int i = 0; i < config_setting_length(l); i++) {
		const config_setting_t *h = config_setting_get_elem(l, (unsigned int)i);
		struct hf_boot_rl_header *o = &r->headers[r->n_headers];
		char hwhere[3 * HF_CFG_KEY];

		snprintf(hwhere, sizeof(hwhere), "%s.[%d]", key, i);
		if (config_setting_type(h) != CONFIG_TYPE_GROUP)
			return hf_cfg_fail(c, h, hwhere, "must be a group { key; value; }");
		if ((rc = hf_cfg_check_keys(c, h, hwhere, keys)) != 0 ||
		    (rc = hf_cfg_get_string(c, h, hwhere, "key", o->key, sizeof(o->key), 1)) != 0 ||
		    (rc = hf_cfg_get_string(c, h, hwhere, "value", o->value, sizeof(o->value), 1)) != 0)
			return rc;
		for (char *p = o->key; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!token(o->key) || reserved_header(o->key))
			return hf_cfg_fail(c, h, hwhere, "key '%s' is not a header name a response may "
					   "get added (an RFC 9110 token, not a framing or hop-by-hop "
					   "field)", o->key);
		for (const char *p = o->value; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 && *p != '\t')
				return hf_cfg_fail(c, h, hwhere, "value holds a control byte");
		r->n_headers++;
	}
	return 0;
}

static int
load_one(struct hf_cfg *c, const config_setting_t *g, const char *where, struct hf_boot_ratelimit *r)
{
	static const char *const keys[] = {"port", "virtual_host", "route", "stat_prefix",
					   "max_tokens", "tokens_per_fill", "fill_interval_ms",
					   "filter_enabled", "filter_enforced", "status",
					   "x_ratelimit_headers", "response_headers_to_add", NULL};
	long long port = 0, max = 0, per_fill = -1, fill = 0, status = 429;
	const config_setting_t *x;
	int rc;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return hf_cfg_fail(c, g, where, "must be a group { port; max_tokens; ... }");
	r->line = (unsigned int)config_setting_source_line(g);
	snprintf(r->stat_prefix, sizeof(r->stat_prefix), "http_local_rate_limiter");
	if ((rc = hf_cfg_check_keys(c, g, where, keys)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, where, "port", 1, 65535, &port, 1)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, where, "virtual_host", r->vhost, sizeof(r->vhost), 0)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, where, "route", r->route, sizeof(r->route), 0)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, where, "stat_prefix", r->stat_prefix,
				    sizeof(r->stat_prefix), 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, where, "max_tokens", 1, UINT32_MAX, &max, 1)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, where, "tokens_per_fill", 1, UINT32_MAX, &per_fill, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, where, "fill_interval_ms", HF_RL_MIN_FILL_MS,
				 HF_RL_MAX_FILL_MS, &fill, 1)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, where, "status", 400, 599, &status, 0)) != 0 ||
	    (rc = get_percent(c, g, where, "filter_enabled", &r->enabled_ppm)) != 0 ||
	    (rc = get_percent(c, g, where, "filter_enforced", &r->enforced_ppm)) != 0 ||
	    (rc = load_headers(c, g, where, r)) != 0)
		return rc;
	if (!hf_rl_stat_prefix_ok(r->stat_prefix))
		return hf_cfg_fail(c, config_setting_get_member(g, "stat_prefix"), where,
				   "stat_prefix '%s' is not 1 to %d of letters, digits, '_', '.', '-'",
				   r->stat_prefix, HF_RL_STAT_NAME - 1);
	x = config_setting_get_member(g, "x_ratelimit_headers");
	if (x != NULL) {
		if (config_setting_type(x) != CONFIG_TYPE_BOOL)
			return hf_cfg_fail(c, x, where, "x_ratelimit_headers must be true or false");
		r->x_headers = config_setting_get_bool(x) != 0;
	}
	r->port = (uint16_t)port;
	r->max_tokens = (uint32_t)max;
	/* Envoy's default tokens_per_fill is 1 */
	r->tokens_per_fill = per_fill > 0 ? (uint32_t)per_fill : 1;
	r->fill_interval_ms = (uint32_t)fill;
	r->status = (uint16_t)status;
	return 0;
}

int
hf_rl_boot_load(struct hf_cfg *c, const config_setting_t *root, struct hf_boot_ratelimits *out)
{
	const config_setting_t *l = config_setting_get_member(root, "local_ratelimits");
	int rc;

	memset(out, 0, sizeof(*out));
	if (l == NULL)
		return 0;
	if (config_setting_type(l) != CONFIG_TYPE_LIST)
		return hf_cfg_fail(c, l, "local_ratelimits", "must be a list ( { ... }, ... )");
	if (config_setting_length(l) > HF_BOOT_MAX_RATELIMITS)
		return hf_cfg_fail(c, l, "local_ratelimits", "at most %d entries",
				   HF_BOOT_MAX_RATELIMITS);
	for (int i = 0; i < config_setting_length(l); i++) {
		char where[HF_CFG_KEY];

		snprintf(where, sizeof(where), "local_ratelimits.[%d]", i);
		if ((rc = load_one(c, config_setting_get_elem(l, (unsigned int)i), where,
				   &out->rl[out->n])) != 0)
			return rc;
		out->n++;
	}
	return 0;
}

/* A model copy of @p r; NULL when out of memory. */
static struct hf_model_ratelimit *
model_copy(const struct hf_boot_ratelimit *r, const char *path)
{
	struct hf_model_ratelimit *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	*m = (struct hf_model_ratelimit){
		.max_tokens = r->max_tokens,
		.tokens_per_fill = r->tokens_per_fill,
		.fill_interval_ms = r->fill_interval_ms,
		.enabled_ppm = r->enabled_ppm,
		.enforced_ppm = r->enforced_ppm,
		.status = r->status,
		.x_headers = r->x_headers,
	};
	snprintf(m->origin, sizeof(m->origin), "%s:%u: local_ratelimits", path, r->line);
	m->stat_prefix = strdup(r->stat_prefix);
	m->headers = calloc(r->n_headers + 1, sizeof(*m->headers));
	if (m->stat_prefix == NULL || m->headers == NULL) {
		hf_model_ratelimit_free(m);
		return NULL;
	}
	for (unsigned int i = 0; i < r->n_headers; i++) {
		m->headers[i].op = HF_HDR_SET;
		m->headers[i].name = strdup(r->headers[i].key);
		m->headers[i].value = strdup(r->headers[i].value);
		m->n_headers = i + 1;
		if (m->headers[i].name == NULL || m->headers[i].value == NULL) {
			hf_model_ratelimit_free(m);
			return NULL;
		}
	}
	return m;
}

/* Sets *@p slot to a copy of @p r, refusing a scope that has one. 0, -ENOMEM or -EINVAL. */
static int
put(struct hf_model_ratelimit **slot, const struct hf_boot_ratelimit *r, const char *path,
    const char *scope, char *err, size_t errlen)
{
	if (*slot != NULL) {
		snprintf(err, errlen, "%s:%u: local_ratelimits: %s already has a local rate limit "
			 "(%s)", path, r->line, scope, (*slot)->origin);
		return -EINVAL;
	}
	*slot = model_copy(r, path);
	return *slot != NULL ? 0 : -ENOMEM;
}

int
hf_rl_boot_apply(const struct hf_boot_ratelimits *rls, const char *path, struct hf_model *m,
		 char *err, size_t errlen)
{
	char scope[320];
	int rc;

	for (unsigned int i = 0; i < rls->n; i++) {
		const struct hf_boot_ratelimit *r = &rls->rl[i];

		for (unsigned int l = 0; l < m->n_listeners; l++) {
			struct hf_model_listener *ml = &m->listeners[l];
			struct hf_model_route_config *rc_;

			if (ml->port != r->port || ml->kind != HF_LISTENER_HTTP || ml->route_config < 0)
				continue;
			if (r->vhost[0] == '\0' && r->route[0] == '\0') {
				snprintf(scope, sizeof(scope), "listener %s", ml->name);
				if ((rc = put(&ml->ratelimit, r, path, scope, err, errlen)) != 0)
					return rc;
				continue;
			}
			rc_ = &m->route_configs[ml->route_config];
			for (unsigned int v = 0; v < rc_->n_vhosts; v++) {
				struct hf_model_vhost *vh = &rc_->vhosts[v];

				if (r->vhost[0] != '\0' && strcmp(vh->name, r->vhost) != 0)
					continue;
				if (r->route[0] == '\0') {
					snprintf(scope, sizeof(scope), "virtual host %s", vh->name);
					if ((rc = put(&vh->ratelimit, r, path, scope, err, errlen)) != 0)
						return rc;
					continue;
				}
				for (unsigned int k = 0; k < vh->n_routes; k++) {
					struct hf_model_route *mr = &vh->routes[k];

					if (mr->name == NULL || strcmp(mr->name, r->route) != 0)
						continue;
					snprintf(scope, sizeof(scope), "route %s of virtual host %s",
						 mr->name, vh->name);
					if ((rc = put(&mr->ratelimit, r, path, scope, err, errlen)) != 0)
						return rc;
				}
			}
		}
	}
	return 0;
}
