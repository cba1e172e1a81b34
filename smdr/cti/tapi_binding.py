"""The TAPI 2.x line functions through ctypes: tapi32.dll on Windows, a library by path elsewhere (the
tests' fake). One declaration per function; the W (UTF-16) versions; every variable-size structure read
with the grow-and-retry loop of the size contract (docs/formats/tapi.md 1.4).

Strings passed in are UTF-16LE buffers built here (``c_wchar`` is 4 bytes on Linux); strings read back
are decoded from the structure's (Size, Offset) pairs, NULs stripped.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from typing import Any

from ..errors import TransportError
from . import tapi_abi as abi
from .tapi_abi import DWORD, DWORD_PTR, LONG

_P = ctypes.POINTER
_VOID = ctypes.c_void_p
_MAX_RETRIES = 8

#: name -> argument types; every function returns a LONG (0, a positive async request id, or a LINEERR).
FUNCTIONS: dict[str, list[Any]] = {
    "lineInitializeExW": [_P(DWORD), _VOID, _VOID, _VOID, _P(DWORD), _P(DWORD), _P(abi.LINEINITIALIZEEXPARAMS)],
    "lineNegotiateAPIVersion": [DWORD, DWORD, DWORD, DWORD, _P(DWORD), _P(abi.LINEEXTENSIONID)],
    "lineGetDevCapsW": [DWORD, DWORD, DWORD, DWORD, _VOID],
    "lineGetAddressCapsW": [DWORD, DWORD, DWORD, DWORD, DWORD, _VOID],
    "lineOpenW": [DWORD, DWORD, _P(DWORD), DWORD, DWORD, DWORD_PTR, DWORD, DWORD, _VOID],
    "lineSetStatusMessages": [DWORD, DWORD, DWORD],
    "lineGetMessage": [DWORD, _P(abi.LINEMESSAGE), DWORD],
    "lineGetCallInfoW": [DWORD, _VOID],
    "lineMakeCallW": [DWORD, _P(DWORD), _VOID, DWORD, _VOID],
    "lineDrop": [DWORD, _VOID, DWORD],
    "lineDeallocateCall": [DWORD],
    "lineClose": [DWORD],
    "lineShutdown": [DWORD],
}


class TapiError(TransportError):
    def __init__(self, function: str, code: int) -> None:
        self.function, self.code = function, code & 0xFFFFFFFF
        super().__init__(f"{function} failed: {abi.error_name(code)}")


class TapiShutDown(TransportError):
    """lineGetMessage returned because the app was shut down (from another thread)."""


def wide(text: str) -> ctypes.Array:
    """A NUL-terminated UTF-16LE buffer for an LPCWSTR argument (any platform)."""
    return ctypes.create_string_buffer((text + "\0").encode("utf-16-le"))


def text_at(raw: bytes, size: int, offset: int) -> str:
    """The string a (Size, Offset) pair points at; '' when empty or outside what was filled."""
    if not size or offset + size > len(raw):
        return ""
    return raw[offset:offset + size].decode("utf-16-le", "replace").replace("\0", "")


class TapiLibrary:
    """The loaded library with its functions declared (WinDLL on Windows: stdcall on x86)."""

    def __init__(self, path: str | None = None) -> None:
        if path is None and os.name != "nt":
            raise TransportError("tapi:// needs Windows (tapi32.dll); elsewhere give library=PATH "
                                 "(a library with the same exports, e.g. the tests' fake)")
        loader = ctypes.WinDLL if os.name == "nt" else ctypes.CDLL  # type: ignore[attr-defined]
        try:
            self.dll = loader(path or "tapi32.dll")
        except OSError as exc:
            raise TransportError(f"cannot load {path or 'tapi32.dll'}: {exc}") from exc
        for name, argtypes in FUNCTIONS.items():
            try:
                function = getattr(self.dll, name)
            except AttributeError:
                raise TransportError(f"{path or 'tapi32.dll'} does not export {name}") from None
            function.argtypes, function.restype = argtypes, LONG
            setattr(self, name, function)


@dataclass(slots=True)
class Message:
    device: int
    message_id: int
    instance: int
    param1: int
    param2: int
    param3: int


@dataclass(slots=True)
class CallInfo:
    line_handle: int
    device_id: int
    call_id: int
    related_call_id: int
    origin: int
    reason: int
    trunk: int
    parties: dict[str, str]   # caller, callername, called, ..., redirecting, redirectingname


@dataclass(slots=True)
class LineCaps:
    name: str
    permanent_id: int
    addresses: int


_PARTY_KEYS = {"CallerID": "caller", "CalledID": "called", "ConnectedID": "connected",
               "RedirectionID": "redirection", "RedirectingID": "redirecting"}


class TapiSession:
    """One lineInitializeExW in event mode and what is done with its lines (not thread-bound: TAPI is
    thread-safe; the monitor's worker thread reads messages while the dialer places calls)."""

    def __init__(self, library: TapiLibrary, *, app_name: str = "smdr", initial_size: int = 1024) -> None:
        self.lib = library
        self.app_name = app_name
        self.initial_size = initial_size
        self.app = 0
        self.devices = 0
        self.tapi_version = 0
        self.retries = 0   # times a structure had to be read again, larger

    def _check(self, function: str, rc: int) -> int:
        if rc < 0:
            raise TapiError(function, rc)
        return rc

    def initialize(self) -> int:
        app, devices, version = DWORD(0), DWORD(0), DWORD(abi.API_HIGH)
        params = abi.LINEINITIALIZEEXPARAMS()
        params.dwTotalSize = ctypes.sizeof(params)
        params.dwOptions = abi.LINEINITIALIZEEXOPTION_USEEVENT
        self._name = wide(self.app_name)
        self._check("lineInitializeExW", self.lib.lineInitializeExW(
            ctypes.byref(app), None, None, ctypes.cast(self._name, _VOID), ctypes.byref(devices),
            ctypes.byref(version), ctypes.byref(params)))
        self.app, self.devices, self.tapi_version = app.value, devices.value, version.value
        return self.devices

    def negotiate(self, device: int, low: int = abi.API_LOW, high: int = abi.API_HIGH) -> int:
        version, extension = DWORD(0), abi.LINEEXTENSIONID()
        self._check("lineNegotiateAPIVersion", self.lib.lineNegotiateAPIVersion(
            self.app, device, low, high, ctypes.byref(version), ctypes.byref(extension)))
        return version.value

    def _variable(self, cls: type[ctypes.Structure], function: str, *args: Any) -> tuple[Any, bytes]:
        """Call ``function(*args, buffer)`` with a buffer grown (to dwNeededSize, at least doubling) until what
        TAPI needs fits; it may need more on the next call."""
        size = max(self.initial_size, ctypes.sizeof(cls))
        for _ in range(_MAX_RETRIES):
            buffer = ctypes.create_string_buffer(size)
            head = cls.from_buffer(buffer)
            head.dwTotalSize = size
            self._check(function, getattr(self.lib, function)(*args, ctypes.addressof(buffer)))
            if head.dwNeededSize <= size:
                return head, buffer.raw[:min(head.dwUsedSize, size)]
            self.retries += 1
            size = max(head.dwNeededSize, size * 2)  # a provider whose data keeps growing still fits
        raise TransportError(f"{function}: the structure kept growing after {_MAX_RETRIES} reads")

    def dev_caps(self, device: int, version: int) -> LineCaps:
        caps, raw = self._variable(abi.LINEDEVCAPS, "lineGetDevCapsW", self.app, device, version, 0)
        return LineCaps(text_at(raw, caps.dwLineNameSize, caps.dwLineNameOffset), caps.dwPermanentLineID,
                        caps.dwNumAddresses)

    def address(self, device: int, version: int, address_id: int = 0) -> str:
        caps, raw = self._variable(abi.LINEADDRESSCAPS, "lineGetAddressCapsW", self.app, device, address_id,
                                   version, 0)
        return text_at(raw, caps.dwAddressSize, caps.dwAddressOffset)

    def open(self, device: int, version: int, privileges: int, instance: int) -> int:
        line = DWORD(0)
        self._check("lineOpenW", self.lib.lineOpenW(self.app, device, ctypes.byref(line), version, 0, instance,
                                                    privileges, abi.LINEMEDIAMODE_INTERACTIVEVOICE, None))
        self._check("lineSetStatusMessages", self.lib.lineSetStatusMessages(
            line.value, abi.LINEDEVSTATE_REINIT | abi.LINEDEVSTATE_OPEN | abi.LINEDEVSTATE_CLOSE, 0))
        return line.value

    def get_message(self, timeout_ms: int) -> Message | None:
        """The next message; None after ``timeout_ms`` without one; TapiShutDown once shut down."""
        message = abi.LINEMESSAGE()
        rc = self.lib.lineGetMessage(self.app, ctypes.byref(message), timeout_ms)
        if rc < 0:
            code = rc & 0xFFFFFFFF
            if code == abi.LINEERR_OPERATIONFAILED:
                return None
            if code == abi.LINEERR_INVALAPPHANDLE:
                raise TapiShutDown("the TAPI session was shut down")
            raise TapiError("lineGetMessage", rc)
        return Message(message.hDevice, message.dwMessageID, message.dwCallbackInstance, message.dwParam1,
                       message.dwParam2, message.dwParam3)

    def call_info(self, call: int) -> CallInfo:
        info, raw = self._variable(abi.LINECALLINFO, "lineGetCallInfoW", call)
        parties: dict[str, str] = {}
        for field, key in _PARTY_KEYS.items():
            flags = getattr(info, f"dw{field}Flags")
            parties[key] = text_at(raw, getattr(info, f"dw{field}Size"), getattr(info, f"dw{field}Offset")) if (
                flags & abi.LINECALLPARTYID_ADDRESS) else ""
            parties[key + "name"] = text_at(raw, getattr(info, f"dw{field}NameSize"),
                                            getattr(info, f"dw{field}NameOffset")) if (
                flags & abi.LINECALLPARTYID_NAME) else ""
        return CallInfo(info.hLine, info.dwLineDeviceID, info.dwCallID, info.dwRelatedCallID, info.dwOrigin,
                        info.dwReason, info.dwTrunk, parties)

    def make_call(self, line: int, destination: str) -> tuple[int, ctypes.c_uint32]:
        """lineMakeCallW: the request id (its LINE_REPLY says how it went) and the HCALL it will fill,
        which the caller keeps alive until that reply."""
        call = DWORD(0)
        address = wide(destination)
        request = self._check("lineMakeCallW", self.lib.lineMakeCallW(
            line, ctypes.byref(call), ctypes.cast(address, _VOID), 0, None))
        return request, call

    def deallocate(self, call: int) -> None:
        self.lib.lineDeallocateCall(call)  # a handle already gone is not an error worth raising

    def close_line(self, line: int) -> None:
        self.lib.lineClose(line)

    def shutdown(self) -> None:
        if self.app:
            app, self.app = self.app, 0
            self.lib.lineShutdown(app)
