"""smdr run: the connector itself, as configured in smdr.yaml."""

from __future__ import annotations

import argparse
import asyncio
import gc

from .. import config, daemon


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the connector: sources -> normalized calls -> CRM (or JSONL)")
    p.add_argument("--config", "-c", default="smdr.yaml", help="configuration file (default smdr.yaml)")
    p.add_argument("--once", action="store_true",
                   help="stop when every source has ended (file replays) and its calls are delivered")
    p.add_argument("--from-start", action="store_true",
                   help="replay file:// captures from their first byte (by default a replay goes on where "
                        "the last run stopped)")
    p.add_argument("--log-file", metavar="FILE",
                   help="log to FILE, rotated at 10 MB (5 kept), instead of the console / journal")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = config.load(args.config)
    gc.freeze()  # what start-up made lives for the whole run: the collector need not walk it again and again
    try:
        return asyncio.run(daemon.run(settings, once=args.once, from_start=args.from_start))
    except KeyboardInterrupt:
        return 130
