"""``smdr demo``: the README's main job on the bundled capture, in Python (so it runs on Windows too)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..demo import run_demo


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="replay a recorded Panasonic stream through the connector into a local CRM simulator",
        description="Start the CRM simulator, replay the bundled Panasonic KX-TDA capture at 9600 baud "
                    "through the connector into it, and show the popups, the calls the CRM received and the "
                    "records kept in quarantine. Works from an installed smdr, no checkout needed.")
    p.add_argument("--dir", default=".demo", help="folder for the demo's config, log, outbox (default .demo)")
    p.add_argument("--fast", action="store_true", help="replay as fast as possible instead of at 9600 baud")
    p.add_argument("--keep", action="store_true", help="keep the simulator running afterwards (Ctrl-C stops)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")  # Persian names on a non-UTF-8 console

    def say(line: str) -> None:
        print(line, flush=True)

    return run_demo(Path(args.dir), fast=args.fast, keep=args.keep, say=say)
