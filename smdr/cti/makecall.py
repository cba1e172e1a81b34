"""Click-to-call: the CRM's ``GET /makecall?event=OutgoingCall&secret=S&from=EXT&to=NUMBER&context=C``.

A route on the connector's HTTP server (smdr.httpd). The secret (the CRM's secret key, or one of its
own) is compared in constant time; a wrong one gets 401 and a log line without it. Only configured
extensions may dial; the number is cleaned (Persian digits, spaces), +98/0098 become 0, and the
outside-line prefix goes before numbers longer than an extension; a caller may place one call per
``per_extension_seconds`` and all together ``per_minute``. The call is placed by the dialer of the
source that serves the extension (TAPI lineMakeCall, GIS reqtype=DIAL). Every answer is JSON in the
CRM's own shape, ``{"success": true|false, ...}``; every attempt is logged and counted by outcome.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
from collections import Counter, deque
from dataclasses import dataclass, field

from ..httpd import Request, Response, Router, json_response
from ..yamlfile import Section
from .dialing import DialError, Dialers

log = logging.getLogger("smdr.makecall")

KEYS = frozenset({"secret", "secret_env", "extensions", "outside_prefix", "country_code", "max_extension_length",
                  "per_extension_seconds", "per_minute", "path"})
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_NOISE = re.compile(r"[\s\-.()/]")
_DIALABLE = re.compile(r"\+?[0-9*#]+")
_STATUS = {"not-available": 501, "unknown-extension": 404, "unavailable": 503, "failed": 502}


@dataclass(slots=True)
class MakeCallSettings:
    secret: str = field(repr=False)
    extensions: frozenset[str]
    outside_prefix: str = ""
    country_code: str = "98"
    max_extension_length: int = 5
    per_extension_seconds: float = 5.0
    per_minute: int = 30
    path: str = "/makecall"

    @classmethod
    def from_section(cls, section: Section, crm_secret: str | None) -> MakeCallSettings:
        section.check_keys(KEYS)
        secret = crm_secret or ""
        if "secret_env" in section:
            secret = os.environ.get(section.get("secret_env", str), "")
            if not secret:
                raise section.error("the environment variable named by 'secret_env' is not set or empty",
                                    "secret_env")
        elif "secret" in section:
            secret = section.written("secret")
        if not isinstance(secret, str) or not secret:
            raise section.error("click-to-call needs a secret: 'secret', 'secret_env', or a crm: secretkey "
                                "(the CRM sends its secret key)", "secret")
        extensions = frozenset(section.str_list("extensions", []))
        if not extensions:
            raise section.error("list the extensions that may dial, e.g. extensions: ['101', '102']",
                                "extensions")
        return cls(secret=secret, extensions=extensions,
                   outside_prefix=str(section.written("outside_prefix", "") or ""),
                   country_code=str(section.written("country_code", "98")),
                   max_extension_length=section.get("max_extension_length", int, 5),
                   per_extension_seconds=float(section.get("per_extension_seconds", (int, float), 5.0)),
                   per_minute=section.get("per_minute", int, 30),
                   path=section.get("path", str, "/makecall"))


def dialable(number: str, settings: MakeCallSettings) -> str | None:
    """The digits to dial for ``number``; None when it is not a phone number."""
    text = _NOISE.sub("", number.translate(_DIGITS))
    if not _DIALABLE.fullmatch(text or "x"):
        return None
    country = settings.country_code
    for international in ("+" + country, "00" + country):
        if country and text.startswith(international) and len(text) > len(international) + 4:
            text = "0" + text[len(international):]
    if text.startswith("+"):
        text = "00" + text[1:]
    if len(text) > settings.max_extension_length:
        text = settings.outside_prefix + text
    return text


class RateLimit:
    def __init__(self, per_extension_seconds: float, per_minute: int, clock=time.monotonic) -> None:
        self.per_extension = per_extension_seconds
        self.per_minute = per_minute
        self.clock = clock
        self._last: dict[str, float] = {}
        self._recent: deque[float] = deque()

    def wait_for(self, extension: str) -> float:
        """0 if a call may go now (and counts it), else the seconds until one may."""
        now = self.clock()
        while self._recent and now - self._recent[0] >= 60.0:
            self._recent.popleft()
        waits = [self._last.get(extension, -1e9) + self.per_extension - now]
        if len(self._recent) >= self.per_minute:
            waits.append(self._recent[0] + 60.0 - now)
        wait = max(waits)
        if wait > 0:
            return wait
        self._last[extension] = now
        self._recent.append(now)
        return 0.0


class MakeCall:
    """The /makecall route: ``add_routes(router)``; ``counts`` by outcome."""

    def __init__(self, settings: MakeCallSettings, dialers: Dialers) -> None:
        self.settings = settings
        self.dialers = dialers
        self.rate = RateLimit(settings.per_extension_seconds, settings.per_minute)
        self.counts: Counter[str] = Counter()

    def add_routes(self, router: Router) -> None:
        router.add("GET", self.settings.path, self.handle, auth=False)  # the CRM's own secret, checked here
        router.add("POST", self.settings.path, self.handle, auth=False)

    def _answer(self, outcome: str, status: int, request: Request, text: str, **result: object) -> Response:
        self.counts[outcome] += 1
        who = f"from={request.query.get('from', '')!r} to={request.query.get('to', '')!r}"
        level = logging.INFO if status == 200 else logging.WARNING
        log.log(level, "makecall %s (%d) %s peer %s: %s", outcome, status, who, request.peer, text)
        body: dict[str, object] = {"success": status == 200}
        if status == 200:
            body["result"] = result
        else:
            body["error"] = {"code": outcome, "message": text}
        headers = {"Retry-After": str(result.pop("retry_after"))} if "retry_after" in result else None
        return json_response(body, status, headers)

    async def handle(self, request: Request) -> Response:
        query = request.query
        given = query.get("secret", "")
        if not hmac.compare_digest(given.encode("utf-8", "replace"), self.settings.secret.encode("utf-8")):
            return self._answer("wrong-secret", 401, request, "wrong or missing secret")
        if query.get("event", "OutgoingCall") != "OutgoingCall":
            return self._answer("bad-request", 400, request, "event must be OutgoingCall")
        extension = query.get("from", "").strip().translate(_DIGITS)
        if extension not in self.settings.extensions:
            return self._answer("extension-not-allowed", 403, request,
                                f"extension {extension or '(none)'} may not place calls from the CRM")
        number = dialable(query.get("to", ""), self.settings)
        if number is None:
            return self._answer("bad-number", 400, request, "'to' is not a phone number")
        if not self.dialers:
            return self._answer("not-available", 501, request,
                                "click-to-call is not available on this phone system: none of its sources can "
                                "dial (a TAPI source with dial=1, or a GIS source)")
        dialer = self.dialers.for_extension(extension)
        if dialer is None:
            return self._answer("unknown-extension", 404, request, f"no source dials for extension {extension}")
        wait = self.rate.wait_for(extension)
        if wait:
            seconds = max(1, round(wait))
            return self._answer("rate-limited", 429, request, f"too many calls; try again in {seconds} s",
                                retry_after=seconds)
        try:
            placed = await dialer.dial(extension, number)
        except DialError as exc:
            return self._answer(exc.kind, _STATUS.get(exc.kind, 502), request, exc.message)
        return self._answer("placed", 200, request, f"dialling {number} via {placed.via}",
                            **{"from": extension, "to": number, "via": placed.via, "reference": placed.reference})
