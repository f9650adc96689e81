/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TCP_SACK_H
#define HF_TCP_SACK_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Selective acknowledgments (RFC 2018, RFC 2883, RFC 6675), both sides.
 *
 * Sender: the scoreboard of what the peer reported holding above snd_una, as
 * sorted, disjoint, non-adjacent [start, end) ranges in a fixed array. When
 * it is full the highest range is forgotten: that only makes us resend bytes
 * the peer has, never skip bytes it lacks, and the peer repeats its most
 * recent blocks anyway (RFC 2018 4).
 *
 * Receiver: hf_tcp_sack_rcv_blocks() picks the blocks of the next ACK from the
 * out-of-order data the caller holds.
 *
 * Everything is caller-allocated and bounded: no allocation on any path.
 */
#define HF_TCP_SACK_RANGES 16		/* scoreboard capacity */
#define HF_TCP_DUPTHRESH 3		/* RFC 6675 2: DupThresh */
#define HF_TCP_SACK_RCV_MAX 4		/* blocks one option can carry */

struct hf_tcp_sack_board {
	uint8_t n;			/* ranges in use */
	uint32_t bytes;			/* sum of the ranges */
	uint32_t start[HF_TCP_SACK_RANGES];
	uint32_t end[HF_TCP_SACK_RANGES];
};

static inline void
hf_tcp_sack_init(struct hf_tcp_sack_board *b)
{
	b->n = 0;
	b->bytes = 0;
}

/* Forgets everything, as after a retransmission timeout (RFC 6675 5.1). */
static inline void
hf_tcp_sack_clear(struct hf_tcp_sack_board *b)
{
	hf_tcp_sack_init(b);
}

/* Bytes the peer reported holding above snd_una. */
static inline uint32_t
hf_tcp_sack_bytes(const struct hf_tcp_sack_board *b)
{
	return b->bytes;
}

/*
 * Records the @p n blocks (start, end pairs, host order) of a received SACK
 * option. @p snd_una is the cumulative ACK point and @p snd_max the highest
 * sequence number sent plus one (SND.NXT before any retransmission).
 *
 * - A block whose end is at or below @p snd_una reports a duplicate (a
 *   D-SACK, RFC 2883 4.1, first case); so does a first block lying within
 *   the second (second case). D-SACK blocks are counted, not recorded.
 * - Any other block must lie within (snd_una, snd_max]: start after
 *   snd_una, end not after snd_max, start before end (RFC 2018 3, as
 *   Linux's tcp_is_sackblock_valid()); one that does not is ignored.
 * - Recorded blocks merge with every range they overlap or touch.
 *
 * Returns the number of D-SACK blocks seen (0, 1, or more for a peer that
 * repeats old blocks). Pass the segment's ACK field as @p snd_una when it
 * acknowledges new data, so a D-SACK just below it is recognised.
 */
unsigned int hf_tcp_sack_update(struct hf_tcp_sack_board *b, uint32_t snd_una, uint32_t snd_max,
				const uint32_t *blocks, unsigned int n);

/* The cumulative ACK moved to @p snd_una: forgets what lies below it. */
void hf_tcp_sack_ack(struct hf_tcp_sack_board *b, uint32_t snd_una);

/*
 * RFC 6675 4 IsLost(@p seq): true when DupThresh discontiguous SACKed ranges
 * lie above @p seq, or more than (DupThresh - 1) * @p smss SACKed bytes do.
 */
bool hf_tcp_sack_is_lost(const struct hf_tcp_sack_board *b, uint32_t seq, uint32_t smss);

/*
 * Walks the holes to retransmit (RFC 6675 4 NextSeg rule 1): the first
 * un-SACKed range at or after max(@p from, @p snd_una) that lies below the
 * highest SACKed byte (nothing above it is known lost). Sets @p start and
 * @p len (the hole is clipped to begin at @p from) and returns true, or
 * returns false when there is none. To visit every hole, call again with
 * @p from = start + len. @p snd_max is accepted for symmetry with
 * hf_tcp_sack_update(); every recorded range already ends at or below it.
 */
bool hf_tcp_sack_next_hole(const struct hf_tcp_sack_board *b, uint32_t snd_una, uint32_t snd_max,
			   uint32_t from, uint32_t *start, uint32_t *len);

/* One range of out-of-order data the receiver holds. */
struct hf_tcp_sack_rcv_range {
	uint32_t start;
	uint32_t end;			/* exclusive */
	uint32_t stamp;			/* last arrival in it: greater (mod 2^32) is newer */
};

/*
 * Receiver side: the SACK blocks of the next ACK (RFC 2018 4, RFC 2883 4).
 *
 * @p ranges: the @p n ranges of out-of-order data held, sorted by start in
 * sequence space (as a reassembly queue keeps them); entries that overlap or
 * touch are merged into one block, which takes the newest of their stamps,
 * since RFC 2018 reports contiguous blocks. Bytes at or below @p rcv_nxt are
 * left out. @p stamp is any counter the caller advances as segments arrive.
 *
 * @p dsack: NULL, or a (start, end) pair: a duplicate just received, which
 * goes first (RFC 2883 4), followed by the block containing it if there is one.
 *
 * The other blocks follow, most recently received first, so the first block
 * holds the segment that triggered the ACK (RFC 2018 4 "MUST") and the rest
 * repeat the most recent news. Writes up to @p max_blocks (at most
 * HF_TCP_SACK_RCV_MAX) start, end pairs to @p blocks and returns how many.
 * O(n * max_blocks), no allocation.
 */
unsigned int hf_tcp_sack_rcv_blocks(const struct hf_tcp_sack_rcv_range *ranges, unsigned int n,
				    uint32_t rcv_nxt, const uint32_t *dsack, uint32_t *blocks,
				    unsigned int max_blocks);

#endif
