/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_OVERLOAD_H
#define HF_OVERLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/overload-t.h"

/* The defaults: request shedding and keep-alive off by backlog, connections refused by mbufs. */
void hf_overload_defaults(struct hf_overload_config *cfg);

/* Starts @p o with @p cfg (copied); @p seed varies the draws between workers. */
void hf_overload_init(struct hf_overload *o, const struct hf_overload_config *cfg, uint64_t tsc_hz,
		      uint64_t seed);

/*
 * Ends a window: @p backlog_share is the share of its cycles spent behind
 * the RX queues, @p pressure the other monitors' readings (its
 * HF_OVM_BACKLOG and HF_OVM_QUEUE_DELAY entries are ignored: the share and
 * hf_overload_delay() set those). Sets the actions' levels.
 */
void hf_overload_update(struct hf_overload *o, float backlog_share, const float pressure[HF_OVM__N]);

/* The level (0..1) that trigger @p t gives at pressure @p p. */
float hf_overload_scale(const struct hf_overload_trigger *t, float p);

/* Names as the bootstrap and /stats spell them ("backlog", "shed_requests"). */
const char *hf_overload_monitor_name(enum hf_overload_monitor m);
const char *hf_overload_action_name(enum hf_overload_action a);

/*
 * Full bursts in a row before the loop counts as lagging. A peer that sends
 * in batches (a loadgen, a NIC's interrupt moderation upstream, a burst of
 * pipelined requests) fills one or two bursts at a time at any load; a worker
 * that cannot keep up finds its queue full burst after burst. Four bursts are
 * 128 frames still waiting after 96 were taken.
 */
#define HF_OVERLOAD_LAG_BURSTS 4

/*
 * One loop iteration from @p start to @p end that took @p frames, whose RX
 * bursts came back full (@p full: frames were left waiting) or not (every
 * queue was emptied at @p start). Adds it to the window's lagging cycles when it continues a
 * streak of full bursts longer than HF_OVERLOAD_LAG_BURSTS, and keeps the
 * queue_delay controller's clock: the time since the queues were last
 * empty, counted in the worker's own running time. @p stalled is how long
 * the thread did not run since the previous iteration (0 when it did): what
 * queued while the machine held the worker is the machine's delay, not load
 * this worker cannot carry, so the clock skips it.
 */
static inline void
hf_overload_loop(struct hf_overload *o, bool full, unsigned int frames, uint64_t start,
		 uint64_t end, uint64_t stalled)
{
	/*
	 * The busy share counts an iteration once the next one shows the thread
	 * ran on after it: one that a preemption stretched would read as busy.
	 */
	if (stalled == 0)
		*(o->prev_idle ? &o->idle_tsc : &o->busy_tsc) += o->prev_len;
	o->prev_len = end - start;
	o->prev_idle = frames == 0;
	if (!full) {
		o->full_streak = 0;
		o->drained_tsc = start;
		o->streak_frames = 0;
		return;
	}
	o->streak_frames += frames;
	o->drained_tsc = o->drained_tsc + stalled < start ? o->drained_tsc + stalled : start;
	if (++o->full_streak > HF_OVERLOAD_LAG_BURSTS)
		o->backlog_tsc += end - start;
}

/*
 * The queue_delay controller (integral control of the queue's delay, as
 * CoDel's target and PIE's controller): at the end of a window @p now, the
 * queue's delay s against the target T moves HF_OVM_QUEUE_DELAY's pressure,
 * the share of new requests to shed, by HF_OVERLOAD_DELAY_GAIN per ms of
 * window times (s/T - 1), that error
 * taken within [-1, HF_OVERLOAD_DELAY_ERR_MAX]. A queue that empties within
 * the target lowers it; one that stands past it raises it until the worker,
 * spending less on each shed request, empties its queue again: the share
 * settles at the excess of the load over what the worker can serve. It
 * rises only while the worker's busy share (smoothed over
 * HF_OVERLOAD_BUSY_MS) is at least HF_OVERLOAD_DELAY_BUSY: below saturation
 * a queue stands only after a stall or a burst, and drains by itself, so
 * the share falls then, by up to the gain (an error of -1) three points
 * under the bound. Call it at a window's end, before hf_overload_update().
 *
 * s is the standing time (since the queues were last empty), bounded by how
 * long the worker took, at the streak's pace, to take the @p waiting frames
 * that can be queued at most (the RX rings, or fewer: HTTP/1.1 clients send
 * a connection's next request after its response, so a few connections fill
 * no ring). A queue can stand for ever with a short wait, when as many
 * clients as there are connections resend the moment they are answered; a
 * shed request would then only be replaced by the next one. 0: no bound.
 */
void hf_overload_delay(struct hf_overload *o, uint64_t now, uint64_t waiting);

/* Pressure per ms of window at an error of 1 (a standing time of twice the target). */
#define HF_OVERLOAD_DELAY_GAIN 0.02f
/* The busy share below which the controller lowers the share it sheds, whatever the queue. */
#define HF_OVERLOAD_DELAY_BUSY 0.97f
/* The busy share's smoothing: an exponential average with this time constant. */
#define HF_OVERLOAD_BUSY_MS 20.0f
/* The error's cap: a queue standing for minutes raises the share no faster than at 4 T. */
#define HF_OVERLOAD_DELAY_ERR_MAX 3.0f

/* Whether action @p a takes this event: a draw against its level, no draw while off. */
static inline bool
hf_overload_act(struct hf_overload *o, enum hf_overload_action a)
{
	uint32_t t = o->threshold[a];

	if (__builtin_expect(t == 0, 1))
		return false;
	if (t == UINT32_MAX)
		return true;
	/* xorshift64: a per-worker stream, cheap and good enough for a share. */
	o->rng ^= o->rng << 13;
	o->rng ^= o->rng >> 7;
	o->rng ^= o->rng << 17;
	return (uint32_t)(o->rng >> 32) < t;
}

#endif
