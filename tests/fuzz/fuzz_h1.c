/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the HTTP/1.1 head parser: any bytes, as a request and
 * a response, fed whole and cut in two at a point the input chooses. The
 * verdicts must agree and nothing may read out of bounds (run under ASan).
 * Chunked bodies are fuzz_chunked.c's.
 * fuzzes: dataplane/http/h1.c
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
	free(buf);
	return 0;
}
