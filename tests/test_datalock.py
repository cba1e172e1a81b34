"""The data directory lock: who holds it, its status flags, and that it is free once released."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smdr.datalock import DataDirBusy, DataDirLock, lock_path, running_connector


def test_the_lock_names_its_holder_carries_flags_and_is_free_after_release(tmp_path: Path) -> None:
    assert running_connector(tmp_path) is None
    with DataDirLock(tmp_path, "smdr run") as lock:
        with pytest.raises(DataDirBusy, match=rf"in use by PID {os.getpid()} \(smdr run\)"):
            DataDirLock(tmp_path, "smdr outbox purge").acquire()
        lock.set_status(disk_full="no space left on device")
        holder = running_connector(tmp_path)
        assert holder is not None and holder["pid"] == os.getpid()
        assert holder["disk_full"] == "no space left on device"
        size = lock_path(tmp_path).stat().st_size
        lock.set_status(disk_full=None)
        assert "disk_full" not in (running_connector(tmp_path) or {})
        assert lock_path(tmp_path).stat().st_size == size  # rewritten in place
    assert running_connector(tmp_path) is None
    DataDirLock(tmp_path).acquire().release()
