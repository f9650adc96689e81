/* SPDX-License-Identifier: Apache-2.0 */
/* Small files read whole by the agent (file.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/file.h"

int
hf_file_read(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (f == NULL)
		return -errno;
	buf = malloc(HF_FILE_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, HF_FILE_MAX + 1, f);
	if (ferror(f) || n > HF_FILE_MAX) {
		int e = ferror(f) ? EIO : EFBIG;

		fclose(f);
		explicit_bzero(buf, n);
		free(buf);
		return -e;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}
