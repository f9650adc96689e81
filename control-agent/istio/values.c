/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strings of the configuration that go onto the wire as they are written:
 * header names and values of header operations and CORS answers, rewritten
 * and redirect paths and authorities, redirect schemes. The data plane copies
 * them into requests and responses byte for byte, so a CR or LF in one would
 * start a field or a message of the configuration's making (RFC 9112 section
 * 11.1, response splitting). Each is checked here, at load, against the
 * grammar of the place it goes to, and refused with its file, line and field.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/istio/istio-int.h"

/* RFC 9110 section 5.6.2: tchar, the bytes of a token (field names, methods). */
static bool
tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 9110 section 5.5 field-vchar or SP/HTAB: VCHAR (0x21-0x7e), obs-text (0x80-0xff). */
static bool
field_byte(unsigned char c)
{
	return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
}

/* RFC 3986 section 2.3 unreserved, and section 2.2 sub-delims. */
static bool
unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static bool
sub_delim(unsigned char c)
{
	return c != '\0' && strchr("!$&'()*+,;=", c) != NULL;
}

static bool
hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

const char *
ist_shown(char *buf, size_t cap, const char *s)
{
	size_t o = 0;

	/* room for one escape and the "..." mark */
	for (; *s != '\0' && o + 8 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f || c == '\\' || c == '\'')
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	if (*s != '\0' && o + 3 < cap) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

int
ist_check_token(struct ist *st, const struct yn *at, const char *path, const char *what,
                const char *s)
{
	char shown[96];

	if (s[0] == '\0')
		return ist_fail(st, at, path, "an empty %s", what);
	for (const char *p = s; *p != '\0'; p++)
		if (!tchar((unsigned char)*p))
			return ist_fail(st, at, path,
			                "'%s' is not a valid %s: byte %zu is not a "
			                "token character (RFC 9110 5.6.2: letters, digits, "
			                "!#$%%&'*+-.^_`|~)",
			                ist_shown(shown, sizeof(shown), s), what, (size_t)(p - s));
	return 0;
}

int
ist_check_field_value(struct ist *st, const struct yn *at, const char *path, const char *s)
{
	char shown[96];

	for (const char *p = s; *p != '\0'; p++)
		if (!field_byte((unsigned char)*p))
			return ist_fail(st, at, path,
			                "'%s' is not a valid header value: byte %zu is "
			                "control byte 0x%02x (RFC 9110 5.5: CR, LF, NUL and other "
			                "control bytes are refused, HTAB is allowed)",
			                ist_shown(shown, sizeof(shown), s), (size_t)(p - s),
			                (unsigned char)*p);
	return 0;
}

/*
 * A path as a request target or a redirect's path carries it (RFC 9112
 * section 3.2.1 origin-form: absolute-path [ "?" query ]): visible ASCII
 * only, no space, no control byte, no raw non-ASCII byte (those are
 * percent-encoded), a '%' only before two hex digits. @p fragment admits a
 * '#' (a Location may carry one; a request target may not). @p rooted: must
 * start with '/' (a substitution's text need not).
 */
int
ist_check_path(struct ist *st, const struct yn *at, const char *path, const char *s, bool rooted,
               bool fragment)
{
	char shown[96];

	if (rooted && s[0] != '/')
		return ist_fail(st, at, path, "'%s' is not a path: it must start with '/'",
		                ist_shown(shown, sizeof(shown), s));
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		const char *why = NULL;

		if (c <= 0x20 || c >= 0x7f)
			why = c == ' '    ? "a space"
			      : c >= 0x80 ? "a non-ASCII byte (percent-encode "
			                    "it)"
			                  : "a control byte";
		else if (c == '#' && !fragment)
			why = "a '#' (a request target has no fragment)";
		else if (c == '%' && (!hex((unsigned char)p[1]) || !hex((unsigned char)p[2])))
			why = "a '%' not followed by two hex digits";
		if (why != NULL)
			return ist_fail(st, at, path, "'%s' is not a valid path: byte %zu is %s",
			                ist_shown(shown, sizeof(shown), s), (size_t)(p - s), why);
	}
	return 0;
}

/* RFC 3986 section 3.2.2 reg-name (IPv4 addresses are reg-names too): unreserved, %XX, sub-delims.
 */
static bool
reg_name(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%' && i + 2 < n && hex((unsigned char)s[i + 1]) &&
		    hex((unsigned char)s[i + 2])) {
			i += 2;
			continue;
		}
		if (!unreserved(c) && !sub_delim(c))
			return false;
	}
	return true;
}

int
ist_check_authority(struct ist *st, const struct yn *at, const char *path, const char *s,
                    bool *has_port)
{
	const char *host = s, *end = s + strlen(s), *colon = NULL;
	size_t hlen;
	char shown[96];

	*has_port = false;
	if (s[0] == '[') {
		/* RFC 3986 section 3.2.2 IP-literal: only IPv6 (IPvFuture is refused) */
		const char *close = strchr(s, ']');
		char v6[64];
		struct in6_addr a;

		if (close == NULL || (size_t)(close - s - 1) >= sizeof(v6))
			goto bad;
		snprintf(v6, sizeof(v6), "%.*s", (int)(close - s - 1), s + 1);
		if (inet_pton(AF_INET6, v6, &a) != 1)
			goto bad;
		if (close[1] != '\0' && close[1] != ':')
			goto bad;
		colon = close[1] == ':' ? close + 1 : NULL;
		hlen = (size_t)(close - s + 1);
	} else {
		colon = strchr(s, ':');
		hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
		if (!reg_name(host, hlen))
			goto bad;
	}
	if (colon != NULL) {
		unsigned long port = 0;

		if (colon + 1 == end || end - colon - 1 > 5)
			goto bad;
		for (const char *p = colon + 1; p < end; p++) {
			if (*p < '0' || *p > '9')
				goto bad;
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (port < 1 || port > 65535)
			goto bad;
		*has_port = true;
	}
	return 0;
bad:
	return ist_fail(st, at, path,
	                "'%s' is not a valid authority: host[:port] with a host "
	                "name, an IPv4 address or a bracketed IPv6 address (RFC 3986 3.2.2) and a "
	                "port 1..65535",
	                ist_shown(shown, sizeof(shown), s));
}
