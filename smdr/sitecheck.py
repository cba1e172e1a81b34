"""``smdr check``: is this site ready? The config, each source once, the CRM once; OK or FAIL with the fix.

Nothing is delivered: the CRM gets one SearchPBX for a test number (read-only), each source is opened,
listened to for a few seconds, and closed again.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from . import config
from .errors import ConfigError, CrmAuthError, CrmError, CrmRejected, TransportClosed, TransportError
from .layout_hint import better_layout
from .quarantine import Quarantine
from .source_spec import SourceSpec, make_decoder
from .transports import open_url, parse_url, redact

API_PATH = "/modules/ParsVT/ws/API/V2/PBX/Generic"
TEST_NUMBER = "02100000000"
SAMPLE_LIMIT = 64 * 1024
NEWLINE = b"\n"


@dataclass(slots=True)
class Item:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{'OK  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}"
        return text + (f"\n      fix: {self.fix}" if self.fix and not self.ok else "")


def check_config(path: str) -> tuple[Item, config.Settings | None]:
    try:
        settings = config.load(path)
    except ConfigError as exc:
        return Item("config", False, str(exc), "correct the line named above, then run `smdr check` again"), None
    names = ", ".join(spec.name for spec in settings.sources)
    return Item("config", True, f"{path} is valid: {len(settings.sources)} source(s) ({names})"), settings


async def check_source(spec: SourceSpec, listen_seconds: float) -> Item:
    name = f"source {spec.name}"
    transport = open_url(spec.url, **spec.transport_options)
    shown = redact(spec.url)
    scheme = parse_url(spec.url).scheme
    try:
        try:
            await asyncio.wait_for(transport.open(), listen_seconds + 10.0)
        except TimeoutError:
            if scheme == "tcp-listen":
                return Item(name, False, f"{shown}: the PBX did not connect within {listen_seconds + 10:g} s",
                            "set the PBX's SMDR/CDR output to this PC's address and port, and check the firewall")
            return Item(name, False, f"{shown}: no answer within {listen_seconds + 10:g} s",
                        "check the address and that the device is switched on")
        except TransportError as exc:
            return Item(name, False, str(exc), _open_fix(scheme, str(exc)))
        sample = await _listen(transport, listen_seconds)
    finally:
        with contextlib.suppress(Exception):
            await transport.shutdown()
    if not sample:
        return Item(name, False, f"{shown}: connected, but no byte arrived in {listen_seconds:g} s",
                    "make a test call now (most PBXs print a record only when a call ends) and run the check "
                    "with --listen 60; if still nothing, enable the PBX's SMDR output (Panasonic: "
                    "System > SMDR > Output: On) and check the cable (null-modem) and port settings")
    return _fit_item(name, spec, sample)


async def _listen(transport, seconds: float) -> bytes:
    sample = bytearray()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while len(sample) < SAMPLE_LIMIT:
        left = deadline - loop.time()
        if left <= 0:
            break
        try:
            sample += await asyncio.wait_for(transport.read(), left)
        except (TimeoutError, TransportClosed):
            break
        if sample.count(b"\n") >= 20:
            break  # enough records to tell the layout
    return bytes(sample)


def _fit_item(name: str, spec: SourceSpec, sample: bytes) -> Item:
    quarantine = Quarantine(None, log_first=False)
    decoder = make_decoder(spec, quarantine)
    decoder.feed(sample)
    decoder.finish()
    refused = sum(quarantine.counts.values())
    parsed = decoder.events
    size = f"{len(sample)} bytes, {sample.count(NEWLINE)} lines"
    if parsed and not refused:
        return Item(name, True, f"{size}; layout {spec.layout} reads them ({parsed} call event(s))")
    better = better_layout(sample, spec.layout, spec.layout_dirs)
    if better is not None:
        return Item(name, False, f"{size}; layout {spec.layout} reads {parsed} event(s) and refuses {refused} "
                    f"record(s); they fit layout {better.layout} (date order {better.date_order})",
                    f"set layout: {better.layout} on this source (or the device profile that uses it)")
    if parsed:
        return Item(name, True, f"{size}; layout {spec.layout} reads them ({parsed} call event(s), {refused} "
                    "record(s) kept in quarantine: alarms, headers or records it does not know)")
    return Item(name, False, f"{size}, but no layout reads them: {sample[:60]!r}",
                "check the port settings (baud rate, parity: garbage means a wrong speed) or see "
                "parsers/README.md to write a layout; `smdr record` saves a capture to send us")


def _open_fix(scheme: str, message: str) -> str:
    text = message.lower()
    if "login refused" in text or "login failed" in text:
        return ("the PBX refused the SMDR login: set the source's password: to the one set on the PBX "
                "(Panasonic factory password: PCCSMDR; only one SMDR client may be logged in at a time)")
    if scheme == "serial" and ("no such file" in text or "could not open" in text or "not found" in text
                               or "filenotfound" in text or "cannot open" in text):
        return ("this PC has no such serial port: `smdr ports` lists the ones it has (a USB adapter gets a new "
                "name on another USB socket; on Windows see Device Manager > Ports)")
    if "refused" in text or "connect call failed" in text or "cannot connect" in text:
        return "nothing listens there: check the IP address and port, and that SMDR over LAN is enabled on the PBX"
    if "cannot listen" in text:
        return "another program uses this port, or the address is not one of this PC's: choose another"
    return "check the URL (see README: Source URLs)"


async def check_crm(settings: config.Settings) -> Item | None:
    section = settings.section("crm")
    if section is None:
        return None
    from .crm.client import GenericClient
    from .crm.settings import CrmSettings

    try:
        crm = CrmSettings.from_section(section)
    except ConfigError as exc:
        return Item("crm", False, str(exc), "correct the crm: section")
    name = "crm"
    shown = redact(crm.url)
    path_hint = "" if urlsplit(crm.url).path.rstrip("/").endswith("/PBX/Generic") else (
        f"the URL should end with the API path {API_PATH} (e.g. https://crm.example.com{API_PATH})")
    async with GenericClient(crm) as client:
        try:
            await client.search(TEST_NUMBER)
        except CrmAuthError:
            return Item(name, False, f"{shown}: the CRM refused the secret key",
                        "copy the 'vtiger CRM secret key' from the CRM's PBXManager settings into crm.secretkey "
                        "(or the variable named by crm.secretkey_env)")
        except CrmRejected as exc:
            return Item(name, False, f"{shown}: {exc}", path_hint or "check that the CRM has the ParsVT PBX module")
        except CrmError as exc:
            text = str(exc)
            if "HTTP 404" in text or "redirect" in text or "json" in text.lower():  # the client's own words
                return Item(name, False, f"{shown}: {text}", path_hint or "check crm.url: http vs https, the path")
            return Item(name, False, f"{shown}: cannot reach the CRM: {text}",
                        "check the address, that the CRM server is up, and that this PC may reach it "
                        "(firewall, proxy); `curl` the URL from this PC to compare")
    return Item(name, True, f"{shown} answers and accepts the secret key (SearchPBX {TEST_NUMBER})")


async def run_checks(path: str, *, listen_seconds: float, connect: bool = True) -> list[Item]:
    item, settings = check_config(path)
    items = [item]
    if settings is None or not connect:
        return items
    items += await asyncio.gather(*(check_source(spec, listen_seconds) for spec in settings.sources))
    crm = await check_crm(settings)
    if crm is not None:
        items.append(crm)
    return items
