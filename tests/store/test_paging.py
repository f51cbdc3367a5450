"""``paging.prefix_end``: the bound that makes a prefix search an index range."""

from __future__ import annotations

import sys

import pytest

from pforte.store.repos.paging import prefix_end

MAX = chr(sys.maxunicode)


@pytest.mark.parametrize(
    ("query", "end"),
    [
        ("ada", "adb"),
        ("a", "b"),
        ("z", "{"),
        ("ad" + MAX, "ae"),
        ("a" + MAX + MAX, "b"),
        (MAX, None),
        ("\ud7ff", "\ue000"),  # past the surrogates, which UTF-8 cannot carry
        ("x\ud7ff", "x\ue000"),
    ],
)
def test_prefix_end(query: str, end: str | None) -> None:
    assert prefix_end(query) == end


@pytest.mark.parametrize("text", ["ada", "adaz", "ad" + MAX, "a\ud7ff\U0001f600"])
def test_every_string_with_the_prefix_sorts_below_the_end(text: str) -> None:
    for cut in range(1, len(text) + 1):
        end = prefix_end(text[:cut])
        assert end is None or text < end
