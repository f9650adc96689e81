/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "dataplane/proxy/router.h"

/* How well a domain matches: higher wins; 0 is no match. */
enum rank { NONE = 0, ANY = 1, PREFIX = 2, SUFFIX = 3, EXACT = 4 };

static enum rank
rank_of(const char *domain, const char *host, size_t len, size_t *specific)
{
	size_t dl = strlen(domain);

	*specific = 0;
	if (dl == 1 && domain[0] == '*')
		return ANY;
	if (domain[0] == '*') {
		/* "*.example.com" (or "*-foo.com"): the wildcard stands for at least one byte. */
		size_t sl = dl - 1;

		if (len > sl && strncasecmp(host + len - sl, domain + 1, sl) == 0) {
			*specific = sl;
			return SUFFIX;
		}
		return NONE;
	}
	if (domain[dl - 1] == '*') {
		size_t pl = dl - 1;

		if (len > pl && strncasecmp(host, domain, pl) == 0) {
			*specific = pl;
			return PREFIX;
		}
		return NONE;
	}
	return dl == len && strncasecmp(host, domain, len) == 0 ? EXACT : NONE;
}

static const struct hf_vhost *
best(const struct hf_route_table *t, const char *host, size_t len)
{
	const struct hf_vhost *win = NULL;
	enum rank win_rank = NONE;
	size_t win_len = 0;

	for (unsigned int i = 0; i < t->n_vhosts; i++) {
		const struct hf_vhost *v = &t->vhosts[i];

		for (unsigned int d = 0; d < v->n_domains; d++) {
			size_t spec;
			enum rank r = rank_of(v->domains[d], host, len, &spec);

			/* Exact beats any wildcard; among wildcards of a kind the longest wins. */
			if (r > win_rank || (r == win_rank && r != NONE && spec > win_len)) {
				win = v;
				win_rank = r;
				win_len = spec;
			}
		}
	}
	return win;
}

const struct hf_vhost *
hf_router_vhost(const struct hf_route_table *t, const char *host, size_t len)
{
	const struct hf_vhost *v = best(t, host, len);
	const char *colon;

	if (v != NULL)
		return v;
	/* "host:port" with no domain naming the port: try the bare host (Envoy strips it too). */
	colon = memrchr(host, ':', len);
	if (colon != NULL && memchr(host, ']', len) == NULL)
		return best(t, host, (size_t)(colon - host));
	return NULL;
}

const struct hf_route *
hf_router_route(const struct hf_vhost *v, const char *target, size_t len)
{
	const char *q = memchr(target, '?', len);
	size_t plen = q != NULL ? (size_t)(q - target) : len;

	for (unsigned int i = 0; i < v->n_routes; i++) {
		const struct hf_route *r = &v->routes[i];

		if (r->match == HF_ROUTE_PREFIX ? plen >= r->path_len &&
							  memcmp(target, r->path, r->path_len) == 0
						: plen == r->path_len &&
							  memcmp(target, r->path, r->path_len) == 0)
			return r;
	}
	return NULL;
}

int
hf_router_domain_valid(const char *domain)
{
	size_t n = strlen(domain), host = n;
	const char *star = strchr(domain, '*');
	const char *colon = strrchr(domain, ':');

	/* "name:port": the port is digits after the last ':' (not an IPv6 address's). */
	if (colon != NULL && strchr(domain, ']') == NULL && colon[1] != '\0' &&
	    strspn(colon + 1, "0123456789") == strlen(colon + 1) && strlen(colon + 1) <= 5)
		host = (size_t)(colon - domain);
	if (n == 0 || host > HF_ROUTER_HOST_MAX || n >= HF_ROUTER_DOMAIN)
		return -EINVAL;
	if (star == NULL || (n == 1))
		return 0;
	/* One wildcard, at one end, standing for a non-empty part. */
	if (strchr(star + 1, '*') != NULL || (star != domain && star != domain + n - 1))
		return -EINVAL;
	return 0;
}
