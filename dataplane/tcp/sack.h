/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TCP_SACK_H
#define HF_TCP_SACK_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The sender's SACK scoreboard (RFC 2018, RFC 6675): what the peer reported
 * holding above snd_una, as sorted, disjoint [start, end) ranges. Fixed size:
 * when full, the highest range is forgotten, which only makes us resend
 * something the peer has (never skip something it lacks).
 */
#define HF_TCP_SACK_RANGES 16
#define HF_TCP_DUPTHRESH 3

struct hf_tcp_sack_board {
	uint8_t n;
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

static inline void
hf_tcp_sack_clear(struct hf_tcp_sack_board *b)
{
	hf_tcp_sack_init(b);
}

static inline uint32_t
hf_tcp_sack_bytes(const struct hf_tcp_sack_board *b)
{
	return b->bytes;
}

/*
 * Records the @p n blocks of a received SACK option (start, end pairs). A
 * block outside (snd_una, snd_max] is ignored; one ending at or below snd_una
 * is a D-SACK (RFC 2883) and only counted in the return value. Returns the
 * number of D-SACK blocks seen.
 */
unsigned int hf_tcp_sack_update(struct hf_tcp_sack_board *b, uint32_t snd_una, uint32_t snd_max,
				const uint32_t *blocks, unsigned int n);

/* Forgets everything below the new cumulative ACK @p snd_una. */
void hf_tcp_sack_ack(struct hf_tcp_sack_board *b, uint32_t snd_una);

/*
 * RFC 6675 IsLost(snd_una): DupThresh discontiguous SACKed ranges above it, or
 * more than (DupThresh - 1) * @p smss bytes SACKed above it.
 */
bool hf_tcp_sack_is_lost(const struct hf_tcp_sack_board *b, uint32_t snd_una, uint32_t smss);

/*
 * The first hole at or above @p from and below the highest SACKed byte: sets
 * @p start and @p len and returns true, or false when there is none.
 */
bool hf_tcp_sack_next_hole(const struct hf_tcp_sack_board *b, uint32_t snd_una, uint32_t snd_max,
			   uint32_t from, uint32_t *start, uint32_t *len);

#endif
