"""A normal install works: build the wheel, install it into a fresh virtualenv (not the checkout),
replay a sample recording there. The models must come with the package (they are package data),
not from the repository."""

from __future__ import annotations

import json
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_built_wheel_installed_in_a_fresh_venv_replays_a_sample(tmp_path):
    src = tmp_path / "src"  # a copy, so the build leaves nothing in the checkout
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "host", src / "host", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    assert (src / "host" / "twitchwatch" / "models" / "foot.skops").is_file()
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(src), "-w", str(dist)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    wheel = next(dist.glob("twitchwatch-*.whl"))

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    # the dependencies come from the test's environment as a plain path (its .pth files, among
    # them the checkout's editable install, are not processed), the package only from the wheel
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    inst = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)],
                          capture_output=True, text=True, timeout=600)
    assert inst.returncode == 0, inst.stderr

    sample = tmp_path / "run" / "rhythmic_jerking.twr"
    sample.parent.mkdir()
    shutil.copy(REPO / "recordings" / "rhythmic_jerking.twr", sample)
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TWITCHWATCH_HOME": str(tmp_path / "home")}
    where = subprocess.run([str(py), "-c", "import twitchwatch.core.classify as c; print(c.__file__); print(c.MODELS_DIR)"],
                           capture_output=True, text=True, cwd=sample.parent, check=True, env=clean).stdout.split()
    assert where[0].startswith(str(env_dir)) and where[1].startswith(str(env_dir)), where
    out = subprocess.run([str(env_dir / "bin" / "twitchwatch"), "replay", sample.name, "--json"],
                         capture_output=True, text=True, cwd=sample.parent, timeout=600, env=clean)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.splitlines()[-1])
    assert summary["type"] == "summary" and summary["duration_s"] > 60 and summary["classifier"] == "model"
