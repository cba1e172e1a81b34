"""smdr detect: which layout and date order read a capture best (before configuring a site)."""

from __future__ import annotations

import argparse

from ..detect import fits

SAMPLE_BYTES = 256 * 1024


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("detect", help="find the layout and date order that read a capture",
                       description="Try every layout and date order on the first 256 KB of a capture and rank "
                                   "them by the share of records they read; exit 3 when --date-order contradicts "
                                   "the capture.")
    p.add_argument("path", help="a capture (smdr record) or any saved SMDR output")
    p.add_argument("--layout", action="append", help="only try these layouts (repeatable)")
    p.add_argument("--date-order", choices=("MDY", "DMY"),
                   help="the order the site is configured with: warn if the capture contradicts it")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with open(args.path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    results = fits(sample, args.layout)
    useful = [f for f in results if f.parsed]
    if not useful:
        print("no layout reads any record of this capture; `smdr layouts` lists them, parsers/README.md "
              "tells how to write one")
        return 1
    print(f"{'layout':22} {'date':5} {'read':>6} {'rejected':>8}  fit")
    for f in useful[:8]:
        print(f"{f.layout:22} {f.date_order:5} {f.parsed:6} {f.rejected:8}  {f.score:6.1%}")
    best = useful[0]
    ties = [f for f in useful if f.layout == best.layout and f.score == best.score]
    orders = "/".join(f.date_order for f in ties)
    print(f"\nbest: layout {best.layout}, date order {orders}"
          + (" (the capture does not tell these orders apart: no day above 12)" if len(ties) > 1 else ""))
    equal = sorted({f.layout for f in useful if f.score == best.score and f.parsed == best.parsed} - {best.layout})
    if equal:
        print(f"these layouts read it as well: {', '.join(equal)} (see `smdr devices` for which PBX each is)")
    if args.date_order:
        same = [f for f in results if f.layout == best.layout and f.date_order == args.date_order]
        if same and same[0].score < best.score:
            print(f"WARNING: date order {args.date_order} rejects {same[0].rejected} record(s) that "
                  f"{orders} reads: a day above 12 where the month should be. Check the PBX's date setting.")
            return 3
    return 0
