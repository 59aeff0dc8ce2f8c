"""Rules that must hold for every input, checked with hypothesis."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.security.encryption import Vault, generate_key
from hub.tenancy.keys import new_api_key, parse_api_key
from hub.tenancy.schemas import IntegrationCreate, RotateRequest
from hub.tenancy.scopes import invalid_scopes, scope_allows
from hub.web.decoding import decode_body
from hub.web.errors import ProblemError
from hub.web.requests import credential_from_headers

KEY_RE = re.compile(r"hk_[0-9a-z]{16}_[0-9a-z]{52}")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)


def problem_of(raw: bytes, type_: type[object]) -> ProblemError | None:
    """The problem decoding ``raw`` answers, or None if it decodes."""
    try:
        decode_body(raw, type_, "application/json")
    except ProblemError as exc:
        return exc
    return None


@given(st.binary(max_size=300))
def test_any_bytes_decode_or_answer_a_body_problem(raw: bytes) -> None:
    # Any other exception would escape as a 500.
    problem = problem_of(raw, IntegrationCreate)
    if problem is not None:
        assert problem.code in {"MALFORMED_JSON", "VALIDATION_FAILED"}
        assert problem.status in {400, 422}


@given(st.dictionaries(st.sampled_from(["name", "kind", "mode", "scopes", "x"]), json_values))
def test_any_json_object_is_accepted_or_every_error_has_a_path(obj: dict[str, object]) -> None:
    import msgspec

    problem = problem_of(msgspec.json.encode(obj), IntegrationCreate)
    if problem is not None:
        assert problem.code == "VALIDATION_FAILED"
        assert problem.errors
        assert all(e.path.startswith("$") and e.message for e in problem.errors)
        if "x" in obj:
            assert "$.x" in [e.path for e in problem.errors]


@given(st.integers())
def test_grace_is_accepted_exactly_within_its_bounds(grace: int) -> None:
    raw = b'{"grace_seconds": %d}' % grace
    try:
        accepted = decode_body(raw, RotateRequest, "application/json").grace_seconds == grace
    except ProblemError:
        accepted = False
    assert accepted == (0 <= grace <= 7 * 24 * 3600)


@given(st.text(max_size=120))
def test_only_well_formed_keys_parse(raw: str) -> None:
    parsed = parse_api_key(raw)
    assert (parsed is not None) == bool(KEY_RE.fullmatch(raw))


def test_new_keys_parse_back_to_their_parts_and_never_repeat() -> None:
    seen = set()
    for _ in range(200):
        key, key_id, secret = new_api_key()
        parsed = parse_api_key(key)
        assert parsed is not None
        assert (parsed.key_id, parsed.secret) == (key_id, secret)
        seen.add(key_id)
    assert len(seen) == 200


@given(st.one_of(st.none(), st.text(max_size=40)), st.one_of(st.none(), st.text(max_size=40)))
def test_a_credential_is_taken_from_bearer_or_x_api_key_only(
    authorization: str | None, x_api_key: str | None
) -> None:
    found = credential_from_headers(authorization, x_api_key)
    if authorization:
        scheme, _, value = authorization.partition(" ")
        expected = value.strip() if scheme.lower() == "bearer" and value.strip() else None
        assert found == expected
    elif x_api_key:
        assert found == (x_api_key.strip() or None)
    else:
        assert found is None


@given(st.lists(st.sampled_from(["actions:*", "actions:create_lead", "triggers:*", "events:publish",
                                 "triggers:lead.created"]), max_size=5),
       st.sampled_from(["actions:create_lead", "actions:send_email", "triggers:lead.created",
                        "triggers:message.sent", "events:publish"]))  # fmt: skip
def test_a_family_wildcard_grants_exactly_its_family(granted: list[str], needed: str) -> None:
    family = needed.split(":", 1)[0]
    expected = needed in granted or f"{family}:*" in granted
    assert scope_allows(granted, needed) == expected
    assert invalid_scopes(granted) == []


@settings(max_examples=25, deadline=None)
@given(st.text(max_size=200))
def test_secrets_survive_encryption_and_key_rotation(secret: str) -> None:
    old, new = generate_key(), generate_key()
    token = Vault((old,)).encrypt(secret)
    assert secret == Vault((new, old)).decrypt(token)
    rotated = Vault((new, old)).rotate(token)
    assert Vault((new,)).decrypt(rotated) == secret
    if len(secret) >= 8:
        assert secret not in token
