/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP segment output: headers into a fresh mbuf from the port's pool, payload
 * by reference (indirect mbufs attached to the send queue), so a
 * retransmission never copies data. Window advertisement with receiver SWS
 * avoidance (RFC 9293 3.8.6.2.2), sending within min(cwnd, snd_wnd) with
 * sender SWS avoidance (3.8.6.2.1), SACK-driven retransmission in recovery
 * (RFC 6675), the FIN after the data, RSTs and SYN cookies.
 */
#include <errno.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "dataplane/net/arp.h"
#include "dataplane/net/cksum.h"
#include "dataplane/net/eth.h"
#include "dataplane/net/ipv4.h"
#include "dataplane/tcp/syncookie.h"
#include "dataplane/tcp/tcp-int.h"

#define HDRS_LEN (sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_tcp_hdr))
#define MAX_OPTS 40

/* The window field for a non-SYN segment; moves rcv_adv forward, never back. */
static uint16_t
advertise(struct hf_tcp_conn *c)
{
	uint32_t edge = c->rcv_nxt + tcp_rcv_window(c);
	uint32_t sws = RTE_MIN(c->rcv_buf / 2, (uint32_t)c->mss);
	uint32_t wnd;

	/* Receiver SWS avoidance: open the window only by a worthwhile amount. */
	if (hf_seq_gt(edge, c->rcv_adv) &&
	    (edge - c->rcv_adv >= sws || c->rcv_adv == c->rcv_nxt))
		c->rcv_adv = edge;
	if (hf_seq_lt(c->rcv_adv, c->rcv_nxt))
		c->rcv_adv = c->rcv_nxt;
	wnd = (c->rcv_adv - c->rcv_nxt) >> c->rcv_wscale;
	return (uint16_t)RTE_MIN(wnd, 65535u);
}

/*
 * The TCP header at @p th for the given fields (ports in network order),
 * checksum 0, and @p optlen bytes of options from @p opts behind it (@p opts
 * NULL: the caller writes them).
 */
static inline void
fill_tcp(struct rte_tcp_hdr *th, uint16_t lport, uint16_t rport, uint32_t seq, uint32_t ack,
	 uint8_t flags, uint16_t wnd, const uint8_t *opts, uint32_t optlen)
{
	th->src_port = lport;
	th->dst_port = rport;
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)(((sizeof(*th) + optlen) / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(wnd);
	th->cksum = 0;
	th->tcp_urp = 0;
	if (opts != NULL && optlen > 0)
		memcpy(th + 1, opts, optlen);
}

/*
 * Writes IPv4 and TCP headers for the given fields into a new mbuf of @p p's
 * pool, after room for Ethernet, and @p optlen bytes of options from @p opts
 * (@p opts NULL: the caller writes them behind the TCP header). Returns the
 * mbuf (l2/l3 lengths set), or NULL when the pool is empty (counted).
 */
static struct rte_mbuf *
build_headers(struct hf_worker *w, const struct hf_port *p, uint32_t laddr, uint16_t lport,
	      uint32_t raddr, uint16_t rport, uint32_t seq, uint32_t ack, uint8_t flags,
	      uint16_t wnd, const uint8_t *opts, uint32_t optlen)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(p->pool);
	struct rte_ipv4_hdr *ih;
	struct rte_tcp_hdr *th;

	if (unlikely(m == NULL)) {
		HF_COUNT(w, TCP_DROP_NO_MBUF);
		return NULL;
	}
	rte_pktmbuf_append(m, (uint16_t)(HDRS_LEN + optlen));
	m->l2_len = sizeof(struct rte_ether_hdr);
	m->l3_len = sizeof(struct rte_ipv4_hdr);
	ih = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	ih->version_ihl = RTE_IPV4_VHL_DEF;
	ih->type_of_service = 0;
	ih->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ih) + sizeof(*th) + optlen));
	ih->next_proto_id = IPPROTO_TCP;
	ih->src_addr = laddr;
	ih->dst_addr = raddr;
	th = (struct rte_tcp_hdr *)(ih + 1);
	fill_tcp(th, lport, rport, seq, ack, flags, wnd, opts, optlen);
	return m;
}

/*
 * build_headers() for a segment of @p c with @p paylen payload bytes to come
 * behind the @p optlen option bytes: the IPv4 header is written whole and
 * final (total length, TTL, DF, the ID hf_ipv4_next_id() gives, checksum),
 * summed from the values while they are in registers, so that the segment
 * goes out through hf_ipv4_output_complete() with nothing to patch or
 * reload. Options as build_headers() (@p opts NULL: the caller writes them).
 */
static struct rte_mbuf *
build_segment(struct hf_worker *w, const struct hf_port *p, const struct hf_tcp_conn *c,
	      uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t *opts,
	      uint32_t optlen, uint32_t paylen)
{
	struct rte_mbuf *m = hf_mbuf_alloc(w, p);
	struct rte_ipv4_hdr ip = {
		.version_ihl = RTE_IPV4_VHL_DEF,
		.total_length = rte_cpu_to_be_16((uint16_t)(sizeof(struct rte_ipv4_hdr) +
							    sizeof(struct rte_tcp_hdr) + optlen +
							    paylen)),
		.packet_id = rte_cpu_to_be_16(hf_ipv4_next_id(w)),
		.fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG),
		.time_to_live = HF_IPV4_DEFAULT_TTL,
		.next_proto_id = IPPROTO_TCP,
		.src_addr = c->laddr,
		.dst_addr = c->raddr,
	};
	struct rte_tcp_hdr *th;
	char *d;

	if (unlikely(m == NULL)) {
		HF_COUNT(w, TCP_DROP_NO_MBUF);
		return NULL;
	}
	/* rte_pktmbuf_append() on a fresh mbuf, without its walk to the last segment. */
	d = rte_pktmbuf_mtod(m, char *);
	m->data_len = (uint16_t)(HDRS_LEN + optlen);
	m->pkt_len = m->data_len;
	m->l2_len = sizeof(struct rte_ether_hdr);
	m->l3_len = sizeof(struct rte_ipv4_hdr);
	ip.hdr_checksum = hf_cksum_ipv4_hdr_fields(&ip);
	memcpy(d + sizeof(struct rte_ether_hdr), &ip, sizeof(ip));
	th = (struct rte_tcp_hdr *)(d + sizeof(struct rte_ether_hdr) + sizeof(ip));
	fill_tcp(th, c->lport, c->rport, seq, ack, flags, wnd, opts, optlen);
	return m;
}

/*
 * Finishes the checksums of @p m and sends it: to @p dst_mac when given (a
 * reply goes back where its segment came from, with no ARP lookup for an
 * address that may be spoofed), else through the ARP cache.
 */
/*
 * True when a segment before the last has an odd length. Proxied streams (a
 * rewritten head, then payload cut at a message boundary) make such chains,
 * and DPDK 22.11 sums them wrong both in net_tap's checksum offload and in
 * rte_raw_cksum_mbuf(), which truncates a segment's 32-bit sum to 16 bits
 * before the byte swap an odd boundary needs: the peer drops the segment as
 * corrupt. Those chains are summed by hf_cksum_tcp_ipv4() (net/cksum.h) instead.
 */
static inline bool
odd_inner_segment(const struct rte_mbuf *m)
{
	for (; m->next != NULL; m = m->next)
		if (m->data_len & 1)
			return true;
	return false;
}

/* Sums the TCP segment of @p m (IPv4 header @p ih) or leaves it to the device. */
static inline void
tcp_cksum(const struct hf_port *p, struct rte_mbuf *m, struct rte_ipv4_hdr *ih,
	  struct rte_tcp_hdr *th)
{
	if (p->tx_l4_cksum && likely(m->nb_segs == 1 || !odd_inner_segment(m))) {
		/* The device sums the segment; it wants the pseudo-header sum in place. */
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
		m->l4_len = (uint8_t)((th->data_off >> 4) * 4);
		th->cksum = rte_ipv4_phdr_cksum(ih, m->ol_flags);
	} else {
		th->cksum = 0;
		th->cksum = hf_cksum_tcp_ipv4(m, ih, m->l2_len + m->l3_len);
	}
}

static void
emit(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m,
     const struct rte_ether_addr *dst_mac)
{
	struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ih + 1);
	uint32_t l4len = rte_pktmbuf_pkt_len(m) - m->l2_len - m->l3_len;

	ih->total_length = rte_cpu_to_be_16((uint16_t)(m->l3_len + l4len));
	tcp_cksum(p, m, ih, th);
	HF_COUNT(w, TCP_TX_SEGMENTS);
	if (th->tcp_flags & TH_RST)
		HF_COUNT(w, TCP_CX_RESET_TX);
	if (dst_mac != NULL) {
		hf_ipv4_finish(w, ih);
		hf_eth_output(w, p, m, dst_mac, RTE_ETHER_TYPE_IPV4);
	} else {
		hf_ipv4_output(w, p, m);
	}
}

/*
 * emit() for a segment build_segment() made for @p c: its IPv4 header is
 * final. While the ARP cache slot @p c remembers still holds its next hop,
 * confirmed, the frame goes straight to that MAC: what hf_ipv4_output_complete()
 * would do (the next hop of a TCB never changes: its peer, the port's
 * gateway) without the route and the lookup. Otherwise it goes that way,
 * which refreshes, resolves or drops as it does for any datagram, and the
 * slot it found is remembered for the next segment.
 */
static void
emit_segment(struct hf_worker *w, const struct hf_port *p, struct hf_tcp_conn *c,
	     struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ih + 1);
	const struct rte_ether_addr *mac = hf_arp_slot_mac(w, c->arp_slot, p->index, c->arp_ip);
	uint32_t nexthop;
	int slot;

	tcp_cksum(p, m, ih, th);
	HF_COUNT(w, TCP_TX_SEGMENTS);
	if (th->tcp_flags & TH_RST)
		HF_COUNT(w, TCP_CX_RESET_TX);
	if (likely(mac != NULL)) {
		HF_COUNT(w, IPV4_TX);
		hf_eth_output(w, p, m, mac, RTE_ETHER_TYPE_IPV4);
		return;
	}
	hf_ipv4_output_complete(w, p, m);
	nexthop = hf_ipv4_nexthop(p, c->raddr);
	if (nexthop != 0 && (slot = hf_arp_slot(w, p->index, nexthop)) >= 0) {
		c->arp_ip = nexthop;
		c->arp_slot = (uint32_t)slot;
	}
}

/*
 * Payload up to this size is copied behind the headers rather than attached:
 * a small copy costs less than an indirect mbuf (allocation, two reference
 * count updates, a second segment for the device and the checksum to walk),
 * and HTTP heads and small bodies are most of a proxy's segments.
 */
#define COPY_MAX 512

/*
 * Puts send-queue bytes [seq, seq + len) behind the headers of @p m, the one
 * segment build_segment() made: copied when small (COPY_MAX), else as clones
 * chained on. Returns 0 or -ENOBUFS.
 */
static int
attach_payload(struct hf_worker *w, struct hf_tcp_conn *c, struct rte_mbuf *m, uint32_t seq,
	       uint32_t len)
{
	struct rte_mbuf *seg = c->sndq_head, *last = m;
	uint32_t off = seq - c->snd_una;

	/* New data (and a retransmission past the cursor) starts at the cursor. */
	if (c->tx_seg != NULL && hf_seq_geq(seq, c->tx_seq)) {
		seg = c->tx_seg;
		off = seq - c->tx_seq;
	}
	while (seg != NULL && off >= seg->data_len) {
		off -= seg->data_len;
		seg = seg->next;
	}
	c->tx_seg = seg;
	c->tx_seq = seq - off;
	if (len <= COPY_MAX && len <= rte_pktmbuf_tailroom(m)) {
		char *dst = rte_pktmbuf_mtod_offset(m, char *, m->data_len);

		m->data_len = (uint16_t)(m->data_len + len);
		m->pkt_len = m->data_len;

		for (; len > 0 && seg != NULL; seg = seg->next, off = 0) {
			uint32_t take = RTE_MIN((uint32_t)seg->data_len - off, len);

			memcpy(dst, rte_pktmbuf_mtod_offset(seg, const char *, off), take);
			dst += take;
			len -= take;
		}
		return len == 0 ? 0 : -ENOBUFS;
	}
	while (len > 0 && seg != NULL) {
		struct rte_mbuf *mi = rte_pktmbuf_alloc(tcp_stack(w)->clone_pool);
		uint16_t take;

		if (unlikely(mi == NULL))
			return -ENOBUFS;
		rte_pktmbuf_attach(mi, seg);
		take = (uint16_t)RTE_MIN((uint32_t)seg->data_len - off, len);
		mi->data_off = (uint16_t)(seg->data_off + off);
		mi->data_len = take;
		mi->pkt_len = take;
		last->next = mi;
		last = mi;
		m->nb_segs++;
		m->pkt_len += take;
		len -= take;
		off = 0;
		seg = seg->next;
	}
	return len == 0 ? 0 : -ENOBUFS;
}

int
tcp_send_segment(struct hf_worker *w, struct hf_tcp_conn *c, uint32_t seq, uint32_t len,
		 uint8_t flags)
{
	struct hf_tcp_stack *st = tcp_stack(w);
	const struct hf_port *p = &w->ports[c->port];
	uint8_t opts[MAX_OPTS];
	const uint8_t *src = opts;
	uint32_t optlen, sack[2 * 4];
	unsigned int n_sack = 0;
	uint16_t wnd;
	struct rte_mbuf *m;

	if (flags & TH_SYN) {
		/* Our MSS is the port's, whatever the peer said (RFC 9293 3.7.1). */
		optlen = hf_tcp_opts_build_syn(opts, (uint16_t)(p->mtu - 40),
					       (c->flags & HF_TCP_F_WS) ? c->rcv_wscale : -1,
					       c->flags & HF_TCP_F_SACK, c->flags & HF_TCP_F_TS,
					       st->now_ms, c->ts_recent);
		wnd = (uint16_t)RTE_MIN(tcp_rcv_window(c), 65535u);
		/* A SYN's window is never scaled, so it may say less than the edge already set
		 * (or advertised by a segment between two SYN-ACKs): the edge stays, as a
		 * window never shrinks (RFC 9293 3.8.6.2.2). */
		if (hf_seq_gt(c->rcv_nxt + wnd, c->rcv_adv))
			c->rcv_adv = c->rcv_nxt + wnd;
	} else if ((c->flags & HF_TCP_F_SACK) && c->ooo.head != NULL) {
		/* Blocks ride only in the room the payload leaves under the MTU. */
		uint32_t room = p->mtu - 40 - ((c->flags & HF_TCP_F_TS) ? 12 : 0) - len;

		n_sack = room >= 12 ? RTE_MIN((room - 4) / 8, (c->flags & HF_TCP_F_TS) ? 3u : 4u) : 0;
		n_sack = tcp_ooo_sack_blocks(c, sack, n_sack);
		optlen = hf_tcp_opts_build_data(opts, c->flags & HF_TCP_F_TS, st->now_ms,
						c->ts_recent, sack, n_sack);
	} else {
		/* No blocks: timestamps or nothing, written straight behind the header below. */
		optlen = (c->flags & HF_TCP_F_TS) ? HF_TCP_OPTS_TS_LEN : 0;
		src = NULL;
	}
	if (!(flags & TH_SYN))
		wnd = advertise(c);
	m = build_segment(w, p, c, seq, (flags & TH_ACK) ? c->rcv_nxt : 0, flags, wnd, src, optlen,
			  len);
	if (m == NULL)
		return -ENOBUFS;
	if (src == NULL && optlen != 0)
		hf_tcp_opts_put_ts(rte_pktmbuf_mtod_offset(m, uint8_t *, HDRS_LEN), st->now_ms,
				   c->ts_recent);
	if (len > 0 && attach_payload(w, c, m, seq, len) != 0) {
		HF_COUNT(w, TCP_DROP_NO_MBUF);
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	if (flags & TH_ACK) {
		c->flags &= ~HF_TCP_F_ACK_NOW;
		c->segs_unacked = 0;
		tcp_timer_stop_lazy(&c->ack_timer);
	}
	HF_COUNT_N(w, TCP_TX_BYTES, len);
	emit_segment(w, p, c, m);
	return 0;
}

void
tcp_send_ack(struct hf_worker *w, struct hf_tcp_conn *c)
{
	tcp_send_segment(w, c, tcp_acceptable_seq(c), 0, TH_ACK);
}

void
tcp_send_syn(struct hf_worker *w, struct hf_tcp_conn *c)
{
	uint8_t flags = c->state == HF_TCP_SYN_RCVD ? TH_SYN | TH_ACK : TH_SYN;

	tcp_send_segment(w, c, c->iss, 0, flags);
	c->snd_nxt = c->iss + 1;
	c->snd_max = c->iss + 1;
	tcp_timer_arm(w, &c->rtx_timer,
		      RTE_MIN(hf_tcp_rto_initial_ms() << c->rto_backoff, 60000u));
}

void
tcp_send_rst_for(struct hf_worker *w, struct hf_tcp_conn *c, const struct hf_tcp_seg *seg)
{
	const struct hf_port *p = &w->ports[c->port];
	struct rte_mbuf *m;

	if (seg->flags & TH_ACK)
		m = build_headers(w, p, c->laddr, c->lport, c->raddr, c->rport, seg->ack, 0,
				  TH_RST, 0, NULL, 0);
	else
		m = build_headers(w, p, c->laddr, c->lport, c->raddr, c->rport, 0,
				  seg->seq + seg_space(seg), TH_RST | TH_ACK, 0, NULL, 0);
	if (m != NULL)
		emit(w, p, m, NULL);
}

/* Source MAC of the frame that carried a segment we answer without state. */
static const struct rte_ether_addr *
frame_src(const struct rte_mbuf *m)
{
	return &rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->src_addr;
}

void
tcp_reply_rst(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m,
	      const struct hf_tcp_seg *seg)
{
	const struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
								 m->l2_len);
	const struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *,
								tcp_l4_off(m));
	struct rte_mbuf *r;

	if (seg->flags & TH_RST)
		goto out;	/* never answer a RST */
	if (seg->flags & TH_ACK)
		r = build_headers(w, p, ih->dst_addr, th->dst_port, ih->src_addr, th->src_port,
				  seg->ack, 0, TH_RST, 0, NULL, 0);
	else
		r = build_headers(w, p, ih->dst_addr, th->dst_port, ih->src_addr, th->src_port, 0,
				  seg->seq + seg_space(seg), TH_RST | TH_ACK, 0, NULL, 0);
	if (r != NULL)
		emit(w, p, r, frame_src(m));
out:
	rte_pktmbuf_free(m);
}

void
hf_tcp_send_syncookie(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m,
		      const struct hf_tcp_seg *seg)
{
	struct hf_tcp_stack *st = tcp_stack(w);
	const struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
								 m->l2_len);
	const struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *,
								tcp_l4_off(m));
	uint16_t peer_mss = seg->opts.mss_present ? seg->opts.mss : 536;
	uint16_t mss = (uint16_t)RTE_MIN(peer_mss, (uint16_t)(p->mtu - 40));
	uint8_t opts[MAX_OPTS];
	uint32_t cookie, optlen;
	struct rte_mbuf *r;

	cookie = hf_tcp_syncookie_make(st->secret, ih->src_addr, ih->dst_addr, th->src_port,
				       th->dst_port, seg->seq, st->now_ms, &mss);
	/* Only the MSS survives a cookie; announce ours, nothing else (RFC 4987 3.6). */
	optlen = hf_tcp_opts_build_syn(opts, (uint16_t)(p->mtu - 40), -1, false, false, 0, 0);
	r = build_headers(w, p, ih->dst_addr, th->dst_port, ih->src_addr, th->src_port, cookie,
			  seg->seq + 1, TH_SYN | TH_ACK,
			  (uint16_t)RTE_MIN(st->cfg.rcv_buf, 65535u), opts, optlen);
	if (r != NULL) {
		HF_COUNT(w, TCP_SYNCOOKIES_SENT);
		emit(w, p, r, frame_src(m));
	}
	rte_pktmbuf_free(m);
}

void
tcp_retransmit_head(struct hf_worker *w, struct hf_tcp_conn *c)
{
	/* Only what was sent is resent: bytes queued since (or held back by the peer's window)
	 * lie beyond SND.MAX, and sending them here would leave SND.MAX behind SND.NXT, so the
	 * peer's ACK of them would be refused as an ACK of unsent data. */
	uint32_t sent = c->snd_max - c->snd_una;
	uint32_t len;
	uint8_t flags = TH_ACK;

	if ((c->flags & HF_TCP_F_FIN_SENT) && sent > 0)
		sent--;
	len = RTE_MIN(RTE_MIN(c->sndq_bytes, sent), (uint32_t)c->mss);
	/* Karn's rule: a retransmitted segment gives no RTT sample. */
	c->flags &= ~HF_TCP_F_RTT_TIMING;
	if ((c->flags & HF_TCP_F_FIN_SENT) && len == c->sndq_bytes)
		flags |= TH_FIN;
	if (len == 0 && !(flags & TH_FIN))
		return;
	if (tcp_send_segment(w, c, c->snd_una, len, flags) == 0)
		HF_COUNT(w, TCP_RETRANSMITS);
	if (hf_seq_lt(c->snd_nxt, c->snd_una + len + !!(flags & TH_FIN)))
		c->snd_nxt = c->snd_una + len + !!(flags & TH_FIN);
}

void
tcp_retransmit_tail(struct hf_worker *w, struct hf_tcp_conn *c)
{
	uint32_t data_end = c->snd_una + c->sndq_bytes;
	uint32_t sent_data_end = hf_seq_lt(c->snd_nxt, data_end) ? c->snd_nxt : data_end;
	uint32_t len = RTE_MIN(sent_data_end - c->snd_una, (uint32_t)c->mss);
	uint8_t flags = TH_ACK;

	c->flags &= ~HF_TCP_F_RTT_TIMING;
	if ((c->flags & HF_TCP_F_FIN_SENT) && c->snd_nxt == c->snd_max)
		flags |= TH_FIN;
	if (len == 0 && !(flags & TH_FIN))
		return;
	if (tcp_send_segment(w, c, sent_data_end - len, len, flags) == 0)
		HF_COUNT(w, TCP_RETRANSMITS);
}

/* RFC 6675 5 (NextSeg, simplified): the next SACK hole above the retransmit cursor. */
static bool
sack_retransmit(struct hf_worker *w, struct hf_tcp_conn *c)
{
	uint32_t start, len;

	if (!hf_tcp_sack_next_hole(&c->sack, c->snd_una, c->snd_max, c->rexmit_nxt, &start, &len))
		return false;
	if (hf_seq_geq(start, c->snd_una + c->sndq_bytes))
		return false;
	len = RTE_MIN(len, (uint32_t)c->mss);
	len = RTE_MIN(len, c->snd_una + c->sndq_bytes - start);
	if (tcp_send_segment(w, c, start, len, TH_ACK) != 0)
		return false;
	HF_COUNT(w, TCP_RETRANSMITS);
	c->flags &= ~HF_TCP_F_RTT_TIMING;
	c->rexmit_nxt = start + len;
	return true;
}

/*
 * True when a segment ending at @p end (the end of the queued data) is to
 * carry our FIN: the application closed, and the FIN was never sent or is due
 * again after a rewind (RFC 9293 3.10.4: the FIN follows the last data byte).
 */
static inline bool
fin_due(const struct hf_tcp_conn *c, uint32_t end)
{
	return (c->flags & HF_TCP_F_FIN_QUEUED) && end == c->snd_una + c->sndq_bytes &&
	       (!(c->flags & HF_TCP_F_FIN_SENT) || end != c->snd_max);
}

/* Our FIN went out at snd_nxt: it takes that sequence number, and the state moves on. */
static void
fin_out(struct hf_tcp_conn *c)
{
	c->flags |= HF_TCP_F_FIN_SENT;
	c->snd_nxt++;
	if (hf_seq_gt(c->snd_nxt, c->snd_max))
		c->snd_max = c->snd_nxt;
	if (c->state == HF_TCP_ESTABLISHED)
		c->state = HF_TCP_FIN_WAIT_1;
	else if (c->state == HF_TCP_CLOSE_WAIT)
		c->state = HF_TCP_LAST_ACK;
}

void
tcp_output(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_tcp_stack *st = tcp_stack(w);
	uint16_t mss = c->mss;
	bool sent = false;

	switch (c->state) {
	case HF_TCP_ESTABLISHED:
	case HF_TCP_CLOSE_WAIT:
	case HF_TCP_FIN_WAIT_1:
	case HF_TCP_CLOSING:
	case HF_TCP_LAST_ACK:
		break;
	case HF_TCP_FIN_WAIT_2:
	case HF_TCP_TIME_WAIT:
	case HF_TCP_SYN_RCVD:
		if (c->flags & HF_TCP_F_ACK_NOW)
			tcp_send_ack(w, c);
		return;
	default:
		return;
	}

	/*
	 * Nothing queued unsent, no recovery to drive (SACK recovery may resend
	 * holes), no FIN due: what the loop below would conclude at its first
	 * step, for a connection flushed for an ACK or a timer. Only an owed ACK
	 * goes out.
	 */
	if (!tcp_output_due(c)) {
		if (c->flags & HF_TCP_F_ACK_NOW)
			tcp_send_ack(w, c);
		tcp_rtx_timer_update(w, c, false);
		return;
	}

	/* While we hold out-of-order data, segments shrink to carry SACK blocks (like Linux). */
	if ((c->flags & HF_TCP_F_SACK) && c->ooo.head != NULL) {
		uint32_t blocks[8];
		unsigned int nb = tcp_ooo_sack_blocks(c, blocks, (c->flags & HF_TCP_F_TS) ? 3 : 4);

		mss = (uint16_t)(c->mss - (4 + 8 * nb));
	}
	for (;;) {
		uint32_t flight = c->snd_max - c->snd_una;
		uint32_t unsent = tcp_unsent_bytes(c);
		uint32_t wnd = RTE_MIN(c->cc.cwnd, c->snd_wnd), usable, len;
		uint8_t flags;
		bool fin;

		if ((c->flags & (HF_TCP_F_RECOVERY | HF_TCP_F_SACK)) ==
		    (HF_TCP_F_RECOVERY | HF_TCP_F_SACK)) {
			/* RFC 6675: what may be sent is cwnd minus the estimated pipe. */
			uint32_t pipe = flight - RTE_MIN(flight, hf_tcp_sack_bytes(&c->sack));

			if (pipe >= c->cc.cwnd)
				break;
			if (sack_retransmit(w, c)) {
				sent = true;
				continue;
			}
			usable = RTE_MIN(c->cc.cwnd - pipe,
					 hf_seq_gt(c->snd_una + c->snd_wnd, c->snd_nxt)
						 ? c->snd_una + c->snd_wnd - c->snd_nxt : 0);
		} else {
			usable = hf_seq_gt(c->snd_una + wnd, c->snd_nxt)
					 ? c->snd_una + wnd - c->snd_nxt : 0;
		}
		len = RTE_MIN(RTE_MIN(unsent, (uint32_t)mss), usable);
		if (len == 0)
			break;
		/* Sender SWS avoidance (3.8.6.2.1) with Nagle off: full segments, the tail of
		 * the queue, or at least half the peer's largest window. */
		if (len < mss && len < unsent && len < c->snd_wnd / 2)
			break;
		/*
		 * The last data rides with the FIN when the application closed: a
		 * segment less for every response that ends a connection (as Linux
		 * sends them). A FIN already sent is counted with its data.
		 */
		fin = len == unsent && fin_due(c, c->snd_nxt + len);
		flags = TH_ACK | (len == unsent ? TH_PSH : 0) | (fin ? TH_FIN : 0);
		if (tcp_send_segment(w, c, c->snd_nxt, len, flags) != 0)
			break;
		if (!(c->flags & (HF_TCP_F_TS | HF_TCP_F_RTT_TIMING)) && c->snd_nxt == c->snd_max) {
			c->flags |= HF_TCP_F_RTT_TIMING;
			c->rtt_seq = c->snd_nxt;
			c->rtt_start_ms = st->now_ms;
		}
		if (c->snd_nxt != c->snd_max)
			HF_COUNT(w, TCP_RETRANSMITS);
		c->snd_nxt += len;
		if (hf_seq_gt(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		if (fin)
			fin_out(c);
		sent = true;
		/* All sent: another step would find nothing, save holes for SACK recovery. */
		if (len == unsent && (c->flags & (HF_TCP_F_RECOVERY | HF_TCP_F_SACK)) !=
					     (HF_TCP_F_RECOVERY | HF_TCP_F_SACK))
			break;
	}

	/* A FIN with no data left to carry it: alone, first time or again after a rewind. */
	if (fin_due(c, c->snd_nxt) &&
	    tcp_send_segment(w, c, c->snd_nxt, 0, TH_FIN | TH_ACK) == 0) {
		if (c->flags & HF_TCP_F_FIN_SENT)
			HF_COUNT(w, TCP_RETRANSMITS);
		fin_out(c);
		sent = true;
	}
	if (!sent && (c->flags & HF_TCP_F_ACK_NOW))
		tcp_send_ack(w, c);
	/* New data sent: reschedule the tail loss probe behind it (RFC 8985 7.2). */
	tcp_rtx_timer_update(w, c, sent && !(c->flags & HF_TCP_F_RECOVERY));
}
