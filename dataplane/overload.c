/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The overload manager's arithmetic: monitors to pressures, pressures to the
 * level of each action (Envoy's scaled triggers), levels to draw thresholds.
 * Pure C: the worker (worker.c) takes the readings, the proxies ask
 * hf_overload_act() per event.
 */
#include <string.h>

#include "dataplane/overload.h"

/* Weight of the newest window in the smoothed backlog: half-life one window. */
#define BACKLOG_ALPHA 0.5f

static const char *const monitor_names[HF_OVM__N] = {
	[HF_OVM_BACKLOG] = "backlog",
	[HF_OVM_MBUFS] = "mbufs",
	[HF_OVM_CONNECTIONS] = "connections",
	[HF_OVM_STREAMS] = "streams",
	[HF_OVM_QUEUE_DELAY] = "queue_delay",
};

static const char *const action_names[HF_OVA__N] = {
	[HF_OVA_REFUSE_CONNECTIONS] = "refuse_connections",
	[HF_OVA_DISABLE_KEEPALIVE] = "disable_keepalive",
	[HF_OVA_SHED_REQUESTS] = "shed_requests",
};

const char *
hf_overload_monitor_name(enum hf_overload_monitor m)
{
	return (unsigned int)m < HF_OVM__N ? monitor_names[m] : "?";
}

const char *
hf_overload_action_name(enum hf_overload_action a)
{
	return (unsigned int)a < HF_OVA__N ? action_names[a] : "?";
}

void
hf_overload_defaults(struct hf_overload_config *cfg)
{
	static const struct hf_overload_trigger off = {2.0f, 2.0f};

	memset(cfg, 0, sizeof(*cfg));
	cfg->window_us = 10000;
	cfg->queue_delay_us = 500;
	for (int a = 0; a < HF_OVA__N; a++)
		for (int m = 0; m < HF_OVM__N; m++)
			cfg->trigger[a][m] = off;
	/*
	 * By default only a pool of mbufs running out acts: first stop holding
	 * connections open, then shed new requests before they take an upstream
	 * exchange, and refuse connections last. The backlog triggers are for
	 * workers on cores of their own (README): on a shared or slow device (a
	 * net_tap's syscalls) a busy loop is not yet overload. The connection and
	 * stream pools have hard limits with their own counters (tcp.drop.no_tcb,
	 * http.drop.no_stream), so they trigger nothing unless configured.
	 */
	cfg->trigger[HF_OVA_DISABLE_KEEPALIVE][HF_OVM_MBUFS] = (struct hf_overload_trigger){0.85f, 0.95f};
	cfg->trigger[HF_OVA_SHED_REQUESTS][HF_OVM_MBUFS] = (struct hf_overload_trigger){0.90f, 0.98f};
	cfg->trigger[HF_OVA_REFUSE_CONNECTIONS][HF_OVM_MBUFS] = (struct hf_overload_trigger){0.95f, 0.99f};
}

void
hf_overload_init(struct hf_overload *o, const struct hf_overload_config *cfg, uint64_t tsc_hz,
		 uint64_t seed)
{
	memset(o, 0, sizeof(*o));
	o->cfg = *cfg;
	o->window_tsc = tsc_hz / 1000000 * cfg->window_us;
	if (o->window_tsc == 0)
		o->window_tsc = 1;
	o->target_tsc = tsc_hz / 1000000 * cfg->queue_delay_us;
	if (o->target_tsc == 0)
		o->target_tsc = 1;
	/* xorshift64 must not start at 0; the constant is the golden ratio's bits. */
	o->rng = seed * UINT64_C(0x9e3779b97f4a7c15) | 1;
}

float
hf_overload_scale(const struct hf_overload_trigger *t, float p)
{
	if (t->scaling > 1.0f || p < t->scaling)
		return 0.0f;
	if (p >= t->saturation || t->saturation <= t->scaling)
		return 1.0f;
	return (p - t->scaling) / (t->saturation - t->scaling);
}

/* @p part of @p whole as a share in [0, 1]. */
static float
share(uint64_t part, uint64_t whole)
{
	return part >= whole ? 1.0f : (float)part / (float)whole;
}

void
hf_overload_delay(struct hf_overload *o, uint64_t now, uint64_t waiting)
{
	float err, p = o->pressure[HF_OVM_QUEUE_DELAY], ms = (float)o->cfg.window_us / 1000.0f;
	float alpha = ms >= HF_OVERLOAD_BUSY_MS ? 1.0f : ms / HF_OVERLOAD_BUSY_MS;
	uint64_t len = o->busy_tsc + o->idle_tsc;

	/* The first window: no poll has emptied the queues yet, nor found them standing. */
	if (o->drained_tsc == 0)
		o->drained_tsc = now;
	o->standing_tsc = now > o->drained_tsc ? now - o->drained_tsc : 0;
	/* The last of at most @p waiting frames queued waited as long as taking them took. */
	if (waiting != 0 && o->streak_frames > waiting)
		o->standing_tsc = (uint64_t)((double)o->standing_tsc * (double)waiting /
					     (double)o->streak_frames);
	/* A window the thread spent preempted tells nothing of the load: the average stays. */
	if (len != 0)
		o->busy = alpha * share(o->busy_tsc, len) + (1.0f - alpha) * o->busy;
	o->idle_tsc = 0;
	o->busy_tsc = 0;
	err = (float)o->standing_tsc / (float)o->target_tsc - 1.0f;
	if (err > HF_OVERLOAD_DELAY_ERR_MAX)
		err = HF_OVERLOAD_DELAY_ERR_MAX;
	/*
	 * Below saturation the worker keeps up: a queue that stands is a burst,
	 * a stall or a crowd that resends at once, and shedding would only answer
	 * it sooner. The share falls then, the faster the more time the worker
	 * has to spare (the whole gain from three points under the bound). Only
	 * held, it ratcheted up in each saturated spell of a load that hovers
	 * there, to shedding nearly all (test_delay_no_ratchet).
	 */
	if (o->busy < HF_OVERLOAD_DELAY_BUSY) {
		float spare = (o->busy - HF_OVERLOAD_DELAY_BUSY) / (1.0f - HF_OVERLOAD_DELAY_BUSY);

		if (spare < -1.0f)
			spare = -1.0f;
		if (err > spare)
			err = spare;
	}
	p += HF_OVERLOAD_DELAY_GAIN * ms * err;
	o->pressure[HF_OVM_QUEUE_DELAY] = p < 0.0f ? 0.0f : p > 1.0f ? 1.0f : p;
}

void
hf_overload_update(struct hf_overload *o, float backlog_share, const float pressure[HF_OVM__N])
{
	for (int m = 0; m < HF_OVM__N; m++)
		if (m != HF_OVM_BACKLOG && m != HF_OVM_QUEUE_DELAY)
			o->pressure[m] = pressure[m];
	o->pressure[HF_OVM_BACKLOG] = BACKLOG_ALPHA * backlog_share +
				      (1.0f - BACKLOG_ALPHA) * o->pressure[HF_OVM_BACKLOG];
	for (int a = 0; a < HF_OVA__N; a++) {
		float level = 0.0f;

		/* Several triggers on one action: the highest level wins (as in Envoy). */
		for (int m = 0; m < HF_OVM__N; m++) {
			float l = hf_overload_scale(&o->cfg.trigger[a][m], o->pressure[m]);

			if (l > level)
				level = l;
		}
		o->level[a] = level;
		o->threshold[a] = level <= 0.0f	  ? 0
				  : level >= 1.0f ? UINT32_MAX
						  : (uint32_t)(level * 4294967295.0f);
	}
}
