"""smdr detect: which vendor, device profile, layout and date order a capture comes from, with the evidence
and the config lines to paste. Exit 0: found; 1: unknown or undecided; 3: it contradicts --date-order."""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from ..detect import Candidate, Detection, detect, read_sample
from ..devices import Device
from .options import add_detect_limits, iso_date, modified_date


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("detect", help="find the vendor, device profile, layout and date order of a capture",
                       description="Try every layout in every date order on the head of a capture and say "
                                   "which PBX printed it, with the evidence and the config lines to paste.")
    p.add_argument("path", help="a capture (smdr record) or any saved SMDR output; - for standard input")
    p.add_argument("--layout", action="append", help="only try these layouts (repeatable)")
    p.add_argument("--date-order", choices=("MDY", "DMY", "YMD"),
                   help="the order the site is configured with: warn if the capture contradicts it")
    p.add_argument("--reference-date", type=iso_date, metavar="YYYY-MM-DD",
                   help="when the capture was recorded (year-less and date-less records; default: the file's "
                        "modification date)")
    add_detect_limits(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.path == "-":
        sample, _ = read_sample(sys.stdin.buffer, max_bytes=args.detect_bytes, max_lines=args.detect_lines)
    else:
        with open(args.path, "rb") as handle:
            sample, _ = read_sample(handle, max_bytes=args.detect_bytes, max_lines=args.detect_lines)
    reference = args.reference_date or (modified_date(args.path) if args.path != "-" else None)
    found = detect(sample, names=args.layout, min_records=args.min_records, reference=reference)
    extent = "the whole capture" if sample.complete else "its head"
    print(f"{args.path}: {len(sample.lines)} records in {sample.size} bytes ({extent})")
    if found.unknown:
        print(f"result: {undecided(found)}")
        _table(found)
        print("\n`smdr layouts` lists the layouts; parsers/README.md tells how to write one.")
        return 1
    if len(found.tied) > 1:
        print(f"result: {undecided(found)} (no page header, column or date order that only one of them has)")
        _table(found)
        print("\nPick the block of the PBX's model and paste it under sources: in smdr.yaml:")
        for candidate in found.tied:
            _config(found, candidate)
        return 1
    best = found.ranked[0]
    print(f"result: {best.name} ({_device_text(found, best)}), date order {best.dates.order}")
    _explain(found, best, found.devices.get(best.name, []))
    _table(found)
    print("\nPaste under sources: in smdr.yaml (set the url to the site's port or address):")
    _config(found, best)
    warning = found.contradiction(args.date_order)
    if warning:
        print(f"WARNING: {warning}. Check the PBX's date setting or the source's date_order.", file=sys.stderr)
        return 3
    return 0


def undecided(found: Detection) -> str:
    """Why ``found`` names no single layout ("" when it does)."""
    if found.unknown:
        return f"unknown: {found.unknown}"
    if len(found.tied) > 1:
        return (f"undecided between {', '.join(c.name for c in found.tied)}: they read it the same way and "
                f"nothing in it tells them apart")
    return ""


def summary(found: Detection) -> str:
    """One line: the layout, device, vendor and date order found, and where the date order comes from."""
    best = found.ranked[0]
    source = "shown by the capture" if best.dates.proven else "not shown by the capture: the layout's default"
    why = f": {best.dates.evidence[0]}" if best.dates.proven and best.dates.evidence else ""
    return f"{best.name} ({_device_text(found, best)}), date order {best.dates.order} ({source}{why})"


def _device_text(found: Detection, candidate: Candidate) -> str:
    profiles = found.devices.get(candidate.name, [])
    if not profiles:
        return "no device profile lists this layout, so no vendor is named"
    return f"device {profiles[0].name}, vendor {found.vendor(candidate.name) or 'not in its title'}"


def _explain(found: Detection, best: Candidate, profiles: list[Device]) -> None:
    trial = best.trial
    skipped = Counter(trial.skipped.values())
    skip_text = ", ".join(f"{reason} {n}" for reason, n in sorted(skipped.items()))
    print(f"\nvendor      {found.vendor(best.name) or '(no device profile lists this layout)'}")
    for device in profiles:
        print(f"device      {device.name}: {device.title}")
    print(f"layout      {best.name}: reads {trial.read} records, would quarantine {len(trial.rejected)}"
          + (f", skips {len(trial.skipped)} ({skip_text})" if skipped else ""))
    source = "from the capture" if best.dates.proven else "not shown by the capture"
    print(f"date order  {best.dates.order} ({source}):")
    for line in best.dates.evidence:
        print(f"  - {line}")
    for line in best.dates.conflicts:
        print(f"  - against it: {line}")
    if found.rivals:
        print("why not the layouts that read as many records:")
        for rival, reasons in found.rivals:
            print(f"  - {rival.name}: " + ("; ".join(reasons) if reasons else "it reads them as well"))


def _table(found: Detection) -> None:
    shown = [c for c in found.ranked if c.trial.read][:8]
    if not shown:
        return
    print(f"\n{'layout':24} {'order':5} {'read':>5} {'quarantine':>10} {'headers':>7}")
    for c in shown:
        print(f"{c.name:24} {c.dates.order:5} {c.trial.read:5} {len(c.trial.rejected):10} {len(c.headers):7}")


def _config(found: Detection, candidate: Candidate) -> None:
    profiles = found.devices.get(candidate.name, [])
    device = profiles[0] if profiles else None
    order = candidate.dates.order
    if candidate.dates.order_free:
        note = "   # any order reads these dates (year first)"
    else:
        note = "" if candidate.dates.proven else "   # not shown by the capture: check the PBX's date setting"
    print("sources:")
    print("  - name: pbx")
    print(f"    url: {_url(device)}")
    if device is not None:
        print(f"    device: {device.name}")
    print(f"    layout: {candidate.name}")
    print(f"    date_order: {order}{note}")


def _url(device: Device | None) -> str:
    """An example URL for the transport the profile has defaults for (the technician sets the real one)."""
    if device is not None and device.listen:
        return "tcp-listen://0.0.0.0        # the PBX connects to this PC (the device profile adds the port)"
    if device is None or device.serial:
        return "serial://COM1               # the port the PBX is cabled to (smdr ports lists them)"
    if device.tcp:
        return "tcp://192.168.0.10          # the PBX's address (the device profile adds port and login)"
    return (f"tcp-listen://0.0.0.0:9000   # the port set on the PBX, or tcp://ADDRESS:PORT: "
            f"`smdr devices {device.name}` tells which")
