"""What a layout shows about a capture beyond reading its records, measured from the layout's own spec.

Layouts are ranked by the records they read, each counted by the share of its text that falls inside
the layout's fields, less the records they would quarantine. Layouts that read the same records
(families that share their columns) are then told apart by:
- page headers: lines that a skip rule whose reason names a header (header, title, heading) matches;
- columns: text of the records that falls outside every field of a layout (a column another family
  fills and this one does not have);
- the date order: the capture's order, when the capture proves it, is the layout's own default.
Nothing here knows a vendor: every measure comes from the layout's fields, skip rules and date order.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field

from ..layouts import LayoutInfo, LayoutSpec
from .dates import DateOrder
from .trial import Trial

_HEADER_REASON = re.compile(r"header|title|heading|banner", re.IGNORECASE)
DATE_RECORD_REASON = "date-record"   # the skip reason compiled layouts count a matched date record under


@dataclass(slots=True)
class Candidate:
    info: LayoutInfo
    trial: Trial                      # in the chosen date order
    dates: DateOrder
    default_order: str
    headers: set[int] = field(default_factory=set)     # line indices of page headers it recognises
    date_records: int = 0             # the PBX's date records it recognised (they are skipped, not read)
    outside: int = 0                  # characters of its records that no field of it covers
    outside_records: int = 0
    outside_example: int = -1        # line index of the first record with text outside its fields
    explained: float = 0.0            # its records, each counted by the share of its text inside the fields

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def net(self) -> int:
        return self.trial.read - len(self.trial.rejected)

    @property
    def order_agrees(self) -> bool:
        return self.dates.proven and self.dates.order == self.default_order

    @property
    def score(self) -> float:
        """Records read (each by the share of its text the layout's fields explain) less records rejected:
        a layout that "reads" another family's records leaves their text outside its fields."""
        return self.explained - len(self.trial.rejected)

    @property
    def unchecked(self) -> bool:
        """Its records print no time of day (their time is when they were received) and the capture shows
        none of its date records or headers: any line of the right shape fits, so its reading proves little."""
        spec = self.info.spec
        prints_no_time = spec is not None and not ({"time", "datetime"} & spec.fields.keys())
        return prints_no_time and not (self.headers or self.date_records)

    def rank_key(self) -> tuple:
        return (self.unchecked, -round(self.score, 6), -len(self.headers), self.outside, not self.order_agrees)


def measure(candidate: Candidate) -> None:
    spec = candidate.info.spec
    trial = candidate.trial
    lines = trial.frames
    candidate.headers = {i for i, reason in trial.skipped.items()
                         if _HEADER_REASON.search(reason) and _is_header(spec, lines[i])}
    candidate.date_records = sum(1 for reason in trial.skipped.values() if reason == DATE_RECORD_REASON)
    candidate.explained = float(trial.read)
    if spec is None:
        return
    counter, total = _outside_counter(spec), _text_counter(spec)
    for index, record in trial.records.items():
        n = counter(record.raw)
        if n:
            candidate.explained -= min(1.0, n / max(1, total(record.raw)))
            candidate.outside += n
            candidate.outside_records += 1
            if candidate.outside_example < 0:
                candidate.outside_example = index


def _is_header(spec: LayoutSpec | None, line: bytes) -> bool:
    """A CSV layout with ``header: true`` takes its first line as the header whatever it is: it counts as
    a page header only if it names one of the layout's columns."""
    if spec is None or spec.format != "csv" or not spec.header:
        return True
    text = line.decode(spec.encoding, "replace").lower()
    names = [f.column.strip().lower() for f in spec.fields.values() if f.column]
    return any(name and name in text for name in names)


def _text_counter(spec: LayoutSpec):
    """A function: record text -> how much text it has, in the unit of ``_outside_counter``."""
    if spec.format == "csv":
        delimiter, quoting = spec.delimiter, spec.quoting

        def cells(text: str) -> int:
            parts = next(csv.reader([text], delimiter=delimiter), []) if quoting else text.split(delimiter)
            return sum(1 for cell in parts if cell.strip())

        return cells
    return lambda text: len(text.replace(" ", ""))


def _outside_counter(spec: LayoutSpec):
    """A function: record text -> how many non-blank characters lie outside the layout's fields."""
    if spec.format == "fixed":
        covered = sorted((f.first, f.last + 1) for f in spec.fields.values())
        spans, end = [], 0
        for first, stop in covered:
            if first > end:
                spans.append((end, first))
            end = max(end, stop)
        return lambda text: sum(len(text[a:b].replace(" ", "")) for a, b in spans) + len(text[end:].replace(" ", ""))
    if spec.format == "csv":
        if any(f.index is None for f in spec.fields.values()):
            return lambda text: 0   # fields found by header name: where they are depends on the header
        indices = {f.index for f in spec.fields.values()}
        delimiter, quoting = spec.delimiter, spec.quoting

        def outside_csv(text: str) -> int:
            cells = next(csv.reader([text], delimiter=delimiter), []) if quoting else text.split(delimiter)
            return sum(1 for i, cell in enumerate(cells) if i not in indices and cell.strip())

        return outside_csv
    pattern = re.compile(spec.pattern or "")

    def outside_regex(text: str) -> int:
        m = pattern.match(text)
        if m is None:
            return 0
        inside = sum(len((m.group(name) or "").replace(" ", "")) for name in pattern.groupindex)
        return max(0, len(text.replace(" ", "")) - inside)

    return outside_regex


def rank(candidates: list[Candidate]) -> list[Candidate]:
    """Best first; candidates equal on every measure keep no order between them (see ``ties``)."""
    return sorted(candidates, key=Candidate.rank_key)


def ties(ranked: list[Candidate]) -> list[Candidate]:
    """Candidates that nothing tells apart from the best."""
    best = ranked[0].rank_key()
    return [c for c in ranked if c.rank_key() == best]


def rivals(ranked: list[Candidate]) -> list[Candidate]:
    """Layouts ranked below the best that read as many of the capture's records (less rejections) or more:
    only evidence put them below."""
    best = ranked[0]
    return [c for c in ranked[1:] if c.net >= best.net]


def why_better(best: Candidate, rival: Candidate) -> list[str]:
    """The evidence that puts ``best`` before ``rival`` (empty when they are equal)."""
    reasons = []
    if rival.net > best.net:
        reasons.append(f"it reads {rival.trial.read} records and would quarantine {len(rival.trial.rejected)} "
                       f"({best.name}: {best.trial.read} and {len(best.trial.rejected)}), but reads them "
                       f"with text outside its fields")
    only_best = best.headers - rival.headers
    if len(best.headers) > len(rival.headers) and only_best:
        reasons.append(f"{len(only_best)} page header line(s) that {best.name}'s skip rules name as a header "
                       f"and {rival.name}'s do not (e.g. record {min(only_best) + 1})")
    if rival.outside > best.outside:
        unit = "cell(s)" if best.info.spec is not None and best.info.spec.format == "csv" else "character(s)"
        reasons.append(f"text on {rival.outside_records} record(s) lies outside every field of {rival.name} "
                       f"({rival.outside - best.outside} {unit}, e.g. record {rival.outside_example + 1}); "
                       f"{best.name} has fields there")
    if best.order_agrees and not rival.order_agrees:
        reasons.append(f"the capture's date order {best.dates.order} is {best.name}'s own "
                       f"({rival.name} prints {rival.default_order} unless set otherwise)")
    return reasons
