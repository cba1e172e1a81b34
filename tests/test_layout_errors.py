"""Layout errors are located: file, line and key, also through extends and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import run_smdr, write_file

from smdr import layouts
from smdr.decoder import Decoder
from smdr.errors import ConfigError
from smdr.normalize import Localizer, PhoneRules, zone


def write(folder: Path, name: str, text: str) -> Path:
    return write_file(folder / name, text)




# ---------------------------------------------------------------------------------------------------
# located errors

BASE_OK = """layout: e
format: fixed
fields:
  date: {cols: [0, 7], type: date}
  time: {cols: [9, 13], type: time}
  num: {cols: [15, 30]}
"""


@pytest.mark.parametrize(("name", "text", "line_no", "key"), [
    ("unknown-key.yaml", BASE_OK + "bogus_key: 1\n", 7, "bogus_key"),
    ("bad-pattern.yaml",
     "layout: e\nformat: regex\npattern: '(?P<date>\\S+ (?P<time>'\nfields:\n  date: {}\n  time: {}\n", 3, "pattern"),
    ("bad-rule-regex.yaml",
     BASE_OK + "rules:\n  - set: {direction: outbound}\n  - when: {num: {match: '([a-'}}\n    set: {event: busy}\n",
     9, "rules[1].when.num.match"),
    ("bad-skip-regex.yaml", BASE_OK + "skip:\n  - {reason: x, match: '(unclosed'}\n", 8, "skip[0].match"),
    ("unknown-field.yaml",
     BASE_OK + "rules:\n  - set: {direction: outbound}\n  - when: {nosuch: X}\n    set: {event: no_answer}\n",
     9, "rules[1].when.nosuch"),
    ("unknown-group.yaml",
     BASE_OK + ("rules:\n  - when: {num: {match: '^(?P<cid>[0-9]+)'}}\n    set:\n      direction: inbound\n"
                "      phone: '{cidd}'\n"), 11, "rules[0].set.phone"),
    ("no-time.yaml", "layout: e\nformat: fixed\nfields:\n  date: {cols: [0, 7], type: date}\n", 3, "fields"),
    ("bad-direction.yaml", BASE_OK + "rules:\n  - set:\n      direction: sideways\n", 9, "rules[0].set.direction"),
    ("bad-cols.yaml", ("layout: e\nformat: fixed\nfields:\n  date: {cols: [0, 7], type: date}\n"
                       "  time:\n    cols: [13, 9]\n"), 6, "fields.time.cols"),
    ("dup-key.yaml", BASE_OK + "format: csv\n", 7, "format"),
])
def test_located_layout_errors(tmp_path: Path, name: str, text: str, line_no: int, key: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        layouts.load(str(path))
    err = exc.value
    assert (err.path, err.line, err.key) == (str(path), line_no, key)
    message = str(err)
    assert f"{name}:{line_no}" in message
    assert key in message


def test_located_error_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text(BASE_OK + "rules:\n  - set: {direction: outbound}\n    stopp: true\n", encoding="utf-8")
    capture = tmp_path / "x.smdr"
    capture.write_bytes(b"")
    result = run_smdr("parse", str(capture), "--layout", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert "typo.yaml:9" in result.stderr
    assert "stopp" in result.stderr and "did you mean 'stop'" in result.stderr
    assert "Traceback" not in result.stderr


def test_non_number_compared_with_a_duration_field_is_a_located_error(tmp_path: Path) -> None:
    path = write(tmp_path, "eq-int.yaml", """
        layout: eq-int
        format: fixed
        fields:
          date: {cols: [0, 7], type: date}
          time: {cols: [9, 13], type: time}
          dur: {cols: [15, 20], type: duration}
        rules:
          - when: {dur: none}
            set: {direction: outbound}
        """)
    with pytest.raises(ConfigError) as exc:
        layouts.load(str(path))
    assert exc.value.line == 8 and "dur" in str(exc.value)


def test_duration_set_from_a_match_group_does_not_crash_the_decoder(tmp_path: Path) -> None:
    path = write(tmp_path, "dur-group.yaml", r"""
        layout: dur-group
        format: regex
        pattern: '^(?P<date>\S+) (?P<time>\S+) (?P<rest>.*)$'
        fields:
          date: {}
          time: {}
          rest: {}
        rules:
          - when: {rest: {match: 'd=(?P<secs>\d+)'}}
            set: {direction: outbound, duration: '{secs}'}
        """)
    try:
        parser = layouts.load(str(path))
    except ConfigError:
        return  # refusing the layout at load time is a fine answer too
    decoder = Decoder("t", parser, localize=Localizer(zone("Asia/Tehran")), phone=PhoneRules())
    events = decoder.feed(b"11/21/26 08:03 d=17\n")
    assert [e.duration for e in events] == [17] or decoder.quarantine.total == 1


def test_error_in_inherited_rules_points_at_an_existing_line(tmp_path: Path) -> None:
    child = write(tmp_path, "child.yaml", """
        layout: no-cd
        extends: panasonic-kx-tda
        fields:
          date: {cols: [0, 7], type: date}
          time: {cols: [9, 15], type: time}
          ext: {cols: [17, 21]}
          co: {cols: [23, 24]}
          dial: {cols: [26, 50]}
          ring: {cols: [52, 55], type: ring}
          duration: {cols: [57, 64], type: duration}
          account: {cols: [66, 75]}
        """)
    with pytest.raises(ConfigError) as exc:
        layouts.load(str(child))
    err = exc.value
    assert "cd" in str(err)
    lines = Path(err.path).read_text(encoding="utf-8").splitlines()
    assert err.line is not None and err.line <= len(lines), f"{err}: {err.path} has {len(lines)} lines"
    assert "cd" in lines[err.line - 1] or "fields" in lines[err.line - 1]
