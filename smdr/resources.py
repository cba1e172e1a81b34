"""Where the bundled YAML lives: smdr/data/<kind> in an installed wheel, <checkout>/<kind> in a checkout."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def bundled_dir(kind: str) -> Path | None:
    """The folder of bundled ``parsers`` or ``devices`` YAML files, wherever smdr runs from."""
    for candidate in (_PACKAGE / "data" / kind, _PACKAGE.parent / kind):
        if candidate.is_dir():
            return candidate
    return None


def search_dirs(kind: str, extra: list[str] | None = None) -> list[Path]:
    """User folders first (``extra``, then $SMDR_PARSERS_PATH / $SMDR_DEVICES_PATH), bundled last."""
    dirs = [Path(p) for p in (extra or [])]
    env = os.environ.get(f"SMDR_{kind.upper()}_PATH")
    if env:
        dirs += [Path(p) for p in env.split(os.pathsep) if p]
    bundled = bundled_dir(kind)
    if bundled is not None:
        dirs.append(bundled)
    return dirs


def yaml_files(kind: str, extra: list[str] | None = None) -> list[Path]:
    seen: set[str] = set()
    files = []
    for folder in search_dirs(kind, extra):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            if path.name not in seen:  # a user file shadows a bundled one of the same name
                seen.add(path.name)
                files.append(path)
    return files


#: files smdr ships beside its YAML: name -> (where the wheel has it under smdr/data, where a checkout has it)
BUNDLED_FILES = {
    "smdr.example.yaml": ("smdr.example.yaml", "smdr.example.yaml"),
    "demo.smdr": ("demo/kx-tda-a.smdr", "fixtures/panasonic/kx-tda-a.smdr"),
    "demo-contacts.yaml": ("demo/contacts.yaml", "scripts/demo-contacts.yaml"),
}


def bundled_file(name: str) -> Path:
    """A file of ``BUNDLED_FILES``, from the installed wheel or the checkout; FileNotFoundError if neither."""
    in_wheel, in_checkout = BUNDLED_FILES[name]
    for candidate in (_PACKAGE / "data" / in_wheel, _PACKAGE.parent / in_checkout):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(2, "smdr is installed without this file", in_wheel)
