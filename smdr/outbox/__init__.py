"""The durable outbox: call events on disk (SQLite) until the CRM confirms them, and their delivery."""

from __future__ import annotations

from pathlib import Path

from ..yamlfile import Section
from .deliver import Deliverer, DeliveryStats
from .sink import Outbox
from .store import DEAD, DELIVERED, OUTBOX_FILE, QUEUED, STATES, SUPERSEDED, OutboxError, OutboxStore, outbox_path

DEFAULT_DATA_DIR = "smdr-data"


def resolve_data_dir(config: Section) -> Path:
    """The top-level ``data_dir`` of a config file, as smdr.config reads it (relative to the file's
    folder), without validating the rest of the file: `smdr outbox` must work on a half-fixed config."""
    return Path(config.path).resolve().parent / config.get("data_dir", str, DEFAULT_DATA_DIR)


__all__ = [
    "Outbox", "OutboxStore", "OutboxError", "Deliverer", "DeliveryStats", "outbox_path", "resolve_data_dir",
    "QUEUED", "DELIVERED", "DEAD", "SUPERSEDED", "STATES", "OUTBOX_FILE",
]
