"""A key read as text keeps the characters as written: YAML 1.1 reads 021 as octal 17, 00 as 0, 0123 as 83.

An Iranian technician writes `area_code: 021`; without this the local caller 88776655 reached the CRM
as 01788776655, silently.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import write_file

from smdr import config, devices, layouts, yamlfile
from smdr.crm.settings import CrmSettings
from smdr.normalize import PhoneRules


@pytest.mark.parametrize(("written", "text"), [
    ("021", "021"), ("00", "00"), ("0123", "0123"), ("0", "0"), ("098", "098"), ("0x1F", "0x1F"),
    ("1:30", "1:30"), ("1e3", "1e3"), ("yes", "yes"), ("off", "off"), ("12", "12"), ("+98", "+98"),
])
def test_get_as_text_returns_the_scalar_as_written(written: str, text: str) -> None:
    section = yamlfile.load_text(f"key: {written}\nlist: [{written}, x]\n", "x.yaml")
    assert section.get("key", str) == text
    assert section.str_list("list") == [text, "x"]


def test_typed_reads_are_unchanged() -> None:
    section = yamlfile.load_text("n: 12\nf: 1.5\nb: true\no: 021\n", "x.yaml")
    assert section.get("n", int) == 12 and section.get("f", float) == 1.5 and section.get("b", bool) is True
    assert section.raw("o") == 17  # the YAML value is still there for typed reads


@pytest.mark.parametrize(("key", "written", "attribute", "expected"), [
    ("area_code", "021", "area_code", "021"),
    ("international_prefix", "00", "international_prefix", "00"),
    ("national_prefix", "0", "national_prefix", "0"),
    ("country_code", "098", "country_code", "098"),
    ("hidden_digits", "0", "hidden_digits", "0"),
])
def test_phone_keys_keep_their_text(key: str, written: str, attribute: str, expected: str) -> None:
    rules = PhoneRules.from_section(yamlfile.load_text(f"{key}: {written}\n", "x.yaml"))
    assert getattr(rules, attribute) == expected


def test_strip_prefixes_keep_their_leading_zeros() -> None:
    rules = PhoneRules.from_section(yamlfile.load_text("strip_prefixes: [0, 09, 00]\n", "x.yaml"))
    assert rules.strip_prefixes == ("0", "09", "00")


def test_area_code_021_reaches_the_crm_as_021(tmp_path: Path) -> None:
    write_file(tmp_path / "smdr.yaml", """
        phone:
          area_code: 021
          local_lengths: [8]
          international_prefix: 00
          national_prefix: 0
        sources:
          - {name: pbx, url: "tcp://10.0.0.5:2300", layout: panasonic-kx-tda}
        """)
    settings = config.load(tmp_path / "smdr.yaml")
    (source,) = settings.sources
    assert source.phone.normalize("88776655", "inbound") == ("02188776655", "inbound")
    assert source.phone.normalize("+442071234567", "inbound") == ("00442071234567", "inbound")
    assert settings.phone.area_code == "021"


def test_passwords_and_users_keep_their_text(tmp_path: Path) -> None:
    (tmp_path / "devices").mkdir()
    write_file(tmp_path / "devices" / "acme.yaml", """
        device: acme
        layout: panasonic-kx-tda
        tcp: {port: 2300, login: panasonic, user: 007, password: 0123}
        """)
    write_file(tmp_path / "smdr.yaml", """
        device_dirs: [devices]
        sources:
          - {name: a, url: "tcp://10.0.0.5", device: acme}
          - {name: b, url: "tcp://10.0.0.6", device: acme, password: 0456, user: 00}
          - name: c
            url: tcp://10.0.0.7:23
            layout: panasonic-kx-tda
            login: [{expect: "Password:"}, {send: 0789}]
        """)
    a, b, c = config.load(tmp_path / "smdr.yaml").sources
    assert "password=0123" in a.url and "user=007" in a.url
    assert b.transport_options == {"password": "0456", "user": "00"}
    assert c.transport_options["login_script"] == [{"expect": "Password:"}, {"send": "0789"}]
    device = devices.find("acme", [str(tmp_path / "devices")])
    assert device.tcp["password"] == "0123"


def test_crm_secretkey_and_placeholders_keep_their_text() -> None:
    section = yamlfile.load_text("crm:\n  url: https://crm.example/api\n  secretkey: 0123\n"
                                 "  unknown_phone: 0000\n  unknown_agent: 0100\n", "smdr.yaml")
    settings = CrmSettings.from_section(section.section("crm"))
    assert (settings.secretkey, settings.unknown_phone, settings.unknown_agent) == ("0123", "0000", "0100")


LAYOUT = """
layout: zeros
format: fixed
fields:
  date: {cols: [0, 7], type: date}
  time: {cols: [9, 13], type: time}
  co: {cols: [15, 16]}
  dial: {cols: [18, 29]}
  duration: {cols: [31, 38], type: duration}
generic: {linename: co, phone: dial, duration: duration}
rules:
  - when: {co: 00}
    set: {direction: outbound, account: 007}
  - when: {co: [01, 02]}
    set: {direction: inbound}
  - when: {dial: {startswith: 09}}
    set: {agent: 0100}
"""


def test_layout_values_keep_their_text(tmp_path: Path) -> None:
    path = write_file(tmp_path / "zeros.yaml", LAYOUT)
    parser = layouts.find(str(path)).compile("DMY")
    out = parser.parse(b"01/02/07 20:42 00 09121234567  00:00'13")
    assert out is not None
    assert (out.direction, out.account, out.agent) == ("outbound", "007", "0100")
    inbound = parser.parse(b"01/02/07 20:42 02 88776655     00:00'13")
    assert inbound is not None and inbound.direction == "inbound"


def test_an_extending_layout_keeps_the_text_of_inherited_values(tmp_path: Path) -> None:
    write_file(tmp_path / "zeros.yaml", LAYOUT)
    child = write_file(tmp_path / "child.yaml", "layout: zeros-child\nextends: zeros\n")
    parser = layouts.find(str(child), [str(tmp_path)]).compile("DMY")
    out = parser.parse(b"01/02/07 20:42 00 09121234567  00:00'13")
    assert out is not None and out.account == "007"
