/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Endpoint selection over one line of weight. Lay a cluster's endpoints end to
 * end on a line, each as long as its weight (divided by the weights' gcd, so
 * 2:6 is the line of 1:3); a point on the line names the endpoint whose
 * segment holds it, found by binary search over cumulative weights.
 *
 *  - RANDOM draws the point uniformly: each endpoint with probability
 *    weight / total.
 *  - ROUND_ROBIN walks the line by a fixed stride coprime with its length,
 *    near the length divided by the golden ratio (golden_stride()): every
 *    cycle of `line` picks visits each point once, so each endpoint gets
 *    exactly its weight's share per cycle, and the visits to one segment come
 *    spread out (a golden-ratio rotation is the low-discrepancy sequence
 *    behind Fibonacci hashing; the gaps between an endpoint's picks take at
 *    most three values, by Slater's three-gap theorem). Against nginx's
 *    smooth weighted round robin or Envoy's EDF scheduler it keeps one
 *    position per cluster instead of state per endpoint, so a worker starts
 *    anywhere in the cycle in O(1) and keeps its place across snapshots
 *    (restarting an nginx cycle at each configuration change would favour
 *    its first picks), and it costs O(log n) a pick (nginx's: O(n)); it is a
 *    little less smooth (see golden_stride()). Equal weights walk the
 *    endpoints in order.
 *  - LEAST_REQUEST is Envoy's power of two choices over two RANDOM picks.
 *
 * The cumulative weights of a cluster are computed at its first pick under a
 * new snapshot version and kept in the state's arena until the next version;
 * when the arena is full the pick scans the weights instead (still right,
 * O(n) a pick) and st->uncached counts the slot.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "dataplane/snapshot-t.h"
#include "lb/cb.h"
#include "lb/lb.h"

/* 2^64 / golden ratio: the line's length times this, >> 64, is the golden stride. */
#define GOLDEN UINT64_C(0x9e3779b97f4a7c15)

static inline uint32_t
weight_of(const struct hf_snap_endpoint *ep)
{
	return ep->weight != 0 ? ep->weight : 1;
}

static uint64_t
gcd64(uint64_t a, uint64_t b)
{
	while (b != 0) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* A uniform draw in [0, n), n > 0 (Lemire's multiply-shift; its bias is below n / 2^64). */
static inline uint64_t
below(struct hf_lb_state *st, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)hf_lb_rand(st) * n) >> 64);
}

size_t
hf_lb_state_size(unsigned int n_slots, uint32_t arena_size)
{
	if (n_slots == 0)
		n_slots = 1;
	return sizeof(struct hf_lb_state) + sizeof(struct hf_lb_slot) * n_slots +
	       sizeof(uint64_t) * arena_size + sizeof(struct hf_cb_cluster) * HF_CB_CLUSTERS +
	       sizeof(struct hf_od_host) * HF_OD_HOSTS;
}

void
hf_lb_state_init(struct hf_lb_state *st, unsigned int n_slots, uint32_t arena_size, uint64_t seed)
{
	if (n_slots == 0)
		n_slots = 1;
	memset(st, 0, hf_lb_state_size(n_slots, arena_size));
	st->rng = seed;
	st->n_slots = n_slots;
	st->arena_size = arena_size;
	st->slots = (struct hf_lb_slot *)(st + 1);
	st->arena = (uint64_t *)(st->slots + n_slots);
	st->cb = (struct hf_cb_cluster *)(st->arena + arena_size);
	st->od = (struct hf_od_host *)(st->cb + HF_CB_CLUSTERS);
}

/* The sum of the partial quotients of @p s / @p line's continued fraction (Euclid's quotients). */
static uint64_t
cf_sum(uint64_t s, uint64_t line)
{
	uint64_t sum = 0;

	while (s != 0) {
		uint64_t t = line % s;

		sum += line / s;
		line = s;
		s = t;
	}
	return sum;
}

/*
 * The step of a round-robin walk on a line of @p line points: coprime with
 * it (so a cycle visits every point), near line / phi, and of those within
 * STRIDE_SEARCH of that point the one whose ratio to the line has the
 * smallest continued-fraction quotients, which bound how unevenly a rotation
 * visits a segment (the golden ratio's are all 1). Rounding line / phi to a
 * coprime alone let one endpoint's count in some window stray from its share
 * by up to 4.8 picks over random weights (n <= 8, w <= 20); this keeps it
 * within 3 (nginx's smooth round robin: 1.7, Envoy's EDF: 2.3).
 */
#define STRIDE_SEARCH 8

static uint64_t
golden_stride(uint64_t line)
{
	uint64_t s0 = (uint64_t)(((unsigned __int128)line * GOLDEN) >> 64), best = 1, best_sum = 0;

	if (line <= 2)
		return 1;
	for (uint64_t d = 0; d <= STRIDE_SEARCH; d++)
		for (int sign = 0; sign < 2; sign++) {
			uint64_t s = sign == 0 ? s0 + d : s0 - d, sum;

			if ((sign == 1 && d >= s0) || s >= line || gcd64(s, line) != 1)
				continue;
			sum = cf_sum(s, line);
			if (best_sum == 0 || sum < best_sum) {
				best = s;
				best_sum = sum;
			}
		}
	/* 1 is coprime with every line: the walk stays exact even when nothing nearer is. */
	return best;
}

/* (Re)builds slot @p sl for cluster @p cl, index @p cluster, in the state's current epoch. */
static void
build(struct hf_lb_state *st, struct hf_lb_slot *sl, const struct hf_snap_cluster *cl,
      unsigned int cluster)
{
	const struct hf_snap_endpoint *eps = cl->endpoints;
	unsigned int n = cl->n_endpoints;
	bool same = sl->epoch != 0 && sl->cluster == cluster;
	uint64_t g = weight_of(&eps[0]), line = 0;
	bool uniform = true;

	for (unsigned int i = 1; i < n; i++) {
		g = gcd64(g, weight_of(&eps[i]));
		uniform = uniform && weight_of(&eps[i]) == weight_of(&eps[0]);
	}
	sl->epoch = st->epoch;
	sl->eps = eps;
	sl->cluster = cluster;
	sl->n = n;
	sl->uniform = uniform;
	sl->gcd = (uint32_t)g;
	sl->cum = NULL;
	if (uniform) {
		line = n;
	} else if (st->arena_size - st->arena_used >= n) {
		uint64_t *cum = &st->arena[st->arena_used];

		for (unsigned int i = 0; i < n; i++)
			cum[i] = line += weight_of(&eps[i]) / g;
		st->arena_used += n;
		sl->cum = cum;
	} else {
		for (unsigned int i = 0; i < n; i++)
			line += weight_of(&eps[i]) / g;
		st->uncached++;
	}
	sl->line = line;
	sl->stride = uniform ? 1 : golden_stride(line);
	/*
	 * The same cluster under a new snapshot keeps its place in the cycle;
	 * a new one starts at a random point, so that workers do not all send
	 * their first requests to the same endpoint.
	 */
	sl->pos = same ? sl->pos % line : below(st, line);
}

/* The endpoint whose segment of the line holds point @p p (< sl->line). */
static unsigned int
locate(const struct hf_lb_slot *sl, uint64_t p)
{
	unsigned int lo = 0, hi = sl->n - 1;

	if (sl->uniform)
		return (unsigned int)p;
	if (sl->cum == NULL) {
		uint64_t end = 0;

		for (unsigned int i = 0; i < sl->n; i++) {
			end += weight_of(&sl->eps[i]) / sl->gcd;
			if (p < end)
				return i;
		}
		return sl->n - 1;
	}
	/* The first i with cum[i] > p. */
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (sl->cum[mid] > p)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* The slot of cluster @p cl, built for the context's snapshot. */
static struct hf_lb_slot *
slot_for(struct hf_lb_ctx *ctx, const struct hf_snap_cluster *cl, unsigned int cluster)
{
	struct hf_lb_state *st = ctx->st;
	struct hf_lb_slot *sl = &st->slots[cluster % st->n_slots];

	if (st->epoch == 0 || st->version != ctx->version) {
		/* A new snapshot: every slot is stale and the arena is free again. */
		st->version = ctx->version;
		st->epoch++;
		st->arena_used = 0;
	}
	if (sl->epoch != st->epoch || sl->cluster != cluster || sl->eps != cl->endpoints ||
	    sl->n != cl->n_endpoints)
		build(st, sl, cl, cluster);
	return sl;
}

static unsigned int
pick_random(struct hf_lb_state *st, const struct hf_lb_slot *sl)
{
	return locate(sl, below(st, sl->line));
}

/* One pick by the cluster's policy, out or not. */
static int
pick_policy(struct hf_lb_ctx *ctx, const struct hf_snap_cluster *cl, struct hf_lb_slot *sl)
{
	unsigned int a, b;
	uint64_t la, lb;

	switch (cl->lb) {
	case HF_LB_RANDOM:
		return (int)pick_random(ctx->st, sl);
	case HF_LB_LEAST_REQUEST:
		a = pick_random(ctx->st, sl);
		if (ctx->load == NULL)
			return (int)a;
		b = pick_random(ctx->st, sl);
		if (a == b)
			return (int)a;
		/*
		 * load_b / weight_b < load_a / weight_a, cross-multiplied (both
		 * factors fit 32 bits): the one further below its share wins.
		 */
		la = ctx->load(ctx->load_arg, &cl->endpoints[a], a);
		lb = ctx->load(ctx->load_arg, &cl->endpoints[b], b);
		if (lb * weight_of(&cl->endpoints[a]) < la * weight_of(&cl->endpoints[b]))
			return (int)b;
		return (int)a;
	default:
		/* ROUND_ROBIN, and CONSISTENT_HASH until it is built. */
		a = locate(sl, sl->pos);
		sl->pos += sl->stride;
		if (sl->pos >= sl->line)
			sl->pos -= sl->line;
		return (int)a;
	}
}

int
hf_lb_pick(struct hf_lb_ctx *ctx, const struct hf_snap_cluster *cl, unsigned int cluster)
{
	struct hf_lb_slot *sl;
	unsigned int n = cl->n_endpoints;
	uint64_t start, pos;
	int first, e;

	if (n == 0)
		return -ENOENT;
	if (n == 1)
		return 0;
	sl = slot_for(ctx, cl, cluster);
	first = pick_policy(ctx, cl, sl);
	pos = sl->pos;
	if (ctx->skip == NULL ||
	    !ctx->skip(ctx->skip_arg, &cl->endpoints[first], (unsigned int)first))
		return first;
	for (unsigned int t = 1; t < HF_LB_SKIP_TRIES; t++) {
		e = pick_policy(ctx, cl, sl);
		if (!ctx->skip(ctx->skip_arg, &cl->endpoints[e], (unsigned int)e))
			return e;
	}
	start = below(ctx->st, n);
	for (unsigned int i = 0; i < n; i++) {
		e = (int)((start + i) % n);
		if (!ctx->skip(ctx->skip_arg, &cl->endpoints[e], (unsigned int)e))
			return e;
	}
	/* Every one is out: the walk goes on from the first pick, as if nobody were. */
	sl->pos = pos;
	return first;
}
