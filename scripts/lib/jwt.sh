# shellcheck shell=bash
# JSON Web Tokens made with openssl alone, for the tests, the demo and the benchmarks:
# the JWK of a key's public half and a compact JWS signed by it (RS256, ES256).
# Source it; do not run it.

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
hex2b64url() { xxd -r -p | b64url; }
# rsa_jwk PEM KID: the JWK of an RSA key's public half (n from openssl's modulus, e 65537).
rsa_jwk() {
	local n
	n=$(openssl rsa -in "$1" -noout -modulus 2>/dev/null | cut -d= -f2 | hex2b64url)
	printf '{"kty":"RSA","alg":"RS256","use":"sig","kid":"%s","n":"%s","e":"AQAB"}' "$2" "$n"
}
# ec_jwk PEM KID: the JWK of a P-256 key (x and y: the last 64 bytes of its SPKI, 04||x||y).
ec_jwk() {
	local xy
	xy=$(openssl ec -in "$1" -pubout -outform DER 2>/dev/null | tail -c 64 | xxd -p | tr -d '\n')
	printf '{"kty":"EC","crv":"P-256","kid":"%s","x":"%s","y":"%s"}' "$2" \
		"$(printf %s "${xy:0:64}" | hex2b64url)" "$(printf %s "${xy:64:64}" | hex2b64url)"
}
# ecdsa_raw: a DER ECDSA signature on stdin as JWS wants it, R || S of 32 bytes each.
ecdsa_raw() {
	openssl asn1parse -inform DER 2>/dev/null | awk -F: '/INTEGER/ { print $NF }' |
		while read -r h; do printf '%064s' "$h" | tr ' ' 0; done | hex2b64url
}
# jwt_token ALG PEM KID PAYLOAD: a compact JWS of PAYLOAD signed by PEM.
jwt_token() {
	local h p sig
	h=$(printf '{"alg":"%s","typ":"JWT","kid":"%s"}' "$1" "$3" | b64url)
	p=$(printf %s "$4" | b64url)
	if [ "$1" = ES256 ]; then
		sig=$(printf %s "$h.$p" | openssl dgst -sha256 -sign "$2" -binary | ecdsa_raw)
	else
		sig=$(printf %s "$h.$p" | openssl dgst -sha256 -sign "$2" -binary | b64url)
	fi
	echo "$h.$p.$sig"
}
