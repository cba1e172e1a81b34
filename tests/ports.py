"""Loopback ports for tests that must name a port before something listens on it.

A port taken with bind(0) and closed again is an ephemeral port: another test process (pytest-xdist
runs several) may get it as the source port of an outgoing connection, or from its own bind(0), before
this test uses it. So ports come from below the ephemeral range (Linux: 32768-60999; Windows: 49152+),
from a block of its own per xdist worker, each one checked free by binding it, never handed out twice
by one process.
"""

from __future__ import annotations

import itertools
import os
import socket

_BLOCK = 1500
_FIRST = 20000


def _block_start() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ... ; empty without xdist
    index = int(worker[2:]) + 1 if worker.startswith("gw") and worker[2:].isdigit() else 0
    return _FIRST + (index % 8) * _BLOCK


_START = _block_start()
_next = itertools.count((os.getpid() * 7) % _BLOCK)  # a later run in the same block starts elsewhere


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A loopback port nothing is bound to now, in this process's own block."""
    for _ in range(_BLOCK):
        port = _START + next(_next) % _BLOCK
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free loopback port in {_START}-{_START + _BLOCK - 1}")


def free_udp_port() -> int:
    return free_port(socket.SOCK_DGRAM)
