"""Every bench still starts: each script answers ``--help``, each helper module imports.

The benches print figures and are run by hand, so nothing else would notice one that no longer starts
(bench/popup_callerid.py failed at import for a whole session after its helpers moved). Nothing here
is timed or measured.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
MODULES = sorted(BENCH.glob("*.py"))
SCRIPTS = [path for path in MODULES if 'if __name__ == "__main__":' in path.read_text(encoding="utf-8")]
HELPERS = [path for path in MODULES if path not in SCRIPTS]


def test_the_benches_are_found() -> None:
    names = {path.name for path in SCRIPTS}
    assert {"popup.py", "popup_callerid.py", "popup_floor.py", "compare.py", "deliver.py", "digest.py"} <= names
    assert {"popup_rig.py", "popup_figures.py"} <= {path.name for path in HELPERS}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_each_bench_script_answers_help(script: Path) -> None:
    done = subprocess.run([sys.executable, str(script), "--help"], cwd=BENCH.parent, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:"), done.stdout[:200]


@pytest.mark.parametrize("module", HELPERS, ids=lambda path: path.name)
def test_each_bench_helper_imports(module: Path) -> None:
    code = f"import sys; sys.path.insert(0, {str(BENCH)!r}); import {module.stem}"
    done = subprocess.run([sys.executable, "-c", code], cwd=BENCH.parent, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
