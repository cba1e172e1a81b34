"""Synthetic Siemens HiPath 3000 compressed call-charge stream (siemens-hipath-3000) for benchmarks.

    write(path, n_records, seed=1)

The mix, per 10 calls: 4 outgoing answered (some with charge pulses), 3 incoming answered with two
"on ringing" lines before the final record (the fold of rule 3), 2 incoming answered without ringing
lines, 1 incoming not answered (blank duration). Records are 76 characters + CR LF, as real PBXs print
them; times are END times and run forward by a few seconds per call, over as many days as needed.
Numbers are Iranian (mobiles 09xx, Tehran 021). Every record is counted in ``n_records``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

_START = datetime(2026, 12, 14, 0, 0, 0)


def _record(when: datetime, trunk: int, ext: str, ring: int | None, talk: int | None, number: str,
            units: str, info: str) -> bytes:
    ring_text = f"{ring // 60:02d}:{ring % 60:02d}" if ring is not None else ""
    talk_text = f"{talk // 3600:02d}:{talk // 60 % 60:02d}:{talk % 60:02d}" if talk is not None else ""
    line = (when.strftime("%d.%m.%y%H:%M:%S") + f"{trunk:>3}{ext:>6}{ring_text:<5}{talk_text:<8}{number:<25}"
            f"{units:>11}{info:>2}")
    assert len(line) == 76
    return line.encode("ascii") + b"\r\n"


def generate(n_records: int, *, seed: int = 1) -> Iterator[bytes]:
    rng = random.Random(seed)
    now, made, batch = _START, 0, []
    while made < n_records:
        kind = rng.randrange(10)
        trunk = rng.randint(1, 30)
        ext = str(rng.randint(100, 199))
        number = f"09{rng.randint(10, 39)}{rng.randint(0, 9999999):07d}" if rng.random() < 0.6 else \
            f"021{rng.randint(0, 99999999):08d}"
        ring, talk = rng.randint(1, 30), rng.randint(5, 900)
        now += timedelta(seconds=rng.randint(1, 20))
        if kind < 4:
            records = [_record(now + timedelta(seconds=ring + talk), trunk, ext, ring, talk, number,
                               str(rng.randint(1, 40)) if kind < 2 else "", "2")]
        elif kind < 7:
            other = str(100 + (int(ext) - 99) % 100)  # another extension, never the one that answers
            records = [_record(now, trunk, other, None, None, number, "", "0"),
                       _record(now, trunk, ext, None, None, number, "", "0"),
                       _record(now + timedelta(seconds=ring + talk), trunk, ext, ring, talk, number, "", "1")]
        elif kind < 9:
            records = [_record(now + timedelta(seconds=ring + talk), trunk, ext, ring, talk, number, "", "1")]
        else:
            records = [_record(now + timedelta(seconds=ring), trunk, ext, ring, None, number, "", "1")]
        records = records[: n_records - made]
        made += len(records)
        batch.extend(records)
        if len(batch) >= 4096:
            yield b"".join(batch)
            batch = []
    if batch:
        yield b"".join(batch)


def write(path, n_records: int, seed: int = 1) -> int:
    """Write the stream to `path`; return the number of bytes written."""
    total = 0
    with open(path, "wb") as fh:
        for chunk in generate(n_records, seed=seed):
            fh.write(chunk)
            total += len(chunk)
    return total
