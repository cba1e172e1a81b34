"""The ``smdr`` command: one subcommand per module in smdr.cli, each with register() and run()."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from .. import __version__
from ..errors import SmdrError
from .commands import COMMANDS, named_in

# Each module defines register(subparsers) adding its parser with set_defaults(func=run);
# run(args) returns the exit code.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def build_parser(only: str | None = "") -> argparse.ArgumentParser:
    """The whole command line (``only=""``), or with only the command ``only`` in full (None: none) and
    the others by name and help line: start-up then imports one command's module, not all of them."""
    parser = argparse.ArgumentParser(
        prog="smdr", description="PBX SMDR/CDR and caller-ID connector for the CRM",
        epilog="`smdr COMMAND --help` tells more about each command. -v and -q work before or after it.")
    parser.add_argument("--version", action="version", version=f"smdr {__version__}")
    _add_verbosity(parser, 0)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_line) in COMMANDS.items():
        if only == "" or name == only:
            importlib.import_module(f"smdr.cli.{module_name}").register(sub)
        else:
            sub.add_parser(name, help=help_line)
    for command in _subparsers(parser):
        _add_verbosity(command, argparse.SUPPRESS)
    _describe_from_help(parser)
    return parser


def _describe_from_help(parser: argparse.ArgumentParser) -> None:
    """``smdr X --help`` always says what X does: its one-line help where it has no description of its own."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                command = action.choices[choice.dest]
                if not command.description and choice.help:
                    command.description = choice.help[0].upper() + choice.help[1:] + "."
                _describe_from_help(command)


def _add_verbosity(parser: argparse.ArgumentParser, default: object) -> None:
    """``-v``/``-q`` on the top parser and on every subcommand (``smdr run -v`` as well as ``smdr -v run``);
    on a subcommand they default to SUPPRESS so that they do not reset what was given before the verb."""
    parser.add_argument("-v", "--verbose", action="count", default=default,
                        help="more log output (-v: debug)")
    parser.add_argument("-q", "--quiet-log", action="count", default=default, dest="quieter",
                        help="less log output (-q: warnings and errors only, -qq: errors only)")


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in dict.fromkeys(action.choices.values()):
                found.append(command)
                found.extend(_subparsers(command))
    return found


def log_level(args: argparse.Namespace) -> int:
    steps = getattr(args, "verbose", 0) - getattr(args, "quieter", 0)
    return max(logging.DEBUG, min(logging.ERROR, logging.INFO - 10 * steps))


def setup_logging(args: argparse.Namespace) -> None:
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    log_file = getattr(args, "log_file", None)
    if log_file:
        from .logfile import rotating_handler

        handler = rotating_handler(log_file)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(log_level(args))
    # httpx logs every request URL at INFO; a GET request's URL carries the CRM secret.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(only=named_in(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        setup_logging(args)
        return int(args.func(args) or 0)
    except SmdrError as exc:
        print(f"smdr: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `smdr parse ... | head`: the reader has what it wanted
        _silence_stdout()
        return 0
    except OSError as exc:
        print(f"smdr: error: {describe_os_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def describe_os_error(exc: OSError) -> str:
    """One line for a file or port the system refused: which one, why, and what to do."""
    where = exc.filename if exc.filename is not None else ""
    reason = exc.strerror or str(exc)
    hint = {
        FileNotFoundError: "check the path (relative paths start from the current folder)",
        IsADirectoryError: "give a file, not a folder",
        NotADirectoryError: "a part of the path is a file, not a folder",
        PermissionError: "choose a place this user may write to, or fix its permissions",
    }.get(type(exc))
    if exc.errno == 30:  # EROFS
        hint = "the disk is mounted read-only: choose another place"
    if exc.errno == 28:  # ENOSPC
        hint = "free some disk space"
    text = f"{where}: {reason}" if where else reason
    return f"{text}; {hint}" if hint else text


def _silence_stdout() -> None:
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
