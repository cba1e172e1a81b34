"""The compiled build of smdr: the engine's hot modules compiled with mypyc, and the code of every shipped
layout compiled ahead of time. Off by default; the pure-Python wheel (``pip install .``) runs everywhere.

    HATCH_BUILD_HOOK_ENABLE_CUSTOM=1 python -m pip wheel --no-deps -w dist .

needs a C compiler (gcc or clang; MSVC on Windows) and gives a wheel for this platform and Python. What
it compiles behaves as the pure-Python code does (tests/test_wheel.py runs the fixtures through both);
anything it does not compile (a user's layout, another date order) runs as in the pure install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# bytes -> call events -> JSON lines: what a record passes through (smdr/layouts/aot: the layouts' code)
COMPILED_MODULES = (
    "smdr/model.py", "smdr/memo.py", "smdr/decoder.py", "smdr/normalize.py", "smdr/eventjson.py",
    "smdr/layouts/record.py", "smdr/layouts/moments.py", "smdr/folding/base.py", "smdr/folding/line.py",
)
_SETUP = """
import sys
from mypyc.build import mypycify
from setuptools import setup
setup(name="smdr-compiled", script_args=["build_ext", "--inplace"],
      ext_modules=mypycify(["--follow-imports=silent", "--ignore-missing-imports", *sys.argv[1:]], opt_level="3"))
"""


def compile_tree(root: Path, work: Path) -> list[Path]:
    """Copy ``root``'s smdr into ``work``, write the layouts' modules, compile: the files the wheel adds."""
    shutil.copytree(root / "smdr", work / "smdr", ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd"))
    # the copy first; then whatever the build's environment put there (pip's isolated build keeps mypy there)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(work), os.environ.get("PYTHONPATH"))))}
    aot = work / "smdr" / "layouts" / "aot"
    subprocess.run([sys.executable, "-m", "smdr.layouts.aot_sources", str(root / "parsers"), str(aot)],
                   cwd=work, env=env, check=True, stdout=subprocess.DEVNULL)
    layouts = sorted(str(p.relative_to(work)) for p in aot.glob("l_*.py"))
    subprocess.run([sys.executable, "-c", _SETUP, *COMPILED_MODULES, *layouts], cwd=work, env=env, check=True)
    built = [p for p in work.rglob("*") if p.suffix in (".so", ".pyd") and "build" not in p.relative_to(work).parts]
    return built + sorted(aot.glob("*.py"))


try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # run as a script, outside a build
    BuildHookInterface = object  # type: ignore[assignment,misc]


class CompiledBuildHook(BuildHookInterface):  # type: ignore[misc,valid-type]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":
            return
        work = Path(tempfile.mkdtemp(prefix="smdr-compiled-"))
        self._work = work
        for path in compile_tree(Path(self.root), work):
            build_data["force_include"][str(path)] = str(path.relative_to(work)).replace(os.sep, "/")
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        work = getattr(self, "_work", None)
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":  # python hatch_build.py OUT: the compiled tree in OUT, to try it without a wheel
    for path in compile_tree(Path(__file__).resolve().parent, Path(sys.argv[1])):
        print(path)
