#!/bin/sh
# Run the test suite three times in a row while `stress-ng --cpu 2` keeps both cores busy: no test
# may depend on the machine being idle. Installs stress-ng (apt) when missing.
#
#   scripts/stress-check.sh                 # the full suite, 3 runs
#   scripts/stress-check.sh tests/host/test_store.py -k history   # any pytest arguments
#   RUNS=1 scripts/stress-check.sh ...      # fewer runs
set -eu
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
if ! command -v stress-ng >/dev/null 2>&1; then
    echo "stress-check: installing stress-ng" >&2
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get install -y stress-ng >/dev/null || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y stress-ng >/dev/null; }
fi
stress-ng --cpu 2 --timeout 0 --quiet &
STRESS=$!
trap 'kill "$STRESS" 2>/dev/null; wait "$STRESS" 2>/dev/null || true' EXIT INT TERM
sleep 1
kill -0 "$STRESS" || { echo "stress-check: stress-ng did not start" >&2; exit 2; }
failed=0
i=1
while [ "$i" -le "$RUNS" ]; do
    echo "stress-check: run $i of $RUNS under stress-ng --cpu 2 (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    if ! .venv/bin/python -m pytest -q "$@"; then
        echo "stress-check: run $i FAILED" >&2
        failed=$((failed + 1))
    fi
    i=$((i + 1))
done
if [ "$failed" -ne 0 ]; then
    echo "stress-check: $failed of $RUNS runs failed under load" >&2
    exit 1
fi
echo "stress-check: all $RUNS runs passed under load" >&2
