"""The CRM end of the daemon: events go into the durable outbox, a Deliverer sends them to the CRM."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from .config import Settings
from .crm.client import GenericClient
from .crm.settings import CrmSettings, PopupSettings
from .outbox import Deliverer, Outbox, outbox_path
from .outbox.sink import StorageStatus
from .sinks import EventSink

log = logging.getLogger("smdr.run")

_DRAIN_POLL = 0.2


def start_delivery(settings: Settings, stop: asyncio.Event, on_storage: StorageStatus | None = None) -> tuple[
        EventSink, asyncio.Task, Callable[[], Awaitable[bool]], Callable[[], Awaitable[None]]]:
    """Open the outbox under the data directory and start delivering it to the configured CRM."""
    crm = CrmSettings.from_section(settings.section("crm"))
    popup_section = settings.section("popup")
    popup = PopupSettings.from_section(popup_section) if popup_section is not None else PopupSettings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    outbox = Outbox.open(outbox_path(settings.data_dir), on_storage=on_storage)
    client = GenericClient(crm)
    keep_days = 30.0
    outbox_section = settings.section("outbox")
    if outbox_section is not None:
        outbox_section.check_keys({"keep_days"})
        keep_days = outbox_section.get("keep_days", (int, float), 30.0, minimum=0, maximum=3650,
                                           unit="days")
    deliverer = Deliverer(outbox, client, crm, popup, keep_days=float(keep_days))
    task = asyncio.create_task(deliverer.run(stop), name="deliver")

    async def drained() -> bool:
        """Wait until nothing is left to deliver: True; or delivery is paused by a refused secret: False."""
        while not task.done():
            if deliverer.paused:
                log.error("delivery is paused: the CRM refused the secret key; %d event(s) stay queued",
                          outbox.backlog())
                return False
            if outbox.backlog() == 0:
                return True
            await asyncio.sleep(_DRAIN_POLL)
        return outbox.backlog() == 0

    async def close() -> None:
        await client.aclose()
        await outbox.aclose()

    return outbox, task, drained, close
