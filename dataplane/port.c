/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "dataplane/port.h"
#include "dataplane/worker-t.h"

#define POOL_CACHE 256
/*
 * The I/O gate's timings. Held open, the gate waits in poll() on the
 * interrupt thread's epoll set for a driver's event; GATE_IDLE_MS bounds that
 * wait (the stop flag is also looked at then, though gate_stop() makes an
 * event of its own). Each timeout is a wake-up on the interrupt thread's CPU,
 * 30 to 100 us of CPU on this machine, taken from a poller there (issue 16):
 * hence a long bound. Where that set cannot be found,
 * the gate falls back to closing every GATE_HOLD_US, which costs each worker a
 * loop or two without gated I/O per round. The closer spins GATE_SPINS times
 * on a worker's slot, then naps GATE_NAP_US between looks.
 */
#define GATE_IDLE_MS 1000
#define GATE_HOLD_US 10000
#define GATE_SPINS 4096
#define GATE_NAP_US 20

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

/*
 * The I/O gate. net_memif frees and maps its rings on the EAL interrupt
 * thread (memif_disconnect() and memif_connect(), from its control channel
 * callback) with no handshake with the data path: a worker in an RX or TX
 * burst at that moment reads unmapped memory. The driver raises no LSC event
 * (it never calls rte_eth_dev_callback_process()), and even a flag it cleared
 * would not help: the burst that read it before it was cleared is still in
 * flight when the rings go, microseconds later on the same thread.
 *
 * So the gate keeps the interrupt thread itself away from the drivers while a
 * worker may be in a burst. Its callback is registered on an eventfd, and the
 * interrupt thread spends its time inside it: it publishes the links, opens
 * the gate and blocks in poll() on the thread's own epoll set (found through
 * /proc/self/fdinfo: the one watching the eventfd) until some other source
 * there has an event, a driver's control message say. Then it closes the
 * gate, waits for every online worker to pass (hf_port_gate_pass()), makes
 * the eventfd readable so the next round calls it again, and returns: that
 * round's callbacks run with no worker on a gated port. Outside the callback
 * the gate is always closed; a round in which another source is still ready
 * when the callback comes is left to its callbacks with the gate shut. In
 * steady state nothing closes it: the workers pay three memory accesses a loop.
 *
 * Barriers: the release store of open pairs with the worker's acquire load
 * in hf_port_gate_pass() (it sees the io_up values published before); the
 * seq_cst epoch increment after open = 0 pairs with the worker's acquire load
 * of epoch (a worker that acknowledges the new epoch sees the gate closed);
 * the worker's release store of its slot pairs with the acquire load below
 * (its bursts are over before the callback returns); the seq_cst increment
 * and the fence in hf_port_gate_online() order a worker coming online
 * against a closing that may not have seen it (Dekker: one of the two sees
 * the other).
 */
struct hf_port_gate hf_port_gate = {.epoch = 1};
static struct rte_intr_handle *gate_ih;
static struct hf_port *gate_ports[HF_MAX_PORTS];
static unsigned int gate_n_ports;	/* main lcore writes (release), the gate reads (acquire) */
static int gate_fd = -1;		/* the eventfd the callback is registered on */
static int gate_epfd = -1;		/* the interrupt thread's epoll set; -1: not known */

/* Whether fd @p epfd is an epoll set watching fd @p fd (its fdinfo lists "tfd: <fd>"). */
static bool
epoll_watches(int epfd, int fd)
{
	char path[64], link[64], line[256];
	bool found = false;
	ssize_t n;
	FILE *f;
	int tfd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", epfd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	if (strcmp(link, "anon_inode:[eventpoll]") != 0)
		return false;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
	f = fopen(path, "re");
	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = sscanf(line, "tfd: %d", &tfd) == 1 && tfd == fd;
	fclose(f);
	return found;
}

/*
 * The epoll set of the interrupt thread: the one that watches the gate's
 * eventfd (nothing else does). The thread builds a new one each time a source
 * comes or goes, hence a look before each opening. -1 when none is found.
 */
static int
find_epoll(int fd)
{
	struct dirent *e;
	int found = -1;
	DIR *d;

	if (gate_epfd >= 0 && epoll_watches(gate_epfd, fd))
		return gate_epfd;
	d = opendir("/proc/self/fd");
	if (d == NULL)
		return -1;
	while (found < 0 && (e = readdir(d)) != NULL) {
		int n = atoi(e->d_name);

		if (e->d_name[0] != '.' && n != fd && epoll_watches(n, fd))
			found = n;
	}
	closedir(d);
	return found;
}

/* Whether epoll set @p epfd has an event within @p timeout_ms; errors count as events. */
static bool
epoll_ready(int epfd, int timeout_ms)
{
	struct pollfd pfd = {.fd = epfd, .events = POLLIN};

	return poll(&pfd, 1, timeout_ms) != 0;
}

/* Makes the eventfd readable (@p arm) or drains it. */
static void
gate_arm(int fd, bool arm)
{
	uint64_t v = 1;
	ssize_t r = arm ? write(fd, &v, sizeof(v)) : read(fd, &v, sizeof(v));

	RTE_SET_USED(r);
}

/* Closes the gate and returns once no online worker can be in a burst on a gated port. */
static void
gate_close(struct hf_port_gate *g)
{
	uint64_t epoch;

	__atomic_store_n(&g->open, 0, __ATOMIC_RELAXED);
	/* Pairs with the acquire load of epoch in hf_port_gate_pass() and the fence of online. */
	epoch = __atomic_add_fetch(&g->epoch, 1, __ATOMIC_SEQ_CST);
	for (unsigned int w = 0; w < HF_PORT_GATE_SLOTS; w++) {
		unsigned int spins = 0;
		uint64_t seen;

		/* Pairs with the release store of the slot in hf_port_gate_pass(). */
		while ((seen = __atomic_load_n(&g->slot[w].seen, __ATOMIC_ACQUIRE)) != 0 &&
		       seen < epoch) {
			if (++spins < GATE_SPINS)
				rte_pause();
			else
				rte_delay_us_sleep(GATE_NAP_US);
		}
	}
}

/* The gate's interrupt callback; the gate is closed whenever it is not running. */
static void
gate_cycle(void *arg __rte_unused)
{
	struct hf_port_gate *g = &hf_port_gate;
	int fd = gate_fd;
	/* Pairs with the release store in gate_add(): the entries below it are written. */
	unsigned int n_ports = __atomic_load_n(&gate_n_ports, __ATOMIC_ACQUIRE);
	struct rte_eth_link link;

	gate_arm(fd, false);
	/* Pairs with the release store in gate_stop(); drained, the eventfd lets EAL sleep. */
	if (__atomic_load_n(&g->stopping, __ATOMIC_ACQUIRE))
		return;
	gate_epfd = find_epoll(fd);
	/* Another source of this round still to be served: its callback runs first, gate shut. */
	if (gate_epfd >= 0 && epoll_ready(gate_epfd, 0)) {
		gate_arm(fd, true);
		return;
	}
	/* The drivers' callbacks of the last round may have moved a link: no worker is on it. */
	for (unsigned int i = 0; i < n_ports; i++) {
		struct hf_port *p = gate_ports[i];
		uint8_t up = rte_eth_link_get_nowait(p->port_id, &link) == 0 &&
			     link.link_status == RTE_ETH_LINK_UP;

		__atomic_store_n(&p->io_up, up, __ATOMIC_RELAXED);
	}
	/* Pairs with the acquire load in hf_port_gate_pass(): io_up above is visible. */
	__atomic_store_n(&g->open, 1, __ATOMIC_RELEASE);
	if (gate_epfd < 0)
		rte_delay_us_sleep(GATE_HOLD_US);
	else
		while (!epoll_ready(gate_epfd, GATE_IDLE_MS) &&
		       !__atomic_load_n(&g->stopping, __ATOMIC_ACQUIRE))
			;
	gate_close(g);
	/* Readable, the eventfd has the next round call the callback again; drained, it stops. */
	gate_arm(fd, !__atomic_load_n(&g->stopping, __ATOMIC_ACQUIRE));
}

void
hf_port_gate_online(uint16_t id)
{
	struct hf_port_gate *g = &hf_port_gate;

	__atomic_store_n(&g->slot[id].seen, __atomic_load_n(&g->epoch, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELAXED);
	/*
	 * Pairs with the seq_cst increment in gate_cycle(): either that closing
	 * sees this slot and waits for the next pass, or the pass that follows
	 * sees the gate closed.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void
hf_port_gate_offline(uint16_t id)
{
	/* Pairs with the acquire load in gate_cycle(): the last bursts are over. */
	__atomic_store_n(&hf_port_gate.slot[id].seen, 0, __ATOMIC_RELEASE);
}

/* Puts @p p behind the gate, starting the gate with its first port. Main lcore, before launch. */
static int
gate_add(struct hf_port *p)
{
	int rc = -ENOMEM;

	if (gate_n_ports == RTE_DIM(gate_ports))
		return -ENOSPC;
	gate_ports[gate_n_ports] = p;
	/* Pairs with the acquire load in gate_cycle(), which may be running already. */
	__atomic_store_n(&gate_n_ports, gate_n_ports + 1, __ATOMIC_RELEASE);
	if (gate_ih != NULL)
		return 0;
	hf_port_gate.stopping = false;
	/* Readable from the start: the interrupt thread calls the gate at its next round. */
	gate_fd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
	if (gate_fd < 0) {
		rc = -errno;
		goto fail;
	}
	gate_ih = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
	if (gate_ih == NULL)
		goto fail;
	if (rte_intr_fd_set(gate_ih, gate_fd) != 0 ||
	    rte_intr_type_set(gate_ih, RTE_INTR_HANDLE_EXT) != 0) {
		rc = -rte_errno;
		goto fail;
	}
	rc = rte_intr_callback_register(gate_ih, gate_cycle, NULL);
	if (rc != 0)
		goto fail;
	return 0;

fail:
	rte_intr_instance_free(gate_ih);
	gate_ih = NULL;
	if (gate_fd >= 0)
		close(gate_fd);
	gate_fd = -1;
	gate_n_ports = 0;
	return rc;
}

/* Stops the gate (idempotent): the interrupt thread goes back to serving the drivers alone. */
static void
gate_stop(void)
{
	if (gate_ih == NULL)
		return;
	/* Pairs with the acquire loads in gate_cycle(). */
	__atomic_store_n(&hf_port_gate.stopping, true, __ATOMIC_RELEASE);
	/* An event in the epoll set the callback waits on: it wakes, sees the flag, lets go. */
	gate_arm(gate_fd, true);
	/* Waits out the callback in progress (the workers are offline: it closes at once). */
	rte_intr_callback_unregister_sync(gate_ih, gate_cycle, NULL);
	rte_intr_instance_free(gate_ih);
	gate_ih = NULL;
	close(gate_fd);
	gate_fd = -1;
	gate_n_ports = 0;
	gate_epfd = -1;
}

int
hf_port_eal_args(const struct hf_port_config *bp, char **argv)
{
	static char buf[HF_MAX_PORTS][HF_PORT_DEVICE_MAX + 8];
	static unsigned int used;
	char *s = buf[used++ % HF_MAX_PORTS];

	if (strncmp(bp->device, "net_", 4) == 0) {
		snprintf(s, HF_PORT_DEVICE_MAX + 8, "--vdev=%s", bp->device);
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
 * Decides who steers flows to workers, and records how. A device steers them
 * itself when it was configured for RSS and reports both its redirection
 * table and our symmetric key back: the table is recorded as it is. Any other
 * multi-queue device (net_tap, whose queue the kernel picks with a hash of
 * its own behind a boot-time secret, none of our key; net_memif, which has no
 * RSS) leaves it to software: the worker that receives a frame hands it to
 * the owner of its flow (worker.c) by this same key and an even table. Either
 * way active opens choose local ports by it (hf_tcp_connect()).
 */
static void
set_steering(struct hf_port *p, uint16_t pid, const struct rte_eth_dev_info *info,
	     uint16_t n_queues, bool rss)
{
	struct rte_eth_rss_reta_entry64 conf[512 / RTE_ETH_RETA_GROUP_SIZE];
	uint8_t key[sizeof(sym_rss_key)];
	struct rte_eth_rss_conf rss_conf = {.rss_key = key, .rss_key_len = sizeof(key)};
	uint16_t size = info->reta_size;

	memcpy(p->rss_key, sym_rss_key, sizeof(p->rss_key));
	if (rss && size != 0 && size <= RTE_DIM(p->reta) && (size & (size - 1)) == 0 &&
	    rte_eth_dev_rss_hash_conf_get(pid, &rss_conf) == 0 &&
	    rss_conf.rss_key_len == sizeof(key) && memcmp(key, sym_rss_key, sizeof(key)) == 0 &&
	    (rss_conf.rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_TCP) != 0) {
		memset(conf, 0, sizeof(conf));
		for (uint16_t i = 0; i < size; i++)
			conf[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
		if (rte_eth_dev_rss_reta_query(pid, conf, size) == 0) {
			for (uint16_t i = 0; i < size; i++)
				p->reta[i] = conf[i / RTE_ETH_RETA_GROUP_SIZE]
						     .reta[i % RTE_ETH_RETA_GROUP_SIZE];
			p->reta_size = size;
			return;
		}
	}
	p->sw_steer = true;
	p->reta_size = 128;
	for (uint16_t i = 0; i < p->reta_size; i++)
		p->reta[i] = i % n_queues;
}

int
hf_port_open(struct hf_port *p, const struct hf_port_config *bp, uint16_t index,
	     uint16_t n_queues, char *err, size_t errlen)
{
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	char name[RTE_ETH_NAME_MAX_LEN], pool_name[RTE_MEMPOOL_NAMESIZE];
	/* 0: a port not from the bootstrap (hf-loadgen's --port) takes the default. */
	uint16_t nb_rxd = bp->rx_descriptors != 0 ? bp->rx_descriptors : HF_PORT_DESCRIPTORS;
	uint16_t nb_txd = bp->tx_descriptors != 0 ? bp->tx_descriptors : HF_PORT_DESCRIPTORS, pid;
	unsigned int n_mbufs;
	int rc;

	memset(p, 0, sizeof(*p));
	dev_name(bp->device, name, sizeof(name));
	p->gated = strncmp(name, "net_memif", strlen("net_memif")) == 0;
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
	p->nb_rxd = nb_rxd;

	/*
	 * Enough for full rings both ways, the per-lcore caches, the ARP hold
	 * queues and, with several workers, the rings that steer frames to them.
	 */
	n_mbufs = n_queues * (nb_rxd + nb_txd + 2 * HF_BURST + HF_ARP_PENDING_TOTAL) +
		  (n_queues + 1) * POOL_CACHE + (n_queues > 1 ? n_queues * HF_STEER_RING_SIZE : 0);
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
	if (n_queues > 1)
		set_steering(p, pid, &info, n_queues, conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS);
	rc = rte_eth_macaddr_get(pid, &p->mac);
	if (rc != 0)
		goto fail_dev;
	if (p->gated && (rc = gate_add(p)) != 0)
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
	if (p->gated)
		gate_stop();
	rte_eth_dev_stop(p->port_id);
	rte_eth_dev_close(p->port_id);
	rte_mempool_free(p->pool);
	p->pool = NULL;
}

bool
hf_port_link_up(const struct hf_port *p)
{
	struct rte_eth_link link;

	if (p->gated)
		return __atomic_load_n(&p->io_up, __ATOMIC_RELAXED) != 0;
	return rte_eth_link_get_nowait(p->port_id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}
