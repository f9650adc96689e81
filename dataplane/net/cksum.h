/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_CKSUM_H
#define HF_CKSUM_H

/*
 * The Internet checksum (RFC 1071) over mbuf chains, for ports whose device
 * does not sum TCP segments (net_memif, net_tap without offload, most
 * virtual devices). Every proxied byte goes through here twice (checked on
 * the way in, summed on the way out), so the inner loop adds 32-bit words
 * into a 64-bit accumulator, four at a time: no carry to propagate per word,
 * a quarter of the additions of a 16-bit loop. RFC 1071 2(B): the sum may be
 * taken in either byte order and over words of any width, as long as it is
 * folded back to 16 bits at the end (2^16 = 1 in ones' complement).
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

/* The native-order sum of [@p buf, @p buf + @p len) added to @p sum, unfolded. */
static inline uint64_t
hf_cksum_add(const void *buf, size_t len, uint64_t sum)
{
	const uint8_t *p = buf;
	uint32_t w[4];

	for (; len >= 16; len -= 16, p += 16) {
		memcpy(w, p, 16);
		sum += (uint64_t)w[0] + w[1] + w[2] + w[3];
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

/* Folds an unfolded sum to 16 bits (not complemented). */
static inline uint16_t
hf_cksum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
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
 * checking: a correct header gives 0). Summed 32 bits at a time.
 */
static inline uint16_t
hf_cksum_ipv4_hdr(const struct rte_ipv4_hdr *ih)
{
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
 * The TCP checksum field for the IPv4 datagram of @p m whose TCP header starts
 * at @p l4off, computed with that field zero (RFC 9293 3.1). (A UDP sum of 0
 * would be sent as 0xffff; TCP sends it as it is.)
 */
static inline uint16_t
hf_cksum_tcp_ipv4(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ih, uint32_t l4off)
{
	uint64_t sum = hf_cksum_phdr_ipv4(ih) + hf_cksum_mbuf(m, l4off, hf_cksum_l4_len(ih));

	return (uint16_t)~hf_cksum_fold(sum);
}

/* True when the L4 checksum of @p m, field included, is correct: the sum is all ones. */
static inline bool
hf_cksum_l4_ipv4_ok(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ih, uint32_t l4off)
{
	uint64_t sum = hf_cksum_phdr_ipv4(ih) + hf_cksum_mbuf(m, l4off, hf_cksum_l4_len(ih));

	return hf_cksum_fold(sum) == 0xffff;
}

#endif
