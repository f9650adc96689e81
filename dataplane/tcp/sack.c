/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "dataplane/tcp/sack.h"
#include "dataplane/tcp/seq.h"

static void
recount(struct hf_tcp_sack_board *b)
{
	b->bytes = 0;
	for (unsigned int i = 0; i < b->n; i++)
		b->bytes += b->end[i] - b->start[i];
}

static void
remove_at(struct hf_tcp_sack_board *b, unsigned int i)
{
	memmove(&b->start[i], &b->start[i + 1], (b->n - i - 1) * sizeof(b->start[0]));
	memmove(&b->end[i], &b->end[i + 1], (b->n - i - 1) * sizeof(b->end[0]));
	b->n--;
}

/* Adds [s, e) keeping the ranges sorted and disjoint; touching ranges merge. */
static void
add(struct hf_tcp_sack_board *b, uint32_t s, uint32_t e)
{
	unsigned int i = 0;

	while (i < b->n && hf_seq_lt(b->end[i], s))
		i++;
	/* Merge every range that touches or overlaps [s, e). */
	while (i < b->n && hf_seq_leq(b->start[i], e)) {
		s = hf_seq_min(s, b->start[i]);
		e = hf_seq_max(e, b->end[i]);
		remove_at(b, i);
	}
	if (b->n == HF_TCP_SACK_RANGES) {
		if (i == b->n)
			return;		/* the new range is the highest: it is the one forgotten */
		b->n--;			/* forget the highest */
	}
	memmove(&b->start[i + 1], &b->start[i], (b->n - i) * sizeof(b->start[0]));
	memmove(&b->end[i + 1], &b->end[i], (b->n - i) * sizeof(b->end[0]));
	b->start[i] = s;
	b->end[i] = e;
	b->n++;
}

unsigned int
hf_tcp_sack_update(struct hf_tcp_sack_board *b, uint32_t snd_una, uint32_t snd_max,
		   const uint32_t *blocks, unsigned int n)
{
	unsigned int dsack = 0;

	for (unsigned int k = 0; k < n; k++) {
		uint32_t s = blocks[2 * k], e = blocks[2 * k + 1];

		if (!hf_seq_lt(s, e))
			continue;	/* empty or reversed: means nothing */
		if (hf_seq_leq(e, snd_una)) {
			dsack++;	/* RFC 2883 4.1: below the cumulative ACK */
			continue;
		}
		if (k == 0 && n > 1 && hf_seq_lt(blocks[2], blocks[3]) &&
		    hf_seq_geq(s, blocks[2]) && hf_seq_leq(e, blocks[3])) {
			dsack++;	/* RFC 2883 4.1: the first block within the second */
			continue;
		}
		if (hf_seq_leq(s, snd_una) || hf_seq_gt(e, snd_max))
			continue;	/* RFC 2018 3: a block lies within what is outstanding */
		add(b, s, e);
	}
	recount(b);
	return dsack;
}

void
hf_tcp_sack_ack(struct hf_tcp_sack_board *b, uint32_t snd_una)
{
	while (b->n > 0 && hf_seq_leq(b->end[0], snd_una))
		remove_at(b, 0);
	if (b->n > 0 && hf_seq_lt(b->start[0], snd_una))
		b->start[0] = snd_una;
	recount(b);
}

bool
hf_tcp_sack_is_lost(const struct hf_tcp_sack_board *b, uint32_t seq, uint32_t smss)
{
	uint32_t above = 0;
	unsigned int ranges = 0;

	for (unsigned int i = 0; i < b->n; i++) {
		if (hf_seq_leq(b->end[i], seq))
			continue;
		ranges++;
		above += b->end[i] - hf_seq_max(b->start[i], seq);
	}
	return ranges >= HF_TCP_DUPTHRESH || above > (HF_TCP_DUPTHRESH - 1) * smss;
}

bool
hf_tcp_sack_next_hole(const struct hf_tcp_sack_board *b, uint32_t snd_una, uint32_t snd_max,
		      uint32_t from, uint32_t *start, uint32_t *len)
{
	uint32_t cur = hf_seq_max(from, snd_una);

	(void)snd_max;
	for (unsigned int i = 0; i < b->n; i++) {
		if (hf_seq_geq(cur, b->end[i]))
			continue;		/* wholly behind us */
		if (hf_seq_lt(cur, b->start[i])) {
			*start = cur;
			*len = b->start[i] - cur;
			return true;
		}
		cur = b->end[i];	/* inside a SACKed range: the hole starts after it */
	}
	return false;
}

/* A candidate block of hf_tcp_sack_rcv_blocks(), ranked by (has_dsack, stamp). */
struct cand {
	uint32_t start;
	uint32_t end;
	uint32_t stamp;
	bool has_dsack;
};

static inline bool
ranks_above(const struct cand *a, const struct cand *b)
{
	if (a->has_dsack != b->has_dsack)
		return a->has_dsack;
	return (int32_t)(a->stamp - b->stamp) > 0;
}

/* Inserts @p c into the @p *n best of @p top (capacity @p cap), best first. */
static void
keep_best(struct cand *top, unsigned int *n, unsigned int cap, const struct cand *c)
{
	unsigned int i = *n;

	/* Equals keep their order: among the same stamp, the lower range first. */
	while (i > 0 && ranks_above(c, &top[i - 1]))
		i--;
	if (i == cap)
		return;
	if (*n == cap)
		(*n)--;
	memmove(&top[i + 1], &top[i], (*n - i) * sizeof(top[0]));
	top[i] = *c;
	(*n)++;
}

unsigned int
hf_tcp_sack_rcv_blocks(const struct hf_tcp_sack_rcv_range *ranges, unsigned int n,
		       uint32_t rcv_nxt, const uint32_t *dsack, uint32_t *blocks,
		       unsigned int max_blocks)
{
	struct cand top[HF_TCP_SACK_RCV_MAX], cur = {0};
	unsigned int out = 0, n_top = 0, cap;
	bool open = false, have_dsack;

	if (max_blocks > HF_TCP_SACK_RCV_MAX)
		max_blocks = HF_TCP_SACK_RCV_MAX;
	if (max_blocks == 0)
		return 0;
	have_dsack = dsack != NULL && hf_seq_lt(dsack[0], dsack[1]);
	if (have_dsack) {
		blocks[0] = dsack[0];
		blocks[1] = dsack[1];
		out = 1;
	}
	cap = max_blocks - out;
	for (unsigned int i = 0; i <= n && cap > 0; i++) {
		uint32_t s, e;

		if (i < n) {
			s = ranges[i].start;
			e = ranges[i].end;
			if (hf_seq_leq(e, rcv_nxt) || !hf_seq_lt(s, e))
				continue;	/* delivered already, or empty */
			if (hf_seq_lt(s, rcv_nxt))
				s = rcv_nxt;
			if (open && hf_seq_leq(s, cur.end)) {
				/* Overlapping or touching the block being built: one block. */
				cur.end = hf_seq_max(cur.end, e);
				if ((int32_t)(ranges[i].stamp - cur.stamp) > 0)
					cur.stamp = ranges[i].stamp;
				continue;
			}
		}
		if (open) {
			cur.has_dsack = have_dsack && hf_seq_geq(dsack[0], cur.start) &&
					hf_seq_leq(dsack[1], cur.end);
			keep_best(top, &n_top, cap, &cur);
			open = false;
		}
		if (i < n) {
			cur.start = s;
			cur.end = e;
			cur.stamp = ranges[i].stamp;
			open = true;
		}
	}
	for (unsigned int i = 0; i < n_top; i++, out++) {
		blocks[2 * out] = top[i].start;
		blocks[2 * out + 1] = top[i].end;
	}
	return out;
}
