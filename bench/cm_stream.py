"""Synthetic Avaya CM CDR streams for benchmarks, one per CM layout (standard library only).

Records are placed on the column tables of fixtures/avaya-cm/make_fixtures.py (the fixtures' own
generator, so the bench and the fixtures share one definition of each format): about 45 % incoming
(a third of them with a G ring record first), 35 % outgoing ARS, 20 % intraswitch; end times advance
through the day, with a date record at link-up and at every midnight, as CM sends them.

    python bench/cm_stream.py unformatted -n 100000 -o /tmp/cm.smdr
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location(
    "cm_make_fixtures", Path(__file__).resolve().parent.parent / "fixtures" / "avaya-cm" / "make_fixtures.py")
fx = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fx)

FORMATS = {"unformatted": fx.UNFORMATTED, "expanded": fx.EXPANDED, "printer": fx.PRINTER, "lsu": fx.LSU,
           "customized-example": fx.CUSTOM}
CDRU_DATE, PRINTER_DATE = "{hh}:{mm} {mo:02}/{d:02}", "{mo:02} {d:02}"
DATE_RECORD = {"unformatted": CDRU_DATE, "lsu": CDRU_DATE, "expanded": PRINTER_DATE, "printer": PRINTER_DATE,
               "customized-example": CDRU_DATE}


def _fields(fmt: str, cond: str, dialed: str, calling: str, hhmm: str, tenths: int, day: tuple[int, int]) -> dict:
    values = dict(cond=cond, dialed=dialed, calling=calling)
    if fmt == "customized-example":
        values.update(date=f"{day[0]:02}{day[1]:02}26", time=hhmm, sec_dur=f"{tenths * 6:05}")
    else:
        values["dur"] = f"{tenths // 600}{tenths // 10 % 60:02}{tenths % 10}"
        if fmt != "lsu":
            values["time"] = hhmm
    return values


def generate(fmt: str, n_records: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    columns, out = FORMATS[fmt], []
    month, day, minute = 1, 1, 8 * 60
    out.append(DATE_RECORD[fmt].format(hh="08", mm="00", mo=month, d=day))
    written = 0
    while written < n_records:
        minute += rng.choice((0, 0, 1, 1, 2))
        if minute >= 24 * 60:
            minute -= 24 * 60
            day = day % 28 + 1
            month = month % 12 + 1 if day == 1 else month
            out.append(DATE_RECORD[fmt].format(hh="00", mm="00", mo=month, d=day))
        hhmm = f"{minute // 60:02}{minute % 60:02}"
        kind = rng.random()
        ext = str(rng.randint(5100, 5999))
        tenths = rng.randint(1, 120)
        if kind < 0.45:
            caller = f"91{rng.randint(10000000, 99999999)}"
            calling = caller if fmt in ("unformatted", "expanded", "customized-example") else "707"
            extra = {"unformatted": dict(in_tac="707", in_crt=f"{rng.randint(1, 30):03}"),
                     "printer": dict(in_crt=f"{rng.randint(1, 30):03}"), "lsu": dict(in_crt=f"{rng.randint(1, 30):02}"),
                     "customized-example": dict(in_trk="102", in_crt=f"{rng.randint(1, 30):03}")}.get(fmt, {})
            if rng.random() < 0.33 and written + 1 < n_records:
                out.append(fx.record(columns, **_fields(fmt, "G", ext, calling, hhmm, 2, (month, day)), **extra))
                written += 1
            out.append(fx.record(columns, **_fields(fmt, "9", ext, calling, hhmm, tenths, (month, day)), **extra))
        elif kind < 0.8:
            number = f"09{rng.randint(100000000, 999999999)}"
            caller = ext[-4:] if fmt in ("printer", "lsu") else ext
            values = _fields(fmt, "7", number, caller, hhmm, tenths, (month, day))
            out.append(fx.record(columns, code_dial="9", code_used="707", **values))
        else:
            other = str(rng.randint(5100, 5999))
            out.append(fx.record(columns, **_fields(fmt, "0", other, ext, hhmm, tenths, (month, day))))
        written += 1
    return b"".join(line.encode("latin-1") + fx.TAIL for line in out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("format", choices=sorted(FORMATS))
    parser.add_argument("-n", "--records", type=int, default=100_000)
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    Path(args.output).write_bytes(generate(args.format, args.records, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
