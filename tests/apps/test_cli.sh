#!/usr/bin/env bash
# rnnl-train as a user meets it: help, a short real run with metrics and a model file, then
# every kind of bad input, each of which must give a clear error and a non-zero exit (never a
# crash: exit codes >= 128 are signals).
set -u
train=$1
make_data=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/cli_helpers.sh"

"$make_data" "$work/data" 600 200 || { echo "cannot make test data"; exit 1; }

"$train" --help >"$work/help" || fail "--help exited non-zero"
grep -q -- "--model" "$work/help" || fail "--help does not list --model"

# --dry-run checks and prints the run's settings, trains and writes nothing.
"$train" --trainer async --model mlp --data-dir "$work/data" --workers 4 --dry-run --out "$work/dry.jsonl" \
  --save "$work/dry.bin" >"$work/dry" 2>&1 || { fail "--dry-run failed"; cat "$work/dry"; }
grep -q "async virtual mode: 4 workers" "$work/dry" || fail "--dry-run printed no settings"
[ -e "$work/dry.jsonl" ] || [ -e "$work/dry.bin" ] && fail "--dry-run wrote a file"
expect_error 2 "speed" -- "$train" --trainer async --model mlp --data-dir "$work/data" --speed two-class:2,4 --dry-run

# A short real run: metrics (JSONL and CSV), a model file, then evaluation of that file.
"$train" --model mlp --data-dir "$work/data" --epochs 2 --batch 32 --threads 2 --no-progress \
  --out "$work/m.jsonl" --save "$work/model.bin" >"$work/run" 2>&1 || { fail "training run failed"; cat "$work/run"; }
grep -q "summary:" "$work/run" || fail "no summary line"
[ "$(wc -l <"$work/m.jsonl")" -eq 2 ] || fail "metrics.jsonl should have 2 lines"
[ -f "$work/model.bin" ] || fail "model file not written"
ls -A "$work" | grep -q '\.tmp' && fail "temporary files left behind"
"$train" --load "$work/model.bin" --eval-only --data-dir "$work/data" >"$work/eval" 2>&1 || fail "--eval-only failed"
grep -q "test accuracy" "$work/eval" || fail "--eval-only printed no accuracy"
"$train" --load "$work/model.bin" --data-dir "$work/data" --epochs 1 --batch 32 --no-progress --save "$work/model2.bin" \
  >"$work/cont" 2>&1 || { fail "continuing from a model file failed"; cat "$work/cont"; }
cmp -s "$work/model.bin" "$work/model2.bin" && fail "continued training did not change the model"
"$train" --model rnl_deep --data-dir "$work/data" --epochs 1 --batch 64 --no-progress --out "$work/m.csv" \
  >"$work/run2" 2>&1 || { fail "rnl_deep run failed"; cat "$work/run2"; }
head -1 "$work/m.csv" | grep -q "^model,dataset" || fail "csv header"

# Bad command-line values.
expect_error 2 "model" -- "$train" --model resnet --data-dir "$work/data"
expect_error 2 "epochs" -- "$train" --epochs -3 --data-dir "$work/data"
expect_error 2 "batch" -- "$train" --batch 0 --data-dir "$work/data"
expect_error 2 "lr" -- "$train" --lr abc --data-dir "$work/data"
expect_error 2 "lr" -- "$train" --lr -1 --data-dir "$work/data"
expect_error 2 "optimizer" -- "$train" --optimizer lbfgs --data-dir "$work/data"
expect_error 2 "dataset" -- "$train" --dataset cifar --data-dir "$work/data"
expect_error 2 "eval-only" -- "$train" --eval-only --data-dir "$work/data"
expect_error 2 "not expected" -- "$train" --frobnicate

# Non-finite and non-decimal values for every floating option: NaN passes a range check made
# with < and >, so each must be refused by name, never trained with.
for option in --lr --lr-decay --momentum --output-scale --dropout --rnl-gain; do
  for value in nan inf -inf; do
    expect_error 2 "$option: '$value' is not a finite number" -- "$train" --optimizer sgd "$option" "$value" --data-dir "$work/data"
  done
done
expect_error 2 "--lr: '0x1p-3' is not a decimal number" -- "$train" --lr 0x1p-3 --data-dir "$work/data"
expect_error 2 "--lr: ' 1e-3' is not a decimal number" -- "$train" --lr " 1e-3" --data-dir "$work/data"
expect_error 2 "--lr: 1e400 is outside" -- "$train" --lr 1e400 --data-dir "$work/data"
expect_error 2 "--lr: 1e-400 is outside" -- "$train" --lr 1e-400 --data-dir "$work/data"
expect_error 2 "--dropout: 0.96 is outside" -- "$train" --dropout 0.96 --data-dir "$work/data"

# Integer options: no wrapping, saturating, octal, hex, exponents or blanks.
expect_error 2 "--train-limit: '-5' is not a whole number" -- "$train" --train-limit -5 --data-dir "$work/data"
expect_error 2 "--train-limit: '1.5' is not a whole number" -- "$train" --train-limit 1.5 --data-dir "$work/data"
expect_error 2 "--seed: 99999999999999999999 is outside" -- "$train" --seed 99999999999999999999 --data-dir "$work/data"
expect_error 2 "--seed: 18446744073709551616 is outside" -- "$train" --seed 18446744073709551616 --data-dir "$work/data"
expect_error 2 "--seed: '-1' is not a whole number" -- "$train" --seed -1 --data-dir "$work/data"
expect_error 2 "--seed: '0x10' is not a whole number" -- "$train" --seed 0x10 --data-dir "$work/data"
expect_error 2 "--epochs: '1e3' is not a whole number" -- "$train" --epochs 1e3 --data-dir "$work/data"
expect_error 2 "--epochs: ' 3' is not a whole number" -- "$train" --epochs " 3" --data-dir "$work/data"
expect_error 2 "--epochs: '+3' is not a whole number" -- "$train" --epochs +3 --data-dir "$work/data"
expect_error 2 "--threads: '-1' is not a whole number" -- "$train" --threads -1 --data-dir "$work/data"
expect_error 2 "--threads: 1025 is outside" -- "$train" --threads 1025 --data-dir "$work/data"
expect_error 2 "--batch: '010' has a leading zero" -- "$train" --batch 010 --data-dir "$work/data"
expect_error 2 "--batch: 0 is outside" -- "$train" --batch 0 --data-dir "$work/data"
# The largest seed is a seed, not an error.
"$train" --model mlp --data-dir "$work/data" --epochs 0 --seed 18446744073709551615 >"$work/maxseed" 2>&1 ||
  { fail "--seed 2^64-1 refused"; cat "$work/maxseed"; }
grep -q "seed 18446744073709551615" "$work/maxseed" || fail "--seed 2^64-1 not used as given"

# Options that would be silently ignored.
expect_error 2 "--save: has no effect with --eval-only" -- \
  "$train" --load "$work/model.bin" --eval-only --save "$work/evalsave.bin" --data-dir "$work/data"
[ -e "$work/evalsave.bin" ] && fail "--eval-only --save wrote a file"
expect_error 2 "--out: has no effect with --eval-only" -- \
  "$train" --load "$work/model.bin" --eval-only --out "$work/eval.jsonl" --data-dir "$work/data"
[ -e "$work/eval.jsonl" ] && fail "--eval-only --out wrote a file"
expect_error 2 "--epochs: has no effect with --eval-only" -- \
  "$train" --load "$work/model.bin" --eval-only --epochs 3 --data-dir "$work/data"
for option in "--dropout 0.1" "--output-scale 3" "--rnl-init keras" "--rnl-gain 1" "--seed-init"; do
  # shellcheck disable=SC2086 # (option and value are two words)
  expect_error 2 "${option%% *}: cannot change a loaded model: the model file .*model.bin fixes" -- \
    "$train" --load "$work/model.bin" $option --epochs 1 --data-dir "$work/data"
done
expect_error 2 "--momentum: applies only to --optimizer sgd" -- "$train" --momentum 0.5 --data-dir "$work/data"
expect_error 2 "--rnl-gain: applies only to --rnl-init scaled" -- \
  "$train" --rnl-init keras --rnl-gain 1 --data-dir "$work/data"
expect_error 2 "--output-scale: model mlp has no probability output" -- \
  "$train" --model mlp --output-scale 3 --data-dir "$work/data" --epochs 1
expect_error 2 "--dropout: model gelenbe_ff has no dropout layer" -- \
  "$train" --model gelenbe_ff --dropout 0.2 --data-dir "$work/data" --epochs 1
expect_error 2 "--rnl-init: model cnn has no Random Neural Layer" -- \
  "$train" --model cnn --rnl-init keras --data-dir "$work/data" --epochs 1
expect_error 2 "--seed-init: model rnl_deep has no dense or convolution layer" -- \
  "$train" --model rnl_deep --seed-init --data-dir "$work/data" --epochs 1
expect_error 2 "--out: needs a path" -- "$train" --out "" --data-dir "$work/data"
expect_error 2 "--save: needs a path" -- "$train" --save "" --data-dir "$work/data"
expect_error 2 "--data-dir: needs a path" -- "$train" --data-dir ""

# Images of another shape with the same pixel count (14x56 = 28x28) are not read as 28x28.
"$make_data" "$work/wide" 60 20 14 56 || fail "cannot make 14x56 test data"
expect_error 1 "wide/train-images-idx3-ubyte: images are 14x56x1 (rows x cols x channels) but model cnn takes 28x28x1" -- \
  "$train" --model cnn --data-dir "$work/wide" --epochs 1 --no-progress
expect_error 1 "wide/t10k-images-idx3-ubyte: images are 14x56x1 .* but model mlp takes 28x28x1" -- \
  "$train" --load "$work/model.bin" --eval-only --data-dir "$work/wide"

# Missing and bad data.
expect_error 1 "fetch" -- "$train" --data-dir "$work/nowhere" --epochs 1
mkdir -p "$work/bad"
cp "$work/data/"* "$work/bad/"
head -c 1000 "$work/data/train-images-idx3-ubyte" >"$work/bad/train-images-idx3-ubyte"
expect_error 1 "truncated" -- "$train" --data-dir "$work/bad" --epochs 1

# Bad model files.
head -c 100 "$work/model.bin" >"$work/short.bin"
expect_error 1 "short.bin" -- "$train" --load "$work/short.bin" --eval-only --data-dir "$work/data"
printf 'garbage' >"$work/garbage.bin"
expect_error 1 "garbage.bin" -- "$train" --load "$work/garbage.bin" --eval-only --data-dir "$work/data"
expect_error 1 "holds a mlp model" -- "$train" --load "$work/model.bin" --model cnn --data-dir "$work/data"

# Unwritable outputs: refused before any data is read or any epoch runs, with the path and the
# system's reason, and nothing is left behind.
expect_error 1 "metrics" -- "$train" --data-dir "$work/data" --epochs 1 --out "$work/m.txt"
mkdir -p "$work/outputs/adir" "$work/outputs/adir.jsonl"
outputs() { ls -A "$work/outputs" | tr '\n' ' '; }
before=$(outputs)
expect_error 1 "$work/none/m.jsonl.*No such file or directory" -- "$train" --data-dir "$work/data" --epochs 1 \
  --no-progress --out "$work/none/m.jsonl"
expect_error 1 "$work/none/model.bin.*No such file or directory" -- "$train" --data-dir "$work/data" --epochs 1 \
  --no-progress --save "$work/none/model.bin"
grep -q "epoch" "$work/out" && fail "--save into a missing folder trained first"
expect_error 1 "adir.*Is a directory" -- "$train" --data-dir "$work/data" --epochs 1 --no-progress \
  --save "$work/outputs/adir"
grep -q "epoch" "$work/out" && fail "--save onto a directory trained first"
expect_error 1 "adir.jsonl.*Is a directory" -- "$train" --data-dir "$work/data" --epochs 1 --no-progress \
  --out "$work/outputs/adir.jsonl"
expect_error 1 "same file" -- "$train" --data-dir "$work/data" --epochs 1 --out "$work/outputs/x.jsonl" \
  --save "$work/outputs/x.jsonl"
expect_error 1 "same file" -- "$train" --data-dir "$work/data" --epochs 1 --out "$work/outputs/x.jsonl" \
  --save "$work/outputs/adir/.././x.jsonl"
cd "$work" || exit 1
expect_error 1 "same file" -- "$train" --data-dir "$work/data" --epochs 1 --out outputs/x.jsonl \
  --save "$work/outputs/x.jsonl"
cd - >/dev/null || exit 1
expect_error 1 "would replace the model file" -- "$train" --load "$work/model.bin" --data-dir "$work/data" \
  --epochs 1 --out "$work/./model.bin"
[ "$(outputs)" = "$before" ] || fail "refused runs left files behind: $(outputs)"
# Root ignores file permissions, so a read-only folder only stops other users.
if [ "$(id -u)" -ne 0 ]; then
  mkdir "$work/ro" && chmod 555 "$work/ro"
  expect_error 1 "ro/model.bin.*Permission denied" -- "$train" --data-dir "$work/data" --epochs 1 --no-progress \
    --save "$work/ro/model.bin"
  expect_error 1 "ro/m.jsonl.*Permission denied" -- "$train" --data-dir "$work/data" --epochs 1 --no-progress \
    --out "$work/ro/m.jsonl"
  [ -z "$(ls -A "$work/ro")" ] || fail "files left in a read-only folder"
  chmod 755 "$work/ro"
fi

# A symlink at the target is replaced, never written through; nor is one planted at the name a
# fixed temporary would have.
echo precious >"$work/outputs/victim"
ln -s "$work/outputs/victim" "$work/outputs/linked.bin"
ln -s "$work/outputs/victim" "$work/outputs/model3.bin.tmp"
ln -s "$work/outputs/victim" "$work/outputs/linked.jsonl"
"$train" --model mlp --data-dir "$work/data" --epochs 1 --batch 32 --no-progress --save "$work/outputs/linked.bin" \
  --out "$work/outputs/linked.jsonl" >"$work/run3" 2>&1 || { fail "run saving over symlinks failed"; cat "$work/run3"; }
"$train" --model mlp --data-dir "$work/data" --epochs 1 --batch 32 --no-progress --save "$work/outputs/model3.bin" \
  >"$work/run4" 2>&1 || { fail "run with a planted temporary failed"; cat "$work/run4"; }
[ "$(cat "$work/outputs/victim")" = precious ] || fail "an output was written through a symlink"
[ -L "$work/outputs/linked.bin" ] && fail "the symlink at --save was not replaced"
[ -L "$work/outputs/linked.jsonl" ] && fail "the symlink at --out was not replaced"
"$train" --load "$work/outputs/linked.bin" --eval-only --data-dir "$work/data" >/dev/null 2>&1 ||
  fail "the model saved over a symlink does not load"
rm "$work/outputs/model3.bin.tmp"

# An existing --out file survives a run that stops before its first record (here: divergence).
echo earlier >"$work/outputs/keep.jsonl"
expect_error 1 "diverged" -- "$train" --model mlp --data-dir "$work/data" --epochs 2 --optimizer sgd --lr 1000 \
  --no-progress --out "$work/outputs/keep.jsonl"
[ "$(cat "$work/outputs/keep.jsonl")" = earlier ] || fail "an existing --out file was emptied before the first record"
ls -A "$work/outputs" | grep -q '\.tmp' && fail "temporary files left behind: $(outputs)"

# The asynchronous trainer: a short virtual-time run with metrics and a checkpoint, then a resumed
# run that continues it; each trainer refuses the other's options; bad values name the option.
"$train" --trainer async --model mlp --data-dir "$work/data" --workers 4 --max-updates 20 --eval-every 10 --threads 2 \
  --no-progress --out "$work/async.jsonl" --checkpoint "$work/async.ckpt" >"$work/arun" 2>&1 ||
  { fail "async run failed"; cat "$work/arun"; }
[ "$(wc -l <"$work/async.jsonl")" -eq 3 ] || fail "async metrics should have 3 records (updates 0, 10, 20)"
for key in updates virtual_seconds wall_seconds ingress_bytes egress_bytes test_accuracy test_loss staleness_mean \
  staleness_p50 staleness_p99 staleness_max pushes_sent pushes_applied pushes_lost pushes_rejected; do
  grep -q "\"$key\":" "$work/async.jsonl" || fail "async metrics lack $key"
done
grep -q "summary:" "$work/arun" || fail "no async summary line"
"$train" --trainer async --model mlp --data-dir "$work/data" --workers 4 --max-updates 30 --eval-every 10 --threads 1 \
  --no-progress --out "$work/resumed.jsonl" --resume "$work/async.ckpt" >"$work/aresume" 2>&1 ||
  { fail "resumed async run failed"; cat "$work/aresume"; }
[ "$(wc -l <"$work/resumed.jsonl")" -eq 4 ] || fail "the resumed run's metrics should hold 4 records"
[ "$(head -n 3 "$work/resumed.jsonl" | sed 's/"wall_seconds":[^,]*,//')" = \
  "$(sed 's/"wall_seconds":[^,]*,//' "$work/async.jsonl")" ] || fail "the resumed run does not repeat the records it continues"
expect_error 2 "applies to --trainer async only" -- "$train" --model mlp --data-dir "$work/data" --workers 5
expect_error 2 "applies to --trainer sync only" -- "$train" --trainer async --model mlp --data-dir "$work/data" --epochs 2
expect_error 2 "\-\-ratio" -- "$train" --trainer async --model mlp --data-dir "$work/data" --ratio nan
expect_error 2 "\-\-shards" -- "$train" --trainer async --model mlp --data-dir "$work/data" --shards classes:0
expect_error 2 "\-\-speed" -- "$train" --trainer async --model mlp --data-dir "$work/data" --speed two-class:2,3
expect_error 2 "\-\-workers" -- "$train" --trainer async --model mlp --data-dir "$work/data" --workers 0
# Ctrl-C: the run stops at once with exit code 130, leaving whole metrics and a checkpoint that
# resumes.
"$train" --trainer async --model mlp --data-dir "$work/data" --workers 4 --max-updates 100000000 --eval-every 20 \
  --threads 1 --no-progress --out "$work/int.jsonl" --checkpoint "$work/int.ckpt" >"$work/int.log" 2>&1 &
pid=$!
for _ in $(seq 600); do [ -s "$work/int.jsonl" ] && [ "$(wc -l <"$work/int.jsonl")" -ge 2 ] && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] || { fail "an interrupted async run exited $rc, not 130"; cat "$work/int.log"; }
[ -f "$work/int.ckpt" ] || fail "no checkpoint written on Ctrl-C"
[ "$(grep -c '^{.*}$' "$work/int.jsonl")" -eq "$(wc -l <"$work/int.jsonl")" ] || fail "partial metrics record after Ctrl-C"
"$train" --trainer async --model mlp --data-dir "$work/data" --workers 4 --eval-every 20 \
  --threads 1 --no-progress --resume "$work/int.ckpt" --max-updates 1 >"$work/int2.log" 2>&1 ||
  { fail "the checkpoint written on Ctrl-C does not resume"; cat "$work/int2.log"; }
echo garbage >"$work/bad.ckpt"
expect_error 1 "bad.ckpt" -- "$train" --trainer async --model mlp --data-dir "$work/data" --resume "$work/bad.ckpt"
expect_error 1 "workers" -- "$train" --trainer async --model mlp --data-dir "$work/data" --workers 5 \
  --resume "$work/async.ckpt"
expect_error 1 "residual" -- "$train" --trainer async --model mlp --data-dir "$work/data" --compressor topk-ef \
  --staleness per-parameter --max-updates 5
# --dry-run refuses what the run would refuse (rnnl-study relies on it): here rnl_deep's Adam server.
expect_error 1 "residual" -- "$train" --trainer async --model rnl_deep --data-dir "$work/data" --compressor topk-ef \
  --staleness plain --lr-decay 1 --dry-run
# RNN models train asynchronously with their own server recipe, which the banner and records name;
# the same options override it, and a resumed run must use the same recipe.
"$train" --trainer async --model rnl_deep --data-dir "$work/data" --workers 4 --max-updates 4 --eval-every 2 --threads 1 \
  --no-progress --out "$work/rnn.jsonl" --checkpoint "$work/rnn.ckpt" >"$work/rnn.log" 2>&1 || { fail "rnl_deep async run failed"; cat "$work/rnn.log"; }
grep -q "by normalised), staleness per-parameter on the step, server adam lr 0.003" "$work/rnn.log" ||
  { fail "rnl_deep async should default to Adam on the step and normalised top-k"; head -3 "$work/rnn.log"; }
grep -q '"select_by":"normalised"' "$work/rnn.jsonl" || fail "records should name the top-k score"
"$train" --trainer async --model rnl_deep --data-dir "$work/data" --workers 4 --max-updates 2 --eval-every 0 --threads 1 \
  --no-progress --server-optimizer sgd --select-by magnitude --rnn-weight-step square --staleness-power 0.5 \
  --normalise-gradient >"$work/rnn2.log" 2>&1 || { fail "rnl_deep async run with the levers failed"; cat "$work/rnn2.log"; }
grep -q "by magnitude), staleness per-parameter, server sgd lr 0.5" "$work/rnn2.log" ||
  { fail "--server-optimizer sgd should bring the SGD learning rate"; head -3 "$work/rnn2.log"; }
expect_error 1 "settings" -- "$train" --trainer async --model rnl_deep --data-dir "$work/data" --workers 4 \
  --select-by magnitude --max-updates 6 --resume "$work/rnn.ckpt"
expect_error 2 "\-\-select-by" -- "$train" --trainer async --model rnl_deep --data-dir "$work/data" --select-by largest
expect_error 2 "\-\-staleness-power" -- "$train" --trainer async --model rnl_deep --data-dir "$work/data" --staleness-power -1

echo "cli: $failures failure(s)"
[ "$failures" -eq 0 ]
