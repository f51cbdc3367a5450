"""Text checked at the edge (domain.text): no C0 control characters and no DEL."""

from __future__ import annotations

import re

import pytest

from pforte.domain.text import FREE_TEXT_PATTERN, LINE_PATTERN, has_control

C0_AND_DEL = [chr(c) for c in range(0x20)] + ["\x7f"]
FREE_TEXT_ALLOWED = {"\t", "\n", "\r"}


@pytest.mark.parametrize("control", C0_AND_DEL, ids=[f"U+{ord(c):04X}" for c in C0_AND_DEL])
def test_every_c0_control_and_del_is_a_control(control: str) -> None:
    assert has_control(f"a{control}b")
    assert not re.fullmatch(LINE_PATTERN, f"a{control}b")
    assert bool(re.fullmatch(FREE_TEXT_PATTERN, f"a{control}b")) is (control in FREE_TEXT_ALLOWED)


@pytest.mark.parametrize("text", ["", "plain", "Prüfung – ✓", "\x80\x85\xa0", "\u2028", "a b"])
def test_other_text_is_not(text: str) -> None:
    assert not has_control(text)
    assert re.fullmatch(LINE_PATTERN, text)
    assert re.fullmatch(FREE_TEXT_PATTERN, text)
