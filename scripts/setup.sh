#!/usr/bin/env bash
# Set up twitchwatch from a fresh clone: a .venv at the repo root with the package installed.
#   scripts/setup.sh          runtime only (enough for `twitchwatch demo`)
#   scripts/setup.sh --test   also the test tools: ARM toolchain, QEMU and Chromium from Debian,
#                             pytest/hypothesis/playwright/bumble from PyPI, NeuroKit2 for bench
# Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "setup: apt-get install ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [ $want_test -eq 1 ]; then
    apt_install make gcc gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm chromium dbus-daemon
fi

PY=${PYTHON:-python3}
# The compiled kernels of the detection core (host/twitchwatch/core/_kernels.c, built by pip below)
# need a C compiler and the interpreter's headers. Without them the package still installs and runs
# on the numpy references (same outputs, slower), so this only fills in what is missing.
command -v gcc >/dev/null 2>&1 || apt_install gcc
if ! "$PY" -c 'import os, sysconfig, sys; sys.exit(not os.path.isfile(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
    apt_install "python3-dev"
fi
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip >&2
fi
stamp=".venv/.twitchwatch-installed"
extras=""
if [ $want_test -eq 1 ]; then
    stamp=".venv/.twitchwatch-installed-test"
    extras="[test,bench]"
fi
# pyproject.toml or the C kernels changed since the last install: install (build) again
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ host/twitchwatch/core/_kernels.c -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q -e ".${extras}" >&2
    touch "$stamp"
fi
