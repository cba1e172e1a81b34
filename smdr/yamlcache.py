"""Parsed YAML kept on disk by its text: a layout (or a device profile smdr ships) read before is not
parsed again. What may be kept is decided by the caller (smdr.yamlnames.cacheable): never a site's
smdr.yaml or its own profiles, which may hold a secret.

Importing PyYAML and parsing one layout cost about 15 ms, most of a short command's start-up
(``smdr parse`` of a few lines). An entry is named by a hash of the text and of what
parses it (smdr's version and YAML modules, PyYAML's files, this Python): a changed file, or another
smdr or PyYAML, is simply another entry. Entries are marshal data written by smdr.yamlfile (plain
tuples, never code); one that cannot be read is ignored and written again, and a folder that cannot be
written only costs the parse. Nothing here ever decides what a file means.

The folder: ``$SMDR_CACHE_DIR`` (``off``: no cache), else the user's cache folder (``%LOCALAPPDATA%``
on Windows, ``~/Library/Caches`` on macOS, ``$XDG_CACHE_HOME`` or ``~/.cache`` elsewhere), in ``smdr/yaml``.
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import os
import sys
from pathlib import Path
from typing import Any

from . import __version__
from .blake import blake2b

log = logging.getLogger("smdr.yamlcache")

CACHE_ENV = "SMDR_CACHE_DIR"
FORMAT = 1  # raise when what an entry holds changes
_HERE = Path(__file__).resolve().parent


class _State:
    __slots__ = ("folder", "salt")

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.salt: bytes | None = None  # worked out on first use: what parses the text besides the text


_STATE = _State()


def folder() -> Path | None:
    """Where entries go; None when caching is off or there is no user folder to put them in."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "no") else Path(configured) / "yaml"
    try:
        if sys.platform == "win32":
            base = Path(os.environ["LOCALAPPDATA"])
        elif sys.platform == "darwin":
            base = Path.home() / "Library" / "Caches"
        else:
            base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except (KeyError, RuntimeError):  # no LOCALAPPDATA, no home folder (a bare service account)
        return None
    return base / "smdr" / "yaml"


def get(text: str) -> Any:
    """What ``put`` kept for this text, or None."""
    path = _entry(text)
    if path is None:
        return None
    try:
        with open(path, "rb") as handle:
            return marshal.loads(handle.read())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, EOFError, TypeError) as exc:  # unreadable, truncated: parsed again, written anew
        log.debug("yaml cache entry %s is not usable: %s", path, exc)
        return None


def put(text: str, tree: Any) -> None:
    """Keep ``tree`` (marshal-able) for this text; a folder that refuses it is no error."""
    path = _entry(text)
    if path is None:
        return
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        data = marshal.dumps(tree)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(partial, "wb") as handle:
            handle.write(data)
        os.replace(partial, path)  # whole or not at all, whoever reads it meanwhile
    except (OSError, ValueError) as exc:
        log.debug("yaml cache: cannot keep an entry in %s: %s", path.parent, exc)
        with contextlib.suppress(OSError):  # e.g. Windows refuses the replace while another reads it
            partial.unlink()


def _entry(text: str) -> Path | None:
    where = folder()
    if where is None:
        return None
    if _STATE.salt is None or _STATE.folder != where:
        _STATE.folder, _STATE.salt = where, _salt()
    digest = blake2b(_STATE.salt, digest_size=16)
    digest.update(text.encode("utf-8", "surrogatepass"))
    return where / f"{digest.hexdigest()}.marshal"


def _salt() -> bytes:
    """What an entry depends on besides the text: smdr's YAML code (nodes too), PyYAML's files, Python, the format."""
    import importlib.machinery

    parts = [str(FORMAT), __version__, sys.version, str(marshal.version)]
    spec = importlib.machinery.PathFinder.find_spec("yaml")
    files = [_HERE / name for name in ("yamlparse.py", "yamlfile.py", "yamlnodes.py", "yamlerrors.py")]
    if spec is not None and spec.origin:
        origin = Path(spec.origin)
        files.append(origin)
        files += sorted(origin.parent.glob("_yaml*"))  # libyaml's binding, where PyYAML was built with it
    for path in files:
        try:
            stat = path.stat()
            parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
        except OSError:
            parts.append(f"{path.name}:-")
    return "\x1f".join(parts).encode()
