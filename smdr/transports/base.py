"""The transport contract: a byte stream from a PBX, reopened with capped backoff when it is lost."""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..backoff import backoff_delay
from ..errors import TransportClosed, TransportError
from .urls import redact

log = logging.getLogger("smdr.transport")

LINK_LOST = None  # marker yielded by read_stream between the bytes of two connections
STABLE_LINK = 30.0  # seconds a link must have lasted before a loss starts the backoff over


class Transport(ABC):
    """One source of bytes. Subclasses are found by URL scheme (see ``smdr.transports.open_url``)."""

    #: False for finite sources (file replay): read_stream ends at EOF instead of reconnecting.
    reconnects: bool = True
    #: The longest wait between two attempts to reopen, whatever the backoff has grown to (None: no
    #: limit). A local device that is missing costs nothing to look for, and comes back at once.
    reopen_at_most_every: float | None = None

    def __init__(self, url: str) -> None:
        self.url = url

    def capture_identity(self) -> str | None:
        """For a replayed capture: what identifies it (a resumed replay must be of the same one); None
        for a live source. Such a transport also has ``start_offset`` (bytes skipped at open) and
        ``size``."""
        return None

    @property
    def display_url(self) -> str:
        """The URL as it may be shown to a person (no password)."""
        return redact(self.url)

    @abstractmethod
    async def open(self) -> None:
        """Connect or open; raise TransportError when it cannot be done now."""

    @abstractmethod
    async def read(self) -> bytes:
        """The next chunk of bytes (never empty); raise TransportClosed when the link is gone."""

    @abstractmethod
    async def close(self) -> None:
        """Release the port or socket; safe to call twice."""

    def received_at(self, tz: Any) -> datetime:
        """When the chunk just read was received: now on a live link; a replay gives its recorded time."""
        return datetime.now(tz)

    def clock(self, tz: Any) -> datetime:
        """The time the source's timers run on: now, or a replay's recorded time as it plays."""
        return datetime.now(tz)

    async def write(self, data: bytes) -> None:  # pragma: no cover - only some transports talk back
        raise TransportError(f"{self.display_url}: this transport cannot send")

    async def shutdown(self) -> None:
        """Release everything for good, including what ``close`` keeps (a listening socket)."""
        await self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.display_url}>"


@dataclass(slots=True)
class Backoff:
    """The reconnect delays of one link: 0.5 s, 1 s, 2 s, ... up to ``cap`` (see smdr.backoff)."""

    initial: float = 0.5
    cap: float = 30.0
    jitter: float = 0.2
    attempt: int = 0

    def next_delay(self) -> float:
        self.attempt += 1
        return backoff_delay(self.attempt, self.initial, self.cap, self.jitter)

    def reset(self) -> None:
        self.attempt = 0


async def read_stream(transport: Transport, backoff: Backoff | None = None,
                      on_link: Callable[[str, str], None] | None = None) -> AsyncIterator[bytes | None]:
    """Yield the transport's bytes forever, reopening it after a loss.

    Yields ``LINK_LOST`` (None) after a connection that delivered bytes is lost, so that the framer
    can set aside a half-received record. Ends only for finite transports (``reconnects`` False).
    ``on_link(state, reason)`` hears "up", "down" and "ended" (for the status page).
    """
    backoff = backoff or Backoff()
    tell = on_link or _ignore
    state = "closed"
    while True:
        try:
            await transport.open()
        except TransportError as exc:
            if not transport.reconnects:
                raise
            if state != "failing":
                log.warning("%s: cannot open (%s); retrying with backoff", transport.display_url, exc)
                state = "failing"
            tell("down", str(exc))
            await asyncio.sleep(_reopen_delay(transport, backoff))
            continue
        log.info("%s: connected", transport.display_url)
        tell("up", "")
        state = "open"
        opened_at = time.monotonic()
        got_bytes = False
        try:
            while True:
                chunk = await transport.read()
                got_bytes = True
                yield chunk
        except TransportClosed as exc:
            await transport.close()
            if not transport.reconnects:
                tell("ended", "")
                return
            tell("down", str(exc))
            if time.monotonic() - opened_at >= STABLE_LINK:
                backoff.reset()  # a peer that accepts, sends a line and hangs up must not make us spin
            log.warning("%s: link lost (%s); reconnecting", transport.display_url, exc)
            state = "lost"
            if got_bytes:
                yield LINK_LOST
            await asyncio.sleep(_reopen_delay(transport, backoff))
        except BaseException:
            await transport.close()
            raise


def _reopen_delay(transport: Transport, backoff: Backoff) -> float:
    delay = backoff.next_delay()
    cap = transport.reopen_at_most_every
    return delay if cap is None else min(delay, cap)


def _ignore(state: str, reason: str) -> None:
    pass
