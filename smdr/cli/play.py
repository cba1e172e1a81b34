"""``smdr play CAPTURE URL``: replay a capture into a serial port or as a (Panasonic) TCP server."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from ..playback import LOGINS, play, replay_url
from ..transports import open_url, redact
from ..transports.login import PANASONIC_DEFAULT_PASSWORD, PANASONIC_DEFAULT_USER


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "play", help="replay a capture into a serial port or as a TCP server, to test the whole chain",
        description="Send a capture (smdr record) to URL as the PBX would: serial:///dev/ttyUSB1 (one end of "
                    "a null-modem cable to the connector's port), tcp-listen://0.0.0.0:2300 (a TCP server the "
                    "connector connects to; --login panasonic for the LAN SMDR port's login) or "
                    "tcp://HOST:PORT (a connector listening with tcp-listen://).")
    parser.add_argument("capture", help="capture file (its .timing file sets the pace when present)")
    parser.add_argument("url", help="where to send it: serial://..., tcp-listen://HOST:PORT or tcp://HOST:PORT")
    parser.add_argument("--pace", choices=("timing", "baud", "flat"),
                        help="timing: as recorded (default when CAPTURE.timing exists); baud: at the wire "
                             "speed of --baudrate (the default otherwise); flat: as fast as possible")
    parser.add_argument("--baudrate", type=int, default=9600, help="wire speed for --pace baud (default 9600)")
    parser.add_argument("--speed", type=float, default=1.0, help="--pace timing sped up by this factor")
    parser.add_argument("--login", choices=LOGINS, default="none",
                        help="the login a TCP server asks for first (panasonic: '-', SMDR, Enter Password:)")
    parser.add_argument("--user", default=PANASONIC_DEFAULT_USER, help="the login's user (default SMDR)")
    parser.add_argument("--password", default=PANASONIC_DEFAULT_PASSWORD,
                        help="the login's password (default the factory PCCSMDR)")
    parser.add_argument("--connections", type=int, default=1, metavar="N",
                        help="serve the capture to N connections, one after the other (default 1)")
    parser.add_argument("--hold", action="store_true",
                        help="stay connected after the capture, like an idle PBX, until the other end leaves")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.baudrate <= 0 or args.speed <= 0 or args.connections <= 0:
        print("smdr play: --baudrate, --speed and --connections must be above zero", file=sys.stderr)
        return 2
    source = replay_url(Path(args.capture), args.pace, args.baudrate, args.speed)
    target = open_url(args.url)
    print(f"playing {args.capture} into {redact(args.url)}"
          + (f" (login {args.login})" if args.login != "none" else ""), file=sys.stderr, flush=True)

    async def main() -> int:
        try:
            stats = await play(source, target, login=args.login, user=args.user, password=args.password,
                               connections=args.connections, hold=args.hold)
        finally:
            await target.shutdown()
        refused = f", {stats.refused_logins} wrong password(s)" if stats.refused_logins else ""
        print(f"sent {stats.byte_count} bytes over {stats.connections} connection(s){refused}")
        return 0

    return asyncio.run(main())
