"""The outbox's upkeep beside the delivery: pruning of old rows (checkpoints: smdr.outbox.writer)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable

from .store import OutboxStore

log = logging.getLogger("smdr.outbox")


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
