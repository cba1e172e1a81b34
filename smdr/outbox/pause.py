"""The pause of all delivery while the CRM refuses the secret key, and the probe that ends it."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..crm.settings import CrmSettings
from .store import OutboxStore

log = logging.getLogger("smdr.outbox")


class AuthPause:
    """Paused from a refused secret until an event is accepted again; one probe event per ``retry_max``
    meanwhile, or at once once `smdr outbox retry` has lifted the flag in the outbox."""

    def __init__(self, store: OutboxStore, crm: CrmSettings, clock: Callable[[], float]) -> None:
        self._store, self._crm, self._clock = store, crm, clock
        self.paused = False
        self._since = 0.0               # the last refusal or probe (clock time)
        self._flag_checked = False      # the outbox's flag from an earlier run, looked at once

    def probe_due(self, now: float) -> bool:
        return now >= self._since + self._crm.retry_max or not self._store.paused_by_auth

    def probe_started(self, now: float) -> None:
        self._since = now

    def refused(self, message: str) -> bool:
        """The CRM refused the secret; True when that starts the pause (one error for the episode)."""
        self._since = self._clock()
        if self.paused:
            return False
        self.paused = True
        self._store.record_error(message, self._since, auth=True)
        queued = self._store.counts()["queued"]
        log.error("%s. Delivery is paused; %d events stay queued and go out once the secret is "
                  "accepted (fix the config and restart, or run `smdr outbox retry`).", message, queued)
        return True

    def accepted(self) -> bool:
        """An event was delivered; True when that ends the pause."""
        if not self._flag_checked:
            self._flag_checked = True
            if self._store.paused_by_auth:
                self._store.clear_pause()
        if not self.paused:
            return False
        self.paused = False
        self._store.clear_pause()
        log.info("the CRM accepts the secret key again: delivery resumed")
        return True
