"""Write the typed code of every layout in a folder as modules for the compiled build to compile (mypyc).

    python -m smdr.layouts.aot_sources PARSERS_DIR OUT_DIR

OUT_DIR becomes the package ``smdr.layouts.aot``: one module per layout (in its own date order) and an
``__init__`` with ``INDEX`` {digest of the code: module name} (see prebuilt.py). Run by hatch_build.py.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from . import LayoutsByName, read_layout_file
from .compiler import typed_source
from .prebuilt import digest


def write(parsers: Path, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    known = LayoutsByName([str(parsers)])
    index: dict[str, str] = {}
    written = []
    for path in sorted(parsers.glob("*.yaml")):
        spec = read_layout_file(path, known)
        source = typed_source(spec, spec.date_order)
        module = "l_" + re.sub(r"\W", "_", spec.name)
        (out / f"{module}.py").write_text(source, encoding="utf-8")
        index[digest(source)] = module
        written.append(out / f"{module}.py")
    lines = ['"""Layouts compiled ahead of time (written by smdr.layouts.aot_sources)."""', "",
             "INDEX: dict[str, str] = {"] + [f"    {key!r}: {name!r}," for key, name in sorted(index.items())] + ["}"]
    (out / "__init__.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written


if __name__ == "__main__":
    for written in write(Path(sys.argv[1]), Path(sys.argv[2])):
        print(written)
