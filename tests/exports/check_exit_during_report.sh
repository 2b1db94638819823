#!/usr/bin/env bash
# A report is printed in full when the process ends during its delivery: main returning while
# another thread delivers it, or a subscription calling exit() when it sees the report (also
# while another report waits behind it, which the exit must not wait for, and when the exit
# destroys the static subscription that made it).
set -euo pipefail
program=$1
strip() { sed -E 's/^\[ *[0-9]+\.[0-9]{6}\] //'; }
check_printed_in_full() {
  local lines
  lines=$(echo "$1" | strip)
  echo "$lines" | grep -qx 'WARNING: possible circular locking dependency detected'
  echo "$lines" | grep -qx ' \*\*\* DEADLOCK \*\*\*'
  echo "$lines" | grep -qx 'stack backtrace:'
}
output=$(LOCKDEP_OPTIONS=source_locations=0 "$program" 2>&1)
echo "$output"
check_printed_in_full "$output"
echo "$output" | grep -qx 'listener done'
status=0
output=$(LOCKDEP_OPTIONS=source_locations=0 "$program" fail-fast 2>&1) || status=$?
echo "$output"
[ "$status" -eq 3 ]
check_printed_in_full "$output"
start=$SECONDS
status=0
output=$(LOCKDEP_OPTIONS=source_locations=0:keep_going=1 "$program" fail-fast-2 2>&1) || status=$?
echo "$output"
[ "$status" -eq 3 ]
[ $((SECONDS - start)) -lt 5 ]  # the exit did not wait for the report queued behind it
check_printed_in_full "$output"
status=0
output=$(LOCKDEP_OPTIONS=source_locations=0 timeout 20 "$program" fail-fast-static 2>&1) || status=$?
echo "$output"
[ "$status" -eq 3 ]  # 124: the exit hung destroying the subscription
check_printed_in_full "$output"
echo "check_exit_during_report: printed in full all four ways"
