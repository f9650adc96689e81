/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Local rate limits on the workers (ratelimit.h has the model): per-worker
 * token buckets refilled from the TSC on use, followed across snapshots by
 * the limits' keys.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_random.h>

#include "dataplane/proxy/http-int.h"
#include "dataplane/proxy/ratelimit.h"
#include "dataplane/proxy/router.h"
#include "dataplane/snapshot-t.h"
#include "dataplane/worker-t.h"

static struct hf_rl_state rl_workers[HF_MAX_WORKERS] __rte_cache_aligned;

struct hf_rl_state *
hf_rl_worker(unsigned int id)
{
	return id < HF_MAX_WORKERS ? &rl_workers[id] : NULL;
}

void
hf_rl_init(struct hf_rl_state *st, uint16_t id, uint16_t n_workers, uint64_t tsc_hz, uint64_t seed)
{
	memset(st, 0, sizeof(*st));
	st->id = id;
	st->n_workers = n_workers > 0 ? n_workers : 1;
	st->tsc_hz = tsc_hz;
	st->rng = seed != 0 ? seed : 0x9e3779b97f4a7c15ull;
	st->cur = st->mem[0];
	st->spare = st->mem[1];
}

const struct hf_rl_limit *
hf_rl_pick(const struct hf_snap_listener *sl, const struct hf_vhost *vh, const struct hf_route *r)
{
	if (r != NULL && r->ratelimit != NULL)
		return r->ratelimit;
	if (vh != NULL && vh->ratelimit != NULL)
		return vh->ratelimit;
	return sl != NULL ? sl->ratelimit : NULL;
}

/* A draw that holds @p ppm times in a million (xorshift64: cheap, and the state is the worker's). */
static bool
draw(struct hf_rl_state *st, uint32_t ppm)
{
	uint64_t x = st->rng;

	if (ppm >= 1000000)
		return true;
	if (ppm == 0)
		return false;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	st->rng = x;
	return (x >> 11) % 1000000 < ppm;
}

/*
 * Follows snapshot @p snap: its limits are sorted by key, and so are the
 * buckets of the one followed so far, so one merge pass keeps the buckets
 * whose keys remain and starts the others full, their fill clock at @p now.
 */
static void
resync(struct hf_rl_state *st, const struct hf_snapshot *snap, uint64_t now)
{
	struct hf_rl_bucket *nb = st->spare;
	unsigned int j = 0, n = RTE_MIN(snap->n_rl, (unsigned int)HF_RL_MAX_LIMITS);

	for (unsigned int i = 0; i < n; i++) {
		const struct hf_rl_limit *l = snap->rl[i];

		while (j < st->n && st->cur[j].key < l->key)
			j++;
		if (j < st->n && st->cur[j].key == l->key) {
			nb[i] = st->cur[j++];
		} else {
			nb[i].key = l->key;
			nb[i].last_fill = now;
			nb[i].tokens = hf_rl_share(l->max_tokens, st->id, st->n_workers);
		}
	}
	st->spare = st->cur;
	st->cur = nb;
	st->n = n;
	st->version = snap->version;
}

/* Appends "name: value\r\n" to @p out (@p cap bytes, NUL-terminated); false when it does not fit. */
static bool
put_field(char *out, size_t cap, size_t *len, const char *name, const char *value, size_t vlen)
{
	int n = snprintf(out + *len, cap - *len, "%s: %.*s\r\n", name, (int)vlen, value);

	if (n < 0 || (size_t)n >= cap - *len) {
		out[*len] = '\0';
		return false;
	}
	*len += (size_t)n;
	return true;
}

/* The local reply's extra fields: x-ratelimit-* (when on), then response_headers_to_add. */
static void
reply_fields(const struct hf_rl_limit *lim, struct hf_rl_result *out)
{
	size_t len = 0;
	char v[16];
	int n;

	out->extra[0] = '\0';
	if (out->x_headers) {
		n = snprintf(v, sizeof(v), "%u", out->limit);
		put_field(out->extra, sizeof(out->extra), &len, "x-ratelimit-limit", v, (size_t)n);
		put_field(out->extra, sizeof(out->extra), &len, "x-ratelimit-remaining", "0", 1);
		n = snprintf(v, sizeof(v), "%u", out->reset_s);
		put_field(out->extra, sizeof(out->extra), &len, "x-ratelimit-reset", v, (size_t)n);
	}
	for (unsigned int i = 0; i < lim->n_headers; i++)
		if (!put_field(out->extra, sizeof(out->extra), &len, lim->headers[i].name,
			       lim->headers[i].value, lim->headers[i].value_len))
			break;
}

enum hf_rl_verdict
hf_rl_check(struct hf_rl_state *st, struct hf_counters *c, const struct hf_snapshot *snap,
	    const struct hf_rl_limit *lim, uint64_t now, struct hf_rl_result *out)
{
	struct hf_rl_bucket *b;
	uint64_t interval;
	uint32_t max;
	uint64_t *cnt;

	out->verdict = HF_RL_PASS;
	out->x_headers = false;
	if (lim == NULL || !draw(st, lim->enabled_ppm))
		return HF_RL_PASS;
	if (st->version != snap->version)
		resync(st, snap, now);
	if (lim->slot >= st->n)
		return HF_RL_PASS;	/* not in the snapshot's table: cannot happen when compiled */
	cnt = lim->stat < HF_RL_MAX_STATS ? st->stats[lim->stat] : NULL;
	b = &st->cur[lim->slot];
	max = hf_rl_share(lim->max_tokens, st->id, st->n_workers);
	interval = (uint64_t)lim->fill_interval_ms * (st->tsc_hz / 1000);
	if (interval == 0)
		interval = 1;
	hf_rl_refill(b, now, interval, hf_rl_share(lim->tokens_per_fill, st->id, st->n_workers), max);
	c->v[HF_CNT_HTTP_RL_ENABLED]++;
	if (cnt != NULL)
		cnt[HF_RL_STAT_ENABLED]++;
	out->x_headers = lim->x_headers;
	out->limit = max;
	out->reset_s = hf_rl_reset_s(b, now, interval, st->tsc_hz);
	if (b->tokens > 0) {
		b->tokens--;
		out->remaining = b->tokens;
		c->v[HF_CNT_HTTP_RL_OK]++;
		if (cnt != NULL)
			cnt[HF_RL_STAT_OK]++;
		out->verdict = HF_RL_OK;
		return HF_RL_OK;
	}
	out->remaining = 0;
	c->v[HF_CNT_HTTP_RL_RATE_LIMITED]++;
	if (cnt != NULL)
		cnt[HF_RL_STAT_RATE_LIMITED]++;
	if (!draw(st, lim->enforced_ppm)) {
		out->verdict = HF_RL_NOT_ENFORCED;
		return HF_RL_NOT_ENFORCED;
	}
	c->v[HF_CNT_HTTP_RL_ENFORCED]++;
	if (cnt != NULL)
		cnt[HF_RL_STAT_ENFORCED]++;
	out->status = lim->status >= 400 ? lim->status : 429;
	reply_fields(lim, out);
	out->verdict = HF_RL_ENFORCE;
	return HF_RL_ENFORCE;
}

enum hf_rl_verdict
hf_rl_request(struct hf_worker *w, const struct hf_snap_listener *sl, const struct hf_vhost *vh,
	      const struct hf_route *r, struct hf_rl_result *out)
{
	const struct hf_rl_limit *lim = hf_rl_pick(sl, vh, r);
	struct hf_rl_state *st;

	out->verdict = HF_RL_PASS;
	out->x_headers = false;
	if (lim == NULL || (st = hf_rl_worker(w->id)) == NULL)
		return HF_RL_PASS;
	/* Set up on the worker's first limited request: a worker without limits never touches it. */
	if (unlikely(st->n_workers != w->n_workers || st->tsc_hz != w->tsc_hz))
		hf_rl_init(st, w->id, w->n_workers, w->tsc_hz, rte_rand());
	return hf_rl_check(st, &w->cnt, w->snap, lim, w->now, out);
}

int
hf_rl_edit_add(char *e, size_t *len, const struct hf_rl_result *res)
{
	size_t before = *len;
	char v[3][16];
	int n[3];

	if (!res->x_headers || res->verdict == HF_RL_PASS)
		return 0;
	n[0] = snprintf(v[0], sizeof(v[0]), "%u", res->limit);
	n[1] = snprintf(v[1], sizeof(v[1]), "%u", res->remaining);
	n[2] = snprintf(v[2], sizeof(v[2]), "%u", res->reset_s);
	if (hf_http_edit_add_one(e, len, 'a', "x-ratelimit-limit", v[0], (size_t)n[0]) != 0 ||
	    hf_http_edit_add_one(e, len, 'a', "x-ratelimit-remaining", v[1], (size_t)n[1]) != 0 ||
	    hf_http_edit_add_one(e, len, 'a', "x-ratelimit-reset", v[2], (size_t)n[2]) != 0) {
		*len = before;
		e[before] = '\0';
		return -ENOSPC;
	}
	return 0;
}
