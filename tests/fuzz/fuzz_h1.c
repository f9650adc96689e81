/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the HTTP/1.1 parser: any bytes, as a request, a
 * response and a chunked body, fed whole and cut in two at a point the input
 * chooses. The verdicts must agree and nothing may read out of bounds
 * (run under ASan).
 * fuzzes: dataplane/http/h1.c dataplane/http/chunked.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/http/h1.h"

static struct hf_h1_message msg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hf_h1_limits lim;
	struct hf_h1_scan scan;
	struct hf_h1_chunked c;
	struct hf_h1_slice d[8];
	unsigned int nd;
	bool done;
	char *buf;
	size_t cut;
	int whole, split;

	if (size < 1)
		return 0;
	cut = data[0] % size;
	buf = malloc(size - 1 ? size - 1 : 1);	/* exact size: ASan sees any overread */
	memcpy(buf, data + 1, size - 1);
	size--;
	hf_h1_limits_default(&lim);

	hf_h1_scan_reset(&scan);
	whole = hf_h1_parse_request(buf, size, &scan, &lim, &msg);
	hf_h1_scan_reset(&scan);
	split = hf_h1_parse_request(buf, cut, &scan, &lim, &msg);
	if (split == HF_AGAIN)
		split = hf_h1_parse_request(buf, size, &scan, &lim, &msg);
	if (split != whole)
		abort();
	hf_h1_scan_reset(&scan);
	hf_h1_parse_response(buf, size, &scan, &lim, &msg);

	hf_h1_chunked_init(&c);
	for (size_t pos = 0; pos < size;) {
		int rc = hf_h1_chunked_decode(&c, buf + pos, size - pos, d, 8, &nd, &done);

		if (rc <= 0 || done)
			break;
		for (unsigned int i = 0; i < nd; i++)
			if (d[i].p < buf || d[i].p + d[i].len > buf + size)
				abort();
		pos += (size_t)rc;
	}
	free(buf);
	return 0;
}
