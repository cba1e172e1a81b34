"""The ``smdr`` command: one subcommand per module in smdr.cli, each with register() and run()."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from ..errors import SmdrError

# Each module defines register(subparsers) adding its parser with set_defaults(func=run);
# run(args) returns the exit code.
COMMANDS = ("parse", "run", "detect", "record", "ports", "devices", "layouts", "outbox", "quarantine", "recordings",
            "crm_sim")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smdr", description="PBX SMDR/CDR and caller-ID connector for the CRM")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"smdr.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"smdr.cli.{name}":
                raise
            continue  # command not built yet
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2) if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx logs every request URL at INFO; a GET request's URL carries the CRM secret.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except SmdrError as exc:
        print(f"smdr: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
