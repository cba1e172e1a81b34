"""Build the fake tapi32 (tests/fake_tapi32.c) with the machine's C compiler into a test's temp dir.

Each build is its own file, so each test loads a fresh library (the fake keeps its state in globals,
and a library loaded twice by the same path is the same library).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "fake_tapi32.c"
SCENARIOS = HERE / "tapi" / "scenarios.tapi"


def compiler() -> str | None:
    return shutil.which("gcc") or shutil.which("cc") or shutil.which("clang")


def build(directory: Path) -> Path:
    """``directory/libtapi32.so``, compiled now; skips the test (with the reason) without a C compiler."""
    cc = compiler()
    if cc is None or sys.platform == "win32":
        pytest.skip("the fake tapi32 needs a C compiler (gcc/cc/clang) on a POSIX system; none found")
    target = directory / "libtapi32.so"
    result = subprocess.run([cc, "-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o", str(target), str(SOURCE),
                             "-lpthread"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return target


def fake_env(monkeypatch: pytest.MonkeyPatch, directory: Path, script: Path = SCENARIOS, **extra: str) -> Path:
    """Point the fake at its script and a log; returns the log's path."""
    log = directory / "fake-tapi.log"
    monkeypatch.setenv("FAKE_TAPI_SCRIPT", str(script))
    monkeypatch.setenv("FAKE_TAPI_LOG", str(log))
    for name in ("FAKE_TAPI_GROW", "FAKE_TAPI_NO_NUL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    return log
