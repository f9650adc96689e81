/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP proxy's byte handling: stream readers that hand the parser a
 * contiguous head (gathering only a head that spans segments), zero-copy
 * cutting of a stream at a message boundary, and the heads the proxy writes
 * (forwarded requests and responses with their hop-by-hop fields replaced,
 * and local replies).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#ifdef __SSSE3__
#include <tmmintrin.h>
#endif

#include <rte_byteorder.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "dataplane/proxy/http-int.h"
#include "dataplane/proxy/router.h"
#include "dataplane/snapshot-t.h"
#include "dataplane/tcp/tcp.h"
#include "tls/tls.h"
#include "dataplane/worker.h"
#include "tls/tls.h"

void
hf_http_mq_append(struct hf_tcp_mq *q, struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		if (m->data_len == 0) {
			rte_pktmbuf_free_seg(m);
			m = next;
			continue;
		}
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
		if (q->tail != NULL)
			q->tail->next = m;
		else
			q->head = m;
		q->tail = m;
		q->bytes += m->data_len;
		m = next;
	}
}

void
hf_http_mq_free(struct hf_tcp_mq *q)
{
	struct rte_mbuf *m = q->head;

	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		rte_pktmbuf_free_seg(m);
		m = next;
	}
	q->head = q->tail = NULL;
	q->bytes = 0;
}

/* The first @p k bytes of @p seg as a packet of their own; @p seg keeps the rest. */
static struct rte_mbuf *
cut(struct hf_worker *w, struct rte_mbuf *seg, uint16_t k)
{
	struct rte_mbuf *next = seg->next, *c;

	/* rte_pktmbuf_clone() follows ->next: the segment alone is cloned, not the queue behind it. */
	seg->next = NULL;
	c = rte_pktmbuf_clone(seg, w->tcp->clone_pool);
	seg->next = next;

	if (c == NULL) {
		/* No indirect mbuf left: a short copy keeps the stream going. */
		c = rte_pktmbuf_alloc(seg->pool);
		if (c == NULL || rte_pktmbuf_append(c, k) == NULL) {
			rte_pktmbuf_free(c);
			return NULL;
		}
		memcpy(rte_pktmbuf_mtod(c, void *), rte_pktmbuf_mtod(seg, void *), k);
	}
	c->data_len = k;
	c->pkt_len = k;
	c->nb_segs = 1;
	c->next = NULL;
	rte_pktmbuf_adj(seg, k);
	return c;
}

struct rte_mbuf *
hf_http_chain_clone(struct hf_worker *w, struct rte_mbuf *m)
{
	struct rte_mbuf *head = NULL, *tail = NULL;

	for (struct rte_mbuf *seg = m; seg != NULL; seg = seg->next) {
		struct rte_mbuf *next = seg->next, *c;

		/* Segment by segment: rte_pktmbuf_clone() follows ->next, and counts nb_segs. */
		seg->next = NULL;
		c = rte_pktmbuf_clone(seg, w->tcp->clone_pool);
		seg->next = next;
		if (c == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		if (tail != NULL)
			tail->next = c;
		else
			head = c;
		tail = c;
	}
	return head;
}

struct rte_mbuf *
hf_http_mq_take(struct hf_worker *w, struct hf_tcp_mq *q, uint64_t n, uint32_t *taken,
		bool *nomem)
{
	struct rte_mbuf *head = NULL, *tail = NULL;
	uint32_t got = 0;

	*nomem = false;
	while (q->head != NULL && got < n) {
		struct rte_mbuf *seg = q->head;

		if (seg->data_len <= n - got) {
			q->head = seg->next;
			if (q->head == NULL)
				q->tail = NULL;
			seg->next = NULL;
		} else {
			seg = cut(w, seg, (uint16_t)(n - got));
			if (seg == NULL) {
				*nomem = true;
				break;
			}
		}
		q->bytes -= seg->data_len;
		got += seg->data_len;
		if (tail != NULL)
			tail->next = seg;
		else
			head = seg;
		tail = seg;
	}
	*taken = got;
	return head;
}

uint32_t
hf_http_rd_pull_slow(struct hf_worker *w, struct hf_http_reader *rd, struct hf_tcp_conn *c,
		     uint32_t max)
{
	struct rte_mbuf *m;
	uint32_t before = rd->q.bytes;

	/* Plaintext: decrypted here when @p c runs TLS. */
	m = hf_tls_recv(w, c, max - rd->q.bytes);
	/* A byte per segment must not become an mbuf per byte: small ones go into the tail's room. */
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
		if (rd->q.tail != NULL && hf_tcp_mbuf_absorb(rd->q.tail, m)) {
			rd->q.bytes += m->data_len;
			rte_pktmbuf_free_seg(m);
		} else if (m->data_len == 0) {
			rte_pktmbuf_free_seg(m);
		} else {
			/* hf_http_mq_append() for the one segment, without its loop */
			if (rd->q.tail != NULL)
				rd->q.tail->next = m;
			else
				rd->q.head = m;
			rd->q.tail = m;
			rd->q.bytes += m->data_len;
		}
		m = next;
	}
	return rd->q.bytes - before;
}

int
hf_http_heads_init(struct hf_http_heads *hp, uint32_t size, uint32_t count)
{
	hp->bufs = rte_malloc("hf_http_heads", (size_t)size * count, RTE_CACHE_LINE_SIZE);
	hp->free = rte_malloc("hf_http_heads_free", sizeof(char *) * count, 0);
	if (hp->bufs == NULL || hp->free == NULL) {
		hf_http_heads_fini(hp);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < count; i++)
		hp->free[i] = hp->bufs + (size_t)i * size;
	hp->n_free = hp->count = count;
	hp->size = size;
	return 0;
}

void
hf_http_heads_fini(struct hf_http_heads *hp)
{
	rte_free(hp->free);
	rte_free(hp->bufs);
	/* No reachable pointer to freed memory. */
	*hp = (struct hf_http_heads){0};
}

static char *
buf_get(struct hf_http_heads *hp)
{
	return hp->n_free > 0 ? hp->free[--hp->n_free] : NULL;
}

static void
buf_put(struct hf_http_heads *hp, char *b)
{
	hp->free[hp->n_free++] = b;
}

int
hf_http_rd_head(struct hf_http_heads *hp, struct hf_http_reader *rd, bool request,
		const struct hf_h1_limits *lim, struct hf_h1_message *msg)
{
	const struct rte_mbuf *seg = rd->q.head;
	uint32_t skip, want;
	int rc;

	if (seg == NULL)
		return HF_AGAIN;
	if (rd->buf == NULL) {
		/* The usual case: the whole head is in the first segment, parsed where it lies. */
		rc = request ? hf_h1_parse_request(rte_pktmbuf_mtod(seg, const char *), seg->data_len,
						   &rd->scan, lim, msg)
			     : hf_h1_parse_response(rte_pktmbuf_mtod(seg, const char *),
						    seg->data_len, &rd->scan, lim, msg);
		if (rc != HF_AGAIN || seg->next == NULL)
			return rc;
		rd->buf = buf_get(hp);
		if (rd->buf == NULL)
			return -ENOBUFS;
		rd->buf_len = 0;
	}
	/* Copy what is new since the last call; the scan resumes where it stopped. */
	want = RTE_MIN(rd->q.bytes, hp->size);
	skip = rd->buf_len;
	for (; seg != NULL && rd->buf_len < want; seg = seg->next) {
		uint32_t n;

		if (skip >= seg->data_len) {
			skip -= seg->data_len;
			continue;
		}
		n = RTE_MIN((uint32_t)seg->data_len - skip, want - rd->buf_len);
		memcpy(rd->buf + rd->buf_len, rte_pktmbuf_mtod_offset(seg, const char *, skip), n);
		rd->buf_len += n;
		skip = 0;
	}
	rc = request ? hf_h1_parse_request(rd->buf, rd->buf_len, &rd->scan, lim, msg)
		     : hf_h1_parse_response(rd->buf, rd->buf_len, &rd->scan, lim, msg);
	/* The buffer holds one byte more than any limit: a full one means over the limit. */
	if (rc == HF_AGAIN && rd->buf_len == hp->size)
		rc = HF_H1_E_HEADERS_TOO_LARGE;
	return rc;
}

void
hf_http_rd_consume(struct hf_http_heads *hp, struct hf_http_reader *rd, uint32_t n)
{
	while (n > 0 && rd->q.head != NULL) {
		struct rte_mbuf *seg = rd->q.head;

		if (seg->data_len <= n) {
			n -= seg->data_len;
			rd->q.bytes -= seg->data_len;
			rd->q.head = seg->next;
			if (rd->q.head == NULL)
				rd->q.tail = NULL;
			rte_pktmbuf_free_seg(seg);
		} else {
			rte_pktmbuf_adj(seg, (uint16_t)n);
			seg->pkt_len = seg->data_len;
			rd->q.bytes -= n;
			n = 0;
		}
	}
	if (rd->buf != NULL) {
		buf_put(hp, rd->buf);
		rd->buf = NULL;
	}
	rd->buf_len = 0;
	hf_h1_scan_reset(&rd->scan);
}

void
hf_http_rd_reset(struct hf_http_heads *hp, struct hf_http_reader *rd)
{
	hf_http_mq_free(&rd->q);
	hf_http_rd_consume(hp, rd, 0);
}

void
hf_http_wr_init(struct hf_http_wr *wr, struct rte_mempool *mp)
{
	hf_http_wr_start(wr, mp, rte_pktmbuf_alloc(mp));
}

void
hf_http_wr_put_slow(struct hf_http_wr *wr, const void *p, size_t n)
{
	const char *src = p;

	while (n > 0 && !wr->failed) {
		uint16_t room = wr->tail != NULL ? rte_pktmbuf_tailroom(wr->tail) : 0;
		uint16_t k;

		if (room == 0) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(wr->mp);

			if (m == NULL) {
				wr->failed = true;
				return;
			}
			if (wr->tail != NULL)
				wr->tail->next = m;
			else
				wr->head = m;
			wr->tail = m;
			continue;
		}
		k = (uint16_t)RTE_MIN((size_t)room, n);
		memcpy(rte_pktmbuf_mtod_offset(wr->tail, char *, wr->tail->data_len), src, k);
		wr->tail->data_len += k;
		wr->tail->pkt_len = wr->tail->data_len;
		wr->len += k;
		src += k;
		n -= k;
	}
}

/* Writes @p v in decimal at @p out (room for 10 digits). Returns the digits written. */
static size_t
fmt_u32(char *out, uint32_t v)
{
	char tmp[10];
	size_t n = 0;

	/* Most x-envoy-upstream-service-time values are one digit. */
	if (v < 10) {
		out[0] = (char)('0' + v);
		return 1;
	}
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* Every byte value in decimal, its digits and their count in one word. */
static struct {
	char d[3];
	uint8_t n;
} dec8[256];

static void __attribute__((constructor))
init_dec8(void)
{
	for (unsigned int b = 0; b < 256; b++)
		dec8[b].n = (uint8_t)fmt_u32(dec8[b].d, b);
}

/*
 * Dotted quad of @p addr (network order) at @p out (16 bytes). Returns its length.
 * Every request's x-forwarded-for has one: each byte's digits are one 4-byte
 * store from dec8 (the byte after them is overwritten by the next '.'), not
 * a division per digit (about 120 instructions a request less, callgrind).
 */
static size_t
fmt_ipv4(char *out, uint32_t addr)
{
	const uint8_t *a = (const uint8_t *)&addr;
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		memcpy(out + n, &dec8[a[i]], 4);
		n += dec8[a[i]].n;
		out[n++] = '.';
	}
	out[n - 1] = '\0';
	return n - 1;
}

void
hf_http_wr_discard(struct hf_http_wr *wr)
{
	struct rte_mbuf *m = wr->head;

	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		rte_pktmbuf_free_seg(m);
		m = next;
	}
	wr->head = wr->tail = NULL;
	wr->len = 0;
}

static inline void
put_str(struct hf_http_wr *wr, const char *s)
{
	hf_http_wr_put(wr, s, strlen(s));
}

static inline void
put_slice(struct hf_http_wr *wr, const struct hf_h1_slice *s)
{
	hf_http_wr_put(wr, s->p, s->len);
}

/*
 * Field lines go out in runs: a line the parser made that already reads
 * "name: value\r\n" (one space after the colon, none after the value) is
 * copied as it lies in the head, and lines that follow each other there are
 * one copy; any other line is written piece by piece, ending the run. The
 * bytes sent are the same either way.
 */
struct run {
	const char *p;
	size_t n;
};

static inline void
run_flush(struct hf_http_wr *wr, struct run *r)
{
	if (r->n > 0) {
		hf_http_wr_put(wr, r->p, r->n);
		r->n = 0;
	}
}

/*
 * The fields the proxy adds are gathered on the stack and written with one
 * put: most pieces are a few constant bytes, which cost less to copy than a
 * put's checks and stores (about 130 instructions a request less, callgrind).
 * A piece of unbounded length (a value received, an operation's) is written
 * directly, after what was gathered before it. Between two flushes a message
 * gathers at most the pieces of one head's added fields, well under the
 * buffer (the longest run: x-forwarded-for to the end, 140 bytes).
 */
struct gather {
	size_t n;
	char b[256];
};

static inline void
gather_add(struct gather *g, const void *p, size_t n)
{
	memcpy(g->b + g->n, p, n);
	g->n += n;
}

/* Gathers string literal @p s. */
#define gather_lit(g, s) gather_add((g), (s), sizeof(s) - 1)

static inline void
gather_flush(struct hf_http_wr *wr, struct gather *g)
{
	if (g->n > 0) {
		hf_http_wr_put(wr, g->b, g->n);
		g->n = 0;
	}
}

/* Adds [@p p, @p p + @p n) of the head to run @p r. */
static inline void
run_add(struct hf_http_wr *wr, struct run *r, const char *p, size_t n)
{
	if (r->n > 0 && r->p + r->n == p) {
		r->n += n;
		return;
	}
	run_flush(wr, r);
	r->p = p;
	r->n = n;
}

static inline __attribute__((always_inline)) void
put_field(struct hf_http_wr *wr, struct run *r, const struct hf_h1_header *f)
{
	const char *n = f->name.p, *v = f->value.p;
	uint32_t nl = f->name.len, vl = f->value.len;

	/* The parser's fields only (hf_h1_header): their line is there to read. */
	if (f->field != HF_H1_FLD_UNKNOWN && v == n + nl + 2 && n[nl + 1] == ' ' && v[vl] == '\r') {
		run_add(wr, r, n, (size_t)nl + vl + 4);
		return;
	}
	run_flush(wr, r);
	put_slice(wr, &f->name);
	hf_http_wr_put(wr, ": ", 2);
	put_slice(wr, &f->value);
	hf_http_wr_put(wr, "\r\n", 2);
}

/*
 * RFC 9110 7.6.1: whether field @p f (named @p id) concerns one hop only.
 * Besides those named here, a field a Connection option names (rare:
 * HF_H1_F_CONN_NAMES says whether there is one) — but never the framing
 * fields, which must reach the next hop as they came, nor Host:
 * "Connection: host" would have the upstream get a request without the
 * authority it was routed by (RFC 9112 3.2 requires one).
 */
static bool
hop_by_hop(const struct hf_h1_message *msg, const struct hf_h1_header *f, enum hf_h1_field id,
	   bool keep_upgrade)
{
	switch (id) {
	case HF_H1_FLD_TE:
	case HF_H1_FLD_TRAILER:
	case HF_H1_FLD_CONNECTION:
	case HF_H1_FLD_KEEP_ALIVE:
	case HF_H1_FLD_PROXY_CONNECTION:
		return true;
	case HF_H1_FLD_UPGRADE:
		return !keep_upgrade;
	case HF_H1_FLD_HOST:
	case HF_H1_FLD_CONTENT_LENGTH:
	case HF_H1_FLD_TRANSFER_ENCODING:
		return false;
	default:
		return (msg->flags & HF_H1_F_CONN_NAMES) &&
		       hf_h1_conn_option(msg, f->name.p, f->name.len);
	}
}

/* True when an operation of @p x sets or removes field @p n (the received ones are dropped). */
static bool
replaced_by_ops(const struct hf_http_rq_extra *x, const struct hf_h1_slice *n)
{
	for (int k = 0; k < 2; k++)
		for (unsigned int i = 0; i < x->n_ops[k]; i++) {
			const struct hf_route_hdr_op *o = &x->ops[k][i];

			if (o->op != HF_HDR_ADD && o->name_len == n->len &&
			    strncasecmp(o->name, n->p, n->len) == 0)
				return true;
		}
	return false;
}

static void
put_ops(struct hf_http_wr *wr, const struct hf_http_rq_extra *x)
{
	for (int k = 0; k < 2; k++)
		for (unsigned int i = 0; i < x->n_ops[k]; i++) {
			const struct hf_route_hdr_op *o = &x->ops[k][i];

			if (o->op == HF_HDR_REMOVE)
				continue;
			hf_http_wr_put(wr, o->name, o->name_len);
			hf_http_wr_put(wr, ": ", 2);
			hf_http_wr_put(wr, o->value, o->value_len);
			hf_http_wr_put(wr, "\r\n", 2);
		}
}

int
hf_http_edit_add_one(char *e, size_t *len, char op, const char *name, const char *value,
		     size_t value_len)
{
	size_t nl = strlen(name), need = 1 + nl + 1 + value_len + 1;
	char *p;

	/* *len counts the entries; the terminator after them always has its byte. */
	if (*len + need + 1 > HF_HTTP_EDIT_MAX)
		return -ENOSPC;
	p = e + *len;
	*p++ = op;
	memcpy(p, name, nl + 1);
	p += nl + 1;
	memcpy(p, value, value_len);
	p[value_len] = '\0';
	*len += need;
	e[*len] = '\0';
	return 0;
}

int
hf_http_edit_add(char *e, size_t *len, const struct hf_route_hdr_op *ops, unsigned int n)
{
	size_t before = *len;

	for (unsigned int i = 0; i < n; i++) {
		char op = ops[i].op == HF_HDR_SET ? 's' : ops[i].op == HF_HDR_ADD ? 'a' : 'r';

		if (hf_http_edit_add_one(e, len, op, ops[i].name, ops[i].value, ops[i].value_len) != 0) {
			*len = before;
			e[before] = '\0';
			return -ENOSPC;
		}
	}
	return 0;
}

/* True when the edit list sets or removes field @p n. */
static bool
replaced_by_edit(const char *e, const struct hf_h1_slice *n)
{
	while (e != NULL && *e != '\0') {
		const char *name = e + 1, *value = name + strlen(name) + 1;

		if (*e != 'a' && strlen(name) == n->len && strncasecmp(name, n->p, n->len) == 0)
			return true;
		e = value + strlen(value) + 1;
	}
	return false;
}

static void
put_edit(struct hf_http_wr *wr, const char *e)
{
	while (e != NULL && *e != '\0') {
		const char *name = e + 1, *value = name + strlen(name) + 1;

		if (*e != 'r') {
			hf_http_wr_put(wr, name, strlen(name));
			hf_http_wr_put(wr, ": ", 2);
			hf_http_wr_put(wr, value, strlen(value));
			hf_http_wr_put(wr, "\r\n", 2);
		}
		e = value + strlen(value) + 1;
	}
}

void
hf_http_copy_str(char *dst, size_t cap, const char *p, size_t n)
{
	n = RTE_MIN(n, cap - 1);
	memcpy(dst, p, n);
	dst[n] = '\0';
}

/*
 * xoshiro256** (Blackman and Vigna), one state per thread, seeded from
 * rte_rand() on first use: rte_rand() is a call into librte_eal whose
 * per-lcore state costs a __tls_get_addr() there, twice per request for the
 * x-request-id (both together were 0.5% of the worker's samples at c=64).
 * Same class of generator (a 256-bit-state LFSR-like PRNG, not a secret):
 * an x-request-id needs to be unique, not unpredictable.
 */
static __thread uint64_t uuid_rng[4];

static inline uint64_t
rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* One step of the generator on state @p s. */
static inline uint64_t
xoshiro_next(uint64_t s[4])
{
	uint64_t r = rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return r;
}

/* The 128 bits of an x-request-id: two steps on a copy of the state held in registers. */
static inline void
uuid_rand(uint64_t *r0, uint64_t *r1)
{
	uint64_t s[4] = {uuid_rng[0], uuid_rng[1], uuid_rng[2], uuid_rng[3]};

	if (unlikely((s[0] | s[1] | s[2] | s[3]) == 0))
		for (int i = 0; i < 4; i++)
			s[i] = rte_rand();	/* an all-zero state would stay zero */
	*r0 = xoshiro_next(s);
	*r1 = xoshiro_next(s);
	memcpy(uuid_rng, s, sizeof(s));
}

#ifdef __SSSE3__
/*
 * 128 random bits as 32 hex digits in one table shuffle: each byte split
 * into its two nibbles (one a byte), the version and variant nibbles set,
 * the nibbles looked up in "0123456789abcdef", then shuffled into the
 * 8-4-4-4-12 layout around the dashes. Which random nibble lands where does
 * not matter. About 90 instructions where the scalar one below took 200
 * (callgrind).
 */
void
hf_http_uuid4(char *out)
{
	const __m128i hex = _mm_setr_epi8('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a',
					  'b', 'c', 'd', 'e', 'f');
	const __m128i low = _mm_set1_epi8(0x0f);
	uint64_t r0, r1;

	uuid_rand(&r0, &r1);
	__m128i r = _mm_set_epi64x((long long)r1, (long long)r0);
	__m128i hi = _mm_and_si128(_mm_srli_epi16(r, 4), low), lo = _mm_and_si128(r, low);
	/* digits 0-15 and 16-31: each byte's high nibble first */
	__m128i a = _mm_unpacklo_epi8(hi, lo), b = _mm_unpackhi_epi8(hi, lo);
	/* digit 12 (the 13th, after "xxxxxxxx-xxxx-") the version, 4; digit 16 the variant, 10xx */
	a = _mm_or_si128(_mm_and_si128(a, _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
							  -1, 0, -1, -1, -1)),
			 _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0));
	b = _mm_or_si128(_mm_and_si128(b, _mm_setr_epi8(3, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
							  -1, -1, -1, -1, -1)),
			 _mm_setr_epi8(8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
	a = _mm_shuffle_epi8(hex, a);
	b = _mm_shuffle_epi8(hex, b);
	/*
	 * out[0..15]: digits 0-7 '-' 8-11 '-' 12-13; out[16..31]: digits 14-15 '-'
	 * 16-19 '-' 20-27; out[32..35]: digits 28-31. A shuffle index of -1 gives
	 * 0, where the dash is OR-ed in.
	 */
	const __m128i dash0 = _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, '-', 0, 0, 0, 0, '-', 0, 0);
	const __m128i dash1 = _mm_setr_epi8(0, 0, '-', 0, 0, 0, 0, '-', 0, 0, 0, 0, 0, 0, 0, 0);
	__m128i o0 = _mm_shuffle_epi8(a, _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, -1, 8, 9, 10, 11,
							-1, 12, 13));
	__m128i o1 = _mm_shuffle_epi8(_mm_alignr_epi8(b, a, 14),
				      _mm_setr_epi8(0, 1, -1, 2, 3, 4, 5, -1, 6, 7, 8, 9, 10, 11, 12,
						    13));
	uint32_t tail = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(b, 12));

	_mm_storeu_si128((__m128i *)out, _mm_or_si128(o0, dash0));
	_mm_storeu_si128((__m128i *)(out + 16), _mm_or_si128(o1, dash1));
	memcpy(out + 32, &tail, 4);
	out[HF_UUID_LEN] = '\0';
}
#else
/* The eight nibbles of @p v spread to a byte each, the low nibble in the low byte. */
static inline uint64_t
spread8(uint32_t v)
{
	uint64_t x = v;

	x = (x | x << 16) & UINT64_C(0x0000ffff0000ffff);
	x = (x | x << 8) & UINT64_C(0x00ff00ff00ff00ff);
	return (x | x << 4) & UINT64_C(0x0f0f0f0f0f0f0f0f);
}

/*
 * Eight digit values (0-15, one a byte) as lowercase hex, without a table:
 * '0' is added to every byte, and 'a' - '0' - 10 = 39 more to those above 9
 * (bit 4 of d + 6). No byte carries into the next.
 */
static inline uint64_t
hexify(uint64_t x)
{
	return x + UINT64_C(0x3030303030303030) +
	       ((x + UINT64_C(0x0606060606060606)) >> 4 & UINT64_C(0x0101010101010101)) * 39;
}

/* Bytes 0-7 of @p x (from the low one) at @p out: one store from the register. */
static inline void
put_digits8(char *out, uint64_t x)
{
	x = rte_cpu_to_le_64(x);
	memcpy(out, &x, 8);
}

/* Bytes 0-3 of @p x at @p out, likewise. */
static inline void
put_digits4(char *out, uint64_t x)
{
	uint32_t v = rte_cpu_to_le_32((uint32_t)x);

	memcpy(out, &v, 4);
}

void
hf_http_uuid4(char *out)
{
	uint64_t r0, r1;

	uuid_rand(&r0, &r1);
	uint64_t a = spread8((uint32_t)r0), b = spread8((uint32_t)(r0 >> 32));
	uint64_t c = spread8((uint32_t)r1), d = spread8((uint32_t)(r1 >> 32));

	/*
	 * 8-4-4-4-12 digits from a, b (4 and 4), c (4 and 4) and d: b's byte 4 is
	 * the 13th digit, the version, 4; c's byte 0 the 17th, the variant, 10xx
	 * (RFC 9562 5.4). Which random nibble lands where does not matter. Each
	 * word is written straight from its register: digits stored into a
	 * buffer and copied out from it in other widths waited on the stores.
	 */
	b = (b & ~(UINT64_C(0xff) << 32)) | UINT64_C(4) << 32;
	c = (c & ~UINT64_C(0x0c)) | 0x08;
	a = hexify(a);
	b = hexify(b);
	c = hexify(c);
	d = hexify(d);
	put_digits8(out, a);
	out[8] = '-';
	put_digits4(out + 9, b);
	out[13] = '-';
	put_digits4(out + 14, b >> 32);
	out[18] = '-';
	put_digits4(out + 19, c);
	out[23] = '-';
	put_digits4(out + 24, c >> 32);
	put_digits8(out + 28, d);
	out[HF_UUID_LEN] = '\0';
}
#endif

/* Appends what of [@p p, @p p + @p len) fits before @p cap at @p dst + @p n. Returns the new n. */
static size_t
append_cut(char *dst, size_t n, size_t cap, const char *p, size_t len)
{
	size_t k = RTE_MIN(len, cap - n);

	memcpy(dst + n, p, k);
	return n + k;
}

/* Keeps the x-forwarded-for sent, "@p prev, @p ip" or "@p ip", cut to x->xff_len - 1 bytes. */
static void
keep_xff(struct hf_http_rq_extra *x, const char *prev, size_t prev_len, const char *ip,
	 size_t iplen)
{
	size_t cap = x->xff_len - 1, n = 0;

	if (prev_len > 0) {
		n = append_cut(x->xff, n, cap, prev, prev_len);
		n = append_cut(x->xff, n, cap, ", ", 2);
	}
	n = append_cut(x->xff, n, cap, ip, iplen);
	x->xff[n] = '\0';
}

const char *
hf_http_xfcc(const struct hf_http_session *s, const struct hf_snap_listener *sl, uint16_t *len)
{
	uint8_t mode = sl != NULL ? sl->xfcc : HF_XFCC_NODE;

	if (mode == HF_XFCC_NODE)
		mode = s->lst->cfg->xfcc_sanitize_only ? HF_XFCC_SANITIZE : HF_XFCC_SANITIZE_SET;
	if (mode != HF_XFCC_SANITIZE_SET) {
		*len = 0;
		return NULL;
	}
	return hf_tls_peer_xfcc(s->down, len);
}

int
hf_http_build_request(struct hf_http_wr *wr, const struct hf_h1_message *msg,
		      struct hf_http_rq_extra *x)
{
	const struct hf_h1_header *xff = NULL, *rid = NULL;
	const struct hf_h1_slice *ln = &msg->line;
	uint32_t ml = msg->method_name.len;
	struct run run = {0};
	struct gather g;
	char *ip;
	size_t iplen;
	uint32_t start = wr->len, line_len;

	g.n = 0;

	/* As h1.c counts a received line: up to its LF, the CR included. */
	line_len = x->asterisk ? 1 : x->target != NULL ? x->target_len : msg->target.len;
	line_len += ml + 1 + (uint32_t)sizeof(" HTTP/1.1\r\n") - 2;
	if (!x->asterisk && x->target == NULL && !x->http10 && msg->minor == 1 &&
	    ln->p == msg->method_name.p && msg->target.p == ln->p + ml + 1 &&
	    ln->len + 1 == line_len) {
		/*
		 * The line as received, target and all: parsed as 1.1, it says
		 * "HTTP/1.1". (A mirror sends a 1.0 client's request as 1.1.)
		 */
		run_add(wr, &run, ln->p, (size_t)ln->len + 2);
	} else {
		put_slice(wr, &msg->method_name);
		hf_http_wr_put(wr, " ", 1);
		if (x->asterisk)
			hf_http_wr_put(wr, "*", 1);
		else if (x->target != NULL)
			hf_http_wr_put(wr, x->target, x->target_len);
		else
			put_slice(wr, &msg->target);
		put_str(wr, x->http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
	}
	if (x->limits != NULL && line_len > x->limits->max_request_line) {
		run_flush(wr, &run);
		if (!wr->failed)
			return -ENAMETOOLONG;
	}
	if (x->authority != NULL) {
		run_flush(wr, &run);
		put_str(wr, "host: ");
		hf_http_wr_put(wr, x->authority, x->authority_len);
		hf_http_wr_put(wr, "\r\n", 2);
	}
	for (uint32_t i = 0; i < msg->n_headers; i++) {
		const struct hf_h1_header *f = &msg->headers[i];
		enum hf_h1_field id = hf_h1_field(f);

		if (hop_by_hop(msg, f, id, x->upgrade))
			continue;
		switch (id) {
		case HF_H1_FLD_EXPECT:
		case HF_H1_FLD_X_FORWARDED_PROTO:
		case HF_H1_FLD_X_ENVOY_ORIGINAL_PATH:
		/* Envoy's SANITIZE: a client's claim of a certificate is never passed on. */
		case HF_H1_FLD_X_FORWARDED_CLIENT_CERT:
			continue;
		case HF_H1_FLD_HOST:
			if (x->authority != NULL)
				continue;
			break;
		default:
			break;
		}
		if ((x->n_ops[0] | x->n_ops[1]) != 0 && replaced_by_ops(x, &f->name))
			continue;
		if (id == HF_H1_FLD_X_FORWARDED_FOR) {
			xff = f;
			continue;
		}
		if (id == HF_H1_FLD_X_REQUEST_ID) {
			/* An empty one is replaced by ours, not sent beside it. */
			if (f->value.len == 0)
				continue;
			rid = f;
		}
		put_field(wr, &run, f);
	}
	run_flush(wr, &run);
	/* Envoy at the edge (use_remote_address): the peer's address is appended. */
	gather_lit(&g, "x-forwarded-for: ");
	if (xff != NULL && xff->value.len > 0) {
		gather_flush(wr, &g);
		put_slice(wr, &xff->value);
		gather_lit(&g, ", ");
	}
	ip = g.b + g.n;
	iplen = fmt_ipv4(ip, x->client_addr);
	g.n += iplen;
	if (xff != NULL && xff->value.len > 0)
		keep_xff(x, xff->value.p, xff->value.len, ip, iplen);
	else
		keep_xff(x, NULL, 0, ip, iplen);
	if (x->https)
		gather_lit(&g, "\r\nx-forwarded-proto: https\r\n");
	else
		gather_lit(&g, "\r\nx-forwarded-proto: http\r\n");
	if (x->xfcc != NULL) {
		/* Envoy's SANITIZE_SET: the client's own claim was dropped above; ours says who it is. */
		gather_lit(&g, "x-forwarded-client-cert: ");
		gather_flush(wr, &g);
		hf_http_wr_put(wr, x->xfcc, x->xfcc_len);
		gather_lit(&g, "\r\n");
	}
	if (rid != NULL) {
		hf_http_copy_str(x->request_id, HF_UUID_LEN + 1, rid->value.p, rid->value.len);
	} else {
		hf_http_uuid4(x->request_id);
		gather_lit(&g, "x-request-id: ");
		gather_add(&g, x->request_id, HF_UUID_LEN);
		gather_lit(&g, "\r\n");
	}
	if (x->target != NULL) {
		/* As Envoy does after a rewrite: the path the client asked for. */
		gather_lit(&g, "x-envoy-original-path: ");
		gather_flush(wr, &g);
		put_slice(wr, &msg->target);
		gather_lit(&g, "\r\n");
	}
	if ((x->n_ops[0] | x->n_ops[1]) != 0) {
		gather_flush(wr, &g);
		put_ops(wr, x);
	}
	if (x->upgrade)
		gather_lit(&g, "connection: upgrade\r\n");
	else if (x->http10)
		gather_lit(&g, "connection: keep-alive\r\n");
	gather_lit(&g, "\r\n");
	gather_flush(wr, &g);
	if (x->limits != NULL && !wr->failed && wr->len - start > x->limits->max_head)
		return -EMSGSIZE;
	return 0;
}

size_t
hf_http_shadow_host(char *out, size_t cap, const char *host, size_t len)
{
	static const char sfx[] = "-shadow";
	size_t hlen = len, i;

	/* The port: digits after the last ':', which is no IPv6 address's own (after ']' if any). */
	for (i = len; i > 0 && host[i - 1] >= '0' && host[i - 1] <= '9'; i--)
		;
	if (i > 0 && host[i - 1] == ':' &&
	    (host[0] != '[' || (i >= 2 && host[i - 2] == ']')))
		hlen = i - 1;
	if (len + sizeof(sfx) > cap)
		return 0;
	/* An HTTP/1.0 request may have no Host: its slice is then {NULL, 0}. */
	if (len > 0)
		memcpy(out, host, hlen);
	memcpy(out + hlen, sfx, sizeof(sfx) - 1);
	if (len > hlen)
		memcpy(out + hlen + sizeof(sfx) - 1, host + hlen, len - hlen);
	out[len + sizeof(sfx) - 1] = '\0';
	return len + sizeof(sfx) - 1;
}

void
hf_http_build_response(struct hf_http_wr *wr, const struct hf_h1_message *msg, bool keep_alive,
		       bool http10, int32_t service_ms, const char *edit)
{
	bool upgrade = msg->status == 101;
	struct run run = {0};
	struct gather g;

	if (msg->minor == 1 && msg->line.len >= 13) {
		/* "HTTP/1.1 ddd reason" as received is the line written below (h1.c checked it). */
		run_add(wr, &run, msg->line.p, (size_t)msg->line.len + 2);
	} else {
		/* The parser takes three digits only (RFC 9112 4): 100..999. */
		char line[13] = "HTTP/1.1 000 ";

		line[9] = (char)('0' + msg->status / 100 % 10);
		line[10] = (char)('0' + msg->status / 10 % 10);
		line[11] = (char)('0' + msg->status % 10);
		hf_http_wr_put(wr, line, sizeof(line));
		put_slice(wr, &msg->reason);
		hf_http_wr_put(wr, "\r\n", 2);
	}
	for (uint32_t i = 0; i < msg->n_headers; i++) {
		const struct hf_h1_header *f = &msg->headers[i];
		enum hf_h1_field id = hf_h1_field(f);

		if (hop_by_hop(msg, f, id, upgrade) ||
		    id == HF_H1_FLD_X_ENVOY_UPSTREAM_SERVICE_TIME ||
		    (edit != NULL && *edit != '\0' && replaced_by_edit(edit, &f->name)))
			continue;
		put_field(wr, &run, f);
	}
	run_flush(wr, &run);
	put_edit(wr, edit);
	g.n = 0;
	if (service_ms >= 0) {
		gather_lit(&g, "x-envoy-upstream-service-time: ");
		g.n += fmt_u32(g.b + g.n, (uint32_t)service_ms);
		gather_lit(&g, "\r\n");
	}
	if (upgrade)
		gather_lit(&g, "connection: upgrade\r\n");
	else if (!keep_alive)
		gather_lit(&g, "connection: close\r\n");
	else if (http10)
		gather_lit(&g, "connection: keep-alive\r\n");
	gather_lit(&g, "\r\n");
	gather_flush(wr, &g);
}

void
hf_http_build_local(struct hf_http_wr *wr, int status, const char *body, bool close,
		    bool head_only, const char *extra)
{
	char line[160];
	size_t blen = strlen(body);
	int n = snprintf(line, sizeof(line),
			 "HTTP/1.1 %03d %s\r\ncontent-length: %zu\r\ncontent-type: text/plain\r\n"
			 "server: hydrofoil\r\n%s",
			 status, hf_h1_reason(status), blen, close ? "connection: close\r\n" : "");

	hf_http_wr_put(wr, line, (size_t)RTE_MIN((size_t)n, sizeof(line) - 1));
	if (extra != NULL)
		put_str(wr, extra);
	hf_http_wr_put(wr, "\r\n", 2);
	if (!head_only)
		hf_http_wr_put(wr, body, blen);
}
