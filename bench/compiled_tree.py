"""This checkout's compiled build (hatch_build.py), as a folder to put first on sys.path: the wheel that
``HATCH_BUILD_HOOK_ENABLE_CUSTOM=1 pip wheel .`` builds (mypyc, in pip's isolated build environment),
unpacked. bench/compare.py ``--compiled`` measures it beside the pure-Python checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(work: Path) -> Path:
    dist, tree = work / "compiled-dist", work / "compiled"
    env = {**os.environ, "HATCH_BUILD_HOOK_ENABLE_CUSTOM": "1"}
    env.pop("PYTHONPATH", None)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    wheel = next(dist.glob("smdr-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tree)
    probe = "import smdr.compiled as c; print(c.is_compiled())"
    compiled = subprocess.run([sys.executable, "-c", probe], env={**env, "PYTHONPATH": str(tree)}, cwd=tree,
                              check=True, capture_output=True, text=True).stdout.strip()
    if compiled != "True":
        raise RuntimeError(f"{wheel.name}: the engine's modules are not the compiled ones")
    return tree
