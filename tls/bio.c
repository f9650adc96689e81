/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The BIO between OpenSSL and Hydrofoil's TCP (BIO_meth_new): its read side
 * hands OpenSSL the ciphertext of the connection's received mbufs, its write
 * side packs what OpenSSL writes into mbufs for the connection's send queue.
 *
 * Copies, and why they stay: OpenSSL 3.0 has no zero-copy BIO interface. It
 * reads a record into its own buffer (a copy out of our mbufs: the read
 * side's memcpy below), decrypts it there in place, and SSL_read() copies the
 * plaintext out into the caller's buffer — which for us is the data room of a
 * fresh mbuf (tls/conn.c), so no third copy. On the way out SSL_write()
 * encrypts straight from the caller's mbuf into OpenSSL's write buffer and
 * hands that to this BIO, which copies it into mbufs (the write side's
 * memcpy) because OpenSSL reuses the buffer at once. One copy each way, on
 * top of the cipher's own pass; kTLS, which would avoid them, needs a kernel
 * socket.
 *
 * Reads never block: with nothing left the BIO says "retry", OpenSSL
 * returns SSL_ERROR_WANT_READ, and the handshake or the read resumes when
 * TCP reports the next segment. Ciphertext is taken from TCP's receive queue
 * only when OpenSSL asks for it, so a reader that stops leaves it there and
 * the TCP window closes. Writes never block either: they take mbufs from the
 * pool; an empty pool fails the write (io->nomem), which ends the connection.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/bio.h>
#include <rte_mbuf.h>

#include "tls/tls.h"

static BIO_METHOD *hf_bio_method;
static pthread_once_t hf_bio_once = PTHREAD_ONCE_INIT;

void
hf_tls_io_feed(struct hf_tls_io *io, struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
		if (m->data_len == 0) {
			rte_pktmbuf_free_seg(m);
		} else if (io->in.tail != NULL && hf_tcp_mbuf_absorb(io->in.tail, m)) {
			/* A byte per segment must not become an mbuf per byte. */
			io->in.bytes += m->data_len;
			rte_pktmbuf_free_seg(m);
		} else {
			if (io->in.tail != NULL)
				io->in.tail->next = m;
			else
				io->in.head = m;
			io->in.tail = m;
			io->in.bytes += m->data_len;
		}
		m = next;
	}
}

struct rte_mbuf *
hf_tls_io_take(struct hf_tls_io *io)
{
	struct rte_mbuf *m = io->out_head;

	io->out_head = io->out_tail = NULL;
	io->out_len = 0;
	return m;
}

void
hf_tls_io_reset(struct hf_tls_io *io)
{
	struct rte_mbuf *m = io->in.head;

	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		rte_pktmbuf_free_seg(m);
		m = next;
	}
	io->in.head = io->in.tail = NULL;
	io->in.bytes = 0;
	rte_pktmbuf_free(hf_tls_io_take(io));
}

/*
 * Ciphertext for OpenSSL: from the segments already taken, else one more
 * batch from TCP's receive queue (whole segments, as hf_tcp_recv() gives
 * them; only as many bytes as asked for, give or take a segment).
 */
static int
bio_read(BIO *b, char *buf, size_t len, size_t *got)
{
	struct hf_tls_io *io = BIO_get_data(b);
	size_t n = 0;

	BIO_clear_retry_flags(b);
	if (io->in.head == NULL && io->tcp != NULL && io->w != NULL)
		hf_tls_io_feed(io, hf_tcp_recv(io->w, io->tcp, (uint32_t)RTE_MIN(len, UINT32_MAX)));
	while (n < len && io->in.head != NULL) {
		struct rte_mbuf *m = io->in.head;
		size_t k = RTE_MIN((size_t)m->data_len, len - n);

		memcpy(buf + n, rte_pktmbuf_mtod(m, const char *), k);
		n += k;
		io->in.bytes -= (uint32_t)k;
		if (k == m->data_len) {
			io->in.head = m->next;
			if (io->in.head == NULL)
				io->in.tail = NULL;
			rte_pktmbuf_free_seg(m);
		} else {
			rte_pktmbuf_adj(m, (uint16_t)k);
		}
	}
	if (n == 0) {
		bool eof = io->tcp != NULL ? hf_tcp_peer_closed(io->tcp) : io->eof;

		/* Nothing yet: OpenSSL returns WANT_READ; at the peer's FIN it sees the end. */
		if (!eof)
			BIO_set_retry_read(b);
		*got = 0;
		return 0;
	}
	io->bytes_in += n;
	*got = n;
	return 1;
}

/* Appends OpenSSL's bytes to the out chain, filling each mbuf's room before taking another. */
static int
bio_write(BIO *b, const char *buf, size_t len, size_t *put)
{
	struct hf_tls_io *io = BIO_get_data(b);
	size_t n = 0;

	BIO_clear_retry_flags(b);
	while (n < len) {
		struct rte_mbuf *t = io->out_tail;
		size_t room = t != NULL ? rte_pktmbuf_tailroom(t) : 0;

		if (room == 0) {
			t = rte_pktmbuf_alloc(io->mp);
			if (t == NULL) {
				io->nomem = true;
				break;
			}
			if (io->out_tail != NULL) {
				io->out_tail->next = t;
				io->out_head->nb_segs++;
			} else {
				io->out_head = t;
			}
			io->out_tail = t;
			room = rte_pktmbuf_tailroom(t);
		}
		room = RTE_MIN(room, len - n);
		memcpy(rte_pktmbuf_mtod_offset(t, char *, t->data_len), buf + n, room);
		t->data_len = (uint16_t)(t->data_len + room);
		io->out_head->pkt_len += (uint32_t)room;
		io->out_len += (uint32_t)room;
		n += room;
	}
	*put = n;
	/* A short write with no retry flag is an error to OpenSSL: the connection is lost. */
	return n == len ? 1 : 0;
}

static long
bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct hf_tls_io *io = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		/* The out chain goes to TCP when the caller takes it: nothing to do here. */
		return 1;
	case BIO_CTRL_PENDING:
		return io != NULL ? (long)io->in.bytes : 0;
	case BIO_CTRL_WPENDING:
		return io != NULL ? (long)io->out_len : 0;
	case BIO_CTRL_EOF:
		return io != NULL && io->in.head == NULL &&
		       (io->tcp != NULL ? hf_tcp_peer_closed(io->tcp) : io->eof);
	default:
		return 0;
	}
}

static int
bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void
method_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "hydrofoil tcp");

	if (m == NULL)
		return;
	if (!BIO_meth_set_read_ex(m, bio_read) || !BIO_meth_set_write_ex(m, bio_write) ||
	    !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create)) {
		BIO_meth_free(m);
		return;
	}
	hf_bio_method = m;
}

BIO *
hf_tls_bio_new(struct hf_tls_io *io)
{
	BIO *b;

	pthread_once(&hf_bio_once, method_init);
	if (hf_bio_method == NULL)
		return NULL;
	b = BIO_new(hf_bio_method);
	if (b != NULL)
		BIO_set_data(b, io);
	return b;
}
