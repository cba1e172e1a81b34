"""``smdr outbox import FILE``: queue call events (``smdr parse`` JSON lines) for the CRM.

The way back for quarantined records after a layout fix: ``smdr parse <data_dir>/quarantine.jsonl
--layout NAME -o fixed.jsonl``, check it, then ``smdr outbox import fixed.jsonl``. The events are queued
in the outbox; a running connector delivers them within seconds, a stopped one at its next start.
Delivery is idempotent by call_id: importing a file twice updates the same CRM records.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ..errors import SmdrError
from ..model import DIRECTIONS, EVENTS, CallEvent
from ..outbox import OutboxStore
from ..quarantine import is_quarantine_file


def register(actions: argparse._SubParsersAction, where: argparse.ArgumentParser) -> None:
    parser = actions.add_parser("import", parents=[where], help="queue call events (smdr parse JSON lines) "
                                                                "for the CRM, e.g. re-parsed quarantine")
    parser.add_argument("file", help="JSON lines as `smdr parse` writes them (-o FILE)")


def run(store: OutboxStore, args: argparse.Namespace) -> int:
    path = Path(args.file)
    with path.open("rb") as handle:
        if is_quarantine_file(handle.read(4096)):
            raise SmdrError(f"{path} is a quarantine file (raw records): re-parse it first, e.g. "
                            f"`smdr parse {path} --layout NAME -o fixed.jsonl`, then import fixed.jsonl")
    events = list(_read_events(path))
    now = time.time()
    for event in events:
        store.insert(event, now)
    calls = len({event.call_id for event in events})
    print(f"{len(events)} event(s) of {calls} call(s) queued for the CRM from {path}")
    return 0


def _read_events(path: Path):
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                event = CallEvent.from_dict(json.loads(line))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise SmdrError(f"{path}:{number}: not a call event as `smdr parse` writes it ({exc})") from None
            if event.direction not in DIRECTIONS or event.event not in EVENTS or not event.call_id:
                raise SmdrError(f"{path}:{number}: direction {event.direction!r} / event {event.event!r} / "
                                "call_id are not those of a call event")
            yield event
