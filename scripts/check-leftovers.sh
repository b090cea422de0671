#!/usr/bin/env bash
# After the whole test run: no process the tests started may still be alive. Every process started during the
# run inherits LIGHTFAST_TEST_RUN=<id> from scripts/test.sh (test hosts, silos, gateways, MCP server processes),
# so a leftover is found by its environment even after it was orphaned. Leftovers are listed and killed, and the
# check is reported like a test: a TRX file with one passed or failed result.
# Usage: check-leftovers.sh <run id> <results directory>
set -uo pipefail
run_id="$1"
results="$2"

# This script and the shells that started it carry the marker too: leave them out.
ancestors=" "
pid=$$
while [ "$pid" -gt 1 ] 2>/dev/null; do
  ancestors+="$pid "
  pid="$(awk '/^PPid:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 1)"
done

leftovers=()
for dir in /proc/[0-9]*; do
  pid="${dir#/proc/}"
  [[ "$ancestors" == *" $pid "* ]] && continue
  if { tr '\0' '\n' < "$dir/environ"; } 2>/dev/null | grep -qx "LIGHTFAST_TEST_RUN=$run_id"; then
    state="$(awk '/^State:/ {print $2}' "$dir/status" 2>/dev/null)"
    [ "$state" = "Z" ] && continue
    leftovers+=("$pid")
  fi
done

outcome=passed
if [ "${#leftovers[@]}" -gt 0 ]; then
  outcome=failed
  echo "Processes started by the tests are still alive after the test run:"
  for pid in "${leftovers[@]}"; do
    echo "  $pid: $({ tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null)"
  done
  kill -9 "${leftovers[@]}" 2>/dev/null || true
else
  echo "No process started by the tests is left alive."
fi

passed=0; failed=0
[ "$outcome" = passed ] && passed=1 || failed=1
mkdir -p "$results"
cat > "$results/LeftoverProcesses.trx" <<TRX
<?xml version="1.0" encoding="UTF-8"?>
<TestRun id="$(cat /proc/sys/kernel/random/uuid)" name="no processes left after the test run" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
  <ResultSummary outcome="$([ "$outcome" = passed ] && echo Completed || echo Failed)">
    <Counters total="1" executed="1" passed="$passed" failed="$failed" error="0" timeout="0" aborted="0" inconclusive="0" passedButRunAborted="0" notRunnable="0" notExecuted="0" disconnected="0" warning="0" completed="0" inProgress="0" pending="0" />
  </ResultSummary>
</TestRun>
TRX
[ "$outcome" = passed ]
