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
from .model import CallEvent, Provenance, make_call_id

__version__ = "0.1.0"

__all__ = [
    "CallEvent", "Provenance", "make_call_id", "SmdrError", "ConfigError", "LayoutNotFound",
    "TransportError", "TransportClosed", "CrmError", "CrmUnavailable", "CrmAuthError", "CrmRejected",
    "__version__",
]
