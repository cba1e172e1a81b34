"""Folding strategies: how the records of one real call become one call_id, chosen by the layout.

``line`` (default): by line evidence, for PBXs that print no call id; ``call_ref``: by the PBX's own
call id (Avaya IP Office); ``none``: every record is a call; ``line_state``: by what a caller-ID box
reports about each line (ring, number, off-hook, on-hook); ``events``: each record is one live state of
the call its call_ref names (CTI). A third party adds a strategy under the
entry-point group ``smdr.folds`` (a Fold subclass, constructed like the ones here).
"""

from __future__ import annotations

from ..errors import ConfigError
from ..normalize import Localizer
from .base import Fold, OpenCall
from .call_ref import CallRefFold
from .events import EventsFold
from .line import LineFold
from .line_state import LineStateFold
from .single import SingleFold

__all__ = ["Fold", "OpenCall", "LineFold", "CallRefFold", "SingleFold", "LineStateFold", "EventsFold", "STRATEGIES",
           "make_fold"]

STRATEGIES: dict[str, type[Fold]] = {"line": LineFold, "call_ref": CallRefFold, "none": SingleFold,
                                     "line_state": LineStateFold, "events": EventsFold}


def make_fold(strategy: str, source: str, layout: str, localize: Localizer, *, tolerance: int = 120,
              gateway: str | None = None) -> Fold:
    cls = STRATEGIES.get(strategy)
    if cls is None:
        from importlib.metadata import entry_points  # ~14 ms at import: only for a plugin's strategy

        for ep in entry_points(group="smdr.folds"):
            if ep.name == strategy:
                cls = ep.load()
                break
    if cls is None:
        raise ConfigError(f"no folding strategy named {strategy!r} (known: {', '.join(STRATEGIES)})")
    return cls(source, layout, localize, tolerance=tolerance, gateway=gateway)
