# Shared by the command-line tests (sourced; needs $work, a scratch folder):
#   fail MESSAGE                          counts a failure
#   expect_error CODE PATTERN -- command  the exit code must be CODE and the output must match PATTERN
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

expect_error() {
  local code=$1 pattern=$2
  shift 3
  "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  if [ "$rc" -ne "$code" ]; then fail "exit $rc (wanted $code): $*"; cat "$work/err"; return; fi
  grep -q -- "$pattern" "$work/err" "$work/out" || { fail "no '$pattern' in the output of: $*"; cat "$work/err"; }
}
