#!/usr/bin/env bash
# Peer comparison: the cases of peer_cases.cpp on plain std::mutex, lockdep::mutex, std::mutex
# under lockdep-run, g++ and clang ThreadSanitizer, Helgrind and absl::Mutex with deadlock
# detection in report mode, all from one run. Prints one markdown table on stdout (ns per
# lock+unlock pair, and the ratio to plain std::mutex) under a line naming the machine; progress
# goes to stderr. Usage, from anywhere:
#
#   bash tests/bench/peers/compare_peers.sh [build directory, default <repo>/build-peers]
#
# PEERS_SECTIONS chooses what runs (default: all of "locks heap programs"): the lock cases, the
# heap churn of heap_churn_bench.cpp (Google Benchmark) plain, under lockdep-run with and without
# its watch of frees and under clang's ThreadSanitizer, and whole programs.
#
# Installs what is missing of its Debian 12 packages with apt, as .ci/bootstrap does.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
build=$(mkdir -p "${1:-$repo/build-peers}" && cd "${1:-$repo/build-peers}" && pwd)
bin=$build/bin
logs=$build/logs
started=$SECONDS

say() { echo "peers: $*" >&2; }

install_missing_packages() {
  bash "$repo/.ci/bootstrap" >&2
  local packages=(g++ clang valgrind libabsl-dev pkg-config coreutils xz-utils zstd)
  local missing=() package
  for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$package")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  say "installing ${missing[*]}"
  "${as_root[@]}" apt-get update -qq
  # apt's progress goes to stderr with ours: stdout is the table.
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
}

# Runs a build step with its output in the log; shows the end of the log if it fails.
logged() {
  local log=$1
  shift
  if ! "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    say "failed: $* (log: $log)"
    exit 1
  fi
}

build_variants() {
  mkdir -p "$bin" "$logs"
  say "building lockdep (Release, LOCKDEP_ENABLED=ON) and lockdep-run in $build/cmake"
  logged "$logs/configure.log" nice cmake -S "$here" -B "$build/cmake" -DCMAKE_BUILD_TYPE=Release
  logged "$logs/build.log" nice cmake --build "$build/cmake" -j1 --target peer_cases_lockdep lockdep-run
  cp "$build/cmake/bin/peer_cases_lockdep" "$bin/"

  local source=$here/peer_cases.cpp flags=(-std=c++20 -O2 -g -pthread)
  say "compiling the plain, ThreadSanitizer and Abseil variants"
  logged "$logs/plain.log" nice g++ "${flags[@]}" "$source" -o "$bin/peer_cases_plain"
  logged "$logs/gcc_tsan.log" nice g++ "${flags[@]}" -fsanitize=thread "$source" \
    -o "$bin/peer_cases_gcc_tsan"
  logged "$logs/clang_tsan.log" nice clang++ "${flags[@]}" -fsanitize=thread "$source" \
    -o "$bin/peer_cases_clang_tsan"
  # shellcheck disable=SC2046  # pkg-config prints several words on purpose
  logged "$logs/absl.log" nice g++ "${flags[@]}" -DPEER_MUTEX_ABSL "$source" \
    $(pkg-config --cflags --libs absl_synchronization) -o "$bin/peer_cases_absl"

  local churn=$here/heap_churn_bench.cpp
  logged "$logs/churn_plain.log" nice g++ "${flags[@]}" "$churn" -lbenchmark \
    -o "$bin/heap_churn_plain"
  logged "$logs/churn_tsan.log" nice clang++ "${flags[@]}" -fsanitize=thread "$churn" -lbenchmark \
    -o "$bin/heap_churn_clang_tsan"
}

tools=(plain lockdep lockdep_run gcc_tsan clang_tsan helgrind absl)
declare -A tool_title=(
  [plain]="std::mutex, g++ -O2"
  [lockdep]="lockdep::mutex (Release)"
  [lockdep_run]="std::mutex under lockdep-run"
  [gcc_tsan]="g++ -fsanitize=thread"
  [clang_tsan]="clang -fsanitize=thread"
  [helgrind]="valgrind --tool=helgrind"
  [absl]="absl::Mutex, deadlock detection kReport"
)
cases=(nested_pair disjoint_pairs window window_first_pass)
declare -A case_title=(
  [nested_pair]="nested pair A→B"
  [disjoint_pairs]="2 threads, disjoint pairs (aggregate)"
  [window]="1000 mutexes, 8 deep window"
  [window_first_pass]="window, first pass"
)

# Iterations of a nested pair (per thread for disjoint_pairs), sweeps of the window, and
# repetitions (the best one counts) per tool: Valgrind runs the plain program about 500 times
# slower, and its window about 15,000 times.
iterations_for() {
  case $1 in
    helgrind) echo "5000 1 1" ;;
    gcc_tsan | clang_tsan) echo "250000 20 5" ;;
    *) echo "1000000 100 5" ;;
  esac
}

# Runs one case of one tool; its stdout is the program's, its stderr goes to the caller.
run_tool() {
  local tool=$1
  shift
  local limit=(timeout 900)
  case $tool in
    plain) "${limit[@]}" "$bin/peer_cases_plain" "$@" ;;
    lockdep) "${limit[@]}" "$bin/peer_cases_lockdep" "$@" ;;
    lockdep_run) "${limit[@]}" "$build/cmake/lockdep/bin/lockdep-run" "$bin/peer_cases_plain" "$@" ;;
    gcc_tsan) "${limit[@]}" "$bin/peer_cases_gcc_tsan" "$@" ;;
    clang_tsan) "${limit[@]}" "$bin/peer_cases_clang_tsan" "$@" ;;
    helgrind) "${limit[@]}" valgrind -q --tool=helgrind --error-exitcode=66 "$bin/peer_cases_plain" "$@" ;;
    absl) "${limit[@]}" "$bin/peer_cases_absl" "$@" ;;
  esac
}

declare -A ns_per_pair=() inversion_reported=()
problems=()

# A timed case must exit 0 and print nothing on stderr: the cases are deadlock-free, so any
# report is a false positive (or a harness problem) and is listed under the table.
measure() {
  local tool=$1 case=$2 iterations=$3 repetitions=$4
  local log=$logs/$tool.$case.log output status=0
  say "$tool $case ($iterations iterations, best of $repetitions)"
  output=$(run_tool "$tool" "$case" "$iterations" "$repetitions" 2>"$log") || status=$?
  ns_per_pair[$tool.$case]=$(awk -v name="$case" '$1 == name { print $2 }' <<<"$output")
  if [ "$status" -ne 0 ] || [ -s "$log" ]; then
    problems+=("$tool $case: exit status $status, stderr: $(head -c 300 "$log" | tr '\n' ' ') (log: $log)")
  fi
}

# The one case every detector must report: A -> B, then B -> A on one thread.
check_inversion() {
  local tool=$1 log=$logs/$1.inversion.log
  run_tool "$tool" inversion 1 1 >/dev/null 2>"$log" || true
  if grep -Eqi 'deadlock|circular locking dependency|lock order' "$log"; then
    inversion_reported[$tool]=yes
  else
    inversion_reported[$tool]=no
  fi
}

run_everything() {
  local tool case pair_iterations window_sweeps repetitions iterations
  for tool in "${tools[@]}"; do
    read -r pair_iterations window_sweeps repetitions <<<"$(iterations_for "$tool")"
    for case in "${cases[@]}"; do
      case $case in
        window) iterations=$window_sweeps ;;
        window_first_pass) iterations=1 ;;  # ignored: one sweep per run, each on a fresh set
        *) iterations=$pair_iterations ;;
      esac
      measure "$tool" "$case" "$iterations" "$repetitions"
    done
    check_inversion "$tool"
  done
}

# 3 significant digits, in ns below 1 us and in us above.
format_time() {
  awk -v ns="$1" 'BEGIN {
    if (ns == "") { print "failed"; exit }
    unit = "ns"; v = ns
    if (v >= 1000) { v /= 1000; unit = "µs" }
    if (v >= 100) printf "%.0f %s\n", v, unit
    else if (v >= 10) printf "%.1f %s\n", v, unit
    else printf "%.2f %s\n", v, unit
  }'
}

format_ratio() {
  awk -v value="$1" -v plain="$2" 'BEGIN {
    if (value == "" || plain == "" || plain == 0) { print "?"; exit }
    r = value / plain
    if (r >= 100) printf "%.0f×\n", r
    else printf "%.1f×\n", r
  }'
}

machine_line() {
  local cpu
  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  printf 'Machine: %s, %s cores, Linux %s; g++ %s, clang %s, valgrind %s, libabsl-dev %s; %s\n' \
    "$cpu" "$(nproc)" "$(uname -r)" "$(g++ -dumpfullversion)" \
    "$(clang++ --version | sed -n 's/.*clang version \([^ ]*\).*/\1/p' | head -n 1)" \
    "$(valgrind --version | sed 's/^valgrind-//')" \
    "$(dpkg-query -W -f='${Version}' libabsl-dev)" "$(date -u '+%Y-%m-%d')"
}

print_table() {
  local tool case cell header="| tool |" rule="|---|"
  for case in "${cases[@]}"; do
    header+=" ${case_title[$case]} |"
    rule+="--:|"
  done
  echo
  echo "$header reports an A→B, B→A inversion |"
  echo "$rule:-:|"
  for tool in "${tools[@]}"; do
    local row="| ${tool_title[$tool]} |"
    for case in "${cases[@]}"; do
      cell=$(format_time "${ns_per_pair[$tool.$case]:-}")
      if [ "$tool" != plain ]; then
        cell+=" ($(format_ratio "${ns_per_pair[$tool.$case]:-}" "${ns_per_pair[plain.$case]:-}"))"
      fi
      row+=" $cell |"
    done
    echo "$row ${inversion_reported[$tool]} |"
  done
  echo
  local helgrind_counts tsan_counts fast_counts
  read -r -a helgrind_counts <<<"$(iterations_for helgrind)"
  read -r -a tsan_counts <<<"$(iterations_for gcc_tsan)"
  read -r -a fast_counts <<<"$(iterations_for plain)"
  echo "ns per lock+unlock pair, best of ${fast_counts[2]} runs (Helgrind: ${helgrind_counts[2]});" \
    "ratio to plain std::mutex in parentheses. Nested pairs per run: ${fast_counts[0]}" \
    "(TSan ${tsan_counts[0]}, Helgrind ${helgrind_counts[0]}); window sweeps of 7,944 pairs:" \
    "${fast_counts[1]} (TSan ${tsan_counts[1]}, Helgrind ${helgrind_counts[1]}); first pass: one" \
    "sweep over a fresh set of 1000 mutexes per run."
  if [ ${#problems[@]} -eq 0 ]; then
    echo "No tool reported anything on the deadlock-free cases."
  else
    echo
    echo "Reports or failures on the deadlock-free cases (their numbers are suspect):"
    printf -- '- %s\n' "${problems[@]}"
  fi
}

# Heap churn (heap_churn_bench.cpp): one Google Benchmark binary, run plain, under lockdep-run
# without and with the watch of frees, and built with clang's TSan. Google Benchmark's own
# timing; the table takes real time per iteration from its CSV output.
churn_tools=(plain lockdep_run_unwatched lockdep_run clang_tsan)
declare -A churn_title=(
  [plain]="std::mutex, g++ -O2"
  [lockdep_run_unwatched]="lockdep-run, watch_frees=0"
  [lockdep_run]="lockdep-run"
  [clang_tsan]="clang -fsanitize=thread"
)
churn_cases=(new_delete/64 malloc_free/64 request_objects)
declare -A churn_ns=()

run_churn_tool() {
  local tool=$1
  shift
  local lockdep_run=$build/cmake/lockdep/bin/lockdep-run
  case $tool in
    plain) "$bin/heap_churn_plain" "$@" ;;
    lockdep_run_unwatched) LOCKDEP_OPTIONS=watch_frees=0 "$lockdep_run" "$bin/heap_churn_plain" "$@" ;;
    lockdep_run) "$lockdep_run" "$bin/heap_churn_plain" "$@" ;;
    clang_tsan) "$bin/heap_churn_clang_tsan" "$@" ;;
  esac
}

run_churn() {
  local tool output case_name status
  for tool in "${churn_tools[@]}"; do
    say "heap churn: $tool"
    status=0
    output=$(run_churn_tool "$tool" --benchmark_format=csv 2>"$logs/churn.$tool.log") || status=$?
    if [ "$status" -ne 0 ] || grep -q 'WARNING:' "$logs/churn.$tool.log"; then
      problems+=("heap churn under $tool: exit status $status (log: $logs/churn.$tool.log)")
    fi
    for case_name in "${churn_cases[@]}"; do
      # CSV: "name",iterations,real_time,cpu_time,time_unit,...; names carry their settings.
      churn_ns[$tool.$case_name]=$(awk -F, -v name="$case_name" \
        'index($1, "\"" name) == 1 && $5 ~ /ns/ { print $3; exit }' <<<"$output")
    done
  done
}

print_churn() {
  echo
  echo "| heap churn | new + delete, 64 bytes | malloc + free, 64 bytes | 1,000,000 request objects: new, lock under a long-lived mutex, delete |"
  echo "|---|--:|--:|--:|"
  local tool case_name cell row
  for tool in "${churn_tools[@]}"; do
    row="| ${churn_title[$tool]} |"
    for case_name in "${churn_cases[@]}"; do
      cell=$(format_time "${churn_ns[$tool.$case_name]:-}")
      if [ "$tool" != plain ]; then
        cell+=" ($(format_ratio "${churn_ns[$tool.$case_name]:-}" "${churn_ns[plain.$case_name]:-}"))"
      fi
      row+=" $cell |"
    done
    echo "$row"
  done
  echo
  echo "ns per iteration (Google Benchmark, real time); ratio to plain in parentheses."
  local watched=${churn_ns[lockdep_run.malloc_free/64]:-} unwatched=${churn_ns[lockdep_run_unwatched.malloc_free/64]:-}
  if [ -n "$watched" ] && [ -n "$unwatched" ]; then
    echo "The watch of frees adds $(awk -v a="$watched" -v b="$unwatched" 'BEGIN { printf "%.1f", a - b }') ns to a free() of memory without locks."
  fi
}

# Whole programs, unmodified, with and without lockdep-run: real multithreaded compressors,
# whose locking is mixed with the work it protects (the microbenchmarks above do nothing else).
# Wall time of compressing the same input, median of 3; the output must be identical.
programs=("xz -T2 -3 --block-size=2MiB" "zstd -T2 -9")
declare -A program_seconds=()

make_program_input() {
  local input=$build/program_input
  [ -s "$input" ] && return 0
  # 24 MiB of compressible but not trivial text: numbered lines of pseudo-random words.
  awk 'BEGIN { srand(1); for (i = 0; i < 600000; i++) {
         printf "%d", i; for (w = 0; w < 6; w++) printf " w%d", int(rand() * 5000); print "" } }' \
    >"$input"
}

median_seconds() {
  local run times=()
  for run in 1 2 3; do
    local start end
    start=$(date +%s.%N)
    "$@" || return 1
    end=$(date +%s.%N)
    times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }')")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 2p
}

# compress INPUT OUTPUT COMMAND...: COMMAND -c <INPUT >OUTPUT
compress() {
  local input=$1 output=$2
  shift 2
  "$@" -c <"$input" >"$output"
}

run_programs() {
  make_program_input
  local program words reference=$build/program_output.plain checked=$build/program_output.run
  for program in "${programs[@]}"; do
    read -r -a words <<<"$program"
    say "$program, with and without lockdep-run"
    program_seconds[$program.plain]=$(median_seconds \
      compress "$build/program_input" "$reference" "${words[@]}")
    program_seconds[$program.run]=$(median_seconds compress "$build/program_input" "$checked" \
      "$build/cmake/lockdep/bin/lockdep-run" "${words[@]}" 2>"$logs/program.log")
    program_seconds[$program.unwatched]=$(LOCKDEP_OPTIONS=watch_frees=0 median_seconds compress \
      "$build/program_input" "$checked" "$build/cmake/lockdep/bin/lockdep-run" "${words[@]}" \
      2>>"$logs/program.log")
    if ! cmp -s "$reference" "$checked"; then
      problems+=("$program: output differs under lockdep-run")
    fi
    if [ -s "$logs/program.log" ]; then
      problems+=("$program: lockdep-run printed $(head -c 300 "$logs/program.log" | tr '\n' ' ')")
    fi
  done
}

print_programs() {
  echo
  echo "| program (24 MiB of text, 2 threads) | without | lockdep-run, watch_frees=0 | under lockdep-run |"
  echo "|---|--:|--:|--:|"
  local program
  for program in "${programs[@]}"; do
    local plain=${program_seconds[$program.plain]:-} run=${program_seconds[$program.run]:-}
    local unwatched=${program_seconds[$program.unwatched]:-}
    echo "| \`$program\` | $plain s | $unwatched s ($(format_ratio "$unwatched" "$plain")) |" \
      "$run s ($(format_ratio "$run" "$plain")) |"
  done
  echo
  echo "Wall time, median of 3 runs; the compressed output is the same with and without."
}

sections=${PEERS_SECTIONS:-locks heap programs}
wants() { [[ " $sections " == *" $1 "* ]]; }

install_missing_packages
build_variants
say "measuring (logs in $logs)"
wants locks && run_everything
wants heap && run_churn
wants programs && run_programs
machine_line
wants locks && print_table
wants heap && print_churn
wants programs && print_programs
say "done in $((SECONDS - started)) s"
