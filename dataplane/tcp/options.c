/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP options: one pass over the list for parsing, fixed layouts for
 * building. Values on the wire are big-endian; struct hf_tcp_opts holds them
 * in host order.
 */
#include <errno.h>
#include <string.h>

#include "dataplane/tcp/options.h"

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int
hf_tcp_opts_parse_list(const uint8_t *p, uint32_t len, struct hf_tcp_opts *o)
{
	uint32_t i = 0;

	memset(o, 0, sizeof(*o));
	while (i < len) {
		uint8_t kind = p[i], olen;

		if (kind == HF_TCP_OPT_EOL)
			break;
		if (kind == HF_TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			return -EINVAL;		/* a kind with no length byte */
		olen = p[i + 1];
		/* RFC 9293 3.1: the length counts kind and length; below 2 no walk goes on. */
		if (olen < 2 || olen > len - i)
			return -EINVAL;
		switch (kind) {
		case HF_TCP_OPT_MSS:
			if (olen != 4)
				return -EINVAL;
			o->mss_present = true;
			o->mss = (uint16_t)(p[i + 2] << 8 | p[i + 3]);
			break;
		case HF_TCP_OPT_WS:
			if (olen != 3)
				return -EINVAL;
			o->ws_present = true;
			/* RFC 7323 2.3: a shift above 14 is used as 14. */
			o->ws_shift = p[i + 2] > HF_TCP_WS_MAX ? HF_TCP_WS_MAX : p[i + 2];
			break;
		case HF_TCP_OPT_SACK_PERM:
			if (olen != 2)
				return -EINVAL;
			o->sack_permitted = true;
			break;
		case HF_TCP_OPT_SACK:
			if (olen == 2 || (olen - 2) % 8 != 0 ||
			    (olen - 2) / 8 > HF_TCP_MAX_SACK_BLOCKS)
				return -EINVAL;
			o->sack_blocks = (uint8_t)((olen - 2) / 8);
			for (unsigned int b = 0; b < o->sack_blocks; b++) {
				o->sack[2 * b] = get32(p + i + 2 + 8 * b);
				o->sack[2 * b + 1] = get32(p + i + 6 + 8 * b);
			}
			break;
		case HF_TCP_OPT_TS:
			if (olen != 10)
				return -EINVAL;
			o->ts_present = true;
			o->ts_val = get32(p + i + 2);
			o->ts_ecr = get32(p + i + 6);
			break;
		default:
			break;		/* unknown: skipped by its length */
		}
		i += olen;
	}
	return 0;
}

static uint32_t
put_ts(uint8_t *b, uint32_t val, uint32_t ecr)
{
	/* NOP NOP TS: the layout RFC 7323 appendix A recommends, values 4-aligned. */
	hf_tcp_opts_put_ts(b, val, ecr);
	return HF_TCP_OPTS_TS_LEN;
}

uint32_t
hf_tcp_opts_build_syn(uint8_t *buf, uint16_t mss, int ws_shift, bool sack_permitted, bool ts,
		      uint32_t ts_val, uint32_t ts_ecr)
{
	uint32_t n = 0;

	buf[n++] = HF_TCP_OPT_MSS;
	buf[n++] = 4;
	buf[n++] = (uint8_t)(mss >> 8);
	buf[n++] = (uint8_t)mss;
	if (sack_permitted) {
		buf[n++] = HF_TCP_OPT_NOP;
		buf[n++] = HF_TCP_OPT_NOP;
		buf[n++] = HF_TCP_OPT_SACK_PERM;
		buf[n++] = 2;
	}
	if (ts)
		n += put_ts(buf + n, ts_val, ts_ecr);
	if (ws_shift >= 0) {
		buf[n++] = HF_TCP_OPT_NOP;
		buf[n++] = HF_TCP_OPT_WS;
		buf[n++] = 3;
		buf[n++] = (uint8_t)(ws_shift > HF_TCP_WS_MAX ? HF_TCP_WS_MAX : ws_shift);
	}
	return n;
}

uint32_t
hf_tcp_opts_build_data(uint8_t *buf, bool ts, uint32_t ts_val, uint32_t ts_ecr,
		       const uint32_t *sack, unsigned int n_sack)
{
	uint32_t n = 0;
	unsigned int room;

	if (ts)
		n += put_ts(buf, ts_val, ts_ecr);
	/* What is left of the 40 bytes after NOP NOP kind length, in 8-byte blocks. */
	room = (HF_TCP_OPTS_MAX_LEN - n - 4) / 8;
	if (n_sack > room)
		n_sack = room;
	if (n_sack > 0) {
		buf[n++] = HF_TCP_OPT_NOP;
		buf[n++] = HF_TCP_OPT_NOP;
		buf[n++] = HF_TCP_OPT_SACK;
		buf[n++] = (uint8_t)(2 + 8 * n_sack);
		for (unsigned int b = 0; b < n_sack; b++) {
			put32(buf + n, sack[2 * b]);
			put32(buf + n + 4, sack[2 * b + 1]);
			n += 8;
		}
	}
	return n;
}
