"""The durable outbox: call events on disk (SQLite) until the CRM confirms them, and their delivery."""

from __future__ import annotations

from pathlib import Path

from ..yamlfile import Section
from .deliver import Deliverer, DeliveryStats
from .sink import Outbox
from .store import DEAD, DELIVERED, OUTBOX_FILE, QUEUED, STATES, SUPERSEDED, OutboxError, OutboxStore, outbox_path

DEFAULT_DATA_DIR = "./smdr-data"


def resolve_data_dir(config: Section) -> Path:
    """The top-level ``data_dir`` of a config file; a relative path is taken from the file's folder,
    so a service started from another working directory finds the same outbox."""
    data_dir = Path(config.get("data_dir", str, DEFAULT_DATA_DIR)).expanduser()
    if not data_dir.is_absolute():
        data_dir = Path(config.path).resolve().parent / data_dir
    return data_dir


__all__ = [
    "Outbox", "OutboxStore", "OutboxError", "Deliverer", "DeliveryStats", "outbox_path", "resolve_data_dir",
    "QUEUED", "DELIVERED", "DEAD", "SUPERSEDED", "STATES", "OUTBOX_FILE",
]
