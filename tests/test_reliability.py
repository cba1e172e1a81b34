"""Reliability of the whole connector, as real processes: ``smdr run`` delivering into ``smdr crm-sim``.

Every test replays a generated Panasonic KX-TDA stream (bench/panasonic_stream.py) through
``file://...?pace=flat`` into a connector whose CRM is a crm-sim process, breaks something (kill -9 of
the connector, the CRM down, random 500s, a wrong secret), and then checks the one thing that matters:
the CRM ends up holding exactly the calls ``smdr parse`` finds in the same stream, one record per
call_id, each in its final state, and the connector's outbox holds nothing queued.

The last test greps everything the connector wrote (its data directory, its output, the output of
``smdr outbox ...``) for the CRM secret key.

No timing is asserted: every wait is bounded, and a bound that runs out fails the test with what the
processes printed.
"""

from __future__ import annotations

import secrets
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from crmsim_proc import CrmSim
from reliability_support import (
    DEVICE,
    SECRET,
    SOURCE,
    Connector,
    assert_clean_log,
    assert_crm_holds_exactly,
    assert_nothing_queued,
    expected_calls,
    log_lines,
    make_stream,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow


# --- a. kill -9 in the middle of the delivery --------------------------------------------------------

def test_kill_9_mid_delivery_then_restart_delivers_every_call_exactly_once(tmp_path: Path,
                                                                              connector: Connector) -> None:
    stream = make_stream(tmp_path, 5000, seed=11)
    with CrmSim(tmp_path, secret=SECRET, latency_ms=5) as sim:
        config = write_config(tmp_path / "smdr.yaml", sim.base_url, stream)
        expected = expected_calls(connector, config, stream)

        first = connector.start("run", "--config", str(config), "--once")
        wait_until(lambda: sim.stats()["ok"] >= 1000, "crm-sim received 1000 events", alive=first)
        first.process.send_signal(signal.SIGKILL)
        connector.wait(first, 10)
        assert first.returncode == -signal.SIGKILL
        received_before = sim.stats()["ok"]
        at_kill = connector.outbox_status(config)
        # really in the middle: some events delivered, some still waiting
        assert at_kill["counts"]["delivered"] > 0 and at_kill["counts"]["queued"] > 0, at_kill
        assert received_before < 5000

        second = connector.run("run", "--config", str(config), "--once")
        assert second.returncode == 0, second.describe()
        assert_clean_log(second)
        assert_crm_holds_exactly(sim, expected)
        assert_nothing_queued(connector, config)


# --- b. the CRM down for a while -----------------------------------------------------------------------

@pytest.mark.parametrize("outage", ["down-at-start", "stopped-mid-delivery", "down_for-mid-delivery"])
def test_crm_outage_is_logged_once_and_everything_arrives_after_it(tmp_path: Path, connector: Connector,
                                                                   outage: str) -> None:
    stream = make_stream(tmp_path, 600, seed=21)
    sim = CrmSim(tmp_path, secret=SECRET, latency_ms=10)
    with sim:
        # two calls at a time against a 10 ms CRM: the delivery lasts long enough to be cut in the middle
        config = write_config(tmp_path / "smdr.yaml", sim.base_url, stream, concurrency=2)
        expected = expected_calls(connector, config, stream)
        if outage == "down-at-start":
            # down until the connector has seen it (a timed down_for could end before a slow start-up)
            sim.stop()
        run = connector.start("run", "--config", str(config), "--once")
        if outage == "down-at-start":
            wait_until(lambda: "CRM unavailable" in run.stderr, "the connector logged the outage", alive=run)
            time.sleep(1.0)  # a few retries against a closed port
            sim.start()
        else:
            wait_until(lambda: sim.stats()["ok"] >= 100, "crm-sim received 100 events", alive=run)
            if outage == "stopped-mid-delivery":
                sim.stop()
                wait_until(lambda: "CRM unavailable" in run.stderr, "the connector logged the outage",
                           alive=run)
                time.sleep(2.0)  # several retries against a closed port
                sim.start()
            else:
                sim.set_faults(down_for=3)
                wait_until(lambda: "CRM unavailable" in run.stderr, "the connector logged the outage",
                           alive=run)
        connector.wait(run)
        assert run.returncode == 0, run.describe()
        assert_clean_log(run)
        unavailable = log_lines(run.stderr, "WARNING", "CRM unavailable")
        assert len(unavailable) == 1, f"one warning per outage expected, got {len(unavailable)}:\n{run.stderr}"
        assert "retrying" in unavailable[0] and "stay queued" in unavailable[0]
        assert log_lines(run.stderr, "CRM reachable again"), run.stderr
        assert_crm_holds_exactly(sim, expected)
        assert_nothing_queued(connector, config)


# --- c. random 500s ----------------------------------------------------------------------------------

def test_thirty_percent_random_500s_everything_arrives_in_its_final_state(tmp_path: Path,
                                                                          connector: Connector) -> None:
    stream = make_stream(tmp_path, 800, seed=31)
    with CrmSim(tmp_path, secret=SECRET, error_rate=0.3, seed=1234) as sim:
        config = write_config(tmp_path / "smdr.yaml", sim.base_url, stream, retry_initial=0.05, retry_max=0.5)
        expected = expected_calls(connector, config, stream)
        run = connector.run("run", "--config", str(config), "--once")
        assert run.returncode == 0, run.describe()
        assert_clean_log(run)
        stats = sim.stats()
        assert stats["injected_error"] > 100, stats  # the faults really happened, and were retried
        assert_crm_holds_exactly(sim, expected)
        assert_nothing_queued(connector, config)


# --- d. a wrong secret key ---------------------------------------------------------------------------

def test_wrong_secret_pauses_with_one_clear_error_loses_nothing_and_resumes_when_fixed(
        tmp_path: Path, connector: Connector) -> None:
    stream = make_stream(tmp_path, 300, seed=41)
    wrong = "not-the-" + SECRET
    with CrmSim(tmp_path, secret=SECRET) as sim:
        config = write_config(tmp_path / "smdr.yaml", sim.base_url, stream, secret=wrong)
        expected = expected_calls(connector, config, stream)
        parsed = connector.run("parse", str(stream), "--device", DEVICE, "--source", SOURCE, "--config",
                               str(config))
        events_in_stream = len(parsed.stdout.splitlines())

        run = connector.run("run", "--config", str(config), "--once")
        assert_clean_log(run)
        assert run.returncode == 1, f"--once must fail when nothing could be delivered:\n{run.describe()}"
        # one clear error: the secret was refused, delivery paused, what to do; not one line per event
        errors = log_lines(run.stderr, " ERROR ")
        refusals = [line for line in errors if "secret key" in line]
        assert refusals, run.describe()
        explained = [line for line in refusals if "refused the secret key" in line and "crm.secretkey" in line
                     and "paused" in line.lower()]
        assert len(explained) == 1, f"expected one error naming the cause and the fix:\n{run.stderr}"
        assert len(errors) <= 2, f"the refusal should be reported once, not per event:\n{run.stderr}"
        assert wrong not in run.stderr and SECRET not in run.stderr
        stats = sim.stats()
        assert stats["ok"] == 0 and stats["stored"]["calls"] == 0
        assert 1 <= stats["auth"] <= 16, f"the connector kept trying after the refusal: {stats}"

        status = connector.outbox_status(config)
        assert status["counts"] == {"queued": events_in_stream, "delivered": 0, "dead": 0, "superseded": 0}
        assert status["paused_by_auth"] is True
        assert "secret key" in status["last_error"]
        text_status = connector.run("outbox", "status", "--config", str(config))
        assert "PAUSED" in text_status.stdout and f"queued       {events_in_stream}" in text_status.stdout

        write_config(config, sim.base_url, stream, secret=SECRET)  # the fix
        fixed = connector.run("run", "--config", str(config), "--once")
        assert fixed.returncode == 0, fixed.describe()
        assert_clean_log(fixed)
        assert not log_lines(fixed.stderr, " ERROR "), fixed.describe()
        assert_crm_holds_exactly(sim, expected)
        status = assert_nothing_queued(connector, config)
        assert status["paused_by_auth"] is False


# --- e. the secret key is written nowhere --------------------------------------------------------------

def test_the_secret_key_appears_in_no_file_and_no_output(tmp_path: Path, connector: Connector) -> None:
    secret = "S3cr3t-" + secrets.token_hex(8)
    wrong = "S3cr3t-wrong-" + secrets.token_hex(8)
    stream = make_stream(tmp_path, 200, seed=51)
    configs: list[Path] = []

    def config(name: str, url: str, **options: Any) -> Path:
        path = write_config(tmp_path / f"{name}.yaml", url, stream, **options)
        configs.append(path)
        return path

    with CrmSim(tmp_path, secret=secret) as sim:
        post = config("post", sim.base_url, secret=secret)
        get = config("get", sim.base_url, secret=secret, method="GET")
        expected = expected_calls(connector, post, stream)

        # a full delivery by POST, then by GET (the secret in every request URL), debug logging on
        for path in (post, get):
            run = connector.run("-vv", "run", "--config", str(path), "--once", "--from-start")
            assert run.returncode == 0, run.describe()
        assert_crm_holds_exactly(sim, expected)
        assert sim.stats()["by_method"]["ProcessCDR"] >= 2 * len(expected)

        # the refused secret, both methods: the error path logs the refusal
        for method in ("GET", "POST"):
            run = connector.run("-vv", "run", "--config",
                                str(config(f"wrong-{method}", sim.base_url, secret=wrong, method=method)),
                                "--once", "--from-start")
            assert "refused the secret key" in run.stderr, run.describe()

        # the CRM down (connection refused), an HTML 500 page, a timeout; GET
        sim.stop()  # down until the connector has seen it: a timed down_for could end before a slow start-up
        run = connector.start("-vv", "run", "--config", str(get), "--once", "--from-start")
        wait_until(lambda: "CRM unavailable" in run.stderr, "the connector logged the outage", alive=run)
        sim.start()
        connector.wait(run)
        assert run.returncode == 0, run.describe()
        sim.set_faults(html_errors=True, error_rate=1.0)
        run = connector.start("-vv", "run", "--config", str(get), "--from-start")
        wait_until(lambda: "HTTP 500" in run.stderr, "the connector logged the HTML 500", alive=run)
        connector.stop(run)
        sim.set_faults(reset=True, latency_ms=1500)
        slow = config("slow", sim.base_url, secret=secret, method="GET", timeout=0.3)
        run = connector.start("-vv", "run", "--config", str(slow), "--from-start")
        wait_until(lambda: "no answer within" in run.stderr, "the connector logged the timeout", alive=run)
        connector.stop(run)
        sim.set_faults(reset=True)
        closed_port = config("closed", "http://127.0.0.1:9/modules/ParsVT/ws/API/V2/PBX/Generic",
                             secret=secret, method="GET")
        run = connector.start("-vv", "run", "--config", str(closed_port), "--from-start")
        wait_until(lambda: "CRM unavailable" in run.stderr, "the connector logged the refused connection",
                   alive=run)
        connector.stop(run)

    # every way of looking into the outbox
    export_file = tmp_path / "export.jsonl"
    for args in (("status",), ("status", "--json"), ("list", "--limit", "100000"),
                 *(("list", "--state", state, "--limit", "100000") for state in ("queued", "delivered", "dead",
                                                                                  "superseded")),
                 ("export", "--state", "delivered", "-o", "-"), ("export", "--state", "queued", "-o", "-"),
                 ("export", "--state", "delivered", "-o", str(export_file))):
        run = connector.run("outbox", args[0], "--config", str(post), *args[1:], timeout=30)
        assert run.returncode == 0, run.describe()

    data_dir = tmp_path / "data"
    files = [path for path in data_dir.rglob("*") if path.is_file()]
    assert any(path.name.startswith("outbox.sqlite3") for path in files), files
    files += [export_file]
    for run in connector.runs:
        files += [run.stdout_path, run.stderr_path]
    needles = {secret.encode(), wrong.encode(), secret.encode("utf-16-le"), wrong.encode("utf-16-le")}
    leaks = [str(path) for path in files for needle in needles if needle in path.read_bytes()]
    assert not leaks, f"the secret key was found in: {leaks}"
    # the grep itself works: the configs hold the keys, and the outputs are not empty
    assert all((secret in path.read_text() or wrong in path.read_text()) for path in configs)
    assert sum(run.stderr_path.stat().st_size for run in connector.runs) > 2_000
