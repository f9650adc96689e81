/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's TLS pieces beside the snapshot: the session ticket keys
 * (control-agent/tickets.c: drawn, rotated on the period, the previous key
 * kept, off when disabled) and GET /certs with the expiry gauges
 * (control-agent/certs.c: Envoy's JSON fields from a snapshot's TLS servers,
 * the file path found by the bytes' hash, days left, an expired certificate).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "hf_test.h"
#include "control-agent/certs.h"
#include "control-agent/tickets.h"
#include "tls/tls.h"

static void
test_tickets_rotate(void **state)
{
	struct hf_tickets k;
	struct hf_tls_ticket_key first;
	const struct hf_tls_tickets *t;

	(void)state;
	/* off: nothing published */
	assert_int_equal(hf_tickets_init(&k, false, 10, NULL, 0), 0);
	assert_null(hf_tls_tickets_current());
	hf_tickets_poll(&k, 100000);
	assert_null(hf_tls_tickets_current());
	assert_int_equal(k.rotations, 0);
	hf_tickets_fini(&k);

	assert_int_equal(hf_tickets_init(&k, true, 10, NULL, 1000), 0);
	t = hf_tls_tickets_current();
	assert_non_null(t);
	assert_int_equal(t->n, 1);
	first = t->key[0];
	/* not before the period */
	hf_tickets_poll(&k, 10999);
	assert_ptr_equal(hf_tls_tickets_current(), t);
	/* then a new key, the old one second */
	hf_tickets_poll(&k, 11000);
	t = hf_tls_tickets_current();
	assert_int_equal(k.rotations, 1);
	assert_int_equal(t->n, 2);
	assert_int_equal(t->gen, 1);
	assert_memory_equal(&t->key[1], &first, sizeof(first));
	assert_memory_not_equal(t->key[0].name, first.name, sizeof(first.name));
	assert_memory_not_equal(t->key[0].aes, first.aes, sizeof(first.aes));
	/* the period counts from the rotation; the key two back is gone */
	hf_tickets_poll(&k, 20999);
	assert_int_equal(k.rotations, 1);
	hf_tickets_poll(&k, 21000);
	t = hf_tls_tickets_current();
	assert_int_equal(k.rotations, 2);
	assert_memory_not_equal(&t->key[0], &first, sizeof(first));
	assert_memory_not_equal(&t->key[1], &first, sizeof(first));
	hf_tickets_fini(&k);
	assert_null(hf_tls_tickets_current());
}

/* A self-signed certificate for @p name valid from now - 1 day to now + @p days days, as PEM. */
static char *
make_pem(const char *name, long days, uint32_t *len)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	char san[300], *pem;
	BIO *b;
	long n;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234abcd);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), days * 86400 + 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	snprintf(san, sizeof(san), "DNS:%s,URI:spiffe://td/ns/a/sa/b", name);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &pem);
	pem = strndup(pem, (size_t)n);
	*len = (uint32_t)n;
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(k);
	return pem;
}

struct gauge {
	char name[128];
	int64_t days;
};

static void
on_gauge(void *arg, const char *name, int64_t days)
{
	struct gauge *g = arg;

	for (; g->name[0] != '\0'; g++)
		;
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->days = days;
}

static void
test_certs(void **state)
{
	uint32_t leaf_len, ca_len, old_len;
	char *leaf = make_pem("a.example.com", 30, &leaf_len);
	char *ca = make_pem("Test CA", 300, &ca_len);
	char *old = make_pem("old.example.com", -3, &old_len);
	struct hf_tls_server_config sv[3] = {
		{.cert_pem = leaf, .cert_len = leaf_len, .ca_pem = ca, .ca_len = ca_len},
		{.cert_pem = leaf, .cert_len = leaf_len, .ca_pem = ca, .ca_len = ca_len},
		{.cert_pem = old, .cert_len = old_len},
	};
	struct hf_tls_listener_config tc = {.n_servers = 3, .servers = sv};
	struct hf_snap_listener l = {.port = 443, .tls = &tc};
	struct hf_snapshot s = {.n_listeners = 1, .listeners = &l};
	struct hf_watch w, next;
	struct hf_strbuf b = {0};
	struct gauge g[8];
	int64_t now = (int64_t)time(NULL);

	(void)state;
	hf_watch_init(&w);
	hf_watch_init(&next);
	hf_watch_record(&next);
	hf_watch_note("/creds/a-cred/tls.crt", leaf, leaf_len, 0);
	hf_watch_note("/creds/a-cred/ca.crt", ca, ca_len, 0);
	hf_watch_record(NULL);
	hf_watch_merge(&w, &next);

	hf_certs_json(&s, &w, now, &b);
	assert_false(b.failed);
	/* the same pair on two servers is one entry; the third server another */
	assert_non_null(strstr(b.s, "{\"ca_cert\": [{\"path\": \"/creds/a-cred/ca.crt\", "
			       "\"serial_number\": \"1234abcd\", \"subject_alt_names\": "
			       "[{\"dns\": \"Test CA\"}, {\"uri\": \"spiffe://td/ns/a/sa/b\"}], "
			       "\"days_until_expiration\": \"300\""));
	assert_non_null(strstr(b.s, "\"cert_chain\": [{\"path\": \"/creds/a-cred/tls.crt\", "
			       "\"serial_number\": \"1234abcd\", \"subject_alt_names\": "
			       "[{\"dns\": \"a.example.com\"}, "
			       "{\"uri\": \"spiffe://td/ns/a/sa/b\"}], "
			       "\"days_until_expiration\": \"30\", \"valid_from\": \""));
	/* not a watched file's bytes: inline; expired: 0 days */
	assert_non_null(strstr(b.s, "{\"ca_cert\": [],\n   \"cert_chain\": "
			       "[{\"path\": \"<inline>\""));
	assert_non_null(strstr(b.s, "\"days_until_expiration\": \"0\""));
	assert_null(strstr(b.s, "\"days_until_expiration\": \"-"));
	{
		int entries = 0;

		for (const char *p = b.s; (p = strstr(p, "\"cert_chain\"")) != NULL; p++)
			entries++;
		assert_int_equal(entries, 2);
	}
	hf_strbuf_free(&b);

	memset(g, 0, sizeof(g));
	assert_int_equal(hf_certs_expiry(&s, &w, "/creds", now, on_gauge, g), 3);
	assert_string_equal(g[0].name, "a-cred.tls.crt");
	assert_int_equal(g[0].days, 30);
	assert_string_equal(g[1].name, "a-cred.ca.crt");
	assert_int_equal(g[1].days, 300);
	assert_string_equal(g[2].name, "inline");
	assert_int_equal(g[2].days, -3);
	/* outside credentials_dir: the whole path */
	memset(g, 0, sizeof(g));
	hf_certs_expiry(&s, &w, "/elsewhere", now, on_gauge, g);
	assert_string_equal(g[0].name, "creds.a-cred.tls.crt");
	/* no snapshot, no TLS: an empty list */
	hf_certs_json(NULL, &w, now, &b);
	assert_string_equal(b.s, "{\n \"certificates\": []\n}\n");
	hf_strbuf_free(&b);
	hf_watch_free(&w);
	free(leaf);
	free(ca);
	free(old);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tickets_rotate),
		cmocka_unit_test(test_certs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
