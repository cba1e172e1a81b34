"""smdr.yaml: sources with device profiles, located errors, and `smdr devices` / `smdr layouts`."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from cli_support import run_smdr, write_file

from smdr import config
from smdr.errors import ConfigError
from smdr.resources import bundled_dir
from smdr.transports.urls import parse_url
from smdr.yamlfile import load as load_yaml


def write(folder: Path, text: str, name: str = "smdr.yaml") -> Path:
    return write_file(folder / name, text)


def config_error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as exc:
        config.load(path)
    return exc.value


VALID = """
timezone: Asia/Tehran
phone:
  area_code: "21"
  local_lengths: [8]
data_dir: var/smdr
sources:
  - name: ns1000
    device: panasonic-kx-tda
    url: tcp://192.168.0.101
  - name: tes
    device: panasonic-kx-tes
    url: serial:///dev/ttyUSB0
    phone: {strip_prefixes: ["9"]}
  - name: hotel
    device: panasonic-kx-tda
    url: tcp://10.0.0.5:5000?user=HOTEL
    layout: panasonic-kx-tda-b
    date_order: MDY
    timezone: Asia/Dubai
    fold_tolerance: 60
  - name: ta
    device: panasonic-kx-ta
    url: serial://COM3?baudrate=19200
"""


def test_valid_config_fills_in_device_defaults(tmp_path: Path) -> None:
    settings = config.load(write(tmp_path, VALID))
    by_name = {s.name: s for s in settings.sources}
    assert list(by_name) == ["ns1000", "tes", "hotel", "ta"]

    ns = by_name["ns1000"]
    url = parse_url(ns.url)
    assert (url.scheme, url.host_port(ns.url)) == ("tcp", ("192.168.0.101", 2300))
    assert url.query == {"login": "panasonic", "user": "SMDR", "password": "PCCSMDR"}
    assert (ns.layout, ns.date_order, ns.timezone) == ("panasonic-kx-tda", "DMY", "Asia/Tehran")

    hotel = by_name["hotel"]
    url = parse_url(hotel.url)
    assert url.host_port(hotel.url) == ("10.0.0.5", 5000)            # the URL's own port wins
    assert url.query["user"] == "HOTEL" and url.query["login"] == "panasonic"
    assert (hotel.layout, hotel.date_order, hotel.timezone, hotel.tolerance) == (
        "panasonic-kx-tda-b", "MDY", "Asia/Dubai", 60)

    ta = parse_url(by_name["ta"].url)
    assert ta.target == "COM3"
    assert ta.query["baudrate"] == "19200"                             # the URL's own baud rate wins
    assert (ta.query["parity"], ta.query["bytesize"], ta.query["stopbits"]) == ("N", "8", "1")
    assert by_name["ta"].date_order == "DMY"

    assert settings.data_dir == tmp_path / "var" / "smdr"
    assert settings.quarantine_path == tmp_path / "var" / "smdr" / "quarantine.jsonl"
    assert settings.phone.area_code == "21" and settings.phone.local_lengths == (8,)
    tes = by_name["tes"]
    assert tes.phone.strip_prefixes == ("9",) and tes.phone.area_code == "21"   # per-source rules on top
    assert tes.layout == "panasonic-kx-tes" and tes.date_order == "MDY"


def test_serial_device_path_url_gets_baudrate_from_the_device(tmp_path: Path) -> None:
    settings = config.load(write(tmp_path, VALID))
    tes = next(s for s in settings.sources if s.name == "tes")
    url = parse_url(tes.url)
    assert (url.scheme, url.target) == ("serial", "/dev/ttyUSB0")
    assert url.query == {"baudrate": "9600", "parity": "N", "bytesize": "8", "stopbits": "1"}


def test_relative_file_url_is_relative_to_the_config_file(tmp_path: Path) -> None:
    path = write(tmp_path, """
        sources:
          - name: replay
            url: file://captures/site.smdr?speed=2
            layout: panasonic-kx-tda
        """)
    (src,) = config.load(path).sources
    url = parse_url(src.url)
    assert url.target == str(tmp_path / "captures" / "site.smdr")
    assert url.query == {"speed": "2"}


def test_unknown_top_level_key_with_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, "timezone: Asia/Tehran\ntimezon: Asia/Tehran\nsources: []\n")
    err = config_error(path)
    assert (err.path, err.line, err.key) == (str(path), 2, "timezon")
    assert "smdr.yaml:2" in str(err) and "did you mean 'timezone'" in str(err)


def test_unknown_source_key_with_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, """
        sources:
          - name: a
            url: tcp://h:1
            layout: panasonic-kx-tda
            gatway: front
        """)
    err = config_error(path)
    assert (err.line, err.key) == (5, "sources[0].gatway")
    assert "did you mean 'gateway'" in str(err)


def test_bad_timezone(tmp_path: Path) -> None:
    err = config_error(write(tmp_path, "sources: []\ntimezone: Asia/Tehrn\n"))
    assert (err.line, err.key) == (2, "timezone")
    assert "smdr.yaml:2" in str(err) and "Asia/Tehrn" in str(err)


def test_bad_timezone_on_a_source(tmp_path: Path) -> None:
    err = config_error(write(tmp_path, """
        sources:
          - name: a
            url: tcp://h:1
            layout: panasonic-kx-tda
            timezone: Europe/Nowhere
        """))
    assert (err.line, err.key) == (5, "sources[0].timezone")


def test_unknown_layout_names_close_matches(tmp_path: Path) -> None:
    err = config_error(write(tmp_path, """
        sources:
          - name: ok
            url: tcp://h:1
            layout: panasonic-kx-tda
          - name: typo
            url: tcp://h:2
            layout: panasonic-kx-tdx
        """))
    assert (err.line, err.key) == (7, "sources[1].layout")
    assert "smdr.yaml:7" in str(err) and "panasonic-kx-tdx" in str(err) and "panasonic-kx-tda" in str(err)


def test_unknown_device(tmp_path: Path) -> None:
    err = config_error(write(tmp_path, "sources:\n  - name: a\n    url: tcp://h\n    device: panasonic-kx-tdz\n"))
    assert (err.line, err.key) == (4, "sources[0].device")


def test_duplicate_source_names(tmp_path: Path) -> None:
    path = write(tmp_path, """
        timezone: Asia/Tehran
        sources:
          - name: a
            url: tcp://h:1
            layout: panasonic-kx-tda
          - name: a
            url: tcp://h:2
            layout: panasonic-kx-tda
        """)
    err = config_error(path)
    assert err.path == str(path) and err.line is not None
    assert err.key is not None and err.key.startswith("sources")
    assert f"smdr.yaml:{err.line}" in str(err) and "same name" in str(err)
    assert err.line == 6 and "'a'" in str(err)  # the second 'a', not the sources: line



def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    err = config_error(write(tmp_path, "sources:\n  - name: a\n    url: tcp://h:1\n   layout: x\n"))
    assert err.line == 4 and "smdr.yaml:4" in str(err) and "indented" in str(err)


def test_duplicate_key_is_located(tmp_path: Path) -> None:
    err = config_error(write(tmp_path, "timezone: Asia/Tehran\nsources: []\ntimezone: UTC\n"))
    assert (err.line, err.key) == (3, "timezone")


def test_config_error_through_the_cli_has_no_traceback(tmp_path: Path) -> None:
    cfg = write(tmp_path, "timezon: UTC\nsources: []\n")
    capture = tmp_path / "c.smdr"
    capture.write_bytes(b"")
    result = run_smdr("parse", str(capture), "--layout", "panasonic-kx-tda", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 2
    assert "smdr.yaml:1" in result.stderr and "did you mean 'timezone'" in result.stderr
    assert "Traceback" not in result.stderr


def test_parse_takes_timezone_and_phone_rules_from_the_config(tmp_path: Path) -> None:
    cfg = write(tmp_path, 'timezone: UTC\nphone: {area_code: "31", local_lengths: [8]}\nsources: []\n')
    capture = tmp_path / "c.smdr"
    capture.write_bytes(b"21/11/26 08:06AM   103 03 <I>32223344               0'04 00:00'47               \r\n")
    result = run_smdr("parse", str(capture), "--layout", "panasonic-kx-tda", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (event,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert event["phone"] == "03132223344"
    assert event["endtime"] == "2026-11-21T08:06:00+00:00"


def _bundled_names(kind: str, key: str) -> list[str]:
    folder = bundled_dir(kind)
    assert folder is not None
    return sorted(str(load_yaml(p).get(key)) for p in folder.glob("*.yaml"))


def test_smdr_devices_lists_every_bundled_profile(tmp_path: Path) -> None:
    result = run_smdr("devices", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    listed = sorted(line.split()[0] for line in result.stdout.splitlines() if line.strip())
    expected = _bundled_names("devices", "device")
    assert listed == expected
    assert {"panasonic-kx-tda", "panasonic-kx-tes", "panasonic-kx-td", "panasonic-kx-ta"} <= set(expected)
    assert "[layout panasonic-kx-tda]" in result.stdout


def test_smdr_devices_shows_one_profile_without_the_password(tmp_path: Path) -> None:
    result = run_smdr("devices", "panasonic-kx-tda", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "port=2300" in result.stdout and "baudrate=9600" in result.stdout
    assert "password=***" in result.stdout and "PCCSMDR" not in result.stdout.split("\n\n")[0]


def test_smdr_layouts_lists_every_bundled_layout(tmp_path: Path) -> None:
    result = run_smdr("layouts", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    listed = sorted(line.split()[0] for line in result.stdout.splitlines() if line.strip())
    code_parsers = {ep.name for ep in entry_points(group="smdr.parsers") if ep.value.startswith("smdr.")}
    assert listed == sorted(set(_bundled_names("parsers", "layout")) | code_parsers)
    assert {"callerid-fsk", "callerid-modem", "whozz-calling-el", "ncid", "oj-segal"} <= code_parsers
    assert {"panasonic-kx-tda", "panasonic-kx-tda-b", "panasonic-kx-tda-c", "panasonic-kx-td",
            "panasonic-kx-tes", "panasonic-kx-ta"} <= set(listed)


def test_smdr_layouts_shows_the_compiled_parser_only_when_asked(tmp_path: Path) -> None:
    result = run_smdr("layouts", "panasonic-kx-ta", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "panasonic-kx-ta:" in result.stdout
    assert "def parse(line" not in result.stdout and "--code" in result.stdout
    result = run_smdr("layouts", "panasonic-kx-ta", "--code", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "def parse(line" in result.stdout  # the typed code where the compiled build runs it


def test_a_bad_port_setting_is_a_located_error_when_the_config_loads(tmp_path: Path) -> None:
    # Not after months of a daemon that silently reads nothing.
    path = write(tmp_path, """
        sources:
          - name: pbx
            url: serial://COM3?baudrate=96OO
            layout: panasonic-kx-tda
        """)
    err = config_error(path)
    assert err.line == 3 and err.key == "sources[0].url" and "baudrate" in str(err)
