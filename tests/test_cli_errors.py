"""Everything a person can get wrong on the command line is one line naming the file or argument and the
fix: never a traceback, never the secret."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import REPO, run_smdr, write_file

FIXTURE = REPO / "fixtures" / "panasonic" / "kx-tda-a.smdr"
SOURCE = f"""
sources:
  - name: pbx
    device: panasonic-kx-tda
    url: file://{FIXTURE}
"""


def one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    for word in words:
        assert word in line, line
    return line


@pytest.mark.parametrize(("args", "words"), [
    (["parse", "no-such.cap", "--device", "panasonic-kx-tda"], ["no-such.cap", "No such file", "check the path"]),
    (["detect", "no-such.cap"], ["no-such.cap", "No such file"]),
    (["parse", ".", "--device", "panasonic-kx-tda"], ["Is a directory", "give a file"]),
    (["detect", "."], ["Is a directory"]),
    (["parse", str(FIXTURE), "--device", "panasonic-kx-tda", "-o", "/proc/no/out.jsonl"], ["/proc/no/out.jsonl"]),
    (["record", "tcp://pbx:123000", "-o", "x.cap"], ["port 123000 is out of range"]),
    (["run", "--config", "/dev/zero"], ["/dev/zero", "not a settings file"]),
    (["parse", str(FIXTURE), "--layout", "panasonic-kx-tda", "--config", "/dev/zero"], ["not a settings file"]),
    (["run", "--config", "missing.yaml"], ["missing.yaml", "cannot read"]),
    (["layouts", "no-such-layout"], ["no layout named"]),
    (["devices", "no-such-device"], ["no device profile named"]),
])
def test_ordinary_mistakes_are_one_line(tmp_path: Path, args: list[str], words: list[str]) -> None:
    one_line_error(run_smdr(*args, cwd=tmp_path), *words)


def test_a_bad_port_number_is_an_argument_error(tmp_path: Path) -> None:
    result = run_smdr("crm-sim", "--port", "99999", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "'99999' is not a port number" in result.stderr


def test_a_data_dir_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    config = write_file(tmp_path / "smdr.yaml", SOURCE + """
data_dir: afile/data
crm: {url: "http://127.0.0.1:9/x", secretkey: "s3cret-value"}
""")
    line = one_line_error(run_smdr("run", "--config", str(config), "--once", cwd=tmp_path), "afile")
    assert "s3cret-value" not in line


def test_an_output_that_cannot_be_written(tmp_path: Path) -> None:
    config = write_file(tmp_path / "smdr.yaml", SOURCE + "output: /proc/no/calls.jsonl\n")
    one_line_error(run_smdr("run", "--config", str(config), "--once", cwd=tmp_path), "/proc/no/calls.jsonl")


def test_a_reader_that_stops_early_is_no_error(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "smdr", "parse", str(FIXTURE), "--device", "panasonic-kx-tda", "-q"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()
        process.stdout.close()  # like `| head -1`
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=60) == 0
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


@pytest.mark.parametrize(("extra", "words"), [
    ("max_record: 0\n", ["max_record", "between 64 and 1048576 bytes, not 0"]),
    ("outbox: {keep_days: -1}\ncrm: {url: 'http://127.0.0.1:9/x', secretkey: s}\n",
     ["keep_days", "between 0 and 3650 days, not -1"]),
    ("crm: {url: 'http://127.0.0.1:9/x', secretkey: s, concurrency: 100000000}\n",
     ["concurrency", "between 1 and 64, not 100000000"]),
    ("crm: {url: 'http://127.0.0.1:9/x', secretkey: s, timeout: 0}\n", ["timeout", "between 0.1 and 600"]),
    ("popup: {max_age: 99999}\ncrm: {url: 'http://127.0.0.1:9/x', secretkey: s}\n", ["max_age", "between 0 and 3600"]),
    ("monitor: {silent_minutes: -5}\n", ["silent_minutes", "between 0 and 10080 minutes"]),
])
def test_numbers_out_of_range_are_refused_when_the_config_loads(tmp_path: Path, extra: str, words: list[str]) -> None:
    config = write_file(tmp_path / "smdr.yaml", SOURCE + extra)
    one_line_error(run_smdr("run", "--config", str(config), "--once", cwd=tmp_path), "smdr.yaml:", *words)


def test_no_source_at_all_is_refused(tmp_path: Path) -> None:
    config = write_file(tmp_path / "smdr.yaml", "sources: []\n")
    one_line_error(run_smdr("run", "--config", str(config), cwd=tmp_path), "smdr.yaml:1", "at least one PBX")


def test_a_non_standard_baud_rate_is_refused(tmp_path: Path) -> None:
    config = write_file(tmp_path / "smdr.yaml", """
sources:
  - {name: pbx, layout: panasonic-kx-tda, url: "serial:///dev/ttyUSB0?baudrate=96000"}
""")
    one_line_error(run_smdr("run", "--config", str(config), cwd=tmp_path), "baudrate=96000", "9600")


def test_a_secret_put_in_secretkey_env_is_never_echoed(tmp_path: Path) -> None:
    for secret in ("Xy7-long/secret+key", "ALLCAPSSECRET123"):
        config = write_file(tmp_path / "smdr.yaml", SOURCE + f"crm: {{url: 'http://127.0.0.1:9/x', "
                                                             f"secretkey_env: '{secret}'}}\n")
        result = run_smdr("run", "--config", str(config), "--once", cwd=tmp_path)
        line = one_line_error(result, "secretkey_env")
        assert secret not in result.stderr + result.stdout, line


def test_credentials_in_the_crm_url_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from smdr.crm.client import GenericClient
    from smdr.crm.settings import CrmSettings

    client = GenericClient(CrmSettings(url="https://bob:hunter2@crm.example/api", secretkey="masked-url-test-secret"))
    assert client.display_url == "https://bob:***@crm.example/api"
    with caplog.at_level(logging.INFO, logger="smdr.crm"):
        logging.getLogger("smdr.crm").error("cannot reach https://bob:hunter2@crm.example/api")
    assert "hunter2" not in caplog.text


def test_version_and_verbosity_after_the_verb(tmp_path: Path) -> None:
    from smdr import __version__

    result = run_smdr("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == f"smdr {__version__}"
    quiet = run_smdr("parse", str(FIXTURE), "--device", "panasonic-kx-tda", "-q", cwd=tmp_path)
    loud = run_smdr("parse", str(FIXTURE), "--device", "panasonic-kx-tda", cwd=tmp_path)
    assert quiet.returncode == loud.returncode == 0
    assert "WARNING" in loud.stderr and "WARNING" in quiet.stderr  # quarantine warnings stay with -q
    debug = run_smdr("run", "--config", str(write_file(tmp_path / "s.yaml", SOURCE)), "--once", "-v", cwd=tmp_path)
    assert debug.returncode == 0, debug.stderr
    assert " DEBUG " in debug.stderr
    silent = run_smdr("run", "--config", str(tmp_path / "s.yaml"), "--once", "--from-start", "-qq", cwd=tmp_path)
    assert silent.returncode == 0 and " INFO " not in silent.stderr and " WARNING " not in silent.stderr


def test_every_command_has_help_with_a_description(tmp_path: Path) -> None:
    from smdr.cli.main import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert {"init", "check", "status", "play", "demo", "service"} <= set(commands)
    for name, command in commands.items():
        assert command.description, f"smdr {name} has no description"
        helps = [a.help for a in command._actions if a.help is None]
        assert not helps, f"smdr {name}: an option without help"
