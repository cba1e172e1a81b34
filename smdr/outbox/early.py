"""A popup sent while its ringing event is being committed.

A ringing event's commit waits for the writer (another source's burst transaction, an fsync: many
milliseconds), and the popup is only useful while the phone rings. So the Deliverer sends a ringing event
from memory as soon as it is handed to the writer (``Outbox`` promises its row id), and settles the
request's outcome against the row once that is committed: a delivery mark, a retry time or a dead letter,
as for any event. A crash before the commit loses nothing: the raw journal has the record and it is parsed
again (the popup may then go out twice; the CRM updates the record of the call_id). If the commit fails
(a full disk: the event waits in memory), the outcome is dropped and the event is sent again once written.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable

from ..crm.client import GenericClient
from ..model import CallEvent

#: early popups whose request is under way at most at a time (beyond it, the popup connection pool would only
#: queue them); beyond it, a ringing event is sent once committed. See EarlySends for what counts.
MAX_EARLY_POPUPS = 64
#: a ringing event and the future of its row id (see smdr.outbox.sink.RingingHook)
Early = tuple[CallEvent, "asyncio.Future[int]"]


class EarlySends:
    """How many early popups have their request under way: only those count against MAX_EARLY_POPUPS.

    A popup that has its answer and waits for its commit holds no connection. While a burst is written, a
    commit can take seconds (a ring every 35 ms, as in bench/popup.py, makes 64 in about two): counting the
    ones that only wait made the next ringing events wait for their own commit (0.5-2 s, released together
    as the writer caught up). Those waiting are bounded by what the sources may hand over uncommitted
    (smdr.source_journal)."""

    __slots__ = ("sending",)

    def __init__(self) -> None:
        self.sending = 0

    def has_room(self) -> bool:
        return self.sending < MAX_EARLY_POPUPS

    def started(self) -> None:
        """A popup is to go out early (counted at once: the hooks of one batch run before its tasks do)."""
        self.sending += 1

    async def send(self, client: GenericClient, event: CallEvent,
                   on_sent: Callable[[], None] | None) -> asyncio.Future[str]:
        """``send_early`` of a popup counted by ``started``; it stops counting once answered (or failed)."""
        try:
            return await send_early(client, event, on_sent)
        finally:
            self.sending -= 1


async def send_early(client: GenericClient, event: CallEvent,
                     on_sent: Callable[[], None] | None) -> asyncio.Future[str]:
    """Send ``event``; its outcome (the CRM record id, or the error) as a settled future."""
    outcome: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    try:
        outcome.set_result(await client.process_cdr(event, on_sent=on_sent))
    except Exception as exc:  # noqa: BLE001 - settled against the row, as _deliver settles any error
        outcome.set_exception(exc)
    return outcome


async def committed_id(row_id: asyncio.Future[int]) -> int | None:
    """The row id once committed; None when the event was not committed."""
    try:
        return await row_id
    except sqlite3.Error:
        return None
