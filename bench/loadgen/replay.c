/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The replay role (--replay FILE.pcap): packet-level tests and loads that the
 * TCP client cannot make (malformed frames, other protocols, captured
 * traffic). The file is read once, before the run, into mbufs of the port's
 * own pool, each frame as captured (only --replay-dst-mac rewrites, and only
 * then, at load); worker 0 then sends them on its TX queue, pass after pass,
 * at the times the pacing gives:
 *
 *   file timing (default)  each frame at its offset from the first in the
 *                          file; a pass lasts the file's span plus its mean
 *                          gap, so passes join without two frames at once
 *   --replay-rate R > 0    evenly, R frames/s, from one TSC origin (no drift)
 *   --replay-rate 0        as fast as the TX queue takes them
 *
 * A send is one more reference on the frame's mbufs (the device drops it when
 * done), so one preloaded frame can be in flight several times: no
 * allocation, copy or system call per frame, bursts of up to HF_BURST. Paced
 * frames the queue refuses at their time are counted and not sent, since a
 * late frame would distort the timing asked for; unpaced, the queue's refusal
 * is the pace, and only a frame refused for REFUSE_MS on end (too big for the
 * device, a dead link) is counted and skipped.
 *
 * The report's time runs from the first frame's slot to the end of the
 * schedule (paced: the slot after the last frame, so packets/s is the rate
 * asked for when the queue kept up) or to the last frame (unpaced), or to the
 * signal that stopped the run; last_send_s is when the last frame left.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "bench/loadgen/loadgen.h"
#include "bench/loadgen/pcap.h"
#include "dataplane/port-t.h"
#include "dataplane/worker.h"

#define REFUSE_MS 100

/* Copies @p len bytes into a chain from @p mp, data room by data room; NULL when it runs out. */
static struct rte_mbuf *
load_frame(struct rte_mempool *mp, const uint8_t *data, uint32_t len)
{
	struct rte_mbuf *head = NULL, *last = NULL;

	for (uint32_t off = 0; off < len;) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		uint16_t k;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		k = (uint16_t)RTE_MIN(len - off, (uint32_t)rte_pktmbuf_tailroom(m));
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), data + off, k);
		m->data_len = k;
		if (head == NULL) {
			head = m;
		} else {
			last->next = m;
			head->nb_segs++;
		}
		head->pkt_len += k;
		last = m;
		off += k;
	}
	return head;
}

static int
grow(struct lg_replay *r, uint32_t *cap)
{
	uint32_t ncap = *cap ? 2 * *cap : 1024;
	struct rte_mbuf **p = realloc(r->pkts, ncap * sizeof(*p));
	uint64_t *d;

	if (p == NULL)
		return -ENOMEM;
	r->pkts = p;
	d = realloc(r->due, ncap * sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	r->due = d;
	*cap = ncap;
	return 0;
}

int
lg_replay_load(struct lg_replay *r, const struct lg_opts *o, const struct hf_port *port,
               uint16_t index, char *err, size_t errlen)
{
	const uint64_t hz = rte_get_tsc_hz();
	const uint32_t room = rte_pktmbuf_data_room_size(port->pool) - RTE_PKTMBUF_HEADROOM;
	/* The rest of the pool is RX's and the stack's: running it dry would stop the port. */
	const uint32_t spare = rte_mempool_avail_count(port->pool) / 2;
	uint64_t first_ns = 0, rel_ns = 0;
	struct hf_pcap pc;
	struct hf_pcap_rec rec;
	uint32_t cap = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	r->port = index;
	rc = hf_pcap_open(&pc, o->replay_file);
	if (rc != 0) {
		snprintf(err, errlen, "%s", pc.err);
		goto fail;
	}
	while ((rc = hf_pcap_next(&pc, &rec)) == 1) {
		uint32_t segs = (rec.caplen + room - 1) / room;
		struct rte_mbuf *m;

		if (rec.caplen == 0) {
			r->empty++;
			continue;
		}
		if (r->mbufs + segs > spare) {
			snprintf(err, errlen,
			         "%s: record %" PRIu64 ": more than %u mbufs for the "
			         "frames, half the free mbufs of port %s's pool, the most a replay "
			         "may hold: replay fewer frames (editcap -r %s OUT 1-%u)",
			         o->replay_file, pc.records, spare, port->name, o->replay_file,
			         r->n);
			rc = -ENOSPC;
			goto fail;
		}
		if (r->n == cap && (rc = grow(r, &cap)) != 0) {
			snprintf(err, errlen, "%s: no memory for the frame table", o->replay_file);
			goto fail;
		}
		m = load_frame(port->pool, rec.data, rec.caplen);
		if (m == NULL) {
			snprintf(err, errlen, "%s: record %" PRIu64 ": port %s's pool is empty",
			         o->replay_file, pc.records, port->name);
			rc = -ENOMEM;
			goto fail;
		}
		if (o->replay_dst_set && rec.caplen >= sizeof(o->replay_dst))
			memcpy(rte_pktmbuf_mtod(m, uint8_t *), o->replay_dst,
			       sizeof(o->replay_dst));
		/* Timestamps that go backwards (merged captures) mean "at once", never earlier. */
		if (r->n == 0)
			first_ns = rec.ts_ns;
		else if (rec.ts_ns > first_ns)
			rel_ns = RTE_MAX(rel_ns, rec.ts_ns - first_ns);
		r->due[r->n] = (uint64_t)((unsigned __int128)rel_ns * hz / 1000000000u);
		r->pkts[r->n++] = m;
		r->mbufs += segs;
		r->file_bytes += rec.caplen;
		r->cut += rec.caplen < rec.origlen;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s", pc.err);
		goto fail;
	}
	if (r->n == 0) {
		snprintf(err, errlen, "%s: no frames to replay (%" PRIu64 " records, all empty)",
		         o->replay_file, pc.records);
		rc = -ENODATA;
		goto fail;
	}
	hf_pcap_close(&pc);
	if (!o->replay_rate_set) {
		uint64_t span = r->due[r->n - 1];

		r->pace = LG_PACE_FILE;
		r->pass_tsc = span + (r->n > 1 ? span / (r->n - 1) : 0);
	} else if (o->replay_rate > 0) {
		r->pace = LG_PACE_RATE;
		r->tsc_per_pkt = (double)hz / o->replay_rate;
	} else {
		r->pace = LG_PACE_MAX;
	}
	r->total = o->replay_loops == 0 || o->replay_loops > UINT64_MAX / r->n
	                   ? UINT64_MAX
	                   : o->replay_loops * r->n;
	if (r->cut > 0 || r->empty > 0)
		fprintf(stderr,
		        "hf-loadgen: %s: %" PRIu64 " frames captured shorter than they "
		        "were sent (snapshot length %u) are replayed as captured; %" PRIu64
		        " empty records skipped\n",
		        o->replay_file, r->cut, pc.snaplen, r->empty);
	return 0;
fail:
	hf_pcap_close(&pc);
	lg_replay_free(r);
	return rc;
}

/* When the last pass ends, on the schedule: a paced replay lasts its schedule, not less. */
static uint64_t
end_time(const struct lg_replay *r, uint64_t now)
{
	uint64_t sched = r->t0;

	if (r->pace == LG_PACE_FILE)
		sched += r->total / r->n * r->pass_tsc;
	else if (r->pace == LG_PACE_RATE)
		sched += (uint64_t)((double)r->total * r->tsc_per_pkt);
	return RTE_MAX(now, sched);
}

void
lg_replay_poll(struct lg_worker *lw)
{
	struct lg_replay *r = lw->replay;
	const struct hf_port *p = &lw->w->ports[r->port];
	struct rte_mbuf *burst[HF_BURST];
	uint32_t idx = r->idx;
	uint64_t pass = r->pass, now, bytes = 0;
	uint16_t n = 0, sent, taken;

	/* Nothing goes while the port's driver may be remapping its rings (net_memif, worker.h). */
	if (r->done || !hf_worker_port_ready(lw->w, p))
		return;
	now = rte_rdtsc();
	if (now < r->t0)
		return;
	while (n < HF_BURST && r->k + n < r->total) {
		if (r->pace == LG_PACE_FILE) {
			if (r->t0 + pass * r->pass_tsc + r->due[idx] > now)
				break;
		} else if (r->pace == LG_PACE_RATE) {
			if (r->t0 + (uint64_t)((double)(r->k + n) * r->tsc_per_pkt) > now)
				break;
		}
		burst[n++] = r->pkts[idx];
		if (++idx == r->n) {
			idx = 0;
			pass++;
		}
	}
	if (n == 0)
		return;
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_refcnt_update(burst[i], 1);
	sent = rte_eth_tx_burst(p->port_id, lw->w->id, burst, n);
	for (uint16_t i = 0; i < sent; i++)
		bytes += rte_pktmbuf_pkt_len(burst[i]);
	/* What the queue did not take is back to our one reference (never freed here). */
	for (uint16_t i = sent; i < n; i++)
		rte_pktmbuf_free(burst[i]);
	r->sent += sent;
	r->bytes += bytes;
	if (sent > 0)
		r->t_last = now;
	taken = n;
	if (r->pace != LG_PACE_MAX) {
		r->refused += n - sent;
	} else if (sent > 0) {
		taken = sent;
		r->stall_since = 0;
	} else if (r->stall_since == 0) {
		taken = 0;
		r->stall_since = now;
	} else if (now - r->stall_since >= hf_ms_to_tsc(lw->w, REFUSE_MS)) {
		taken = 1;
		r->refused++;
		r->stall_since = 0;
	} else {
		taken = 0;
	}
	if (taken == n) {
		r->idx = idx;
		r->pass = pass;
	} else {
		for (uint16_t i = 0; i < taken; i++)
			if (++r->idx == r->n) {
				r->idx = 0;
				r->pass++;
			}
	}
	r->k += taken;
	if (r->k == r->total) {
		r->t_end = end_time(r, rte_rdtsc());
		/* Pairs with the acquire load in main()'s wait for the end of the run. */
		__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
	}
}

void
lg_replay_stop(struct lg_replay *r)
{
	if (!r->done)
		r->t_end = rte_rdtsc();
}

/* @p s as a JSON string body: quotes, backslashes and controls escaped. */
static void
json_str(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
}

void
lg_replay_report(const struct lg_replay *r, const struct lg_opts *o, bool json)
{
	static const char *const pace[] = {
	        [LG_PACE_FILE] = "file",
	        [LG_PACE_RATE] = "rate",
	        [LG_PACE_MAX] = "max",
	};
	const double hz = (double)rte_get_tsc_hz();
	double secs = r->t_end > r->t0 ? (r->t_end - r->t0) / hz : 0;
	double last = r->t_last > r->t0 ? (r->t_last - r->t0) / hz : 0;
	double pps = secs > 0 ? r->sent / secs : 0, bps = secs > 0 ? r->bytes * 8 / secs : 0;
	uint64_t passes = r->n ? r->k / r->n : 0;

	if (json) {
		printf("{\"file\":\"");
		json_str(o->replay_file);
		printf("\",\"frames\":%u,\"file_bytes\":%" PRIu64
		       ",\"pacing\":\"%s\",\"rate\":%.1f,"
		       "\"loops\":%" PRIu64 ",\"passes\":%" PRIu64 ",\"complete\":%s,"
		       "\"seconds\":%.6f,\"last_send_s\":%.6f,\"sent\":%" PRIu64
		       ",\"bytes\":%" PRIu64 ",\"tx_refused\":%" PRIu64
		       ",\"packets_per_s\":%.1f,\"bits_per_s\":%.0f,"
		       "\"cut_in_capture\":%" PRIu64 "}",
		       r->n, r->file_bytes, pace[r->pace],
		       r->pace == LG_PACE_RATE ? o->replay_rate : 0, o->replay_loops, passes,
		       r->done ? "true" : "false", secs, last, r->sent, r->bytes, r->refused, pps,
		       bps, r->cut);
		return;
	}
	printf("hf-loadgen: replay of %s: %u frames (%" PRIu64 " bytes) a pass, ", o->replay_file,
	       r->n, r->file_bytes);
	if (r->pace == LG_PACE_FILE)
		printf("paced by the file's timestamps");
	else if (r->pace == LG_PACE_RATE)
		printf("%.1f frames/s", o->replay_rate);
	else
		printf("as fast as the queue takes them");
	if (o->replay_loops > 0)
		printf(", %" PRIu64 " of %" PRIu64 " passes", passes, o->replay_loops);
	else
		printf(", %" PRIu64 " pass%s (until stopped)", passes, passes == 1 ? "" : "es");
	printf(" in %.3f s%s\n", secs, r->done || o->replay_loops == 0 ? "" : ", stopped early");
	printf("  %-22s %14.1f\n", "packets/s", pps);
	printf("  %-22s %14.1f\n", "Mbit/s", bps / 1e6);
	printf("  %-22s %14" PRIu64 "\n", "packets sent", r->sent);
	printf("  %-22s %14" PRIu64 "\n", "bytes sent", r->bytes);
	printf("  %-22s %14" PRIu64 "\n", "tx refused", r->refused);
	if (r->cut > 0)
		printf("  %-22s %14" PRIu64 "\n", "cut in the capture", r->cut);
}

void
lg_replay_free(struct lg_replay *r)
{
	if (r->pkts != NULL)
		for (uint32_t i = 0; i < r->n; i++)
			rte_pktmbuf_free(r->pkts[i]);
	free(r->pkts);
	r->pkts = NULL;
	free(r->due);
	r->due = NULL;
	r->n = 0;
}
