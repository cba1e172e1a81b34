"""The YAML file of a kind (``parsers``, ``devices``) that declares a name, without reading every file.

Reading every file and keeping the first of each name (``resources.yaml_files`` order: user folders
first) decides which file a name means. ``first_declaring`` gives the same file by going through the
files in that order and reading only those that may declare the name: the one named ``NAME.yaml``, and
any whose ``layout:``/``device:`` line its text does not show plainly. A layout found this way costs one
YAML read instead of one per file.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import yamlfile
from .resources import bundled_dir, yaml_files

#: a plain, single-quoted or double-quoted name without escapes, then maybe a comment
_PLAIN_NAME = re.compile(r"""(["']?)([A-Za-z0-9._-]+)\1(?:[ \t]+#.*)?""")
#: a line at column 0 that may be a top-level key written otherwise than ``key: value`` (quoted, ``? key``)
#: or a top level in flow style: the text then does not show the name plainly
_OTHER_KEY_FORMS = re.compile(r"^[\"'?{\[]", re.MULTILINE)


def declared_name(path: Path, key: str) -> str | None:
    """The value of the top-level ``key`` of ``path`` as its text shows it; None when the text does not
    show it plainly (no such line, more than one, an alias, a tag, escapes, a quoted key ...), when the
    file cannot be read as UTF-8, or is too large to be a YAML file smdr reads."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(yamlfile.MAX_FILE_BYTES + 1)
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    if len(raw) > yamlfile.MAX_FILE_BYTES or _OTHER_KEY_FORMS.search(text):
        return None
    lines = re.findall(rf"^{re.escape(key)}[ \t]*:[ \t]*(.*?)[ \t]*\r?$", text, re.MULTILINE)
    if len(lines) != 1:
        return None
    plain = _PLAIN_NAME.fullmatch(lines[0])
    return plain.group(2) if plain else None


def first_declaring(kind: str, key: str, name: str, extra_dirs: list[str] | None = None) -> yamlfile.Section | None:
    """The first file of ``kind`` whose ``key`` is ``name``, read; None when no file declares it.

    The files read on the way are read in full, so one that is broken is reported as when every file
    is read; the others are not read at all.
    """
    for path in yaml_files(kind, extra_dirs):
        if path.stem != name:
            shown = declared_name(path, key)
            if shown is not None and shown != name:
                continue
        section = yamlfile.load(path, cache=cacheable(kind, path))
        if str(section.get(key)) == name:
            return section
    return None


def cacheable(kind: str, path: Path) -> bool:
    """Whether a file's parse may be kept on disk (smdr.yamlcache): every layout, and the device profiles
    smdr ships. A site's own profile may hold a PBX password: it is parsed each time, as smdr.yaml is."""
    return kind == "parsers" or path.parent == bundled_dir(kind)
