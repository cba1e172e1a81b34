"""Record layouts by name: YAML files in parsers/ (compiled once) and code parsers from entry points.

A third party ships a code parser by declaring, in its own package::

    [project.entry-points."smdr.parsers"]
    my-pbx = "my_package.parser:MyPbxParser"

where ``MyPbxParser(context: ParserContext)`` returns an object with ``name``, ``skipped`` and
``parse(line: bytes) -> Record | None`` (see smdr.layouts.record.Parser), and optionally ``fold``
(the name of a folding strategy, as a YAML layout's ``fold:``), ``framer`` and ``tick``. A plugin
that fails to import is left out with a logged error: it never stops the bundled layouts. A plugin
named like a YAML layout is ignored with a warning (the YAML layout wins).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import yamlfile
from ..errors import ConfigError, LayoutNotFound
from ..resources import yaml_files
from ..yamlnames import cacheable, first_declaring
from .compiler import CompiledLayout
from .record import Parser, ParserContext, Record, RecordRejected
from .spec import LayoutSpec, read_layout

__all__ = ["LayoutInfo", "available", "find", "load", "read_layout_file", "Parser", "ParserContext", "Record",
           "RecordRejected", "CompiledLayout", "LayoutSpec", "broken_plugins"]

log = logging.getLogger("smdr.layouts")
_reported: set[str] = set()
_broken: dict[str, str] = {}


@dataclass(slots=True)
class LayoutInfo:
    name: str
    description: str
    origin: str
    spec: LayoutSpec | None = None
    factory: Callable[[ParserContext], Parser] | None = None

    @property
    def fold(self) -> str:
        return self.spec.fold if self.spec is not None else str(getattr(self.factory, "fold", "line"))

    @property
    def fold_tolerance(self) -> int:
        return self.spec.fold_tolerance if self.spec is not None else int(getattr(self.factory, "fold_tolerance", 120))

    def compile(self, date_order: str | None = None, context: ParserContext | None = None) -> Parser:
        context = context or ParserContext(date_order=date_order)
        if date_order:
            context.date_order = date_order
        if self.spec is not None:
            return CompiledLayout(self.spec, context.date_order, context)
        assert self.factory is not None
        return self.factory(context)


class LayoutsByName:
    """The layout files ``extends: NAME`` refers to, each read when it is first asked for (as ``_sections``
    would find it, without reading every file)."""

    __slots__ = ("extra_dirs", "found")

    def __init__(self, extra_dirs: list[str] | None) -> None:
        self.extra_dirs = extra_dirs
        self.found: dict[str, yamlfile.Section | None] = {}

    def get(self, name: str) -> yamlfile.Section | None:
        if name not in self.found:
            self.found[name] = first_declaring("parsers", "layout", name, self.extra_dirs)
        return self.found[name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __getitem__(self, name: str) -> yamlfile.Section:
        section = self.get(name)
        if section is None:
            raise KeyError(name)
        return section


Known = dict[str, yamlfile.Section] | LayoutsByName


def read_layout_file(path: str | Path, known: Known | None = None) -> LayoutSpec:
    return _read(yamlfile.load(path, cache=cacheable("parsers", Path(path))),
                 known if known is not None else LayoutsByName(None))


def _read(section: yamlfile.Section, known: Known) -> LayoutSpec:
    merged = _resolve_extends(section, known, [])
    try:
        return read_layout(merged)
    except ConfigError as exc:
        top = (exc.key or "").split(".")[0].split("[")[0]
        if merged is section or top in section.data:
            raise
        # the key came from the base layout, which is valid on its own: it is this file's change
        # (e.g. other fields) that breaks it
        base = known[str(section.raw("extends"))]
        cause = next((k for k in ("fields", "generic", "extends") if k in section.data), "extends")
        raise ConfigError(f"{exc} (in '{top}' inherited from {base.path}:{base.data.key_lines.get(top, 0)}, "
                          f"which this file's '{cause}' no longer fits; redefine '{top}' here too)",
                          path=section.path, line=section.data.key_lines.get(cause), key=exc.key) from None


def _sections(extra_dirs: list[str] | None) -> dict[str, yamlfile.Section]:
    sections: dict[str, yamlfile.Section] = {}
    for path in yaml_files("parsers", extra_dirs):
        section = yamlfile.load(path, cache=cacheable("parsers", path))
        sections.setdefault(str(section.get("layout")), section)
    return sections


def _resolve_extends(section: yamlfile.Section, known: Known,
                     chain: list[str]) -> yamlfile.Section:
    """``extends: NAME`` takes every key of layout NAME that this file does not set itself."""
    if "extends" not in section:
        return section
    base_name = section.get("extends")
    name = str(section.raw("layout"))
    if base_name in chain or base_name == name:
        raise section.error(f"layouts extend each other in a circle: {' -> '.join(chain + [name, base_name])}",
                            "extends")
    if base_name not in known:
        raise section.error(f"extends {base_name!r}, which is not a known layout", "extends")
    base = _resolve_extends(known[base_name], known, chain + [name])
    read_layout(base)  # errors in inherited keys are reported against the base file
    merged = yamlfile.MarkedDict()
    merged.line = section.data.line
    for source in (base.data, section.data):
        for key in source:
            if key != "extends":
                merged.copy_key(source, key)
    return yamlfile.Section(merged, section.path, "")


def available(extra_dirs: list[str] | None = None) -> dict[str, LayoutInfo]:
    """Every layout by name: YAML files (user folders shadow bundled ones), then entry points."""
    from importlib.metadata import entry_points  # tens of ms to import: only for the full list

    found: dict[str, LayoutInfo] = {}
    sections = _sections(extra_dirs)
    for name, section in sections.items():
        spec = _read(section, sections)
        found[name] = LayoutInfo(spec.name, spec.description, section.path, spec=spec)
    for ep in entry_points(group="smdr.parsers"):
        if ep.name in found:
            _report_once(f"shadow:{ep.name}", logging.WARNING, "code parser %r (%s) is named like the layout in %s: "
                         "the layout is used; rename the plugin to use it", ep.name, ep.value, found[ep.name].origin)
            continue
        try:
            factory = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the bundled layouts
            _broken[ep.name] = f"{type(exc).__name__}: {exc}"
            _report_once(f"broken:{ep.name}", logging.ERROR, "code parser %r (%s) cannot be loaded and is left out: "
                         "%s: %s", ep.name, ep.value, type(exc).__name__, exc)
            continue
        doc = (factory.__doc__ or "").strip().splitlines()
        found[ep.name] = LayoutInfo(ep.name, doc[0] if doc else "", f"entry point {ep.value}", factory=factory)
    return found


def broken_plugins() -> dict[str, str]:
    """Code parsers that failed to load in this process, with the reason (for `smdr layouts`)."""
    return dict(_broken)


def _report_once(key: str, level: int, message: str, *args: object) -> None:
    if key not in _reported:
        _reported.add(key)
        log.log(level, message, *args)


def find(name: str, extra_dirs: list[str] | None = None) -> LayoutInfo:
    """A layout by name, or by path to a YAML file (for a technician trying a layout of their own).

    A YAML layout is read from its file (and the files it extends) alone; only a name no YAML file
    declares (a code parser, or a mistake) costs reading them all."""
    known = LayoutsByName(extra_dirs)
    if name.endswith((".yaml", ".yml")) and Path(name).is_file():
        spec = read_layout_file(name, known)
        return LayoutInfo(spec.name, spec.description, name, spec=spec)
    section = known.get(name)
    if section is not None:  # a YAML layout wins over a code parser of the same name, as in available()
        spec = _read(section, known)
        return LayoutInfo(spec.name, spec.description, section.path, spec=spec)
    layouts = available(extra_dirs)
    if name not in layouts:
        import difflib

        close = difflib.get_close_matches(name, list(layouts), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise LayoutNotFound(f"no layout named {name!r}{hint}; `smdr layouts` lists them")
    return layouts[name]


def load(name: str, date_order: str | None = None, extra_dirs: list[str] | None = None,
         context: ParserContext | None = None) -> Parser:
    return find(name, extra_dirs).compile(date_order, context)
