"""TAPI 2.x structures and constants for ctypes, laid out as tapi.h declares them on Windows.

Every DWORD is ``c_uint32`` and every handle (HLINEAPP, HLINE, HCALL) 32-bit on x86 and x64 alike;
DWORD_PTR (LINEMESSAGE parameters, lineOpen's callback instance) is pointer-sized; the header is
``#pragma pack(1)`` (only LINEINITIALIZEEXPARAMS changes: 28 bytes on x64, not 32). ``ctypes.wintypes``
is not used: its DWORD is ``c_ulong``, 8 bytes on 64-bit Linux where the tests load a fake library.
Sizes and offsets: docs/formats/tapi.md sections 1.2, 1.6, 4.1, 6 (asserted in tests/test_tapi_abi.py).
"""

from __future__ import annotations

import ctypes

DWORD = ctypes.c_uint32
LONG = ctypes.c_int32
DWORD_PTR = ctypes.c_size_t
HANDLE = ctypes.c_void_p

# versions: high word major, low word minor
TAPI_VERSION_1_4 = 0x00010004
TAPI_VERSION_2_0 = 0x00020000
TAPI_VERSION_2_2 = 0x00020002
API_LOW, API_HIGH = TAPI_VERSION_2_0, TAPI_VERSION_2_2  # the structures below are the 2.x shapes

LINEINITIALIZEEXOPTION_USEEVENT = 2
LINECALLPRIVILEGE_NONE, LINECALLPRIVILEGE_MONITOR, LINECALLPRIVILEGE_OWNER = 0x1, 0x2, 0x4
LINEMEDIAMODE_INTERACTIVEVOICE = 0x4
INFINITE = 0xFFFFFFFF

# messages (dwMessageID)
LINE_CALLINFO, LINE_CALLSTATE, LINE_CLOSE, LINE_LINEDEVSTATE = 1, 2, 3, 8
LINE_REPLY, LINE_CREATE, LINE_APPNEWCALL, LINE_REMOVE = 12, 19, 23, 25
MESSAGE_NAMES = {0: "ADDRESSSTATE", 1: "CALLINFO", 2: "CALLSTATE", 3: "CLOSE", 8: "LINEDEVSTATE", 12: "REPLY",
                 19: "CREATE", 23: "APPNEWCALL", 25: "REMOVE"}
LINEDEVSTATE_REINIT = 0x00040000
LINEDEVSTATE_OPEN, LINEDEVSTATE_CLOSE = 0x200, 0x400

CALL_STATES = {0x1: "IDLE", 0x2: "OFFERING", 0x4: "ACCEPTED", 0x8: "DIALTONE", 0x10: "DIALING", 0x20: "RINGBACK",
               0x40: "BUSY", 0x80: "SPECIALINFO", 0x100: "CONNECTED", 0x200: "PROCEEDING", 0x400: "ONHOLD",
               0x800: "CONFERENCED", 0x1000: "ONHOLDPENDCONF", 0x2000: "ONHOLDPENDTRANSFER",
               0x4000: "DISCONNECTED", 0x8000: "UNKNOWN"}
STATE_MASK = 0x00FFFFFF  # the high 8 bits may carry a device-specific substate
LINEDISCONNECTMODE_BUSY = 0x20
DISCONNECT_MODES = {0x1: "NORMAL", 0x2: "UNKNOWN", 0x4: "REJECT", 0x8: "PICKUP", 0x10: "FORWARDED", 0x20: "BUSY",
                    0x40: "NOANSWER", 0x80: "BADADDRESS", 0x100: "UNREACHABLE", 0x200: "CONGESTION",
                    0x800: "UNAVAIL"}
ORIGINS = {0x1: "OUTBOUND", 0x2: "INTERNAL", 0x4: "EXTERNAL", 0x10: "UNKNOWN", 0x20: "UNAVAIL",
           0x40: "CONFERENCE", 0x80: "INBOUND"}
REASONS = {0x1: "DIRECT", 0x2: "FWDBUSY", 0x4: "FWDNOANSWER", 0x8: "FWDUNCOND", 0x10: "PICKUP", 0x20: "UNPARK",
           0x40: "REDIRECT", 0x80: "CALLCOMPLETION", 0x100: "TRANSFER", 0x200: "REMINDER", 0x400: "UNKNOWN",
           0x800: "UNAVAIL", 0x1000: "INTRUDE", 0x2000: "PARKED", 0x4000: "CAMPEDON", 0x8000: "ROUTEREQUEST"}
CALLINFO_STATES = {0x40: "CALLID", 0x80: "RELATEDCALLID", 0x100: "ORIGIN", 0x200: "REASON", 0x8000: "CALLERID",
                   0x10000: "CALLEDID", 0x20000: "CONNECTEDID", 0x40000: "REDIRECTIONID",
                   0x80000: "REDIRECTINGID"}
LINECALLPARTYID_NAME, LINECALLPARTYID_ADDRESS = 0x4, 0x8

ERRORS = {0x80000002: "BADDEVICEID", 0x8000000C: "INCOMPATIBLEAPIVERSION", 0x80000014: "INVALAPPHANDLE",
          0x80000018: "INVALCALLHANDLE", 0x8000002B: "INVALLINEHANDLE", 0x80000032: "INVALPARAM",
          0x80000035: "INVALPOINTER", 0x80000036: "INVALPRIVSELECT", 0x80000042: "NODEVICE",
          0x80000044: "NOMEM", 0x80000046: "NOTOWNER", 0x80000048: "OPERATIONFAILED",
          0x80000049: "OPERATIONUNAVAIL", 0x8000004B: "RESOURCEUNAVAIL", 0x8000004D: "STRUCTURETOOSMALL",
          0x80000050: "UNINITIALIZED", 0x80000052: "REINIT", 0x80000060: "DISCONNECTED",
          0x80000061: "SERVICE_NOT_RUNNING"}
LINEERR_INVALAPPHANDLE = 0x80000014
LINEERR_OPERATIONFAILED = 0x80000048
LINEERR_REINIT = 0x80000052


def error_name(code: int) -> str:
    unsigned = code & 0xFFFFFFFF
    return f"LINEERR_{ERRORS[unsigned]}" if unsigned in ERRORS else f"0x{unsigned:08X}"


class _Packed(ctypes.Structure):
    _pack_ = 1
    _layout_ = "ms"  # what #pragma pack(1) means in MSVC; Python 3.14 warns about _pack_ without it


class LINEINITIALIZEEXPARAMS(_Packed):
    _fields_ = [("dwTotalSize", DWORD), ("dwNeededSize", DWORD), ("dwUsedSize", DWORD), ("dwOptions", DWORD),
                ("hEvent", HANDLE), ("dwCompletionKey", DWORD)]


class LINEMESSAGE(_Packed):
    _fields_ = [("hDevice", DWORD), ("dwMessageID", DWORD), ("dwCallbackInstance", DWORD_PTR),
                ("dwParam1", DWORD_PTR), ("dwParam2", DWORD_PTR), ("dwParam3", DWORD_PTR)]


class LINEEXTENSIONID(_Packed):
    _fields_ = [("dwExtensionID0", DWORD), ("dwExtensionID1", DWORD), ("dwExtensionID2", DWORD),
                ("dwExtensionID3", DWORD)]


def _dwords(*names: str) -> list[tuple[str, type]]:
    return [(name, DWORD) for name in names]


_PARTIES = ("CallerID", "CalledID", "ConnectedID", "RedirectionID", "RedirectingID")
_PAIRS_1X = ("AppName", "DisplayableAddress", "CalledParty", "Comment", "Display", "UserUserInfo",
             "HighLevelComp", "LowLevelComp", "ChargingInfo", "TerminalModes", "DevSpecific")


class LINECALLINFO(_Packed):
    """The TAPI 2.x fixed part (324 bytes); variable data follows it in the same buffer."""

    _fields_ = (
        _dwords("dwTotalSize", "dwNeededSize", "dwUsedSize", "hLine", "dwLineDeviceID", "dwAddressID",
                "dwBearerMode", "dwRate", "dwMediaMode", "dwAppSpecific", "dwCallID", "dwRelatedCallID",
                "dwCallParamFlags", "dwCallStates", "dwMonitorDigitModes", "dwMonitorMediaModes",
                "dwDialPause", "dwDialSpeed", "dwDigitDuration", "dwWaitForDialtone", "dwOrigin", "dwReason",
                "dwCompletionID", "dwNumOwners", "dwNumMonitors", "dwCountryCode", "dwTrunk")
        + [item for party in _PARTIES for item in _dwords(
            f"dw{party}Flags", f"dw{party}Size", f"dw{party}Offset", f"dw{party}NameSize", f"dw{party}NameOffset")]
        + [item for pair in _PAIRS_1X for item in _dwords(f"dw{pair}Size", f"dw{pair}Offset")]
        + _dwords("dwCallTreatment", "dwCallDataSize", "dwCallDataOffset", "dwSendingFlowspecSize",
                  "dwSendingFlowspecOffset", "dwReceivingFlowspecSize", "dwReceivingFlowspecOffset")
    )


class LINEDEVCAPS(_Packed):
    """The TAPI 2.2 fixed part (268 bytes): the fields read by name, the rest kept as DWORDs."""

    _fields_ = _dwords("dwTotalSize", "dwNeededSize", "dwUsedSize", "dwProviderInfoSize", "dwProviderInfoOffset",
                       "dwSwitchInfoSize", "dwSwitchInfoOffset", "dwPermanentLineID", "dwLineNameSize",
                       "dwLineNameOffset", "dwStringFormat", "dwAddressModes", "dwNumAddresses", "dwBearerModes",
                       "dwMaxRate", "dwMediaModes") + [("_rest", DWORD * 51)]


class LINEADDRESSCAPS(_Packed):
    """The TAPI 2.x fixed part (228 bytes): the address (the extension number) at 16/20."""

    _fields_ = _dwords("dwTotalSize", "dwNeededSize", "dwUsedSize", "dwLineDeviceID", "dwAddressSize",
                       "dwAddressOffset") + [("_rest", DWORD * 51)]


FIXED_SIZES = {LINECALLINFO: 324, LINEDEVCAPS: 268, LINEADDRESSCAPS: 228}
