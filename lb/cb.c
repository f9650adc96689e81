/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Circuit breakers and outlier detection of one worker (lb/cb.h). Both
 * tables are open addressing with linear probing over a hash of the key, in
 * the worker's hf_lb_state; entries are never removed (a cluster's or host's
 * counters must outlive the snapshots that name it), so a full table leaves
 * what it cannot hold unlimited and never ejected, counted.
 */
#include <errno.h>
#include <string.h>

#include "lb/cb.h"

static inline uint64_t
mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

struct hf_cb_cluster *
hf_cb_cluster(struct hf_lb_state *st, uint64_t id)
{
	uint64_t h = mix(id);

	if (id == 0)
		return NULL;
	for (unsigned int i = 0; i < HF_CB_CLUSTERS; i++) {
		struct hf_cb_cluster *c = &st->cb[(h + i) % HF_CB_CLUSTERS];

		if (c->id == id)
			return c;
		if (c->id == 0) {
			memset(c, 0, sizeof(*c));
			c->id = id;
			return c;
		}
	}
	st->cb_full++;
	return NULL;
}

/*
 * One place among @p used, at most worker @p id of @p n's share of @p total
 * (0: unlimited): taken (0), or @p overflow counted and -EBUSY.
 */
static int
take(uint32_t *used, uint32_t total, unsigned int id, unsigned int n, uint64_t *overflow)
{
	uint32_t max = hf_cb_share(total, id, n);

	if (max != 0 && *used >= max) {
		(*overflow)++;
		return -EBUSY;
	}
	(*used)++;
	return 0;
}

int
hf_cb_admit_rq(struct hf_cb_cluster *c, const struct hf_cb_limits *lim, unsigned int id,
	       unsigned int n)
{
	return take(&c->rq, lim->max_requests, id, n, &c->rq_pending_overflow);
}

int
hf_cb_admit_cx(struct hf_cb_cluster *c, const struct hf_cb_limits *lim, unsigned int id,
	       unsigned int n, enum hf_cb_overflow *why)
{
	uint32_t maxc = hf_cb_share(lim->max_connections, id, n);

	if (maxc != 0 && c->cx >= maxc) {
		c->cx_overflow++;
		*why = HF_CB_CX;
		return -EBUSY;
	}
	if (take(&c->pending, lim->max_pending, id, n, &c->rq_pending_overflow) != 0) {
		*why = HF_CB_PENDING;
		return -EBUSY;
	}
	c->cx++;
	*why = HF_CB_OK;
	return 0;
}

int
hf_cb_admit_wait(struct hf_cb_cluster *c, const struct hf_cb_limits *lim, unsigned int id,
		 unsigned int n)
{
	return take(&c->pending, lim->max_pending, id, n, &c->rq_pending_overflow);
}

int
hf_cb_admit_retry(struct hf_cb_cluster *c, const struct hf_cb_limits *lim, unsigned int id,
		  unsigned int n)
{
	return take(&c->retries, lim->max_retries, id, n, &c->rq_retry_overflow);
}

/* ---- outlier detection ---- */

struct hf_od_host *
hf_od_host(struct hf_lb_state *st, uint64_t cluster, uint32_t addr, uint16_t port, bool create)
{
	uint64_t h = mix(cluster ^ mix(((uint64_t)addr << 16) | port));

	if (cluster == 0)
		return NULL;
	for (unsigned int i = 0; i < HF_OD_HOSTS; i++) {
		struct hf_od_host *o = &st->od[(h + i) % HF_OD_HOSTS];

		if (o->cluster == cluster && o->addr == addr && o->port == port)
			return o;
		if (o->cluster == 0) {
			if (!create)
				return NULL;
			memset(o, 0, sizeof(*o));
			o->cluster = cluster;
			o->addr = addr;
			o->port = port;
			return o;
		}
	}
	if (create)
		st->od_full++;
	return NULL;
}

/* How long the host's ejection number @p k lasts. */
static uint64_t
ejection_ms(const struct hf_od_config *od, uint32_t k)
{
	uint64_t t = (uint64_t)od->base_ejection_ms * k;
	uint64_t cap = od->max_ejection_ms > od->base_ejection_ms ? od->max_ejection_ms :
								     od->base_ejection_ms;

	return t < cap ? t : cap;
}

bool
hf_od_ejected(struct hf_cb_cluster *c, struct hf_od_host *h, uint64_t now_ms)
{
	if (!h->ejected)
		return false;
	if (now_ms < h->until_ms)
		return true;
	h->ejected = false;
	h->mark_ms = now_ms;
	if (c->n_ejected > 0)
		c->n_ejected--;
	return false;
}

/*
 * Whether one more host may be ejected: one always may; more only while the
 * ejected stay within max_ejection_percent of the hosts.
 */
static bool
may_eject(const struct hf_cb_cluster *c)
{
	if (c->n_ejected == 0)
		return true;
	return (uint64_t)(c->n_ejected + 1) * 100 <=
	       (uint64_t)c->od.max_ejection_percent * c->n_hosts;
}

bool
hf_od_report(struct hf_cb_cluster *c, struct hf_od_host *h, enum hf_od_result r, uint64_t now_ms)
{
	const struct hf_od_config *od = &c->od;
	bool trip = false;

	if (hf_od_ejected(c, h, now_ms))
		return false;	/* a late answer of a host already out */
	/* Clean intervals since the last ejection ended take one ejection each off its count. */
	if (h->n_ejections > 0 && od->interval_ms > 0 && now_ms >= h->mark_ms + od->interval_ms) {
		uint64_t k = (now_ms - h->mark_ms) / od->interval_ms;

		h->n_ejections = k >= h->n_ejections ? 0 : h->n_ejections - (uint32_t)k;
		h->mark_ms += k * od->interval_ms;
	}
	if (r == HF_OD_LOCAL_FAILURE && !od->split_local)
		r = HF_OD_GATEWAY;	/* Envoy maps a local-origin failure to a 503 */
	switch (r) {
	case HF_OD_SUCCESS:
		h->c5xx = h->cgw = 0;
		if (!od->split_local)
			h->clocal = 0;
		break;
	case HF_OD_GATEWAY:
		h->cgw++;
		h->c5xx++;
		trip = (od->consecutive_gateway != 0 && h->cgw >= od->consecutive_gateway) ||
		       (od->consecutive_5xx != 0 && h->c5xx >= od->consecutive_5xx);
		break;
	case HF_OD_5XX:
		h->cgw = 0;
		h->c5xx++;
		trip = od->consecutive_5xx != 0 && h->c5xx >= od->consecutive_5xx;
		break;
	case HF_OD_LOCAL_FAILURE:
		h->clocal++;
		trip = od->consecutive_local != 0 && h->clocal >= od->consecutive_local;
		break;
	case HF_OD_LOCAL_SUCCESS:
		h->clocal = 0;
		break;
	}
	if (!trip)
		return false;
	/* The run that tripped starts again, ejected or not (Envoy resets its counter). */
	h->c5xx = h->cgw = h->clocal = 0;
	if (!may_eject(c))
		return false;
	h->ejected = true;
	h->n_ejections++;
	h->until_ms = now_ms + ejection_ms(od, h->n_ejections);
	h->mark_ms = h->until_ms;
	c->n_ejected++;
	c->ejections++;
	return true;
}
