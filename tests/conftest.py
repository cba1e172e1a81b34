"""Shared test fixtures: coroutines with a time limit, socat pty pairs, a CRM and an outbox for delivery tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from ptys import PtyPair, socat_pty_pair
from reliability_support import Connector
from test_delivery_support import CrmDouble, SimCrm

from smdr.outbox import Outbox

DEFAULT_ASYNC_TEST_TIMEOUT = 20.0


@pytest.fixture(scope="session", autouse=True)
def _yaml_cache_of_this_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Parsed YAML is cached in a folder of this run (it and the smdr processes it starts), not the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SMDR_CACHE_DIR", str(tmp_path_factory.mktemp("smdr-cache")))
        yield


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


@pytest.fixture
def crm() -> Iterator[SimCrm]:
    """crm-sim in this process (test_crm_client.py names its own fixtures the other way round)."""
    sim = SimCrm().start()
    yield sim
    sim.stop()


@pytest.fixture
def double() -> Iterator[CrmDouble]:
    server = CrmDouble().start()
    yield server
    server.stop()


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox.open(tmp_path / "outbox.sqlite3")
    yield box
    box.close()


@pytest.fixture
def connector(tmp_path: Path) -> Iterator[Connector]:
    """``smdr`` processes started in tmp_path (reliability tests); any still running are killed at the end."""
    helper = Connector(tmp_path)
    yield helper
    helper.kill_all()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The ``slow`` tests (real processes, tens of seconds each) first: with several xdist workers they then
    start early and the quick ones fill the gaps, instead of a few long ones running alone at the end.
    A stable sort: the order within each kind stays the files' order."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
