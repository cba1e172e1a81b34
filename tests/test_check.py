"""``smdr check``: each thing that keeps a site from working is found before going live, with its fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import REPO, run_smdr, write_file
from crmsim_proc import CrmSim
from ports import free_port
from ptys import socat_pty_pair

FIXTURE = REPO / "fixtures" / "panasonic" / "kx-tda-a.smdr"
GOOD_SOURCE = f"  - {{name: office, device: panasonic-kx-tda, url: 'file://{FIXTURE}'}}\n"


def check(tmp_path: Path, sources: str, crm: str = "", *extra: str) -> tuple[int, list[str]]:
    config = write_file(tmp_path / "smdr.yaml", f"data_dir: data\nsources:\n{sources}{crm}")
    result = run_smdr("check", "--config", str(config), "--listen", "1.5", *extra, cwd=tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout.splitlines()


def item(lines: list[str], name: str) -> str:
    """The item's line and its fix line."""
    index = next(i for i, line in enumerate(lines) if line[6:].startswith(name + ":"))
    fix = lines[index + 1] if index + 1 < len(lines) and lines[index + 1].startswith("      fix:") else ""
    return lines[index] + "\n" + fix


def crm_section(url: str, secret: str) -> str:
    return f"crm: {{url: '{url}', secretkey: '{secret}', timeout: 3}}\n"


@pytest.fixture
def sim(tmp_path: Path):
    with CrmSim(tmp_path, secret="site-secret") as running:
        yield running


def test_a_ready_site_is_all_ok(tmp_path: Path, sim: CrmSim) -> None:
    code, lines = check(tmp_path, GOOD_SOURCE, crm_section(sim.base_url, "site-secret"))
    assert code == 0, lines
    assert item(lines, "config").startswith("OK")
    assert item(lines, "source office").startswith("OK") and "layout panasonic-kx-tda reads them" in lines[1]
    assert item(lines, "crm").startswith("OK")
    assert lines[-1] == "3 OK, 0 FAIL: ready to go live"
    assert sim.calls()["calls"] == []  # nothing was delivered


def test_a_crm_url_without_the_api_path(tmp_path: Path, sim: CrmSim) -> None:
    code, lines = check(tmp_path, GOOD_SOURCE, crm_section(sim.root_url, "site-secret"))
    text = item(lines, "crm")
    assert code == 1 and text.startswith("FAIL") and "404" in text
    assert "should end with the API path /modules/ParsVT/ws/API/V2/PBX/Generic" in text


def test_a_refused_secret(tmp_path: Path, sim: CrmSim) -> None:
    code, lines = check(tmp_path, GOOD_SOURCE, crm_section(sim.base_url, "wrong-secret"))
    text = item(lines, "crm")
    assert code == 1 and text.startswith("FAIL") and "refused the secret key" in text and "PBXManager" in text
    assert "wrong-secret" not in "\n".join(lines)


def test_an_unreachable_crm(tmp_path: Path) -> None:
    code, lines = check(tmp_path, GOOD_SOURCE, crm_section(f"http://127.0.0.1:{free_port()}/x/PBX/Generic", "s"))
    text = item(lines, "crm")
    assert code == 1 and text.startswith("FAIL") and "cannot reach the CRM" in text and "firewall" in text


def _closed_port_with_404_in_it() -> int:
    import socket

    for port in (24044, 14044, 34044, 40401, 40402, 40403, 40405, 44040):  # bounded: the first one free
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    pytest.skip("every candidate port is in use")


def test_an_unreachable_crm_on_a_port_with_404_in_its_number_is_not_called_a_wrong_path(tmp_path: Path) -> None:
    """The connect error names the address ("... ('127.0.0.1', 24044)"): a not-found answer is told by the
    client's own words ("HTTP 404"), not by the digits anywhere in the text."""
    port = _closed_port_with_404_in_it()
    code, lines = check(tmp_path, GOOD_SOURCE, crm_section(f"http://127.0.0.1:{port}/x/PBX/Generic", "s"))
    text = item(lines, "crm")
    assert code == 1 and "cannot reach the CRM" in text and "firewall" in text, text


def test_a_missing_serial_port(tmp_path: Path) -> None:
    code, lines = check(tmp_path, "  - {name: pbx, device: panasonic-kx-tda, url: 'serial:///dev/ttyNOSUCH9'}\n")
    text = item(lines, "source pbx")
    assert code == 1 and text.startswith("FAIL") and "/dev/ttyNOSUCH9" in text and "smdr ports" in text


def test_a_refused_pbx_login(tmp_path: Path) -> None:
    port = free_port()
    pbx = subprocess.Popen([sys.executable, "-m", "smdr", "play", str(FIXTURE), f"tcp-listen://127.0.0.1:{port}",
                            "--login", "panasonic", "--password", "SITEPASS", "--pace", "flat"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert pbx.stderr is not None
        for _ in range(20):  # its first lines: "playing ...", then "listening on port"
            if "listening on port" in pbx.stderr.readline():
                break
        code, lines = check(tmp_path, f"  - {{name: lan, device: panasonic-kx-tda, url: 'tcp://127.0.0.1:{port}'}}\n")
    finally:
        pbx.kill()
        pbx.communicate(timeout=10)
    text = item(lines, "source lan")
    assert code == 1 and text.startswith("FAIL") and "login refused" in text and "password:" in text
    assert "PCCSMDR" not in text.split("fix:")[0]  # the password tried is not shown


def test_a_silent_source(tmp_path: Path) -> None:
    with socat_pty_pair(tmp_path) as ptys:
        code, lines = check(tmp_path, f"  - {{name: quiet, device: panasonic-kx-tda, url: 'serial://{ptys.a}'}}\n")
    text = item(lines, "source quiet")
    assert code == 1 and text.startswith("FAIL") and "no byte arrived in 1.5 s" in text and "test call" in text


def test_records_of_another_layout_are_named(tmp_path: Path) -> None:
    source = f"  - {{name: tes, layout: panasonic-kx-ta, url: 'file://{FIXTURE}'}}\n"
    code, lines = check(tmp_path, source)
    text = item(lines, "source tes")
    assert code == 1 and text.startswith("FAIL") and "they fit layout panasonic-kx-td" in text


def test_a_broken_config_stops_the_check(tmp_path: Path) -> None:
    code, lines = check(tmp_path, "  - {name: a, url: 'tcp://h:1'\n")
    assert code == 1 and item(lines, "config").startswith("FAIL") and "not closed" in lines[0]
    assert lines[-1] == "0 OK, 1 FAIL"


def test_the_connector_names_the_layout_a_stream_fits(tmp_path: Path) -> None:
    config = write_file(tmp_path / "smdr.yaml", f"""
data_dir: data
sources:
  - {{name: tes, layout: panasonic-kx-ta, url: 'file://{REPO / "fixtures" / "panasonic" / "kx-tda-b.smdr"}'}}
""")
    result = run_smdr("run", "--config", str(config), "--once", cwd=tmp_path)
    assert "records and not one call with layout panasonic-kx-ta; they fit layout panasonic-kx-tda-b" in result.stderr
