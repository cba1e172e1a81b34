"""Read a YAML record layout into a checked LayoutSpec (the format is described in parsers/README.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..model import DIRECTIONS, EVENTS
from ..yamlfile import MarkedDict, MarkedList, Section
from .fields import DATE_ORDERS, FIELD_TYPES
from .jsoncut import parse_path
from .record import SIGNALS, STAGES

FORMATS = ("fixed", "csv", "regex", "json")
FOLDS = ("line", "call_ref", "none", "line_state", "events")
OUTPUTS = ("agent", "phone", "linename", "duration", "ring", "held", "billduration", "account", "call_ref",
           "signal")
INT_OUTPUTS = ("duration", "ring", "held", "billduration")
SETTABLE = ("direction", "event", "stage", "continues", "more", "time_is", "skip", "reject") + OUTPUTS
_NOT_TEXT = frozenset({"continues", "more", *INT_OUTPUTS})  # set: other values are read as written text
OPERATORS = ("eq", "ne", "in", "startswith", "endswith", "contains", "match", "empty", "digits", "gt", "lt")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_INT_VALUE = re.compile(r"^\s*(?:\d+|\{[^{}]+\}(?:\s*\+\s*\{[^{}]+\})*)\s*$")


@dataclass(slots=True)
class FieldSpec:
    name: str
    type: str = "str"
    first: int | None = None        # fixed: first column (0-based)
    last: int | None = None         # fixed: last column, inclusive
    index: int | None = None        # csv: column index
    column: str | None = None       # csv: header name
    unknown: tuple[str, ...] = ()   # texts that mean "not known" (sentinels such as 99:59'59")
    path: tuple[str, ...] = ()      # json: keys from the record's top (list items by number)


@dataclass(slots=True)
class Condition:
    subject: str
    op: str
    value: Any


@dataclass(slots=True)
class Rule:
    conditions: list[Condition]
    assignments: dict[str, Any]
    stop: bool
    line: int


@dataclass(slots=True)
class SkipSpec:
    reason: str
    op: str           # blank | startswith | contains | match
    value: Any = None


@dataclass(slots=True)
class DateRecordSpec:
    """A non-call record that sets the date of the records after it (Avaya CM at link-up and midnight)."""

    pattern: str      # regex with a (?P<date>...) group: month and day, in the layout's date order


@dataclass(slots=True)
class LayoutSpec:
    name: str
    description: str
    path: str
    format: str
    encoding: str = "latin-1"
    time_is: str = "end"
    date_order: str = "MDY"
    min_length: int = 0
    strict_columns: bool = True     # fixed: the columns between fields must be blank
    fold_tolerance: int = 120
    fold: str = "line"
    time_from: str = "record"       # received: the PBX prints no time of day (Avaya CM LSU)
    delimiter: str = ","
    quoting: bool = True            # csv: quotes as in CSV files; false: a plain split (IP Office)
    header: bool = False
    pattern: str | None = None
    notes: str = ""
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    generic: dict[str, tuple[str, ...]] = field(default_factory=dict)  # output -> field(s), summed if several
    skips: list[SkipSpec] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    date_records: list[DateRecordSpec] = field(default_factory=list)

    @property
    def dated(self) -> bool:
        """Whether records print their own date (else it comes from date records or the received time)."""
        return "date" in self.fields or "datetime" in self.fields


def read_layout(section: Section) -> LayoutSpec:
    section.check_keys({"layout", "extends", "description", "notes", "format", "encoding", "time_is",
                        "date_order", "min_length", "strict_columns", "fold", "fold_tolerance", "time_from",
                        "delimiter", "quoting", "header", "pattern", "fields", "generic", "skip", "rules",
                        "date_records"})
    name = section.get("layout")
    if not re.match(r"^[a-z0-9][a-z0-9._-]*$", name):
        raise section.error("'layout' must be lower-case letters, digits, '-', '.' or '_'", "layout")
    spec = LayoutSpec(
        name=name,
        description=section.get("description", str, ""),
        path=section.path,
        format=section.get("format", str, choices=FORMATS),
        encoding=section.get("encoding", str, "latin-1"),
        time_is=section.get("time_is", str, "end", choices=("end", "start")),
        date_order=section.get("date_order", str, "MDY", choices=DATE_ORDERS),
        min_length=section.get("min_length", int, 0),
        strict_columns=section.get("strict_columns", bool, True),
        fold_tolerance=section.get("fold_tolerance", int, 120),
        fold=section.get("fold", str, "line", choices=FOLDS),
        time_from=section.get("time_from", str, "record", choices=("record", "received")),
        delimiter=section.get("delimiter", str, ","),
        quoting=section.get("quoting", bool, True),
        header=section.get("header", bool, False),
        pattern=section.get("pattern", str, None),
        notes=section.get("notes", str, ""),
    )
    try:
        "".encode(spec.encoding)
    except LookupError:
        raise section.error(f"unknown encoding {spec.encoding!r}", "encoding") from None
    if spec.format == "regex":
        section.get_regex("pattern")
    if not 0 <= spec.fold_tolerance <= 86400:
        raise section.error("'fold_tolerance' must be between 0 and 86400 seconds", "fold_tolerance")
    if spec.format == "csv" and len(spec.delimiter) != 1:
        raise section.error("'delimiter' must be one character", "delimiter")
    spec.fields = _read_fields(section.section("fields"), spec)
    if "datetime" in spec.fields:
        if "date" in spec.fields or "time" in spec.fields:
            raise section.error("a layout has either a 'datetime' field or 'date' and 'time' fields", "fields")
    elif spec.time_from == "received":
        if "time" in spec.fields or "date" in spec.fields:
            raise section.error("'time_from: received' is for records that print no date and no time; this "
                                "layout has a 'date' or 'time' field", "time_from")
    elif "time" not in spec.fields:
        raise section.error("a layout needs a 'time' field (with 'date'), or a 'datetime' field, or "
                            "'time_from: received' when the PBX prints no time of day", "fields")
    spec.generic = _read_generic(section.section("generic", optional=True), spec)
    spec.skips = _read_skips(section, "skip")
    spec.rules = _read_rules(section, spec)
    spec.date_records = _read_date_records(section)
    if "datetime" in spec.fields and spec.time_from == "received":
        raise section.error("'time_from: received' is for records that print no date and no time", "time_from")
    if spec.date_records and "date" in spec.fields:
        raise section.error("'date_records' are for layouts whose records print no date; this one has a "
                            "'date' field", "date_records")
    return spec


def _read_date_records(section: Section) -> list[DateRecordSpec]:
    raw = section.raw("date_records")
    if raw is None:
        return []
    if not isinstance(raw, MarkedList):
        raise section.error("'date_records' must be a list of {match: 'regex with (?P<date>...)'}", "date_records")
    found = []
    for index, item in enumerate(raw):
        if not isinstance(item, MarkedDict):
            raise section.error(f"item {index + 1} of 'date_records' must be a mapping", "date_records")
        sub = Section(item, section.path, f"date_records[{index}]")
        sub.check_keys({"match"})
        pattern = sub.get_regex("match")
        if "date" not in pattern.groupindex:
            raise sub.error("the pattern needs a (?P<date>...) group with the month and day", "match")
        found.append(DateRecordSpec(pattern.pattern))
    return found


def _read_fields(section: Section, spec: LayoutSpec) -> dict[str, FieldSpec]:
    fields: dict[str, FieldSpec] = {}
    for name in section.keys():
        if not _NAME.match(str(name)):
            raise section.error(f"field name {name!r} must be lower-case letters, digits and '_'", name)
        sub = section.section(name)
        sub.check_keys({"cols", "index", "column", "path", "type", "unknown"})
        f = FieldSpec(name=name, type=sub.get("type", str, _default_type(name), choices=FIELD_TYPES),
                      unknown=tuple(v.strip() for v in sub.str_list("unknown", [])))
        if f.unknown and f.type not in ("int", "duration", "ring", "duration_tenths"):
            raise sub.error("'unknown' values are for number fields (int, duration, ring, duration_tenths)",
                            "unknown")
        if spec.format == "fixed":
            cols = sub.get("cols", list)
            if len(cols) != 2 or not all(isinstance(c, int) for c in cols) or not 0 <= cols[0] <= cols[1]:
                raise sub.error("'cols' must be [first, last] column numbers (0-based, inclusive)", "cols")
            f.first, f.last = cols
        elif spec.format == "csv":
            if "index" in sub:
                f.index = sub.get("index", int)
            elif "column" in sub:
                if not spec.header:
                    raise sub.error("'column' needs 'header: true' on the layout", "column")
                f.column = sub.get("column")
            else:
                raise sub.error("a csv field needs 'index' (0-based) or 'column' (header name)")
        elif spec.format == "json":
            f.path = parse_path(sub.get("path", str, name))
            if not f.path:
                raise sub.error("'path' must name a key, e.g. 'caller.number'", "path")
        fields[name] = f
    if spec.format == "regex":
        groups = re.compile(spec.pattern or "").groupindex
        for name in fields:
            if name not in groups:
                raise section.error(f"field '{name}' has no named group (?P<{name}>...) in 'pattern'", name)
    return fields


def _default_type(name: str) -> str:
    return name if name in ("date", "time", "datetime", "duration", "ring") else "str"


_NUMBER_TYPES = ("int", "duration", "ring", "duration_tenths")


def _read_generic(section: Section, spec: LayoutSpec) -> dict[str, tuple[str, ...]]:
    section.check_keys(set(OUTPUTS))
    generic = {}
    for key in section.keys():
        value = section.raw(key)
        sources = tuple(section.str_list(key)) if isinstance(value, list) else (section.get(key),)
        if len(sources) > 1 and key not in INT_OUTPUTS:
            raise section.error(f"'{key}' takes one field; only {', '.join(INT_OUTPUTS)} add up several", key)
        for source in sources:
            if source not in spec.fields:
                raise section.error(f"'{key}' names field {source!r}, which the layout does not define", key)
            if len(sources) > 1 and spec.fields[source].type not in _NUMBER_TYPES:
                raise section.error(f"'{key}' adds up fields: {source!r} must be a number field", key)
        generic[key] = sources
    return generic


def _read_skips(section: Section, key: str) -> list[SkipSpec]:
    raw = section.raw(key)
    if raw is None:
        return []
    if not isinstance(raw, MarkedList):
        raise section.error("'skip' must be a list of {reason, blank|startswith|contains|match}", key)
    skips = []
    for index, item in enumerate(raw):
        sub = Section(item, section.path, f"skip[{index}]") if isinstance(item, MarkedDict) else None
        if sub is None:
            raise section.error(f"item {index + 1} of 'skip' must be a mapping", key)
        sub.check_keys({"reason", "blank", "startswith", "contains", "match"})
        ops = [op for op in ("blank", "startswith", "contains", "match") if op in sub]
        if len(ops) != 1:
            raise sub.error("each skip item needs exactly one of blank, startswith, contains, match")
        op = ops[0]
        value = sub.get(op, bool) if op == "blank" else sub.str_list(op)
        if op == "match":
            for pattern in value:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise sub.error(f"not a valid regular expression: {exc}", op) from None
        skips.append(SkipSpec(reason=sub.get("reason", str, op), op=op, value=value))
    return skips


def _read_rules(section: Section, spec: LayoutSpec) -> list[Rule]:
    raw = section.raw("rules")
    if raw is None:
        return []
    if not isinstance(raw, MarkedList):
        raise section.error("'rules' must be a list", "rules")
    subjects = set(spec.fields) | {"record", "direction", "event", "stage", "continues", "more"} | set(OUTPUTS)
    rules = []
    for index, item in enumerate(raw):
        if not isinstance(item, MarkedDict):
            raise section.error(f"rule {index + 1} must be a mapping", "rules")
        sub = Section(item, section.path, f"rules[{index}]")
        sub.check_keys({"when", "set", "stop", "note"})
        conditions = _read_conditions(sub, subjects, _numeric_subjects(spec)) if "when" in sub else []
        groups = {g for c in conditions if c.op == "match" for g in re.compile(c.value).groupindex}
        assignments = _read_assignments(sub.section("set", optional=True), subjects | groups)
        rules.append(Rule(conditions, assignments, sub.get("stop", bool, False), item.line))
    return rules


def _numeric_subjects(spec: LayoutSpec) -> set[str]:
    numeric = {name for name, f in spec.fields.items() if f.type in _NUMBER_TYPES}
    return numeric | {o for o in INT_OUTPUTS if o not in spec.fields}


def _read_conditions(sub: Section, subjects: set[str], numeric: set[str]) -> list[Condition]:
    when = sub.section("when")
    conditions = []
    for subject in when.keys():
        if subject not in subjects:
            raise when.error(f"'{subject}' is neither a field of this layout nor a Generic value", subject)
        # `co: 00` compares with the text "00", not the number 0; continues/more are true or false
        as_text = subject not in numeric and subject not in ("continues", "more")
        value = when.written(subject) if as_text else when.raw(subject)
        if isinstance(value, MarkedDict):
            ops = Section(value, sub.path, f"{when.prefix}.{subject}")
            ops.check_keys(set(OPERATORS))
            for op in ops.keys():
                operand = ops.written(op) if as_text and op not in ("empty", "digits", "gt", "lt") else ops.raw(op)
                if isinstance(operand, MarkedList) and as_text:
                    operand = operand.written()
                if op == "match":
                    ops.get_regex(op)
                if op in ("in", "startswith", "endswith") and not isinstance(operand, list):
                    operand = [operand]
                conditions.append(Condition(subject, op, list(operand) if isinstance(operand, list) else operand))
        elif isinstance(value, list):
            items = value.written() if as_text and isinstance(value, MarkedList) else list(value)
            conditions.append(Condition(subject, "in", items))
        else:
            conditions.append(Condition(subject, "eq", value))
    for cond in conditions:
        if cond.subject in numeric and cond.op in ("eq", "ne", "in", "gt", "lt"):
            values = cond.value if isinstance(cond.value, list) else [cond.value]
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                raise when.error(f"'{cond.subject}' is a number (seconds): compare it with whole numbers, "
                                 f"not {cond.value!r}", cond.subject)
    return conditions


def _read_assignments(section: Section, names: set[str]) -> dict[str, Any]:
    section.check_keys(set(SETTABLE))
    out: dict[str, Any] = {}
    for key in section.keys():
        value = section.raw(key) if key in _NOT_TEXT else section.written(key)
        if key == "direction" and value not in DIRECTIONS:
            raise section.error(f"direction must be one of {', '.join(sorted(DIRECTIONS))}", key)
        if key == "event" and value not in EVENTS:
            raise section.error(f"event must be one of {', '.join(sorted(EVENTS))}", key)
        if key == "stage" and value not in STAGES:
            raise section.error(f"stage must be one of {', '.join(STAGES)}", key)
        if key == "signal" and isinstance(value, str) and "{" not in value and value not in SIGNALS:
            raise section.error(f"signal must be one of {', '.join(SIGNALS)}", key)
        if key == "time_is" and value not in ("start", "end"):
            raise section.error("time_is must be start or end", key)
        if key in ("continues", "more") and not isinstance(value, bool):
            raise section.error(f"{key} must be true or false", key)
        if isinstance(value, str):
            for ref in re.findall(r"\{([^{}]*)\}", value):
                if ref not in names:
                    raise section.error(f"'{{{ref}}}' names no field, group or Generic value", key)
            if key in INT_OUTPUTS and not _INT_VALUE.match(value):
                raise section.error(f"{key} is seconds: a whole number, '{{field}}', or '{{a}} + {{b}}' to add up "
                                    f"several", key)
        out[key] = value
    return out
