"""Command-line options shared by several commands (normalization rules, time zone)."""

from __future__ import annotations

import argparse
import dataclasses
import re

from ..normalize import PhoneRules


def add_normalization(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("normalization (override the config file)")
    group.add_argument("--tz", help="IANA time zone of the PBX clock (default Asia/Tehran)")
    group.add_argument("--area-code", help="area code prepended to local numbers, e.g. 21 for Tehran")
    group.add_argument("--local-lengths", help="comma-separated lengths of local numbers, e.g. 8")
    group.add_argument("--strip-prefix", action="append", default=None,
                       help="trunk-access digits printed before dialled numbers (repeatable)")
    group.add_argument("--extension-pattern", help="regex for extension numbers (outbound -> internal)")
    group.add_argument("--country-code", help="home country code (default 98)")


def phone_rules(args: argparse.Namespace, base: PhoneRules) -> PhoneRules:
    """``base`` with what the command line sets on top (every other rule as in ``base``)."""
    changes: dict = {}
    if args.country_code:
        changes["country_code"] = args.country_code.lstrip("+")
    if args.area_code is not None:
        changes["area_code"] = args.area_code
    if args.local_lengths:
        changes["local_lengths"] = tuple(int(n) for n in args.local_lengths.split(",") if n)
    if args.strip_prefix:
        changes["strip_prefixes"] = tuple(args.strip_prefix)
    if args.extension_pattern:
        changes["extension_pattern"] = re.compile(args.extension_pattern)
    return dataclasses.replace(base, **changes)


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (pick a free one) to 65535."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return int(text)
