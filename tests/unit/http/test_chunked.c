/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The chunked body decoder: tables of valid and invalid bodies, each fed
 * whole, cut in two at every point, and one byte at a time (with one data
 * slice per call, so the early stop is exercised too). Every way must give
 * the same verdict, the same payload and the same end: where the body ends
 * for a valid one, the offset of the first refused byte for an invalid one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_test.h"
#include "dataplane/http/chunked.h"

/* What follows every body: the decoder must stop before it. */
#define NEXT "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"

struct outcome {
	int rc;			/* 0: done; HF_AGAIN: not done at the input's end; an error */
	size_t end;		/* done: the body's length; error: where the refusing call began */
	size_t len;		/* payload bytes */
	char payload[65536];
};

static struct outcome got, want;

/*
 * Feeds @p text in the pieces ending at @p bounds[0] < bounds[1] < ... <
 * bounds[@p nb - 1], up to @p max_data slices a call, to a fresh decoder.
 * Each piece is offered until the decoder has taken all of it, or is done.
 * The payload of a refused body is left empty: how much of it came out
 * before the refusal depends on the cuts.
 */
static void
feed(const char *text, const size_t *bounds, size_t nb, unsigned int max_data, struct outcome *o)
{
	struct hf_h1_chunked c;
	struct hf_h1_slice d[8];
	size_t pos = 0;

	hf_h1_chunked_init(&c);
	o->len = 0;
	o->end = 0;
	o->rc = HF_AGAIN;
	for (size_t b = 0; b < nb; b++) {
		while (pos < bounds[b]) {
			unsigned int nd = 99;
			bool done = true;
			int rc = hf_h1_chunked_decode(&c, text + pos, bounds[b] - pos, d, max_data,
						      &nd, &done);

			if (rc < 0) {
				assert_int_equal(rc, HF_H1_E_BAD_CHUNK);
				assert_false(done);
				o->rc = rc;
				o->end = pos;
				o->len = 0;	/* what came before depends on the cuts */
				/* refused once, refused for good */
				assert_int_equal(hf_h1_chunked_decode(&c, "0\r\n\r\n", 5, d, 8, &nd,
								      &done),
						 HF_H1_E_BAD_CHUNK);
				return;
			}
			assert_true(nd <= max_data);
			for (unsigned int i = 0; i < nd; i++) {
				/* a slice of the input, inside what was offered */
				assert_true(d[i].p >= text + pos);
				assert_true(d[i].p + d[i].len <= text + bounds[b]);
				assert_true(o->len + d[i].len <= sizeof(o->payload));
				memcpy(o->payload + o->len, d[i].p, d[i].len);
				o->len += d[i].len;
			}
			pos += (size_t)rc;
			if (done) {
				o->rc = 0;
				o->end = pos;
				return;
			}
			if (rc == 0)
				fail_msg("no progress at %zu with %zu bytes offered", pos,
					 bounds[b] - pos);
		}
	}
}

static void
same(const char *how, size_t cut)
{
	if (got.rc != want.rc || got.end != want.end || got.len != want.len ||
	    memcmp(got.payload, want.payload, want.len) != 0)
		fail_msg("%s %zu: rc %d end %zu payload %zu; whole: rc %d end %zu payload %zu", how,
			 cut, got.rc, got.end, got.len, want.rc, want.end, want.len);
}

/*
 * Checks @p n bytes at @p text every way, cuts every @p stride bytes (and at
 * the last few); leaves the outcome of the whole in want. For a refused
 * body, want.end is the offset of the refused byte, found byte by byte; a
 * first piece shorter than that is taken without complaint, a longer one is
 * refused.
 */
static void
check(const char *text, size_t n, size_t stride)
{
	size_t *bytes = malloc((n + 1) * sizeof(*bytes));
	size_t whole[1] = {n};

	assert_non_null(bytes);
	for (size_t k = 0; k < n; k++)
		bytes[k] = k + 1;
	feed(text, bytes, n, 1, &want);		/* byte by byte first: it knows the offset */
	feed(text, whole, 1, 8, &got);
	if (got.rc == HF_H1_E_BAD_CHUNK)
		got.end = want.end;		/* the whole call cannot tell where */
	same("whole", n);
	feed(text, whole, 1, 1, &got);
	if (got.rc == HF_H1_E_BAD_CHUNK)
		got.end = want.end;
	same("whole, one slice a call", n);
	for (size_t cut = 1; cut < n; cut += (cut + 8 >= n ? 1 : stride)) {
		size_t two[2] = {cut, n};

		feed(text, two, 2, 8, &got);
		if (got.rc == HF_H1_E_BAD_CHUNK) {
			struct outcome *first = malloc(sizeof(*first));

			assert_non_null(first);
			feed(text, two, 1, 8, first);
			if ((first->rc == HF_H1_E_BAD_CHUNK) != (cut > want.end))
				fail_msg("first piece of %zu: rc %d, refused byte at %zu", cut,
					 first->rc, want.end);
			free(first);
			got.end = want.end;
		}
		same("cut at", cut);
	}
	free(bytes);
}

#define V(body, payload, what) {body, sizeof(body) - 1, payload, sizeof(payload) - 1, what}

static const struct {
	const char *body;
	size_t n;
	const char *payload;
	size_t payload_len;
	const char *what;
} valid[] = {
	V("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", "two chunks"),
	V("0\r\n\r\n", "", "the last chunk alone"),
	V("A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij",
	  "hex digits of both cases"),
	V("0005\r\nhello\r\n000\r\n\r\n", "hello", "leading zeros"),
	V("000000000000000a\r\n0123456789\r\n0000000000000000\r\n\r\n", "0123456789",
	  "16 digits, leading zeros included"),
	V("fffffff\r\n", "", "a size of 2^28 - 1, data still due"),
	V("4\r\n\r\n\n\0\r\n0\r\n\r\n", "\r\n\n\0", "CR, LF and NUL inside the data"),
	V("5;name\r\nhello\r\n5;a=b;c=\"q d\"\r\nworld\r\n0;last\r\n\r\n", "helloworld",
	  "extensions with and without values"),
	V("5 ;a = b\t; c\t=\t\"d\";e\r\nhello\r\n0\r\n\r\n", "hello",
	  "BWS before ';' and around '='"),
	V("5;a=\"x\\\"y\\\\\";b=\"\"\r\nhello\r\n0\r\n\r\n", "hello",
	  "quoted-pairs and an empty quoted-string"),
	V("5;a=\"caf\xc3\xa9\t\x80 x\"\r\nhello\r\n0\r\n\r\n", "hello",
	  "obs-text, HTAB and SP in a quoted-string"),
	V("5;!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~\r\nhello\r\n0\r\n\r\n", "hello",
	  "every tchar in a name and a token"),
	V("5\r\nhello\r\n0\r\nX-Trailer: t\r\nChecksum:abc \r\nEmpty:\r\n\r\n", "hello",
	  "trailers"),
	V("0\r\nX-T: a\tb caf\xc3\xa9\r\n\r\n", "", "HTAB, SP and obs-text in a trailer value"),
};

#define B(accepted, refused, what)                                                                 \
	{accepted refused, sizeof(accepted refused) - 1, sizeof(accepted) - 1, what}

static const struct {
	const char *body;
	size_t n;
	size_t at;		/* the first refused byte */
	const char *what;
} invalid[] = {
	/* sizes */
	B("", "x\r\nhi\r\n0\r\n\r\n", "not a hex digit"),
	B("", "\r\n", "an empty size line"),
	B("", "-5\r\nhello\r\n0\r\n\r\n", "negative"),
	B("", "+5\r\nhello\r\n0\r\n\r\n", "a sign"),
	B("", " 5\r\nhello\r\n0\r\n\r\n", "whitespace before the size"),
	B("1 ", "0\r\n0123456789abcdef\r\n0\r\n\r\n", "whitespace inside the size: \"1 0\""),
	B("0", "x10\r\n0123456789abcdef\r\n0\r\n\r\n", "\"0x10\""),
	B("fffffffffffffff", "fff\r\n", "overflow: ffffffffffffffffff"),
	B("100000000000000", "0\r\n", "2^60"),
	B("0000000000000000", "0\r\n\r\n", "17 zeros"),
	B("5", "\nhello\r\n0\r\n\r\n", "bare LF after the size"),
	B("5", "\nhello\n0\n\n", "LF-only line ends"),
	B("0", "\n\n", "\"0\\n\\n\""),
	B("0", "\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n", "\"0\\n\" hiding a request"),
	B("5\r", "hello\r\n0\r\n\r\n", "bare CR after the size"),
	B("5\r", "\r\nhello\r\n0\r\n\r\n", "CR CR LF after the size"),
	B("5 ", "\r\nhello\r\n0\r\n\r\n", "whitespace before CRLF"),
	/* extensions */
	B("5 ", "xyz\r\nhello\r\n0\r\n\r\n", "chunk-ext without ';'"),
	B("5", "xyz\r\nhello\r\n0\r\n\r\n", "bytes glued to the size"),
	B("5;", "\r\nhello\r\n0\r\n\r\n", "';' without a name"),
	B("5;", "=x\r\nhello\r\n0\r\n\r\n", "a value without a name"),
	B("5;a ", "\r\nhello\r\n0\r\n\r\n", "whitespace after a name before CRLF"),
	B("5;a=", "\r\nhello\r\n0\r\n\r\n", "'=' without a value"),
	B("5;a=b ", "c\r\nhello\r\n0\r\n\r\n", "two words in a value"),
	B("5;a=b ", "\r\nhello\r\n0\r\n\r\n", "whitespace after a value before CRLF"),
	B("5;a=\"b\"", "c\r\nhello\r\n0\r\n\r\n", "bytes glued to a quoted-string"),
	B("5;a=b", "\"c\"\r\nhello\r\n0\r\n\r\n", "a quote inside a token"),
	B("5;a", "(b)\r\nhello\r\n0\r\n\r\n", "a delimiter in a name"),
	B("5;a", "\0b\r\nhello\r\n0\r\n\r\n", "NUL in a chunk-ext name"),
	B("5;a=\"x", "\0\"\r\nhello\r\n0\r\n\r\n", "NUL in a quoted-string"),
	B("5;a=\"x", "\x7f\"\r\nhello\r\n0\r\n\r\n", "DEL in a quoted-string"),
	B("5;a=x", "\x01\r\nhello\r\n0\r\n\r\n", "a control byte in a token"),
	B("5;a=\"abc", "\r\nhello\r\n0\r\n\r\n", "an unterminated quoted-string"),
	B("5;a=\"abc", "\nhello\r\n0\r\n\r\n", "a bare LF in a quoted-string"),
	B("5;a=\"\\", "\r\"\r\nhello\r\n0\r\n\r\n", "a quoted-pair of CR"),
	B("5;a=\"\\", "\n\"\r\nhello\r\n0\r\n\r\n", "a quoted-pair of LF"),
	B("5;a=b", "\nhello\r\n0\r\n\r\n", "a bare LF ending an extension"),
	B("5;a=b\r", "hello\r\n0\r\n\r\n", "a bare CR ending an extension"),
	B("2;", "\nxx\r\n0\r\n\r\n", "a bare LF after ';' (funky chunks: TERM.EXT)"),
	/* data */
	B("5\r\nhello", "X\r\n0\r\n\r\n", "more data than the size"),
	B("5\r\nhell\r", "\n0\r\n\r\n", "less data than the size"),
	B("5\r\nhello", "\n0\r\n\r\n", "a bare LF after the data"),
	B("5\r\nhello\r", "0\r\n\r\n", "a bare CR after the data"),
	/* trailers */
	B("5\r\nhello\r\n0\r\n", "\n", "a bare LF ending the body"),
	B("5\r\nhello\r\n0\r\n\r", "\r\n", "CR CR LF ending the body"),
	B("0\r\nX: a\r\n", " b\r\n\r\n", "a trailer with obs-fold"),
	B("0\r\nX: a\r\n", "\tb\r\n\r\n", "a trailer with obs-fold by HTAB"),
	B("0\r\nX: a", "\n\r\n", "a trailer ending in a bare LF"),
	B("0\r\nX: a\r\n", "\n", "trailers ending in a bare LF"),
	B("0\r\nX: a\r", "b\r\n\r\n", "a bare CR in a trailer"),
	B("0\r\nX", " : a\r\n\r\n", "a trailer with space before the colon"),
	B("0\r\n", ": a\r\n\r\n", "a trailer without a name"),
	B("0\r\nX-Bad", "\r\n\r\n", "a trailer without a colon"),
	B("0\r\nGET", " /smuggled HTTP/1.1\r\nHost: a\r\n\r\n", "a request line as a trailer"),
	B("0\r\nX: a", "\0\r\n\r\n", "NUL in a trailer value"),
	B("0\r\nX: a", "\x01\r\n\r\n", "a control byte in a trailer value"),
	B("0\r\nX: a", "\x7f\r\n\r\n", "DEL in a trailer value"),
	B("0\r\nX", "(): a\r\n\r\n", "a delimiter in a trailer name"),
};

static void
test_valid(void **state)
{
	char buf[512];

	(void)state;
	for (size_t k = 0; k < sizeof(valid) / sizeof(valid[0]); k++) {
		bool open = strcmp(valid[k].what, "a size of 2^28 - 1, data still due") == 0;

		print_message("  %s\n", valid[k].what);
		assert_true(valid[k].n + sizeof(NEXT) <= sizeof(buf));
		memcpy(buf, valid[k].body, valid[k].n);
		memcpy(buf + valid[k].n, NEXT, sizeof(NEXT) - 1);
		check(buf, valid[k].n + sizeof(NEXT) - 1, 1);
		if (open) {
			/* the NEXT bytes are the chunk's data: still going */
			assert_int_equal(want.rc, HF_AGAIN);
			assert_int_equal(want.len, sizeof(NEXT) - 1);
			continue;
		}
		assert_int_equal(want.rc, 0);
		assert_int_equal(want.end, valid[k].n);	/* NEXT belongs to the next message */
		assert_int_equal(want.len, valid[k].payload_len);
		assert_memory_equal(want.payload, valid[k].payload, valid[k].payload_len);
	}
}

static void
test_invalid(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(invalid) / sizeof(invalid[0]); k++) {
		print_message("  %-48s refused at %zu\n", invalid[k].what, invalid[k].at);
		check(invalid[k].body, invalid[k].n, 1);
		assert_int_equal(want.rc, HF_H1_E_BAD_CHUNK);
		if (want.end != invalid[k].at)
			fail_msg("%s: refused at %zu, not %zu", invalid[k].what, want.end,
				 invalid[k].at);
	}
}

/* Appends @p s to @p buf at *@p n. */
static void
put(char *buf, size_t *n, const char *s)
{
	memcpy(buf + *n, s, strlen(s));
	*n += strlen(s);
}

/*
 * The bounds: a size line of HF_H1_CHUNK_LINE_MAX bytes passes and one more is
 * refused at its last byte; the same for the trailer section's bytes and
 * field count.
 */
static void
test_limits(void **state)
{
	static char buf[2 * HF_H1_TRAILER_MAX];
	size_t n, at;

	(void)state;
	/* "5;" a...a CRLF: HF_H1_CHUNK_LINE_MAX bytes */
	for (int extra = 0; extra <= 1; extra++) {
		n = 0;
		put(buf, &n, "5;");
		memset(buf + n, 'a', HF_H1_CHUNK_LINE_MAX - 4 + extra);
		n += HF_H1_CHUNK_LINE_MAX - 4 + extra;
		at = n + 1;
		put(buf, &n, "\r\nhello\r\n0\r\n\r\n");
		check(buf, n, 61);
		if (extra == 0) {
			assert_int_equal(want.rc, 0);
			assert_int_equal(want.end, n);
		} else {
			assert_int_equal(want.rc, HF_H1_E_BAD_CHUNK);
			assert_int_equal(want.end, at);	/* the LF is the byte too many */
		}
	}
	/* HF_H1_TRAILER_FIELDS fields pass, one more is refused at its first byte */
	for (int extra = 0; extra <= 1; extra++) {
		n = 0;
		put(buf, &n, "0\r\n");
		for (int i = 0; i < HF_H1_TRAILER_FIELDS + extra; i++) {
			at = n;
			n += (size_t)sprintf(buf + n, "X-%d: v\r\n", i);
		}
		put(buf, &n, "\r\n");
		check(buf, n, 13);
		if (extra == 0) {
			assert_int_equal(want.rc, 0);
			assert_int_equal(want.end, n);
		} else {
			assert_int_equal(want.rc, HF_H1_E_BAD_CHUNK);
			assert_int_equal(want.end, at);
		}
	}
	/* A trailer section of HF_H1_TRAILER_MAX bytes, its final CRLF included */
	for (int extra = 0; extra <= 1; extra++) {
		size_t fill = HF_H1_TRAILER_MAX - strlen("X: \r\n\r\n") + (size_t)extra;

		n = 0;
		put(buf, &n, "0\r\nX: ");
		memset(buf + n, 'v', fill);
		n += fill;
		put(buf, &n, "\r\n\r\n");
		check(buf, n, 257);
		if (extra == 0) {
			assert_int_equal(want.rc, 0);
			assert_int_equal(want.end, n);
		} else {
			assert_int_equal(want.rc, HF_H1_E_BAD_CHUNK);
			assert_int_equal(want.end, n - 1);	/* the final LF is one too many */
		}
	}
}

/* Data slices cover the chunk exactly, however the body is cut and however few slices a call. */
static void
test_long_chunks(void **state)
{
	static char buf[40000];
	size_t n = 0;

	(void)state;
	put(buf, &n, "3e8;x=1\r\n");
	for (int i = 0; i < 1000; i++)
		buf[n++] = (char)('a' + i % 26);
	put(buf, &n, "\r\n7530\r\n");
	for (int i = 0; i < 30000; i++)
		buf[n++] = (char)(i * 7);
	put(buf, &n, "\r\n0\r\n\r\n");
	check(buf, n, 7);
	assert_int_equal(want.rc, 0);
	assert_int_equal(want.end, n);
	assert_int_equal(want.len, 31000);
	assert_memory_equal(want.payload, buf + 9, 1000);
	assert_memory_equal(want.payload + 1000, buf + 9 + 1000 + 8, 30000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_long_chunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
