"""Delivery into a local maildir (DATA_DIR/maildir) so that `make run` works offline.

Each message is written to tmp/ and renamed into new/ under its message id: the rename is
atomic, and delivering the same message again replaces the same file, so a retry after a crash
never leaves two copies."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from server.providers.email.base import OutgoingEmail


class MaildirMailer:
    name = "maildir"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _write(self, email: OutgoingEmail) -> None:
        for sub in ("tmp", "new", "cur"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        name = email.message_id.replace("/", "_") + ".eml"
        tmp = self.root / "tmp" / name
        tmp.write_bytes(email.mime().as_bytes())
        os.replace(tmp, self.root / "new" / name)

    async def send(self, email: OutgoingEmail) -> None:
        await asyncio.to_thread(self._write, email)
