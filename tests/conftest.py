"""Shared test fixtures (kept small): running coroutines with a time limit, socat pty pairs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from ptys import PtyPair, socat_pty_pair

DEFAULT_ASYNC_TEST_TIMEOUT = 20.0


@pytest.fixture
def arun() -> Callable[..., Any]:
    """``arun(coro, timeout=20)``: run a coroutine on a fresh event loop, failing it after ``timeout`` s."""

    def run(coro: Coroutine[Any, Any, Any], timeout: float = DEFAULT_ASYNC_TEST_TIMEOUT) -> Any:
        return asyncio.run(asyncio.wait_for(coro, timeout))

    return run


@pytest.fixture
def ptys(tmp_path: Path) -> Iterator[PtyPair]:
    """A running socat pty pair: ``ptys.a`` / ``ptys.b`` are the two ends."""
    with socat_pty_pair(tmp_path) as pair:
        yield pair
