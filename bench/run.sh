#!/usr/bin/env bash
# The one command for the troupe-vs-CAF benchmarks: configures and builds a Release tree
# (build-bench), runs every scenario REPS times per framework (troupe, CAF, and bench_floor, the
# no-framework floor, where it has the scenario) with the three interleaved, and prints a table
# of medians (bench/report.py). The process-actor scenarios (bench_processes: process_spawn,
# portal_run, process_stream, context_pingpong) run REPS times each; every run measures troupe
# and its bare floor interleaved in the same process, and they get a table of their own. The
# remote-actor scenarios (remote_tell, remote_ask) run bench_remote_actors (troupe and its floor,
# interleaved in the same process) and bench_caf_remote (CAF 0.17's libcaf_io) REPS times each,
# the two programs interleaved, which goes first rotating; they get a table of their own too.
# The stream apps' scenarios (json_libraries, events, stream_pipeline) each run their program
# bench_<scenario> once, after the tables: it takes its own medians (rounds=5) and prints its
# rows, troupe's next to a bare floor measured in the same run. stream_pipeline
# (bench_stream_pipeline) is a pipeline of two stages with group_by between them, agent.map()
# and agent.join() over 1,000,000 values, and an agent's ask (mean, p50, p99 over 100,000),
# also with the process kept on one CPU.
#
#   bench/run.sh                        # all scenarios, 5 runs each: about 9 minutes plus the build
#   REPS=9 ONLY="pingpong ring" bench/run.sh
#   REPS=1 ONLY="pairs ask" N=10000 bench/run.sh   # a smoke run with small counts
#   REPS=3 ONLY="process_spawn portal_run process_stream context_pingpong" bench/run.sh
#   REPS=5 ONLY="remote_tell remote_ask" bench/run.sh
#   ONLY="json_libraries events" bench/run.sh   # the stream apps' (each program once, own medians)
#   ONLY="stream_pipeline" bench/run.sh         # group_by between two stages, agent.map/join, ask
#
# Environment: REPS (runs per framework and scenario, default 5), ONLY (scenarios, default
# all), N (passed as n=<N> to every run but idle's, whose n is seconds: overrides each
# scenario's main count; for smoke runs only; skynet needs a power of 10), BUILD_DIR (default <repo>/build-bench), JOBS (build jobs, default 2), TIMEOUT
# (seconds per run, default 600).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="${BUILD_DIR:-$root/build-bench}"
reps="${REPS:-5}"
all_scenarios="pingpong pingpong1 pairs mailbox fanout spawn ask ring ring1 idle skynet coroutine restart"
troupe_only="coroutine restart"  # CAF 0.17 has no coroutine handlers and no supervisors
floor_scenarios="pingpong pingpong1 mailbox ask"  # what bench_floor has a counterpart for
process_scenarios="process_spawn portal_run process_stream context_pingpong"  # bench_processes'
remote_scenarios="remote_tell remote_ask"  # bench_remote_actors' and bench_caf_remote's
streams_scenarios="json_libraries events stream_pipeline"  # bench_<scenario>: once each, own medians
all_scenarios="$all_scenarios $process_scenarios $remote_scenarios $streams_scenarios"
only="${ONLY:-$all_scenarios}"

for s in $only; do
    case " $all_scenarios " in
        *" $s "*) ;;
        *) echo "run.sh: unknown scenario '$s' (known: $all_scenarios)" >&2; exit 2 ;;
    esac
done

# The Debian packages the benchmarks need (libcaf-dev, libbenchmark-dev), if missing.
"$root/scripts/install-deps.sh" --bench

# -O2 for troupe too: Debian builds libcaf with -O2, and CMake's Release default is -O3.
generator=()
[ -f "$build/CMakeCache.txt" ] || generator=(-G Ninja)
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
    -DTROUPE_BUILD_BENCH=ON -DTROUPE_BUILD_TESTS=OFF -DTROUPE_BUILD_EXAMPLES=OFF >/dev/null
# The revision is taken before the build: the core may change while the runs go on.
revision="$(git -C "$root" describe --always --dirty 2>/dev/null || echo '(no git)')"
# Only the programs the chosen scenarios need.
targets=()
for s in $only; do
    if [[ " $process_scenarios " == *" $s "* ]]; then
        targets+=(bench_processes bench_exit)
    elif [[ " $remote_scenarios " == *" $s "* ]]; then
        targets+=(bench_remote_actors bench_caf_remote)
    elif [[ " $streams_scenarios " == *" $s "* ]]; then
        targets+=("bench_$s")
    else
        targets+=(bench_troupe bench_caf bench_floor)
    fi
done
cmake --build "$build" --parallel "${JOBS:-2}" --target $(printf '%s\n' "${targets[@]}" | sort -u)

# Other processes skew these timings badly on a 2-core box (spinning workers lose their time
# slices): say so up front, and record the load next to the results.
load_start="$(cut -d' ' -f1 /proc/loadavg)"
if python3 -c "import sys; sys.exit(float('$load_start') < 1.0)"; then
    echo "run.sh: warning: load average is $load_start before the runs; figures will be noisy" >&2
fi

results="$build/bench-results"
mkdir -p "$results"
stamp="$(date +%Y%m%d-%H%M%S)"
raw="$results/raw-$stamp.txt"
log="$results/stderr-$stamp.txt"
: >"$raw"

run_one() {  # framework scenario rep
    local out status=0 count_arg=()
    [ -z "${N:-}" ] || [ "$2" = idle ] || count_arg=("n=$N")
    if [ "$1" = caf ] && [[ " $troupe_only " == *" $2 "* ]]; then
        return 0
    fi
    if [ "$1" = floor ] && [[ " $floor_scenarios " != *" $2 "* ]]; then
        return 0
    fi
    echo "[$2 $3/$reps] $1" >&2
    out="$(timeout "${TIMEOUT:-600}" "$build/bench/bench_$1" "$2" "${count_arg[@]}" 2>>"$log")" || status=$?
    if [ "$status" -ne 0 ]; then
        echo "  bench_$1 $2 failed (exit $status); see $log" >&2
    fi
    # Keep whatever lines it printed; the table shows the missing runs as fewer values.
    [ -z "$out" ] || printf '%s\n' "$out" | sed "s/^/$1 /" >>"$raw"
}

run_prefixed() {  # program scenario rep: the program prints each line's framework itself
    local out status=0 count_arg=()
    [ -z "${N:-}" ] || count_arg=("n=$N")
    echo "[$2 $3/$reps] $1" >&2
    out="$(timeout "${TIMEOUT:-600}" "$build/bench/$1" "$2" "${count_arg[@]}" 2>>"$log")" || status=$?
    if [ "$status" -ne 0 ]; then
        echo "  $1 $2 failed (exit $status); see $log" >&2
    fi
    [ -z "$out" ] || printf '%s\n' "$out" >>"$raw"
}

frameworks=(troupe caf floor)
for scenario in $only; do
    if [[ " $streams_scenarios " == *" $scenario "* ]]; then
        continue  # after the tables
    fi
    for rep in $(seq 1 "$reps"); do
        if [[ " $process_scenarios " == *" $scenario "* ]]; then
            run_prefixed bench_processes "$scenario" "$rep"
            continue
        fi
        if [[ " $remote_scenarios " == *" $scenario "* ]]; then
            remote_programs=(bench_remote_actors bench_caf_remote)
            for k in 0 1; do
                run_prefixed "${remote_programs[$(((rep - 1 + k) % 2))]}" "$scenario" "$rep"
            done
            continue
        fi
        # Rotate which framework goes first, so none always runs on a warmer (or busier) machine.
        for k in 0 1 2; do
            run_one "${frameworks[$(((rep - 1 + k) % 3))]}" "$scenario" "$rep"
        done
    done
done

echo
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); REPS=$reps;" \
     "load average $load_start at start, $(cut -d' ' -f1 /proc/loadavg) at end;" \
     "troupe $revision (at build time)${N:+; N=$N (counts overridden: a smoke run, not a measurement)}"
if [ -s "$raw" ]; then
    python3 "$here/report.py" "$raw"
fi  # (only stream scenarios chosen: no side-by-side table, their programs print their own rows)

# The stream apps' programs take their own medians (rounds=5) and print their rows as they are.
for scenario in $only; do
    if [[ " $streams_scenarios " == *" $scenario "* ]]; then
        echo
        echo "bench_$scenario (medians of its own rounds):"
        timeout "${TIMEOUT:-600}" "$build/bench/bench_$scenario" ${N:+n=$N} 2>>"$log" ||
            echo "  bench_$scenario failed; see $log" >&2
    fi
done
