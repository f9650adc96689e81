/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_PCAP_H
#define HF_PCAP_H

/*
 * A reader of classic pcap files (the libpcap format, not pcapng): both byte
 * orders, microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d) timestamps,
 * Ethernet link type only, since the load generator replays frames onto an
 * Ethernet port as they are. Plain C, no DPDK: the replay (replay.c) copies
 * each record into mbufs, the unit tests feed it files they write.
 *
 * Every way a file can be wrong is an error with a message naming the file,
 * the record and the reason, never a crash and never a silent stop: a header
 * that is not pcap, an unsupported link type, a record cut short by the end of
 * the file, a record longer than the file's snapshot length or than the frame
 * it claims to have captured.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HF_PCAP_LINKTYPE_ETHERNET 1
/* libpcap's own ceiling on a record (MAXIMUM_SNAPLEN): longer is corruption. */
#define HF_PCAP_MAX_CAPLEN 262144u
#define HF_PCAP_ERR_MAX    512

struct hf_pcap {
	FILE *f;
	const char *path;          /* as given to open: for messages only */
	bool swapped;              /* written on a host of the other byte order */
	bool nsec;                 /* timestamps in ns, else us */
	uint32_t snaplen;          /* from the file header */
	uint32_t linktype;         /* from the file header (its low 16 bits) */
	uint64_t offset;           /* of the next record header */
	uint64_t records;          /* records read so far */
	uint8_t *buf;              /* one record's bytes, HF_PCAP_MAX_CAPLEN long */
	char err[HF_PCAP_ERR_MAX]; /* why the last call failed */
};

/* One record; data points into the reader's buffer until the next call. */
struct hf_pcap_rec {
	uint64_t ts_ns;   /* capture time, ns since the epoch */
	uint32_t caplen;  /* bytes captured (at data) */
	uint32_t origlen; /* bytes the frame had on the wire: > caplen when cut */
	const uint8_t *data;
};

/*
 * Opens @p path and checks its file header. Returns 0, or a negative errno
 * with pc->err saying why: -errno of fopen, -ENOMEM, -EINVAL (not classic
 * pcap, an unknown version, pcapng), -EPROTONOSUPPORT (a link type other than
 * Ethernet), -EIO (shorter than a file header). Close with hf_pcap_close()
 * in every case.
 */
int hf_pcap_open(struct hf_pcap *pc, const char *path);

/*
 * Reads the next record into @p rec. Returns 1 for a record, 0 at the end of
 * the file (which must fall between records), or -EIO with pc->err naming
 * the record and its offset: a header or data cut short, a captured length
 * above the snapshot length, above HF_PCAP_MAX_CAPLEN or above the frame's
 * original length, or a read error.
 */
int hf_pcap_next(struct hf_pcap *pc, struct hf_pcap_rec *rec);

/* Releases what open took; safe on a reader that failed to open or is closed. */
void hf_pcap_close(struct hf_pcap *pc);

#endif
