"""The CRM's health as the delivery sees it: the shared backoff of the whole CRM while it is down, and
the probe that notices it is back before that backoff runs out."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable

from ..backoff import backoff_delay
from ..crm.client import GenericClient
from ..crm.settings import CrmSettings
from .store import OutboxStore

log = logging.getLogger("smdr.outbox")

PROBE_INTERVAL = 2.0  # seconds between two looks at a CRM that is down (once the backoff is longer)


class CrmOutage:
    """Counts failed rounds; while the CRM is down, no new call starts before ``gate_until``."""

    def __init__(self, store: OutboxStore, client: GenericClient, crm: CrmSettings,
                 wake: Callable[[], None], stopping: Callable[[], bool]) -> None:
        self._store, self._client, self._crm = store, client, crm
        self._wake, self._stopping = wake, stopping
        self.failures = 0             # consecutive failed rounds: the shared backoff of the whole CRM
        self.gate_until = 0.0         # no new calls start before this (time.monotonic()) while the CRM is down
        self.last_success = 0.0       # time.monotonic() of the last delivered event
        self._since = 0.0             # time.monotonic() the current outage was noticed
        self._probe: asyncio.Task[None] | None = None

    def gated(self) -> bool:
        return time.monotonic() < self.gate_until

    def failed(self, now: float, message: str) -> None:
        """A request failed (the caller counts it); the first of a round backs the whole CRM off."""
        mono = time.monotonic()
        if mono < self.gate_until:
            return  # another request of the same round: the CRM is already known to be down
        self.failures += 1
        delay = backoff_delay(self.failures, self._crm.retry_initial, self._crm.retry_max)
        self.gate_until = mono + delay
        if delay > PROBE_INTERVAL and (self._probe is None or self._probe.done()):
            self._probe = asyncio.create_task(self._probe_until_back())
        if self.failures == 1:
            self._since = mono
            self._store.record_error(message, now)
            log.warning("CRM unavailable: %s; events stay queued, retrying with backoff (up to %g s)",
                        message, self._crm.retry_max)
        else:
            log.debug("CRM still unavailable (%s); next try in %.1f s", message, delay)

    def delivered(self, started: float) -> bool:
        """An event was delivered; True when that ends an outage. A request sent before the outage was
        noticed does not end it (its answer left the CRM before it went down)."""
        self.last_success = time.monotonic()
        if self.failures and started >= self._since:
            self.failures, self.gate_until = 0, 0.0
            self._store.clear_backoff()
            log.info("CRM reachable again")
            return True
        return False

    def cancel(self) -> None:
        if self._probe is not None:
            self._probe.cancel()

    async def _probe_until_back(self) -> None:
        """While the backoff is long: look at the CRM every PROBE_INTERVAL; once it answers, every queued
        event is due and the gate opens. Only a delivered event ends the outage (see ``delivered``)."""
        while self.failures and not self._stopping() and time.monotonic() < self.gate_until:
            await asyncio.sleep(PROBE_INTERVAL)
            if not self.failures or self._stopping():
                return
            if await self._client.probe(min(self._crm.timeout, PROBE_INTERVAL)):
                log.debug("the CRM answers again: sending the queued events")
                try:
                    self._store.clear_backoff()
                except sqlite3.Error as exc:
                    log.debug("could not clear the retry times: %s", exc)
                self.gate_until = 0.0
                self._wake()
                return
