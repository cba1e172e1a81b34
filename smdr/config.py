"""smdr.yaml: sources, normalization, data directory, output (see smdr.example.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import devices, layouts, yamlfile
from .errors import ConfigError, TransportError
from .layouts.fields import DATE_ORDERS
from .normalize import PhoneRules, zone
from .pipeline import SourceSpec
from .transports import open_url

TOP_KEYS = {"data_dir", "timezone", "phone", "sources", "output", "quarantine", "crm", "popup", "outbox",
            "layout_dirs", "device_dirs", "max_record", "monitor"}
SOURCE_KEYS = {"name", "url", "device", "layout", "date_order", "gateway", "fold_tolerance", "timezone",
               "phone", "login", "password", "user", "idle_timeout", "parser_options", "silent_minutes",
               "clock_tolerance_minutes"}
MONITOR_KEYS = {"listen", "token", "silent_minutes", "clock_tolerance_minutes"}
#: a layout's longest record is a few hundred bytes; the framer holds at most this much per line
MAX_RECORD_RANGE = (64, 1 << 20)
MINUTES_A_WEEK = 7 * 24 * 60


@dataclass(slots=True)
class Monitor:
    """The ``monitor:`` section: the status page / metrics listener and the source alarms' defaults."""

    listen: str | None = None            # host:port of the status page and /metrics; None: off
    token: str | None = field(default=None, repr=False)  # required by the page when not on loopback
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
    for spec in sources:
        spec.state_path = data_dir / "state" / f"{_file_name(spec.name)}.json"
    seen: set[str] = set()
    for spec, section in zip(sources, root.sections("sources")):
        if spec.name in seen:
            raise section.error(f"two sources have the same name {spec.name!r}; names must be unique "
                                "(they are part of every call_id)", "name")
        seen.add(spec.name)
    output = root.get("output", str, None)
    quarantine = data_dir / "quarantine.jsonl"
    if "quarantine" in root:
        quarantine = base_dir / root.get("quarantine")
    return Settings(str(root.path), data_dir, timezone, phone, sources, output, quarantine, root, layout_dirs,
                    monitor)


def _monitor(section: yamlfile.Section) -> Monitor:
    section.check_keys(MONITOR_KEYS)
    listen = section.get("listen", str, None)
    if listen is not None:
        host, _, port = listen.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise section.error(f"'{section.prefix}.listen' must be HOST:PORT, e.g. 127.0.0.1:8090", "listen")
    token = section.written("token")
    if token is not None and not (isinstance(token, str) and len(token) >= 8):
        raise section.error("'monitor.token' must be text of 8 characters or more", "token")
    return Monitor(
        listen=listen, token=token,
        silent_minutes=float(section.get("silent_minutes", (int, float), 0, minimum=0, maximum=MINUTES_A_WEEK,
                                         unit="minutes")),
        clock_tolerance_minutes=float(section.get("clock_tolerance_minutes", (int, float), 10, minimum=0,
                                                  maximum=MINUTES_A_WEEK, unit="minutes")),
    )


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
    for key in ("login", "password", "user", "idle_timeout"):
        if key in section:
            # password: 0123 is the text 0123 (YAML alone would make it the number 83)
            options["login_script" if key == "login" else key] = (
                section.raw(key) if key == "idle_timeout" else yamlfile.as_written(section.written(key)))
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
        parser_options=dict(section.section("parser_options", optional=True).data),
        silent_after=60 * float(section.get("silent_minutes", (int, float), monitor.silent_minutes, minimum=0,
                                            maximum=MINUTES_A_WEEK, unit="minutes")),
        clock_tolerance=60 * float(section.get("clock_tolerance_minutes", (int, float),
                                               monitor.clock_tolerance_minutes, minimum=0,
                                               maximum=MINUTES_A_WEEK, unit="minutes")),
    )
