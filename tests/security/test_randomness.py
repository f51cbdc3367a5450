"""The block-wise random source of token values (``jti``): every byte handed out once, across
block refills, threads and a fork."""

from __future__ import annotations

import os
import re
import threading
from base64 import urlsafe_b64decode

import pytest

from pforte.security import randomness
from pforte.security.randomness import BLOCK, RandomBlock, token_urlsafe


def test_token_urlsafe_has_the_shape_of_secrets_token_urlsafe() -> None:
    value = token_urlsafe(16)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", value)
    assert len(urlsafe_b64decode(value + "==")) == 16


def test_values_are_the_blocks_bytes_in_order_each_once(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [bytes([i]) * BLOCK for i in (1, 2)]
    calls: list[int] = []

    def urandom(n: int) -> bytes:
        calls.append(n)
        return blocks[len(calls) - 1]

    source = RandomBlock()
    monkeypatch.setattr(randomness.os, "urandom", urandom)
    taken = [source.take(16) for _ in range(BLOCK // 16 + 1)]
    # One call filled the first BLOCK // 16 values; the next value needed a new block.
    assert calls == [BLOCK, BLOCK]
    assert taken[: BLOCK // 16] == [b"\x01" * 16] * (BLOCK // 16)
    assert taken[-1] == b"\x02" * 16


def test_a_value_never_straddles_two_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    fills = iter([b"a" * BLOCK, b"b" * BLOCK])
    source = RandomBlock()
    monkeypatch.setattr(randomness.os, "urandom", lambda n: next(fills))
    source.take(BLOCK - 10)
    assert source.take(16) == b"b" * 16  # the 10 bytes left are not used


def test_distinct_across_threads() -> None:
    source = RandomBlock()
    seen: list[bytes] = []

    def work() -> None:
        seen.extend(source.take(16) for _ in range(2_000))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8_000 and len(set(seen)) == 8_000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_hand_out_the_parents_bytes() -> None:
    source = RandomBlock()
    source.take(16)  # a block is loaded
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next value, to the parent
        try:
            os.write(write, source.take(16))
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 16)
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 16
    assert source.take(16) != child
