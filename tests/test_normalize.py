"""Phone numbers as the CRM wants them, and PBX wall time in the configured zone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from smdr import yamlfile
from smdr.errors import ConfigError
from smdr.normalize import Localizer, PhoneRules, zone

TEHRAN = PhoneRules(area_code="21", local_lengths=(8,), strip_prefixes=("9",),
                    extension_pattern=re.compile(r"1\d\d"))


@pytest.mark.parametrize(("number", "expected"), [
    ("+989121234567", "09121234567"),
    ("00989121234567", "09121234567"),
    ("989121234567", "09121234567"),          # 98 + 10 national digits
    ("+98 912 123-4567", "09121234567"),      # spaces and dashes go
    ("(021) 8877-6655", "02188776655"),
    ("98912123456", "98912123456"),           # 98 + 9 digits: not a national number, left alone
    ("09121234567", "09121234567"),
    ("+442071234567", "00442071234567"),      # another country: international prefix
])
def test_home_country_prefix_becomes_national_prefix(number: str, expected: str) -> None:
    assert TEHRAN.normalize(number, "inbound") == (expected, "inbound")


@pytest.mark.parametrize(("number", "expected"), [
    ("۰۹۱۲۱۲۳۴۵۶۷", "09121234567"),           # Persian digits
    ("٠٩١٢١٢٣٤٥٦٧", "09121234567"),           # Arabic-Indic digits
    ("+۹۸۹۱۲۱۲۳۴۵۶۷", "09121234567"),
    ("۸۸۷۷۶۶۵۵", "02188776655"),              # Persian local number gets the area code too
])
def test_persian_and_arabic_indic_digits_become_ascii(number: str, expected: str) -> None:
    assert TEHRAN.normalize(number, "inbound") == (expected, "inbound")


def test_area_code_only_for_local_lengths() -> None:
    assert TEHRAN.normalize("88776655", "inbound") == ("02188776655", "inbound")
    assert TEHRAN.normalize("8877665", "inbound") == ("8877665", "inbound")      # 7 digits: not local
    assert TEHRAN.normalize("02188776655", "inbound") == ("02188776655", "inbound")
    with_prefix = PhoneRules(area_code="021", local_lengths=(8,))
    assert with_prefix.normalize("88776655", "inbound") == ("02188776655", "inbound")
    no_area = PhoneRules()
    assert no_area.normalize("88776655", "inbound") == ("88776655", "inbound")


def test_strip_prefixes_only_on_outbound() -> None:
    assert TEHRAN.normalize("909121234567", "outbound") == ("09121234567", "outbound")
    assert TEHRAN.normalize("988776655", "outbound") == ("02188776655", "outbound")
    assert TEHRAN.normalize("988776655", "inbound") == ("988776655", "inbound")
    assert TEHRAN.normalize("9", "outbound") == ("9", "outbound")                # nothing after the prefix


def test_extension_pattern_turns_outbound_into_internal() -> None:
    assert TEHRAN.normalize("105", "outbound") == ("105", "internal")
    assert TEHRAN.normalize("105", "inbound") == ("105", "inbound")
    assert TEHRAN.normalize("1055", "outbound") == ("1055", "outbound")          # fullmatch only
    assert TEHRAN.normalize("105", "internal") == ("105", "internal")


def test_names_and_service_codes_are_kept() -> None:
    assert TEHRAN.normalize("ALI", "inbound") == ("ALI", "inbound")
    assert TEHRAN.normalize("*72#", "outbound") == ("*72#", "outbound")
    assert TEHRAN.normalize("", "inbound") == ("", "inbound")


def test_a_name_with_a_space_is_kept_as_printed() -> None:
    assert TEHRAN.normalize("Ali Rezaei", "inbound") == ("Ali Rezaei", "inbound")


def test_phone_rules_from_a_config_section_inherit_the_base() -> None:
    section = yamlfile.load_text("country_code: '+98'\nstrip_prefixes: ['0', '9']\n", "x.yaml")
    rules = PhoneRules.from_section(section, TEHRAN)
    assert rules.country_code == "98"
    assert rules.strip_prefixes == ("0", "9")
    assert rules.area_code == "21" and rules.local_lengths == (8,)
    assert rules.normalize("988776655", "outbound") == ("02188776655", "outbound")
    bad = yamlfile.load_text("area_code: '21'\nlocal_lenghts: [8]\n", "x.yaml")
    with pytest.raises(ConfigError) as exc:
        PhoneRules.from_section(bad)
    assert exc.value.line == 2 and "local_lengths" in str(exc.value)


def test_localizer_tehran_standard_time() -> None:
    localize = Localizer(zone("Asia/Tehran"))
    aware = localize(datetime(2026, 11, 21, 8, 3))
    assert aware.isoformat() == "2026-11-21T08:03:00+03:30"
    assert aware.utcoffset() == timedelta(hours=3, minutes=30)


def test_localizer_tehran_dst_era_date() -> None:
    localize = Localizer(zone("Asia/Tehran"))
    assert localize(datetime(2021, 6, 1, 12, 0)).isoformat() == "2021-06-01T12:00:00+04:30"
    assert localize(datetime(2021, 1, 1, 12, 0)).isoformat() == "2021-01-01T12:00:00+03:30"
    # Iran dropped DST in 2022: June 2026 is +03:30
    assert localize(datetime(2026, 6, 1, 12, 0)).isoformat() == "2026-06-01T12:00:00+03:30"


def test_localizer_keeps_wall_time_and_memoizes() -> None:
    localize = Localizer(zone("Asia/Tehran"))
    wall = datetime(2026, 11, 21, 8, 3)
    first = localize(wall)
    assert first.replace(tzinfo=None) == wall
    assert localize(datetime(2026, 11, 21, 8, 3)) is first


def test_unknown_zone_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Asia/Tehrn"):
        zone("Asia/Tehrn")
