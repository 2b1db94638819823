#!/usr/bin/env bash
# A report still being delivered when main returns is printed in full before the process ends.
set -euo pipefail
program=$1
output=$(LOCKDEP_OPTIONS=source_locations=0 "$program" 2>&1)
echo "$output"
strip() { sed -E 's/^\[ *[0-9]+\.[0-9]{6}\] //'; }
lines=$(echo "$output" | strip)
echo "$lines" | grep -qx 'WARNING: possible circular locking dependency detected'
echo "$lines" | grep -qx ' \*\*\* DEADLOCK \*\*\*'
echo "$lines" | grep -qx 'stack backtrace:'
echo "check_exit_during_report: printed in full"
