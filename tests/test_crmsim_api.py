"""crm-sim over real HTTP (in-process server on an ephemeral 127.0.0.1 port, httpx as the client)."""

from __future__ import annotations

import httpx
import pytest

from smdr.crmsim import ENDPOINT_PATH, CrmSimServer, SimOptions
from smdr.crmsim.faults import FaultSettings

SECRET = "test-secret"
CALL = {"agent": "201", "phone": "+989121234567", "call_id": "call-1", "direction": "incoming",
        "event": "ring"}
AUTH_BODY = {"success": False, "error": {"code": "AUTH", "message": "invalid secretkey"}}


def start_sim(**faults) -> CrmSimServer:
    server = CrmSimServer(SimOptions(port=0, secret=SECRET, faults=FaultSettings(**faults), seed=1))
    server.start()
    return server


@pytest.fixture
def sim():
    server = start_sim()
    yield server
    server.close()


@pytest.fixture
def client(sim):
    with httpx.Client(base_url=sim.root_url, timeout=10) as http:
        yield http


def cdr(client: httpx.Client, method: str = "POST", secret: str | None = SECRET, **fields) -> httpx.Response:
    form = {**CALL, **fields}
    if secret is not None:
        form["secretkey"] = secret
    if method == "POST":
        return client.post(ENDPOINT_PATH + "/ProcessCDR", data=form)
    return client.get(ENDPOINT_PATH + "/ProcessCDR", params=form)


def test_post_and_get_process_cdr_update_one_record(sim, client):
    created = cdr(client, "POST")
    assert created.status_code == 200
    assert created.headers["content-type"].startswith("application/json")
    body = created.json()
    assert body["success"] is True and isinstance(body["result"], str)
    updated = cdr(client, "GET", event="hangup", duration="42", billduration="40", linename="DID-1",
                  recordingurl="http://rec/1.wav", gateway="KX-TDA600")
    assert updated.json() == {"success": True, "result": body["result"]}
    other = cdr(client, call_id="call-2", phone="02100000000")
    assert other.json()["result"] != body["result"]

    calls = client.get("/calls").json()
    first = calls["calls"][0]
    assert len(calls["calls"]) == 2
    assert first == {
        "id": body["result"], "call_id": "call-1", "agent": "201", "phone": "+989121234567",
        "direction": "inbound", "event": "answered", "duration": 42, "billduration": 40,
        "gateway": "KX-TDA600", "linename": "DID-1", "recordingurl": "http://rec/1.wav",
        "starttime": first["starttime"], "endtime": first["endtime"], "updates": 2,
        "events": ["ringing", "answered"], "contact": "محمد رضا تقی پور"}  # the CRM's name for +98912...
    popup = calls["popups"][0]
    assert (popup["call_id"], popup["agent"]) == ("call-1", "201")
    assert popup["contact"] == "محمد رضا تقی پور"
    assert len(calls["popups"]) == 2 and calls["popups"][1]["contact"] is None
    assert client.get("/calls", params={"call_id": "call-2"}).json()["calls"][0]["call_id"] == "call-2"
    assert [e["call_id"] for e in client.get("/events").json()["events"]] == ["call-1", "call-1", "call-2"]


def test_every_event_spelling_is_accepted_over_http(client):
    spellings = ["no_answer", "no-answer", "no", "missed", "no-response", "notanswered", "ringing", "ring",
                 "busy", "transferred", "transfer", "in-progress",
                 "answered", "completed", "complete", "hangup"]
    for index, spelling in enumerate(spellings):
        assert cdr(client, call_id=f"s{index}", event=spelling).json()["success"] is True
    stored = [c["event"] for c in client.get("/calls").json()["calls"]]
    assert stored == (["no_answer"] * 6 + ["ringing"] * 2 + ["busy"] + ["transferred"] * 2
                      + ["in-progress"] + ["answered"] * 4)


def test_explicit_times_and_defaults(client):
    cdr(client, event="answered", duration="90", starttime="2024-03-20T09:15:00+03:30")
    call = client.get("/calls").json()["calls"][0]
    assert call["starttime"] == "2024-03-20T09:15:00+03:30"
    assert call["endtime"] == "2024-03-20T09:16:30+03:30"
    assert call["billduration"] == 90


@pytest.mark.parametrize("fields, message", [
    ({"event": "ended"}, "unknown event"),
    ({"direction": "sideways"}, "unknown direction"),
    ({"phone": ""}, "phone"),
    ({"starttime": "20/03/2024"}, "ISO 8601"),
])
def test_invalid_requests_answer_200_invalid(client, fields, message):
    response = cdr(client, **fields)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == "INVALID"
    assert message in body["error"]["message"]
    assert client.get("/calls").json()["calls"] == []
    assert client.get("/stats").json()["invalid"] == 1


def test_json_body_is_not_a_form(client):
    response = client.post(ENDPOINT_PATH + "/ProcessCDR", json={**CALL, "secretkey": SECRET})
    assert response.json()["error"]["code"] == "AUTH"  # like PHP: a JSON body carries no form fields


@pytest.mark.parametrize("secret", [None, "wrong", ""])
def test_wrong_or_missing_secret_is_401(client, secret):
    for path in ("/ProcessCDR", "/SearchPBX"):
        form = {"phone": "09121234567"} if secret is None else {"phone": "09121234567", "secretkey": secret}
        response = client.post(ENDPOINT_PATH + path, data=form)
        assert response.status_code == 401 and response.json() == AUTH_BODY
    assert client.get("/stats").json()["auth"] == 2


def test_the_lookup_page_needs_no_api_secret(client):
    # The connector opens it in the CRM user's browser: the secret must never be in that URL.
    response = client.get(ENDPOINT_PATH + "/Lookup", params={"phone": "+989197654321"})
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]


def test_auth_failure_status_200():
    server = start_sim(auth_failure_status=200)
    try:
        with httpx.Client(base_url=server.root_url, timeout=10) as http:
            response = cdr(http, secret="nope")
            assert response.status_code == 200 and response.json() == AUTH_BODY
    finally:
        server.close()


@pytest.mark.parametrize("phone", ["+989138086200", "00989138086200", "989138086200", "09138086200",
                                   "۰۹۱۳۸۰۸۶۲۰۰", "+۹۸۹۱۳۸۰۸۶۲۰۰", "03191007879"])
def test_search_pbx_found(client, phone):
    response = client.get(ENDPOINT_PATH + "/SearchPBX", params={"secretkey": SECRET, "phone": phone})
    result = response.json()["result"]
    assert set(result) == {"id", "name", "phone", "url", "module", "businessphone", "mobile", "email",
                           "company"}
    assert (result["id"], result["name"], result["mobile"], result["company"]) == (
        "2138", "پارس ویتایگر", "09138086200", None)
    assert result["url"].endswith("index.php?module=Accounts&view=Detail&record=2138")


def test_search_pbx_finglish_and_not_found(client):
    def search(**params):
        return client.post(ENDPOINT_PATH + "/SearchPBX", data={"secretkey": SECRET, **params}).json()

    assert search(phone="09121234567", finglish="1")["result"]["name"] == "Mohammad Reza Taghi Pour"
    assert search(phone="09121234567", finglish="3")["result"]["name"].isascii()
    assert search(phone="02100000000") == {"result": False}
    assert search(phone="09121234567", finglish="9")["error"]["code"] == "INVALID"
    assert search()["error"]["code"] == "INVALID"


def test_lookup_page(client):
    found = client.get(ENDPOINT_PATH + "/Lookup", params={"secretkey": SECRET, "phone": "+989197654321"})
    assert found.status_code == 200 and found.headers["content-type"].startswith("text/html")
    assert "علی رضایی" in found.text
    missing = client.get(ENDPOINT_PATH + "/Lookup", params={"secretkey": SECRET, "phone": "0210000"})
    assert "not found" in missing.text


def test_live_page_stats_and_unknown_paths(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html; charset=utf-8" in page.headers["content-type"]
    assert "fetch(" in page.text and 'dir = "auto"' in page.text
    assert "src=" not in page.text and "<link" not in page.text  # no external assets
    cdr(client)
    stats = client.get("/stats").json()
    assert {k: stats[k] for k in ("ok", "auth", "invalid", "injected_error", "down")} == {
        "ok": 1, "auth": 0, "invalid": 0, "injected_error": 0, "down": 0}
    assert stats["stored"] == {"calls": 1, "events": 1, "popups": 1}
    assert client.get("/nope").status_code == 404
    unknown = client.get(ENDPOINT_PATH + "/MakeCall", params={"secretkey": SECRET})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NOT_FOUND"


def test_keep_alive_serves_many_requests_on_one_connection(sim, client):
    for index in range(50):
        assert cdr(client, call_id=f"k{index}").status_code == 200
    # httpx reuses the connection: the server saw one connection at most open at a time
    assert len(sim._connections) == 1
    response = cdr(client, call_id="k-last")
    assert response.http_version == "HTTP/1.1" and "close" not in response.headers.get("connection", "")
