"""The floor of bench/popup.py: the least a connector does to turn a ringing record into a popup.

    python bench/popup_floor.py PTY URL    (bench/popup.py --arrangement floor starts it)

It reads the KX-TDA records bench/popup.py writes on the pseudo-terminal (pyserial-asyncio-fast, as
smdr's serial transport does) and, for each ``RC`` record, POSTs one ProcessCDR ringing form to ``URL``
through one keep-alive httpx.AsyncClient, in a task of its own (as smdr sends a popup). No engine, no
journal, no outbox, no retries: a connector that keeps its promises does more than this, so its popups
cannot be faster than these on the same machine under the same load. Not a connector: a yardstick.
The secret is bench/popup_rig.py's test secret, never a real one.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys

import httpx
import serial_asyncio_fast
from popup_rig import BAUD, SECRET


async def forward(port: str, url: str) -> None:
    reader, _writer = await serial_asyncio_fast.open_serial_connection(url=port, baudrate=BAUD)
    ids = itertools.count(1)
    pending: set[asyncio.Task] = set()
    async with httpx.AsyncClient(timeout=30) as client:
        await client.get(url)  # the keep-alive connection open before the first popup (smdr probes the CRM)
        print(f"serial://{port}: connected", file=sys.stderr, flush=True)  # what bench/popup_rig.py waits for

        async def popup(phone: str, extension: str) -> None:
            form = {"secretkey": SECRET, "call_id": f"floor-{next(ids)}", "agent": extension, "phone": phone,
                    "direction": "inbound", "event": "ringing"}
            try:
                response = await client.post(url, data=form)
                if response.status_code != 200:
                    print(f"crm-sim answered {response.status_code}: {response.text[:200]}", file=sys.stderr)
            except httpx.HTTPError as exc:
                print(f"popup not sent: {type(exc).__name__}: {exc}", file=sys.stderr)

        while line := (await reader.readline()).decode("latin-1"):
            if line[77:79] == "RC":  # Pattern A: the CD column; the dialled column holds <I> + the caller
                task = asyncio.create_task(popup(line[26:51].strip().removeprefix("<I>"), line[17:22].strip()))
                pending.add(task)
                task.add_done_callback(pending.discard)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pty", help="the pseudo-terminal the bench writes the PBX's records into")
    parser.add_argument("url", help="crm-sim's ProcessCDR URL")
    args = parser.parse_args()
    asyncio.run(forward(args.pty, args.url))


if __name__ == "__main__":
    main()
