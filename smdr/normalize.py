"""Phone numbers and times as the CRM wants them, whatever the PBX printed.

Phone rules (all configurable, ``phone:`` in the config or the device profile):
Persian and Arabic-Indic digits become ASCII; spaces, dashes, dots and brackets go; for outbound calls
the trunk-access digits the PBX prints in front of the dialled number are stripped; an international
prefix of the home country (+98, 0098, 98 + national number) becomes the national prefix 0; a number of
a local length gets the local area code; an outbound "number" that matches the extension pattern is an
internal call. Times: the PBX's wall time in the configured IANA zone (Asia/Tehran in Iran).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError
from .model import INTERNAL, OUTBOUND
from .yamlfile import Section

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_NOISE = re.compile(r"[\s\-.()/]")
_DIALLED = re.compile(r"\+?[0-9*#PpFfXx]*")
_CACHE_LIMIT = 8192


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
    _cache: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_section(cls, section: Section, base: PhoneRules | None = None) -> PhoneRules:
        section.check_keys({"country_code", "national_prefix", "international_prefix", "area_code",
                            "local_lengths", "national_length", "strip_prefixes", "extension_pattern"})
        base = base or cls()
        lengths = section.raw("local_lengths", list(base.local_lengths))
        if not isinstance(lengths, list) or not all(isinstance(n, int) and n > 0 for n in lengths):
            raise section.error("'local_lengths' must be a list of whole numbers, e.g. [8]", "local_lengths")
        return cls(
            country_code=section.get("country_code", str, base.country_code).lstrip("+"),
            national_prefix=section.get("national_prefix", str, base.national_prefix),
            international_prefix=section.get("international_prefix", str, base.international_prefix),
            area_code=section.get("area_code", str, base.area_code),
            local_lengths=tuple(lengths),
            national_length=section.get("national_length", int, base.national_length),
            strip_prefixes=tuple(section.str_list("strip_prefixes", list(base.strip_prefixes))),
            extension_pattern=section.get_regex("extension_pattern", None) or base.extension_pattern,
        )

    def normalize(self, number: str, direction: str) -> tuple[str, str]:
        """The CRM form of ``number`` and the direction it implies (outbound may become internal)."""
        key = (number, direction)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        result = self._cache[key] = self._normalize(number, direction)
        return result

    def _normalize(self, number: str, direction: str) -> tuple[str, str]:
        printed = number.translate(_DIGITS).strip()
        n = _NOISE.sub("", printed)
        if not _DIALLED.fullmatch(n):
            return printed, direction  # a name, or text the PBX printed: keep it as printed
        if direction == INTERNAL or not n:
            return n, direction
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
        if self.area_code and len(n) in self.local_lengths and not n.startswith(self.national_prefix):
            area = self.area_code
            if not area.startswith(self.national_prefix):
                area = self.national_prefix + area
            return area + n, direction
        return n, direction


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {name!r} (an IANA name such as Asia/Tehran)") from None


class Localizer:
    """Naive PBX wall time -> aware datetime in the configured zone (memoized: few distinct minutes)."""

    __slots__ = ("tz", "cache")

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.cache: dict[datetime, datetime] = {}  # hot callers read it directly

    def __call__(self, wall: datetime) -> datetime:
        aware = self.cache.get(wall)
        if aware is None:
            if len(self.cache) >= _CACHE_LIMIT:
                self.cache.clear()
            aware = self.cache[wall] = wall.replace(tzinfo=self.tz)
        return aware
