"""What a compiled layout's generated code calls at run time: memoized converters, regexes, context.

Kept apart from the code generator (compiler.py): this is the half that runs per record.
"""

from __future__ import annotations

import csv
import re
from operator import itemgetter
from typing import Any

from ..memo import Memo
from . import fields as conv
from . import moments
from .fields import FieldError
from .jsoncut import json_record, value_at
from .record import DEFAULT_EVENT as _DEFAULT_EVENT
from .record import ParserContext, Record, RecordRejected
from .spec import LayoutSpec

INT_TYPES = ("int", "duration", "ring", "duration_tenths")


def namespace(spec: LayoutSpec, order: str, ctx: ParserContext, skipped: dict[str, int]) -> dict[str, Any]:
    """The names the generated ``parse`` uses: converters with their memo dicts, compiled regexes, context."""
    ns: dict[str, Any] = {
        "Record": Record, "RecordRejected": RecordRejected, "_skipped": skipped,
        "_default_event": _DEFAULT_EVENT, "_csv_reader": csv.reader, "_header": {}, "_ctx": ctx,
        "_json_record": json_record, "_json_at": value_at, "_itemgetter": itemgetter,
    }
    for i, record in enumerate(spec.date_records):
        ns[f"_dr{i}"] = re.compile(record.pattern)

    def set_date(text: str) -> None:
        try:
            month, day = conv.month_day(text, order)
            ctx.set_date(ctx.resolve_year(month, day))
        except ValueError as exc:
            ctx.set_date(None)  # the records after it must not keep the previous day's date
            raise RecordRejected("bad-field", str(FieldError("date", text, str(exc))) + " (date record: is "
                                 f"the PBX's date format {order}?)") from None

    ns["_set_date"] = set_date
    for f in spec.fields.values():
        if f.unknown:
            ns[f"_unk_{f.name}"] = frozenset(f.unknown)
    skip_patterns = [f"(?P<s{i}>{'|'.join(f'(?:{p})' for p in skip.value)})"
                     for i, skip in enumerate(spec.skips) if skip.op == "match"]
    if skip_patterns:  # every regex skip rule in one pass over the record
        ns["_skip_rx"] = re.compile("|".join(skip_patterns))
        ns["_skip_reason"] = {f"s{i}": skip.reason for i, skip in enumerate(spec.skips)}
    for r, rule in enumerate(spec.rules):
        for c, cond in enumerate(rule.conditions):
            if cond.op == "match":
                ns[f"_rx{r}_{c}"] = re.compile(cond.value)
    if spec.format == "regex":
        ns["_pattern"] = re.compile(spec.pattern or "")
    ns["_when"], ns["_slow_when"] = moments.date_time_reader(order, ctx)
    ns["_datetime"], ns["_slow_datetime"] = moments.datetime_reader(order)
    ns["_c_time"], ns["_slow_time"] = _typed_cache("time", conv.parse_time)
    ns["_phone"] = conv.parse_phone

    def as_seconds(name: str, text: str) -> int:
        try:
            return conv.parse_duration(text)
        except ValueError as exc:
            raise RecordRejected("bad-field", str(FieldError(name, text, str(exc)))) from None

    ns["_as_seconds"] = as_seconds
    for f in spec.fields.values():
        if f.type in INT_TYPES:
            ns[f"_c_{f.name}"], ns[f"_slow_{f.name}"] = _typed_cache(f.name, conv.converter(f.type, order))
    return ns


def _typed_cache(name: str, func):
    memo: Memo[str, int] = Memo()

    def slow(text: str) -> int:
        try:
            value = func(text)
        except ValueError as exc:
            raise RecordRejected("bad-field", str(FieldError(name, text, str(exc)))) from None
        return memo.put(text, value)

    return memo.entries, slow
