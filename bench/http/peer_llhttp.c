/* SPDX-License-Identifier: Apache-2.0 */
/* llhttp behind one function (its header clashes with http-parser's). */
#include <llhttp.h>

static int
count(llhttp_t *p, const char *at, size_t len)
{
	(void)at;
	(void)len;
	(*(int *)p->data)++;
	return 0;
}

/* Parses one request head; returns the number of header fields, -1 on error. */
int
bench_llhttp_parse(const char *buf, size_t len)
{
	static llhttp_settings_t s;
	static int ready;
	llhttp_t p;
	int fields = 0;

	if (!ready) {
		llhttp_settings_init(&s);
		s.on_header_field = count;
		ready = 1;
	}
	llhttp_init(&p, HTTP_REQUEST, &s);
	p.data = &fields;
	return llhttp_execute(&p, buf, len) == HPE_OK ? fields : -1;
}
