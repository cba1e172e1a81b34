"""The ``crm:`` and ``popup:`` config sections, parsed into typed settings with located errors."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..model import EVENTS, RINGING, UNKNOWN_AGENT, UNKNOWN_PHONE
from ..yamlfile import Section

CRM_KEYS = frozenset({
    "url", "secretkey", "secretkey_env", "method", "timeout", "verify_tls", "ca_bundle",
    "concurrency", "retry_initial", "retry_max", "unknown_agent", "unknown_phone",
})
POPUP_KEYS = frozenset({"max_age", "stale_event", "lookup", "lookup_ttl", "finglish", "open_browser_for"})

FINGLISH_MODES = (0, 1, 2, 3, 4, 5)
#: requests in flight to one CRM; a PHP site behind one web server gains nothing beyond this
MAX_CONCURRENCY = 64
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


@dataclass(slots=True)
class CrmSettings:
    """Where and how to reach the ParsVT Generic PBX API. ``secretkey`` is kept out of repr()."""

    url: str
    secretkey: str = field(repr=False)
    method: str = "POST"
    timeout: float = 10.0
    verify_tls: bool = True
    ca_bundle: str | None = None
    concurrency: int = 8
    retry_initial: float = 1.0
    retry_max: float = 300.0
    unknown_agent: str = UNKNOWN_AGENT   # sent as agent when no extension took the call
    unknown_phone: str = UNKNOWN_PHONE   # sent as phone when the PBX printed no number

    @classmethod
    def from_section(cls, section: Section) -> CrmSettings:
        section.check_keys(CRM_KEYS)
        url = section.get("url", str).rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            shown = f"{parts.scheme}://{parts.netloc}{parts.path}"  # without a query that may hold the secret
            raise section.error(f"'{_name(section, 'url')}' must be an http:// or https:// URL, "
                                f"not {shown!r}", "url")
        if parts.query or parts.fragment:
            raise section.error(f"'{_name(section, 'url')}' must be the endpoint without ?query "
                                "(the secret goes in 'secretkey')", "url")
        secretkey = _secretkey(section)
        method = section.get("method", str, "POST").upper()
        if method not in ("POST", "GET"):
            raise section.error(f"'{_name(section, 'method')}' must be POST or GET, not {method!r}", "method")
        number = (int, float)
        timeout = section.get("timeout", number, 10.0, minimum=0.1, maximum=600, unit="seconds")
        retry_initial = section.get("retry_initial", number, 1.0, minimum=0.01, maximum=3600, unit="seconds")
        retry_max = section.get("retry_max", number, 300.0, minimum=0.01, maximum=86400, unit="seconds")
        concurrency = section.get("concurrency", int, 8, minimum=1, maximum=MAX_CONCURRENCY)
        if retry_max < retry_initial:
            raise section.error(f"'{_name(section, 'retry_max')}' must not be below retry_initial",
                                "retry_max")
        ca_bundle = section.get("ca_bundle", str, None)
        if ca_bundle is not None and not os.path.isfile(ca_bundle):
            raise section.error(f"'{_name(section, 'ca_bundle')}': no such file: {ca_bundle}", "ca_bundle")
        return cls(
            url=url,
            secretkey=secretkey,
            method=method,
            timeout=float(timeout),
            verify_tls=section.get("verify_tls", bool, True),
            ca_bundle=ca_bundle,
            concurrency=concurrency,
            retry_initial=float(retry_initial),
            retry_max=float(retry_max),
            unknown_agent=section.get("unknown_agent", str, UNKNOWN_AGENT),
            unknown_phone=section.get("unknown_phone", str, UNKNOWN_PHONE),
        )


@dataclass(slots=True)
class PopupSettings:
    """The ringing fast lane: how long a ringing event stays a popup, and the optional local popup."""

    max_age: float = 60.0
    stale_event: str = "in-progress"
    lookup: bool = False
    lookup_ttl: float = 300.0
    finglish: int = 0
    open_browser_for: frozenset[str] = frozenset()

    @classmethod
    def from_section(cls, section: Section) -> PopupSettings:
        section.check_keys(POPUP_KEYS)
        max_age = section.get("max_age", (int, float), 60.0, minimum=0, maximum=3600, unit="seconds")
        lookup_ttl = section.get("lookup_ttl", (int, float), 300.0, minimum=0, maximum=86400, unit="seconds")
        return cls(
            max_age=float(max_age),
            stale_event=section.get("stale_event", str, "in-progress",
                                    choices=tuple(sorted(EVENTS - {RINGING}))),
            lookup=section.get("lookup", bool, False),
            lookup_ttl=float(lookup_ttl),
            finglish=section.get("finglish", int, 0, choices=FINGLISH_MODES),
            open_browser_for=frozenset(section.str_list("open_browser_for", [])),
        )


def _secretkey(section: Section) -> str:
    if "secretkey" in section and "secretkey_env" in section:
        raise section.error(f"set only one of '{_name(section, 'secretkey')}' and 'secretkey_env'",
                            "secretkey_env")
    if "secretkey_env" in section:
        variable = section.written("secretkey_env")
        # Never echo this value: a secret pasted here by mistake would end up on the screen and in logs.
        if not isinstance(variable, str) or not _ENV_NAME.fullmatch(variable):
            raise section.error(f"'{_name(section, 'secretkey_env')}' must be the NAME of an environment "
                                "variable (letters, digits, _); to write the key itself use 'secretkey'",
                                "secretkey_env")
        value = os.environ.get(variable, "")
        if not value:
            raise section.error(f"the environment variable named by '{_name(section, 'secretkey_env')}' "
                                "is not set or empty (set it for the service, or use 'secretkey')",
                                "secretkey_env")
        return value
    if "secretkey" not in section:
        raise section.error(f"'{_name(section, 'secretkey')}' (or secretkey_env) is required", None)
    value = section.written("secretkey")  # as written: an unquoted 0123 stays 0123
    if not isinstance(value, str):
        # Never echo the value: it is the secret.
        raise section.error(f"'{_name(section, 'secretkey')}' must be text, e.g. secretkey: \"...\"",
                            "secretkey")
    if not value:
        raise section.error(f"'{_name(section, 'secretkey')}' must not be empty", "secretkey")
    return value


def _name(section: Section, key: str) -> str:
    return f"{section.prefix}.{key}" if section.prefix else key
