"""The date order is read from the sequence of a capture's records: synthetic streams that swap it.

Every stream here keeps days and months at 12 or below, so no record alone shows the order: only the
sequence does (times running through midnight, dates of consecutive records staying close).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from golden import FIXTURES, ROOT

from smdr.detect import detect, sample_of

# one outgoing Pattern A record of kx-tda-a.smdr: date at 0-7 and time at 9-15 are replaced
TEMPLATE = "21/11/26 08:03AM   101 01 09121234567                    00:01'25               "
HEADER = (FIXTURES / "panasonic" / "kx-tda-a.smdr").read_bytes().split(b"\r\n")[:2]


def stream(order: str, moments: list[datetime]) -> bytes:
    fmt = {"DMY": "%d/%m/%y", "MDY": "%m/%d/%y"}[order]
    lines = [TEMPLATE.replace("21/11/26 08:03AM", f"{m.strftime(fmt)} {m.strftime('%I:%M%p')}").encode()
             for m in moments]
    return b"\r\n".join(HEADER + lines) + b"\r\n"


def every(start: datetime, minutes: int, count: int) -> list[datetime]:
    return [start + timedelta(minutes=minutes * i) for i in range(count)]


NIGHT = every(datetime(2026, 3, 4, 22, 40), 17, 12)                 # 4 March 22:40 through midnight to 5 March
DAYS = every(datetime(2026, 2, 3, 9, 0), 60 * 24 + 37, 8)            # 3 to 10 February, one call a day


SEQUENCES = {
    "the clock runs through midnight": (NIGHT, "the clock runs through midnight and the date advances one day "
                                               "only as {order}"),
    "dates of consecutive records stay close": (DAYS, "7 change(s) of date between consecutive records stay "
                                                      "within 2 days only as {order}"),
}


@pytest.mark.parametrize("order", ["DMY", "MDY"])
@pytest.mark.parametrize("sequence", sorted(SEQUENCES))
def test_the_sequence_of_the_records_shows_the_date_order(sequence, order):
    moments, evidence = SEQUENCES[sequence]
    found = detect(sample_of(stream(order, moments)))
    assert found.best.dates.order == order and found.best.dates.proven
    assert evidence.format(order=order) in found.best.dates.evidence[0]


@pytest.mark.parametrize("order,layout", [("DMY", "panasonic-kx-tda"), ("MDY", "panasonic-kx-td")])
def test_the_inferred_order_breaks_the_tie_between_families_that_share_their_columns(order, layout):
    found = detect(sample_of(stream(order, NIGHT)))   # KX-TDA and KX-TD print the same columns
    assert found.best.name == layout
    rival, reasons = found.rivals[0]
    assert reasons == [f"the capture's date order {order} is {layout}'s own ({rival.name} prints "
                       f"{rival.default_order} unless set otherwise)"]


def test_one_date_and_daytime_only_leaves_the_order_unproven():
    found = detect(sample_of(stream("DMY", every(datetime(2026, 5, 6, 9, 0), 11, 10))))
    assert not found.best.dates.proven
    assert "the capture does not show the order" in found.best.dates.evidence[0]


def test_a_capture_that_shows_both_orders_follows_the_larger_evidence_and_reports_the_other():
    late = datetime(2026, 3, 20, 10, 0)   # 20/03 can only be DMY
    found = detect(sample_of(stream("MDY", DAYS) + stream("DMY", [late])))
    dates = found.best.dates
    assert dates.order == "MDY" and dates.proven
    assert "7 change(s) of date between consecutive records stay within 2 days only as MDY" in dates.evidence[0]
    assert dates.conflicts[0].startswith("1 record(s) are dates only as DMY")
    fewer = detect(sample_of(stream("MDY", DAYS[:2]) + stream("DMY", [late, late + timedelta(hours=1)]))).best.dates
    assert fewer.order == "DMY" and fewer.evidence[0].startswith("2 record(s) are dates only as DMY")
    assert fewer.conflicts[0].startswith("1 change(s) of date between consecutive records stay within 2 days "
                                         "only as MDY")


def test_a_contradiction_with_the_configured_order_is_a_warning(tmp_path):
    path = tmp_path / "night.cap"
    path.write_bytes(stream("DMY", NIGHT))
    result = subprocess.run([sys.executable, "-m", "smdr", "detect", str(path), "--date-order", "MDY"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 3
    assert result.stderr.startswith("WARNING: the capture's dates are DMY, the configured date order is MDY: ")
    year_first = subprocess.run([sys.executable, "-m", "smdr", "detect", str(path), "--date-order", "YMD"],
                                cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert year_first.returncode == 3   # YMD would read 04/03/26 as 2004-03-26: a silent misparse
    agreeing = subprocess.run([sys.executable, "-m", "smdr", "detect", str(path), "--date-order", "DMY"],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert agreeing.returncode == 0 and "WARNING" not in agreeing.stderr
