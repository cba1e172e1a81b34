"""Whether this install is the compiled build (hatch_build.py), and what its source needs from mypyc."""

from __future__ import annotations

try:
    from mypy_extensions import mypyc_attr
except ImportError:  # not installed: the decorator matters only when mypyc compiles the module
    from ._nocompile import mypyc_attr  # type: ignore[assignment]

__all__ = ["is_compiled", "mypyc_attr"]


def is_compiled() -> bool:
    """True when the engine's modules are the compiled ones (extension modules, not .py files)."""
    from . import model

    return not model.__file__.endswith(".py")
