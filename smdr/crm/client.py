"""The ParsVT Generic PBX API client: ProcessCDR and SearchPBX over one keep-alive httpx.AsyncClient.

Every answer is classified into the smdr.errors hierarchy: CrmUnavailable (retry later),
CrmAuthError (pause until the secret is fixed), CrmRejected (this record is refused: dead letter).
The secret key never leaves this module except inside the request itself: error messages are built
without URLs, and the ``httpx`` logger (which logs every request URL, secret included for GET) is
filtered.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import logging
import re
import ssl
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import httpx

from ..errors import CrmAuthError, CrmRejected, CrmUnavailable
from ..model import RINGING, CallEvent
from ..transports.urls import redact as redact_url
from .formpost import FormPoster
from .netbackend import use_asyncio_backend
from .settings import CrmSettings

log = logging.getLogger("smdr.crm")

# httpcore runs `import sniffio` for every lock it creates, several per request. Without sniffio
# installed, each failed import searches sys.path again (about 0.1 ms; half the client's CPU per
# request). Recording the absence once makes that import fail at once, as it would anyway.
if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]

# What httpx imports on a client's first request (its async backend: about 25 ms): a connector would make
# its first popup after a start wait for it, so a client imports them when it is made.
FIRST_REQUEST_MODULES = ("httpcore._backends.anyio", "anyio._backends._asyncio")

# Connections beyond crm.concurrency, so that a popup never waits for a pool slot held by a CDR.
EXTRA_CONNECTIONS = 4

_AUTH_WORDS = re.compile(r"secret|auth|key|permission", re.IGNORECASE)
_SECRET_PARAM = re.compile(r"(secretkey=)[^&\s\"'<>]*", re.IGNORECASE)


class SecretRedactor(logging.Filter):
    """Rewrites log records so that no known secret, and no ``secretkey=`` value, is ever shown."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def add(self, secret: str) -> None:
        if secret:
            self.secrets.update({secret, quote_plus(secret), quote(secret, safe="")})

    def redact(self, text: str) -> str:
        text = _SECRET_PARAM.sub(r"\1***", text)
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # Handlers print exc_text when it is set; a traceback may show a request URL.
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        return True


REDACTOR = SecretRedactor()
# httpx logs "HTTP Request: GET <full url>" at INFO; httpcore only at DEBUG, without the query.
# (A logger's filters see only records logged on that very logger, hence the explicit list.)
for _name in ("httpx", "httpcore", "smdr.crm", "smdr.crm.popup", "smdr.outbox"):
    _logger = logging.getLogger(_name)
    if REDACTOR not in _logger.filters:
        _logger.addFilter(REDACTOR)


def redact(text: str) -> str:
    """``text`` with every secret key this process knows replaced by ``***``."""
    return REDACTOR.redact(text)


class GenericClient:
    """ProcessCDR / SearchPBX client. One instance per process; close it with ``aclose()``."""

    def __init__(self, settings: CrmSettings, *,
                 transport_factory: Callable[[httpx.Limits], httpx.AsyncBaseTransport] | None = None) -> None:
        REDACTOR.add(settings.secretkey)
        credentials = urlsplit(settings.url).password
        if credentials:  # https://user:password@crm/...: the password is a secret too
            REDACTOR.add(credentials)
        self.settings = settings
        self._base = settings.url.rstrip("/")
        for module in FIRST_REQUEST_MODULES:
            with contextlib.suppress(ImportError):  # another httpx may need others: then they come later
                importlib.import_module(module)
        # Two pools: the call records' (crm.concurrency connections) and the popups' (ringing, SearchPBX),
        # so a popup never waits for a connection a call record holds. httpcore looks at every connection
        # of a pool for every request: a pool no larger than its traffic needs is also the cheaper one.
        # one TLS context for both: loading the CA certificates takes tens of milliseconds of the loop
        verify = _tls_verification(settings)
        self._http = self._pool(settings, settings.concurrency, verify, transport_factory)
        self._popup_http = self._pool(settings, EXTRA_CONNECTIONS, verify, transport_factory)
        # (API method, popup pool) -> its form POST, set up once (GET goes through the client)
        self._posters: dict[tuple[str, bool], FormPoster] = {}
        if settings.method == "POST":
            try:
                for api_method in ("ProcessCDR", "SearchPBX"):
                    for popup, http in ((False, self._http), (True, self._popup_http)):
                        self._posters[api_method, popup] = FormPoster(http, f"{self._base}/{api_method}",
                                                                      {"secretkey": settings.secretkey})
            except AttributeError:  # FormPoster reads one private method of httpx (0.27, 0.28): without
                self._posters.clear()  # it, forms go through the client as GET does (slower, never broken)

    @staticmethod
    def _pool(settings: CrmSettings, size: int, verify: ssl.SSLContext | bool,
              transport_factory: Callable[[httpx.Limits], httpx.AsyncBaseTransport] | None) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        client = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout),
            limits=limits,
            verify=verify,
            follow_redirects=False,  # a redirect would resend the secret somewhere we did not configure
            transport=transport_factory(limits) if transport_factory is not None else None,
            headers={"User-Agent": "smdr-connector"},
        )
        use_asyncio_backend(client)  # its direct connections (a proxy's from the environment stay on anyio)
        return client

    @property
    def display_url(self) -> str:
        """The endpoint as it may be shown to a person (no secret key, no password of the URL)."""
        return redact_url(self._base)

    def lookup_page_url(self, phone: str) -> str:
        """The CRM's CTI page for a number: opens the matching record, or searches for it."""
        return f"{self._base}/Lookup?phone={quote(phone, safe='+')}"

    async def process_cdr(self, event: CallEvent, *, event_name: str | None = None,
                          on_sent: Callable[[], None] | None = None) -> str:
        """Create or update the CRM record of ``event.call_id``; returns the CRM record id.

        ``event_name`` replaces the event sent (a stale popup goes out as ``popup.stale_event``);
        ``on_sent`` is called once the whole request has been written to the socket.
        """
        fields = event.cdr_fields(unknown_phone=self.settings.unknown_phone,
                                  unknown_agent=self.settings.unknown_agent)
        if event_name is not None:
            fields["event"] = event_name
        body = await self._call("ProcessCDR", fields, on_sent, popup=event.event == RINGING)
        if body.get("success") is not True:
            _raise_refusal("ProcessCDR", body)
        record_id = body.get("result")
        if isinstance(record_id, bool) or not isinstance(record_id, (str, int)) or not str(record_id).strip():
            raise CrmUnavailable(f"ProcessCDR: the CRM said success but returned no record id "
                                 f"(result={_short(json.dumps(record_id))})")
        return str(record_id)

    async def search(self, phone: str, finglish: int = 0) -> dict[str, Any] | None:
        """SearchPBX: the CRM's record for ``phone``, or None when nothing matches."""
        body = await self._call("SearchPBX", {"phone": phone, "finglish": str(finglish)}, popup=True)
        if body.get("success") is False:
            _raise_refusal("SearchPBX", body)
        result = body.get("result")
        return result if isinstance(result, dict) and result else None

    async def probe(self, timeout: float) -> bool:
        """True when the CRM's web server answers at all (any status below 500). Cheap: one GET of the
        endpoint with no secret and no record, used while the CRM is down to see that it is back."""
        try:
            response = await self._http.get(self._base, timeout=timeout)
        except (httpx.HTTPError, ssl.SSLError):
            return False
        return response.status_code < 500

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._popup_http.aclose()

    async def __aenter__(self) -> GenericClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _call(self, method: str, fields: dict[str, str], on_sent: Callable[[], None] | None = None, *,
                    popup: bool = False) -> dict[str, Any]:
        trace = _sent_tracer(on_sent) if on_sent is not None else None
        poster = self._posters.get((method, popup))
        try:
            if poster is not None:
                response = await poster.post(fields, trace)
            else:
                http = self._popup_http if popup else self._http
                response = await http.get(f"{self._base}/{method}", params={"secretkey": self.settings.secretkey,
                                                                              **fields},
                                          extensions={"trace": trace} if trace is not None else None)
        except httpx.TimeoutException as exc:
            raise CrmUnavailable(f"{method}: no answer within {self.settings.timeout:g} s "
                                 f"({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            # str(exc) of some httpx errors carries the request URL (with the secret, for GET).
            raise CrmUnavailable(f"{method}: {type(exc).__name__}: {_short(redact(str(exc)))}") from None
        except ssl.SSLError as exc:
            raise CrmUnavailable(f"{method}: TLS error: {_short(str(exc))}") from None
        return _parse_answer(method, response)


def _sent_tracer(on_sent: Callable[[], None]) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
    """An httpcore trace hook that calls ``on_sent`` when the request body has been written."""

    async def trace(name: str, info: dict[str, Any]) -> None:
        if name.endswith("send_request_body.complete"):
            on_sent()

    return trace


def _tls_verification(settings: CrmSettings) -> ssl.SSLContext | bool:
    if not settings.verify_tls:
        return False
    if settings.ca_bundle:
        return ssl.create_default_context(cafile=settings.ca_bundle)
    make_context = getattr(httpx, "create_ssl_context", None)  # public since httpx 0.28
    return make_context() if make_context is not None else True


def _parse_answer(method: str, response: httpx.Response) -> dict[str, Any]:
    status = response.status_code
    if status in (401, 403):
        body = _json_or_none(response)
        detail = _error_text(body) if isinstance(body, dict) else f"HTTP {status}"
        raise CrmAuthError(f"{method}: the CRM refused the secret key (HTTP {status}: {detail}); "
                           "check crm.secretkey against the CRM's PBXManager settings")
    if status >= 500 or status in (408, 429):
        raise CrmUnavailable(f"{method}: HTTP {status} {response.reason_phrase}")
    if 300 <= status < 400:
        raise CrmUnavailable(f"{method}: HTTP {status} redirect; check crm.url (http vs https, path)")
    body = _json_or_none(response)
    if not isinstance(body, dict):
        kind = response.headers.get("content-type", "no content-type").split(";")[0]
        # redact before cutting: a cut could leave a piece of the secret that no longer matches it
        snippet = _short(redact(" ".join(response.text.split())), 80)
        raise CrmUnavailable(f"{method}: HTTP {status} answer is not a JSON object ({kind}: "
                             f"{snippet!r}); check crm.url")
    if status in (200, 400, 422):
        return body
    if status == 404:
        raise CrmUnavailable(f"{method}: HTTP 404; check crm.url")
    raise CrmUnavailable(f"{method}: unexpected HTTP {status}: {_short(_error_text(body))}")


def _raise_refusal(method: str, body: dict[str, Any]) -> None:
    error = body.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    text = _error_text(body)
    if (isinstance(code, str) and code.upper() == "AUTH") or _AUTH_WORDS.search(text):
        raise CrmAuthError(f"{method}: the CRM refused the secret key ({text}); "
                           "check crm.secretkey against the CRM's PBXManager settings")
    raise CrmRejected(f"{method}: the CRM refused the record: {text}")


def _error_text(body: Any) -> str:
    if not isinstance(body, dict):
        return "no details"
    error = body.get("error", body.get("message"))
    if isinstance(error, dict):
        code, message = error.get("code"), error.get("message")
        text = ": ".join(str(part) for part in (code, message) if part)
    elif error:
        text = str(error)
    else:
        text = "success is false, no error given"
    return _short(redact(text), 200)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = ["GenericClient", "SecretRedactor", "redact", "REDACTOR", "EXTRA_CONNECTIONS"]
