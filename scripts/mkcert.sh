#!/usr/bin/env bash
# A small CA for demos and tests (DESIGN.md: "the mesh CA for demos and tests"), with the
# openssl CLI only. Certificates land in the layout of a Kubernetes TLS secret, which is
# what the bootstrap's config.credentials_dir holds: one folder per credentialName.
#
#   scripts/mkcert.sh ca DIR                       DIR/ca.crt, DIR/ca.key: a root (ECDSA P-256, 10 days)
#   scripts/mkcert.sh cert DIR NAME [-rsa] HOST... DIR/NAME/tls.crt, tls.key, ca.crt: a server
#                                                  certificate for HOST... (SANs; "*.x" wildcards
#                                                  allowed), CN the first HOST, signed by DIR's root,
#                                                  ECDSA P-256 (RSA 2048 with -rsa), 1 day
#
# Short lifetimes on purpose: these are for tests, never for anything that lasts.
set -euo pipefail

die() { echo "mkcert: $*" >&2; exit 2; }
[ $# -ge 2 ] || die "usage: $0 ca DIR | $0 cert DIR NAME [-rsa] HOST..."

cmd=$1 dir=$2
case "$cmd" in
ca)
	mkdir -p "$dir"
	openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key" 2>/dev/null
	openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 10 -subj "/O=Hydrofoil test/CN=Hydrofoil test root" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out "$dir/ca.crt" 2>/dev/null
	;;
cert)
	[ $# -ge 4 ] || die "usage: $0 cert DIR NAME [-rsa] HOST..."
	name=$3
	shift 3
	rsa=false
	if [ "$1" = "-rsa" ]; then rsa=true; shift; fi
	[ $# -ge 1 ] || die "cert: at least one HOST"
	[ -f "$dir/ca.crt" ] && [ -f "$dir/ca.key" ] || die "no CA in $dir (run: $0 ca $dir)"
	out=$dir/$name
	mkdir -p "$out"
	if $rsa; then
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$out/tls.key" 2>/dev/null
	else
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/tls.key" 2>/dev/null
	fi
	san=""
	for h in "$@"; do san="${san:+$san,}DNS:$h"; done
	openssl req -new -key "$out/tls.key" -subj "/O=Hydrofoil test/CN=$1" -out "$out/tls.csr" 2>/dev/null
	printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature%s\nextendedKeyUsage=serverAuth\n' \
		"$san" "$($rsa && echo ,keyEncipherment)" > "$out/ext.cnf"
	openssl x509 -req -in "$out/tls.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
		-days 1 -sha256 -extfile "$out/ext.cnf" -out "$out/tls.crt" 2>/dev/null
	cp "$dir/ca.crt" "$out/ca.crt"
	rm -f "$out/tls.csr" "$out/ext.cnf"
	chmod 600 "$out/tls.key"
	;;
*)
	die "unknown command '$cmd' (ca, cert)"
	;;
esac
