"""``smdr recordings``: the recording files the connector has taken, matched to a call or not (and why)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from ..recordings.store import MATCHED, RECORDINGS_FILE, UNMATCHED, RecordingStore
from .options import DEFAULT_CONFIG, data_dir_from


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("recordings", help="recording files taken: matched to their call, or unmatched",
                                   description="List the call recordings the connector has taken from the "
                                               "watched folder; unmatched ones with the reason.")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--data-dir", metavar="DIR", help="the data directory (holds recordings.sqlite3)")
    group.add_argument("--config", metavar="FILE", help=f"read data_dir from this config (default {DEFAULT_CONFIG})")
    parser.add_argument("--state", choices=(MATCHED, UNMATCHED), help="only files in this state")
    parser.add_argument("--limit", type=int, default=50, metavar="N", help="at most N files, newest first")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = data_dir_from(args) / RECORDINGS_FILE
    try:
        store = RecordingStore.open(path, create=False)
    except FileNotFoundError:
        print(f"no recordings taken yet ({path} does not exist)", file=sys.stderr)
        return 1
    try:
        counts = store.counts()
        rows = list(store.rows(args.state, args.limit))
    finally:
        store.close()
    if args.json:
        for row in rows:
            print(json.dumps({"path": row.path, "state": row.state, "call_id": row.call_id, "reason": row.reason,
                              "line": row.line, "number": row.number, "time": _when(row.at), "size": row.size},
                             ensure_ascii=False))
        return 0
    print(f"{counts[MATCHED]} matched, {counts[UNMATCHED]} unmatched")
    for row in rows:
        detail = f"call {row.call_id}" if row.state == MATCHED else row.reason or ""
        print(f"{row.state:9}  {_when(row.at) or '-':19}  {row.path}  {detail}")
    return 0


def _when(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M:%S")
