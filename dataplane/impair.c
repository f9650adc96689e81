/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port impairment: netem's loss, duplication, reordering and delay, done on
 * the worker so that chaos tests run where the kernel has no netem. Frames
 * are held in a FIFO, never copied except to duplicate them.
 */
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "dataplane/impair.h"

static inline uint32_t
draw(struct hf_impair *im)
{
	/* xorshift64* (Vigna 2016): fast, and plenty for coin flips. */
	im->rng ^= im->rng >> 12;
	im->rng ^= im->rng << 25;
	im->rng ^= im->rng >> 27;
	return (uint32_t)((im->rng * 0x2545f4914f6cdd1dull) >> 32);
}

static inline uint32_t
threshold(double p)
{
	return p >= 1.0 ? UINT32_MAX : (uint32_t)(p * 4294967296.0);
}

int
hf_impair_init(struct hf_impair *im, const struct hf_impair_cfg *cfg, enum hf_impair_dir dir,
	       uint64_t tsc_hz, uint64_t stream_id)
{
	uint64_t z;

	if (cfg->loss < 0 || cfg->loss > 1 || cfg->duplicate < 0 || cfg->duplicate > 1 ||
	    cfg->reorder < 0 || cfg->reorder > 1)
		return -EINVAL;
	memset(im, 0, sizeof(*im));
	im->dir = (uint8_t)dir;
	im->loss = threshold(cfg->loss);
	im->duplicate = threshold(cfg->duplicate);
	im->reorder = threshold(cfg->reorder);
	im->delay_tsc = (uint64_t)cfg->delay_us * tsc_hz / 1000000;
	im->hold_tsc = (uint64_t)HF_IMPAIR_REORDER_HOLD_US * tsc_hz / 1000000;
	/* splitmix64 of seed and stream: a non-zero, well-mixed xorshift state. */
	z = cfg->seed + 0x9e3779b97f4a7c15ull * (stream_id * 2 + dir + 1);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	im->rng = (z ^ (z >> 31)) | 1;
	return 0;
}

static void
count(struct hf_impair *im, struct hf_counters *cnt, enum hf_counter rx, enum hf_counter tx)
{
	cnt->v[im->dir == HF_IMPAIR_RX ? rx : tx]++;
}

/* Queues @p m to leave at @p due; a full queue drops it (counted). */
static void
enqueue(struct hf_impair *im, struct hf_counters *cnt, struct rte_mbuf *m, uint64_t due)
{
	if (im->n == HF_IMPAIR_QLEN) {
		cnt->v[HF_CNT_IMPAIR_DROP_QUEUE_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	im->q[(im->head + im->n) & (HF_IMPAIR_QLEN - 1)].m = m;
	im->q[(im->head + im->n) & (HF_IMPAIR_QLEN - 1)].due = due;
	im->n++;
}

/* One frame through reorder and delay. */
static void
stage(struct hf_impair *im, struct hf_counters *cnt, struct rte_mbuf *m, uint64_t now)
{
	if (im->held == NULL && im->reorder != 0 && draw(im) < im->reorder) {
		count(im, cnt, HF_CNT_IMPAIR_RX_REORDERED, HF_CNT_IMPAIR_TX_REORDERED);
		im->held = m;
		im->held_due = now + im->hold_tsc;
		return;
	}
	if (im->delay_tsc != 0)
		count(im, cnt, HF_CNT_IMPAIR_RX_DELAYED, HF_CNT_IMPAIR_TX_DELAYED);
	enqueue(im, cnt, m, now + im->delay_tsc);
	if (im->held != NULL) {
		/* The held frame now follows one that arrived after it. */
		enqueue(im, cnt, im->held, now + im->delay_tsc);
		im->held = NULL;
	}
}

uint16_t
hf_impair_apply(struct hf_impair *im, struct hf_counters *cnt, struct rte_mbuf **pkts,
		uint16_t n, uint16_t cap, uint64_t now)
{
	uint16_t out = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i], *dup = NULL;

		if (im->loss != 0 && draw(im) < im->loss) {
			count(im, cnt, HF_CNT_IMPAIR_RX_DROPPED, HF_CNT_IMPAIR_TX_DROPPED);
			rte_pktmbuf_free(m);
			continue;
		}
		if (im->duplicate != 0 && draw(im) < im->duplicate) {
			/* A real copy: the stack rewrites frames in place (replies, trims). */
			dup = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
			if (dup != NULL)
				count(im, cnt, HF_CNT_IMPAIR_RX_DUPLICATED, HF_CNT_IMPAIR_TX_DUPLICATED);
			else
				cnt->v[HF_CNT_IMPAIR_DROP_NO_MBUF]++;
		}
		stage(im, cnt, m, now);
		if (dup != NULL)
			stage(im, cnt, dup, now);
	}
	/* A frame held for reordering with nothing behind it leaves after its hold. */
	if (im->held != NULL && now >= im->held_due) {
		enqueue(im, cnt, im->held, now);
		im->held = NULL;
	}
	while (im->n > 0 && out < cap && im->q[im->head].due <= now) {
		pkts[out++] = im->q[im->head].m;
		im->q[im->head].m = NULL;
		im->head = (im->head + 1) & (HF_IMPAIR_QLEN - 1);
		im->n--;
	}
	return out;
}

void
hf_impair_fini(struct hf_impair *im)
{
	while (im->n > 0) {
		rte_pktmbuf_free(im->q[im->head].m);
		im->head = (im->head + 1) & (HF_IMPAIR_QLEN - 1);
		im->n--;
	}
	rte_pktmbuf_free(im->held);
	im->held = NULL;
}
