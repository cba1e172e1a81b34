"""``smdr ports``: the serial ports this machine has (to find the PBX's SMDR cable)."""

from __future__ import annotations

import argparse
import json
import sys

from serial.tools import list_ports

HEADER = ("port", "description", "hardware id")
NO_USB_HINT = ("no USB serial adapter seen: plug it in (and on Windows install its driver: Prolific PL2303, "
               "FTDI or CH340), then run `smdr ports` again; a PBX on the LAN needs no port (tcp://)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ports", help="list the serial ports of this PC (to find the PBX cable)",
                                   description="List the serial ports of this PC: device, description and "
                                               "hardware id (USB adapters show VID:PID).")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ports = sorted(list_ports.comports(), key=lambda port: port.device)
    rows = [(port.device, port.description or "-", port.hwid or "-") for port in ports]
    has_usb = any("USB" in hwid.upper() for _device, _description, hwid in rows)
    if args.json:
        print(json.dumps({"ports": [dict(zip(("device", "description", "hwid"), row)) for row in rows],
                          "usb_adapter_seen": has_usb}))
        return 0
    if rows:
        widths = [max(len(row[i]) for row in [HEADER, *rows]) for i in range(2)]
        for row in [HEADER, *rows]:
            print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}")
    else:
        print("no serial ports found")
    if not has_usb:
        print(NO_USB_HINT, file=sys.stderr)
    return 0
