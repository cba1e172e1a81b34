"""While a popup request is getting onto the wire, call-record requests wait (briefly): on one event
loop every step of the popup's request otherwise queues behind theirs (milliseconds each)."""

from __future__ import annotations

import asyncio
import contextlib

from ..slicing import bulk_over, urgent_done, urgent_started

POPUP_HOLD_BACK = 0.01  # seconds a call record waits for a popup request in flight


class PopupHoldBack:
    def __init__(self) -> None:
        self._sending = 0
        self._none_sending = asyncio.Event()
        self._none_sending.set()

    def popup_started(self) -> Releaser:
        self._sending += 1
        self._none_sending.clear()
        urgent_started()  # a source's burst makes way too (smdr.slicing)
        return Releaser(self)

    async def wait(self) -> None:
        """Until no source is reading a burst (bounded: smdr.slicing.bulk_over), then until no popup is
        being sent, for at most POPUP_HOLD_BACK: long enough for its request to get onto the wire; never
        longer, or a slow CRM and frequent rings would starve the call records."""
        await bulk_over()
        if not self._none_sending.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._none_sending.wait(), POPUP_HOLD_BACK)

    def _sent(self) -> None:
        urgent_done()
        self._sending -= 1
        if not self._sending:
            self._none_sending.set()


class Releaser:
    """Ends one popup's hold-back; calling it again does nothing."""

    __slots__ = ("_hold", "done")

    def __init__(self, hold: PopupHoldBack) -> None:
        self._hold, self.done = hold, False

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            self._hold._sent()
