"""What crm-sim answers: the Generic API (ProcessCDR, SearchPBX, Lookup) and its inspection endpoints.

Pure request -> ``Reply`` logic; the sockets, threads and downtime are in ``server.py``.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from ..model import RINGING
from .cdr import InvalidRequest, parse_cdr_form
from .contacts import Contact, ContactBook
from .faults import FaultInjector
from .finglish import FINGLISH_METHODS, to_finglish
from .page import LIVE_PAGE, error_page, lookup_page
from .store import CallStore

ENDPOINT_PATH: Final = "/modules/ParsVT/ws/API/V2/PBX/Generic"
JSON_TYPE: Final = "application/json; charset=utf-8"
HTML_TYPE: Final = "text/html; charset=utf-8"
OUTCOMES: Final = ("ok", "auth", "invalid", "injected_error", "down", "not_found", "bad_request")
API_METHODS: Final = ("ProcessCDR", "SearchPBX", "Lookup")


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str = JSON_TYPE
    down_for: float | None = None  # the server is to go down for this long, once this reply is sent


def json_reply(status: int, data: Any) -> Reply:
    return Reply(status, json.dumps(data, ensure_ascii=False).encode("utf-8"))


def html_reply(status: int, page: str) -> Reply:
    return Reply(status, page.encode("utf-8"), HTML_TYPE)


def api_error(code: str, message: str) -> dict[str, Any]:
    return {"success": False, "error": {"code": code, "message": message}}


class RequestStats:
    """Generic API requests counted by outcome and by method (the inspection endpoints are not counted)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.outcomes = dict.fromkeys(OUTCOMES, 0)
        self.by_method = dict.fromkeys(API_METHODS, 0)

    def count_request(self, method: str | None) -> None:
        with self._lock:
            self.requests += 1
            if method in self.by_method:
                self.by_method[method] += 1

    def count(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {**self.outcomes, "requests": self.requests, "by_method": dict(self.by_method)}


class SimApp:
    """Turns one parsed request into a Reply; thread-safe (the store and the injector lock themselves)."""

    def __init__(self, *, secret: str, store: CallStore, contacts: ContactBook, faults: FaultInjector,
                 log: Callable[[str], None] | None = None) -> None:
        self.secret = secret
        self.store = store
        self.contacts = contacts
        self.faults = faults
        self.stats = RequestStats()
        self._log = log

    def handle(self, method: str, path: str, query: Mapping[str, str], form: Mapping[str, str],
               body: bytes, host: str, arrived: float | None = None) -> Reply:
        """``query`` is the URL's parameters, ``form`` those merged with a urlencoded body (body wins);
        ``arrived`` the unix time the request had been read (default: now), stored with each event."""
        if path.startswith(ENDPOINT_PATH + "/"):
            return self._generic_api(path[len(ENDPOINT_PATH) + 1:], form, host,
                                     time.time() if arrived is None else arrived)
        if method == "GET":
            if path == "/":
                return html_reply(200, LIVE_PAGE)
            if path == "/calls":
                return self._inspect(lambda: self._calls(query))
            if path == "/events":
                return self._inspect(lambda: {"events": self.store.events(limit=_limit(query))})
            if path == "/stats":
                return json_reply(200, {**self.stats.snapshot(), "stored": self.store.counts()})
            if path == "/_sim/faults":
                return json_reply(200, self.faults.snapshot())
        if method == "POST" and path == "/_sim/faults":
            return self._set_faults(body)
        return json_reply(404, {"error": f"no such page: {method} {path}", "endpoint": ENDPOINT_PATH})

    # -- the Generic API ---------------------------------------------------------------------------------

    def _generic_api(self, api_method: str, form: Mapping[str, str], host: str, arrived: float) -> Reply:
        handler = {"ProcessCDR": self._process_cdr, "SearchPBX": self._search_pbx,
                   "Lookup": self._lookup}.get(api_method)
        self.stats.count_request(api_method if handler else None)
        latency = self.faults.latency_seconds()
        if latency > 0:
            time.sleep(latency)
        if self.faults.draw_injected_error():
            self.stats.count("injected_error")
            return self._server_error(500, "Internal Server Error", "injected error (crm-sim error_rate)")
        settings = self.faults.settings
        # Lookup is a page the CRM user opens in a browser, behind the CRM's own login: no API secret
        needs_secret = api_method != "Lookup"
        if needs_secret and (settings.reject_secret or not hmac.compare_digest(
                form.get("secretkey", "").encode(), self.secret.encode())):
            self.stats.count("auth")
            self._say(f"{api_method}: rejected, wrong or missing secretkey (secretkey=***)")
            return json_reply(settings.auth_failure_status, api_error("AUTH", "invalid secretkey"))
        if handler is None:
            self.stats.count("not_found")
            return json_reply(404, api_error("NOT_FOUND", f"unknown method {api_method!r}; "
                                             f"expected one of {', '.join(API_METHODS)}"))
        try:
            reply = (self._process_cdr(form, host, arrived) if api_method == "ProcessCDR"
                     else handler(form, host))
        except InvalidRequest as exc:
            self.stats.count("invalid")
            self._say(f"{api_method}: INVALID {exc}")
            return json_reply(200, api_error("INVALID", str(exc)))
        self.stats.count("ok")
        return reply

    def _process_cdr(self, form: Mapping[str, str], host: str, arrived: float | None = None) -> Reply:
        cdr = parse_cdr_form(form)
        received_at = datetime.now()
        fields = {k: v for k, v in form.items() if k != "secretkey"}
        record_id = self.store.record(cdr, fields, received_at, time.time() if arrived is None else arrived)
        note = ""
        if cdr.event == RINGING:
            contact = self.contacts.find(cdr.phone)
            self.store.add_popup(cdr.call_id, cdr.phone, cdr.agent, received_at,
                                 contact.name if contact else None, contact.id if contact else None)
            note = f"  popup: {contact.name if contact else 'unknown caller'}"
        self._say(f"{cdr.event:<11} {cdr.direction:<8} call_id={cdr.call_id} agent={cdr.agent} "
                  f"phone={cdr.phone} duration={cdr.duration or 0} -> record {record_id}{note}")
        return json_reply(200, {"success": True, "result": record_id})

    def _search_pbx(self, form: Mapping[str, str], host: str) -> Reply:
        phone = form.get("phone", "").strip()
        if not phone:
            raise InvalidRequest("missing required field: phone")
        method = _finglish_method(form.get("finglish", ""))
        contact = self.contacts.find(phone)
        self._say(f"SearchPBX phone={phone} -> {contact.name if contact else 'not found'}")
        if contact is None:
            return json_reply(200, {"result": False})
        return json_reply(200, {"result": {
            "id": contact.id, "name": to_finglish(contact.name, method), "phone": contact.phone or phone,
            "url": _record_url(host, contact), "module": contact.module,
            "businessphone": contact.businessphone, "mobile": contact.mobile, "email": contact.email,
            "company": contact.company}})

    def _lookup(self, form: Mapping[str, str], host: str) -> Reply:
        phone = form.get("phone", "").strip()
        if not phone:
            raise InvalidRequest("missing required field: phone")
        contact = self.contacts.find(phone)
        return html_reply(200, lookup_page(phone, contact, _record_url(host, contact) if contact else None))

    def _server_error(self, status: int, reason: str, detail: str) -> Reply:
        if self.faults.settings.html_errors:
            return html_reply(status, error_page(status, reason, detail))
        return json_reply(status, api_error("SERVER", detail))

    # -- inspection and control --------------------------------------------------------------------------

    def _calls(self, query: Mapping[str, str]) -> dict[str, Any]:
        limit = _limit(query)
        calls = self.store.calls(limit=limit, call_id=query.get("call_id"))
        for call in calls:  # the name the CRM would show on the call record
            contact = self.contacts.find(call["phone"] or "")
            call["contact"] = contact.name if contact else None
        return {"calls": calls, "popups": self.store.popups(limit=limit)}

    def _inspect(self, build: Callable[[], dict[str, Any]]) -> Reply:
        try:
            return json_reply(200, build())
        except ValueError as exc:
            return json_reply(400, {"error": str(exc)})

    def _set_faults(self, body: bytes) -> Reply:
        try:
            changes = json.loads(body or b"{}")
            if not isinstance(changes, dict):
                raise ValueError("the body must be a JSON object")
            down_for = self.faults.update(changes)
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            return json_reply(400, {"error": str(exc)})
        snapshot = self.faults.snapshot()
        self._say("faults now: " + ", ".join(f"{k}={v}" for k, v in snapshot.items() if k != "down_for")
                  + (f", going down for {down_for:g} s" if down_for else ""))
        if down_for:
            snapshot["down_for"] = down_for
        return Reply(200, json.dumps(snapshot).encode(), down_for=down_for)

    def _say(self, line: str) -> None:
        if self._log is not None:
            self._log(f"{datetime.now():%H:%M:%S} {line}")


def _finglish_method(text: str) -> int:
    text = text.strip()
    if not text:
        return 0
    try:
        method = int(text)
    except ValueError:
        raise InvalidRequest(f"finglish must be a number 0-5, not {text!r}") from None
    if method not in FINGLISH_METHODS:
        raise InvalidRequest(f"finglish must be 0-5, not {method}")
    return method


def _record_url(host: str, contact: Contact) -> str:
    return f"http://{host}/index.php?module={contact.module}&view=Detail&record={contact.id}"


def _limit(query: Mapping[str, str]) -> int | None:
    text = query.get("limit")
    if text is None or text == "":
        return None
    try:
        limit = int(text)
    except ValueError:
        raise ValueError(f"limit must be a whole number, not {text!r}") from None
    if limit < 0:
        raise ValueError("limit must not be negative")
    return limit
