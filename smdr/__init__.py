"""smdr: read PBX SMDR/CDR and caller-ID streams, normalize them, deliver them to the CRM."""

from .errors import (
                     ConfigError,
                     CrmAuthError,
                     CrmError,
                     CrmRejected,
                     CrmUnavailable,
                     LayoutNotFound,
                     SmdrError,
                     TransportClosed,
                     TransportError,
)

__version__ = "0.1.0"
_FROM_MODEL = ("CallEvent", "Provenance", "make_call_id")


def __getattr__(name: str) -> object:
    """The model's names, imported when first used: ``smdr --help`` and the commands that never make a
    call event do not pay for it (dataclasses and what it imports: about 15 ms)."""
    if name in _FROM_MODEL:
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module 'smdr' has no attribute {name!r}")

__all__ = [
    "CallEvent", "Provenance", "make_call_id", "SmdrError", "ConfigError", "LayoutNotFound",
    "TransportError", "TransportClosed", "CrmError", "CrmUnavailable", "CrmAuthError", "CrmRejected",
    "__version__",
]
