/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TCP building blocks on their own: sequence arithmetic across the wrap,
 * option parsing of every malformed length, the timer wheel, RFC 6298
 * arithmetic, the SACK scoreboard, SYN cookies and the congestion windows.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hf_test.h"
#include "dataplane/tcp/cc.h"
#include "dataplane/tcp/options.h"
#include "dataplane/tcp/rto.h"
#include "dataplane/tcp/sack.h"
#include "dataplane/tcp/seq.h"
#include "dataplane/tcp/syncookie.h"
#include "dataplane/tcp/timer.h"

static void
test_seq_wrap(void **state)
{
	static const uint32_t bases[] = {0, 1, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff};

	(void)state;
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		uint32_t a = bases[i], b = a + 100;	/* b is "after" a even when it wrapped */

		assert_true(hf_seq_lt(a, b));
		assert_true(hf_seq_leq(a, b));
		assert_true(hf_seq_gt(b, a));
		assert_true(hf_seq_geq(b, a));
		assert_false(hf_seq_lt(b, a));
		assert_true(hf_seq_leq(a, a) && hf_seq_geq(a, a) && !hf_seq_lt(a, a));
		assert_true(hf_seq_between(a + 50, a, b));
		assert_false(hf_seq_between(b, a, b));
		assert_false(hf_seq_between(a - 1, a, b));
		assert_int_equal(hf_seq_max(a, b), b);
		assert_int_equal(hf_seq_min(a, b), a);
	}
	assert_false(hf_seq_between(5, 5, 5));	/* empty range */
}

static void
test_options_good(void **state)
{
	uint8_t buf[40];
	struct hf_tcp_opts o;
	uint32_t n, sack[6] = {1000, 2000, 3000, 4000, 0xfffffff0, 0x10};

	(void)state;
	n = hf_tcp_opts_build_syn(buf, 1460, 7, true, true, 12345, 678);
	assert_int_equal(n % 4, 0);
	assert_int_equal(hf_tcp_opts_parse(buf, n, &o), 0);
	assert_true(o.mss_present && o.mss == 1460);
	assert_true(o.ws_present && o.ws_shift == 7);
	assert_true(o.sack_permitted);
	assert_true(o.ts_present && o.ts_val == 12345 && o.ts_ecr == 678);

	n = hf_tcp_opts_build_data(buf, true, 1, 2, sack, 3);
	assert_int_equal(n, 12 + 4 + 24);
	assert_int_equal(hf_tcp_opts_parse(buf, n, &o), 0);
	assert_int_equal(o.sack_blocks, 3);
	assert_memory_equal(o.sack, sack, sizeof(sack));
	/* Without timestamps four blocks fit; asked for more, only what fits is written. */
	n = hf_tcp_opts_build_data(buf, false, 0, 0, sack, 5);
	assert_true(n <= 40);
	assert_int_equal(hf_tcp_opts_parse(buf, n, &o), 0);
	assert_int_equal(o.sack_blocks, 4);

	/* Window scale above 14 is used as 14 (RFC 7323 2.3); unknown kinds are skipped. */
	uint8_t ws[] = {3, 3, 20, 99, 4, 1, 2, 0};
	assert_int_equal(hf_tcp_opts_parse(ws, sizeof(ws), &o), 0);
	assert_int_equal(o.ws_shift, 14);
	/* EOL ends the list even with bytes after it. */
	uint8_t eol[] = {0, 2, 1};
	assert_int_equal(hf_tcp_opts_parse(eol, sizeof(eol), &o), 0);
}

static void
test_options_malformed(void **state)
{
	static const struct {
		uint8_t bytes[12];
		uint32_t len;
		const char *what;
	} bad[] = {
		{{2}, 1, "kind without a length byte"},
		{{2, 0, 1, 1}, 4, "length 0"},
		{{2, 1, 1, 1}, 4, "length 1"},
		{{2, 4, 5}, 3, "MSS running past the header"},
		{{2, 3, 5, 0}, 4, "MSS of length 3"},
		{{3, 4, 7, 0}, 4, "window scale of length 4"},
		{{4, 3, 0, 0}, 4, "SACK-permitted of length 3"},
		{{5, 2, 0, 0}, 4, "SACK with no block"},
		{{5, 6, 0, 0, 0, 0}, 6, "SACK of length 6"},
		{{8, 8, 0, 0, 0, 0, 0, 0}, 8, "timestamps of length 8"},
		{{99, 12, 0, 0}, 4, "unknown option running past the header"},
	};
	struct hf_tcp_opts o;

	(void)state;
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		print_message("  %s\n", bad[k].what);
		assert_int_equal(hf_tcp_opts_parse(bad[k].bytes, bad[k].len, &o), -EINVAL);
	}
}

struct fired {
	uint64_t at[256];
	unsigned int n;
	struct hf_timer_wheel *w;
	uint64_t now;
};

static void
record(struct hf_timer *t, void *arg)
{
	struct fired *f = arg;

	f->at[f->n++ % 256] = t->expire;
}

static void
test_timer_basic(void **state)
{
	struct hf_timer_wheel w;
	struct hf_timer a, b, c;
	struct fired f = {0};

	(void)state;
	assert_int_equal(hf_timer_wheel_init(&w, 64, 1000), 0);
	hf_timer_init(&a, record, &f);
	hf_timer_init(&b, record, &f);
	hf_timer_init(&c, record, &f);
	hf_timer_arm(&w, &a, 1010);
	hf_timer_arm(&w, &b, 1010 + 64 * 3);	/* same slot, three revolutions later */
	hf_timer_arm(&w, &c, 1005);
	hf_timer_cancel(&w, &c);
	assert_false(hf_timer_pending(&c));
	assert_int_equal(hf_timer_wheel_advance(&w, 1009), 0);
	assert_int_equal(hf_timer_wheel_advance(&w, 1010), 1);
	assert_int_equal(f.at[0], 1010);
	assert_true(hf_timer_pending(&b));
	assert_int_equal(hf_timer_wheel_advance(&w, 1010 + 64 * 3 - 1), 0);
	assert_int_equal(hf_timer_wheel_advance(&w, 1010 + 64 * 3), 1);
	/* Re-arming moves a timer; arming in the past fires at the next tick. */
	hf_timer_arm(&w, &a, 5000);
	hf_timer_arm(&w, &a, 1300);
	hf_timer_arm(&w, &c, 10);
	assert_int_equal(hf_timer_wheel_advance(&w, 1300), 2);
	hf_timer_wheel_fini(&w);
}

static struct hf_timer self_timers[3];

static void
rearm_self(struct hf_timer *t, void *arg)
{
	struct fired *f = arg;

	f->at[f->n++ % 256] = t->expire;
	if (f->n < 5)
		hf_timer_arm(f->w, t, t->expire + 1);	/* itself, from its own callback */
	hf_timer_cancel(f->w, &self_timers[2]);	/* and another one, due next tick */
}

static void
test_timer_callbacks(void **state)
{
	struct hf_timer_wheel w;
	struct fired f = {.w = &w};

	(void)state;
	assert_int_equal(hf_timer_wheel_init(&w, 16, 0), 0);
	hf_timer_init(&self_timers[0], rearm_self, &f);
	hf_timer_init(&self_timers[2], record, &f);
	hf_timer_arm(&w, &self_timers[0], 3);
	hf_timer_arm(&w, &self_timers[2], 4);
	hf_timer_wheel_advance(&w, 100);
	assert_int_equal(f.n, 5);	/* 3,4,5,6,7 — and the cancelled one never ran */
	for (unsigned int i = 0; i < 5; i++)
		assert_int_equal(f.at[i], 3 + i);
	hf_timer_wheel_fini(&w);
}

static uint64_t last_fire, fired_n;
static int out_of_order;

static void
ordered(struct hf_timer *t, void *arg)
{
	uint64_t *now = arg;

	if (t->expire < last_fire || t->expire > *now)
		out_of_order++;
	last_fire = t->expire;
	fired_n++;
}

/* 100,000 random timers, many cancelled or moved, fire once each, in tick order, on time. */
static void
test_timer_many(void **state)
{
	enum { N = 100000 };
	struct hf_timer_wheel w;
	struct hf_timer *t = calloc(N, sizeof(*t));
	uint64_t now = 0, expected = 0;

	(void)state;
	srand(7);
	assert_int_equal(hf_timer_wheel_init(&w, 4096, 0), 0);
	for (int i = 0; i < N; i++) {
		hf_timer_init(&t[i], ordered, &now);
		hf_timer_arm(&w, &t[i], 1 + (uint64_t)(rand() % 50000));
	}
	for (int i = 0; i < N; i += 3)
		hf_timer_cancel(&w, &t[i]);
	for (int i = 1; i < N; i += 7)
		hf_timer_arm(&w, &t[i], 1 + (uint64_t)(rand() % 60000));
	for (int i = 0; i < N; i++)
		expected += hf_timer_pending(&t[i]);
	while (now < 61000) {
		now += 1 + (uint64_t)(rand() % 7);
		hf_timer_wheel_advance(&w, now);
	}
	assert_int_equal(out_of_order, 0);
	assert_int_equal(fired_n, expected);
	hf_timer_wheel_fini(&w);
	free(t);
}

/* RFC 6298 by hand: first sample, then the 1/8 and 1/4 filters, bounds and K=4. */
static void
test_rto(void **state)
{
	struct hf_tcp_rto r;

	(void)state;
	hf_tcp_rto_init(&r);
	assert_int_equal(hf_tcp_rto_get_us(&r), 1000000);
	hf_tcp_rto_sample(&r, 100000);		/* R = 100 ms */
	assert_int_equal(r.srtt_us, 100000);
	assert_int_equal(r.rttvar_us, 50000);
	assert_int_equal(hf_tcp_rto_get_us(&r), 100000 + 4 * 50000);
	hf_tcp_rto_sample(&r, 200000);		/* R' = 200 ms */
	assert_int_equal(r.rttvar_us, 50000 - 12500 + 25000);	/* 3/4 * 50 + 1/4 * |100 - 200| */
	assert_int_equal(r.srtt_us, 100000 - 12500 + 25000);	/* 7/8 * 100 + 1/8 * 200 */
	assert_int_equal(hf_tcp_rto_get_us(&r), 112500 + 4 * 62500);
	hf_tcp_rto_init(&r);
	hf_tcp_rto_sample(&r, 1000);		/* 1 ms path: the 200 ms floor */
	assert_int_equal(hf_tcp_rto_get_us(&r), HF_TCP_RTO_MIN_US);
	hf_tcp_rto_init(&r);
	hf_tcp_rto_sample(&r, 100000000);	/* 100 s: the 60 s ceiling */
	assert_int_equal(hf_tcp_rto_get_us(&r), HF_TCP_RTO_MAX_US);
}

static void
test_sack_board(void **state)
{
	struct hf_tcp_sack_board b;
	uint32_t una = 0xfffff000, max = una + 20000, start, len;	/* across the wrap */
	uint32_t blk[8];

	(void)state;
	hf_tcp_sack_init(&b);
	blk[0] = una + 3000; blk[1] = una + 4000;
	blk[2] = una + 1000; blk[3] = una + 2000;
	assert_int_equal(hf_tcp_sack_update(&b, una, max, blk, 2), 0);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.start[0], una + 1000);	/* sorted */
	assert_int_equal(hf_tcp_sack_bytes(&b), 2000);
	/* Adjacent and overlapping blocks merge. */
	blk[0] = una + 2000; blk[1] = una + 3000;
	hf_tcp_sack_update(&b, una, max, blk, 1);
	assert_int_equal(b.n, 1);
	assert_int_equal(hf_tcp_sack_bytes(&b), 3000);
	/* Blocks beyond what was sent are refused; a block below snd_una is a D-SACK. */
	blk[0] = max; blk[1] = max + 100;
	blk[2] = una - 100; blk[3] = una;
	assert_int_equal(hf_tcp_sack_update(&b, una, max, blk, 2), 1);
	assert_int_equal(b.n, 1);
	/* Holes: [una, una+1000) below the SACKed range; nothing above the highest SACK. */
	assert_true(hf_tcp_sack_next_hole(&b, una, max, una, &start, &len));
	assert_int_equal(start, una);
	assert_int_equal(len, 1000);
	assert_false(hf_tcp_sack_next_hole(&b, una, max, una + 1000, &start, &len));
	/* IsLost: 3000 bytes above una > 2 * 1000-byte segments. */
	assert_true(hf_tcp_sack_is_lost(&b, una, 1000));
	assert_false(hf_tcp_sack_is_lost(&b, una, 1600));
	/* A cumulative ACK into the range trims it. */
	hf_tcp_sack_ack(&b, una + 2500);
	assert_int_equal(hf_tcp_sack_bytes(&b), 1500);
	/* Full: the highest range is the one forgotten. */
	hf_tcp_sack_init(&b);
	for (uint32_t i = 0; i < HF_TCP_SACK_RANGES + 4; i++) {
		blk[0] = una + 100 * (2 * i + 1);
		blk[1] = blk[0] + 50;
		hf_tcp_sack_update(&b, una, max, blk, 1);
	}
	assert_int_equal(b.n, HF_TCP_SACK_RANGES);
	assert_int_equal(b.start[0], una + 100);
	assert_int_equal(b.start[HF_TCP_SACK_RANGES - 1], una + 100 * (2 * (HF_TCP_SACK_RANGES - 1) + 1));
}

static void
test_syncookie(void **state)
{
	uint8_t key[16] = "hydrofoil-secret";
	uint32_t sa = 0x0100640a, da = 0x0200640a, now = 5 * HF_SYNCOOKIE_PERIOD_MS + 17;
	static const uint16_t asks[] = {100, 536, 1220, 1300, 1360, 1400, 1440, 1460, 1500, 9000};

	(void)state;
	for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
		uint16_t mss = asks[i], got = 0;
		uint32_t c = hf_tcp_syncookie_make(key, sa, da, 1234, 80, 777, now, &mss);

		assert_true(mss <= (asks[i] < 536 ? 536 : asks[i]));
		assert_int_equal(hf_tcp_syncookie_check(key, sa, da, 1234, 80, 777, c, now, &got), 0);
		assert_int_equal(got, mss);
		/* Still good one period later, not two. */
		assert_int_equal(hf_tcp_syncookie_check(key, sa, da, 1234, 80, 777, c,
							now + HF_SYNCOOKIE_PERIOD_MS, &got), 0);
		assert_int_equal(hf_tcp_syncookie_check(key, sa, da, 1234, 80, 777, c,
							now + 2 * HF_SYNCOOKIE_PERIOD_MS, &got), -EINVAL);
		/* Any changed field or flipped bit fails. */
		assert_int_equal(hf_tcp_syncookie_check(key, sa + 1, da, 1234, 80, 777, c, now, &got), -EINVAL);
		assert_int_equal(hf_tcp_syncookie_check(key, sa, da, 1235, 80, 777, c, now, &got), -EINVAL);
		assert_int_equal(hf_tcp_syncookie_check(key, sa, da, 1234, 80, 778, c, now, &got), -EINVAL);
		for (int bit = 0; bit < 32; bit++)
			assert_int_equal(hf_tcp_syncookie_check(key, sa, da, 1234, 80, 777, c ^ (1u << bit),
								now, &got), -EINVAL);
	}
	/* SipHash-2-4 reference vector (the paper's appendix A: key 00..0f, message 00..0e). */
	uint8_t k[16], msg[15];
	for (int i = 0; i < 16; i++)
		k[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	assert_int_equal(hf_siphash24(k, msg, 15), 0xa129ca6149be45e5ull);
}

static void
test_cc(void **state)
{
	struct hf_tcp_cc cc;
	const uint32_t mss = 1000;

	(void)state;
	hf_tcp_cc_init(&cc, HF_TCP_CC_NEWRENO, mss);
	assert_int_equal(cc.cwnd, 10 * mss);			/* RFC 6928 */
	hf_tcp_cc_init(&cc, HF_TCP_CC_NEWRENO, 1460);
	assert_int_equal(cc.cwnd, 14600);
	hf_tcp_cc_init(&cc, HF_TCP_CC_NEWRENO, mss);
	/* Slow start: one RTT of ACKs for every segment doubles the window. */
	for (int rtt = 0; rtt < 3; rtt++) {
		uint32_t w = cc.cwnd;

		for (uint32_t s = 0; s < w / mss; s++)
			hf_tcp_cc_on_ack(&cc, mss, 0, 0, w);
		assert_int_equal(cc.cwnd, 2 * w);
	}
	/* Loss: ssthresh = FlightSize / 2, then one segment per window acknowledged. */
	hf_tcp_cc_on_enter_recovery(&cc, 40000, 0);
	assert_int_equal(cc.ssthresh, 20000);
	hf_tcp_cc_on_exit_recovery(&cc);
	assert_int_equal(cc.cwnd, 20000);
	for (int s = 0; s < 20; s++)
		hf_tcp_cc_on_ack(&cc, mss, 0, 0, 20000);
	assert_int_equal(cc.cwnd, 21000);
	hf_tcp_cc_on_rto(&cc, 30000);
	assert_int_equal(cc.cwnd, mss);
	assert_int_equal(cc.ssthresh, 15000);

	/* CUBIC: beta 0.7 on loss, then concave up to W_max at K, convex beyond. */
	hf_tcp_cc_init(&cc, HF_TCP_CC_CUBIC, mss);
	cc.cwnd = 100 * mss;
	cc.ssthresh = 50 * mss;
	hf_tcp_cc_on_enter_recovery(&cc, 100 * mss, 1000000);
	assert_int_equal(cc.cwnd, 70 * mss);
	assert_true(fabs(cc.w_max - 100) < 1e-9);
	double k = cbrt(100 * (1 - HF_CUBIC_BETA) / HF_CUBIC_C);	/* RFC 9438 eq. 2 */
	uint64_t t0 = 2000000, rtt = 100000;	/* long enough for the cubic, not the Reno-friendly, region */
	uint32_t at_k = 0, before_k = 0;
	for (uint64_t t = t0; t < t0 + (uint64_t)(k * 2.0e6); t += rtt) {
		for (uint32_t s = 0; s < cc.cwnd / mss; s++)
			hf_tcp_cc_on_ack(&cc, mss, t, (uint32_t)rtt, cc.cwnd);
		if (t - t0 < (uint64_t)(k * 0.5e6))
			before_k = cc.cwnd;
		if (!at_k && t - t0 >= (uint64_t)(k * 1e6))
			at_k = cc.cwnd;
	}
	assert_true(fabs(cc.k - k) < 0.01);
	assert_true(before_k > 70 * mss && before_k < 100 * mss);	/* concave, below W_max */
	assert_true(at_k >= 98 * mss && at_k <= 103 * mss);		/* W_max at K */
	assert_true(cc.cwnd > 105 * mss);				/* convex past K */
	/* Fast convergence: a second loss below W_max lowers W_max further. */
	cc.cwnd = 90 * mss;
	hf_tcp_cc_on_enter_recovery(&cc, 90 * mss, t0 * 10);
	assert_true(fabs(cc.w_max - 90 * (1 + HF_CUBIC_BETA) / 2) < 1e-9);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_wrap),
		cmocka_unit_test(test_options_good),
		cmocka_unit_test(test_options_malformed),
		cmocka_unit_test(test_timer_basic),
		cmocka_unit_test(test_timer_callbacks),
		cmocka_unit_test(test_timer_many),
		cmocka_unit_test(test_rto),
		cmocka_unit_test(test_sack_board),
		cmocka_unit_test(test_syncookie),
		cmocka_unit_test(test_cc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
