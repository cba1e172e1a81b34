"""smdr devices: the PBX device profiles (transport defaults, layouts, notes for the technician)."""

from __future__ import annotations

import argparse

from .. import devices


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("devices", help="list the PBX device profiles",
                       description="List the PBX device profiles (port settings, login, layouts, phone rules and "
                                   "the technician's notes for each PBX model), or show one in full.")
    p.add_argument("name", nargs="?", help="show one profile in full")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.name:
        d = devices.find(args.name)
        print(f"{d.name}: {d.title}\n  from {d.path}")
        print(f"  layouts: {', '.join(d.layouts)} (default {d.layout}); date order: {d.date_order or 'layout default'}")
        if d.serial:
            print("  serial: " + " ".join(f"{k}={v}" for k, v in d.serial.items()))
        for label, settings in (("tcp", d.tcp), ("listen", d.listen)):
            if settings:
                print(f"  {label}: " + " ".join(f"{k}={'***' if k == 'password' else v}" for k, v in settings.items()))
        if d.phone is not None:
            print("  phone: " + " ".join(f"{k}={d.phone.get(k, (str, list, int, bool))}" for k in d.phone.keys()))
        for quirk in d.quirks:
            print(f"  quirk: {quirk}")
        if d.notes:
            print("\n" + d.notes)
        return 0
    found = devices.available()
    width = max((len(n) for n in found), default=10)
    for name, d in sorted(found.items()):
        print(f"{name:<{width}}  {d.title}  [layout {d.layout}]")
    return 0
