"""Compile a LayoutSpec once into one generated Python function: no YAML is interpreted per record.

The generated ``parse(line)`` slices (fixed), splits (csv) or matches (regex) the record, converts
typed fields through bounded memo dicts inlined as ``dict.get`` calls, evaluates the layout's rules
as a flat if-chain with precompiled regexes, and builds the Record. ``CompiledLayout.source`` keeps
the generated text so a technician (or a failing test) can read what a layout became.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import fields as dataclass_fields

from . import prebuilt, runtime, typedcode
from .record import DEFAULT_EVENT, FINAL_STAGE, ParserContext, Record
from .rulecode import RuleCode
from .spec import INT_OUTPUTS as _INT_OUTPUTS
from .spec import OUTPUTS, LayoutSpec

_INT_TYPES = runtime.INT_TYPES


class CompiledLayout:
    """A parser made from a YAML layout (see record.Parser)."""

    def __init__(self, spec: LayoutSpec, date_order: str | None = None, context: ParserContext | None = None) -> None:
        self.spec = spec
        self.name = spec.name
        self.context = context or ParserContext()
        self.date_order = date_order or self.context.date_order or spec.date_order
        self.skipped: dict[str, int] = {}
        namespace = runtime.namespace(spec, self.date_order, self.context, self.skipped)
        make = None
        if prebuilt.available():  # the compiled build: this layout's code compiled ahead of time, if it was
            self.source = typed_source(spec, self.date_order)
            make = prebuilt.factory(self.source)
        self.compiled_ahead = make is not None
        if make is None:
            self.source = _Generator(spec, self.date_order).source()
            exec(compile(self.source, f"<layout {spec.name}>", "exec"), namespace)
            make = namespace["make"]
        self.parse = make(namespace)


def typed_source(spec: LayoutSpec, date_order: str) -> str:
    """The layout's code as the compiled build compiles it ahead of time (mypyc): a module of its own, typed."""
    return _Generator(spec, date_order, typed=True).source()


def _wrapped(items: list[str], indent: int) -> str:
    """``items`` joined by commas, in lines of at most ~100 characters (the generated code is read)."""
    return textwrap.fill(", ".join(items), 100 - indent, subsequent_indent=" " * indent, break_long_words=False,
                         break_on_hyphens=False)


class _Generator(RuleCode):
    def __init__(self, spec: LayoutSpec, date_order: str, typed: bool = False) -> None:
        self.spec, self.date_order, self.typed = spec, date_order, typed
        self.lines: list[str] = []
        self.prelude: list[str] = []  # names the function uses, made once by ``make``

    def source(self) -> str:
        spec = self.spec
        self.live = self._live_outputs()
        self.lines = ["def parse(line: bytes) -> Record | None:" if self.typed else "def parse(line):"]
        self.emit("try:")
        self.emit(f"s = line.decode({spec.encoding!r})", 2)
        self.emit("except UnicodeDecodeError as exc:")
        self.emit(f"raise RecordRejected('bad-encoding', 'not {spec.encoding}: ' + str(exc)) from None", 2)
        self.emit("t = s.rstrip()")
        self._date_records()
        self._skips()
        if spec.min_length:
            self.emit(f"if len(t) < {spec.min_length}:")
            self.emit(f"raise RecordRejected('too-short', '%d characters; a record has at least "
                      f"{spec.min_length}' % len(t))", 2)
        getattr(self, f"_cut_{spec.format}")()
        self._typed_fields()
        self._outputs()
        self._rules()
        self._build()
        return self._module()

    def _module(self) -> str:
        """``make(ns)``: the names ``parse`` uses, bound once from the namespace (runtime.namespace), then
        ``parse`` itself, which reads them as its closure's cells."""
        made = {line.partition(" = ")[0] for line in self.prelude}
        used = sorted(n for n in typedcode.names(self.prelude + self.lines)
                      if (n.startswith("_") or n in typedcode.BOUND_NAMES) and n not in made)
        if self.typed:
            head = [*typedcode.TYPED_HEADER, "", "", typedcode.TYPED_MAKE]
            binds = [f"    {name}: {typedcode.type_of(name)} = ns[{name!r}]" for name in used
                     if name not in typedcode.IMPORTED]
        else:
            head = ["def make(ns):"]
            binds = [f"    {name} = ns[{name!r}]" for name in used]
        body = ["    " + line for line in self.prelude + self.lines]
        return "\n".join(head + binds + body + ["    return parse"]) + "\n"

    def _live_outputs(self) -> set[str]:
        """The outputs a rule assigns or reads: they get a variable; the others go into the Record as
        their one value (a field, a sum of fields, a constant)."""
        live = {"direction"}
        for rule in self.spec.rules:
            live.update(rule.assignments)
            live.update(cond.subject for cond in rule.conditions)
            for value in rule.assignments.values():
                if isinstance(value, str):
                    live.update(part[1:-1] for part in re.findall(r"\{[^{}]*\}", value))
        return live - set(self.spec.fields)

    def _skips(self) -> None:
        for skip in self.spec.skips:
            if skip.op == "blank":
                if not skip.value:
                    continue
                test = "not t"  # t is right-stripped: empty exactly when the record is blank
            elif skip.op == "startswith":
                test = f"t.lstrip().startswith({tuple(v.lstrip() for v in skip.value)!r})"
            elif skip.op == "contains":
                test = " or ".join(f"{v!r} in t" for v in skip.value)
            else:
                continue
            self.emit(f"if {test}:")
            self.emit(f"_skipped[{skip.reason!r}] = _skipped.get({skip.reason!r}, 0) + 1", 2)
            self.emit("return None", 2)
        if any(skip.op == "match" for skip in self.spec.skips):  # anchored at the start, like rule matches
            self.emit("m = _skip_rx.match(t)")
            self.emit("if m is not None:")
            self.emit(f"reason = _skip_reason[m.lastgroup{' or chr(0)' if self.typed else ''}]", 2)  # one group matched
            self.emit("_skipped[reason] = _skipped.get(reason, 0) + 1", 2)
            self.emit("return None", 2)

    def _date_records(self) -> None:
        records = self.spec.date_records
        if not records:
            return
        self.emit("if len(t) < 40:")
        for i in range(len(records)):
            self.emit(f"m = _dr{i}.match(t)", 2)
            self.emit("if m is not None:", 2)
            self.emit("_set_date(m.group('date'))", 3)
            self.emit("_skipped['date-record'] = _skipped.get('date-record', 0) + 1", 3)
            self.emit("return None", 3)

    def _cut_fixed(self) -> None:
        width = max(f.last for f in self.spec.fields.values()) + 1
        self.emit(f"if len(s) < {width}:")
        self.emit(f"s = s.ljust({width})", 2)
        names = [f"r_{f.name}" for f in self.spec.fields.values()]
        cuts = [f"slice({f.first}, {f.last + 1})" for f in self.spec.fields.values()]
        fields = self.spec.fields
        key = self._when_key() if "date" in fields and "datetime" not in fields else ""
        if key.startswith("s["):  # the date and time memo's key: one more slice of the same record
            first, last = key[2:-1].split(":")
            names.append("k_when")
            cuts.append(f"slice({first}, {last})")
        self._unpack(names, cuts, "_cut", "s")

    def _unpack(self, names: list[str], items: list[str], getter: str, of: str) -> None:
        """``names`` = the ``items`` of ``of``, cut out in one C call (an itemgetter made at compile time)."""
        if len(names) == 1 or self.typed:
            for name, item in zip(names, items):
                self.emit(f"{name} = {of}[{typedcode.as_index(item)}]")
            return
        self.prelude.append(f"{getter} = _itemgetter(" + _wrapped(items, len(getter) + 15) + ")")
        self.lines.append(f"    ({_wrapped(names, 5)}) = {getter}({of})")

    def _gap_checks(self) -> None:
        """Text between the fields means the record is not laid out as this layout says."""
        covered = set()
        for f in self.spec.fields.values():
            covered.update(range(f.first, f.last + 1))
        gaps, start = [], None
        for col in range(max(covered) + 2):
            if col not in covered and col <= max(covered):
                start = col if start is None else start
            elif start is not None:
                gaps.append((start, col))
                start = None
        if not gaps:
            return
        if self.typed:
            test = " or ".join(f"s[{a}] != ' '" if b - a == 1 else f"s[{a}:{b}] != {' ' * (b - a)!r}" for a, b in gaps)
            self.emit(f"if {test}:")
            self.emit("raise RecordRejected('misaligned', 'text between the columns of the layout: the record "
                      "is not laid out as this layout says')", 2)
            return
        # one C call for all of them: the single blank columns by index, wider gaps by slice
        items = ", ".join(str(a) if b - a == 1 else f"slice({a}, {b})" for a, b in gaps)
        blank = tuple(" " * (b - a) for a, b in gaps)
        self.prelude.append(f"_gaps = _itemgetter({items})")
        self.emit(f"if _gaps(s) != {blank if len(gaps) > 1 else blank[0]!r}:")
        self.emit("raise RecordRejected('misaligned', 'text between the columns of the layout: the record "
                  "is not laid out as this layout says')", 2)

    def _cut_csv(self) -> None:
        spec = self.spec
        if spec.quoting:
            self.emit(f"parts = next(_csv_reader([t], delimiter={spec.delimiter!r}))")
        else:
            self.emit(f"parts = t.split({spec.delimiter!r})")
        self.emit("n = len(parts)")
        if spec.header:
            self.emit("if not _header:")
            self.emit("_header.update({name.strip().lower(): i for i, name in enumerate(parts)})", 2)
            self.emit("_skipped['header'] = _skipped.get('header', 0) + 1", 2)
            self.emit("return None", 2)
        if all(f.index is not None for f in spec.fields.values()):
            count = max(f.index for f in spec.fields.values()) + 1
            self.emit(f"if n < {count}:")  # cells the record does not have are empty
            self.emit(f"parts += [''] * ({count} - n)", 2)
            self._unpack([f"r_{f.name}" for f in spec.fields.values()], [str(f.index) for f in spec.fields.values()],
                         "_cells", "parts")
            return
        for f in spec.fields.values():
            if f.index is not None:
                index = str(f.index)
            else:
                index = f"_header.get({f.column.strip().lower()!r}, 10**6)"
            self.emit(f"i = {index}")
            self.emit(f"r_{f.name} = parts[i] if i < n else ''")

    def _cut_regex(self) -> None:
        self.emit("m = _pattern.match(t)")
        self.emit("if m is None:")
        self.emit("raise RecordRejected('no-match', 'the record does not match the layout pattern')", 2)
        for f in self.spec.fields.values():
            self.emit(f"r_{f.name} = m.group({f.name!r}) or ''")

    def _cut_json(self) -> None:
        self.emit("obj = _json_record(t)")
        for f in self.spec.fields.values():
            self.emit(f"r_{f.name} = _json_at(obj, {f.path!r})")

    def _typed_fields(self) -> None:
        fields = self.spec.fields
        if "datetime" in fields:
            self.emit("when = _datetime.get(r_datetime)")
            self.emit("if when is None:")
            self.emit("when = _slow_datetime(r_datetime)", 2)
        elif "date" in fields:
            key = self._when_key()
            key = "k_when" if key.startswith("s[") else key
            self.emit(f"when = _when.get({key})")
            self.emit("if when is None:")
            self.emit(f"when = _slow_when(r_date, r_time, {key})", 2)
        elif "time" not in fields:  # time_from: received: no time of day printed (Avaya CM LSU)
            self.emit("when = _ctx.received_moment()")
        else:  # no date printed: the last date record's, or the received date (midnight noticed)
            self.emit("moment = _c_time.get(r_time)")
            self.emit("if moment is None:")
            self.emit("moment = _slow_time(r_time)", 2)
            self.emit("when = _ctx.dateless(moment)")
        for f in fields.values():
            if f.name in ("date", "time", "datetime"):
                continue
            if f.type in _INT_TYPES:
                indent = 1
                if f.unknown:
                    if self.typed:  # 0 here, the memo's int | None there: one declared type for both
                        self.emit(f"f_{f.name}: int | None")
                    self.emit(f"u_{f.name} = r_{f.name}.strip() in _unk_{f.name}")
                    self.emit(f"if u_{f.name}:")
                    self.emit(f"f_{f.name} = 0", 2)
                    self.emit("else:")
                    indent = 2
                self.emit(f"f_{f.name} = _c_{f.name}.get(r_{f.name})", indent)
                self.emit(f"if f_{f.name} is None:", indent)
                self.emit(f"f_{f.name} = _slow_{f.name}(r_{f.name})", indent + 1)
            elif f.type == "phone":
                self.emit(f"f_{f.name} = _phone(r_{f.name})")
            else:
                self.emit(f"f_{f.name} = r_{f.name}.strip()")

    def _when_key(self) -> str:
        """The memo key of a record's date and time: one string where the columns are fixed (the two
        fields and the blank between them in one slice when nothing else lies there), else a pair."""
        if self.spec.format != "fixed":
            return "(r_date, r_time)"
        fields = self.spec.fields
        first, last = min(fields["date"].first, fields["time"].first), max(fields["date"].last, fields["time"].last)
        inside = [f for f in fields.values() if f.name not in ("date", "time") and f.first <= last and f.last >= first]
        return "r_date + r_time" if inside else f"s[{first}:{last + 1}]"  # _cut_fixed: k_when

    def _outputs(self) -> None:
        """The outputs' first values (what the generic mapping says), as variables for the live ones."""
        spec = self.spec
        self.values: dict[str, str] = {}
        for name in OUTPUTS:
            sources = spec.generic.get(name)
            default = "0" if name in _INT_OUTPUTS else "''"
            self.values[name] = " + ".join(f"f_{s}" for s in sources) if sources else default
        if "billduration" not in spec.generic:
            self.values["billduration"] = "None"
        self.values.update({"direction": "''", "event": "''", "skip": "''", "reject": "''",
                            "stage": repr(FINAL_STAGE), "continues": "False", "more": "False",
                            "time_is": repr(spec.time_is)})
        for name, value in self.values.items():
            if name in self.live:
                self.emit(f"o_{name} = {value}")

    def _out(self, name: str) -> str:
        """An output's value where the Record is built: its variable, or its one value."""
        return f"o_{name}" if name in self.live else self.values[name]

    def _build(self) -> None:
        if "skip" in self.live:
            self.emit("if o_skip:")
            self.emit("_skipped[o_skip] = _skipped.get(o_skip, 0) + 1", 2)
            self.emit("return None", 2)
        if "reject" in self.live:
            self.emit("if o_reject:")
            self.emit("raise RecordRejected('rejected', o_reject)", 2)
        if self.spec.format == "fixed" and self.spec.strict_columns:
            self._gap_checks()
        self.emit("if not o_direction:")
        self.emit("raise RecordRejected('no-direction', 'no rule of the layout recognised this record')", 2)
        out = self._out

        def optional(name: str) -> str:  # an empty text is no value
            value = out(name)
            return "None" if value == "''" else f"{value} or None"

        if "stage" in self.live:
            default_event = "_default_event[o_stage]"
        else:
            default_event = repr(DEFAULT_EVENT[FINAL_STAGE])
        event = out("event")
        values = {
            "raw": "t", "when": "when", "direction": "o_direction",
            "time_is_end": "o_time_is == 'end'" if "time_is" in self.live else repr(self.spec.time_is == "end"),
            "event": default_event if event == "''" else f"{event} or {default_event}",
            "stage": out("stage"), "agent": optional("agent"), "phone": optional("phone"),
            "linename": optional("linename"), "ring": out("ring"), "duration": out("duration"), "held": out("held"),
            "billduration": out("billduration"), "continues": out("continues"), "account": optional("account"),
            "call_ref": optional("call_ref"), "more": out("more"), "dated": repr(self.spec.dated),
            "unknown": self._unknowns(), "signal": out("signal"),
        }
        # by position, in the dataclass's own order (three times faster than by keyword)
        self.emit(f"return Record({', '.join(values[f.name] for f in dataclass_fields(Record))})")

    def _unknowns(self) -> str:
        """The expression naming the outputs whose field printed a sentinel."""
        pairs = [(name, f"u_{source}") for name in _INT_OUTPUTS for source in self.spec.generic.get(name, ())
                 if self.spec.fields[source].unknown]
        if not pairs:
            return "()"
        return f"tuple(n for n, hit in ({', '.join(f'({n!r}, {u})' for n, u in pairs)},) if hit)"

