"""What a YAML file becomes: mappings and lists that remember their lines and the text of each value."""

from __future__ import annotations

from typing import Any


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


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters (a value can be huge: never print it whole)."""
    import reprlib

    shortener = reprlib.Repr()
    shortener.maxstring = shortener.maxother = limit
    shortener.maxlist = shortener.maxdict = 4
    shortener.maxlevel = 2
    return shorten(shortener.repr(value), limit)


def shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
