"""open_url, URL parsing and redaction."""

from __future__ import annotations

import pytest

from smdr.errors import TransportError
from smdr.transports import BUILTIN_TRANSPORTS, known_schemes, open_url, parse_url, redact, transport_class
from smdr.transports.file import FileReplayTransport
from smdr.transports.serial import SerialTransport
from smdr.transports.tcp import TcpClientTransport, TcpListenTransport


@pytest.mark.parametrize(("url", "cls"), [
    ("serial:///dev/ttyUSB0?baudrate=9600", SerialTransport),
    ("serial://COM3?baudrate=1200&parity=E&bytesize=7", SerialTransport),
    ("socket://127.0.0.1:4001", SerialTransport),
    ("rfc2217://127.0.0.1:4001?baudrate=9600", SerialTransport),
    ("tcp://127.0.0.1:2300?login=panasonic", TcpClientTransport),
    ("tcp-listen://0.0.0.0:0", TcpListenTransport),
    ("file://captures/x.smdr?pace=flat", FileReplayTransport),
])
def test_open_url_picks_the_class_by_scheme(url: str, cls: type) -> None:
    assert type(open_url(url)) is cls


def test_builtin_table_matches_the_entry_points() -> None:
    assert set(BUILTIN_TRANSPORTS) <= set(known_schemes())
    for scheme in BUILTIN_TRANSPORTS:
        assert transport_class(scheme).__name__ == BUILTIN_TRANSPORTS[scheme].rpartition(":")[2]


def test_builtin_fallback_without_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    from smdr import transports

    monkeypatch.setattr(transports, "entry_points", lambda group: [])
    assert transports.transport_class("tcp") is TcpClientTransport


def test_unknown_scheme_lists_known_schemes() -> None:
    with pytest.raises(TransportError) as caught:
        open_url("ftp://example/x")
    message = str(caught.value)
    assert "ftp://" in message and "serial://" in message and "tcp-listen://" in message


def test_no_scheme_is_a_clear_error() -> None:
    with pytest.raises(TransportError, match="known schemes"):
        open_url("/dev/ttyUSB0")


@pytest.mark.parametrize(("url", "target"), [
    ("serial:///dev/ttyUSB0?baudrate=9600", "/dev/ttyUSB0"),
    ("serial://COM3?baudrate=9600", "COM3"),
    ("file://relative/path.smdr", "relative/path.smdr"),
    ("file:///abs/path.smdr", "/abs/path.smdr"),
    ("file://C:/x/y.smdr", "C:/x/y.smdr"),
    ("file:///tmp/with%20space", "/tmp/with space"),
    ("tcp://SMDR:secret@pbx:2300", "pbx:2300"),
    ("serial:/dev/ttyUSB0?baudrate=9600", "/dev/ttyUSB0"),  # as urllib.parse.urlunsplit writes serial:///
])
def test_parse_url_target(url: str, target: str) -> None:
    assert parse_url(url).target == target


def test_parse_url_userinfo_and_query() -> None:
    parsed = parse_url("tcp://SMDR:PCC%40SMDR@10.0.0.2:2300?login=panasonic&flag")
    assert (parsed.username, parsed.password) == ("SMDR", "PCC@SMDR")
    assert parsed.query == {"login": "panasonic", "flag": "1"}
    assert parsed.host_port("x") == ("10.0.0.2", 2300)
    assert parse_url("tcp://[::1]:2300").host_port("x") == ("::1", 2300)


@pytest.mark.parametrize(("url", "shown"), [
    ("tcp://pbx:2300?login=panasonic&password=PCCSMDR", "tcp://pbx:2300?login=panasonic&password=***"),
    ("tcp://SMDR:PCCSMDR@pbx:2300", "tcp://SMDR:***@pbx:2300"),
    ("tcp://pbx:2300?secret_key=abc&user=SMDR&api_token=t",
     "tcp://pbx:2300?secret_key=***&user=SMDR&api_token=***"),
    ("serial:///dev/ttyUSB0?baudrate=9600", "serial:///dev/ttyUSB0?baudrate=9600"),
    ("file://C:/x.smdr", "file://C:/x.smdr"),
])
def test_redact(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_display_url_hides_the_password() -> None:
    transport = open_url("tcp://127.0.0.1:2300?login=panasonic&password=Sup3rS3cret")
    assert "Sup3rS3cret" not in transport.display_url
    assert "Sup3rS3cret" not in repr(transport)


def test_unknown_option_is_named() -> None:
    with pytest.raises(TransportError, match=r"unknown option\(s\) baud;.*baudrate"):
        open_url("serial:///dev/ttyUSB0?baud=9600")


def test_bad_tcp_address() -> None:
    with pytest.raises(TransportError, match="HOST:PORT"):
        open_url("tcp://pbx")


def test_login_script_may_name_a_builtin_login() -> None:
    transport = open_url("tcp://127.0.0.1:2300", login_script="panasonic")
    assert isinstance(transport, TcpClientTransport)
    assert transport.login_kind == "panasonic" and transport.user == "SMDR"
