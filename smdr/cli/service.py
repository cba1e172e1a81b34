"""``smdr service install|nssm``: run the connector as a service (systemd unit; NSSM recipe on Windows)."""

from __future__ import annotations

import argparse
import getpass
import shutil
import sys
from pathlib import Path

from .. import config
from ..service import ServicePlan

DEFAULT_UNIT = "/etc/systemd/system/smdr.service"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("service", help="run smdr as a service: write the systemd unit, or print the NSSM steps",
                       description="Write a systemd unit for `smdr run` (Restart=always, the data_dir as its only "
                                   "writable place, the user), or print the NSSM commands for Windows.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True, help="install or nssm")
    for name, text in (("install", "write the systemd unit (then: systemctl daemon-reload; systemctl enable "
                                   "--now smdr)"), ("nssm", "print the NSSM commands that install the Windows "
                                                            "service")):
        action = actions.add_parser(name, help=text, description=text)
        action.add_argument("--config", "-c", default="smdr.yaml", help="configuration file (default smdr.yaml)")
        action.add_argument("--log-file", help="log to this rotating file instead of the journal / console")
        if name == "install":
            action.add_argument("--user", default=None, help="the user the service runs as (default: you)")
            action.add_argument("-o", "--output", default=DEFAULT_UNIT, help=f"unit file (default {DEFAULT_UNIT}); "
                                                                             "- prints it")
            action.add_argument("--force", action="store_true", help="overwrite an existing unit file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = config.load(args.config)  # a service that cannot start is found now, not at boot
    plan = ServicePlan(executable=_smdr_executable(), config=Path(args.config).resolve(),
                       data_dir=settings.data_dir.resolve(), user=getattr(args, "user", None) or getpass.getuser(),
                       log_file=Path(args.log_file).resolve() if args.log_file else None)
    if args.action == "nssm":
        print("On Windows, as Administrator, with nssm.exe on the PATH (https://nssm.cc):")
        for line in plan.nssm_commands():
            print("  " + line)
        return 0
    unit = plan.unit()
    if args.output == "-":
        print(unit, end="")
        return 0
    target = Path(args.output)
    if target.exists() and not args.force:
        print(f"smdr service: {target} exists; add --force to replace it", file=sys.stderr)
        return 2
    target.write_text(unit, encoding="utf-8")
    plan.data_dir.mkdir(parents=True, exist_ok=True)  # systemd refuses to start with a missing ReadWritePaths
    print(f"wrote {target} (runs `{plan.exec_start()}` as {plan.user}); now, as root:\n"
          f"  systemctl daemon-reload && systemctl enable --now {target.stem}\n"
          f"  journalctl -u {target.stem} -f")
    return 0


def _smdr_executable() -> Path:
    """The smdr command of this very installation (its venv's), not whichever one is first on PATH."""
    here = Path(sys.executable).parent
    for name in ("smdr", "smdr.exe"):
        if (here / name).is_file():
            return here / name
    found = shutil.which("smdr")
    return Path(found).resolve() if found else here / "smdr"
