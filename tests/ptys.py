"""A pair of connected pseudo-terminals made by socat, standing in for a PBX serial cable.

    with socat_pty_pair(tmp_path) as ptys:   # ptys.a and ptys.b are symlinks to /dev/pts/N
        ...                                  # bytes written to one end come out of the other
        ptys.stop(); ptys.start()            # unplug / replug: new ptys behind the same link paths
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

SOCAT_MISSING = ("socat is not installed, and the serial tests need it: run the project's install script "
                 "scripts/install-test-deps.sh (it installs socat), or `apt-get install socat`.")
START_TIMEOUT_SECONDS = 5.0
STOP_TIMEOUT_SECONDS = 5.0
POLL_SECONDS = 0.01


class PtyPair:
    """socat ``pty,raw,echo=0,link=DIR/a`` <-> ``pty,raw,echo=0,link=DIR/b``; start() waits for both links."""

    def __init__(self, directory: Path) -> None:
        socat = shutil.which("socat")
        if socat is None:
            pytest.fail(SOCAT_MISSING, pytrace=False)
        self.socat = socat
        self.directory = Path(directory)
        self.a = self.directory / "a"
        self.b = self.directory / "b"
        self.log_path = self.directory / "socat.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self.process is not None:
            raise RuntimeError("socat is already running")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [self.socat, "-d", "-d", f"pty,raw,echo=0,link={self.a}", f"pty,raw,echo=0,link={self.b}"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not (self.a.exists() and self.b.exists()):
            if self.process.poll() is not None:
                pytest.fail(f"socat exited with {self.process.returncode}: {self.log_path.read_text()}")
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"socat did not create {self.a} and {self.b} within {START_TIMEOUT_SECONDS} s")
            time.sleep(POLL_SECONDS)

    def stop(self) -> None:
        """End socat (both ptys vanish, like an unplugged USB adapter) and wait until its links are gone."""
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while (self.a.is_symlink() or self.b.is_symlink()) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        for link in (self.a, self.b):  # socat removes them on SIGTERM; after a kill we do
            if link.is_symlink():
                link.unlink()

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def socat_pty_pair(directory: Path) -> Iterator[PtyPair]:
    pair = PtyPair(directory)
    pair.start()
    try:
        yield pair
    finally:
        pair.stop()
