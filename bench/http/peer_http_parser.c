/* SPDX-License-Identifier: Apache-2.0 */
/* http-parser behind one function (its header clashes with llhttp's). */
#include <http_parser.h>

static int
count(http_parser *p, const char *at, size_t len)
{
	(void)at;
	(void)len;
	(*(int *)p->data)++;
	return 0;
}

static int
head_done(http_parser *p)
{
	(void)p;
	return 1;	/* no body: the others parse heads only */
}

/* Parses one request head; returns the number of header fields, -1 on error. */
int
bench_http_parser_parse(const char *buf, size_t len)
{
	static http_parser_settings s;
	static int ready;
	http_parser p;
	int fields = 0;

	if (!ready) {
		http_parser_settings_init(&s);
		s.on_header_field = count;
		s.on_headers_complete = head_done;
		ready = 1;
	}
	http_parser_init(&p, HTTP_REQUEST);
	p.data = &fields;
	http_parser_execute(&p, &s, buf, len);
	return HTTP_PARSER_ERRNO(&p) == HPE_OK ? fields : -1;
}
