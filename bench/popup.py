"""Popup latency benchmark: a ringing record on the serial line -> its ProcessCDR at the CRM.

    python bench/popup.py [-n 1000] [--pause-ms 20-50] [--backlog 2000] [--backlog-popups 300] [--tapi-popups 300]
                          [--burst 100000] [--burst-popups 300] [--burst-rounds 3]
                          [--arrangement together|apart|floor] [--burst-sink crm|jsonl]

Starts the CRM simulator (``smdr crm-sim``), a socat pseudo-terminal pair standing in for the PBX's
serial cable, and the connector (``smdr run``) reading the far end as ``serial://<pty>?baudrate=9600``.
Then it writes Panasonic KX-TDA ``RC`` records (printed while a call rings; each with its own caller
number) into the near end one at a time, with a pause between them, and for each takes the time from
just before its ``write()`` (the clock read after it could be late: bench/popup_rig.py Bench.write) to
the arrival of its ``ringing`` request at crm-sim (crm-sim stores ``time.time()`` when it has read each request; all
processes run on this machine, so one clock serves both ends).

Phase 1: an idle connector. Phase 2: first 2,000 answered CDRs are written in one burst (as a PBX dumps
its buffer when the link comes back), and while the connector is still delivering them to a slower CRM
(crm-sim latency ``--backlog-latency-ms``) more ringing records follow: the popups must not queue
behind the backlog. Only the popups that reached crm-sim before the last backlog event did are counted
as "during the backlog".

Phase 4 (``--burst``): a second source of the same connector (``tcp-listen://``) receives 100,000
answered CDRs in one TCP stream (a PBX dumping its buffer after a link outage) while ringing records
go on arriving on the serial source, ``--burst-rounds`` times (one burst lasts a few seconds, about 100
popups, so its p99 is its slowest popup; from the second round on, the earlier rounds' records are being
delivered to crm-sim meanwhile, which the first round does not measure). Counted "during the burst": popups
written from the burst's first byte until the burst's smdr run has stored all of its events (outbox or
file); the rounds' popups are reported together too. Its ratio is against phase 1 (same run).

``--arrangement`` says where the burst's source runs: ``together`` (the default), in the same ``smdr
run`` as the popups' source, as above; ``apart``, in a second ``smdr run`` with its own config and data
folder (both deliver to the same crm-sim): what the popups gain when a burst does not share their
interpreter; ``floor``, the popups through bench/popup_floor.py (pty -> one keep-alive httpx POST, no
engine, no journal, no outbox) and the burst in ``smdr run``: the least any connector can take on this
machine under the same load. ``floor`` has phases 1 and 4 only. With ``--burst-sink jsonl`` (apart or
floor) the burst's ``smdr run`` writes its events to a file instead of delivering them to crm-sim, which
then takes only the popups: what crm-sim taking the burst's call records on the same cores costs.

Each figure is also split where the connector's outbox accepted the ringing event (its ``created_at``,
taken right after the popup's request was started; bench/popup_figures.py): the PBX end -> accepted
(pty, read, parse, journal) and accepted -> at crm-sim (the request's turns on the loop, httpx, crm-sim).
The two are percentiles of their own, so they do not add up to the whole.

A pseudo-terminal moves bytes at memory speed whatever baud rate is set; a real 9600 baud line would
add the record's wire time (printed for reference) before its last byte is in, which the figures here
do not include because they start at its first write. Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from popup_figures import latencies, percentile, report, split_at_outbox
from popup_rig import (
    ARRANGEMENTS,
    BAUD,
    BITS_PER_BYTE,
    BURST_SINKS,
    ENDPOINT_PATH,
    RECORD_BYTES,
    ROOT,
    SECRET,
    SETTLE_TIMEOUT,
    START_TIMEOUT,
    Bench,
    backlog_records,
    ringing_record,
)

# --- measuring -------------------------------------------------------------------------------------

def outbox_split(bench: Bench, written: dict[str, float], total_ms: dict[str, float]
                 ) -> tuple[list[float], list[float]] | None:
    """The popups' times split where smdr's outbox accepted them; None through the floor (no outbox)."""
    return split_at_outbox(bench.workdir, written, total_ms) if bench.popups_have_outbox else None


def write_popups(bench: Bench, count: int, first_index: int, pause: tuple[float, float],
                 rng: random.Random, until: threading.Event | None = None) -> dict[str, float]:
    """Write at most ``count`` ringing records one at a time, fewer if ``until`` is set meanwhile;
    {caller number: time just before its write}."""
    written: dict[str, float] = {}
    for index in range(first_index, first_index + count):
        if until is not None and until.is_set():
            break
        record, phone = ringing_record(index, datetime.now())
        written[phone] = bench.write(record)
        time.sleep(rng.uniform(*pause))
    return written


def tapi_phase(bench: Bench, workdir: Path, count: int, pause: tuple[float, float], rng: random.Random,
               serial_p50: float) -> None:
    """Phase 3: the same popups from CTI (see bench/popup_tapi.py); ratio against phase 1's p50."""
    import popup_tapi

    library = popup_tapi.build_fake(workdir)
    script = popup_tapi.write_script(workdir, count, (pause[0] * 1000, pause[1] * 1000), rng)
    before = bench.stored()
    process, log = popup_tapi.start_connector(workdir, library, script, f"http://127.0.0.1:{bench.port}{ENDPOINT_PATH}",
                                              SECRET, bench.env)
    bench.processes.append(process)
    started = time.monotonic()
    done = popup_tapi.wait_done(log, START_TIMEOUT + count * (pause[1] * 2 + 0.05))
    settled = bench.wait_for(before["popups"] + count)
    values = list(latencies(bench.get("/events")["events"], popup_tapi.pushed_times(log)).values())
    report(f"phase 3: {count} incoming calls through tapi:// (the fake tapi32 queues OFFERING -> ringing at "
           f"crm-sim) ({time.monotonic() - started:.1f} s){'' if done and settled else ' [timed out waiting]'}",
           values, count, clock="OFFERING queued by the fake")
    if values:
        print(f"  p50 TAPI / p50 serial (phase 1, same run): {statistics.median(values) / serial_p50:.2f}")


def burst_phase(bench: Bench, workdir: Path, count: int, popups: int, first_index: int,
                pause: tuple[float, float], rng: random.Random, stored: Callable[[], int], round_no: int
                ) -> tuple[list[float], tuple[list[float], list[float]], int]:
    """One round of phase 4: popups on the serial source while the tcp-listen source ingests ``count``
    records (each round its own day: no record of one round is a reprint of another's). Returns the
    latencies of the popups written during the ingest, their split at the outbox, and the next popup index."""
    before = bench.stored()
    data = backlog_records(count, datetime.now() - timedelta(days=2 + round_no))
    expected = stored() + count
    ingested = threading.Event()
    times: dict[str, float] = {}

    def send() -> None:
        with socket.create_connection(("127.0.0.1", bench.burst_port), timeout=30) as sock:
            times["first_byte"] = time.time()
            sock.sendall(data)
            times["last_byte"] = time.time()
            deadline = time.monotonic() + SETTLE_TIMEOUT * 5
            while time.monotonic() < deadline and stored() < expected:
                time.sleep(0.05)
            times["ingested"] = time.time()
            ingested.set()
            time.sleep(0.5)  # the connector reads the end of the stream as a lost link; no matter here

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    written = write_popups(bench, popups, first_index, pause, rng, until=ingested)
    index = first_index + len(written)
    sender.join(SETTLE_TIMEOUT * 6)
    settled = bench.wait_for(before["popups"] + len(written))
    values = latencies(bench.get("/events")["events"][before["events"]:], written)
    end = times.get("ingested", time.time())
    during_ms = {phone: ms for phone, ms in values.items() if written[phone] <= end}
    during = list(during_ms.values())
    print(f"  round {round_no + 1}: sent in {times.get('last_byte', end) - times.get('first_byte', end):.1f} s, all "
          f"{count} stored {end - times.get('first_byte', end):.1f} s after its first byte"
          f"{'' if settled else ' [timed out waiting for the popups]'}")
    split = outbox_split(bench, written, during_ms) or ([], [])
    report("    popups written during its ingest:", during, len(written), split=split)
    return during, split, index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--popups", type=int, default=1000, help="ringing records in phase 1 (default 1000)")
    parser.add_argument("--pause-ms", default="20-50", help="pause between records, ms: N or MIN-MAX (default 20-50)")
    parser.add_argument("--backlog", type=int, default=2000, help="answered CDRs queued in phase 2 (default 2000)")
    parser.add_argument("--backlog-popups", type=int, default=300,
                        help="ringing records written while the backlog is delivered (default 300)")
    parser.add_argument("--backlog-latency-ms", type=float, default=60.0,
                        help="crm-sim latency in phase 2, so that the backlog lasts (default 60)")
    parser.add_argument("--tapi-popups", type=int, default=300,
                        help="incoming calls through the fake tapi32 (tapi:// source), 0: skip (default 300)")
    parser.add_argument("--burst", type=int, default=100_000,
                        help="answered CDRs a second source receives in one burst in phase 4, 0: skip "
                             "(default 100000)")
    parser.add_argument("--burst-popups", type=int, default=300,
                        help="at most this many ringing records during each burst (default 300)")
    parser.add_argument("--burst-rounds", type=int, default=1,
                        help="bursts one after the other, their popups also counted together (one burst gives "
                             "about 100 popups, whose p99 is their maximum); from the second on, the earlier "
                             "bursts' records are being delivered meanwhile (default 1)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, outbox, crm db)")
    parser.add_argument("--tree", type=Path, default=ROOT,
                        help="the smdr source tree to run (default: this checkout; bench/compare.py popups "
                             "gives a baseline's)")
    parser.add_argument("--arrangement", choices=ARRANGEMENTS, default="together",
                        help="together: the burst's source in the same smdr run as the popups' (default); apart: "
                             "in a second smdr run of its own; floor: the popups through bench/popup_floor.py "
                             "(the least a connector does: the machine's floor) with the burst in smdr run. "
                             "Phases 2 and 3 need smdr for the popups: floor skips them")
    parser.add_argument("--burst-sink", choices=BURST_SINKS, default="crm",
                        help="crm: the burst's events are delivered to crm-sim too (default); jsonl (with "
                             "--arrangement apart or floor): its smdr run writes them to a file, so crm-sim only "
                             "takes the popups")
    parser.add_argument("--figures", type=Path,
                        help="also write each popup's milliseconds here as JSON, by phase (bench/compare.py popups)")
    args = parser.parse_args(argv)
    if args.burst_sink != "crm" and args.arrangement == "together":
        parser.error("--burst-sink jsonl needs the burst in an smdr run of its own (--arrangement apart or floor)")
    if args.arrangement == "floor":
        args.backlog = args.backlog_popups = args.tapi_popups = 0
    low, _, high = args.pause_ms.partition("-")
    pause = (float(low) / 1000, float(high or low) / 1000)
    rng = random.Random(args.seed)

    workdir = Path(tempfile.mkdtemp(prefix="smdr-popup-bench-"))
    bench = Bench(workdir, args.tree)
    figures: dict[str, list[float]] = {}
    wire_ms = RECORD_BYTES * BITS_PER_BYTE / BAUD * 1000
    try:
        bench.start_crmsim()
        near, far = bench.start_socat()
        bench.start_connector(far, args.arrangement, args.burst_sink)
        bench.open_pbx_end(near)
        print(f"smdr popup benchmark: KX-TDA RC records over a socat pty (serial://...?baudrate={BAUD}) "
              f"-> smdr run -> crm-sim on 127.0.0.1:{bench.port}")
        print(f"wire time of one {RECORD_BYTES}-byte record at {BAUD} baud 8N1: {wire_ms:.1f} ms "
              "(NOT included below: the clock starts just before the record is written, all at once)")
        print(f"pause between records: {args.pause_ms} ms; target: p99 under 5 ms; the burst's source: "
              f"{args.arrangement} (--arrangement)")
        print()

        # phase 1: an idle connector
        started = time.monotonic()
        written = write_popups(bench, args.popups, 0, pause, rng)
        settled = bench.wait_for(args.popups)
        phase1 = latencies(bench.get("/events")["events"], written)
        figures["idle"] = list(phase1.values())
        report(f"phase 1: {args.popups} ringing records, idle connector "
               f"({time.monotonic() - started:.1f} s){'' if settled else ' [timed out waiting]'}",
               list(phase1.values()), args.popups, split=outbox_split(bench, written, phase1))
        print()

        # phase 2: the same while a backlog of answered CDRs is being delivered
        before = bench.stored()
        bench.set_latency(args.backlog_latency_ms)
        yesterday = datetime.now() - timedelta(days=1)
        backlog_written = bench.write(backlog_records(args.backlog, yesterday))
        written2 = write_popups(bench, args.backlog_popups, args.popups, pause, rng)
        settled = bench.wait_for(before["popups"] + args.backlog_popups,
                                 before["events"] + args.backlog + args.backlog_popups)
        events = bench.get("/events")["events"][before["events"]:]
        ringing_phones = set(written2)
        backlog_arrivals = [e["arrived"] for e in events
                            if e["event"] == "answered" and e["fields"].get("phone", "").startswith("0935")]
        other_events = len(events) - len(backlog_arrivals) - sum(
            1 for e in events if e["event"] == "ringing" and e["fields"].get("phone") in ringing_phones)
        backlog_end = max(backlog_arrivals) if backlog_arrivals else backlog_written
        phase2 = latencies(events, written2)
        during = [ms for phone, ms in phase2.items() if written2[phone] + ms / 1000 <= backlog_end]
        print(f"phase 2: {args.backlog} answered CDRs written at once, then {args.backlog_popups} ringing records; "
              f"crm-sim latency {args.backlog_latency_ms:g} ms per request")
        print(f"  backlog: {len(backlog_arrivals)} of {args.backlog} delivered in "
              f"{backlog_end - backlog_written:.1f} s after it was written"
              f"{'' if settled else ' [timed out waiting]'}; other events: "
              f"{other_events}")
        if written2:
            first, last = min(written2.values()), max(written2.values())
            meanwhile = sum(1 for at in backlog_arrivals if first <= at <= last)
            print(f"  backlog events that reached crm-sim while the {len(written2)} ringing records were being "
                  f"written ({last - first:.1f} s): {meanwhile}")
        report("  popups that reached crm-sim while the backlog was still being delivered:",
               during, len(written2))
        report("  all phase-2 popups:", list(phase2.values()), len(written2),
               split=outbox_split(bench, written2, phase2))
        print()
        if args.tapi_popups:
            tapi_phase(bench, workdir, args.tapi_popups, pause, rng, statistics.median(phase1.values()))
            print()
        if args.burst:
            bench.set_latency(0)
            print(f"phase 4: {args.burst} answered CDRs in one TCP stream on a second source (tcp-listen), "
                  f"{args.burst_rounds} time(s), ringing records on the serial one meanwhile")
            stored, index, during = bench.burst_counter(), args.popups + args.backlog_popups, []
            to_outbox: list[float] = []
            from_outbox: list[float] = []
            for round_no in range(args.burst_rounds):
                values, split, index = burst_phase(bench, workdir, args.burst, args.burst_popups, index, pause,
                                                   rng, stored, round_no)
                during += values
                to_outbox += split[0]
                from_outbox += split[1]
            idle = list(phase1.values())
            figures.update(burst=during, burst_to_outbox=to_outbox, burst_from_outbox=from_outbox)
            report(f"  all {args.burst_rounds} rounds: popups written during a burst's ingest:", during, len(during),
                   split=(to_outbox, from_outbox))
            if during and idle:
                print(f"  p99 during the bursts / p99 idle (phase 1, same run): "
                      f"{percentile(during, .99) / percentile(idle, .99):.2f}; "
                      f"p50: {percentile(during, .50) / percentile(idle, .50):.2f}")
            print()
        if args.figures is not None:
            args.figures.write_text(json.dumps(figures))
        print(f"connector log, outbox and crm-sim db in {workdir}" if args.keep else "")
    finally:
        bench.close()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
