"""YAML files whose errors name the file, the line and the key.

Every YAML smdr reads (config, layouts, device profiles) goes through ``load`` and is read through a
``Section``, so a technician who mistypes a value is told exactly where.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from . import yamlcache
from .errors import ConfigError
from .yamlnodes import MarkedDict, MarkedList, short_repr

__all__ = ["MarkedDict", "MarkedList", "Section", "as_written", "load", "load_text", "short_repr"]

T = TypeVar("T")
_MISSING: Any = object()


def as_written(value: Any) -> Any:
    """Plain dicts and lists of ``value`` with every scalar as written (a login script's ``send: 0123``)."""
    if isinstance(value, MarkedDict):
        return {key: as_written(value.text(key)) for key in value}
    if isinstance(value, MarkedList):
        return [as_written(item) for item in value.written()]
    return value


#: a config, layout or profile is a few KB; more is a wrong file (``--config /dev/zero``, a capture)
MAX_FILE_BYTES = 1 << 20


def load_text(text: str, path: str, *, cache: bool = False) -> Section:
    """Parse YAML text; the top level must be a mapping. ``cache``: keep the parse in smdr.yamlcache (for
    layouts and the profiles smdr ships; never for a site's settings, which may hold a secret)."""
    nul = text.find("\0")
    if nul >= 0:
        raise ConfigError("a NUL byte: this is not a text file (a capture or a binary saved under this name?)",
                          path=path, line=text.count("\n", 0, nul) + 1)
    data = _cached(text) if cache else None
    if data is None:
        from . import yamlparse  # PyYAML only for a text not read before (tens of milliseconds to import)

        data = yamlparse.load(text, path)
        if cache and isinstance(data, MarkedDict):
            _keep(text, data)
    if data is None:
        data = MarkedDict()
    if not isinstance(data, MarkedDict):
        raise ConfigError("the file must hold a mapping (key: value lines)", path=path, line=1)
    return Section(data, path, "")


# --- the parse kept in smdr.yamlcache: marshal data, a tuple per mapping or list ------------------
_SCALARS = (str, int, float, bool, type(None))  # what else YAML can make (dates, bytes, sets) is not kept


class _NotKept(Exception):
    pass


def _keep(text: str, data: MarkedDict) -> None:
    try:
        tree = _tree(data)
    except _NotKept:
        return
    yamlcache.put(text, tree)


def _tree(value: Any) -> Any:
    if isinstance(value, MarkedDict):
        keys = tuple(value)
        if not all(isinstance(key, _SCALARS) for key in keys):
            raise _NotKept
        return ("map", value.line, keys, tuple(_tree(value[key]) for key in keys),
                tuple(value.key_lines.get(key, 0) for key in keys), dict(value.texts))
    if isinstance(value, MarkedList):
        return ("list", value.line, tuple(_tree(item) for item in value), tuple(value.item_lines),
                tuple(value.texts))
    if type(value) not in _SCALARS:  # a plain list or tuple (!!omap), a date, bytes ...: parsed each time
        raise _NotKept
    return value


def _cached(text: str) -> MarkedDict | None:
    tree = yamlcache.get(text)
    if not (isinstance(tree, tuple) and tree and tree[0] == "map"):
        return None
    try:
        data = _untree(tree)
    except (ValueError, TypeError, IndexError):  # not what _tree writes: parsed again
        return None
    return data if isinstance(data, MarkedDict) else None


def _untree(tree: Any) -> Any:
    if not isinstance(tree, tuple):
        return tree
    if tree[0] == "map":
        _, line, keys, values, key_lines, texts = tree
        mapping = MarkedDict()
        mapping.line = line
        mapping.update(zip(keys, map(_untree, values), strict=True))
        mapping.key_lines = dict(zip(keys, key_lines, strict=True))
        mapping.texts = texts
        return mapping
    _, line, items, item_lines, texts = tree
    sequence = MarkedList()
    sequence.line = line
    sequence.extend(map(_untree, items))
    sequence.item_lines, sequence.texts = list(item_lines), list(texts)
    return sequence


def load(path: str | Path, *, cache: bool = False) -> Section:
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
    return load_text(text, str(path), cache=cache)


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
