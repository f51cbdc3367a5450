"""RFC 6749 §3.1 and Appendix B: the ``application/x-www-form-urlencoded`` request body.

A repeated parameter is refused ("Request and response parameters MUST NOT be included more
than once", §3.1) with ``invalid_request``, unless the endpoint's standard names another error
for that parameter (RFC 8707 §2: ``resource`` at the token endpoint → ``invalid_target``).
A parameter sent without a value is treated as omitted (§3.1). A name or value holding a C0
control character or DEL is ``invalid_request`` before any look-up (``domain.text``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl

from pforte.domain.oauth.errors import InvalidRequest, OAuthError
from pforte.domain.text import has_control

MEDIA_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 32
# A parameter name that may be repeated in an error_description (RFC 6749 ASCII, short).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")

Repeated = Mapping[str, Callable[[], OAuthError]]


def form_pairs(text: str) -> list[tuple[str, str]]:
    """``parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)``, with a fast path
    for the usual token request that has nothing to unescape (no ``%``, no ``+``)."""
    if "%" in text or "+" in text:
        return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    fields = [field for field in text.split("&") if field]
    if len(fields) > MAX_FIELDS:
        raise ValueError("Max number of fields exceeded")
    return [(name, value) for name, _, value in (field.partition("=") for field in fields)]


def _parameter(name: str) -> str:
    """How an error description names a parameter: by name when that is plain ASCII."""
    return f"the parameter {name}" if _PLAIN_NAME.fullmatch(name) else "a parameter"


def parse_form(content_type: str, body: bytes, repeated: Repeated | None = None) -> dict[str, str]:
    """The parameters of a form body, each once, without the empty ones."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media != MEDIA_TYPE:
        raise InvalidRequest("the body must be application/x-www-form-urlencoded")
    try:
        text = body.decode("utf-8")
        pairs = form_pairs(text)
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("the body is not a valid form") from None
    # No identifier, secret, token, scope or URI holds a control character; PostgreSQL would
    # refuse NUL in a look-up that SQLite answers. Such a request is malformed (§5.2). Only a
    # "%" escape can hide one in the raw text; printable ASCII (the usual request) holds none.
    if "%" in text or not (text.isascii() and text.isprintable()):
        for name, value in pairs:
            if has_control(name) or has_control(value):
                raise InvalidRequest(f"{_parameter(name)} contains a control character")
    form: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in pairs:
        # "Request and response parameters MUST NOT be included more than once." (§3.1)
        if name in seen:
            if repeated and name in repeated:
                raise repeated[name]()
            raise InvalidRequest(f"{_parameter(name)} is repeated")
        seen.add(name)
        if value:  # "sent without a value MUST be treated as if they were omitted"
            form[name] = value
    return form
