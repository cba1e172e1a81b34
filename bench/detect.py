"""Detection benchmark: what `smdr detect` costs on the head of a capture, against parsing that head once.

    python bench/detect.py [--kb 64] [--repeat 5]
    python bench/detect.py CAPTURE-OR-FOLDER...     (what detection says of each real capture)

For every fixture stream (repeated up to --kb KB, as a long capture's head), measures in the same run
1) the baseline: the right layout's compiled parser over the sample's records, once, and
2) detection: every layout in every date order on the same records, with the date order inferred and
   the evidence measured,
and prints both times (best of --repeat), their ratio and the number of layouts tried. Reading the
layouts' and profiles' YAML (which every command does once) is timed apart and printed at the end.

With paths (real captures fetched from public call-accounting projects, not committed), it prints for
each file what `smdr detect` concludes: the layout and date order (proven or default), undecided
between which layouts, or unknown and why.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from smdr import devices, layouts
from smdr.detect import PROBE_LINES, detect, read_sample, sample_of

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def best_of(repeat: int, func) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args()
    if args.paths:
        verdicts(args.paths)
        return
    tried = len(layouts.available())
    print(f"{'stream':24} {'records':>7} {'parse once':>10} {'detect':>8} {'ratio':>6}  layout found")
    for stream in sorted(FIXTURES.glob("*/*.smdr")):
        data = stream.read_bytes()
        head = (data * (args.kb * 1024 // len(data) + 1))[: args.kb * 1024]
        sample = sample_of(head, complete=False)
        found = detect(sample)
        name = found.best.name if found.best else "unknown"
        if found.best is None:
            print(f"{stream.name:24} {len(sample.lines):7} {'':>10} {'':>8} {'':>6}  unknown: {found.unknown}")
            continue
        info = layouts.find(name)

        def parse_once(info=info, order=found.best.dates.order, lines=sample.lines) -> None:
            parse = info.compile(order).parse
            for line in lines:
                try:
                    parse(line)
                except layouts.RecordRejected:
                    pass

        baseline = best_of(args.repeat, parse_once)
        detection = best_of(args.repeat, lambda sample=sample: detect(sample))
        print(f"{stream.name:24} {len(sample.lines):7} {baseline * 1000:8.1f}ms {detection * 1000:6.0f}ms "
              f"{detection / baseline:6.1f}  {name}")
    yaml_time = best_of(args.repeat, lambda: (layouts.available(), devices.available()))
    print(f"\n{tried} layouts known; detection tries each in 2 date orders (3 when those read dates alike) on "
          f"the first {PROBE_LINES} records, and on the whole sample those that read any; reading the YAML "
          f"of the layouts and profiles, included above, takes {yaml_time * 1000:.0f}ms")


def verdicts(paths: list[Path]) -> None:
    files = sorted(f for p in paths for f in ([p] if p.is_file() else p.iterdir()) if f.is_file())
    counts: dict[str, int] = {}
    for path in files:
        with open(path, "rb") as handle:
            sample, _ = read_sample(handle)
        found = detect(sample)
        if found.unknown:
            kind, text = "unknown", found.unknown
        elif len(found.tied) > 1:
            kind, text = "undecided", " / ".join(c.name for c in found.tied)
        else:
            best = found.ranked[0]
            kind = "found"
            text = (f"{best.name} {best.dates.order} ({'proven' if best.dates.proven else 'default'}), "
                    f"{best.trial.read} read, {len(best.trial.rejected)} to quarantine")
        counts[kind] = counts.get(kind, 0) + 1
        print(f"{path.name[:40]:40} {kind:9} {text[:110]}")
    print("\n" + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())) + f" of {len(files)} files")


if __name__ == "__main__":
    main()
