/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hydrofoil: reads the bootstrap, starts DPDK, opens the ports, launches one
 * worker per worker lcore and runs the control agent on the main lcore until
 * SIGINT/SIGTERM. Exit status: 0 after a clean stop, 1 when start-up fails at
 * run time, 2 for a bad command line or bootstrap file.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pdump.h>
#include <rte_rcu_qsbr.h>

#include "control-agent/agent.h"
#include "control-agent/bootstrap.h"
#include "control-agent/config.h"
#include "dataplane/eal_files.h"
#include "dataplane/metrics.h"
#include "dataplane/port.h"
#include "dataplane/proxy/http.h"
#include "dataplane/proxy/l4.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/telemetry.h"
#include "dataplane/worker.h"

#define EXIT_USAGE 2
#define MAX_EAL_ARGS (HF_BOOT_MAX_ARGS + 2 * HF_MAX_PORTS + 64)

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: hydrofoil -c FILE [--check] [-- EAL options...]\n"
		"  -c, --config FILE  bootstrap file (libconfig); see README.md\n"
		"      --check        validate FILE, print the verdict and exit (0 valid, 2 not)\n"
		"  -v, --version      print the version and exit\n"
		"  -h, --help         print this help and exit\n"
		"Options after -- go to the DPDK EAL after those of dpdk.args.\n");
}

static bool
has_arg(const struct hf_bootstrap *b, int extra_argc, char **extra_argv, const char *prefix)
{
	for (unsigned int i = 0; i < b->n_eal_args; i++)
		if (strncmp(b->eal_args[i], prefix, strlen(prefix)) == 0)
			return true;
	for (int i = 0; i < extra_argc; i++)
		if (strncmp(extra_argv[i], prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

/* The EAL file prefix in force (--file-prefix=X, the last one given), for the file watcher. */
static char eal_prefix[HF_BOOT_DEVICE];

/*
 * Builds the EAL command line: program, lcores, dpdk.args, devices, then extra
 * options. Without a --file-prefix the process gets "hydrofoil-<pid>": two
 * processes on one host must not share hugepage files, and dpdk-dumpcap and
 * dpdk-telemetry.py find this one by it (-f / --file-prefix).
 */
static int
eal_argv(const struct hf_bootstrap *b, const char *prog, int extra_argc, char **extra_argv,
	 char **argv)
{
	static char prefix[64], lcores[sizeof(b->lcores) + 16];
	int n = 0;

	argv[n++] = (char *)prog;
	/*
	 * A map that places lcores on CPUs ("0@0,(1-2)@1") is EAL's --lcores; a
	 * plain core list is -l. EAL takes one or the other, never both.
	 */
	if (strpbrk(b->lcores, "@(") != NULL) {
		snprintf(lcores, sizeof(lcores), "--lcores=%s", b->lcores);
		argv[n++] = lcores;
	} else {
		argv[n++] = (char *)"-l";
		argv[n++] = (char *)b->lcores;
	}
	for (unsigned int i = 0; i < b->n_eal_args; i++)
		argv[n++] = (char *)b->eal_args[i];
	for (unsigned int i = 0; i < b->n_ports; i++)
		n += hf_port_eal_args(&b->ports[i], &argv[n]);
	/* Two processes on one host must not share hugepage files. */
	if (!has_arg(b, extra_argc, extra_argv, "--file-prefix")) {
		snprintf(prefix, sizeof(prefix), "--file-prefix=hydrofoil-%ld", (long)getpid());
		argv[n++] = prefix;
	}
	for (int i = 0; i < extra_argc && n < MAX_EAL_ARGS - 1; i++)
		argv[n++] = extra_argv[i];
	argv[n] = NULL;
	for (int i = 0; i < n; i++)
		if (strncmp(argv[i], "--file-prefix=", 14) == 0)
			snprintf(eal_prefix, sizeof(eal_prefix), "%s", argv[i] + 14);
	return n;
}

/*
 * The EAL option of @p argv that keeps secondary processes out: --in-memory and
 * --no-shconf share no configuration, --no-huge no memory. NULL: none.
 */
static const char *
no_secondary(int argc, char **argv)
{
	static const char *const modes[] = {"--in-memory", "--no-shconf", "--no-huge", NULL};

	for (int i = 1; i < argc; i++)
		for (unsigned int k = 0; modes[k] != NULL; k++)
			if (strcmp(argv[i], modes[k]) == 0)
				return modes[k];
	return NULL;
}

static void
print_final(struct hf_agent *agent)
{
	struct hf_strbuf out = {0};

	hf_agent_stats(agent, &out);
	printf("hydrofoil: final counters\n%s", out.s ? out.s : "");
	fflush(stdout);
	hf_strbuf_free(&out);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 'C'},
		{"version", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct hf_bootstrap boot;
	static struct hf_proxy_config proxy;
	static struct hf_port ports[HF_MAX_PORTS];
	struct hf_worker *workers[HF_MAX_WORKERS] = {0};
	struct hf_agent agent = {0};
	struct rte_rcu_qsbr *qsbr = NULL;
	char *eargv[MAX_EAL_ARGS];
	sigset_t sigio;
	char err[HF_BOOT_ERR];
	const char *config = NULL, *mode;
	bool check = false;
	unsigned int lcore, w, opened = 0;
	int opt, eargc, rc, status = EXIT_FAILURE;

	while ((opt = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'C': check = true; break;
		case 'v': printf("hydrofoil %s\n", HF_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (config == NULL) {
		fprintf(stderr, "hydrofoil: -c FILE is required\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (hf_bootstrap_load(&boot, config, err, sizeof(err)) != 0) {
		fprintf(stderr, "hydrofoil: %s\n", err);
		return EXIT_USAGE;
	}
	if (check) {
		/* The routing configuration too, Istio directory included, compiled as it would run. */
		struct hf_snapshot *s = hf_config_build(&boot, 1, boot.workers, err, sizeof(err));

		if (s == NULL) {
			fprintf(stderr, "hydrofoil: %s\n", err);
			return EXIT_USAGE;
		}
		printf("hydrofoil: %s: valid (%u port%s, %u worker%s, %u listener%s, %u cluster%s)\n",
		       config, boot.n_ports, boot.n_ports == 1 ? "" : "s", boot.workers,
		       boot.workers == 1 ? "" : "s", s->n_listeners, s->n_listeners == 1 ? "" : "s",
		       s->n_clusters, s->n_clusters == 1 ? "" : "s");
		hf_snapshot_free(s);
		return 0;
	}

	eargc = eal_argv(&boot, argv[0], argc - optind, &argv[optind], eargv);
	/*
	 * net_tap raises a signal for every frame the kernel queues (its RX
	 * burst reads only after one). Blocked here, before the EAL starts its
	 * threads (they inherit the mask), it reaches only the workers, which
	 * unblock it: the agent's core stays free for the agent.
	 */
	hf_worker_io_signals(&sigio);
	pthread_sigmask(SIG_BLOCK, &sigio, NULL);
	/*
	 * Hugepage files stay while we run (secondary processes map them) and go
	 * when we end, even by SIGKILL: the watcher forked here removes them
	 * (eal_files.h). Those of earlier instances that died are removed now.
	 */
	hf_eal_files_sweep();
	if (eal_prefix[0] != '\0' && (rc = hf_eal_files_watch(eal_prefix)) != 0)
		fprintf(stderr, "hydrofoil: no watcher for the EAL files of %s: %s\n", eal_prefix,
			strerror(-rc));
	if (rte_eal_init(eargc, eargv) < 0) {
		fprintf(stderr, "hydrofoil: EAL init failed: %s\n", rte_strerror(rte_errno));
		return EXIT_FAILURE;
	}
	/* dpdk-dumpcap's side: a secondary process asks, the ports' RX/TX callbacks copy. */
	if (rte_pdump_init() != 0)
		printf("hydrofoil: EAL file prefix %s: no packet capture: %s\n", eal_prefix,
		       rte_strerror(rte_errno));
	else if ((mode = no_secondary(eargc, eargv)) != NULL)
		printf("hydrofoil: EAL file prefix %s: no packet capture: %s admits no secondary "
		       "process (dpdk-dumpcap); dpdk-telemetry.py takes -f %s\n", eal_prefix, mode,
		       eal_prefix);
	else
		printf("hydrofoil: EAL file prefix %s: dpdk-dumpcap and dpdk-telemetry.py take "
		       "--file-prefix=%s / -f %s\n", eal_prefix, eal_prefix, eal_prefix);
	if (rte_lcore_count() < boot.workers + 1) {
		fprintf(stderr, "hydrofoil: %u workers need %u lcores, EAL has %u\n", boot.workers,
			boot.workers + 1, rte_lcore_count());
		goto out_eal;
	}
	for (; opened < boot.n_ports; opened++) {
		rc = hf_port_open(&ports[opened], &boot.ports[opened], (uint16_t)opened,
				  (uint16_t)boot.workers, err, sizeof(err));
		if (rc != 0) {
			fprintf(stderr, "hydrofoil: %s\n", err);
			goto out_ports;
		}
		printf("hydrofoil: port %s up as " RTE_ETHER_ADDR_PRT_FMT " on %s (TCP checksums: "
		       "tx %s, rx %s)\n",
		       ports[opened].name, RTE_ETHER_ADDR_BYTES(&ports[opened].mac),
		       boot.ports[opened].device, ports[opened].tx_l4_cksum ? "device" : "software",
		       ports[opened].rx_l4_cksum ? "device" : "software");
	}

	hf_bootstrap_proxy_config(&boot, &proxy);
	qsbr = rte_zmalloc("hf_qsbr", rte_rcu_qsbr_get_memsize(boot.workers), RTE_CACHE_LINE_SIZE);
	if (qsbr == NULL || rte_rcu_qsbr_init(qsbr, boot.workers) != 0) {
		fprintf(stderr, "hydrofoil: cannot set up RCU for %u workers\n", boot.workers);
		goto out_workers;
	}
	for (w = 0; w < boot.workers; w++) {
		workers[w] = rte_zmalloc("hf_worker", sizeof(struct hf_worker), RTE_CACHE_LINE_SIZE);
		if (workers[w] == NULL ||
		    hf_worker_init(workers[w], (uint16_t)w, (uint16_t)boot.workers, ports,
				   (uint16_t)boot.n_ports, rte_get_tsc_hz()) != 0) {
			fprintf(stderr, "hydrofoil: cannot allocate worker %u\n", w);
			goto out_workers;
		}
		workers[w]->qsbr = qsbr;
		workers[w]->siblings = workers;
		hf_worker_overload(workers[w], &boot.overload);
		if (boot.metrics_enabled &&
		    hf_metrics_init(&workers[w]->metrics, boot.metrics_max_series) != 0) {
			fprintf(stderr, "hydrofoil: cannot allocate the metrics of worker %u "
				"(metrics.max_series %u)\n", w, boot.metrics_max_series);
			goto out_workers;
		}
		for (unsigned int i = 0; i < boot.n_ports; i++)
			if (boot.ports[i].impair.enabled &&
			    hf_worker_impair(workers[w], (uint16_t)i, &boot.ports[i].impair) != 0) {
				fprintf(stderr, "hydrofoil: cannot set up impairment of port %s\n",
					boot.ports[i].name);
				goto out_workers;
			}
		if (hf_tcp_init(workers[w], &boot.tcp) != 0) {
			fprintf(stderr, "hydrofoil: cannot allocate the TCP stack of worker %u "
				"(%u connections)\n", w, boot.tcp.max_connections);
			goto out_workers;
		}
		rc = hf_l4_start(workers[w], &proxy);
		if (rc == 0)
			rc = hf_http_start(workers[w], &proxy);
		if (rc != 0) {
			fprintf(stderr, "hydrofoil: worker %u: cannot open listeners: %s\n", w,
				strerror(-rc));
			goto out_workers;
		}
	}

	if (hf_telemetry_init(workers, boot.workers) != 0)
		fprintf(stderr, "hydrofoil: /hydrofoil/stats not registered with telemetry\n");
	agent.boot = &boot;
	agent.ports = ports;
	agent.n_ports = (uint16_t)boot.n_ports;
	agent.workers = workers;
	agent.n_workers = (uint16_t)boot.workers;
	agent.pub.qsbr = qsbr;
	if (hf_agent_init(&agent, err, sizeof(err)) != 0) {
		fprintf(stderr, "hydrofoil: %s\n", err);
		goto out_workers;
	}

	w = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (w == boot.workers)
			break;
		workers[w]->lcore = lcore;
		rte_eal_remote_launch(hf_worker_main, workers[w], lcore);
		w++;
	}
	printf("hydrofoil: %s (node %s) running %u worker%s, admin on %s:%u\n", config,
	       boot.node_id, boot.workers, boot.workers == 1 ? "" : "s", boot.admin_address,
	       boot.admin_port);
	fflush(stdout);

	hf_agent_run(&agent);

	/* Pairs with the acquire load at the top of every worker's loop. */
	__atomic_store_n(&hf_worker_stop, true, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
	print_final(&agent);
	hf_agent_fini(&agent);
	status = 0;

out_workers:
	hf_telemetry_fini();
	for (w = 0; w < boot.workers; w++)
		if (workers[w] != NULL) {
			hf_worker_fini(workers[w]);
			hf_metrics_free(&workers[w]->metrics);
			rte_free(workers[w]);
		}
	rte_free(qsbr);
out_ports:
	while (opened > 0)
		hf_port_close(&ports[--opened]);
out_eal:
	rte_pdump_uninit();
	rte_eal_cleanup();
	/* Gone before our exit status is: whoever waits for us finds no file left. */
	hf_eal_files_remove(eal_prefix);
	return status;
}
