"""`make -C firmware test`: core tests under ASan/UBSan on the host and on a Cortex-M4F in QEMU."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

TOOLS = ("make", "gcc", "arm-none-eabi-gcc", "arm-none-eabi-size", "qemu-system-arm")


def test_firmware_core_passes_on_host_and_on_cortex_m4f(repo_root, tmp_path):
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.fail(f"firmware toolchain missing ({', '.join(missing)}): run scripts/setup.sh --test")
    proc = subprocess.run(
        ["make", "-j2", "--output-sync=target", "-C", str(repo_root / "firmware"), "test",
         f"BUILD={tmp_path}", f"PYTHON={sys.executable}"],
        capture_output=True, text=True, timeout=300,
    )
    out = proc.stdout + proc.stderr
    if proc.returncode != 0:
        pytest.fail(f"make -C firmware test failed (exit {proc.returncode}):\n{out[-6000:]}")
    runs = re.findall(r"firmware core tests: (\d+) checks, (\d+) failed, (\d+) golden vectors", out)
    assert len(runs) == 2, out  # once under sanitizers, once on the Cortex-M4F
    for checks, failed, vectors in runs:
        assert int(failed) == 0 and int(checks) > 500 and int(vectors) >= 20
    assert "ok: forced failure -> QEMU exit code 1" in out
    assert re.search(r"\d+\s+\d+\s+\d+\s+\d+\s+\w+\s+\(TOTALS\)", out), "no code-size report"


def test_vector_file_matches_its_generator(repo_root):
    """vectors.json is committed; the generator (which checks its hand-written verdicts against the
    Python decoder) must still produce exactly the committed file."""
    proc = subprocess.run([sys.executable, str(repo_root / "firmware" / "protocol" / "gen_vectors.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
