"""Every fixture stream, parsed by its layout, gives exactly its reviewed golden output."""

import json
import subprocess
import sys

import pytest
from golden import ROOT, cases, golden_path, parse_args, render

CASES = cases()


def test_there_are_fixtures():
    assert len(CASES) >= 7


@pytest.mark.parametrize("stream,layout,args", CASES, ids=[c[0].name for c in CASES])
def test_stream_matches_golden(stream, layout, args):
    expected = golden_path(stream).read_text(encoding="utf-8").splitlines()
    actual = render(stream, layout, args).splitlines()
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        assert json.loads(got) == json.loads(want)


@pytest.mark.parametrize("stream,layout,args", CASES[:1], ids=[CASES[0][0].name])
def test_cli_subprocess_gives_the_golden_output(stream, layout, args):
    result = subprocess.run([sys.executable, "-m", "smdr", *parse_args(stream, layout, args)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == golden_path(stream).read_text(encoding="utf-8")
