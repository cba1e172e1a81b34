"""``smdr demo`` (the README's first command runs it) and ``smdr init``; the example config works against
crm-sim as shipped."""

from __future__ import annotations

import re
from pathlib import Path

from cli_support import REPO, run_smdr
from crmsim_proc import CrmSim


def test_demo_shows_named_popups_the_calls_and_explains_the_quarantine(tmp_path: Path) -> None:
    result = run_smdr("demo", "--fast", "--dir", str(tmp_path / "demo"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "secret key smdr-sim-secret" in out
    assert "popup at extension 111: رضا محمدی (09125558899)" in out
    assert "popup at extension 110: شرکت پخش البرز (02614301566)" in out
    held = re.search(r"The CRM holds (\d+) calls", out)
    assert held and int(held.group(1)) == 27
    assert "2 record(s) of the capture are on purpose not calls" in out
    assert "asterisks instead of the date" in out and "PBX alarm line" in out
    assert "smdr demo --keep" in out
    assert (tmp_path / "demo" / "smdr.log").stat().st_size > 0


def test_init_writes_the_example_and_refuses_to_overwrite(tmp_path: Path) -> None:
    result = run_smdr("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = (tmp_path / "smdr.yaml").read_text(encoding="utf-8")
    assert written == (REPO / "smdr.example.yaml").read_text(encoding="utf-8")
    again = run_smdr("init", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr
    assert run_smdr("init", "--force", cwd=tmp_path).returncode == 0


def test_the_example_config_reaches_crm_sim_as_shipped(tmp_path: Path) -> None:
    from smdr.cli.main import build_parser

    sim_defaults = build_parser().parse_args(["crm-sim"])
    example = (REPO / "smdr.example.yaml").read_text(encoding="utf-8")
    shipped_url = f"http://127.0.0.1:{sim_defaults.port}/modules/ParsVT/ws/API/V2/PBX/Generic"
    assert f"  url: {shipped_url}\n" in example and f"  secretkey: {sim_defaults.secret}\n" in example
    # the same file against a simulator with its default secret, on a free port (8089 may be taken here)
    with CrmSim(tmp_path, secret=sim_defaults.secret) as sim:
        (tmp_path / "smdr.yaml").write_text(example.replace(shipped_url, sim.base_url), encoding="utf-8")
        result = run_smdr("check", "--config", "smdr.yaml", "--listen", "0.5", cwd=tmp_path)
    crm_line = next(line for line in result.stdout.splitlines() if line[6:].startswith("crm:"))
    assert crm_line.startswith("OK"), result.stdout


def test_the_live_page_of_crm_sim_in_a_browser(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    from browser import WIDTH, rendered_dom, screenshot, scroll_width

    command = [sys.executable, "-m", "smdr", "demo", "--fast", "--keep", "--dir", str(tmp_path / "demo")]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as demo:
        try:
            assert demo.stdout is not None
            url = None
            for _ in range(200):  # the demo prints about 80 lines before it waits
                line = demo.stdout.readline()
                if line.startswith("--keep: the simulator stays up at "):
                    url = line.split(" at ", 1)[1].split(" ")[0]
                    break
            assert url, "the demo did not keep the simulator up"
            dom = rendered_dom(url, tmp_path / "profile")
            assert scroll_width(dom) <= WIDTH
            assert "رضا محمدی" in dom and "شرکت پخش البرز" in dom           # popups and calls name the caller
            assert "<td>21 Nov 08:24:45</td>" in dom or "21 Nov 08:2" in dom  # the PBX's wall time, readable
            calls = dom.split('<tbody id="calls">', 1)[1].split("</tbody>", 1)[0]
            assert calls.count("<tr") == 27 and "+03:30" not in calls
            filtered = rendered_dom(url + "#filter=09125558899", tmp_path / "profile")
            rows = filtered.split('<tbody id="calls">', 1)[1].split("</tbody>", 1)[0]
            assert rows.count("<tr") == 1 and "09125558899" in rows and "(1 shown of 27)" in filtered
            screenshot(url, tmp_path / "crm-sim.png", tmp_path / "profile")
        finally:
            demo.send_signal(signal.SIGINT)
            demo.wait(20)
