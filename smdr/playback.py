"""Play a capture into a serial port, a listening connector, or as a TCP server a connector logs into.

``smdr play site.cap serial:///dev/ttyUSB1`` writes the bytes into one end of a null-modem cable (or a
pty pair) so that a connector on the other end reads them as if the PBX printed them;
``smdr play site.cap tcp-listen://0.0.0.0:2300 --login panasonic`` is a Panasonic LAN SMDR port (prompt
``-``, ``SMDR``, ``Enter Password:``) serving the capture to whoever logs in. The pace is the capture's
own timing when it has a ``.timing`` file, else the wire speed of ``baudrate``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .errors import TransportClosed, TransportError
from .recording import timing_path_for
from .transports import Transport, open_url
from .transports.login import PANASONIC_DEFAULT_PASSWORD, PANASONIC_DEFAULT_USER

log = logging.getLogger("smdr.play")

LOGINS = ("none", "panasonic")
LOGIN_LINE_LIMIT = 256
LOGIN_TIMEOUT = 30.0


@dataclass(slots=True)
class PlayStats:
    byte_count: int = 0
    connections: int = 0
    refused_logins: int = 0


def replay_url(capture: Path, pace: str | None, baudrate: int, speed: float = 1.0) -> str:
    """The file:// URL that reads ``capture`` at the chosen pace (``None``: timing if it has a file)."""
    if not capture.is_file():
        raise TransportError(f"{capture}: no such capture file")
    if pace is None:
        pace = "timing" if timing_path_for(capture).is_file() else "baud"
    query = {"flat": "pace=flat", "baud": f"pace=baud&baudrate={baudrate}",
             "timing": f"pace=timing&speed={speed:g}"}[pace]
    return f"file://{quote(str(capture.resolve()).replace(chr(92), '/'), safe='/:')}?{query}"


async def play(capture_url: str, target: Transport, *, login: str = "none", user: str = PANASONIC_DEFAULT_USER,
               password: str = PANASONIC_DEFAULT_PASSWORD, connections: int = 1, hold: bool = False) -> PlayStats:
    """Send the capture to ``target`` ``connections`` times (a TCP server: once per client that connects);
    with ``hold``, stay connected afterwards like an idle PBX until the other end leaves."""
    stats = PlayStats()
    while stats.connections < connections:
        await target.open()
        stats.connections += 1
        try:
            if login == "panasonic":
                await _panasonic_login(target, user, password, stats)
            await _copy(capture_url, target, stats)
            while hold:
                await target.read()  # until TransportClosed: the connector went away
        except TransportClosed as exc:
            log.warning("the other end went away: %s", exc)
        except TimeoutError:
            log.warning("no login within %.0f s; closing the connection", LOGIN_TIMEOUT)
        finally:
            await target.close()
    return stats


async def _copy(capture_url: str, target: Transport, stats: PlayStats) -> None:
    source = open_url(capture_url)
    await source.open()
    try:
        while True:
            try:
                chunk = await source.read()
            except TransportClosed:
                return  # the end of the capture
            await target.write(chunk)
            stats.byte_count += len(chunk)
    finally:
        await source.shutdown()


async def _panasonic_login(target: Transport, user: str, password: str, stats: PlayStats) -> None:
    """The KX-NS/TDE port's dialogue (docs/formats/panasonic.md 1.6): a wrong password gets the prompt
    again, as on the real port; TimeoutError when nobody logs in."""
    pending = bytearray()
    async with asyncio.timeout(LOGIN_TIMEOUT):
        while True:
            await target.write(b"-")
            command = await _read_line(target, pending)
            if command.strip().upper() != user.upper().encode():
                await target.write(b"\r\nNo such command.\r\n")
                continue
            await target.write(b"\r\n" + user.upper().encode() + b"\rEnter Password:")
            given = await _read_line(target, pending)
            await target.write(b"*" * len(given))
            if given.decode("latin-1") == password:
                await target.write(b"\r")
                return
            stats.refused_logins += 1
            log.warning("a client gave a wrong SMDR password")
            await target.write(b"\r\n")


async def _read_line(target: Transport, pending: bytearray) -> bytes:
    while True:
        for end in (b"\r", b"\n"):
            index = pending.find(end)
            if index >= 0:
                line = bytes(pending[:index])
                del pending[: index + 1]
                if line:
                    return line
                break
        else:
            if len(pending) > LOGIN_LINE_LIMIT:
                raise TransportClosed("the client sent a long line instead of a login")
            pending += await target.read()
            continue
