"""Output check for engine work: the digest of every event of the 1M-record benchmark stream.

    python bench/digest.py            # exit 0 when the output is what it was at issue 11's start

The stream is bench/panasonic_stream.py seed 1 (panasonic-kx-tda, 1,000,000 call records); the digest
is sha256 over ``json.dumps(event.to_dict(), sort_keys=True)`` of every event, in order, fed in 64 KiB
chunks. EXPECTED was computed on the code at bd88d7c (issue 11's start): a speed change that alters
one byte of one event changes it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import panasonic_stream

from smdr.pipeline import SourceSpec, make_decoder

RECORDS = 1_000_000
EXPECTED = (1_000_000, "4c3967769a0fe747ae1bd40a4c099c3792962d0abca4eecc066b3cf7b9d0eeaa")


def digest(path: Path) -> tuple[int, str]:
    decoder = make_decoder(SourceSpec(name="bench", url="", layout="panasonic-kx-tda"))
    h = hashlib.sha256()
    count = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 16):
            for event in decoder.feed(chunk):
                h.update(json.dumps(event.to_dict(), sort_keys=True).encode())
                count += 1
    for event in decoder.finish():
        h.update(json.dumps(event.to_dict(), sort_keys=True).encode())
        count += 1
    return count, h.hexdigest()


def main() -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()  # no options: --help only
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stream.smdr"
        panasonic_stream.write(path, RECORDS, seed=1)
        got = digest(path)
    print(f"{got[0]} {got[1]}")
    if got != EXPECTED:
        print(f"DIFFERENT from issue 11's start: {EXPECTED[0]} {EXPECTED[1]}", file=sys.stderr)
        return 1
    print("identical to issue 11's start")
    return 0


if __name__ == "__main__":
    sys.exit(main())
