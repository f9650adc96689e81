/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_arp.h>
#include <rte_ip.h>
#include <rte_malloc.h>

#include "hf_test.h"
#include "control-agent/bootstrap.h"
#include "control-agent/istio/istio.h"
#include "dataplane/net/addr.h"

static struct rte_mempool *pool;

void
hf_test_eal(unsigned int n_ring_ports)
{
	static int done;
	char prefix[64], vdev[HF_TEST_MAX_PORTS][32];
	char *argv[32] = {"test", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
			  "--log-level=error", "-l", "0", prefix};
	int argc = 10;
	struct rte_eth_conf conf = {0};

	if (done)
		return;
	snprintf(prefix, sizeof(prefix), "--file-prefix=hftest-%d", (int)getpid());
	for (unsigned int i = 0; i < n_ring_ports && i < HF_TEST_MAX_PORTS; i++) {
		snprintf(vdev[i], sizeof(vdev[i]), "--vdev=net_ring%u", i);
		argv[argc++] = vdev[i];
	}
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "EAL init failed\n");
		_exit(1);
	}
	pool = rte_pktmbuf_pool_create("hf_test_pool", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (pool == NULL)
		_exit(1);
	for (uint16_t port = 0; port < n_ring_ports; port++) {
		if (rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
		    rte_eth_rx_queue_setup(port, 0, 1024, 0, NULL, pool) != 0 ||
		    rte_eth_tx_queue_setup(port, 0, 1024, 0, NULL) != 0 || rte_eth_dev_start(port) != 0) {
			fprintf(stderr, "cannot start loopback port %u\n", port);
			_exit(1);
		}
	}
	done = 1;
}

struct rte_mempool *
hf_test_pool(void)
{
	return pool;
}

uint32_t
hf_test_addr(const char *dotted)
{
	struct in_addr a;

	inet_pton(AF_INET, dotted, &a);
	return a.s_addr;
}

void
hf_test_port(struct hf_port *p, uint16_t index, uint16_t dev, const char *cidr, const char *gw)
{
	memset(p, 0, sizeof(*p));
	p->port_id = dev;
	p->index = index;
	p->mtu = 1500;
	hf_addr_parse_ipv4(cidr, &p->addr, &p->prefix_len);
	p->mask = htonl(~0u << (32 - p->prefix_len));
	p->gateway = gw != NULL ? hf_test_addr(gw) : 0;
	p->mac = (struct rte_ether_addr){{0x02, 0, 0, 0, 0, (uint8_t)(dev + 1)}};
	p->pool = pool;
	snprintf(p->name, sizeof(p->name), "t%u", dev);
}

struct hf_worker *
hf_test_worker(uint16_t id, const struct hf_port *ports, uint16_t n_ports)
{
	struct hf_worker *w = rte_zmalloc("test_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);

	assert_non_null(w);
	assert_int_equal(hf_worker_init(w, id, 1, ports, n_ports, rte_get_tsc_hz()), 0);
	w->id = 0;	/* queue 0 of its own loopback port */
	w->now = rte_rdtsc();
	return w;
}

void
hf_test_worker_free(struct hf_worker *w)
{
	hf_test_drain(w);
	hf_worker_fini(w);
	rte_free(w);
}

unsigned int
hf_test_sent(struct hf_worker *w, struct rte_mbuf **out, unsigned int max)
{
	unsigned int n = 0;
	uint16_t got;

	for (uint16_t i = 0; i < w->n_ports; i++)
		hf_tx_flush(w, &w->ports[i]);
	while (n < max && (got = rte_eth_rx_burst(w->ports[0].port_id, 0, out + n,
						  (uint16_t)RTE_MIN(max - n, 32u))) > 0)
		n += got;
	return n;
}

unsigned int
hf_test_drain(struct hf_worker *w)
{
	struct rte_mbuf *m[64];
	unsigned int n, total = 0;

	while ((n = hf_test_sent(w, m, 64)) > 0) {
		rte_pktmbuf_free_bulk(m, n);
		total += n;
	}
	return total;
}

struct rte_mbuf *
hf_test_mbuf(const void *data, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *p;

	assert_non_null(m);
	p = rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(p);
	memcpy(p, data, len);
	return m;
}

struct rte_mbuf *
hf_test_ipv4(const struct rte_ether_addr *dst_mac, uint8_t proto, const char *src, const char *dst,
	     const void *l4, size_t l4len)
{
	uint8_t buf[2048];
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)buf;
	struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_mbuf *m;

	memset(buf, 0, sizeof(struct rte_ether_hdr) + sizeof(*ih));
	eh->dst_addr = *dst_mac;
	eh->src_addr = (struct rte_ether_addr){{0x02, 0, 0, 0, 0, 0x99}};
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ih->version_ihl = RTE_IPV4_VHL_DEF;
	ih->total_length = htons((uint16_t)(sizeof(*ih) + l4len));
	ih->time_to_live = 64;
	ih->next_proto_id = proto;
	ih->src_addr = hf_test_addr(src);
	ih->dst_addr = hf_test_addr(dst);
	ih->hdr_checksum = rte_ipv4_cksum(ih);
	memcpy(ih + 1, l4, l4len);
	m = hf_test_mbuf(buf, sizeof(*eh) + sizeof(*ih) + l4len);
	m->l2_len = sizeof(*eh);
	m->l3_len = sizeof(*ih);
	return m;
}

struct rte_mbuf *
hf_test_arp(uint16_t op, const struct rte_ether_addr *eth_dst, const char *sip, const char *tip,
	    const struct rte_ether_addr *sha)
{
	uint8_t buf[64] = {0};
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)buf;
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);

	eh->dst_addr = *eth_dst;
	eh->src_addr = *sha;
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	ah->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = 6;
	ah->arp_plen = 4;
	ah->arp_opcode = htons(op);
	ah->arp_data.arp_sha = *sha;
	ah->arp_data.arp_sip = hf_test_addr(sip);
	ah->arp_data.arp_tip = hf_test_addr(tip);
	return hf_test_mbuf(buf, 60);
}

/* 0 loaded, 1 refused as it should be */
static unsigned int
one_variant(int (*load)(const char *, size_t), const char *yaml, size_t len, const char *err)
{
	int rc = load(yaml, len);

	if (rc == 0)
		return 0;
	assert_int_equal(rc, -EINVAL);
	assert_true(strlen(err) > 10);
	return 1;
}

unsigned int
hf_test_yaml_mangle(const char *text, size_t len, int (*load)(const char *, size_t),
		    const char *err)
{
	static const char *const swaps[] = {"", "[]", "{}", "~", "0", "-1", "\"*\"", "[[]]",
					    "{a: b}", "\"\\x00\"", "true", "99999999999999999999"};
	unsigned int refused = 0, tried = 0;
	char yaml[8192];

	for (size_t cut = 0; cut < len; cut++, tried++)
		refused += one_variant(load, text, cut, err);
	for (size_t at = 0; at < len; at++) {
		const char *p = text + at, *end;

		if (!(p[0] == ':' && p[1] == ' ') && p[0] != '[' && p[0] != '{')
			continue;
		p += p[0] == ':' ? 2 : 1;
		end = p + strcspn(p, p[-1] == '[' ? "]" : p[-1] == '{' ? "}" : "\n");
		for (unsigned int s = 0; s < sizeof(swaps) / sizeof(swaps[0]); s++, tried++) {
			int n = snprintf(yaml, sizeof(yaml), "%.*s%s%.*s", (int)(p - text), text,
					 swaps[s], (int)(text + len - end), end);

			assert_true(n > 0 && (size_t)n < sizeof(yaml));
			refused += one_variant(load, yaml, (size_t)n, err);
		}
	}
	print_message("robustness: %u variants loaded, %u refused with a message\n",
		      tried - refused, refused);
	return refused;
}

int
hf_test_istio_text(const char *dir, const char *file, const struct hf_istio_node *node,
		   const char *yaml, size_t len, struct hf_model *m, char *err, size_t err_len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(yaml, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	err[0] = '\0';
	return hf_istio_load_node(dir, node, m, err, err_len);
}
