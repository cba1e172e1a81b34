"""A bounded memo: a plain dict that hot code reads directly, and that forgets its oldest entry, one at a
time, once it holds ``limit``.

The engine's memos (phone numbers, localized times, date and time texts, typed fields, JSON times) were
emptied with ``dict.clear()`` when full. Freeing a full memo's thousands of entries at once took 0.2-0.9
ms here, and the memos of one stream fill at the same pace: several were cleared in the same slice of a
burst (2-3 ms in a profile), and a popup on another source waited behind it. Forgetting one entry per
new one costs the same in all (about 1% more instructions per record), spread evenly. Only ``put`` adds
entries: the order it keeps is what is forgotten first, and it holds at most ``limit`` keys.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

LIMIT = 8192


class Memo(Generic[K, V]):
    __slots__ = ("entries", "_order", "_limit")

    def __init__(self, limit: int = LIMIT) -> None:
        if limit < 1:
            raise ValueError("a memo holds at least one entry")
        self.entries: dict[K, V] = {}
        self._order: deque[K] = deque()
        self._limit = limit

    def put(self, key: K, value: V) -> V:
        """Remember ``value`` for ``key``, a key the memo does not hold (its callers put on a miss); returns
        ``value``. A key put again takes two places in the order: its entry is forgotten at the first,
        and the memo holds one entry fewer until then."""
        order = self._order
        if len(order) >= self._limit:
            self.entries.pop(order.popleft(), None)
        order.append(key)
        self.entries[key] = value
        return value

    def __len__(self) -> int:
        return len(self.entries)
