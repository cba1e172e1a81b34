"""YAML files whose errors name the file, the line and the key.

Every YAML smdr reads (config, layouts, device profiles) goes through ``load`` and is read through a
``Section``, so a technician who mistypes a value is told exactly where.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml

from . import yamlerrors
from .errors import ConfigError

T = TypeVar("T")
_MISSING: Any = object()


class MarkedDict(dict):
    """A mapping that remembers the line of each key, and the text of each value YAML did not keep as text.

    YAML 1.1 reads ``area_code: 021`` as the octal number 17, ``password: 0123`` as 83 and
    ``international_prefix: 00`` as 0; ``texts`` keeps what was written, so a key read as text gets
    exactly those characters back.
    """

    __slots__ = ("line", "key_lines", "texts")

    def __init__(self) -> None:
        super().__init__()
        self.line = 0
        self.key_lines: dict[Any, int] = {}
        self.texts: dict[Any, str] = {}

    def copy_key(self, source: MarkedDict, key: Any) -> None:
        """Take ``key`` from ``source`` with its line and written text."""
        self[key] = source[key]
        self.key_lines[key] = source.key_lines.get(key, 0)
        if key in source.texts:
            self.texts[key] = source.texts[key]
        else:
            self.texts.pop(key, None)

    def text(self, key: Any) -> Any:
        """The value of ``key`` as written, for a scalar YAML turned into a number or a boolean."""
        return self.texts.get(key, self.get(key))


class MarkedList(list):
    __slots__ = ("line", "item_lines", "texts")

    def __init__(self) -> None:
        super().__init__()
        self.line = 0
        self.item_lines: list[int] = []
        self.texts: list[str | None] = []

    def written(self) -> list[Any]:
        """The items, each scalar as written (see MarkedDict)."""
        return [item if text is None else text for item, text in zip(self, self.texts)]


class _Loader(yaml.SafeLoader):
    """The pure-Python loader: its errors carry the line and column that ``yamlerrors.explain`` needs."""


#: libyaml's loader, where PyYAML was built with it: the same nodes ~20x faster, for files that load.
#: A file it refuses is read again by ``_Loader``, so every error message comes from one loader.
_FastLoader: type | None = None
if getattr(yaml, "__with_libyaml__", False):
    class _CLoader(yaml.CSafeLoader):  # type: ignore[name-defined,misc]
        pass

    _FastLoader = _CLoader


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> MarkedDict:
    loader.flatten_mapping(node)
    result = MarkedDict()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise ConfigError(f"key {short_repr(key)} appears twice", path=loader.name,
                              line=key_node.start_mark.line + 1, key=str(key))
        result[key] = value = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
        written = _written(value_node, value)
        if written is not None:
            result.texts[key] = written
    return result


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> MarkedList:
    result = MarkedList()
    result.line = node.start_mark.line + 1
    for item in node.value:
        value = loader.construct_object(item, deep=True)
        result.append(value)
        result.item_lines.append(item.start_mark.line + 1)
        result.texts.append(_written(item, value))
    return result


def as_written(value: Any) -> Any:
    """Plain dicts and lists of ``value`` with every scalar as written (a login script's ``send: 0123``)."""
    if isinstance(value, MarkedDict):
        return {key: as_written(value.text(key)) for key in value}
    if isinstance(value, MarkedList):
        return [as_written(item) for item in value.written()]
    return value


def _written(node: yaml.Node, value: Any) -> str | None:
    """The characters of a plain scalar that YAML turned into something else than text (021 -> 17).

    A plain scalar's style is None from the pure loader and "" from libyaml's."""
    if isinstance(node, yaml.ScalarNode) and not node.style and value is not None \
            and not isinstance(value, str):
        return node.value
    return None


for _loader in (_Loader, _FastLoader):
    if _loader is not None:
        _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
        _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


#: what the pure loader's reader refuses (a control character): such text skips libyaml
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE

#: a config, layout or profile is a few KB; more is a wrong file (``--config /dev/zero``, a capture)
MAX_FILE_BYTES = 1 << 20


def load_text(text: str, path: str) -> Section:
    """Parse YAML text; the top level must be a mapping."""
    nul = text.find("\0")
    if nul >= 0:
        raise ConfigError("a NUL byte: this is not a text file (a capture or a binary saved under this name?)",
                          path=path, line=text.count("\n", 0, nul) + 1)
    data = _fast_load(text, path)
    if data is None:
        data = _load(text, path)
    if data is None:
        data = MarkedDict()
    if not isinstance(data, MarkedDict):
        raise ConfigError("the file must hold a mapping (key: value lines)", path=path, line=1)
    return Section(data, path, "")


def _fast_load(text: str, path: str) -> Any:
    """The document through libyaml; None when it is not installed, or for anything it refuses (then
    ``_load`` reads the file again and says what is wrong, where)."""
    if _FastLoader is None or _NON_PRINTABLE.search(text):  # the pure loader names the character and line
        return None
    loader = _FastLoader(text)
    loader.name = path
    try:
        node = loader.get_single_node()
        if node is None or yamlerrors.expanded_size(node) > yamlerrors.MAX_NODES:
            return None
        return loader.construct_document(node)
    except (yaml.YAMLError, ConfigError, RecursionError):
        return None
    finally:
        loader.dispose()


def _load(text: str, path: str) -> Any:
    """The document through the pure-Python loader, every error a located ConfigError."""
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # a control character: checked before anything is parsed
        raise ConfigError(f"a control character (code {exc.character}) that a settings file cannot hold; "
                          "retype that line", path=path, line=text.count("\n", 0, exc.position) + 1) from None
    loader.name = path
    try:
        node = loader.get_single_node()
        if node is not None and yamlerrors.expanded_size(node) > yamlerrors.MAX_NODES:
            raise ConfigError(f"the aliases (*name) expand to more than {yamlerrors.MAX_NODES} values; "
                              "a settings file never needs that many", path=path, line=1)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        explained = yamlerrors.explain(exc, text)
        raise ConfigError(explained.message, path=path, line=explained.line) from None
    except yaml.YAMLError as exc:  # a reader error: a character YAML does not allow
        raise ConfigError(f"not valid YAML: {_short(str(exc))}", path=path) from None
    except RecursionError:
        raise ConfigError("nested too deeply to be a settings file", path=path) from None
    finally:
        loader.dispose()
    return data


def load(path: str | Path) -> Section:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"larger than {MAX_FILE_BYTES >> 10} KB: not a settings file", path=str(path))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError("not UTF-8 text (save the file as UTF-8; a Windows editor may have used another "
                          "encoding)", path=str(path), line=line) from None
    return load_text(text, str(path))


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters (a value can be huge: never print it whole)."""
    import reprlib

    shortener = reprlib.Repr()
    shortener.maxstring = shortener.maxother = limit
    shortener.maxlist = shortener.maxdict = 4
    shortener.maxlevel = 2
    return _short(shortener.repr(value), limit)


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Section:
    """Typed, located access to one mapping of a YAML file."""

    __slots__ = ("data", "path", "prefix")

    def __init__(self, data: MarkedDict, path: str, prefix: str) -> None:
        self.data, self.path, self.prefix = data, path, prefix

    def error(self, message: str, key: str | None = None) -> ConfigError:
        line = self.data.key_lines.get(key, self.data.line) if key is not None else self.data.line
        return ConfigError(message, path=self.path, line=line, key=self._name(key) if key else self.prefix or None)

    def _name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def keys(self) -> list[str]:
        return list(self.data)

    def raw(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def written(self, key: str, default: Any = None) -> Any:
        """Like ``raw``, but a scalar YAML read as a number or boolean comes back as its text."""
        return self.data.text(key) if key in self.data else default

    def get(self, key: str, kind: type[T] | tuple[type, ...] = str, default: Any = _MISSING, *,
            choices: Iterator[Any] | frozenset[Any] | tuple[Any, ...] | None = None,
            minimum: float | None = None, maximum: float | None = None, unit: str = "") -> Any:
        """The value of ``key``, of type ``kind``; a number outside ``minimum``..``maximum`` is an error
        naming the range (a nonsense number accepted is a site visit later)."""
        if key not in self.data or self.data[key] is None:
            if default is _MISSING:
                raise self.error(f"'{self._name(key)}' is required", key)
            return default
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if _takes_text(kind) and not isinstance(value, kind):
            value = self.data.text(key)  # as written: 021 stays "021", not 17
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.error(f"'{self._name(key)}' must be {_article(names)}, not {short_repr(value)}", key)
        if choices is not None and value not in choices:
            raise self.error(f"'{self._name(key)}' must be one of {', '.join(map(str, choices))}; "
                             f"got {short_repr(value)}", key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            low_ok = minimum is None or value >= minimum
            high_ok = maximum is None or value <= maximum
            if not (low_ok and high_ok):
                raise self.error(f"'{self._name(key)}' must be {_range_text(minimum, maximum, unit)}, "
                                 f"not {value}", key)
        return value

    def get_regex(self, key: str, default: Any = _MISSING) -> re.Pattern[str] | None:
        pattern = self.get(key, str, default)
        if pattern is None:
            return None
        try:
            return re.compile(pattern)
        except re.error as exc:
            raise self.error(f"'{self._name(key)}' is not a valid regular expression: {exc}", key) from None

    def section(self, key: str, *, optional: bool = False) -> Section:
        value = self.data.get(key)
        if value is None:
            if optional:
                empty = MarkedDict()
                empty.line = self.data.line
                return Section(empty, self.path, self._name(key))
            raise self.error(f"'{self._name(key)}' is required", key)
        if not isinstance(value, MarkedDict):
            raise self.error(f"'{self._name(key)}' must be a mapping", key)
        return Section(value, self.path, self._name(key))

    def sections(self, key: str, *, optional: bool = False) -> list[Section]:
        """A list of mappings, e.g. ``sources:``."""
        value = self.data.get(key)
        if value is None:
            if optional:
                return []
            raise self.error(f"'{self._name(key)}' is required", key)
        if not isinstance(value, MarkedList):
            raise self.error(f"'{self._name(key)}' must be a list", key)
        out = []
        for index, item in enumerate(value):
            if not isinstance(item, MarkedDict):
                raise ConfigError(f"item {index + 1} of '{self._name(key)}' must be a mapping",
                                  path=self.path, line=value.item_lines[index], key=f"{self._name(key)}[{index}]")
            out.append(Section(item, self.path, f"{self._name(key)}[{index}]"))
        return out

    def str_list(self, key: str, default: Any = _MISSING) -> list[str]:
        value = self.get(key, (list, str), default)
        if isinstance(value, str):
            return [value]
        items = value.written() if isinstance(value, MarkedList) else value
        bad = [v for v in items if not isinstance(v, (str, int))]
        if bad:
            raise self.error(f"'{self._name(key)}' must be a list of strings; {short_repr(bad[0])} is not", key)
        return [str(v) for v in items]

    def check_keys(self, allowed: set[str] | frozenset[str]) -> None:
        """Unknown keys are mistakes (a typo silently ignored costs a site visit)."""
        for key in self.data:
            if key not in allowed:
                hint = _closest(str(key), allowed)
                suggestion = f" (did you mean '{hint}'?)" if hint else ""
                raise self.error(f"unknown key '{self._name(str(key))}'{suggestion}", key)

    def convert(self, key: str, func: Callable[[Any], T], default: Any = _MISSING) -> T:
        """Apply ``func`` to the raw value; a ValueError becomes a located ConfigError."""
        if key not in self.data or self.data[key] is None:
            if default is _MISSING:
                raise self.error(f"'{self._name(key)}' is required", key)
            return default
        try:
            return func(self.data[key])
        except (ValueError, TypeError) as exc:
            raise self.error(f"'{self._name(key)}': {exc}", key) from None


def _range_text(minimum: float | None, maximum: float | None, unit: str) -> str:
    unit = f" {unit}" if unit else ""

    def number(value: float | None) -> str:
        return str(int(value)) if value is not None and float(value).is_integer() else f"{value}"

    if minimum is not None and maximum is not None:
        return f"between {number(minimum)} and {number(maximum)}{unit}"
    if minimum is not None:
        return f"at least {number(minimum)}{unit}"
    return f"at most {number(maximum)}{unit}"


def _takes_text(kind: type | tuple[type, ...]) -> bool:
    return kind is str or (isinstance(kind, tuple) and str in kind)


def _article(names: str) -> str:
    return ("an " if names[:1] in "aeiou" else "a ") + names


def _closest(word: str, options: set[str] | frozenset[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, sorted(options), n=1)
    return match[0] if match else None
