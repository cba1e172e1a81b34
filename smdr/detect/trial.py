"""One layout, in one date order, on every record of a sample: which records it reads, skips, rejects."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from ..layouts import LayoutInfo, Record, RecordRejected
from ..layouts.record import ParserContext
from .sample import Sample

log = logging.getLogger("smdr.detect")


@dataclass(slots=True)
class Trial:
    layout: str
    order: str
    records: dict[int, Record] = field(default_factory=dict)   # line index -> what the layout made of it
    rejected: dict[int, str] = field(default_factory=dict)     # line index -> why it would be quarantined
    skipped: dict[int, str] = field(default_factory=dict)      # line index -> skip reason (header, blank...)
    frames: list[bytes] = field(default_factory=list)          # what it was given (own framer: its frames)

    @property
    def read(self) -> int:
        return len(self.records)


def run_trial(info: LayoutInfo, order: str, sample: Sample, reference: date | None = None,
              limit: int | None = None) -> Trial | None:
    """None when the layout cannot be compiled in this order (a code parser may refuse one).

    ``reference``: when the capture was made, for dates printed without a year or without a date.
    ``limit``: try only the first records. A parser with its own framer frames the sample's bytes itself."""
    try:
        parser = info.compile(order, ParserContext(date_order=order, reference_date=reference))
        lines = _frames(parser, sample)
    except Exception as exc:  # noqa: BLE001 - one broken layout must not stop detection
        log.debug("layout %s cannot be tried in order %s: %s", info.name, order, exc)
        return None
    lines = lines[:limit] if limit is not None else lines
    trial = Trial(info.name, order, frames=lines)
    skipped = parser.skipped
    seen = dict(skipped)
    for index, line in enumerate(lines):
        try:
            record = parser.parse(line)
        except RecordRejected as exc:
            trial.rejected[index] = f"{exc.kind}: {exc.detail}"
            continue
        except Exception as exc:  # noqa: BLE001 - a code parser's bug is a rejection, as in a source
            trial.rejected[index] = f"parser-error: {type(exc).__name__}: {exc}"
            continue
        if isinstance(record, list):  # a code parser may give several records for one line
            record = record[0] if record else None
        if record is not None:
            trial.records[index] = record
            continue
        reason = next((k for k, n in skipped.items() if seen.get(k) != n), "skipped")
        seen[reason] = skipped.get(reason, 0)
        trial.skipped[index] = reason
    return trial


def _frames(parser, sample: Sample) -> list[bytes]:
    framer = getattr(parser, "framer", None)
    if framer is None:
        return sample.lines
    frames = framer.feed(sample.data)
    if sample.complete:
        tail = framer.take_partial()
        if tail:
            frames.append(tail)
    return frames[: sample.max_lines]
