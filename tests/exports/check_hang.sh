#!/usr/bin/env bash
# The hang watchdog in a real process: a 1.5 s wait with hang_timeout=1 is reported once, as
# the kernel's hung-task report with the waiter's held locks; without the option, nothing; the
# program exits 0 either way.
# With "fork" as the second argument, only the fork child case (ThreadSanitizer cannot run it:
# a multithreaded process's child may not start threads under it).
set -euo pipefail
program=$1
mode=${2:-}
strip() { sed -E 's/^\[ *[0-9]+\.[0-9]{6}\] //'; }
check_reported_once() {
  local lines held=${2:-hang_held}
  lines=$(echo "$1" | strip)
  [ "$(echo "$lines" | grep -c '^INFO: task ')" -eq 1 ]
  echo "$lines" | grep -qx 'INFO: task waiter:[0-9]* blocked for more than 1 seconds\.'
  echo "$lines" | grep -qx 'Showing all locks held in the system:'
  echo "$lines" | grep -qx '2 locks held by waiter/[0-9]*:'
  echo "$lines" | grep -q "^ #1: [0-9a-f]\\{16\\} ($held){+\\.+\\.}, at: "
  # The holder is running, not waiting: listed with the number of its locks.
  echo "$lines" | grep -qx '1 lock held by holder/[0-9]*:'
  echo "$lines" | grep -qx '============================================='
}
if [ "$mode" = fork ]; then
  # In a fork child: its own watchdog, and no hang of a parent's thread that the child lacks.
  output=$(LOCKDEP_OPTIONS=hang_timeout=1:source_locations=0 "$program" fork 2>&1)
  echo "$output"
  check_reported_once "$output"  # a parent thread's wait would be a second INFO line
  echo "check_hang: a fork child reports its own hang once, and no parent thread's"
  exit 0
fi
output=$(LOCKDEP_OPTIONS=hang_timeout=1:source_locations=0 "$program" 2>&1)
echo "$output"
check_reported_once "$output"
# The holder's lock is the process's first: it is listed all the same.
output=$(LOCKDEP_OPTIONS=hang_timeout=1:source_locations=0 "$program" first_lock 2>&1)
echo "$output"
check_reported_once "$output" hang_first_held
[ -z "$(env -u LOCKDEP_OPTIONS "$program" 2>&1)" ]
echo "check_hang: reported once with the held locks; silent without hang_timeout"
