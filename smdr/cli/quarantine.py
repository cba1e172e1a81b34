"""``smdr quarantine status|purge``: the records no layout could parse, kept raw, and their rotated files.

Rotated files are only ever deleted here, by the technician: the connector keeps every one.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

from ..quarantine import QUARANTINE_FILE, rotated_files
from .options import config_section, data_dir_from, data_dir_options


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("quarantine", help="records no layout could parse: their files, purge",
                                   description="The quarantine: raw records no layout could parse.")
    where = data_dir_options()
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True, help="status or purge")
    actions.add_parser("status", parents=[where], help="the quarantine files, their sizes and dates")
    purge = actions.add_parser("purge", parents=[where],
                               help="delete rotated quarantine files (never the current one)")
    purge.add_argument("--older-than", type=float, metavar="DAYS", required=True,
                       help="only files rotated more than DAYS days ago (0: every rotated file)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = quarantine_path(args)
    files = rotated_files(path)
    if args.action == "status":
        print(f"quarantine   {path}  ({_size(path)})")
        for rotated in files:
            print(f"rotated      {rotated.name}  {_size(rotated)}  {_date(rotated)}")
        if not files:
            print("rotated      none")
        return 0
    cutoff = time.time() - args.older_than * 86400
    removed = 0
    for rotated in files:
        try:
            if rotated.stat().st_mtime < cutoff:
                rotated.unlink()
                removed += 1
                print(f"deleted {rotated}")
        except OSError as exc:
            print(f"smdr quarantine purge: cannot delete {rotated}: {exc.strerror or exc}", file=sys.stderr)
    print(f"{removed} rotated quarantine file(s) deleted; {len(files) - removed} kept")
    return 0


def quarantine_path(args: argparse.Namespace) -> Path:
    """The quarantine file as `smdr run` writes it: the config's ``quarantine:`` or data_dir/quarantine.jsonl."""
    section = config_section(args)
    if section is not None and "quarantine" in section:
        return Path(section.path).resolve().parent / section.get("quarantine")
    return data_dir_from(args) / QUARANTINE_FILE


def _size(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError:
        return "absent"
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size} bytes"


def _date(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime).isoformat(sep=" ", timespec="seconds")
