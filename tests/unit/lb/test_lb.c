/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Endpoint selection (lb/lb.c), alone: no EAL, no worker. Each policy's
 * shares against the weights (exact per cycle for round robin, within 5
 * sigma over 100,000 picks for the random ones), round robin's sequences for
 * small weights and its smoothness over random weights, clusters of zero and
 * one endpoint, weight 0, least request against known loads, the same seed
 * giving the same picks, and state kept or rebuilt across snapshot versions,
 * shared slots and a full arena.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>

#include "dataplane/snapshot-t.h"
#include "lb/lb.h"

#define N_PICKS 100000
#define MAX_EPS 16

struct cluster {
	struct hf_snap_cluster c;
	struct hf_snap_endpoint eps[MAX_EPS];
};

static void
make(struct cluster *cl, enum hf_lb_policy lb, const uint32_t *w, unsigned int n)
{
	memset(cl, 0, sizeof(*cl));
	for (unsigned int i = 0; i < n; i++) {
		/* 198.51.100.(10+i):80, network order */
		cl->eps[i].addr = htonl(0xc6336400u + 10 + i);
		cl->eps[i].port = htons(80);
		cl->eps[i].weight = w[i];
	}
	cl->c.name = "test";
	cl->c.lb = (uint8_t)lb;
	cl->c.n_endpoints = n;
	cl->c.endpoints = cl->eps;
}

static struct hf_lb_state *
state(unsigned int n_slots, uint32_t arena, uint64_t seed)
{
	struct hf_lb_state *st = malloc(hf_lb_state_size(n_slots, arena));

	assert_non_null(st);
	hf_lb_state_init(st, n_slots, arena, seed);
	return st;
}

/* Counts @p n picks of cluster @p cl (index 0 of the context's snapshot) into @p count. */
static void
picks(struct hf_lb_ctx *ctx, const struct cluster *cl, unsigned int n, uint64_t *count)
{
	memset(count, 0, sizeof(*count) * MAX_EPS);
	for (unsigned int i = 0; i < n; i++) {
		int e = hf_lb_pick(ctx, &cl->c, 0);

		assert_in_range(e, 0, cl->c.n_endpoints - 1);
		count[e]++;
	}
}

/* @p got of @p n within 5 sigma of n * p (sigma = sqrt(n p (1 - p))). */
static void
within_5sigma(uint64_t got, uint64_t n, double p, const char *what)
{
	double sigma = sqrt((double)n * p * (1 - p)), dev = fabs((double)got - (double)n * p);

	print_message("  %-34s %6llu of %llu = %.4f (want %.4f, %.1f sigma)\n", what,
	              (unsigned long long)got, (unsigned long long)n, (double)got / (double)n, p,
	              dev / sigma);
	if (dev > 5 * sigma)
		fail_msg("%s: %llu of %llu is %.1f sigma from %.0f", what, (unsigned long long)got,
		         (unsigned long long)n, dev / sigma, (double)n * p);
}

/* ---- zero and one endpoint ---- */

static void
test_zero_and_one_endpoint(void **unused)
{
	static const enum hf_lb_policy policies[] = {HF_LB_ROUND_ROBIN, HF_LB_RANDOM,
	                                             HF_LB_LEAST_REQUEST, HF_LB_CONSISTENT_HASH,
	                                             HF_LB_PASSTHROUGH};
	struct hf_lb_state *st = state(4, 64, 1);
	struct hf_lb_ctx ctx = {.st = st, .version = 1};
	uint32_t w = 7;
	struct cluster cl;

	(void)unused;
	for (unsigned int p = 0; p < sizeof(policies) / sizeof(policies[0]); p++) {
		uint64_t rng;

		make(&cl, policies[p], &w, 0);
		assert_int_equal(hf_lb_pick(&ctx, &cl.c, 0), -ENOENT);
		make(&cl, policies[p], &w, 1);
		rng = st->rng;
		for (int i = 0; i < 10; i++)
			assert_int_equal(hf_lb_pick(&ctx, &cl.c, 0), 0);
		/* One endpoint costs no random number. */
		assert_true(st->rng == rng);
	}
	free(st);
}

/* ---- round robin: exact sequences ---- */

/*
 * The cycle @p want (endpoint letters) must be what every window of its length
 * shows: 3 cycles of picks are a rotation of it repeated (the start is random).
 */
static void
assert_cycle(const uint32_t *w, unsigned int n, const char *want, uint64_t seed)
{
	struct hf_lb_state *st = state(4, 64, seed);
	struct hf_lb_ctx ctx = {.st = st, .version = 1};
	size_t len = strlen(want);
	char got[3 * 64 + 1], twice[2 * 64 + 1];
	struct cluster cl;

	assert_true(len <= 64);
	make(&cl, HF_LB_ROUND_ROBIN, w, n);
	for (size_t i = 0; i < 3 * len; i++)
		got[i] = (char)('A' + hf_lb_pick(&ctx, &cl.c, 0));
	got[3 * len] = '\0';
	snprintf(twice, sizeof(twice), "%s%s", want, want);
	for (size_t i = 0; i < 2 * len; i++)
		if (got[i] != got[i + len])
			fail_msg("not periodic: %s", got);
	got[len] = '\0';
	if (strstr(twice, got) == NULL)
		fail_msg("weights of %u endpoints: cycle %s is no rotation of %s", n, got, want);
	free(st);
}

static void
test_rr_sequences(void **unused)
{
	static const struct {
		uint32_t w[4];
		unsigned int n;
		const char *cycle;
	} t[] = {
	        /* equal weights walk in order */
	        {{1, 1, 1}, 3, "ABC"},
	        {{5, 5, 5, 5}, 4, "ABCD"},
	        /* 1:3 → 25%/75%, interleaved: never two A in a row, never BBBB */
	        {{1, 3}, 2, "ABBB"},
	        /* the gcd divides out: 2:6 is 1:3 */
	        {{2, 6}, 2, "ABBB"},
	        {{3, 1}, 2, "AAAB"},
	        {{1, 2}, 2, "ABB"},
	        {{2, 3}, 2, "ABABB"},
	        /* nginx's example 5:1:1, as a walk by 3 on a line of 7: A=0..4 B=5 C=6 */
	        {{5, 1, 1}, 3, "AAABACA"},
	        {{1, 1, 2}, 3, "ACCB"},
	        /* weight 0 counts as 1 */
	        {{0, 3}, 2, "ABBB"},
	        {{0, 1}, 2, "AB"},
	};

	(void)unused;
	for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		for (uint64_t seed = 1; seed <= 8; seed++)
			assert_cycle(t[i].w, t[i].n, t[i].cycle, seed);
}

/* ---- round robin: exact shares and smoothness over random weights ---- */

static void
test_rr_random_weights(void **unused)
{
	struct hf_lb_state *st = state(1, 64, 42);
	uint64_t x = 99, worst_num = 0, worst_den = 1;
	static unsigned int seq[4 * 8 * 20];
	static uint32_t prefix[MAX_EPS][2 * 8 * 20 + 1];

	(void)unused;
	for (unsigned int round = 0; round < 300; round++) {
		struct hf_lb_ctx ctx = {.st = st, .version = round + 1};
		uint32_t w[8], g = 0, line = 0;
		unsigned int n;
		uint64_t count[MAX_EPS];
		struct cluster cl;

		n = 2 + (unsigned int)(hf_lb_rand(st) % 7);
		for (unsigned int i = 0; i < n; i++) {
			x = x * 6364136223846793005u + 1442695040888963407u;
			w[i] = 1 + (uint32_t)((x >> 33) % 20);
		}
		for (unsigned int i = 0; i < n; i++) {
			uint32_t a = w[i], b = g;

			while (b != 0) {
				uint32_t r = a % b;

				a = b;
				b = r;
			}
			g = a;
		}
		for (unsigned int i = 0; i < n; i++)
			line += w[i] / g;
		make(&cl, HF_LB_ROUND_ROBIN, w, n);
		/* Any `line` consecutive picks: each endpoint exactly w/g times. */
		for (unsigned int k = 0; k < 2 * line; k++)
			seq[k] = (unsigned int)hf_lb_pick(&ctx, &cl.c, 0);
		memset(count, 0, sizeof(count));
		for (unsigned int k = 0; k < line; k++)
			count[seq[k]]++;
		for (unsigned int i = 0; i < n; i++)
			if (count[i] != w[i] / g)
				fail_msg(
				        "round %u: endpoint %u of weight %u: %llu picks in a cycle "
				        "of %u, want %u",
				        round, i, w[i], (unsigned long long)count[i], line,
				        w[i] / g);
		/*
		 * Smooth: in every window of m picks (of the cycle, read
		 * circularly), an endpoint's count strays from m * w/line by at
		 * most 3. Blocks (AAAAA..BBB) would stray by up to w/2.
		 */
		for (unsigned int i = 0; i < n; i++) {
			prefix[i][0] = 0;
			for (unsigned int k = 0; k < 2 * line; k++)
				prefix[i][k + 1] = prefix[i][k] + (seq[k] == i);
			for (unsigned int start = 0; start < line; start++)
				for (unsigned int m = 1; m <= line; m++) {
					int64_t c = prefix[i][start + m] - prefix[i][start];
					int64_t dev = c * line - (int64_t)m * (w[i] / g);

					if (dev < 0)
						dev = -dev;
					if ((uint64_t)dev * worst_den > worst_num * line) {
						worst_num = (uint64_t)dev;
						worst_den = line;
					}
					if ((uint64_t)dev > 3 * (uint64_t)line)
						fail_msg("round %u: endpoint %u (weight %u of line "
						         "%u) "
						         "has %lld picks in %u from %u",
						         round, i, w[i] / g, line, (long long)c, m,
						         start);
				}
		}
	}
	print_message("  largest deviation from the share in any window: %.2f picks\n",
	              (double)worst_num / (double)worst_den);
	free(st);
}

/* ---- 1:3 over 100,000 picks, every policy ---- */

static uint32_t
load_from_array(void *arg, const struct hf_snap_endpoint *ep, unsigned int index)
{
	(void)ep;
	return ((const uint32_t *)arg)[index];
}

static void
test_weights_1_3(void **unused)
{
	static const uint32_t w[] = {1, 3};
	uint32_t loads[2] = {0, 0}, prop[2] = {5, 15};
	struct hf_lb_state *st = state(8, 64, 12345);
	struct hf_lb_ctx ctx = {.st = st, .version = 1};
	uint64_t count[MAX_EPS];
	struct cluster cl;

	(void)unused;
	make(&cl, HF_LB_ROUND_ROBIN, w, 2);
	picks(&ctx, &cl, N_PICKS, count);
	print_message("  round robin: %llu / %llu\n", (unsigned long long)count[0],
	              (unsigned long long)count[1]);
	assert_int_equal(count[0], N_PICKS / 4);
	assert_int_equal(count[1], 3 * N_PICKS / 4);

	make(&cl, HF_LB_RANDOM, w, 2);
	picks(&ctx, &cl, N_PICKS, count);
	within_5sigma(count[0], N_PICKS, 0.25, "random, weight 1");

	/* No load known: least request picks as random. */
	make(&cl, HF_LB_LEAST_REQUEST, w, 2);
	picks(&ctx, &cl, N_PICKS, count);
	within_5sigma(count[0], N_PICKS, 0.25, "least request, no loads, weight 1");
	/* Equal loads, and loads in proportion to the weights: ties keep the weighted share. */
	ctx.load = load_from_array;
	ctx.load_arg = loads;
	picks(&ctx, &cl, N_PICKS, count);
	within_5sigma(count[0], N_PICKS, 0.25, "least request, idle, weight 1");
	ctx.load_arg = prop;
	picks(&ctx, &cl, N_PICKS, count);
	within_5sigma(count[0], N_PICKS, 0.25, "least request, loads 5:15, weight 1");
	free(st);
}

static void
test_random_shares(void **unused)
{
	static const uint32_t w[] = {1, 2, 7, 0, 10}; /* 0 counts as 1: total 21 */
	struct hf_lb_state *st = state(8, 64, 777);
	struct hf_lb_ctx ctx = {.st = st, .version = 1};
	uint64_t count[MAX_EPS];
	struct cluster cl;
	char what[64];

	(void)unused;
	make(&cl, HF_LB_RANDOM, w, 5);
	picks(&ctx, &cl, N_PICKS, count);
	for (unsigned int i = 0; i < 5; i++) {
		snprintf(what, sizeof(what), "random, weight %u of 21", w[i] ? w[i] : 1);
		within_5sigma(count[i], N_PICKS, (w[i] ? w[i] : 1) / 21.0, what);
	}
	free(st);
}

/* ---- least request ---- */

static void
test_least_request(void **unused)
{
	static const uint32_t eq[] = {1, 1, 1, 1}, w13[] = {1, 3};
	uint32_t one_idle[] = {10, 0, 10, 10}, one_busy[] = {0, 0, 0, 10}, b_busy[] = {0, 3};
	struct hf_lb_state *st = state(8, 64, 2024);
	struct hf_lb_ctx ctx = {.st = st, .version = 1, .load = load_from_array};
	uint64_t count[MAX_EPS];
	struct cluster cl;

	(void)unused;
	make(&cl, HF_LB_LEAST_REQUEST, eq, 4);
	/* The idle one wins unless both choices miss it: 1 - (3/4)^2 = 7/16. */
	ctx.load_arg = one_idle;
	picks(&ctx, &cl, N_PICKS, count);
	within_5sigma(count[1], N_PICKS, 7.0 / 16, "least request, the idle one of 4");
	/* The busy one only when both choices are it: 1/16. */
	ctx.load_arg = one_busy;
	picks(&ctx, &cl, N_PICKS, count);
	within_5sigma(count[3], N_PICKS, 1.0 / 16, "least request, the busy one of 4");
	/* Weighted: B (weight 3, 3 in flight) is further over its share than A (idle). */
	make(&cl, HF_LB_LEAST_REQUEST, w13, 2);
	ctx.load_arg = b_busy;
	picks(&ctx, &cl, N_PICKS, count);
	within_5sigma(count[1], N_PICKS, 9.0 / 16, "least request 1:3, B busy");

	free(st);
}

/*
 * A closed loop of 64 requests always in flight over 4 endpoints of equal
 * weight, endpoint 0 answering 4 times slower: each step one request ends
 * (on endpoint i with probability in flight(i) * speed(i)) and one is sent.
 * Returns the share of requests sent to the slow endpoint.
 */
static double
slow_share(enum hf_lb_policy policy, uint64_t seed)
{
	static const uint32_t eq[] = {1, 1, 1, 1}, speed[] = {1, 4, 4, 4};
	uint32_t inflight[4] = {0, 0, 0, 0};
	struct hf_lb_state *st = state(8, 64, seed);
	struct hf_lb_ctx ctx = {
	        .st = st, .version = 1, .load = load_from_array, .load_arg = inflight};
	uint64_t sent0 = 0;
	struct cluster cl;

	make(&cl, policy, eq, 4);
	for (int i = 0; i < 64; i++)
		inflight[hf_lb_pick(&ctx, &cl.c, 0)]++;
	for (int i = 0; i < N_PICKS; i++) {
		uint64_t total = 0, r;
		int e = 0;

		for (int k = 0; k < 4; k++)
			total += (uint64_t)inflight[k] * speed[k];
		r = hf_lb_rand(st) % total;
		while (r >= (uint64_t)inflight[e] * speed[e]) {
			r -= (uint64_t)inflight[e] * speed[e];
			e++;
		}
		inflight[e]--;
		e = hf_lb_pick(&ctx, &cl.c, 0);
		inflight[e]++;
		sent0 += e == 0;
	}
	free(st);
	return (double)sent0 / N_PICKS;
}

static void
test_least_request_closed_loop(void **unused)
{
	double rr = slow_share(HF_LB_ROUND_ROBIN, 3), random = slow_share(HF_LB_RANDOM, 3);
	double lr = slow_share(HF_LB_LEAST_REQUEST, 3);

	(void)unused;
	print_message("  share sent to the slow endpoint of 4: round robin %.4f, random %.4f, "
	              "least request %.4f\n",
	              rr, random, lr);
	assert_true(fabs(rr - 0.25) < 1e-3);
	assert_true(fabs(random - 0.25) < 0.01);
	/* Least request sees the queue and sends the slow one well under a quarter. */
	assert_true(lr < 0.18);
}

/* ---- determinism ---- */

static void
test_same_seed_same_picks(void **unused)
{
	static const uint32_t w[] = {1, 2, 3, 4, 5};
	static const enum hf_lb_policy policies[] = {HF_LB_ROUND_ROBIN, HF_LB_RANDOM,
	                                             HF_LB_LEAST_REQUEST};
	uint32_t loads[] = {3, 1, 4, 1, 5};

	(void)unused;
	for (unsigned int p = 0; p < 3; p++) {
		struct hf_lb_state *a = state(8, 64, 31337), *b = state(8, 64, 31337);
		struct hf_lb_state *c = state(8, 64, 31338);
		struct hf_lb_ctx ca = {
		        .st = a, .version = 1, .load = load_from_array, .load_arg = loads};
		struct hf_lb_ctx cb = ca, cc = ca;
		unsigned int differ = 0;
		struct cluster cl;

		cb.st = b;
		cc.st = c;
		make(&cl, policies[p], w, 5);
		for (int i = 0; i < 1000; i++) {
			int x = hf_lb_pick(&ca, &cl.c, 0);

			assert_int_equal(x, hf_lb_pick(&cb, &cl.c, 0));
			differ += x != hf_lb_pick(&cc, &cl.c, 0);
		}
		/* Another seed: another start (round robin) or other draws. */
		assert_true(differ > 0);
		free(a);
		free(b);
		free(c);
	}
}

/* ---- snapshots, slots and the arena ---- */

static void
test_snapshot_versions(void **unused)
{
	static const uint32_t w13[] = {1, 3}, w11[] = {1, 1};
	struct hf_lb_state *st = state(8, 64, 5);
	struct hf_lb_ctx ctx = {.st = st, .version = 1};
	struct cluster cl, cl2;
	char got[9];

	(void)unused;
	make(&cl, HF_LB_ROUND_ROBIN, w13, 2);
	make(&cl2, HF_LB_ROUND_ROBIN, w13, 2);
	/*
	 * A new snapshot every 2 picks, its cluster a fresh copy: the walk goes
	 * on where it was, so 8 picks are still 2 cycles of ABBB.
	 */
	for (int i = 0; i < 8; i++) {
		ctx.version = 2 + i / 2;
		got[i] = (char)('A' + hf_lb_pick(&ctx, i / 2 % 2 ? &cl2.c : &cl.c, 0));
	}
	got[8] = '\0';
	if (strstr("ABBBABBBABBB", got) == NULL)
		fail_msg("across snapshots: %s", got);
	/* New weights in a new snapshot take effect at once. */
	make(&cl2, HF_LB_ROUND_ROBIN, w11, 2);
	ctx.version = 100;
	assert_int_not_equal(hf_lb_pick(&ctx, &cl2.c, 0), hf_lb_pick(&ctx, &cl2.c, 0));
	free(st);
}

static void
test_arena_full_and_shared_slots(void **unused)
{
	static const uint32_t w[] = {5, 1, 1}, w13[] = {1, 3};
	struct hf_lb_state *none = state(4, 0, 9), *one = state(1, 64, 9);
	struct hf_lb_ctx ctx = {.st = none, .version = 1};
	uint64_t count[MAX_EPS], n1 = 0;
	struct cluster cl, a, b;
	char got[8];

	(void)unused;
	/* No room for cumulative weights: the picks scan, and are the same. */
	make(&cl, HF_LB_ROUND_ROBIN, w, 3);
	for (int i = 0; i < 7; i++)
		got[i] = (char)('A' + hf_lb_pick(&ctx, &cl.c, 0));
	got[7] = '\0';
	if (strstr("AAABACAAAABACA", got) == NULL)
		fail_msg("uncached: %s", got);
	assert_int_equal(none->uncached, 1);
	cl.c.lb = HF_LB_RANDOM;
	picks(&ctx, &cl, N_PICKS, count);
	within_5sigma(count[0], N_PICKS, 5.0 / 7, "random uncached, weight 5 of 7");

	/*
	 * Two clusters share the only slot: each pick rebuilds it at a random
	 * point of the cycle, so the shares still hold (in expectation).
	 */
	ctx.st = one;
	make(&a, HF_LB_ROUND_ROBIN, w13, 2);
	make(&b, HF_LB_ROUND_ROBIN, w13, 2);
	for (int i = 0; i < N_PICKS; i++) {
		int e = hf_lb_pick(&ctx, i % 2 ? &b.c : &a.c, (unsigned int)(i % 2));

		assert_in_range(e, 0, 1);
		n1 += e == 0;
	}
	within_5sigma(n1, N_PICKS, 0.25, "round robin, shared slot, weight 1");
	free(none);
	free(one);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_zero_and_one_endpoint),
	        cmocka_unit_test(test_rr_sequences),
	        cmocka_unit_test(test_rr_random_weights),
	        cmocka_unit_test(test_weights_1_3),
	        cmocka_unit_test(test_random_shares),
	        cmocka_unit_test(test_least_request),
	        cmocka_unit_test(test_least_request_closed_loop),
	        cmocka_unit_test(test_same_seed_same_picks),
	        cmocka_unit_test(test_snapshot_versions),
	        cmocka_unit_test(test_arena_full_and_shared_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
