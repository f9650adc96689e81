/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TCP_OPTIONS_H
#define HF_TCP_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#define HF_TCP_MAX_SACK_BLOCKS 4

/* The options of one segment that TCP acts on (RFC 9293 3.1, RFC 7323, RFC 2018). */
struct hf_tcp_opts {
	bool mss_present;
	bool ws_present;
	bool sack_permitted;
	bool ts_present;
	uint8_t ws_shift;		/* clamped to 14 (RFC 7323 2.3) */
	uint8_t sack_blocks;		/* number of (start, end) pairs in sack */
	uint16_t mss;
	uint32_t ts_val;
	uint32_t ts_ecr;
	uint32_t sack[2 * HF_TCP_MAX_SACK_BLOCKS];	/* host order: start, end, ... */
};

/*
 * Parses @p len bytes of options at @p p into @p o. Unknown kinds are skipped
 * by their length. Returns 0, or -EINVAL for a malformed list: a length below
 * 2, an option running past the header, or a known option of the wrong size.
 */
int hf_tcp_opts_parse(const uint8_t *p, uint32_t len, struct hf_tcp_opts *o);

/*
 * Writes the options of a SYN or SYN-ACK into @p buf (at least 40 bytes):
 * MSS, then window scale when @p ws_shift >= 0, SACK-permitted and timestamps
 * as asked, NOP-padded to a multiple of 4. Returns the bytes written.
 */
uint32_t hf_tcp_opts_build_syn(uint8_t *buf, uint16_t mss, int ws_shift, bool sack_permitted,
			       bool ts, uint32_t ts_val, uint32_t ts_ecr);

/*
 * Writes the options of a non-SYN segment: timestamps when @p ts, then up to
 * @p n_sack SACK blocks from @p sack (start, end pairs, host order), as many
 * as fit in 40 bytes. Returns the bytes written (a multiple of 4).
 */
uint32_t hf_tcp_opts_build_data(uint8_t *buf, bool ts, uint32_t ts_val, uint32_t ts_ecr,
				const uint32_t *sack, unsigned int n_sack);

#endif
