"""Passwords of people: argon2id through argon2-cffi (RFC 9106), never anything home-made.

Only people's passwords are hashed here; client secrets and API keys are high-entropy values
with a keyed hash (``hashing.py``). The parameters come from the settings; a stored hash made
with other parameters verifies as before and is renewed at the user's next sign-in
(``needs_rehash``). ``verify_dummy`` spends the same time for a user that does not exist, so
the sign-in answer's timing does not tell whether an account exists.
"""

from __future__ import annotations

from argon2 import PasswordHasher as Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class PasswordHasher:
    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._argon2 = Argon2(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        self._dummy: str | None = None  # a hash of a value no one knows, made when first needed

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        """Whether ``password`` matches; a malformed stored hash matches nothing."""
        try:
            return self._argon2.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_dummy(self, password: str) -> None:
        """As long as a real verification, for a user that does not exist (or has no password)."""
        if self._dummy is None:
            self._dummy = self._argon2.hash("pforte: no such user")
        self.verify(self._dummy, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._argon2.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True
