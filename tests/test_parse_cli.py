"""smdr parse output formats and input kinds (file, standard input)."""

import csv
import io
import json
import subprocess
import sys

from golden import ROOT, golden_path

TES = ROOT / "fixtures" / "panasonic" / "kx-tes.smdr"


def parse(*args, stdin=None):
    result = subprocess.run([sys.executable, "-m", "smdr", "parse", *args], cwd=ROOT, input=stdin,
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.decode("utf-8")


def test_csv_has_the_processcdr_columns_and_leaves_unprinted_values_empty():
    rows = list(csv.DictReader(io.StringIO(parse(str(TES), "--layout", "panasonic-kx-tes", "--format", "csv"))))
    assert list(rows[0]) == ["agent", "phone", "call_id", "direction", "event", "duration", "billduration",
                             "gateway", "linename", "recordingurl", "starttime", "endtime"]
    ringing = next(r for r in rows if r["event"] == "ringing")
    assert ringing["agent"] == "" and ringing["endtime"] == "" and ringing["phone"] == "02177461847"


def test_table_lists_one_event_per_line_under_a_header():
    lines = parse(str(TES), "--layout", "panasonic-kx-tes", "--format", "table").splitlines()
    expected = golden_path(TES).read_text(encoding="utf-8").splitlines()
    assert lines[0].split()[:4] == ["starttime", "endtime", "direction", "event"]
    assert len(lines) == len(expected) + 1
    assert "unknown" not in "\n".join(lines)  # the CRM placeholder is not shown as if printed


def test_standard_input_gives_the_same_events_as_the_file():
    from_file = [json.loads(x) for x in parse(str(TES), "--layout", "panasonic-kx-tes", "--source", "s").splitlines()]
    from_stdin = [json.loads(x) for x in
                  parse("-", "--layout", "panasonic-kx-tes", "--source", "s", stdin=TES.read_bytes()).splitlines()]
    assert from_stdin == from_file and from_file
