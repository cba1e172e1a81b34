"""smdr.yaml: sources, normalization, data directory, output (see smdr.example.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import devices, layouts, yamlfile
from .errors import ConfigError, TransportError
from .layouts.fields import DATE_ORDERS
from .normalize import PhoneRules, zone
from .quarantine import QUARANTINE_FILE
from .source_spec import SourceSpec

# The sections below are imported where a config has them: the transports bring the event loop, the
# CRM client httpx, and `smdr parse --config` of a file needs neither.
if TYPE_CHECKING:
    from .cti.makecall import MakeCallSettings
    from .httpd.settings import HttpSettings
    from .recordings.settings import RecordingSettings

TOP_KEYS = {"data_dir", "timezone", "phone", "sources", "output", "quarantine", "crm", "popup", "outbox",
            "layout_dirs", "device_dirs", "max_record", "http", "recordings", "call_spaces",
            "click_to_call", "monitor"}
SOURCE_KEYS = {"name", "url", "device", "layout", "date_order", "gateway", "fold_tolerance", "timezone",
               "phone", "login", "password", "user", "idle_timeout", "parser_options", "call_space", "api_key",
               "tenant", "silent_minutes", "clock_tolerance_minutes"}
MONITOR_KEYS = {"silent_minutes", "clock_tolerance_minutes"}
#: a layout's longest record is a few hundred bytes; the framer holds at most this much per line
MAX_RECORD_RANGE = (64, 1 << 20)
MINUTES_A_WEEK = 7 * 24 * 60


@dataclass(slots=True)
class Monitor:
    """The ``monitor:`` section: the defaults of the sources' alarms (the status page is on ``http:``)."""

    silent_minutes: float = 0.0          # a source silent this long is warned about (0: never)
    clock_tolerance_minutes: float = 10.0  # printed and received times further apart: a wrong PBX clock


@dataclass(slots=True)
class Settings:
    path: str
    data_dir: Path
    timezone: str
    phone: PhoneRules
    sources: list[SourceSpec]
    output: str | None
    quarantine_path: Path
    root: yamlfile.Section
    layout_dirs: list[str] = field(default_factory=list)
    http: HttpSettings | None = None  # the connector's HTTP server, when configured
    recordings: RecordingSettings | None = None  # a call recorder's folder, when configured
    call_spaces: dict[str, float] = field(default_factory=dict)  # name -> window (s), for every name in use
    click_to_call: MakeCallSettings | None = None  # the CRM's /makecall, when configured
    monitor: Monitor = field(default_factory=Monitor)

    def section(self, key: str) -> yamlfile.Section | None:
        return self.root.section(key) if key in self.root else None


def load(path: str | Path, *, need_sources: bool = True) -> Settings:
    """``need_sources``: False where only the site settings are wanted (``smdr parse --config``)."""
    root = yamlfile.load(path)
    return from_section(root, base_dir=Path(path).resolve().parent, need_sources=need_sources)


def from_section(root: yamlfile.Section, base_dir: Path, *, need_sources: bool = True) -> Settings:
    root.check_keys(TOP_KEYS)
    data_dir = base_dir / root.get("data_dir", str, "smdr-data")
    timezone = root.get("timezone", str, "Asia/Tehran")
    _check_zone(root, "timezone", timezone)
    phone_section = root.section("phone", optional=True)
    phone = PhoneRules.from_section(phone_section)
    layout_dirs = [str(base_dir / d) for d in root.str_list("layout_dirs", [])]
    device_dirs = [str(base_dir / d) for d in root.str_list("device_dirs", [])]
    max_record = root.get("max_record", int, 4096, minimum=MAX_RECORD_RANGE[0], maximum=MAX_RECORD_RANGE[1],
                          unit="bytes")
    monitor = _monitor(root.section("monitor", optional=True))
    source_sections = root.sections("sources")
    if not source_sections and need_sources:
        raise root.error("'sources' is empty: list at least one PBX (see smdr.example.yaml)", "sources")
    sources = [_source(s, timezone, phone_section, layout_dirs, device_dirs, max_record, base_dir, monitor)
               for s in source_sections]
    if sources:
        from .transports import transport_class, url_scheme
    for spec in sources:
        spec.state_path = data_dir / "state" / f"{_file_name(spec.name)}.json"
        spec.journal_dir = data_dir / "journal" / _file_name(spec.name)
        if getattr(transport_class(url_scheme(spec.url)), "keeps_state", False):  # e.g. which records were seen
            seen_db = data_dir / "state" / f"{_file_name(spec.name)}.seen.db"
            spec.transport_options.setdefault("state_path", str(seen_db))
    seen: set[str] = set()
    for spec, section in zip(sources, root.sections("sources")):
        if spec.name in seen:
            raise section.error(f"two sources have the same name {spec.name!r}; names must be unique "
                                "(they are part of every call_id)", "name")
        seen.add(spec.name)
    output = root.get("output", str, None)
    quarantine = data_dir / QUARANTINE_FILE
    if "quarantine" in root:
        quarantine = base_dir / root.get("quarantine")
    http = None
    if "http" in root:
        from .httpd.settings import HttpSettings

        http = HttpSettings.from_section(root.section("http", optional=True))
    recordings = _recordings(root, base_dir, http)
    return Settings(str(root.path), data_dir, timezone, phone, sources, output, quarantine, root, layout_dirs,
                    http, recordings, _call_spaces(root, sources), _click_to_call(root, http),
                    monitor)


def _click_to_call(root: yamlfile.Section, http: HttpSettings | None) -> MakeCallSettings | None:
    if "click_to_call" not in root:
        return None
    section = root.section("click_to_call")
    if http is None:
        raise section.error("click_to_call is a route of the connector's HTTP server: add an 'http:' section",
                            None)
    from .crm.settings import CrmSettings
    from .cti.makecall import MakeCallSettings

    crm_secret = CrmSettings.from_section(root.section("crm")).secretkey if "crm" in root else None
    return MakeCallSettings.from_section(section, crm_secret)


def _monitor(section: yamlfile.Section) -> Monitor:
    section.check_keys(MONITOR_KEYS)
    return Monitor(
        silent_minutes=float(section.get("silent_minutes", (int, float), 0, minimum=0, maximum=MINUTES_A_WEEK,
                                         unit="minutes")),
        clock_tolerance_minutes=float(section.get("clock_tolerance_minutes", (int, float), 10, minimum=0,
                                                  maximum=MINUTES_A_WEEK, unit="minutes")),
    )


def _call_spaces(root: yamlfile.Section, sources: list[SourceSpec]) -> dict[str, float]:
    """``call_spaces: {NAME: {window: seconds}}``; a space named only by sources gets the default window."""
    from .callspace import DEFAULT_WINDOW

    configured = root.section("call_spaces", optional=True)
    used = {spec.call_space for spec in sources if spec.call_space}
    spaces = dict.fromkeys(used, DEFAULT_WINDOW)
    for name in configured.keys():
        if name not in used:
            raise configured.error(f"no source names the call space {name!r} (call_space: {name})", name)
        space = configured.section(name)
        space.check_keys({"window"})
        window = space.get("window", (int, float), DEFAULT_WINDOW, maximum=3600, unit="seconds")
        if window <= 0:
            raise space.error(f"'{space.prefix}.window' must be above zero, not {window}", "window")
        spaces[name] = float(window)
    return spaces


def _recordings(root: yamlfile.Section, base_dir: Path, http: HttpSettings | None) -> RecordingSettings | None:
    if "recordings" not in root:
        return None
    from .recordings.settings import RecordingSettings

    section = root.section("recordings")
    settings = RecordingSettings.from_section(section, base_dir)
    if "crm" not in root:
        raise section.error("recordings are sent to the CRM: they need a crm: section")
    if http is None and settings.url_template is None:
        raise section.error("recordings need an http: section (the connector serves the files) or "
                            "'recordings.url_template' (the site publishes the folder itself)")
    return settings


def _file_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def _check_zone(section: yamlfile.Section, key: str, name: str) -> None:
    try:
        zone(name)
    except ConfigError as exc:
        raise section.error(str(exc), key) from None


def _phone_rules(section: yamlfile.Section, site: yamlfile.Section, device: devices.Device | None) -> PhoneRules:
    """The profile's phone rules, then the config's ``phone:``, then the source's own: what the
    technician wrote always wins over what the device profile ships."""
    rules = device.phone_rules(PhoneRules()) if device else PhoneRules()
    rules = PhoneRules.from_section(site, rules)
    return PhoneRules.from_section(section.section("phone", optional=True), rules)


def _source(section: yamlfile.Section, timezone: str, phone_section: yamlfile.Section, layout_dirs: list[str],
            device_dirs: list[str], max_record: int, base_dir: Path, monitor: Monitor) -> SourceSpec:
    section.check_keys(SOURCE_KEYS)
    name = section.get("name")
    url = section.get("url")
    device = None
    if "device" in section:
        try:
            device = devices.find(section.get("device"), device_dirs)
        except ConfigError as exc:
            raise section.error(str(exc), "device") from None
        url = device.apply_to_url(url)
    if url.startswith("file://") and not url.startswith("file:///"):
        # a relative capture path is relative to the config file, not to wherever smdr was started
        rel, sep, query = url[len("file://"):].partition("?")
        url = "file://" + str((base_dir / rel).resolve()) + sep + query
    layout = section.get("layout", str, device.layout if device else None)
    if layout is None:
        raise section.error("a source needs 'layout' (or a 'device' whose profile names one)", "layout")
    try:
        layouts.find(layout, layout_dirs)
    except ConfigError as exc:
        raise section.error(str(exc), "layout") from None
    tz = section.get("timezone", str, timezone)
    _check_zone(section, "timezone", tz)
    options: dict = {}
    if "idle_timeout" in section:
        section.get("idle_timeout", (int, float), minimum=1, maximum=7 * 86400, unit="seconds")
    for key in ("api_key", "tenant"):  # an HTTP PBX's credentials (GIS): kept out of the URL that is shown
        if key in section:
            options["key" if key == "api_key" else key] = yamlfile.as_written(section.written(key))
    for key in ("login", "password", "user", "idle_timeout"):
        if key in section:
            # password: 0123 is the text 0123 (YAML alone would make it the number 83)
            options["login_script" if key == "login" else key] = (
                section.raw(key) if key == "idle_timeout" else yamlfile.as_written(section.written(key)))
    from .transports import open_url

    try:
        open_url(url, **options)  # checks the URL and its options; opens nothing
    except TransportError as exc:
        raise section.error(str(exc), "url") from None
    return SourceSpec(
        name=name, url=url, layout=layout, timezone=tz,
        phone=_phone_rules(section, phone_section, device),
        date_order=section.get("date_order", str, device.date_order if device else None, choices=DATE_ORDERS),
        gateway=section.get("gateway", str, None),
        tolerance=section.get("fold_tolerance", int, None, minimum=0, maximum=86400, unit="seconds"),
        transport_options=options, max_record=max_record, layout_dirs=layout_dirs,
        parser_options={**(device.parser_options if device else {}),
                        **dict(section.section("parser_options", optional=True).data)},
        silent_after=60 * float(section.get("silent_minutes", (int, float), monitor.silent_minutes, minimum=0,
                                            maximum=MINUTES_A_WEEK, unit="minutes")),
        clock_tolerance=60 * float(section.get("clock_tolerance_minutes", (int, float),
                                               monitor.clock_tolerance_minutes, minimum=0,
                                               maximum=MINUTES_A_WEEK, unit="minutes")),
        **_call_space(section),
    )


def _call_space(section: yamlfile.Section) -> dict:
    """``call_space: NAME`` or ``call_space: {name: NAME, lines: {this source's line: the space's}}``."""
    if "call_space" not in section:
        return {}
    if isinstance(section.raw("call_space"), str):
        return {"call_space": section.get("call_space", str)}
    space = section.section("call_space")
    space.check_keys({"name", "lines"})
    lines = space.section("lines", optional=True)
    return {"call_space": space.get("name", str),
            "space_lines": {str(k): str(lines.written(k)) for k in lines.keys()}}
