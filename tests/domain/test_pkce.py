"""RFC 7636 PKCE: S256 only, the challenge's shape, the verifier's syntax, Appendix B's vector."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import pytest

from pforte.domain.oauth import pkce
from pforte.domain.oauth.errors import InvalidGrant, InvalidRequest, OAuthError

# RFC 7636 Appendix B: the 32 octets, the verifier they encode, and its S256 challenge.
B_OCTETS = bytes(
    [116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
     22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121]
)  # fmt: skip
B_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
B_SHA256 = bytes(
    [19, 211, 30, 150, 26, 26, 216, 236, 47, 22, 177, 12, 76, 152, 46, 8,
     118, 168, 120, 173, 109, 241, 68, 86, 110, 225, 137, 74, 203, 112, 249, 195]
)  # fmt: skip
B_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def expect(error: type[OAuthError], description: str, call: Callable[[], object]) -> None:
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error
    assert caught.value.description == description


# Appendix B ----------------------------------------------------------------------------------


def test_appendix_b_vector() -> None:
    assert base64.urlsafe_b64encode(B_OCTETS).rstrip(b"=").decode() == B_VERIFIER
    assert hashlib.sha256(B_VERIFIER.encode()).digest() == B_SHA256
    assert pkce.s256(B_VERIFIER) == B_CHALLENGE
    assert pkce.verify(B_VERIFIER, B_CHALLENGE) is True
    assert pkce.check_challenge(B_CHALLENGE, "S256", required=True) == B_CHALLENGE


# check_challenge -----------------------------------------------------------------------------


@pytest.mark.parametrize("required", [True, False])
def test_a_valid_s256_challenge_is_returned(required: bool) -> None:
    assert pkce.check_challenge(B_CHALLENGE, "S256", required=required) == B_CHALLENGE


def test_no_challenge_when_not_required_is_none() -> None:
    assert pkce.check_challenge(None, None, required=False) is None


def test_no_challenge_when_required() -> None:
    expect(InvalidRequest, "code_challenge required", lambda: pkce.check_challenge(None, None, required=True))


@pytest.mark.parametrize("required", [True, False])
def test_a_method_without_a_challenge(required: bool) -> None:
    expect(
        InvalidRequest,
        "code_challenge_method was sent without code_challenge",
        lambda: pkce.check_challenge(None, "S256", required=required),
    )


@pytest.mark.parametrize("required", [True, False])
def test_plain_is_refused_by_name(required: bool) -> None:
    expect(
        InvalidRequest,
        "code_challenge_method plain is not supported; use S256",
        lambda: pkce.check_challenge(B_VERIFIER, "plain", required=required),
    )


@pytest.mark.parametrize("required", [True, False])
def test_a_missing_method_means_plain_and_is_refused(required: bool) -> None:
    """ "defaults to "plain" if not present in the request" (§4.3)."""
    expect(
        InvalidRequest,
        "code_challenge_method is missing, which means plain; plain is not supported, use S256",
        lambda: pkce.check_challenge(B_CHALLENGE, None, required=required),
    )


@pytest.mark.parametrize(
    "method", ["s256", "S512", "SHA256", "S256 ", " S256", "PLAIN", "", "S256\x00", "Ｓ256"]
)
def test_other_methods_are_refused(method: str) -> None:
    expect(
        InvalidRequest,
        "transform algorithm not supported; code_challenge_method must be S256",
        lambda: pkce.check_challenge(B_CHALLENGE, method, required=True),
    )


BAD_CHALLENGES = [
    "",
    B_CHALLENGE[:-1],  # 42
    B_CHALLENGE + "A",  # 44
    B_CHALLENGE + "=",  # padded
    B_CHALLENGE[:-1] + "+",  # base64, not base64url
    B_CHALLENGE[:-1] + "/",
    B_CHALLENGE[:-1] + "N",  # 43 characters, but not 32 bytes canonically encoded
    B_CHALLENGE[:-1] + "_",
    B_CHALLENGE[:-1] + "\n",
    "\n" + B_CHALLENGE[1:],
    B_CHALLENGE[:20] + " " + B_CHALLENGE[21:],
    B_CHALLENGE[:20] + "é" + B_CHALLENGE[21:],
    B_CHALLENGE[:20] + "\x00" + B_CHALLENGE[21:],
    B_CHALLENGE[:20] + "." + B_CHALLENGE[21:],  # verifier alphabet, not base64url
    B_CHALLENGE[:20] + "~" + B_CHALLENGE[21:],
    B_VERIFIER + "A" * 20,
    "A" * 128,
    "A" * 10_000,
]


@pytest.mark.parametrize("challenge", BAD_CHALLENGES)
def test_malformed_challenges_are_refused(challenge: str) -> None:
    expect(
        InvalidRequest,
        "code_challenge must be 43 base64url characters: BASE64URL(SHA256(code_verifier))",
        lambda: pkce.check_challenge(challenge, "S256", required=False),
    )


@pytest.mark.parametrize("last", list("AEIMQUYcgkosw048"))
def test_every_canonical_last_character_is_accepted(last: str) -> None:
    challenge = B_CHALLENGE[:-1] + last
    assert pkce.check_challenge(challenge, "S256", required=True) == challenge
    assert len(base64.urlsafe_b64decode(challenge + "=")) == 32


def test_every_sha256_challenge_has_the_accepted_shape() -> None:
    for n in range(200):
        challenge = pkce.s256(f"verifier-{n:04d}".ljust(43, "x"))
        assert pkce.check_challenge(challenge, "S256", required=True) == challenge


# verify --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "verifier",
    [
        "a" * 43,
        "Z" * 128,
        "0123456789-._~" * 4,  # every punctuation character of the unreserved set
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~",
    ],
)
def test_well_formed_verifiers_verify_against_their_challenge(verifier: str) -> None:
    assert pkce.verify(verifier, pkce.s256(verifier)) is True


@pytest.mark.parametrize(
    "verifier",
    [
        "",
        "a" * 42,  # too short (§4.1: minimum 43)
        "a" * 129,  # too long (maximum 128)
        "a" * 42 + "+",
        "a" * 42 + "/",
        "a" * 42 + "=",
        "a" * 42 + " ",
        "a" * 42 + "\n",
        "a" * 42 + "\x00",
        "a" * 42 + "é",
        "a" * 42 + "%",
        "a" * 10_000,
    ],
)
def test_malformed_verifiers_never_verify(verifier: str) -> None:
    """Even against the challenge their bytes would hash to."""
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert pkce.verify(verifier, challenge) is False


@pytest.mark.parametrize(
    "challenge",
    [B_CHALLENGE[:-1] + "A", B_CHALLENGE.lower(), B_CHALLENGE + "=", "", B_VERIFIER, "é" * 43],
)
def test_a_wrong_challenge_does_not_verify(challenge: str) -> None:
    assert pkce.verify(B_VERIFIER, challenge) is False


def test_plain_never_verifies() -> None:
    """A verifier presented as its own challenge (the ``plain`` transform) does not pass."""
    assert pkce.verify(B_VERIFIER, B_VERIFIER) is False


# check_verifier ------------------------------------------------------------------------------


def test_check_verifier_accepts_the_matching_pair_and_no_pkce_at_all() -> None:
    pkce.check_verifier(B_VERIFIER, B_CHALLENGE)  # no error
    pkce.check_verifier(None, None)


def test_check_verifier_refuses_a_downgrade() -> None:
    """RFC 9700 §2.1.1: a code_verifier for a code issued without code_challenge."""
    expect(
        InvalidGrant,
        "code_verifier sent for a code issued without code_challenge",
        lambda: pkce.check_verifier(B_VERIFIER, None),
    )


def test_check_verifier_requires_the_verifier() -> None:
    expect(InvalidRequest, "code_verifier required", lambda: pkce.check_verifier(None, B_CHALLENGE))


@pytest.mark.parametrize("verifier", ["a" * 43, B_VERIFIER[:-1], B_VERIFIER + "x", B_CHALLENGE, ""])
def test_check_verifier_refuses_a_mismatch(verifier: str) -> None:
    expect(
        InvalidGrant,
        "code_verifier does not match the code_challenge",
        lambda: pkce.check_verifier(verifier, B_CHALLENGE),
    )
