/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bootstrap file (libconfig). Its keys, every one optional unless noted:
 *
 *   node:   { id; cluster; labels = [ "key=value", ... ]; }
 *   dpdk:   { lcores = "0-1"; args = [ EAL options ]; }
 *   ports = ( { name; device; address = "a.b.c.d/len"; gateway; mtu;
 *               impair = { loss; duplicate; reorder; delay_us; seed; }; } )      required
 *   workers = N;
 *   admin:  { address; port; }
 *
 * Everything is checked before anything starts: a typo in a key is refused
 * with its line rather than ignored, as Envoy refuses unknown fields.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <rte_config.h>

#include "control-agent/bootstrap.h"
#include "dataplane/worker-t.h"

struct ctx {
	const char *path;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 4, 5)))
fail(struct ctx *c, const config_setting_t *s, const char *key, const char *fmt, ...)
{
	int n = snprintf(c->err, c->errlen, "%s:%d: %s: ", c->path,
			 s != NULL ? config_setting_source_line(s) : 0, key);
	va_list ap;

	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static const char *
type_name(int type)
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
static int
check_keys(struct ctx *c, const config_setting_t *g, const char *where, const char *const *known)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *name = config_setting_name(s);
		const char *const *k;
		char key[HF_BOOT_STR];

		for (k = known; *k != NULL; k++)
			if (strcmp(*k, name) == 0)
				break;
		if (*k == NULL) {
			snprintf(key, sizeof(key), "%s%s%s", where, *where ? "." : "", name);
			return fail(c, s, key, "unknown key");
		}
	}
	return 0;
}

/*
 * Fetches member @p name of @p g with the expected @p type. Returns the
 * setting, NULL when absent (and not @p required), or NULL with @p *rc set.
 */
static const config_setting_t *
member(struct ctx *c, const config_setting_t *g, const char *where, const char *name, int type,
       int required, int *rc)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	char key[HF_BOOT_STR];
	int t;

	snprintf(key, sizeof(key), "%s%s%s", where, *where ? "." : "", name);
	if (s == NULL) {
		if (required)
			*rc = fail(c, g, key, "required key is missing");
		return NULL;
	}
	t = config_setting_type(s);
	if (type == CONFIG_TYPE_INT && t == CONFIG_TYPE_INT64)
		t = CONFIG_TYPE_INT;
	/* Arrays and lists of strings both read naturally as lists. */
	if (type == CONFIG_TYPE_ARRAY && t == CONFIG_TYPE_LIST)
		t = CONFIG_TYPE_ARRAY;
	if (t != type) {
		*rc = fail(c, s, key, "must be %s, not %s", type_name(type), type_name(t));
		return NULL;
	}
	return s;
}

static int
get_string(struct ctx *c, const config_setting_t *g, const char *where, const char *name,
	   char *dst, size_t dstlen, int required)
{
	int rc = 0;
	const config_setting_t *s = member(c, g, where, name, CONFIG_TYPE_STRING, required, &rc);
	const char *v;
	char key[HF_BOOT_STR];

	if (s == NULL)
		return rc;
	v = config_setting_get_string(s);
	snprintf(key, sizeof(key), "%s.%s", where, name);
	if (*v == '\0')
		return fail(c, s, key, "must not be empty");
	if (strlen(v) >= dstlen)
		return fail(c, s, key, "longer than %zu characters", dstlen - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int
get_int(struct ctx *c, const config_setting_t *g, const char *where, const char *name,
	long long lo, long long hi, long long *dst, int required)
{
	int rc = 0;
	const config_setting_t *s = member(c, g, where, name, CONFIG_TYPE_INT, required, &rc);
	long long v;
	char key[HF_BOOT_STR];

	if (s == NULL)
		return rc;
	v = config_setting_get_int64(s);
	snprintf(key, sizeof(key), "%s%s%s", where, *where ? "." : "", name);
	if (v < lo || v > hi)
		return fail(c, s, key, "%lld is out of range [%lld, %lld]", v, lo, hi);
	*dst = v;
	return 0;
}

/* Reads an array of strings into rows of @p rowlen bytes; returns the count or -EINVAL. */
static int
get_strings(struct ctx *c, const config_setting_t *g, const char *where, const char *name,
	    char *rows, size_t rowlen, unsigned int max)
{
	int rc = 0;
	const config_setting_t *s = member(c, g, where, name, CONFIG_TYPE_ARRAY, 0, &rc);
	char key[HF_BOOT_STR];
	int n;

	if (s == NULL)
		return rc;
	n = config_setting_length(s);
	snprintf(key, sizeof(key), "%s.%s", where, name);
	if ((unsigned int)n > max)
		return fail(c, s, key, "%d entries, at most %u allowed", n, max);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *v = config_setting_get_string(e);

		if (v == NULL)
			return fail(c, e, key, "entry %d must be a string", i);
		if (strlen(v) >= rowlen)
			return fail(c, e, key, "entry %d is longer than %zu characters", i, rowlen - 1);
		memcpy(rows + (size_t)i * rowlen, v, strlen(v) + 1);
	}
	return n;
}

int
hf_parse_ipv4(const char *s, uint32_t *addr, uint8_t *prefix_len)
{
	char buf[INET_ADDRSTRLEN + 4];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	char *end;
	long len;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	if (prefix_len != NULL) {
		if (slash == NULL)
			return -EINVAL;
		buf[slash - s] = '\0';
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || end == slash + 1 || len < 1 || len > 32)
			return -EINVAL;
		*prefix_len = (uint8_t)len;
	} else if (slash != NULL) {
		return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*addr = a.s_addr;
	return 0;
}

int
hf_bootstrap_count_lcores(const char *list)
{
	int count = 0;
	const char *p = list;

	while (*p != '\0') {
		char *end;
		long a = strtol(p, &end, 10), b;

		if (end == p || a < 0 || a >= RTE_MAX_LCORE)
			return -1;
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtol(p, &end, 10);
			if (end == p || b < a || b >= RTE_MAX_LCORE)
				return -1;
		}
		count += (int)(b - a + 1);
		if (*end == ',')
			end++;
		else if (*end != '\0')
			return -1;
		p = end;
	}
	return count > 0 ? count : -1;
}

static int
load_node(struct ctx *c, const config_setting_t *root, struct hf_bootstrap *b)
{
	static const char *const keys[] = {"id", "cluster", "labels", NULL};
	int rc = 0, n;
	const config_setting_t *g = member(c, root, "", "node", CONFIG_TYPE_GROUP, 0, &rc);

	if (g == NULL)
		return rc;
	if ((rc = check_keys(c, g, "node", keys)) != 0 ||
	    (rc = get_string(c, g, "node", "id", b->node_id, sizeof(b->node_id), 0)) != 0 ||
	    (rc = get_string(c, g, "node", "cluster", b->node_cluster, sizeof(b->node_cluster), 0)) != 0)
		return rc;
	n = get_strings(c, g, "node", "labels", &b->labels[0][0], HF_BOOT_STR, HF_BOOT_MAX_LABELS);
	if (n < 0)
		return n;
	b->n_labels = (unsigned int)n;
	for (unsigned int i = 0; i < b->n_labels; i++) {
		const char *eq = strchr(b->labels[i], '=');

		if (eq == NULL || eq == b->labels[i])
			return fail(c, config_setting_get_member(g, "labels"), "node.labels",
				    "'%s' is not of the form key=value", b->labels[i]);
	}
	return 0;
}

static int
load_dpdk(struct ctx *c, const config_setting_t *root, struct hf_bootstrap *b)
{
	static const char *const keys[] = {"lcores", "args", NULL};
	int rc = 0, n;
	const config_setting_t *g = member(c, root, "", "dpdk", CONFIG_TYPE_GROUP, 0, &rc);

	if (g == NULL)
		return rc;
	if ((rc = check_keys(c, g, "dpdk", keys)) != 0 ||
	    (rc = get_string(c, g, "dpdk", "lcores", b->lcores, sizeof(b->lcores), 0)) != 0)
		return rc;
	n = get_strings(c, g, "dpdk", "args", &b->eal_args[0][0], HF_BOOT_DEVICE, HF_BOOT_MAX_ARGS);
	if (n < 0)
		return n;
	b->n_eal_args = (unsigned int)n;
	return 0;
}

static int
get_prob(struct ctx *c, const config_setting_t *g, const char *where, const char *name, double *dst)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	char key[HF_BOOT_STR];
	double v;

	if (s == NULL)
		return 0;
	snprintf(key, sizeof(key), "%s.%s", where, name);
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		v = config_setting_get_float(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT || config_setting_type(s) == CONFIG_TYPE_INT64)
		v = (double)config_setting_get_int64(s);
	else
		return fail(c, s, key, "must be a number, not %s", type_name(config_setting_type(s)));
	if (!(v >= 0.0 && v <= 1.0))
		return fail(c, s, key, "%g is not a probability in [0, 1]", v);
	*dst = v;
	return 0;
}

static int
load_impair(struct ctx *c, const config_setting_t *port, const char *pwhere,
	    struct hf_impair_cfg *im)
{
	static const char *const keys[] = {"loss", "duplicate", "reorder", "delay_us", "seed", NULL};
	int rc = 0;
	const config_setting_t *g = member(c, port, pwhere, "impair", CONFIG_TYPE_GROUP, 0, &rc);
	long long delay = 0, seed = 1;
	char where[48];

	if (g == NULL)
		return rc;
	snprintf(where, sizeof(where), "%s.impair", pwhere);
	if ((rc = check_keys(c, g, where, keys)) != 0 ||
	    (rc = get_prob(c, g, where, "loss", &im->loss)) != 0 ||
	    (rc = get_prob(c, g, where, "duplicate", &im->duplicate)) != 0 ||
	    (rc = get_prob(c, g, where, "reorder", &im->reorder)) != 0 ||
	    (rc = get_int(c, g, where, "delay_us", 0, 1000000, &delay, 0)) != 0 ||
	    (rc = get_int(c, g, where, "seed", 0, INT64_MAX, &seed, 0)) != 0)
		return rc;
	im->delay_us = (uint32_t)delay;
	im->seed = (uint64_t)seed;
	im->enabled = im->loss > 0 || im->duplicate > 0 || im->reorder > 0 || im->delay_us > 0;
	return 0;
}

static int
load_port(struct ctx *c, const config_setting_t *s, unsigned int i, struct hf_boot_port *p)
{
	static const char *const keys[] = {"name", "device", "address", "gateway", "mtu", "impair",
					   NULL};
	char where[32], addr[HF_BOOT_STR] = "", gw[HF_BOOT_STR] = "";
	long long mtu = 1500;
	int rc;

	snprintf(where, sizeof(where), "ports.[%u]", i);
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return fail(c, s, where, "must be a group { }, not %s",
			    type_name(config_setting_type(s)));
	if ((rc = check_keys(c, s, where, keys)) != 0 ||
	    (rc = get_string(c, s, where, "name", p->name, sizeof(p->name), 1)) != 0 ||
	    (rc = get_string(c, s, where, "device", p->device, sizeof(p->device), 1)) != 0 ||
	    (rc = get_string(c, s, where, "address", addr, sizeof(addr), 1)) != 0 ||
	    (rc = get_string(c, s, where, "gateway", gw, sizeof(gw), 0)) != 0 ||
	    (rc = get_int(c, s, where, "mtu", 68, 9000, &mtu, 0)) != 0 ||
	    (rc = load_impair(c, s, where, &p->impair)) != 0)
		return rc;
	p->mtu = (uint16_t)mtu;
	if (hf_parse_ipv4(addr, &p->addr, &p->prefix_len) != 0 || p->prefix_len > 30)
		return fail(c, config_setting_get_member(s, "address"), where,
			    "address '%s' is not an IPv4 prefix a.b.c.d/len with len 1..30", addr);
	if (gw[0] != '\0') {
		uint32_t mask = htonl(~0u << (32 - p->prefix_len));

		if (hf_parse_ipv4(gw, &p->gateway, NULL) != 0)
			return fail(c, config_setting_get_member(s, "gateway"), where,
				    "gateway '%s' is not an IPv4 address", gw);
		if ((p->gateway & mask) != (p->addr & mask) || p->gateway == p->addr)
			return fail(c, config_setting_get_member(s, "gateway"), where,
				    "gateway %s is not another host of %s", gw, addr);
	}
	return 0;
}

static int
load_ports(struct ctx *c, const config_setting_t *root, struct hf_bootstrap *b)
{
	int rc = 0;
	const config_setting_t *l = member(c, root, "", "ports", CONFIG_TYPE_LIST, 1, &rc);
	int n;

	if (l == NULL)
		return rc;
	n = config_setting_length(l);
	if (n == 0 || n > HF_MAX_PORTS)
		return fail(c, l, "ports", "%d ports given, 1..%d allowed", n, HF_MAX_PORTS);
	for (int i = 0; i < n; i++) {
		if ((rc = load_port(c, config_setting_get_elem(l, i), (unsigned int)i, &b->ports[i])) != 0)
			return rc;
		for (int j = 0; j < i; j++)
			if (strcmp(b->ports[i].name, b->ports[j].name) == 0)
				return fail(c, config_setting_get_elem(l, i), "ports",
					    "port name '%s' used twice", b->ports[i].name);
	}
	b->n_ports = (unsigned int)n;
	return 0;
}

static int
load_admin(struct ctx *c, const config_setting_t *root, struct hf_bootstrap *b)
{
	static const char *const keys[] = {"address", "port", NULL};
	int rc = 0;
	const config_setting_t *g = member(c, root, "", "admin", CONFIG_TYPE_GROUP, 0, &rc);
	long long port = b->admin_port;
	uint32_t a;

	if (g == NULL)
		return rc;
	if ((rc = check_keys(c, g, "admin", keys)) != 0 ||
	    (rc = get_string(c, g, "admin", "address", b->admin_address,
			     sizeof(b->admin_address), 0)) != 0 ||
	    (rc = get_int(c, g, "admin", "port", 1, 65535, &port, 0)) != 0)
		return rc;
	if (hf_parse_ipv4(b->admin_address, &a, NULL) != 0)
		return fail(c, config_setting_get_member(g, "address"), "admin.address",
			    "'%s' is not an IPv4 address", b->admin_address);
	b->admin_port = (uint16_t)port;
	return 0;
}

static void
defaults(struct hf_bootstrap *b)
{
	memset(b, 0, sizeof(*b));
	strcpy(b->node_id, "hydrofoil");
	strcpy(b->node_cluster, "hydrofoil");
	strcpy(b->lcores, "0-1");
	b->workers = 1;
	strcpy(b->admin_address, "127.0.0.1");
	b->admin_port = 15000;
}

int
hf_bootstrap_load(struct hf_bootstrap *b, const char *path, char *err, size_t errlen)
{
	static const char *const keys[] = {"node", "dpdk", "ports", "workers", "admin", NULL};
	struct ctx c = {.path = path, .err = err, .errlen = errlen};
	const config_setting_t *root;
	long long workers = 1;
	FILE *f;
	config_t cfg;
	int rc, lcores;

	defaults(b);
	snprintf(b->path, sizeof(b->path), "%s", path);
	f = fopen(path, "r");
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	config_init(&cfg);
	if (config_read(&cfg, f) != CONFIG_TRUE) {
		snprintf(err, errlen, "%s:%d: syntax: %s", path, config_error_line(&cfg),
			 config_error_text(&cfg));
		rc = -EINVAL;
		goto out;
	}
	root = config_root_setting(&cfg);
	if ((rc = check_keys(&c, root, "", keys)) != 0 || (rc = load_node(&c, root, b)) != 0 ||
	    (rc = load_dpdk(&c, root, b)) != 0 || (rc = load_ports(&c, root, b)) != 0 ||
	    (rc = get_int(&c, root, "", "workers", 1, HF_MAX_WORKERS, &workers, 0)) != 0 ||
	    (rc = load_admin(&c, root, b)) != 0)
		goto out;
	b->workers = (unsigned int)workers;
	lcores = hf_bootstrap_count_lcores(b->lcores);
	if (lcores < 0) {
		const config_setting_t *d = config_setting_get_member(root, "dpdk");

		rc = fail(&c, d != NULL ? config_setting_get_member(d, "lcores") : root, "dpdk.lcores",
			  "'%s' is not a core list like \"0-1\" or \"0,2-3\"", b->lcores);
		goto out;
	}
	if ((unsigned int)lcores < b->workers + 1) {
		const config_setting_t *wk = config_setting_get_member(root, "workers");

		rc = fail(&c, wk != NULL ? wk : root, "workers",
			  "%u workers need %u lcores (one more runs the control agent); "
			  "dpdk.lcores \"%s\" has %d", b->workers, b->workers + 1, b->lcores, lcores);
		goto out;
	}
out:
	config_destroy(&cfg);
	fclose(f);
	return rc;
}
