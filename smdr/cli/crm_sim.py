"""``smdr crm-sim``: run the ParsVT Generic PBX simulator (for site tests, the test suite, benchmarks)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from ..crmsim import CrmSimServer, SimOptions
from ..crmsim.contacts import load_contacts
from ..crmsim.faults import FaultSettings
from ..errors import ConfigError
from .options import port_number


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "crm-sim", help="run a local ParsVT Generic PBX API simulator",
        description="Serve the ParsVT 'Generic PBX' API (ProcessCDR, SearchPBX, Lookup) on a local "
                    "port, with a live page of calls and popups at / and optional fault injection.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=port_number, default=8089,
                        help="port; 0 picks a free one (default: %(default)s)")
    parser.add_argument("--secret", default="smdr-sim-secret", help="the secretkey every request must carry")
    parser.add_argument("--db", default=":memory:", metavar="PATH",
                        help="SQLite file keeping calls across restarts (default: in memory)")
    parser.add_argument("--contacts", metavar="FILE",
                        help="contacts for SearchPBX/popups, YAML or CSV (name, phone, mobile, "
                             "businessphone, email, company, module); default: a few built-in samples")
    faults = parser.add_argument_group("fault injection (also live: POST /_sim/faults with a JSON body)")
    faults.add_argument("--latency-ms", type=float, default=0.0, metavar="N",
                        help="delay every answer by N ms")
    faults.add_argument("--error-rate", type=float, default=0.0, metavar="F",
                        help="share (0..1) of requests answered 500")
    faults.add_argument("--down-for", type=float, default=0.0, metavar="S",
                        help="refuse connections for S seconds from the start")
    faults.add_argument("--reject-secret", action="store_true",
                        help="answer every request with the AUTH error")
    faults.add_argument("--html-errors", action="store_true",
                        help="5xx bodies are HTML pages instead of JSON")
    faults.add_argument("--auth-failure-status", type=int, default=401, metavar="CODE",
                        help="HTTP status of the AUTH error (some installs use 200; default: %(default)s)")
    faults.add_argument("--seed", type=int, default=None, help="seed of the random fault draws")
    parser.add_argument("--quiet", action="store_true", help="print only the first (listening) line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = FaultSettings(latency_ms=args.latency_ms, error_rate=args.error_rate,
                             reject_secret=args.reject_secret, html_errors=args.html_errors,
                             auth_failure_status=args.auth_failure_status)
    try:
        settings.check()
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    options = SimOptions(host=args.host, port=args.port, secret=args.secret, db=args.db,
                         contacts=load_contacts(args.contacts) if args.contacts else None,
                         faults=settings, down_for=max(0.0, args.down_for), seed=args.seed)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")  # Persian names on a non-UTF-8 console
    print_lock = threading.Lock()

    def say(line: str) -> None:
        with print_lock:
            print(line, flush=True)

    # the handlers go in before the "listening" line: whoever reads it may stop us at once
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda signum, frame: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    sim = CrmSimServer(options, log=None if args.quiet else say)
    try:
        sim.start()
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    say(f"crm-sim listening on {sim.root_url} (endpoint {sim.endpoint_url})")
    if not args.quiet:
        # A test tool: the technician needs the key it expects to put into smdr.yaml (crm.secretkey).
        say(f"secret key it expects: {args.secret}  (crm.secretkey in smdr.yaml; --secret changes it)")
        say(f"live page {sim.root_url}  calls JSON {sim.root_url}calls  stats {sim.root_url}stats  "
            f"(db {args.db})")
        if options.down_for:
            say(f"down for the first {options.down_for:g} s (connections refused)")

    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sim.close()
    if not args.quiet:
        say("crm-sim stopped")
    return 0
