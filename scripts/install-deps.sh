#!/usr/bin/env bash
# Installs the Debian packages troupe needs to build, test and format-check, and nothing
# else. Idempotent: when everything is present it only checks (no apt-get at all).
#
#   scripts/install-deps.sh           toolchain, CMake, Ninja, spdlog, fmt, GoogleTest, asio, msgpack-cxx,
#                                     libsodium, CLI11, simdjson, iproute2 (network namespaces in tests), clang-format
#   scripts/install-deps.sh --bench   also libbenchmark-dev, libcaf-dev, RapidJSON and nlohmann-json for bench/
#   scripts/install-deps.sh --fuzz    also clang and its libFuzzer runtime for the fuzz preset
set -euo pipefail

usage() { sed -n '2,9s/^# \{0,1\}//p' "$0"; }

packages=(build-essential g++ cmake ninja-build libspdlog-dev libfmt-dev libgtest-dev googletest libasio-dev libmsgpack-cxx-dev libsodium-dev libcli11-dev libsimdjson-dev iproute2 clang-format)
for arg in "$@"; do
    case "$arg" in
        --bench) packages+=(libbenchmark-dev libcaf-dev rapidjson-dev nlohmann-json3-dev) ;;
        --fuzz) packages+=(clang libclang-rt-dev) ;;
        -h | --help) usage; exit 0 ;;
        *) echo "install-deps.sh: unknown option '$arg'" >&2; usage >&2; exit 2 ;;
    esac
done

# A package counts as present only when dpkg has it fully installed ("install ok installed").
missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps.sh: all ${#packages[@]} packages present"
    exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null; then
        echo "install-deps.sh: missing ${missing[*]}; not root and no sudo to install them" >&2
        exit 1
    fi
    sudo=(sudo -n)  # -n: fail rather than wait for a password nobody will type (CI has no stdin)
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
