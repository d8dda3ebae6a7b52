#!/usr/bin/env bash
# The full check, as CI runs it (.ci/run runs exactly this, with no arguments):
#   1. installs missing Debian packages (scripts/install-deps.sh);
#   2. tsan preset: builds with ThreadSanitizer (libraries at -O1, tests and examples at -O0, -g1) and runs every test and example (TSAN_OPTIONS=
#      "halt_on_error=1 second_deadlock_stack=1 suppressions=cmake/tsan.supp",
#      TROUPE_TEST_TIMEFACTOR=10);
#   3. asan-ubsan preset: AddressSanitizer + UBSan build (the libraries with every UBSan check,
#      tests and examples without its null and alignment checks), every test, example, install and
#      compile-fail check (TROUPE_TEST_TIMEFACTOR=5);
#   4. fuzz preset: a short pass of each libFuzzer target (tests/fuzz: frames, records, session;
#      20000 inputs each, on top of the checked-in corpus), built with clang (installed with
#      scripts/install-deps.sh --fuzz);
#   5. clang-format --dry-run --Werror over the repository's *.hpp and *.cpp files.
# With --quick: the debug preset (every test, no sanitizer) and clang-format only, for a fast
# local loop; --debug adds the debug stage to the full check. (--asan, once the switch for
# stage 3, is still accepted and changes nothing.)
# Every stage runs even after an earlier one failed; the exit status is non-zero if any did.
# Warnings are errors when CI=true (the presets read it): `CI=true scripts/test.sh` locally.
#
#   scripts/test.sh [--quick | --debug]
set -euo pipefail

usage() { sed -n '2,19s/^# \{0,1\}//p' "$0"; }

run_debug=0
run_sanitizers=1
for arg in "$@"; do
    case "$arg" in
        --asan) ;;
        --debug) run_debug=1 ;;
        --quick) run_debug=1; run_sanitizers=0 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "test.sh: unknown option '$arg'" >&2; usage >&2; exit 2 ;;
    esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
logs="$root/build/test-logs"
mkdir -p "$logs"

scripts/install-deps.sh

failed_stages=()
summaries=()

banner() { printf '\n==== %s\n' "$*"; }

# Runs one stage: configure, build and test a preset. Extra arguments go to ctest.
# Records ctest's summary line and whether the stage failed; never exits.
preset_stage() {
    local preset=$1
    shift
    local started=$SECONDS log="$logs/ctest-$preset.log"
    banner "[$preset] configure + build"
    if ! cmake --preset "$preset" || ! cmake --build --preset "$preset"; then
        failed_stages+=("$preset (build)")
        summaries+=("[$preset] build failed: no tests ran")
        return 0
    fi
    banner "[$preset] test"
    local rc=0
    ctest --preset "$preset" --output-on-failure -j2 "$@" 2>&1 | tee "$log" || rc=$?
    local summary
    summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1 || true)
    summaries+=("[$preset] ${summary:-no ctest summary (ctest exit $rc)} ($((SECONDS - started)) s)")
    if [[ $rc -ne 0 ]]; then
        failed_stages+=("$preset (tests)")
    fi
}

format_stage() {
    banner "[format] clang-format --dry-run --Werror"
    local files=() f
    if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        # Tracked files plus new ones not yet added (ignored ones, like build/, stay out).
        while IFS= read -r -d '' f; do
            if [[ -f "$f" ]]; then
                files+=("$f")
            fi
        done < <(git ls-files -z --cached --others --exclude-standard -- '*.hpp' '*.cpp')
    else
        while IFS= read -r -d '' f; do
            files+=("$f")
        done < <(find . -path ./build -prune -o -path ./.git -prune -o \
                      -type f \( -name '*.hpp' -o -name '*.cpp' \) -print0)
    fi
    if [[ ${#files[@]} -eq 0 ]]; then
        summaries+=("[format] no *.hpp/*.cpp files found")
        failed_stages+=("format")
        return 0
    fi
    if clang-format --dry-run --Werror "${files[@]}"; then
        summaries+=("[format] ${#files[@]} files formatted")
    else
        summaries+=("[format] clang-format found unformatted files (fix: clang-format -i <file>)")
        failed_stages+=("format")
    fi
}

total_started=$SECONDS

if [[ $run_debug -eq 1 ]]; then
    preset_stage debug
fi

if [[ $run_sanitizers -eq 1 ]]; then
    # cmake/tsan.supp: libstdc++'s uninstrumented exception refcounts (see the file).
    export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$root/cmake/tsan.supp"
    TROUPE_TEST_TIMEFACTOR=10 preset_stage tsan
    unset TSAN_OPTIONS
    TROUPE_TEST_TIMEFACTOR=5 preset_stage asan-ubsan
    if scripts/install-deps.sh --fuzz; then
        preset_stage fuzz
    else
        failed_stages+=("fuzz (packages)")
        summaries+=("[fuzz] clang and its libFuzzer runtime could not be installed: no fuzz pass ran")
    fi
fi

format_stage

# The closing lines: each ctest summary, then the totals.
banner "summary ($((SECONDS - total_started)) s)"
passed=0
failed=0
for line in "${summaries[@]}"; do
    echo "$line"
    if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
        failed=$((failed + BASH_REMATCH[1]))
        passed=$((passed + BASH_REMATCH[2] - BASH_REMATCH[1]))
    fi
done
if [[ ${#failed_stages[@]} -gt 0 ]]; then
    echo "FAILED: ${failed_stages[*]}"
fi
echo "tests: $passed passed, $failed failed"
[[ ${#failed_stages[@]} -eq 0 ]]
