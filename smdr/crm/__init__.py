"""The CRM side: the ParsVT Generic PBX API client, its settings, and the local popup helper."""

from .client import GenericClient, redact
from .popup import LookupCache, PopupAssistant
from .settings import CrmSettings, PopupSettings

__all__ = ["GenericClient", "CrmSettings", "PopupSettings", "PopupAssistant", "LookupCache", "redact"]
