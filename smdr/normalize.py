"""Phone numbers and times as the CRM wants them, whatever the PBX printed.

Phone rules (all configurable, ``phone:`` in the config, the source or the device profile):
Persian and Arabic-Indic digits become ASCII; a number with hidden digits (secret dialling prints
dots, privacy dial X, HiPath's "last digits suppressed" ?) is unknown: no phone at all, never the
digits left over; spaces, dashes and brackets go; in an outbound number, a pause (P) after a short
access code is dropped and the digits dialled after the call connected (after a P, F, # or * that
follows a whole number) are cut; the trunk-access digits the PBX prints in front of the dialled
number are stripped; an international prefix of the home country (+98, 0098, 98 + national number)
becomes the national prefix 0; an inbound national number printed without its national prefix
(ISDN: 9121234567) gets it; a number of a local length gets the local area code; an outbound
"number" that matches the extension pattern is an internal call. Times: the PBX's wall time in the
configured IANA zone (Asia/Tehran in Iran).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError
from .memo import Memo
from .model import INBOUND, INTERNAL, OUTBOUND
from .yamlfile import Section

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_NOISE = re.compile(r"[\s\-.()/]")
_DIALLED = re.compile(r"\+?[0-9*#PpFfXx]*")
# what a dial field may hold besides digits: separators, hidden-digit marks, dial controls
_DIAL_TEXT = re.compile(r"[\s\-.()/+0-9*#PpFfXx?]*")
_PAUSES = frozenset("PpFf")          # a pause for dial tone (P), an EFA/flash signal (F)
_POST_DIAL = frozenset("PpFf*#")     # after a whole number: what follows was dialled once connected
PHONE_KEYS = frozenset({"country_code", "national_prefix", "international_prefix", "area_code", "local_lengths",
                        "national_length", "strip_prefixes", "extension_pattern", "hidden_digits",
                        "dial_controls", "access_code_digits", "add_national_prefix"})


@dataclass(slots=True)
class PhoneRules:
    country_code: str = "98"
    national_prefix: str = "0"
    international_prefix: str = "00"
    area_code: str = ""                      # with or without the national prefix: "21" or "021"
    local_lengths: tuple[int, ...] = ()      # e.g. (8,) in Tehran
    national_length: int = 10                # digits after the national prefix (Iran: 10)
    strip_prefixes: tuple[str, ...] = ()     # trunk-access codes printed before dialled numbers
    extension_pattern: re.Pattern[str] | None = None
    hidden_digits: str = ".?X"               # a number holding one of these is unknown ("" = off)
    dial_controls: bool = True               # outbound: drop pauses, cut post-dial digits
    access_code_digits: int = 4              # a P after at most this many digits is a pause, not post-dial
    add_national_prefix: bool = True         # inbound: national_length digits without the prefix get it
    # (number, direction) -> what normalize gives: the decoder's hot path reads its entries directly
    memo: Memo[tuple[str, str], tuple[str, str]] = field(default_factory=Memo, init=False, repr=False,
                                                        compare=False)

    @classmethod
    def from_section(cls, section: Section, base: PhoneRules | None = None) -> PhoneRules:
        section.check_keys(PHONE_KEYS)
        base = base or cls()
        lengths = section.raw("local_lengths", list(base.local_lengths))
        if not isinstance(lengths, list) or not all(isinstance(n, int) and 3 <= n <= 12 for n in lengths):
            raise section.error("'local_lengths' must be a list of whole numbers from 3 to 12, e.g. [8]",
                                "local_lengths")
        return cls(
            country_code=section.get("country_code", str, base.country_code).lstrip("+"),
            national_prefix=section.get("national_prefix", str, base.national_prefix),
            international_prefix=section.get("international_prefix", str, base.international_prefix),
            area_code=section.get("area_code", str, base.area_code),
            local_lengths=tuple(lengths),
            national_length=section.get("national_length", int, base.national_length, minimum=4, maximum=15),
            strip_prefixes=tuple(section.str_list("strip_prefixes", list(base.strip_prefixes))),
            extension_pattern=section.get_regex("extension_pattern", None) or base.extension_pattern,
            hidden_digits=section.get("hidden_digits", str, base.hidden_digits),
            dial_controls=section.get("dial_controls", bool, base.dial_controls),
            access_code_digits=section.get("access_code_digits", int, base.access_code_digits, minimum=1,
                                           maximum=8),
            add_national_prefix=section.get("add_national_prefix", bool, base.add_national_prefix),
        )

    def normalize(self, number: str, direction: str) -> tuple[str, str]:
        """The CRM form of ``number`` and the direction it implies (outbound may become internal)."""
        key = (number, direction)
        cached = self.memo.entries.get(key)
        if cached is not None:
            return cached
        return self.memo.put(key, self._normalize(number, direction))

    def _normalize(self, number: str, direction: str) -> tuple[str, str]:
        printed = number.translate(_DIGITS).strip()
        if printed.isdigit():  # the common case: nothing to clean
            n = printed
            if direction == INTERNAL:
                return n, direction
        else:
            if not _DIAL_TEXT.fullmatch(printed):
                return printed, direction  # a name, or text the PBX printed: keep it as printed
            if self.hidden_digits and any(ch in self.hidden_digits for ch in printed):
                return "", direction  # digits are missing: the number is unknown (the record keeps the text)
            n = _NOISE.sub("", printed)
            if not _DIALLED.fullmatch(n):
                return printed, direction
            if direction == INTERNAL or not n:
                return n, direction
            if direction == OUTBOUND and self.dial_controls:
                n = self._without_dial_controls(n)
        if direction == OUTBOUND:
            if self.extension_pattern is not None and self.extension_pattern.fullmatch(n):
                return n, INTERNAL
            for prefix in self.strip_prefixes:
                if n.startswith(prefix) and len(n) > len(prefix):
                    n = n[len(prefix):]
                    break
        if not n.isdigit() and not (n.startswith("+") and n[1:].isdigit()):
            return n, direction  # a name, or digits with * # P: keep as printed
        cc = self.country_code
        if cc:
            for prefix in ("+" + cc, self.international_prefix + cc):
                if n.startswith(prefix):
                    return self.national_prefix + n[len(prefix):], direction
            if n.startswith(cc) and len(n) == len(cc) + self.national_length:
                return self.national_prefix + n[len(cc):], direction
        if n.startswith("+"):
            return self.international_prefix + n[1:], direction
        prefix = self.national_prefix
        if (direction == INBOUND and self.add_national_prefix and prefix and len(n) == self.national_length
                and not n.startswith(prefix) and len(n) not in self.local_lengths):
            return prefix + n, direction  # ISDN prints national caller numbers without their 0
        if self.area_code and len(n) in self.local_lengths and not n.startswith(self.national_prefix):
            area = self.area_code
            if not area.startswith(self.national_prefix):
                area = self.national_prefix + area
            return area + n, direction
        return n, direction

    def _without_dial_controls(self, n: str) -> str:
        """``02188776655P123`` -> ``02188776655``; ``9PP02188776655`` -> ``902188776655``; a number that
        starts with * or # is a feature code and stays as dialled."""
        if n[:1] in ("*", "#"):
            return n
        plus = "+" if n.startswith("+") else ""
        digits: list[str] = []
        for ch in n[len(plus):]:
            if ch.isdigit():
                digits.append(ch)
            elif ch in _PAUSES and len(digits) <= self.access_code_digits:
                continue  # waiting for the dial tone after an access code: the number goes on
            elif ch in _POST_DIAL and len(digits) > self.access_code_digits:
                break  # dialled after the call connected (an extension, an IVR choice)
            else:
                return n  # * or # inside a short code: not a number we can read, keep it as dialled
        return plus + "".join(digits)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {name!r} (an IANA name such as Asia/Tehran)") from None


class Localizer:
    """Naive PBX wall time -> aware datetime in the configured zone (memoized: few distinct minutes)."""

    __slots__ = ("tz", "memo", "cache")

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.memo: Memo[datetime, datetime] = Memo()
        self.cache = self.memo.entries  # hot callers read it directly

    def __call__(self, wall: datetime) -> datetime:
        aware = self.cache.get(wall)
        if aware is None:
            aware = self.memo.put(wall, wall.replace(tzinfo=self.tz))
        return aware
