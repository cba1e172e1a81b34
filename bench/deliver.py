"""Benchmark: drain a fresh outbox into a CRM server on 127.0.0.1, against a keep-alive httpx loop.

    .venv/bin/python bench/deliver.py [--events 20000] [--concurrency 8] [--baseline-events 5000]
                                      [--rounds 3] [--outage 3] [--outage-rounds 3]

The baseline is the client library's floor: ``--concurrency`` tasks sharing one keep-alive
httpx.AsyncClient, each POSTing the same ProcessCDR forms one after the other (no outbox, no
ordering, no retry). Both runs go to the same server in the same run, with the same forms; CPU is this process's
(the server is another), per event. The ratio of the medians is printed for the rate and for the CPU
per event (on a loaded machine the CPU figure is the steadier one).

The rate rounds drain without popups. ``--outage-rounds`` more rounds (each after one more baseline
run) show the drain after an outage: crm-sim goes down (``/_sim/faults`` down_for), the backlog is
queued, the delivery backs off and probes; from the first event delivered after the CRM is back, its
rate is measured while ringing events arrive every 20 ms (their latency is printed, pooled over the
rounds), then the same popups again on an idle outbox. The outage ratio is the median of those rounds
against the median of all the baseline runs.

The server is crm-sim (`python -m smdr crm-sim`) when that command exists, else the tests' stdlib
double (tests/test_delivery_support.py); either runs in its own process. Prints figures; asserts
nothing about speed. Popup latency is emit -> CRM answer recorded (an upper bound of emit -> request
arriving), measured for ringing events emitted while the backlog drains.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from smdr.crm import CrmSettings, GenericClient, PopupSettings
from smdr.model import CallEvent
from smdr.outbox import Deliverer, Outbox

ENDPOINT_PATH = "/modules/ParsVT/ws/API/V2/PBX/Generic"
DOUBLE_SECRET = "s3cr3t-Key_42"  # the tests' double accepts this one (tests/test_delivery_support.SECRET)
SIM_SECRET = "bench-secret"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000, help="events queued and drained (default 20000)")
    parser.add_argument("--concurrency", type=int, default=8, help="crm.concurrency (default 8)")
    parser.add_argument("--method", choices=("POST", "GET"), default="POST")
    parser.add_argument("--baseline-events", type=int, default=5000,
                        help="events sent by the keep-alive httpx loop (default 5000)")
    parser.add_argument("--popups", type=int, default=100, help="ringing events emitted during the drain")
    parser.add_argument("--server", choices=("auto", "crm-sim", "double"), default="auto")
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved rounds: baseline, drain, ..., baseline; the ratio is of the medians")
    parser.add_argument("--outage", type=float, default=3.0, help="seconds the CRM is down before each "
                        "outage round (0: no outage round, no popups)")
    parser.add_argument("--outage-rounds", type=int, default=3,
                        help="outage rounds, each after one more baseline run; their ratio is of the medians "
                             "(one round's rate varies 0.8-1.2x here)")
    args = parser.parse_args()

    server, url, secret, kind = start_server(args.server)
    try:
        print(f"server: {kind} at {url}")
        print(f"parameters: events={args.events} concurrency={args.concurrency} method={args.method} "
              f"popups={args.popups} baseline_events={args.baseline_events} cpus={os.cpu_count()}")
        settings = CrmSettings(url=url, secretkey=secret, method=args.method, concurrency=args.concurrency)
        # baseline and drain interleaved (the machine's load changes), each on call ids of its own
        baselines, drains = [], []
        for round_index in range(args.rounds + 1):
            first = 10_000_000 * (round_index + 1)
            batch = [bench_event(first + index) for index in range(args.baseline_events)]
            baselines.append(asyncio.run(keepalive_loop(batch, url, secret, args.method, args.concurrency)))
            if round_index < args.rounds:
                round_events = [bench_event(first + 5_000_000 + index) for index in range(args.events)]
                drains.append(asyncio.run(drain_outbox(round_events, settings, 0)))
        outages = []
        for round_index in range(args.outage_rounds if args.outage > 0 else 0):
            batch = [bench_event(80_000_000 + 100_000 * round_index + index) for index in range(args.baseline_events)]
            baselines.append(asyncio.run(keepalive_loop(batch, url, secret, args.method, args.concurrency)))
            outage_events = [bench_event(90_000_000 + 100_000 * round_index + index) for index in range(args.events)]
            outages.append(asyncio.run(drain_outbox(outage_events, settings, args.popups, url=url, outage=args.outage,
                                                    first_popup=2 * args.popups * round_index)))
            add_arrivals(outages[-1], url)
        drain: dict = {}
        baseline = statistics.median(rate for rate, _ in baselines)
        baseline_rates = ", ".join(f"{rate:.0f}" for rate, _ in baselines)
        baseline_cpu = statistics.median(cpu for _, cpu in baselines)
        drain_rates = ", ".join(f"{d['events_per_s']:.0f}" for d in drains)
        drain["events_per_s"] = statistics.median(d["events_per_s"] for d in drains)
        drain["cpu_us"] = statistics.median(d["cpu_us"] for d in drains)
        drain["emitted_per_s"] = statistics.median(d["emitted_per_s"] for d in drains)
        drain["failures"] = sum(d["failures"] for d in drains)
    finally:
        server.terminate()
        server.wait(10)
    print(f"queueing:  {drain['emitted_per_s']:9.0f} events/s into the outbox (emit_many, 200 per transaction)")
    print(f"outbox:    {drain['events_per_s']:9.0f} events/s  "
          f"(median of {args.rounds} rounds of {args.events} events: "
          f"{drain_rates}; {drain['cpu_us']:.0f} us CPU per event, "
          f"{drain['failures']} failed attempts)")
    print(f"baseline:  {baseline:9.0f} events/s  ({args.concurrency} tasks on one keep-alive httpx.AsyncClient, "
          f"median of {len(baselines)} runs of {args.baseline_events} events: {baseline_rates}; "
          f"{baseline_cpu:.0f} us CPU per event)")
    print(f"ratio:     {drain['events_per_s'] / baseline:9.2f}x the keep-alive httpx loop (target >= 0.9x); "
          f"CPU per event {drain['cpu_us'] / baseline_cpu:.2f}x the loop's")
    if not outages:
        return 0
    outage_rate = statistics.median(o["events_per_s"] for o in outages)
    print(f"after a {args.outage:g} s outage: {outage_rate:.0f} events/s, median of {len(outages)} rounds "
          f"({outage_rate / baseline:.2f}x the loop's median; each round: "
          + ", ".join(f"{o['events_per_s']:.0f}" for o in outages)
          + f"; {statistics.median(o['cpu_us'] for o in outages):.0f} us CPU per event; "
          f"{statistics.median(o['seconds_to_back'] for o in outages):.1f} s from the outage's start to the first "
          f"delivery; {sum(o['failures'] for o in outages)} failed attempts), {args.popups} ringing events "
          "meanwhile in each")
    for key, what in (("busy_sent", "during the drain: emit -> request written to the socket"),
                      ("busy_arrived", "during the drain: emit -> request read by the CRM server"),
                      ("busy_answered", "during the drain: emit -> CRM answer recorded in the outbox"),
                      ("idle_sent", "idle outbox:      emit -> request written to the socket"),
                      ("idle_arrived", "idle outbox:      emit -> request read by the CRM server"),
                      ("idle_answered", "idle outbox:      emit -> CRM answer recorded in the outbox")):
        latencies = sorted(ms for o in outages for ms in o["popup_ms"][key])
        if latencies:
            print(f"popups {what}: n={len(latencies)} p50={percentile(latencies, 50):.2f} ms "
                  f"p99={percentile(latencies, 99):.2f} ms max={latencies[-1]:.2f} ms")
    return 0


def bench_event(index: int) -> CallEvent:
    from datetime import datetime, timedelta, timezone

    tehran = timezone(timedelta(hours=3, minutes=30))
    start = datetime(2024, 5, 1, 9, 0, tzinfo=tehran) + timedelta(seconds=index)
    return CallEvent(call_id=f"bench-{index:06d}", direction="inbound", event="answered",
                     agent=str(100 + index % 50),
                     phone=f"0912{index:07d}", duration=30 + index % 300, gateway="bench", linename="CO 01",
                     starttime=start, endtime=start + timedelta(seconds=30 + index % 300))


async def drain_outbox(events: list[CallEvent], settings: CrmSettings, popups: int, *, url: str = "",
                       outage: float = 0.0, first_popup: int = 0) -> dict:
    """Queue ``events``, then deliver them; with ``outage``, the CRM goes down for that long first and the
    figures count from the first event delivered after it. The popups' call ids start at ``first_popup``
    (a multiple of 2 x ``popups``: each round's are its own at the server)."""
    with tempfile.TemporaryDirectory(prefix="smdr-bench-") as data_dir:
        outbox = Outbox.open(Path(data_dir) / "outbox.sqlite3")
        down_at = time.perf_counter()
        if outage:
            root = url[: url.index(ENDPOINT_PATH)]
            async with httpx.AsyncClient() as control:
                (await control.post(f"{root}/_sim/faults", json={"down_for": outage})).raise_for_status()
        started = time.perf_counter()
        for first in range(0, len(events), 200):  # as a live source commits a chunk
            await outbox.emit_many(events[first:first + 200])
        emitted_per_s = len(events) / (time.perf_counter() - started)
        total = len(events) + popups
        sent_at: dict[str, float] = {}
        async with GenericClient(settings, transport_factory=lambda limits: PopupStampingTransport(limits, sent_at)) \
                as client:
            stop = asyncio.Event()
            deliverer = Deliverer(outbox, client, settings, PopupSettings())
            runner = asyncio.create_task(deliverer.run(stop))
            deadline = time.monotonic() + 600
            while outage and not deliverer.stats.delivered and time.monotonic() < deadline:
                await asyncio.sleep(0.001)  # the CRM is down: the figures start when it is back
            started, cpu_started = time.perf_counter(), time.process_time()
            seconds_to_back = started - down_at
            popup_task = asyncio.create_task(emit_popups(outbox, popups, first=first_popup))
            while deliverer.stats.delivered < total and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            seconds = time.perf_counter() - started
            cpu_us = (time.process_time() - cpu_started) / total * 1e6
            await popup_task
            # the same number of popups again with nothing else to deliver
            await emit_popups(outbox, popups, first=first_popup + popups)
            while deliverer.stats.delivered < total + popups and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            stop.set()
            await runner
        rows = outbox.store.conn.execute(
            "SELECT call_id, created_at, settled_at FROM events "
            "WHERE event = 'ringing' AND state = 'delivered'")
        popup_ms: dict[str, list[float]] = {f"{phase}_{what}": [] for phase in ("busy", "idle")
                                            for what in ("sent", "arrived", "answered")}
        created: dict[str, float] = {}
        for call_id, created_at, settled_at in rows:
            created[call_id] = created_at
            phase = popup_phase(call_id, popups)
            popup_ms[f"{phase}_answered"].append((settled_at - created_at) * 1000)
            if call_id in sent_at:
                popup_ms[f"{phase}_sent"].append((sent_at[call_id] - created_at) * 1000)
        outbox.close()
    return {"emitted_per_s": emitted_per_s, "events_per_s": total / seconds, "seconds": seconds, "cpu_us": cpu_us,
            "failures": deliverer.stats.failures, "popup_ms": popup_ms, "popup_created": created,
            "popups": popups, "seconds_to_back": seconds_to_back}


def popup_phase(call_id: str, popups: int) -> str:
    """A round's first ``popups`` popups come during the drain, the next as many on an idle outbox."""
    return "busy" if int(call_id.split("-")[1]) % (2 * popups) < popups else "idle"


def add_arrivals(drain: dict, url: str) -> None:
    """Emit -> arrival, from the server's own record of when it had read each request."""
    root = url[: url.index(ENDPOINT_PATH)]
    events = httpx.get(f"{root}/events", timeout=30).json()["events"]
    for event in events:
        created = drain["popup_created"].get(event["call_id"])
        if created is not None and event.get("arrived"):
            phase = popup_phase(event["call_id"], drain["popups"])
            drain["popup_ms"][f"{phase}_arrived"].append((event["arrived"] - created) * 1000)


class PopupStampingTransport(httpx.AsyncHTTPTransport):
    """Notes when the last byte of each ringing request has been written to the socket."""

    def __init__(self, limits: httpx.Limits, sent_at: dict[str, float]) -> None:
        super().__init__(limits=limits)
        self._sent_at = sent_at

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # only ringing requests are parsed: the bench's own cost stays out of the figures
        if b"event=ringing" in request.content or b"event=ringing" in request.url.query:
            form = dict(parse_qsl(request.content.decode() or request.url.query.decode()))
            call_id = form["call_id"]

            async def trace(name: str, info: dict) -> None:
                if name.endswith("send_request_body.complete"):
                    self._sent_at[call_id] = time.time()
            request.extensions["trace"] = trace
        return await super().handle_async_request(request)


async def emit_popups(outbox: Outbox, count: int, first: int = 0) -> None:
    for index in range(first, first + count):
        await asyncio.sleep(0.02)
        event = bench_event(index)
        event.call_id, event.event, event.duration, event.endtime = f"popup-{index}", "ringing", 0, None
        await outbox.emit(event)


async def keepalive_loop(events: list[CallEvent], url: str, secret: str, method: str,
                         concurrency: int) -> tuple[float, float]:
    """(events/s, us of CPU per event): ``concurrency`` tasks on one keep-alive httpx.AsyncClient."""
    forms = [{"secretkey": secret, **event.cdr_fields()} for event in events]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        async def worker() -> None:
            while forms:
                form = forms.pop()
                if method == "GET":
                    response = await client.get(f"{url}/ProcessCDR", params=form)
                else:
                    response = await client.post(f"{url}/ProcessCDR", data=form)
                if response.json().get("success") is not True:
                    raise SystemExit(f"baseline request refused: {response.text[:200]}")

        started, cpu_started = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return len(events) / seconds, cpu / len(events) * 1e6


def start_server(choice: str) -> tuple[subprocess.Popen, str, str, str]:
    has_sim = importlib.util.find_spec("smdr.cli.crm_sim") is not None
    if choice == "crm-sim" or (choice == "auto" and has_sim):
        process = subprocess.Popen(
            [sys.executable, "-m", "smdr", "crm-sim", "--host", "127.0.0.1", "--port", "0",
             "--secret", SIM_SECRET, "--quiet"], stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        line = process.stdout.readline()  # "crm-sim listening on http://... (endpoint http://...)"
        match = re.search(r"\(endpoint (\S+)\)", line)
        if not match:
            process.kill()
            raise SystemExit(f"crm-sim did not start: {line!r}")
        return process, match.group(1), SIM_SECRET, "crm-sim (python -m smdr crm-sim, separate process)"
    process = subprocess.Popen([sys.executable, str(ROOT / "tests" / "test_delivery_support.py")],
                               stdout=subprocess.PIPE, text=True, cwd=ROOT / "tests")
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    return process, url, DOUBLE_SECRET, "stdlib test double (tests/test_delivery_support.py, own process)"


def percentile(sorted_values: list[float], share: float) -> float:
    if len(sorted_values) == 1:
        return sorted_values[0]
    return statistics.quantiles(sorted_values, n=100, method="inclusive")[int(share) - 1]


if __name__ == "__main__":
    sys.exit(main())
