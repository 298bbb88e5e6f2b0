"""Password hashing with argon2id (pwdlib), run off the event loop."""

from __future__ import annotations

import asyncio

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher


class Argon2PasswordHasher:
    def __init__(self, *, time_cost: int, memory_cost_kib: int, parallelism: int) -> None:
        self._hash = PasswordHash(
            (Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost_kib,
                          parallelism=parallelism),)
        )
        # A real hash of a random secret: verifying against it costs what a real check costs.
        self._dummy = self._hash.hash("dummy-password-for-unknown-accounts")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hash.hash, password)

    async def verify(self, password: str, password_hash: str) -> bool:
        return await asyncio.to_thread(self._hash.verify, password, password_hash)

    async def verify_dummy(self, password: str) -> None:
        await asyncio.to_thread(self._hash.verify, password, self._dummy)
