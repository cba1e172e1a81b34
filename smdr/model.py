"""The Generic call model: one event per state of a real call, with the ParsVT ProcessCDR fields.

Every layout, whatever its PBX printed, ends up here (see docs: call-model). The CRM keeps one record
per ``call_id`` and updates it with each later event of the same call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from .blake import blake2b

INBOUND: Final = "inbound"
OUTBOUND: Final = "outbound"
INTERNAL: Final = "internal"
DIRECTIONS: Final = frozenset({INBOUND, OUTBOUND, INTERNAL})

RINGING: Final = "ringing"
IN_PROGRESS: Final = "in-progress"
ANSWERED: Final = "answered"
NO_ANSWER: Final = "no_answer"
BUSY: Final = "busy"
TRANSFERRED: Final = "transferred"
EVENTS: Final = frozenset({RINGING, IN_PROGRESS, ANSWERED, NO_ANSWER, BUSY, TRANSFERRED})
FINAL_EVENTS: Final = frozenset({ANSWERED, NO_ANSWER, BUSY})

UNKNOWN_PHONE: Final = "unknown"
UNKNOWN_AGENT: Final = "unknown"

# The ProcessCDR form fields, in the order of the API document.
CDR_FIELDS: Final = (
    "agent", "phone", "call_id", "direction", "event", "duration", "billduration",
    "gateway", "linename", "recordingurl", "starttime", "endtime",
)


@dataclass(slots=True)
class Provenance:
    """Where an event came from, so any event can be traced back to the bytes the PBX sent."""

    source: str
    layout: str
    raw: str
    position: int = 0  # 1-based number of the non-blank line within the source (headers count too)
    received_at: datetime | None = None

    # __init__ written out: the compiled build (hatch_build.py) compiles it; a dataclass's own stays interpreted
    def __init__(self, source: str, layout: str, raw: str, position: int = 0,
                 received_at: datetime | None = None) -> None:
        self.source = source
        self.layout = layout
        self.raw = raw
        self.position = position
        self.received_at = received_at

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "layout": self.layout,
            "raw": self.raw,
            "position": self.position,
            "received_at": _iso(self.received_at),
        }


@dataclass(slots=True)
class CallEvent:
    """One state of one call, as the CRM's ProcessCDR receives it."""

    call_id: str
    direction: str
    event: str
    agent: str | None = None
    phone: str | None = None
    duration: int = 0
    billduration: int | None = None
    gateway: str | None = None
    linename: str | None = None
    recordingurl: str | None = None
    starttime: datetime | None = None
    endtime: datetime | None = None
    provenance: Provenance | None = field(default=None, compare=False)

    # __init__ written out: the compiled build (hatch_build.py) compiles it; a dataclass's own stays interpreted
    def __init__(self, call_id: str, direction: str, event: str, agent: str | None = None, phone: str | None = None,
                 duration: int = 0, billduration: int | None = None, gateway: str | None = None,
                 linename: str | None = None, recordingurl: str | None = None, starttime: datetime | None = None,
                 endtime: datetime | None = None, provenance: Provenance | None = None) -> None:
        self.call_id = call_id
        self.direction = direction
        self.event = event
        self.agent = agent
        self.phone = phone
        self.duration = duration
        self.billduration = billduration
        self.gateway = gateway
        self.linename = linename
        self.recordingurl = recordingurl
        self.starttime = starttime
        self.endtime = endtime
        self.provenance = provenance

    def cdr_fields(self, *, unknown_phone: str = UNKNOWN_PHONE, unknown_agent: str = UNKNOWN_AGENT) -> dict[str, str]:
        """The ProcessCDR form fields (without the secret); absent optional values are left out.

        ``agent`` and ``phone`` are required by the CRM: a call with no caller number, or one that no
        extension took, is sent with the placeholders (configurable per site, e.g. the operator's
        extension as the agent of unassigned missed calls).
        """
        form = {
            "agent": self.agent or unknown_agent,
            "phone": self.phone or unknown_phone,
            "call_id": self.call_id,
            "direction": self.direction,
            "event": self.event,
            "duration": str(self.duration),
            "billduration": str(self.duration if self.billduration is None else self.billduration),
        }
        for name in ("gateway", "linename", "recordingurl"):
            value = getattr(self, name)
            if value:
                form[name] = value
        if self.starttime is not None:
            form["starttime"] = _iso_text(self.starttime)
        if self.endtime is not None:
            form["endtime"] = _iso_text(self.endtime)
        return form

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the ProcessCDR field names, plus provenance under one key."""
        return {
            "agent": self.agent,
            "phone": self.phone,
            "call_id": self.call_id,
            "direction": self.direction,
            "event": self.event,
            "duration": self.duration,
            "billduration": self.duration if self.billduration is None else self.billduration,
            "gateway": self.gateway,
            "linename": self.linename,
            "recordingurl": self.recordingurl,
            "starttime": _iso(self.starttime),
            "endtime": _iso(self.endtime),
            "provenance": self.provenance.to_dict() if self.provenance else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallEvent:
        prov = data.get("provenance")
        return cls(
            call_id=data["call_id"],
            direction=data["direction"],
            event=data["event"],
            agent=data.get("agent"),
            phone=data.get("phone"),
            duration=int(data.get("duration") or 0),
            billduration=None if data.get("billduration") is None else int(data["billduration"]),
            gateway=data.get("gateway"),
            linename=data.get("linename"),
            recordingurl=data.get("recordingurl"),
            starttime=_parse_iso(data.get("starttime")),
            endtime=_parse_iso(data.get("endtime")),
            provenance=Provenance(
                source=prov["source"],
                layout=prov["layout"],
                raw=prov["raw"],
                position=int(prov.get("position") or 0),
                received_at=_parse_iso(prov.get("received_at")),
            ) if prov else None,
        )


def make_call_id(source: str, first_record: str, occurrence: int = 0) -> str:
    """Deterministic call id: the same first record of the same source always gives the same id.

    ``occurrence`` separates byte-identical first records seen again within one run (two calls the
    PBX printed alike); a replay of the same stream counts them the same way, so ids stay stable.
    """
    text = f"{source}\x1f{first_record.rstrip()}"
    if occurrence:
        text += f"\x1f{occurrence}"
    return blake2b(text.encode("utf-8", "surrogateescape"), digest_size=10).hexdigest()


class CallIds:
    """``make_call_id`` for one source, with the source's part of the hash computed once."""

    __slots__ = ("_seeded",)

    def __init__(self, source: str) -> None:
        self._seeded = blake2b(f"{source}\x1f".encode("utf-8", "surrogateescape"), digest_size=10)

    def __call__(self, first_record: str, occurrence: int = 0) -> str:
        h = self._seeded.copy()
        text = first_record.rstrip()
        if occurrence:
            text += f"\x1f{occurrence}"
        h.update(text.encode("utf-8", "surrogateescape"))
        return h.hexdigest()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else _iso_text(value)


def _iso_text(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _parse_iso(value: str | None) -> datetime | None:
    return None if not value else datetime.fromisoformat(value)
