"""The error hierarchy: every error smdr raises on purpose is an SmdrError."""

from __future__ import annotations


class SmdrError(Exception):
    """Base of every error smdr raises on purpose."""


class ConfigError(SmdrError):
    """A configuration, layout or device-profile file is wrong; the message names file, line and key."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 key: str | None = None) -> None:
        self.path, self.line, self.key = path, line, key
        where = ""
        if path:
            where = path + (f":{line}" if line else "")
        if key:
            where = f"{where} [{key}]" if where else f"[{key}]"
        super().__init__(f"{where}: {message}" if where else message)


class LayoutNotFound(ConfigError):
    """No layout (YAML or code parser) has that name."""


class TransportError(SmdrError):
    """A transport could not be opened or was lost."""


class TransportClosed(TransportError):
    """The link was lost (or the replayed file ended); the reconnect loop decides what follows."""


class CrmError(SmdrError):
    """Delivery to the CRM failed."""


class CrmUnavailable(CrmError):
    """Network error, timeout or 5xx: retry later."""


class CrmAuthError(CrmError):
    """The CRM rejected the secret key: pause delivery until the configuration is fixed."""


class CrmRejected(CrmError):
    """The CRM refused this record as invalid: retrying will not help (dead letter)."""
