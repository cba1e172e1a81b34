"""Parse benchmark: raw SMDR bytes -> Generic call events, against a bare line loop.

    python bench/parse.py [-n 1000000] [--layout panasonic-kx-tda] [--ipoffice 300000]
    python bench/parse.py --layout siemens-hipath-3000     # HiPath 3000 compressed (bench/hipath_stream.py)
    python bench/parse.py --avaya-cm [-n 200000]     # one figure per Avaya CM layout (bench/cm_stream.py)

Generates the layout's stream (a KX-TDA Pattern A stream, bench/panasonic_stream.py, unless STREAMS
names a generator for the layout), then in the same run measures
1) the bare `for line in file` rate over the same file (the baseline), and
2) the full engine: framing, compiled layout, normalization, call folding, CallEvent objects,
and prints both as call records per second (the lines that became a call record, not page headers:
the bare loop's time over the same file is what the engine's is compared with), their ratio, and
resident memory sampled during the run (current RSS at 10 points, peak RSS at the end) to show that
memory stays flat.
Then the same for Avaya IP Office (bench/ipoffice_stream.py, 34-field CSV segments folded by Call ID),
beside a bare `line.split(',')` loop over the same lines (target >= 150,000 records/s on one core).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cm_stream
import hipath_stream
import ipoffice_stream
import panasonic_stream

from smdr.pipeline import SourceSpec, make_decoder

CHUNK = 1 << 16
STREAMS = {"siemens-hipath-3000": hipath_stream.write}  # layout -> stream writer; default panasonic_stream


def current_rss_mib() -> float:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def bare_loop(path: Path) -> tuple[int, float]:
    start = time.perf_counter()
    lines = 0
    with open(path, "rb") as handle:
        for _line in handle:
            lines += 1
    return lines, time.perf_counter() - start


def bare_split(path: Path) -> tuple[int, float]:
    start = time.perf_counter()
    lines = 0
    with open(path, encoding="utf-8", newline="") as handle:
        for line in handle:
            line.split(",")
            lines += 1
    return lines, time.perf_counter() - start


def ipoffice(records: int, seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ipoffice.smdr"
        written = ipoffice_stream.write(path, records, seed=seed)
        _lines, split_s = bare_split(path)
        parsed, events, engine_s, _ = engine(path, "avaya-ipoffice")
    split_rate, engine_rate = parsed / split_s, parsed / engine_s
    print(f"IP Office stream: {written:,} segments written, {parsed:,} parsed (34 fields)")
    print(f"bare `line.split(',')`: {split_rate:12,.0f} records/s  ({split_s:.2f} s)")
    print(f"smdr engine (avaya-ipoffice): {engine_rate:12,.0f} records/s  ({engine_s:.2f} s, {events:,} events)")
    print(f"ratio engine/split: {engine_rate / split_rate:.4f}")
    print(f"target >= 150,000 records/s: {'met' if engine_rate >= 150_000 else 'NOT met'}")


def engine(path: Path, layout: str) -> tuple[int, int, float, list[float]]:
    """Call records parsed (reprints included; headers, skipped and quarantined lines not), events,
    seconds, RSS samples."""
    decoder = make_decoder(SourceSpec(name="bench", url="", layout=layout))
    size = path.stat().st_size
    marks = [size * k // 10 for k in range(1, 11)]
    samples: list[float] = []
    done = events = 0
    start = time.perf_counter()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            events += len(decoder.feed(chunk))
            done += len(chunk)
            if marks and done >= marks[0]:
                marks.pop(0)
                samples.append(current_rss_mib())
    events += len(decoder.finish())
    elapsed = time.perf_counter() - start
    return decoder.parsed, events, elapsed, samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--records", type=int, default=1_000_000)
    parser.add_argument("--layout", default="panasonic-kx-tda")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ipoffice", type=int, default=300_000, help="IP Office records (0: skip)")
    parser.add_argument("--avaya-cm", action="store_true", help="measure every Avaya CM layout instead")
    args = parser.parse_args()
    if args.avaya_cm:
        return avaya_cm(args.records, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stream.smdr"
        STREAMS.get(args.layout, panasonic_stream.write)(path, args.records, seed=args.seed)
        size_mb = path.stat().st_size / 1e6
        rss_before = current_rss_mib()
        lines, bare_s = bare_loop(path)
        records, events, engine_s, samples = engine(path, args.layout)
    bare_rate, engine_rate = records / bare_s, records / engine_s
    print(f"stream: {records:,} call records, {lines:,} lines with page headers, {size_mb:.1f} MB")
    print(f"bare `for line in file`: {bare_rate:12,.0f} records/s  ({bare_s:.2f} s over the same file)")
    print(f"smdr engine ({args.layout}): {engine_rate:12,.0f} records/s  ({engine_s:.2f} s, {events:,} events)")
    print(f"ratio engine/bare: {engine_rate / bare_rate:.4f}  (bare loop is {bare_rate / engine_rate:.1f}x faster)")
    print(f"target >= 300,000 records/s: {'met' if engine_rate >= 300_000 else 'NOT met'}")
    print(f"RSS before: {rss_before:.1f} MiB; during (10 samples): "
          + " ".join(f"{s:.1f}" for s in samples) + f" MiB; peak: {peak_rss_mib():.1f} MiB")
    if args.ipoffice:
        ipoffice(args.ipoffice, args.seed)
    return 0


def avaya_cm(n_records: int, seed: int) -> int:
    """records/s of each CM layout on its own synthetic stream, beside the bare line loop over it."""
    print(f"Avaya CM, {n_records:,} call records per layout (with date records, G ring records, NUL padding)")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in cm_stream.FORMATS:
            path = Path(tmp) / f"{fmt}.smdr"
            path.write_bytes(cm_stream.generate(fmt, n_records, seed))
            lines, bare_s = bare_loop(path)
            records, events, engine_s, _ = engine(path, f"avaya-cm-{fmt}")
            bare_rate, engine_rate = records / bare_s, records / engine_s
            print(f"avaya-cm-{fmt:20} {engine_rate:10,.0f} records/s ({records:,} records in {lines:,} lines, "
                  f"{events:,} events, {engine_s:.2f} s); bare loop over the same file {bare_rate:12,.0f} records/s; "
                  f"ratio {engine_rate / bare_rate:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
