"""The wheel, installed in a fresh venv outside the checkout, works as well as the checkout: the pure-Python
wheel, and the compiled build (hatch_build.py: mypyc), which must give byte for byte the same output."""

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile

import pytest
from golden import ROOT, cases, golden_path

pytestmark = pytest.mark.slow
# one worker builds each wheel once, and the two build on two workers at once (mypyc takes a minute)
BUILDS = [pytest.param(build, marks=pytest.mark.xdist_group(f"wheel-{build}")) for build in ("pure", "compiled")]

COMPILED_ENV = {"HATCH_BUILD_HOOK_ENABLE_CUSTOM": "1"}  # hatch turns the build hook in pyproject.toml on


def _run(cmd, cwd, timeout=300, env=None):
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(cmd, cwd=cwd, env={**clean, **(env or {})}, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"{cmd}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module", params=BUILDS)
def installed(request, tmp_path_factory):
    work = tmp_path_factory.mktemp(f"wheel-{request.param}")
    build_env = COMPILED_ENV if request.param == "compiled" else None
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(ROOT)], work,
         timeout=600, env=build_env)
    wheel = next((work / "dist").glob("smdr-*.whl"))
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)], work)
    outside = work / "elsewhere"
    outside.mkdir()
    return wheel, python, outside


def test_yaml_ships_as_package_data_not_top_level_packages(installed):
    wheel, _, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert "smdr/data/parsers/panasonic-kx-tda.yaml" in names
    assert "smdr/data/devices/panasonic-kx-tda.yaml" in names
    assert not [n for n in names if n.split("/")[0] in ("parsers", "devices", "tests", "fixtures")]


def test_installed_package_is_not_the_checkout(installed):
    _, python, outside = installed
    where = _run([str(python), "-c", "import smdr; print(smdr.__file__)"], outside).strip()
    assert str(ROOT) not in where and "site-packages" in where


def test_layouts_and_devices_are_found(installed):
    _, python, outside = installed
    smdr = python.parent / "smdr"
    layouts = _run([str(smdr), "layouts"], outside)
    devices = _run([str(smdr), "devices"], outside)
    for name in ("panasonic-kx-tda", "panasonic-kx-tda-b", "panasonic-kx-td", "panasonic-kx-tes", "panasonic-kx-ta"):
        assert name in layouts
    for name in ("panasonic-kx-tda", "panasonic-kx-td", "panasonic-kx-tes", "panasonic-kx-ta"):
        assert name in devices


def test_installed_parse_gives_the_golden_output(installed):
    _, python, outside = installed
    for stream, layout, args in cases():
        copy = outside / stream.name
        shutil.copyfile(stream, copy)
        timing = stream.with_name(stream.name + ".timing")
        if timing.exists():  # a timed capture's golden output is its parse with the recorded timing
            shutil.copyfile(timing, outside / timing.name)
        out = _run([str(python.parent / "smdr"), "parse", copy.name, "--layout", layout, "--source", stream.name,
                    *args], outside)
        expected = golden_path(stream).read_text(encoding="utf-8").splitlines()
        assert out.splitlines() == expected, stream.name  # the same text, whichever build wrote it


def test_demo_and_init_work_from_the_wheel_outside_the_checkout(installed):
    wheel, python, outside = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert {"smdr/data/smdr.example.yaml", "smdr/data/demo/kx-tda-a.smdr", "smdr/data/demo/contacts.yaml",
            "smdr/service/smdr.service"} <= set(names)
    smdr = python.parent / "smdr"
    out = _run([str(smdr), "demo", "--fast", "--dir", str(outside / "demo")], outside)
    assert "The CRM holds 27 calls" in out and "popup at extension 111: رضا محمدی" in out
    _run([str(smdr), "init", "-o", str(outside / "site.yaml")], outside)
    assert (outside / "site.yaml").read_text(encoding="utf-8") == (ROOT / "smdr.example.yaml").read_text(
        encoding="utf-8")


_COMPILED_REPORT = """
import json, sys
from smdr import layouts
from smdr.compiled import is_compiled
ahead = {name: getattr(info.compile(), "compiled_ahead", None) for name, info in layouts.available().items()
         if info.spec is not None}
print(json.dumps({"compiled": is_compiled(), "ahead": ahead}))
"""


def test_the_compiled_build_compiles_the_engine_and_every_shipped_layout(installed):
    wheel, python, outside = installed
    report = json.loads(_run([str(python), "-c", _COMPILED_REPORT], outside))
    compiled = "-none-any" not in wheel.name  # the compiled wheel is tagged for its platform
    assert report["compiled"] is compiled
    assert len(report["ahead"]) == len(list((ROOT / "parsers").glob("*.yaml")))
    assert set(report["ahead"].values()) == {compiled}, report["ahead"]


def test_a_layout_changed_after_the_build_runs_as_written(installed):
    """A user's copy of a layout is compiled ahead only when its code is what was built (the file's path
    does not count); one rule changed, and it is compiled at run time, as in the pure install."""
    wheel, python, outside = installed
    stream, _, args = next(case for case in cases() if case[0].name == "kx-tda-a.smdr")
    shutil.copyfile(stream, outside / stream.name)
    original = (ROOT / "parsers" / "panasonic-kx-tda.yaml").read_text(encoding="utf-8")
    changed = original.replace('"CO line is not a number"', '"the CO line is not a number"')
    assert changed != original
    (outside / "same.yaml").write_text(original, encoding="utf-8")
    (outside / "changed.yaml").write_text(changed, encoding="utf-8")
    probe = ("import sys; from smdr import layouts; "
             "print(layouts.find(sys.argv[1]).compile().compiled_ahead)")
    compiled = "-none-any" not in wheel.name
    assert _run([str(python), "-c", probe, "same.yaml"], outside).strip() == str(compiled)
    assert _run([str(python), "-c", probe, "changed.yaml"], outside).strip() == "False"
    expected = golden_path(stream).read_text(encoding="utf-8").splitlines()
    for layout in ("same.yaml", "changed.yaml"):
        out = _run([str(python.parent / "smdr"), "parse", stream.name, "--layout", layout, "--source", stream.name,
                    *args], outside)
        assert out.splitlines() == expected, layout
