"""smdr detect names the layout family and date order that read a capture."""

import subprocess
import sys

import pytest
from golden import ROOT

FAMILY = {
    "kx-tda-a.smdr": {"panasonic-kx-tda", "panasonic-kx-td"},   # Pattern A and KX-TD share their columns
    "kx-tda-b.smdr": {"panasonic-kx-tda-b"},
    "kx-tda-c.smdr": {"panasonic-kx-tda-c"},
    "kx-tes.smdr": {"panasonic-kx-tes", "panasonic-kx-ta"},     # TES and TA share their columns
}


def detect(*args):
    return subprocess.run([sys.executable, "-m", "smdr", "detect", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("name", sorted(FAMILY))
def test_best_layout_is_the_right_family(name):
    result = detect(f"fixtures/panasonic/{name}")
    assert result.returncode == 0, result.stderr
    best = next(line for line in result.stdout.splitlines() if line.startswith("best:"))
    assert best.split()[2].rstrip(",") in FAMILY[name]
    assert "WARNING" not in result.stderr


def test_a_day_above_12_contradicts_a_month_first_setting():
    result = detect("fixtures/panasonic/kx-tda-a.smdr", "--date-order", "MDY")
    assert result.returncode == 3
    assert "date order MDY rejects" in result.stdout


def test_a_capture_no_layout_reads(tmp_path):
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"hello\r\nthis is not SMDR\r\n" * 20)
    result = detect(str(junk))
    assert result.returncode == 1
    assert "no layout reads" in result.stdout
