"""What a layout makes of one record: the PBX's facts, mapped to Generic terms, before folding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..errors import SmdrError

RINGING_STAGE = "ringing"      # printed while the call rings (caller-ID line, RC): opens a popup
ANSWERED_STAGE = "answered"    # printed when it is answered (AN): the call is in progress
FINAL_STAGE = "final"          # printed when it ended: the record of the call (or of one leg)
STAGES = (RINGING_STAGE, ANSWERED_STAGE, FINAL_STAGE)


@dataclass(slots=True)
class Record:
    raw: str
    when: datetime          # the printed date and time, naive local wall time
    time_is_end: bool       # True: `when` is the end of the call (start = end - duration - ring)
    direction: str
    event: str
    stage: str
    agent: str | None
    phone: str | None
    linename: str | None
    ring: int
    duration: int
    billduration: int | None
    continues: bool         # a later leg of a call printed before (transfer: TR, `*`)
    account: str | None


class RecordRejected(SmdrError):
    """A record no rule can parse: it goes to quarantine, raw, with this reason."""

    def __init__(self, kind: str, detail: str) -> None:
        self.kind, self.detail = kind, detail
        super().__init__(f"{kind}: {detail}")


class Parser(Protocol):
    """What a compiled YAML layout is and what a code parser (entry point ``smdr.parsers``) provides.

    ``parse`` returns a Record, None for a line that is not a record (header, separator, blank: it is
    counted in ``skipped`` by reason), or raises RecordRejected.
    """

    name: str
    skipped: dict[str, int]

    def parse(self, line: bytes) -> Record | None: ...
