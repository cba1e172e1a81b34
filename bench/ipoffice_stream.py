"""Synthetic Avaya IP Office SMDR stream for benchmarks (standard library only).

CSV records as an R10 IP Office prints them (34 fields, CR LF, no quoting; docs/formats/siemens-avaya.md
B.3), one per call segment: 55 % incoming answered (a SIP caller `number@ip` now and then), 10 % of
those transferred to a second extension (two segments sharing the Call ID, Continuation 1 then 0),
30 % outgoing, 5 % lost incoming; Persian party names (utf-8). Deterministic for (n_records, seed).
"""

from __future__ import annotations

import datetime as _dt
import random
from pathlib import Path

NAMES = ["علی رضایی", "مریم احمدی", "رضا کریمی", "سارا محمدی", "Extn210", "Reception"]


def _record(start: _dt.datetime, connected: int, ring: int, caller: str, direction: str, called: str,
            internal: str, call_id: int, more: int, party1: str, name1: str, party2: str, name2: str,
            hold: int, unique: int) -> str:
    talk = f"{connected // 3600:02d}:{connected // 60 % 60:02d}:{connected % 60:02d}"
    return ",".join([start.strftime("%Y/%m/%d %H:%M:%S"), talk, str(ring), caller, direction, called, called, "",
                     internal, str(call_id), str(more), party1, name1, party2, name2, str(hold), "0",
                     *[""] * 13, "10.10.0.1", str(unique), "10.10.0.1", str(unique + 1)])


def write(path: Path, n_records: int, seed: int = 1) -> int:
    """Write at least ``n_records`` records to ``path``; returns how many were written."""
    rng = random.Random(seed)
    moment = _dt.datetime(2026, 11, 21, 8, 0, 0)
    call_id, written = 1_000_000, 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        while written < n_records:
            moment += _dt.timedelta(seconds=rng.randint(1, 20))
            call_id += 1
            ext = rng.randint(201, 240)
            name = NAMES[ext % len(NAMES)]
            line = f"T90{rng.randint(1, 4):02d}"
            kind = rng.random()
            number = f"09{rng.randint(100000000, 999999999)}"
            if kind < 0.55:
                caller = number + ("@10.10.0.5" if rng.random() < 0.2 else "")
                transfer = rng.random() < 0.10
                lines = [_record(moment, rng.randint(5, 600), rng.randint(1, 30), caller, "I", str(ext), "0",
                                 call_id, int(transfer), f"E{ext}", name, line, "Line 1.1", 0, call_id * 2)]
                if transfer:
                    lines.append(_record(moment, rng.randint(5, 600), 0, caller, "I", str(ext), "0", call_id, 0,
                                         f"E{ext + 1}", name, line, "Line 1.1", 0, call_id * 2 + 1))
            elif kind < 0.85:
                lines = [_record(moment, rng.randint(5, 900), rng.randint(0, 20), str(ext), "O", number, "0",
                                 call_id, 0, f"E{ext}", name, line, "Line 2.1", rng.choice((0, 0, 12)), call_id * 2)]
            else:
                lines = [_record(moment, 0, rng.randint(5, 40), number, "I", str(ext), "0", call_id, 0, f"E{ext}",
                                 name, line, "Line 1.2", 0, call_id * 2)]
            for text in lines:
                out.write(text + "\r\n")
            written += len(lines)
    return written
