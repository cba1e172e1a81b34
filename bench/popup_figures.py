"""bench/popup.py's figures: latencies and their percentiles, and its looks into the connector's outbox
(read-only, beside its writer).

- ``latencies``, ``report``: a popup's time from the PBX end to its request at crm-sim.
- ``OutboxCount``: how many events of one gateway the outbox holds, read incrementally.
- ``accepted_at``: when the outbox accepted each ringing event (``created_at``: taken as the sink hands
  the batch to its writer, right after the ringing hook has started the popup's request), by caller
  number. It splits a popup's time in two: the PBX end -> accepted (pty, read, parse, journal), and
  accepted -> at the CRM (the delivery's turn on the loop, httpx, the CRM reading it).
"""

from __future__ import annotations

import json
import sqlite3
import statistics
from pathlib import Path


def _connect(workdir: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{workdir / 'data' / 'outbox.sqlite3'}?mode=ro", uri=True, timeout=10)


class OutboxCount:
    """How many events of ``gateway`` the connector's outbox holds. Each look reads only the rows committed
    since the last one: counting the whole outbox every 50 ms (JSON of every row) would take a core from
    the connector while a burst is committed."""

    def __init__(self, workdir: Path, gateway: str) -> None:
        self._workdir, self._gateway = workdir, gateway
        self._last_id = self._counted = 0

    def __call__(self) -> int:
        conn = _connect(self._workdir)
        try:
            count, last_id = conn.execute(
                "SELECT COUNT(CASE WHEN json_extract(payload, '$.gateway') = ? THEN 1 END), MAX(id) "
                "FROM events WHERE id > ?", (self._gateway, self._last_id)).fetchone()
        finally:
            conn.close()
        self._counted += int(count or 0)
        self._last_id = int(last_id or self._last_id)
        return self._counted


class LineCount:
    """How many lines a file holds, reading only what was written since the last look."""

    def __init__(self, path: Path) -> None:
        self._path, self._offset, self._counted = path, 0, 0

    def __call__(self) -> int:
        try:
            with open(self._path, "rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return self._counted
        self._offset += len(data)
        self._counted += data.count(b"\n")
        return self._counted


def accepted_at(workdir: Path) -> dict[str, float]:
    """{caller number: unix time its first ringing event was accepted by the outbox}."""
    conn = _connect(workdir)
    try:
        rows = conn.execute("SELECT payload, created_at FROM events WHERE event = 'ringing' ORDER BY id").fetchall()
    finally:
        conn.close()
    out: dict[str, float] = {}
    for payload, created in rows:
        out.setdefault(json.loads(payload).get("phone") or "", float(created))
    return out


def latencies(events: list[dict], written: dict[str, float]) -> dict[str, float]:
    """{caller number: ms from its write to its ringing request's arrival}; the first arrival counts."""
    out: dict[str, float] = {}
    for event in events:
        phone = event["fields"].get("phone", "")
        if event["event"] == "ringing" and phone in written and phone not in out and event.get("arrived"):
            out[phone] = (event["arrived"] - written[phone]) * 1000.0
    return out


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def _figures(values: list[float]) -> str:
    return (f"p50 {percentile(values, .50):.2f}  p90 {percentile(values, .90):.2f}  p99 {percentile(values, .99):.2f}"
            f"  max {max(values):.2f}")


def report(title: str, values: list[float], expected: int, clock: str = "record written",
           split: tuple[list[float], list[float]] | None = None) -> None:
    print(f"{title}")
    if not values:
        print(f"  delivered 0 of {expected}")
        return
    print(f"  delivered {len(values)} of {expected}")
    print(f"  {clock} -> request at crm-sim, ms: {_figures(values)}  "
          f"(mean {statistics.fmean(values):.2f}, min {min(values):.2f})")
    if split is not None and split[0]:
        print(f"    of which {clock} -> accepted by the outbox: {_figures(split[0])}")
        print(f"             accepted -> request at crm-sim: {_figures(split[1])}")


def split_at_outbox(workdir: Path, written: dict[str, float], total_ms: dict[str, float]
                    ) -> tuple[list[float], list[float]]:
    """The popups' times up to the outbox's acceptance and after it (see popup_outbox.accepted_at)."""
    accepted = accepted_at(workdir)
    before = {phone: (accepted[phone] - written[phone]) * 1000.0 for phone in total_ms if phone in accepted}
    return list(before.values()), [total_ms[phone] - ms for phone, ms in before.items()]
