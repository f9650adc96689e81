/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Local rate limit buckets: the per-worker share, the refill arithmetic
 * (checked against a slow reference that steps one interval at a time), a
 * TSC wrap, intervals of days with counts near 2^32, and the check a request
 * goes through: verdicts, counters, headers, and buckets kept or reset as
 * snapshots change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_test.h"
#include "dataplane/proxy/http-int.h"
#include "dataplane/proxy/ratelimit.h"
#include "dataplane/proxy/router.h"
#include "dataplane/snapshot-t.h"

static void
test_share(void **state)
{
	static const struct {
		uint32_t total;
		unsigned int n;
		uint32_t want[4];
	} cases[] = {
		{10, 1, {10}},
		{10, 3, {4, 3, 3}},
		{11, 2, {6, 5}},
		{1, 2, {1, 0}},
		{3, 4, {1, 1, 1, 0}},
		{UINT32_MAX, 2, {2147483648u, 2147483647u}},
	};

	(void)state;
	for (unsigned int c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		for (unsigned int i = 0; i < cases[c].n; i++)
			assert_int_equal(hf_rl_share(cases[c].total, i, cases[c].n), cases[c].want[i]);
	/* the shares always add up to the total */
	srand(7);
	for (int k = 0; k < 10000; k++) {
		uint32_t total = (uint32_t)rand() * 2u + (uint32_t)(rand() & 1);
		unsigned int n = 1 + (unsigned int)rand() % 64;
		uint64_t sum = 0;

		for (unsigned int i = 0; i < n; i++)
			sum += hf_rl_share(total, i, n);
		assert_int_equal(sum, total);
	}
}

static void
test_refill_steps(void **state)
{
	struct hf_rl_bucket b = {.last_fill = 1000, .tokens = 0};

	(void)state;
	hf_rl_refill(&b, 1099, 100, 3, 10);
	assert_int_equal(b.tokens, 0);			/* not a whole interval yet */
	assert_int_equal(b.last_fill, 1000);
	hf_rl_refill(&b, 1100, 100, 3, 10);
	assert_int_equal(b.tokens, 3);
	assert_int_equal(b.last_fill, 1100);
	hf_rl_refill(&b, 1350, 100, 3, 10);
	assert_int_equal(b.tokens, 9);			/* two more fills; 50 ticks carried */
	assert_int_equal(b.last_fill, 1300);
	hf_rl_refill(&b, 1400, 100, 3, 10);
	assert_int_equal(b.tokens, 10);			/* capped */
	assert_int_equal(hf_rl_reset_s(&b, 1450, 100, 100), 1);	/* 50 ticks left at 100 Hz: 1 s */
	assert_int_equal(hf_rl_reset_s(&b, 1400, 1000, 100), 10);
	/* a long idle time fills to the cap at once */
	b.tokens = 0;
	hf_rl_refill(&b, 1400 + 100ull * 1000000, 100, 3, 10);
	assert_int_equal(b.tokens, 10);
	assert_int_equal(b.last_fill, 1400 + 100ull * 1000000);
}

static void
test_refill_wrap(void **state)
{
	struct hf_rl_bucket b = {.last_fill = UINT64_MAX - 49, .tokens = 0};

	(void)state;
	/* the TSC wrapped: 50 ticks to 2^64, then 61 more make 111 elapsed, one fill of 100 */
	hf_rl_refill(&b, 60, 100, 2, 5);
	assert_int_equal(b.tokens, 2);
	assert_int_equal(b.last_fill, 50);		/* UINT64_MAX - 49 + 100, modulo 2^64 */
	hf_rl_refill(&b, 149, 100, 2, 5);
	assert_int_equal(b.tokens, 2);
	hf_rl_refill(&b, 150, 100, 2, 5);
	assert_int_equal(b.tokens, 4);
}

static void
test_refill_large(void **state)
{
	/* 30 days at 5 GHz: 1.3e16 ticks per interval */
	const uint64_t interval = (uint64_t)HF_RL_MAX_FILL_MS * 5000000ull;
	struct hf_rl_bucket b = {.last_fill = 0, .tokens = 0};

	(void)state;
	hf_rl_refill(&b, interval - 1, interval, UINT32_MAX, UINT32_MAX);
	assert_int_equal(b.tokens, 0);
	hf_rl_refill(&b, interval, interval, UINT32_MAX, UINT32_MAX);
	assert_int_equal(b.tokens, UINT32_MAX);		/* one fill of 2^32-1, no overflow */
	b.tokens = 1;
	hf_rl_refill(&b, UINT64_MAX, interval, UINT32_MAX - 1, UINT32_MAX);
	assert_int_equal(b.tokens, UINT32_MAX);		/* ~1400 fills of ~2^32: capped, no wrap */
	assert_true(UINT64_MAX - b.last_fill < interval);
	/* per_fill 1 over a huge count of fills: the cap, not a 32-bit truncation */
	b = (struct hf_rl_bucket){.last_fill = 0, .tokens = 0};
	hf_rl_refill(&b, (1ull << 40) * 3, 3, 1, 7);
	assert_int_equal(b.tokens, 7);
}

/* The reference: one interval at a time. */
static void
slow_refill(struct hf_rl_bucket *b, uint64_t now, uint64_t interval, uint32_t per_fill, uint32_t max)
{
	while (now - b->last_fill >= interval) {
		b->last_fill += interval;
		b->tokens = b->tokens + per_fill > max ? max : b->tokens + per_fill;
	}
}

static void
test_refill_random(void **state)
{
	(void)state;
	srand(11);
	for (int k = 0; k < 2000; k++) {
		uint64_t interval = 1 + (uint64_t)(rand() % 1000);
		uint32_t max = 1 + (uint32_t)(rand() % 50), per_fill = 1 + (uint32_t)(rand() % 20);
		uint64_t now = (uint64_t)rand() << 20;
		struct hf_rl_bucket a = {.last_fill = now, .tokens = max}, r = a;

		for (int step = 0; step < 200; step++) {
			now += (uint64_t)(rand() % (int)(3 * interval));
			hf_rl_refill(&a, now, interval, per_fill, max);
			slow_refill(&r, now, interval, per_fill, max);
			assert_int_equal(a.tokens, r.tokens);
			assert_int_equal(a.last_fill, r.last_fill);
			if (a.tokens > 0 && rand() % 2) {
				a.tokens--;
				r.tokens--;
			}
		}
	}
}

/* ---- the check ---- */

#define HZ 1000000ull		/* a 1 MHz TSC: 1000 ticks a millisecond */

static const struct hf_route_hdr_op hdrs[] = {
	{.op = HF_HDR_SET, .name = "x-local-rate-limit", .name_len = 18, .value = "true",
	 .value_len = 4},
};

static struct hf_rl_limit lim[3];
static const struct hf_rl_limit *table[3];
static struct hf_snapshot snap;

/* A snapshot of version @p v with the first @p n limits of lim[] (sorted by key). */
static void
setup_snap(uint64_t v, unsigned int n)
{
	snap.version = v;
	snap.n_rl = n;
	snap.rl = table;
	for (unsigned int i = 0; i < n; i++) {
		lim[i].slot = i;
		table[i] = &lim[i];
	}
}

static void
init_limits(void)
{
	memset(lim, 0, sizeof(lim));
	for (unsigned int i = 0; i < 3; i++) {
		lim[i].key = 100 * (i + 1);
		lim[i].max_tokens = 10;
		lim[i].tokens_per_fill = 10;
		lim[i].fill_interval_ms = 60000;
		lim[i].enabled_ppm = 1000000;
		lim[i].enforced_ppm = 1000000;
		lim[i].status = 429;
		lim[i].stat = (uint16_t)i;
	}
}

static struct hf_rl_state st[2];
static struct hf_counters cnt;

/* Requests on worker @p w until one is refused; returns how many took a token. */
static unsigned int
burst(unsigned int w, const struct hf_rl_limit *l, uint64_t now)
{
	struct hf_rl_result res;
	unsigned int ok = 0;

	while (hf_rl_check(&st[w], &cnt, &snap, l, now, &res) == HF_RL_OK) {
		ok++;
		assert_true(ok <= l->max_tokens);
	}
	assert_int_equal(res.verdict, HF_RL_ENFORCE);
	return ok;
}

static void
test_check_shares(void **state)
{
	(void)state;
	init_limits();
	lim[0].max_tokens = 11;
	lim[0].tokens_per_fill = 5;
	setup_snap(1, 3);
	memset(&cnt, 0, sizeof(cnt));
	hf_rl_init(&st[0], 0, 2, HZ, 1);
	hf_rl_init(&st[1], 1, 2, HZ, 2);
	/* 11 tokens over 2 workers: 6 and 5; the limit as a whole grants 11 */
	assert_int_equal(burst(0, &lim[0], 5000), 6);
	assert_int_equal(burst(1, &lim[0], 5000), 5);
	/* another limit has buckets of its own */
	assert_int_equal(burst(0, &lim[1], 5000), 5);
	/* one interval later: 5 per fill is 3 and 2 */
	assert_int_equal(burst(0, &lim[0], 5000 + 60000 * 1000), 3);
	assert_int_equal(burst(1, &lim[0], 5000 + 60000 * 1000), 2);
	assert_int_equal(cnt.v[HF_CNT_HTTP_RL_OK], 6 + 5 + 5 + 3 + 2);
	assert_int_equal(cnt.v[HF_CNT_HTTP_RL_ENFORCED], 5);
	assert_int_equal(cnt.v[HF_CNT_HTTP_RL_RATE_LIMITED], 5);
	assert_int_equal(cnt.v[HF_CNT_HTTP_RL_ENABLED], 21 + 5);
	assert_int_equal(st[0].stats[0][HF_RL_STAT_OK] + st[1].stats[0][HF_RL_STAT_OK], 16);
	assert_int_equal(st[0].stats[1][HF_RL_STAT_ENFORCED], 1);
}

static void
test_check_fractions(void **state)
{
	struct hf_rl_result res;
	unsigned int passed = 0, enforced = 0;

	(void)state;
	init_limits();
	setup_snap(1, 1);
	memset(&cnt, 0, sizeof(cnt));
	hf_rl_init(&st[0], 0, 1, HZ, 3);
	lim[0].enabled_ppm = 0;
	assert_int_equal(hf_rl_check(&st[0], &cnt, &snap, &lim[0], 10, &res), HF_RL_PASS);
	assert_int_equal(cnt.v[HF_CNT_HTTP_RL_ENABLED], 0);
	assert_int_equal(hf_rl_check(&st[0], &cnt, &snap, NULL, 10, &res), HF_RL_PASS);
	/* enabled, never enforced: counted, forwarded */
	lim[0].enabled_ppm = 1000000;
	lim[0].enforced_ppm = 0;
	for (int i = 0; i < 15; i++)
		hf_rl_check(&st[0], &cnt, &snap, &lim[0], 10, &res);
	assert_int_equal(res.verdict, HF_RL_NOT_ENFORCED);
	assert_int_equal(cnt.v[HF_CNT_HTTP_RL_OK], 10);
	assert_int_equal(cnt.v[HF_CNT_HTTP_RL_RATE_LIMITED], 5);
	assert_int_equal(cnt.v[HF_CNT_HTTP_RL_ENFORCED], 0);
	/* half enabled: about half of 20000 requests see the limit at all */
	lim[0].enabled_ppm = 500000;
	lim[0].enforced_ppm = 500000;
	for (int i = 0; i < 20000; i++) {
		enum hf_rl_verdict v = hf_rl_check(&st[0], &cnt, &snap, &lim[0], 10, &res);

		passed += v == HF_RL_PASS;
		enforced += v == HF_RL_ENFORCE;
	}
	assert_in_range(passed, 9000, 11000);
	assert_in_range(enforced, 4000, 6000);	/* the bucket is empty: half of the enabled */
}

static void
test_check_headers(void **state)
{
	struct hf_rl_result res;
	char edit[HF_HTTP_EDIT_MAX] = "";
	size_t len = 0;

	(void)state;
	init_limits();
	lim[0].max_tokens = 2;
	lim[0].fill_interval_ms = 10000;
	lim[0].x_headers = true;
	lim[0].n_headers = 1;
	lim[0].headers = hdrs;
	lim[0].status = 503;
	setup_snap(1, 1);
	memset(&cnt, 0, sizeof(cnt));
	hf_rl_init(&st[0], 0, 1, HZ, 4);
	assert_int_equal(hf_rl_check(&st[0], &cnt, &snap, &lim[0], 1000, &res), HF_RL_OK);
	assert_true(res.x_headers);
	assert_int_equal(res.limit, 2);
	assert_int_equal(res.remaining, 1);
	assert_int_equal(res.reset_s, 10);
	assert_int_equal(hf_rl_edit_add(edit, &len, &res), 0);
	assert_string_equal(edit, "ax-ratelimit-limit");
	assert_string_equal(edit + strlen(edit) + 1, "2");
	hf_rl_check(&st[0], &cnt, &snap, &lim[0], 1000, &res);
	/* 2.5 s into the interval: 7.5 s left, said as 8 */
	assert_int_equal(hf_rl_check(&st[0], &cnt, &snap, &lim[0], 1000 + 2500 * 1000, &res),
			 HF_RL_ENFORCE);
	assert_int_equal(res.status, 503);
	assert_string_equal(res.extra, "x-ratelimit-limit: 2\r\nx-ratelimit-remaining: 0\r\n"
			    "x-ratelimit-reset: 8\r\nx-local-rate-limit: true\r\n");
	/* without x headers: only response_headers_to_add, and no edits for a forwarded one */
	lim[0].x_headers = false;
	hf_rl_check(&st[0], &cnt, &snap, &lim[0], 1000 + 2500 * 1000, &res);
	assert_string_equal(res.extra, "x-local-rate-limit: true\r\n");
	len = 0;
	edit[0] = '\0';
	res.verdict = HF_RL_OK;
	assert_int_equal(hf_rl_edit_add(edit, &len, &res), 0);
	assert_int_equal(len, 0);
}

static void
test_check_resync(void **state)
{
	(void)state;
	init_limits();
	setup_snap(1, 3);
	memset(&cnt, 0, sizeof(cnt));
	hf_rl_init(&st[0], 0, 1, HZ, 5);
	assert_int_equal(burst(0, &lim[1], 100), 10);
	assert_int_equal(burst(0, &lim[2], 100), 10);
	/*
	 * Snapshot 2: limit 0 gone, limit 1 unchanged (same key, now slot 0), limit 2
	 * changed (a new key): 1 keeps its empty bucket, 2 starts full.
	 */
	lim[0] = lim[1];
	lim[1] = lim[2];
	lim[1].key = 350;
	lim[1].max_tokens = 4;
	setup_snap(2, 2);
	assert_int_equal(burst(0, &lim[0], 200), 0);
	assert_int_equal(burst(0, &lim[1], 200), 4);
	/* a snapshot that adds a limit before them keeps both */
	lim[2] = lim[1];
	lim[1] = lim[0];
	lim[0].key = 50;
	setup_snap(3, 3);
	assert_int_equal(burst(0, &lim[0], 300), 10);
	assert_int_equal(burst(0, &lim[1], 300), 0);
	assert_int_equal(burst(0, &lim[2], 300), 0);
	/* and the fill clock went along: one interval after the first use they fill */
	assert_int_equal(burst(0, &lim[1], 100 + 60000 * 1000), 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_share),
		cmocka_unit_test(test_refill_steps),
		cmocka_unit_test(test_refill_wrap),
		cmocka_unit_test(test_refill_large),
		cmocka_unit_test(test_refill_random),
		cmocka_unit_test(test_check_shares),
		cmocka_unit_test(test_check_fractions),
		cmocka_unit_test(test_check_headers),
		cmocka_unit_test(test_check_resync),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
