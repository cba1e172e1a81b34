"""Cutting a JSON record (``format: json`` layouts): one JSON object per line, fields by path.

A field's ``path`` is dot-separated keys (list items by number): ``caller.number``, ``legs.0.ext``.
Values come out as the text the other formats cut from a line, so field types and rules work alike:
a missing key or ``null`` is '', numbers as written, ``true``/``false``, objects and lists as JSON.
"""

from __future__ import annotations

import json
from typing import Any

from .record import RecordRejected


def parse_path(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.strip().split(".") if part)


def json_record(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise RecordRejected("not-json", f"not a JSON record: {exc}") from None
    if not isinstance(value, dict):
        raise RecordRejected("not-json-object", f"a JSON record is an object, not {type(value).__name__}")
    return value


def value_at(record: dict[str, Any], path: tuple[str, ...]) -> str:
    value: Any = record
    for key in path:
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return ""
        if value is None:
            return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)
