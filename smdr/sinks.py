"""Where call events go at the end of the pipeline: the small interface the outbox plugs into."""

from __future__ import annotations

import json
import sys
from typing import IO, Protocol

from .model import CallEvent


class EventSink(Protocol):
    """The end of the pipeline. ``emit`` returns once the event is safe (written, or committed)."""

    async def emit(self, event: CallEvent) -> None: ...

    def backlog(self) -> int:
        """Events accepted but not yet where they go (the outbox's queue); 0 for a plain writer."""
        ...

    def in_memory(self) -> int:
        """Events accepted but only in memory (waiting for a full disk); 0 for a plain writer."""
        ...

    async def aclose(self) -> None: ...


class JsonlSink:
    """One JSON object per line (the ProcessCDR names plus ``provenance``), to a file or stdout."""

    def __init__(self, target: str = "-") -> None:
        self._own = target != "-"
        self._out: IO[str] = open(target, "a", encoding="utf-8") if self._own else sys.stdout

    async def emit(self, event: CallEvent) -> None:
        self._out.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
        self._out.flush()

    def backlog(self) -> int:
        return 0

    def in_memory(self) -> int:
        return 0

    async def aclose(self) -> None:
        if self._own:
            self._out.close()


class ListSink:
    """Collects events in memory (tests, ``smdr parse``)."""

    def __init__(self) -> None:
        self.events: list[CallEvent] = []

    async def emit(self, event: CallEvent) -> None:
        self.events.append(event)

    def backlog(self) -> int:
        return 0

    def in_memory(self) -> int:
        return 0

    async def aclose(self) -> None:
        return None
