#!/usr/bin/env bash
# rnnl-ps and rnnl-worker as processes on loopback: a TLS run with every push accounted for,
# mutual TLS, certificates and tokens that must be refused, a load test with 50 worker processes,
# a fault test that SIGKILLs the server and a worker mid-run and restarts them, and a killed worker
# counted silent.
set -u
ps_exe=$1
worker_exe=$2
make_data=$3
make_certs=$4
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; [ -n "${RNNL_KEEP_TEST_DIR:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
. "$(dirname "${BASH_SOURCE[0]}")/cli_helpers.sh"

"$make_data" "$work/data" 3000 300 || { echo "cannot make test data"; exit 1; }
bash "$make_certs" "$work/certs" --workers 60 >/dev/null || { echo "cannot make certificates"; exit 1; }
c=$work/certs
echo "60 $(openssl rand -hex 16) revoked" >>"$c/tokens.txt"
openssl rand -hex 16 >"$c/worker60.token"
sed -n '61p' "$c/tokens.txt" | cut -d' ' -f2 >"$c/worker60.token"

# start_ps NAME ARGS…: a server on a free port; sets $port (waits for the port file).
start_ps() {
  local name=$1
  shift
  rm -f "$work/$name.port"
  "$ps_exe" --listen 127.0.0.1:0 --data-dir "$work/data" --tokens "$c/tokens.txt" --port-file "$work/$name.port" "$@" \
    >"$work/$name.log" 2>&1 &
  ps_pid=$!
  pids+=("$ps_pid")
  for _ in $(seq 200); do [ -s "$work/$name.port" ] && break; sleep 0.1; done
  port=$(cat "$work/$name.port" 2>/dev/null)
  [ -n "$port" ] || { fail "$name: the server did not start"; cat "$work/$name.log"; }
}
tls=(--tls-cert "$c/server.pem" --tls-key "$c/server.key")
worker() {  # id, then extra arguments
  local id=$1
  shift
  "$worker_exe" --server "localhost:$port" --worker "$id" --token-file "$c/worker$id.token" --data-dir "$work/data" "$@"
}
# sum_field LOGS… FIELD: the sum of "FIELD N" over the workers' summary lines.
sum_field() {
  local field=${!#}
  cat "${@:1:$#-1}" | grep -o "summary: rnnl-worker.*" | grep -o "$field [0-9]*" | awk '{s += $2} END {print s + 0}'
}
server_count() { grep -o "[0-9]* $2" "$work/$1.log" | tail -1 | cut -d' ' -f1; }

# 1. TLS, 3 workers, 300 updates: every push is accounted for, at the server and at the workers.
start_ps tls "${tls[@]}" --model mlp --workers 3 --max-updates 300 --eval-every 100 --linger 5 \
  --out "$work/ps.jsonl" --worker-stats "$work/workers.csv" --checkpoint "$work/ps.ckpt"
for i in 0 1 2; do worker "$i" --ca "$c/ca.pem" >"$work/w$i.log" 2>&1 & done
wait %2 %3 %4 || fail "a worker of the TLS run failed"
wait "$ps_pid" || { fail "the TLS server failed"; cat "$work/tls.log"; }
grep -q "(TLS)" "$work/tls.log" || fail "the server does not say it serves TLS"
sent=$(sum_field "$work"/w[012].log sent)
applied=$(sum_field "$work"/w[012].log applied)
rejected=$(sum_field "$work"/w[012].log rejected)
[ "$applied" -eq 300 ] || fail "workers saw $applied pushes applied, the run has 300 updates"
[ "$sent" -eq $((applied + rejected)) ] || fail "workers: sent $sent != applied $applied + rejected $rejected"
grep -q "pushes: $sent received = 300 applied + 0 rejected + $rejected after the end" "$work/tls.log" ||
  { fail "the server's accounting does not match the workers' (sent $sent)"; tail -1 "$work/tls.log"; }
[ "$(wc -l <"$work/ps.jsonl")" -eq 3 ] || fail "ps.jsonl should have 3 records"
grep -q '"test_accuracy"' "$work/ps.jsonl" || fail "no accuracy in ps.jsonl"
[ "$(wc -l <"$work/workers.csv")" -eq 4 ] || fail "workers.csv should have a header and 3 rows"
[ -s "$work/ps.ckpt" ] || fail "no checkpoint written"

# 2. Resume: the server continues from its checkpoint; a returning worker continues its push ids.
start_ps resumed "${tls[@]}" --model mlp --workers 3 --max-updates 330 --eval-every 100 --linger 3 \
  --resume "$work/ps.ckpt"
grep -q "resumed at update 300" "$work/resumed.log" || fail "the server did not resume at update 300"
worker 0 --ca "$c/ca.pem" >"$work/r0.log" 2>&1 || fail "worker after the resume failed"
wait "$ps_pid" || fail "the resumed server failed"
grep -q "after 330 updates" "$work/resumed.log" || fail "the resumed run did not end at 330 updates"
grep -q "0 duplicates" "$work/resumed.log" || fail "a returning worker's pushes were taken as copies"
# Changed settings are refused, naming the option.
expect_error 1 "lr" -- "$ps_exe" "${tls[@]}" --tokens "$c/tokens.txt" --data-dir "$work/data" --model mlp \
  --workers 3 --lr 0.5 --resume "$work/ps.ckpt"

# 3. Refusals: certificates no trusted CA signed or out of date, wrong or revoked tokens, mutual TLS.
start_ps refusals "${tls[@]}" --model mlp --workers 61 --max-updates 1000000 --linger 0
expect_error 1 "wrong token" -- "$worker_exe" --server "localhost:$port" --worker 1 --token-file "$c/worker0.token" \
  --ca "$c/ca.pem" --data-dir "$work/data"
expect_error 1 "revoked" -- worker 60 --ca "$c/ca.pem"
expect_error 1 "unknown worker" -- "$worker_exe" --server "localhost:$port" --worker 99 --token-file \
  "$c/worker0.token" --ca "$c/ca.pem" --data-dir "$work/data"
expect_error 1 "failed" -- worker 0 --ca "$c/self-signed.pem" --give-up 1
expect_error 1 "failed" -- "$worker_exe" --server "127.0.0.1:$port" --worker 0 --token-file "$c/worker0.token" \
  --ca "$c/ca.pem" --server-name not-the-server --give-up 1 --data-dir "$work/data"
worker 0 --ca "$c/ca.pem" --max-rounds 2 >"$work/still.log" 2>&1 || fail "the server stopped serving after refusals"
kill -TERM "$ps_pid"
wait "$ps_pid"
[ $? -eq 130 ] || fail "rnnl-ps should exit 130 when stopped by SIGTERM"
grep -q "unauthenticated 2, revoked 1" "$work/refusals.log" || { fail "refused calls not counted"; tail -1 "$work/refusals.log"; }
start_ps selfsigned --tls-cert "$c/self-signed.pem" --tls-key "$c/self-signed.key" --model mlp --workers 3
expect_error 1 "failed" -- worker 0 --ca "$c/ca.pem" --give-up 1
kill "$ps_pid"; wait "$ps_pid" 2>/dev/null
start_ps expired --tls-cert "$c/expired.pem" --tls-key "$c/expired.key" --model mlp --workers 3
expect_error 1 "failed" -- worker 0 --ca "$c/ca.pem" --give-up 1
kill "$ps_pid"; wait "$ps_pid" 2>/dev/null
start_ps mtls "${tls[@]}" --client-ca "$c/ca.pem" --model mlp --workers 3
expect_error 1 "failed" -- worker 0 --ca "$c/ca.pem" --give-up 1
worker 0 --ca "$c/ca.pem" --cert "$c/client.pem" --key "$c/client.key" --max-rounds 2 >"$work/mtls.log" 2>&1 ||
  { fail "a worker with a client certificate was refused under mutual TLS"; cat "$work/mtls.log"; }
kill "$ps_pid"; wait "$ps_pid" 2>/dev/null

# 4. Usage errors.
expect_error 2 "tokens" -- "$ps_exe" "${tls[@]}" --data-dir "$work/data"
expect_error 2 "insecure" -- "$ps_exe" --tokens "$c/tokens.txt" --data-dir "$work/data"
expect_error 2 "insecure" -- "$ps_exe" --insecure "${tls[@]}" --tokens "$c/tokens.txt" --data-dir "$work/data"
expect_error 2 "speed" -- "$ps_exe" "${tls[@]}" --tokens "$c/tokens.txt" --speed 2
echo "3 short" >"$work/bad-tokens.txt"
expect_error 1 "bad-tokens.txt:1" -- "$ps_exe" "${tls[@]}" --tokens "$work/bad-tokens.txt" --data-dir "$work/data"
expect_error 1 "server.key" -- "$ps_exe" --tls-cert "$c/server.pem" --tls-key "$c/server.key.missing" \
  --tokens "$c/tokens.txt" --data-dir "$work/data"
expect_error 2 "token" -- env -u RNNL_TOKEN "$worker_exe" --worker 0 --ca "$c/ca.pem"

# 5. Load: 50 worker processes against one server; applied + rejected + lost = sent.
start_ps load "${tls[@]}" --model mlp --workers 50 --max-updates 400 --eval-every 200 --linger 10 --threads 1
for i in $(seq 0 49); do worker "$i" --ca "$c/ca.pem" --give-up 60 >"$work/load$i.log" 2>&1 & done
load_failed=0
for job in $(jobs -p); do [ "$job" = "$ps_pid" ] && continue; wait "$job" || load_failed=$((load_failed + 1)); done
wait "$ps_pid" || { fail "the load-test server failed"; tail -3 "$work/load.log"; }
[ "$load_failed" -eq 0 ] || { fail "$load_failed load-test workers failed"; grep -h error "$work"/load[0-9]*.log | head -3; }
sent=$(sum_field "$work"/load[0-9]*.log sent)
applied=$(sum_field "$work"/load[0-9]*.log applied)
rejected=$(sum_field "$work"/load[0-9]*.log rejected)
joined=$(grep -l "joined" "$work"/load[0-9]*.log | wc -l)
[ "$joined" -eq 50 ] || fail "only $joined of 50 workers joined"
[ "$applied" -eq 400 ] || fail "load: workers saw $applied applied, the run has 400 updates"
[ "$sent" -eq $((applied + rejected)) ] || fail "load: sent $sent != applied $applied + rejected $rejected (lost 0)"
grep -q "pushes: $sent received = 400 applied" "$work/load.log" || { fail "load: server and workers disagree"; tail -1 "$work/load.log"; }

# 6. Faults: SIGKILL a worker and the server mid-run; the server restarts from its checkpoint on the same
# port, the workers reconnect, a restarted worker continues; no push is applied twice.
start_ps fault "${tls[@]}" --model mlp --workers 4 --max-updates 2000 --eval-every 50 --linger 5 \
  --checkpoint "$work/fault.ckpt" --threads 1
fault_port=$port
# (The worker function runs in a subshell when sent to the background: exec makes $! the worker itself.)
for i in 0 1 2 3; do (exec "$worker_exe" --server "localhost:$port" --worker "$i" --token-file "$c/worker$i.token" \
  --data-dir "$work/data" --ca "$c/ca.pem" --give-up 60 >"$work/f$i.log" 2>&1) & eval "fw$i=\$!"; done
# last_version LOG: the update count of the server's last evaluation line (0 before the first). An
# evaluation reports the version it observed, which may be past the multiple of --eval-every it waited for.
last_version() { awk '/^updates / {v = $2} END {print v + 0}' "$1"; }
for _ in $(seq 600); do [ -s "$work/fault.ckpt" ] && [ "$(last_version "$work/fault.log")" -ge 300 ] && break; sleep 0.05; done
kill -0 "$ps_pid" 2>/dev/null || fail "the fault run ended before the fault was injected (last evaluation at $(last_version "$work/fault.log"))"
# Freeze the survivors so that the server's last evaluation and its checkpoint are written before it is
# killed; they resume against a dead server and must retry.
kill -STOP "$fw0" "$fw1" "$fw2"
kill -9 "$fw3"
sleep 0.5
before=$(last_version "$work/fault.log")
kill -9 "$ps_pid"
wait "$ps_pid" 2>/dev/null
kill -CONT "$fw0" "$fw1" "$fw2"
"$ps_exe" --data-dir "$work/data" --tokens "$c/tokens.txt" "${tls[@]}" --listen "127.0.0.1:$fault_port" --model mlp \
  --workers 4 --max-updates 2000 --eval-every 50 --linger 5 --checkpoint "$work/fault.ckpt" --resume "$work/fault.ckpt" \
  --threads 1 >"$work/fault2.log" 2>&1 &
ps_pid=$!
pids+=("$ps_pid")
port=$fault_port
worker 3 --ca "$c/ca.pem" --give-up 60 >"$work/f3b.log" 2>&1 &
for p in $fw0 $fw1 $fw2 $!; do wait "$p" || fail "a worker did not survive the server's restart"; done
wait "$ps_pid" || { fail "the restarted server failed"; tail -3 "$work/fault2.log"; }
# The checkpoint is written just after each evaluation line, at the version reached by then; the survivors
# were frozen before the kill, so the restored version is the last line's plus the updates pushed while
# that evaluation ran (12-21 measured on the 2-vCPU VM), within one evaluation interval.
resumed=$(grep -o "resumed at update [0-9]*" "$work/fault2.log" | awk '{print $4}')
{ [ -n "$resumed" ] && [ "$resumed" -ge "$before" ] && [ "$resumed" -le $((before + 50)) ]; } ||
  fail "the server did not resume at its last checkpoint (resumed at '${resumed:-}', last evaluation $before)"
grep -q "after 2000 updates" "$work/fault2.log" || { fail "the restarted run did not reach 2000 updates"; tail -2 "$work/fault2.log"; }
retries=$(sum_field "$work"/f[012].log retries)
[ "$retries" -gt 0 ] || fail "no worker retried while the server was down"
# Applied pushes = updates, in the server's own counts, across the restart.
grep -q "2000 applied" "$work/fault2.log" || fail "the server's applied count is not its update count"
# The killed worker's successor continued after the last push id the restored server had seen.
grep -q "0 duplicates" "$work/fault2.log" || { fail "pushes were taken as copies after the restart"; tail -1 "$work/fault2.log"; }

# 7. Silence: a worker killed without leaving counts as silent once --silent-after has passed; one that
# left counts as neither; both RPC styles take part.
start_ps silence "${tls[@]}" --model mlp --workers 3 --max-updates 100000 --eval-every 100 --silent-after 0.5 \
  --linger 0 --out "$work/silence.jsonl" --worker-stats "$work/silence.csv"
(exec "$worker_exe" --server "localhost:$port" --worker 1 --token-file "$c/worker1.token" --data-dir "$work/data" \
  --ca "$c/ca.pem" >"$work/s1.log" 2>&1) &
victim=$!
for _ in $(seq 100); do grep -q joined "$work/s1.log" && break; sleep 0.1; done
kill -9 "$victim"
wait "$victim" 2>/dev/null
sleep 1
worker 2 --ca "$c/ca.pem" --rpc calls --max-rounds 100 >"$work/s2.log" 2>&1 || fail "a worker using calls failed"
worker 0 --ca "$c/ca.pem" --max-rounds 300 >"$work/s0.log" 2>&1 || fail "a streaming worker failed"
kill -TERM "$ps_pid"
wait "$ps_pid" 2>/dev/null
grep -q '"workers_active":1,"workers_silent":1' "$work/silence.jsonl" ||
  { fail "the killed worker is not counted silent"; tail -1 "$work/silence.jsonl"; }
grep -q "^2,1,100,100,100,0," "$work/silence.csv" || { fail "worker 2's calls not in the statistics"; cat "$work/silence.csv"; }

if [ "$failures" -gt 0 ]; then
  echo "$failures network command-line check(s) failed"
  exit 1
fi
echo "network command-line checks passed"
