"""smdr record: raw bytes + scriptreplay timing, across reconnects; replay gives the same bytes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from panasonic_server import PanasonicSmdrServer
from ports import free_port

from smdr.cli.main import main
from smdr.recording import Recorder, timing_path_for
from smdr.transports import Backoff, open_url, read_stream
from smdr.transports.tcp import TcpListenTransport

FAST_BACKOFF = {"initial": 0.02, "cap": 0.1, "jitter": 0.0}
RECORDS = [f"21/11/26 09:{m:02d}AM   1{m:02d} 01 <I>0912123{m:04d}            0'05 00:00'{m:02d}"
           "               " for m in range(10)]


async def replay(capture: Path) -> bytes:
    transport = open_url(f"file://{capture}?pace=timing&speed=50")
    return b"".join([chunk async for chunk in read_stream(transport)])


async def wait_for_condition(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def timing_counts(capture: Path) -> list[int]:
    return [int(line.split()[1]) for line in timing_path_for(capture).read_text().splitlines()]


def test_record_tcp_listen_across_reconnect_then_replay(tmp_path: Path, arun: Callable[..., Any]) -> None:
    capture = tmp_path / "capture"
    pieces = [b"\x0c  Date     Time\r\n", b"21/11/26 08:03AM   101 01 0912", b"1234567  00:01'25\r\n",
              b"after the reconnect\r\n", b"21/11/26 08:05AM   102\r\n"]
    total = sum(map(len, pieces))

    async def scenario() -> tuple[bytes, Recorder]:
        transport = TcpListenTransport("tcp-listen://127.0.0.1:0")
        await transport.start()
        recorder = Recorder(transport, capture, max_bytes=total, backoff=Backoff(**FAST_BACKOFF))
        recording = asyncio.create_task(recorder.run())
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", transport.port)
            for piece in pieces[:3]:
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(0.02)
            first = sum(map(len, pieces[:3]))
            await wait_for_condition(lambda: recorder.stats.byte_count == first)
            # flushed as it goes: what a killed recorder would leave behind is already on disk
            assert capture.read_bytes() == b"".join(pieces[:3])
            assert sum(timing_counts(capture)) == first
            writer.close()  # the PBX hangs up ...
            await wait_for_condition(lambda: recorder.stats.links_lost == 1)
            _, writer = await asyncio.open_connection("127.0.0.1", transport.port)  # ... and comes back
            for piece in pieces[3:]:
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(0.02)
            await asyncio.wait_for(recording, 5)
            writer.close()
        finally:
            recording.cancel()
            await transport.shutdown()
        return await replay(capture), recorder

    replayed, recorder = arun(scenario())
    assert capture.read_bytes() == b"".join(pieces)
    assert replayed == b"".join(pieces)
    assert timing_counts(capture) and sum(timing_counts(capture)) == total
    assert recorder.stats.chunk_count == len(timing_counts(capture))
    assert "max bytes" in recorder.stats.summary() and "link lost 1 time" in recorder.stats.summary()


def test_record_tcp_panasonic_with_cuts_then_replay(tmp_path: Path, arun: Callable[..., Any]) -> None:
    capture = tmp_path / "capture"

    async def scenario() -> tuple[bytes, bytes]:
        async with PanasonicSmdrServer(RECORDS, cut_every=3, max_cuts=2) as server:
            transport = open_url(f"{server.url}?login=panasonic")
            recorder = Recorder(transport, capture, backoff=Backoff(**FAST_BACKOFF))
            recording = asyncio.create_task(recorder.run())
            try:
                await asyncio.wait_for(server.all_sent.wait(), 5)
                await wait_for_condition(lambda: recorder.stats.byte_count == len(server.sent))
            finally:
                recording.cancel()
                await asyncio.gather(recording, return_exceptions=True)
                await transport.shutdown()
            assert recorder.stats.links_lost == 2
            return bytes(server.sent), await replay(capture)

    sent, replayed = arun(scenario())
    assert capture.read_bytes() == sent
    assert replayed == sent


def test_cli_record_file_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "source.smdr"
    source.write_bytes(b"".join(r.encode() + b"\r\n" for r in RECORDS))
    capture = tmp_path / "out"
    assert main(["record", f"file://{source}", "-o", str(capture)]) == 0
    assert capture.read_bytes() == source.read_bytes()
    assert sum(timing_counts(capture)) == source.stat().st_size
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "end of source" in out
    assert f"recorded {source.stat().st_size} bytes" in out

    paced = f"file://{source}?pace=baud&baudrate=115200"
    assert main(["record", paced, "-o", str(capture), "--max-bytes", "25"]) == 2  # no silent overwrite
    assert "--force" in capsys.readouterr().err
    assert main(["record", paced, "-o", str(capture), "--max-bytes", "25", "--force"]) == 0
    assert capture.read_bytes() == source.read_bytes()[:25]
    assert sum(timing_counts(capture)) == 25
    assert "max bytes 25 reached" in capsys.readouterr().out

    assert main(["record", paced, "-o", str(capture), "--max-bytes", "5", "--append"]) == 0
    assert capture.read_bytes() == source.read_bytes()[:25] + source.read_bytes()[:5]
    assert sum(timing_counts(capture)) == 30


def test_cli_record_duration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    transport_url = f"tcp://127.0.0.1:{free_port()}"  # nothing listens: the recorder retries till the end
    capture = tmp_path / "out"
    assert main(["record", transport_url, "-o", str(capture), "--duration", "0.3"]) == 0
    assert capture.read_bytes() == b""
    assert "duration 0.3 s reached" in capsys.readouterr().out


def test_cli_ports(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from serial.tools import list_ports
    from serial.tools.list_ports_common import ListPortInfo

    monkeypatch.setattr(list_ports, "comports", list)
    assert main(["ports"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "no serial ports found"
    assert "no USB serial adapter seen" in captured.err

    port = ListPortInfo("/dev/ttyUSB0", skip_link_detection=True)
    port.description, port.hwid = "FT232R USB UART", "USB VID:PID=0403:6001 SER=A1"
    monkeypatch.setattr(list_ports, "comports", lambda: [port])
    assert main(["ports"]) == 0
    captured = capsys.readouterr()
    header, row = captured.out.splitlines()
    assert header.split() == ["port", "description", "hardware", "id"]
    assert "/dev/ttyUSB0" in row and "FT232R USB UART" in row and "0403:6001" in row
    assert "no USB" not in captured.err
    assert main(["ports", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == {"ports": [{"device": "/dev/ttyUSB0", "description": "FT232R USB UART",
                                 "hwid": "USB VID:PID=0403:6001 SER=A1"}], "usb_adapter_seen": True}
