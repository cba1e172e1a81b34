"""smdr layouts: the record layouts smdr knows (YAML files and code parsers)."""

from __future__ import annotations

import argparse
import sys

from .. import layouts


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("layouts", help="list the record layouts",
                       description="List the record layouts (YAML files and code parsers), or show one.")
    p.add_argument("name", nargs="?", help="show one layout: where it comes from and its notes")
    p.add_argument("--code", action="store_true", help="with NAME: also print the Python code it compiles to")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.code and not args.name:
        print("smdr layouts: --code needs a layout name, e.g. smdr layouts panasonic-kx-tda --code", file=sys.stderr)
        return 2
    if args.name:
        info = layouts.find(args.name)
        print(f"{info.name}: {info.description}\n  from {info.origin}\n")
        if info.spec is not None:
            print(info.spec.notes)
            if args.code:
                print("compiled parser:\n")
                print(layouts.CompiledLayout(info.spec).source)
            else:
                print(f"(`smdr layouts {info.name} --code` prints the Python code it compiles to)")
        return 0
    found = layouts.available()
    width = max((len(n) for n in found), default=10)
    for name, info in sorted(found.items()):
        print(f"{name:<{width}}  {info.description}")
    for name, reason in sorted(layouts.broken_plugins().items()):
        print(f"{name:<{width}}  (code parser left out: it cannot be loaded: {reason})")
    return 0
