"""The typed code that the compiled build compiles ahead of time for each layout (compiler.typed_source) does
what the layout's run-time code does. Here it runs as plain Python, on every fixture stream, and must give the
golden output byte for byte; tests/test_wheel.py runs the same streams through the compiled wheel."""

from __future__ import annotations

from pathlib import Path

from golden import ROOT, cases, golden_path, render

from smdr.compiled import is_compiled
from smdr.layouts import aot_sources, compiler, prebuilt
from smdr.pipeline import SourceSpec, make_decoder


def test_the_typed_code_of_each_layout_gives_the_golden_output(monkeypatch) -> None:
    ran: set[str] = set()

    def factory(source: str):
        namespace: dict = {}
        exec(compile(source, "<typed layout>", "exec"), namespace)
        ran.add(prebuilt.digest(source))
        return namespace["make"]

    monkeypatch.setattr(prebuilt, "available", lambda: True)
    monkeypatch.setattr(prebuilt, "factory", factory)
    yaml_layouts = {path.stem for path in (ROOT / "parsers").glob("*.yaml")}
    used = {layout for _, layout, _ in cases() if layout in yaml_layouts}
    for stream, layout, args in cases():
        assert render(stream, layout, args) == golden_path(stream).read_text(encoding="utf-8"), stream.name
    assert len(used) >= 10 and len(ran) >= 10  # (two layouts may become the same code: one digest)


def test_a_shipped_layout_runs_compiled_ahead_only_in_the_compiled_build() -> None:
    decoder = make_decoder(SourceSpec(name="pbx", url="", layout="panasonic-kx-tda"))
    assert prebuilt.available() is is_compiled()  # (the suite also runs against a compiled tree)
    assert decoder.parser.compiled_ahead is is_compiled()
    code = "def make(ns: dict[str, Any])" if is_compiled() else "def make(ns):"
    assert code in decoder.parser.source


def test_the_digest_is_the_code_without_its_comments() -> None:
    """A rule's comment names the YAML file it came from: another path must not make it another layout."""
    assert prebuilt.digest("x = 1\n    # rule 1 (/build/parsers/a.yaml:3)\n") == prebuilt.digest(
        "x = 1\n    # rule 1 (/site-packages/smdr/data/parsers/a.yaml:3)\n")
    assert prebuilt.digest("x = 1\n") != prebuilt.digest("x = 2\n")


def test_the_build_writes_one_module_per_shipped_layout_and_an_index_of_them(tmp_path: Path) -> None:
    written = aot_sources.write(ROOT / "parsers", tmp_path / "aot")
    assert len(written) == len(list((ROOT / "parsers").glob("*.yaml")))
    index: dict = {}
    exec((tmp_path / "aot" / "__init__.py").read_text(encoding="utf-8"), index)
    codes = {prebuilt.digest(path.read_text(encoding="utf-8")) for path in written}
    assert set(index["INDEX"]) == codes and set(index["INDEX"].values()) <= {path.stem for path in written}
    for digest, module in index["INDEX"].items():
        source = (tmp_path / "aot" / f"{module}.py").read_text(encoding="utf-8")
        assert prebuilt.digest(source) == digest
        assert "def make(ns: dict[str, Any]) -> Callable[[bytes], Record | None]:" in source
    spec = make_decoder(SourceSpec(name="pbx", url="", layout="panasonic-kx-tda")).parser.spec
    assert prebuilt.digest(compiler.typed_source(spec, spec.date_order)) in index["INDEX"]
