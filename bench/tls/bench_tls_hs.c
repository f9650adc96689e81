/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_tls_hs: the server's CPU per full TLS handshake, in memory, beside
 * the same process's measure of the crypto a handshake cannot avoid (the
 * "ceiling": one ECDSA P-256 signature and the key exchange's operations),
 * for A/B runs of the settings issue 13 asks about.
 *
 * The server side is what a worker runs: a listener's contexts from
 * tls/ctx.c's hf_tls_lctx_new() in a library context of its own, an SSL per
 * connection with the connection as its app data (the ClientHello callback
 * and the ticket callback read it), session tickets sealed with a published
 * key. The client runs in the same thread over a BIO pair; only the time
 * inside the server's calls (SSL_new, SSL_do_handshake, SSL_free, or
 * SSL_clear when reusing) is counted, as thread CPU time and TSC cycles, so
 * the figure survives a machine shared with other work better than a rate.
 *
 * With -i N it measures memory instead: N connections handshake, carry one
 * request and one response each way and stay open (the clients in a child
 * process); then the server process's RSS growth per idle connection, the
 * heap bytes OpenSSL still holds from the server's calls (as glibc sizes
 * them: malloc_usable_size plus its 8-byte chunk header), and our slot
 * (hf_tls_conn_footprint), which the worker's pool holds from start.
 *
 * Usage: bench_tls_hs [-v 13|12] [-n HANDSHAKES] [-t TICKETS] [-g GROUPS] [-r] [-d] [-i N] [-s] [-c K]
 *   -v  protocol version (default 13)
 *   -n  handshakes measured (default 2000, after 100 unmeasured)
 *   -t  TLS 1.3 session tickets the server sends (default: what tls/ctx.c sets)
 *   -g  the client's groups, in its order of preference (default X25519:P-256)
 *   -r  reuse server SSLs (SSL_clear) instead of SSL_new/SSL_free per connection
 *   -d  the default library context instead of one of our own
 *   -i  N idle connections: bytes per idle connection, no timing
 *   -c  K handshakes in flight at once, a flight of each in turn (default 1; at most 256)
 *   -s  getpid() a system call each time, as without tls/pid.c's cache (which a worker sets up)
 * Prints one line: key=value pairs (server_us, server_cycles, ceiling_us, share).
 */
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <rte_cycles.h>

#include "bench/tls/bench_tls_ctx.h"
#include "tls/tls.h"

/* Heap bytes (and chunks) held by what the server's calls allocated: -i's figure. */
static bool in_server;
static long long srv_bytes, srv_chunks;

static void *
c_malloc(size_t n, const char *f, int l)
{
	void *p = malloc(n);

	(void)f;
	(void)l;
	if (p != NULL && in_server) {
		srv_bytes += (long long)malloc_usable_size(p) + 8;
		srv_chunks++;
	}
	return p;
}

static void
c_free(void *p, const char *f, int l)
{
	(void)f;
	(void)l;
	if (p != NULL && in_server) {
		srv_bytes -= (long long)malloc_usable_size(p) + 8;
		srv_chunks--;
	}
	free(p);
}

static void *
c_realloc(void *p, size_t n, const char *f, int l)
{
	long long old = p != NULL ? (long long)malloc_usable_size(p) + 8 : 0;
	void *q;

	if (p == NULL)
		return c_malloc(n, f, l);
	q = realloc(p, n);
	if (q != NULL && in_server)
		srv_bytes += (long long)malloc_usable_size(q) + 8 - old;
	return q;
}

/* Resident bytes of the process (/proc/self/statm). */
static long long
rss(void)
{
	long pages = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%ld %ld", &pages, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (long long)res * sysconf(_SC_PAGESIZE);
}

#define HS_CONC_MAX 256

static uint64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct meter {
	uint64_t ns, cyc, t0, c0;
};

static inline void
m_start(struct meter *m)
{
	in_server = true;
	m->t0 = cpu_ns();
	m->c0 = rte_rdtsc();
}

static inline void
m_stop(struct meter *m)
{
	m->cyc += rte_rdtsc() - m->c0;
	m->ns += cpu_ns() - m->t0;
	in_server = false;
}

/* The PEM certificate and key of bench_tls_ctx.c's certificate, through a server context. */
static int
pem_of(SSL_CTX *ctx, char **cert, uint32_t *clen, char **key, uint32_t *klen)
{
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int rc = -1;

	if (cb == NULL || kb == NULL || !PEM_write_bio_X509(cb, SSL_CTX_get0_certificate(ctx)) ||
	    !PEM_write_bio_PrivateKey(kb, SSL_CTX_get0_privatekey(ctx), NULL, NULL, 0, NULL, NULL))
		goto out;
	n = BIO_get_mem_data(cb, &p);
	*cert = strndup(p, (size_t)n);
	*clen = (uint32_t)n;
	n = BIO_get_mem_data(kb, &p);
	*key = strndup(p, (size_t)n);
	*klen = (uint32_t)n;
	rc = *cert != NULL && *key != NULL ? 0 : -1;
out:
	BIO_free(cb);
	BIO_free(kb);
	return rc;
}

/* Microseconds of CPU for one P-256 signature (SHA-256) with @p key, in @p lib. */
static double
sign_us(OSSL_LIB_CTX *lib, EVP_PKEY *key)
{
	unsigned char tbs[64] = {1}, sig[128];
	uint64_t t0 = cpu_ns();
	int n = 500;

	for (int i = 0; i < n; i++) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		size_t sl = sizeof(sig);

		if (EVP_DigestSignInit_ex(md, NULL, "SHA256", lib, NULL, key, NULL) != 1 ||
		    EVP_DigestSign(md, sig, &sl, tbs, sizeof(tbs)) != 1)
			return -1;
		EVP_MD_CTX_free(md);
	}
	return (double)(cpu_ns() - t0) / 1e3 / n;
}

/* Microseconds of CPU for one key exchange derive in group @p g ("X25519", "P-256"). */
static double
derive_us(OSSL_LIB_CTX *lib, const char *g)
{
	EVP_PKEY *a, *b;
	unsigned char out[64];
	uint64_t t0;
	int n = 500;

	if (strcmp(g, "X25519") == 0) {
		a = EVP_PKEY_Q_keygen(lib, NULL, "X25519");
		b = EVP_PKEY_Q_keygen(lib, NULL, "X25519");
	} else {
		a = EVP_PKEY_Q_keygen(lib, NULL, "EC", g);
		b = EVP_PKEY_Q_keygen(lib, NULL, "EC", g);
	}
	if (a == NULL || b == NULL)
		return -1;
	t0 = cpu_ns();
	for (int i = 0; i < n; i++) {
		EVP_PKEY_CTX *d = EVP_PKEY_CTX_new_from_pkey(lib, a, NULL);
		size_t ol = sizeof(out);

		if (d == NULL || EVP_PKEY_derive_init(d) != 1 || EVP_PKEY_derive_set_peer(d, b) != 1 ||
		    EVP_PKEY_derive(d, out, &ol) != 1)
			return -1;
		EVP_PKEY_CTX_free(d);
	}
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	return (double)(cpu_ns() - t0) / 1e3 / n;
}

/*
 * -i: @p n connections over socketpairs, the clients in a child process so
 * that this process's RSS holds only the server's side (socket BIOs keep no
 * buffer of their own, as ours keeps none outside the mbuf pool). Each
 * connection: a full handshake, one request and its response, then idle.
 */
static int
idle_run(struct hf_tls_lctx *x, SSL_CTX *cctx, int n, int ver, int tickets)
{
	static const char rq[] = "GET / HTTP/1.1\r\nhost: a\r\n\r\n";
	static const char rs[] = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
	struct rlimit rl = {(rlim_t)n * 2 + 64, (rlim_t)n * 2 + 64};
	SSL **ss = calloc((size_t)n, sizeof(SSL *));
	struct hf_tls_conn *conns = calloc((size_t)n, sizeof(*conns));
	int *fds = calloc((size_t)n * 2, sizeof(int));
	int go[2], fails = 0, st = 0;
	long long rss0, b0, k0;
	char b[256];
	size_t k;
	pid_t pid;

	if (ss == NULL || conns == NULL || fds == NULL || pipe(go) != 0)
		return 1;
	setrlimit(RLIMIT_NOFILE, &rl);
	for (int i = 0; i < n; i++)
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, &fds[2 * i]) != 0) {
			perror("bench_tls_hs: socketpair");
			return 1;
		}
	pid = fork();
	if (pid == 0) {
		SSL **cs = calloc((size_t)n, sizeof(SSL *));

		for (int i = 0; cs != NULL && i < n; i++) {
			cs[i] = SSL_new(cctx);
			SSL_set_fd(cs[i], fds[2 * i + 1]);
			if (SSL_connect(cs[i]) != 1 || SSL_write_ex(cs[i], rq, sizeof(rq) - 1, &k) != 1 ||
			    SSL_read_ex(cs[i], b, sizeof(b), &k) != 1)
				_exit(1);
		}
		/* stay connected until the parent has measured */
		close(go[1]);
		if (read(go[0], b, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	rss0 = rss();
	b0 = srv_bytes;
	k0 = srv_chunks;
	for (int i = 0; i < n; i++) {
		conns[i].lctx = x;
		in_server = true;
		ss[i] = SSL_new(x->ctx[0]);
		SSL_set_fd(ss[i], fds[2 * i]);
		SSL_set_app_data(ss[i], &conns[i]);
		if (SSL_accept(ss[i]) != 1 || SSL_read_ex(ss[i], b, sizeof(b), &k) != 1 ||
		    SSL_write_ex(ss[i], rs, sizeof(rs) - 1, &k) != 1)
			fails++;
		/* As a worker reads: until WANT_READ, then the buffers back (hf_tls_recv_slow). */
		fcntl(fds[2 * i], F_SETFL, O_NONBLOCK);
		if (SSL_read_ex(ss[i], b, sizeof(b), &k) == 1)
			fails++;
		SSL_free_buffers(ss[i]);
		in_server = false;
		ERR_clear_error();
	}
	printf("version=1.%d idle_connections=%d fails=%d tickets=%d server_heap_bytes_per_conn=%.0f "
	       "server_chunks_per_conn=%.1f slot_bytes=%zu rss_bytes_per_conn=%.0f\n",
	       ver == 12 ? 2 : 3, n, fails, tickets, (double)(srv_bytes - b0) / n,
	       (double)(srv_chunks - k0) / n, hf_tls_conn_footprint(), (double)(rss() - rss0) / n);
	close(go[1]);
	waitpid(pid, &st, 0);
	for (int i = 0; i < n; i++) {
		SSL_free(ss[i]);
		close(fds[2 * i]);
		close(fds[2 * i + 1]);
	}
	free(ss);
	free(conns);
	free(fds);
	return fails == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

/* The server's handshake step, out of line: a profile tells the server's stacks by it. */
static __attribute__((noinline)) int
server_handshake(SSL *s)
{
	int rc = SSL_do_handshake(s);

	__asm__ volatile("" ::: "memory");	/* no tail call: this frame stays on the stack */
	return rc;
}

int
main(int argc, char **argv)
{
	static const char *const names[] = {"*"};
	static struct hf_tls_tickets keys = {.gen = 1, .n = 1};
	struct hf_tls_server_config sc = {.n_names = 1, .names = names};
	struct hf_tls_listener_config lc = {.id = 1, .n_servers = 1, .servers = &sc};
	static struct hf_tls_conn conn[HS_CONC_MAX];
	SSL *s[HS_CONC_MAX] = {NULL};
	int conc = 1;
	const char *groups = "X25519:P-256";
	int ver = 13, n = 2000, tickets = -1, reuse = 0, deflib = 0, idle = 0, pidsys = 0, opt;
	OSSL_LIB_CTX *lib = NULL;
	SSL_CTX *tmp, *cctx;
	struct hf_tls_lctx *x;
	struct meter m = {0};
	char err[256];
	double sg, kx, ceil_us;
	int fails = 0;

	/* Before OpenSSL allocates anything. */
	if (!CRYPTO_set_mem_functions(c_malloc, c_realloc, c_free))
		return 1;
	while ((opt = getopt(argc, argv, "v:n:t:g:rdi:sc:")) != -1) {
		switch (opt) {
		case 'v': ver = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 't': tickets = atoi(optarg); break;
		case 'g': groups = optarg; break;
		case 'r': reuse = 1; break;
		case 'd': deflib = 1; break;
		case 'i': idle = atoi(optarg); break;
		case 's': pidsys = 1; break;
		case 'c': conc = RTE_MAX(1, RTE_MIN(atoi(optarg), HS_CONC_MAX)); break;
		default:
			fprintf(stderr, "usage: bench_tls_hs [-v 13|12] [-n N] [-t TICKETS] "
				"[-g GROUPS] [-r] [-d] [-i N] [-s] [-c K]\n");
			return 2;
		}
	}
	if (!pidsys)
		hf_tls_pid_init();
	sc.min_version = sc.max_version = ver == 12 ? HF_TLS_V1_2 : HF_TLS_V1_3;
	sc.ciphers = ver == 12 ? "ECDHE-ECDSA-AES128-GCM-SHA256" : NULL;
	if (!deflib && (lib = OSSL_LIB_CTX_new()) == NULL)
		return 1;
	/* bench_tls_ctx.c's certificate, as PEM for the listener config */
	tmp = bench_tls_server_ctx(NULL, sc.min_version);
	if (tmp == NULL || pem_of(tmp, (char **)&sc.cert_pem, &sc.cert_len, (char **)&sc.key_pem,
				  &sc.key_len) != 0)
		return 1;
	SSL_CTX_free(tmp);
	/* a published ticket key, as the agent's rotation makes them: tickets are on */
	RAND_bytes((unsigned char *)&keys.key[0], sizeof(keys.key[0]));
	hf_tls_tickets_now = &keys;
	x = hf_tls_lctx_new(lib, &lc, err, sizeof(err));
	cctx = bench_tls_client_ctx(lib, sc.min_version);
	if (x == NULL || cctx == NULL || SSL_CTX_set1_groups_list(cctx, groups) != 1) {
		fprintf(stderr, "bench_tls_hs: contexts: %s\n", x == NULL ? err : "client");
		return 1;
	}
	if (tickets >= 0)
		SSL_CTX_set_num_tickets(x->ctx[0], (size_t)tickets);
	if (idle > 0)
		return idle_run(x, cctx, idle, ver, tickets);
	/*
	 * Batches of `conc` connections whose handshakes advance together, one
	 * flight of each in turn, as a worker interleaves the connections in
	 * flight (1: one handshake at a time, hot in the caches).
	 */
	for (int i = -((100 + conc - 1) / conc) * conc; i < n; i += conc) {
		SSL *c[HS_CONC_MAX];
		int cd[HS_CONC_MAX], sd[HS_CONC_MAX], k = RTE_MIN(conc, n - i);

		if (i == 0)
			memset(&m, 0, sizeof(m));	/* the batches before warmed up */
		for (int j = 0; j < k; j++) {
			BIO *sb = NULL, *cb = NULL;

			c[j] = SSL_new(cctx);
			cd[j] = sd[j] = 0;
			memset(&conn[j], 0, sizeof(conn[j]));
			conn[j].lctx = x;
			m_start(&m);
			if (s[j] == NULL)
				s[j] = SSL_new(x->ctx[0]);
			m_stop(&m);
			if (s[j] == NULL || c[j] == NULL || !BIO_new_bio_pair(&sb, 0, &cb, 0))
				return 1;
			SSL_set_bio(s[j], sb, sb);
			SSL_set_bio(c[j], cb, cb);
			SSL_set_app_data(s[j], &conn[j]);
			SSL_set_accept_state(s[j]);
			SSL_set_connect_state(c[j]);
		}
		for (int round = 0; round < 16; round++) {
			int done = 0;

			for (int j = 0; j < k; j++)
				if (cd[j] == 0) {
					int rc = SSL_do_handshake(c[j]);

					if (rc == 1)
						cd[j] = 1;
					else if (SSL_get_error(c[j], rc) != SSL_ERROR_WANT_READ)
						cd[j] = -1;
				}
			for (int j = 0; j < k; j++) {
				if (sd[j] == 0) {
					int rc;

					m_start(&m);
					rc = server_handshake(s[j]);
					m_stop(&m);
					if (rc == 1)
						sd[j] = 1;
					else if (SSL_get_error(s[j], rc) != SSL_ERROR_WANT_READ)
						sd[j] = -1;
				}
				done += cd[j] != 0 && sd[j] != 0;
			}
			if (done == k)
				break;
		}
		for (int j = 0; j < k; j++) {
			if (cd[j] != 1 || sd[j] != 1)
				fails++;
			/* the client reads the tickets, as a real one does */
			if (cd[j] == 1) {
				char b[16];

				SSL_read(c[j], b, sizeof(b));
			}
			ERR_clear_error();
			m_start(&m);
			if (reuse && sd[j] == 1 && SSL_clear(s[j]) == 1) {
				SSL_set_bio(s[j], NULL, NULL);
			} else {
				SSL_free(s[j]);
				s[j] = NULL;
			}
			m_stop(&m);
			SSL_free(c[j]);
		}
	}
	for (int j = 0; j < conc; j++)
		SSL_free(s[j]);
	{
		EVP_PKEY *k = SSL_CTX_get0_privatekey(x->ctx[0]);
		const char *g = strncmp(groups, "P-256", 5) == 0 ? "P-256" : "X25519";

		sg = sign_us(lib, k);
		kx = derive_us(lib, g);
		ceil_us = sg + 2 * kx;
		printf("version=1.%d handshakes=%d in_flight=%d fails=%d tickets=%d reuse=%d lib=%s "
		       "group=%s getpid=%s "
		       "server_us=%.1f server_cycles=%.0f per_core=%.0f sign_us=%.1f derive_us=%.1f "
		       "ceiling_us=%.1f ceiling_per_core=%.0f share=%.0f%%\n",
		       ver == 12 ? 2 : 3, n, conc, fails, tickets, reuse, deflib ? "default" : "own", g,
		       pidsys ? "syscall" : "cached",
		       (double)m.ns / 1e3 / n, (double)m.cyc / n, 1e9 * n / (double)m.ns, sg, kx,
		       ceil_us, 1e6 / ceil_us, 100.0 * ceil_us / ((double)m.ns / 1e3 / n));
	}
	hf_tls_tickets_now = NULL;
	hf_tls_lctx_put(x);
	SSL_CTX_free(cctx);
	OSSL_LIB_CTX_free(lib);
	return fails == 0 ? 0 : 1;
}
