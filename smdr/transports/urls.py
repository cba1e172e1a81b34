"""Transport URLs: splitting them, reading their options, and hiding their secrets for display."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ..errors import TransportError

#: Query keys whose values are never shown (compared lower-case; "password" also matches "smdr_password").
SECRET_KEY_WORDS = ("password", "passwd", "pass", "pwd", "secret", "token", "apikey", "api_key", "key", "tenant")
REDACTED = "***"

# ``scheme://...``, or ``scheme:/path`` as urllib.parse.urlunsplit writes ``serial:///dev/x`` back; a scheme
# has two characters at least, so that a Windows drive (``C:/x``) is not taken for one.
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):(//)?")


@dataclass(slots=True)
class TransportUrl:
    """A transport URL split into the parts transports need.

    ``target`` is everything between ``scheme://`` and ``?`` with the userinfo removed and %-escapes
    decoded: ``/dev/ttyUSB0`` for ``serial:///dev/ttyUSB0``, ``COM3`` for ``serial://COM3``,
    ``relative/path`` for ``file://relative/path``, ``C:/x`` for ``file://C:/x``, ``host:2300`` for tcp.
    """

    scheme: str
    target: str
    query: dict[str, str] = field(default_factory=dict)
    username: str | None = None
    password: str | None = None

    def host_port(self, url_for_errors: str) -> tuple[str, int]:
        """``host`` and ``port`` of a ``scheme://host:port`` URL (IPv6 in brackets allowed)."""
        hostport = self.target.rstrip("/")
        match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d+)|([^:/\[\]]+):(\d+)", hostport)
        if not match:
            raise TransportError(f"{redact(url_for_errors)}: expected {self.scheme}://HOST:PORT")
        host = match.group(1) or match.group(3)
        port = int(match.group(2) or match.group(4))
        if not 0 <= port <= 65535:
            raise TransportError(f"{redact(url_for_errors)}: port {port} is out of range 0-65535")
        return host, port


def url_scheme(url: str) -> str:
    """The lower-case scheme of ``url`` ('' when it has none)."""
    match = _SCHEME_RE.match(url)
    return match.group(1).lower() if match else ""


def _after_scheme(url: str) -> tuple[int, bool]:
    """Where the part after ``scheme://`` (or ``scheme:``) starts, and whether ``//`` was there."""
    match = _SCHEME_RE.match(url)
    if not match:
        return 0, False
    return match.end(), bool(match.group(2))


def parse_url(url: str) -> TransportUrl:
    """Split a transport URL; raises TransportError when it has no ``scheme://``."""
    scheme = url_scheme(url)
    if not scheme:
        raise TransportError(
            f"{redact(url)}: not a transport URL (expected scheme://..., e.g. tcp://host:2300)")
    start, has_authority = _after_scheme(url)
    rest, _, _fragment = url[start:].partition("#")
    target, _, query_text = rest.partition("?")
    username = password = None
    netloc, slash, path = target.partition("/")
    if has_authority and "@" in netloc:
        userinfo, _, netloc = netloc.rpartition("@")
        user, has_password, secret = userinfo.partition(":")
        username = unquote(user)
        password = unquote(secret) if has_password else None
        target = netloc + slash + path
    return TransportUrl(scheme=scheme, target=unquote(target), query=parse_query(query_text),
                        username=username, password=password)


def parse_query(query_text: str) -> dict[str, str]:
    """``a=1&b=x`` -> {'a': '1', 'b': 'x'}; a bare ``flag`` is '1'; the last of repeated keys wins."""
    query: dict[str, str] = {}
    for part in query_text.split("&"):
        if not part:
            continue
        key, has_value, value = part.partition("=")
        query[unquote(key.replace("+", " "))] = unquote(value.replace("+", " ")) if has_value else "1"
    return query


def is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in SECRET_KEY_WORDS or any(word in lowered for word in ("password", "secret", "token"))


def redact(url: str) -> str:
    """``url`` with the userinfo password and secret-looking query values replaced by ``***``.

    Only those parts change; everything else stays byte for byte (so ``serial:///dev/x`` stays so).
    """
    start, has_authority = _after_scheme(url)
    body, hash_mark, fragment = url[start:].partition("#")
    target, question, query_text = body.partition("?")
    netloc, slash, path = target.partition("/")
    if has_authority and "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, has_password, _secret = userinfo.partition(":")
        netloc = f"{user}:{REDACTED}@{hostport}" if has_password else netloc
    parts = []
    for part in query_text.split("&") if query_text else []:
        key, has_value, _value = part.partition("=")
        parts.append(f"{key}={REDACTED}" if has_value and is_secret_key(unquote(key)) else part)
    return url[:start] + netloc + slash + path + question + "&".join(parts) + hash_mark + fragment


def without_query_keys(url: str, keys: Iterable[str]) -> str:
    """``url`` with the given query keys removed (the rest of the URL unchanged)."""
    drop = set(keys)
    base, hash_mark, fragment = url.partition("#")
    base, _, query_text = base.partition("?")
    kept = [part for part in query_text.split("&") if part and unquote(part.partition("=")[0]) not in drop]
    return base + ("?" + "&".join(kept) if kept else "") + hash_mark + fragment


def merge_options(url: str, query: Mapping[str, str], overrides: Mapping[str, Any],
                  allowed: Iterable[str]) -> dict[str, Any]:
    """The URL's query options updated by ``overrides``; unknown names are a TransportError."""
    allowed_names = set(allowed)
    merged: dict[str, Any] = dict(query)
    merged.update({key: value for key, value in overrides.items() if value is not None})
    unknown = sorted(set(merged) - allowed_names)
    if unknown:
        raise TransportError(
            f"{redact(url)}: unknown option(s) {', '.join(unknown)}; "
            f"this transport accepts: {', '.join(sorted(allowed_names)) or 'none'}"
        )
    return merged


def option_float(url: str, options: Mapping[str, Any], name: str, default: float | None,
                 *, minimum: float = 0.0) -> float | None:
    value = options.get(name, default)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TransportError(f"{redact(url)}: {name}={value!r} is not a number") from None
    if number < minimum:
        raise TransportError(f"{redact(url)}: {name}={value!r} must be at least {minimum:g}")
    return number


def option_int(url: str, options: Mapping[str, Any], name: str, default: int) -> int:
    value = options.get(name, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise TransportError(f"{redact(url)}: {name}={value!r} is not a whole number") from None


def option_bool(url: str, options: Mapping[str, Any], name: str, default: bool) -> bool:
    value = options.get(name, default)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise TransportError(f"{redact(url)}: {name}={value!r} must be 0/1 (or true/false)")
