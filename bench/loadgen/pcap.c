/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Classic pcap, as libpcap writes it (pcap-savefile(5)): a 24-byte file
 * header, then records of a 16-byte header and the captured bytes. Fields are
 * in the byte order of the host that wrote the file, which the magic number
 * tells, as it tells the timestamp resolution.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bench/loadgen/pcap.h"

#define MAGIC_US     0xa1b2c3d4u
#define MAGIC_NS     0xa1b23c4du
#define MAGIC_PCAPNG 0x0a0d0d0au /* a pcapng Section Header Block: same in both orders */
#define MAGIC_KUZNET 0xa1b2cd34u /* the "modified" pcap of old Linux patches */
#define FILE_HDR_LEN 24
#define REC_HDR_LEN  16

static void fail(struct hf_pcap *pc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Puts "PATH: " and the message into pc->err. */
static void
fail(struct hf_pcap *pc, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(pc->err, sizeof(pc->err), "%s: ", pc->path);
	if (n < 0 || (size_t)n >= sizeof(pc->err))
		return;
	va_start(ap, fmt);
	vsnprintf(pc->err + n, sizeof(pc->err) - (size_t)n, fmt, ap);
	va_end(ap);
}

static uint32_t
get32(const struct hf_pcap *pc, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return pc->swapped ? __builtin_bswap32(v) : v;
}

static uint16_t
get16(const struct hf_pcap *pc, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return pc->swapped ? __builtin_bswap16(v) : v;
}

static const char *
linktype_name(uint32_t lt)
{
	/* The ones a capture is most likely to carry instead (pcap-linktype(7)). */
	switch (lt) {
	case 0: return "BSD loopback";
	case 101: return "raw IP";
	case 105: return "IEEE 802.11";
	case 113: return "Linux cooked (SLL), as 'tcpdump -i any' writes";
	case 127: return "802.11 radiotap";
	case 228: return "raw IPv4";
	case 276: return "Linux cooked v2 (SLL2), as 'tcpdump -i any' writes";
	default: return "unknown";
	}
}

int
hf_pcap_open(struct hf_pcap *pc, const char *path)
{
	uint8_t h[FILE_HDR_LEN];
	uint32_t magic;
	size_t got;

	memset(pc, 0, sizeof(*pc));
	pc->path = path;
	pc->f = fopen(path, "rb");
	if (pc->f == NULL) {
		int e = errno;

		fail(pc, "cannot open: %s", strerror(e));
		return -e;
	}
	got = fread(h, 1, sizeof(h), pc->f);
	if (got < 4) {
		fail(pc, "not a pcap file: %zu bytes, shorter than a magic number", got);
		return -EIO;
	}
	memcpy(&magic, h, sizeof(magic));
	if (magic == MAGIC_US || magic == MAGIC_NS) {
		pc->swapped = false;
	} else if (__builtin_bswap32(magic) == MAGIC_US || __builtin_bswap32(magic) == MAGIC_NS) {
		pc->swapped = true;
		magic = __builtin_bswap32(magic);
	} else if (magic == MAGIC_PCAPNG) {
		fail(pc, "a pcapng file, only classic pcap is read "
		         "(convert it: editcap -F pcap IN OUT)");
		return -EINVAL;
	} else if (magic == MAGIC_KUZNET || __builtin_bswap32(magic) == MAGIC_KUZNET) {
		fail(pc, "a 'modified' (Kuznetzov) pcap, only the standard format is read");
		return -EINVAL;
	} else {
		fail(pc, "not a pcap file: magic number 0x%08x", magic);
		return -EINVAL;
	}
	pc->nsec = magic == MAGIC_NS;
	if (got < sizeof(h)) {
		fail(pc, "file header cut short: %zu of %d bytes", got, FILE_HDR_LEN);
		return -EIO;
	}
	if (get16(pc, h + 4) != 2) {
		fail(pc, "pcap version %u.%u, only 2.x is read", get16(pc, h + 4),
		     get16(pc, h + 6));
		return -EINVAL;
	}
	pc->snaplen = get32(pc, h + 16);
	/* The upper bits may carry FCS information (pcap-savefile(5)): the link type is below. */
	pc->linktype = get32(pc, h + 20) & 0xffffu;
	if (pc->linktype != HF_PCAP_LINKTYPE_ETHERNET) {
		fail(pc, "link type %u (%s), only Ethernet (%d) frames can be replayed",
		     pc->linktype, linktype_name(pc->linktype), HF_PCAP_LINKTYPE_ETHERNET);
		return -EPROTONOSUPPORT;
	}
	pc->buf = malloc(HF_PCAP_MAX_CAPLEN);
	if (pc->buf == NULL) {
		fail(pc, "no memory for a record buffer");
		return -ENOMEM;
	}
	pc->offset = FILE_HDR_LEN;
	return 0;
}

int
hf_pcap_next(struct hf_pcap *pc, struct hf_pcap_rec *rec)
{
	/* A snapshot length of 0 (or above libpcap's own) says nothing: the ceiling rules. */
	uint32_t limit = pc->snaplen == 0 || pc->snaplen > HF_PCAP_MAX_CAPLEN ? HF_PCAP_MAX_CAPLEN
	                                                                      : pc->snaplen;
	uint64_t n = pc->records + 1;
	uint8_t h[REC_HDR_LEN];
	uint32_t frac;
	size_t got;

	got = fread(h, 1, sizeof(h), pc->f);
	if (got == 0 && feof(pc->f))
		return 0;
	if (got < sizeof(h)) {
		if (ferror(pc->f))
			fail(pc, "record %" PRIu64 " at offset %" PRIu64 ": read error", n,
			     pc->offset);
		else
			fail(pc,
			     "record %" PRIu64 " at offset %" PRIu64 ": header cut short "
			     "(%zu of %d bytes): the file is truncated",
			     n, pc->offset, got, REC_HDR_LEN);
		return -EIO;
	}
	frac = get32(pc, h + 4);
	rec->caplen = get32(pc, h + 8);
	rec->origlen = get32(pc, h + 12);
	if (rec->caplen > limit) {
		fail(pc,
		     "record %" PRIu64 " at offset %" PRIu64 ": %u bytes captured, more than "
		     "the %s %u: the file is corrupt",
		     n, pc->offset, rec->caplen,
		     limit == pc->snaplen ? "file's snapshot length" : "largest pcap record",
		     limit);
		return -EIO;
	}
	if (rec->caplen > rec->origlen) {
		fail(pc,
		     "record %" PRIu64 " at offset %" PRIu64 ": %u bytes captured of a %u-byte "
		     "frame: the file is corrupt",
		     n, pc->offset, rec->caplen, rec->origlen);
		return -EIO;
	}
	got = fread(pc->buf, 1, rec->caplen, pc->f);
	if (got < rec->caplen) {
		fail(pc, "record %" PRIu64 " at offset %" PRIu64 ": %s (%zu of %u bytes)", n,
		     pc->offset,
		     ferror(pc->f) ? "read error" : "data cut short, the file is truncated", got,
		     rec->caplen);
		return -EIO;
	}
	rec->ts_ns =
	        (uint64_t)get32(pc, h) * 1000000000u + (pc->nsec ? frac : (uint64_t)frac * 1000);
	rec->data = pc->buf;
	pc->offset += REC_HDR_LEN + rec->caplen;
	pc->records = n;
	return 1;
}

void
hf_pcap_close(struct hf_pcap *pc)
{
	if (pc->f != NULL)
		fclose(pc->f);
	pc->f = NULL;
	free(pc->buf);
	pc->buf = NULL;
}
