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

/* Adds [s, e) keeping the ranges sorted and disjoint; adjacent ranges merge. */
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
			continue;
		if (hf_seq_leq(e, snd_una)) {
			dsack++;
			continue;
		}
		if (hf_seq_lt(s, snd_una) || hf_seq_gt(e, snd_max))
			continue;	/* RFC 2018: a block must lie within what we sent */
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
hf_tcp_sack_is_lost(const struct hf_tcp_sack_board *b, uint32_t snd_una, uint32_t smss)
{
	uint32_t above = 0;
	unsigned int ranges = 0;

	for (unsigned int i = 0; i < b->n; i++) {
		if (hf_seq_leq(b->end[i], snd_una))
			continue;
		ranges++;
		above += b->end[i] - hf_seq_max(b->start[i], snd_una);
	}
	return ranges >= HF_TCP_DUPTHRESH || above > (HF_TCP_DUPTHRESH - 1) * smss;
}

bool
hf_tcp_sack_next_hole(const struct hf_tcp_sack_board *b, uint32_t snd_una, uint32_t snd_max,
		      uint32_t from, uint32_t *start, uint32_t *len)
{
	uint32_t cur = hf_seq_max(from, snd_una);

	for (unsigned int i = 0; i < b->n; i++) {
		if (hf_seq_geq(cur, b->end[i]))
			continue;
		if (hf_seq_lt(cur, b->start[i])) {
			*start = cur;
			*len = b->start[i] - cur;
			return hf_seq_leq(b->start[i], snd_max);
		}
		cur = b->end[i];
	}
	return false;
}
