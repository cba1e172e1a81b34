"""ProcessCDR form validation: the accepted spellings of the API document, mapped to smdr.model names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from ..model import ANSWERED, BUSY, IN_PROGRESS, INBOUND, INTERNAL, NO_ANSWER, OUTBOUND, RINGING, TRANSFERRED

REQUIRED_FIELDS: Final = ("agent", "phone", "call_id", "direction", "event")

DIRECTION_SPELLINGS: Final[Mapping[str, str]] = {
    "inbound": INBOUND, "incoming": INBOUND,
    "outbound": OUTBOUND, "outgoing": OUTBOUND,
    "internal": INTERNAL,
}

# The event table of the API document: every accepted value -> the canonical smdr.model name.
EVENT_SPELLINGS: Final[Mapping[str, str]] = {
    "no_answer": NO_ANSWER, "no-answer": NO_ANSWER, "no": NO_ANSWER, "missed": NO_ANSWER,
    "no-response": NO_ANSWER, "notanswered": NO_ANSWER,
    "ringing": RINGING, "ring": RINGING,
    "busy": BUSY,
    "transferred": TRANSFERRED, "transfer": TRANSFERRED,
    "in-progress": IN_PROGRESS,
    "answered": ANSWERED, "completed": ANSWERED, "complete": ANSWERED, "hangup": ANSWERED,
}


class InvalidRequest(ValueError):
    """The request cannot be answered; the message says what is wrong (sent back as code INVALID)."""


@dataclass(slots=True)
class CdrRequest:
    """One validated ProcessCDR request. ``None`` for an optional field means "not sent"."""

    call_id: str
    agent: str
    phone: str
    direction: str
    event: str
    duration: int | None = None
    billduration: int | None = None
    gateway: str | None = None
    linename: str | None = None
    recordingurl: str | None = None
    starttime: datetime | None = None
    endtime: datetime | None = None


def parse_cdr_form(form: Mapping[str, str]) -> CdrRequest:
    """Check a ProcessCDR form (values exactly as sent) and map direction/event to canonical names."""
    missing = [name for name in REQUIRED_FIELDS if not form.get(name, "").strip()]
    if missing:
        raise InvalidRequest(f"missing required field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    direction = DIRECTION_SPELLINGS.get(form["direction"])
    if direction is None:
        raise InvalidRequest(f"unknown direction {form['direction']!r}; expected one of "
                         f"{', '.join(DIRECTION_SPELLINGS)}")
    event = EVENT_SPELLINGS.get(form["event"])
    if event is None:
        raise InvalidRequest(f"unknown event {form['event']!r}; expected one of {', '.join(EVENT_SPELLINGS)}")
    return CdrRequest(
        call_id=form["call_id"],
        agent=form["agent"],
        phone=form["phone"],
        direction=direction,
        event=event,
        duration=_seconds(form, "duration"),
        billduration=_seconds(form, "billduration"),
        gateway=form.get("gateway") or None,
        linename=form.get("linename") or None,
        recordingurl=form.get("recordingurl") or None,
        starttime=_timestamp(form, "starttime"),
        endtime=_timestamp(form, "endtime"),
    )


def _seconds(form: Mapping[str, str], name: str) -> int | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise InvalidRequest(f"{name} must be a whole number of seconds, not {text!r}") from None
    if value < 0:
        raise InvalidRequest(f"{name} must not be negative, got {value}")
    return value


def _timestamp(form: Mapping[str, str], name: str) -> datetime | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"{name} is not an ISO 8601 date-time: {text!r}") from None
