#!/usr/bin/env bash
# rnnl-study as a user meets it, on a tiny synthetic dataset: a small grid runs, its outputs are
# well formed (scripts/check_study.py), a second call runs nothing, a run whose folder lost its
# status runs again, and bad study files or options give a clear error and a non-zero exit.
set -u
study=$1
train=$2
make_data=$3
checker=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/cli_helpers.sh"

"$make_data" "$work/data" 600 200 || { echo "cannot make test data"; exit 1; }
cat >"$work/s.json" <<'JSON'
{
  "name": "tiny",
  "options": {"model": "mlp", "workers": 4, "batch": 8, "max-updates": 60, "eval-every": 20},
  "methods": [
    {"name": "ASGD", "options": {"compressor": "none", "staleness": "plain"}},
    {"name": "AdaComp", "options": {"compressor": "adacomp"}}
  ],
  "grid": {"lr": [0.05, 0.01]},
  "seeds": [1, 2],
  "report": {"best_over": ["lr"], "targets": [0.2, 0.5]}
}
JSON

"$study" --help >"$work/help" || fail "--help exited non-zero"
grep -q -- "--jobs" "$work/help" || fail "--help does not list --jobs"

"$study" "$work/s.json" --out "$work/out1" --train-exe "$train" --data-dir "$work/data" --jobs 2 >"$work/run" 2>&1 ||
  { fail "the study failed"; cat "$work/run"; }
grep -q "8 runs, 0 finished before, 8 to run" "$work/run" || { fail "not 8 runs to run"; cat "$work/run"; }
python3 "$checker" "$work/out1" 8 || fail "outputs not well formed"
[ "$(ls "$work/out1/runs" | wc -l)" -eq 8 ] || fail "not 8 run folders"
for f in metrics.jsonl staleness.csv status.json log.txt; do
  [ -s "$work/out1/runs/AdaComp_lr=0.05_seed=2/$f" ] || fail "run folder without $f"
done
head -n 1 "$work/out1/runs/AdaComp_lr=0.05_seed=2/staleness.csv" | grep -q '^delay,pushes$' || fail "staleness.csv header"
cp "$work/out1/summary.csv" "$work/first.csv"

# Resumed: nothing runs again, and the summary is the same (virtual mode, same seeds).
"$study" "$work/s.json" --out "$work/out1" --train-exe "$train" --data-dir "$work/data" >"$work/run2" 2>&1 ||
  fail "the second call failed"
grep -q "8 finished before, 0 to run" "$work/run2" || { fail "the second call ran runs again"; cat "$work/run2"; }
# A run without its status is run again; its results are the same as before.
rm "$work/out1/runs/ASGD_lr=0.01_seed=1/status.json"
"$study" "$work/s.json" --out "$work/out1" --train-exe "$train" --data-dir "$work/data" >"$work/run3" 2>&1 ||
  fail "the third call failed"
grep -q "7 finished before, 1 to run" "$work/run3" || { fail "the run without status did not run again"; cat "$work/run3"; }
cut -d, -f1-16,18- "$work/first.csv" >"$work/a.csv"  # without wall_seconds (column 17)
cut -d, -f1-16,18- "$work/out1/summary.csv" >"$work/b.csv"
cmp -s "$work/a.csv" "$work/b.csv" || { fail "a rerun changed the summary"; diff "$work/a.csv" "$work/b.csv"; }
"$study" "$work/s.json" --out "$work/out1" --train-exe "$train" --data-dir "$work/data" --list >"$work/list" 2>&1 ||
  fail "--list failed"
[ "$(grep -c '\[finished\]' "$work/list")" -eq 8 ] || fail "--list does not show 8 finished runs"
ls -A "$work/out1" "$work/out1/plots" | grep -q '\.tmp' && fail "temporary files left behind"

# --seeds: only that seed's runs, summarised alone.
"$study" "$work/s.json" --out "$work/out1" --train-exe "$train" --data-dir "$work/data" --seeds 2 >"$work/run5" 2>&1 ||
  fail "--seeds 2 failed"
grep -q "4 runs, 4 finished before, 0 to run" "$work/run5" || { fail "--seeds 2 does not select 4 runs"; cat "$work/run5"; }
grep -q "Seeds: 2\." "$work/out1/summary.md" || fail "the summary of --seeds 2 does not say so"

# --runs: only the matching runs run; the summary covers the whole study.
"$study" "$work/s.json" --out "$work/out3" --train-exe "$train" --data-dir "$work/data" --runs 'AdaComp_lr=0\.05_' \
  >"$work/run6" 2>&1 || { fail "--runs failed"; cat "$work/run6"; }
grep -q "2 runs, 0 finished before, 2 to run" "$work/run6" || { fail "--runs does not select 2 runs"; cat "$work/run6"; }
grep -q "2 of 8 runs finished" "$work/out3/summary.md" || fail "the summary of --runs does not cover the whole study"
[ "$(ls "$work/out3/runs")" = "$(printf 'AdaComp_lr=0.05_seed=1\nAdaComp_lr=0.05_seed=2')" ] || fail "--runs ran other runs"
expect_error 2 "matches none" -- "$study" "$work/s.json" --out "$work/o" --runs 'nothing'
expect_error 2 "not a regular expression" -- "$study" "$work/s.json" --out "$work/o" --runs '('

# --extend-best: refused until every run of the seed has finished; then the configurations the seed's
# own summary marks as each method's best, and only those, run on every seed.
expect_error 1 "3 of the 4 runs of seed 1 have not finished" -- "$study" "$work/s.json" --out "$work/out3" \
  --train-exe "$train" --data-dir "$work/data" --extend-best 1
"$study" "$work/s.json" --out "$work/out5" --train-exe "$train" --data-dir "$work/data" --seeds 1 >"$work/run7" 2>&1 ||
  { fail "--seeds 1 failed"; cat "$work/run7"; }
awk -F, '$10 == 1 {print $2}' "$work/out5/summary.csv" | sort >"$work/best1"
[ "$(wc -l <"$work/best1")" -eq 2 ] || { fail "seed 1 has not one best per method"; cat "$work/out5/summary.csv"; }
"$study" "$work/s.json" --out "$work/out5" --train-exe "$train" --data-dir "$work/data" --extend-best 1 \
  >"$work/run8" 2>&1 || { fail "--extend-best 1 failed"; cat "$work/run8"; }
grep -q "^rnnl-study: 4 runs, 2 finished before, 2 to run" "$work/run8" ||
  { fail "--extend-best does not select the 2 best configurations"; cat "$work/run8"; }
ls "$work/out5/runs" | grep 'seed=2$' | sed 's/_seed=2$//' | sort | cmp -s - "$work/best1" ||
  { fail "--extend-best ran other configurations than seed 1's best"; cat "$work/best1"; ls "$work/out5/runs"; }
grep -q "6 of 8 runs finished" "$work/out5/summary.md" || fail "the summary after --extend-best does not cover the study"
expect_error 2 "excludes" -- "$study" "$work/s.json" --out "$work/out5" --extend-best 1 --seeds 1
expect_error 2 "7 is not one of the study's seeds" -- "$study" "$work/s.json" --out "$work/out5" --extend-best 7

# The abandon rule stops runs below the accuracy at the update, and they count as abandoned.
# (After one update nothing is at 100 %.)
sed 's/"seeds": \[1, 2\],/"seeds": [1], "abandon": {"at_updates": 1, "below_accuracy": 1.0},/; s/"max-updates": 60, "eval-every": 20/"max-updates": 4000, "eval-every": 1/' \
  "$work/s.json" >"$work/abandon.json"
"$study" "$work/abandon.json" --out "$work/out2" --train-exe "$train" --data-dir "$work/data" >"$work/run4" 2>&1 ||
  { fail "the study with an abandon rule failed"; cat "$work/run4"; }
[ "$(grep -c 'abandoned (accuracy below' "$work/run4")" -eq 4 ] || { fail "not 4 runs abandoned"; cat "$work/run4"; }
grep -q '"outcome": "abandoned"' "$work/out2/runs/ASGD_lr=0.05_seed=1/status.json" || fail "status not abandoned"
grep -q "1/1, 1 abandoned" "$work/out2/summary.md" || fail "summary.md does not count the abandoned runs"

# Two calls on one folder: the second is refused while the first holds it (flock(1) stands in for it).
flock "$work/out1/.rnnl-study.lock" sleep 5 &
holder=$!
sleep 0.5
expect_error 1 "in use by another rnnl-study" -- "$study" "$work/s.json" --out "$work/out1" --train-exe "$train" \
  --data-dir "$work/data"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# Bad input.
expect_error 2 "study" -- "$study"
expect_error 2 "jobs" -- "$study" "$work/s.json" --jobs 0
expect_error 2 "5 is not one of the study's seeds" -- "$study" "$work/s.json" --seeds 5 --out "$work/o"
expect_error 2 "" -- "$study" "$work/missing.json"
echo '{"name": "x", "methods": [{"name": "A"}], "seeds": [1], "colour": 2}' >"$work/bad1.json"
expect_error 1 "bad1.json: colour: unknown key" -- "$study" "$work/bad1.json" --out "$work/o"
echo '{"name": "x", "methods": [{"name": "A", "options": {"seed": 4}}], "seeds": [1]}' >"$work/bad2.json"
expect_error 1 "methods\[0\].options.seed" -- "$study" "$work/bad2.json" --out "$work/o"
echo '{"name": "x", "methods": [' >"$work/bad3.json"
expect_error 1 "bad3.json: not valid JSON" -- "$study" "$work/bad3.json" --out "$work/o"
# An option rnnl-train refuses stops the study before any run starts, naming the run and rnnl-train's message.
echo '{"name": "x", "options": {"lr": -1}, "methods": [{"name": "A"}], "seeds": [1]}' >"$work/bad4.json"
expect_error 1 "run A_seed=1: rnnl-train refused its settings" -- "$study" "$work/bad4.json" --out "$work/o" --train-exe "$train" \
  --data-dir "$work/data"
[ -e "$work/o/runs/A_seed=1/metrics.jsonl" ] && fail "a run started although a setting is refused"
expect_error 1 "cannot start" -- "$study" "$work/s.json" --out "$work/o2" --train-exe "$work/no-such-exe"

if [ "$failures" -gt 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "rnnl-study: all checks passed"
