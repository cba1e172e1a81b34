"""A source whose records no call comes out of: say which layout they do fit, once.

A PBX set to another record pattern than the layout configured (Panasonic Pattern B instead of A) is
otherwise only a growing quarantine. After ``AFTER_RECORDS`` records without one call event, the first
bytes of the source are tried with every layout (as ``smdr detect`` does) and the best fit is named.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .detect import detect, sample_of

log = logging.getLogger("smdr.pipeline")

AFTER_RECORDS = 10
SAMPLE_BYTES = 16 * 1024


@dataclass(slots=True, frozen=True)
class Fit:
    layout: str
    date_order: str
    share: float  # of the records it does not skip, the share it reads


def better_layout(sample: bytes, configured: str, layout_dirs: list[str] | None = None) -> Fit | None:
    """The layout ``sample`` convincingly fits (as ``smdr detect`` decides), when it is not ``configured``."""
    best = detect(sample_of(sample), extra_dirs=layout_dirs).best
    if best is None or best.name == configured:
        return None
    tried = best.trial.read + len(best.trial.rejected)
    return Fit(best.name, best.dates.order, best.trial.read / tried if tried else 0.0)


class LayoutHint:
    __slots__ = ("source", "layout", "sample", "done")

    def __init__(self, source: str, layout: str) -> None:
        self.source, self.layout = source, layout
        self.sample = bytearray()
        self.done = False

    def wants_advice(self, chunk: bytes, records: int, events: int) -> bool:
        """Keep the first bytes; True (once) when there are enough records and no event: call ``advise``."""
        if self.done:
            return False
        if events:
            self.done = True
            return False
        if len(self.sample) < SAMPLE_BYTES:
            self.sample += chunk[: SAMPLE_BYTES - len(self.sample)]
        if records < AFTER_RECORDS:
            return False
        self.done = True
        return True

    def advise(self, records: int) -> str:
        """Try every layout on the sample (a fraction of a second: run it in a thread); logged too."""
        best = better_layout(bytes(self.sample), self.layout)
        if best is None:
            advice = (f"{self.source}: {records} records and not one call: no layout reads them; check the port "
                      "settings (a wrong baud rate gives garbage) or write a layout (parsers/README.md)")
        else:
            advice = (f"{self.source}: {records} records and not one call with layout {self.layout}; they fit "
                      f"layout {best.layout} (date order {best.date_order}, {best.share:.0%} of them): set "
                      f"layout: {best.layout} on this source")
        log.warning("%s", advice)
        return advice
