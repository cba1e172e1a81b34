"""libyaml reads the files that load, the pure loader the ones that do not: the same data and the same
messages either way, and the same when libyaml is not installed at all."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from smdr import yamlfile, yamlparse
from smdr.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
needs_libyaml = pytest.mark.skipif(yamlparse._FastLoader is None, reason="PyYAML is built without libyaml here")

VALID = [
    "area_code: 021\npassword: 0123\ninternational_prefix: 00\nflag: yes\nnothing: ~\n",
    "quoted: '021'\ndouble: \"0098\"\nlist: [021, '021', 1.50, true]\nblock: |\n  two\n  lines\n",
    "base: &b {a: 1, b: 021}\nmerged:\n  <<: *b\n  c: 3\nitems:\n  - 007\n  - x\n  - {k: 00}\n",
    "",
    "# only a comment\n",
    "deep: " + "[" * 150 + "]" * 150 + "\n",
]
BROKEN = [
    "a: 1\n\tb: 2\n",
    "name:office\nurl: tcp://x\n",
    "a: 'never closed\nb: 2\n",
    "a: [1, 2\nb: 3\n",
    "a: 1\na: 2\n",
    "a: x\x07y\n",
    "- just\n- a list\n",
    "a: 1\n---\nb: 2\n",
    "deep: " + "[" * 1200 + "]" * 1200 + "\n",  # libyaml stops at 1000 levels, the pure loader goes on
    "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(  # an alias bomb: 9 ** 6 values
        f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcde", "bcdef")),
]


def outline(value: Any) -> Any:
    """Everything load keeps: values, their types, lines and written texts."""
    if isinstance(value, yamlfile.MarkedDict):
        return ("map", value.line, [(k, outline(value[k]), value.key_lines.get(k), value.texts.get(k)) for k in value])
    if isinstance(value, yamlfile.MarkedList):
        return ("list", value.line, [outline(v) for v in value], list(value.item_lines), list(value.texts))
    return (type(value).__name__, value)


def result(text: str) -> Any:
    try:
        return outline(yamlfile.load_text(text, "site.yaml").data)
    except ConfigError as exc:
        return ("error", str(exc), exc.line)


def both_ways(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    monkeypatch.setenv("SMDR_CACHE_DIR", "off")  # each read parses (test_yaml_cache.py checks the cache)
    fast = result(text)
    with monkeypatch.context() as patch:
        patch.setattr(yamlparse, "_FastLoader", None)
        pure = result(text)
    return fast, pure


def shipped_yaml() -> list[Path]:
    folders = ("parsers", "devices", "fixtures")
    found = [p for folder in folders for p in sorted((ROOT / folder).rglob("*.y*ml"))]
    return found + [ROOT / "smdr.example.yaml"]


def test_every_shipped_yaml_file_reads_the_same_with_either_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    files = shipped_yaml()
    assert len(files) > 20
    for path in files:
        fast, pure = both_ways(path.read_text(encoding="utf-8-sig"), monkeypatch)
        assert fast == pure, path


@pytest.mark.parametrize(("text", "outcome"), [(t, "map") for t in VALID] + [(t, "error") for t in BROKEN])
def test_values_lines_written_text_and_located_messages_are_the_same_with_either_loader(
        text: str, outcome: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken file gets the pure loader's located message whichever loader read it first."""
    fast, pure = both_ways(text, monkeypatch)
    assert fast == pure
    assert fast[0] == outcome


def test_a_written_scalar_keeps_its_text_from_libyaml_too() -> None:
    section = yamlfile.load_text("area_code: 021\nsend: [0123, x]\n", "site.yaml")
    assert section.get("area_code") == "021"
    assert section.str_list("send") == ["0123", "x"]


@needs_libyaml
def test_a_file_that_loads_is_read_once_by_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    pure_reads: list[str] = []
    real = yamlparse._load
    monkeypatch.setattr(yamlparse, "_load", lambda text, path: pure_reads.append(path) or real(text, path))
    yamlfile.load(ROOT / "parsers" / "panasonic-kx-tda.yaml")
    assert pure_reads == []
    with pytest.raises(ConfigError, match=r"^tab\.yaml:2: a tab"):
        yamlfile.load_text("a: 1\n\tb: 2\n", "tab.yaml")
    assert pure_reads == ["tab.yaml"]


def test_without_libyaml_the_pure_loader_reads_everything(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("layout: x\nname:office\n")
    code = textwrap.dedent(f"""
        import sys
        sys.modules["yaml._yaml"] = None  # as a PyYAML built without libyaml
        import yaml
        from smdr import yamlfile, yamlparse, layouts
        from smdr.errors import ConfigError
        assert not yaml.__with_libyaml__ and yamlparse._FastLoader is None
        info = layouts.find("panasonic-kx-tda")
        assert info.spec.name == "panasonic-kx-tda", info
        assert yamlfile.load_text("code: 021\\n", "x").get("code") == "021"
        try:
            yamlfile.load({str(broken)!r})
        except ConfigError as exc:
            print(exc)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "SMDR_CACHE_DIR": "off"})  # every file parsed, none from the cache
    assert done.returncode == 0, done.stderr
    assert "broken.yaml:2: write a space after the colon" in done.stdout, done.stdout


def test_libyaml_is_what_this_pyyaml_reports() -> None:
    assert (yamlparse._FastLoader is not None) == bool(getattr(yaml, "__with_libyaml__", False))
