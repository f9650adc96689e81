/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Gateway server's TLS settings (ServerTLSSettings): checked against what
 * is supported, and the certificates, keys and CAs they name read into the
 * model (credentialName folders, file paths, the node's mesh identity), each
 * file recorded for the rotation watch. gateway.c decides which servers a
 * port has; this file only what one server's `tls` block means.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "control-agent/file.h"
#include "control-agent/istio/istio-int.h"
#include "control-agent/watch.h"
#include "tls/tls.h"

/* ServerTLSSettings of an HTTPS server with mode SIMPLE or MUTUAL */
static const char *const gtls_keys[] = {
	"mode", "credentialName", "serverCertificate", "privateKey", "minProtocolVersion",
	"maxProtocolVersion", "cipherSuites", "caCertificates", "subjectAltNames", NULL,
};
static const char *const gtls_simple_later[] = {
	"httpsRedirect", "credentialNames", "verifyCertificateSpki", "verifyCertificateHash",
	"caCrl", NULL,
};

static const char *const tls_modes[] = {"PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH",
					"ISTIO_MUTUAL", "OPTIONAL_MUTUAL", NULL};
static const char *const tls_versions[] = {"TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3",
					   NULL};
static const uint16_t tls_version_wire[] = {0, 0, 0, HF_TLS_V1_2, HF_TLS_V1_3};

/* Reads a protocol version field into *@p v (left alone when absent or TLS_AUTO). */
static int
tls_version(struct ist *st, const struct yn *tls, const char *path, const char *key, uint16_t *v)
{
	char p[IST_PATH];
	int i, rc = ist_get_enum(st, tls, path, key, tls_versions,
				 "TLS_AUTO, TLSV1_2, TLSV1_3", &i);

	if (rc <= 0)
		return rc;
	if (i == 1 || i == 2)
		return ist_fail(st, ist_get(tls, key), ist_path(p, path, key), "%s is not "
				"supported: TLS 1.2 is the oldest version served (TLS_AUTO, "
				"TLSV1_2, TLSV1_3)", tls_versions[i]);
	if (i != 0)
		*v = tls_version_wire[i];
	return 0;
}

/*
 * Checks an HTTPS server's tls block without reading a file: mode SIMPLE or
 * MUTUAL (the others are refused by name), a certificate from credentialName
 * or from serverCertificate and privateKey, versions, cipher suite names;
 * MUTUAL's CA from caCertificates or the credential, its subjectAltNames.
 */
int
hf_ist_check_https(struct ist *st, const struct yn *s, const struct yn *tls, const char *path)
{
	const char *mode = NULL, *cred = NULL, *cert = NULL, *key = NULL, *ca = NULL;
	const struct yn *ciphers = NULL, *sans = NULL;
	uint16_t lo = HF_TLS_V1_2, hi = HF_TLS_V1_3;
	char p[IST_PATH], q[IST_PATH];
	int rc, m;

	if (tls == NULL)
		return ist_fail(st, s, path, "an HTTPS server needs tls (mode SIMPLE with "
				"credentialName, or serverCertificate and privateKey)");
	ist_path(p, path, "tls");
	if ((rc = ist_keys(st, tls, p, gtls_keys, gtls_simple_later)) < 0 ||
	    (rc = ist_get_str(st, tls, p, "mode", false, &mode)) < 0 ||
	    (rc = ist_get_str(st, tls, p, "credentialName", false, &cred)) < 0 ||
	    (rc = ist_get_str(st, tls, p, "serverCertificate", false, &cert)) < 0 ||
	    (rc = ist_get_str(st, tls, p, "privateKey", false, &key)) < 0 ||
	    (rc = ist_get_strs(st, tls, p, "cipherSuites", false, &ciphers)) < 0 ||
	    (rc = ist_get_str(st, tls, p, "caCertificates", false, &ca)) < 0 ||
	    (rc = ist_get_strs(st, tls, p, "subjectAltNames", false, &sans)) < 0 ||
	    (rc = tls_version(st, tls, p, "minProtocolVersion", &lo)) < 0 ||
	    (rc = tls_version(st, tls, p, "maxProtocolVersion", &hi)) < 0)
		return rc;
	if (mode == NULL)
		return ist_fail(st, tls, p, "needs a mode (SIMPLE, MUTUAL or PASSTHROUGH)");
	m = ist_one_of(mode, tls_modes);
	if (m < 0)
		return ist_fail(st, ist_get(tls, "mode"), ist_path(q, p, "mode"), "'%s' is not a "
				"tls mode (SIMPLE, MUTUAL, ISTIO_MUTUAL, PASSTHROUGH, "
				"AUTO_PASSTHROUGH, OPTIONAL_MUTUAL)", mode);
	/* ISTIO_MUTUAL: the node's mesh identity served, client certificates of the mesh root */
	if (m == 4 && st->identity == NULL)
		return ist_fail(st, ist_get(tls, "mode"), ist_path(q, p, "mode"), "%s is not "
				"supported yet (SIMPLE, MUTUAL and PASSTHROUGH only) without the "
				"node's mesh identity: an identity block in the bootstrap", mode);
	if (m == 4 && (cred != NULL || cert != NULL || key != NULL || ca != NULL)) {
		const char *k = cred != NULL ? "credentialName" : cert != NULL ?
				"serverCertificate" : key != NULL ? "privateKey" : "caCertificates";

		return ist_fail(st, ist_get(tls, k), ist_path(q, p, k), "mode ISTIO_MUTUAL serves "
				"the node's mesh identity (the bootstrap's identity block): %s does "
				"not go with it", k);
	}
	if (m == 4)
		goto versions;
	if (m != 1 && m != 2)
		return ist_fail(st, ist_get(tls, "mode"), ist_path(q, p, "mode"), "%s is not "
				"supported yet (SIMPLE, MUTUAL and PASSTHROUGH only)", mode);
	if (cred != NULL && (cert != NULL || key != NULL))
		return ist_fail(st, ist_get(tls, cert != NULL ? "serverCertificate" : "privateKey"),
				ist_path(q, p, cert != NULL ? "serverCertificate" : "privateKey"),
				"give credentialName or serverCertificate and privateKey, not both");
	if (cred == NULL && (cert == NULL || key == NULL))
		return ist_fail(st, tls, p, "mode %s needs credentialName, or serverCertificate "
				"and privateKey", mode);
	if (m == 1 && (ca != NULL || sans != NULL))
		return ist_fail(st, ist_get(tls, ca != NULL ? "caCertificates" : "subjectAltNames"),
				ist_path(q, p, ca != NULL ? "caCertificates" : "subjectAltNames"),
				"client certificates are verified with mode MUTUAL only (this "
				"server is SIMPLE)");
	if (m == 2 && cred != NULL && ca != NULL)
		return ist_fail(st, ist_get(tls, "caCertificates"),
				ist_path(q, p, "caCertificates"), "give credentialName (whose "
				"ca.crt, or <name>-cacert/ca.crt, holds the CA) or caCertificates, "
				"not both");
	if (m == 2 && cred == NULL && ca == NULL)
		return ist_fail(st, tls, p, "mode MUTUAL needs caCertificates (the CA file client "
				"certificates must chain to), or a credentialName with ca.crt");
versions:
	if (lo > hi)
		return ist_fail(st, ist_get(tls, "minProtocolVersion"),
				ist_path(q, p, "minProtocolVersion"), "above maxProtocolVersion");
	for (unsigned int i = 0; ciphers != NULL && i < ciphers->n; i++) {
		const char *c = ciphers->val[i]->s;
		int known = hf_tls_cipher_known(c);

		if (known == 1)
			continue;
		ist_pathi(q, ist_path(q, p, "cipherSuites"), i);
		if (known < 0)
			return ist_fail(st, ciphers->val[i], q, "'%s' is a TLS 1.3 suite: TLS 1.3 "
					"suites are not configurable (as in Envoy); cipherSuites "
					"lists TLS 1.2 suites", c);
		return ist_fail(st, ciphers->val[i], q, "unknown cipher suite '%s' (OpenSSL names, "
				"e.g. ECDHE-ECDSA-AES128-GCM-SHA256)", c);
	}
	return 0;
}

/*
 * Reads all of @p file (hf_file_read()) and notes it for the rotation watch
 * (watch.h): what was read, or that it could not be. 0 or -errno.
 */
static int
slurp(const char *file, char **out, size_t *len)
{
	int rc = hf_file_read(file, out, len);

	if (rc == 0)
		hf_watch_note(file, *out, *len, 0);
	else if (rc != -ENOMEM)
		hf_watch_note(file, NULL, 0, -rc);
	return rc;
}

/* A credentialName is a Kubernetes secret name: DNS-1123 (a-z, 0-9, '-', '.'), no path. */
static bool
credential_name_ok(const char *s)
{
	if (s[0] == '\0' || s[0] == '.' || strlen(s) > 253)
		return false;
	for (const char *c = s; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.'))
			return false;
	return strstr(s, "..") == NULL;
}

/*
 * MUTUAL: the CA bundle of server @p tls into @p ms, from caCertificates or
 * from the credential: <name>/ca.crt, else Istio's separate <name>-cacert
 * secret (<name>-cacert/ca.crt). Checked here (PEM, CA certificates), so a
 * bad file is refused at load with the field that named it.
 */
static int
load_ca(struct ist *st, const struct yn *tls, const char *p, const char *cred,
	struct hf_model_tls_server *ms)
{
	const struct yn *sans = ist_get(tls, "subjectAltNames"), *at;
	const char *caf = NULL;
	char q[IST_PATH], path[4096], err[256];
	int rc;

	ist_get_str(st, tls, p, "caCertificates", false, &caf);
	if (caf != NULL) {
		at = ist_get(tls, "caCertificates");
		ist_path(q, p, "caCertificates");
		snprintf(path, sizeof(path), "%s", caf);
		rc = slurp(path, &ms->ca_pem, &ms->ca_len);
	} else {
		at = ist_get(tls, "credentialName");
		ist_path(q, p, "credentialName");
		snprintf(path, sizeof(path), "%s/%s/ca.crt", st->creds_dir, cred);
		rc = slurp(path, &ms->ca_pem, &ms->ca_len);
		if (rc == -ENOENT) {
			snprintf(path, sizeof(path), "%s/%s-cacert/ca.crt", st->creds_dir, cred);
			rc = slurp(path, &ms->ca_pem, &ms->ca_len);
			if (rc == -ENOENT)
				return ist_fail(st, at, q, "mode MUTUAL: credential '%s' has no CA "
						"(neither %s/%s/ca.crt nor %s)", cred,
						st->creds_dir, cred, path);
		}
	}
	if (rc < 0)
		return rc == -ENOMEM ? ist_oom(st) :
		       ist_fail(st, at, q, "cannot read '%s': %s", path, strerror(-rc));
	if (hf_tls_ca_check(ms->ca_pem, (uint32_t)ms->ca_len, err, sizeof(err)) < 0)
		return ist_fail(st, at, q, "%s: %s", path, err);
	if (sans != NULL && sans->n > 0) {
		ms->sans = calloc(sans->n, sizeof(*ms->sans));
		if (ms->sans == NULL)
			return ist_oom(st);
		for (unsigned int i = 0; i < sans->n; i++) {
			if ((ms->sans[i] = ist_mdup(sans->val[i]->s)) == NULL)
				return ist_oom(st);
			ms->n_sans = i + 1;
		}
	}
	return 0;
}

/*
 * ISTIO_MUTUAL: client certificates must chain to the mesh root (the
 * identity's root_cert) and, with subjectAltNames, carry one of them (SPIFFE
 * IDs, "spiffe://td/ns/x/sa/y").
 */
static int
load_mesh_ca(struct ist *st, const struct yn *tls, const char *p, struct hf_model_tls_server *ms)
{
	const struct yn *sans = ist_get(tls, "subjectAltNames");
	char q[IST_PATH], err[256];
	int rc = slurp(st->identity->root_cert, &ms->ca_pem, &ms->ca_len);

	ist_path(q, p, "mode");
	if (rc < 0)
		return rc == -ENOMEM ? ist_oom(st) :
		       ist_fail(st, ist_get(tls, "mode"), q, "cannot read the mesh root '%s': %s",
				st->identity->root_cert, strerror(-rc));
	if (hf_tls_ca_check(ms->ca_pem, (uint32_t)ms->ca_len, err, sizeof(err)) < 0)
		return ist_fail(st, ist_get(tls, "mode"), q, "%s: %s", st->identity->root_cert, err);
	for (unsigned int i = 0; sans != NULL && i < sans->n; i++) {
		if (ms->sans == NULL && (ms->sans = calloc(sans->n, sizeof(*ms->sans))) == NULL)
			return ist_oom(st);
		if ((ms->sans[i] = ist_mdup(sans->val[i]->s)) == NULL)
			return ist_oom(st);
		ms->n_sans = i + 1;
	}
	return 0;
}

/*
 * Reads the certificate and key of checked HTTPS server @p s (agent side:
 * files) and appends them to @p t, with the server's hosts as SNI names;
 * for MUTUAL its CA too. Building an SSL_CTX from them here refuses what a
 * worker would refuse.
 */
int
hf_ist_load_https(struct ist *st, const struct yn *s, const char *path, struct hf_model_tls *t)
{
	const struct yn *tls = ist_get(s, "tls"), *hosts = ist_get(s, "hosts");
	const struct yn *ciphers = ist_get(tls, "cipherSuites"), *at;
	const char *cred = NULL, *certf = NULL, *keyf = NULL, *mode = NULL;
	char p[IST_PATH], q[IST_PATH], cpath[4096], kpath[4096], err[256];
	struct hf_model_tls_server *ms;
	struct hf_tls_server_config sc = {0};
	const char **names;
	SSL_CTX *ctx;
	int rc;

	ist_path(p, path, "tls");
	ms = ist_push(&t->servers, &t->n_servers, sizeof(*ms));
	if (ms == NULL)
		return ist_oom(st);
	ms->min_version = HF_TLS_V1_2;
	ms->max_version = HF_TLS_V1_3;
	if ((rc = tls_version(st, tls, p, "minProtocolVersion", &ms->min_version)) < 0 ||
	    (rc = tls_version(st, tls, p, "maxProtocolVersion", &ms->max_version)) < 0)
		return rc;
	ist_get_str(st, tls, p, "credentialName", false, &cred);
	ist_get_str(st, tls, p, "serverCertificate", false, &certf);
	ist_get_str(st, tls, p, "privateKey", false, &keyf);
	ist_get_str(st, tls, p, "mode", false, &mode);
	if (strcmp(mode, "ISTIO_MUTUAL") == 0) {
		/* the node's mesh identity, re-read at each load (rotation) */
		at = ist_get(tls, "mode");
		ist_path(q, p, "mode");
		snprintf(cpath, sizeof(cpath), "%s", st->identity->cert_chain);
		snprintf(kpath, sizeof(kpath), "%s", st->identity->key);
	} else if (cred != NULL) {
		at = ist_get(tls, "credentialName");
		ist_path(q, p, "credentialName");
		if (st->creds_dir == NULL || st->creds_dir[0] == '\0')
			return ist_fail(st, at, q, "credentialName '%s' needs config.credentials_dir "
					"in the bootstrap (a folder per name with tls.crt and tls.key)",
					cred);
		if (!credential_name_ok(cred))
			return ist_fail(st, at, q, "'%s' is not a credential name (a Kubernetes "
					"secret name: a-z, 0-9, '-', '.')", cred);
		snprintf(cpath, sizeof(cpath), "%s/%s/tls.crt", st->creds_dir, cred);
		snprintf(kpath, sizeof(kpath), "%s/%s/tls.key", st->creds_dir, cred);
	} else {
		at = ist_get(tls, "serverCertificate");
		ist_path(q, p, "serverCertificate");
		snprintf(cpath, sizeof(cpath), "%s", certf);
		snprintf(kpath, sizeof(kpath), "%s", keyf);
	}
	if ((rc = slurp(cpath, &ms->cert_pem, &ms->cert_len)) < 0)
		return rc == -ENOMEM ? ist_oom(st) :
		       ist_fail(st, at, q, "cannot read '%s': %s", cpath, strerror(-rc));
	if (cred == NULL && keyf != NULL) {
		at = ist_get(tls, "privateKey");
		ist_path(q, p, "privateKey");
	}
	if ((rc = slurp(kpath, &ms->key_pem, &ms->key_len)) < 0)
		return rc == -ENOMEM ? ist_oom(st) :
		       ist_fail(st, at, q, "cannot read '%s': %s", kpath, strerror(-rc));
	if (strcmp(mode, "MUTUAL") == 0 && (rc = load_ca(st, tls, p, cred, ms)) < 0)
		return rc;
	if (strcmp(mode, "ISTIO_MUTUAL") == 0 && (rc = load_mesh_ca(st, tls, p, ms)) < 0)
		return rc;
	if (ciphers != NULL && ciphers->n > 0) {
		size_t len = 0;

		for (unsigned int i = 0; i < ciphers->n; i++)
			len += strlen(ciphers->val[i]->s) + 1;
		ms->ciphers = calloc(1, len);
		if (ms->ciphers == NULL)
			return ist_oom(st);
		for (unsigned int i = 0; i < ciphers->n; i++) {
			if (i > 0)
				strcat(ms->ciphers, ":");
			strcat(ms->ciphers, ciphers->val[i]->s);
		}
	}
	ms->names = calloc(hosts->n, sizeof(*ms->names));
	if (ms->names == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < hosts->n; i++) {
		const char *h = hosts->val[i]->s, *slash = strchr(h, '/');
		char *d = ist_mdup(slash != NULL ? slash + 1 : h);

		if (d == NULL)
			return ist_oom(st);
		for (char *c = d; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		ms->names[ms->n_names++] = d;
	}
	names = calloc(ms->n_names, sizeof(*names));
	if (names == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < ms->n_names; i++)
		names[i] = ms->names[i];
	sc = (struct hf_tls_server_config){
		.n_names = ms->n_names, .names = names,
		.cert_pem = ms->cert_pem, .cert_len = (uint32_t)ms->cert_len,
		.key_pem = ms->key_pem, .key_len = (uint32_t)ms->key_len,
		.min_version = ms->min_version, .max_version = ms->max_version,
		.ciphers = ms->ciphers,
		.ca_pem = ms->ca_pem, .ca_len = (uint32_t)ms->ca_len,
		.n_sans = ms->n_sans, .sans = (const char *const *)ms->sans,
	};
	/* What a worker will build, built once here: a bad file is refused at load, with its line. */
	ctx = hf_tls_ctx_new(NULL, &sc, err, sizeof(err));
	free(names);
	if (ctx == NULL) {
		const char *k = cred != NULL ? "credentialName" : certf != NULL ?
				"serverCertificate" : "mode";

		at = ist_get(tls, k);
		ist_path(q, p, k);
		return ist_fail(st, at, q, "%s, %s: %s", cpath, kpath, err);
	}
	SSL_CTX_free(ctx);
	return 0;
}

/* Whether server tls block @p tls passes TLS through: mode PASSTHROUGH, or none (its default). */
bool
hf_ist_passthrough(const struct yn *tls)
{
	const struct yn *mode = ist_get(tls, "mode");

	return tls != NULL && (mode == NULL || mode->type == YN_NULL ||
			       (mode->type == YN_STR && strcmp(mode->s, "PASSTHROUGH") == 0));
}

/*
 * A PASSTHROUGH server's tls: nothing is terminated, so nothing but the mode
 * has a use (Istio ignores certificates there with a warning; they are
 * refused here, as a sign the server is not what its author meant).
 */
int
hf_ist_check_passthrough(struct ist *st, const struct yn *tls, const char *path)
{
	char q[IST_PATH];
	int rc;

	if ((rc = ist_keys(st, tls, path, gtls_keys, gtls_simple_later)) < 0)
		return rc;
	for (unsigned int i = 0; i < tls->n; i++)
		if (strcmp(tls->key[i]->s, "mode") != 0)
			return ist_fail(st, tls->val[i], ist_path(q, path, tls->key[i]->s), "not "
					"used with mode PASSTHROUGH (TLS goes to the upstream "
					"untouched): remove it, or terminate with mode SIMPLE");
	return 0;
}
