"""The tracker of a source: the folding strategy its layout chose (see smdr.folding).

Kept as the name the rest of the engine uses: ``Tracker`` is the line-evidence fold (the default),
``make_tracker`` builds the strategy a layout names.
"""

from __future__ import annotations

from .folding import Fold, OpenCall, make_fold
from .folding.line import LineFold

Tracker = LineFold
_Call = OpenCall  # the name state files of earlier releases were written from

__all__ = ["Tracker", "Fold", "OpenCall", "make_tracker"]


def make_tracker(strategy: str, source: str, layout: str, localize, *, tolerance: int = 120,
                 gateway: str | None = None) -> Fold:
    return make_fold(strategy, source, layout, localize, tolerance=tolerance, gateway=gateway)
