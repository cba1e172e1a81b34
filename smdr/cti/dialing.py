"""What click-to-call needs from a source: a dialer (TAPI lineMakeCall, GIS reqtype=DIAL).

A transport that can place calls has ``async dial(extension, number) -> DialResult`` and raises
DialError with a kind the HTTP route turns into its answer. The daemon registers the dialers of its
sources here; the route asks for the one that serves an extension.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class DialError(Exception):
    """``kind``: not-available (this PBX cannot dial), unknown-extension, unavailable (try later), failed."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


@dataclass(slots=True)
class DialResult:
    via: str               # "tapi", "gis"
    reference: str = ""    # the request id / the PBX's call id


class Dialer(Protocol):
    async def dial(self, extension: str, number: str) -> DialResult: ...


class Dialers:
    """The dialers of the running sources, by source name; ``for_extension`` picks one."""

    def __init__(self) -> None:
        self._by_source: dict[str, Dialer] = {}

    def add(self, source: str, dialer: Dialer) -> None:
        self._by_source[source] = dialer

    def remove(self, source: str) -> None:
        self._by_source.pop(source, None)

    def __bool__(self) -> bool:
        return bool(self._by_source)

    def names(self) -> list[str]:
        return sorted(self._by_source)

    def for_extension(self, extension: str, source: str | None = None) -> Dialer | None:
        """The dialer of ``source``, else the one whose lines include ``extension``, else the only one."""
        if source:
            return self._by_source.get(source)
        for dialer in self._by_source.values():
            if extension in (getattr(dialer, "lines", None) or ()):
                return dialer
        if len(self._by_source) == 1:
            return next(iter(self._by_source.values()))
        return None


def can_dial(transport: object) -> bool:
    return callable(getattr(transport, "dial", None)) and bool(getattr(transport, "can_dial", True))
