"""The outbox's upkeep beside the delivery: WAL checkpoints in a worker thread, pruning of old rows."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable

from .store import OutboxStore

log = logging.getLogger("smdr.outbox")

CHECKPOINT_INTERVAL = 0.25  # seconds between background WAL checkpoints

#: (event id, CRM record id, event sent, settled at): a delivery the CRM confirmed, to be marked on disk
DeliveryMark = tuple[int, str, str | None, float]


async def checkpoint_in_background(store: OutboxStore) -> None:
    """WAL checkpoints (copy + fsync) in a worker thread, not after a commit on the event loop."""
    store.defer_checkpoints(True)
    while True:
        await asyncio.sleep(CHECKPOINT_INTERVAL)
        try:
            await asyncio.to_thread(store.checkpoint_passive)
        except (sqlite3.Error, OSError) as exc:  # the in-line checkpoint still bounds the WAL
            log.debug("background checkpoint failed: %s", exc)


async def prune_in_background(store: OutboxStore, keep_seconds: float, interval: float,
                              clock: Callable[[], float]) -> None:
    """Delivered rows older than the keep time leave the outbox, so months of calls stay small."""
    while True:
        await asyncio.sleep(interval)
        try:
            removed = await asyncio.to_thread(store.prune_settled, clock() - keep_seconds)
        except (sqlite3.Error, OSError) as exc:
            log.warning("could not prune delivered events from the outbox: %s", exc)
            continue
        if removed:
            log.info("outbox: %d delivered event(s) older than %g days removed", removed, keep_seconds / 86400)
