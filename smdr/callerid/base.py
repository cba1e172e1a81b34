"""What every caller-ID parser shares: the record of one line event, timed by the received clock."""

from __future__ import annotations

from typing import ClassVar

from ..layouts.record import ANSWERED_STAGE, FINAL_STAGE, RINGING_STAGE, ParserContext, Record
from ..model import INBOUND

_STAGE = {"ring": RINGING_STAGE, "caller_id": RINGING_STAGE, "off_hook": ANSWERED_STAGE}
# what a box may put where a number would be when there is none (O unavailable, P private, ...)
NO_NUMBER = frozenset({"", "O", "P", "A", "PRIVATE", "ANONYMOUS", "NO NUMBER", "OUT-OF-AREA", "OUT OF AREA",
                       "UNAVAILABLE", "RESTRICTED", "WITHHELD", "UNKNOWN"})


def number_or_none(text: str) -> str | None:
    """The caller's number, or None where the box says there is none (private, out of area)."""
    value = text.strip()
    if value.upper() in NO_NUMBER or not any(c.isdigit() for c in value):
        return None
    return value


class LineEventParser:
    """Base of the caller-ID parsers: ``event(raw, signal, ...)`` builds the Record of one line event."""

    fold = "line_state"
    fold_tolerance = 120
    name = "callerid"
    fold_options: ClassVar[dict[str, str]] = {}  # the line_state fold's defaults here (parser_options win)

    def __init__(self, context: ParserContext) -> None:
        self.context = context
        self.skipped: dict[str, int] = {}
        self.default_line = str(context.options.get("line", "1"))

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def event(self, raw: str, signal: str, *, line: str | None = None, phone: str | None = None,
              duration: int = 0, direction: str = INBOUND) -> Record:
        return Record(raw=raw, when=self.context.received_moment(), direction=direction, time_is_end=False,
                      stage=_STAGE.get(signal, FINAL_STAGE), phone=phone, linename=line or self.default_line,
                      duration=duration, dated=False, signal=signal)
