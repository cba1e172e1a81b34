"""Detection needs no code per vendor: record shapes other than Panasonic's, as layouts written here.

A CSV layout with year-first date-time cells (the IP Office shape) and a fixed layout whose records
print no date, dated by the PBX's date records (the Communication Manager shape).
"""

from __future__ import annotations

import textwrap
from datetime import date

from smdr.detect import detect, sample_of

CSV_LAYOUT = """\
layout: test-csv-year-first
format: csv
fields:
  datetime: {index: 0, type: datetime}
  duration: {index: 1, type: duration}
  ring: {index: 2, type: ring}
  caller: {index: 3}
  way: {index: 4}
  called: {index: 5}
generic: {duration: duration, ring: ring}
rules:
  - when: {way: I}
    set: {direction: inbound, phone: '{caller}', agent: '{called}'}
  - when: {direction: {empty: true}}
    set: {direction: outbound, phone: '{called}', agent: '{caller}'}
"""

DATELESS_LAYOUT = """\
layout: test-dateless
format: fixed
date_order: DMY
fields:
  time: {cols: [0, 3], type: time}
  duration: {cols: [5, 8], type: duration_tenths}
  cond: {cols: [10, 10]}
  dialed: {cols: [12, 26]}
  calling: {cols: [28, 37]}
date_records:
  - {match: '^\\d\\d:\\d\\d (?P<date>\\d\\d/\\d\\d)$'}
generic: {duration: duration, phone: dialed, agent: calling}
rules:
  - when: {cond: '9'}
    set: {direction: inbound, phone: '{calling}', agent: '{dialed}'}
  - when: {direction: {empty: true}}
    set: {direction: outbound}
"""


def layout_dir(tmp_path, text: str):
    name = text.split("\n", 1)[0].split()[1]
    (tmp_path / f"{name}.yaml").write_text(textwrap.dedent(text))
    return [str(tmp_path)]


IPO_LINES = [f"2026/06/{d:02} {h:02}:14:19,00:00:{s:02},7,0912555{d}{h:02},{'IO'[h % 2]},23{s},23,,0,1000013"
             for d in (3, 4) for h, s in ((9, 5), (10, 12), (15, 40))]


def test_year_first_dates_need_no_order_and_are_said_to(tmp_path):
    found = detect(sample_of("\r\n".join(IPO_LINES).encode() + b"\r\n"),
                   extra_dirs=layout_dir(tmp_path, CSV_LAYOUT))
    best = found.best
    assert best.name == "test-csv-year-first" and best.trial.read == 6
    assert best.dates.order_free and not best.dates.proven
    assert "every order reads these dates the same" in best.dates.evidence[0]


def test_a_csv_column_only_one_layout_has_a_field_for_breaks_the_tie(tmp_path):
    wider = CSV_LAYOUT.replace("test-csv-year-first", "test-csv-wider").replace(
        "  called: {index: 5}\n", "  called: {index: 5}\n  internal: {index: 8}\n  call_id: {index: 9}\n")
    dirs = layout_dir(tmp_path, CSV_LAYOUT) + layout_dir(tmp_path, wider)
    found = detect(sample_of("\r\n".join(IPO_LINES).encode()), extra_dirs=dirs)
    assert found.best.name == "test-csv-wider"
    rival, reasons = found.rivals[0]
    assert rival.name == "test-csv-year-first"
    assert reasons == ["text on 6 record(s) lies outside every field of test-csv-year-first (12 cell(s), "
                       "e.g. record 1); test-csv-wider has fields there"]


def cm_stream(order: str, first: date, second: date) -> bytes:
    def day(d: date) -> str:
        return d.strftime("%m/%d" if order == "MDY" else "%d/%m")

    rows = [f"15:04 {day(first)}",
            "1410 0012 A 09121234567     201       ",
            "2301 0005 9 203             02188776655",
            "2355 0101 A 88451234        204       ",
            f"00:00 {day(second)}",
            "0007 0030 9 201             09351112233",
            "0840 0002 A 66123456        202       "]
    return "\r\n".join(rows).encode() + b"\r\n"


def test_date_records_with_a_day_above_12_prove_the_order(tmp_path):
    dirs = layout_dir(tmp_path, DATELESS_LAYOUT)
    found = detect(sample_of(cm_stream("MDY", date(2026, 1, 14), date(2026, 1, 15))), extra_dirs=dirs,
                   reference=date(2026, 1, 20))
    best = found.best
    assert best.name == "test-dateless" and best.trial.read == 5
    assert best.dates.order == "MDY" and best.dates.proven    # against the layout's own DMY
    assert best.dates.evidence[0].startswith("2 record(s) are dates only as MDY, e.g. record 1: DMY would "
                                             "quarantine it")
    assert best.trial.records[5].when.isoformat() == "2026-01-15T00:07:00"


def test_date_records_a_day_apart_show_the_order_through_the_sequence(tmp_path):
    dirs = layout_dir(tmp_path, DATELESS_LAYOUT)
    for order in ("MDY", "DMY"):
        found = detect(sample_of(cm_stream(order, date(2026, 3, 4), date(2026, 3, 5))), extra_dirs=dirs,
                       reference=date(2026, 3, 20))
        assert found.best.dates.order == order and found.best.dates.proven, found.best.dates.evidence
