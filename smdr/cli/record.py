"""``smdr record URL -o capture``: save a source's raw bytes and scriptreplay timing, for replay/tests."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from ..recording import Recorder, timing_path_for
from ..transports import open_url


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "record", help="capture the raw bytes of a source (with timing) for later replay",
        description="Record the raw bytes of a source URL to a file and its timing to FILE.timing "
                    "(scriptreplay format; replay with file://FILE?pace=timing). Keeps recording across "
                    "reconnects; stop with Ctrl-C, --duration or --max-bytes.")
    parser.add_argument("url", help="source URL, e.g. serial:///dev/ttyUSB0?baudrate=9600 or tcp://pbx:2300")
    parser.add_argument("-o", "--output", required=True,
                        help="capture file (the timing goes to OUTPUT.timing)")
    parser.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this many seconds")
    parser.add_argument("--max-bytes", type=int, metavar="N", help="stop after N bytes")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.max_bytes is not None and args.max_bytes <= 0:
        raise SystemExit("smdr record: --max-bytes must be positive")
    if args.duration is not None and args.duration <= 0:
        raise SystemExit("smdr record: --duration must be positive")
    transport = open_url(args.url)
    recorder = Recorder(transport, args.output, duration=args.duration, max_bytes=args.max_bytes)
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
    print(recorder.stats.summary().replace("(+ .timing)", f"and {timing_path_for(recorder.output)}"))
    return 0
