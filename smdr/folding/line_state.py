"""Fold by line state: for caller-ID boxes and modems, which report what a phone line does, not calls.

A box says, per line, that it rings, who calls, that the handset went off-hook or on-hook and which
digits were dialled (``Record.signal``); there is no PBX clock, so times are when the frames were
received. Per line:

- ``caller_id`` (or the first ``ring`` when ``popup_unknown`` is set) opens a ``ringing`` call: the popup.
  A number that comes after an unknown-number popup gives a second ``ringing`` event of the same call.
- ``off_hook`` while it rings answers it (``in-progress``); ``on_hook`` then ends it ``answered`` with
  the talk seconds (the box's own duration where it reports one, else on-hook minus off-hook).
- Rings that stop: no ring or caller ID for ``ring_timeout`` seconds (the ring cadence plus slack) ends a
  ringing call ``no_answer`` -- decided by the timer tick, not by the next frame. On a line that never
  reported its hook (a modem, an FSK decoder) nobody can tell a missed call from an answered one: the
  call is only forgotten (popup only), unless ``ring_end: no_answer`` says otherwise. ``missed`` (a box
  that says the rings stopped unanswered) ends it at once.
- ``off_hook`` on an idle line starts an outgoing call; ``digits`` add to its number (an ``on_hook`` that
  carries the whole number replaces them); ``on_hook`` ends it ``answered``. An off-hook with nothing
  dialled is not a call.
- Lost, repeated or late frames never keep a call open: a line that rings or reports a caller while a
  call is on it ends that call first (its on-hook was lost); a call in progress with no on-hook after
  ``max_call`` seconds is closed with the talk time known up to its last frame; repeated frames of a
  state already reached change nothing; an end record that comes after its call ended (a Whozz Calling
  ``E`` after ``N``) is the same call.

Options (a source's ``parser_options:`` or the device profile's): ``lines: {1: "101"}`` maps a line to
the agent extension, ``ring_timeout`` (8 s), ``max_call`` (14400 s), ``popup_unknown`` (false),
``ring_end`` (auto | no_answer | popup_only | end_record); a parser gives its protocol's defaults
(``fold_options``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..errors import ConfigError
from ..layouts.record import ANSWERED_STAGE, FINAL_STAGE, RINGING_STAGE, Record
from ..model import ANSWERED, IN_PROGRESS, INBOUND, NO_ANSWER, OUTBOUND, RINGING, CallEvent, Provenance
from .base import Fold, OpenCall, seconds

IDLE, RINGING_LINE, TALKING, DIALLING = "idle", "ringing", "talking", "dialling"
RING_ENDS = ("auto", "no_answer", "popup_only", "end_record")
_MAX_LINES = 1024
_HOOK_SIGNALS = frozenset({"off_hook", "on_hook", "missed"})


@dataclass(slots=True)
class LineState:
    state: str = IDLE
    call: OpenCall | None = None
    last_ring: datetime | None = None   # last ring or caller ID of a ringing call
    answered: datetime | None = None    # off-hook of the current call
    last_seen: datetime | None = None   # last frame of the current call
    digits: str = ""
    hook_seen: bool = False             # this line reports its hook: rings that stop mean no answer
    ended: OpenCall | None = None       # the last call that ended here (a late end record joins it)


class LineStateFold(Fold):
    name = "line_state"
    tick_interval = 1.0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._lines: dict[str, LineState] = {}
        self.agents: dict[str, str] = {}
        self.ring_timeout = timedelta(seconds=8)
        self.max_call = timedelta(hours=4)
        self.popup_unknown = False
        self.ring_end = "auto"
        self.normalize_phone = None
        self.popup_only = 0       # ringing calls forgotten on a line that does not report its hook
        self.ignored = 0          # frames that changed nothing (repeats, digits during a talk)

    @property
    def settle_seconds(self) -> float:
        """Quiet time after which the timers have decided all they can (the end of a replay)."""
        return self.ring_timeout.total_seconds() + 1

    def configure(self, options: dict[str, Any], normalize_phone=None) -> None:
        """Options from parser_options (see the module docstring); ``normalize_phone(number, direction)``
        normalizes a dialled number assembled from digits."""
        lines = options.get("lines") or {}
        if not isinstance(lines, dict):
            raise ConfigError("parser_options.lines must map a line to an extension, e.g. {1: '101'}")
        self.agents = {_line_key(k): str(v) for k, v in lines.items()}
        try:
            self.ring_timeout = timedelta(seconds=float(options.get("ring_timeout", 8)))
            self.max_call = timedelta(seconds=float(options.get("max_call", 14400)))
        except (TypeError, ValueError):
            raise ConfigError("parser_options ring_timeout and max_call are seconds") from None
        self.popup_unknown = bool(options.get("popup_unknown", False))
        self.ring_end = str(options.get("ring_end", "auto"))
        if self.ring_end not in RING_ENDS:
            raise ConfigError(f"parser_options.ring_end must be one of {', '.join(RING_ENDS)}")
        self.normalize_phone = normalize_phone

    # -- records -------------------------------------------------------------------------------
    def add(self, rec: Record, position: int = 0, received_at: datetime | None = None,
            out: list[CallEvent] | None = None) -> list[CallEvent]:
        events: list[CallEvent] = [] if out is None else out
        at = self._local.get(rec.when) or self.localize(rec.when)
        line_name = rec.linename or "1"
        line = self._line(line_name)
        self._expire(line, at, events)
        provenance = Provenance(self.source, self.layout, rec.raw, position, received_at)
        signal = rec.signal or ("caller_id" if rec.stage == RINGING_STAGE else "on_hook")
        if signal in _HOOK_SIGNALS:
            line.hook_seen = True
        handler = getattr(self, f"_on_{signal}", None)
        if handler is None:
            self.ignored += 1
            return events
        handler(line, line_name, rec, at, provenance, events)
        return events

    def _on_ring(self, line, name, rec, at, provenance, events) -> None:
        if line.state == RINGING_LINE:
            line.last_ring = at
            return
        self._end_lost(line, events)
        call = self._open(line, name, rec, at, provenance, INBOUND, "")
        line.state, line.last_ring = RINGING_LINE, at
        if self.popup_unknown:
            events.append(self._event(call, RINGING, provenance))

    def _on_caller_id(self, line, name, rec, at, provenance, events) -> None:
        phone = rec.phone or ""
        if line.state == RINGING_LINE and line.call is not None:
            line.last_ring = at
            call = line.call
            if not phone or phone == call.phone:  # a repeat, or "NMBR = O" after the number
                if call.event != RINGING:          # nothing popped up yet (a ring opened it)
                    call.event = RINGING
                    events.append(self._event(call, RINGING, provenance))
                else:
                    self.ignored += 1
                return
            if not call.phone:
                call.phone = phone
                call.event = RINGING
                events.append(self._event(call, RINGING, provenance))
                return
            self._rings_stopped(line, events)  # another caller: the frames between were lost
        self._end_lost(line, events)
        call = self._open(line, name, rec, at, provenance, INBOUND, phone)
        line.state, line.last_ring = RINGING_LINE, at
        call.event = RINGING
        events.append(self._event(call, RINGING, provenance))

    def _on_off_hook(self, line, name, rec, at, provenance, events) -> None:
        if line.state == RINGING_LINE and line.call is not None:
            line.state, line.answered, line.last_seen = TALKING, at, at
            call = line.call
            call.stage, call.event, call.connected = ANSWERED_STAGE, IN_PROGRESS, True
            events.append(self._event(call, IN_PROGRESS, provenance))
        elif line.state == IDLE:
            self._open(line, name, rec, at, provenance, OUTBOUND, "")
            line.state, line.answered, line.digits = DIALLING, at, ""
        else:
            line.last_seen = at
            self.ignored += 1

    def _on_digits(self, line, name, rec, at, provenance, events) -> None:
        if line.state == IDLE:  # its off-hook was lost
            self._open(line, name, rec, at, provenance, OUTBOUND, "")
            line.state, line.answered, line.digits = DIALLING, at, ""
        if line.state != DIALLING:
            self.ignored += 1  # digits during an incoming call (an IVR choice), or while it rings
            if line.state == TALKING:
                line.last_seen = at  # the call was still on at this time
            return
        line.digits += rec.phone or ""
        line.last_seen = at

    def _on_on_hook(self, line, name, rec, at, provenance, events) -> None:
        talk = rec.duration if rec.duration > 0 else None
        if line.state == TALKING:
            self._close(line, ANSWERED, at, events, talk, provenance)
        elif line.state == RINGING_LINE:  # its off-hook was lost: it was answered
            line.answered = None
            self._close(line, ANSWERED, at, events, talk or 0, provenance)
        elif line.state == DIALLING:
            number = rec.phone or line.digits
            if line.call is not None and number:
                line.call.phone = self._dialled(number)
                self._close(line, ANSWERED, at, events, talk, provenance)
            else:
                self._forget(line)  # the handset was lifted and put back: not a call
        elif not self._late_end(line, rec, at) and talk and rec.phone:
            # a complete call in one record (its start frames were lost): start = end - talk
            direction = rec.direction if rec.direction in (INBOUND, OUTBOUND) else INBOUND
            phone = self._dialled(rec.phone, direction)
            self._open(line, name, rec, at - seconds(talk), provenance, direction, phone)
            line.answered = at - seconds(talk)
            self._close(line, ANSWERED, at, events, talk, provenance)
        else:
            self.ignored += 1

    def _on_missed(self, line, name, rec, at, provenance, events) -> None:
        if line.state == RINGING_LINE:
            if rec.phone and line.call is not None and not line.call.phone:
                line.call.phone = rec.phone
            self._close(line, NO_ANSWER, at, events, 0, provenance)
        elif line.state == IDLE and rec.phone and not self._late_end(line, rec, at):
            self._open(line, name, rec, at, provenance, INBOUND, rec.phone)
            self._close(line, NO_ANSWER, at, events, 0, provenance)
        else:
            self.ignored += 1

    # -- timers --------------------------------------------------------------------------------
    def tick(self, now: datetime) -> list[CallEvent]:
        events: list[CallEvent] = []
        for line in self._lines.values():
            self._expire(line, now, events)
        return events

    def _expire(self, line: LineState, now: datetime, events: list[CallEvent]) -> None:
        if line.state == RINGING_LINE and line.last_ring is not None and now - line.last_ring > (
                self.max_call if self.ring_end == "end_record" else self.ring_timeout):
            self._rings_stopped(line, events)
        elif line.state in (TALKING, DIALLING) and line.answered is not None and now - line.answered > self.max_call:
            self._end_lost(line, events)

    def _end_lost(self, line: LineState, events: list[CallEvent]) -> None:
        """The call on this line lost its end frame: close it with what is known."""
        if line.state == TALKING:
            self._close(line, ANSWERED, line.last_seen or line.answered, events)
        elif line.state == DIALLING:
            if line.digits and line.call is not None:
                line.call.phone = self._dialled(line.digits)
                self._close(line, ANSWERED, line.last_seen or line.answered, events)
            else:
                self._forget(line)
        elif line.state == RINGING_LINE:
            self._rings_stopped(line, events)

    def _rings_stopped(self, line: LineState, events: list[CallEvent]) -> None:
        if self.ring_end in ("no_answer", "end_record") or (self.ring_end == "auto" and line.hook_seen):
            self._close(line, NO_ANSWER, line.last_ring, events, 0)
        else:
            self.popup_only += 1
            self._forget(line)

    # -- calls ---------------------------------------------------------------------------------
    def _line(self, name: str) -> LineState:
        line = self._lines.get(name)
        if line is None:
            if len(self._lines) >= _MAX_LINES:
                idle = [k for k, v in self._lines.items() if v.state == IDLE]
                for key in idle[: _MAX_LINES // 2] or list(self._lines)[: _MAX_LINES // 2]:
                    del self._lines[key]
            line = self._lines[name] = LineState()
        return line

    def _open(self, line: LineState, name: str, rec: Record, at: datetime, provenance: Provenance,
              direction: str, phone: str) -> OpenCall:
        agent = self.agents.get(_line_key(name)) or rec.agent
        call = OpenCall(self.new_call_id(rec), name, phone, direction, at, None, RINGING_STAGE, "", 0, agent,
                        provenance)
        line.call, line.last_seen, line.answered, line.digits = call, at, None, ""
        return call

    def _close(self, line: LineState, event: str, end: datetime | None, events: list[CallEvent],
               talk: int | None = None, provenance: Provenance | None = None) -> None:
        call = line.call
        if call is None:
            line.state = IDLE
            return
        if event == ANSWERED and talk is None:
            talk = max(0, int((end - line.answered).total_seconds())) if (
                end is not None and line.answered is not None) else 0
        call.talk = talk or 0
        if end is None or end < call.start:
            end = call.start
        if end - call.start < seconds(call.talk):
            call.start = end - seconds(call.talk)  # the box's own duration, and the end, are the firmer facts
        call.end, call.stage, call.event = end, FINAL_STAGE, event
        events.append(self._event(call, event, provenance or call.provenance))
        line.ended = call
        self._forget(line)

    def _forget(self, line: LineState) -> None:
        line.state, line.call, line.last_ring, line.answered, line.last_seen, line.digits = (
            IDLE, None, None, None, None, "")

    def _late_end(self, line: LineState, rec: Record, at: datetime) -> bool:
        """An end record of the call that already ended on this line (Whozz Calling: ``E`` after ``N``)."""
        ended = line.ended
        if ended is None or ended.end is None or at - ended.end > self.tolerance:
            return False
        if rec.phone and ended.phone and rec.phone != ended.phone and self._dialled(rec.phone) != ended.phone:
            return False
        self.folded += 1
        self.remember_seen(rec)
        return True

    def _dialled(self, number: str, direction: str = OUTBOUND) -> str:
        if self.normalize_phone is None:
            return number
        return self.normalize_phone(number, direction)[0] or ""

    def _event(self, call: OpenCall, event: str, provenance: Provenance) -> CallEvent:
        final = call.stage == FINAL_STAGE
        return CallEvent(call.call_id, call.direction, event, call.agent, call.phone or None,
                         call.talk if final else 0, None, self.gateway, call.line or None, None, call.start,
                         call.end if final else None, provenance)

    # -- restart -------------------------------------------------------------------------------
    def open_calls(self) -> list[OpenCall]:
        return [line.call for line in self._lines.values() if line.call is not None and line.state != IDLE]

    def restore(self, calls: list[OpenCall]) -> None:
        for call in calls:
            line = self._line(call.line or "1")
            line.call, line.last_seen = call, call.start
            if call.direction == OUTBOUND:
                line.state, line.answered = DIALLING, call.start
            elif call.stage == ANSWERED_STAGE:
                line.state, line.answered = TALKING, call.start
            else:
                line.state, line.last_ring = RINGING_LINE, call.start


def _line_key(name: Any) -> str:
    """``01``, ``1`` and 1 name the same line."""
    text = str(name).strip()
    return str(int(text)) if text.isdigit() else text
