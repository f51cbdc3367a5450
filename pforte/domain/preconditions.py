"""Entity tags and ``If-Match`` (RFC 9110 §8.8.3, §13.1.1): lost updates are detected, not silent.

A tenant or client carries a version that every change raises; its entity tag is the strong
tag ``"<version>"``. "An origin server that receives an If-Match header field MUST evaluate the
condition [...] prior to performing the method" — a mismatch is 412 and changes nothing.
"""

from __future__ import annotations

from pforte.domain.errors import PreconditionFailed


def etag(version: int) -> str:
    return f'"{version}"'


def check_if_match(if_match: str | None, version: int) -> None:
    """Refuse unless ``If-Match`` is absent, ``*``, or lists the current tag. Weak tags never
    match (If-Match uses the strong comparison, §8.8.3.2)."""
    if if_match is None:
        return
    current = etag(version)
    for tag in (t.strip() for t in if_match.split(",")):
        if tag == "*" or tag == current:
            return
    raise PreconditionFailed(
        f"If-Match {if_match.strip()!r} does not match the current entity tag {current}; "
        "read the resource again and repeat the change on what it is now"
    )
