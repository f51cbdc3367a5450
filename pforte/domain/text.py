"""Text that may be stored or looked up: no C0 control characters and no DEL.

PostgreSQL refuses NUL in text, SQLite stores it: the same request must not depend on the
database, so text is checked at the edge (the admin API's models, the protocol form parser)
before any query. Free text (descriptions) may hold TAB, LF and CR; every other string — names,
ids, scopes, URIs — holds none of U+0000–U+001F and U+007F.

The patterns are written for JSON Schema (ECMA-262) and Pydantic's regex engine alike: they are
published in the OpenAPI document as they are enforced.
"""

from __future__ import annotations

import re

# A single line: no C0 control (U+0000-U+001F) and no DEL (U+007F).
LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
# Free text: as a line, but TAB, LF and CR are allowed.
FREE_TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

# What a caller is told when a string breaks one of the patterns.
PATTERN_MESSAGES = {
    LINE_PATTERN: "must not contain control characters (U+0000-U+001F, U+007F)",
    FREE_TEXT_PATTERN: "must not contain control characters other than TAB, LF and CR",
}

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_control(text: str) -> bool:
    """Whether ``text`` holds a C0 control character or DEL."""
    return _CONTROL.search(text) is not None
