/* SPDX-License-Identifier: Apache-2.0 */
/* IPv4 addresses, prefixes and endpoints in text, for everyone who reads them. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/net/addr.h"

int
hf_addr_parse_ipv4(const char *s, uint32_t *addr, uint8_t *prefix_len)
{
	char buf[INET_ADDRSTRLEN + 4];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	char *end;
	long len;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	if (prefix_len != NULL) {
		if (slash == NULL)
			return -EINVAL;
		buf[slash - s] = '\0';
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || end == slash + 1 || len < 1 || len > 32)
			return -EINVAL;
		*prefix_len = (uint8_t)len;
	} else if (slash != NULL) {
		return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*addr = a.s_addr;
	return 0;
}

int
hf_addr_parse_endpoint(const char *s, uint32_t *addr, uint16_t *port)
{
	char buf[INET_ADDRSTRLEN + 8];
	const char *colon = strrchr(s, ':');
	char *end;
	long p;

	if (colon == NULL || strlen(s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(colon - s));
	buf[colon - s] = '\0';
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == colon + 1 || p < 1 || p > 65535)
		return -EINVAL;
	if (hf_addr_parse_ipv4(buf, addr, NULL) != 0)
		return -EINVAL;
	*port = htons((uint16_t)p);
	return 0;
}
