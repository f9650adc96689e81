#!/usr/bin/env bash
# A mesh CA for demos and tests, the way istiod's CA (Citadel) issues workload identities, with
# the openssl CLI only. Files use Istio's file-mounted names (cert-chain.pem, key.pem,
# root-cert.pem), which is what the bootstrap's identity block and Hydrofoil's ISTIO_MUTUAL read.
#
#   scripts/meshca.sh root DIR [TRUST_DOMAIN]     DIR/root-cert.pem, DIR/root-key.pem: a root CA
#                                                 (ECDSA P-256, 30 days, O=TRUST_DOMAIN, default
#                                                 cluster.local, kept in DIR/trust-domain)
#   scripts/meshca.sh workload DIR NS SA [TTL]    DIR/NS/SA/cert-chain.pem, key.pem, root-cert.pem:
#                                                 a workload certificate for
#                                                 spiffe://TRUST_DOMAIN/ns/NS/sa/SA (its only SAN,
#                                                 critical, empty subject, as istiod's), ECDSA
#                                                 P-256, serverAuth and clientAuth, valid TTL from
#                                                 now (NNh or NNm; default 24h, istiod's default)
#
# Short lifetimes on purpose: workload certificates are meant to rotate.
set -euo pipefail

die() { echo "meshca: $*" >&2; exit 2; }
[ $# -ge 2 ] || die "usage: $0 root DIR [TRUST_DOMAIN] | $0 workload DIR NS SA [TTL]"

# a DNS-1123 label: namespaces and service accounts are Kubernetes names
label_ok() { [[ $1 =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]]; }

cmd=$1 dir=$2
case "$cmd" in
root)
	td=${3:-cluster.local}
	[[ $td =~ ^[a-z0-9]([a-z0-9.-]{0,253}[a-z0-9])?$ ]] || die "'$td' is not a trust domain (a DNS name)"
	mkdir -p "$dir"
	openssl ecparam -name prime256v1 -genkey -noout -out "$dir/root-key.pem" 2>/dev/null
	openssl req -x509 -new -key "$dir/root-key.pem" -sha256 -days 30 -subj "/O=$td" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
		-out "$dir/root-cert.pem" 2>/dev/null
	chmod 600 "$dir/root-key.pem"
	echo "$td" > "$dir/trust-domain"
	;;
workload)
	[ $# -ge 4 ] || die "usage: $0 workload DIR NS SA [TTL]"
	ns=$3 sa=$4 ttl=${5:-24h}
	label_ok "$ns" || die "'$ns' is not a namespace name"
	label_ok "$sa" || die "'$sa' is not a service account name"
	[ -f "$dir/root-cert.pem" ] && [ -f "$dir/root-key.pem" ] || die "no root in $dir (run: $0 root $dir)"
	case "$ttl" in
	*h) secs=$(( ${ttl%h} * 3600 )) ;;
	*m) secs=$(( ${ttl%m} * 60 )) ;;
	*) die "TTL '$ttl': NNh or NNm" ;;
	esac
	[ "$secs" -gt 0 ] || die "TTL '$ttl' is not positive"
	td=$(cat "$dir/trust-domain" 2>/dev/null || echo cluster.local)
	out=$dir/$ns/$sa db=$dir/.db-$ns-$sa
	mkdir -p "$out" "$db"
	: > "$db/index.txt"
	openssl rand -hex 16 > "$db/serial"
	cat > "$db/ca.cnf" <<CNF
[ca]
default_ca = mesh
[mesh]
database = $db/index.txt
new_certs_dir = $db
serial = $db/serial
default_md = sha256
policy = any
unique_subject = no
email_in_dn = no
[any]
organizationName = optional
[ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = critical,URI:spiffe://$td/ns/$ns/sa/$sa
authorityKeyIdentifier = keyid
CNF
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/key.pem" 2>/dev/null
	openssl req -new -key "$out/key.pem" -subj "/" -out "$db/req.csr" 2>/dev/null ||
		die "openssl req failed"
	# a minute back: a peer whose clock is slightly behind still takes it (istiod does the same)
	start=$(date -u -d "@$(( $(date +%s) - 60 ))" +%Y%m%d%H%M%SZ)
	end=$(date -u -d "@$(( $(date +%s) + secs ))" +%Y%m%d%H%M%SZ)
	openssl ca -batch -notext -config "$db/ca.cnf" -extensions ext -cert "$dir/root-cert.pem" \
		-keyfile "$dir/root-key.pem" -startdate "$start" -enddate "$end" -in "$db/req.csr" \
		-out "$out/cert-chain.pem" >"$db/ca.log" 2>&1 || die "openssl ca failed: $(tail -3 "$db/ca.log")"
	cp "$dir/root-cert.pem" "$out/root-cert.pem"
	chmod 600 "$out/key.pem"
	rm -rf "$db"
	;;
*)
	die "unknown command '$cmd' (root, workload)"
	;;
esac
