/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SNI: the host name of a ClientHello's server_name extension (RFC 6066 3),
 * read by our own bounded parser, and the server it selects.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tls/tls.h"

/*
 * Bytes a host name may hold: letters, digits, '-', '.', and '_' (seen in
 * the wild in service names). Anything else (NUL, '/', '*', spaces, bytes
 * over 0x7f) is no DNS name (RFC 1035 2.3.1, RFC 6066 3: "HostName" is an
 * ASCII DNS name without a trailing dot).
 */
static const uint8_t host_char[256] = {
	['-'] = 1, ['.'] = 1, ['_'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
	['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
	['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
	['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
	['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
	['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
	['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
	['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
};

int
hf_tls_sni_parse(const uint8_t *p, size_t len, const char **name, size_t *name_len)
{
	size_t list, i = 2;

	/* struct { NameType name_type; opaque HostName<1..2^16-1>; } ServerName; list<1..2^16-1> */
	if (len < 2)
		return -EINVAL;
	list = (size_t)p[0] << 8 | p[1];
	if (list != len - 2 || list == 0)
		return -EINVAL;
	while (i + 3 <= len) {
		uint8_t type = p[i];
		size_t n = (size_t)p[i + 1] << 8 | p[i + 2];

		i += 3;
		if (n > len - i)
			return -EINVAL;
		/* "MUST NOT contain more than one name of the same name_type": the first host_name wins. */
		if (type == 0) {
			if (n == 0 || n > HF_TLS_NAME_MAX)
				return -EINVAL;
			for (size_t k = 0; k < n; k++)
				if (!host_char[p[i + k]])
					return -EINVAL;
			*name = (const char *)p + i;
			*name_len = n;
			return 0;
		}
		i += n;
	}
	return -EINVAL;
}

/* Case-insensitive compare of @p a (any case) with @p b (lower case), @p n bytes. */
static bool
same(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)b[i])
			return false;
	}
	return true;
}

int
hf_tls_sni_select(const struct hf_tls_sni_entry *e, unsigned int n, const char *name, size_t len)
{
	int best = -1, any = -1;
	size_t best_len = 0;

	if (len == 0)
		return 0;
	for (unsigned int i = 0; i < n; i++) {
		switch (e[i].kind) {
		case 0:
			if (e[i].len == len && same(name, e[i].name, len))
				return e[i].server;
			break;
		case 1:
			/* ".example.com" covers "a.example.com", "a.b.example.com", not "example.com" */
			if (len > e[i].len && e[i].len > best_len &&
			    same(name + len - e[i].len, e[i].name, e[i].len)) {
				best = e[i].server;
				best_len = e[i].len;
			}
			break;
		default:
			if (any < 0)
				any = e[i].server;
			break;
		}
	}
	return best >= 0 ? best : any;
}

/* ---- peeking at a ClientHello that is passed through (tls.mode PASSTHROUGH) ---- */

static size_t
be16(const uint8_t *p)
{
	return (size_t)p[0] << 8 | p[1];
}

/*
 * The server_name of ClientHello body @p b (@p n bytes: the handshake message
 * without its 4-byte header), RFC 8446 4.1.2 (RFC 5246 7.4.1.2 for TLS 1.2,
 * whose extensions may be absent). 0 with *@p name_len 0 when there is none.
 */
static int
hello_sni(const uint8_t *b, size_t n, const char **name, size_t *name_len)
{
	size_t i = 2 + 32, k;

	/* legacy_version, random, legacy_session_id<0..32> */
	if (n < i + 1 || b[0] != 3 || b[i] > 32)
		return -EINVAL;
	i += 1 + b[i];
	/* cipher_suites<2..2^16-2>: pairs */
	if (n < i + 2 || (k = be16(b + i)) < 2 || (k & 1) || n - i - 2 < k)
		return -EINVAL;
	i += 2 + k;
	/* legacy_compression_methods<1..2^8-1> */
	if (n < i + 1 || b[i] == 0 || n - i - 1 < b[i])
		return -EINVAL;
	i += 1 + b[i];
	*name_len = 0;
	if (i == n)
		return 0;		/* no extensions (TLS 1.2 allows it): no SNI */
	/* extensions<8..2^16-1> fill the rest of the message exactly */
	if (n - i < 2 || be16(b + i) != n - i - 2)
		return -EINVAL;
	i += 2;
	while (i < n) {
		size_t type, len;

		if (n - i < 4)
			return -EINVAL;
		type = be16(b + i);
		len = be16(b + i + 2);
		i += 4;
		if (len > n - i)
			return -EINVAL;
		/* RFC 8446 4.2: one extension of a type at most; the first server_name is read */
		if (type == 0)
			return hf_tls_sni_parse(b + i, len, name, name_len) < 0 ? -EINVAL : 0;
		i += len;
	}
	return 0;
}

int
hf_tls_hello_peek(const uint8_t *p, size_t len, uint8_t *scratch, const char **name,
		  size_t *name_len, size_t *need)
{
	size_t off = 0, have = 0;

	for (;;) {
		size_t rlen, mlen;

		/*
		 * TLSPlaintext header (RFC 8446 5.1): handshake(22), legacy version 3.x,
		 * length. The caps are checked on positions, not on what arrived, so
		 * the verdict does not depend on how the bytes came.
		 */
		if (off + 5 > HF_TLS_PEEK_MAX)
			return -E2BIG;
		if (len - off < 5) {
			*need = off + 5;
			return HF_TLS_PEEK_AGAIN;
		}
		rlen = be16(p + off + 3);
		/* "Handshake messages MUST NOT be interleaved with other record types"; not empty */
		if (p[off] != 22 || p[off + 1] != 3 || rlen == 0 || rlen > 16384)
			return -EINVAL;
		if (off + 5 + rlen > HF_TLS_PEEK_MAX)
			return -E2BIG;
		if (len - off - 5 < rlen) {
			*need = off + 5 + rlen;
			return HF_TLS_PEEK_AGAIN;
		}
		if (off == 0 && rlen >= 4) {
			/* The usual case: the whole message in the first record, read in place. */
			mlen = (size_t)p[6] << 16 | be16(p + 7);
			if (p[5] != 1)
				return -EINVAL;
			if (4 + mlen <= rlen)
				return hello_sni(p + 9, mlen, name, name_len);
		}
		/* A message fragmented over records (RFC 8446 5.1 allows it): joined in scratch. */
		if (have + rlen > HF_TLS_HELLO_MAX)
			return -E2BIG;
		memcpy(scratch + have, p + off + 5, rlen);
		have += rlen;
		off += 5 + rlen;
		if (have < 4)
			continue;
		if (scratch[0] != 1)
			return -EINVAL;
		mlen = (size_t)scratch[1] << 16 | be16(scratch + 2);
		if (4 + mlen > HF_TLS_HELLO_MAX)
			return -E2BIG;
		if (have >= 4 + mlen)
			return hello_sni(scratch + 4, mlen, name, name_len);
	}
}
