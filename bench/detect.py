"""Detection benchmark: what `smdr detect` costs on the head of a capture, against parsing that head once.

    python bench/detect.py [--kb 64] [--repeat 5]

For every fixture stream (repeated up to --kb KB, as a long capture's head), measures in the same run
1) the baseline: the right layout's compiled parser over the sample's records, once, and
2) detection: every layout in every date order on the same records, with the date order inferred and
   the evidence measured,
and prints both times (best of --repeat), their ratio and the number of layouts tried.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from smdr import layouts
from smdr.detect import detect, sample_of

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
    args = parser.parse_args()
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
    print(f"\n{tried} layouts known; detection tries each in 2 date orders (3 when those read dates alike)")


if __name__ == "__main__":
    main()
