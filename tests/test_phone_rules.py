"""Phone rules for what PBXs print around a number: hidden digits, dial controls, a missing national 0,
and where the rules come from (device profile, config, source)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import events_of, write_file

from smdr import config, devices, yamlfile
from smdr.cli.main import main
from smdr.errors import ConfigError
from smdr.normalize import PhoneRules
from smdr.pipeline import SourceSpec, make_decoder

TEHRAN = PhoneRules(area_code="21", local_lengths=(8,))


@pytest.mark.parametrize(("number", "direction"), [
    ("123..............", "outbound"),           # Panasonic secret dialling (KX-NS1000 manual example)
    (".................86629144", "outbound"),    # shape seen on a real KX-TDA600
    ("092. . .1438", "outbound"),                 # KX-TA616 manual sample
    ("123456XX", "outbound"),                     # privacy dial
    ("0218877????", "inbound"),                   # HiPath "last 4 digits suppressed"
    ("02188776655.", "inbound"),
])
def test_hidden_digits_make_the_number_unknown(number: str, direction: str) -> None:
    assert TEHRAN.normalize(number, direction) == ("", direction)


def test_hidden_digits_rule_is_configurable() -> None:
    dots_are_separators = PhoneRules(hidden_digits="?")
    assert dots_are_separators.normalize("021.8877.6655", "inbound") == ("02188776655", "inbound")
    assert dots_are_separators.normalize("02188776???", "inbound") == ("", "inbound")
    off = PhoneRules(hidden_digits="")
    assert off.normalize("0218877????", "inbound") == ("0218877????", "inbound")  # kept as printed


def test_names_with_the_hidden_digit_characters_stay_names() -> None:
    assert TEHRAN.normalize("ALEX", "inbound") == ("ALEX", "inbound")
    assert TEHRAN.normalize("Dr. Ali", "inbound") == ("Dr. Ali", "inbound")


@pytest.mark.parametrize(("number", "expected"), [
    ("02188776655P123", "02188776655"),     # pause, then the far end's extension
    ("02188776655#123", "02188776655"),     # DTMF sent after the call connected
    ("02188776655*5", "02188776655"),
    ("44890531#1", "02144890531"),          # a real KX-TDA600 shape; local number gets the area code
    ("89264522101*", "89264522101"),        # a real KX-TDA600 shape: a trailing star
    ("9PP02188776655", "902188776655"),     # pauses after an access digit: the number goes on
    ("8PP8313287326", "88313287326"),       # real KX-TD816 shape
    ("P09121234567", "09121234567"),        # a leading pause (real KX-T1232 shape)
    ("9P02188776655P12", "902188776655"),   # both: pause after the access code, post-dial digits
    ("0218877665F5", "0218877665"),         # EFA signal after the number
    ("*72#", "*72#"),                       # feature codes start with * or #: kept
    ("#21#", "#21#"),
    ("9*72", "9*72"),                       # * inside a short code: not a number, kept as dialled
    ("+98912123456P1", "0912123456"),
])
def test_dial_controls_in_outbound_numbers(number: str, expected: str) -> None:
    assert TEHRAN.normalize(number, "outbound") == (expected, "outbound")


def test_dial_controls_rule_only_for_outbound_and_configurable() -> None:
    assert TEHRAN.normalize("02188776655P123", "inbound") == ("02188776655P123", "inbound")
    off = PhoneRules(dial_controls=False)
    assert off.normalize("02188776655P123", "outbound") == ("02188776655P123", "outbound")
    long_codes = PhoneRules(access_code_digits=0)
    assert long_codes.normalize("9P02188776655", "outbound") == ("9", "outbound")


@pytest.mark.parametrize(("number", "expected"), [
    ("9121234567", "09121234567"),          # ISDN caller number of a mobile, without its 0
    ("2188776655", "02188776655"),          # Tehran, without its 0
    ("09121234567", "09121234567"),         # already national
    ("88776655", "02188776655"),            # local: the area code rule, as before
    ("912123456", "912123456"),             # 9 digits: not a national number
])
def test_inbound_national_numbers_get_their_prefix(number: str, expected: str) -> None:
    assert TEHRAN.normalize(number, "inbound") == (expected, "inbound")


def test_national_prefix_rule_is_for_inbound_and_configurable() -> None:
    assert TEHRAN.normalize("9121234567", "outbound") == ("9121234567", "outbound")
    off = PhoneRules(add_national_prefix=False)
    assert off.normalize("9121234567", "inbound") == ("9121234567", "inbound")
    no_prefix_country = PhoneRules(national_prefix="")
    assert no_prefix_country.normalize("3488677149", "inbound") == ("3488677149", "inbound")


def test_new_rules_from_a_config_section() -> None:
    section = yamlfile.load_text("hidden_digits: '?'\ndial_controls: false\naccess_code_digits: 2\n"
                                 "add_national_prefix: false\n", "x.yaml")
    rules = PhoneRules.from_section(section)
    assert (rules.hidden_digits, rules.dial_controls, rules.access_code_digits, rules.add_national_prefix) == (
        "?", False, 2, False)
    with pytest.raises(ConfigError, match="dial_controls"):
        PhoneRules.from_section(yamlfile.load_text("dial_controls: maybe\n", "x.yaml"))


def test_a_hidden_number_reaches_the_crm_as_the_unknown_phone_with_the_text_in_provenance() -> None:
    decoder = make_decoder(SourceSpec(name="pbx", url="", layout="panasonic-kx-tda", phone=TEHRAN))
    line = b"01/02/07 20:42     103 14 .................86629144      00:12'13               \r\n"
    (event,) = decoder.feed(line)
    assert event.phone is None and event.direction == "outbound" and event.duration == 733
    assert event.cdr_fields(unknown_phone="0000")["phone"] == "0000"
    assert event.provenance is not None and ".................86629144" in event.provenance.raw


DEVICE = """
device: acme-hipath
title: test profile
layout: panasonic-kx-tda
listen: {port: 9000}
phone:
  hidden_digits: "?"
  strip_prefixes: ["0"]
  access_code_digits: 2
"""


def test_device_profile_phone_rules_under_the_config_and_the_source(tmp_path: Path) -> None:
    (tmp_path / "devices").mkdir()
    write_file(tmp_path / "devices" / "acme.yaml", DEVICE)
    write_file(tmp_path / "smdr.yaml", """
        device_dirs: [devices]
        phone: {access_code_digits: 3}
        sources:
          - {name: a, device: acme-hipath, url: "tcp-listen://0.0.0.0"}
          - {name: b, device: acme-hipath, url: "tcp-listen://", phone: {hidden_digits: ".?"}}
          - {name: c, url: "tcp-listen://0.0.0.0:5100", layout: panasonic-kx-tda}
        """)
    a, b, c = config.load(tmp_path / "smdr.yaml").sources
    assert (a.phone.hidden_digits, a.phone.strip_prefixes, a.phone.access_code_digits) == ("?", ("0",), 3)
    assert (b.phone.hidden_digits, b.phone.strip_prefixes) == (".?", ("0",))   # the source wins
    assert (c.phone.hidden_digits, c.phone.strip_prefixes) == (".?X", ())      # no profile: defaults
    assert a.url == "tcp-listen://0.0.0.0:9000"
    assert b.url == "tcp-listen://0.0.0.0:9000"                                # no host: every interface
    assert c.url == "tcp-listen://0.0.0.0:5100"                                # a written port wins


def test_listen_defaults_do_not_touch_tcp_urls() -> None:
    device = devices.read_device(yamlfile.load_text(DEVICE, "acme.yaml"))
    assert device.apply_to_url("tcp://10.0.0.5") == "tcp://10.0.0.5"
    assert device.apply_to_url("tcp-listen://0.0.0.0:7000") == "tcp-listen://0.0.0.0:7000"


def test_a_mistake_in_a_profile_phone_section_names_the_profile(tmp_path: Path) -> None:
    path = write_file(tmp_path / "bad.yaml", DEVICE.replace("hidden_digits", "hiden_digits"))
    with pytest.raises(ConfigError, match="did you mean 'hidden_digits'") as caught:
        devices.read_device(yamlfile.load(path))
    assert str(caught.value).startswith(f"{path}:")


def test_parse_with_a_device_takes_its_phone_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "devices").mkdir()
    write_file(tmp_path / "devices" / "acme.yaml", DEVICE)
    capture = tmp_path / "c.smdr"
    capture.write_bytes(b"01/02/07 20:42     103 14 02188776655.                   00:00'13               \r\n")
    monkeypatch.setenv("SMDR_DEVICES_PATH", str(tmp_path / "devices"))
    assert main(["parse", str(capture), "--device", "acme-hipath"]) == 0
    (event,) = events_of(capsys.readouterr().out)
    assert event["phone"] == "2188776655"   # the profile says dots are not hidden digits, and strips the 0
