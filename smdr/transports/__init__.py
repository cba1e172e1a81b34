"""Byte sources from a PBX, chosen by URL scheme: ``open_url("tcp://pbx:2300?login=panasonic")``.

Classes are found through the ``smdr.transports`` entry-point group (so plugins can add schemes), with a
built-in table of the same names so that a bare checkout (no installed metadata) works too.
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points
from typing import Any

from ..errors import TransportError
from .base import LINK_LOST, Backoff, Transport, read_stream
from .urls import TransportUrl, merge_options, parse_url, redact, url_scheme

__all__ = [
    "LINK_LOST", "Backoff", "Transport", "TransportUrl", "known_schemes", "merge_options", "open_url",
    "parse_url", "read_stream", "redact", "transport_class",
]

log = logging.getLogger("smdr.transport")

ENTRY_POINT_GROUP = "smdr.transports"

#: The same names as pyproject.toml's entry points, used when the package metadata is not installed.
BUILTIN_TRANSPORTS: dict[str, str] = {
    "serial": "smdr.transports.serial:SerialTransport",
    "socket": "smdr.transports.serial:SerialTransport",
    "rfc2217": "smdr.transports.serial:SerialTransport",
    "tcp": "smdr.transports.tcp:TcpClientTransport",
    "tcp-listen": "smdr.transports.tcp:TcpListenTransport",
    "file": "smdr.transports.file:FileReplayTransport",
    "tapi": "smdr.transports.tapi:TapiTransport",
    "gis": "smdr.transports.gis:GisTransport",
    "udp": "smdr.transports.udp:UdpTransport",
}


def _entry_point_targets() -> dict[str, str]:
    try:
        return {ep.name.lower(): ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    except Exception as exc:  # noqa: BLE001 - broken metadata must not hide the built-in transports
        log.debug("cannot read entry points %s: %s", ENTRY_POINT_GROUP, exc)
        return {}


def known_schemes() -> list[str]:
    return sorted(set(BUILTIN_TRANSPORTS) | set(_entry_point_targets()))


def _load(target: str) -> type[Transport]:
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    cls = getattr(module, attribute)
    if not (isinstance(cls, type) and issubclass(cls, Transport)):
        raise TransportError(f"{target} is not a Transport class")
    return cls


def transport_class(scheme: str) -> type[Transport]:
    """The Transport class for a URL scheme; TransportError naming the known schemes if there is none."""
    scheme = scheme.lower()
    targets = _entry_point_targets()
    target = targets.get(scheme) or BUILTIN_TRANSPORTS.get(scheme)
    if target is None:
        raise TransportError(
            f"unknown transport scheme {scheme + '://' if scheme else '(none)'}; "
            f"known schemes: {', '.join(s + '://' for s in known_schemes())}"
        )
    try:
        return _load(target)
    except (ImportError, AttributeError) as exc:
        fallback = BUILTIN_TRANSPORTS.get(scheme)
        if fallback and fallback != target:
            log.warning("transport entry point %s=%s cannot be loaded (%s); using %s",
                        scheme, target, exc, fallback)
            return _load(fallback)
        raise TransportError(f"transport {scheme}:// ({target}) cannot be loaded: {exc}") from exc


def open_url(url: str, **overrides: Any) -> Transport:
    """A (not yet opened) Transport for ``url``; ``overrides`` replace the URL's query options.

    Call ``await transport.open()`` (or iterate ``read_stream(transport)``) to connect.
    """
    scheme = url_scheme(url)
    if not scheme:
        raise TransportError(f"{redact(url)}: not a transport URL (no scheme); "
                             f"known schemes: {', '.join(s + '://' for s in known_schemes())}")
    return transport_class(scheme)(url, **overrides)
