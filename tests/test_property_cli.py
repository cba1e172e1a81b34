"""Property tests: whatever a person types or writes in a config file, smdr answers with a message,
never a traceback (the config loader raises only ConfigError; the CLI returns an exit code)."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smdr import config
from smdr.cli.main import main
from smdr.errors import ConfigError
from smdr.yamlfile import load_text

# SMDR_EXAMPLES=2000 for a longer, random search (the default run is short and repeatable)
EXAMPLES = int(os.environ.get("SMDR_EXAMPLES", "150"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize="SMDR_EXAMPLES" not in os.environ,
                    database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

KEYS = sorted(config.TOP_KEYS | config.SOURCE_KEYS | config.MONITOR_KEYS | {
    "url", "secretkey", "secretkey_env", "concurrency", "timeout", "keep_days", "max_age", "area_code",
    "local_lengths", "strip_prefixes", "extension_pattern", "country_code", "hidden_digits", "lookup"})
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
    st.text(max_size=12), st.sampled_from(["panasonic-kx-tda", "Asia/Tehran", "tcp://h:1", "serial://COM3",
                                           "file://x.smdr", "http://127.0.0.1:9/x", "DMY", "[", "*", "0123"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)), max_leaves=12)
DOCUMENTS = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6)
SOURCE = st.fixed_dictionaries({"name": SCALARS, "url": SCALARS}, optional={
    key: VALUES for key in sorted(config.SOURCE_KEYS - {"name", "url"})})
WITH_SOURCES = st.builds(lambda doc, sources: {**doc, "sources": sources}, DOCUMENTS, st.lists(SOURCE, max_size=2))
YAML_TEXT = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=" \t\n:-[]{}'\"#&*!|>%@`,?abc123", max_size=120),
    WITH_SOURCES.map(lambda doc: yaml.safe_dump(doc, allow_unicode=True)),
)


@PROPERTY
@given(YAML_TEXT)
def test_the_config_loader_raises_only_config_errors(text: str) -> None:
    try:
        root = load_text(text, "smdr.yaml")
        config.from_section(root, base_dir=Path("/nonexistent-smdr-test"))
    except ConfigError as exc:
        assert str(exc)


def run_cli(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: usage error or --help
            code = exc.code if isinstance(exc.code, int) else 2
    return code, err.getvalue()


WORDS = st.one_of(st.text(max_size=10), st.sampled_from([
    "--layout", "--device", "--format", "table", "csv", "--date-order", "MDY", "--reference-date", "2026-13-40",
    "--tz", "Mars/Base", "--area-code", "--local-lengths", "x,8", "--extension-pattern", "(", "-o", "/proc/x",
    "--config", "panasonic-kx-tda", "-", "--code", "-v", "-q", "--json", "--country-code", "--strip-prefix"]))
COMMANDS = st.sampled_from([["parse", "INPUT"], ["detect", "INPUT"], ["layouts"], ["devices"], ["parse"],
                            ["outbox", "status"], ["outbox", "list"], ["check", "--config", "CONFIG"],
                            ["init", "-o", "OUT"], ["parse", "INPUT", "--config", "CONFIG", "--layout",
                                                    "panasonic-kx-tda"]])


@PROPERTY
@given(COMMANDS, st.lists(WORDS, max_size=5), st.binary(max_size=300), YAML_TEXT)
def test_the_cli_answers_any_arguments_and_input_without_a_traceback(
        tmp_path: Path, command: list[str], words: list[str], data: bytes, config_text: str) -> None:
    capture, config_file = tmp_path / "in.cap", tmp_path / "smdr.yaml"
    capture.write_bytes(data)
    config_file.write_text(config_text, encoding="utf-8", errors="surrogatepass")
    out = tmp_path / "new.yaml"
    out.unlink(missing_ok=True)
    fill = {"INPUT": str(capture), "CONFIG": str(config_file), "OUT": str(out)}
    argv = [fill.get(word, word) for word in command] + words
    if argv[0] == "check":
        argv += ["--no-connect"]
    code, err = run_cli(argv)
    assert isinstance(code, int)
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["parse", "--reference-date", "2026-13-40", "x"], ["devices", "\x00"],
                                  ["layouts", "../../etc/passwd"]])
def test_known_awkward_arguments(argv: list[str]) -> None:
    code, err = run_cli(argv)
    assert code == 2 and "Traceback" not in err
