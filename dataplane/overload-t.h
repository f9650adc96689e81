/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_OVERLOAD_T_H
#define HF_OVERLOAD_T_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The overload manager's types (Envoy's overload manager, driven by the
 * worker's own pressure signals). Each worker measures its monitors once per
 * window and sets the level of each action from them; the actions then act on
 * that share of new connections, responses and requests.
 */

/* What a worker measures, each as a pressure in [0, 1]. */
enum hf_overload_monitor {
	/* share of the window's cycles spent in loop iterations that found their RX
	 * queue still full after HF_OVERLOAD_LAG_BURSTS full bursts in a row: the
	 * worker was behind its queues and not catching up (its loop lag) */
	HF_OVM_BACKLOG,
	HF_OVM_MBUFS,			/* share of the port's mbuf pool taken, worst port */
	HF_OVM_CONNECTIONS,		/* share of the worker's TCBs taken */
	HF_OVM_STREAMS,			/* share of the worker's HTTP streams taken */
	/* not a reading but a controller's output: the share of new requests to
	 * shed so that the RX queue's standing time holds at cfg.queue_delay_us
	 * (hf_overload_delay()) */
	HF_OVM_QUEUE_DELAY,
	HF_OVM__N
};

/* What it does about them. */
enum hf_overload_action {
	HF_OVA_REFUSE_CONNECTIONS,	/* a SYN to a listener is answered with RST */
	HF_OVA_DISABLE_KEEPALIVE,	/* a response carries connection: close */
	HF_OVA_SHED_REQUESTS,		/* a new request is answered 503 (flag OM) at once */
	HF_OVA__N
};

/*
 * A scaled trigger (Envoy's ScaledTrigger): the action's level is 0 below
 * @c scaling, 1 from @c saturation, linear between. scaling > 1: never.
 */
struct hf_overload_trigger {
	float scaling;
	float saturation;
};

/* overload = { ... } of the bootstrap; the same for every worker. */
struct hf_overload_config {
	uint32_t window_us;		/* how often the monitors are read */
	uint32_t queue_delay_us;	/* target of the queue_delay controller */
	struct hf_overload_trigger trigger[HF_OVA__N][HF_OVM__N];
};

/* One worker's overload state; written by that worker only. */
struct hf_overload {
	struct hf_overload_config cfg;
	uint64_t window_tsc;		/* cfg.window_us in TSC ticks */
	uint64_t window_start;		/* TSC */
	uint64_t backlog_tsc;		/* cycles of lagging iterations in this window */
	uint32_t full_streak;		/* iterations in a row whose RX burst came back full */
	uint64_t target_tsc;		/* cfg.queue_delay_us in TSC ticks */
	uint64_t drained_tsc;		/* TSC of the last poll that emptied the RX queues */
	uint64_t standing_tsc;		/* the queue's standing time at the last window's end */
	uint64_t idle_tsc;		/* cycles of polls that found no frame in this window */
	uint64_t busy_tsc;		/* cycles of polls that found frames in this window */
	uint64_t prev_len;		/* the previous iteration's cycles, not yet counted */
	bool prev_idle;			/* whether it found no frame */
	uint64_t streak_frames;		/* frames taken since the RX queues were last empty */
	float busy;			/* share of loop time with frames, smoothed (HF_OVERLOAD_BUSY_MS) */
	float pressure[HF_OVM__N];	/* as last measured (backlog smoothed over windows) */
	float level[HF_OVA__N];		/* share of events each action takes now */
	uint32_t threshold[HF_OVA__N];	/* level as a 32-bit draw threshold; 0: off */
	uint64_t rng;
};

#endif
