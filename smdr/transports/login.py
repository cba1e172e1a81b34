"""Login dialogues for TCP SMDR ports: the Panasonic exchange and generic expect/send scripts.

A script is a list of steps, each a one-key dict (plus an optional ``timeout`` in seconds):

* ``{"expect": "Enter Password:"}`` -- read until the text arrives; what came before it is login chatter.
* ``{"send": "{password}\\r"}`` -- send text; ``{user}`` and ``{password}`` are filled in.
* ``{"fail_on_prompt": "-"}`` -- after a send: if within the timeout the server shows this prompt again
  (and nothing else), the login was refused.

After the script, the echo of the last ``send`` (each character echoed as itself or as ``*``, then one line
end: CR, LF or CR LF) is removed from the front of the data, however it is split across reads; the first byte
that is not echo ends the filtering, so no data byte is dropped.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import TransportError

DEFAULT_STEP_TIMEOUT = 10.0
DEFAULT_PROMPT_CHECK_SECONDS = 1.0
QUOTE_LIMIT = 160

#: Panasonic KX-NS/TDE "telnet" SMDR port (docs/formats/panasonic.md §1.6): prompt ``-``, ``SMDR`` CR,
#: ``Enter Password:``, password CR echoed as ``*`` per character; a wrong password: the ``-`` prompt again.
PANASONIC_LOGIN_SCRIPT: list[dict[str, Any]] = [
    {"expect": "-"},
    {"send": "{user}\r"},
    {"expect": "Enter Password:"},
    {"send": "{password}\r"},
    {"fail_on_prompt": "-"},
]
PANASONIC_DEFAULT_USER = "SMDR"
PANASONIC_DEFAULT_PASSWORD = "PCCSMDR"  # factory practice (§1.6), used when no password is configured

STEP_KINDS = ("expect", "send", "fail_on_prompt")


@dataclass(slots=True, frozen=True)
class LoginStep:
    kind: str
    text: str
    timeout: float


def parse_login_script(script: Sequence[dict[str, Any]] | str, where: str) -> list[LoginStep]:
    """Validate a script given as a list of dicts or as its JSON text."""
    if isinstance(script, str):
        try:
            script = json.loads(script)
        except json.JSONDecodeError as exc:
            raise TransportError(f"{where}: login_script is not valid JSON: {exc}") from None
    if not isinstance(script, (list, tuple)) or not script:
        raise TransportError(f"{where}: login_script must be a non-empty list of steps")
    steps = []
    for number, raw in enumerate(script, 1):
        kinds = [kind for kind in STEP_KINDS if isinstance(raw, dict) and kind in raw]
        extra = set(raw) - set(STEP_KINDS) - {"timeout"} if isinstance(raw, dict) else set()
        if len(kinds) != 1 or extra:
            raise TransportError(f"{where}: login_script step {number} must have exactly one of "
                                 f"{', '.join(STEP_KINDS)} (and optionally timeout): {raw!r}")
        kind = kinds[0]
        text = raw[kind]
        if not isinstance(text, str) or (kind != "send" and not text):
            raise TransportError(f"{where}: login_script step {number}: {kind} needs a text")
        default = DEFAULT_PROMPT_CHECK_SECONDS if kind == "fail_on_prompt" else DEFAULT_STEP_TIMEOUT
        try:
            timeout = float(raw.get("timeout", default))
        except (TypeError, ValueError):
            raise TransportError(f"{where}: login_script step {number}: timeout must be a number") from None
        steps.append(LoginStep(kind, text, timeout))
    return steps


@dataclass(slots=True)
class EchoFilter:
    """Removes the echo of the last sent line from the front of the data stream (see module doc)."""

    sent: bytes
    matched: int = 0
    state: str = "echo"  # echo -> line_end -> after_cr -> done

    @property
    def done(self) -> bool:
        return self.state == "done"

    def feed(self, chunk: bytes) -> bytes:
        position = 0
        while position < len(chunk) and self.state != "done":
            byte = chunk[position]
            if self.state == "echo":
                if self.matched < len(self.sent) and byte in (0x2A, self.sent[self.matched]):  # '*' or itself
                    self.matched += 1
                    position += 1
                    if self.matched == len(self.sent):
                        self.state = "line_end"
                else:
                    self.state = "line_end" if self.matched else "done"
            elif self.state == "line_end":
                if byte == 0x0D:
                    position += 1
                    self.state = "after_cr"
                else:
                    position += 1 if byte == 0x0A else 0
                    self.state = "done"
            else:  # after_cr: an LF right after the CR belongs to the same line end
                position += 1 if byte == 0x0A else 0
                self.state = "done"
        return chunk[position:]


@dataclass(slots=True)
class LoginOutcome:
    """What the login left behind: data bytes already received, and the echo filter for what follows."""

    data: bytes = b""
    echo_filter: EchoFilter | None = None


@dataclass(slots=True)
class LoginDialogue:
    """Runs one script over a connected stream; errors quote the server, never the secrets."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    where: str
    values: dict[str, str]
    secrets: list[str] = field(default_factory=list)
    buffer: bytearray = field(default_factory=bytearray)

    async def run(self, steps: Sequence[LoginStep]) -> LoginOutcome:
        last_sent: bytes | None = None
        echo: EchoFilter | None = None
        after_echo = bytearray()
        for step in steps:
            if step.kind == "expect":
                await self._expect(step)
                last_sent, echo = None, None
            elif step.kind == "send":
                last_sent = self._fill(step.text).encode("latin-1", "replace")
                echo = None
                self.writer.write(last_sent)
                await self.writer.drain()
            else:
                echo = echo or EchoFilter(last_sent.rstrip(b"\r\n")) if last_sent else None
                after_echo += await self._check_prompt(step, echo)
        if last_sent is not None and echo is None:
            echo = EchoFilter(last_sent.rstrip(b"\r\n"))
        data = bytes(after_echo) + (echo.feed(bytes(self.buffer)) if echo else bytes(self.buffer))
        self.buffer.clear()
        return LoginOutcome(data=data, echo_filter=echo if echo and not echo.done else None)

    def _fill(self, text: str) -> str:
        for name, value in self.values.items():
            text = text.replace("{" + name + "}", value)
        return text

    async def _read_some(self, deadline: float) -> bytes | None:
        """More bytes, None at the deadline; TransportError when the server hangs up."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            chunk = await asyncio.wait_for(self.reader.read(4096), remaining)
        except TimeoutError:
            return None
        except OSError as exc:
            raise TransportError(f"{self.where}: login failed: {exc}; server said: {self.quote()}") from exc
        if not chunk:
            raise TransportError(f"{self.where}: login failed: the server closed the connection; "
                                 f"server said: {self.quote()}")
        return chunk

    async def _expect(self, step: LoginStep) -> None:
        wanted = self._fill(step.text).encode("latin-1", "replace")
        deadline = time.monotonic() + step.timeout
        while (index := self.buffer.find(wanted)) < 0:
            chunk = await self._read_some(deadline)
            if chunk is None:
                raise TransportError(f"{self.where}: login failed: no {step.text!r} from the server within "
                                     f"{step.timeout:g} s; server said: {self.quote()}")
            self.buffer += chunk
        del self.buffer[:index + len(wanted)]

    async def _check_prompt(self, step: LoginStep, echo: EchoFilter | None) -> bytes:
        """Wait up to the step timeout for an answer; the prompt alone again means 'refused'."""
        prompt = step.text.encode("latin-1", "replace")
        received = bytes(self.buffer)  # everything since the send, echo included (for the error message)
        after = bytearray(echo.feed(received) if echo else received)
        self.buffer.clear()
        deadline = time.monotonic() + step.timeout
        while prompt.startswith(bytes(after).lstrip(b"\r\n")):  # still nothing, or only (part of) the prompt
            chunk = await self._read_some(deadline)
            if chunk is None:
                break
            received += chunk
            after += echo.feed(chunk) if echo else chunk
        if bytes(after).strip(b"\r\n") == prompt:
            raise TransportError(f"{self.where}: login refused: the server showed its prompt {step.text!r} "
                                 f"again after the password (wrong user or password?); server said: "
                                 f"{self.quote(received)}")
        return bytes(after)

    def quote(self, text: bytes | None = None) -> str:
        shown = (bytes(self.buffer) if text is None else text).decode("latin-1")
        for secret in self.secrets:
            if secret:
                shown = shown.replace(secret, "***")
        if not shown:
            return "(nothing)"
        if len(shown) > QUOTE_LIMIT:
            shown = "..." + shown[-QUOTE_LIMIT:]
        return repr(shown)
