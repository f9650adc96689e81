/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_CKSUM_H
#define HF_CKSUM_H

/*
 * The Internet checksum (RFC 1071) over mbuf chains, for ports whose device
 * does not sum TCP segments (net_memif, net_tap without offload, most
 * virtual devices). Every proxied byte goes through here twice (checked on
 * the way in, summed on the way out), so the inner loop adds 16-bit words in
 * the 32-bit lanes of vector registers, sixteen an add, and the lanes are
 * added up once per run: no carry to propagate per word. RFC 1071 2(B): the
 * sum may be taken in either byte order and over words of any width, as long
 * as it is folded back to 16 bits at the end (2^16 = 1 in ones' complement).
 *
 * Segments of odd length (a rewritten head followed by payload cut at a
 * message boundary) are allowed anywhere in a chain: the bytes of a segment
 * that starts at an odd offset of the sum sit in the other lanes, so its
 * folded sum is byte-swapped (RFC 1071 2(B) again) before it is added.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

/*
 * Eight 32-bit words: GCC's and clang's vector extensions, which become one
 * AVX2 register (two SSE2 ones, scalar code without SIMD).
 */
typedef uint32_t hf_cksum_v8u32 __attribute__((vector_size(32)));

/*
 * The 32 bytes at @p p (any alignment) as eight lanes, each the sum of its
 * two native-order 16-bit words: at most 0x1fffe, so a lane takes thousands
 * of them before it could carry out of 32 bits.
 */
static inline hf_cksum_v8u32
hf_cksum_halves(const uint8_t *p)
{
	hf_cksum_v8u32 v;

	memcpy(&v, p, sizeof(v));
	return (v & 0xffff) + (v >> 16);
}

/* Bytes summed in 32-bit lanes before they are added up: 256 blocks, a lane under 2^26. */
#define HF_CKSUM_LANE_RUN 8192

/* Byte i of a 32-byte window at offset n keeps its byte when i >= 32 - n (the last n). */
static const uint8_t hf_cksum_tail_mask[64] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/*
 * The native-order sum of [@p buf, @p buf + @p len) added to @p sum, unfolded.
 * Blocks of 32 bytes are split into their 16-bit halves and added in vector
 * lanes (two sets, 64 bytes a loop, so the adds overlap): five instructions
 * a block on AVX2 where a scalar loop of 32-bit words into a 64-bit
 * accumulator needs sixteen. The even bytes left under 32 are taken as the
 * 32 bytes that end with them (all within the buffer, which had 32 at least)
 * with the ones before masked off, where a scalar tail would take up to ten
 * steps; an odd last byte and buffers under 32 bytes go the scalar way.
 */
static inline uint64_t
hf_cksum_add(const void *buf, size_t len, uint64_t sum)
{
	const uint8_t *p = buf;
	uint32_t w[4];

	if (len >= 32) {
		const uint8_t *end = p + len;

		do {
			hf_cksum_v8u32 a = {0}, b = {0};
			const uint8_t *stop = end - p > HF_CKSUM_LANE_RUN ? p + HF_CKSUM_LANE_RUN : end;
			uint32_t t = 0;

			for (; stop - p >= 64; p += 64) {
				a += hf_cksum_halves(p);
				b += hf_cksum_halves(p + 32);
			}
			if (stop - p >= 32) {
				a += hf_cksum_halves(p);
				p += 32;
			}
			if (stop == end && end - p >= 2) {
				/* p is 32 bytes or more into the buffer: the window stays inside it. */
				size_t even = (size_t)(end - p) & ~(size_t)1;
				hf_cksum_v8u32 v, mask;

				memcpy(&v, p + even - 32, sizeof(v));
				memcpy(&mask, hf_cksum_tail_mask + even, sizeof(mask));
				v &= mask;
				b += (v & 0xffff) + (v >> 16);
				p += even;
			}
			a += b;
			for (unsigned int i = 0; i < 8; i++)
				t += a[i];
			sum += t;
		} while (end - p >= 32);
		len = (size_t)(end - p);
	}
	if (len >= 16) {
		memcpy(w, p, 16);
		sum += (uint64_t)w[0] + w[1] + w[2] + w[3];
		p += 16;
		len -= 16;
	}
	for (; len >= 4; len -= 4, p += 4) {
		memcpy(w, p, 4);
		sum += w[0];
	}
	if (len >= 2) {
		uint16_t h;

		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		/* The last byte is the first of a 16-bit word whose second is zero. */
		uint16_t h = 0;

		memcpy(&h, p, 1);
		sum += h;
	}
	return sum;
}

/*
 * Folds an unfolded sum to 16 bits (not complemented): the two 32-bit halves
 * added with the carry back in (add, adc), then the two 16-bit halves the
 * same way, as the top half of s + rol(s, 16) (Linux's csum_fold()), where
 * shifting and masking down 16 bits at a time takes three rounds.
 */
static inline uint16_t
hf_cksum_fold(uint64_t sum)
{
	uint32_t lo = (uint32_t)sum, hi = (uint32_t)(sum >> 32), s;

	s = lo + hi;
	s += s < hi;
	return (uint16_t)((s + (s << 16 | s >> 16)) >> 16);
}

/* The folded sum of @p len bytes of chain @p m from offset @p off (fewer if the chain ends). */
static inline uint16_t
hf_cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t want)
{
	uint64_t sum = 0;
	uint32_t done = 0;

	for (const struct rte_mbuf *seg = m; seg != NULL && done < want; seg = seg->next) {
		uint32_t skip = RTE_MIN(off, (uint32_t)seg->data_len);
		uint32_t len = RTE_MIN(seg->data_len - skip, want - done);
		const void *p = rte_pktmbuf_mtod_offset(seg, const void *, skip);

		off -= skip;
		if (len == 0)
			continue;
		if (likely(!(done & 1))) {
			sum = hf_cksum_add(p, len, sum);
		} else {
			uint16_t t = hf_cksum_fold(hf_cksum_add(p, len, 0));

			sum += rte_bswap16(t);
		}
		done += len;
	}
	return hf_cksum_fold(sum);
}

/* The bytes of the L4 part of the IPv4 datagram @p ih: its total length less its header. */
static inline uint32_t
hf_cksum_l4_len(const struct rte_ipv4_hdr *ih)
{
	return (uint32_t)rte_be_to_cpu_16(ih->total_length) - rte_ipv4_hdr_len(ih);
}

/*
 * The unfolded native-order sum of the IPv4 pseudo-header of @p ih (RFC 9293
 * 3.1: source, destination, zero, protocol, L4 length), the value
 * rte_ipv4_phdr_cksum(ih, 0) folds. Taken from the header's fields in
 * registers: DPDK's builds the 12 bytes on the stack and sums them 16 bits at
 * a time, a loop that was a third of emit()'s samples on the memif path.
 * The zero and protocol bytes are one big-endian 16-bit word, added like the
 * length in wire order, as every other word of the sum (RFC 1071 2(B)).
 */
static inline uint64_t
hf_cksum_phdr_ipv4(const struct rte_ipv4_hdr *ih)
{
	rte_be16_t zero_proto = rte_cpu_to_be_16(ih->next_proto_id);
	rte_be16_t l4len = rte_cpu_to_be_16((uint16_t)hf_cksum_l4_len(ih));

	return (uint64_t)ih->src_addr + ih->dst_addr + zero_proto + l4len;
}

/*
 * The value of rte_ipv4_cksum(@p ih): the complemented sum of the header,
 * options included, with the field as it is (0 when computing, the field when
 * checking: a correct header gives 0). Summed 32 bits at a time; the usual
 * header without options as its five words in line, where the general loop is
 * a call that walks its 16- and 4-byte steps.
 */
static inline uint16_t
hf_cksum_ipv4_hdr(const struct rte_ipv4_hdr *ih)
{
	uint32_t w[5];

	if (likely(rte_ipv4_hdr_len(ih) == sizeof(*ih))) {
		memcpy(w, ih, sizeof(w));
		return (uint16_t)~hf_cksum_fold((uint64_t)w[0] + w[1] + w[2] + w[3] + w[4]);
	}
	return (uint16_t)~hf_cksum_fold(hf_cksum_add(ih, rte_ipv4_hdr_len(ih), 0));
}

/*
 * hf_cksum_ipv4_hdr() for a header whose fields were just stored one by one
 * (hf_ipv4_finish(), after the TCP output built it): each field is loaded at
 * the width it was stored with. A wider load spanning several recent stores
 * cannot take its bytes from the store buffer and waits for them to reach the
 * cache (a store-forwarding stall, most of hf_ipv4_finish()'s samples when it
 * summed 8 bytes at a time).
 */
static inline uint16_t
hf_cksum_ipv4_hdr_fields(const struct rte_ipv4_hdr *ih)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
#define HF_CKSUM_BYTES(a, b) ((uint32_t)(a) | (uint32_t)(b) << 8)
#else
#define HF_CKSUM_BYTES(a, b) ((uint32_t)(a) << 8 | (uint32_t)(b))
#endif
	uint64_t sum = (uint64_t)HF_CKSUM_BYTES(ih->version_ihl, ih->type_of_service) +
		       ih->total_length + ih->packet_id + ih->fragment_offset +
		       HF_CKSUM_BYTES(ih->time_to_live, ih->next_proto_id) + ih->hdr_checksum +
		       ih->src_addr + ih->dst_addr;
#undef HF_CKSUM_BYTES

	if (rte_ipv4_hdr_len(ih) > sizeof(*ih))
		sum = hf_cksum_add(ih + 1, rte_ipv4_hdr_len(ih) - sizeof(*ih), sum);
	return (uint16_t)~hf_cksum_fold(sum);
}

/*
 * The unfolded sum of the pseudo-header of @p ih and the L4 part of the
 * datagram in @p m from @p l4off. A single segment holding all of it (every
 * segment received, every one sent with its payload copied behind the
 * headers) is summed in one call from the pseudo-header's sum, with one fold
 * at the end; a chain goes through hf_cksum_mbuf().
 */
static inline uint64_t
hf_cksum_l4_ipv4(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ih, uint32_t l4off)
{
	uint32_t len = hf_cksum_l4_len(ih);

	if (likely(m->next == NULL && l4off + len <= m->data_len))
		return hf_cksum_add(rte_pktmbuf_mtod_offset(m, const void *, l4off), len,
				    hf_cksum_phdr_ipv4(ih));
	return hf_cksum_phdr_ipv4(ih) + hf_cksum_mbuf(m, l4off, len);
}

/*
 * The TCP checksum field for the IPv4 datagram of @p m whose TCP header starts
 * at @p l4off, computed with that field zero (RFC 9293 3.1). (A UDP sum of 0
 * would be sent as 0xffff; TCP sends it as it is.)
 */
static inline uint16_t
hf_cksum_tcp_ipv4(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ih, uint32_t l4off)
{
	return (uint16_t)~hf_cksum_fold(hf_cksum_l4_ipv4(m, ih, l4off));
}

/* True when the L4 checksum of @p m, field included, is correct: the sum is all ones. */
static inline bool
hf_cksum_l4_ipv4_ok(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ih, uint32_t l4off)
{
	return hf_cksum_fold(hf_cksum_l4_ipv4(m, ih, l4off)) == 0xffff;
}

#endif
