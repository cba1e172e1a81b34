"""Layouts compiled ahead of time, in the compiled build: each shipped layout's typed code (compiler.
typed_source) as a module that mypyc compiled, found by the digest of that code.

A pure-Python install has none: every layout is compiled at run time (exec). The compiled build (see
hatch_build.py) writes ``smdr/layouts/aot/`` with an ``INDEX`` {digest: module}; a layout whose typed code
is not there byte for byte (a user's layout, another date order, a changed file) is compiled at run time,
as in the pure install, so the compiled code always is the code the layout says.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ..blake import blake2b

_index: dict[str, str] | None = None


def digest(source: str) -> str:
    """The code's identity, without its comments: they name the YAML file where each rule was read, a path
    that differs between the build and the install."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))
    return blake2b(code.encode("utf-8"), digest_size=16).hexdigest()


def _load_index() -> dict[str, str]:
    global _index
    if _index is None:
        try:
            from .aot import INDEX
        except ImportError:  # the pure-Python install
            INDEX = {}
        _index = dict(INDEX)
    return _index


def available() -> bool:
    return bool(_load_index())


def factory(source: str) -> Callable[[dict[str, Any]], Any] | None:
    """The compiled ``make`` of exactly this typed ``source``, or None."""
    module = _load_index().get(digest(source))
    return None if module is None else importlib.import_module(f"{__package__}.aot.{module}").make
