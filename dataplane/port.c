/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dataplane/port.h"
#include "dataplane/worker-t.h"

#define NB_RXD 1024
#define NB_TXD 1024
#define POOL_CACHE 256

/*
 * A symmetric Toeplitz key (0x6d5a repeated): both directions of a flow
 * hash alike, so one worker sees the whole of a TCP connection.
 */
static uint8_t sym_rss_key[40] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

int
hf_port_eal_args(const struct hf_boot_port *bp, char **argv)
{
	static char buf[HF_MAX_PORTS][HF_BOOT_DEVICE + 8];
	static unsigned int used;
	char *s = buf[used++ % HF_MAX_PORTS];

	if (strncmp(bp->device, "net_", 4) == 0) {
		snprintf(s, HF_BOOT_DEVICE + 8, "--vdev=%s", bp->device);
		argv[0] = s;
		return 1;
	}
	argv[0] = (char *)"-a";
	argv[1] = (char *)bp->device;
	return 2;
}

/* The ethdev name of a device string: the part before the first comma. */
static void
dev_name(const char *device, char *name, size_t len)
{
	size_t n = strcspn(device, ",");

	if (n >= len)
		n = len - 1;
	memcpy(name, device, n);
	name[n] = '\0';
}

/*
 * Records the RSS redirection table as the device has it, so active opens can
 * choose local ports whose replies come back to their own worker. A device
 * that cannot report it is assumed to spread entries round-robin, the
 * ethdev default.
 */
static void
read_reta(struct hf_port *p, uint16_t pid, const struct rte_eth_dev_info *info, uint16_t n_queues)
{
	struct rte_eth_rss_reta_entry64 conf[512 / RTE_ETH_RETA_GROUP_SIZE];
	uint16_t size = info->reta_size;

	memcpy(p->rss_key, sym_rss_key, sizeof(p->rss_key));
	if (size == 0 || size > RTE_DIM(p->reta) || (size & (size - 1)) != 0)
		size = 128;
	memset(conf, 0, sizeof(conf));
	for (unsigned int i = 0; i < size / RTE_ETH_RETA_GROUP_SIZE; i++)
		conf[i].mask = UINT64_MAX;
	if (info->reta_size != 0 && rte_eth_dev_rss_reta_query(pid, conf, size) == 0) {
		for (uint16_t i = 0; i < size; i++)
			p->reta[i] = conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
	} else {
		for (uint16_t i = 0; i < size; i++)
			p->reta[i] = i % n_queues;
	}
	p->reta_size = size;
}

int
hf_port_open(struct hf_port *p, const struct hf_boot_port *bp, uint16_t index,
	     uint16_t n_queues, char *err, size_t errlen)
{
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	char name[RTE_ETH_NAME_MAX_LEN], pool_name[RTE_MEMPOOL_NAMESIZE];
	uint16_t nb_rxd = NB_RXD, nb_txd = NB_TXD, pid;
	unsigned int n_mbufs;
	int rc;

	memset(p, 0, sizeof(*p));
	dev_name(bp->device, name, sizeof(name));
	if (rte_eth_dev_get_port_by_name(name, &pid) != 0) {
		snprintf(err, errlen, "port %s: no DPDK device named '%s' (is the driver loaded?)",
			 bp->name, name);
		return -ENODEV;
	}
	p->port_id = pid;
	p->index = index;
	p->mtu = bp->mtu;
	p->prefix_len = bp->prefix_len;
	p->addr = bp->addr;
	p->mask = rte_cpu_to_be_32(~0u << (32 - bp->prefix_len));
	p->gateway = bp->gateway;
	snprintf(p->name, sizeof(p->name), "%s", bp->name);

	rc = rte_eth_dev_info_get(pid, &info);
	if (rc != 0)
		goto fail_dev;
	if (n_queues > info.max_rx_queues || n_queues > info.max_tx_queues) {
		snprintf(err, errlen, "port %s: %u workers need %u queue pairs, device has %u/%u",
			 bp->name, n_queues, n_queues, info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}
	conf.rxmode.mtu = bp->mtu;
	if (n_queues > 1 && info.flow_type_rss_offloads != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = sym_rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(sym_rss_key);
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
	}
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	/* Checksums in hardware where the port offers them, in software otherwise. */
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
		p->rx_l4_cksum = true;
	}
	if ((info.tx_offload_capa & (RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)) ==
	    (RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) &&
	    !bp->impair.enabled) {
		/* (An impaired port duplicates frames by copy, which keeps offload flags: fine,
		 * but keep the software path there so impairment tests check our checksums.) */
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		p->tx_l4_cksum = true;
	}
	rc = rte_eth_dev_configure(pid, n_queues, n_queues, &conf);
	if (rc != 0)
		goto fail_dev;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rxd, &nb_txd);
	if (rc != 0)
		goto fail_dev;

	/* Enough for full rings both ways, the per-lcore caches and the ARP hold queues. */
	n_mbufs = n_queues * (nb_rxd + nb_txd + 2 * HF_BURST + HF_ARP_PENDING_TOTAL) +
		  (n_queues + 1) * POOL_CACHE;
	/*
	 * TCP keeps received and sent payload in these mbufs (zero copy) until the
	 * application takes it or the peer acknowledges it, so thousands of
	 * connections hold far more than the rings: a pool that runs dry stops RX,
	 * and with it the ACKs that would refill it. 16 Ki mbufs (32 MiB) at least.
	 */
	n_mbufs = rte_align32pow2(RTE_MAX(n_mbufs, 16384u)) - 1;
	snprintf(pool_name, sizeof(pool_name), "hf_pool_%u", index);
	p->pool = rte_pktmbuf_pool_create(pool_name, n_mbufs, POOL_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, rte_eth_dev_socket_id(pid));
	if (p->pool == NULL) {
		snprintf(err, errlen, "port %s: cannot create a pool of %u mbufs: %s", bp->name,
			 n_mbufs, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (uint16_t q = 0; q < n_queues; q++) {
		rc = rte_eth_rx_queue_setup(pid, q, nb_rxd, rte_eth_dev_socket_id(pid), NULL, p->pool);
		if (rc != 0)
			goto fail_dev;
		rc = rte_eth_tx_queue_setup(pid, q, nb_txd, rte_eth_dev_socket_id(pid), NULL);
		if (rc != 0)
			goto fail_dev;
	}
	rc = rte_eth_dev_start(pid);
	if (rc != 0)
		goto fail_dev;
	if (conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS)
		read_reta(p, pid, &info, n_queues);
	rc = rte_eth_macaddr_get(pid, &p->mac);
	if (rc != 0)
		goto fail_dev;
	return 0;

fail_dev:
	snprintf(err, errlen, "port %s (%s): %s", bp->name, name, rte_strerror(-rc));
	rte_mempool_free(p->pool);
	p->pool = NULL;
	return rc;
}

void
hf_port_close(struct hf_port *p)
{
	rte_eth_dev_stop(p->port_id);
	rte_eth_dev_close(p->port_id);
	rte_mempool_free(p->pool);
	p->pool = NULL;
}

bool
hf_port_link_up(const struct hf_port *p)
{
	struct rte_eth_link link;

	return rte_eth_link_get_nowait(p->port_id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}
