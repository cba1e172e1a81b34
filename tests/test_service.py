"""smdr as a service: the systemd unit passes systemd-analyze and its ExecStart runs; --log-file rotates;
the NSSM recipe for Windows is printed with this installation's paths (NSSM itself is not run here)."""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from cli_support import REPO, run_smdr, write_file

from smdr import __version__
from smdr.cli.logfile import rotating_handler
from smdr.service import split_exec_start

FIXTURE = REPO / "fixtures" / "panasonic" / "kx-tda-a.smdr"


def unit_values(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "site").mkdir()
    return write_file(tmp_path / "site" / "smdr.yaml", f"""
        data_dir: var/data
        sources:
          - {{name: pbx, device: panasonic-kx-tda, url: "file://{FIXTURE}"}}
        output: var/data/calls.jsonl
        """)


def test_the_unit_is_valid_and_its_exec_start_runs(tmp_path: Path, site: Path) -> None:
    unit_path = tmp_path / "smdr.service"
    log_file = tmp_path / "site" / "logs" / "smdr.log"
    result = run_smdr("service", "install", "--config", str(site), "-o", str(unit_path), "--log-file",
                      str(log_file), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "systemctl daemon-reload && systemctl enable --now smdr" in result.stdout
    text = unit_path.read_text(encoding="utf-8")
    values = unit_values(text)
    data_dir = tmp_path / "site" / "var" / "data"
    assert values["Restart"] == "always" and values["WantedBy"] == "multi-user.target"
    assert values["ReadWritePaths"] == f"{data_dir} {log_file.parent}" and data_dir.is_dir()
    assert values["User"] and values["WorkingDirectory"] == str(tmp_path / "site")

    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: the unit was not verified")
    verify = subprocess.run([analyze, "verify", str(unit_path)], capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0 and unit_path.name not in verify.stdout + verify.stderr, verify.stderr

    words = split_exec_start(values["ExecStart"])
    assert words[1:] == ["run", "--config", str(site), "--log-file", str(log_file)]
    process = subprocess.Popen(words, cwd=values["WorkingDirectory"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        calls = data_dir / "calls.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not calls.exists() or calls.read_text().count("\n") < 32):
            assert process.poll() is None, process.communicate()
            time.sleep(0.2)
        assert calls.read_text().count("\n") == 32
        process.send_signal(signal.SIGTERM)  # what systemctl stop sends
        assert process.wait(int(values["TimeoutStopSec"])) == 0
    finally:
        if process.poll() is None:
            process.kill()
        _out, err = process.communicate(timeout=10)
    assert err == ""  # everything went to the log file
    log = log_file.read_text(encoding="utf-8")
    assert f"smdr {__version__} starting" in log and "pbx: 40 lines read = " in log and "; 32 events" in log


def test_an_existing_unit_is_not_overwritten(tmp_path: Path, site: Path) -> None:
    unit_path = tmp_path / "smdr.service"
    unit_path.write_text("mine")
    result = run_smdr("service", "install", "--config", str(site), "-o", str(unit_path), cwd=tmp_path)
    assert result.returncode == 2 and "--force" in result.stderr and unit_path.read_text() == "mine"


def test_the_windows_recipe(tmp_path: Path, site: Path) -> None:
    result = run_smdr("service", "nssm", "--config", str(site), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert lines[1].startswith('nssm install smdr "') and f'run --config "{site}"' in lines[1]
    assert "--log-file" in lines[1]
    assert "nssm set smdr AppStopMethodConsole 15000" in lines and "nssm start smdr" in lines


def test_the_log_file_rotates(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "smdr.log"
    handler = rotating_handler(path, max_bytes=2000, backups=2)
    logger = logging.getLogger("smdr.test.rotation")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for number in range(200):
            logger.warning("line %03d of the connector's log, long enough to fill the file quickly", number)
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert path.stat().st_size <= 2000 and (tmp_path / "logs" / "smdr.log.1").is_file()
    assert (tmp_path / "logs" / "smdr.log.2").is_file() and not (tmp_path / "logs" / "smdr.log.3").exists()
    assert "line 199" in path.read_text(encoding="utf-8")
