"""The layout's rules as Python: a flat if-chain in one ``while True`` (a rule's ``stop`` is a break).

Half of the code generator (compiler.py): conditions become expressions over the typed fields
(``f_``), the outputs the rules touch (``o_``) and regex groups (``g_``); assignments become
statements. Each rule's YAML file and line are written above it as a comment.
"""

from __future__ import annotations

import re
from typing import Any

from . import runtime
from .spec import INT_OUTPUTS as _INT_OUTPUTS
from .spec import Condition, LayoutSpec, Rule

_INT_TYPES = runtime.INT_TYPES


class RuleCode:
    """The rules' half of compiler._Generator: it sets ``spec`` and ``lines`` (the function's lines)."""

    spec: LayoutSpec
    lines: list[str]

    def emit(self, text: str, indent: int = 1) -> None:
        self.lines.append("    " * indent + text)

    def _rules(self) -> None:
        if not self.spec.rules:
            return
        self.emit("while True:")
        for r, rule in enumerate(self.spec.rules):
            self._rule(r, rule)
        self.emit("break", 2)

    def _rule(self, r: int, rule: Rule) -> None:
        self.emit(f"# rule {r + 1} ({self.spec.path}:{rule.line})", 2)
        tests = [self._test(r, c, cond) for c, cond in enumerate(rule.conditions)]
        groups = {g: (r, c) for c, cond in enumerate(rule.conditions) if cond.op == "match"
                  for g in re.compile(cond.value).groupindex}
        body_indent = 3 if tests else 2
        if tests:
            self.emit(f"if {' and '.join(tests)}:", 2)
        used = {part[1:-1] for value in rule.assignments.values() if isinstance(value, str)
                for part in re.findall(r"\{[^{}]*\}", value)}
        for (rr, c) in sorted(set(groups.values())):
            for g in [g for g, pos in groups.items() if pos == (rr, c) and g in used]:
                self.emit(f"g_{g} = (m{rr}_{c}.group({g!r}) or '').strip()", body_indent)
        for key, value in rule.assignments.items():
            self.emit(f"o_{key} = {self._value(key, value, groups)}", body_indent)
        if rule.stop:
            self.emit("break", body_indent)
        if not tests and not rule.stop and not rule.assignments:
            self.emit("pass", body_indent)

    def _subject(self, name: str) -> str:
        if name == "record" and name not in self.spec.fields:
            return "t"  # the whole record, right-stripped
        return f"f_{name}" if name in self.spec.fields else f"o_{name}"

    def _is_int(self, name: str) -> bool:
        f = self.spec.fields.get(name)
        return f.type in _INT_TYPES if f else name in _INT_OUTPUTS

    def _test(self, r: int, c: int, cond: Condition) -> str:
        x, op, value = self._subject(cond.subject), cond.op, cond.value
        as_int = self._is_int(cond.subject)

        def lit(v: Any) -> str:
            if as_int:
                return repr(int(v))
            return repr(v if isinstance(v, bool) else str(v))

        if op == "eq":
            return f"{x} == {lit(value)}"
        if op == "ne":
            return f"{x} != {lit(value)}"
        if op == "in":
            return f"{x} in ({', '.join(lit(v) for v in value)},)"
        if op in ("startswith", "endswith"):
            return f"{x}.{op}({tuple(str(v) for v in value)!r})"
        if op == "contains":
            return f"{str(value)!r} in {x}"
        if op == "match":
            return f"(m{r}_{c} := _rx{r}_{c}.match({x})) is not None"
        if op == "empty":
            return f"not {x}" if value else f"bool({x})"
        if op == "digits":
            return f"{x}.isdigit()" if value else f"not {x}.isdigit()"
        if op in ("gt", "lt"):
            return f"{x} {'>' if op == 'gt' else '<'} {int(value)!r}"
        raise ValueError(op)

    def _value(self, key: str, value: Any, groups: dict[str, Any]) -> str:
        if not isinstance(value, str) or "{" not in value:
            if key in _INT_OUTPUTS:
                return repr(int(value))
            return repr(value)
        parts = re.split(r"(\{[^{}]*\})", value)
        exprs = []
        for part in parts:
            if part.startswith("{") and part.endswith("}"):
                name = part[1:-1]
                exprs.append(f"g_{name}" if name in groups else self._subject(name))
            elif part:
                exprs.append(repr(part))
        if key in _INT_OUTPUTS:
            return self._int_sum(key, parts, groups)
        return " + ".join(e if e.startswith(("'", '"')) or self._is_text(e) else f"str({e})" for e in exprs)

    def _is_text(self, expr: str) -> bool:
        """A generated name that always holds a str (a regex group, a text field or output)."""
        kind, _, name = expr.partition("_")
        if kind == "g":
            return True
        if kind == "f":
            return self.spec.fields[name].type not in _INT_TYPES
        return kind == "o" and name not in _INT_OUTPUTS and name not in ("billduration", "continues", "more")

    def _int_sum(self, key: str, parts: list[str], groups: dict[str, Any]) -> str:
        """``'{a}'`` or ``'{a} + {b}'``: the seconds of one reference, or of several added up (IP Office:
        a voicemail segment's connected time counted as held)."""
        refs = [p[1:-1] for p in parts if p.startswith("{") and p.endswith("}")]
        between = [p for p in parts if not (p.startswith("{") and p.endswith("}"))]
        if not refs or any(p.strip() not in ("", "+") for p in between) or sum(p.count("+") for p in between) != len(
                refs) - 1:
            raise ValueError(f"{key} takes a field reference, or several joined by '+'")
        terms = []
        for name in refs:
            expr = f"g_{name}" if name in groups else self._subject(name)
            if name in groups or not self._is_int(name):
                expr = f"_as_seconds({key!r}, {expr})"  # text: read it as a duration
            terms.append(expr)
        return " + ".join(terms)

