"""smdr parse: a capture (or a quarantine file, or stdin) through a layout, to JSONL, a table or CSV."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ..decoder import Decoder
from ..eventjson import EventJson
from ..journal import read_after, segments
from ..model import CDR_FIELDS, CallEvent
from ..normalize import PhoneRules
from ..quarantine import Quarantine, is_quarantine_path, read_quarantined
from ..source_spec import SourceSpec, make_decoder
from .options import add_detect_limits, add_normalization, iso_date, modified_date, phone_rules
from .progress import Progress

# Detection (every layout tried), timed replay (the file transport's timing reader), smdr.yaml and
# device profiles are imported where they are used: a capture parsed with --layout needs none of them.
if TYPE_CHECKING:
    from ..detect import Sample
    from ..devices import Device

CHUNK = 1 << 16
PARSE_YOUNG_COLLECTION_EVERY = 10_000  # container allocations between two young collections (default 700)
Writer = Callable[[list[CallEvent]], object]  # writes one batch of events


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("parse", help="parse a recorded stream and print normalized call events",
                       description="Parse a capture, a quarantine file (to re-process it after a layout "
                                   "fix) or standard input (-) and print the Generic call events.")
    p.add_argument("path", help="capture file, quarantine .jsonl file (or .gz), a source's journal directory "
                                "(data_dir/journal/NAME) or one of its segments, or - for standard input")
    p.add_argument("--layout", help="layout name (smdr layouts) or a layout YAML file (default: detected, "
                                    "as smdr detect does, and said on standard error)")
    p.add_argument("--device", help="device profile (smdr devices): gives the layout and date order")
    p.add_argument("--format", choices=("jsonl", "table", "csv"), default="jsonl",
                   help="jsonl: one call event per line (default; smdr outbox import reads it), table: for the "
                        "eye, csv: the CRM's fields")
    p.add_argument("--source", help="source name (part of every call_id; default: the file name)")
    p.add_argument("--date-order", choices=("MDY", "DMY", "YMD"), help="override the layout's date order")
    p.add_argument("--reference-date", type=iso_date, metavar="YYYY-MM-DD",
                   help="when the capture was recorded: the year of dates printed without one (Avaya CM), and "
                        "the date of records that print none (default: the file's modification date)")
    p.add_argument("--timing", metavar="PATH",
                   help="the capture's timing file (smdr record writes CAPTURE.timing; used when it exists): bytes "
                        "are received at the recorded times, and timers (rings that stop) decide as on the line")
    p.add_argument("--start", type=_iso_datetime, metavar="YYYY-MM-DDTHH:MM:SS",
                   help="when a timed capture began (default: the capture file's time less the timing's total)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="a parser option, as parser_options in smdr.yaml (VALUE is YAML: lines={1: '101'})")
    p.add_argument("--config", help="take time zone and phone rules from this smdr.yaml")
    p.add_argument("--quarantine", help="write unparsable records here (default: count and report only)")
    p.add_argument("-o", "--output", help="write here instead of standard output")
    add_normalization(p)
    add_detect_limits(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.path != "-" and Path(args.path).is_dir() and not segments(Path(args.path)):
        # only a source's journal is read as a folder
        raise IsADirectoryError(21, "Is a directory (and not a source's journal: data_dir/journal/NAME)", args.path)
    timezone, phone, site_phone, layout_dirs = "Asia/Tehran", PhoneRules(), None, None
    if args.config:
        from .. import config

        settings = config.load(args.config, need_sources=False)
        timezone, phone, layout_dirs = settings.timezone, settings.phone, settings.layout_dirs
        site_phone = settings.root.section("phone", optional=True)
    layout, date_order = args.layout, args.date_order
    options: dict = {}
    if args.device:
        from .. import devices

        device = devices.find(args.device)
        options.update(device.parser_options)
        layout = layout or device.layout
        date_order = date_order or device.date_order
        phone = _profile_phone(device, site_phone)
    reference = args.reference_date
    if reference is None and args.path != "-":
        reference = modified_date(args.path)
    head = b""
    if not layout:
        from ..detect import detect
        from .detect import summary, undecided

        sample, head = _sample(args)
        found = detect(sample, extra_dirs=layout_dirs, min_records=args.min_records, reference=reference)
        problem = undecided(found)
        if problem:
            print(f"smdr parse: no --layout given, and the capture does not say which layout reads it: {problem}; "
                  f"give --layout NAME or --device NAME (`smdr detect {args.path}` shows what each layout "
                  f"makes of it)", file=sys.stderr)
            return 2
        best = found.ranked[0]
        layout = best.name
        print(f"smdr parse: no --layout given: using {summary(found)}", file=sys.stderr)
        contradiction = found.contradiction(date_order)
        if contradiction:
            print(f"smdr parse: WARNING: {contradiction}; parsing with --date-order {date_order} as asked",
                  file=sys.stderr)
        date_order = date_order or best.dates.order
        profiles = found.devices.get(layout, [])
        if profiles:  # as the pasted config (device: ...) would run
            phone = _profile_phone(profiles[0], site_phone)
    if args.quarantine and args.path != "-" and Path(args.quarantine).resolve() == Path(args.path).resolve():
        print("smdr parse: --quarantine must be another file than the one being parsed", file=sys.stderr)
        return 2
    source = args.source or ("stdin" if args.path == "-" else Path(args.path).name)
    try:
        options.update(_options(args.option))
    except ValueError as exc:
        print(f"smdr parse: {exc}", file=sys.stderr)
        return 2
    spec = SourceSpec(name=source, url="", layout=layout, timezone=args.tz or timezone,
                      phone=phone_rules(args, phone), date_order=date_order, reference_date=reference,
                      parser_options=options, layout_dirs=layout_dirs)
    quarantine = Quarantine(args.quarantine)
    decoder = make_decoder(spec, quarantine)
    gc.freeze()  # modules, layouts, the compiled parser: kept to the end, so the collector leaves them be
    # a batch, not a daemon: a chunk's records and events live until its lines are written, and collecting
    # the young objects every 700 allocations took 4% of a 200k-record parse (10,000: 0.4%); no popup waits here
    young, middle, full = gc.get_threshold()
    gc.set_threshold(max(young, PARSE_YOUNG_COLLECTION_EVERY), middle, full)
    out = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout
    writer = _writer(args.format, out)
    timing = Path(args.timing) if args.timing else Path(f"{args.path}.timing")
    try:
        if args.path != "-" and (args.timing or timing.is_file()):
            from . import timed

            timed.feed(Path(args.path), timing, args.start, decoder, writer)
        else:
            _feed(args.path, decoder, writer, head)
    finally:
        quarantine.close()
        if args.output:
            out.close()
    stats = decoder.stats
    if stats.quarantined:
        where = f" (kept in {args.quarantine})" if args.quarantine else " (use --quarantine FILE to keep them)"
        print(f"smdr parse: {sum(stats.quarantined.values())} record(s) not parsed: "
              f"{', '.join(f'{k} {v}' for k, v in sorted(stats.quarantined.items()))}{where}", file=sys.stderr)
    return 0


def _profile_phone(device: Device, site_phone) -> PhoneRules:
    """The profile's phone rules, the config's on top."""
    phone = device.phone_rules(PhoneRules())
    return PhoneRules.from_section(site_phone, phone) if site_phone is not None else phone


def _sample(args: argparse.Namespace) -> tuple[Sample, bytes]:
    """The head of the input for detection, and the bytes taken from standard input to get it."""
    from ..detect import read_sample, sample_of

    if args.path == "-":
        return read_sample(sys.stdin.buffer, max_bytes=args.detect_bytes, max_lines=args.detect_lines)
    if _is_quarantine(args.path):
        raws = [raw for _source, raw in read_quarantined(args.path)]
        data = b"\n".join(raws[: args.detect_lines])
        return sample_of(data, max_lines=args.detect_lines), b""
    found = segments(Path(args.path)) if Path(args.path).is_dir() else [Path(args.path)]  # a journal: its first
    with open(found[0] if found else args.path, "rb") as handle:
        sample, _ = read_sample(handle, max_bytes=args.detect_bytes, max_lines=args.detect_lines)
    return sample, b""


def _iso_datetime(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time like 2026-01-14T09:30:00") from None


def _options(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--option {pair!r}: expected KEY=VALUE")
        import yaml  # only for --option (tens of milliseconds to import)

        out[key.strip()] = yaml.safe_load(value) if value.strip() else ""
    return out


def _is_quarantine(path: str) -> bool:
    return is_quarantine_path(path)  # plain or gzip-compressed (a rotated file)


def _feed(path: str, decoder: Decoder, write: Writer, head: bytes = b"") -> None:
    """``head``: bytes already read from standard input (for detection), fed first."""
    if path != "-" and Path(path).is_dir():
        # a source's raw journal: its segments in order, every record at the time it was read
        for chunk, received_at in read_after(Path(path), 0):
            write(decoder.feed(chunk, received_at))
        write(decoder.finish())
        return
    if path != "-" and _is_quarantine(path):
        for _source, raw in list(read_quarantined(path)):
            write(decoder.records([raw]))
        return
    handle: IO[bytes] = sys.stdin.buffer if path == "-" else open(path, "rb")
    total = None if path == "-" else Path(path).stat().st_size
    progress = Progress(total)
    try:
        if head:
            write(decoder.feed(head))
            progress.advance(len(head), decoder.events)
        while chunk := handle.read(CHUNK):
            write(decoder.feed(chunk))
            progress.advance(len(chunk), decoder.events)
        write(decoder.finish())
    finally:
        progress.close()
        if handle is not sys.stdin.buffer:
            handle.close()


def _writer(fmt: str, out: IO[str]) -> Writer:
    """What writes a batch of events (one decoder chunk's) to ``out`` in ``fmt``: one write per batch."""
    if fmt == "jsonl":
        lines = EventJson().lines
        return lambda events: out.write(lines(events))
    if fmt == "csv":
        import csv

        rows = csv.writer(out)
        rows.writerow(CDR_FIELDS)
        return lambda events: rows.writerows([_values(event, CDR_FIELDS) for event in events])
    columns = ("starttime", "endtime", "direction", "event", "agent", "phone", "linename", "duration", "call_id")
    widths = (25, 25, 9, 11, 6, 16, 8, 8, 20)
    out.write(" ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip() + "\n")

    def table_rows(events: list[CallEvent]) -> None:
        out.write("".join(" ".join(v.ljust(w) for v, w in zip(_values(event, columns), widths)).rstrip() + "\n"
                          for event in events))

    return table_rows


def _values(event: CallEvent, names: tuple[str, ...]) -> list[str]:
    """What the PBX gave, as text: a value it did not print stays empty (no CRM placeholder)."""
    data = event.to_dict()
    return ["" if data[name] is None else str(data[name]) for name in names]
