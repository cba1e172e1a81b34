"""``smdr outbox status|list|retry|purge|export``: look into and manage the queue of events for the CRM.

Safe while ``smdr run`` is delivering (SQLite WAL: readers never block the writer). Nothing printed
here can hold the secret key: the outbox never stores it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime

from ..crm.client import redact
from ..datalock import DataDirBusy, DataDirLock, running_connector
from ..model import CallEvent
from ..outbox import QUEUED, STATES, OutboxStore, outbox_path
from ..outbox.store import META_LAST_ERROR, META_LAST_ERROR_AT
from . import outbox_import
from .options import data_dir_from, data_dir_options


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("outbox", help="inspect and manage the queue of events for the CRM",
                                   description="Inspect and manage the durable queue of events for the CRM.")
    where = data_dir_options()
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True,
                                    help="status, list, retry, purge, export or import")

    status = actions.add_parser("status", parents=[where],
                                help="counts by state, oldest queued, pause, last error")
    status.add_argument("--json", action="store_true", help="machine-readable output")

    listing = actions.add_parser("list", parents=[where], help="show events (queued: in delivery order; "
                                                               "other states: newest first)")
    listing.add_argument("--state", choices=STATES, help="only events in this state")
    listing.add_argument("--limit", type=int, default=20, metavar="N", help="at most N events (default 20)")

    retry = actions.add_parser("retry", parents=[where],
                               help="queued events due now and the auth pause lifted; --dead: dead letters "
                                    "back to queued")
    retry.add_argument("--dead", action="store_true", help="move dead letters back to queued")

    purge = actions.add_parser("purge", parents=[where], help="delete settled events")
    for state in STATES:
        purge.add_argument(f"--{state}", action="store_true", help=f"delete {state} events")
    purge.add_argument("--older-than", type=float, metavar="DAYS",
                       help="only events settled (queued: created) more than DAYS days ago")
    purge.add_argument("--force", action="store_true",
                       help="required to delete queued events (they are lost)")

    export = actions.add_parser("export", parents=[where],
                                help="write events as JSON lines (CallEvent fields)")
    export.add_argument("--state", choices=STATES, required=True, help="which events to write")
    export.add_argument("-o", "--output", required=True, metavar="FILE", help="output file, - for stdout")

    outbox_import.register(actions, where)

    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data_dir = data_dir_from(args)
    store = OutboxStore.open(outbox_path(data_dir), create=False)
    try:
        if args.action == "purge" and args.queued:
            # queued events are the running connector's work in progress: never deleted under it
            with DataDirLock(data_dir, "smdr outbox purge"):
                return _purge(store, args)
        if args.action == "status":
            args.connector = running_connector(data_dir)
        return _ACTIONS[args.action](store, args)
    except DataDirBusy as exc:
        print(f"smdr outbox purge: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `smdr outbox list | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    finally:
        store.close()


def _status(store: OutboxStore, args: argparse.Namespace) -> int:
    counts = store.counts()
    oldest = store.oldest_queued_at()
    oldest_age = None if oldest is None else max(0.0, time.time() - oldest)
    last_error = store.get_meta(META_LAST_ERROR)
    last_error_at = store.get_meta(META_LAST_ERROR_AT)
    paused = store.paused_by_auth
    connector = args.connector
    if args.json:
        print(json.dumps({
            "outbox": str(store.path), "counts": counts, "oldest_queued_age": oldest_age,
            "connector": connector,
            "paused_by_auth": paused, "last_error": redact(last_error) if last_error else None,
            "last_error_at": _iso(float(last_error_at)) if last_error_at else None,
        }, ensure_ascii=False))
        return 0
    print(f"outbox       {store.path}")
    for state in STATES:
        extra = f"  (oldest {_age(oldest_age)} ago)" if state == QUEUED and oldest_age is not None else ""
        print(f"{state:<12} {counts[state]}{extra}")
    print(f"delivery     {'PAUSED: the CRM refused the secret key' if paused else 'not paused'}")
    print(f"connector    {_describe_connector(connector)}")
    if last_error:
        when = f"{_iso(float(last_error_at))}  " if last_error_at else ""
        print(f"last error   {when}{redact(last_error)}")
    return 0


def _describe_connector(connector: dict | None) -> str:
    if connector is None:
        return "not running"
    text = f"running, PID {connector.get('pid') or '?'}"
    if connector.get("since"):
        text += f" since {_iso(float(connector['since']))}"
    if connector.get("disk_full"):
        text += f"; DISK FULL: {connector['disk_full']}"
    return text


def _list(store: OutboxStore, args: argparse.Namespace) -> int:
    rows = store.rows(args.state, max(0, args.limit), newest_first=args.state != QUEUED)
    print(f"{'id':>8}  {'state':<10}  {'created':<19}  {'call_id':<20}  {'event':<11}  {'agent':<6}  "
          f"{'phone':<14}  {'tries':>5}  note")
    for row in rows:
        event = CallEvent.from_dict(json.loads(row.payload))
        note = row.last_error or (f"record {row.record_id}" if row.record_id else "")
        if row.sent_event:
            note = f"sent as {row.sent_event}; {note}"
        print(f"{row.id:>8}  {row.state:<10}  {_iso(row.created_at):<19}  {row.call_id:<20}  "
              f"{row.event:<11}  {event.agent or '':<6}  {event.phone or '':<14}  {row.attempts:>5}  "
              f"{redact(note)}")
    return 0


def _retry(store: OutboxStore, args: argparse.Namespace) -> int:
    if args.dead:
        print(f"{store.requeue_dead()} dead letter(s) queued again")
    else:
        print(f"{store.due_now()} queued event(s) due now; auth pause lifted")
    return 0


def _purge(store: OutboxStore, args: argparse.Namespace) -> int:
    states = [state for state in STATES if getattr(args, state)]
    if not states:
        print("smdr outbox purge: say what to delete: --delivered, --superseded, --dead or --queued --force",
              file=sys.stderr)
        return 2
    if QUEUED in states and not args.force:
        print("smdr outbox purge: queued events have not reached the CRM; add --force to delete them",
              file=sys.stderr)
        return 2
    cutoff = None if args.older_than is None else time.time() - args.older_than * 86400
    print(f"{store.purge(states, cutoff)} event(s) deleted")
    return 0


def _export(store: OutboxStore, args: argparse.Namespace) -> int:
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
    count = 0
    try:
        for payload in store.iter_payloads(args.state):
            event = CallEvent.from_dict(json.loads(payload))
            out.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    finally:
        if out is not sys.stdout:
            out.close()
    if args.output != "-":
        print(f"{count} {args.state} event(s) written to {args.output}")
    return 0


_ACTIONS = {"status": _status, "list": _list, "retry": _retry, "purge": _purge, "export": _export,
            "import": outbox_import.run}


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).isoformat(sep=" ", timespec="seconds")


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60}s"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"
