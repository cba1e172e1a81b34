"""``smdr status``: what the running connector says about itself (its /status.json on the http: server)."""

from __future__ import annotations

import argparse
import json
import time

import httpx

from .. import config
from ..monitor.state import span


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "status", help="ask the running connector how its PBX links and CRM delivery are",
        description="Read the running `smdr run`'s status from its HTTP server (the config's http: section): "
                    "each PBX link, its last record, the PBX clock, the outbox and the CRM's last error. Exit "
                    "code 0 when all is well, 1 when something needs a look, 2 when the connector does not "
                    "answer.")
    p.add_argument("--config", "-c", default="smdr.yaml", help="configuration file (default smdr.yaml)")
    p.add_argument("--json", action="store_true", help="print the connector's status JSON as it is")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = config.load(args.config)
    if settings.http is None:
        print(f"smdr status: {args.config} has no http: section, so the connector serves no status; add\n"
              "  http: {bind: 127.0.0.1, port: 8470}\nand restart it")
        return 2
    host = "127.0.0.1" if settings.http.bind in ("", "0.0.0.0", "::") else settings.http.bind
    url = f"http://{host}:{settings.http.port}/status.json"
    headers = {"Authorization": f"Bearer {settings.http.token}"} if settings.http.token else {}
    try:
        answer = httpx.get(url, headers=headers, timeout=5)
        data = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        print(f"smdr status: the connector does not answer at {url} ({type(exc).__name__}): is `smdr run` "
              "running with this config?")
        return 2
    if answer.status_code != 200:
        print(f"smdr status: {url} answered {answer.status_code}: {data.get('error', {}).get('message', '')}")
        return 2
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 1 if data["problems"] else 0
    _print(data)
    return 1 if data["problems"] else 0


def _print(data: dict) -> None:
    now = data["now"]
    print(f"smdr {data['version']}, running for {span(data['uptime'])}")
    for source in data["sources"]:
        last = f"last record {span(now - source['last_record_at'])} ago" if source["last_record_at"] else \
            "no record yet"
        clock = ""
        if source["clock_offset"] is not None:
            clock = f", PBX clock {'WRONG ' if source['clock_wrong'] else ''}" + (
                f"{span(abs(source['clock_offset']))} {'ahead' if source['clock_offset'] > 0 else 'behind'}"
                if abs(source["clock_offset"]) >= 90 else "right")
        print(f"  {source['name']:<14} link {source['link']:<10} {last}, {source['records']} records, "
              f"{source['events']} events{clock}{' SILENT' if source['silent'] else ''}")
    outbox = data.get("outbox")
    if outbox:
        counts = outbox["counts"]
        oldest = f" (oldest {span(outbox['oldest_queued_age'])})" if outbox["oldest_queued_age"] else ""
        paused = "; PAUSED: the CRM refused the secret" if outbox["paused_by_auth"] else ""
        print(f"  outbox: {counts.get('queued', 0)} queued{oldest}, {counts.get('delivered', 0)} delivered, "
              f"{counts.get('dead', 0)} dead letters{paused}")
        if outbox["last_error"]:
            when = time.strftime("%H:%M:%S", time.localtime(outbox["last_error_at"])) if outbox["last_error_at"] else ""
            print(f"  last CRM error {when}: {outbox['last_error']}")
    quarantined = sum(data["quarantined"].values())
    if quarantined:
        print(f"  quarantined: {quarantined} record(s) {data['quarantined']}")
    print("all well" if not data["problems"] else "needs a look:\n" + "\n".join(f"  - {p}" for p in data["problems"]))

