"""The ``recordings:`` config section: the folder a call recorder fills, how its names read, the links."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..yamlfile import Section
from .pattern import FilenamePattern, PatternError

RECORDING_KEYS = frozenset({"folder", "pattern", "recursive", "extensions", "poll", "settle", "window", "lines",
                            "url_template"})
_DEFAULTS = {"poll": 2.0, "settle": 5.0, "window": 120.0}
AUDIO_EXTENSIONS = ("wav", "mp3", "ogg", "opus", "amr", "gsm", "m4a", "wma")


@dataclass(slots=True)
class RecordingSettings:
    folder: Path
    pattern: FilenamePattern
    recursive: bool = False
    extensions: frozenset[str] = frozenset(AUDIO_EXTENSIONS)  # other files in the folder are not recordings
    poll: float = 2.0            # seconds between scans of the folder
    settle: float = 5.0          # a file is taken once its size and time have not changed for this long
    window: float = 120.0        # seconds a recording's time may lie outside its call's span (clock skew)
    lines: dict[str, str] = field(default_factory=dict)   # recorder channel -> the PBX's line name
    url_template: str | None = None  # {path} / {name}: the site publishes the folder itself

    @classmethod
    def from_section(cls, section: Section, base_dir: Path) -> RecordingSettings:
        section.check_keys(RECORDING_KEYS)
        try:
            pattern = FilenamePattern(section.get("pattern", str))
        except PatternError as exc:
            raise section.error(f"'{section.prefix}.pattern': {exc}", "pattern") from None
        numbers = {}
        for key in ("poll", "settle", "window"):
            value = section.get(key, (int, float), _DEFAULTS[key], maximum=86400, unit="seconds")
            if value < 0 or (key == "poll" and value == 0):
                raise section.error(f"'{section.prefix}.{key}' must be above zero, not {value}", key)
            numbers[key] = float(value)
        lines_section = section.section("lines", optional=True)
        lines = {str(k): str(lines_section.written(k)) for k in lines_section.keys()}
        template = section.get("url_template", str, None)
        if template is not None and "{path}" not in template and "{name}" not in template:
            raise section.error(f"'{section.prefix}.url_template' must contain {{path}} or {{name}}", "url_template")
        extensions = frozenset(e.lower().lstrip(".") for e in section.str_list("extensions", list(AUDIO_EXTENSIONS)))
        return cls(base_dir / section.get("folder", str), pattern, section.get("recursive", bool, False),
                   extensions, numbers["poll"], numbers["settle"], numbers["window"], lines, template)
