"""Random token values read from the kernel's CSPRNG in blocks.

``secrets.token_urlsafe`` makes one ``getrandom`` system call per value, and releases and takes
back the GIL around it: on the token endpoint, once per access token (its ``jti``). Here one
call fills ``BLOCK`` bytes and each value takes the next unused bytes of it: the same source,
each byte handed out once. A forked child starts with an empty block (the parent's bytes are
never handed out twice), and a lock keeps two threads from taking the same bytes.
"""

from __future__ import annotations

import os
import threading
from base64 import urlsafe_b64encode

BLOCK = 4096


class RandomBlock:
    """Bytes from ``os.urandom``, ``BLOCK`` at a time, each handed out once."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._lock = threading.Lock()  # a lock held in the parent at fork time stays held in the child
        self._block = b""
        self._at = 0

    def take(self, n: int) -> bytes:
        """``n`` (at most ``BLOCK``) random bytes nobody else got."""
        with self._lock:
            at = self._at
            if at + n > len(self._block):
                self._block, at = os.urandom(max(BLOCK, n)), 0
            self._at = at + n
            return self._block[at : at + n]


_random = RandomBlock()


def token_urlsafe(nbytes: int) -> str:
    """As ``secrets.token_urlsafe(nbytes)``: ``nbytes`` random bytes, base64url without padding."""
    return urlsafe_b64encode(_random.take(nbytes)).rstrip(b"=").decode("ascii")
