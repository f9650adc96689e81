/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker loop's own timing (issue 16): the loop-gap histogram's
 * percentiles against a sorted reference, merging, and on a live worker the
 * stall counters, the blame on the piece of work that held the stall, and the
 * reset through hf_worker_loop_epoch. Timing is only ever bounded from below
 * (a spin of 300 us makes a gap of at least 300 us): nothing fails on a slow
 * or busy machine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "hf_test.h"

static struct hf_port port;
static char board_path[64];

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The value at percentile @p p of sorted @p v (n values): rank ceil(p/100 n), as the histogram. */
static uint64_t
ref_at(const uint64_t *v, size_t n, double p)
{
	double x = p / 100.0 * (double)n;
	size_t rank = (size_t)x;

	if ((double)rank < x || rank == 0)
		rank++;
	return v[rank - 1];
}

/* Log-uniform gaps from 10 ticks to 2^36, and some beyond the tracked range. */
static void
test_percentiles_vs_sorted(void **state)
{
	static const double pct[] = {1, 50, 90, 99, 99.9, 99.99, 100};
	enum { N = 200000 };
	struct hf_loop_stats *s = calloc(1, sizeof(*s));
	uint64_t *v = malloc(N * sizeof(*v));

	(void)state;
	assert_non_null(s);
	assert_non_null(v);
	assert_int_equal(hf_loop_gap_at(s, 99), 0); /* empty */
	for (size_t i = 0; i < N; i++) {
		unsigned int e = 3 + (unsigned int)rte_rand_max(34);

		v[i] = (UINT64_C(1) << e) + rte_rand_max(UINT64_C(1) << e);
		/* One beyond 2^40: in the last bucket, and still the exact max. */
		if (i == N / 2)
			v[i] = UINT64_C(1) << 45;
		hf_loop_record(s, v[i]);
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	assert_int_equal(s->count, N);
	assert_int_equal(hf_loop_gap_at(s, 100), UINT64_C(1) << 45);
	for (size_t i = 0; i < RTE_DIM(pct) - 1; i++) {
		uint64_t want = ref_at(v, N, pct[i]), got = hf_loop_gap_at(s, pct[i]);

		print_message("  p%-6g reference %14llu  histogram %14llu\n", pct[i],
		              (unsigned long long)want, (unsigned long long)got);
		/* The top of the bucket: never below the true value, at most 12.5% above it. */
		assert_true(got >= want);
		assert_true((double)got <= (double)want * 1.125 + 1);
	}
	free(v);
	free(s);
}

/* Every value below 16 has a bucket of its own; the buckets of powers of two split in 8. */
static void
test_buckets(void **state)
{
	uint32_t last = 0;

	(void)state;
	for (uint64_t t = 0; t < 16; t++)
		assert_int_equal(hf_loop_bucket(t), t);
	for (uint64_t t = 1; t < (UINT64_C(1) << 22); t += 1 + t / 64) {
		uint32_t b = hf_loop_bucket(t);

		assert_true(b >= last); /* monotonic */
		assert_true(b < HF_LOOP_BUCKETS);
		last = b;
	}
	assert_int_equal(hf_loop_bucket((UINT64_C(1) << HF_LOOP_MAX_LOG2) - 1),
	                 HF_LOOP_BUCKETS - 1);
	assert_int_equal(hf_loop_bucket(UINT64_MAX), HF_LOOP_BUCKETS - 1);
}

static void
test_merge(void **state)
{
	struct hf_loop_stats *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

	(void)state;
	for (uint64_t i = 1; i <= 1000; i++)
		hf_loop_record(a, 100);
	for (uint64_t i = 1; i <= 1000; i++)
		hf_loop_record(b, 100000);
	a->longest[HF_LOOP_RX] = 5;
	b->longest[HF_LOOP_RX] = 7;
	b->longest[HF_LOOP_TCP] = 3;
	hf_loop_stats_merge(a, b);
	assert_int_equal(a->count, 2000);
	assert_int_equal(a->max, 100000);
	/* 100 is in bucket [96, 103]: its top is what the histogram says. */
	assert_int_equal(hf_loop_gap_at(a, 50), 103);
	assert_true(hf_loop_gap_at(a, 50.1) >= 100000);
	assert_int_equal(hf_loop_gap_at(a, 100), 100000);
	assert_int_equal(a->longest[HF_LOOP_RX], 7);
	assert_int_equal(a->longest[HF_LOOP_TCP], 3);
	free(a);
	free(b);
}

static uint64_t
stall_blamed(const struct hf_worker *w)
{
	return w->cnt.v[HF_CNT_WORKER_STALL_SNAPSHOT] + w->cnt.v[HF_CNT_WORKER_STALL_RX] +
	       w->cnt.v[HF_CNT_WORKER_STALL_ARP] + w->cnt.v[HF_CNT_WORKER_STALL_TCP] +
	       w->cnt.v[HF_CNT_WORKER_STALL_TX] + w->cnt.v[HF_CNT_WORKER_STALL_OUTSIDE];
}

static uint64_t
stall_switched(const struct hf_worker *w)
{
	return w->cnt.v[HF_CNT_WORKER_STALL_PREEMPTED] + w->cnt.v[HF_CNT_WORKER_STALL_BLOCKED] +
	       w->cnt.v[HF_CNT_WORKER_STALL_UNSWITCHED];
}

/*
 * A caller that sleeps 1 ms between two iterations: the stall is the thread's
 * own blocking call (a voluntary switch), not a busy piece of work. Unless the
 * kernel also preempted it meanwhile, which the classes then say instead.
 */
static void
test_stall_blocked(void **state)
{
	struct hf_worker *w = hf_test_worker(0, &port, 1);
	uint64_t before, preempted;

	(void)state;
	for (int i = 0; i < 10; i++)
		hf_worker_poll_once(w);
	before = w->cnt.v[HF_CNT_WORKER_STALL_BLOCKED];
	preempted = w->cnt.v[HF_CNT_WORKER_STALL_PREEMPTED];
	usleep(1000);
	hf_worker_poll_once(w);
	assert_int_equal(stall_switched(w), w->cnt.v[HF_CNT_WORKER_STALLS]);
	if (w->cnt.v[HF_CNT_WORKER_STALL_PREEMPTED] == preempted)
		assert_int_equal(w->cnt.v[HF_CNT_WORKER_STALL_BLOCKED], before + 1);
	hf_test_worker_free(w);
}

/* A caller that holds the worker 300 us between two iterations: one stall, seen outside. */
static void
test_stall_outside(void **state)
{
	struct hf_worker *w = hf_test_worker(0, &port, 1);
	uint64_t hz = rte_get_tsc_hz(), spin = hz * 300 / 1000000, t0, stalls;

	(void)state;
	for (int i = 0; i < 100; i++)
		hf_worker_poll_once(w);
	stalls = w->cnt.v[HF_CNT_WORKER_STALLS];
	assert_int_equal(w->loop.count, 99); /* gaps are between iterations */
	t0 = rte_rdtsc();
	while (rte_rdtsc() - t0 < spin)
		;
	hf_worker_poll_once(w);
	assert_true(w->cnt.v[HF_CNT_WORKER_STALLS] >= stalls + 1);
	assert_true(w->cnt.v[HF_CNT_WORKER_STALL_CYCLES] >= spin);
	/* Every stall is blamed on exactly one piece of work, and classed once by switches. */
	assert_int_equal(stall_blamed(w), w->cnt.v[HF_CNT_WORKER_STALLS]);
	assert_int_equal(stall_switched(w), w->cnt.v[HF_CNT_WORKER_STALLS]);
	assert_true(w->loop.longest[HF_LOOP_OUTSIDE] >= spin);
	assert_true(w->loop.max >= spin);
	assert_true(hf_loop_gap_at(&w->loop, 100) >= spin);
	assert_true(w->loop.stall_end >= t0 + spin);
	assert_int_equal(w->loop.count, 100);
	/* The stall board (HF_STALL_BOARD, set in main) shows it to another process. */
	{
		const struct hf_stall_board *b = hf_stall_board_map(board_path, false);

		assert_non_null(b);
		assert_int_equal(b->slot[0].end, w->loop.stall_end);
		assert_true(b->slot[0].end - b->slot[0].start >= spin);
		assert_true(b->slot[0].count >= 1);
		assert_true(b->shadow_end >= 2 * b->slot[0].end - b->slot[0].start);
	}
	/* On a quiet machine the spin is the longest piece; a preemption inside the loop may be
	 * longer. */
	print_message("  blamed outside %llu of %llu stalls\n",
	              (unsigned long long)w->cnt.v[HF_CNT_WORKER_STALL_OUTSIDE],
	              (unsigned long long)w->cnt.v[HF_CNT_WORKER_STALLS]);
	hf_test_worker_free(w);
}

/* Only a board is mapped read-only: not a missing file, not another file. */
static void
test_board_refused(void **state)
{
	char path[64];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/hf-test-noboard-%d", (int)getpid());
	unlink(path);
	assert_null(hf_stall_board_map(path, false));
	assert_int_equal(errno, ENOENT);
	f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < sizeof(struct hf_stall_board); i++)
		fputc('x', f);
	fclose(f);
	assert_null(hf_stall_board_map(path, false));
	assert_int_equal(errno, EINVAL);
	unlink(path);
}

/* A new epoch empties the window at the next iteration; the counters stay. */
static void
test_reset_by_epoch(void **state)
{
	struct hf_worker *w = hf_test_worker(0, &port, 1);
	uint64_t loops;

	(void)state;
	for (int i = 0; i < 50; i++)
		hf_worker_poll_once(w);
	assert_int_equal(w->loop.count, 49);
	loops = w->cnt.v[HF_CNT_WORKER_LOOPS];
	__atomic_fetch_add(&hf_worker_loop_epoch, 1, __ATOMIC_RELAXED);
	hf_worker_poll_once(w);
	assert_int_equal(w->loop.count, 0); /* the first iteration of a window has no gap */
	hf_worker_poll_once(w);
	hf_worker_poll_once(w);
	assert_int_equal(w->loop.count, 2);
	assert_int_equal(w->loop.epoch, __atomic_load_n(&hf_worker_loop_epoch, __ATOMIC_RELAXED));
	assert_int_equal(w->cnt.v[HF_CNT_WORKER_LOOPS], loops + 3);
	/* hf_worker_loop_reset() from the worker's own thread does the same. */
	hf_worker_loop_reset(w);
	assert_int_equal(w->loop.count, 0);
	assert_int_equal(w->loop.max, 0);
	hf_test_worker_free(w);
}

/* A TCP (steered by its 4-tuple) or UDP (never steered) frame to another host's MAC. */
static struct rte_mbuf *
frame(uint8_t proto, uint16_t sport)
{
	static const struct rte_ether_addr other = {{0x02, 0, 0, 0, 0, 0x77}};
	uint8_t l4[20] = {0};

	l4[0] = (uint8_t)(sport >> 8);
	l4[1] = (uint8_t)sport;
	l4[3] = 80;
	l4[12] = 5 << 4;
	return hf_test_ipv4(&other, proto, "198.51.100.1", "198.51.100.2", l4,
			    proto == IPPROTO_TCP ? 20 : 8);
}

/*
 * Two workers on a software-steered port, every TCP flow owned by the second:
 * the first receives them all and steers the TCP frames over; each frame is a
 * stack packet of exactly one worker, the one whose stack handled it (before:
 * steered frames counted at both, 20 for 12 frames), and a loop that only
 * steered frames away is still a busy one.
 */
static void
test_stack_packets_once(void **state)
{
	enum { TCP = 8, UDP = 4 };
	struct hf_port sp = port;
	struct hf_worker *w[2];
	struct rte_mbuf *m[TCP + UDP];
	uint64_t stack = 0, rx = 0;

	(void)state;
	sp.sw_steer = true;
	sp.reta_size = 8;
	for (unsigned int i = 0; i < sp.reta_size; i++)
		sp.reta[i] = 1;
	for (int k = 0; k < 2; k++) {
		w[k] = rte_zmalloc("test_worker", sizeof(*w[k]), RTE_CACHE_LINE_SIZE);
		assert_non_null(w[k]);
		/* The second reads no queue of its own (n_ports 0): it only drains what is steered. */
		assert_int_equal(hf_worker_init(w[k], (uint16_t)k, 2, &sp, k == 0 ? 1 : 0,
						rte_get_tsc_hz()),
				 0);
		w[k]->siblings = w;
	}
	for (int i = 0; i < TCP; i++)
		m[i] = frame(IPPROTO_TCP, (uint16_t)(40000 + i));
	for (int i = 0; i < UDP; i++)
		m[TCP + i] = frame(IPPROTO_UDP, (uint16_t)(50000 + i));
	/* The loopback port: what goes out of its TX queue comes back on its RX queue. */
	assert_int_equal(rte_eth_tx_burst(sp.port_id, 0, m, TCP + UDP), TCP + UDP);
	assert_int_equal(hf_worker_poll_once(w[0]), TCP + UDP);
	assert_int_equal(w[0]->cnt.v[HF_CNT_PORT_STEERED], TCP);
	assert_int_equal(hf_worker_poll_once(w[1]), TCP);
	for (int k = 0; k < 2; k++) {
		print_message("  worker %d: rx %llu, steered away %llu, stack packets %llu, busy loops "
			      "%llu\n", k, (unsigned long long)w[k]->cnt.v[HF_CNT_PORT_RX_PACKETS],
			      (unsigned long long)w[k]->cnt.v[HF_CNT_PORT_STEERED],
			      (unsigned long long)w[k]->cnt.v[HF_CNT_WORKER_STACK_PACKETS],
			      (unsigned long long)(w[k]->cnt.v[HF_CNT_WORKER_LOOPS] -
						   w[k]->cnt.v[HF_CNT_WORKER_IDLE_LOOPS]));
		stack += w[k]->cnt.v[HF_CNT_WORKER_STACK_PACKETS];
		rx += w[k]->cnt.v[HF_CNT_PORT_RX_PACKETS];
		/* Every frame reached a stack: dropped there as addressed to another host. */
		assert_int_equal(w[k]->cnt.v[HF_CNT_ETH_DROP_OTHER_HOST],
				 w[k]->cnt.v[HF_CNT_WORKER_STACK_PACKETS]);
		assert_int_equal(w[k]->cnt.v[HF_CNT_WORKER_IDLE_LOOPS], 0);
	}
	assert_int_equal(rx, TCP + UDP);
	assert_int_equal(stack, TCP + UDP);
	assert_int_equal(w[0]->cnt.v[HF_CNT_WORKER_STACK_PACKETS], UDP);
	assert_int_equal(w[1]->cnt.v[HF_CNT_WORKER_STACK_PACKETS], TCP);
	for (int k = 1; k >= 0; k--) {
		hf_worker_fini(w[k]);
		rte_free(w[k]);
	}
}

/*
 * hf_mbuf_alloc(): fresh mbufs (as rte_pktmbuf_alloc() gives them) from the
 * worker's stash, refilled several at a time; near the pool's end, where a
 * whole refill is not there, one at a time to the last; then NULL. The stash
 * goes back to the pool with the worker.
 */
static void
test_mbuf_stash(void **state)
{
	enum { N = HF_MBUF_STASH + 3 };
	struct rte_mempool *tiny = rte_pktmbuf_pool_create("ka16_stash", N, 0, 0,
							    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	struct hf_port tp = port;
	struct rte_mbuf *m[N];
	struct hf_worker *w;

	(void)state;
	assert_non_null(tiny);
	tp.pool = tiny;
	w = hf_test_worker(0, &tp, 1);
	for (unsigned int i = 0; i < N; i++) {
		m[i] = hf_mbuf_alloc(w, &tp);
		assert_non_null(m[i]);
		assert_ptr_equal(m[i]->pool, tiny);
		assert_null(m[i]->next);
		assert_int_equal(m[i]->nb_segs, 1);
		assert_int_equal(m[i]->pkt_len, 0);
		assert_int_equal(m[i]->data_len, 0);
		assert_int_equal(m[i]->data_off, RTE_PKTMBUF_HEADROOM);
		assert_int_equal(rte_mbuf_refcnt_read(m[i]), 1);
		for (unsigned int j = 0; j < i; j++)
			assert_ptr_not_equal(m[i], m[j]);
		if (i == 0)
			assert_int_equal(hf_mbuf_stashed(w), HF_MBUF_STASH - 1);
	}
	assert_int_equal(hf_mbuf_stashed(w), 0);
	assert_null(hf_mbuf_alloc(w, &tp));
	/* One back: the next allocation finds it (one at a time, a refill is not there). */
	m[0]->data_len = 9;
	rte_pktmbuf_free(m[0]);
	m[0] = hf_mbuf_alloc(w, &tp);
	assert_non_null(m[0]);
	assert_int_equal(m[0]->data_len, 0);
	rte_pktmbuf_free_bulk(m, N);
	/* A refill held by the worker is returned with it. */
	assert_non_null(m[0] = hf_mbuf_alloc(w, &tp));
	assert_int_equal(hf_mbuf_stashed(w), HF_MBUF_STASH - 1);
	rte_pktmbuf_free(m[0]);
	hf_test_worker_free(w);
	assert_int_equal(rte_mempool_avail_count(tiny), N);
	rte_mempool_free(tiny);
}

static int
setup(void **state)
{
	(void)state;
	hf_test_port(&port, 0, 0, "198.51.100.2/24", NULL);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_percentiles_vs_sorted),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_stall_outside),
		cmocka_unit_test(test_stall_blocked),
		cmocka_unit_test(test_reset_by_epoch),
		cmocka_unit_test(test_board_refused),
		cmocka_unit_test(test_stack_packets_once),
		cmocka_unit_test(test_mbuf_stash),
	};
	int rc;

	/* Before the first worker: hf_worker_init() maps the board it names once per process. */
	snprintf(board_path, sizeof(board_path), "/tmp/hf-test-board-%d", (int)getpid());
	setenv("HF_STALL_BOARD", board_path, 1);
	hf_test_eal(1);
	rc = cmocka_run_group_tests(tests, setup, NULL);
	unlink(board_path);
	return rc;
}
