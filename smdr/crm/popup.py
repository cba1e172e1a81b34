"""The local popup on the connector's PC: SearchPBX on ringing (cached) and the CRM's Lookup page.

This is a convenience next to the CRM's own popup (which the ringing ProcessCDR opens); nothing here
may delay or block delivery, so every failure is logged and swallowed.
"""

from __future__ import annotations

import asyncio
import logging
import time
import webbrowser
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import CrmError
from ..model import CallEvent
from .client import GenericClient
from .settings import PopupSettings

log = logging.getLogger("smdr.crm.popup")

Contact = dict[str, Any]


class LookupCache:
    """SearchPBX answers by number for ``ttl`` seconds, misses included; one lookup per number at a time."""

    def __init__(self, search: Callable[[str], Awaitable[Contact | None]], ttl: float, *,
                 max_entries: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        self._search, self._ttl, self._max, self._clock = search, ttl, max_entries, clock
        self._entries: OrderedDict[str, tuple[float, Contact | None]] = OrderedDict()
        self._pending: dict[str, asyncio.Future[Contact | None]] = {}

    async def get(self, phone: str) -> Contact | None:
        """The contact, or None when the CRM has none; CrmError when the CRM could not be asked."""
        hit = self._entries.get(phone)
        if hit is not None and hit[0] > self._clock():
            return hit[1]
        task = self._pending.get(phone)
        if task is None:
            task = asyncio.ensure_future(self._lookup(phone))
            self._pending[phone] = task
            task.add_done_callback(lambda _: self._pending.pop(phone, None))
        return await asyncio.shield(task)

    async def _lookup(self, phone: str) -> Contact | None:
        try:
            contact = await self._search(phone)
        except CrmError as exc:
            log.warning("SearchPBX for %s failed: %s", phone, exc)
            raise  # not cached: the next ring tries again
        self._store(phone, contact)
        return contact

    def __contains__(self, phone: str) -> bool:
        """True when the CRM answered for ``phone`` (a contact or "none") and it is still fresh."""
        hit = self._entries.get(phone)
        return hit is not None and hit[0] > self._clock()

    def _store(self, phone: str, contact: Contact | None) -> None:
        self._entries[phone] = (self._clock() + self._ttl, contact)
        self._entries.move_to_end(phone)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


class PopupAssistant:
    """Runs on each fresh ringing event: optional SearchPBX, optional CRM Lookup page in the browser."""

    def __init__(self, client: GenericClient, settings: PopupSettings, *,
                 opener: Callable[[str], Any] = webbrowser.open) -> None:
        self._client, self._settings, self._opener = client, settings, opener
        self.cache = LookupCache(lambda phone: client.search(phone, settings.finglish), settings.lookup_ttl)
        self._opened_calls: deque[str] = deque(maxlen=256)

    def wants(self, event: CallEvent) -> bool:
        return bool(event.phone) and (self._settings.lookup or event.agent in self._settings.open_browser_for)

    async def on_ringing(self, event: CallEvent) -> Contact | None:
        contact = None
        phone = event.phone or ""
        try:
            if self._settings.lookup:
                try:
                    contact = await self.cache.get(phone)
                except CrmError:
                    # not "not in the CRM": nobody knows, the CRM did not answer (logged above)
                    log.info("ringing: %s for extension %s: the CRM could not be asked who it is", phone,
                             event.agent or "?")
                    contact = None
                if contact:
                    log.info("ringing: %s for extension %s is %s (%s)", phone, event.agent or "?",
                             contact.get("name") or "?", contact.get("module") or "?")
                elif contact is None and phone in self.cache:
                    log.info("ringing: %s for extension %s is not in the CRM", phone, event.agent or "?")
            if event.agent in self._settings.open_browser_for and event.call_id not in self._opened_calls:
                self._opened_calls.append(event.call_id)
                # webbrowser may start a process and wait for it: keep it off the event loop.
                await asyncio.to_thread(self._opener, self._client.lookup_page_url(phone))
        except Exception:  # a local popup must never take the delivery down with it
            log.exception("local popup for call %s failed", event.call_id)
        return contact
