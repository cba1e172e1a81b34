"""smdr play (be the PBX: a serial port, a Panasonic LAN port) and smdr record's counter and login hint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cli_support import REPO, run_smdr
from ports import free_port
from ptys import socat_pty_pair

FIXTURE = REPO / "fixtures" / "panasonic" / "kx-tda-a.smdr"


def start_play(*args: str) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-m", "smdr", "play", str(FIXTURE), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    for _ in range(20):  # "playing ...", then the listener's line
        line = process.stderr.readline()
        if "listening on port" in line or not line:
            break
    return process


def test_a_capture_played_into_a_serial_port_is_read_by_smdr_on_the_other_end(tmp_path: Path) -> None:
    with socat_pty_pair(tmp_path) as ptys:
        recorder = subprocess.Popen([sys.executable, "-m", "smdr", "record", f"serial://{ptys.b}", "-o",
                                     str(tmp_path / "got.cap"), "--max-bytes", str(FIXTURE.stat().st_size)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert recorder.stderr is not None
            for _ in range(20):  # "recording ...", then the transport's "connected": the port is open
                line = recorder.stderr.readline()
                if ": connected" in line or not line:
                    break
            assert ": connected" in line
            played = run_smdr("play", str(FIXTURE), f"serial://{ptys.a}?baudrate=115200", "--pace", "baud",
                              "--baudrate", "115200", cwd=tmp_path)
            assert played.returncode == 0, played.stderr
            assert f"sent {FIXTURE.stat().st_size} bytes over 1 connection(s)" in played.stdout
            _out, err = recorder.communicate(timeout=60)
        finally:
            if recorder.poll() is None:
                recorder.kill()
                recorder.communicate(timeout=10)
    assert recorder.returncode == 0, err
    assert (tmp_path / "got.cap").read_bytes() == FIXTURE.read_bytes()
    assert "bytes, " in err and " lines, last at " in err  # the live counter


def test_recording_a_panasonic_port_without_its_login_gives_the_hint(tmp_path: Path) -> None:
    port = free_port()
    pbx = start_play(f"tcp-listen://127.0.0.1:{port}", "--login", "panasonic", "--pace", "flat", "--connections", "2")
    try:
        bare = run_smdr("record", f"tcp://127.0.0.1:{port}", "-o", str(tmp_path / "bare.cap"), "--duration", "1.5",
                        cwd=tmp_path)
        assert bare.returncode == 0, bare.stderr
        assert (tmp_path / "bare.cap").read_bytes() == b"-"
        assert "only a login prompt '-' arrived" in bare.stderr and "--device panasonic-kx-tda" in bare.stderr
        assert bare.stderr.count("only a login prompt") == 1

        logged_in = run_smdr("record", f"tcp://127.0.0.1:{port}", "--device", "panasonic-kx-tda", "-o",
                             str(tmp_path / "site.cap"), "--max-bytes", str(FIXTURE.stat().st_size), cwd=tmp_path)
        assert logged_in.returncode == 0, logged_in.stderr
        assert (tmp_path / "site.cap").read_bytes() == FIXTURE.read_bytes()
        assert "login prompt" not in logged_in.stderr and "password=***" in logged_in.stderr
        assert "PCCSMDR" not in logged_in.stderr + logged_in.stdout
    finally:
        pbx.kill()
        pbx.communicate(timeout=10)
