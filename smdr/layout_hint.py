"""A source whose records no call comes out of: say which layout they do fit, once.

A PBX set to another record pattern than the layout configured (Panasonic Pattern B instead of A) is
otherwise only a growing quarantine. After ``AFTER_RECORDS`` records without one call event, the first
bytes of the source are tried with every layout (as ``smdr detect`` does) and the best fit is named.
"""

from __future__ import annotations

import logging

from .detect import fits

log = logging.getLogger("smdr.pipeline")

AFTER_RECORDS = 10
SAMPLE_BYTES = 16 * 1024


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
        better = [fit for fit in fits(bytes(self.sample)) if fit.parsed and fit.layout != self.layout]
        if not better:
            advice = (f"{self.source}: {records} records and not one call: no layout reads them; check the port "
                      "settings (a wrong baud rate gives garbage) or write a layout (parsers/README.md)")
        else:
            best = better[0]
            advice = (f"{self.source}: {records} records and not one call with layout {self.layout}; they fit "
                      f"layout {best.layout} (date order {best.date_order}, {best.score:.0%} of them): set "
                      f"layout: {best.layout} on this source")
        log.warning("%s", advice)
        return advice
