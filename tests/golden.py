"""Golden outputs of the fixture streams: `smdr parse` of each stream, as fixtures/*/fixtures.yaml says.

Run as a script with --write to regenerate the golden files after a reviewed change.
"""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stdout
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def cases() -> list[tuple[Path, str, list[str]]]:
    found = []
    for manifest in sorted(FIXTURES.glob("*/fixtures.yaml")):
        for name, entry in yaml.safe_load(manifest.read_text()).items():
            found.append((manifest.parent / name, entry["layout"], [str(a) for a in entry.get("args", [])]))
    return found


def golden_path(stream: Path) -> Path:
    return stream.with_name(stream.stem + ".golden.jsonl")


def parse_args(stream: Path, layout: str, args: list[str]) -> list[str]:
    return ["parse", str(stream), "--layout", layout, "--source", stream.name, *args]


def render(stream: Path, layout: str, args: list[str]) -> str:
    from smdr.cli.main import main

    out = io.StringIO()
    with redirect_stdout(out):
        assert main(parse_args(stream, layout, args)) == 0
    return out.getvalue()


if __name__ == "__main__":
    if "--write" not in sys.argv:
        sys.exit("usage: python tests/golden.py --write")
    for stream, layout, args in cases():
        golden_path(stream).write_text(render(stream, layout, args), encoding="utf-8")
        print("wrote", golden_path(stream).relative_to(ROOT))
