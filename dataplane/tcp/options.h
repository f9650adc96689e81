/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TCP_OPTIONS_H
#define HF_TCP_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Option kinds TCP acts on, with their fixed lengths where they have one. */
enum hf_tcp_opt_kind {
	HF_TCP_OPT_EOL = 0,		/* RFC 9293 3.2: end of the list, no length byte */
	HF_TCP_OPT_NOP = 1,		/* RFC 9293 3.2: padding, no length byte */
	HF_TCP_OPT_MSS = 2,		/* RFC 9293 3.2, length 4 */
	HF_TCP_OPT_WS = 3,		/* RFC 7323 2.2, length 3 */
	HF_TCP_OPT_SACK_PERM = 4,	/* RFC 2018 2, length 2 */
	HF_TCP_OPT_SACK = 5,		/* RFC 2018 3, length 2 + 8n, 1 <= n <= 4 */
	HF_TCP_OPT_TS = 8,		/* RFC 7323 3.2, length 10 */
};

#define HF_TCP_OPTS_MAX_LEN 40		/* data offset 15 words minus the 20-byte header */
#define HF_TCP_OPTS_SYN_MAX_LEN 24	/* what hf_tcp_opts_build_syn() writes at most */
#define HF_TCP_MAX_SACK_BLOCKS 4	/* 2 + 8 * 4 = 34 bytes: the most that fits */
#define HF_TCP_WS_MAX 14		/* RFC 7323 2.3 */

/* The options of one segment that TCP acts on (RFC 9293 3.1, RFC 7323, RFC 2018). */
struct hf_tcp_opts {
	bool mss_present;
	bool ws_present;
	bool sack_permitted;
	bool ts_present;
	uint8_t ws_shift;		/* clamped to HF_TCP_WS_MAX (RFC 7323 2.3) */
	uint8_t sack_blocks;		/* number of (start, end) pairs in sack */
	uint16_t mss;
	uint32_t ts_val;
	uint32_t ts_ecr;
	uint32_t sack[2 * HF_TCP_MAX_SACK_BLOCKS];	/* host order: start, end, ... */
};

/*
 * hf_tcp_opts_parse() (in line, below) and hf_tcp_opts_parse_list(): parse the
 * @p len option bytes at @p p (what follows the fixed header, up to the data
 * offset) into @p o, which is cleared first.
 *
 * Accepts: EOL (ends the list, whatever follows), NOP, and every option whose
 * length byte covers at least its kind and length and stays within @p len.
 * Unknown kinds are skipped by their length (RFC 9293 3.1, RFC 1122 4.2.2.5).
 * A window scale above 14 is taken as 14 (RFC 7323 2.3). When an option
 * appears twice, the later one wins.
 *
 * Refuses, with -EINVAL, a list TCP must not act on: a kind with no room for
 * its length byte, a length of 0 or 1, an option running past @p len, a
 * known option of the wrong length (MSS 4, window scale 3, SACK-permitted 2,
 * timestamps 10) and a SACK option whose length is not 2 + 8n with
 * 1 <= n <= 4. @p o is then left partly filled and must not be used.
 *
 * Returns 0 or -EINVAL. No allocation, no state: safe on every segment.
 * The list most segments of a connection carry, NOP NOP timestamps and
 * nothing else (RFC 7323 appendix A), is recognised by its first word and
 * read in line, as Linux's tcp_fast_parse_options() does; any other goes
 * through hf_tcp_opts_parse_list(), the one walk over the list.
 */
int hf_tcp_opts_parse_list(const uint8_t *p, uint32_t len, struct hf_tcp_opts *o);

/* NOP NOP TS 10: the first word of the timestamp-only list, in host order. */
#define HF_TCP_OPTS_TS_WORD                                                                      \
	((uint32_t)HF_TCP_OPT_NOP << 24 | (uint32_t)HF_TCP_OPT_NOP << 16 |                        \
	 (uint32_t)HF_TCP_OPT_TS << 8 | 10u)
#define HF_TCP_OPTS_TS_LEN 12		/* NOP NOP TS: the whole timestamp-only list */

/* Big-endian (wire order) conversion of a 32-bit word, either way. */
static inline uint32_t
hf_tcp_opts_be32(uint32_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap32(v);
#else
	return v;
#endif
}

/* Parses options as hf_tcp_opts_parse_list() does, the timestamp-only list in line. */
static inline int
hf_tcp_opts_parse(const uint8_t *p, uint32_t len, struct hf_tcp_opts *o)
{
	uint32_t v[3];

	if (len == HF_TCP_OPTS_TS_LEN) {
		memcpy(v, p, sizeof(v));
		if (v[0] == hf_tcp_opts_be32(HF_TCP_OPTS_TS_WORD)) {
			memset(o, 0, sizeof(*o));
			o->ts_present = true;
			o->ts_val = hf_tcp_opts_be32(v[1]);
			o->ts_ecr = hf_tcp_opts_be32(v[2]);
			return 0;
		}
	}
	return hf_tcp_opts_parse_list(p, len, o);
}

/*
 * Writes NOP NOP timestamps (@p ts_val, @p ts_ecr) at @p buf: the 12 bytes
 * hf_tcp_opts_build_data() writes for a segment with timestamps and no SACK
 * blocks, as three word stores.
 */
static inline void
hf_tcp_opts_put_ts(uint8_t *buf, uint32_t ts_val, uint32_t ts_ecr)
{
	uint32_t v[3] = {hf_tcp_opts_be32(HF_TCP_OPTS_TS_WORD), hf_tcp_opts_be32(ts_val),
			 hf_tcp_opts_be32(ts_ecr)};

	memcpy(buf, v, sizeof(v));
}

/*
 * Writes the options of a SYN or SYN-ACK into @p buf, which has room for
 * HF_TCP_OPTS_SYN_MAX_LEN bytes: MSS; then NOP NOP SACK-permitted when
 * @p sack_permitted; NOP NOP timestamps (@p ts_val, @p ts_ecr) when @p ts;
 * NOP window scale when @p ws_shift >= 0 (values above 14 are sent as 14).
 * Every option starts on the alignment RFC 7323 appendix A recommends, so the
 * length is a multiple of 4 with no trailing padding needed.
 *
 * Returns the bytes written: 4, 8, 12, 16, 20 or 24.
 */
uint32_t hf_tcp_opts_build_syn(uint8_t *buf, uint16_t mss, int ws_shift, bool sack_permitted,
			       bool ts, uint32_t ts_val, uint32_t ts_ecr);

/*
 * Writes the options of a non-SYN segment into @p buf (room for
 * HF_TCP_OPTS_MAX_LEN bytes): NOP NOP timestamps when @p ts, then
 * NOP NOP SACK with the first @p n_sack blocks of @p sack (start, end pairs,
 * host order), as many as fit: 3 with timestamps, 4 without. The caller
 * orders the blocks (RFC 2018 4: most recent first, see
 * hf_tcp_sack_rcv_blocks()).
 *
 * Returns the bytes written, a multiple of 4 (0 when there is nothing to send).
 */
uint32_t hf_tcp_opts_build_data(uint8_t *buf, bool ts, uint32_t ts_val, uint32_t ts_ecr,
				const uint32_t *sack, unsigned int n_sack);

#endif
