/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hf-loadgen: the command line, DPDK start-up (ports as the daemon opens
 * them), one worker per worker lcore running the daemon's poll loop plus the
 * client and replay hooks, and the report. A run ends when every finite role
 * is over (the client's duration, the replay's passes) or at SIGTERM/SIGINT,
 * which a server-only run waits for: either way the workers stop, the report
 * is printed and the status is 0. Exit status: 0 after a run (errors are in
 * the report), 1 when start-up fails or a worker does not stop, 2 for a bad
 * command line.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "bench/loadgen/loadgen.h"
#include "bench/loadgen/threads.h"
#include "dataplane/net/addr.h"
#include "dataplane/port.h"
#include "dataplane/proxy/http-int.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"

#define EXIT_USAGE 2
#define MAX_EAL_ARGS (2 * HF_MAX_PORTS + 80)
#define LINK_WAIT_S 10
/* The last FINs and ACKs of a run go out in this time after the workers' last requests. */
#define FIN_GRACE_MS 200
/* A worker that has not left its loop this long after lg_stop is stuck: exit without it. */
#define STOP_WAIT_MS 1000
/* Threads of this process read before and after the measured window (EAL's and ours). */
#define MAX_THREADS 64
/* The first reading this long before the measured window: its file reads are not in it. */
#define THREADS_LEAD_MS 20
/* Threads of the whole machine, read before the workers start and after they stop. */
#define MAX_TASKS 8192
#define TOP_TASKS 8

volatile bool lg_stop;
static volatile sig_atomic_t got_signal;
/* TSC when the first signal arrived (the end of an interrupted measurement); 0: none. */
static volatile uint64_t signal_tsc;

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: hf-loadgen --port NAME,DEVICE,ADDR/LEN[,GATEWAY] [--port ...]\n"
		"                  [--client ADDR:PORT [client options]] [--server PORT [server options]]\n"
		"                  [--replay FILE.pcap [replay options]]\n"
		"                  [--workers N] [--lcores LIST] [--tcbs N] [--json] [-- EAL options...]\n"
		"client: -c, --connections N (1)   --new-conn          --rate R (0: closed loop)\n"
		"        --poisson                 --method M (GET)    --path P (/)\n"
		"        --paths N (1: requests to P/0 .. P/N-1 in turn, at most %d)\n"
		"        --header 'k: v' (repeat)  --body-size N (request body; 0)\n"
		"        --duration S (10)         --warmup S (0)      --timeout MS (2000)\n"
		"        --target-ports N (1: slot i connects to PORT + i %% N, past 28k connections)\n"
		"        --stall-board FILE (the target's HF_STALL_BOARD: its loop stalls)\n"
		"        --tls 1.2|1.3 (a TLS client: one handshake per connection; with --new-conn\n"
		"        its rate is the handshake rate)   --tls-resume (offer the first session again)\n"
		"        --tls-sni NAME  --tls-groups LIST (X25519:P-256)  --tls-ciphers SUITE (1.3:\n"
		"        TLS_AES_128_GCM_SHA256, 1.2: ECDHE-ECDSA-AES128-GCM-SHA256)\n"
		"server: --status S (200)          --response-size N (0; --body-size without --client)\n"
		"replay: --replay-rate PPS (default: the file's timestamps; 0: no pacing)\n"
		"        --replay-loops N (1; 0: until SIGTERM)\n"
		"        --replay-dst-mac XX:XX:XX:XX:XX:XX (written into every frame)\n"
		"        (classic pcap, Ethernet; sent from worker 0 on the first --port)\n"
		"--tcbs: TCBs per worker (default max(16384, 2 x connections + 4096)); room for\n"
		"TIME-WAIT (1 s here) when one process closes many connections.\n"
		"A run ends when the client's duration and the replay's passes are over, or at\n"
		"SIGTERM/SIGINT (a server-only run waits for one); it then prints its report.\n"
		"DEVICE is any DPDK vdev string (net_memif0,role=client,socket=/tmp/m.sock; net_tap0,...).\n",
		LG_MAX_PATHS);
}

/*
 * SIGTERM/SIGINT end the run as its end would: the workers stop, the report is
 * printed. Later ones change nothing (timeout(1) sends its signal twice, to
 * the child and to the group); a stop that hangs is stop_workers()' to end.
 */
static void
on_signal(int sig)
{
	(void)sig;
	if (!got_signal)
		signal_tsc = rte_rdtsc();
	got_signal = 1;
}

/* NAME,DEVICE,ADDR/LEN[,GATEWAY]: DEVICE may hold commas, so the address is found from the end. */
static int
parse_port(const char *arg, struct hf_port_config *bp)
{
	char buf[sizeof(bp->device) + 64], *tok[64];
	unsigned int n = 0;
	int ai = -1;

	memset(bp, 0, sizeof(*bp));
	bp->mtu = 1500;
	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	for (char *s = strtok(buf, ","); s != NULL && n < RTE_DIM(tok); s = strtok(NULL, ","))
		tok[n++] = s;
	for (int i = (int)n - 1; i >= 2; i--) {
		uint32_t a;
		uint8_t len;

		if (strchr(tok[i], '/') != NULL && hf_addr_parse_ipv4(tok[i], &a, &len) == 0) {
			bp->addr = a;
			bp->prefix_len = len;
			ai = i;
			break;
		}
	}
	if (ai < 0 || (unsigned int)ai + 2 < n || strlen(tok[0]) >= sizeof(bp->name))
		return -1;
	if ((unsigned int)ai + 1 < n && hf_addr_parse_ipv4(tok[ai + 1], &bp->gateway, NULL) != 0)
		return -1;
	snprintf(bp->name, sizeof(bp->name), "%s", tok[0]);
	for (int i = 1; i < ai; i++) {
		size_t l = strlen(bp->device);

		snprintf(bp->device + l, sizeof(bp->device) - l, "%s%s", i > 1 ? "," : "", tok[i]);
	}
	return 0;
}

static int
parse_target(const char *arg, struct lg_opts *o)
{
	uint16_t port;

	if (hf_addr_parse_endpoint(arg, &o->target_addr, &port) != 0)
		return -1;
	o->target_port = rte_be_to_cpu_16(port);
	return 0;
}

struct rte_mbuf *
lg_build(struct rte_mempool *mp, const char *s, size_t len, uint32_t pad)
{
	static const char xs[256] = {[0 ... 255] = 'x'};
	struct hf_http_wr wr;

	hf_http_wr_init(&wr, mp);
	hf_http_wr_put(&wr, s, len);
	for (uint32_t left = pad; left > 0;) {
		uint32_t k = RTE_MIN(left, (uint32_t)sizeof(xs));

		hf_http_wr_put(&wr, xs, k);
		left -= k;
	}
	if (wr.failed || wr.head == NULL) {
		hf_http_wr_discard(&wr);
		return NULL;
	}
	return wr.head;
}

/*
 * The request every client slot sends, prebuilt in each port's pool; with
 * --paths N, N of them (PATH/0 .. PATH/N-1), sent in turn. Request @p k of
 * @p n into @p lw->requests.
 */
static int
build_request(struct lg_worker *lw, unsigned int k, unsigned int n_paths)
{
	const struct lg_opts *o = lw->o;
	char head[8192], host[32];
	bool has_host = false;
	size_t n;
	uint32_t a = rte_be_to_cpu_32(o->target_addr);

	snprintf(host, sizeof(host), "%u.%u.%u.%u:%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		 a & 255, o->target_port);
	if (n_paths > 1)
		n = (size_t)snprintf(head, sizeof(head), "%s %s/%u HTTP/1.1\r\n", o->method, o->path,
				     k);
	else
		n = (size_t)snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\n", o->method, o->path);
	for (unsigned int i = 0; i < o->n_headers; i++) {
		if (strncasecmp(o->headers[i], "host:", 5) == 0)
			has_host = true;
		n += (size_t)snprintf(head + n, sizeof(head) - n, "%s\r\n", o->headers[i]);
	}
	if (!has_host)
		n += (size_t)snprintf(head + n, sizeof(head) - n, "host: %s\r\n", host);
	if (o->body_size > 0)
		n += (size_t)snprintf(head + n, sizeof(head) - n, "content-length: %u\r\n",
				      o->body_size);
	if (o->new_conn)
		n += (size_t)snprintf(head + n, sizeof(head) - n, "connection: close\r\n");
	n += (size_t)snprintf(head + n, sizeof(head) - n, "\r\n");
	if (n >= sizeof(head))
		return -E2BIG;
	for (uint16_t p = 0; p < lw->w->n_ports; p++) {
		struct rte_mbuf *m = lg_build(lw->w->ports[p].pool, head, n, o->body_size);

		if (m == NULL)
			return -ENOMEM;
		if (k == 0)
			lw->request[p] = m;
		if (n_paths > 1)
			lw->requests[p][k] = m;
	}
	return 0;
}

static int
build_requests(struct lg_worker *lw)
{
	unsigned int n_paths = RTE_MAX(lw->o->n_paths, 1u);
	int rc = 0;

	for (unsigned int k = 0; k < n_paths && rc == 0; k++)
		rc = build_request(lw, k, n_paths);
	return rc;
}

/*
 * The port whose subnet holds @p addr, else the first with a gateway, else
 * port 0. A port that owns @p addr is passed over: that target is this
 * process's own server role on another port of the same link (one process
 * playing both ends, the baseline of one-core figures).
 */
static uint16_t
route_port(const struct hf_port *ports, uint16_t n, uint32_t addr)
{
	for (uint16_t i = 0; i < n; i++)
		if ((addr & ports[i].mask) == (ports[i].addr & ports[i].mask) && ports[i].addr != addr)
			return i;
	for (uint16_t i = 0; i < n; i++)
		if ((addr & ports[i].mask) == (ports[i].addr & ports[i].mask))
			return i;
	for (uint16_t i = 0; i < n; i++)
		if (ports[i].gateway != 0)
			return i;
	return 0;
}

/* The counters of the loop's stalls, in the order of lg_worker.stalls0. */
static const enum hf_counter stall_ids[7 + HF_LOOP__N] = {
	HF_CNT_WORKER_STALLS, HF_CNT_WORKER_STALL_CYCLES, HF_CNT_WORKER_STALL_SNAPSHOT,
	HF_CNT_WORKER_STALL_RX, HF_CNT_WORKER_STALL_ARP, HF_CNT_WORKER_STALL_TCP,
	HF_CNT_WORKER_STALL_TX, HF_CNT_WORKER_STALL_OUTSIDE, HF_CNT_WORKER_STALLS_500US,
	HF_CNT_WORKER_STALLS_5MS, HF_CNT_WORKER_STALL_PREEMPTED, HF_CNT_WORKER_STALL_BLOCKED,
	HF_CNT_WORKER_STALL_UNSWITCHED,
};

/* At the start of the measured window: the loop statistics report it alone. */
static void
loop_window_start(struct lg_worker *lw)
{
	hf_worker_loop_reset(lw->w);
	for (unsigned int i = 0; i < RTE_DIM(stall_ids); i++)
		lw->stalls0[i] = lw->w->cnt.v[stall_ids[i]];
	lw->longest_client = 0;
	lw->idle0 = lw->w->cnt.v[HF_CNT_WORKER_IDLE_CYCLES];
	lw->idle_t0 = lw->w->now;
	lw->loop_window = true;
}

/*
 * At the end of the measured window: how much of it the loop found nothing to
 * receive. Whether the loadgen's own core kept up tells its queue of due
 * requests (backlog_max) from the target's.
 */
static void
loop_window_end(struct lg_worker *lw)
{
	lw->st.window_cycles = lw->w->now - lw->idle_t0;
	lw->st.idle_cycles = lw->w->cnt.v[HF_CNT_WORKER_IDLE_CYCLES] - lw->idle0;
	lw->window_closed = true;
}

static int
worker_main(void *arg)
{
	struct lg_worker *lw = arg;
	sigset_t sigio;
	uint64_t t;

	/* As in the daemon: net_tap's RX wakeups are for the workers only. */
	hf_worker_io_signals(&sigio);
	pthread_sigmask(SIG_UNBLOCK, &sigio, NULL);
	if (lw->o->client)
		lg_client_start(lw);
	/* Pairs with the release store in main() once the run is over. */
	while (!__atomic_load_n(&lg_stop, __ATOMIC_ACQUIRE)) {
		hf_worker_poll_once(lw->w);
		if (unlikely(!lw->loop_window) && lw->w->now >= lw->t_warm)
			loop_window_start(lw);
		else if (unlikely(!lw->window_closed) && lw->loop_window && lw->w->now >= lw->t_end)
			loop_window_end(lw);
		if (lw->o->client) {
			/* The client's hook is part of the loop's "outside" piece: its own share. */
			t = rte_rdtsc();
			lg_client_poll(lw);
			t = rte_rdtsc() - t;
			if (t > lw->longest_client)
				lw->longest_client = t;
		}
		if (lw->replay != NULL)
			lg_replay_poll(lw);
	}
	for (uint16_t i = 0; i < lw->w->n_ports; i++)
		hf_tx_flush(lw->w, &lw->w->ports[i]);
	if (lw->replay != NULL)
		lg_replay_stop(lw->replay);
	return 0;
}

static int
lw_init(struct lg_worker *lw, const struct lg_opts *o, uint16_t id, const struct hf_port *ports,
	uint16_t n_ports)
{
	struct hf_tcp_config tcfg;
	int rc;

	lw->o = o;
	lw->w = rte_zmalloc("hf_worker", sizeof(struct hf_worker), RTE_CACHE_LINE_SIZE);
	if (lw->w == NULL || hf_worker_init(lw->w, id, (uint16_t)o->workers, ports, n_ports,
					    rte_get_tsc_hz()) != 0)
		return -ENOMEM;
	hf_tcp_config_default(&tcfg);
	/* Client slots and server connections each; a short TIME-WAIT for connection churn. */
	tcfg.max_connections = o->tcbs != 0 ? o->tcbs :
			       RTE_MAX(16384u, 2 * o->connections / o->workers + 4096);
	tcfg.time_wait_ms = 1000;
	if ((rc = hf_tcp_init(lw->w, &tcfg)) != 0)
		return rc;
	hf_h1_limits_default(&lw->lim);
	if ((rc = hf_http_heads_init(&lw->heads, lw->lim.max_head + 1, LG_GATHER_BUFS)) != 0)
		return rc;
	lw->ns_mult = (uint64_t)(((unsigned __int128)1000000000u << 32) / rte_get_tsc_hz());
	lw->timeout_tsc = (uint64_t)o->timeout_ms * rte_get_tsc_hz() / 1000;
	if (o->client) {
		char err[160];

		lw->n_conns = o->connections / o->workers + (id < o->connections % o->workers);
		lw->port = route_port(ports, n_ports, o->target_addr);
		if ((rc = lg_client_init(lw)) != 0 || (rc = build_requests(lw)) != 0)
			return rc;
		if (o->tls_version != 0 && (rc = lg_tls_init(lw, err, sizeof(err))) != 0) {
			fprintf(stderr, "hf-loadgen: --tls: %s\n", err);
			return rc;
		}
	}
	if (o->server && (rc = lg_server_init(lw)) != 0)
		return rc;
	return 0;
}

static void
lw_fini(struct lg_worker *lw)
{
	if (lw->w == NULL)
		return;
	for (uint16_t p = 0; p < HF_MAX_PORTS; p++) {
		if (lw->requests[p][0] != NULL) {
			/* request[p] is requests[p][0] */
			for (unsigned int k = 0; k < LG_MAX_PATHS; k++) {
				rte_pktmbuf_free(lw->requests[p][k]);
				lw->requests[p][k] = NULL;
			}
		} else {
			rte_pktmbuf_free(lw->request[p]);
		}
		lw->request[p] = NULL;
	}
	lg_client_fini(lw);
	lg_server_fini(lw);
	hf_worker_fini(lw->w);
	rte_free(lw->w);
	lw->w = NULL;
	hf_http_heads_fini(&lw->heads);
}

static const char *const err_names[LG_E__N] = {
	[LG_E_CONNECT] = "connect", [LG_E_RESET] = "reset", [LG_E_TIMEOUT] = "timeout",
	[LG_E_BAD] = "bad_response", [LG_E_NON2XX] = "non_2xx", [LG_E_TLS] = "tls",
	[LG_E_UNSENT] = "unsent",
};

/* The role a JSON line is about: what its first fields describe. */
static const char *
mode_name(const struct lg_opts *o)
{
	if (o->client)
		return o->new_conn ? "new_conn" : "keep_alive";
	return o->replay_file != NULL ? "replay" : "server";
}

/*
 * The table, or one JSON line. @p secs is the client's measured window (cut
 * short by a signal: @p interrupted); @p rp is the replay, NULL without one.
 */
/* Everything about the measured window besides the requests: the loop and the threads. */
struct lg_window {
	const struct hf_hist *clean;	/* latencies of the responses no loop stall delayed */
	const struct hf_hist *sent;	/* latencies from the send: the loadgen's queue left out */
	struct hf_loop_stats loop;	/* the workers' loops, merged */
	uint64_t longest_client;	/* ticks */
	uint64_t hz;
	const struct lg_thread *th0, *th1;
	int n0, n1;
	struct lg_thread *tasks0;	/* the machine's, sorted by lg_tasks_top_json() */
	const struct lg_thread *tasks1;
	int nt0, nt1;
};

static const char *const loop_work_name[HF_LOOP__N] = {
	[HF_LOOP_SNAPSHOT] = "snapshot", [HF_LOOP_RX] = "rx", [HF_LOOP_ARP] = "arp",
	[HF_LOOP_TCP] = "tcp", [HF_LOOP_TX] = "tx", [HF_LOOP_OUTSIDE] = "outside",
};

/* The "worker_loop", "latency_unstalled_us" and "threads" members of the JSON line. */
static void
report_window(const struct lg_stats *t, const struct lg_window *win)
{
	const struct hf_loop_stats *l = &win->loop;
	double us = 1e6 / (double)win->hz;

	printf(",\"worker_loop\":{\"gaps\":%" PRIu64 ",\"gap_p99_us\":%.1f,\"gap_p9999_us\":%.1f,"
	       "\"gap_max_us\":%.1f,\"stalls\":%" PRIu64 ",\"stalls_over_500us\":%" PRIu64
	       ",\"stalls_over_5ms\":%" PRIu64 ",\"stalls_preempted\":%" PRIu64
	       ",\"stalls_blocked\":%" PRIu64 ",\"stalls_unswitched\":%" PRIu64
	       ",\"unswitched_max_us\":%.1f,\"longest_us\":{",
	       l->count, hf_loop_gap_at(l, 99) * us, hf_loop_gap_at(l, 99.99) * us, l->max * us,
	       t->loop_stalls, t->loop_stalls_500us, t->loop_stalls_5ms, t->loop_stalls_preempted,
	       t->loop_stalls_blocked, t->loop_stalls_unswitched, l->max_unswitched * us);
	for (unsigned int k = 0; k < HF_LOOP__N; k++)
		printf("\"%s\":%.1f,", loop_work_name[k], l->longest[k] * us);
	printf("\"client\":%.1f},\"stall_blame\":{", win->longest_client * us);
	for (unsigned int k = 0; k < HF_LOOP__N; k++)
		printf("%s\"%s\":%" PRIu64, k ? "," : "", loop_work_name[k], t->stall_blame[k]);
	/* No window_cycles: the run stopped before its end, and the share is unknown. */
	printf("},\"idle_share\":");
	if (t->window_cycles != 0)
		printf("%.3f", (double)t->idle_cycles / (double)t->window_cycles);
	else
		printf("null");
	printf("},\"responses_peer_stalled\":%" PRIu64 ",\"responses_queue_stalled\":%" PRIu64,
	       t->responses_peer_stalled, t->responses_queue_stalled);
	printf(",\"responses_stalled\":%" PRIu64 ",\"latency_unstalled_us\":{\"p50\":%.1f,"
	       "\"p99\":%.1f,\"p99_9\":%.1f,\"max\":%.1f}",
	       t->responses_stalled, hf_hist_value_at(win->clean, 50) / 1e3,
	       hf_hist_value_at(win->clean, 99) / 1e3, hf_hist_value_at(win->clean, 99.9) / 1e3,
	       hf_hist_max(win->clean) / 1e3);
	printf(",\"latency_from_send_us\":{\"p50\":%.1f,\"p99\":%.1f,\"p99_9\":%.1f,\"max\":%.1f}",
	       hf_hist_value_at(win->sent, 50) / 1e3, hf_hist_value_at(win->sent, 99) / 1e3,
	       hf_hist_value_at(win->sent, 99.9) / 1e3, hf_hist_max(win->sent) / 1e3);
	printf(",\"threads\":");
	if (win->n0 >= 0 && win->n1 >= 0)
		lg_threads_json(stdout, win->th0, (unsigned int)win->n0, win->th1,
				(unsigned int)win->n1);
	else
		printf("[]");
	/* What else ran on the machine over the run: who took a CPU from the pollers. */
	printf(",\"others\":");
	if (win->nt0 >= 0 && win->nt1 >= 0)
		lg_tasks_top_json(stdout, win->tasks0, (unsigned int)win->nt0, win->tasks1,
				  (unsigned int)win->nt1, TOP_TASKS, (int)getpid());
	else
		printf("[]");
}

/* The "tls" member of the JSON line, or the table's TLS lines. */
static void
report_tls(const struct lg_opts *o, const struct lg_stats *t, double secs, const char *desc,
	   const char *err, uint64_t hz)
{
	double hs = secs > 0 ? t->tls_handshakes / secs : 0;
	double rs = secs > 0 ? t->tls_resumed / secs : 0;
	double us = t->tls_handshakes > 0 ?
		    (double)t->tls_hs_cycles / t->tls_handshakes * 1e6 / hz : 0;
	double bps = secs > 0 ? t->body_bytes_measured / secs : 0;

	if (o->json) {
		printf(",\"tls\":{\"version\":\"%s\",\"negotiated\":\"%s\",\"resume\":%s,"
		       "\"handshakes_total\":%" PRIu64 ",\"resumed_total\":%" PRIu64
		       ",\"handshakes\":%" PRIu64
		       ",\"resumed\":%" PRIu64 ",\"handshakes_per_s\":%.1f,"
		       "\"resumed_per_s\":%.1f,\"handshake_mean_us\":%.1f,\"body_bytes\":%" PRIu64
		       ",\"body_bytes_per_s\":%.0f,\"first_error\":\"%s\"}",
		       o->tls_version == HF_TLS_V1_3 ? "1.3" : "1.2", desc,
		       o->tls_resume ? "true" : "false", t->tls_handshakes_total,
		       t->tls_resumed_total, t->tls_handshakes,
		       t->tls_resumed, hs, rs, us, t->body_bytes_measured, bps, err);
		return;
	}
	printf("  %-22s %14.1f  (%s%s)\n", "TLS handshakes/s", hs, desc,
	       o->tls_resume ? ", resumption offered" : "");
	printf("  %-22s %14.1f\n", "  of which resumed/s", rs);
	printf("  %-22s %14.1f\n", "handshake mean (us)", us);
	printf("  %-22s %14.1f\n", "body MB/s", bps / 1e6);
	if (err[0] != '\0')
		printf("  %-22s %s\n", "first TLS error", err);
}

static void
report(const struct lg_opts *o, const struct lg_stats *t, const struct hf_hist *h, double secs,
       bool interrupted, const struct lg_replay *rp, const struct lg_window *win,
       const char *tls_desc, const char *tls_err)
{
	static const double pct[] = {50, 90, 99, 99.9};
	static const char *const pname[] = {"p50", "p90", "p99", "p99_9"};
	double rps = secs > 0 ? t->responses / secs : 0, cps = secs > 0 ? t->connects / secs : 0;
	uint64_t errors = 0;

	for (int k = 0; k < LG_E__N; k++)
		errors += t->err[k];
	if (o->json) {
		printf("{\"mode\":\"%s\",\"loop\":\"%s\",\"connections\":%u,\"rate\":%.0f,"
		       "\"interrupted\":%s,"
		       "\"duration_s\":%.3f,\"requests_total\":%" PRIu64 ",\"responses_total\":%" PRIu64
		       ",\"responses\":%" PRIu64 ",\"ok\":%" PRIu64 ",\"requests_per_s\":%.1f,"
		       "\"connections_per_s\":%.1f,\"errors\":{",
		       mode_name(o), o->rate > 0 ? "open" : "closed", o->connections, o->rate,
		       interrupted ? "true" : "false", secs, t->requests_total, t->responses_total,
		       t->responses, t->ok, rps, cps);
		for (int k = 0; k < LG_E__N; k++)
			printf("%s\"%s\":%" PRIu64, k ? "," : "", err_names[k], t->err[k]);
		printf("},\"errors_total\":%" PRIu64 ",\"latency_us\":{", errors);
		for (unsigned int i = 0; i < RTE_DIM(pct); i++)
			printf("\"%s\":%.1f,", pname[i], hf_hist_value_at(h, pct[i]) / 1e3);
		printf("\"max\":%.1f,\"mean\":%.1f},\"rx_body_bytes\":%" PRIu64
		       ",\"backlog_max\":%" PRIu64 ",\"server_requests\":%" PRIu64
		       ",\"server_connections\":%" PRIu64 ",\"server_bad\":%" PRIu64
		       ",\"tx_dropped\":%" PRIu64 ",\"retransmits\":%" PRIu64,
		       hf_hist_max(h) / 1e3, hf_hist_mean(h) / 1e3, t->rx_body_bytes, t->backlog_max,
		       t->server_requests, t->server_conns, t->server_bad, t->tx_dropped,
		       t->retransmits);
		report_window(t, win);
		if (o->tls_version != 0)
			report_tls(o, t, secs, tls_desc, tls_err, win->hz);
		if (rp != NULL) {
			printf(",\"replay\":");
			lg_replay_report(rp, o, true);
		}
		printf("}\n");
		return;
	}
	if (o->client) {
		printf("hf-loadgen: %s, %s loop, %u connection%s, %.3f s measured%s\n",
		       o->new_conn ? "new connection per request" : "keep-alive",
		       o->rate > 0 ? "open" : "closed", o->connections,
		       o->connections == 1 ? "" : "s", secs, interrupted ? " (interrupted)" : "");
		printf("  %-22s %14.1f\n", "requests/s", rps);
		printf("  %-22s %14.1f\n", "connections/s", cps);
		printf("  %-22s %14" PRIu64 "  (%" PRIu64 " 2xx)\n", "responses", t->responses, t->ok);
		printf("  %-22s %14" PRIu64 " / %" PRIu64 "\n", "sent / answered (all)",
		       t->requests_total, t->responses_total);
		for (int k = 0; k < LG_E__N; k++)
			printf("  errors: %-14s %14" PRIu64 "\n", err_names[k], t->err[k]);
		printf("  latency (us)           p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
		       hf_hist_value_at(h, 50) / 1e3, hf_hist_value_at(h, 90) / 1e3,
		       hf_hist_value_at(h, 99) / 1e3, hf_hist_value_at(h, 99.9) / 1e3,
		       hf_hist_max(h) / 1e3);
		printf("  without loop stalls    p50 %.1f  p99 %.1f  p99.9 %.1f  (%" PRIu64
		       " responses waited through a stall of the loadgen's own loop, %" PRIu64
		       " through one of the target's, %" PRIu64 " were due while the backlog a stall left "
		       "was still there)\n",
		       hf_hist_value_at(win->clean, 50) / 1e3,
		       hf_hist_value_at(win->clean, 99) / 1e3,
		       hf_hist_value_at(win->clean, 99.9) / 1e3, t->responses_stalled,
		       t->responses_peer_stalled, t->responses_queue_stalled);
		printf("  from the send          p50 %.1f  p99 %.1f  p99.9 %.1f  (the loadgen's own "
		       "queue of due requests left out)\n",
		       hf_hist_value_at(win->sent, 50) / 1e3, hf_hist_value_at(win->sent, 99) / 1e3,
		       hf_hist_value_at(win->sent, 99.9) / 1e3);
		printf("  worker loop gaps (us)  p99 %.1f  p99.99 %.1f  max %.1f  "
		       "stalls over %d us: %" PRIu64 "\n",
		       hf_loop_gap_at(&win->loop, 99) * 1e6 / (double)win->hz,
		       hf_loop_gap_at(&win->loop, 99.99) * 1e6 / (double)win->hz,
		       win->loop.max * 1e6 / (double)win->hz, HF_WORKER_STALL_US, t->loop_stalls);
		if (o->tls_version != 0)
			report_tls(o, t, secs, tls_desc, tls_err, win->hz);
	}
	if (o->server)
		printf("  server: %" PRIu64 " requests answered on %" PRIu64 " connections, %" PRIu64
		       " refused as malformed\n", t->server_requests, t->server_conns, t->server_bad);
	if (rp != NULL)
		lg_replay_report(rp, o, false);
}

/* Sleeps until TSC @p tsc, or until a signal comes (nanosleep returns early for a handler). */
static void
sleep_until(uint64_t tsc, uint64_t hz)
{
	for (uint64_t now = rte_rdtsc(); now < tsc && !got_signal; now = rte_rdtsc()) {
		uint64_t ns = (uint64_t)((unsigned __int128)(tsc - now) * 1000000000u / hz);
		struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
				      .tv_nsec = (long)(ns % 1000000000u)};

		nanosleep(&ts, NULL);
	}
}

/*
 * Waits for every worker to leave its loop (lg_stop is set). One that has not
 * within STOP_WAIT_MS is stuck: the process exits with status 1 and no report
 * rather than wait for it for ever (a signal must end every role).
 */
static void
stop_workers(struct lg_worker *lws, unsigned int n)
{
	for (unsigned int ms = 0; ms < STOP_WAIT_MS; ms++) {
		unsigned int w = 0;

		while (w < n && rte_eal_get_lcore_state(lws[w].w->lcore) == WAIT)
			w++;
		if (w == n)
			break;
		if (ms + 1 == STOP_WAIT_MS) {
			fprintf(stderr, "hf-loadgen: worker %u (lcore %u) did not stop in %d ms: "
				"exiting without a report\n",
				w, lws[w].w->lcore, STOP_WAIT_MS);
			_exit(EXIT_FAILURE);
		}
		usleep(1000);
	}
	rte_eal_mp_wait_lcore();
}

static void
merge(struct lg_stats *t, const struct lg_stats *s)
{
	const uint64_t *src = (const uint64_t *)s;
	uint64_t *dst = (uint64_t *)t;

	for (size_t i = 0; i < sizeof(*s) / sizeof(uint64_t); i++)
		dst[i] += src[i];
	t->backlog_max = RTE_MAX(t->backlog_max - s->backlog_max, s->backlog_max);
}

/*
 * EAL leaves its runtime directory (/var/run/dpdk/<file prefix>) behind. The
 * default prefix is this process's own (hf-loadgen-PID), which no other
 * process will use again: that one is removed, one given with -- is not.
 */
static void
remove_runtime_dir(const char *dir, const char *own)
{
	const char *base = strrchr(dir, '/');
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (base == NULL || strcmp(base + 1, own) != 0 || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < (int)sizeof(path))
			unlink(path);
	closedir(d);
	rmdir(dir);
}

static int
parse_args(int argc, char **argv, struct lg_opts *o, struct hf_port_config *bports,
	   unsigned int *n_ports, const char **lcores)
{
	enum { O_PORT = 256, O_CLIENT, O_SERVER, O_NEWCONN, O_RATE, O_POISSON, O_METHOD, O_PATH, O_PATHS,
	       O_HEADER, O_BODY, O_DURATION, O_WARMUP, O_TIMEOUT, O_STATUS, O_RESP, O_WORKERS,
	       O_LCORES, O_JSON, O_REPLAY, O_REPLAY_RATE, O_REPLAY_LOOPS, O_REPLAY_DST, O_TCBS, O_TPORTS,
	       O_STALL_BOARD, O_TLS, O_TLS_RESUME, O_TLS_SNI, O_TLS_GROUPS, O_TLS_CIPHERS };
	static const struct option opts[] = {
		{"port", required_argument, NULL, O_PORT},
		{"client", required_argument, NULL, O_CLIENT},
		{"server", required_argument, NULL, O_SERVER},
		{"connections", required_argument, NULL, 'c'},
		{"tcbs", required_argument, NULL, O_TCBS},
		{"target-ports", required_argument, NULL, O_TPORTS},
		{"stall-board", required_argument, NULL, O_STALL_BOARD},
		{"tls", required_argument, NULL, O_TLS},
		{"tls-resume", no_argument, NULL, O_TLS_RESUME},
		{"tls-sni", required_argument, NULL, O_TLS_SNI},
		{"tls-groups", required_argument, NULL, O_TLS_GROUPS},
		{"tls-ciphers", required_argument, NULL, O_TLS_CIPHERS},
		{"new-conn", no_argument, NULL, O_NEWCONN},
		{"rate", required_argument, NULL, O_RATE},
		{"poisson", no_argument, NULL, O_POISSON},
		{"method", required_argument, NULL, O_METHOD},
		{"path", required_argument, NULL, O_PATH},
		{"paths", required_argument, NULL, O_PATHS},
		{"header", required_argument, NULL, O_HEADER},
		{"body-size", required_argument, NULL, O_BODY},
		{"duration", required_argument, NULL, O_DURATION},
		{"warmup", required_argument, NULL, O_WARMUP},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"status", required_argument, NULL, O_STATUS},
		{"response-size", required_argument, NULL, O_RESP},
		{"workers", required_argument, NULL, O_WORKERS},
		{"lcores", required_argument, NULL, O_LCORES},
		{"json", no_argument, NULL, O_JSON},
		{"replay", required_argument, NULL, O_REPLAY},
		{"replay-rate", required_argument, NULL, O_REPLAY_RATE},
		{"replay-loops", required_argument, NULL, O_REPLAY_LOOPS},
		{"replay-dst-mac", required_argument, NULL, O_REPLAY_DST},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	long body = -1, resp = -1, v;
	bool replay_opt = false;	/* a --replay-* option was given */
	char *end;
	int opt;

	*o = (struct lg_opts){.connections = 1, .method = "GET", .path = "/", .duration_s = 10,
			      .timeout_ms = 2000, .status = 200, .workers = 1, .replay_loops = 1,
			      .target_ports = 1};
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		end = NULL;
		switch (opt) {
		case O_PORT:
			if (*n_ports == HF_MAX_PORTS || parse_port(optarg, &bports[*n_ports]) != 0)
				goto bad;
			(*n_ports)++;
			break;
		case O_CLIENT:
			if (parse_target(optarg, o) != 0)
				goto bad;
			o->client = true;
			break;
		case O_SERVER:
			v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 65535)
				goto bad;
			o->server = true;
			o->server_port = (uint16_t)v;
			break;
		case 'c':
			v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 1000000)
				goto bad;
			o->connections = (uint32_t)v;
			break;
		case O_TPORTS:
			v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 1024)
				goto bad;
			o->target_ports = (uint16_t)v;
			break;
		case O_TCBS:
			v = strtol(optarg, &end, 10);
			if (*end || v < 16 || v > 4 << 20)
				goto bad;
			o->tcbs = (uint32_t)v;
			break;
		case O_STALL_BOARD: o->stall_board = optarg; break;
		case O_TLS:
			if (strcmp(optarg, "1.3") == 0)
				o->tls_version = HF_TLS_V1_3;
			else if (strcmp(optarg, "1.2") == 0)
				o->tls_version = HF_TLS_V1_2;
			else
				goto bad;
			break;
		case O_TLS_RESUME: o->tls_resume = true; break;
		case O_TLS_SNI: o->tls_sni = optarg; break;
		case O_TLS_GROUPS: o->tls_groups = optarg; break;
		case O_TLS_CIPHERS: o->tls_ciphers = optarg; break;
		case O_NEWCONN: o->new_conn = true; break;
		case O_RATE:
			o->rate = strtod(optarg, &end);
			if (*end || !isfinite(o->rate) || o->rate < 0)
				goto bad;
			break;
		case O_POISSON: o->poisson = true; break;
		case O_METHOD: o->method = optarg; break;
		case O_PATH: o->path = optarg; break;
		case O_PATHS:
			o->n_paths = (unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->n_paths < 1 || o->n_paths > LG_MAX_PATHS)
				goto bad;
			break;
		case O_HEADER:
			if (o->n_headers == LG_MAX_HEADERS || strchr(optarg, ':') == NULL ||
			    strpbrk(optarg, "\r\n") != NULL)
				goto bad;
			o->headers[o->n_headers++] = optarg;
			break;
		case O_BODY:
		case O_RESP:
			v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > (64 << 20))
				goto bad;
			*(opt == O_BODY ? &body : &resp) = v;
			break;
		case O_DURATION:
		case O_WARMUP:
			*(opt == O_DURATION ? &o->duration_s : &o->warmup_s) = strtod(optarg, &end);
			if (*end || !(o->duration_s > 0) || o->warmup_s < 0)
				goto bad;
			break;
		case O_TIMEOUT:
			v = strtol(optarg, &end, 10);
			if (*end || v < 1)
				goto bad;
			o->timeout_ms = (uint32_t)v;
			break;
		case O_STATUS:
			v = strtol(optarg, &end, 10);
			if (*end || v < 200 || v > 599)
				goto bad;
			o->status = (int)v;
			break;
		case O_WORKERS:
			v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > HF_MAX_WORKERS)
				goto bad;
			o->workers = (unsigned int)v;
			break;
		case O_LCORES: *lcores = optarg; break;
		case O_JSON: o->json = true; break;
		case O_REPLAY: o->replay_file = optarg; break;
		case O_REPLAY_RATE:
			o->replay_rate = strtod(optarg, &end);
			if (*end || !isfinite(o->replay_rate) || o->replay_rate < 0)
				goto bad;
			o->replay_rate_set = replay_opt = true;
			break;
		case O_REPLAY_LOOPS: {
			unsigned long long n;

			errno = 0;
			n = strtoull(optarg, &end, 10);
			if (*end || *optarg == '-' || errno != 0)
				goto bad;
			o->replay_loops = n;
			replay_opt = true;
			break;
		}
		case O_REPLAY_DST: {
			struct rte_ether_addr mac;

			if (rte_ether_unformat_addr(optarg, &mac) != 0)
				goto bad;
			memcpy(o->replay_dst, mac.addr_bytes, sizeof(o->replay_dst));
			o->replay_dst_set = replay_opt = true;
			break;
		}
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (*n_ports == 0 || (!o->client && !o->server && o->replay_file == NULL)) {
		fprintf(stderr, "hf-loadgen: at least one --port and one of --client, --server, "
			"--replay\n");
		usage(stderr);
		return -1;
	}
	if (o->replay_file == NULL && replay_opt) {
		fprintf(stderr, "hf-loadgen: --replay-rate, --replay-loops and --replay-dst-mac "
			"need --replay\n");
		return -1;
	}
	if ((o->tls_resume || o->tls_sni != NULL || o->tls_groups != NULL ||
	     o->tls_ciphers != NULL) && o->tls_version == 0) {
		fprintf(stderr, "hf-loadgen: --tls-resume, --tls-sni, --tls-groups and --tls-ciphers "
			"need --tls\n");
		return -1;
	}
	if (o->tls_version != 0 && !o->client) {
		fprintf(stderr, "hf-loadgen: --tls is the client's (the server role is plaintext)\n");
		return -1;
	}
	/*
	 * X25519 for the key exchange; P-256 listed after it because a TLS 1.2
	 * server may only use an ECDSA P-256 certificate with a client that
	 * lists that curve (RFC 8422 5.1). In TLS 1.3 the one key share sent is
	 * X25519's.
	 */
	if (o->tls_groups == NULL)
		o->tls_groups = "X25519:P-256";
	if (o->tls_ciphers == NULL)
		o->tls_ciphers = o->tls_version == HF_TLS_V1_3 ? "TLS_AES_128_GCM_SHA256" :
				 "ECDHE-ECDSA-AES128-GCM-SHA256";
	if (o->warmup_s >= o->duration_s) {
		fprintf(stderr, "hf-loadgen: --warmup must be shorter than --duration\n");
		return -1;
	}
	/* --body-size is the request's with a client role, else the response's. */
	if (o->client && body >= 0)
		o->body_size = (uint32_t)body;
	if (resp >= 0)
		o->response_size = (uint32_t)resp;
	else if (!o->client && body >= 0)
		o->response_size = (uint32_t)body;
	return 0;
bad:
	fprintf(stderr, "hf-loadgen: bad value for an option: '%s'\n", optarg);
	usage(stderr);
	return -1;
}

int
main(int argc, char **argv)
{
	static struct hf_port_config bports[HF_MAX_PORTS];
	static struct hf_port ports[HF_MAX_PORTS];
	static struct lg_worker lws[HF_MAX_WORKERS];
	static struct lg_opts o;
	static struct lg_replay replay;
	char *eargv[MAX_EAL_ARGS], prefix[64], err[256], rundir[PATH_MAX];
	const char *lcores = "0-1";
	unsigned int n_ports = 0, opened = 0, w, lcore;
	struct lg_stats total = {0};
	struct hf_hist *hist = NULL, *clean = NULL, *sent = NULL;
	static struct lg_thread th0[MAX_THREADS], th1[MAX_THREADS];
	static struct lg_thread tasks0[MAX_TASKS], tasks1[MAX_TASKS];
	int n_tasks0 = -1, n_tasks1 = -1;
	static struct lg_window win;
	int n_th0 = -1, n_th1 = -1;
	uint64_t hz, t0, t_sig;
	struct sigaction sa;
	sigset_t sigio, sigstop;
	bool interrupted;
	double secs;
	int eargc = 0, status = EXIT_FAILURE, rc;

	if (parse_args(argc, argv, &o, bports, &n_ports, &lcores) != 0)
		return EXIT_USAGE;
	eargv[eargc++] = argv[0];
	eargv[eargc++] = (char *)"--lcores";
	eargv[eargc++] = (char *)lcores;
	for (unsigned int i = 0; i < n_ports; i++)
		eargc += hf_port_eal_args(&bports[i], &eargv[eargc]);
	snprintf(prefix, sizeof(prefix), "--file-prefix=hf-loadgen-%ld", (long)getpid());
	eargv[eargc++] = prefix;
	for (int i = optind; i < argc && eargc < MAX_EAL_ARGS - 1; i++)
		eargv[eargc++] = argv[i];
	eargv[eargc] = NULL;

	/*
	 * The stop signals are the main lcore's alone: blocked while EAL creates
	 * its threads (workers, interrupt and control threads inherit the mask),
	 * so none lands in a worker's device I/O; one sent meanwhile waits.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&sigstop);
	sigaddset(&sigstop, SIGINT);
	sigaddset(&sigstop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigstop, NULL);
	hf_worker_io_signals(&sigio);
	pthread_sigmask(SIG_BLOCK, &sigio, NULL);
	rc = rte_eal_init(eargc, eargv);
	pthread_sigmask(SIG_UNBLOCK, &sigstop, NULL);
	if (rc < 0) {
		fprintf(stderr, "hf-loadgen: EAL init failed: %s\n", rte_strerror(rte_errno));
		return EXIT_FAILURE;
	}
	if (rte_lcore_count() < o.workers + 1) {
		fprintf(stderr, "hf-loadgen: %u workers need %u lcores, EAL has %u\n", o.workers,
			o.workers + 1, rte_lcore_count());
		goto out_eal;
	}
	for (; opened < n_ports; opened++) {
		rc = hf_port_open(&ports[opened], &bports[opened], (uint16_t)opened,
				  (uint16_t)o.workers, err, sizeof(err));
		if (rc != 0) {
			fprintf(stderr, "hf-loadgen: %s\n", err);
			goto out_ports;
		}
	}
	for (w = 0; w < o.workers; w++)
		if ((rc = lw_init(&lws[w], &o, (uint16_t)w, ports, (uint16_t)n_ports)) != 0) {
			fprintf(stderr, "hf-loadgen: cannot set up worker %u: %s\n", w, strerror(-rc));
			goto out_workers;
		}
	if (o.stall_board != NULL) {
		const struct hf_stall_board *b = hf_stall_board_map(o.stall_board, false);

		if (b == NULL) {
			fprintf(stderr, "hf-loadgen: --stall-board %s: %s\n", o.stall_board,
				errno == EINVAL ? "not a stall board" : strerror(errno));
			goto out_workers;
		}
		for (w = 0; w < o.workers; w++)
			lws[w].peer = b;
	}
	if (o.replay_file != NULL) {
		rc = lg_replay_load(&replay, &o, &ports[0], 0, err, sizeof(err));
		if (rc != 0) {
			fprintf(stderr, "hf-loadgen: --replay: %s\n", err);
			goto out_workers;
		}
		lws[0].replay = &replay;
	}
	/* memif comes up when both sides have met: wait for every link before the clock starts. */
	for (unsigned int i = 0; i < LINK_WAIT_S * 100 && !got_signal; i++) {
		bool up = true;

		for (unsigned int p = 0; p < n_ports; p++)
			up = up && hf_port_link_up(&ports[p]);
		if (up)
			break;
		usleep(10000);
	}
	/* Before the clock starts: a few hundred files to read. */
	if (o.json)
		n_tasks0 = lg_tasks_read_all(tasks0, MAX_TASKS);
	hz = rte_get_tsc_hz();
	/* 50 ms for the connections to open (ARP first): the warm-up starts after. */
	t0 = rte_rdtsc() + hz / 20;
	for (w = 0; w < o.workers; w++) {
		lws[w].t_start = t0;
		lws[w].t_warm = t0 + (uint64_t)(o.warmup_s * hz);
		lws[w].t_end = t0 + (uint64_t)(o.duration_s * hz);
	}
	replay.t0 = t0;
	w = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (w == o.workers)
			break;
		lws[w].w->lcore = lcore;
		rte_eal_remote_launch(worker_main, &lws[w], lcore);
		w++;
	}
	if (!o.json)
		fprintf(stderr, "hf-loadgen: running%s%s%s on %u worker%s\n",
			o.client ? " client" : "", o.server ? " server" : "",
			o.replay_file != NULL ? " replay" : "", o.workers,
			o.workers == 1 ? "" : "s");
	/*
	 * The main lcore sleeps through the measured window: with --lcores
	 * 0@0,1@0 it shares a CPU with a worker, and each wake-up takes that CPU
	 * from the worker. Its threads are read just before the window and
	 * after the run (issue 16).
	 */
	sleep_until(lws[0].t_warm - RTE_MIN(lws[0].t_warm - t0, hz * THREADS_LEAD_MS / 1000), hz);
	n_th0 = lg_threads_read(0, th0, MAX_THREADS);
	if (o.client)
		sleep_until(lws[0].t_end, hz);
	/* A server alone has no end of its own: only a signal ends it. */
	for (;;) {
		bool done = o.client || o.replay_file != NULL;

		usleep(10000);
		for (w = 0; w < o.workers && done && o.client; w++)
			/* Pairs with the store of done at the end of the worker's run. */
			done = __atomic_load_n(&lws[w].done, __ATOMIC_ACQUIRE);
		/* Pairs with the release store in lg_replay_poll() after the last pass. */
		if (done && o.replay_file != NULL)
			done = __atomic_load_n(&replay.done, __ATOMIC_ACQUIRE);
		if (got_signal || done)
			break;
	}
	/*
	 * At the end of a run, let the last FINs and ACKs (and the answers to the
	 * replay) go out and in. A signal stops at once: the requests it cut
	 * short would only be counted late.
	 */
	interrupted = got_signal;
	t_sig = signal_tsc;
	if (!interrupted)
		usleep(FIN_GRACE_MS * 1000);
	__atomic_store_n(&lg_stop, true, __ATOMIC_RELEASE);
	stop_workers(lws, o.workers);

	n_th1 = lg_threads_read(0, th1, MAX_THREADS);
	if (o.json)
		n_tasks1 = lg_tasks_read_all(tasks1, MAX_TASKS);

	hist = hf_hist_create(LG_HIST_MAX_NS, LG_HIST_SUB_BITS);
	clean = hf_hist_create(LG_HIST_MAX_NS, LG_HIST_SUB_BITS);
	sent = hf_hist_create(LG_HIST_MAX_NS, LG_HIST_SUB_BITS);
	memset(&win, 0, sizeof(win));
	for (w = 0; w < o.workers; w++) {
		const uint64_t *v = lws[w].w->cnt.v;

		lws[w].st.tx_dropped = v[HF_CNT_PORT_DROP_TX_FULL] + v[HF_CNT_PORT_DROP_TX_REFUSED] +
				       v[HF_CNT_PORT_DROP_LINK_DOWN];
		lws[w].st.retransmits = v[HF_CNT_TCP_RETRANSMITS];
		lws[w].st.loop_stalls = v[HF_CNT_WORKER_STALLS] - lws[w].stalls0[0];
		for (unsigned int k = 0; k < HF_LOOP__N; k++)
			lws[w].st.stall_blame[k] = v[stall_ids[2 + k]] - lws[w].stalls0[2 + k];
		lws[w].st.loop_stalls_500us = v[HF_CNT_WORKER_STALLS_500US] -
					      lws[w].stalls0[2 + HF_LOOP__N];
		lws[w].st.loop_stalls_5ms = v[HF_CNT_WORKER_STALLS_5MS] - lws[w].stalls0[3 + HF_LOOP__N];
		lws[w].st.loop_stalls_preempted = v[HF_CNT_WORKER_STALL_PREEMPTED] -
						  lws[w].stalls0[4 + HF_LOOP__N];
		lws[w].st.loop_stalls_blocked = v[HF_CNT_WORKER_STALL_BLOCKED] -
						lws[w].stalls0[5 + HF_LOOP__N];
		lws[w].st.loop_stalls_unswitched = v[HF_CNT_WORKER_STALL_UNSWITCHED] -
						   lws[w].stalls0[6 + HF_LOOP__N];
		merge(&total, &lws[w].st);
		if (hist != NULL && lws[w].hist != NULL)
			hf_hist_merge(hist, lws[w].hist);
		if (clean != NULL && lws[w].hist_clean != NULL)
			hf_hist_merge(clean, lws[w].hist_clean);
		if (sent != NULL && lws[w].hist_sent != NULL)
			hf_hist_merge(sent, lws[w].hist_sent);
		hf_loop_stats_merge(&win.loop, &lws[w].w->loop);
		win.longest_client = RTE_MAX(win.longest_client, lws[w].longest_client);
	}
	win.clean = clean;
	win.sent = sent;
	win.hz = hz;
	win.th0 = th0;
	win.th1 = th1;
	win.n0 = n_th0;
	win.n1 = n_th1;
	win.tasks0 = tasks0;
	win.tasks1 = tasks1;
	win.nt0 = n_tasks0;
	win.nt1 = n_tasks1;
	/* An interrupted client measured from the end of its warm-up to the signal. */
	secs = o.duration_s - o.warmup_s;
	if (interrupted && o.client && t_sig < lws[0].t_end)
		secs = t_sig > lws[0].t_warm ? (double)(t_sig - lws[0].t_warm) / hz : 0;
	if (hist != NULL && clean != NULL && sent != NULL)
		report(&o, &total, hist, secs, interrupted && o.client && t_sig < lws[0].t_end,
		       o.replay_file != NULL ? &replay : NULL, &win, lws[0].tls_desc,
		       lws[0].tls_err);
	fflush(stdout);
	hf_hist_free(hist);
	hf_hist_free(clean);
	hf_hist_free(sent);
	status = 0;

out_workers:
	lg_replay_free(&replay);
	for (w = 0; w < o.workers; w++)
		lw_fini(&lws[w]);
out_ports:
	while (opened > 0)
		hf_port_close(&ports[--opened]);
out_eal:
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	remove_runtime_dir(rundir, prefix + strlen("--file-prefix="));
	return status;
}
