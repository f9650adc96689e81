/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AuthorizationPolicy, from the YAML an operator writes to the verdict a
 * worker gives: each case loads policies with the Istio loader, compiles them
 * as a snapshot would, and checks real request heads (parsed by the HTTP
 * parser) with the peer, TLS and JWT facts the case gives. The istio.io
 * tasks' documented results come first, then the semantics one by one: the
 * string forms, path templates, every not-form, the evaluation order, the
 * `when` keys, the JWT principal and claims filled by hand as request
 * authentication would.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf_test.h"
#include "control-agent/agent.h"
#include "control-agent/compile/authz_build.h"
#include "control-agent/istio/istio.h"
#include "control-agent/model/model.h"
#include "dataplane/proxy/authz.h"

static char dir[64];
static char err[HF_ISTIO_ERR];

static const char *const gw_labels[] = {"istio=ingressgateway", "app=istio-ingressgateway"};

/* Loads @p yaml as the only file of the Istio directory; the node is istio-system's gateway. */
static int
load_ns(const char *yaml, const char *node_ns, struct hf_authz **out)
{
	struct hf_model m;
	const struct hf_istio_node node = {
		.labels = gw_labels,
		.n_labels = 2,
		.ns = node_ns,
		.xff_trusted_hops = 2,
	};
	int rc;

	rc = hf_test_istio_text(dir, "policies.yaml", &node, yaml, strlen(yaml), &m, err,
				sizeof(err));
	*out = NULL;
	if (rc == 0) {
		/* what the workers get: the snapshot's own copy */
		*out = m.authz != NULL ? hf_authz_compile(m.authz) : NULL;
		if (m.authz != NULL)
			assert_non_null(*out);
		hf_model_free(&m);
	}
	return rc;
}

static struct hf_authz *
load(const char *yaml)
{
	struct hf_authz *az;

	if (load_ns(yaml, "istio-system", &az) != 0)
		fail_msg("%s", err);
	return az;
}

/* What the request is besides its head. */
struct facts {
	const char *src;		/* TCP peer; default 198.51.100.7 */
	const char *peer;		/* TLS principal; NULL: plaintext */
	const char *sni;
	const char *jwt;		/* "<iss>/<sub>"; NULL: no token */
	const char *claims[8][2];	/* name, value */
	uint16_t port;			/* default 80 */
};

static struct hf_authn authn;
/* the worker's room for a header sent in several fields (authz.h) */
static char join_room[HF_AUTHZ_JOIN_ROOM];
/* a worker's memo (authz.h), kept across every case and index, as a worker keeps it */
static struct hf_authz_memo memo;

static void
fill_authn(const struct facts *f)
{
	memset(&authn, 0, sizeof(authn));
	if (f->jwt == NULL)
		return;
	authn.principal_off = 0;
	authn.principal_len = (uint16_t)strlen(f->jwt);
	memcpy(authn.buf, f->jwt, authn.principal_len + 1);
	authn.used = (uint16_t)(authn.principal_len + 1);
	for (unsigned int i = 0; i < 8 && f->claims[i][0] != NULL; i++) {
		struct hf_authn_claim *c = &authn.claims[authn.n_claims++];

		c->name_off = authn.used;
		c->name_len = (uint16_t)strlen(f->claims[i][0]);
		memcpy(authn.buf + authn.used, f->claims[i][0], c->name_len + 1);
		authn.used = (uint16_t)(authn.used + c->name_len + 1);
		c->val_off = authn.used;
		c->val_len = (uint16_t)strlen(f->claims[i][1]);
		memcpy(authn.buf + authn.used, f->claims[i][1], c->val_len + 1);
		authn.used = (uint16_t)(authn.used + c->val_len + 1);
	}
}

/* Whether two checks said the same: verdict, deciding policy and rule, audits. */
static bool
same_result(const struct hf_authz_result *a, const struct hf_authz_result *b)
{
	if (a->denied != b->denied || a->policy != b->policy || a->rule != b->rule ||
	    a->allowed_by != b->allowed_by || a->slot != b->slot || a->n_audited != b->n_audited)
		return false;
	for (unsigned int i = 0; i < a->n_audited && i < 8; i++)
		if (a->audited[i] != b->audited[i])
			return false;
	return true;
}

/* Checks that found the index and the tree walk apart; counted, not failed, in cross_check(). */
static unsigned int mismatches;
static bool check_count_only;

/* 403 (true) or not for @p head ("GET /x HTTP/1.1\r\nHost: h\r\n...", the blank line added). */
static bool
denied_by(const struct hf_authz *az, const char *head, const struct facts *f,
	  struct hf_authz_result *res)
{
	char buf[2048];
	struct hf_h1_message msg;
	struct hf_h1_scan scan = {0};
	struct hf_h1_limits lim;
	struct hf_authz_rq rq = {0};
	const char *q;
	int n = snprintf(buf, sizeof(buf), "%s\r\n", head);

	hf_h1_limits_default(&lim);
	assert_int_equal(hf_h1_parse_request(buf, (size_t)n, &scan, &lim, &msg), n);
	fill_authn(f);
	rq.msg = &msg;
	rq.path = msg.target.p;
	q = memchr(msg.target.p, '?', msg.target.len);
	rq.path_len = q != NULL ? (uint32_t)(q - msg.target.p) : msg.target.len;
	assert_int_equal(inet_pton(AF_INET, f->src != NULL ? f->src : "198.51.100.7", &rq.src_ip), 1);
	assert_int_equal(inet_pton(AF_INET, "203.0.113.1", &rq.dst_ip), 1);
	rq.dst_port = f->port != 0 ? f->port : 80;
	rq.peer = f->peer;
	rq.peer_len = f->peer != NULL ? (uint16_t)strlen(f->peer) : 0;
	rq.sni = f->sni;
	rq.authn = &authn;
	rq.join = join_room;
	rq.join_cap = sizeof(join_room);
	{
		/* every case holds the index to the tree walk: the same verdict, policy and rule */
		struct hf_authz_result tree;
		bool d = hf_authz_check_tree(az, &rq, &tree);

		struct hf_authz_result m;
		bool bad = false;

		if (hf_authz_check(az, &rq, res) != d || !same_result(res, &tree)) {
			if (!check_count_only)
				fail_msg("the index and the tree walk differ on %s", head);
			bad = true;
		}
		/*
		 * and with the memo, twice: what the last case left in it (another
		 * request, maybe another index), then this request's own values
		 */
		rq.memo = &memo;
		for (int i = 0; i < 2; i++) {
			rq.remote_done = false;
			if (hf_authz_check(az, &rq, &m) != d || !same_result(&m, &tree)) {
				if (!check_count_only)
					fail_msg("the memo's check and the tree walk differ on %s",
						 head);
				bad = true;
			}
		}
		mismatches += bad;
		rq.memo = NULL;
		return d;
	}
}

static bool
denied_f(const struct hf_authz *az, const char *head, const struct facts *f)
{
	struct hf_authz_result res;

	return denied_by(az, head, f, &res);
}

static bool
denied(const struct hf_authz *az, const char *head)
{
	const struct facts f = {0};

	return denied_f(az, head, &f);
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: httpbin.example.com\r\n"
#define POST(path) "POST " path " HTTP/1.1\r\nHost: httpbin.example.com\r\nContent-Length: 0\r\n"

#define META(name, ns) "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n" \
		       "metadata:\n  name: " name "\n  namespace: " ns "\n"
#define SEL "  selector:\n    matchLabels:\n      istio: ingressgateway\n"

/* ---- the istio.io tasks ---- */

/*
 * "Explicit deny": deny GET; then deny GET unless x-token is admin; then allow
 * only /ip, with the deny in place. Each step's documented answers.
 */
static void
test_task_explicit_deny(void **state)
{
	struct hf_authz *az;

	(void)state;
	az = load(META("deny-method-get", "istio-system") "spec:\n" SEL "  action: DENY\n"
		  "  rules:\n  - to:\n    - operation:\n        methods: [\"GET\"]\n");
	assert_true(denied(az, GET("/get")));
	assert_false(denied(az, POST("/post")));
	hf_authz_free(az);

	az = load(META("deny-method-get", "istio-system") "spec:\n" SEL "  action: DENY\n"
		  "  rules:\n  - to:\n    - operation:\n        methods: [\"GET\"]\n"
		  "    when:\n    - key: request.headers[x-token]\n      notValues: [\"admin\"]\n");
	assert_false(denied(az, GET("/get") "x-token: admin\r\n"));
	assert_true(denied(az, GET("/get") "x-token: guest\r\n"));
	assert_true(denied(az, GET("/get")));	/* no x-token: none of notValues */
	hf_authz_free(az);

	az = load(META("deny-method-get", "istio-system") "spec:\n" SEL "  action: DENY\n"
		  "  rules:\n  - to:\n    - operation:\n        methods: [\"GET\"]\n"
		  "    when:\n    - key: request.headers[x-token]\n      notValues: [\"admin\"]\n"
		  "---\n" META("allow-path-ip", "istio-system") "spec:\n" SEL "  action: ALLOW\n"
		  "  rules:\n  - to:\n    - operation:\n        paths: [\"/ip\"]\n");
	assert_false(denied(az, GET("/ip") "x-token: admin\r\n"));
	assert_true(denied(az, GET("/get") "x-token: admin\r\n"));	/* no ALLOW matches */
	assert_true(denied(az, GET("/ip") "x-token: guest\r\n"));	/* DENY first */
	hf_authz_free(az);
}

/*
 * "Authorization for HTTP traffic", at the gateway: allow-nothing denies
 * everything; then GET on /productpage and the static paths, and GET of
 * /reviews/{*} and /ratings/{*}, is all that passes.
 */
static void
test_task_http_traffic(void **state)
{
	struct hf_authz *az;

	(void)state;
	az = load(META("allow-nothing", "istio-system") "spec:\n  {}\n");
	assert_int_equal(az->n_allow, 1);
	assert_int_equal(az->allow[0].n_rules, 0);
	assert_true(denied(az, GET("/productpage")));
	assert_true(denied(az, POST("/")));
	hf_authz_free(az);

	az = load(META("allow-nothing", "istio-system") "spec:\n  {}\n---\n"
		  META("productpage-viewer", "istio-system") "spec:\n" SEL "  action: ALLOW\n"
		  "  rules:\n  - to:\n    - operation:\n        methods: [\"GET\"]\n"
		  "        paths: [\"/productpage\", \"/static/*\", \"/api/v1/products/{*}\","
		  " \"/api/v1/products/{*}/reviews\", \"/login*\"]\n");
	assert_false(denied(az, GET("/productpage")));
	assert_false(denied(az, GET("/productpage?u=normal")));	/* the query is not the path */
	assert_false(denied(az, GET("/static/bootstrap/css/bootstrap.min.css")));
	assert_false(denied(az, GET("/api/v1/products/0")));
	assert_false(denied(az, GET("/api/v1/products/0/reviews")));
	assert_false(denied(az, GET("/login?x=1")));
	assert_true(denied(az, POST("/productpage")));
	assert_true(denied(az, GET("/productpage/")));
	assert_true(denied(az, GET("/api/v1/products/")));	/* {*}: at least one byte */
	assert_true(denied(az, GET("/api/v1/products/0/ratings")));
	assert_true(denied(az, GET("/api/v1/products/0/1/reviews")));
	assert_true(denied(az, GET("/static")));
	hf_authz_free(az);
}

/*
 * "Ingress gateway" (IP-based): ipBlocks reads the TCP peer, remoteIpBlocks
 * the client x-forwarded-for names past the trusted hops (2 here, Istio's
 * numTrustedProxies in the task).
 */
static void
test_task_ingress_ip(void **state)
{
	struct hf_authz *az;
	struct facts from_lb = {.src = "192.0.2.10"}, other = {.src = "203.0.113.50"};

	(void)state;
	az = load(META("ingress-policy", "istio-system") "spec:\n" SEL "  action: ALLOW\n"
		  "  rules:\n  - from:\n    - source:\n        ipBlocks: [\"192.0.2.0/24\"]\n");
	assert_false(denied_f(az, GET("/headers"), &from_lb));
	assert_true(denied_f(az, GET("/headers"), &other));
	hf_authz_free(az);

	az = load(META("ingress-policy", "istio-system") "spec:\n" SEL "  action: ALLOW\n"
		  "  rules:\n  - from:\n    - source:\n"
		  "        remoteIpBlocks: [\"198.51.100.0/24\", \"2001:db8::/32\"]\n");
	/* three entries, two trusted hops: the client is the second from the right */
	assert_false(denied_f(az, GET("/headers") "X-Forwarded-For: 203.0.113.9, 198.51.100.77,"
			      " 192.0.2.1\r\n", &other));
	assert_true(denied_f(az, GET("/headers") "X-Forwarded-For: 198.51.100.77, 203.0.113.9,"
			     " 192.0.2.1\r\n", &other));
	assert_false(denied_f(az, GET("/headers") "X-Forwarded-For: 2001:db8::5, 192.0.2.1\r\n",
			      &other));
	/* too few entries: the TCP peer, not in the block */
	assert_true(denied_f(az, GET("/headers") "X-Forwarded-For: 198.51.100.77\r\n", &other));
	/* not an address: the TCP peer */
	assert_true(denied_f(az, GET("/headers") "X-Forwarded-For: junk, 192.0.2.1\r\n", &other));
	hf_authz_free(az);

	az = load(META("ingress-policy", "istio-system") "spec:\n" SEL "  action: DENY\n"
		  "  rules:\n  - from:\n    - source:\n        remoteIpBlocks: [\"198.51.100.77\"]\n");
	assert_true(denied_f(az, GET("/") "X-Forwarded-For: 198.51.100.77, 192.0.2.1\r\n", &other));
	assert_false(denied_f(az, GET("/") "X-Forwarded-For: 198.51.100.78, 192.0.2.1\r\n",
			      &other));
	hf_authz_free(az);
}

/* ---- semantics ---- */

/* Istio's documented reading of empty things: no rules, a `{}` rule, DENY without rules. */
static void
test_empty_rules(void **state)
{
	struct hf_authz *az;

	(void)state;
	az = load(META("allow-all", "istio-system") "spec:\n  rules:\n  - {}\n");
	assert_false(denied(az, GET("/anything")));
	hf_authz_free(az);

	az = load(META("deny-all", "istio-system") "spec:\n  action: DENY\n  rules:\n  - {}\n");
	assert_true(denied(az, GET("/anything")));
	hf_authz_free(az);

	az = load(META("deny-nothing", "istio-system") "spec:\n  action: DENY\n");
	assert_false(denied(az, GET("/anything")));
	hf_authz_free(az);

	/* an empty list is no field: this rule is `{}` */
	az = load(META("allow-all", "istio-system") "spec:\n  rules:\n  - from: []\n    to: []\n");
	assert_false(denied(az, GET("/anything")));
	hf_authz_free(az);
}

/* DENY before ALLOW; any ALLOW suffices; AUDIT decides nothing. */
static void
test_order(void **state)
{
	struct hf_authz *az;
	struct hf_authz_result res;
	const struct facts f = {0};

	(void)state;
	az = load(META("a-allow-get", "istio-system") "spec:\n  rules:\n  - to:\n    - operation:\n"
		  "        methods: [\"GET\"]\n---\n"
		  META("b-allow-admin", "istio-system") "spec:\n  rules:\n  - to:\n    - operation:\n"
		  "        paths: [\"/admin/*\"]\n---\n"
		  META("c-deny-admin-get", "istio-system") "spec:\n  action: DENY\n  rules:\n"
		  "  - to:\n    - operation:\n        paths: [\"/x\"]\n"
		  "  - to:\n    - operation:\n        methods: [\"GET\"]\n        paths: [\"/admin/*\"]\n"
		  "---\n" META("d-audit", "istio-system") "spec:\n  action: AUDIT\n  rules:\n"
		  "  - to:\n    - operation:\n        methods: [\"POST\"]\n");
	assert_int_equal(az->n_allow, 2);
	assert_int_equal(az->n_deny, 1);
	assert_int_equal(az->n_audit, 1);
	assert_false(denied_by(az, GET("/a"), &f, &res));
	assert_string_equal(res.allowed_by->name, "a-allow-get");
	assert_int_equal(res.n_audited, 0);
	/* POST /admin/x: the second ALLOW matches; the AUDIT reports it */
	assert_false(denied_by(az, POST("/admin/x"), &f, &res));
	assert_string_equal(res.allowed_by->name, "b-allow-admin");
	assert_int_equal(res.n_audited, 1);
	/* GET /admin/x: both ALLOWs match, the DENY wins, by its second rule */
	assert_true(denied_by(az, GET("/admin/x"), &f, &res));
	assert_non_null(res.policy);
	assert_string_equal(res.rule->details,
			    "rbac_access_denied_matched_policy[ns[istio-system]-policy[c-deny-admin-get]"
			    "-rule[1]]");
	/* POST /other: no ALLOW matches; audited all the same */
	assert_true(denied_by(az, POST("/other"), &f, &res));
	assert_null(res.policy);
	assert_int_equal(res.n_audited, 1);
	hf_authz_free(az);

	/* AUDIT alone: everything passes */
	az = load(META("audit", "istio-system") "spec:\n  action: AUDIT\n  rules:\n  - {}\n");
	assert_false(denied_by(az, POST("/"), &f, &res));
	assert_int_equal(res.n_audited, 1);
	hf_authz_free(az);
}

/* Within a field OR, between fields AND, between from entries OR, `when` all. */
static void
test_and_or(void **state)
{
	struct hf_authz *az;

	(void)state;
	az = load(META("p", "istio-system") "spec:\n  rules:\n  - to:\n    - operation:\n"
		  "        methods: [\"GET\", \"HEAD\"]\n        paths: [\"/a\"]\n"
		  "    - operation:\n        methods: [\"DELETE\"]\n"
		  "    when:\n    - key: request.headers[x-a]\n      values: [\"1\"]\n"
		  "    - key: request.headers[x-b]\n      values: [\"2\"]\n");
	assert_false(denied(az, GET("/a") "x-a: 1\r\nx-b: 2\r\n"));
	assert_false(denied(az, "HEAD /a HTTP/1.1\r\nHost: h\r\nx-a: 1\r\nx-b: 2\r\n"));
	assert_false(denied(az, "DELETE /zz HTTP/1.1\r\nHost: h\r\nx-a: 1\r\nx-b: 2\r\n"));
	assert_true(denied(az, GET("/b") "x-a: 1\r\nx-b: 2\r\n"));
	assert_true(denied(az, GET("/a") "x-a: 1\r\n"));
	assert_true(denied(az, POST("/a") "x-a: 1\r\nx-b: 2\r\n"));
	hf_authz_free(az);
}

/* Exact, prefix, suffix, presence; hosts without regard to case; ports. */
static void
test_string_forms(void **state)
{
	struct hf_authz *az;

	(void)state;
	az = load(META("p", "istio-system") "spec:\n  rules:\n  - to:\n    - operation:\n"
		  "        hosts: [\"*.Example.com\", \"exact.test\"]\n        ports: [\"80\", 8080]\n"
		  "        paths: [\"*.html\", \"/api/*\", \"/exact\"]\n");
	assert_false(denied(az, "GET /x/index.html HTTP/1.1\r\nHost: WWW.EXAMPLE.COM\r\n"));
	assert_false(denied(az, "GET /api/ HTTP/1.1\r\nHost: exact.test\r\n"));
	assert_false(denied(az, "GET /exact HTTP/1.1\r\nHost: exact.test\r\n"));
	assert_true(denied(az, "GET /exact/ HTTP/1.1\r\nHost: exact.test\r\n"));
	assert_true(denied(az, "GET /api HTTP/1.1\r\nHost: exact.test\r\n"));
	assert_true(denied(az, "GET /index.htm HTTP/1.1\r\nHost: exact.test\r\n"));
	assert_true(denied(az, "GET /exact HTTP/1.1\r\nHost: example.com\r\n"));
	/* the Host as it is sent: a port in it is part of what is compared */
	assert_true(denied(az, "GET /exact HTTP/1.1\r\nHost: exact.test:80\r\n"));
	{
		const struct facts f = {.port = 8080}, g = {.port = 8443};

		assert_false(denied_f(az, "GET /exact HTTP/1.1\r\nHost: exact.test\r\n", &f));
		assert_true(denied_f(az, "GET /exact HTTP/1.1\r\nHost: exact.test\r\n", &g));
	}
	hf_authz_free(az);

	az = load(META("p", "istio-system") "spec:\n  rules:\n  - when:\n"
		  "    - key: request.headers[X-Present]\n      values: [\"*\"]\n");
	assert_false(denied(az, GET("/") "x-present: \r\n"));
	assert_false(denied(az, GET("/") "X-PRESENT: yes\r\n"));
	assert_true(denied(az, GET("/")));
	hf_authz_free(az);
}

/*
 * A header sent in several fields is one value, its fields joined with ","
 * in the order they came (RFC 9110 5.3), as Envoy's RBAC reads it
 * (getAllOfHeaderAsString): a condition sees "a,b", not the first field.
 */
static void
test_repeated_header(void **state)
{
	struct hf_authz *az;
	struct facts other = {.src = "203.0.113.50"};
	char yaml[8192], head[2048];
	size_t k;

	(void)state;
	az = load(META("p", "istio-system") "spec:\n  rules:\n"
		  "  - when:\n    - key: request.headers[x-foo]\n      values: [\"a,b\"]\n"
		  "  - when:\n    - key: request.headers[x-bar]\n      values: [\"*,second\"]\n"
		  "  - when:\n    - key: request.headers[x-baz]\n"
		  "      notValues: [\"one\", \"one,*\"]\n"
		  "    - key: request.headers[x-baz]\n      values: [\"*\"]\n");
	/* the joined value, exactly */
	assert_false(denied(az, GET("/") "x-foo: a\r\nx-foo: b\r\n"));
	assert_false(denied(az, GET("/") "X-Foo: a\r\naccept: */*\r\nx-FOO: b\r\n"));
	assert_true(denied(az, GET("/") "x-foo: a\r\n"));
	assert_true(denied(az, GET("/") "x-foo: b\r\nx-foo: a\r\n"));
	assert_true(denied(az, GET("/") "x-foo: a\r\nx-foo: b\r\nx-foo: c\r\n"));
	/* a suffix only the second field has */
	assert_false(denied(az, GET("/") "x-bar: first\r\nx-bar: second\r\n"));
	assert_true(denied(az, GET("/") "x-bar: second\r\nx-bar: first\r\n"));
	/* an empty field is an empty element: "a," then "b" is "a,,b" */
	assert_true(denied(az, GET("/") "x-foo: a\r\nx-foo: \r\nx-foo: b\r\n"));
	/* not-forms see the whole value: "one,two" is "one,*"; "two,one" is neither */
	assert_true(denied(az, GET("/") "x-baz: one\r\n"));
	assert_true(denied(az, GET("/") "x-baz: one\r\nx-baz: two\r\n"));
	assert_false(denied(az, GET("/") "x-baz: two\r\nx-baz: one\r\n"));
	hf_authz_free(az);

	/* x-forwarded-for in two fields is one list (the node trusts two hops) */
	az = load(META("ingress-policy", "istio-system") "spec:\n" SEL "  action: ALLOW\n"
		  "  rules:\n  - from:\n    - source:\n"
		  "        remoteIpBlocks: [\"198.51.100.77\"]\n");
	assert_false(denied_f(az, GET("/") "X-Forwarded-For: 203.0.113.9\r\n"
			      "X-Forwarded-For: 198.51.100.77, 192.0.2.1\r\n", &other));
	assert_false(denied_f(az, GET("/") "X-Forwarded-For: 203.0.113.9, 198.51.100.77\r\n"
			      "X-Forwarded-For: 192.0.2.1\r\n", &other));
	assert_true(denied_f(az, GET("/") "X-Forwarded-For: 198.51.100.77\r\n"
			     "X-Forwarded-For: 203.0.113.9, 192.0.2.1\r\n", &other));
	/* an empty field is an empty entry: the second from the right is not an address */
	assert_true(denied_f(az, GET("/") "X-Forwarded-For: 198.51.100.77\r\n"
			     "X-Forwarded-For: \r\nX-Forwarded-For: 192.0.2.1\r\n", &other));
	hf_authz_free(az);

	/* more header names than the index tracks at once (16): each still joined */
	k = (size_t)snprintf(yaml, sizeof(yaml), META("many", "istio-system") "spec:\n  rules:\n"
			     "  - when:\n");
	for (int i = 0; i < 20; i++)
		k += (size_t)snprintf(yaml + k, sizeof(yaml) - k,
				      "    - key: request.headers[x-h%d]\n"
				      "      values: [\"v%d,w\"]\n", i, i);
	az = load(yaml);
	assert_non_null(az->ix);
	k = (size_t)snprintf(head, sizeof(head), GET("/"));
	for (int i = 0; i < 20; i++)
		k += (size_t)snprintf(head + k, sizeof(head) - k, "x-h%d: v%d\r\n", i, i);
	for (int i = 0; i < 20; i++)
		k += (size_t)snprintf(head + k, sizeof(head) - k, "x-h%d: w\r\n", i);
	assert_false(denied(az, head));
	/* one name sent once: its condition fails */
	head[k - strlen("x-h19: w\r\n")] = '\0';
	assert_true(denied(az, head));
	hf_authz_free(az);
}

/* Every not-form: true when none matches, an absent attribute included. */
static void
test_not_forms(void **state)
{
	struct hf_authz *az;
	const struct facts plain = {0}, tls = {.peer = "cluster.local/ns/foo/sa/sleep"},
			   other = {.peer = "cluster.local/ns/bar/sa/x"},
			   jwt = {.jwt = "https://issuer/alice"};

	(void)state;
	az = load(META("p", "istio-system") "spec:\n  action: DENY\n  rules:\n"
		  "  - from:\n    - source:\n        notPrincipals: [\"cluster.local/ns/foo/*\"]\n"
		  "    to:\n    - operation:\n        paths: [\"/principals\"]\n"
		  "  - from:\n    - source:\n        notNamespaces: [\"foo\"]\n"
		  "    to:\n    - operation:\n        paths: [\"/namespaces\"]\n"
		  "  - from:\n    - source:\n        notRequestPrincipals: [\"*\"]\n"
		  "    to:\n    - operation:\n        paths: [\"/jwt\"]\n"
		  "  - from:\n    - source:\n        notIpBlocks: [\"198.51.100.0/24\"]\n"
		  "    to:\n    - operation:\n        paths: [\"/ip\"]\n"
		  "  - to:\n    - operation:\n        notMethods: [\"GET\"]\n        paths: [\"/m\"]\n"
		  "  - to:\n    - operation:\n        notHosts: [\"httpbin.example.com\"]\n"
		  "        paths: [\"/h\"]\n"
		  "  - to:\n    - operation:\n        notPorts: [\"80\"]\n        paths: [\"/p\"]\n"
		  "  - to:\n    - operation:\n        notPaths: [\"/n*\", \"/m\", \"/h\", \"/p\", \"/ip\","
		  " \"/jwt\", \"/namespaces\", \"/principals\"]\n");
	assert_true(denied_f(az, GET("/principals"), &plain));
	assert_false(denied_f(az, GET("/principals"), &tls));
	assert_true(denied_f(az, GET("/principals"), &other));
	assert_true(denied_f(az, GET("/namespaces"), &plain));
	assert_false(denied_f(az, GET("/namespaces"), &tls));
	assert_true(denied_f(az, GET("/namespaces"), &other));
	assert_true(denied_f(az, GET("/jwt"), &plain));
	assert_false(denied_f(az, GET("/jwt"), &jwt));
	assert_false(denied_f(az, GET("/ip"), &plain));
	{
		const struct facts far = {.src = "192.0.2.3"};

		assert_true(denied_f(az, GET("/ip"), &far));
	}
	assert_false(denied(az, GET("/m")));
	assert_true(denied(az, POST("/m")));
	assert_false(denied(az, GET("/h")));
	assert_true(denied(az, "GET /h HTTP/1.1\r\nHost: other\r\n"));
	assert_false(denied(az, GET("/p")));
	assert_true(denied(az, GET("/zzz")));	/* notPaths: none of them */
	assert_false(denied(az, GET("/nothing")));
	hf_authz_free(az);
}

/* Principals and namespaces come from the mTLS peer, without "spiffe://". */
static void
test_principals(void **state)
{
	struct hf_authz *az;
	const struct facts sleep = {.peer = "cluster.local/ns/default/sa/sleep"},
			   test = {.peer = "cluster.local/ns/test/sa/other"}, plain = {0};

	(void)state;
	az = load(META("httpbin", "istio-system") "spec:\n  action: ALLOW\n  rules:\n"
		  "  - from:\n    - source:\n        principals: [\"cluster.local/ns/default/sa/sleep\"]\n"
		  "    - source:\n        namespaces: [\"test\"]\n"
		  "    to:\n    - operation:\n        methods: [\"GET\"]\n        paths: [\"/info*\"]\n"
		  "    - operation:\n        methods: [\"POST\"]\n        paths: [\"/data\"]\n");
	assert_false(denied_f(az, GET("/info/x"), &sleep));
	assert_false(denied_f(az, POST("/data"), &test));
	assert_true(denied_f(az, POST("/info"), &test));
	assert_true(denied_f(az, GET("/info"), &plain));
	hf_authz_free(az);

	az = load(META("any-peer", "istio-system") "spec:\n  rules:\n  - from:\n    - source:\n"
		  "        principals: [\"*\"]\n");
	assert_false(denied_f(az, GET("/"), &test));
	assert_true(denied_f(az, GET("/"), &plain));
	hf_authz_free(az);
}

/* `when`: every key this node reads. */
static void
test_when_keys(void **state)
{
	struct hf_authz *az;
	const struct facts good = {
		.src = "192.0.2.5", .peer = "cluster.local/ns/foo/sa/bar", .sni = "API.example.com",
		.jwt = "https://accounts.example.com/alice",
		.claims = {{"iss", "https://accounts.example.com"}, {"groups", "dev"},
			   {"groups", "admin"}, {"aud", "svc-a"}, {"azp", "cli"},
			   {"nested.key", "v1"}},
		.port = 443,
	};
	struct facts bad;

	(void)state;
	az = load(META("when", "istio-system") "spec:\n  rules:\n  - when:\n"
		  "    - key: source.ip\n      values: [\"192.0.2.0/28\"]\n"
		  "    - key: remote.ip\n      values: [\"192.0.2.5\"]\n"
		  "    - key: source.namespace\n      values: [\"foo\"]\n"
		  "    - key: source.principal\n      values: [\"*/sa/bar\"]\n"
		  "    - key: destination.ip\n      values: [\"203.0.113.0/24\"]\n"
		  "    - key: destination.port\n      values: [\"443\"]\n"
		  "    - key: connection.sni\n      values: [\"api.example.com\"]\n"
		  "    - key: request.auth.principal\n      values: [\"https://accounts.example.com/*\"]\n"
		  "    - key: request.auth.audiences\n      values: [\"svc-a\"]\n"
		  "    - key: request.auth.presenter\n      values: [\"cli\"]\n"
		  "    - key: request.auth.claims[groups]\n      values: [\"admin\"]\n"
		  "    - key: request.auth.claims[nested][key]\n      values: [\"v1\"]\n"
		  "    - key: request.auth.claims[iss]\n      notValues: [\"https://evil\"]\n");
	assert_false(denied_f(az, GET("/"), &good));
#define BREAK(field, v)                                     \
	do {                                                \
		bad = good;                                 \
		bad.field = v;                              \
		assert_true(denied_f(az, GET("/"), &bad));  \
	} while (0)
	BREAK(src, "192.0.2.17");
	BREAK(peer, "cluster.local/ns/other/sa/bar");
	BREAK(peer, NULL);
	BREAK(sni, "www.example.com");
	BREAK(sni, NULL);
	BREAK(jwt, NULL);
	BREAK(port, 80);
	bad = good;
	bad.claims[2][1] = "ops";	/* groups: dev, ops */
	assert_true(denied_f(az, GET("/"), &bad));
	bad = good;
	bad.claims[5][0] = "nested";
	assert_true(denied_f(az, GET("/"), &bad));
	bad = good;
	bad.claims[0][1] = "https://evil";
	assert_true(denied_f(az, GET("/"), &bad));
#undef BREAK
	hf_authz_free(az);

	/* requestPrincipals: the JWT's <iss>/<sub> */
	az = load(META("jwt", "istio-system") "spec:\n  rules:\n  - from:\n    - source:\n"
		  "        requestPrincipals: [\"https://accounts.example.com/alice\"]\n");
	assert_false(denied_f(az, GET("/"), &good));
	bad = good;
	bad.jwt = "https://accounts.example.com/bob";
	assert_true(denied_f(az, GET("/"), &bad));
	bad.jwt = NULL;
	assert_true(denied_f(az, GET("/"), &bad));
	hf_authz_free(az);
}

/* Path templates, alone. */
static void
test_templates(void **state)
{
	static const struct {
		const char *t, *p;
		bool match;
	} cases[] = {
		{"/a/{*}", "/a/b", true},
		{"/a/{*}", "/a/", false},
		{"/a/{*}", "/a/b/c", false},
		{"/a/{*}/c", "/a/b/c", true},
		{"/a/{*}/c", "/a//c", false},
		{"/a/{**}", "/a/", true},
		{"/a/{**}", "/a/b/c/d", true},
		{"/a/{**}", "/a", false},
		{"/{*}/{*}/x/{**}", "/1/2/x/3/4", true},
		{"/{*}/{*}/x/{**}", "/1/x/3/4", false},
		{"/{*}", "/", false},
		{"/{*}", "/abc", true},
	};

	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (hf_authz_template_match(cases[i].t, strlen(cases[i].t), cases[i].p,
					    strlen(cases[i].p)) != cases[i].match)
			fail_msg("%s against %s: expected %d", cases[i].t, cases[i].p,
				 cases[i].match);
}

/* Selection: the root namespace mesh-wide, the node's own namespace, matchLabels. */
static void
test_selection(void **state)
{
	struct hf_authz *az;

	(void)state;
	/* another namespace: not this node's */
	assert_int_equal(load_ns(META("p", "bookinfo") "spec:\n  {}\n", "istio-system", &az), 0);
	assert_null(az);
	/* its own namespace */
	assert_int_equal(load_ns(META("p", "bookinfo") "spec:\n  {}\n", "bookinfo", &az), 0);
	assert_non_null(az);
	hf_authz_free(az);
	/* the root namespace, whatever the node's */
	assert_int_equal(load_ns(META("p", "istio-system") "spec:\n  {}\n", "bookinfo", &az), 0);
	assert_non_null(az);
	hf_authz_free(az);
	/* labels the node lacks */
	assert_int_equal(load_ns(META("p", "istio-system") "spec:\n  selector:\n    matchLabels:\n"
				 "      app: productpage\n", "istio-system", &az), 0);
	assert_null(az);
	/* labels it has */
	assert_int_equal(load_ns(META("p", "istio-system") "spec:\n  selector:\n    matchLabels:\n"
				 "      app: istio-ingressgateway\n      istio: ingressgateway\n",
				 "istio-system", &az), 0);
	assert_non_null(az);
	hf_authz_free(az);
	/* v1beta1 reads the same */
	assert_int_equal(load_ns("apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\n"
				 "metadata:\n  name: x\n  namespace: istio-system\nspec: {}\n",
				 "istio-system", &az), 0);
	assert_non_null(az);
	hf_authz_free(az);
}

/* The compiled copy stands alone, and each rule's details stay readable after it is gone. */
static void
test_compile_copy(void **state)
{
	struct hf_authz *az, *again;
	const char *d;

	(void)state;
	az = load(META("deny-x", "istio-system") "spec:\n  action: DENY\n  rules:\n  - to:\n"
		  "    - operation:\n        paths: [\"/x\"]\n");
	d = az->deny[0].rules[0].details;
	again = hf_authz_compile(az);
	assert_non_null(again);
	assert_ptr_equal(again->deny[0].rules[0].details, d);	/* interned */
	assert_int_equal(again->deny[0].slot, az->deny[0].slot);	/* kept by name */
	assert_int_not_equal(az->deny[0].slot, 0);
	hf_authz_free(az);
	assert_true(denied(again, GET("/x")));
	assert_false(denied(again, GET("/y")));
	/* what workers counted under the policy's slot is its line on /stats */
	hf_authz_hits[0].n[again->deny[0].slot] += 5;
	hf_authz_hits[1].n[again->deny[0].slot] += 2;
	{
		struct hf_stat_line l[HF_AUTHZ_SLOTS + 1];
		size_t n = 0;
		bool seen = false;

		hf_authz_stat_lines(2, l, &n, HF_AUTHZ_SLOTS + 1);
		for (size_t i = 0; i < n; i++)
			if (strcmp(l[i].name, "rbac.policy.istio-system.deny-x.denied") == 0) {
				assert_int_equal(l[i].value, 7);
				seen = true;
			}
		assert_true(seen);
		assert_string_equal(l[0].name, "rbac.policy.overflow");
	}
	hf_authz_free(again);
	/* a policy named as long as Kubernetes allows keeps its whole name on /stats */
	{
		static struct hf_stat_line l[HF_AUTHZ_SLOTS + 1];
		char name[254], want[512], yaml[1024];
		size_t n = 0;
		bool seen = false;

		memset(name, 'n', 253);
		name[253] = '\0';
		snprintf(yaml, sizeof(yaml), META("%s", "istio-system") "spec:\n  action: DENY\n"
			 "  rules:\n  - to:\n    - operation:\n        paths: [\"/x\"]\n", name);
		az = load(yaml);
		hf_authz_hits[0].n[az->deny[0].slot] += 3;
		snprintf(want, sizeof(want), "rbac.policy.istio-system.%s.denied", name);
		hf_authz_stat_lines(1, l, &n, HF_AUTHZ_SLOTS + 1);
		for (size_t i = 0; i < n; i++)
			if (strcmp(l[i].name, want) == 0) {
				assert_int_equal(l[i].value, 3);
				seen = true;
			}
		assert_true(seen);
		hf_authz_free(az);
	}
	assert_string_equal(d, "rbac_access_denied_matched_policy[ns[istio-system]-policy[deny-x]"
			    "-rule[0]]");
}

/*
 * The index (authz-t.h) against the tree walk over random requests: every
 * attribute, present or not, with policies that use every form. denied_by()
 * holds each check of this file to the walk; here the requests are many and
 * varied, and a corrupted index must show: the check can fail.
 */
static const char *const x_paths[] = {"/", "/a", "/a/", "/a/b", "/ab", "/b/a", "/v1/x/r2/q",
				      "/v1/r2/z", "/api/v1/products/7/reviews", "/x.html",
				      "/a/b.html", "/static/css", "/statics", "/login?x", "/p",
				      "/api/admin/x", "/api/x"};
static const char *const x_hosts[] = {"a.example.com", "A.EXAMPLE.COM", "b.example.com",
				      "example.com", "svc1.example.com", "x.s1.example.com",
				      "a.example.com:80"};
static const char *const x_methods[] = {"GET", "POST", "HEAD", "DELETE"};
static const char *const x_hdrs[] = {"", "x-a: 1\r\n", "x-a: 2\r\nx-a: 3\r\n", "X-A: yes\r\n",
				     "x-b: on\r\nx-a: 3\r\n", "x-forwarded-for: 203.0.113.9, 192.0.2.1\r\n",
				     "x-forwarded-for: 2001:db8::7, 192.0.2.1\r\n"};
static const char *const x_srcs[] = {"198.51.100.7", "198.51.100.9", "203.0.113.5", "203.0.113.9",
				     "192.0.2.77"};
static const char *const x_peers[] = {NULL, "cluster.local/ns/foo/sa/a", "cluster.local/ns/bar/sa/b",
				      "td/nothing"};
static const char *const x_snis[] = {NULL, "a.example.com", "B.EXAMPLE.COM"};
static const uint16_t x_ports[] = {80, 8080, 9090};

static unsigned int
cross_check(const struct hf_authz *az, unsigned int n, unsigned int *allowed)
{
	unsigned int seed = 7;

#define PICK(a) a[(seed = seed * 1103515245u + 12345u, (seed >> 8) % (sizeof(a) / sizeof(a[0])))]
	mismatches = 0;
	*allowed = 0;
	check_count_only = true;
	for (unsigned int i = 0; i < n; i++) {
		char head[512];
		struct hf_authz_result r;
		struct facts f = {0};
		const char *m = PICK(x_methods), *p = PICK(x_paths), *h = PICK(x_hosts);

		snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: %s\r\n%s", m, p, h, PICK(x_hdrs));
		f.src = PICK(x_srcs);
		f.peer = PICK(x_peers);
		f.sni = PICK(x_snis);
		f.port = PICK(x_ports);
		if ((seed >> 4) & 1) {
			f.jwt = "https://issuer/alice";
			f.claims[0][0] = "groups";
			f.claims[0][1] = (seed >> 5) & 1 ? "admin" : "dev";
			f.claims[1][0] = "groups";
			f.claims[1][1] = "staff";
		}
		*allowed += !denied_by(az, head, &f, &r);
	}
	check_count_only = false;
#undef PICK
	return mismatches;
}

static void
test_index_cross_check(void **state)
{
	struct hf_authz *az;
	unsigned int allowed, n = 4000;
	uint32_t dflt = UINT32_MAX;

	(void)state;
	az = load(META("p1", "istio-system") "spec:\n  action: DENY\n  rules:\n"
		  "  - to:\n    - operation: {paths: [\"/a\"], methods: [\"DELETE\"]}\n"
		  "  - to:\n    - operation: {paths: [\"/a/*\", \"*.html\"]}\n"
		  "    - operation: {hosts: [\"b.example.com\"]}\n"
		  "  - when:\n    - {key: \"request.headers[x-a]\", values: [\"2\"]}\n"
		  "  - from:\n    - source: {notPrincipals: [\"cluster.local/ns/foo/*\"], "
		  "principals: [\"*\"]}\n    to:\n    - operation: {ports: [\"9090\"]}\n"
		  "---\n" META("p2", "istio-system") "spec:\n  rules:\n"
		  "  - to:\n    - operation: {paths: [\"/v1/{*}/r2/{**}\", \"/static/*\", \"/login*\"]}\n"
		  "  - to:\n    - operation: {hosts: [\"A.example.com\", \"*.s1.example.com\"], notPaths: [\"/p\"]}\n"
		  "  - to:\n    - operation: {paths: [\"/\", \"/api/v1/products/{*}/reviews\", \"/api/*\"], "
		  "notPaths: [\"/api/admin/*\"]}\n"
		  "  - from:\n    - source: {ipBlocks: [\"198.51.100.0/24\"], notIpBlocks: [\"198.51.100.9\"]}\n"
		  "    to:\n    - operation: {hosts: [\"example.com\"], paths: [\"/ab\"]}\n"
		  "  - from:\n    - source: {namespaces: [\"bar\"]}\n    - source: {remoteIpBlocks: [\"203.0.113.9\", \"2001:db8::/33\"]}\n"
		  "    when:\n    - {key: connection.sni, values: [\"b.example.com\"]}\n"
		  "  - from:\n    - source: {requestPrincipals: [\"https://issuer/*\"]}\n"
		  "    when:\n    - {key: \"request.auth.claims[groups]\", values: [\"admin\"]}\n"
		  "    - {key: \"request.headers[x-b]\", notValues: [\"on\"]}\n"
		  "  - to:\n    - operation: {methods: [\"HEAD\"], notHosts: [\"*.example.com\"]}\n"
		  "    when:\n    - {key: destination.port, notValues: [\"80\"]}\n"
		  "---\n" META("p3", "istio-system") "spec:\n  action: AUDIT\n  rules:\n"
		  "  - to:\n    - operation: {paths: [\"/b/a\"]}\n"
		  "  - from:\n    - source: {notNamespaces: [\"foo\"]}\n");
	assert_non_null(az->ix);
	assert_int_equal(az->ix->n_slow, 0);
	{
		/* an IPv6 remote address in a /33 (a prefix length inside a byte), and just past it */
		struct facts f = {.sni = "b.example.com"};
		struct hf_authz_result r;

		assert_false(denied_by(az, "GET /zzz HTTP/1.1\r\nHost: q\r\n"
				       "x-forwarded-for: 2001:db8:7fff::7, 192.0.2.1\r\n", &f, &r));
		assert_ptr_equal(r.allowed_by, &az->allow[0]);
		assert_true(denied_by(az, "GET /zzz HTTP/1.1\r\nHost: q\r\n"
				      "x-forwarded-for: 2001:db8:8000::7, 192.0.2.1\r\n", &f, &r));
		assert_null(r.policy);
	}
	assert_int_equal(cross_check(az, n, &allowed), 0);
	/* both verdicts are common: agreeing on one answer would prove little */
	assert_true(allowed > n / 10 && allowed < n - n / 10);
	/* an index that forgets the path conditions (every term passes them): verdicts change */
	for (uint16_t i = 0; i < az->ix->n_dims; i++)
		if (az->ix->dims[i].attr == HF_AZ_PATH)
			dflt = az->ix->dims[i].dflt;
	assert_int_not_equal(dflt, UINT32_MAX);
	memset((uint64_t *)az->ix->sets + dflt, 0xff, az->ix->nw * sizeof(uint64_t));
	assert_true(cross_check(az, n, &allowed) > 0);
	hf_authz_free(az);
}

/* A positive and a not-form on one attribute in one clause; one value in many conditions. */
static void
test_index_same_attr(void **state)
{
	struct hf_authz *az;
	struct facts f = {0};

	(void)state;
	az = load(META("deny", "istio-system") "spec:\n  action: DENY\n  rules:\n"
		  "  - to:\n    - operation: {methods: [\"DELETE\"], notPaths: [\"/api/*\", \"/health\"]}\n"
		  "---\n" META("allow", "istio-system") "spec:\n  rules:\n"
		  "  - to:\n    - operation: {paths: [\"/api/*\"], notPaths: [\"/api/admin*\"]}\n"
		  "  - from:\n    - source: {namespaces: [\"foo\", \"bar\"], notNamespaces: [\"bar\"]}\n"
		  "  - from:\n    - source: {ipBlocks: [\"203.0.113.0/24\"], notIpBlocks: [\"203.0.113.9/32\"]}\n");
	assert_false(denied(az, GET("/api/x")));
	assert_true(denied(az, GET("/api/admin/x")));
	assert_true(denied(az, GET("/other")));
	f.peer = "cluster.local/ns/foo/sa/a";
	assert_false(denied_f(az, GET("/other"), &f));
	f.peer = "cluster.local/ns/bar/sa/a";
	assert_true(denied_f(az, GET("/other"), &f));
	f.peer = NULL;
	f.src = "203.0.113.5";
	assert_false(denied_f(az, GET("/other"), &f));
	f.src = "203.0.113.9";
	assert_true(denied_f(az, GET("/other"), &f));
	/* one prefix value, the ALLOW's path and the DENY's notPath at once */
	assert_false(denied(az, "DELETE /api/x HTTP/1.1\r\nHost: h\r\n"));
	assert_true(denied(az, "DELETE /api/admin HTTP/1.1\r\nHost: h\r\n"));
	f.src = "203.0.113.5";
	assert_true(denied_f(az, "DELETE /other HTTP/1.1\r\nHost: h\r\n", &f));
	assert_false(denied_f(az, "DELETE /health HTTP/1.1\r\nHost: h\r\n", &f));
	hf_authz_free(az);
}

/*
 * Templates with one literal start are one key of the index's table: the
 * slot holds the first entry, the others follow its chain; each is matched
 * whole. The verdict names its policy's counter slot (res.slot) without the
 * worker reading the policy.
 */
static void
test_index_template_chain(void **state)
{
	struct hf_authz *az;
	struct hf_authz_result r;
	const struct facts f = {0};

	(void)state;
	az = load(META("deny", "istio-system") "spec:\n  action: DENY\n  rules:\n"
		  "  - to:\n    - operation: {paths: [\"/v1/{*}/secret\"]}\n"
		  "---\n" META("allow", "istio-system") "spec:\n  rules:\n"
		  "  - to:\n    - operation: {paths: [\"/v1/{*}/a\"]}\n"
		  "  - to:\n    - operation: {paths: [\"/v1/{*}/b/{**}\"]}\n"
		  "  - to:\n    - operation: {paths: [\"/v1/{*}\"]}\n");
	assert_non_null(az->ix);
	assert_int_equal(az->ix->n_slow, 0);
	assert_true(denied_by(az, GET("/v1/x/secret"), &f, &r));
	assert_ptr_equal(r.policy, &az->deny[0]);
	assert_int_equal(r.slot, az->deny[0].slot);
	assert_int_not_equal(r.slot, 0);
	assert_false(denied_by(az, GET("/v1/x/a"), &f, &r));
	assert_ptr_equal(r.rule, NULL);
	assert_ptr_equal(r.allowed_by, &az->allow[0]);
	assert_int_equal(r.slot, az->allow[0].slot);
	assert_int_not_equal(r.slot, az->deny[0].slot);
	/* the second and third entries of the chain */
	assert_false(denied(az, GET("/v1/x/b/c/d")));
	assert_false(denied(az, GET("/v1/x")));
	assert_true(denied(az, GET("/v1/x/c")));
	assert_true(denied(az, GET("/v1//a")));
	assert_true(denied(az, GET("/v2/x/a")));
	/* no policy allowed it: no slot */
	assert_true(denied_by(az, GET("/v1/x/b"), &f, &r));
	assert_null(r.policy);
	assert_int_equal(r.slot, 0);
	hf_authz_free(az);
}

/*
 * The METHOD dim answered from the table the agent precomputed for each
 * method the parser names (exact, prefix, suffix and not-forms), a method it
 * does not name looked up: every case against the tree walk; a wrong row
 * in the table must show.
 */
static void
test_index_method_table(void **state)
{
	static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT",
					      "OPTIONS", "TRACE", "PATCH", "get", "PURGE", "GETX"};
	struct hf_authz *az;
	struct hf_authz_result r;
	const struct facts f = {0};
	char head[128];

	(void)state;
	az = load(META("deny", "istio-system") "spec:\n  action: DENY\n  rules:\n"
		  "  - to:\n    - operation: {methods: [\"DELETE\", \"*CH\"], paths: [\"/admin\"]}\n"
		  "  - to:\n    - operation: {notMethods: [\"GET\", \"HEAD\", \"P*\"], paths: [\"/ro\"]}\n"
		  "---\n" META("allow", "istio-system") "spec:\n  rules:\n"
		  "  - to:\n    - operation: {methods: [\"GE*\", \"HEAD\"]}\n"
		  "  - to:\n    - operation: {methods: [\"POST\", \"PURGE\"], paths: [\"/w\"]}\n"
		  "  - to:\n    - operation: {notMethods: [\"GET\", \"POST\"], paths: [\"/other\"]}\n");
	assert_non_null(az->ix);
	assert_non_null(az->ix->method_keep);
	mismatches = 0;
	for (unsigned int i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		for (unsigned int k = 0; k < 5; k++) {
			static const char *const paths[] = {"/admin", "/ro", "/w", "/other", "/x"};

			snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: h\r\n", methods[i],
				 paths[k]);
			(void)denied(az, head);
		}
	assert_false(denied_by(az, "GET /x HTTP/1.1\r\nHost: h\r\n", &f, &r));
	assert_ptr_equal(r.allowed_by, &az->allow[0]);
	assert_true(denied(az, "PATCH /admin HTTP/1.1\r\nHost: h\r\n"));
	assert_true(denied(az, "TRACE /ro HTTP/1.1\r\nHost: h\r\n"));
	assert_true(denied(az, "PUT /ro HTTP/1.1\r\nHost: h\r\n"));	/* no ALLOW rule */
	assert_false(denied(az, "PURGE /w HTTP/1.1\r\nHost: h\r\n"));
	assert_false(denied(az, "OPTIONS /other HTTP/1.1\r\nHost: h\r\n"));
	assert_true(denied(az, "POST /other HTTP/1.1\r\nHost: h\r\n"));
	/* GET's row emptied: the index now denies what the tree walk allows */
	memset((uint64_t *)az->ix->method_keep + HF_H1_M_GET * az->ix->nw, 0,
	       az->ix->nw * sizeof(uint64_t));
	check_count_only = true;
	mismatches = 0;
	(void)denied(az, "GET /x HTTP/1.1\r\nHost: h\r\n");
	(void)denied(az, "get /x HTTP/1.1\r\nHost: h\r\n");
	check_count_only = false;
	assert_int_equal(mismatches, 1);
	hf_authz_free(az);
}

/* Rules the index leaves to the tree walk: two positive conditions on one attribute, 25 pairs. */
static void
test_index_slow_rules(void **state)
{
	struct hf_authz *az;
	struct facts f = {0};
	struct hf_authz_result res;
	char y[4096];
	int n;

	(void)state;
	n = snprintf(y, sizeof(y), META("deny", "istio-system") "spec:\n  action: DENY\n  rules:\n"
		     "  - when:\n    - {key: \"request.headers[x-a]\", values: [\"1\", \"2\"]}\n"
		     "    - {key: \"request.headers[x-a]\", values: [\"2\", \"3\"]}\n"
		     "  - from:\n    - source: {ipBlocks: [\"198.51.100.0/24\"]}\n"
		     "    when:\n    - {key: source.ip, values: [\"198.51.100.9\"]}\n"
		     "---\n" META("allow", "istio-system") "spec:\n  rules:\n  - from:\n");
	for (int i = 1; i <= 5; i++)
		n += snprintf(y + n, sizeof(y) - (size_t)n,
			      "    - source: {ipBlocks: [\"203.0.113.%d\"]}\n", i);
	n += snprintf(y + n, sizeof(y) - (size_t)n, "    to:\n");
	for (int i = 1; i <= 5; i++)
		n += snprintf(y + n, sizeof(y) - (size_t)n,
			      "    - operation: {paths: [\"/p%d\"]}\n", i);
	snprintf(y + n, sizeof(y) - (size_t)n, "  - to:\n    - operation: {paths: [\"/open\"]}\n");
	az = load(y);
	assert_non_null(az->ix);
	assert_int_equal(az->ix->n_slow, 3);
	assert_true(denied_by(az, GET("/open") "x-a: 2\r\n", &f, &res));
	assert_ptr_equal(res.rule, &az->deny[0].rules[0]);
	assert_false(denied(az, GET("/open") "x-a: 1\r\n"));
	assert_false(denied(az, GET("/open") "x-a: 3\r\n"));
	f.src = "198.51.100.9";
	assert_true(denied_by(az, GET("/open"), &f, &res));
	assert_ptr_equal(res.rule, &az->deny[0].rules[1]);
	f.src = "198.51.100.8";
	assert_false(denied_f(az, GET("/open"), &f));
	f.src = "203.0.113.4";
	assert_false(denied_f(az, GET("/p2"), &f));
	assert_true(denied_f(az, GET("/p6"), &f));
	f.src = "203.0.113.6";
	assert_true(denied_f(az, GET("/p2"), &f));
	hf_authz_free(az);
}

/* Past 64 terms (sets of several words), values shared by many rules, the deciding rule named. */
static void
test_index_many_rules(void **state)
{
	static char y[64 * 1024];
	struct hf_authz *az;
	struct hf_authz_result res;
	const struct facts f = {0};
	int n;

	(void)state;
	n = snprintf(y, sizeof(y), META("deny", "istio-system") "spec:\n  action: DENY\n  rules:\n");
	for (int i = 0; i < 100; i++)
		n += snprintf(y + n, sizeof(y) - (size_t)n,
			      "  - to:\n    - operation: {methods: [\"DELETE\"], paths: [\"/r%d\"]}\n", i);
	n += snprintf(y + n, sizeof(y) - (size_t)n, "---\n" META("allow", "istio-system")
		      "spec:\n  rules:\n");
	for (int i = 0; i < 150; i++)
		n += snprintf(y + n, sizeof(y) - (size_t)n,
			      "  - to:\n    - operation: {methods: [\"GET\"], paths: [\"/r%d\", \"/all\"]}\n",
			      i);
	az = load(y);
	assert_non_null(az->ix);
	assert_int_equal(az->ix->n_terms, 250);
	assert_int_equal(az->ix->nw, 4);
	assert_false(denied_by(az, GET("/r149"), &f, &res));
	assert_ptr_equal(res.allowed_by, &az->allow[0]);
	assert_false(denied(az, GET("/r64")));
	assert_true(denied(az, GET("/r150")));
	assert_false(denied(az, GET("/all")));	/* in every rule: the first holds */
	assert_true(denied_by(az, "DELETE /r99 HTTP/1.1\r\nHost: h\r\n", &f, &res));
	assert_ptr_equal(res.rule, &az->deny[0].rules[99]);
	assert_true(denied_by(az, "DELETE /r63 HTTP/1.1\r\nHost: h\r\n", &f, &res));
	assert_ptr_equal(res.rule, &az->deny[0].rules[63]);
	assert_true(denied_by(az, "DELETE /r120 HTTP/1.1\r\nHost: h\r\n", &f, &res));
	assert_null(res.policy);	/* no DENY rule: no ALLOW rule either (GET only) */
	hf_authz_free(az);
}

/*
 * The worker's memo (authz.h): a value the same as its dim's last one takes
 * what that one gathered. Another index at the same address (freed, then
 * built again with other policies) must not read the old one's; a value
 * that matched nothing, one longer than the memo keeps, and a header dim
 * (its lookups in apply_headers) all agree with the tree walk (denied_by()
 * checks each request with and without the memo).
 */
static void
test_index_memo(void **state)
{
	static const char *const yaml[2] = {
		META("deny", "istio-system") "spec:\n  action: DENY\n  rules:\n"
		"  - to:\n    - operation: {paths: [\"/admin*\"],\n"
		"                  hosts: [\"httpbin.example.com\"]}\n"
		"  - from:\n    - source: {ipBlocks: [\"198.51.100.7/32\"]}\n"
		"    when:\n    - {key: \"request.headers[x-a]\", values: [\"1\"]}\n",
		META("allow", "istio-system") "spec:\n  rules:\n"
		"  - to:\n    - operation: {paths: [\"/admin*\"],\n"
		"                  hosts: [\"httpbin.example.com\"]}\n"
		"  - from:\n    - source: {ipBlocks: [\"198.51.100.0/24\"]}\n"
		"    when:\n    - {key: \"request.headers[x-a]\", values: [\"2\"]}\n",
	};
	char longp[256];
	struct facts f = {0};

	(void)state;
	memset(longp, 'a', sizeof(longp));
	memcpy(longp, "GET /admin", 10);
	snprintf(longp + 10 + HF_AUTHZ_MEMO_KEY, sizeof(longp) - 10 - HF_AUTHZ_MEMO_KEY,
		 " HTTP/1.1\r\nHost: httpbin.example.com\r\n");
	for (int round = 0; round < 4; round++) {
		struct hf_authz *az = load(yaml[round % 2]);
		const bool deny = round % 2 == 0;
		uint64_t serial;

		assert_non_null(az->ix);
		assert_true(az->ix->nw <= 2);
		/* the same request as the last round's, under the other policies */
		assert_int_equal(denied(az, GET("/admin/x")), deny);
		serial = memo.serial;
		assert_int_equal(serial, az->ix->serial);
		assert_int_equal(denied(az, GET("/admin/x")), deny);
		assert_int_equal(denied(az, GET("/other")), !deny);
		assert_int_equal(denied(az, GET("/admin/x")), deny);
		/* a path past what the memo keeps: looked up each time */
		assert_int_equal(denied(az, longp), deny);
		assert_int_equal(denied(az, longp), deny);
		/* the address dim and a header dim, hit and missed in turn */
		assert_true(denied(az, GET("/other") "x-a: 1\r\n"));
		assert_false(denied(az, GET("/other") "x-a: 2\r\n"));
		f.src = "198.51.100.8";
		assert_false(denied_f(az, GET("/other") "x-a: 2\r\n", &f));
		assert_int_equal(denied_f(az, GET("/other") "x-a: 1\r\n", &f), !deny);
		f.src = NULL;
		assert_true(denied(az, GET("/other") "x-a: 1\r\n"));
		assert_int_equal(memo.serial, serial);
		hf_authz_free(az);
	}
}

/*
 * The memo's verdict (authz.h): a request the same as the last one in every
 * value the last check read takes its verdict; one that differs in any of
 * them (the method, a value, a value it had or lacked, a header field a
 * policy reads) is checked again (denied_by() holds each to the tree walk,
 * after the last case's memo and again after its own). A check that read a
 * header field a policy names keeps none.
 */
static void
test_index_verdict(void **state)
{
	static const char yaml[] =
		META("deny-method", "istio-system") "spec:\n  action: DENY\n  rules:\n"
		"  - to:\n    - operation: {methods: [DELETE]}\n"
		"---\n" META("deny-host", "istio-system") "spec:\n  action: DENY\n  rules:\n"
		"  - to:\n    - operation: {hosts: [bad.example.com], paths: [\"/admin*\"]}\n"
		"---\n" META("deny-header", "istio-system") "spec:\n  action: DENY\n  rules:\n"
		"  - when:\n    - {key: \"request.headers[x-a]\", values: [\"1\"]}\n"
		"---\n" META("allow-src", "istio-system") "spec:\n  rules:\n"
		"  - from:\n    - source: {ipBlocks: [\"198.51.100.0/24\"]}\n";
	struct hf_authz *az = load(yaml);
	struct facts f = {0};

	(void)state;
	assert_non_null(az->ix);
	assert_false(denied(az, GET("/admin/x")));
	assert_true(memo.verdict);
	assert_true(denied(az, "DELETE /admin/x HTTP/1.1\r\nHost: httpbin.example.com\r\n"));
	assert_true(memo.verdict);
	assert_false(denied(az, GET("/admin/x")));
	/* no Host, then the Host a policy denies */
	assert_false(denied(az, "GET /admin/x HTTP/1.0\r\n"));
	assert_true(memo.verdict);
	assert_true(denied(az, "GET /admin/x HTTP/1.1\r\nHost: bad.example.com\r\n"));
	assert_false(denied(az, "GET /admin/x HTTP/1.0\r\n"));
	/* a field a policy reads: no verdict kept; one of the same length it does not read */
	assert_true(denied(az, GET("/admin/x") "x-a: 1\r\n"));
	assert_false(memo.verdict);
	assert_false(denied(az, GET("/admin/x") "x-b: 1\r\n"));
	assert_false(memo.verdict);
	assert_false(denied(az, GET("/admin/x")));
	assert_true(memo.verdict);
	assert_true(denied(az, GET("/admin/x") "x-a: 1\r\n"));
	assert_false(denied(az, GET("/admin/x") "X-A: 2\r\n"));
	/* another source, then the same again */
	f.src = "203.0.113.9";
	assert_true(denied_f(az, GET("/admin/x"), &f));
	assert_true(memo.verdict);
	assert_false(denied(az, GET("/admin/x")));
	hf_authz_free(az);
}

/*
 * The path a policy reads leaves the query out (Envoy's url_path): where the
 * first '?' is, at every length and position, as memchr() finds it.
 */
static void
test_path_len(void **state)
{
	char buf[64 + 8];

	(void)state;
	for (uint32_t n = 0; n <= 64; n++)
		for (uint32_t q = 0; q <= n; q++)
			for (uint32_t second = 0; second < 2; second++)
				for (uint32_t off = 0; off < 8; off += 3) {
					char *t = buf + off;
					const char *r;

					for (uint32_t i = 0; i < n; i++)
						t[i] = (char)('a' + i % 26);
					if (q < n)
						t[q] = '?';
					/* a second '?' after the first; 0xbf before it */
					if (second && q + 1 < n)
						t[q + 1 + (n - q - 1) / 2] = '?';
					if (q > 0)
						t[q - 1] = (char)0xbf;
					t[n] = '?';	/* past the end: not the target's */
					r = memchr(t, '?', n);
					assert_int_equal(hf_authz_path_len(t, n),
							 r != NULL ? (uint32_t)(r - t) : n);
				}
}

/* Past HF_AUTHZ_IX_WORDS x 64 terms there is no index: the tree walk gives the same answers. */
static void
test_index_too_many_terms(void **state)
{
	static char y[512 * 1024];
	struct hf_authz *az;
	struct hf_authz_result res;
	const struct facts f = {0};
	int n = 0;

	(void)state;
	for (int p = 0; p < 2; p++) {
		n += snprintf(y + n, sizeof(y) - (size_t)n, "---\n" META("allow-%d", "istio-system")
			      "spec:\n  rules:\n", p);
		for (int i = 0; i < 2100; i++)
			n += snprintf(y + n, sizeof(y) - (size_t)n,
				      "  - to:\n    - operation: {paths: [\"/p%d/r%d\"]}\n", p, i);
	}
	az = load(y);
	assert_null(az->ix);
	assert_false(denied_by(az, GET("/p1/r2099"), &f, &res));
	assert_ptr_equal(res.allowed_by, &az->allow[1]);
	assert_true(denied(az, GET("/p1/r2100")));
	hf_authz_free(az);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hf_authz_XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/policies.yaml", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_task_explicit_deny),
		cmocka_unit_test(test_task_http_traffic),
		cmocka_unit_test(test_task_ingress_ip),
		cmocka_unit_test(test_empty_rules),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_and_or),
		cmocka_unit_test(test_string_forms),
		cmocka_unit_test(test_repeated_header),
		cmocka_unit_test(test_not_forms),
		cmocka_unit_test(test_principals),
		cmocka_unit_test(test_when_keys),
		cmocka_unit_test(test_templates),
		cmocka_unit_test(test_selection),
		cmocka_unit_test(test_compile_copy),
		cmocka_unit_test(test_index_cross_check),
		cmocka_unit_test(test_index_same_attr),
		cmocka_unit_test(test_index_memo),
		cmocka_unit_test(test_index_verdict),
		cmocka_unit_test(test_path_len),
		cmocka_unit_test(test_index_template_chain),
		cmocka_unit_test(test_index_method_table),
		cmocka_unit_test(test_index_slow_rules),
		cmocka_unit_test(test_index_many_rules),
		cmocka_unit_test(test_index_too_many_terms),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
