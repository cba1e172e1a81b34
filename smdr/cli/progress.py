"""A one-line progress bar on stderr, shown only when stdout is redirected and stderr is a terminal."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int | None, *, min_bytes: int = 4 << 20) -> None:
        self.total = total
        self.done = 0
        self.enabled = (total is not None and total >= min_bytes and not sys.stdout.isatty()
                        and sys.stderr.isatty())
        self._last = 0.0

    def advance(self, nbytes: int, events: int) -> None:
        self.done += nbytes
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.2 and self.done < (self.total or 0):
            return
        self._last = now
        fraction = self.done / self.total if self.total else 0.0
        bar = "#" * int(fraction * 30)
        sys.stderr.write(f"\r[{bar:<30}] {fraction:6.1%} {events} events")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()
