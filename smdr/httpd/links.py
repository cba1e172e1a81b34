"""Signed links that do not expire: a per-name HMAC token in the URL, never a configured secret.

The key is random, made once and kept under the data directory (``http-links.key``), so links sent to
the CRM stay valid across restarts; deleting the file revokes every link at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_FILE = "http-links.key"


class LinkSigner:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a link key needs at least 16 bytes")
        self._key = key

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> LinkSigner:
        path = Path(data_dir) / KEY_FILE
        try:
            return cls(bytes.fromhex(path.read_text(encoding="ascii").strip()))
        except (FileNotFoundError, ValueError):
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(key.hex(), encoding="ascii")
        with open(temporary, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(temporary, path)
        return cls(key)

    def sign(self, name: str) -> str:
        digest = hmac.new(self._key, name.encode("utf-8"), hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(digest).decode("ascii")

    def verify(self, name: str, token: str) -> bool:
        return hmac.compare_digest(self.sign(name).encode("ascii"), token.encode("utf-8", "replace"))
