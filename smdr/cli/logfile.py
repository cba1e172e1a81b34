"""``--log-file``: the connector's log in a file that rotates by size (for a PC without journald)."""

from __future__ import annotations

import logging.handlers
from pathlib import Path

MAX_BYTES = 10 << 20
BACKUPS = 5


def rotating_handler(path: str | Path, *, max_bytes: int = MAX_BYTES, backups: int = BACKUPS) -> logging.Handler:
    """A handler writing UTF-8 to ``path``, moved to ``path.1`` ... ``path.5`` past ``max_bytes``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return logging.handlers.RotatingFileHandler(target, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
