"""A source's settings and the decoder they make: what reading a source needs apart from its I/O.

``smdr parse`` of a file needs this and not the event loop, the transports or the CRM client
(smdr.pipeline, which runs a live source, imports those).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import layouts
from .decoder import Decoder
from .layouts.record import ParserContext
from .normalize import Localizer, PhoneRules, zone
from .quarantine import Quarantine


@dataclass(slots=True)
class SourceSpec:
    name: str
    url: str
    layout: str
    timezone: str = "Asia/Tehran"
    phone: PhoneRules = field(default_factory=PhoneRules)
    date_order: str | None = None
    gateway: str | None = None
    tolerance: int | None = None
    transport_options: dict = field(default_factory=dict)
    max_record: int = 4096
    layout_dirs: list[str] | None = None
    state_path: Path | None = None  # where the source's open calls are kept across a restart
    journal_dir: Path | None = None  # a live source's raw journal (smdr.journal)
    parser_options: dict = field(default_factory=dict)  # handed to the parser in its context
    reference_date: date | None = None  # for year-less dates when nothing says when bytes were received
    silent_after: float = 0.0  # seconds without a byte before a warning (0: never)
    clock_tolerance: float = 600.0  # seconds between printed and received time before "wrong PBX clock"
    call_space: str | None = None  # sources of one call space merge their records of one real call
    space_lines: dict[str, str] = field(default_factory=dict)  # this source's line names -> the space's


def make_decoder(spec: SourceSpec, quarantine: Quarantine | None = None) -> Decoder:
    info = layouts.find(spec.layout, spec.layout_dirs)
    tz = zone(spec.timezone)
    context = ParserContext(date_order=spec.date_order, zone=tz, options=dict(spec.parser_options),
                            reference_date=spec.reference_date)
    parser = info.compile(spec.date_order, context)
    tolerance = spec.tolerance if spec.tolerance is not None else info.fold_tolerance
    return Decoder(spec.name, parser, localize=Localizer(tz), phone=spec.phone,
                   quarantine=quarantine, tolerance=tolerance, gateway=spec.gateway or spec.name,
                   max_record=spec.max_record, fold=info.fold, context=context)
