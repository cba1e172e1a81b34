"""Third-party code parsers through the real entry-point machinery: installed into a folder on PYTHONPATH
(a .dist-info with entry_points.txt, as pip leaves it), used by real `smdr` subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from golden import ROOT, golden_path

PLUGIN = '''
"""Length-prefixed binary frames: one byte of length, then 'ext,number' (a made-up box for the test)."""
from datetime import datetime

from smdr.layouts import Record


class Frames:
    def __init__(self):
        self.buffer = b""

    def feed(self, chunk):
        self.buffer += chunk
        frames = []
        while self.buffer and len(self.buffer) > self.buffer[0]:
            size = self.buffer[0]
            frames.append(self.buffer[1:1 + size])
            self.buffer = self.buffer[1 + size:]
        return frames

    def take_partial(self):
        partial, self.buffer = self.buffer, b""
        return partial


class BoxParser:
    """A length-prefixed test box"""

    fold = "none"

    def __init__(self, context):
        self.name = "test-box"
        self.skipped = {}
        self.context = context
        self.framer = Frames()
        self.prefix = context.options.get("prefix", "")

    def parse(self, frame):
        ext, number = frame.decode().split(",")
        return Record(raw=frame.decode(), when=datetime(2026, 11, 21, 10, 0), direction="inbound",
                      stage="ringing", agent=ext, phone=self.prefix + number)
'''

ENTRY_POINTS = """[smdr.parsers]
test-box = testbox:BoxParser
broken-box = testbox_missing:Nothing
panasonic-kx-tda = testbox:BoxParser
"""


def install_plugin(site: Path) -> dict[str, str]:
    site.mkdir()
    (site / "testbox.py").write_text(PLUGIN, encoding="utf-8")
    info = site / "testbox-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: testbox\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT)])
    return env


def smdr(env: dict[str, str], *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "smdr", *args], env=env, input=stdin, capture_output=True,
                          timeout=60, cwd=ROOT)


def test_a_broken_plugin_leaves_the_bundled_layouts_working(tmp_path: Path) -> None:
    env = install_plugin(tmp_path / "site")
    listed = smdr(env, "layouts")
    assert listed.returncode == 0, listed.stderr
    text = listed.stdout.decode()
    assert "test-box" in text and "panasonic-kx-tes" in text
    assert "broken-box" in text and "cannot be loaded" in text
    errors = listed.stderr.decode()
    assert "broken-box" in errors and "left out" in errors
    assert "named like the layout" in errors  # the shadowing plugin: a warning, the YAML layout wins
    stream = ROOT / "fixtures" / "panasonic" / "kx-tda-b.smdr"
    parsed = smdr(env, "parse", str(stream), "--layout", "panasonic-kx-tda-b", "--source", stream.name)
    assert parsed.returncode == 0, parsed.stderr
    assert parsed.stdout.decode() == golden_path(stream).read_text(encoding="utf-8")
    shadowed = ROOT / "fixtures" / "panasonic" / "kx-tda-a.smdr"
    same = smdr(env, "parse", str(shadowed), "--layout", "panasonic-kx-tda", "--source", shadowed.name,
                "--area-code", "21", "--local-lengths", "8")
    assert same.stdout.decode() == golden_path(shadowed).read_text(encoding="utf-8")


def test_a_plugin_brings_its_own_framer_and_gets_its_context(tmp_path: Path) -> None:
    env = install_plugin(tmp_path / "site")
    frames = b"".join(bytes([len(f)]) + f for f in (b"101,09121234567", b"102,+989351112233"))
    result = smdr(env, "parse", "-", "--layout", "test-box", "--tz", "UTC", stdin=frames + b"\x05ab")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [(e["agent"], e["phone"], e["event"]) for e in events] == [
        ("101", "09121234567", "ringing"), ("102", "09351112233", "ringing")]
    assert events[0]["starttime"] == "2026-11-21T10:00:00+00:00"
    assert events[0]["call_id"] != events[1]["call_id"]
    # the half frame at the end is kept, not parsed half
    assert "1 record(s) not parsed" in result.stderr.decode()
