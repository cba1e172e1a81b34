"""What the running connector knows about itself: per source link state, last record, silence, PBX clock;
per site the outbox, the CRM's last error and the recent calls. Read by the status page, /metrics and
``smdr status``; the alarms (silent source, wrong PBX clock) are also logged, once per change.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..model import CallEvent

log = logging.getLogger("smdr.status")

RECENT_CALLS = 20
#: a wrong clock is said only after this many records in a row disagree (one buffered old record is not it)
CLOCK_EVIDENCE = 3
WATCH_INTERVAL = 5.0

LINK_CONNECTING, LINK_UP, LINK_DOWN, LINK_ENDED = "connecting", "up", "down", "ended"


@dataclass(slots=True)
class SourceStatus:
    name: str
    url: str                    # as it may be shown (no password)
    layout: str
    silent_after: float = 0.0   # seconds; 0: no silence alarm
    clock_tolerance: float = 600.0
    live: bool = True           # False for a file replay: no silence or clock alarms
    link: str = LINK_CONNECTING
    link_since: float = field(default_factory=time.time)
    link_error: str = ""
    bytes: int = 0
    records: int = 0
    events: int = 0
    last_byte_at: float | None = None
    last_record_at: float | None = None
    silent: bool = False
    clock_offset: float | None = None   # printed minus received, seconds, of the last call record
    clock_wrong: bool = False
    _off_in_a_row: int = 0

    def set_link(self, state: str, error: str = "") -> None:
        if state != self.link:
            self.link, self.link_since = state, time.time()
        self.link_error = error

    def got_bytes(self, count: int, now: float) -> None:
        self.bytes += count
        self.last_byte_at = now
        if self.silent:
            self.silent = False
            log.info("%s: the source sends again", self.name)

    def got_records(self, records: int, events: int, now: float) -> None:
        if records > self.records:
            self.last_record_at = now
        self.records, self.events = records, events

    def check_clock(self, events: Iterable[CallEvent], received: datetime) -> None:
        """Compare the PBX's printed time of each new call record with when it arrived."""
        if not self.live or not self.clock_tolerance:
            return
        for event in events:
            printed = event.endtime or event.starttime
            if printed is None or printed.tzinfo is None:
                continue
            offset = (printed - received).total_seconds()
            self.clock_offset = offset
            if abs(offset) <= self.clock_tolerance:
                self._off_in_a_row = 0
                if self.clock_wrong:
                    self.clock_wrong = False
                    log.info("%s: the PBX clock agrees with this PC again", self.name)
                continue
            self._off_in_a_row += 1
            if self._off_in_a_row >= CLOCK_EVIDENCE and not self.clock_wrong:
                self.clock_wrong = True
                log.warning("%s: the PBX clock looks wrong: its records say %s, they arrived at %s (%s apart, "
                            "more than %.0f min); set the PBX's date and time, or call times in the CRM are off",
                            self.name, printed.isoformat(timespec="minutes"), received.isoformat(timespec="minutes"),
                            span(abs(offset)), self.clock_tolerance / 60)

    def check_silence(self, now: float, started: float) -> float | None:
        """Raise the alarm if it is due; the seconds until it could next be due (None: never)."""
        if not self.live or not self.silent_after:
            return None
        if self.silent:  # the next alarm needs bytes first, then silent_after of silence
            return self.silent_after
        heard = self.last_byte_at or started
        if now - heard < self.silent_after:
            return heard + self.silent_after - now
        self.silent = True
        log.warning("%s: no byte from the PBX for %s (silent_minutes %.0f): check the link and that the PBX "
                    "prints call records (link %s)", self.name, span(now - heard), self.silent_after / 60,
                    self.link)
        return self.silent_after

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name, "url": self.url, "layout": self.layout, "link": self.link,
            "link_since": self.link_since, "link_error": self.link_error, "bytes": self.bytes,
            "records": self.records, "events": self.events, "last_byte_at": self.last_byte_at,
            "last_record_at": self.last_record_at, "silent": self.silent, "silent_after": self.silent_after,
            "clock_offset": self.clock_offset, "clock_wrong": self.clock_wrong, "live": self.live,
        }


@dataclass(slots=True)
class OutboxView:
    """How the status reads the outbox (None of these when there is no CRM)."""

    counts: Callable[[], dict[str, int]]
    oldest_queued_at: Callable[[], float | None]
    last_error: Callable[[], tuple[str | None, float | None]]
    paused: Callable[[], bool]


class SiteStatus:
    def __init__(self, version: str, sources: list[SourceStatus], quarantined: Callable[[], dict[str, int]],
                 outbox: OutboxView | None = None) -> None:
        self.version = version
        self.started = time.time()
        self.sources = {source.name: source for source in sources}
        self.quarantined = quarantined
        self.outbox = outbox
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT_CALLS)

    def source(self, name: str) -> SourceStatus:
        return self.sources[name]

    def saw_event(self, source: str, event: CallEvent) -> None:
        self.recent.appendleft({
            "at": time.time(), "source": source, "call_id": event.call_id, "direction": event.direction,
            "event": event.event, "agent": event.agent, "phone": event.phone, "duration": event.duration,
            "starttime": event.starttime.isoformat() if event.starttime else None})

    async def watch(self, stop: asyncio.Event, interval: float = WATCH_INTERVAL) -> None:
        """The silence alarm until ``stop``: checked when one could be due (at least ``interval`` apart),
        never when no source has one (no timer on an idle connector)."""
        while not stop.is_set():
            now = time.time()
            due = [wait for wait in (source.check_silence(now, self.started) for source in self.sources.values())
                   if wait is not None]
            try:
                await asyncio.wait_for(stop.wait(), max(interval, min(due)) if due else None)
            except TimeoutError:
                pass

    def snapshot(self) -> dict[str, Any]:
        now = time.time()
        data: dict[str, Any] = {
            "version": self.version, "now": now, "started": self.started, "uptime": now - self.started,
            "sources": [source.snapshot() for source in self.sources.values()],
            "quarantined": dict(self.quarantined()), "recent_calls": list(self.recent), "outbox": None,
        }
        if self.outbox is not None:
            oldest = self.outbox.oldest_queued_at()
            error, error_at = self.outbox.last_error()
            data["outbox"] = {"counts": self.outbox.counts(), "oldest_queued_age": None if oldest is None else
                              max(0.0, now - oldest), "last_error": error, "last_error_at": error_at,
                              "paused_by_auth": self.outbox.paused()}
        data["problems"] = problems(data)
        return data


def problems(snapshot: dict[str, Any]) -> list[str]:
    """What a person should look at, one short sentence each (empty: all is well)."""
    found = []
    for source in snapshot["sources"]:
        if source["live"] and source["link"] != LINK_UP:
            found.append(f"{source['name']}: link {source['link']}"
                         + (f" ({source['link_error']})" if source["link_error"] else ""))
        if source["silent"]:
            found.append(f"{source['name']}: silent for more than {span(source['silent_after'])}")
        if source["clock_wrong"]:
            found.append(f"{source['name']}: the PBX clock is {span(abs(source['clock_offset'] or 0))} "
                         f"{'ahead' if (source['clock_offset'] or 0) > 0 else 'behind'}")
    outbox = snapshot.get("outbox")
    if outbox:
        if outbox["paused_by_auth"]:
            found.append("delivery paused: the CRM refused the secret key")
        age = outbox["oldest_queued_age"]
        if age is not None and age > 300:
            found.append(f"the oldest queued event waits for {span(age)}")
    return found


def span(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} days"
