"""Device profiles (devices/*.yaml): a PBX model's transport defaults, layouts, date order, phone rules
and notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

from . import yamlfile
from .errors import ConfigError
from .layouts.fields import DATE_ORDERS
from .normalize import PhoneRules
from .resources import yaml_files
from .yamlnames import cacheable, first_declaring

LISTEN_HOST = "0.0.0.0"  # tcp-listen:// with no host: every interface (the PBX connects from the LAN)


@dataclass(slots=True)
class Device:
    name: str
    title: str
    layout: str
    layouts: list[str]
    date_order: str | None
    serial: dict[str, str] = field(default_factory=dict)
    tcp: dict[str, str] = field(default_factory=dict)
    listen: dict[str, str] = field(default_factory=dict)
    phone: yamlfile.Section | None = None  # phone rules of this model, under the config's own
    quirks: list[str] = field(default_factory=list)
    notes: str = ""
    parser_options: dict = field(default_factory=dict)  # defaults of the source's parser_options
    path: str = ""

    def phone_rules(self, base: PhoneRules) -> PhoneRules:
        """``base`` with this model's phone rules applied (the config's own rules go on top)."""
        return base if self.phone is None else PhoneRules.from_section(self.phone, base)

    def apply_to_url(self, url: str) -> str:
        """Fill in what the technician left out of the URL from this device's defaults."""
        parts = urlsplit(url)
        defaults: dict[str, str] = {}
        netloc = parts.netloc
        if parts.scheme == "serial":
            defaults = self.serial
        elif parts.scheme == "tcp":
            defaults = {k: v for k, v in self.tcp.items() if k != "port"}
            if "port" in self.tcp and parts.port is None and netloc:
                netloc = f"{netloc}:{self.tcp['port']}"
        elif parts.scheme == "tcp-listen":
            defaults = {k: v for k, v in self.listen.items() if k != "port"}
            if "port" in self.listen and parts.port is None:
                netloc = f"{netloc or LISTEN_HOST}:{self.listen['port']}"
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        merged = {**{k: str(v) for k, v in defaults.items()}, **query}
        query_text = urlencode(merged, safe="/:")
        # urlunsplit would drop the empty authority of serial:///dev/ttyUSB0
        return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query_text}" if query_text else "")


def read_device(section: yamlfile.Section) -> Device:
    section.check_keys({"device", "title", "layout", "layouts", "date_order", "serial", "tcp", "listen",
                        "phone", "quirks", "notes", "parser_options"})
    layout = section.get("layout")
    listed = section.str_list("layouts", [layout])
    if layout not in listed:
        listed.insert(0, layout)
    return Device(
        name=section.get("device"),
        title=section.get("title", str, ""),
        layout=layout,
        layouts=listed,
        date_order=section.get("date_order", str, None, choices=DATE_ORDERS),
        serial=_settings(section.section("serial", optional=True)),
        tcp=_settings(section.section("tcp", optional=True)),
        listen=_settings(section.section("listen", optional=True)),
        phone=_phone(section),
        quirks=section.str_list("quirks", []),
        notes=section.get("notes", str, ""),
        parser_options=yamlfile.as_written(section.section("parser_options", optional=True).data),
        path=section.path,
    )


def _settings(section: yamlfile.Section) -> dict[str, str]:
    return {str(key): section.get(str(key), str) for key in section.keys()}  # password: 0123 stays 0123


def _phone(section: yamlfile.Section) -> yamlfile.Section | None:
    if "phone" not in section:
        return None
    phone = section.section("phone")
    PhoneRules.from_section(phone)  # a mistake in the profile is reported against the profile
    return phone


def available(extra_dirs: list[str] | None = None) -> dict[str, Device]:
    found: dict[str, Device] = {}
    for path in yaml_files("devices", extra_dirs):
        device = read_device(yamlfile.load(path, cache=cacheable("devices", path)))
        found.setdefault(device.name, device)
    return found


def find(name: str, extra_dirs: list[str] | None = None) -> Device:
    """The profile named ``name``, read from its own file (reading every profile only to say it is not there)."""
    section = first_declaring("devices", "device", name, extra_dirs)
    if section is not None:
        return read_device(section)
    devices = available(extra_dirs)
    if name not in devices:
        raise ConfigError(f"no device profile named {name!r}; `smdr devices` lists them")
    return devices[name]
