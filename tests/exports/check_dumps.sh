#!/usr/bin/env bash
# The LOCKDEP_OPTIONS dumps of dump_program: written at exit where the options say (with %p as
# the process id), and on dump_signal while the program still runs.
# With "fork" as the second argument, only the fork child case (ThreadSanitizer cannot run it:
# a multithreaded process's child may not start threads under it).
set -euo pipefail
program=$1
mode=${2:-}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

if [ "$mode" = fork ]; then
  # A forked child's signal dumps the child's state, through a thread of its own.
  LOCKDEP_OPTIONS="dump_path=$dir/dump-%p.txt:dump_signal=SIGUSR2:keep_going=1" \
    "$program" fork-signal "$dir" >"$dir/out" 2>/dev/null
  grep -qx 'dumped while running' "$dir/out"
  child_dumps=$(grep -l ': exports_child_only$' "$dir"/dump-*.txt)
  [ "$(echo "$child_dumps" | wc -l)" -eq 1 ]
  echo "check_dumps: a fork child's signal dumps the child's state"
  exit 0
fi

LOCKDEP_OPTIONS="dump_path=$dir/dump.txt:graph_dot_path=$dir/graph-%p.dot:graph_json_path=$dir/graph.json" \
  "$program" 2>"$dir/stderr"
grep -q 'possible circular locking dependency detected' "$dir/stderr"
grep -qx 'all lock classes:' "$dir/dump.txt"
grep -qx 'all lock chains:' "$dir/dump.txt"
grep -q ' FD:    1 BD:    0 +.+.: exports_a$' "$dir/dump.txt"
grep -q '^ lock-classes: *2 \[max: ' "$dir/dump.txt"
dot_files=("$dir"/graph-*.dot)
[ ${#dot_files[@]} -eq 1 ] && [[ ${dot_files[0]} =~ graph-[0-9]+\.dot$ ]]
grep -q 'label="exports_a\\n{+.+.}", color=red' "${dot_files[0]}"
grep -q 'refused: closes a cycle' "${dot_files[0]}"
grep -q '"cycles":\[\[' "$dir/graph.json"

LOCKDEP_OPTIONS="dump_path=$dir/signal.txt:dump_signal=SIGUSR2" \
  "$program" signal "$dir/signal.txt" >"$dir/out" 2>/dev/null
grep -qx 'dumped while running' "$dir/out"
grep -qx 'all lock classes:' "$dir/signal.txt"

# A dump replaces the file whole: a program reading it while signals ask for dump after dump
# never finds part of one.
LOCKDEP_OPTIONS="dump_path=$dir/watched.txt:dump_signal=SIGUSR2" \
  "$program" signal-watch "$dir/watched.txt" >"$dir/out" 2>"$dir/stderr" ||
  { cat "$dir/out" "$dir/stderr"; exit 1; }
grep -q '^read [1-9][0-9]* whole dumps and 0 partial ones$' "$dir/out"
[ -z "$(find "$dir" -name 'watched.txt.partial-*')" ]

# A path that is not a regular file (here a pipe) is written to as it is.
mkfifo "$dir/pipe"
timeout 20 cat "$dir/pipe" >"$dir/from_pipe" &
reader=$!
LOCKDEP_OPTIONS="dump_path=$dir/pipe" "$program" 2>/dev/null
wait "$reader"
grep -qx 'all lock classes:' "$dir/from_pipe"
[ -p "$dir/pipe" ]

# A malformed option is named, and the program still runs and reports.
LOCKDEP_OPTIONS="dump_signal=SIGKILL:graph_dot_path=$dir/after.dot" "$program" 2>"$dir/stderr"
grep -q "LOCKDEP_OPTIONS at offset 0: 'dump_signal' expects a signal" "$dir/stderr"
grep -q 'possible circular locking dependency detected' "$dir/stderr"
grep -q 'digraph lockdep' "$dir/after.dot"
echo "check_dumps: exit, signal and malformed-option dumps as expected"
