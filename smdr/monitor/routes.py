"""GET /status (the page), /status.json (``smdr status`` reads it) and /metrics (Prometheus text format)
on the connector's HTTP server. From this PC (loopback) they need no token; from anywhere else the
``http.token``."""

from __future__ import annotations

import ipaddress
from typing import Any

from .. import __version__
from ..config import Settings
from ..crm.client import redact
from ..httpd import HttpSettings, Request, Response, Router, error_response, json_response
from ..outbox.store import META_LAST_ERROR, META_LAST_ERROR_AT
from ..quarantine import Quarantine
from ..transports import redact as redact_url
from .page import STATUS_PAGE
from .state import LINK_UP, OutboxView, SiteStatus, SourceStatus

METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def site_status(settings: Settings, quarantine: Quarantine, sink: object) -> SiteStatus:
    sources = [SourceStatus(spec.name, redact_url(spec.url), spec.layout, spec.silent_after, spec.clock_tolerance)
               for spec in settings.sources]
    store = getattr(sink, "store", None)  # the CRM outbox; a JSONL sink has none
    outbox = None
    if store is not None:
        def last_error() -> tuple[str | None, float | None]:
            text, at = store.get_meta(META_LAST_ERROR), store.get_meta(META_LAST_ERROR_AT)
            return (redact(text) if text else None), (float(at) if at else None)

        outbox = OutboxView(store.counts, store.oldest_queued_at, last_error, lambda: store.paused_by_auth)
    return SiteStatus(__version__, sources, lambda: quarantine.counts, outbox)


def add_routes(router: Router, status: SiteStatus, http: HttpSettings) -> None:
    def guarded(handler):
        async def serve(request: Request) -> Response:
            if not _allowed(request, http.token):
                return error_response(403, "from another PC the status needs the http.token "
                                           "(?token=... or Authorization: Bearer ...)")
            return handler()
        return serve

    router.add("GET", "/status", guarded(lambda: Response(200, STATUS_PAGE.encode("utf-8"),
                                                          "text/html; charset=utf-8")), auth=False)
    router.add("GET", "/status.json", guarded(lambda: json_response(status.snapshot())), auth=False)
    router.add("GET", "/metrics", guarded(lambda: Response(200, metrics(status.snapshot()).encode("utf-8"),
                                                           METRICS_TYPE)), auth=False)


def _allowed(request: Request, token: str) -> bool:
    host = request.peer.rsplit(":", 1)[0].strip("[]")
    try:
        if ipaddress.ip_address(host).is_loopback:
            return True
    except ValueError:
        pass
    return request.carries_token(token)


def metrics(snapshot: dict[str, Any]) -> str:
    """The snapshot in the Prometheus text exposition format."""
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[dict[str, str], float | None]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            if value is None:
                continue
            label_text = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
            number = str(int(value)) if float(value).is_integer() else repr(float(value))
            lines.append(f"{name}{{{label_text}}} {number}" if label_text else f"{name} {number}")

    sources = snapshot["sources"]
    metric("smdr_info", "gauge", "the running smdr's version", [({"version": snapshot["version"]}, 1)])
    metric("smdr_uptime_seconds", "gauge", "seconds since the connector started", [({}, snapshot["uptime"])])
    per = lambda key: [({"source": s["name"]}, s[key]) for s in sources]  # noqa: E731
    metric("smdr_source_link_up", "gauge", "1 while the PBX link is connected",
           [({"source": s["name"]}, 1 if s["link"] == LINK_UP else 0) for s in sources])
    metric("smdr_source_bytes_total", "counter", "bytes received from the PBX", per("bytes"))
    metric("smdr_source_records_total", "counter", "records framed (calls, headers, quarantined)", per("records"))
    metric("smdr_source_events_total", "counter", "call events made from the records", per("events"))
    metric("smdr_source_last_record_timestamp_seconds", "gauge", "unix time of the last record", per("last_record_at"))
    metric("smdr_source_silent", "gauge", "1 when the source has been silent longer than silent_minutes",
           [({"source": s["name"]}, int(s["silent"])) for s in sources])
    metric("smdr_source_clock_offset_seconds", "gauge", "PBX printed time minus received time, last record",
           per("clock_offset"))
    metric("smdr_source_clock_wrong", "gauge", "1 when the PBX clock is off by more than the tolerance",
           [({"source": s["name"]}, int(s["clock_wrong"])) for s in sources])
    metric("smdr_quarantined_total", "counter", "records kept in quarantine, by kind",
           [({"kind": kind}, count) for kind, count in sorted(snapshot["quarantined"].items())])
    outbox = snapshot.get("outbox")
    if outbox:
        metric("smdr_outbox_events", "gauge", "outbox events by state",
               [({"state": state}, count) for state, count in sorted(outbox["counts"].items())])
        metric("smdr_outbox_oldest_queued_age_seconds", "gauge", "age of the oldest queued event",
               [({}, outbox["oldest_queued_age"] or 0)])
        metric("smdr_crm_paused", "gauge", "1 while delivery is paused by a refused secret key",
               [({}, int(outbox["paused_by_auth"]))])
        metric("smdr_crm_last_error_timestamp_seconds", "gauge", "unix time of the CRM's last error",
               [({}, outbox["last_error_at"])])
    return "\n".join(lines) + "\n"


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
