"""The subcommands of ``smdr``: name, the module in smdr.cli that implements it, its one-line help.

``smdr --help`` lists them from here without importing any of them (a command's module imports what
it needs: httpx, asyncio, the daemon); ``smdr X`` imports X's module only. Each module's register()
gives the same help text: tests/test_cli_startup.py checks that they agree.
"""

from __future__ import annotations

COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("init", "write a commented smdr.yaml to start from"),
    "check": ("check", "check a site before going live: config, each PBX link, the CRM"),
    "run": ("run", "run the connector: sources -> normalized calls -> CRM (or JSONL)"),
    "status": ("status", "ask the running connector how its PBX links and CRM delivery are"),
    "parse": ("parse", "parse a recorded stream and print normalized call events"),
    "detect": ("detect", "find the vendor, device profile, layout and date order of a capture"),
    "record": ("record", "capture the raw bytes of a source (with timing) for later replay"),
    "play": ("play", "replay a capture into a serial port or as a TCP server, to test the whole chain"),
    "ports": ("ports", "list the serial ports of this PC (to find the PBX cable)"),
    "devices": ("devices", "list the PBX device profiles"),
    "layouts": ("layouts", "list the record layouts"),
    "outbox": ("outbox", "inspect and manage the queue of events for the CRM"),
    "quarantine": ("quarantine", "records no layout could parse: their files, purge"),
    "recordings": ("recordings", "recording files taken: matched to their call, or unmatched"),
    "crm-sim": ("crm_sim", "run a local ParsVT Generic PBX API simulator"),
    "demo": ("demo", "replay a recorded Panasonic stream through the connector into a local CRM simulator"),
    "service": ("service", "run smdr as a service: write the systemd unit, or print the NSSM steps"),
}


def named_in(argv: list[str]) -> str | None:
    """The command ``argv`` runs: its first word that is not an option (smdr's own options take no value)."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None
