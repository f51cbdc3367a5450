"""Files that hold secrets (the SQLite database, the key file, the bootstrap credentials) are
the owner's alone: mode 0600, created so from the start, never readable in between."""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE = 0o600
_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def is_shared(path: Path) -> bool:
    """True if group or others may read, write or execute ``path``."""
    return bool(mode(path) & _OTHERS)


def create_private(path: Path, text: str = "") -> None:
    """Create ``path`` with mode 0600 and ``text``; FileExistsError if it exists (never replaced)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def create_private_unique(directory: Path, stem: str, suffix: str, text: str) -> Path:
    """``directory/stem+suffix`` created 0600 with ``text``; if that exists, ``stem-2``, ``stem-3``…:
    an existing file is never overwritten."""
    for number in range(1, 1000):
        path = directory / (f"{stem}{suffix}" if number == 1 else f"{stem}-{number}{suffix}")
        try:
            create_private(path, text)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"{directory / stem}-*{suffix}: no free name")


def tighten(path: Path) -> int | None:
    """Make an existing ``path`` 0600 if group or others had any access; the mode it had, or None
    if it was already private (or does not exist). OSError if it cannot be changed."""
    try:
        before = mode(path)
    except FileNotFoundError:
        return None
    if not before & _OTHERS:
        return None
    path.chmod(PRIVATE)
    return before
