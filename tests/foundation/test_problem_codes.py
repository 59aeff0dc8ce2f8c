"""Problem codes: the type mypy checks raise sites against matches the table."""

from __future__ import annotations

from typing import get_args

import pytest

from hub.actions.handlers import RETRIABLE_CODES, ActionFailed
from hub.web.errors import CODES, ProblemCode, ProblemError


def test_the_code_type_lists_every_code_in_the_table() -> None:
    assert set(get_args(ProblemCode)) == set(CODES)


def test_retriable_codes_are_problem_codes() -> None:
    assert RETRIABLE_CODES.issubset(CODES)


def test_an_unknown_code_is_refused_at_run_time_too() -> None:
    with pytest.raises(ValueError, match="unknown problem code"):
        ProblemError("NO_SUCH_CODE")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a retriable"):
        ActionFailed("NOT_FOUND", "a 404 is not retriable")  # type: ignore[arg-type]
