"""Where call events go at the end of the pipeline: the small interface the outbox plugs into."""

from __future__ import annotations

import json
import sys
from typing import IO, Protocol

from .model import CallEvent


class EventSink(Protocol):
    """The end of the pipeline. ``emit`` returns once the event is safe (written, or committed)."""

    async def emit(self, event: CallEvent) -> None: ...

    async def emit_many(self, events: list[CallEvent]) -> None:
        """``emit`` of each, in order (the outbox: in one transaction). ``events`` is emptied as they
        are taken, so that a caller retrying after an error goes on with the ones not taken yet."""
        ...

    def backlog(self) -> int:
        """Events accepted but not yet where they go (the outbox's queue); 0 for a plain writer."""
        ...

    def in_memory(self) -> int:
        """Events accepted but only in memory (waiting for a full disk); 0 for a plain writer."""
        ...

    async def commit_chunk(self, source: str, events: list[CallEvent], state: str) -> None:
        """``events`` and the source's ``state`` after them (smdr.journal): in one transaction where the
        sink has them (the outbox); a plain writer keeps the state in memory only."""
        ...

    def source_state(self, source: str) -> str | None:
        """The state last committed for ``source``, or None."""
        ...

    async def aclose(self) -> None: ...


async def emit_one_by_one(sink: EventSink, events: list[CallEvent]) -> None:
    """``emit_many`` for a sink with no transaction: each taken from ``events`` once emitted, so a retry
    after an error goes on with the rest."""
    while events:
        await sink.emit(events[0])
        del events[0]


class MappedSink:
    """A source's view of a shared sink: each event goes through ``change`` first (None: it goes no
    further), the rest is the shared sink's. Closing is for whoever opened the shared sink."""

    def __init__(self, inner: EventSink) -> None:
        self.inner = inner

    def change(self, event: CallEvent) -> CallEvent | None:
        raise NotImplementedError

    async def emit(self, event: CallEvent) -> None:
        changed = self.change(event)
        if changed is not None:
            await self.inner.emit(changed)

    async def emit_many(self, events: list[CallEvent]) -> None:
        await emit_one_by_one(self, events)

    async def commit_chunk(self, source: str, events: list[CallEvent], state: str) -> None:
        changed = [c for c in map(self.change, events) if c is not None]
        await self.inner.commit_chunk(source, changed, state)

    def source_state(self, source: str) -> str | None:
        return self.inner.source_state(source)

    def backlog(self) -> int:
        return self.inner.backlog()

    def in_memory(self) -> int:
        return self.inner.in_memory()

    async def aclose(self) -> None:
        return None


class _WrittenAtOnce:
    """A sink that keeps nothing back (no queue) and the sources' states in memory only: it has no
    transaction to put them in, so a restart does not parse the journal again."""

    states: dict[str, str]

    async def emit(self, event: CallEvent) -> None:
        raise NotImplementedError

    async def emit_many(self, events: list[CallEvent]) -> None:
        await emit_one_by_one(self, events)

    def backlog(self) -> int:
        return 0

    def in_memory(self) -> int:
        return 0

    async def commit_chunk(self, source: str, events: list[CallEvent], state: str) -> None:
        for event in events:
            await self.emit(event)
        self.states[source] = state

    def source_state(self, source: str) -> str | None:
        return self.states.get(source)


class JsonlSink(_WrittenAtOnce):
    """One JSON object per line (the ProcessCDR names plus ``provenance``), to a file or stdout."""

    def __init__(self, target: str = "-") -> None:
        self._own = target != "-"
        self._out: IO[str] = open(target, "a", encoding="utf-8") if self._own else sys.stdout
        self.states: dict[str, str] = {}

    async def emit(self, event: CallEvent) -> None:
        self._out.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
        self._out.flush()

    async def aclose(self) -> None:
        if self._own:
            self._out.close()


class ListSink(_WrittenAtOnce):
    """Collects events in memory (tests, ``smdr parse``)."""

    def __init__(self) -> None:
        self.events: list[CallEvent] = []
        self.states: dict[str, str] = {}

    async def emit(self, event: CallEvent) -> None:
        self.events.append(event)

    async def aclose(self) -> None:
        return None
