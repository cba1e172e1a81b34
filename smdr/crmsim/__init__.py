"""crm-sim: a local stand-in for the ParsVT "Generic PBX" web service (ProcessCDR, SearchPBX, Lookup).

Technicians point a connector at it to test a site without the real CRM; the project's tests and
benchmarks use it as a real HTTP peer with fault injection (latency, 5xx, downtime, auth failures).
"""

from .api import ENDPOINT_PATH
from .server import CrmSimServer, SimOptions

__all__ = ["ENDPOINT_PATH", "CrmSimServer", "SimOptions"]
