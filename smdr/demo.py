"""``smdr demo``: a recorded Panasonic KX-TDA stream through the connector into a local CRM simulator.

Everything runs in this process (the simulator in threads, the connector in asyncio), so the demo works
the same on Windows and from an installed wheel: the capture and the demo contacts ship in the package.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import textwrap
import urllib.request
from collections.abc import Callable
from pathlib import Path

from . import config, daemon
from .crmsim import CrmSimServer, SimOptions
from .crmsim.contacts import load_contacts
from .resources import bundled_file

SECRET = "smdr-sim-secret"
#: why the demo capture holds two records that no layout reads, in the words of the technician's notes
EXPLAINED = {
    "bad-field": "the PBX printed asterisks instead of the date and time (its call memory lost them): kept, "
                 "never guessed",
    "rejected": "a PBX alarm line (here: a trunk that does not answer), not a call record",
}


def write_config(folder: Path, port: int, pace: str) -> Path:
    capture = bundled_file("demo.smdr").resolve().as_posix()
    text = textwrap.dedent(f"""\
        # Written by `smdr demo`: the demo capture replayed into the CRM simulator on port {port}.
        data_dir: data
        timezone: Asia/Tehran
        phone: {{area_code: "21", local_lengths: [8]}}
        sources:
          - name: office-pbx
            device: panasonic-kx-tda
            url: "file://{capture}?{pace}"
        crm:
          url: http://127.0.0.1:{port}/modules/ParsVT/ws/API/V2/PBX/Generic
          secretkey: {SECRET}
        """)
    path = folder / "smdr.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def run_demo(folder: Path, *, fast: bool, keep: bool, say: Callable[[str], None] = print,
             wait_for_stop: Callable[[], None] | None = None) -> int:
    if folder.exists():
        for name in ("data", "smdr.yaml", "smdr.log", "crm.sqlite"):
            target = folder / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    sim = CrmSimServer(SimOptions(port=0, secret=SECRET, db=str(folder / "crm.sqlite"),
                                  contacts=load_contacts(bundled_file("demo-contacts.yaml"))),
                       log=lambda line: say("  CRM got: " + line))
    sim.start()
    try:
        say(f"CRM simulator on {sim.root_url} (its live page lists popups and calls as they arrive); "
            f"secret key {SECRET}")
        pace = "pace=flat" if fast else "pace=baud&baudrate=9600"
        say(f"Replaying the demo capture (Panasonic KX-TDA, Pattern A){'' if fast else ' at 9600 baud'} "
            "through the connector into it...")
        settings = config.load(write_config(folder, sim.port, pace))
        code = _run_connector(settings, folder / "smdr.log")
        data = json.load(urllib.request.urlopen(sim.root_url + "calls", timeout=10))
        _summary(data, say)
        _explain_quarantine(settings.quarantine_path, say)
        say(f"Connector log: {folder / 'smdr.log'}; its config: {folder / 'smdr.yaml'}")
        if keep:
            say(f"--keep: the simulator stays up at {sim.root_url} until you press Ctrl-C")
            (wait_for_stop or _wait_forever)()
        else:
            say("`smdr demo --keep` leaves the simulator running to look at its live page")
        return code
    finally:
        sim.close()


def _run_connector(settings: config.Settings, log_path: Path) -> int:
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    try:
        return asyncio.run(daemon.run(settings, once=True))
    finally:
        root.handlers[:], _ = saved[0], handler.close()
        root.setLevel(saved[1])


def _summary(data: dict, say: Callable[[str], None]) -> None:
    calls, popups = data["calls"], data["popups"]
    say("")
    say(f"The CRM holds {len(calls)} calls; {len(popups)} popup(s) were shown:")
    for popup in popups:
        who = popup.get("contact") or "unknown caller"
        say(f"  popup at extension {popup['agent']}: {who} ({popup['phone']})")
    say("")
    say(f"{'start':25} {'direction':9} {'event':10} {'agent':5} {'phone':15} {'talk':>5}  events received")
    for call in calls:
        say(f"{call['starttime']:25} {call['direction']:9} {call['event']:10} {call['agent'] or '':5} "
            f"{call['phone'] or '':15} {call['duration']:>5}  {' > '.join(call['events'])}")


def _explain_quarantine(path: Path, say: Callable[[str], None]) -> None:
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
    say("")
    if not entries:
        say("No record was quarantined.")
        return
    say(f"{len(entries)} record(s) of the capture are on purpose not calls; they are kept raw in {path}:")
    for entry in entries:
        why = EXPLAINED.get(entry["kind"], entry["reason"])
        say(f"  line {entry['position']}: {entry['text'].strip()}")
        say(f"    {why} ({entry['kind']}: {entry['reason']})")
    say("After a layout fix, `smdr parse <file> --layout NAME` re-reads them and `smdr outbox import` "
        "delivers what they give.")


def _wait_forever() -> None:
    import threading

    stop = threading.Event()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
