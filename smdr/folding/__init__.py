"""Folding strategies: how the records of one real call become one call_id, chosen by the layout.

``line`` (default): by line evidence, for PBXs that print no call id; ``call_ref``: by the PBX's own
call id (Avaya IP Office); ``none``: every record is a call; ``line_state``: by what a caller-ID box
reports about each line (ring, number, off-hook, on-hook); ``events``: each record is one live state of
the call its call_ref names (CTI). A third party adds a strategy under the
entry-point group ``smdr.folds`` (a Fold subclass, constructed like the ones here).
"""

from __future__ import annotations

from importlib import import_module

from ..errors import ConfigError
from ..normalize import Localizer
from .base import Fold, OpenCall

__all__ = ["Fold", "OpenCall", "LineFold", "CallRefFold", "SingleFold", "LineStateFold", "EventsFold", "STRATEGIES",
           "make_fold", "strategy"]

#: the strategies smdr has: name -> (module of this package, class). A module is imported when a layout
#: first names its strategy: a source pays only for its own (line_state alone is ~1.5 ms of start-up).
STRATEGIES: dict[str, tuple[str, str]] = {
    "line": ("line", "LineFold"), "call_ref": ("call_ref", "CallRefFold"), "none": ("single", "SingleFold"),
    "line_state": ("line_state", "LineStateFold"), "events": ("events", "EventsFold")}
_BY_CLASS = {cls: module for module, cls in STRATEGIES.values()}


def __getattr__(name: str) -> type[Fold]:
    """``from smdr.folding import LineFold`` (and the others) imports that strategy's module then."""
    if name in _BY_CLASS:
        return getattr(import_module(f"{__name__}.{_BY_CLASS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def strategy(name: str) -> type[Fold] | None:
    """The Fold class of a strategy by name: one of smdr's, else a plugin's (entry point ``smdr.folds``)."""
    known = STRATEGIES.get(name)
    if known is not None:
        return getattr(import_module(f"{__name__}.{known[0]}"), known[1])
    from importlib.metadata import entry_points  # ~14 ms at import: only for a plugin's strategy

    for ep in entry_points(group="smdr.folds"):
        if ep.name == name:
            return ep.load()
    return None


def make_fold(strategy_name: str, source: str, layout: str, localize: Localizer, *, tolerance: int = 120,
              gateway: str | None = None) -> Fold:
    cls = strategy(strategy_name)
    if cls is None:
        raise ConfigError(f"no folding strategy named {strategy_name!r} (known: {', '.join(STRATEGIES)})")
    return cls(source, layout, localize, tolerance=tolerance, gateway=gateway)
