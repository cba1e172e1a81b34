"""Synthetic Panasonic KX-TDA Pattern A SMDR stream for benchmarks.

The stream looks like what a KX-TDA/TDE/NCP/NS prints on its SMDR port with Pattern A, 12-hour time
and DD/MM/YY dates (docs/formats/panasonic.md §1): 80-column records ending in CR LF, a page title
(form feed glued to the header line, then 80 dashes) before every 60 records, records in end-of-call
order. Mix of records: about 50 % incoming (`<I>` + Iranian caller ID, ring time, duration; a few
transfers printed as the answering leg followed by the destination's `TR` leg on the same CO and
number), 35 % outgoing, 10 % intercom (`EXTnnn`), 5 % not answered (`NA`). Calls run from 08:00 to
18:00, Saturday to Thursday, starting 21/11/2026.

    python -m bench.panasonic_stream -n 1000000 -o /tmp/tda-1m.smdr
    python bench/panasonic_stream.py -n 1000000 -o /tmp/tda-1m.smdr --seed 7

The output is deterministic for a given (n_records, seed). Only the standard library is used.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import random
import sys
import time as _time
from collections.abc import Iterator

__all__ = ["generate", "write", "HEADER", "RECORDS_PER_PAGE", "CHUNK_SIZE"]

HEADER = (
    b"\x0c  Date     Time    Ext CO        Dial Number        Ring Duration  Acc code  CD \r\n"
    + b"-" * 80
    + b"\r\n"
)
RECORDS_PER_PAGE = 60
CHUNK_SIZE = 64 * 1024
START_DATE = _dt.date(2026, 11, 21)
DAY_START = 8 * 3600
DAY_END = 18 * 3600

_POOL_BITS = 13  # 8192 precomputed call units
_GAP_BITS = 12  # 4096 precomputed gaps between calls

_MOBILE = (
    "0912", "0913", "0914", "0915", "0916", "0917", "0918", "0919", "0935", "0936",
    "0937", "0938", "0939", "0901", "0902", "0903", "0990", "0991", "0921", "0922",
)
_AREAS = ("021", "021", "021", "026", "031", "041", "051", "071", "013", "035", "061", "076")


def _ring(sec: int) -> str:
    return f"{sec // 60}'{sec % 60:02d}"


def _dur(sec: int) -> str:
    return f"{sec // 3600:02d}:{sec // 60 % 60:02d}'{sec % 60:02d}"


def _body(ext: str, co: str = "", dial: str = "", ring: str = "", dur: str = "", cd: str = "") -> bytes:
    """Columns 16..79 of a Pattern A record plus CR LF (date and time are prefixed at run time)."""
    s = f" {ext:>5} {co:2} {dial:25} {ring:>4} {dur:8} {'':10} {cd:2} \r\n"
    assert len(s) == 66, s
    return s.encode("ascii")


class _Maker:
    def __init__(self, rng: random.Random) -> None:
        self.r = rng

    def ext(self) -> str:
        return str(self.r.randint(101, 148))

    def co(self) -> str:
        return f"{self.r.randint(1, 12):02d}"

    def number(self) -> str:
        r = self.r
        x = r.random()
        if x < 0.45:
            return r.choice(_MOBILE) + f"{r.randrange(10**7):07d}"
        if x < 0.70:
            return f"{r.randint(2, 8)}{r.randrange(10**7):07d}"  # 8-digit local (Tehran)
        return r.choice(_AREAS) + f"{r.randint(2, 8)}{r.randrange(10**7):07d}"

    def caller_id(self) -> str:
        r = self.r
        x = r.random()
        if x < 0.05:
            return "<I>"  # withheld
        n = self.number()
        if x < 0.07 and n.startswith("0"):
            return "<I>+98" + n[1:]
        if x < 0.09 and n.startswith("0"):
            return "<I>0098" + n[1:]
        return "<I>" + n

    def talk(self) -> int:
        return min(7200, int(self.r.lognormvariate(4.3, 1.0)) + 3)  # median ~75 s

    def unit(self) -> tuple[tuple[int, ...], tuple[bytes, ...]]:
        """One call: (seconds to add to the clock before each line, record bodies)."""
        r = self.r
        x = r.random()
        if x < 0.475:  # incoming, answered
            ring = r.randint(0, 25)
            return (0,), (_body(self.ext(), self.co(), self.caller_id(), _ring(ring), _dur(self.talk())),)
        if x < 0.49:  # incoming, transferred
            co, cid = self.co(), "<I>" + self.number()
            a, b = self.ext(), self.ext()
            t2 = self.talk()
            return (0, t2 + r.randint(2, 8)), (
                _body(a, co, cid, _ring(r.randint(2, 15)), _dur(r.randint(10, 90))),
                _body(b, co, cid, "0'00", _dur(t2), "TR"),
            )
        if x < 0.84:  # outgoing
            return (0,), (_body(self.ext(), self.co(), self.number(), "", _dur(self.talk())),)
        if x < 0.95:  # intercom
            a, b = self.ext(), self.ext()
            if a == b:
                b = str(101 + (int(b) - 100) % 48)
            return (0,), (_body(a, "", f"EXT{b}"),)
        grp = str(r.randint(600, 603)) if r.random() < 0.6 else self.ext()  # not answered
        return (0,), (_body(grp, self.co(), self.caller_id(), _ring(r.randint(8, 75)), _dur(0), "NA"),)


def _time_table() -> list[bytes]:
    out = []
    for minute in range(24 * 60):
        h, m = divmod(minute, 60)
        out.append(f"{h % 12 or 12:02d}:{m:02d}{'AM' if h < 12 else 'PM'}".encode("ascii"))
    return out


def generate(n_records: int, *, seed: int = 1) -> Iterator[bytes]:
    """Yield a KX-TDA Pattern A SMDR byte stream of `n_records` records in chunks of about 64 KiB."""
    if n_records < 0:
        raise ValueError("n_records must be >= 0")
    rng = random.Random(seed)
    maker = _Maker(rng)
    pool = [maker.unit() for _ in range(1 << _POOL_BITS)]
    gaps = [max(1, int(rng.expovariate(1 / 20.0))) for _ in range(1 << _GAP_BITS)]
    times = _time_table()
    getbits = rng.getrandbits

    day = START_DATE
    date_sp = day.strftime("%d/%m/%y ").encode("ascii")
    clock = DAY_START + rng.randint(0, 600)
    buf: list[bytes] = []
    size = 0
    done = 0
    page_left = 0
    hdr_len = len(HEADER)
    while done < n_records:
        offsets, bodies = pool[getbits(_POOL_BITS)]
        clock += gaps[getbits(_GAP_BITS)]
        if clock >= DAY_END:
            day += _dt.timedelta(days=1)
            if day.weekday() == 4:  # Friday: office closed
                day += _dt.timedelta(days=1)
            date_sp = day.strftime("%d/%m/%y ").encode("ascii")
            clock = DAY_START + getbits(9)
        for off, body in zip(offsets, bodies, strict=True):
            if done == n_records:
                break
            if page_left == 0:
                buf.append(HEADER)
                size += hdr_len
                page_left = RECORDS_PER_PAGE
            clock += off
            if clock >= 86400:
                clock = 86399
            buf.append(date_sp + times[clock // 60] + body)
            size += 82
            page_left -= 1
            done += 1
        if size >= CHUNK_SIZE:
            yield b"".join(buf)
            buf = []
            size = 0
    if buf:
        yield b"".join(buf)


def write(path, n_records: int, seed: int = 1) -> int:
    """Write the stream to `path`; return the number of bytes written."""
    total = 0
    with open(path, "wb") as fh:
        for chunk in generate(n_records, seed=seed):
            fh.write(chunk)
            total += len(chunk)
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write a synthetic Panasonic KX-TDA Pattern A SMDR stream.")
    ap.add_argument(
        "-n", "--records", type=int, default=100_000, help="number of call records (default 100000)"
    )
    ap.add_argument("-o", "--output", required=True, help="output file ('-' for stdout)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    t0 = _time.perf_counter()
    if args.output == "-":
        out = sys.stdout.buffer
        total = 0
        for chunk in generate(args.records, seed=args.seed):
            out.write(chunk)
            total += len(chunk)
        out.flush()
    else:
        total = write(args.output, args.records, seed=args.seed)
    dt = _time.perf_counter() - t0
    print(f"{args.records} records, {total} bytes in {dt:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
