"""One connector per data directory: an OS file lock on ``<data_dir>/smdr.lock``, held while it runs.

The lock is the operating system's (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows), so it
ends with the process however it ends: a kill -9 or a power cut never leaves a stale lock behind.
The file also says who holds it (PID, start time) and carries the connector's status flags (a full
disk); its size is fixed when it is created, so rewriting it needs no free space.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from .errors import SmdrError

LOCK_FILE = "smdr.lock"
STATUS_BYTES = 4096      # the readable part: PID, start time, status flags (JSON, padded with spaces)
LOCKED_OFFSET = STATUS_BYTES  # Windows locks are mandatory: the locked byte lies past the readable part


class DataDirBusy(SmdrError):
    """Another connector holds the data directory."""


def lock_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / LOCK_FILE


class DataDirLock:
    """``with DataDirLock(data_dir, "smdr run"):`` ... raises DataDirBusy naming the PID that holds it."""

    def __init__(self, data_dir: str | Path, purpose: str = "smdr run") -> None:
        self.path = lock_path(data_dir)
        self.purpose = purpose
        self._fd: int | None = None
        self._status: dict[str, object] = {}

    def acquire(self) -> DataDirLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock(fd)
        except OSError:
            os.close(fd)
            holder = read_holder(self.path)
            who = f"PID {holder['pid']}" if holder.get("pid") else "another process"
            what = f" ({holder['purpose']})" if holder.get("purpose") else ""
            raise DataDirBusy(
                f"{self.path.parent} is in use by {who}{what}: one connector per data directory. Stop it "
                f"first, or give this one its own data_dir. (`smdr outbox status`, `list`, `retry` and "
                f"`import` work beside it.)") from None
        self._fd = fd
        self._status = {"pid": os.getpid(), "purpose": self.purpose, "since": time.time()}
        try:
            if os.fstat(fd).st_size < STATUS_BYTES:
                os.ftruncate(fd, STATUS_BYTES)  # allocated now, while there is room
        except OSError:
            pass
        self._write_status()
        return self

    def set_status(self, **flags: object) -> None:
        """Status flags other processes read (``smdr outbox status``); None removes a flag."""
        for key, value in flags.items():
            if value is None:
                self._status.pop(key, None)
            else:
                self._status[key] = value
        self._write_status()

    def _write_status(self) -> None:
        if self._fd is None:
            return
        text = json.dumps(self._status, ensure_ascii=False).encode("utf-8")[: STATUS_BYTES - 1]
        try:
            os.lseek(self._fd, 0, os.SEEK_SET)
            os.write(self._fd, text.ljust(STATUS_BYTES - 1) + b"\n")  # in place: no new blocks
        except OSError:
            pass  # the lock is what matters; a flag that cannot be written is only not shown

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, b" " * (STATUS_BYTES - 1) + b"\n")  # no holder any more
        except OSError:
            pass
        _unlock(fd)
        os.close(fd)

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_holder(path: str | Path) -> dict[str, object]:
    """What the lock file says about its holder (empty when nobody holds it or it cannot be read)."""
    try:
        with open(path, "rb") as handle:
            text = handle.read(STATUS_BYTES).strip()
        return json.loads(text) if text else {}
    except (OSError, ValueError):
        return {}


def running_connector(data_dir: str | Path) -> dict[str, object] | None:
    """The holder's status if a connector holds ``data_dir`` now, else None (the lock is free)."""
    path = lock_path(data_dir)
    if not path.is_file():
        return None
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return None
    try:
        try:
            _lock(fd)
        except OSError:
            return read_holder(path) or {"pid": None}
        _unlock(fd)
        return None
    finally:
        os.close(fd)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(fd: int) -> None:
        os.lseek(fd, LOCKED_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        try:
            os.lseek(fd, LOCKED_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError:
            pass
else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError:
            pass
