"""Start-up: ``smdr --help`` lists every command without importing them; ``smdr X`` imports X only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from smdr.cli.commands import COMMANDS, named_in
from smdr.cli.main import build_parser


def test_the_command_table_says_what_each_module_registers() -> None:
    parser = build_parser()  # every module in full
    action = next(a for a in parser._actions if a.dest == "command")
    registered = {choice.dest: choice.help for choice in action._choices_actions}
    assert registered == {name: help_line for name, (_module, help_line) in COMMANDS.items()}


def test_the_command_is_the_first_word_that_is_not_an_option() -> None:
    assert named_in(["-v", "parse", "x.smdr", "--layout", "run"]) == "parse"
    assert named_in(["--help"]) is None
    assert named_in(["parsee"]) is None
    assert named_in(["--", "parse"]) is None


def loaded_after(argv: list[str]) -> set[str]:
    code = ("import sys\nfrom smdr.cli.main import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print(' '.join(sorted(sys.modules)), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60)
    return set(done.stderr.split()[-1000:])


def test_help_imports_no_command_and_a_command_imports_only_its_own() -> None:
    top = loaded_after(["--help"])
    assert "smdr.cli.main" in top
    assert not {f"smdr.cli.{module}" for module, _ in COMMANDS.values()} & top
    assert not {"httpx", "asyncio", "yaml"} & top
    assert not {"smdr.model", "dataclasses"} & top  # the package's model names are imported when used
    layouts = loaded_after(["layouts", "--help"])
    assert "smdr.cli.layouts" in layouts and "smdr.cli.run" not in layouts and "smdr.cli.crm_sim" not in layouts


#: what a live source needs and a capture parsed offline does not: the event loop, the transports, the
#: CRM client, the outbox database, detection (every layout) and the plugin metadata of the layouts
LIVE_ONLY = {"asyncio", "httpx", "smdr.transports", "smdr.crm", "smdr.pipeline", "sqlite3", "smdr.outbox",
             "smdr.detect", "smdr.config"}


def test_parsing_a_capture_with_a_named_layout_imports_nothing_a_live_source_needs(tmp_path) -> None:
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "panasonic" / "kx-tda-a.smdr"
    capture = tmp_path / "ten.smdr"
    capture.write_bytes(b"".join(fixture.read_bytes().splitlines(keepends=True)[:10]))
    out = tmp_path / "events.jsonl"
    loaded = loaded_after(["parse", str(capture), "--layout", "panasonic-kx-tda", "-o", str(out)])
    assert "smdr.cli.parse" in loaded and "smdr.layouts.compiler" in loaded
    assert out.read_text().count('"call_id"') >= 3  # it did parse
    assert not LIVE_ONLY & loaded, LIVE_ONLY & loaded


def test_the_package_still_gives_the_model_names_it_exports() -> None:
    import smdr
    from smdr import model

    assert (smdr.CallEvent, smdr.Provenance, smdr.make_call_id) == (model.CallEvent, model.Provenance,
                                                                    model.make_call_id)
    assert set(smdr.__all__) >= {"CallEvent", "Provenance", "make_call_id"}
    try:
        smdr.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")


def test_the_config_and_the_source_settings_import_no_event_loop_nor_http_client() -> None:
    code = ("import sys\nimport smdr.config, smdr.source_spec\n"
            "print(' '.join(sorted({'asyncio', 'httpx', 'smdr.transports', 'smdr.crm'} & set(sys.modules))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout + done.stderr
    from smdr import pipeline, source_spec

    assert pipeline.SourceSpec is source_spec.SourceSpec and pipeline.make_decoder is source_spec.make_decoder
