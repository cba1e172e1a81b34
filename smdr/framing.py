"""Cut a byte stream into records, whatever the PBX or the cable adds around them.

Line ends CR, LF and CRLF (and form feed / vertical tab, which start a new page or line) all end a
record. NUL padding, XON/XOFF and other control bytes are dropped. A record longer than
``max_record`` is cut and handed to ``on_overlong`` so that a stuck line cannot grow memory without
bound; the rest of that line, up to the next line end, goes the same way (``continued`` True).
Without ``on_overlong``, the cut fragments come out of ``feed`` in their place among the records, as
``Overlong`` values, so that whoever numbers the lines numbers them in stream order.
"""

from __future__ import annotations

from collections.abc import Callable

_LINE_ENDS = b"\r\x0b\x0c"
# C0 controls other than TAB and the line ends, plus DEL: never part of a record.
_DROPPED = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13)) + b"\x7f"
_TABLE = bytes.maketrans(_LINE_ENDS, b"\n" * len(_LINE_ENDS))


class Overlong(bytes):
    """A fragment of a line longer than ``max_record``; ``continued``: not the line's first fragment."""

    continued: bool

    def __new__(cls, fragment: bytes, continued: bool) -> Overlong:
        self = super().__new__(cls, fragment)
        self.continued = continued
        return self


class Framer:
    """Incremental framer: ``feed`` bytes, get complete records (without line ends) back."""

    __slots__ = ("max_record", "on_overlong", "_pending", "_discarding", "dropped_bytes", "overlong")

    def __init__(self, max_record: int = 4096,
                 on_overlong: Callable[[bytes, bool], None] | None = None) -> None:
        self.max_record = max_record
        self.on_overlong = on_overlong
        self._pending = b""
        self._discarding = False  # inside the tail of an overlong line
        self.dropped_bytes = 0
        self.overlong = 0

    def feed(self, chunk: bytes) -> list[bytes]:
        data = chunk.translate(_TABLE, _DROPPED)
        self.dropped_bytes += len(chunk) - len(data)
        if self._pending:
            data = self._pending + data
        parts = data.split(b"\n")
        self._pending = parts.pop()
        out: list[bytes] = []
        if self._discarding:
            if parts:
                self._overlong(out, parts[0], True)
                parts[0] = b""
                self._discarding = False
            else:
                self._overlong(out, self._pending, True)
                self._pending = b""
                return out
        if parts and max(map(len, parts)) > self.max_record:
            for part in parts:
                if len(part) > self.max_record:
                    self._overlong(out, part, False)
                elif part:
                    out.append(part)
        else:
            out.extend(filter(None, parts))  # C-level: no generator frame per record
        if len(self._pending) > self.max_record:
            self._overlong(out, self._pending[: self.max_record], False)
            self._overlong(out, self._pending[self.max_record:], True)
            self._pending = b""
            self._discarding = True
        return out

    def _overlong(self, out: list[bytes], fragment: bytes, continued: bool) -> None:
        if not fragment:
            return
        self.overlong += 1  # fragments, not lines: each one is a quarantine entry
        if self.on_overlong is not None:
            self.on_overlong(fragment, continued)
        else:
            out.append(Overlong(fragment, continued))

    def take_partial(self) -> bytes:
        """The half-received record, if any, and forget it (on link loss or end of input).

        Inside an overlong line, the rest is that line's last fragment (an ``Overlong``)."""
        partial, self._pending = self._pending, b""
        if self._discarding:
            self._discarding = False
            out: list[bytes] = []
            self._overlong(out, partial, True)
            return out[0] if out else b""
        return partial
