"""YAML layouts -> generated parsers: formats, rules, `extends`, located errors, and `smdr parse --layout FILE`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from cli_support import events_of, run_smdr, write_file

from smdr import layouts
from smdr.layouts import RecordRejected


def write(folder: Path, name: str, text: str) -> Path:
    return write_file(folder / name, text)


# ---------------------------------------------------------------------------------------------------
# fixed-column layout with every kind of rule

FIXED = """
layout: tiny-fixed
description: a small fixed-column layout for tests
format: fixed
time_is: start
date_order: DMY
min_length: 20
fields:
  date: {cols: [0, 7], type: date}
  time: {cols: [9, 13], type: time}
  ext: {cols: [15, 17]}
  co: {cols: [19, 20]}
  num: {cols: [22, 35]}
  dur: {cols: [37, 41], type: duration}
  cd: {cols: [43, 44]}
skip:
  - {reason: header, startswith: "Date"}
  - {reason: separator, match: '^=+$'}
generic:
  agent: ext
  linename: co
  phone: num
  duration: dur
rules:
  - when: {cd: XX}
    set: {reject: "operator code {cd}"}
    stop: true
  - when: {cd: SK}
    set: {skip: operator}
  - when: {num: {match: '^IN(?P<cid>\\d*)$'}}
    set: {direction: inbound, phone: '{cid}'}
    stop: true
  - when: {num: {startswith: ['9', '8']}}
    set: {direction: outbound, agent: 'x{ext}-{co}'}
  - when: {direction: {empty: true}, num: {digits: true}}
    set: {direction: internal}
  - when: {cd: [NA, NB]}
    set: {event: no_answer}
  - when: {dur: {gt: 60}, direction: outbound}
    set: {account: long}
"""


def line(date: str = "21/11/26", time: str = "08:03", ext: str = "101", co: str = "01", num: str = "",
         dur: str = "", cd: str = "") -> bytes:
    return f"{date:8} {time:5} {ext:3} {co:2} {num:14} {dur:>5} {cd:2}".encode()


@pytest.fixture
def fixed(tmp_path: Path):
    return layouts.load(str(write(tmp_path, "tiny-fixed.yaml", FIXED)))


def test_fixed_columns_types_and_generic_mapping(fixed) -> None:
    rec = fixed.parse(line(num="91234", dur="1:05"))
    assert rec.when == datetime(2026, 11, 21, 8, 3)
    assert rec.time_is_end is False
    assert (rec.direction, rec.event, rec.stage) == ("outbound", "answered", "final")
    assert rec.phone == "91234"
    assert rec.linename == "01"
    assert rec.duration == 65
    assert rec.account == "long"            # gt: 60 on a duration field
    assert rec.agent == "x101-01"           # template of two fields


def test_match_groups_feed_templates_and_stop_ends_the_rules(fixed) -> None:
    rec = fixed.parse(line(num="IN0912555", dur="0:05", cd="NA"))
    assert rec.direction == "inbound"
    assert rec.phone == "0912555"
    # the NA rule comes after a rule with stop: true, so it never ran
    assert rec.event == "answered"
    assert rec.agent == "101"


def test_in_list_and_digits_and_empty(fixed) -> None:
    rec = fixed.parse(line(num="555", cd="NB"))
    assert rec.direction == "internal"      # empty direction + digits
    assert rec.event == "no_answer"         # cd in [NA, NB]
    assert rec.account is None               # gt: 60 not met
    with pytest.raises(RecordRejected) as exc:
        fixed.parse(line(num="abc"))        # digits: false, nothing set a direction
    assert exc.value.kind == "no-direction"


def test_skip_and_reject(fixed) -> None:
    assert fixed.parse(b"Date     Time  Ext CO Number") is None
    assert fixed.parse(b"==========") is None
    assert fixed.parse(line(num="555", cd="SK")) is None
    assert fixed.parse(line(num="556", cd="SK")) is None
    assert fixed.skipped == {"header": 1, "separator": 1, "operator": 2}
    with pytest.raises(RecordRejected) as exc:
        fixed.parse(line(num="555", cd="XX"))
    assert exc.value.kind == "rejected"
    assert exc.value.detail == "operator code XX"


def test_bad_fields_and_short_records_are_rejected_with_a_kind(fixed) -> None:
    for bad, kind in [(line(date="31/02/26", num="555"), "bad-field"), (line(time="25:00", num="555"), "bad-field"),
                      (line(num="555", dur="x'y"), "bad-field"), (b"21/11/26 08:03", "too-short")]:
        with pytest.raises(RecordRejected) as exc:
            fixed.parse(bad)
        assert exc.value.kind == kind, bad


def test_generated_source_names_each_rule_by_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "tiny-fixed.yaml", FIXED)
    source = layouts.load(str(path)).source
    assert f"# rule 1 ({path}:24)" in source
    assert f"# rule 3 ({path}:29)" in source
    assert "yaml" not in source.split("def parse", 1)[1].split("#", 1)[0]  # no YAML read per record


# ---------------------------------------------------------------------------------------------------
# csv and regex layouts

CSV_INDEX = """
layout: tiny-csv
format: csv
time_is: end
date_order: YMD
fields:
  date: {index: 0}
  time: {index: 1}
  ext: {index: 2}
  num: {index: 3}
  dur: {index: 4, type: duration}
  way: {index: 5}
generic: {agent: ext, phone: num, duration: dur}
rules:
  - when: {way: I}
    set: {direction: inbound}
  - when: {way: O}
    set: {direction: outbound}
"""

CSV_HEADER = """
layout: tiny-csvh
format: csv
header: true
delimiter: ";"
fields:
  date: {column: Day}
  time: {column: " Clock "}
  ext: {column: Extension}
  num: {column: Number}
  dur: {column: Seconds, type: int}
generic: {agent: ext, phone: num, duration: dur}
rules:
  - set: {direction: outbound}
"""

REGEX = r"""
layout: tiny-rx
format: regex
date_order: DMY
time_is: start
pattern: '^(?P<date>\S+) (?P<time>\S+) (?P<way>[IO]) ext=(?P<ext>\d+) num=(?P<num>\S*) d=(?P<dur>\d+)$'
fields:
  date: {type: date}
  time: {type: time}
  way: {}
  ext: {}
  num: {}
  dur: {type: int}
generic: {agent: ext, phone: num, duration: dur}
rules:
  - when: {way: I}
    set: {direction: inbound}
  - when: {way: O}
    set: {direction: outbound}
"""


def test_csv_by_index_with_quoted_delimiter(tmp_path: Path) -> None:
    parser = layouts.load(str(write(tmp_path, "c.yaml", CSV_INDEX)))
    rec = parser.parse(b"2026-11-21,14:05:10,101,09121234567,00:02'03,I")
    assert (rec.when, rec.time_is_end, rec.direction) == (datetime(2026, 11, 21, 14, 5, 10), True, "inbound")
    assert (rec.agent, rec.phone, rec.duration) == ("101", "09121234567", 123)
    rec = parser.parse(b'2026-11-21,14:06:00,102,"0912,1",5,O')
    assert (rec.phone, rec.direction, rec.duration) == ("0912,1", "outbound", 5)
    # a missing column is empty, which no rule recognises
    with pytest.raises(RecordRejected) as exc:
        parser.parse(b"2026-11-21,14:06:00,102")
    assert exc.value.kind == "no-direction"


def test_csv_by_header_column_names(tmp_path: Path) -> None:
    parser = layouts.load(str(write(tmp_path, "h.yaml", CSV_HEADER)))
    assert parser.parse(b"Number;Extension;Seconds;Day;CLOCK") is None
    assert parser.skipped == {"header": 1}
    rec = parser.parse(b"09121234567;102;65;11/21/2026;9:05PM")
    assert rec.when == datetime(2026, 11, 21, 21, 5)
    assert (rec.agent, rec.phone, rec.duration) == ("102", "09121234567", 65)


def test_regex_layout(tmp_path: Path) -> None:
    parser = layouts.load(str(write(tmp_path, "r.yaml", REGEX)))
    rec = parser.parse(b"21/11/26 08:03 I ext=101 num=0912 d=17")
    assert (rec.when, rec.direction, rec.agent, rec.phone, rec.duration) == (
        datetime(2026, 11, 21, 8, 3), "inbound", "101", "0912", 17)
    with pytest.raises(RecordRejected) as exc:
        parser.parse(b"21/11/26 08:03 X something else")
    assert exc.value.kind == "no-match"


# ---------------------------------------------------------------------------------------------------
# extends

TDA_REC = b"21/11/26 08:03AM   101 01 09121234567                    00:01'25 1234          "


def test_extends_bundled_layout_child_overrides_fields_and_inherits_the_rest(tmp_path: Path) -> None:
    child = write(tmp_path, "my-tda.yaml", """
        layout: my-tda
        extends: panasonic-kx-tda
        description: agent read from the account-code columns
        fields:
          date: {cols: [0, 7], type: date}
          time: {cols: [9, 15], type: time}
          ext: {cols: [66, 75]}
          co: {cols: [23, 24]}
          dial: {cols: [26, 50]}
          ring: {cols: [52, 55], type: ring}
          duration: {cols: [57, 64], type: duration}
          account: {cols: [17, 21]}
          cd: {cols: [77, 79]}
        """)
    base = layouts.load("panasonic-kx-tda")
    mine = layouts.load(str(child))
    assert mine.name == "my-tda"
    b, m = base.parse(TDA_REC), mine.parse(TDA_REC)
    assert (b.agent, b.account) == ("101", "1234")
    assert (m.agent, m.account) == ("1234", "101")          # the child's columns
    assert (m.direction, m.phone, m.duration, m.when) == (b.direction, b.phone, b.duration, b.when)
    assert m.when == datetime(2026, 11, 21, 8, 3)          # DMY inherited
    assert mine.parse(b"  Date     Time    Ext CO") is None  # the base's skips inherited
    with pytest.raises(RecordRejected):                      # the base's ALM rule inherited
        mine.parse(b"21/11/26 09:41AM  MN ALM  302 CO LINE 06 NO RESPONSE                            ")


def test_extends_a_user_layout_found_in_extra_dirs(tmp_path: Path) -> None:
    base_dir, child_dir = tmp_path / "base", tmp_path / "child"
    base_dir.mkdir()
    child_dir.mkdir()
    write(base_dir, "tiny-fixed.yaml", FIXED)
    child = write(child_dir, "tiny-us.yaml", """
        layout: tiny-us
        extends: tiny-fixed
        date_order: MDY
        time_is: end
        """)
    parser = layouts.find(str(child), [str(base_dir)]).compile()
    rec = parser.parse(line(date="11/21/26", num="91234", dur="1:05"))
    assert rec.when == datetime(2026, 11, 21, 8, 3)
    assert rec.time_is_end is True
    assert rec.agent == "x101-01"                           # rules come from the base


# ---------------------------------------------------------------------------------------------------
# smdr parse with a layout file (subprocess)

def test_smdr_parse_with_a_fixed_layout_file(tmp_path: Path) -> None:
    layout = write(tmp_path, "tiny-fixed.yaml", FIXED)
    capture = tmp_path / "cap.smdr"
    capture.write_bytes(b"Date     Time  Ext CO Number\r\n==========\r\n" + line(num="91234", dur="1:05") + b"\r\n"
                        + line(num="IN02188776655", dur="0:07") + b"\r\n" + line(num="555", cd="XX") + b"\r\n")
    result = run_smdr("parse", str(capture), "--layout", str(layout), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    events = events_of(result.stdout)
    assert [(e["direction"], e["phone"], e["duration"], e["agent"]) for e in events] == [
        ("outbound", "91234", 65, "x101-01"), ("inbound", "02188776655", 7, "101")]
    assert events[0]["starttime"] == "2026-11-21T08:03:00+03:30"   # time_is: start
    assert events[0]["endtime"] == "2026-11-21T08:04:05+03:30"
    assert all(e["provenance"]["layout"] == "tiny-fixed" for e in events)
    assert "rejected 1" in result.stderr


def test_csv_layout_end_to_end_through_smdr_parse(tmp_path: Path) -> None:
    layout = write(tmp_path, "tiny-csv.yaml", CSV_INDEX)
    capture = tmp_path / "calls.csv"
    capture.write_bytes(b"2026-11-21,14:05:10,101,+989121234567,00:02'03,I\r\n"
                        b"2026-11-21,14:07:00,102,00982188776655,5,O\n")
    result = run_smdr("parse", str(capture), "--layout", str(layout), "--format", "csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()
    assert rows[0].split(",")[:5] == ["agent", "phone", "call_id", "direction", "event"]
    body = [r.split(",") for r in rows[1:]]
    assert [(r[0], r[1], r[3], r[5]) for r in body] == [
        ("101", "09121234567", "inbound", "123"), ("102", "02188776655", "outbound", "5")]
    assert "2026-11-21T14:03:07+03:30" in rows[1]               # time_is: end -> start = end - 123 s


def test_regex_layout_end_to_end_through_smdr_parse(tmp_path: Path) -> None:
    layout = write(tmp_path, "tiny-rx.yaml", REGEX)
    capture = tmp_path / "rx.log"
    capture.write_bytes(b"21/11/26 08:03 I ext=101 num=+989121234567 d=17\n"
                        b"garbage that matches nothing\n"
                        b"21/11/26 08:10 O ext=102 num=88776655 d=60")  # last line without a line end
    result = run_smdr("parse", str(capture), "--layout", str(layout), "--area-code", "21",
                      "--local-lengths", "8", "--source", "pbx-a", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    events = events_of(result.stdout)
    assert [(e["direction"], e["phone"], e["duration"], e["gateway"]) for e in events] == [
        ("inbound", "09121234567", 17, "pbx-a"), ("outbound", "02188776655", 60, "pbx-a")]
    assert events[1]["starttime"] == "2026-11-21T08:10:00+03:30"
    assert "no-match 1" in result.stderr
