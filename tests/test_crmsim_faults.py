"""crm-sim fault injection over real HTTP: injected 5xx, rejected secret, latency, real downtime."""

from __future__ import annotations

import time

import httpx
import pytest

from smdr.crmsim import ENDPOINT_PATH, CrmSimServer, SimOptions
from smdr.crmsim.faults import FaultSettings

SECRET = "test-secret"
FORM = {"secretkey": SECRET, "agent": "201", "phone": "09121234567", "call_id": "f-1", "direction": "inbound",
        "event": "ringing"}


@pytest.fixture
def sim():
    server = CrmSimServer(SimOptions(port=0, secret=SECRET, seed=3))
    server.start()
    yield server
    server.close()


@pytest.fixture
def client(sim):
    with httpx.Client(base_url=sim.root_url, timeout=10) as http:
        yield http


def process_cdr(client: httpx.Client, **fields) -> httpx.Response:
    return client.post(ENDPOINT_PATH + "/ProcessCDR", data={**FORM, **fields})


def wait_until_up(url: str, attempts: int = 100) -> httpx.Response:
    """Bounded: at most ``attempts`` tries 0.05 s apart."""
    for _ in range(attempts):
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not come back")


def test_error_rate_one_answers_500_html_or_json(client):
    assert client.post("/_sim/faults", json={"error_rate": 1.0, "html_errors": True}).status_code == 200
    response = process_cdr(client)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text and "500" in response.text
    client.post("/_sim/faults", json={"html_errors": False})
    response = client.get(ENDPOINT_PATH + "/SearchPBX", params={"secretkey": SECRET, "phone": "1"})
    assert response.status_code == 500 and response.json()["error"]["code"] == "SERVER"
    stats = client.get("/stats").json()
    assert stats["injected_error"] == 2 and stats["ok"] == 0
    assert client.get("/calls").json()["calls"] == []      # nothing stored by a failed request
    client.post("/_sim/faults", json={"reset": True})
    assert process_cdr(client).status_code == 200


def test_seeded_error_rate_fails_the_same_requests():
    def outcomes() -> list[int]:
        options = SimOptions(port=0, secret=SECRET, faults=FaultSettings(error_rate=0.5), seed=42)
        server = CrmSimServer(options)
        server.start()
        try:
            with httpx.Client(base_url=server.root_url, timeout=10) as http:
                return [process_cdr(http, call_id=f"r{i}").status_code for i in range(30)]
        finally:
            server.close()
    first = outcomes()
    assert first == outcomes() and {200, 500} == set(first)


def test_reject_secret_refuses_even_the_right_secret(client):
    client.post("/_sim/faults", json={"reject_secret": True})
    response = process_cdr(client)
    assert response.status_code == 401 and response.json()["error"]["code"] == "AUTH"
    client.post("/_sim/faults", json={"reject_secret": True, "auth_failure_status": 200})
    assert process_cdr(client).status_code == 200 and process_cdr(client).json()["success"] is False
    assert client.get("/stats").json()["auth"] == 3


def test_latency_delays_answers(client):
    client.post("/_sim/faults", json={"latency_ms": 150})
    started = time.monotonic()
    assert process_cdr(client).status_code == 200
    assert time.monotonic() - started >= 0.14  # a lower bound only: the delay was applied
    assert client.get("/_sim/faults").json()["latency_ms"] == 150


def test_bad_fault_changes_are_rejected(client):
    assert client.post("/_sim/faults", json={"error_rate": 3}).status_code == 400
    assert client.post("/_sim/faults", json={"bogus": True}).status_code == 400
    assert client.post("/_sim/faults", content=b"not json").status_code == 400
    assert client.get("/_sim/faults").json()["error_rate"] == 0


def test_down_for_refuses_connections_then_comes_back_on_the_same_port(sim):
    port = sim.port
    with httpx.Client(base_url=sim.root_url, timeout=5) as keep_alive:
        assert process_cdr(keep_alive).status_code == 200           # an open keep-alive connection
        answer = httpx.post(sim.root_url + "_sim/faults", json={"down_for": 1.0}, timeout=5)
        assert answer.status_code == 200 and answer.json()["down_for"] == 1.0
        with pytest.raises(httpx.ConnectError):                     # new connections are refused
            httpx.get(sim.root_url + "stats", timeout=2)
        with pytest.raises(httpx.TransportError):                    # the open one was cut
            process_cdr(keep_alive, call_id="f-2")
        assert wait_until_up(sim.root_url + "stats").status_code == 200
        assert sim.port == port
        assert process_cdr(keep_alive, call_id="f-3").status_code == 200  # httpx reconnects
    calls = httpx.get(sim.root_url + "calls", timeout=5).json()["calls"]
    assert [c["call_id"] for c in calls] == ["f-1", "f-3"]


def test_down_for_at_start():
    server = CrmSimServer(SimOptions(port=0, secret=SECRET, down_for=0.5))
    server.start()
    try:
        with pytest.raises(httpx.ConnectError):
            httpx.get(server.root_url + "stats", timeout=2)
        assert wait_until_up(server.root_url + "stats").status_code == 200
    finally:
        server.close()
