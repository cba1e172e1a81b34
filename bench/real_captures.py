"""Check the layouts against real PBX captures: every record is exact, quarantined, or a misparse.

    python bench/real_captures.py [--map MAPFILE] [-v] PATH...

PATH is a capture file or a folder of them (fetched from public call-accounting projects; they are not
committed). The layout of each file comes from MAPFILE (lines `file-name-glob = layout [ORDER]`, the
first match wins) or, without one, from `smdr detect`'s best fit. Each record is read by the layout and
by the phone rules (neutral ones: no area code, no country code), and checked against what the line
itself prints, found without the layout's columns: the date and time at its start, the duration
(HH:MM'SS) and ring (M'SS) wherever they are, the direction from <I>/<INCOMING>/incoming/EXTnnn, the
extension and CO tokens after the time, and the number: a hidden one (dots, X, ?) must give no phone,
any other must be digits (or a feature code) that the printed digits start with.

Prints, per file: records, exact, quarantined (by reason), misparsed; with -v every misparse with
its line and what differs. A misparse is a record the connector would send with a value the line
does not say: worse than a quarantine, which keeps the bytes and a reason.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from smdr import layouts
from smdr.detect import detect, sample_of
from smdr.framing import Framer
from smdr.layouts.record import Record, RecordRejected
from smdr.normalize import PhoneRules

NEUTRAL = PhoneRules(country_code="", area_code="")
if hasattr(NEUTRAL, "add_national_prefix"):  # so that the same script measures an older checkout too
    NEUTRAL.add_national_prefix = False
_START = re.compile(r"\f?\s*(?P<a>\d{1,2})/\s?(?P<b>\d{1,2})/(?P<c>\d{2})\s+(?P<flag>\*)?\s*"
                    r"(?P<h>\d{1,2}):(?P<m>\d{2})\s*(?P<ampm>[AP]M)?")
_DURATION = re.compile(r"(?<![\d'])(\d{2}):(\d{2})'(\d{2})")
_RING = re.compile(r"(?<![\d:'])(\d)'(\d{2})(?![\d'])")
_INBOUND = re.compile(r"(?:<I>|<INCOMING>|<\s*(?:DISA\s+|DIL\s+)?incoming\s*>|<\s*UCD\s+waiting\s*>) ?")
_HIDDEN = re.compile(r"[.X?]")
SENTINELS = {"99:59'59"}  # KX-TA: the counter overflowed, the length is unknown
_EXT_END = 22  # an extension token ends before this column on every Panasonic layout


@dataclass(slots=True)
class FileResult:
    records: int = 0
    exact: int = 0
    quarantined: Counter = field(default_factory=Counter)
    misparsed: list[tuple[int, str, str]] = field(default_factory=list)


def expected_problems(line: str, rec: Record, order: str) -> list[str]:
    """What the record says that the line does not (empty: the record is exact)."""
    start = _START.match(line)
    if start is None:
        return ["a record without a date and time at its start"]
    problems = []
    parts = {"MDY": ("a", "b"), "DMY": ("b", "a"), "YMD": ("c", "b")}[order]
    month, day = int(start.group(parts[0])), int(start.group(parts[1]))
    hour, minute = int(start.group("h")), int(start.group("m"))
    if start.group("ampm"):
        hour = hour % 12 + (12 if start.group("ampm") == "PM" else 0)
    if (rec.when.month, rec.when.day, rec.when.hour, rec.when.minute) != (month, day, hour, minute):
        problems.append(f"time {rec.when:%m-%d %H:%M} is not the printed {month:02}-{day:02} {hour:02}:{minute:02}")
    rest = line[start.end():]
    duration = _DURATION.search(rest)
    printed = int(duration[1]) * 3600 + int(duration[2]) * 60 + int(duration[3]) if duration else 0
    if duration and duration[0] in SENTINELS:
        if "duration" not in getattr(rec, "unknown", ()):
            problems.append(f"the overflow sentinel {duration[0]} sent as a duration of {rec.duration} s")
    elif rec.duration != printed:
        problems.append(f"duration {rec.duration} s, printed {printed} s")
    ring = _RING.search(rest)
    if ring and rec.ring != int(ring[1]) * 60 + int(ring[2]):
        problems.append(f"ring {rec.ring} s, printed {ring[0]}")
    tokens = [(m.group(), start.end() + m.start(), start.end() + m.end()) for m in re.finditer(r"\S+", rest)]
    ext = tokens[0][0] if tokens and tokens[0][2] <= _EXT_END else None
    after_ext = tokens[1:] if ext else tokens
    inbound = _INBOUND.search(line)
    internal = re.search(r"\bEXT(\d+)", line)
    if inbound:
        direction, text = "inbound", re.match(r"[0-9*#+.X?]*", line[inbound.end():]).group()
    elif internal and not after_ext[0][0].isdigit():
        direction, text = "internal", internal[1]
    else:
        direction = "outbound"
        text = after_ext[1][0] if len(after_ext) > 1 and not _DURATION.match(after_ext[1][0]) else ""
    if (rec.agent or None) != ext:
        problems.append(f"agent {rec.agent!r}, printed {ext!r}")
    co = after_ext[0][0] if after_ext and after_ext[0][0].isdigit() and direction != "internal" else None
    if (rec.linename or None) != co:
        problems.append(f"linename {rec.linename!r}, printed {co!r}")
    if rec.direction != direction:
        problems.append(f"direction {rec.direction}, the line says {direction}")
    phone = NEUTRAL.normalize(rec.phone, rec.direction)[0] if rec.phone else ""
    digits = re.sub(r"\D", "", text)
    if _HIDDEN.search(text):
        if phone:
            problems.append(f"phone {phone!r} sent for the hidden number {text!r}")
    elif phone and not (phone.isdigit() and digits.startswith(phone)) and phone[:1] not in ("*", "#"):
        problems.append(f"phone {phone!r} is not the printed number {text!r}")
    elif not phone and digits:
        problems.append(f"no phone for the printed number {text!r}")
    if direction == "outbound" and not text and co:
        problems.append("nothing dialled and no incoming marker: the direction is a guess")
    return problems


def check_file(path: Path, layout: str, order: str) -> FileResult:
    parser = layouts.find(layout).compile(order)
    framer = Framer(4096, lambda *_: None)
    lines = framer.feed(path.read_bytes())
    tail = framer.take_partial()
    result = FileResult()
    for number, raw in enumerate(lines + ([tail] if tail else []), 1):
        text = raw.decode("latin-1")
        try:
            rec = parser.parse(raw)
        except RecordRejected as exc:
            result.records += 1
            result.quarantined[f"{exc.kind}: {re.sub(r'[0-9]+', 'N', exc.detail)[:60]}"] += 1
            continue
        if rec is None:
            if _START.match(text):
                result.records += 1
                result.misparsed.append((number, text.rstrip(), "a record skipped as not a record"))
            continue
        result.records += 1
        problems = expected_problems(text, rec, order)
        if problems:
            result.misparsed.append((number, text.rstrip(), "; ".join(problems)))
        else:
            result.exact += 1
    return result


def layout_for(path: Path, mapping: list[tuple[str, str, str | None]]) -> tuple[str, str]:
    for pattern, layout, order in mapping:
        if fnmatch.fnmatch(path.name, pattern):
            info = layouts.find(layout)
            return layout, order or (info.spec.date_order if info.spec else "DMY")
    sample = sample_of(path.read_bytes()[:20000], complete=False)
    found = detect(sample, names=[n for n in layouts.available() if n.startswith("panasonic")])
    best = found.ranked[0]  # the best fit even when detection would call it unknown: every record is classified
    return best.name, best.dates.order


def read_map(path: str | None) -> list[tuple[str, str, str | None]]:
    if not path:
        return []
    mapping = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            pattern, _, right = line.partition("=")
            words = right.split()
            mapping.append((pattern.strip(), words[0], words[1] if len(words) > 1 else None))
    return mapping


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--map", help="lines `file-name-glob = layout [ORDER]`")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every misparse")
    args = ap.parse_args()
    mapping = read_map(args.map)
    files = sorted(p for arg in args.paths for p in ([Path(arg)] if Path(arg).is_file()
                                                     else Path(arg).rglob("*")) if p.is_file())
    totals = FileResult()
    print(f"{'file':44} {'layout':20} {'rec':>5} {'exact':>5} {'quar':>5} {'mis':>4}")
    for path in files:
        layout, order = layout_for(path, mapping)
        res = check_file(path, layout, order)
        quarantined = sum(res.quarantined.values())
        print(f"{path.name[:44]:44} {layout + ' ' + order:20} {res.records:5} {res.exact:5} {quarantined:5} "
              f"{len(res.misparsed):4}")
        for reason, count in res.quarantined.most_common():
            print(f"{'':8}quarantined {count:4} x {reason}")
        if args.verbose:
            for number, line, why in res.misparsed:
                print(f"{'':8}line {number}: {why}\n{'':10}{line}")
        totals.records += res.records
        totals.exact += res.exact
        totals.quarantined.update(res.quarantined)
        totals.misparsed.extend(res.misparsed)
    share = 100.0 * totals.exact / totals.records if totals.records else 0.0
    print(f"{'total':65} {totals.records:5} {totals.exact:5} {sum(totals.quarantined.values()):5} "
          f"{len(totals.misparsed):4}   {share:.1f}% exact   (checked {datetime.now():%Y-%m-%d})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
