"""``1.0`` is an integer (JSON Schema, and so the OpenAPI document): the hub takes it
wherever a Struct says ``int``, and nowhere else changes what the client sent."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import msgspec
from hypothesis import given
from hypothesis import strategies as st

from hub.tenancy.schemas import TenantPatch
from hub.web.json_numbers import integral_floats_to_ints
from tests.conftest import Factory


class Inner(msgspec.Struct):
    count: Annotated[int, msgspec.Meta(ge=0)] | None = None
    ratio: float = 0.0
    either: int | float = 0


class Outer(msgspec.Struct):
    inner: Inner | None = None
    counts: list[int] = []
    by_name: dict[str, int] = {}
    free: dict[str, Any] = {}


def test_integral_floats_become_ints_only_in_integer_places() -> None:
    body = {
        "inner": {"count": 3.0, "ratio": 2.0, "either": 4.0},
        "counts": [1.0, 2.5],
        "by_name": {"a": 7.0},
        "free": {"n": 1.0},
    }
    out = integral_floats_to_ints(body, Outer)
    assert out == {
        "inner": {"count": 3, "ratio": 2.0, "either": 4.0},
        "counts": [1, 2.5],
        "by_name": {"a": 7},
        "free": {"n": 1.0},
    }
    assert type(out["inner"]["ratio"]) is float
    assert type(out["free"]["n"]) is float  # under Any: as the client wrote it
    assert msgspec.convert(out["inner"], Inner) == Inner(count=3, ratio=2.0, either=4.0)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_float_is_kept_unless_integral_and_exact(value: float) -> None:
    out = integral_floats_to_ints({"counts": [value]}, Outer)["counts"][0]
    if value.is_integer() and abs(value) <= 2**53:
        assert out == value
        assert type(out) is int
    else:
        assert out is value


async def test_an_admin_body_takes_1_0_for_an_integer(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    tenant = await factory.tenant()
    r = await client.patch(
        f"/admin/v1/tenants/{tenant['id']}",
        json={"limits": {"actions_per_day": 500.0}, "retry_schedule": [10.0, 60]},
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["limits"]["actions_per_day"] == 500
    assert r.json()["retry_schedule"] == [10, 60]
    r = await client.patch(
        f"/admin/v1/tenants/{tenant['id']}",
        json={"limits": {"actions_per_day": 500.5}},
        headers=admin_headers,
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "$.limits.actions_per_day"


def test_the_tenant_patch_type_is_walked() -> None:
    assert integral_floats_to_ints({"retry_schedule": [5.0]}, TenantPatch) == {
        "retry_schedule": [5]
    }
