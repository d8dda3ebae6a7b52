#!/usr/bin/env bash
# Shows troupe at work: installs missing packages, builds the release preset and runs every
# example program (build/release/examples/example_*), printing what each one prints.
# Exits non-zero if the build fails or any example does.
#
#   scripts/demo.sh
set -euo pipefail

if [[ $# -gt 0 ]]; then
    sed -n '2,6s/^# \{0,1\}//p' "$0"
    [[ $1 == -h || $1 == --help ]] && exit 0
    exit 2
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh

cmake --preset release
cmake --build --preset release

shopt -s nullglob
examples=()
for program in build/release/examples/example_*; do
    [[ -f $program && -x $program ]] && examples+=("$program")
done
if [[ ${#examples[@]} -eq 0 ]]; then
    echo "demo.sh: no example programs were built (examples/<topic>/*.cpp)" >&2
    exit 1
fi

failed=()
for program in "${examples[@]}"; do
    printf '\n==== %s\n' "${program##*/}"
    rc=0
    "$program" || rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "==== ${program##*/} exited with status $rc" >&2
        failed+=("${program##*/}")
    fi
done

printf '\n==== ran %d examples' "${#examples[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    printf '; failed: %s\n' "${failed[*]}"
    exit 1
fi
printf '; all succeeded\n'
