"""smdr parse without --layout or --device detects the layout, says which it used, and fails on noise."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
from golden import ROOT, golden_path
from test_detect import DETECTABLE, SYSLOG, expected

CASES = DETECTABLE  # every fixture but those of a capture-first layout (see test_detect.py)


def parse(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smdr", "parse", *args], cwd=ROOT, input=stdin,
                          capture_output=True, timeout=60)


@pytest.mark.parametrize("stream,layout,args", CASES, ids=[c[0].name for c in CASES])
def test_without_a_layout_every_fixture_gives_its_golden_output_and_says_what_it_used(stream, layout, args):
    result = parse(str(stream), "--source", stream.name, *args)
    assert result.returncode == 0, result.stderr
    want = expected(stream, layout, args)
    said = result.stderr.decode().splitlines()[0]
    device = (f"device {want['device']}, vendor {want['vendor']}" if want["device"] else
              "no device profile lists this layout, so no vendor is named")
    assert said.startswith(f"smdr parse: no --layout given: using {want['layout']} ({device}), "
                           f"date order {want['date_order']} (")
    got = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert got == [json.loads(line) for line in golden_path(stream).read_text(encoding="utf-8").splitlines()]


def test_standard_input_is_detected_and_every_byte_of_it_parsed():
    stream = ROOT / "fixtures" / "panasonic" / "kx-td.smdr"
    data = stream.read_bytes()
    result = parse("-", "--source", stream.name, "--detect-bytes", "600", stdin=data)
    assert result.returncode == 0, result.stderr
    assert b"using panasonic-kx-td " in result.stderr
    got = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert got == [json.loads(line) for line in golden_path(stream).read_text(encoding="utf-8").splitlines()]


def test_the_date_order_asked_for_wins_and_a_contradiction_is_a_warning():
    stream = ROOT / "fixtures" / "panasonic" / "kx-tda-c.smdr"
    result = parse(str(stream), "--date-order", "MDY")
    assert result.returncode == 0
    err = result.stderr.decode()
    assert "smdr parse: WARNING: the capture's dates are DMY, the configured date order is MDY" in err
    assert "13 record(s) not parsed" in err   # parsed as asked: every record has a day above 12


@pytest.mark.parametrize("noise", ["random", "syslog", "empty"])
def test_a_capture_no_layout_reads_fails_clearly(noise, tmp_path):
    data = {"random": random.Random(7).randbytes(20000), "syslog": SYSLOG, "empty": b""}[noise]
    path = tmp_path / "capture.cap"
    path.write_bytes(data)
    result = parse(str(path))
    assert result.returncode == 2 and result.stdout == b""
    err = result.stderr.decode()
    assert err.startswith("smdr parse: no --layout given, and the capture does not say which layout reads it: "
                          "unknown: ")
    assert "give --layout NAME or --device NAME" in err
