"""smdr.yamlcache: a YAML text read before comes back from disk exactly as parsed, and never wrongly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_yaml_loaders import outline, shipped_yaml

from smdr import yamlcache, yamlfile, yamlparse
from smdr.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(yamlcache.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache" / "yaml"


def no_parse(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Parses from here on are recorded (and still done)."""
    parsed: list[str] = []
    real = yamlparse.load
    monkeypatch.setattr(yamlparse, "load", lambda text, path: parsed.append(path) or real(text, path))
    return parsed


def test_every_shipped_yaml_file_comes_back_from_the_cache_as_parsed(cache: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    files = shipped_yaml()
    first = {path: outline(yamlfile.load(path, cache=True).data) for path in files}
    assert len(list(cache.glob("*.marshal"))) == len({p.read_bytes() for p in files})
    parsed = no_parse(monkeypatch)
    again = {path: outline(yamlfile.load(path, cache=True).data) for path in files}
    assert again == first
    assert parsed == []


def test_a_changed_file_is_parsed_again(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("area_code: 021\n")
    assert yamlfile.load(site, cache=True).get("area_code") == "021"
    site.write_text("area_code: 031\n")
    parsed = no_parse(monkeypatch)
    assert yamlfile.load(site, cache=True).get("area_code") == "031"
    assert parsed == [str(site)]


@pytest.mark.parametrize("module", ["yamlparse.py", "yamlfile.py", "yamlnodes.py", "yamlerrors.py"])
def test_an_entry_made_by_other_yaml_code_of_smdr_is_another_entry(module: str, cache: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    code = tmp_path / "smdr"
    code.mkdir()
    for name in ("yamlparse.py", "yamlfile.py", "yamlnodes.py", "yamlerrors.py"):
        (code / name).write_bytes((ROOT / "smdr" / name).read_bytes())
    monkeypatch.setattr(yamlcache, "_HERE", code)
    monkeypatch.setattr(yamlcache._STATE, "salt", None)
    before = yamlcache._entry("layout: x\n")
    with open(code / module, "a", encoding="utf-8") as handle:
        handle.write("# another release\n")
    monkeypatch.setattr(yamlcache._STATE, "salt", None)  # a new process works it out again
    assert yamlcache._entry("layout: x\n") != before


def test_a_broken_entry_is_parsed_again_and_written_anew(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "name: office\nlines: [1, 2]\n"
    expected = outline(yamlfile.load_text(text, "a.yaml", cache=True).data)
    entry, = cache.glob("*.marshal")
    for garbage in (b"", b"\x00not marshal", entry.read_bytes()[:7], b"\xe9" + b"(" * 40):
        entry.write_bytes(garbage)
        parsed = no_parse(monkeypatch)
        assert outline(yamlfile.load_text(text, "a.yaml", cache=True).data) == expected
        assert parsed == ["a.yaml"]
        monkeypatch.undo()
        monkeypatch.setenv(yamlcache.CACHE_ENV, str(cache.parent))
    assert outline(yamlfile.load_text(text, "a.yaml", cache=True).data) == expected


def test_an_entry_that_is_other_marshal_data_is_not_taken(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import marshal

    text = "a: 1\n"
    yamlfile.load_text(text, "a.yaml", cache=True)
    entry, = cache.glob("*.marshal")
    for other in ({"a": 2}, ("map", 1, ("a",), (2,)), ("list", 1, (), (), ()), [1, 2]):
        entry.write_bytes(marshal.dumps(other))
        assert yamlfile.load_text(text, "a.yaml", cache=True).raw("a") == 1, other


def test_what_marshal_cannot_hold_is_parsed_each_time(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "since: 2026-01-14\npairs: !!omap [{a: 1}]\n"
    first = yamlfile.load_text(text, "a.yaml", cache=True)
    assert not list(cache.glob("*.marshal"))
    parsed = no_parse(monkeypatch)
    assert yamlfile.load_text(text, "a.yaml", cache=True).raw("since") == first.raw("since")
    assert parsed == ["a.yaml"]


def test_errors_are_never_cached(cache: Path) -> None:
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"^tab\.yaml:2: a tab"):
            yamlfile.load_text("a: 1\n\tb: 2\n", "tab.yaml", cache=True)
        with pytest.raises(ConfigError, match="must hold a mapping"):
            yamlfile.load_text("- a list\n", "list.yaml", cache=True)
    assert not list(cache.glob("*.marshal"))


def test_a_folder_that_cannot_be_written_costs_only_the_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder would be")
    monkeypatch.setenv(yamlcache.CACHE_ENV, str(blocked))
    for _ in range(2):
        assert yamlfile.load_text("a: 021\n", "a.yaml", cache=True).get("a") == "021"


def test_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(yamlcache.CACHE_ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert yamlcache.folder() is None
    yamlfile.load_text("a: 1\n", "a.yaml", cache=True)
    assert not list(tmp_path.rglob("*.marshal"))


def test_the_default_folder_is_the_users_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(yamlcache.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    expected = {"win32": tmp_path / "local", "darwin": Path.home() / "Library" / "Caches"}.get(
        sys.platform, tmp_path / "xdg")
    assert yamlcache.folder() == expected / "smdr" / "yaml"


def test_a_short_parse_with_a_warm_cache_does_not_import_pyyaml(tmp_path: Path) -> None:
    """`smdr parse --layout` of a few lines: the second run reads its layout from the cache."""
    capture = tmp_path / "ten.smdr"
    capture.write_bytes((ROOT / "fixtures" / "panasonic" / "kx-tda-a.smdr").read_bytes()[:900])
    code = ("import runpy, sys\n"
            f"sys.argv = ['smdr', 'parse', {str(capture)!r}, '--layout', 'panasonic-kx-tda', '--source', 'x']\n"
            "try:\n    runpy.run_module('smdr', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print('pyyaml imported:', 'yaml' in sys.modules, file=sys.stderr)\n")
    env = {**os.environ, yamlcache.CACHE_ENV: str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                           env=env) for _ in range(2)]
    assert [run.returncode for run in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    assert "pyyaml imported: True" in runs[0].stderr
    assert "pyyaml imported: False" in runs[1].stderr
    assert runs[0].stdout == runs[1].stdout and runs[0].stdout.count("\n") >= 5


def test_a_sites_settings_and_its_own_profiles_are_never_kept(cache: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """smdr.yaml holds the CRM secret, a site's device profile may hold a PBX password: neither is copied
    into the cache. Layouts and the profiles smdr ships are."""
    from smdr import config, devices, layouts

    site = tmp_path / "smdr.yaml"
    site.write_text("sources:\n  - name: pbx\n    url: tcp://127.0.0.1:2300\n    layout: panasonic-kx-tda\n"
                    "crm:\n  url: http://127.0.0.1:9/x\n  secretkey: \"never-in-the-cache\"\n")
    own = tmp_path / "profiles"
    own.mkdir()
    (own / "site-pbx.yaml").write_text(
        "device: site-pbx\ntitle: ours\nlayout: panasonic-kx-tda\n"
        "tcp: {port: 2300, login: panasonic, user: SMDR, password: never-in-the-cache-2}\n")
    monkeypatch.setenv("SMDR_DEVICES_PATH", str(own))
    config.load(site)
    yamlfile.load(site)
    devices.find("site-pbx")
    layouts.find("panasonic-kx-tda")
    devices.find("panasonic-kx-tda")
    kept = list(cache.glob("*.marshal"))
    assert kept and not any(b"never-in-the-cache" in entry.read_bytes() for entry in kept)
    for private in (site, own / "site-pbx.yaml"):
        assert not yamlcache._entry(private.read_text()).exists(), private
    for shipped in (ROOT / "parsers" / "panasonic-kx-tda.yaml", ROOT / "devices" / "panasonic-kx-tda.yaml"):
        assert yamlcache._entry(shipped.read_text(encoding="utf-8-sig")).exists(), shipped
