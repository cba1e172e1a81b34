"""What the code generator (compiler.py) needs for the ``make(ns)`` module it writes: the names the generated
lines use (bound once from the namespace), and, for the compiled build's typed code, their types."""

from __future__ import annotations

import io
import tokenize


def as_index(item: str) -> str:
    """``slice(0, 8)`` as ``0:8``; an index as it is."""
    if item.startswith("slice("):
        first, last = item[6:-1].split(", ")
        return f"{first}:{last}"
    return item


def names(lines: list[str]) -> set[str]:
    """The names (not strings, comments or attributes) the generated lines use."""
    out: set[str] = set()
    previous = ""
    for token in tokenize.generate_tokens(io.StringIO("\n".join(line.strip() for line in lines) + "\n").readline):
        if token.type == tokenize.NAME and previous != ".":
            out.add(token.string)
        previous = token.string
    return out


BOUND_NAMES = frozenset({"Record", "RecordRejected"})
IMPORTED = BOUND_NAMES  # the typed module imports them instead (for mypyc, the native classes)
TYPED_HEADER = (
    "from __future__ import annotations",
    "",
    "from collections.abc import Callable",
    "from datetime import datetime, time",
    "from re import Pattern",
    "from typing import Any",
    "",
    "from smdr.layouts.record import ParserContext, Record, RecordRejected",
)
TYPED_MAKE = "def make(ns: dict[str, Any]) -> Callable[[bytes], Record | None]:"
_TYPES = {
    "_skipped": "dict[str, int]", "_header": "dict[str, int]", "_default_event": "dict[str, str]",
    "_skip_reason": "dict[str, str]", "_ctx": "ParserContext", "_skip_rx": "Pattern[str]", "_pattern": "Pattern[str]",
    "_when": "dict[Any, datetime]", "_slow_when": "Callable[..., datetime]", "_datetime": "dict[str, datetime]",
    "_slow_datetime": "Callable[[str], datetime]", "_c_time": "dict[str, time]", "_slow_time": "Callable[[str], time]",
    "_phone": "Callable[[str], str]", "_as_seconds": "Callable[[str, str], int]",
}


def type_of(name: str) -> str:
    if name in _TYPES:
        return _TYPES[name]
    if name.startswith(("_rx", "_dr")):
        return "Pattern[str]"
    if name.startswith("_c_"):
        return "dict[str, int]"
    if name.startswith("_slow_"):
        return "Callable[[str], int]"
    if name.startswith("_unk_"):
        return "frozenset[str]"
    return "Any"
