"""Which layout and date order fit a capture: every layout is tried on the first records of it."""

from __future__ import annotations

from dataclasses import dataclass

from . import layouts
from .decoder import Decoder
from .normalize import Localizer, PhoneRules, zone
from .quarantine import Quarantine

# YMD is left out: a two-digit year first reads any DD/MM/YY date too (PBXs that print YMD print 4 digits)
ORDERS = ("MDY", "DMY")


@dataclass(slots=True)
class Fit:
    layout: str
    date_order: str
    parsed: int          # records that became events
    rejected: int        # records that would be quarantined
    skipped: int         # headers, separators, blank lines

    @property
    def score(self) -> float:
        tried = self.parsed + self.rejected
        return self.parsed / tried if tried else 0.0


def fits(sample: bytes, names: list[str] | None = None) -> list[Fit]:
    """Every (layout, date order) tried on ``sample``, best first."""
    localize = Localizer(zone("UTC"))
    results = []
    for name, info in sorted(layouts.available().items()):
        if names and name not in names:
            continue
        for order in ORDERS:
            decoder = Decoder("detect", info.compile(order), localize=localize, phone=PhoneRules(),
                              quarantine=Quarantine(None, log_first=False))
            decoder.feed(sample)
            decoder.finish()
            stats = decoder.stats
            parsed = stats.records - sum(stats.skipped.values()) - sum(stats.quarantined.values())
            results.append(Fit(name, order, parsed, sum(stats.quarantined.values()), sum(stats.skipped.values())))
    results.sort(key=lambda f: (-f.score, -f.parsed, f.layout, f.date_order))
    return results
