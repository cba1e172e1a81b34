"""``smdr record URL -o capture``: save a source's raw bytes and scriptreplay timing, for replay/tests."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from pathlib import Path

from .. import devices
from ..recording import Recorder, RecordingStats, timing_path_for
from ..transports import open_url, parse_url, redact

#: what a Panasonic LAN SMDR port sends before its login: a lone "-" prompt, then nothing
LOGIN_PROMPTS = (b"-",)
COUNTER_EVERY = 5.0  # seconds between counter lines when stderr is not a terminal


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "record", help="capture the raw bytes of a source (with timing) for later replay",
        description="Record the raw bytes of a source URL to a file and its timing to FILE.timing "
                    "(scriptreplay format; replay with file://FILE?pace=timing or `smdr play`). Keeps "
                    "recording across reconnects; stop with Ctrl-C, --duration or --max-bytes.")
    parser.add_argument("url", help="source URL, e.g. serial:///dev/ttyUSB0?baudrate=9600 or tcp://pbx:2300")
    parser.add_argument("-o", "--output", required=True,
                        help="capture file (the timing goes to OUTPUT.timing)")
    parser.add_argument("--device", help="device profile (smdr devices): its port settings and login, "
                                         "e.g. panasonic-kx-tda for the LAN SMDR port's login")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--append", action="store_true", help="add to an existing capture")
    mode.add_argument("--force", action="store_true", help="overwrite an existing capture")
    parser.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this many seconds")
    parser.add_argument("--max-bytes", type=int, metavar="N", help="stop after N bytes")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.max_bytes is not None and args.max_bytes <= 0:
        raise SystemExit("smdr record: --max-bytes must be positive")
    if args.duration is not None and args.duration <= 0:
        raise SystemExit("smdr record: --duration must be positive")
    output = Path(args.output)
    if output.exists() and not (args.append or args.force):
        print(f"smdr record: {output} exists; add --append to add to it or --force to overwrite it",
              file=sys.stderr)
        return 2
    url = devices.find(args.device).apply_to_url(args.url) if args.device else args.url
    transport = open_url(url)
    counter = Counter(url)
    recorder = Recorder(transport, output, duration=args.duration, max_bytes=args.max_bytes,
                        append=args.append, on_chunk=counter.update)
    print(f"recording {redact(url)} to {output}; Ctrl-C stops", file=sys.stderr, flush=True)
    terminated = False

    def on_sigterm(task: asyncio.Task[None]) -> None:
        nonlocal terminated
        terminated = True
        task.cancel()

    async def record() -> None:
        task = asyncio.current_task()
        with contextlib.suppress(NotImplementedError, AttributeError):  # no add_signal_handler on Windows
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, on_sigterm, task)
        try:
            await recorder.run()
        except asyncio.CancelledError:
            if not terminated:
                raise  # Ctrl-C: asyncio.run turns it into KeyboardInterrupt
            recorder.stats.stop_reason = "terminated"
        finally:
            await transport.shutdown()

    try:
        asyncio.run(record())
    except KeyboardInterrupt:
        recorder.stats.stop_reason = "interrupted"
    counter.close()
    print(recorder.stats.summary().replace("(+ .timing)", f"and {timing_path_for(recorder.output)}"))
    if counter.only_prompt() and not counter.hinted:
        print(counter.prompt_hint(), file=sys.stderr)
    return 0


class Counter:
    """A live ``N bytes, M lines`` line on stderr, and the login-prompt hint."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.tty = sys.stderr.isatty()
        self.head = b""
        self.hinted = False
        self._last = 0.0

    def update(self, stats: RecordingStats, data: bytes) -> None:
        if len(self.head) < 64:
            self.head += data[:64]
        now = time.monotonic()
        if now - self._last >= (0.2 if self.tty else COUNTER_EVERY):
            self._last = now
            line = f"{stats.byte_count} bytes, {stats.line_count} lines, last at {time.strftime('%H:%M:%S')}"
            sys.stderr.write(f"\r{line}   " if self.tty else line + "\n")
            sys.stderr.flush()
        if not self.hinted and self.only_prompt():
            self.hinted = True
            sys.stderr.write(("\n" if self.tty else "") + self.prompt_hint() + "\n")
            sys.stderr.flush()

    def only_prompt(self) -> bool:
        return self.head.strip() in LOGIN_PROMPTS and "login" not in parse_url(self.url).query

    def prompt_hint(self) -> str:
        return ("hint: only a login prompt '-' arrived: this port wants the SMDR login (Panasonic LAN port). "
                "Record with --device panasonic-kx-tda (or add ?login=panasonic to the URL).")

    def close(self) -> None:
        if self.tty and self._last:
            sys.stderr.write("\n")
