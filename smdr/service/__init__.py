"""Running smdr as a service: the systemd unit (Linux) and the NSSM commands (Windows)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

UNIT_TEMPLATE = Path(__file__).resolve().parent / "smdr.service"


@dataclass(slots=True)
class ServicePlan:
    executable: Path     # the smdr command of this installation
    config: Path         # absolute
    data_dir: Path       # absolute: the only place the service writes
    user: str
    log_file: Path | None = None

    def exec_start(self) -> str:
        words = [str(self.executable), "run", "--config", str(self.config)]
        if self.log_file is not None:
            words += ["--log-file", str(self.log_file)]
        return " ".join(_systemd_quote(word) for word in words)

    def unit(self) -> str:
        writable = [self.data_dir] + ([self.log_file.parent] if self.log_file is not None else [])
        return UNIT_TEMPLATE.read_text(encoding="utf-8").format(
            exec_start=self.exec_start(), user=self.user, working_directory=_systemd_quote(str(self.config.parent)),
            read_write_paths=" ".join(_systemd_quote(str(path)) for path in dict.fromkeys(writable)))

    def nssm_commands(self, name: str = "smdr") -> list[str]:
        """The Windows recipe (NSSM, https://nssm.cc), for this installation's paths."""
        log = self.log_file or self.data_dir / "smdr.log"
        return [
            f'nssm install {name} "{self.executable}" run --config "{self.config}" --log-file "{log}"',
            f'nssm set {name} AppDirectory "{self.config.parent}"',
            f"nssm set {name} AppStopMethodConsole 15000",
            f"nssm set {name} AppExit Default Restart",
            f"nssm set {name} AppRestartDelay 5000",
            f"nssm set {name} Start SERVICE_AUTO_START",
            f"nssm start {name}",
        ]


def _systemd_quote(word: str) -> str:
    """A word as systemd reads it in ExecStart= (double quotes when needed, % doubled)."""
    word = word.replace("%", "%%")
    if word and not any(ch in word for ch in " \t\"'\\;$"):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def split_exec_start(line: str) -> list[str]:
    """The words of an ExecStart= value, as systemd splits them (for the test that runs it)."""
    return [word.replace("%%", "%") for word in shlex.split(line)]
