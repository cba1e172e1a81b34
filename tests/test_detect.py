"""smdr detect names the vendor, device profile, layout and date order of every fixture, and "unknown" on noise.

What a fixture should be detected as comes from its manifest (fixtures/*/fixtures.yaml): its layout,
the date order its golden run passes (--date-order) or else the layout's own, and the device profile
that lists the layout; an entry may say otherwise under ``detect:``.
"""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import date

import pytest
import yaml
from golden import FIXTURES, ROOT, cases

from smdr import devices, layouts
from smdr.detect import default_order, detect, read_sample, sample_of

CASES = cases()


def expected(stream, layout: str, args: list[str]) -> dict[str, str]:
    entry = yaml.safe_load((stream.parent / "fixtures.yaml").read_text())[stream.name]
    order = args[args.index("--date-order") + 1] if "--date-order" in args else default_order(layouts.find(layout))
    profiles = sorted(devices.available().values(), key=lambda d: (d.layout != layout, d.name))
    device = next((d for d in profiles if layout in d.layouts), None)   # a technician's example may have none
    want = {"layout": layout, "date_order": order, "device": device.name if device else None,
            "vendor": device.title.split()[0] if device else ""}
    want.update(entry.get("detect", {}))
    return want


def reference_of(args: list[str]) -> date | None:
    """The --reference-date a golden run passes (a capture without years or dates needs one)."""
    return date.fromisoformat(args[args.index("--reference-date") + 1]) if "--reference-date" in args else None


def detected(path, reference: date | None = None) -> dict[str, str]:
    with open(path, "rb") as handle:
        sample, _ = read_sample(handle)
    found = detect(sample, reference=reference)
    assert not found.unknown, found.unknown
    assert len(found.tied) == 1, [c.name for c in found.tied]
    best = found.best
    profiles = found.devices.get(best.name)
    return {"layout": best.name, "date_order": best.dates.order, "device": profiles[0].name if profiles else None,
            "vendor": found.vendor(best.name)}


def smdr_detect(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smdr", "detect", *args], cwd=ROOT, input=stdin,
                          capture_output=True, timeout=60)


def test_every_fixture_directory_has_a_manifest_entry_per_stream():
    helpers = ("fixtures.yaml", ".golden.jsonl", ".py", ".timing")
    streams = {f for f in FIXTURES.glob("*/*") if f.is_file() and not f.name.endswith(helpers)}
    assert {s for s, _, _ in CASES} == streams and len(streams) >= 28


# A capture-first layout pops up anything with a number in it: a technician names it on purpose for a box
# whose protocol is unknown; detection never recommends it.
CATCH_ALL = {"callerid-capture-first"}
DETECTABLE = [c for c in CASES if c[1] not in CATCH_ALL]


@pytest.mark.parametrize("stream,layout,args", DETECTABLE, ids=[c[0].name for c in DETECTABLE])
def test_every_fixture_is_detected_as_what_it_is(stream, layout, args):
    assert detected(stream, reference_of(args)) == expected(stream, layout, args)


@pytest.mark.parametrize("stream,layout,args", [c for c in CASES if c[1] in CATCH_ALL],
                         ids=[c[0].name for c in CASES if c[1] in CATCH_ALL])
def test_a_capture_first_stream_is_not_detected_as_anything(stream, layout, args):
    result = smdr_detect(str(stream))
    assert result.returncode == 1 and "result: unknown" in result.stdout.decode()


def test_the_cli_prints_the_result_its_evidence_and_the_config_lines_to_paste():
    result = smdr_detect("fixtures/panasonic/kx-td.smdr")
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr
    assert "result: panasonic-kx-td (device panasonic-kx-td, vendor Panasonic), date order MDY" in out
    assert "dates only as MDY" in out                       # the date order's evidence
    assert "panasonic-kx-tda: the capture's date order MDY is panasonic-kx-td's own" in out  # the tie broken
    config = yaml.safe_load(out[out.index("\nsources:\n"):])
    assert config["sources"][0] | {"url": None} == {"name": "pbx", "url": None, "device": "panasonic-kx-td",
                                                     "layout": "panasonic-kx-td", "date_order": "MDY"}
    assert config["sources"][0]["url"].startswith("serial://")


@pytest.mark.parametrize("stream", ["panasonic/kx-tda-b.smdr", "avaya-ipoffice/vendor-examples.smdr"])
def test_the_config_lines_load_as_a_source_of_smdr_yaml(stream, tmp_path):
    from smdr import config

    out = smdr_detect(f"fixtures/{stream}").stdout.decode()
    block = out[out.index("\nsources:\n") + 1:]
    (tmp_path / "smdr.yaml").write_text(block + f"data_dir: {tmp_path / 'data'}\n")
    source = config.load(tmp_path / "smdr.yaml").sources[0]
    want = expected(FIXTURES / stream, *next((lay, args) for s, lay, args in CASES if s == FIXTURES / stream))
    assert (source.layout, source.date_order) == (want["layout"], want["date_order"])


def test_a_tie_between_column_sharing_families_is_broken_by_a_column_only_one_fills():
    out = smdr_detect("fixtures/panasonic/kx-ta.smdr").stdout.decode()
    assert ("panasonic-kx-tes: text on 3 record(s) lies outside every field of panasonic-kx-tes (3 character(s), "
            "e.g. record 11); panasonic-kx-ta has fields there") in out
    assert "date order  DMY (not shown by the capture)" in out
    assert "date_order: DMY   # not shown by the capture" in out


def test_kx_ta_has_every_field_of_kx_tes_as_it_is_and_the_disa_column_besides():
    """KX-TA redefines its fields only to add the DISA column: every other field (sentinels too) stays TES's."""
    ta, tes = (layouts.find(name).spec.fields for name in ("panasonic-kx-ta", "panasonic-kx-tes"))
    assert {k: v for k, v in ta.items() if k != "suffix"} == tes
    assert (ta["suffix"].first, ta["suffix"].last) == (78, 79)


def test_a_page_header_only_one_layout_names_breaks_a_tie(tmp_path):
    text = (ROOT / "parsers" / "panasonic-kx-tda-b.yaml").read_text()
    (tmp_path / "copy.yaml").write_text(text.replace("layout: panasonic-kx-tda-b", "layout: copy-of-b")
                                        + "skip:\n  - {reason: column names, startswith: 'Date '}\n"
                                          "  - {reason: separator, match: '^-{10,}$'}\n")
    sample = sample_of((FIXTURES / "panasonic" / "kx-tda-b.smdr").read_bytes())
    found = detect(sample, names=["panasonic-kx-tda-b", "copy-of-b"], extra_dirs=[str(tmp_path)])
    assert found.best.name == "panasonic-kx-tda-b"
    rival, reasons = found.rivals[0]
    assert rival.name == "copy-of-b" and "2 page header line(s)" in reasons[0]


def test_layouts_nothing_tells_apart_are_undecided_never_chosen_by_name(tmp_path):
    text = (ROOT / "parsers" / "panasonic-kx-tda-c.yaml").read_text()
    for name in ("a-twin", "z-twin"):
        (tmp_path / f"{name}.yaml").write_text(text.replace("layout: panasonic-kx-tda-c", f"layout: {name}"))
    sample = sample_of((FIXTURES / "panasonic" / "kx-tda-c.smdr").read_bytes())
    found = detect(sample, names=["a-twin", "z-twin"], extra_dirs=[str(tmp_path)])
    assert sorted(c.name for c in found.tied) == ["a-twin", "z-twin"]
    env_run = subprocess.run([sys.executable, "-m", "smdr", "detect", "fixtures/panasonic/kx-tda-c.smdr",
                              "--layout", "a-twin", "--layout", "z-twin"], cwd=ROOT, capture_output=True,
                             text=True, timeout=60, env={**_env(), "SMDR_PARSERS_PATH": str(tmp_path)})
    assert env_run.returncode == 1
    assert "result: undecided between a-twin, z-twin" in env_run.stdout


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("SMDR_")}


SYSLOG = b"""\
Dec  1 08:00:01 gw01 systemd[1]: Starting Daily apt download activities...
Dec  1 08:00:02 gw01 CRON[2211]: (root) CMD (test -x /usr/sbin/anacron || ( cd / && run-parts /etc/cron.daily ))
Dec  1 08:00:04 gw01 kernel: [1203.551] usb 1-1: new full-speed USB device number 5 using xhci_hcd
Dec  1 08:00:04 gw01 kernel: [1203.702] usb 1-1: New USB device found, idVendor=067b, idProduct=2303
Dec  1 08:00:04 gw01 kernel: [1203.705] pl2303 1-1:1.0: pl2303 converter detected
Dec  1 08:00:05 gw01 kernel: [1203.709] usb 1-1: pl2303 converter now attached to ttyUSB0
Dec  1 08:01:10 gw01 sshd[2290]: Accepted publickey for admin from 10.0.0.5 port 50122 ssh2
Dec  1 08:01:10 gw01 sshd[2290]: pam_unix(sshd:session): session opened for user admin(uid=1000)
Dec  1 08:02:33 gw01 dhclient[611]: DHCPREQUEST for 10.0.0.20 on eth0 to 10.0.0.1 port 67
Dec  1 08:02:33 gw01 dhclient[611]: DHCPACK of 10.0.0.20 from 10.0.0.1
"""


def _other_pbx_lines(rng: random.Random) -> bytes:
    """Records of a PBX no layout is for, in the shape of ATSlog's `LG GHX-46 (variant 1).txt` (STA CO
    TOTAL START DATE DIALED; values made up here): a layout whose records print no time (Avaya CM LSU)
    fits their columns."""
    rows = ["STA CO  TOTAL  START   DATE\tDIALED\t                 ACCOUNT CODE         "]
    for i in range(40):
        way = "IO"[i % 2]
        number = f"{rng.randrange(200000, 999999)}" if way == "O" else ""
        total = f"0:{rng.randrange(60):02}:{rng.randrange(60):02}"
        rows.append(f"{rng.randrange(101, 130)} {rng.randrange(1, 9):02} {total} {10 + i // 6:02}:{(i * 7) % 60:02} "
                    f"11/15/04 {way} {number}".ljust(66))
    return "\r\r\n".join(rows).encode() + b"\r\r\n"


def _noise_cases():
    rng = random.Random(20261201)
    random_bytes = bytes(rng.randrange(256) for _ in range(48 * 1024))
    tda = (FIXTURES / "panasonic" / "kx-tda-a.smdr").read_bytes().split(b"\r\n")
    two_records = b"\r\n".join(tda[2:4]) + b"\r\n"
    return {
        "random bytes": random_bytes,
        "a syslog excerpt": SYSLOG * 3,
        "an empty file": b"",
        "only blank lines and form feeds": b"\r\n\r\n\x0c\r\n   \r\n" * 20,
        "a syslog with a few SMDR lines in it": SYSLOG * 3 + two_records + SYSLOG * 2 + two_records,
        "two records alone": two_records,
        "page headers and no record": b"\r\n".join(tda[:2]) * 5,
        "records of a PBX no layout is for": _other_pbx_lines(rng),
    }


@pytest.mark.parametrize("name", sorted(_noise_cases()))
def test_noise_is_unknown_with_a_non_zero_exit(name, tmp_path):
    path = tmp_path / "capture.cap"
    path.write_bytes(_noise_cases()[name])
    result = smdr_detect(str(path))
    out = result.stdout.decode()
    assert result.returncode == 1, out
    assert "result: unknown: " in out and "\nsources:" not in out


def test_a_short_capture_is_detected_from_three_records(tmp_path):
    lines = (FIXTURES / "panasonic" / "kx-td.smdr").read_bytes().split(b"\r\n")
    path = tmp_path / "short.cap"
    path.write_bytes(b"\r\n".join(lines[1:6]) + b"\r\n")   # header, dashes, three records
    assert detected(path) == {"layout": "panasonic-kx-td", "date_order": "MDY", "device": "panasonic-kx-td",
                              "vendor": "Panasonic"}


def test_a_layout_that_would_quarantine_most_of_the_capture_is_never_recommended(tmp_path):
    tda_a = (FIXTURES / "panasonic" / "kx-tda-a.smdr").read_bytes()
    tda_b = (FIXTURES / "panasonic" / "kx-tda-b.smdr").read_bytes()
    found = detect(sample_of(tda_a + tda_b), names=["panasonic-kx-tda-b"])   # A's 32 records, B's 19
    assert found.unknown.startswith("the layout that reads most of it (panasonic-kx-tda-b) would quarantine")
    assert found.best is None


def test_detection_reads_only_the_head_of_a_long_capture(tmp_path):
    page = (FIXTURES / "panasonic" / "kx-tda-b.smdr").read_bytes()
    path = tmp_path / "long.cap"
    path.write_bytes(page * 2000)     # 3.7 MB, LF line ends
    result = smdr_detect(str(path), "--detect-bytes", "20000")
    out = result.stdout.decode()
    assert result.returncode == 0, out
    whole_lines = (page * 20)[:20000].count(b"\n")   # the record cut at byte 20000 is left out
    assert out.splitlines()[0] == f"{path}: {whole_lines} records in 20000 bytes (its head)"
    few = smdr_detect(str(path), "--detect-lines", "5").stdout.decode()
    assert few.splitlines()[0].startswith(f"{path}: 5 records in ") and "(its head)" in few


def test_standard_input_is_detected_too():
    result = smdr_detect("-", stdin=(FIXTURES / "panasonic" / "kx-tda-c.smdr").read_bytes())
    assert result.returncode == 0
    assert b"result: panasonic-kx-tda-c (device panasonic-kx-tda, vendor Panasonic), date order DMY" in result.stdout
