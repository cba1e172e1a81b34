"""GenericClient against a real HTTP server on 127.0.0.1: fields, answers, errors, the secret."""

from __future__ import annotations

import asyncio
import logging
import shutil
import ssl
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from ports import free_port
from test_delivery_support import SECRET, CrmDouble, SimCrm, crm_settings, make_event

from smdr.crm import CrmSettings, GenericClient, LookupCache, PopupSettings
from smdr.crm.client import REDACTOR
from smdr.errors import ConfigError, CrmAuthError, CrmError, CrmRejected, CrmUnavailable
from smdr.model import CDR_FIELDS, CallEvent
from smdr.yamlfile import load_text


@pytest.fixture
def crm() -> Iterator[CrmDouble]:
    double = CrmDouble().start()
    yield double
    double.stop()


@pytest.fixture
def sim() -> Iterator[SimCrm]:
    server = SimCrm().start()
    yield server
    server.stop()


def call(settings: CrmSettings, method: str, *args: object, **kwargs: object) -> object:
    async def go() -> object:
        async with GenericClient(settings) as client:
            return await getattr(client, method)(*args, **kwargs)
    return asyncio.run(go())


def full_event():
    return make_event("c-full", "answered", billduration=60, recordingurl="http://pbx/rec/1.wav")


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_process_cdr_carries_every_field(crm: CrmDouble, method: str) -> None:
    event = full_event()
    record_id = call(crm_settings(crm.url, method=method), "process_cdr", event)
    assert record_id == "1000"
    [request] = crm.cdrs()
    assert request.method == method
    expected = {"secretkey": SECRET, **event.cdr_fields()}
    assert request.fields == expected
    assert set(CDR_FIELDS) <= set(request.fields)  # every ProcessCDR field of the model goes out
    assert request.fields["starttime"] == "2024-05-01T09:30:05+03:30"
    assert request.fields["billduration"] == "60"
    if method == "GET":
        assert "secretkey=" in request.raw_query
    else:
        assert request.raw_query == ""  # POST: nothing in the URL


def test_event_name_override_for_a_stale_popup(crm: CrmDouble) -> None:
    call(crm_settings(crm.url), "process_cdr", make_event("c1", "ringing"), event_name="in-progress")
    assert crm.events_of("c1") == ["in-progress"]


@pytest.mark.parametrize("status, kind, body, error", [
    (200, "text/html", b"<html><body>Login</body></html>", CrmUnavailable),
    (200, "application/json", b'{"success": true}', CrmUnavailable),
    (200, "application/json", b'{"success": true, "result": ""}', CrmUnavailable),
    (200, "application/json", b'["not", "an", "object"]', CrmUnavailable),
    (200, "application/json", b'{"success": false, "error": {"code": "INVALID", "message": "bad phone"}}',
     CrmRejected),
    (422, "application/json", b'{"success": false, "error": {"code": "INVALID", "message": "bad"}}',
     CrmRejected),
    (200, "application/json", b'{"success": false, "error": "Invalid secret key"}', CrmAuthError),
    (200, "application/json", b'{"success": false, "error": {"code": "X", "message": "permission denied"}}',
     CrmAuthError),
    (403, "text/html", b"<html>forbidden</html>", CrmAuthError),
    (500, "text/html", b"<html>oops</html>", CrmUnavailable),
    (503, "application/json", b'{"success": false}', CrmUnavailable),
    (502, "text/html", b"", CrmUnavailable),
    (429, "text/plain", b"slow down", CrmUnavailable),
    (408, "text/plain", b"timeout", CrmUnavailable),
    (404, "text/html", b"<html>no such page</html>", CrmUnavailable),
    (302, "text/html", b"", CrmUnavailable),
])
def test_answers_are_classified(crm: CrmDouble, status: int, kind: str, body: bytes,
                                error: type[CrmError]) -> None:
    crm.override = lambda request: (status, kind, body)
    with pytest.raises(error):
        call(crm_settings(crm.url), "process_cdr", make_event("c1"))


@pytest.mark.parametrize("auth_status", [401, 200])
def test_wrong_secret_is_an_auth_error(crm: CrmDouble, auth_status: int) -> None:
    crm.auth_status = auth_status
    with pytest.raises(CrmAuthError, match="secret key"):
        call(crm_settings(crm.url, secret="wrong-secret"), "process_cdr", make_event("c1"))


def test_invalid_record_is_rejected_with_the_reason(crm: CrmDouble) -> None:
    crm.reject_call_ids.add("c1")
    with pytest.raises(CrmRejected, match="INVALID: unknown extension"):
        call(crm_settings(crm.url), "process_cdr", make_event("c1"))


def test_timeout_is_unavailable(crm: CrmDouble) -> None:
    crm.delay = 1.0
    with pytest.raises(CrmUnavailable, match="no answer within"):
        call(crm_settings(crm.url, timeout=0.1), "process_cdr", make_event("c1"))


def test_connection_refused_is_unavailable() -> None:
    port = free_port()  # nothing listens there
    url = f"http://127.0.0.1:{port}/modules/ParsVT/ws/API/V2/PBX/Generic"
    with pytest.raises(CrmUnavailable, match="ConnectError"):
        call(crm_settings(url), "process_cdr", make_event("c1"))


@pytest.fixture
def tls_crm(tmp_path: Path) -> Iterator[tuple[CrmDouble, Path]]:
    """The double behind HTTPS with a self-signed certificate for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "crm.pem", tmp_path / "crm.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    double = CrmDouble().start(tls=context)
    yield double, cert
    double.stop()


def test_tls_is_verified_by_default_and_a_ca_bundle_can_be_given(tls_crm: tuple[CrmDouble, Path]) -> None:
    crm, cert = tls_crm
    with pytest.raises(CrmUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        call(crm_settings(crm.url), "process_cdr", make_event("c1"))
    assert call(crm_settings(crm.url, ca_bundle=str(cert)), "process_cdr", make_event("c1")) == "1000"
    assert call(crm_settings(crm.url, verify_tls=False), "process_cdr", make_event("c2")) == "1001"
    assert [r.fields["call_id"] for r in crm.cdrs()] == ["c1", "c2"]


def test_both_pools_share_one_verifying_tls_context(crm: CrmDouble) -> None:
    """Loading the CA certificates is the slow part of a pool: it happens once, for a context that verifies."""

    async def go() -> tuple[ssl.SSLContext, ssl.SSLContext]:
        async with GenericClient(crm_settings(crm.url)) as client:
            return (client._http._transport._pool._ssl_context,  # type: ignore[attr-defined]
                    client._popup_http._transport._pool._ssl_context)  # type: ignore[attr-defined]

    records, popups = asyncio.run(go())
    assert records is popups
    assert records.verify_mode == ssl.CERT_REQUIRED and records.check_hostname


def test_one_connection_is_reused(crm: CrmDouble) -> None:
    ports: set[int] = set()

    async def go() -> None:
        async with GenericClient(crm_settings(crm.url)) as client:
            for index in range(5):
                await client.process_cdr(make_event(f"c{index}"))
            pool = client._http._transport._pool  # type: ignore[attr-defined]
            ports.update(id(connection) for connection in pool.connections)
    asyncio.run(go())
    assert len(crm.cdrs()) == 5 and len(ports) == 1


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_search_finds_a_contact_with_finglish(crm: CrmDouble, method: str) -> None:
    crm.contacts["03136204751"] = {"id": "2138", "name": "Pars", "module": "Contacts"}
    found = call(crm_settings(crm.url, method=method), "search", "03136204751", 4)
    assert found == {"id": "2138", "name": "Pars", "module": "Contacts"}
    [request] = [r for r in crm.received if r.name == "SearchPBX"]
    assert request.method == method
    assert request.fields == {"secretkey": SECRET, "phone": "03136204751", "finglish": "4"}


@pytest.mark.parametrize("body", [b'{"result": false}', b'{"result": null}', b'{"result": {}}', b"{}",
                                  b'{"result": []}'])
def test_search_not_found(crm: CrmDouble, body: bytes) -> None:
    crm.override = lambda request: (200, "application/json", body)
    assert call(crm_settings(crm.url), "search", "0999") is None


def test_search_with_a_wrong_secret(crm: CrmDouble) -> None:
    with pytest.raises(CrmAuthError):
        call(crm_settings(crm.url, secret="nope"), "search", "0999")


def test_lookup_page_url(crm: CrmDouble) -> None:
    client_url = asyncio.run(_lookup_url(crm_settings(crm.url), "+98 912"))
    assert client_url == f"{crm.url}/Lookup?phone=+98%20912"
    assert SECRET not in client_url


async def _lookup_url(settings: CrmSettings, phone: str) -> str:
    async with GenericClient(settings) as client:
        return client.lookup_page_url(phone)


def test_the_secret_is_in_no_log_and_no_error(crm: CrmDouble, caplog: pytest.LogCaptureFixture) -> None:
    secret = "Top/Secret&Key 99"  # characters that URL-encoding changes
    crm.secret = secret
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # `smdr` quiets it; here we want every URL it logs
    errors: list[BaseException] = []
    dead_url = f"http://127.0.0.1:{free_port()}/x"

    async def go() -> None:
        for method in ("GET", "POST"):
            async with GenericClient(crm_settings(crm.url, secret=secret, method=method, timeout=0.2)) as ok:
                await ok.process_cdr(make_event("c1"))
                await ok.search("0912", 1)
                for answer in [(503, "text/html", b"down"), (200, "text/html", b"<p>secretkey=" + b"x</p>"),
                               (401, "application/json", b"{}")]:
                    crm.override = lambda request, answer=answer: answer
                    try:
                        await ok.process_cdr(make_event("c1"))
                    except CrmError as exc:
                        errors.append(exc)
                crm.override = None
                crm.delay = 0.5
                try:
                    await ok.process_cdr(make_event("c1"))
                except CrmError as exc:
                    errors.append(exc)
                crm.delay = 0.0
            async with GenericClient(crm_settings(crm.url, secret="wrong " + secret, method=method)) as bad:
                try:
                    await bad.process_cdr(make_event("c1"))
                except CrmError as exc:
                    errors.append(exc)
            async with GenericClient(crm_settings(dead_url, secret=secret, method=method)) as gone:
                try:
                    await gone.process_cdr(make_event("c1"))
                except CrmError as exc:
                    errors.append(exc)
    asyncio.run(go())
    assert len(errors) == 12
    assert any("HTTP Request" in record.getMessage() for record in caplog.records)  # httpx did log URLs
    forms = {secret, "Top%2FSecret%26Key+99", "Top%2FSecret%26Key%2099", "Top/Secret"}
    for record in caplog.records:
        assert not any(form in record.getMessage() for form in forms), record.getMessage()
    for exc in errors:
        text = "".join(traceback.format_exception(exc))
        assert not any(form in text for form in forms), text


def test_tracebacks_in_logs_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    REDACTOR.add("tb-Secret-123")
    try:
        raise RuntimeError("GET http://127.0.0.1/ProcessCDR?secretkey=tb-Secret-123&phone=1 failed")
    except RuntimeError:
        logging.getLogger("smdr.outbox").exception("unexpected")
    assert "RuntimeError" in caplog.text and "secretkey=***" in caplog.text
    assert "tb-Secret-123" not in caplog.text


def test_lookup_cache_keeps_answers_and_misses_for_the_ttl_and_asks_once() -> None:
    asked: list[str] = []
    now = [0.0]

    async def search(phone: str) -> dict | None:
        asked.append(phone)
        await asyncio.sleep(0.01)
        if phone == "down":
            raise CrmUnavailable("SearchPBX: HTTP 503")
        return {"id": "1"} if phone == "0912" else None

    async def go() -> None:
        cache = LookupCache(search, ttl=10, clock=lambda: now[0])
        found = await asyncio.gather(cache.get("0912"), cache.get("0912"), cache.get("0000"))
        assert found == [{"id": "1"}, {"id": "1"}, None]
        assert await cache.get("0000") is None and await cache.get("0912") == {"id": "1"}
        assert asked == ["0912", "0000"]
        now[0] = 11.0
        await cache.get("0912")
        for _ in range(2):  # a failure is not "no contact": it is raised, and not cached
            with pytest.raises(CrmUnavailable):
                await cache.get("down")
        assert "down" not in cache and "0912" in cache
        assert asked == ["0912", "0000", "0912", "down", "down"]
    asyncio.run(go())


# --- the same contract against crm-sim -----------------------------------------------------------

@pytest.mark.parametrize("method", ["POST", "GET"])
def test_crm_sim_stores_every_field(sim: SimCrm, method: str) -> None:
    event = full_event()
    record_id = call(crm_settings(sim.url, method=method), "process_cdr", event)
    [stored] = sim.events()
    assert stored["fields"] == event.cdr_fields()  # everything but the secret, as sent
    [record] = sim.server.store.calls()
    assert record["id"] == record_id and record["recordingurl"] == "http://pbx/rec/1.wav"


def test_a_call_without_agent_or_number_goes_out_with_the_site_placeholders(sim: SimCrm) -> None:
    event = CallEvent(call_id="missed-1", direction="inbound", event="no_answer")
    call(crm_settings(sim.url, unknown_agent="100", unknown_phone="anonymous"), "process_cdr", event)
    [record] = sim.server.store.calls()
    assert (record["agent"], record["phone"], record["event"]) == ("100", "anonymous", "no_answer")


@pytest.mark.parametrize("faults, error, text", [
    ({"reject_secret": True}, CrmAuthError, "HTTP 401"),
    ({"reject_secret": True, "auth_failure_status": 200}, CrmAuthError, "AUTH: invalid secretkey"),
    ({"error_rate": 1.0}, CrmUnavailable, "HTTP 500"),
    ({"error_rate": 1.0, "html_errors": True}, CrmUnavailable, "HTTP 500"),
])
def test_crm_sim_faults_are_classified(sim: SimCrm, faults: dict, error: type[CrmError], text: str) -> None:
    sim.set_faults(**faults)
    with pytest.raises(error, match=text):
        call(crm_settings(sim.url), "process_cdr", make_event("c1"))


def test_crm_sim_invalid_record_is_rejected(sim: SimCrm) -> None:
    with pytest.raises(CrmRejected, match="INVALID: unknown event 'rang'"):
        call(crm_settings(sim.url), "process_cdr", make_event("c1", "rang"))


def test_crm_sim_down_is_unavailable(sim: SimCrm) -> None:
    sim.server.take_down(3600)
    with pytest.raises(CrmUnavailable, match="ConnectError"):
        call(crm_settings(sim.url), "process_cdr", make_event("c1"))


def test_crm_sim_search(sim: SimCrm) -> None:
    found = call(crm_settings(sim.url, method="GET"), "search", "09121234567", 3)
    assert isinstance(found, dict) and found["id"] == "2201" and found["name"].isascii()
    assert call(crm_settings(sim.url), "search", "02100000000") is None


# --- settings ------------------------------------------------------------------------------------

CONFIG = """
crm:
  url: http://127.0.0.1:8089/modules/ParsVT/ws/API/V2/PBX/Generic/
  secretkey: change-me
  method: get
  timeout: 3
  concurrency: 4
popup:
  max_age: 30
  lookup: true
  finglish: 4
  open_browser_for: [101, "102"]
"""


def test_settings_from_config() -> None:
    config = load_text(CONFIG, "smdr.yaml")
    crm = CrmSettings.from_section(config.section("crm"))
    popup = PopupSettings.from_section(config.section("popup"))
    assert crm.url.endswith("/PBX/Generic") and crm.method == "GET" and crm.timeout == 3.0
    assert crm.concurrency == 4 and crm.verify_tls and crm.retry_max == 300.0
    assert "change-me" not in repr(crm)
    assert popup == PopupSettings(max_age=30.0, stale_event="in-progress", lookup=True, finglish=4,
                                  open_browser_for=frozenset({"101", "102"}))
    assert PopupSettings.from_section(load_text("popup: {}", "x.yaml").section("popup")) == PopupSettings()


def test_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMDR_TEST_SECRET", "from-env")
    text = "crm:\n  url: https://crm.example/api\n  secretkey_env: SMDR_TEST_SECRET\n"
    assert CrmSettings.from_section(load_text(text, "c.yaml").section("crm")).secretkey == "from-env"
    monkeypatch.delenv("SMDR_TEST_SECRET")
    with pytest.raises(ConfigError, match=r"variable named by 'crm\.secretkey_env' is not set") as caught:
        CrmSettings.from_section(load_text(text, "c.yaml").section("crm"))
    assert caught.value.line == 3  # the line names it; the value itself is never echoed (it may be the secret)


@pytest.mark.parametrize("text, message", [
    ("crm:\n  url: http://x/a\n  secretkey: s\n  sekretkey: t\n", "unknown key 'crm.sekretkey'"),
    ("crm:\n  url: http://x/a\n  secretkey: s\n  method: PUT\n", "POST or GET"),
    ("crm:\n  url: ftp://x/a\n  secretkey: s\n", "http:// or https://"),
    ("crm:\n  url: http://x/a?secretkey=s\n  secretkey: s\n", r"without \?query"),
    ("crm:\n  url: http://x/a\n", "secretkey"),
    ("crm:\n  url: http://x/a\n  secretkey: [0123]\n", "must be text"),
    ("crm:\n  url: http://x/a\n  secretkey: s\n  concurrency: 0\n", "between 1 and 64, not 0"),
    ("popup:\n  stale_event: ringing\n", "must be one of"),
    ("popup:\n  finglish: 9\n", "must be one of"),
    ("popup:\n  max_age: -1\n", "between 0 and 3600 seconds, not -1"),
])
def test_settings_errors_are_located(text: str, message: str) -> None:
    config = load_text(text, "smdr.yaml")
    name = config.keys()[0]
    parser = CrmSettings if name == "crm" else PopupSettings
    with pytest.raises(ConfigError, match=message) as caught:
        parser.from_section(config.section(name))
    assert str(caught.value).startswith("smdr.yaml:")
    assert "0123" not in str(caught.value) and "83" not in str(caught.value)


def test_an_error_page_that_repeats_the_secret_leaks_no_piece_of_it(crm: CrmDouble) -> None:
    # The page is cut to a short snippet for the error; it must be redacted before the cut, or the
    # cut can leave a prefix of the secret that no longer matches it.
    prefix = "<html><body>Fatal error: invalid request from the connector, the key "
    prefix += "x" * (72 - len(prefix))  # the secret starts just before the 80-character cut
    page = f"{prefix}{crm.secret} is not valid here</body></html>"
    crm.override = lambda request: (200, "text/html", page.encode())
    with pytest.raises(CrmUnavailable) as caught:
        call(crm_settings(crm.url), "process_cdr", make_event("c1"))
    assert crm.secret[:5] not in str(caught.value) and "***" in str(caught.value)


FIRST_REQUEST = """
import asyncio, sys
from smdr.crm import CrmSettings, GenericClient
from smdr.model import CallEvent
from datetime import datetime, timezone

async def go():
    async with GenericClient(CrmSettings(url=sys.argv[1], secretkey=sys.argv[2])) as client:
        before = set(sys.modules)
        start = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
        await client.process_cdr(CallEvent("c-first", "inbound", "ringing", "101", "09121234567",
                                           starttime=start))
        print(" ".join(sorted(set(sys.modules) - before)))

asyncio.run(go())
"""


def test_a_client_imports_what_its_first_request_needs_when_it_is_made(crm: CrmDouble, tmp_path: Path) -> None:
    """A fresh process (nothing imported by other tests): the first popup after a start must not wait
    for httpx's async backend to be imported (about 25 ms)."""
    script = tmp_path / "first.py"
    script.write_text(FIRST_REQUEST, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), crm.url, SECRET], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    imported = done.stdout.split()
    assert not [name for name in imported if name.startswith(("anyio", "httpcore", "httpx", "h11"))], imported
    assert crm.received, "the request reached the CRM"
