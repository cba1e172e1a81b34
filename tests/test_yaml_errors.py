"""YAML mistakes a technician makes by hand: told in plain words at the line of the mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from smdr import config
from smdr.errors import ConfigError
from smdr.yamlfile import load, load_text

VALID_TAIL = "sources:\n  - name: pbx\n    url: file://x.smdr\n    layout: panasonic-kx-tda\n"


def error_of(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_text(text, "smdr.yaml")
    return caught.value


@pytest.mark.parametrize(("text", "line", "words"), [
    # 1. a tab in the indentation
    ("timezone: Asia/Tehran\nphone:\n\tarea_code: '21'\n", 3, "tab character"),
    # 2. key:value without the space, at the top, in a mapping, in a list item
    ("data_dir: d\ntimezone:Asia/Tehran\nmax_record: 4096\n", 2, "space after the colon: 'timezone: Asia/Tehran'"),
    ("crm:\n  url:http://crm/x\n  secretkey: s\n", 2, "space after the colon: 'url: http://crm/x'"),
    ("sources:\n  - name:office\n    url: tcp://h:1\n", 2, "space after the colon: 'name: office'"),
    # 3. indentation: a key outdented to no column above it, indented under a key that has a value,
    #    a list item's key under the dash
    ("crm:\n  url: x\n  secretkey: y\n\n  # comment\n method: GET\n  timeout: 3\npopup:\n  max_age: 1\n", 6,
     "indented to a column no key above it uses"),
    ("crm:\n  url: x\n    secretkey: y\n", 3, "indented more than line 2"),
    ("sources:\n  - name: a\n  url: x\n", 3, "not lined up"),
    # 4. a quote never closed
    ("data_dir: d\ngateway: \"Panasonic TDA\ntimezone: Asia/Tehran\n", 2, "quote opened on this line is never closed"),
    # 5. a list never closed
    ("phone:\n  local_lengths: [8, 7\n  area_code: '21'\n", 2, "is not closed with ]"),
    # and the example's old `output: -`
    ("output: -\n", 1, "write it in quotes: \"-\""),
    ("gateway: a: b\n", 1, "must be written in quotes"),
    ("gateway: @home\n", 1, "cannot start with @"),
])
def test_syntax_errors_in_plain_words_at_the_right_line(text: str, line: int, words: str) -> None:
    err = error_of(text)
    assert err.line == line, str(err)
    assert words in str(err)
    assert "<block" not in str(err) and "token" not in str(err)


def test_a_billion_laughs_is_refused_before_anything_expands() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))
    err = error_of(bomb + "sources: *i\n")
    assert "aliases" in str(err) and err.line == 1


def test_merge_keys_and_a_few_aliases_are_fine() -> None:
    section = load_text("base: &base {timezone: Asia/Tehran}\nother:\n  <<: *base\n  name: x\n", "f.yaml")
    assert section.section("other").get("timezone") == "Asia/Tehran"


@pytest.mark.parametrize(("content", "line", "words"), [
    (b"data_dir: d\ntimezone: Asia/\x00Tehran\n", 2, "NUL byte"),
    (b"data_dir: d\n\ngateway: \xff\xfe\n", 3, "not UTF-8"),
    (b"data_dir: d\ngateway: \x07\n", 2, "control character (code 7)"),
])
def test_binary_and_badly_encoded_files(tmp_path: Path, content: bytes, line: int | None, words: str) -> None:
    path = tmp_path / "smdr.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert caught.value.line == line and words in str(caught.value)


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "smdr.yaml"
    path.write_bytes("\ufeffgateway: دفتر\n".encode())
    assert load(path).get("gateway") == "دفتر"


def test_an_endless_file_is_not_read_to_the_end() -> None:
    with pytest.raises(ConfigError, match="not a settings file"):
        load("/dev/zero")


def test_a_folder_is_not_a_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        config.load(tmp_path)
