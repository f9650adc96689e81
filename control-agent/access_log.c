/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Access log lines, written by the control agent from the records the
 * workers queue. All I/O happens here, on the agent's core.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <rte_byteorder.h>
#include <rte_ring.h>

#include "control-agent/access_log.h"

static const char *const flag_names[HF_RF__MAX] = {
	[HF_RF_NONE] = "-", [HF_RF_NR] = "NR", [HF_RF_UF] = "UF", [HF_RF_UH] = "UH",
	[HF_RF_UT] = "UT", [HF_RF_UC] = "UC", [HF_RF_UPE] = "UPE", [HF_RF_DPE] = "DPE",
	[HF_RF_UR] = "UR", [HF_RF_DC] = "DC", [HF_RF_FI] = "FI",
	[HF_RF_OM] = "OM",
	[HF_RF_RBAC] = "RBAC",
	[HF_RF_RL] = "RL",
	[HF_RF_NC] = "NC",
	[HF_RF_UO] = "UO",
};

const char *
hf_response_flag_name(unsigned int flag)
{
	return flag < HF_RF__MAX && flag_names[flag] != NULL ? flag_names[flag] : "-";
}

/* Records taken from a ring at a time. */
#define DRAIN_BURST 64

int
hf_access_log_open(struct hf_access_log *al, const char *path, char *err, size_t errlen)
{
	al->f = strcmp(path, "/dev/stdout") == 0 ? stdout : fopen(path, "a");
	if (al->f == NULL) {
		int rc = -errno;

		snprintf(err, errlen, "access_log: cannot open '%s': %s", path, strerror(errno));
		return rc;
	}
	return 0;
}

/* A line under construction; appending stops quietly at the end of the buffer. */
struct line {
	char *p;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3)))
add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len + 1 >= l->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->p + l->len, l->cap - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len = l->len + (size_t)n < l->cap - 1 ? l->len + (size_t)n : l->cap - 1;
}

/*
 * Appends request-controlled text @p s ("-" when empty) so that it cannot
 * forge a field or a line: '"' and '\\' are escaped with a backslash, and
 * control bytes, DEL and bytes from 0x80 as \xNN (Envoy's escaping of
 * quoted fields). In an unquoted field (@p quoted false) a space is \x20
 * too, or it would split the field in two for the log's parsers.
 */
static void
add_esc(struct line *l, const char *s, bool quoted)
{
	static const char hexd[] = "0123456789abcdef";

	if (s[0] == '\0')
		s = "-";
	for (; *s != '\0' && l->len + 1 < l->cap; s++) {
		unsigned char c = (unsigned char)*s;
		char e[4];
		size_t n = 1;

		e[0] = (char)c;
		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			n = 2;
		} else if (c < 0x20 || c >= 0x7f || (c == ' ' && !quoted)) {
			e[0] = '\\';
			e[1] = 'x';
			e[2] = hexd[c >> 4];
			e[3] = hexd[c & 0xf];
			n = 4;
		}
		/* an escape goes whole or not at all */
		if (l->len + n >= l->cap)
			break;
		memcpy(l->p + l->len, e, n);
		l->len += n;
	}
	l->p[l->len] = '\0';
}

static void
add_addr(struct line *l, uint32_t addr, uint16_t port)
{
	const uint8_t *a = (const uint8_t *)&addr;

	if (addr == 0)
		add(l, "-");
	else
		add(l, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], rte_be_to_cpu_16(port));
}

size_t
hf_access_log_format(const struct hf_access_log_rec *r, char *buf, size_t cap)
{
	struct line l = {.p = buf, .len = 0, .cap = cap};
	time_t secs = (time_t)(r->start_us / 1000000);
	struct tm tm;

	buf[0] = '\0';
	gmtime_r(&secs, &tm);
	add(&l, "[%04d-%02d-%02dT%02d:%02d:%02d.%03uZ] ", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned int)(r->start_us / 1000 % 1000));
	add(&l, "\"");
	add_esc(&l, r->method, false);
	add(&l, " ");
	add_esc(&l, r->path, false);
	add(&l, " %s\" ", r->method[0] != '\0' ? (r->minor == 0 ? "HTTP/1.0" : "HTTP/1.1") : "-");
	add(&l, "%u %s %s %s \"%s\" ", r->status,
	    hf_response_flag_name(r->flag), r->details != NULL ? r->details : "-",
	    r->conn_details != NULL ? r->conn_details : "-",
	    r->transport_failure != NULL ? r->transport_failure : "-");
	add(&l, "%" PRIu64 " %" PRIu64 " %u ", r->bytes_rx, r->bytes_tx, r->duration_ms);
	if (r->service_ms >= 0)
		add(&l, "%d ", r->service_ms);
	else
		add(&l, "- ");
	add(&l, "\"");
	add_esc(&l, r->xff, true);
	add(&l, "\" \"");
	add_esc(&l, r->user_agent, true);
	add(&l, "\" \"");
	add_esc(&l, r->request_id, true);
	add(&l, "\" \"");
	add_esc(&l, r->authority, true);
	add(&l, "\" \"");
	add_addr(&l, r->up_addr, r->up_port);
	add(&l, "\" ");
	add_esc(&l, r->cluster, false);
	add(&l, " ");
	add_addr(&l, r->up_laddr, r->up_lport);
	add(&l, " ");
	add_addr(&l, r->d_laddr, r->d_lport);
	add(&l, " ");
	add_addr(&l, r->d_raddr, r->d_rport);
	add(&l, " ");
	add_esc(&l, r->sni, false);
	add(&l, " ");
	add_esc(&l, r->route, false);
	add(&l, "\n");
	/* A truncated line still ends the record. */
	if (l.len > 0 && buf[l.len - 1] != '\n') {
		buf[l.len - 1] = '\n';
	}
	return l.len;
}

unsigned int
hf_access_log_drain(struct hf_access_log *al)
{
	static struct hf_access_log_rec recs[DRAIN_BURST];
	/* room for every field escaped whole (4 bytes each at worst) */
	char line[4096];
	unsigned int total = 0;

	if (al->f == NULL)
		return 0;
	for (unsigned int i = 0; i < al->n_rings; i++) {
		unsigned int n;

		while ((n = rte_ring_sc_dequeue_burst_elem(al->rings[i], recs, sizeof(recs[0]),
							    DRAIN_BURST, NULL)) > 0) {
			for (unsigned int k = 0; k < n; k++) {
				size_t len = hf_access_log_format(&recs[k], line, sizeof(line));

				fwrite(line, 1, len, al->f);
			}
			total += n;
		}
	}
	if (total > 0)
		fflush(al->f);
	al->written += total;
	return total;
}

void
hf_access_log_close(struct hf_access_log *al)
{
	if (al->f == NULL)
		return;
	hf_access_log_drain(al);
	if (al->f != stdout)
		fclose(al->f);
	al->f = NULL;
}
