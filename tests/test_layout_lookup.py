"""A layout or device profile found by name reads its own file, and is the file reading every file would give."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import write_file

from smdr import devices, layouts, yamlfile
from smdr.errors import ConfigError, LayoutNotFound
from smdr.layouts.compiler import CompiledLayout
from smdr.resources import yaml_files
from smdr.yamlnames import declared_name

ROOT = Path(__file__).resolve().parent.parent
TDA = (ROOT / "parsers" / "panasonic-kx-tda.yaml").read_text(encoding="utf-8")


def renamed(name: str) -> str:
    """The bundled KX-TDA layout under another name (and with its own description)."""
    text = TDA.replace("layout: panasonic-kx-tda\n", f"layout: {name}\n", 1)
    assert text != TDA or name == "panasonic-kx-tda"
    return "description: the site's own\n" + "\n".join(
        line for line in text.splitlines() if not line.startswith("description:"))


@pytest.fixture
def files_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    read: list[str] = []
    real = yamlfile.load

    def counting(path: str | Path, *, cache: bool = False) -> yamlfile.Section:
        read.append(Path(path).name)
        return real(path, cache=cache)

    monkeypatch.setattr(yamlfile, "load", counting)
    return read


@pytest.mark.parametrize(("line", "name"), [
    ("layout: acme", "acme"), ("layout: 'acme-2'", "acme-2"), ('layout: "a.b_c"', "a.b_c"),
    ("layout: acme   # the old one", "acme"), ("layout:   acme  ", "acme"),
    ("layout: &n acme", None), ("layout: *n", None), ("layout: !!str acme", None), ('layout: "ac\\u006de"', None),
    ("layout:", None), ("layout: [a]", None),
])
def test_the_declared_name_is_taken_from_the_text_only_when_it_shows_plainly(
        tmp_path: Path, line: str, name: str | None) -> None:
    path = write_file(tmp_path / "x.yaml", f"description: d\n{line}\nfields: []\n")
    assert declared_name(path, "layout") == name


@pytest.mark.parametrize("text", [
    "layout: a\nlayout: b\n",                 # twice: a broken file, read in full to say so
    '"layout": a\n',                         # a quoted key
    "? layout\n: a\n",                       # an explicit key
    "{layout: a}\n",                         # flow style
    "notes: \"a quoted text\nlayout: a\"\nlayout: b\n",
    "description: no name at all\n",
])
def test_other_ways_to_write_the_name_are_read_in_full(tmp_path: Path, text: str) -> None:
    assert declared_name(write_file(tmp_path / "x.yaml", text), "layout") is None


def test_every_bundled_layout_and_profile_by_name_is_the_one_the_full_list_has(files_read: list[str]) -> None:
    every = layouts.available()
    for name, info in every.items():
        if info.spec is None:
            continue
        base = yamlfile.load(info.origin).raw("extends")
        chain = [Path(info.origin).name] + ([Path(every[base].origin).name] if base else [])
        files_read.clear()
        found = layouts.find(name)
        assert found.origin == info.origin and found.spec == info.spec, name
        assert files_read == chain, name
    for name, device in devices.available().items():
        assert devices.find(name) == device


def test_a_layout_by_name_reads_its_own_file_and_what_it_extends(files_read: list[str]) -> None:
    assert layouts.find("panasonic-kx-tda").spec.name == "panasonic-kx-tda"
    assert files_read == ["panasonic-kx-tda.yaml"]
    files_read.clear()
    assert layouts.find("panasonic-kx-tda-b").spec.name == "panasonic-kx-tda-b"
    assert files_read == ["panasonic-kx-tda-b.yaml", "panasonic-kx-tda.yaml"]
    files_read.clear()
    assert devices.find("panasonic-kx-tda").layout == "panasonic-kx-tda"
    assert files_read == ["panasonic-kx-tda.yaml"]
    assert len(yaml_files("parsers")) > 10


def test_a_user_file_of_another_file_name_still_replaces_the_bundled_layout(tmp_path: Path) -> None:
    write_file(tmp_path / "site-tda.yaml", renamed("panasonic-kx-tda"))
    info = layouts.find("panasonic-kx-tda", [str(tmp_path)])
    every = layouts.available([str(tmp_path)])
    assert info.origin == str(tmp_path / "site-tda.yaml") == every["panasonic-kx-tda"].origin
    assert isinstance(info.compile(), CompiledLayout)
    # and what extends it now extends the site's file, as with every file read
    assert layouts.find("panasonic-kx-tda-b", [str(tmp_path)]).spec == every["panasonic-kx-tda-b"].spec


def test_a_name_written_in_a_form_the_text_does_not_show_is_found_too(tmp_path: Path) -> None:
    write_file(tmp_path / "a-site.yaml", renamed("x").replace("layout: x", '"layout": panasonic-kx-tda'))
    assert layouts.find("panasonic-kx-tda", [str(tmp_path)]).origin == str(tmp_path / "a-site.yaml")


def test_a_broken_file_is_reported_when_it_is_read_and_left_alone_when_it_is_not(tmp_path: Path) -> None:
    write_file(tmp_path / "acme.yaml", renamed("acme"))
    write_file(tmp_path / "broken.yaml", "layout: broken\nname:office\n")
    assert layouts.find("acme", [str(tmp_path)]).spec.name == "acme"
    with pytest.raises(ConfigError, match=r"broken\.yaml:2"):
        layouts.find("broken", [str(tmp_path)])
    with pytest.raises(ConfigError, match=r"broken\.yaml:2"):
        layouts.available([str(tmp_path)])  # as `smdr layouts` and detection read every file


def test_an_unknown_name_still_gets_the_close_names() -> None:
    with pytest.raises(LayoutNotFound, match=r"no layout named 'panasonic-kx-tdx' \(did you mean panasonic-kx-td"):
        layouts.find("panasonic-kx-tdx")
    with pytest.raises(ConfigError, match="no device profile named 'nope'; `smdr devices` lists them"):
        devices.find("nope")


def test_a_device_profile_in_a_user_folder_replaces_the_bundled_one(tmp_path: Path) -> None:
    write_file(tmp_path / "my-tda.yaml", "device: panasonic-kx-tda\nlayout: panasonic-kx-tda-b\n")
    assert devices.find("panasonic-kx-tda", [str(tmp_path)]).layout == "panasonic-kx-tda-b"
    assert devices.find("panasonic-kx-tda").layout == "panasonic-kx-tda"


def test_a_file_saved_on_windows_shows_its_name_too(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"\xef\xbb\xbfdescription: d\r\nlayout: acme  \r\nfields: []\r\n")
    assert declared_name(path, "layout") == "acme"
