/* SPDX-License-Identifier: Apache-2.0 */
/* GET /certs and the certificate expiry gauges (certs.h). */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "control-agent/certs.h"

#define MAX_CERTS 256

/* A distinct certificate of the configuration: its bytes (in the snapshot) and their hash. */
struct one {
	const char *pem;
	uint32_t len;
	uint8_t sum[HF_WATCH_SUM];
};

struct set {
	unsigned int n;
	struct one c[MAX_CERTS];
};

/* Index of @p pem in @p set, added when new; -1 when NULL or the set is full. */
static int
add(struct set *set, const char *pem, uint32_t len)
{
	uint8_t sum[HF_WATCH_SUM];

	if (pem == NULL)
		return -1;
	hf_watch_sum(pem, len, sum);
	for (unsigned int i = 0; i < set->n; i++)
		if (memcmp(set->c[i].sum, sum, sizeof(sum)) == 0)
			return (int)i;
	if (set->n == MAX_CERTS)
		return -1;
	set->c[set->n] = (struct one){.pem = pem, .len = len};
	memcpy(set->c[set->n].sum, sum, sizeof(sum));
	return (int)set->n++;
}

/* Calls @p fn for each TLS server of @p s: its certificate's and its CA's index in @p set. */
static void
each_server(const struct hf_snapshot *s, struct set *set, void (*fn)(void *arg, int cert, int ca),
	    void *arg)
{
	for (unsigned int i = 0; s != NULL && i < s->n_listeners; i++) {
		const struct hf_tls_listener_config *t = s->listeners[i].tls;

		for (unsigned int k = 0; t != NULL && k < t->n_servers; k++) {
			const struct hf_tls_server_config *sc = &t->servers[k];
			int cert = add(set, sc->cert_pem, sc->cert_len);
			int ca = add(set, sc->ca_pem, sc->ca_len);

			if (fn != NULL)
				fn(arg, cert, ca);
		}
	}
}

static X509 *
first_cert(const struct one *o)
{
	BIO *b = BIO_new_mem_buf(o->pem, (int)o->len);
	X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return x;
}

/* Whole days from @p now_s to @p t (negative when past). */
static int64_t
days_until(const ASN1_TIME *t, int64_t now_s)
{
	ASN1_TIME *now = ASN1_TIME_set(NULL, (time_t)now_s);
	int days = 0, secs = 0;

	if (now == NULL || ASN1_TIME_diff(&days, &secs, now, t) != 1)
		days = 0;
	ASN1_TIME_free(now);
	/* A part of a day left is not a day: floor, like Envoy's count. */
	if (secs < 0 && days <= 0)
		days--;
	return days;
}

static void
json_str(struct hf_strbuf *b, const char *v, size_t n)
{
	hf_strbuf_append(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch == '"' || ch == '\\')
			hf_strbuf_printf(b, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			hf_strbuf_printf(b, "\\u%04x", ch);
		else
			hf_strbuf_append(b, &v[i], 1);
	}
	hf_strbuf_append(b, "\"", 1);
}

static void
json_time(struct hf_strbuf *b, const ASN1_TIME *t)
{
	struct tm tm;
	char s[32] = "";

	if (ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	hf_strbuf_printf(b, "\"%s\"", s);
}

/* One CertificateDetails object. */
static void
details(struct hf_strbuf *b, const struct one *o, const struct hf_watch *w, int64_t now_s)
{
	const struct hf_watch_file *f = hf_watch_find(w, o->sum);
	X509 *x = first_cert(o);
	GENERAL_NAMES *gens;
	BIGNUM *bn;
	char *hex;
	bool first = true;
	int64_t days;

	hf_strbuf_printf(b, "{\"path\": ");
	if (f != NULL)
		json_str(b, f->path, strlen(f->path));
	else
		hf_strbuf_printf(b, "\"<inline>\"");
	if (x == NULL) {
		hf_strbuf_printf(b, "}");
		return;
	}
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	for (char *p = hex; p != NULL && *p != '\0'; p++)
		*p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
	hf_strbuf_printf(b, ", \"serial_number\": \"%s\", \"subject_alt_names\": [",
			 hex != NULL ? hex : "");
	OPENSSL_free(hex);
	BN_free(bn);
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *v = NULL;
		const char *kind = NULL;
		char ip[INET6_ADDRSTRLEN] = "";

		if (g->type == GEN_DNS) {
			kind = "dns";
			v = g->d.dNSName;
		} else if (g->type == GEN_URI) {
			kind = "uri";
			v = g->d.uniformResourceIdentifier;
		} else if (g->type == GEN_IPADD) {
			kind = "ip_address";
			if (g->d.iPAddress->length == 4 || g->d.iPAddress->length == 16)
				inet_ntop(g->d.iPAddress->length == 4 ? AF_INET : AF_INET6,
					  g->d.iPAddress->data, ip, sizeof(ip));
		}
		if (kind == NULL)
			continue;
		hf_strbuf_printf(b, "%s{\"%s\": ", first ? "" : ", ", kind);
		if (v != NULL)
			json_str(b, (const char *)ASN1_STRING_get0_data(v),
				 (size_t)ASN1_STRING_length(v));
		else
			json_str(b, ip, strlen(ip));
		hf_strbuf_printf(b, "}");
		first = false;
	}
	GENERAL_NAMES_free(gens);
	days = days_until(X509_get0_notAfter(x), now_s);
	hf_strbuf_printf(b, "], \"days_until_expiration\": \"%lld\", \"valid_from\": ",
			 (long long)(days > 0 ? days : 0));
	json_time(b, X509_get0_notBefore(x));
	hf_strbuf_printf(b, ", \"expiration_time\": ");
	json_time(b, X509_get0_notAfter(x));
	hf_strbuf_printf(b, "}");
	X509_free(x);
}

struct json_ctx {
	struct hf_strbuf *b;
	const struct set *set;
	const struct hf_watch *w;
	int64_t now_s;
	unsigned int n;
	/* pairs already shown: a credential on several ports is one entry */
	int seen[MAX_CERTS][2];
};

static void
json_server(void *arg, int cert, int ca)
{
	struct json_ctx *j = arg;

	if (cert < 0)
		return;
	for (unsigned int i = 0; i < j->n; i++)
		if (j->seen[i][0] == cert && j->seen[i][1] == ca)
			return;
	if (j->n == MAX_CERTS)
		return;
	j->seen[j->n][0] = cert;
	j->seen[j->n][1] = ca;
	hf_strbuf_printf(j->b, "%s\n  {\"ca_cert\": [", j->n > 0 ? "," : "");
	if (ca >= 0)
		details(j->b, &j->set->c[ca], j->w, j->now_s);
	hf_strbuf_printf(j->b, "],\n   \"cert_chain\": [");
	details(j->b, &j->set->c[cert], j->w, j->now_s);
	hf_strbuf_printf(j->b, "]}");
	j->n++;
}

void
hf_certs_json(const struct hf_snapshot *s, const struct hf_watch *w, int64_t now_s,
	      struct hf_strbuf *b)
{
	static struct set set;		/* 12 KB: the agent thread's alone */
	static struct json_ctx j;

	memset(&set, 0, sizeof(set));
	memset(&j, 0, sizeof(j));
	j = (struct json_ctx){.b = b, .set = &set, .w = w, .now_s = now_s};
	hf_strbuf_printf(b, "{\n \"certificates\": [");
	each_server(s, &set, json_server, &j);
	hf_strbuf_printf(b, "%s]\n}\n", j.n > 0 ? "\n " : "");
}

unsigned int
hf_certs_expiry(const struct hf_snapshot *s, const struct hf_watch *w, const char *creds_dir,
		int64_t now_s, void (*fn)(void *arg, const char *name, int64_t days), void *arg)
{
	static struct set set;
	size_t cl = creds_dir != NULL ? strlen(creds_dir) : 0;

	memset(&set, 0, sizeof(set));
	each_server(s, &set, NULL, NULL);
	for (unsigned int i = 0; i < set.n; i++) {
		const struct hf_watch_file *f = hf_watch_find(w, set.c[i].sum);
		const char *p = f != NULL ? f->path : "inline";
		X509 *x = first_cert(&set.c[i]);
		char name[256];

		if (x == NULL)
			continue;
		if (cl > 0 && strncmp(p, creds_dir, cl) == 0 && p[cl] == '/')
			p += cl;
		while (*p == '/')
			p++;
		snprintf(name, sizeof(name), "%s", p);
		for (char *c = name; *c != '\0'; c++)
			if (*c == '/')
				*c = '.';
		fn(arg, name, days_until(X509_get0_notAfter(x), now_s));
		X509_free(x);
	}
	return set.n;
}
