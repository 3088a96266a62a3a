#!/usr/bin/env bash
# Creates a test CA and certificates for rnnl-ps / rnnl-worker, with openssl, into DIR (default
# certs/): for tests and trials, not for a deployment (the CA key sits next to the certificates).
#
#   ca.pem ca.key                  the test CA
#   server.pem server.key          the server, signed by the CA, for the names in --names
#   client.pem client.key          a worker certificate for mutual TLS, signed by the CA
#   self-signed.pem self-signed.key  a server certificate no CA signed (must be refused)
#   expired.pem expired.key        a CA-signed server certificate that expired yesterday (must be refused)
#   tokens.txt, worker<i>.token    a token file for --workers N workers, and each worker's token
#
# Usage: scripts/make-test-certs.sh [DIR] [--names localhost,127.0.0.1] [--workers N]
set -euo pipefail
dir=certs
names="localhost,127.0.0.1"
workers=3
while [ $# -gt 0 ]; do
  case "$1" in
    --names) names="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "make-test-certs: unknown option $1" >&2; exit 2 ;;
    *) dir="$1"; shift ;;
  esac
done
command -v openssl >/dev/null || { echo "make-test-certs: openssl is needed (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"
umask 077

san=""
IFS=',' read -ra list <<< "$names"
for n in "${list[@]}"; do
  if [[ "$n" =~ ^[0-9.]+$ || "$n" == *:* ]]; then san+="IP:$n,"; else san+="DNS:$n,"; fi
done
san="${san%,}"

quiet() { "$@" >/dev/null 2>&1 || { echo "make-test-certs: failed: $*" >&2; "$@"; exit 1; }; }

quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 365 -subj "/CN=rnnl test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

sign() {  # name, subject, extensions, days (negative: already expired)
  local name="$1" subject="$2" ext="$3" days="$4"
  quiet openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subject"
  printf '%s\n' "$ext" > "$name.ext"
  if [ "$days" -gt 0 ]; then
    quiet openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$name.pem" -days "$days" \
      -extfile "$name.ext"
  else
    # Valid from two days ago to yesterday: `openssl ca` is the tool that takes explicit dates.
    : > index.txt
    echo 01 > serial.txt
    printf '%s\n' "[ca]" "default_ca = test" "[test]" "database = index.txt" "new_certs_dir = ." \
      "certificate = ca.pem" "private_key = ca.key" "serial = serial.txt" "default_md = sha256" "policy = any" \
      "[any]" "commonName = supplied" > ca.cnf
    quiet openssl ca -batch -config ca.cnf -notext -in "$name.csr" -out "$name.pem" -extfile "$name.ext" \
      -startdate "$(date -u -d '2 days ago' +%Y%m%d%H%M%SZ)" -enddate "$(date -u -d '1 day ago' +%Y%m%d%H%M%SZ)"
    rm -f ca.cnf index.txt* serial.txt* 01.pem
  fi
  rm -f "$name.csr" "$name.ext"
}

server_ext="subjectAltName=$san
extendedKeyUsage=serverAuth"
sign server "/CN=rnnl-ps" "$server_ext" 365
sign client "/CN=rnnl-worker" "extendedKeyUsage=clientAuth" 365
sign expired "/CN=rnnl-ps" "$server_ext" 0
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout self-signed.key -out self-signed.pem -days 365 \
  -subj "/CN=rnnl-ps" -addext "subjectAltName=$san"

: > tokens.txt
for ((i = 0; i < workers; i++)); do
  token=$(openssl rand -hex 16)
  echo "$i $token" >> tokens.txt
  echo "$token" > "worker$i.token"
done
rm -f ca.srl
echo "make-test-certs: CA, server ($names), client, self-signed and expired certificates, $workers tokens in $(pwd)"
