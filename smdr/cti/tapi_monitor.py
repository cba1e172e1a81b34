"""The TAPI line monitor: opens the lines, reads LINEMESSAGEs, and writes each as one trace line.

A trace line is one JSON object (UTF-8, LF-terminated) with the received time ``t`` and what the
message said, with the call's LINECALLINFO read at that moment::

    {"t":"2026-01-14T10:00:01.250+03:30","msg":"CALLSTATE","line":"101","call":65537,"state":"OFFERING",
     "mode":1,"priv":2,"info":{"callid":500,"related":0,"origin":"EXTERNAL","reason":"DIRECT",
     "caller":"09121234567","callername":"Ali",...}}

These lines are the bytes the ``tapi://`` transport delivers, so ``smdr record tapi://`` captures them and
the ``tapi-trace`` parser translates live and replayed traces alike. This module runs in the worker
thread; it knows TAPI, not asyncio.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import TransportError
from . import tapi_abi as abi
from .tapi_binding import CallInfo, Message, TapiError, TapiSession

log = logging.getLogger("smdr.tapi")

#: messages after which the session must be built again (handles are void)
RECONNECT = "reconnect"


@dataclass(slots=True)
class OpenLine:
    device: int
    handle: int
    address: str
    name: str
    permanent_id: int
    version: int


@dataclass(slots=True)
class PendingDial:
    done: Callable[[int], None]   # called with LINE_REPLY's result (0 or a LINEERR)
    call: Any                     # the HCALL buffer TAPI fills: kept alive until the reply


def now_text() -> str:
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


def encode(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def names(bits: int, table: dict[int, str]) -> list[str]:
    return [name for bit, name in table.items() if bits & bit]


def info_dict(info: CallInfo) -> dict[str, Any]:
    entry: dict[str, Any] = {"callid": info.call_id, "related": info.related_call_id,
                             "origin": abi.ORIGINS.get(info.origin, f"0x{info.origin:X}"),
                             "reason": abi.REASONS.get(info.reason, f"0x{info.reason:X}")}
    entry.update({key: value for key, value in info.parties.items() if value})
    if info.trunk != 0xFFFFFFFF:
        entry["trunk"] = info.trunk
    return entry


@dataclass(slots=True)
class Monitor:
    """Lines by handle, calls by handle, dial requests by id; ``translate`` turns one message into trace
    entries (and says when the session must be rebuilt)."""

    session: TapiSession
    lines: dict[int, OpenLine] = field(default_factory=dict)
    calls: dict[int, int] = field(default_factory=dict)       # hCall -> hLine
    pending: dict[int, PendingDial] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ignored: int = 0

    def open_lines(self, wanted: list[str], privileges: int) -> None:
        """Negotiate and open the lines whose address or name is in ``wanted`` (every line if empty)."""
        session = self.session
        for device in range(session.devices):
            try:
                version = session.negotiate(device)
                caps = session.dev_caps(device, version)
                address = session.address(device, version) if caps.addresses else ""
            except TapiError as exc:
                log.warning("TAPI line device %d left out: %s", device, exc)
                continue
            address = address or "".join(ch for ch in caps.name if ch.isdigit()) or str(device)
            if wanted and address not in wanted and caps.name not in wanted:
                continue
            handle = session.open(device, version, privileges, instance=device + 1)
            self.lines[handle] = OpenLine(device, handle, address, caps.name, caps.permanent_id, version)
        missing = [w for w in wanted if not any(w in (line.address, line.name) for line in self.lines.values())]
        if missing:
            log.warning("TAPI: no line for %s (lines: %s)", ", ".join(missing),
                        ", ".join(line.address for line in self.lines.values()) or "none")

    def opened_entry(self) -> dict[str, Any]:
        return {"t": now_text(), "msg": "OPEN", "tapi": f"0x{self.session.tapi_version:08X}",
                "lines": {line.address: line.name for line in self.lines.values()}}

    def line_for(self, handle: int) -> OpenLine | None:
        return self.lines.get(handle)

    def translate(self, message: Message) -> tuple[list[dict[str, Any]], bool]:
        """Trace entries for one message, and whether the session has to be rebuilt."""
        kind = message.message_id
        stamp = now_text()
        if kind == abi.LINE_APPNEWCALL:
            line = self.line_for(message.device)
            self.calls[message.param2] = message.device
            return [{"t": stamp, "msg": "NEWCALL", "line": line.address if line else "", "call": message.param2,
                     "priv": message.param3}], False
        if kind in (abi.LINE_CALLSTATE, abi.LINE_CALLINFO):
            return self._call_message(message, stamp), False
        if kind == abi.LINE_REPLY:
            self._reply(message.param1, message.param2)
            return [{"t": stamp, "msg": "REPLY", "request": message.param1,
                     "result": abi.error_name(message.param2) if message.param2 else 0}], False
        if kind == abi.LINE_LINEDEVSTATE:
            if message.param1 & abi.LINEDEVSTATE_REINIT and message.param2 == 0:
                return [{"t": stamp, "msg": "REINIT"}], True
            return [], False
        if kind == abi.LINE_CLOSE:
            line = self.lines.pop(message.device, None)
            return [{"t": stamp, "msg": "CLOSE", "line": line.address if line else ""}], True
        if kind == abi.LINE_CREATE:
            return [{"t": stamp, "msg": "CREATE", "device": message.param1}], True
        self.ignored += 1
        return [], False

    def _call_message(self, message: Message, stamp: str) -> list[dict[str, Any]]:
        call = message.device
        try:
            info = self.session.call_info(call)
        except TransportError as exc:
            log.debug("lineGetCallInfoW(%d): %s", call, exc)
            info = None
        line_handle = info.line_handle if info is not None else self.calls.get(call, 0)
        line = self.line_for(line_handle)
        entry: dict[str, Any] = {"t": stamp, "msg": abi.MESSAGE_NAMES[message.message_id],
                                 "line": line.address if line else "", "call": call}
        if message.message_id == abi.LINE_CALLSTATE:
            state = message.param1 & abi.STATE_MASK
            entry["state"] = abi.CALL_STATES.get(state, f"0x{state:X}")
            entry["mode"] = message.param2
            if message.param3:
                entry["priv"] = message.param3
        else:
            entry["changed"] = names(message.param1, abi.CALLINFO_STATES)
        if info is not None:
            entry["info"] = info_dict(info)
        if entry.get("state") == "IDLE":
            self.calls.pop(call, None)
            self.session.deallocate(call)
        return [entry]

    def _reply(self, request: int, result: int) -> None:
        with self.lock:  # the dialer holds it while lineMakeCallW runs: its id is registered first
            pending = self.pending.pop(request, None)
        if pending is not None:
            pending.done(result)

    def place_call(self, address: str, number: str, done: Callable[[int], None]) -> int:
        """lineMakeCallW on the line of ``address``; ``done`` gets the LINE_REPLY result later."""
        line = next((line for line in self.lines.values() if line.address == address), None)
        if line is None:
            raise LookupError(address)
        with self.lock:
            request, call = self.session.make_call(line.handle, number)
            self.pending[request] = PendingDial(done, call)
        return request

    def close(self) -> None:
        for handle in list(self.lines):
            self.session.close_line(handle)
        self.lines.clear()
        self.session.shutdown()
