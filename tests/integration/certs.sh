#!/bin/sh
# Generates the test PKI for the integration tests into DIR (created):
#   ca.pem / ca.key           the test CA the proxy trusts (--upstream-ca)
#   origin.pem / origin.key   leaf for the origin's TLS listener, signed by
#                             the test CA, for api.test, git.test, ws.test,
#                             other.test, *.example.test,
#                             localhost and 127.0.0.1
#   rogue-ca.pem / rogue.pem / rogue.key
#                             a second CA nobody trusts and a leaf for
#                             badtls.test signed by it (upstream failures)
# ECDSA P-256, valid for 2 days.  Needs only the openssl CLI.
# usage: certs.sh DIR
set -eu
dir=${1:?usage: certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
command -v openssl >/dev/null || { echo "certs.sh: openssl not found" >&2; exit 1; }

ca() {	# ca NAME SUBJECT
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$1.key" -out "$1.pem" -days 2 -subj "$2" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

leaf() {	# leaf NAME CA SAN
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1.key" -out "$1.csr" -subj "/CN=$1 test leaf" 2>/dev/null
	printf '%s\n' "basicConstraints=critical,CA:FALSE" \
	    "keyUsage=critical,digitalSignature" \
	    "extendedKeyUsage=serverAuth" \
	    "subjectAltName=$3" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
	    -CAcreateserial -days 2 -sha256 -extfile "$1.ext" \
	    -out "$1.pem" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}

ca ca "/CN=boundary integration test CA"
leaf origin ca "DNS:api.test,DNS:git.test,DNS:ws.test,DNS:other.test,DNS:*.example.test,DNS:localhost,IP:127.0.0.1"
ca rogue-ca "/CN=boundary untrusted test CA"
leaf rogue rogue-ca "DNS:badtls.test"
openssl verify -CAfile ca.pem origin.pem >/dev/null
