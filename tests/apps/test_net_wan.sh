#!/usr/bin/env bash
# An emulated WAN: rnnl-ps and rnnl-worker each in their own network namespace, joined by a veth
# pair whose worker → server direction is shaped by a token bucket (tc tbf). Over TLS, the time the
# worker spends in its push calls (--rpc calls: the request crosses the shaped link, the reply is a few
# bytes) must match what the codec's byte count takes at the shaped rate within 10 %, for two
# encodings of the same pushes. On the stream (--rpc stream) a round also carries the next
# parameters back and the server's work on them, so its time is only checked to be link-bound (within
# 0.9 to 1.25 of the same figure). Needs root, iproute2 and the tbf qdisc; exits 77 (skipped) without
# them.
set -u
ps_exe=$1
worker_exe=$2
make_data=$3
make_certs=$4
rate_bits=${RNNL_WAN_RATE_BITS:-2000000}  # uplink, bit/s
tag=rnnl$$
ns_ps=$tag-ps
ns_w=$tag-w
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  ip netns del "$ns_ps" 2>/dev/null
  ip netns del "$ns_w" 2>/dev/null
  [ -n "${RNNL_KEEP_TEST_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
. "$(dirname "${BASH_SOURCE[0]}")/cli_helpers.sh"

skip() {
  echo "skipped: $1"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "network namespaces need root"
command -v ip >/dev/null && command -v tc >/dev/null || skip "ip and tc (iproute2) are not installed"
ip netns add "$ns_ps" 2>/dev/null || skip "cannot create a network namespace"
ip netns add "$ns_w" || skip "cannot create a second network namespace"
# veth names are at most 15 characters.
ip link add "v${tag}p" type veth peer name "v${tag}w" || skip "cannot create a veth pair"
ip link set "v${tag}p" netns "$ns_ps"
ip link set "v${tag}w" netns "$ns_w"
ip -n "$ns_ps" addr add 10.231.0.1/24 dev "v${tag}p"
ip -n "$ns_w" addr add 10.231.0.2/24 dev "v${tag}w"
for ns in "$ns_ps" "$ns_w"; do ip -n "$ns" link set lo up; done
ip -n "$ns_ps" link set "v${tag}p" up
ip -n "$ns_w" link set "v${tag}w" up
# The bucket holds two full frames: a push can pass at most that much unshaped after an idle round.
ip netns exec "$ns_w" tc qdisc add dev "v${tag}w" root tbf rate "${rate_bits}bit" burst 3028 latency 2s ||
  skip "the tbf qdisc is not available"

"$make_data" "$work/data" 2000 200 >/dev/null || { echo "cannot make test data"; exit 1; }
bash "$make_certs" "$work/certs" --workers 1 >/dev/null || { echo "cannot make certificates"; exit 1; }
c=$work/certs

# run_shaped NAME RPC SERVER-ARGS…: one server and one worker (--rpc RPC) across the shaped link.
run_shaped() {
  local name=$1 rpc=$2
  shift 2
  rm -f "$work/$name.port"
  ip netns exec "$ns_ps" "$ps_exe" --listen 10.231.0.1:0 --port-file "$work/$name.port" --data-dir "$work/data" \
    --tokens "$c/tokens.txt" --tls-cert "$c/server.pem" --tls-key "$c/server.key" --model mlp --workers 1 \
    --linger 2 "$@" >"$work/$name-ps.log" 2>&1 &
  local ps_pid=$!
  pids+=("$ps_pid")
  for _ in $(seq 200); do [ -s "$work/$name.port" ] && break; sleep 0.1; done
  local port
  port=$(cat "$work/$name.port" 2>/dev/null)
  [ -n "$port" ] || { fail "$name: the server did not start"; cat "$work/$name-ps.log"; return; }
  ip netns exec "$ns_w" "$worker_exe" --server "10.231.0.1:$port" --server-name localhost --ca "$c/ca.pem" \
    --worker 0 --token-file "$c/worker0.token" --data-dir "$work/data" --rpc "$rpc" >"$work/$name-w.log" 2>&1 ||
    { fail "$name: the worker failed"; cat "$work/$name-w.log"; }
  wait "$ps_pid" || { fail "$name: the server failed"; cat "$work/$name-ps.log"; }
}

# check_time NAME LOW HIGH: push seconds against push bytes at the shaped rate.
check_time() {
  local name=$1 low=$2 high=$3 line bytes seconds
  line=$(grep -o "summary: rnnl-worker.*" "$work/$name-w.log")
  bytes=$(grep -o "push_bytes [0-9]*" <<<"$line" | cut -d' ' -f2)
  seconds=$(grep -o "push_seconds [0-9.]*" <<<"$line" | cut -d' ' -f2)
  [ -n "$bytes" ] && [ -n "$seconds" ] || { fail "$name: no summary from the worker"; cat "$work/$name-w.log"; return; }
  awk -v b="$bytes" -v s="$seconds" -v r="$rate_bits" -v n="$name" -v low="$low" -v high="$high" 'BEGIN {
    expected = b * 8 / r
    printf "%s: %d codec bytes in %.3f s of pushes; at %.0f bit/s they take %.3f s (measured / expected %.3f)\n",
      n, b, s, r, expected, s / expected
    exit (s / expected < low || s / expected > high) }' || fail "$name: push time is not within $low to $high of the codec bytes' time"
}

common=(--compressor adacomp --ratio 0.01 --max-updates 30 --eval-every 30)
compact=(--index-encoding delta-varint --value-encoding f16)
run_shaped plain calls "${common[@]}"
check_time plain 0.9 1.1
run_shaped compact calls "${common[@]}" "${compact[@]}"
check_time compact 0.9 1.1
run_shaped plain-stream stream "${common[@]}"
check_time plain-stream 0.9 1.25
# The qdisc did shape: it queued packets (overlimits) on the worker's side.
ip netns exec "$ns_w" tc -s qdisc show dev "v${tag}w" | grep -q "overlimits [1-9]" || fail "the tbf qdisc shaped nothing"
if [ "$failures" -gt 0 ]; then
  echo "$failures emulated-WAN check(s) failed"
  exit 1
fi
echo "emulated-WAN checks passed"
