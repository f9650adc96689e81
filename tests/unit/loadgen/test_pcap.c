/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The replay's pcap reader, on files this test writes byte by byte: each
 * magic in each byte order read back exactly; then every way a file can be
 * wrong (cut short, foreign magic, pcapng, another link type, a record longer
 * than the snapshot length or than its frame) is a -errno and a message that
 * names the file and the reason. A good file cut at every length either reads
 * to a clean end between records or fails that way: never a crash, never a
 * record that was not in the file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bench/loadgen/pcap.h"

#define MAGIC_US 0xa1b2c3d4u
#define MAGIC_NS 0xa1b23c4du

static char dir[64];
static char path[128];

/* A file under construction, fields in the order the test chooses. */
struct img {
	uint8_t b[8192];
	size_t n;
	bool be;
};

static void
put32(struct img *im, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		im->b[im->n++] = (uint8_t)(im->be ? v >> (24 - 8 * i) : v >> (8 * i));
}

static void
put16(struct img *im, uint16_t v)
{
	im->b[im->n++] = (uint8_t)(im->be ? v >> 8 : v);
	im->b[im->n++] = (uint8_t)(im->be ? v : v >> 8);
}

static void
file_hdr(struct img *im, bool be, uint32_t magic, uint32_t snaplen, uint32_t linktype)
{
	im->n = 0;
	im->be = be;
	put32(im, magic);
	put16(im, 2);
	put16(im, 4);
	put32(im, 0); /* thiszone */
	put32(im, 0); /* sigfigs */
	put32(im, snaplen);
	put32(im, linktype);
}

/* A record of @p caplen bytes (i + @p seed) of a frame of @p origlen bytes. */
static void
record(struct img *im, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t origlen, uint8_t seed)
{
	put32(im, sec);
	put32(im, frac);
	put32(im, caplen);
	put32(im, origlen);
	for (uint32_t i = 0; i < caplen; i++)
		im->b[im->n++] = (uint8_t)(i + seed);
}

static void
save(const struct img *im, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(im->b, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
check_data(const struct hf_pcap_rec *rec, uint8_t seed)
{
	for (uint32_t i = 0; i < rec->caplen; i++)
		assert_int_equal(rec->data[i], (uint8_t)(i + seed));
}

/* The error message names the file and holds @p why. */
static void
check_err(const struct hf_pcap *pc, const char *why)
{
	if (strstr(pc->err, path) == NULL || strstr(pc->err, why) == NULL)
		fail_msg("message '%s' should name %s and say '%s'", pc->err, path, why);
}

static void
good_file(bool be, uint32_t magic)
{
	struct hf_pcap pc;
	struct hf_pcap_rec rec;
	struct img im;
	bool ns = magic == MAGIC_NS;

	file_hdr(&im, be, magic, 65535, HF_PCAP_LINKTYPE_ETHERNET);
	record(&im, 1700000000, ns ? 123456789 : 123456, 60, 60, 1);
	record(&im, 1700000001, ns ? 5 : 999999, 1514, 1514, 7);
	record(&im, 1700000001, ns ? 6 : 0, 0, 0, 0); /* an empty record is legal */
	save(&im, im.n);

	assert_int_equal(hf_pcap_open(&pc, path), 0);
	assert_int_equal(pc.swapped, be != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__));
	assert_int_equal(pc.nsec, ns);
	assert_int_equal(pc.snaplen, 65535);
	assert_int_equal(pc.linktype, HF_PCAP_LINKTYPE_ETHERNET);

	assert_int_equal(hf_pcap_next(&pc, &rec), 1);
	assert_int_equal(rec.ts_ns, 1700000000ull * 1000000000u + 123456789u - (ns ? 0 : 789));
	assert_int_equal(rec.caplen, 60);
	assert_int_equal(rec.origlen, 60);
	check_data(&rec, 1);

	assert_int_equal(hf_pcap_next(&pc, &rec), 1);
	assert_int_equal(rec.ts_ns, 1700000001ull * 1000000000u + (ns ? 5 : 999999000u));
	assert_int_equal(rec.caplen, 1514);
	check_data(&rec, 7);

	assert_int_equal(hf_pcap_next(&pc, &rec), 1);
	assert_int_equal(rec.caplen, 0);

	assert_int_equal(hf_pcap_next(&pc, &rec), 0);
	assert_int_equal(hf_pcap_next(&pc, &rec), 0);
	assert_int_equal(pc.records, 3);
	hf_pcap_close(&pc);
	hf_pcap_close(&pc); /* twice is harmless */
}

static void
test_good_us_le(void **state)
{
	(void)state;
	good_file(false, MAGIC_US);
}

static void
test_good_us_be(void **state)
{
	(void)state;
	good_file(true, MAGIC_US);
}

static void
test_good_ns_le(void **state)
{
	(void)state;
	good_file(false, MAGIC_NS);
}

static void
test_good_ns_be(void **state)
{
	(void)state;
	good_file(true, MAGIC_NS);
}

static void
test_header_only(void **state)
{
	struct hf_pcap pc;
	struct hf_pcap_rec rec;
	struct img im;

	(void)state;
	file_hdr(&im, false, MAGIC_US, 65535, HF_PCAP_LINKTYPE_ETHERNET);
	save(&im, im.n);
	assert_int_equal(hf_pcap_open(&pc, path), 0);
	assert_int_equal(hf_pcap_next(&pc, &rec), 0);
	hf_pcap_close(&pc);
}

static void
test_truncated_record_header(void **state)
{
	struct hf_pcap pc;
	struct hf_pcap_rec rec;
	struct img im;

	(void)state;
	file_hdr(&im, false, MAGIC_US, 65535, HF_PCAP_LINKTYPE_ETHERNET);
	record(&im, 1, 0, 60, 60, 0);
	record(&im, 2, 0, 60, 60, 0);
	save(&im, 24 + 16 + 60 + 10); /* the second record's header is cut at 10 of 16 */
	assert_int_equal(hf_pcap_open(&pc, path), 0);
	assert_int_equal(hf_pcap_next(&pc, &rec), 1);
	assert_int_equal(hf_pcap_next(&pc, &rec), -EIO);
	check_err(&pc, "record 2 at offset 100: header cut short");
	hf_pcap_close(&pc);
}

static void
test_truncated_record_data(void **state)
{
	struct hf_pcap pc;
	struct hf_pcap_rec rec;
	struct img im;

	(void)state;
	file_hdr(&im, true, MAGIC_NS, 65535, HF_PCAP_LINKTYPE_ETHERNET);
	record(&im, 1, 0, 100, 100, 0);
	save(&im, im.n - 1);
	assert_int_equal(hf_pcap_open(&pc, path), 0);
	assert_int_equal(hf_pcap_next(&pc, &rec), -EIO);
	check_err(&pc, "record 1 at offset 24: data cut short, the file is truncated (99 of 100");
	hf_pcap_close(&pc);
}

static void
test_truncated_file_header(void **state)
{
	struct hf_pcap pc;
	struct img im;

	(void)state;
	file_hdr(&im, false, MAGIC_US, 65535, HF_PCAP_LINKTYPE_ETHERNET);
	save(&im, 20);
	assert_int_equal(hf_pcap_open(&pc, path), -EIO);
	check_err(&pc, "file header cut short");
	hf_pcap_close(&pc);
	save(&im, 0);
	assert_int_equal(hf_pcap_open(&pc, path), -EIO);
	check_err(&pc, "not a pcap file");
	hf_pcap_close(&pc);
}

static void
test_bad_magic(void **state)
{
	struct hf_pcap pc;
	struct img im;

	(void)state;
	file_hdr(&im, false, 0x12345678, 65535, HF_PCAP_LINKTYPE_ETHERNET);
	save(&im, im.n);
	assert_int_equal(hf_pcap_open(&pc, path), -EINVAL);
	check_err(&pc, "not a pcap file: magic number 0x12345678");
	hf_pcap_close(&pc);

	/* pcapng's Section Header Block is told apart, with the way out. */
	file_hdr(&im, false, 0x0a0d0d0a, 65535, HF_PCAP_LINKTYPE_ETHERNET);
	save(&im, im.n);
	assert_int_equal(hf_pcap_open(&pc, path), -EINVAL);
	check_err(&pc, "pcapng");
	hf_pcap_close(&pc);

	/* A right magic with a version nobody wrote. */
	file_hdr(&im, false, MAGIC_US, 65535, HF_PCAP_LINKTYPE_ETHERNET);
	im.b[4] = 3;
	save(&im, im.n);
	assert_int_equal(hf_pcap_open(&pc, path), -EINVAL);
	check_err(&pc, "pcap version 3.4");
	hf_pcap_close(&pc);
}

static void
test_wrong_linktype(void **state)
{
	struct hf_pcap pc;
	struct img im;

	(void)state;
	/* What 'tcpdump -i any' writes: Linux cooked headers, no Ethernet to replay. */
	file_hdr(&im, true, MAGIC_US, 65535, 113);
	record(&im, 1, 0, 60, 60, 0);
	save(&im, im.n);
	assert_int_equal(hf_pcap_open(&pc, path), -EPROTONOSUPPORT);
	check_err(&pc, "link type 113 (Linux cooked");
	check_err(&pc, "only Ethernet (1)");
	hf_pcap_close(&pc);
}

static void
test_missing_file(void **state)
{
	struct hf_pcap pc;

	(void)state;
	unlink(path);
	assert_int_equal(hf_pcap_open(&pc, path), -ENOENT);
	check_err(&pc, "cannot open");
	hf_pcap_close(&pc);
}

/* Captured with a snapshot length shorter than the frame: read as it was cut, origlen kept. */
static void
test_snaplen_cut_frame(void **state)
{
	struct hf_pcap pc;
	struct hf_pcap_rec rec;
	struct img im;

	(void)state;
	file_hdr(&im, false, MAGIC_US, 96, HF_PCAP_LINKTYPE_ETHERNET);
	record(&im, 1, 0, 96, 1514, 3);
	record(&im, 1, 1, 60, 60, 4);
	save(&im, im.n);
	assert_int_equal(hf_pcap_open(&pc, path), 0);
	assert_int_equal(hf_pcap_next(&pc, &rec), 1);
	assert_int_equal(rec.caplen, 96);
	assert_int_equal(rec.origlen, 1514);
	check_data(&rec, 3);
	assert_int_equal(hf_pcap_next(&pc, &rec), 1);
	assert_int_equal(rec.caplen, 60);
	assert_int_equal(hf_pcap_next(&pc, &rec), 0);
	hf_pcap_close(&pc);
}

/* A record longer than the snapshot length, or than its own frame, is corruption. */
static void
test_caplen_corrupt(void **state)
{
	struct hf_pcap pc;
	struct hf_pcap_rec rec;
	struct img im;

	(void)state;
	file_hdr(&im, false, MAGIC_US, 64, HF_PCAP_LINKTYPE_ETHERNET);
	record(&im, 1, 0, 100, 100, 0);
	save(&im, im.n);
	assert_int_equal(hf_pcap_open(&pc, path), 0);
	assert_int_equal(hf_pcap_next(&pc, &rec), -EIO);
	check_err(&pc, "record 1 at offset 24: 100 bytes captured, more than the file's snapshot "
	               "length 64");
	hf_pcap_close(&pc);

	file_hdr(&im, false, MAGIC_US, 65535, HF_PCAP_LINKTYPE_ETHERNET);
	record(&im, 1, 0, 100, 60, 0);
	save(&im, im.n);
	assert_int_equal(hf_pcap_open(&pc, path), 0);
	assert_int_equal(hf_pcap_next(&pc, &rec), -EIO);
	check_err(&pc, "100 bytes captured of a 60-byte frame");
	hf_pcap_close(&pc);

	/* Garbage lengths stop at libpcap's ceiling before any read (snaplen 0: unknown). */
	file_hdr(&im, false, MAGIC_US, 0, HF_PCAP_LINKTYPE_ETHERNET);
	put32(&im, 1);
	put32(&im, 0);
	put32(&im, 0xfffffff0u);
	put32(&im, 0xfffffff0u);
	save(&im, im.n);
	assert_int_equal(hf_pcap_open(&pc, path), 0);
	assert_int_equal(hf_pcap_next(&pc, &rec), -EIO);
	check_err(&pc, "more than the largest pcap record 262144");
	hf_pcap_close(&pc);
}

/* A good file cut at every length: records read are a prefix of the file's, then EOF or -EIO. */
static void
test_every_prefix(void **state)
{
	static const uint32_t lens[] = {60, 1, 200};
	size_t ends[3];
	struct hf_pcap_rec rec;
	struct hf_pcap pc;
	struct img im;

	(void)state;
	file_hdr(&im, true, MAGIC_NS, 65535, HF_PCAP_LINKTYPE_ETHERNET);
	for (unsigned int i = 0; i < 3; i++) {
		record(&im, 10 + i, i, lens[i], lens[i], (uint8_t)(9 * i));
		ends[i] = im.n;
	}
	for (size_t cut = 0; cut <= im.n; cut++) {
		unsigned int k = 0;
		int rc;

		save(&im, cut);
		rc = hf_pcap_open(&pc, path);
		if (cut < 24) {
			assert_true(rc < 0);
			assert_true(pc.err[0] != '\0');
			hf_pcap_close(&pc);
			continue;
		}
		assert_int_equal(rc, 0);
		while ((rc = hf_pcap_next(&pc, &rec)) == 1) {
			assert_true(k < 3);
			assert_int_equal(rec.caplen, lens[k]);
			check_data(&rec, (uint8_t)(9 * k));
			k++;
		}
		/* A clean end only where a record ends (or right after the header). */
		bool boundary = cut == 24;

		for (unsigned int i = 0; i < 3; i++)
			boundary = boundary || cut == ends[i];
		if (boundary) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -EIO);
			check_err(&pc, "the file is truncated");
		}
		hf_pcap_close(&pc);
	}
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hf-test-pcap.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/t.pcap", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_good_us_le),
	        cmocka_unit_test(test_good_us_be),
	        cmocka_unit_test(test_good_ns_le),
	        cmocka_unit_test(test_good_ns_be),
	        cmocka_unit_test(test_header_only),
	        cmocka_unit_test(test_truncated_record_header),
	        cmocka_unit_test(test_truncated_record_data),
	        cmocka_unit_test(test_truncated_file_header),
	        cmocka_unit_test(test_bad_magic),
	        cmocka_unit_test(test_wrong_linktype),
	        cmocka_unit_test(test_missing_file),
	        cmocka_unit_test(test_snaplen_cut_frame),
	        cmocka_unit_test(test_caplen_corrupt),
	        cmocka_unit_test(test_every_prefix),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
