"""``smdr init``: write a commented smdr.yaml to start a site from (the example that ships with smdr)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..resources import bundled_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="write a commented smdr.yaml to start from",
                       description="Write the commented example configuration (the one in the README) to "
                                   "start a site from; then edit it and run `smdr check`.")
    p.add_argument("-o", "--output", default="smdr.yaml", help="where to write it (default smdr.yaml)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = Path(args.output)
    if target.exists() and not args.force:
        print(f"smdr init: {target} exists; add --force to overwrite it", file=sys.stderr)
        return 2
    target.write_text(bundled_file("smdr.example.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    print(f"wrote {target}: set the source's url (`smdr ports` lists serial ports) and the crm: section, "
          f"then run `smdr check --config {target}`")
    return 0
