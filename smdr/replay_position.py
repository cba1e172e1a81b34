"""Where a replayed capture (``file://``) stopped, so that a restart goes on from there.

A small JSON file per source under ``data_dir/state``: which capture (its path and a hash of its first
bytes: another file at the same path starts over), the byte offset just after the last complete line
whose events were handed to the sink, and the line number there (record positions stay right). It is
written at most every ``SAVE_INTERVAL`` seconds and when the source stops: after a hard kill, at most
that much is read again (events go out again under the same call_id: at least once, never lost).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("smdr.pipeline")

SAVE_INTERVAL = 0.5  # seconds
_LINE_ENDS = (b"\n", b"\r", b"\x0b", b"\x0c")


@dataclass(slots=True)
class ReplayPosition:
    path: Path          # the state file
    capture: str        # what the transport says identifies the capture
    offset: int = 0     # bytes of the capture whose lines are done
    line: int = 0       # the decoder's line number at ``offset``
    read: int = 0       # bytes read so far (offset <= read)
    _saved_at: float = 0.0
    _failing: bool = False

    @classmethod
    def load(cls, path: Path, capture: str, *, from_start: bool = False) -> ReplayPosition:
        position = cls(path, capture)
        if from_start:
            return position
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return position
        except (OSError, ValueError) as exc:
            log.warning("cannot read the replay position %s (%s): replaying from the start", path, exc)
            return position
        if saved.get("capture") == capture:
            position.offset = position.read = int(saved.get("offset", 0))
            position.line = int(saved.get("line", 0))
        return position

    def advanced(self, chunk: bytes, line: int, *, durable: bool = True) -> None:
        """``chunk`` was fed and its events handed on; the decoder is now at line ``line``. Saved only
        while ``durable`` (no event of the sink waits in memory for the disk)."""
        last_end = max(chunk.rfind(end) for end in _LINE_ENDS)
        self.read += len(chunk)
        if last_end >= 0:
            self.offset, self.line = self.read - len(chunk) + last_end + 1, line
        if durable and time.monotonic() - self._saved_at >= SAVE_INTERVAL:
            self.save()

    def finished(self, line: int, *, durable: bool = True) -> None:
        """End of the capture: everything, including a last line without a line end, is done."""
        self.offset, self.line = self.read, line
        if durable:
            self.save()

    def save(self) -> None:
        self._saved_at = time.monotonic()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(self.path.name + ".tmp")
            temporary.write_text(json.dumps({"capture": self.capture, "offset": self.offset, "line": self.line}),
                                 encoding="utf-8")
            os.replace(temporary, self.path)
            self._failing = False
        except OSError as exc:
            if not self._failing:
                self._failing = True
                log.warning("cannot save the replay position %s (%s); a restart would read again from the "
                            "last saved one", self.path, exc.strerror or exc)


def replay_state_path(state_path: Path) -> Path:
    """Beside the source's open calls: ``state/NAME.json`` -> ``state/NAME.replay.json``."""
    return state_path.with_name(state_path.stem + ".replay.json")
