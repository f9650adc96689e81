/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a route decides for one request, before anything is sent: the route
 * itself (the virtual host's matcher, or its plain prefix/exact paths), the
 * weighted destination, the endpoint by the cluster's load-balancing policy,
 * the rewritten target, a redirect's Location, CORS answers and faults.
 * Pure functions of the snapshot, the request and a random draw; no I/O.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>
#include <rte_random.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "dataplane/proxy/http_route.h"
#include "dataplane/proxy/rmatch.h"
#include "dataplane/snapshot.h"

const struct hf_route *
hf_http_route_select(const struct hf_vhost *vh, void *scratch, const struct hf_h1_message *msg,
		     uint16_t port)
{
	int i;

	if (vh->rm == NULL)
		return hf_router_route(vh, msg->target.p, msg->target.len);
	i = hf_rmatch_find(vh->rm, scratch, msg, port, "http");
	return i >= 0 ? &vh->routes[i] : NULL;
}

const struct hf_route_dest *
hf_http_route_dest(const struct hf_route *r)
{
	uint32_t pick;

	if (r->n_dests <= 1)
		return r->dests;
	pick = (uint32_t)(rte_rand() % r->total_weight);
	for (unsigned int i = 0; i < r->n_dests; i++)
		if (pick < r->dests[i].weight_end)
			return &r->dests[i];
	return &r->dests[r->n_dests - 1];
}

size_t
hf_http_route_target(const struct hf_route *r, void *match, const char *target, size_t len,
		     char *out, size_t cap)
{
	if (r->rewrite_re != NULL) {
		/* uriRegexRewrite: every match in the path replaced (RE2::GlobalReplace), the query kept. */
		const char *q = memchr(target, '?', len);
		size_t plen = q != NULL ? (size_t)(q - target) : len;
		PCRE2_SIZE olen = cap > 0 ? cap - 1 : 0;
		int rc;

		if (cap < 2)
			return 0;
		/* Written one byte in, for the '/' it may need in front (below). */
		rc = pcre2_substitute(r->rewrite_re, (PCRE2_SPTR)target, plen, 0,
				      PCRE2_SUBSTITUTE_GLOBAL, match, NULL,
				      (PCRE2_SPTR)r->rewrite_sub, r->rewrite_sub_len,
				      (PCRE2_UCHAR *)out + 1, &olen);
		if (rc < 0)
			return 0;
		/*
		 * A substitution may leave the path empty or not rooted ("$1" of a
		 * pattern that captured no '/'): the request line would then carry no
		 * origin-form target (RFC 9112 3.2.1). It is taken relative to the
		 * root, as RFC 3986 6.2.3 makes an empty path "/".
		 */
		if (olen > 0 && out[1] == '/')
			memmove(out, out + 1, olen);
		else
			out[0] = '/', olen++;
		if (olen + (len - plen) > cap)
			return 0;
		memcpy(out + olen, target + plen, len - plen);
		return olen + (len - plen);
	}
	const char *q = memchr(target, '?', len);
	size_t plen = q != NULL ? (size_t)(q - target) : len;
	size_t keep = r->rewrite_whole ? 0 : plen - RTE_MIN((size_t)r->strip, plen);
	size_t n = (size_t)r->rewrite_uri_len + keep + (len - plen);

	if (n > cap)
		return 0;
	memcpy(out, r->rewrite_uri, r->rewrite_uri_len);
	memcpy(out + r->rewrite_uri_len, target + (plen - keep), keep + (len - plen));
	return n;
}

size_t
hf_http_route_location(const struct hf_route *r, const struct hf_h1_message *msg, char *out,
		       size_t cap)
{
	const char *host = msg->host.p, *colon;
	size_t hlen = msg->host.len;
	const char *q = memchr(msg->target.p, '?', msg->target.len);
	size_t plen = q != NULL ? (size_t)(q - msg->target.p) : msg->target.len;
	char port[12] = "";
	int n;

	/* A port of the original authority goes unless the redirect names one. */
	colon = memrchr(host, ':', hlen);
	if (colon != NULL)
		hlen = (size_t)(colon - host);
	if (r->redirect_authority != NULL) {
		host = r->redirect_authority;
		hlen = strlen(host);
	}
	if (r->redirect_port != 0)
		snprintf(port, sizeof(port), ":%u", r->redirect_port);
	n = snprintf(out, cap, "location: %s://%.*s%s", r->redirect_scheme ? r->redirect_scheme : "http",
		     (int)hlen, host, port);
	if (r->redirect_uri != NULL)
		n += snprintf(out + n, cap > (size_t)n ? cap - (size_t)n : 0, "%s%.*s\r\n",
			      r->redirect_uri, (int)(msg->target.len - plen), msg->target.p + plen);
	else
		n += snprintf(out + n, cap > (size_t)n ? cap - (size_t)n : 0, "%.*s\r\n",
			      (int)msg->target.len, msg->target.p);
	return (size_t)n < cap ? (size_t)n : 0;
}

/* Whether Origin @p o matches one of the policy's allowOrigins. */
static bool
origin_allowed(const struct hf_route_cors *c, const struct hf_h1_slice *o)
{
	for (unsigned int i = 0; i < c->n_origins; i++) {
		const struct hf_route_origin *a = &c->origins[i];

		switch (a->kind) {
		case HF_MATCH_EXACT:
			if ((a->len == 1 && a->value[0] == '*') ||
			    (a->len == o->len && memcmp(a->value, o->p, o->len) == 0))
				return true;
			break;
		case HF_MATCH_PREFIX:
			if (o->len >= a->len && memcmp(a->value, o->p, a->len) == 0)
				return true;
			break;
		default:
			/* regex origins would need the matcher; the translator refuses them */
			break;
		}
	}
	return false;
}

int
hf_http_route_cors(const struct hf_route *r, const struct hf_h1_message *msg, char *out,
		   size_t cap, bool *preflight)
{
	const struct hf_route_cors *c = &r->cors;
	const struct hf_h1_header *origin;
	int n;

	*preflight = false;
	/* Most routes have no CORS policy: the fields are not looked through for them. */
	if (!c->enabled)
		return 0;
	origin = hf_h1_find(msg, "origin");
	if (origin == NULL || !origin_allowed(c, &origin->value))
		return 0;
	n = snprintf(out, cap, "access-control-allow-origin: %.*s\r\n%s", (int)origin->value.len,
		     origin->value.p,
		     c->allow_credentials ? "access-control-allow-credentials: true\r\n" : "");
	if (msg->method == HF_H1_M_OPTIONS && hf_h1_find(msg, "access-control-request-method") != NULL) {
		*preflight = true;
		if (c->allow_methods != NULL)
			n += snprintf(out + n, cap - (size_t)RTE_MIN((size_t)n, cap),
				      "access-control-allow-methods: %s\r\n", c->allow_methods);
		if (c->allow_headers != NULL)
			n += snprintf(out + n, cap - (size_t)RTE_MIN((size_t)n, cap),
				      "access-control-allow-headers: %s\r\n", c->allow_headers);
		if (c->max_age_s != 0)
			n += snprintf(out + n, cap - (size_t)RTE_MIN((size_t)n, cap),
				      "access-control-max-age: %u\r\n", c->max_age_s);
	} else if (c->expose_headers != NULL) {
		n += snprintf(out + n, cap - (size_t)RTE_MIN((size_t)n, cap),
			      "access-control-expose-headers: %s\r\n", c->expose_headers);
	}
	return (size_t)n < cap ? n : -1;
}

const struct hf_route *
hf_http_route_find(const struct hf_snapshot *snap, void *scratch, uint16_t port,
		   const struct hf_h1_message *msg, const struct hf_snap_listener **slp,
		   const struct hf_vhost **vhp)
{
	const struct hf_snap_listener *sl = hf_snapshot_listener(snap, port);
	const struct hf_vhost *vh =
		sl != NULL ? hf_router_vhost(&sl->table, msg->host.p, msg->host.len) : NULL;

	*slp = sl;
	*vhp = vh;
	return vh != NULL ? hf_http_route_select(vh, scratch, msg, port) : NULL;
}
