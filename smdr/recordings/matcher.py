"""Which call a recording belongs to: line, number and time against the calls the connector delivered.

A call is a candidate when the recording's time lies within its span (start .. end, or start +
duration) widened by ``window`` seconds, and neither the line nor the number contradicts it (a side
that does not know one is no contradiction). Candidates with more agreeing evidence (line, number)
come first, then the nearest in time. When the best two are alike (same evidence, within
``_TIE_SECONDS`` of each other) the file stays unmatched: a wrong link on a customer's call is worse
than a file listed for a person to look at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..evidence import line_key, same_line, same_number
from ..model import FINAL_EVENTS, CallEvent
from .pattern import FileFacts

_TIE_SECONDS = 5.0
_MAX_CALLS = 20000


@dataclass(slots=True)
class Match:
    event: CallEvent | None
    reason: str = ""      # why there is none


class CallIndex:
    """The last final event of each call (bounded: the newest ``_MAX_CALLS`` calls)."""

    def __init__(self, lines: dict[str, str] | None = None, window: float = 120.0) -> None:
        self.lines = {line_key(k): v for k, v in (lines or {}).items()}
        self.window = timedelta(seconds=window)
        self._calls: dict[str, CallEvent] = {}

    def __len__(self) -> int:
        return len(self._calls)

    def get(self, call_id: str) -> CallEvent | None:
        return self._calls.get(call_id)

    def note(self, event: CallEvent) -> bool:
        """Remember a final event; True if it is one (calls end with answered, no_answer or busy)."""
        if event.event not in FINAL_EVENTS or event.starttime is None:
            return False
        calls = self._calls
        calls.pop(event.call_id, None)
        calls[event.call_id] = event
        if len(calls) > _MAX_CALLS:
            del calls[next(iter(calls))]
        return True

    def span(self, event: CallEvent) -> tuple[datetime, datetime]:
        assert event.starttime is not None
        end = event.endtime or event.starttime + timedelta(seconds=event.duration)
        return event.starttime, max(end, event.starttime)

    def match(self, facts: FileFacts, at: datetime) -> Match:
        ranked: list[tuple[int, float, CallEvent]] = []
        for event in self._calls.values():
            start, end = self.span(event)
            if not start - self.window <= at <= end + self.window:
                continue
            evidence = 0
            if facts.line is not None and event.linename:
                if not same_line(self.lines.get(line_key(facts.line), facts.line), event.linename):
                    continue
                evidence += 1
            if facts.number and event.phone:
                if not same_number(facts.number, event.phone):
                    continue
                evidence += 1
            distance = 0.0 if start <= at <= end else min(abs((at - start).total_seconds()),
                                                          abs((at - end).total_seconds()))
            ranked.append((evidence, distance, event))
        if facts.line is not None or facts.number:
            ranked = [r for r in ranked if r[0] > 0]  # the name tells more than the time: it must agree
        if not ranked:
            return Match(None, "no call fits its line, number and time")
        ranked.sort(key=lambda r: (-r[0], r[1]))
        best = ranked[0]
        if len(ranked) > 1 and ranked[1][0] == best[0] and ranked[1][1] - best[1] <= _TIE_SECONDS:
            return Match(None, f"{len(ranked)} calls fit it alike ({best[2].call_id}, {ranked[1][2].call_id})")
        return Match(best[2])
