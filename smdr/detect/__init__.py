"""Which layout, device profile and date order a capture comes from: every layout is tried on its head.

Each layout is tried in each date order on the first records of the capture (smdr.detect.sample);
its date order is inferred from the sequence of what it read (smdr.detect.dates); layouts are ranked
by the records they read (by the share of each record's text their fields explain) less the records
they would quarantine, and layouts that read the same records are told apart by evidence from their
own specs (smdr.detect.evidence). A capture that no
layout reads convincingly is "unknown": detection never recommends a layout that would quarantine
most of it, nor one that reads only a handful of its lines.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from .. import devices, layouts
from ..detect_limits import MIN_RECORDS
from ..devices import Device
from ..errors import LayoutNotFound
from ..layouts.fields import DATE_ORDERS
from .dates import COMPETING, DateOrder, infer, same_dates
from .evidence import Candidate, measure, rank, rivals, ties, why_better
from .sample import MAX_BYTES, MAX_LINES, Sample, read_sample, sample_of
from .trial import Trial, run_trial

__all__ = ["Detection", "Candidate", "DateOrder", "Sample", "default_order", "detect", "read_sample", "sample_of",
           "MAX_BYTES", "MAX_LINES", "MIN_RECORDS", "MIN_SHARE", "PROBE_LINES"]

log = logging.getLogger("smdr.detect")

MIN_SHARE = 0.6       # the layout must read at least this share of the records it does not skip
MIN_LINE_SHARE = 0.3  # ... and its records must be at least this share of all the lines
PROBE_LINES = 200     # a layout that reads none of the first this many records, in any order, is left out


@dataclass(slots=True)
class Detection:
    sample: Sample
    ranked: list[Candidate]
    devices: dict[str, list[Device]]          # layout name -> the profiles that list it
    unknown: str = ""                         # why the capture is unknown ("" when a layout was found)
    tied: list[Candidate] = field(default_factory=list)    # equal to the best on every measure
    rivals: list[tuple[Candidate, list[str]]] = field(default_factory=list)  # read as much, and why not them

    @property
    def best(self) -> Candidate | None:
        return self.ranked[0] if self.ranked and not self.unknown else None

    def vendor(self, layout: str) -> str:
        """The first word of the title of the first profile that lists ``layout`` ("" when none does)."""
        titles = [d.title for d in self.devices.get(layout, []) if d.title]
        return titles[0].split()[0] if titles else ""

    def contradiction(self, configured: str | None) -> str:
        """A warning when the capture proves another date order than ``configured``, else ""."""
        best = self.best
        if best is None or not configured or not best.dates.proven or configured == best.dates.order:
            return ""
        return (f"the capture's dates are {best.dates.order}, the configured date order is {configured}: "
                + "; ".join(best.dates.evidence))


def detect(sample: Sample, *, names: list[str] | None = None, extra_dirs: list[str] | None = None,
           min_records: int = MIN_RECORDS, reference: date | None = None,
           device_dirs: list[str] | None = None) -> Detection:
    """``reference``: when the capture was made (the year of year-less dates; the date of date-less records)."""
    found = layouts.available(extra_dirs)
    profiles = _profiles(device_dirs)
    if names:
        missing = [n for n in names if n not in found]
        if missing:
            raise LayoutNotFound(f"no layout named {', '.join(missing)}; `smdr layouts` lists them")
    candidates = []
    for name, info in sorted(found.items()):
        if names and name not in names:
            continue
        candidate = _try(info, sample, reference)
        if candidate is not None:
            candidates.append(candidate)
    ranked = rank(candidates)
    result = Detection(sample, ranked, profiles)
    result.unknown = _unknown_reason(sample, ranked, min_records)
    if not result.unknown:
        best = ranked[0]
        result.tied = ties(ranked)
        result.rivals = [(c, why_better(best, c)) for c in rivals(ranked) if c not in result.tied]
    return result


def _try(info: layouts.LayoutInfo, sample: Sample, reference: date | None) -> Candidate | None:
    if len(sample.lines) > PROBE_LINES and not any(_reads_any(info, order, sample, reference) for order in COMPETING):
        return None  # reads none of the first records in any order: not worth the whole sample
    trials: dict[str, Trial] = {}
    for order in COMPETING:
        trial = run_trial(info, order, sample, reference)
        if trial is not None:
            trials[order] = trial
    if len(trials) < len(COMPETING) or same_dates(list(trials.values())):
        # the other orders only matter when these two cannot tell the dates apart (year first?)
        for order in (o for o in DATE_ORDERS if o not in COMPETING):
            trial = run_trial(info, order, sample, reference)
            if trial is not None:
                trials[order] = trial
    if not trials:
        return None
    default = default_order(info)
    dates = infer(trials, default)
    trial = trials.get(dates.order) or max(trials.values(), key=lambda t: t.read)
    candidate = Candidate(info, trial, dates, default)
    measure(candidate)
    return candidate


def _reads_any(info: layouts.LayoutInfo, order: str, sample: Sample, reference: date | None) -> bool:
    trial = run_trial(info, order, sample, reference, limit=PROBE_LINES)
    return trial is not None and trial.read > 0


def default_order(info: layouts.LayoutInfo) -> str:
    """The date order a layout reads by default (a code parser: the one it takes when given none)."""
    if info.spec is not None:
        return info.spec.date_order
    try:
        return getattr(info.compile(None), "date_order", None) or "MDY"
    except Exception:  # noqa: BLE001 - a code parser that cannot be built has no default either
        return "MDY"


def _profiles(device_dirs: list[str] | None) -> dict[str, list[Device]]:
    by_layout: dict[str, list[Device]] = {}
    try:
        found = devices.available(device_dirs)
    except Exception as exc:  # noqa: BLE001 - a broken profile must not stop detection
        log.warning("device profiles not read: %s", exc)
        return by_layout
    for device in sorted(found.values(), key=lambda d: d.name):
        for layout in device.layouts:
            by_layout.setdefault(layout, []).append(device)
    for layout, listed in by_layout.items():  # the profiles whose own layout it is come first
        listed.sort(key=lambda d: d.layout != layout)
    return by_layout


def _unknown_reason(sample: Sample, ranked: list[Candidate], min_records: int) -> str:
    if not sample.data.strip(b"\r\n\x0c\x00 "):
        return "the capture is empty (no record in it)"
    if not ranked or ranked[0].trial.read == 0:
        return "no layout reads any record of it"
    best = ranked[0]
    read, rejected = best.trial.read, len(best.trial.rejected)
    if read < min_records:
        return (f"only {read} record(s) are read (by {best.name}): too few to tell a PBX's output from a few "
                f"lines that happen to fit; capture more")
    if read < MIN_SHARE * (read + rejected):
        return (f"the layout that reads most of it ({best.name}) would quarantine {rejected} of its "
                f"{read + rejected} records")
    frames = len(best.trial.frames)
    if read < MIN_LINE_SHARE * frames:
        return (f"the layout that reads most of it ({best.name}) reads {read} of its {frames} records "
                f"and skips the rest: it is not this layout's output")
    if best.unchecked:
        return (f"the layout that reads most of it ({best.name}) prints no time in its records, so lines that fit "
                f"its columns prove little, and the capture has none of its date records or headers")
    return ""
