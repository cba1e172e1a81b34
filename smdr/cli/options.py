"""Command-line options shared by several commands (normalization rules, time zone, data directory)."""

from __future__ import annotations

import argparse
import dataclasses
import re
from datetime import date, datetime
from pathlib import Path

from .. import yamlfile
from ..detect_limits import MAX_BYTES, MAX_LINES, MIN_RECORDS
from ..normalize import PhoneRules

DEFAULT_CONFIG = "smdr.yaml"


def data_dir_options() -> argparse.ArgumentParser:
    """A parent parser: ``--data-dir DIR`` or ``--config FILE`` (its data_dir)."""
    where = argparse.ArgumentParser(add_help=False)
    group = where.add_mutually_exclusive_group()
    group.add_argument("--data-dir", metavar="DIR", help="the data directory (holds outbox.sqlite3)")
    group.add_argument("--config", metavar="FILE",
                       help=f"read data_dir from this config file (default: {DEFAULT_CONFIG} if present, "
                            "else ./smdr-data)")
    return where


def config_section(args: argparse.Namespace) -> yamlfile.Section | None:
    """The config file named by ``--config`` (or ./smdr.yaml), read without validating the rest of it."""
    if getattr(args, "data_dir", None):
        return None
    if args.config:
        return yamlfile.load(args.config)
    return yamlfile.load(DEFAULT_CONFIG) if Path(DEFAULT_CONFIG).is_file() else None


def data_dir_from(args: argparse.Namespace) -> Path:
    from ..outbox import resolve_data_dir

    if args.data_dir:
        return Path(args.data_dir)
    section = config_section(args)
    return resolve_data_dir(section) if section is not None else Path("smdr-data")


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


def add_detect_limits(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("detection limits")
    group.add_argument("--detect-bytes", type=int, default=MAX_BYTES, metavar="N",
                       help=f"read at most the first N bytes of the capture (default {MAX_BYTES})")
    group.add_argument("--detect-lines", type=int, default=MAX_LINES, metavar="N",
                       help=f"try at most the first N records (default {MAX_LINES})")
    group.add_argument("--min-records", type=int, default=MIN_RECORDS, metavar="N",
                       help=f"fewer records read than this is 'unknown' (default {MIN_RECORDS})")


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-01-14") from None


def modified_date(path: str) -> date | None:
    try:
        return datetime.fromtimestamp(Path(path).stat().st_mtime).date()
    except OSError:
        return None


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (pick a free one) to 65535."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return int(text)
