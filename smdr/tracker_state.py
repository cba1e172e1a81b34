"""The calls a source has open (ringing, in progress), kept across a restart of the connector.

A call that rang before a restart and ends after it must keep its call_id, or the CRM gets two
records (one stuck at ringing). On a graceful stop the open calls are written to a small JSON file
per source under the data directory, and read back when the source starts, unless they are too old
to be still going. A live source with a journal also commits them with every chunk (see
smdr.source_journal), so a hard kill does not lose them either.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import fields
from datetime import datetime
from operator import attrgetter
from pathlib import Path

from .folding import Fold, OpenCall
from .model import Provenance

log = logging.getLogger("smdr.tracker")

MAX_AGE = 6 * 3600  # seconds: state older than this describes calls that are over


def save(tracker: Fold, path: Path) -> None:
    calls = tracker.open_calls()
    try:
        if not calls:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps([_to_dict(call) for call in calls], ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        log.warning("%s: could not save the %d open call(s) (%s): calls that end after the restart will "
                    "get a new CRM record", tracker.source, len(calls), exc)


def load(tracker: Fold, path: Path, *, max_age: float = MAX_AGE) -> int:
    """Restore the saved open calls; returns how many. The file is consumed either way."""
    try:
        age = time.time() - path.stat().st_mtime
        entries = json.loads(path.read_text(encoding="utf-8")) if age <= max_age else []
        path.unlink()
    except FileNotFoundError:
        return 0
    except (OSError, ValueError) as exc:
        log.warning("%s: could not read the saved open calls in %s (%s); starting without them",
                    tracker.source, path, exc)
        return 0
    try:
        calls = [_from_dict(entry) for entry in entries]
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("%s: the saved open calls in %s are not usable (%s)", tracker.source, path, exc)
        return 0
    tracker.restore(calls)
    if calls:
        log.info("%s: %d call(s) still open from before the restart", tracker.source, len(calls))
    return len(calls)


def to_json(tracker: Fold) -> list[dict]:
    """The open calls as JSON-ready dicts (saved with every committed chunk, see smdr.journal)."""
    return [_to_dict(call) for call in tracker.open_calls()]


_every_field = attrgetter(*(f.name for f in fields(OpenCall)))  # a call's fields as one tuple


class OpenCallsText:
    """``json.dumps(to_json(tracker))``, written per chunk: a call's text is kept while nothing of it
    changes, so the cost is one comparison per open call (a popup's chunk must not wait for every open
    call's dates and provenance to be encoded again)."""

    __slots__ = ("_texts",)

    def __init__(self) -> None:
        self._texts: dict[int, tuple[tuple, str]] = {}  # id(call) -> (what its text was made of, the text)

    def text(self, tracker: Fold) -> str:
        calls = tracker.open_calls()
        if not calls:
            self._texts = {}
            return "[]"
        before, texts, parts = self._texts, {}, []
        for call in calls:
            made_of = _every_field(call)  # the call id too: an id reused by a new call differs
            kept = before.get(id(call))
            if kept is None or kept[0] != made_of:
                kept = (made_of, json.dumps(_to_dict(call), ensure_ascii=False))
            texts[id(call)] = kept
            parts.append(kept[1])
        self._texts = texts
        return "[" + ", ".join(parts) + "]"


def restore_json(tracker: Fold, entries: list[dict]) -> int:
    """Take back open calls saved by ``to_json``; returns how many."""
    try:
        calls = [_from_dict(entry) for entry in entries]
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("%s: the saved open calls are not usable (%s)", tracker.source, exc)
        return 0
    tracker.restore(calls)
    return len(calls)


def _to_dict(call: OpenCall) -> dict:
    return {
        "call_id": call.call_id, "line": call.line, "phone": call.phone, "direction": call.direction,
        "start": call.start.isoformat(), "end": call.end.isoformat() if call.end else None,
        "stage": call.stage, "event": call.event, "talk": call.talk, "agent": call.agent,
        "provenance": call.provenance.to_dict(), "ref": call.ref, "connected": call.connected,
        "ring": call.ring,
    }


def _from_dict(data: dict) -> OpenCall:
    prov = data["provenance"]
    return OpenCall(
        data["call_id"], data["line"], data["phone"], data["direction"], datetime.fromisoformat(data["start"]),
        datetime.fromisoformat(data["end"]) if data["end"] else None, data["stage"], data["event"],
        int(data["talk"]), data["agent"],
        Provenance(prov["source"], prov["layout"], prov["raw"], int(prov.get("position") or 0),
                   datetime.fromisoformat(prov["received_at"]) if prov.get("received_at") else None),
        str(data.get("ref") or ""), bool(data.get("connected", False)), int(data.get("ring") or 0))
