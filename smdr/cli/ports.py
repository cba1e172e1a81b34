"""``smdr ports``: the serial ports this machine has (to find the PBX's SMDR cable)."""

from __future__ import annotations

import argparse

from serial.tools import list_ports


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ports", help="list serial ports (device, description, hardware id)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ports = sorted(list_ports.comports(), key=lambda port: port.device)
    if not ports:
        print("no serial ports found")
        return 0
    width = max(len(port.device) for port in ports)
    for port in ports:
        print(f"{port.device:<{width}}  {port.description or '-'}  [{port.hwid or '-'}]")
    return 0
