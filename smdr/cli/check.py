"""``smdr check --config smdr.yaml``: a line per item, OK or FAIL with the fix; exit 0 only when all are OK."""

from __future__ import annotations

import argparse
import asyncio

from ..sitecheck import run_checks


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check", help="check a site before going live: config, each PBX link, the CRM",
        description="Validate the config, open each source once (port present, login accepted, bytes "
                    "arriving, which layout they fit) and send one read-only request to the CRM (SearchPBX "
                    "of a test number). One line per item, OK or FAIL with the fix. Exit code 0 when all "
                    "are OK, 1 when something failed (for scripts). Stop `smdr run` first: a serial port "
                    "or the PBX's single SMDR login cannot be shared.")
    p.add_argument("--config", "-c", default="smdr.yaml", help="configuration file (default smdr.yaml)")
    p.add_argument("--listen", type=float, default=10.0, metavar="SECONDS",
                   help="how long to wait for bytes from each source (default 10; make a test call meanwhile)")
    p.add_argument("--no-connect", action="store_true", help="only validate the config file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 0 < args.listen <= 3600:
        print("smdr check: --listen must be between 0 and 3600 seconds")
        return 2
    items = asyncio.run(run_checks(args.config, listen_seconds=args.listen, connect=not args.no_connect))
    for item in items:
        print(item.line(), flush=True)
    failed = sum(not item.ok for item in items)
    print(f"\n{len(items) - failed} OK, {failed} FAIL" + ("" if failed else ": ready to go live"))
    return 1 if failed else 0
